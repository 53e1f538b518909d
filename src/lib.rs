//! investai: the books of the EU InvestAI fund.
//!
//! - `domain`: pure rules (money, ledger, chart of accounts, roles); no IO.
//! - `storage`: diesel on SQLite or PostgreSQL, transactions, the hash-chained journal.
//! - `auth`: tokens, passwords, CSRF.
//! - `http`: thin JSON and HTML handlers; `startup` builds a node; `cli` the commands.

pub mod auth;
pub mod cli;
pub mod config;
pub mod documents;
pub mod domain;
pub mod error;
pub mod http;
pub mod i18n;
pub mod jobs;
pub mod seed;
pub mod startup;
pub mod storage;
pub mod telemetry;
