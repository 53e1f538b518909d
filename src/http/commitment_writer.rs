//! The node's commitment writer: one thread that records the new commitments handlers hand
//! it, all those waiting at once in one batch ([`record_commitments`]). While a batch holds
//! the writer lock the next one gathers, so under load each lock taken records many
//! commitments, and with one request waiting a batch is that request alone.

use std::panic::AssertUnwindSafe;

use tokio::sync::{mpsc, oneshot};

use crate::error::{AppError, AppResult};
use crate::storage::commitment_batch::{record_commitments, Answered, CommitmentRequest, COMMITMENT_BATCH_MAX};
use crate::storage::DbPool;

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
        std::thread::Builder::new()
            .name("commitment-writer".into())
            .spawn(move || run(&pool, queue))
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

fn run(pool: &DbPool, mut queue: mpsc::Receiver<Job>) {
    while let Some(first) = queue.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < COMMITMENT_BATCH_MAX {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        // A panic loses this batch's replies (each handler then answers 503), not the writer.
        if std::panic::catch_unwind(AssertUnwindSafe(|| answer(pool, batch))).is_err() {
            tracing::error!("the commitment writer failed on a batch; it goes on with the next");
        }
    }
}

/// Records a batch and replies to each request. If the batch as a whole fails, each request is
/// tried alone, so that one request cannot fail the others.
fn answer(pool: &DbPool, batch: Vec<Job>) {
    let (requests, replies): (Vec<CommitmentRequest>, Vec<_>) =
        batch.into_iter().map(|job| (job.request, job.reply)).unzip();
    let outcome = pool.get().map_err(AppError::from).and_then(|mut conn| record_commitments(&mut conn, &requests));
    match outcome {
        Ok(answers) => replies.into_iter().zip(answers).for_each(|(reply, answer)| {
            let _ = reply.send(answer);
        }),
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
