//! Password hashing under a bound. argon2id costs 19 MiB and tens of milliseconds a hash, on
//! purpose; run for every request that asks, a flood of sign-ins takes the node's memory and
//! the latency of everything else. Here a fixed set of threads (one per core) does every hash,
//! and a short queue holds what waits: beyond it a request is refused at once with a
//! `Retry-After`, so memory stays at one hash per thread and other requests keep their cores'
//! share.

use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::Arc;

use tokio::sync::oneshot;

use super::password;
use crate::error::{AppError, AppResult};

/// Hashes waiting for a thread, per hashing thread; beyond them a request is refused.
pub const HASH_QUEUE_PER_THREAD_MAX: usize = 4;
/// CPU priority of the hashing threads (the lowest): a flood of sign-ins gets only the CPU time
/// the other requests leave, so reads keep their latency while it lasts.
pub const HASH_THREAD_NICE: i32 = 19;
/// Seconds a refused sign-in is told to wait.
pub const HASH_BUSY_RETRY_AFTER_SECONDS: u64 = 1;

type Job = Box<dyn FnOnce() + Send>;

/// The hashing threads of a node and their queue.
#[derive(Clone)]
pub struct PasswordHasher {
    jobs: SyncSender<Job>,
    threads: usize,
}

impl PasswordHasher {
    /// Starts `threads` hashing threads (at least one) with a queue of
    /// `HASH_QUEUE_PER_THREAD_MAX` jobs per thread.
    pub fn start(threads: usize) -> AppResult<PasswordHasher> {
        let threads = threads.max(1);
        let (jobs, queue) = sync_channel::<Job>(threads * HASH_QUEUE_PER_THREAD_MAX);
        let queue = Arc::new(std::sync::Mutex::new(queue));
        for index in 0..threads {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("password-hash-{index}"))
                .spawn(move || {
                    lower_priority();
                    work(&queue);
                })
                .map_err(|e| AppError::internal(format!("cannot start a password-hashing thread: {e}")))?;
        }
        Ok(PasswordHasher { jobs, threads })
    }

    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Runs `work` on a hashing thread, or refuses at once when the queue is full.
    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> AppResult<T> {
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(work());
        });
        match self.jobs.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                return Err(AppError::TooManyRequests {
                    code: "sign-in-busy",
                    detail: "too many sign-ins are being checked at once; try again shortly".into(),
                    retry_after_seconds: HASH_BUSY_RETRY_AFTER_SECONDS,
                })
            }
            Err(TrySendError::Disconnected(_)) => {
                return Err(AppError::internal("the password-hashing threads stopped"))
            }
        }
        result.await.map_err(|_| AppError::internal("a password-hashing thread stopped mid-hash"))
    }

    /// Whether `password` matches the stored PHC hash.
    pub async fn verify(&self, password_text: String, stored: String) -> AppResult<bool> {
        self.run(move || password::verify(&password_text, &stored)).await
    }

    /// A new PHC hash of `password`.
    pub async fn hash(&self, password_text: String) -> AppResult<String> {
        self.run(move || password::hash(&password_text)).await?.map_err(AppError::internal)
    }
}

/// A hashing thread: takes one job at a time until the sender is gone. The lock is held only to
/// take a job.
fn work(queue: &std::sync::Mutex<std::sync::mpsc::Receiver<Job>>) {
    loop {
        let job = match queue.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        match job {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

/// Lowers the calling thread's CPU priority to `HASH_THREAD_NICE`. On Linux a priority is per
/// thread (`who` 0 names the caller); elsewhere the threads keep the process's.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority only reads its integer arguments; a failure leaves the priority as it is.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, HASH_THREAD_NICE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_and_the_rest_complete() {
        let hasher = PasswordHasher::start(1).unwrap();
        let stored = password::hash("correct horse battery").unwrap();
        let attempts: Vec<_> = (0..20).map(|_| hasher.verify("wrong horse battery".into(), stored.clone())).collect();
        let outcomes = futures_util::future::join_all(attempts).await;
        let refused = outcomes.iter().filter(|o| matches!(o, Err(AppError::TooManyRequests { .. }))).count();
        let checked = outcomes.iter().filter(|o| matches!(o, Ok(false))).count();
        assert_eq!(refused + checked, 20);
        assert!(refused > 0, "20 at once on one thread with a queue of 4");
        assert!((1..=2 + HASH_QUEUE_PER_THREAD_MAX).contains(&checked), "{checked} checked");
        assert!(hasher.verify("correct horse battery".into(), stored).await.unwrap());
    }
}
