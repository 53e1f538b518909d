//! Reads that may be a little behind (dashboards, overviews, statements, exports) from a
//! PostgreSQL hot standby, while it is known to be close enough behind the primary
//! (docs/scaling.md, "Read replicas").
//!
//! How far behind the standby is, is measured on this node's own clock, never by comparing two
//! servers' clocks: every check first notes the primary's write-ahead log position and the
//! moment it was read, then asks the standby how far it has replayed. The standby holds
//! everything the primary had committed at the latest noted moment whose position it has
//! replayed, so it is at most `now - that moment` behind. Between checks that bound only
//! grows; when checks stop (the standby or the primary cannot be reached), the standby falls
//! out of use once the bound passes the setting. Anything that decides money never reads here.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::r2d2::Pool;
use diesel::sql_types::{Bool, Nullable, Text};
use serde::Serialize;
use utoipa::ToSchema;

use super::{DbConnection, DbManager, DbPool, DbTarget, PooledConn};
use crate::error::{AppError, AppResult};

/// Primary positions a node remembers while the standby catches up; the oldest are dropped.
pub const REPLICA_LSN_SAMPLES_MAX: usize = 4_096;
/// How long a read waits for a standby connection before it goes to the primary instead.
pub const REPLICA_CONNECT_WAIT_MS: u64 = 1_000;
/// Largest lag setting accepted: ten minutes.
pub const REPLICA_LAG_MAX_MILLIS_MAX: u64 = 600_000;
/// Shortest and longest pause between two checks of the standby.
pub const REPLICA_CHECK_INTERVAL_MILLIS_MIN: u64 = 10;
pub const REPLICA_CHECK_INTERVAL_MILLIS_MAX: u64 = 60_000;

/// A write-ahead log position as PostgreSQL prints it (`16/B374D848`), as one number.
pub fn parse_lsn(text: &str) -> Option<u64> {
    let (high, low) = text.split_once('/')?;
    let high = u32::from_str_radix(high, 16).ok()?;
    let low = u32::from_str_radix(low, 16).ok()?;
    Some((u64::from(high) << 32) | u64::from(low))
}

/// What this node knows of how far behind the standby is. Times are the node's own.
#[derive(Debug, Default)]
pub struct LagTracker {
    /// The primary's log positions with the moment each was read, oldest first.
    samples: VecDeque<(u64, Instant)>,
    /// The standby holds everything the primary had committed at this moment.
    complete_as_of: Option<Instant>,
}

impl LagTracker {
    /// The primary's log position `lsn`, read at `at` (no earlier than the last one noted).
    pub fn primary_at(&mut self, lsn: u64, at: Instant) {
        if self.samples.len() == REPLICA_LSN_SAMPLES_MAX {
            self.samples.pop_front();
        }
        self.samples.push_back((lsn, at));
    }

    /// The standby has replayed up to `lsn`: it holds what the primary had at the latest
    /// noted moment whose position is at most `lsn`. Older notes are no longer needed.
    pub fn replica_replayed(&mut self, lsn: u64) {
        let Some(newest_held) = self.samples.iter().rposition(|(sampled, _)| *sampled <= lsn) else { return };
        let at = self.samples[newest_held].1;
        self.complete_as_of = Some(self.complete_as_of.map_or(at, |known| known.max(at)));
        self.samples.drain(..newest_held);
    }

    /// The standby cannot be reached or is no standby: nothing it holds is vouched for.
    pub fn lose_sight(&mut self) {
        self.complete_as_of = None;
        self.samples.clear();
    }

    /// At most how far behind the primary the standby is at `now`; none when unknown.
    pub fn behind(&self, now: Instant) -> Option<Duration> {
        self.complete_as_of.map(|at| now.saturating_duration_since(at))
    }
}

/// The standby as `/readyz` reports it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ReplicaStatus {
    /// Reads that may be behind go to the standby now.
    pub serving: bool,
    /// At most this many milliseconds behind the primary; none when not known (unreachable,
    /// not a standby, or not checked yet).
    pub behind_ms: Option<u64>,
    /// The setting: reads go to the primary when the standby may be further behind.
    pub lag_max_ms: u64,
    /// Reads this node served from the standby since it started.
    pub reads_served: u64,
    /// Reads that would have gone to the standby and went to the primary instead (too far
    /// behind, or unreachable) since the node started.
    pub reads_sent_to_primary: u64,
}

/// A PostgreSQL hot standby this node may read from.
pub struct Replica {
    pool: DbPool,
    tracker: Mutex<LagTracker>,
    lag_max: Duration,
    reads_served: AtomicU64,
    reads_sent_to_primary: AtomicU64,
}

