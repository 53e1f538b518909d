//! Storage on SQLite or PostgreSQL through one diesel code path.
//!
//! Every write runs in [`write_tx`], which serializes writers on both backends: SQLite takes
//! the write lock up front (`BEGIN IMMEDIATE`), PostgreSQL locks the single ledger-head row
//! first. The ledger is a hash chain, so its writes are serial by nature; taking the lock
//! first means no transaction can read a stale balance and then write on top of it.

pub mod attribution;
pub mod awards;
pub mod capital;
pub mod capital_totals;
pub mod commitment_batch;
pub mod commitments;
pub mod explain;
pub mod export;
pub mod facility_statement;
pub mod floors;
pub mod funds;
pub mod grants;
pub mod idempotency;
pub mod investments;
pub mod ledger;
pub mod merkle;
pub mod metrics;
pub mod overview;
pub mod profiles;
pub mod proposals;
pub mod register;
pub mod replica;
pub mod running_amounts;
pub mod schema;
pub mod structure;
pub mod transparency;
pub mod usage;
pub mod usage_import;
pub mod usage_sums;
pub mod users;
pub mod version;
pub mod waterfall;
pub mod write_lock;

use std::path::PathBuf;
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{ManageConnection, Pool, PooledConnection, R2D2Connection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::{AppError, AppResult};

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// How long a SQLite writer waits for the lock before giving up.
pub const SQLITE_BUSY_TIMEOUT_MS: u32 = 15_000;
/// How long a PostgreSQL statement may wait for a lock before the request fails cleanly.
pub const POSTGRES_LOCK_TIMEOUT_MS: u32 = 15_000;
/// SQLite page cache of each pooled connection, in KiB (`PRAGMA cache_size` takes it negated).
pub const SQLITE_CACHE_KIB: i64 = 32_768;
/// How long a request waits for a pooled connection.
pub const POOL_WAIT_SECONDS: u64 = 20;

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// Where the data lives, parsed from `DATABASE_URL`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DbTarget {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DbTarget {
    /// `sqlite://path`, `sqlite:path`, `postgres://…` or `postgresql://…`.
    pub fn parse(url: &str) -> Result<DbTarget, String> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DbTarget::Postgres(url.to_string()));
        }
        let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).ok_or_else(|| {
            format!("DATABASE_URL must start with sqlite:// or postgres:// (got {})", redact_url(url))
        })?;
        if path.is_empty() {
            return Err("DATABASE_URL names no SQLite file".into());
        }
        Ok(DbTarget::Sqlite(PathBuf::from(path)))
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            DbTarget::Sqlite(_) => "sqlite",
            DbTarget::Postgres(_) => "postgres",
        }
    }
}

/// A URL fit for logs: the password, if any, replaced.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Opens connections for the pool and sets each one up for safe concurrent use.
#[derive(Clone, Debug)]
pub struct DbManager {
    target: DbTarget,
}

impl DbManager {
    pub fn new(target: DbTarget) -> Self {
        DbManager { target }
    }

    pub fn connect(&self) -> Result<DbConnection, diesel::r2d2::Error> {
        match &self.target {
            DbTarget::Sqlite(path) => {
                let path = path.to_string_lossy();
                let mut conn =
                    diesel::SqliteConnection::establish(&path).map_err(diesel::r2d2::Error::ConnectionError)?;
                // WAL lets readers run beside the one writer; FULL sync means an acknowledged
                // commit survives a power cut, not only a process crash. A 32 MB page cache per
                // connection keeps the indexes that usage batches write to in memory.
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS};
                     PRAGMA journal_mode = WAL;
                     PRAGMA synchronous = FULL;
                     PRAGMA foreign_keys = ON;
                     PRAGMA cache_size = -{SQLITE_CACHE_KIB};"
                ))
                .map_err(diesel::r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
            DbTarget::Postgres(url) => {
                let mut conn = diesel::PgConnection::establish(url).map_err(diesel::r2d2::Error::ConnectionError)?;
                conn.batch_execute(&format!("SET TIME ZONE 'UTC'; SET lock_timeout = {POSTGRES_LOCK_TIMEOUT_MS};"))
                    .map_err(diesel::r2d2::Error::QueryError)?;
                Ok(DbConnection::Postgresql(conn))
            }
        }
    }
}

