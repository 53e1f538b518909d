//! The node's commitment writer: one thread that records the new commitments handlers hand
//! it, all those waiting at once in one batch ([`record_commitments_before_durable`]). While a
//! batch holds the writer lock the next one gathers, so under load each lock taken records many
//! commitments, and with one request waiting a batch is that request alone.
//!
//! A committed batch is answered only once it is on disk. The writer does not wait for that: it
//! hands the batch's answers to a second thread and goes on with the next batch. That thread
//! takes every batch committed meanwhile, waits once until all of them are durable (one barrier
//! covers every transaction committed before it), then answers them all.

use std::panic::AssertUnwindSafe;

use tokio::sync::{mpsc, oneshot};

use crate::error::{AppError, AppResult};
use crate::storage::commitment_batch::{
    record_commitments, record_commitments_before_durable, Answered, CommitmentRequest, COMMITMENT_BATCH_MAX,
};
use crate::storage::{wait_until_durable, DbPool};

/// Requests that may wait for the writer before a handler waits to hand over its own.
pub const COMMITMENT_QUEUE_MAX: usize = 4 * COMMITMENT_BATCH_MAX;

struct Job {
    request: CommitmentRequest,
    reply: oneshot::Sender<AppResult<Answered>>,
}

/// Hands requests to the writer thread; cheap to clone.
#[derive(Clone)]
pub struct CommitmentWriter {
    jobs: mpsc::Sender<Job>,
}

impl CommitmentWriter {
    /// Starts the writer thread. It ends when the last handle is dropped.
    pub fn start(pool: DbPool) -> AppResult<CommitmentWriter> {
        let (jobs, queue) = mpsc::channel(COMMITMENT_QUEUE_MAX);
        let (committed, to_flush) = std::sync::mpsc::channel();
        let flusher_pool = pool.clone();
        std::thread::Builder::new()
            .name("commitment-durability".into())
            .spawn(move || answer_when_durable(&flusher_pool, &to_flush))
            .map_err(|e| AppError::internal(format!("cannot start the commitment writer: {e}")))?;
        std::thread::Builder::new()
            .name("commitment-writer".into())
            .spawn(move || run(&pool, queue, &committed))
            .map_err(|e| AppError::internal(format!("cannot start the commitment writer: {e}")))?;
        Ok(CommitmentWriter { jobs })
    }

    /// Records `request` in the next batch and answers once its batch is committed and durable.
    pub async fn record(&self, request: CommitmentRequest) -> AppResult<Answered> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { request, reply })
            .await
            .map_err(|_| AppError::Unavailable("the commitment writer has stopped".into()))?;
        // A dropped reply means the writer panicked on this batch, most likely inside its
        // transaction (rolled back); a retry with the same key replays it if it was recorded.
        answer.await.map_err(|_| {
            AppError::Unavailable(
                "the commitment writer failed on this request; send it again with the same Idempotency-Key".into(),
            )
        })?
    }
}

/// A committed batch's answers, held until the batch is on disk.
type Committed = Vec<(oneshot::Sender<AppResult<Answered>>, AppResult<Answered>)>;

fn run(pool: &DbPool, mut queue: mpsc::Receiver<Job>, committed: &std::sync::mpsc::Sender<Committed>) {
    while let Some(first) = queue.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < COMMITMENT_BATCH_MAX {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        // A panic loses this batch's replies (each handler then answers 503), not the writer.
        if std::panic::catch_unwind(AssertUnwindSafe(|| answer(pool, batch, committed))).is_err() {
            tracing::error!("the commitment writer failed on a batch; it goes on with the next");
        }
    }
}

/// Records a batch and hands its answers to the durability thread. If the batch as a whole
/// fails, each request is tried alone (and answered once durable), so that one request cannot
/// fail the others.
fn answer(pool: &DbPool, batch: Vec<Job>, committed: &std::sync::mpsc::Sender<Committed>) {
    let (requests, replies): (Vec<CommitmentRequest>, Vec<_>) =
        batch.into_iter().map(|job| (job.request, job.reply)).unzip();
    let outcome =
        pool.get().map_err(AppError::from).and_then(|mut conn| record_commitments_before_durable(&mut conn, &requests));
    match outcome {
        Ok(answers) => {
            // The durability thread ends only after this one: the channel is open.
            if let Err(unsent) = committed.send(replies.into_iter().zip(answers).collect()) {
                for (reply, _) in unsent.0 {
                    let _ = reply.send(Err(AppError::Unavailable("the commitment writer has stopped".into())));
                }
            }
        }
        Err(error) if requests.len() == 1 => {
            if let Some(reply) = replies.into_iter().next() {
                let _ = reply.send(Err(error));
            }
        }
        Err(error) => {
            tracing::warn!(%error, requests = requests.len(), "a commitment batch failed; recording its requests one by one");
            for (request, reply) in requests.into_iter().zip(replies) {
                let alone = pool
                    .get()
                    .map_err(AppError::from)
                    .and_then(|mut conn| record_commitments(&mut conn, std::slice::from_ref(&request)))
                    .and_then(|mut answers| answers.pop().unwrap_or_else(|| Err(AppError::internal("no answer"))));
                let _ = reply.send(alone);
            }
        }
    }
}

/// Answers committed batches once they are on disk: every batch waiting is covered by one
/// barrier run after all of them committed.
fn answer_when_durable(pool: &DbPool, to_flush: &std::sync::mpsc::Receiver<Committed>) {
    while let Ok(first) = to_flush.recv() {
        let mut batches = vec![first];
        batches.extend(to_flush.try_iter());
        let durable = pool.get().map_err(AppError::from).and_then(|mut conn| wait_until_durable(&mut conn));
        for (reply, answer) in batches.into_iter().flatten() {
            let answer = match &durable {
                Ok(()) => answer,
                Err(AppError::Unavailable(detail)) => Err(AppError::Unavailable(detail.clone())),
                Err(other) => Err(AppError::Unavailable(other.to_string())),
            };
            let _ = reply.send(answer);
        }
    }
}
