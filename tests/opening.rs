//! Opening the database, on SQLite only: a new SQLite file is switched to write-ahead logging by
//! the first connection that opens it, and PostgreSQL has no such first switch. A pool opens its
//! connections side by side, and none of them may meet a locked database on the way (the pool
//! would retry, but it logs an ERROR an operator has to look into).

use std::sync::{Arc, Mutex};

use diesel::prelude::*;
use investai::storage::{build_pool_reporting, run_migrations, DbTarget};

/// Keeps every connection error a pool reports.
#[derive(Debug, Clone, Default)]
struct Reported(Arc<Mutex<Vec<String>>>);

impl diesel::r2d2::HandleError<diesel::r2d2::Error> for Reported {
    fn handle_error(&self, error: diesel::r2d2::Error) {
        if let Ok(mut errors) = self.0.lock() {
            errors.push(error.to_string());
        }
    }
}

#[derive(QueryableByName)]
struct JournalMode {
    #[diesel(sql_type = diesel::sql_types::Text)]
    journal_mode: String,
}

/// Fresh files opened by pools of 10 connections and migrated, as the service opens them.
const FRESH_FILES: usize = 40;

#[test]
fn a_new_sqlite_file_opens_without_a_locked_database() {
    let dir = tempfile::tempdir().expect("temp dir");
    let reported = Reported::default();
    for n in 0..FRESH_FILES {
        let target = DbTarget::parse(&format!("sqlite://{}/fresh-{n}.db", dir.path().display())).expect("target");
        let pool = build_pool_reporting(&target, 10, Box::new(reported.clone())).expect("pool");
        assert_eq!(pool.state().connections, 10);
        let mut conn = pool.get().expect("a connection");
        run_migrations(&mut conn).expect("migrations");
        let mode = diesel::sql_query("PRAGMA journal_mode").load::<JournalMode>(&mut *conn).expect("journal mode");
        assert_eq!(mode.iter().map(|m| m.journal_mode.as_str()).collect::<Vec<_>>(), ["wal"]);
    }
    let errors = reported.0.lock().map(|e| e.clone()).unwrap_or_default();
    assert!(errors.is_empty(), "{} connection errors opening {FRESH_FILES} new files: {errors:?}", errors.len());
}