impl ManageConnection for DbManager {
    type Connection = DbConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        DbManager::connect(self)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), Self::Error> {
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        conn.is_broken()
    }
}

pub type DbPool = Pool<DbManager>;
pub type PooledConn = PooledConnection<DbManager>;

/// A pool of `size` connections. SQLite files are created when missing.
pub fn build_pool(target: &DbTarget, size: u32) -> Result<DbPool, AppError> {
    build_pool_reporting(target, size, Box::new(diesel::r2d2::LoggingErrorHandler))
}

/// As [`build_pool`], with the connection errors the pool meets (and retries) handed to
/// `errors`.
pub fn build_pool_reporting(
    target: &DbTarget,
    size: u32,
    errors: Box<dyn diesel::r2d2::HandleError<diesel::r2d2::Error>>,
) -> Result<DbPool, AppError> {
    if let DbTarget::Sqlite(_) = target {
        // The first switch of a new file to write-ahead logging takes the file's exclusive lock;
        // made by the pool's connections side by side, one of them meets a locked database. One
        // connection makes it here, before the others open a file already in that mode.
        DbManager::new(target.clone())
            .connect()
            .map_err(|e| AppError::Unavailable(format!("cannot open the database: {e}")))?;
    }
    Pool::builder()
        .max_size(size)
        .connection_timeout(Duration::from_secs(POOL_WAIT_SECONDS))
        .error_handler(errors)
        .build(DbManager::new(target.clone()))
        .map_err(|e| AppError::Unavailable(format!("cannot open the database: {e}")))
}

pub fn run_migrations(conn: &mut DbConnection) -> AppResult<usize> {
    let applied = match conn {
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
        DbConnection::Postgresql(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|v| v.len()),
    };
    applied.map_err(|e| AppError::internal(format!("migrations failed: {e}")))
}

pub fn has_pending_migrations(conn: &mut DbConnection) -> AppResult<bool> {
    let pending = match conn {
        DbConnection::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS),
        DbConnection::Postgresql(c) => c.has_pending_migration(POSTGRES_MIGRATIONS),
    };
    pending.map_err(|e| AppError::internal(format!("cannot read migration state: {e}")))
}

/// Attempts at a write transaction that the database aborted as a conflict or deadlock.
pub const WRITE_TX_ATTEMPTS_MAX: u32 = 5;

/// Runs `work` in a transaction that holds the single writer lock from its first statement.
///
/// On success the transaction commits; on any error it rolls back and nothing is written.
/// A transaction PostgreSQL aborts for serialization or deadlock is retried a bounded number
/// of times, so `work` must not have side effects outside the database.
pub fn write_tx<T>(conn: &mut DbConnection, work: impl FnMut(&mut DbConnection) -> AppResult<T>) -> AppResult<T> {
    let value = write_tx_before_durable(conn, work)?;
    wait_until_durable(conn)?;
    Ok(value)
}

/// As [`write_tx`], but answers once the transaction has committed, before it is known to be on
/// disk. Nothing it wrote may be acknowledged until [`wait_until_durable`] has returned, on any
/// connection, after this call. For a writer that goes on with its next transaction while the
/// last one's flush is awaited (the commitment writer).
pub fn write_tx_before_durable<T>(
    conn: &mut DbConnection,
    mut work: impl FnMut(&mut DbConnection) -> AppResult<T>,
) -> AppResult<T> {
    let mut attempt = 1;
    loop {
        match write_tx_once(conn, &mut work) {
            Err(AppError::Conflict { code: "write-conflict", .. }) if attempt < WRITE_TX_ATTEMPTS_MAX => {
                attempt += 1;
                std::thread::sleep(Duration::from_millis(5 * u64::from(attempt)));
            }
            other => return other,
        }
    }
}

