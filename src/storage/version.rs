//! Change detection for cached views. Two counters tell whether the books may have changed
//! since a view was computed: the write transactions this process committed, and the
//! database's books version, which every write transaction of every process bumps (in
//! `begin_write`, on the row whose lock is the single writer lock).

use std::sync::atomic::{AtomicU64, Ordering};

use diesel::prelude::*;

use super::schema::books_version;
use super::DbConnection;
use crate::error::AppResult;

/// Write transactions committed by this process, on any of its databases.
static WRITES_COMMITTED: AtomicU64 = AtomicU64::new(0);

pub fn writes_committed() -> u64 {
    WRITES_COMMITTED.load(Ordering::Acquire)
}

/// Called by `write_tx` right after each commit.
pub(super) fn note_commit() {
    WRITES_COMMITTED.fetch_add(1, Ordering::AcqRel);
}

/// The database's books version.
pub fn books_version(conn: &mut DbConnection) -> AppResult<i64> {
    Ok(books_version::table.find(1).select(books_version::version).first(conn)?)
}
