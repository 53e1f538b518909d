//! Failed sign-ins slow down who makes them. Three counters, each with its own allowance of
//! free failures, after which every further failure doubles a wait, up to a cap, before the next
//! attempt is even checked:
//!
//! - one account from one client address: 5 free, then 1 s, 2 s, ... up to 60 s. Guessing one
//!   account from one place gets about one try a minute.
//! - one client address, whatever the account: 20 free, then up to 300 s. Spraying many
//!   accounts from one place stops.
//! - one account, from anywhere: 50 free, then up to 60 s. Many places guessing one account
//!   are slowed too, and the account's owner waits at most 60 s for a try.
//!
//! A sign-in that succeeds clears the account's counters. A counter without a failure for
//! `THROTTLE_FORGET_SECONDS` is forgotten. Counters live in the node's memory, bounded by
//! `THROTTLE_ENTRIES_MAX`; with several nodes each counts what it sees (docs/security.md).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Counters kept at most; when full, the one idle longest is dropped.
pub const THROTTLE_ENTRIES_MAX: usize = 100_000;
/// A counter with no failure for this long starts again from zero.
pub const THROTTLE_FORGET_SECONDS: u64 = 15 * 60;

/// Free failures and the cap of the wait after them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    pub free_failures: u32,
    pub wait_cap_seconds: u64,
}

pub const ACCOUNT_FROM_ADDRESS: Policy = Policy { free_failures: 5, wait_cap_seconds: 60 };
pub const ADDRESS: Policy = Policy { free_failures: 20, wait_cap_seconds: 300 };
pub const ACCOUNT: Policy = Policy { free_failures: 50, wait_cap_seconds: 60 };

/// The wait after `failures` failures: none within the allowance, then 1 s doubling with
/// every failure, capped.
pub fn wait_after(failures: u32, policy: Policy) -> Duration {
    let Some(beyond) = failures.checked_sub(policy.free_failures) else { return Duration::ZERO };
    if beyond == 0 {
        return Duration::ZERO;
    }
    let doubled = 1u64.checked_shl(beyond - 1).unwrap_or(u64::MAX);
    Duration::from_secs(doubled.min(policy.wait_cap_seconds))
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    AccountFromAddress(String, IpAddr),
    Address(IpAddr),
    Account(String),
}