/// SQLite writers of this process queue here instead of in SQLite's busy handler, which
/// sleeps and retries and so serves waiting writers in no order (seconds at p99 under load).
/// `BEGIN IMMEDIATE` still guards against writers in other processes.
static SQLITE_WRITERS: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn write_tx_once<T>(conn: &mut DbConnection, work: &mut impl FnMut(&mut DbConnection) -> AppResult<T>) -> AppResult<T> {
    let asked = std::time::Instant::now();
    // A writer that panicked while queued or writing left no transaction open: the lock is free.
    let _queued = matches!(conn, DbConnection::Sqlite(_))
        .then(|| SQLITE_WRITERS.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    if let Err(error) = begin_write(conn) {
        // PostgreSQL leaves the transaction its BEGIN opened in the aborted state when the lock
        // wait fails: end it, or the pooled connection fails every statement after. Nothing was
        // written, and with no transaction open the rollback's own error is moot.
        let _ = conn.batch_execute("ROLLBACK");
        write_lock::observe_refused(asked.elapsed());
        return Err(map_lock_error(error));
    }
    let held = std::time::Instant::now();
    let outcome = work(conn);
    let outcome = commit_or_roll_back(conn, outcome);
    write_lock::observe(held - asked, held.elapsed());
    outcome
}

/// Ends the write transaction: commits what the work did, or rolls back on its error.
fn commit_or_roll_back<T>(conn: &mut DbConnection, outcome: AppResult<T>) -> AppResult<T> {
    match outcome {
        Ok(value) => {
            if let Err(error) = commit(conn) {
                let _ = rollback(conn);
                return Err(map_lock_error(error));
            }
            // Committed: from here on an error must not lead to a retry of the work.
            version::note_commit();
            Ok(value)
        }
        Err(error) => {
            // A failed rollback leaves the connection broken; the pool then discards it.
            let _ = rollback(conn);
            Err(error)
        }
    }
}

/// Opens a write transaction holding the single writer lock, and bumps the books' version that
/// tells other nodes' cached views the books changed (`version`).
fn begin_write(conn: &mut DbConnection) -> QueryResult<()> {
    match conn {
        DbConnection::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(
            c,
            "BEGIN IMMEDIATE; UPDATE books_version SET version = version + 1 WHERE id = 1",
        ),
        // Every writer queues on the version row the update locks, so each sees the state its
        // predecessor committed. The commit does not wait for the disk while holding that
        // lock: `write_tx` waits for durability after releasing it (`wait_until_durable`).
        DbConnection::Postgresql(c) => AnsiTransactionManager::begin_transaction_sql(
            c,
            "BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL synchronous_commit = off; \
             UPDATE books_version SET version = version + 1 WHERE id = 1",
        ),
    }
}

/// Returns once everything committed before it is on disk. A PostgreSQL writer commits
/// asynchronously so that the writer lock is not held across the WAL flush; this small
/// transaction writes a record to the WAL (a transactional logical message, which standbys and
/// decoders without a plugin for it ignore), so its commit is synchronous and waits for the
/// flush of the WAL up to its own commit record, which lies after the writer's. A transaction
/// that only takes a transaction id writes no record of its own, and PostgreSQL commits such a
/// transaction asynchronously: it would not wait. Concurrent writers' barriers share one flush
/// (group commit). Until it returns, the write is not acknowledged. SQLite commits
/// synchronously (`synchronous = FULL`), so it has nothing to wait for.
/// Every transaction committed before the call, on any connection, is on disk when it returns.
pub fn wait_until_durable(conn: &mut DbConnection) -> AppResult<()> {
    let barrier = match conn {
        DbConnection::Sqlite(_) => Ok(()),
        DbConnection::Postgresql(c) => c.batch_execute(&format!(
            "BEGIN; SELECT pg_logical_emit_message(true, '{DURABILITY_BARRIER_PREFIX}', ''); COMMIT"
        )),
    };
    barrier
        .map_err(|e| AppError::Unavailable(format!("the write committed but reaching the disk was not confirmed: {e}")))
}

/// The prefix of the WAL messages that make a durability barrier's commit wait for the disk.
pub const DURABILITY_BARRIER_PREFIX: &str = "investai-durability-barrier";

fn commit(conn: &mut DbConnection) -> QueryResult<()> {
    match conn {
        DbConnection::Sqlite(c) => AnsiTransactionManager::commit_transaction(c),
        DbConnection::Postgresql(c) => AnsiTransactionManager::commit_transaction(c),
    }
}

fn rollback(conn: &mut DbConnection) -> QueryResult<()> {
    match conn {
        DbConnection::Sqlite(c) => AnsiTransactionManager::rollback_transaction(c),
        DbConnection::Postgresql(c) => AnsiTransactionManager::rollback_transaction(c),
    }
}

/// Lock waits that time out and deadlocks become retryable conflicts, not 500s.
fn map_lock_error(error: diesel::result::Error) -> AppError {
    use diesel::result::{DatabaseErrorKind, Error};
    match &error {
        Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
            AppError::conflict("write-conflict", "concurrent update, try again")
        }
        Error::DatabaseError(_, info)
            if info.message().contains("database is locked")
                || info.message().contains("lock timeout")
                || info.message().contains("deadlock") =>
        {
            AppError::Unavailable("the database is busy; try again".into())
        }
        _ => AppError::from(error),
    }
}

