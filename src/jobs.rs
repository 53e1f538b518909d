//! Periodic work a node does by itself: lapsing compute-grant awards whose period has ended,
//! and signing checkpoints of the journal.
//!
//! Every node may run it: each award is lapsed in its own write transaction that re-reads the
//! award first, so two nodes (or the job and `investai grants lapse`) never lapse one twice.

use std::time::Duration;

use crate::storage::{awards, merkle, DbPool};

/// Who the journal names as the actor of the periodic lapse.
pub const LAPSE_ACTOR: &str = "system:lapse-job";

/// Runs the lapse job now and then every `interval_seconds`, on a thread of its own (the job
/// is blocking database work and must not hold an HTTP worker).
pub fn spawn_lapse_job(pool: DbPool, interval_seconds: u64) {
    let spawned = std::thread::Builder::new().name("lapse-job".into()).spawn(move || loop {
        run_lapse_once(&pool);
        std::thread::sleep(Duration::from_secs(interval_seconds));
    });
    if let Err(error) = spawned {
        tracing::error!(%error, "could not start the lapse job; run `investai grants lapse` from a scheduler instead");
    }
}

/// One pass: lapses every award whose period and reporting days ended before today. Failures are logged and retried on
/// the next pass; nothing is half done because each award is one transaction.
pub fn run_lapse_once(pool: &DbPool) {
    let today = chrono::Utc::now().date_naive();
    let outcome = pool
        .get()
        .map_err(crate::error::AppError::from)
        .and_then(|mut conn| awards::lapse_due(&mut conn, today, LAPSE_ACTOR));
    match outcome {
        Ok(done) if done.is_empty() => {}
        Ok(done) => tracing::info!(awards = done.len(), "ended awards lapsed"),
        Err(error) => tracing::warn!(%error, "lapse job failed; it runs again at the next interval"),
    }
}

/// Steps one run signs at most; a backlog still longer is signed by the next runs.
const CHECKPOINT_STEPS_PER_RUN_MAX: usize = 1_000;

/// The checkpoint job's settings: the signer, when one is due, where to publish.
#[derive(Clone)]
pub struct CheckpointJob {
    pub signer: std::sync::Arc<crate::domain::merkle::CheckpointSigner>,
    pub policy: merkle::CheckpointPolicy,
    pub publish_dir: Option<std::path::PathBuf>,
}

impl CheckpointJob {
    pub fn from_settings(settings: &crate::config::Settings, signer_key: &str) -> Result<CheckpointJob, String> {
        Ok(CheckpointJob {
            signer: std::sync::Arc::new(crate::domain::merkle::CheckpointSigner::new(signer_key)?),
            policy: merkle::CheckpointPolicy {
                every_entries: i64::try_from(settings.checkpoint_every_entries).unwrap_or(i64::MAX),
                at_least_every: chrono::Duration::hours(CHECKPOINT_AT_LEAST_EVERY_HOURS),
                entries_per_step: merkle::CHECKPOINT_ENTRIES_PER_STEP_MAX,
            },
            publish_dir: settings.checkpoint_publish_dir.clone(),
        })
    }

    /// Issues a checkpoint when one is due (or `force`, if the journal grew since the last) and
    /// publishes it; answers it. A backlog longer than a step is signed step by step, each in a
    /// transaction of its own, so that writers wait for one step at most.
    pub fn run_once(&self, pool: &DbPool, force: bool) -> crate::error::AppResult<Option<merkle::CheckpointRow>> {
        let mut latest = None;
        for _ in 0..CHECKPOINT_STEPS_PER_RUN_MAX {
            match self.run_step(pool, force)? {
                Some(row) => {
                    let behind = row.tree_size < merkle::tree_size(&mut *pool.get()?)?;
                    latest = Some(row);
                    if !behind {
                        return Ok(latest);
                    }
                }
                None => return Ok(latest),
            }
        }
        Ok(latest)
    }

