//! Loading a fixture file (the InvestAI demo data, or any file of the same form).
//!
//! Records refer to each other by `key`s local to the file; the loader creates each
//! record through the same storage functions the API uses, so every rule and every
//! journal entry applies exactly as if staff had typed it in.

use std::collections::HashMap;

use chrono::NaiveDate;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Deserialize;

use crate::auth::password;
use crate::domain::money::Cents;
use crate::domain::roles::Role;
use crate::error::{AppError, AppResult};
use crate::storage::funds::{create_fund, NewFund};
use crate::storage::users::create_user;
use crate::storage::{write_tx, DbConnection};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixture {
    /// Free text: where the numbers come from and which are illustrative.
    #[serde(default)]
    pub notes: Vec<String>,
    #[serde(default)]
    pub funds: Vec<FundRecord>,
    #[serde(default)]
    pub users: Vec<UserRecord>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FundRecord {
    pub key: String,
    pub name: String,
    pub parent: Option<String>,
    pub target_size: Cents,
    pub inception_date: NaiveDate,
    pub term_years: i32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserRecord {
    pub username: String,
    pub role: Role,
    /// Key of the party (investor, SME, facility) a party-bound user acts for.
    pub party: Option<String>,
    /// Demo password; real deployments add users with `investai user add`.
    pub password: String,
}

/// What a load created, for the demo banner.
#[derive(Debug, Default)]
pub struct SeedReport {
    pub records: usize,
    pub users: Vec<(String, Role)>,
}

pub fn read_fixture(path: &std::path::Path) -> AppResult<Fixture> {
    let text = std::fs::read(path)
        .map_err(|e| AppError::internal(format!("cannot read {}: {e}", path.display())))?;
    crate::http::extract::parse_json(&text)
        .map_err(|e| AppError::internal(format!("{}: {e}", path.display())))
}

fn progress(total: usize, show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total as u64);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}") {
        bar.set_style(style);
    }
    bar
}

/// Loads every record, each in its own transaction; stops at the first refused record.
pub fn load(
    conn: &mut DbConnection,
    fixture: &Fixture,
    show_progress: bool,
) -> AppResult<SeedReport> {
    let total = fixture.funds.len() + fixture.users.len();
    let bar = progress(total, show_progress);
    let mut keys: HashMap<String, String> = HashMap::new();
    let mut report = SeedReport::default();
    for record in &fixture.funds {
        let parent_id = match &record.parent {
            Some(parent) => Some(resolve(&keys, parent, &record.key)?),
            None => None,
        };
        let new = NewFund {
            name: record.name.clone(),
            parent_id,
            target_size: record.target_size,
            inception_date: record.inception_date,
            term_years: record.term_years,
        };
        let fund = write_tx(conn, |c| create_fund(c, new.clone()))?;
        keys.insert(record.key.clone(), fund.id);
        bar.inc(1);
    }
    for record in &fixture.users {
        let party = match &record.party {
            Some(party) => Some(resolve(&keys, party, &record.username)?),
            None => None,
        };
        let hash = password::hash(&record.password).map_err(AppError::internal)?;
        write_tx(conn, |c| {
            create_user(
                c,
                &record.username,
                record.role,
                party.as_deref(),
                hash.clone(),
            )
        })?;
        report.users.push((record.username.clone(), record.role));
        bar.inc(1);
    }
    bar.finish_and_clear();
    report.records = total;
    Ok(report)
}

fn resolve(keys: &HashMap<String, String>, key: &str, referrer: &str) -> AppResult<String> {
    keys.get(key).cloned().ok_or_else(|| {
        AppError::internal(format!("fixture: {referrer} refers to unknown key {key:?}"))
    })
}
