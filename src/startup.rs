//! Building a running node: pool, migrations, keys, HTTP server.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;

use crate::auth::refusal_hold::{RefusalHold, SIGN_IN_REFUSALS_HELD_MAX};
use crate::auth::standing::StandingCache;
use crate::auth::JwtKeys;
use crate::config::Settings;
use crate::error::{AppError, AppResult};
use crate::http::commitment_writer::CommitmentWriter;
use crate::http::views::ViewCache;
use crate::http::{self, AppState};
use crate::storage::{build_pool, run_migrations, DbPool};

pub struct Application {
    pub server: Server,
    pub port: u16,
    pub state: AppState,
}

/// Opens the database, applies pending migrations and returns the pool.
pub fn open_database(settings: &Settings) -> AppResult<(DbPool, &'static str)> {
    let target = settings.db_target().map_err(AppError::Unavailable)?;
    let pool = build_pool(&target, settings.pool_size)?;
    let mut conn = pool.get()?;
    let applied = run_migrations(&mut conn)?;
    if applied > 0 {
        tracing::info!(applied, backend = target.backend_name(), "database migrations applied");
    }
    // Entries written before the journal had its Merkle tree join it now.
    crate::storage::write_tx(&mut conn, crate::storage::merkle::catch_up)?;
    Ok((pool, target.backend_name()))
}

/// The read replica, when one is configured, with its monitor running.
fn start_replica(settings: &Settings) -> Option<Arc<crate::storage::replica::Replica>> {
    let url = settings.read_replica_url.as_ref()?;
    let replica = Arc::new(crate::storage::replica::Replica::new(
        url,
        settings.pool_size,
        Duration::from_millis(settings.replica_lag_max_millis),
    ));
    replica.spawn_monitor(
        settings.database_url.clone(),
        url.clone(),
        Duration::from_millis(settings.replica_check_interval_millis),
    );
    tracing::info!(replica = %crate::storage::redact_url(url), "reads that may be behind go to the read replica");
    Some(replica)
}

/// A node on `listener` with the given signing secret (configured, or the demo key).
pub fn build(settings: Settings, secret: String, listener: TcpListener) -> AppResult<Application> {
    let (pool, backend) = open_database(&settings)?;
    let keys = JwtKeys::from_settings(&settings, &secret).map_err(AppError::Unavailable)?;
    let port = listener.local_addr().map_err(AppError::internal)?.port();
    let target = settings.db_target().map_err(AppError::Unavailable)?;
    let views = ViewCache::start(settings.view_cache_bytes, &target);
    let settings = Arc::new(settings);
    let commitments = CommitmentWriter::start(pool.clone())?;
    let hash_threads = match settings.password_hash_threads {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };
    let hasher = crate::auth::hasher::PasswordHasher::start(hash_threads)?;
    let sign_in_refusal_hold =
        RefusalHold::new(Duration::from_millis(settings.sign_in_refusal_hold_millis), SIGN_IN_REFUSALS_HELD_MAX);
    let standings = Arc::new(StandingCache::new(Duration::from_secs(settings.standing_refresh_seconds)));
    let checkpoint_job = match settings.checkpoint_signer_key() {
        Some(key) => Some(crate::jobs::CheckpointJob::from_settings(&settings, &key).map_err(AppError::Unavailable)?),
        None => None,
    };
    let replica = start_replica(&settings);
    let checkpoint_verifier_key =
        settings.checkpoint_verifier_key_in_effect().map_err(AppError::Unavailable)?.map(Arc::from);
    let state = AppState {
        pool,
        keys: Arc::new(keys),
        settings,
        secret: Arc::new(secret),
        backend,
        views,
        commitments,
        internal_errors: Arc::default(),
        hasher,
        sign_in_throttle: Arc::default(),
        sign_in_refusal_hold,
        checkpoint_verifier_key,
        standings,
        replica,
    };
    let server = http::serve(state.clone(), listener).map_err(AppError::internal)?;
    match checkpoint_job {
        Some(job) if state.settings.checkpoint_interval_seconds > 0 => {
            crate::jobs::spawn_checkpoint_job(state.pool.clone(), job, state.settings.checkpoint_interval_seconds)
        }
        Some(_) => {}
        None if state.checkpoint_verifier_key.is_some() => {
            tracing::info!("no checkpoint signing key: this node shows the checkpoints its verifier key opens")
        }
        None => tracing::warn!(
            "no checkpoint signing or verifier key: the journal's checkpoints are neither signed nor shown (docs/ledger.md)"
        ),
    }
    if state.settings.lapse_interval_seconds > 0 {
        crate::jobs::spawn_lapse_job(state.pool.clone(), state.settings.lapse_interval_seconds);
    }
    Ok(Application { server, port, state })
}