impl Key {
    fn policy(&self) -> Policy {
        match self {
            Key::AccountFromAddress(..) => ACCOUNT_FROM_ADDRESS,
            Key::Address(_) => ADDRESS,
            Key::Account(_) => ACCOUNT,
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Counter {
    failures: u32,
    last_failure: Instant,
}

/// The failure counters of a node.
#[derive(Default)]
pub struct SignInThrottle {
    counters: Mutex<HashMap<Key, Counter>>,
}

/// User names are compared as the login compares them; counters are kept per lower-case name
/// so that case changes do not open fresh allowances.
fn account_key(username: &str) -> String {
    username.trim().to_lowercase()
}

/// The counters a sign-in counts against. A name no account can have (sent as the empty name,
/// `login`) has no account-wide counter: failures under it from everywhere would otherwise
/// throttle every mistyped name together.
fn keys(username: &str, address: IpAddr) -> Vec<Key> {
    let account = account_key(username);
    let mut keys = vec![Key::AccountFromAddress(account.clone(), address), Key::Address(address)];
    if !account.is_empty() {
        keys.push(Key::Account(account));
    }
    keys
}

impl SignInThrottle {
    /// `Err(wait)` when a sign-in for `username` from `address` must wait before it is checked.
    pub fn check(&self, username: &str, address: IpAddr, now: Instant) -> Result<(), Duration> {
        let Ok(counters) = self.counters.lock() else { return Ok(()) };
        let mut longest = Duration::ZERO;
        for key in keys(username, address) {
            if let Some(counter) = counters.get(&key) {
                let until = counter.last_failure + wait_after(counter.failures, key.policy());
                longest = longest.max(until.saturating_duration_since(now));
            }
        }
        if longest.is_zero() {
            Ok(())
        } else {
            Err(longest)
        }
    }

    /// Counts a failed sign-in.
    pub fn failed(&self, username: &str, address: IpAddr, now: Instant) {
        let Ok(mut counters) = self.counters.lock() else { return };
        for key in keys(username, address) {
            let forget = Duration::from_secs(THROTTLE_FORGET_SECONDS);
            if !counters.contains_key(&key) && counters.len() >= THROTTLE_ENTRIES_MAX {
                make_room(&mut counters, now, forget);
            }
            let counter = counters.entry(key).or_insert(Counter { failures: 0, last_failure: now });
            if now.saturating_duration_since(counter.last_failure) > forget {
                counter.failures = 0;
            }
            counter.failures = counter.failures.saturating_add(1);
            counter.last_failure = now;
        }
    }

    /// A successful sign-in clears the account's counters (the address's stays).
    pub fn succeeded(&self, username: &str, address: IpAddr) {
        let Ok(mut counters) = self.counters.lock() else { return };
        let account = account_key(username);
        counters.remove(&Key::AccountFromAddress(account.clone(), address));
        counters.remove(&Key::Account(account));
    }

    pub fn len(&self) -> usize {
        self.counters.lock().map_or(0, |c| c.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Drops forgotten counters; if none is, the one idle longest.
fn make_room(counters: &mut HashMap<Key, Counter>, now: Instant, forget: Duration) {
    counters.retain(|_, c| now.saturating_duration_since(c.last_failure) <= forget);
    if counters.len() >= THROTTLE_ENTRIES_MAX {
        if let Some(oldest) = counters.iter().min_by_key(|(_, c)| c.last_failure).map(|(k, _)| k.clone()) {
            counters.remove(&oldest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOME: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const ELSEWHERE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 7));

    #[test]
    fn waits_double_after_the_allowance_up_to_the_cap() {
        let waits: Vec<u64> = (0..=13).map(|n| wait_after(n, ACCOUNT_FROM_ADDRESS).as_secs()).collect();
        assert_eq!(waits, [0, 0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(wait_after(u32::MAX, ADDRESS).as_secs(), 300);
        assert_eq!(wait_after(50, ACCOUNT).as_secs(), 0);
        assert_eq!(wait_after(51, ACCOUNT).as_secs(), 1);
    }

    #[test]
    fn an_account_guessed_from_one_address_waits_and_its_owner_elsewhere_does_not() {
        let throttle = SignInThrottle::default();
        let start = Instant::now();
        for _ in 0..6 {
            assert_eq!(throttle.check("alice", HOME, start), Ok(()));
            throttle.failed("alice", HOME, start);
        }
        assert_eq!(throttle.check("Alice", HOME, start), Err(Duration::from_secs(1)));
        assert_eq!(throttle.check("alice", HOME, start + Duration::from_secs(1)), Ok(()));
        assert_eq!(throttle.check("alice", ELSEWHERE, start), Ok(()), "the owner, elsewhere, is not held up");
        assert_eq!(throttle.check("bob", HOME, start), Ok(()), "other accounts from the address are not, yet");
        throttle.succeeded("alice", ELSEWHERE);
        assert_eq!(throttle.check("alice", HOME, start), Err(Duration::from_secs(1)), "the pair is the guesser's");
    }

    #[test]
    fn names_no_account_can_have_are_throttled_per_address_only() {
        let throttle = SignInThrottle::default();
        let start = Instant::now();
        for n in 0..200u8 {
            throttle.failed("", IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, n)), start);
        }
        assert_eq!(throttle.check("", HOME, start), Ok(()), "a mistyped name elsewhere is checked, not held up");
        assert!(throttle.check("", IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 7)), start).is_ok());
        for _ in 0..6 {
            throttle.failed("", HOME, start);
        }
        assert_eq!(throttle.check("", HOME, start), Err(Duration::from_secs(1)), "the address itself still waits");
    }

    #[test]
    fn an_address_spraying_accounts_waits() {
        let throttle = SignInThrottle::default();
        let start = Instant::now();
        for n in 0..21 {
            throttle.failed(&format!("user{n}"), HOME, start);
        }
        assert_eq!(throttle.check("someone-new", HOME, start), Err(Duration::from_secs(1)));
        assert_eq!(throttle.check("someone-new", ELSEWHERE, start), Ok(()));
    }

    #[test]
    fn success_clears_the_account_and_idle_counters_are_forgotten() {
        let throttle = SignInThrottle::default();
        let start = Instant::now();
        for _ in 0..8 {
            throttle.failed("carol", HOME, start);
        }
        assert!(throttle.check("carol", HOME, start).is_err());
        throttle.succeeded("carol", HOME);
        assert_eq!(throttle.check("carol", HOME, start), Ok(()));
        for _ in 0..8 {
            throttle.failed("dave", HOME, start);
        }
        let later = start + Duration::from_secs(THROTTLE_FORGET_SECONDS + 1);
        throttle.failed("dave", HOME, later);
        assert_eq!(
            throttle.check("dave", HOME, later),
            Ok(()),
            "one failure after a long pause is within the allowance"
        );
    }

    #[test]
    fn the_counters_stay_bounded() {
        let throttle = SignInThrottle::default();
        let start = Instant::now();
        for n in 0..(THROTTLE_ENTRIES_MAX as u32 / 2 + 10) {
            let address = IpAddr::V4(std::net::Ipv4Addr::from(n));
            throttle.failed("x", address, start + Duration::from_millis(u64::from(n)));
        }
        assert!(throttle.len() <= THROTTLE_ENTRIES_MAX);
    }
}