/// What a read on the standby came to.
pub enum ReplicaRead<T> {
    /// The standby answered (an error too, when it is the request's, such as not found).
    Done(AppResult<T>),
    /// The standby could not answer; the read must go to the primary.
    Unavailable,
}

impl Replica {
    /// A standby at `url` read by at most `pool_size` connections. Nothing is connected yet, so
    /// a node starts while its standby is down.
    pub fn new(url: &str, pool_size: u32, lag_max: Duration) -> Replica {
        let pool = Pool::builder()
            .max_size(pool_size)
            .min_idle(Some(0))
            .connection_timeout(Duration::from_millis(REPLICA_CONNECT_WAIT_MS))
            .build_unchecked(DbManager::new(DbTarget::Postgres(url.to_string())));
        Replica {
            pool,
            tracker: Mutex::default(),
            lag_max,
            reads_served: AtomicU64::new(0),
            reads_sent_to_primary: AtomicU64::new(0),
        }
    }

    fn tracker(&self) -> std::sync::MutexGuard<'_, LagTracker> {
        // The tracker's state is whole after every call; a panic elsewhere leaves it usable.
        self.tracker.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// True while the standby is known to be at most the setting behind.
    pub fn is_serving(&self) -> bool {
        self.tracker().behind(Instant::now()).is_some_and(|behind| behind <= self.lag_max)
    }

    /// Counts a read that should have gone to the standby and went to the primary.
    pub fn note_sent_to_primary(&self) {
        self.reads_sent_to_primary.fetch_add(1, Ordering::Relaxed);
    }

    /// Runs `work` on a standby connection, answering the connection too (a streamed export
    /// reads on). When the standby cannot be reached, or fails with an error of the server's
    /// side (a query cancelled by replay, a lost connection), the read is left to the primary
    /// and, if the standby no longer answers, it is out of use until the next good check.
    pub fn read_keeping_connection<T>(
        &self,
        work: impl FnOnce(&mut DbConnection) -> AppResult<T>,
    ) -> ReplicaRead<(PooledConn, T)> {
        let mut conn = match self.pool.get() {
            Ok(conn) => conn,
            Err(error) => {
                tracing::warn!(%error, "read replica unreachable; reading from the primary");
                self.tracker().lose_sight();
                return ReplicaRead::Unavailable;
            }
        };
        match work(&mut conn) {
            Err(error) if error.status() >= 500 => {
                if diesel::r2d2::R2D2Connection::ping(&mut *conn).is_err() {
                    self.tracker().lose_sight();
                }
                tracing::warn!(%error, "read on the replica failed; reading from the primary");
                ReplicaRead::Unavailable
            }
            outcome => {
                self.reads_served.fetch_add(1, Ordering::Relaxed);
                ReplicaRead::Done(outcome.map(|value| (conn, value)))
            }
        }
    }

    pub fn status(&self) -> ReplicaStatus {
        let behind = self.tracker().behind(Instant::now());
        ReplicaStatus {
            serving: behind.is_some_and(|behind| behind <= self.lag_max),
            behind_ms: behind.map(|behind| u64::try_from(behind.as_millis()).unwrap_or(u64::MAX)),
            lag_max_ms: u64::try_from(self.lag_max.as_millis()).unwrap_or(u64::MAX),
            reads_served: self.reads_served.load(Ordering::Relaxed),
            reads_sent_to_primary: self.reads_sent_to_primary.load(Ordering::Relaxed),
        }
    }

    /// Checks the standby against the primary every `interval`, on a thread of its own with a
    /// connection to each, until the replica is dropped.
    pub fn spawn_monitor(self: &Arc<Self>, primary_url: String, replica_url: String, interval: Duration) {
        let replica = Arc::downgrade(self);
        let spawned = std::thread::Builder::new()
            .name("replica-monitor".into())
            .spawn(move || monitor(replica, &primary_url, &replica_url, interval));
        if let Err(error) = spawned {
            tracing::error!(%error, "cannot start the replica monitor; every read goes to the primary");
        }
    }
}

/// One check's connections, made again after a failure.
struct MonitorConnections {
    primary: Option<PgConnection>,
    replica: Option<PgConnection>,
}

fn monitor(replica: Weak<Replica>, primary_url: &str, replica_url: &str, interval: Duration) {
    let mut connections = MonitorConnections { primary: None, replica: None };
    let mut reported: Option<String> = None;
    loop {
        let Some(replica) = replica.upgrade() else { return };
        let outcome = check(&replica, &mut connections, primary_url, replica_url);
        // Log a change of state once, not every check.
        let problem = outcome.err().map(|e| e.to_string());
        if problem != reported {
            match &problem {
                Some(problem) => tracing::warn!(%problem, "read replica out of use"),
                None => tracing::info!("read replica checked and in sight"),
            }
            reported = problem;
        }
        drop(replica);
        std::thread::sleep(interval);
    }
}