/// Runs a read in one transaction so that every query sees the same snapshot. SQLite's read
/// transaction does so by itself; PostgreSQL's default isolation (READ COMMITTED) takes a new
/// snapshot for each statement, so there the read runs at REPEATABLE READ. Inside another
/// transaction it is a savepoint of that one, and sees what that one sees.
pub fn read_tx<T>(conn: &mut DbConnection, work: impl FnOnce(&mut DbConnection) -> AppResult<T>) -> AppResult<T> {
    let DbConnection::Postgresql(pg) = conn else { return conn.transaction(work) };
    let depth =
        <AnsiTransactionManager as TransactionManager<diesel::PgConnection>>::transaction_manager_status_mut(pg)
            .transaction_depth()?;
    if depth.is_some() {
        return conn.transaction(work);
    }
    AnsiTransactionManager::begin_transaction_sql(pg, "BEGIN ISOLATION LEVEL REPEATABLE READ")?;
    match work(conn) {
        Ok(value) => {
            commit(conn)?;
            Ok(value)
        }
        Err(error) => {
            // A failed rollback leaves the connection broken; the pool then discards it.
            let _ = rollback(conn);
            Err(error)
        }
    }
}

/// Multi-row INSERT: diesel offers it per backend only, so dispatch on the connection.
macro_rules! batch_insert {
    ($conn:expr, $table:expr, $rows:expr) => {
        match $conn {
            $crate::storage::DbConnection::Sqlite(c) => diesel::insert_into($table).values($rows).execute(c)?,
            $crate::storage::DbConnection::Postgresql(c) => diesel::insert_into($table).values($rows).execute(c)?,
        }
    };
}
pub(crate) use batch_insert;

/// `INSERT ... ON CONFLICT (key) DO UPDATE SET ...` of one row: diesel offers it per backend
/// only, so dispatch on the connection. Evaluates to the rows written.
macro_rules! upsert {
    ($conn:expr, $table:expr, $row:expr, on $key:expr, set $update:expr) => {
        match $conn {
            $crate::storage::DbConnection::Sqlite(c) => {
                diesel::insert_into($table).values($row).on_conflict($key).do_update().set($update).execute(c)?
            }
            $crate::storage::DbConnection::Postgresql(c) => {
                diesel::insert_into($table).values($row).on_conflict($key).do_update().set($update).execute(c)?
            }
        }
    };
}
pub(crate) use upsert;

/// Rows that go in per statement by [`upsert_all`].
pub const UPSERT_ROWS_PER_STATEMENT: usize = 1_000;

