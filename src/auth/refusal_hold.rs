//! Refused sign-ins are answered late. A client of a flood waits on its connection for the
//! answer, so each of its connections makes about one attempt per hold instead of thousands a
//! second, and the node spends a timer on it, no CPU and no hash. The holds are bounded
//! (`SIGN_IN_REFUSALS_HELD_MAX`): beyond that many at once a refusal is answered at once, so
//! more connections cannot make the node keep more of them.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

/// Refusals held at once, per node; beyond them a refusal is answered at once.
pub const SIGN_IN_REFUSALS_HELD_MAX: usize = 1_024;
/// The longest hold a node may be configured with.
pub const SIGN_IN_REFUSAL_HOLD_MILLIS_MAX: u64 = 5_000;

/// The holds of a node: how long, and the slots left.
#[derive(Clone)]
pub struct RefusalHold {
    hold: Duration,
    slots: Arc<Semaphore>,
}

impl RefusalHold {
    pub fn new(hold: Duration, held_max: usize) -> RefusalHold {
        RefusalHold { hold, slots: Arc::new(Semaphore::new(held_max)) }
    }

    /// Waits the hold when a slot is free; answers whether it did.
    pub async fn hold(&self) -> bool {
        if self.hold.is_zero() {
            return false;
        }
        let Ok(_slot) = self.slots.try_acquire() else { return false };
        tokio::time::sleep(self.hold).await;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::future::join_all;
    use tokio::time::Instant;

    #[tokio::test(start_paused = true)]
    async fn holds_up_to_the_bound_and_answers_the_rest_at_once() {
        let hold = RefusalHold::new(Duration::from_secs(1), 3);
        let started = Instant::now();
        let refusals = (0..5).map(|_| async {
            let held = hold.hold().await;
            (held, started.elapsed())
        });
        let outcomes = join_all(refusals).await;
        let held: Vec<_> = outcomes.iter().filter(|(held, _)| *held).collect();
        assert_eq!(held.len(), 3);
        assert!(held.iter().all(|(_, waited)| *waited >= Duration::from_secs(1)));
        let at_once: Vec<_> = outcomes.iter().filter(|(held, _)| !*held).collect();
        assert_eq!(at_once.len(), 2);
        assert!(at_once.iter().all(|(_, waited)| *waited < Duration::from_secs(1)));
        // The slots are free again once the holds are over.
        assert!(hold.hold().await);
    }

    #[tokio::test(start_paused = true)]
    async fn a_zero_hold_answers_at_once() {
        let hold = RefusalHold::new(Duration::ZERO, 3);
        let started = Instant::now();
        assert!(!hold.hold().await);
        assert_eq!(started.elapsed(), Duration::ZERO);
    }
}