/// Notes the primary's position, then reads how far the standby has replayed.
fn check(
    replica: &Replica,
    connections: &mut MonitorConnections,
    primary_url: &str,
    replica_url: &str,
) -> AppResult<()> {
    let primary = connected(&mut connections.primary, primary_url)?;
    let position =
        diesel::select(diesel::dsl::sql::<Text>("pg_current_wal_insert_lsn()::text")).get_result::<String>(primary);
    let at = Instant::now();
    let position = position.map_err(|e| {
        connections.primary = None;
        AppError::Unavailable(format!("primary: {e}"))
    })?;
    let position = parse_lsn(&position).ok_or_else(|| AppError::internal(format!("log position {position:?}")))?;
    replica.tracker().primary_at(position, at);
    let standby = match connected(&mut connections.replica, replica_url) {
        Ok(standby) => standby,
        Err(error) => {
            replica.tracker().lose_sight();
            return Err(error);
        }
    };
    let replayed = diesel::select((
        diesel::dsl::sql::<Bool>("pg_is_in_recovery()"),
        diesel::dsl::sql::<Nullable<Text>>("pg_last_wal_replay_lsn()::text"),
    ))
    .get_result::<(bool, Option<String>)>(standby);
    match replayed {
        Ok((true, Some(lsn))) => {
            let lsn = parse_lsn(&lsn).ok_or_else(|| AppError::internal(format!("log position {lsn:?}")))?;
            replica.tracker().replica_replayed(lsn);
            Ok(())
        }
        Ok(_) => {
            replica.tracker().lose_sight();
            Err(AppError::Unavailable("the read replica is not a standby in recovery".into()))
        }
        Err(error) => {
            connections.replica = None;
            replica.tracker().lose_sight();
            Err(AppError::Unavailable(format!("replica: {error}")))
        }
    }
}

fn connected<'a>(slot: &'a mut Option<PgConnection>, url: &str) -> AppResult<&'a mut PgConnection> {
    if slot.is_none() {
        let conn = PgConnection::establish(url)
            .map_err(|e| AppError::Unavailable(format!("{}: {e}", super::redact_url(url))))?;
        *slot = Some(conn);
    }
    slot.as_mut().ok_or_else(|| AppError::internal("connection slot empty"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_positions_parse_as_postgresql_prints_them() {
        assert_eq!(parse_lsn("0/0"), Some(0));
        assert_eq!(parse_lsn("16/B374D848"), Some(0x16_B374_D848));
        assert_eq!(parse_lsn("FFFFFFFF/FFFFFFFF"), Some(u64::MAX));
        assert!(parse_lsn("16B374D848").is_none());
        assert!(parse_lsn("1/G").is_none());
        assert!(parse_lsn("100000000/0").is_none());
    }

    #[test]
    fn the_standby_is_as_far_behind_as_the_newest_primary_moment_it_holds() {
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        let mut tracker = LagTracker::default();
        assert_eq!(tracker.behind(at(0)), None, "unknown before the first check");
        tracker.primary_at(100, at(0));
        tracker.replica_replayed(100);
        assert_eq!(tracker.behind(at(0)), Some(Duration::ZERO));
        // The primary moves on; the standby replays only part of it.
        tracker.primary_at(200, at(1_000));
        tracker.primary_at(300, at(2_000));
        tracker.replica_replayed(250);
        assert_eq!(tracker.behind(at(2_000)), Some(Duration::from_millis(1_000)), "holds the primary of 1,000 ms");
        // Between checks the bound grows with the clock.
        assert_eq!(tracker.behind(at(2_500)), Some(Duration::from_millis(1_500)));
        tracker.replica_replayed(300);
        assert_eq!(tracker.behind(at(2_500)), Some(Duration::from_millis(500)));
        tracker.lose_sight();
        assert_eq!(tracker.behind(at(2_500)), None);
    }

    #[test]
    fn a_standby_behind_every_noted_position_is_vouched_for_by_nothing_new() {
        let start = Instant::now();
        let mut tracker = LagTracker::default();
        tracker.primary_at(500, start);
        tracker.replica_replayed(499);
        assert_eq!(tracker.behind(start), None);
        for step in 0..(REPLICA_LSN_SAMPLES_MAX as u64 + 10) {
            tracker.primary_at(1_000 + step, start + Duration::from_millis(step));
        }
        assert_eq!(tracker.samples.len(), REPLICA_LSN_SAMPLES_MAX, "the notes are bounded");
    }
}