/// [`upsert`] of many rows with distinct keys, whose update reads the proposed row through
/// `excluded(...)`: one statement per [`UPSERT_ROWS_PER_STATEMENT`] rows on PostgreSQL; one
/// prepared statement per row on SQLite, where diesel has no multi-row upsert (in process, so
/// no round trip).
macro_rules! upsert_all {
    ($conn:expr, $table:expr, $rows:expr, on $key:expr, set $update:expr) => {
        match $conn {
            $crate::storage::DbConnection::Sqlite(c) => {
                for row in $rows.iter() {
                    diesel::insert_into($table).values(row).on_conflict($key).do_update().set($update).execute(c)?;
                }
            }
            $crate::storage::DbConnection::Postgresql(c) => {
                for chunk in $rows.chunks($crate::storage::UPSERT_ROWS_PER_STATEMENT) {
                    diesel::insert_into($table).values(chunk).on_conflict($key).do_update().set($update).execute(c)?;
                }
            }
        }
    };
}
pub(crate) use upsert_all;

/// Every key whose kept value differs from the value counted again from the rows it sums, as
/// (key, kept, recounted); a missing value and the default (zero) are the same.
pub fn differences<K: Ord + Clone, V: Copy + Default + PartialEq>(
    kept: &std::collections::BTreeMap<K, V>,
    recounted: &std::collections::BTreeMap<K, V>,
) -> Vec<(K, V, V)> {
    let keys: std::collections::BTreeSet<&K> = kept.keys().chain(recounted.keys()).collect();
    keys.into_iter()
        .filter_map(|key| {
            let (a, b) = (kept.get(key).copied().unwrap_or_default(), recounted.get(key).copied().unwrap_or_default());
            (a != b).then(|| (key.clone(), a, b))
        })
        .collect()
}

/// One page of a list its query reads in order: at most the `limit` items after the one the
/// request named, and the key of the last when more follow. A page costs the same however long
/// the list grows.
#[derive(Debug)]
pub struct PageOf<T> {
    pub items: Vec<T>,
    pub next_after: Option<String>,
}

impl<T> PageOf<T> {
    /// The page of `rows`, read with a limit of `limit + 1` so that one row more tells whether
    /// more follow; `key` names an item for the next page's `after`.
    pub fn from_rows(mut rows: Vec<T>, limit: i64, key: impl Fn(&T) -> String) -> PageOf<T> {
        let limit = usize::try_from(limit).unwrap_or(0);
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next_after = if more { rows.last().map(key) } else { None };
        PageOf { items: rows, next_after }
    }

    /// The same page with each item turned into another.
    pub fn try_map<U>(self, f: impl Fn(T) -> AppResult<U>) -> AppResult<PageOf<U>> {
        let items = self.items.into_iter().map(f).collect::<AppResult<_>>()?;
        Ok(PageOf { items, next_after: self.next_after })
    }
}

/// The refusal of an `after` that names no item of the list asked for.
pub fn not_in_list() -> AppError {
    AppError::field("query.after", "not an item of this list")
}

/// Most keys one lookup by a list of keys binds: SQLite binds at most 32,766 parameters a
/// statement, and a small list keeps each lookup's plan a probe of the index per key.
pub const LOOKUP_KEYS_MAX: usize = 500;

/// A condition that is always true and keeps the query out of the prepared-statement cache, so
/// it is planned at each execution. For lookups in tables that grow fast: a plan cached while
/// the table was small scans all of it (18 ms a usage batch at 18,000 records instead of 1; 6 ms
/// a commitment batch's key lookup at 20,000 keys).
pub fn planned_each_time() -> diesel::expression::SqlLiteral<diesel::sql_types::Bool> {
    diesel::dsl::sql::<diesel::sql_types::Bool>("TRUE")
}

/// A fresh UUIDv7 as text: time-ordered, so new rows land at the end of indexes.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Now, in UTC, cut to microseconds (the finest both backends store).
pub fn now_micros() -> chrono::NaiveDateTime {
    let now = chrono::Utc::now().naive_utc();
    let micros = now.and_utc().timestamp_micros();
    chrono::DateTime::from_timestamp_micros(micros).map_or(now, |t| t.naive_utc())
}