    /// One step of [`Self::run_once`]: at most one checkpoint issued and published.
    fn run_step(&self, pool: &DbPool, force: bool) -> crate::error::AppResult<Option<merkle::CheckpointRow>> {
        use chrono::SubsecRound;
        // Microseconds, the finest both databases keep.
        let now = chrono::Utc::now().naive_utc().trunc_subsecs(6);
        let published = match &self.publish_dir {
            Some(dir) => latest_published(dir, self.signer.verifier_key())?,
            None => None,
        };
        let mut conn = pool.get()?;
        let issued = crate::storage::write_tx(&mut conn, |c| {
            merkle::issue_checkpoint(c, &self.signer, self.policy, now, force, published.as_ref())
        })?;
        if let Some(dir) = &self.publish_dir {
            // The newest stored checkpoint, when the last run could not publish it.
            let unpublished = match &issued {
                Some(row) => Some(row.clone()),
                None => merkle::latest_signed(&mut conn, self.signer.verifier_key())?
                    .map(|(row, _)| row)
                    .filter(|row| published.as_ref().is_none_or(|p| p.size < row.tree_size as u64)),
            };
            if let Some(row) = unpublished {
                publish_checkpoint(dir, &row).map_err(|e| {
                    crate::error::AppError::Unavailable(format!(
                        "checkpoint {} issued but not published to {}: {e}",
                        row.tree_size,
                        dir.display()
                    ))
                })?;
            }
        }
        Ok(issued)
    }
}

/// The checkpoint in `<dir>/latest`, its signature checked, if one was published there.
fn latest_published(
    dir: &std::path::Path,
    verifier_key: &str,
) -> crate::error::AppResult<Option<crate::domain::merkle::SignedCheckpoint>> {
    let path = dir.join("latest");
    let text = match std::fs::read(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(crate::error::AppError::Unavailable(format!("{}: {error}", path.display()))),
    };
    crate::domain::merkle::open_checkpoint(&text, verifier_key).map(Some).map_err(|error| {
        crate::error::AppError::Unavailable(format!(
            "not signing: {} is not a checkpoint of this key ({error}); after a new key, publish to a new directory",
            path.display()
        ))
    })
}

/// A checkpoint is signed at least this often while the journal grows.
pub const CHECKPOINT_AT_LEAST_EVERY_HOURS: i64 = 24;

/// Runs the checkpoint job every `interval_seconds` on a thread of its own.
pub fn spawn_checkpoint_job(pool: DbPool, job: CheckpointJob, interval_seconds: u64) {
    let spawned = std::thread::Builder::new().name("checkpoint-job".into()).spawn(move || loop {
        match job.run_once(&pool, false) {
            Ok(Some(row)) => tracing::info!(tree_size = row.tree_size, root = %row.root_hash, "checkpoint issued"),
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "checkpoint job failed; it runs again at the next interval"),
        }
        std::thread::sleep(Duration::from_secs(interval_seconds));
    });
    if let Err(error) = spawned {
        tracing::error!(%error, "could not start the checkpoint job; run `investai checkpoint` from a scheduler instead");
    }
}

/// Writes `row`'s note to `<dir>/<tree size>` and `<dir>/latest` (each written whole, then
/// renamed into place, so a reader never sees half a note). A published note is never
/// replaced by another of the same size.
pub fn publish_checkpoint(dir: &std::path::Path, row: &merkle::CheckpointRow) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let by_size = dir.join(row.tree_size.to_string());
    match std::fs::read_to_string(&by_size) {
        Ok(kept) if kept != row.note => {
            return Err(std::io::Error::other(format!("{} holds another checkpoint of this size", by_size.display())))
        }
        Ok(_) | Err(_) => {}
    }
    for name in [row.tree_size.to_string(), "latest".to_string()] {
        let partial = dir.join(format!(".{name}.partial"));
        std::fs::write(&partial, &row.note)?;
        std::fs::rename(&partial, dir.join(name))?;
    }
    Ok(())
}
