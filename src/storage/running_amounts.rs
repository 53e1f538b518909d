//! The running amounts that writes keep beside the records they sum, counted again from those
//! records, and the journal's balances on the accounts that calls and commitments keep, against
//! the same records (`investai verify`, docs/ledger.md, "Running amounts"):
//! - a commitment's amount against its events, and what was called from it against its notices;
//! - a notice's paid amount against its contributions;
//! - a tranche's committed amount against its commitments;
//! - every `account_days` row, which the floors read, against the postings of its day;
//! - per fund and investor, the journal's balance of `9000` against the events less the calls,
//!   and of `1100` against the calls less the contributions.
//!
//! Each check is one grouped query that answers only the disagreeing keys, at most
//! [`DISAGREEMENTS_PER_CHECK_MAX`] of them. It reads every row of its tables: for checks, not for
//! answering requests (`GET /api/v1/ledger/verify` runs them, as a check of the whole books).

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use serde::Serialize;
use utoipa::ToSchema;

use super::capital_totals::{self, Amounts, TotalKey};
use super::usage_sums::{self, SumKey, UsageSum};
use super::DbConnection;
use crate::error::AppResult;

/// Disagreeing keys named per check; one more is enough to say that more follow.
pub const DISAGREEMENTS_PER_CHECK_MAX: usize = 100;

/// One kept amount and what its records sum to.
#[derive(Clone, Debug, PartialEq, Eq, QueryableByName)]
pub struct Disagreement {
    /// The key in words (`commitment C`, `account A, party P, 2025-03-01`).
    #[diesel(sql_type = Text)]
    pub item: String,
    #[diesel(sql_type = BigInt)]
    pub kept: i64,
    #[diesel(sql_type = BigInt)]
    pub counted: i64,
}

/// A check: what is kept, what it is counted from, and the query that answers the keys where
/// the two differ.
pub struct Check {
    pub kept: &'static str,
    pub counted_from: &'static str,
    sql: &'static str,
}

/// What a commitment event adds to the amount committed (docs/capital-activity.md).
macro_rules! signed_event_amount {
    ($event:literal) => {
        concat!(
            "CASE WHEN ",
            $event,
            ".kind IN ('initial', 'increase') THEN ",
            $event,
            ".amount_cents ELSE -",
            $event,
            ".amount_cents END"
        )
    };
}

/// Groups `rows` (columns `item`, `kept`, `counted`) by item and keeps those whose sums differ.
macro_rules! differing {
    ($rows:expr) => {
        concat!(
            "SELECT item, CAST(SUM(kept) AS BIGINT) AS kept, CAST(SUM(counted) AS BIGINT) AS counted FROM (",
            $rows,
            ") AS amounts GROUP BY item HAVING SUM(kept) <> SUM(counted) ORDER BY item"
        )
    };
}

pub const CHECKS: [Check; 7] = [
    Check {
        kept: "commitment amount",
        counted_from: "its events",
        sql: differing!(concat!(
            "SELECT 'commitment ' || id AS item, committed_cents AS kept, 0 AS counted FROM commitments ",
            "UNION ALL SELECT 'commitment ' || e.commitment_id, 0, ",
            signed_event_amount!("e"),
            " FROM commitment_events e"
        )),
    },
    Check {
        kept: "commitment called",
        counted_from: "its notices",
        sql: differing!(concat!(
            "SELECT 'commitment ' || id AS item, called_cents AS kept, 0 AS counted FROM commitments ",
            "UNION ALL SELECT 'commitment ' || commitment_id, 0, amount_cents FROM notices"
        )),
    },
    Check {
        kept: "notice paid",
        counted_from: "its contributions",
        sql: differing!(concat!(
            "SELECT 'notice ' || id AS item, paid_cents AS kept, 0 AS counted FROM notices ",
            "UNION ALL SELECT 'notice ' || notice_id, 0, amount_cents FROM contributions"
        )),
    },
    Check {
        kept: "tranche committed",
        counted_from: "its commitments",
        sql: differing!(concat!(
            "SELECT 'tranche ' || id AS item, committed_cents AS kept, 0 AS counted FROM tranches ",
            "UNION ALL SELECT 'tranche ' || tranche_id, 0, committed_cents FROM commitments"
        )),
    },
    Check {
        kept: "account day",
        counted_from: "the postings of the day",
        sql: differing!(concat!(
            "SELECT 'account ' || account_id || ', party ''' || party_key || ''', ' || CAST(day AS TEXT) AS item, ",
            "net_cents AS kept, 0 AS counted FROM account_days ",
            "UNION ALL SELECT 'account ' || p.account_id || ', party '''', ' || CAST(e.effective_date AS TEXT), ",
            "0, p.amount_cents FROM postings p JOIN journal_entries e ON e.id = p.entry_id ",
            "UNION ALL SELECT 'account ' || p.account_id || ', party ''' || p.party_id || ''', ' || ",
            "CAST(e.effective_date AS TEXT), 0, p.amount_cents FROM postings p ",
            "JOIN journal_entries e ON e.id = p.entry_id WHERE p.party_id IS NOT NULL AND p.party_id <> ''"
        )),
    },
    Check {
        kept: "journal balance of 9000",
        counted_from: "the commitment events less the calls",
        sql: differing!(concat!(
            "SELECT 'fund ' || a.fund_id || ', investor ' || COALESCE(p.party_id, '') AS item, ",
            "p.amount_cents AS kept, 0 AS counted FROM postings p JOIN ledger_accounts a ON a.id = p.account_id ",
            "WHERE a.code = '9000' OR a.code LIKE '9000.%' ",
            "UNION ALL SELECT 'fund ' || c.fund_id || ', investor ' || c.source_id, 0, ",
            signed_event_amount!("e"),
            " FROM commitment_events e JOIN commitments c ON c.id = e.commitment_id ",
            "UNION ALL SELECT 'fund ' || c.fund_id || ', investor ' || c.source_id, 0, -n.amount_cents ",
            "FROM notices n JOIN commitments c ON c.id = n.commitment_id"
        )),
    },
    Check {
        kept: "journal balance of 1100",
        counted_from: "the calls less the contributions",
        sql: differing!(concat!(
            "SELECT 'fund ' || a.fund_id || ', investor ' || COALESCE(p.party_id, '') AS item, ",
            "p.amount_cents AS kept, 0 AS counted FROM postings p JOIN ledger_accounts a ON a.id = p.account_id ",
            "WHERE a.code = '1100' OR a.code LIKE '1100.%' ",
            "UNION ALL SELECT 'fund ' || c.fund_id || ', investor ' || c.source_id, 0, n.amount_cents ",
            "FROM notices n JOIN commitments c ON c.id = n.commitment_id ",
            "UNION ALL SELECT 'fund ' || c.fund_id || ', investor ' || c.source_id, 0, -t.amount_cents ",
            "FROM contributions t JOIN notices n ON n.id = t.notice_id JOIN commitments c ON c.id = n.commitment_id"
        )),
    },
];

/// The keys where `check` finds the kept amount and its records differ, at most
/// [`DISAGREEMENTS_PER_CHECK_MAX`] + 1 (the last only says that more follow).
pub fn disagreements(conn: &mut DbConnection, check: &Check) -> AppResult<Vec<Disagreement>> {
    let sql = format!("{} LIMIT {}", check.sql, DISAGREEMENTS_PER_CHECK_MAX + 1);
    Ok(match conn {
        DbConnection::Postgresql(pg) => diesel::sql_query(&sql).load::<Disagreement>(pg)?,
        DbConnection::Sqlite(sqlite) => diesel::sql_query(&sql).load::<Disagreement>(sqlite)?,
    })
}

/// Every kept amount counted again from its records: the capital totals, the usage sums and
/// each of [`CHECKS`]. Run inside one read transaction, so that all see one state of the books.
pub struct Recount {
    pub capital: Vec<(TotalKey, Amounts, Amounts)>,
    pub usage: Vec<(SumKey, UsageSum, UsageSum)>,
    pub running: Vec<(&'static Check, Vec<Disagreement>)>,
}

/// Counts every kept amount again (see [`Recount`]).
pub fn recount(conn: &mut DbConnection) -> AppResult<Recount> {
    let running = CHECKS.iter().map(|check| Ok((check, disagreements(conn, check)?))).collect::<AppResult<_>>()?;
    Ok(Recount { capital: capital_totals::disagreements(conn)?, usage: usage_sums::disagreements(conn)?, running })
}

/// A kept amount that differs from its records, in words, as the API reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct KeptDifference {
    /// What is kept, and in what unit.
    pub kept_amount: String,
    /// Which one (`commitment C`, `fund F, tranche T, ...`).
    pub item: String,
    pub kept: String,
    /// What its records sum to.
    pub counted: String,
}

impl Recount {
    pub fn agrees(&self) -> bool {
        self.capital.is_empty() && self.usage.is_empty() && self.running.iter().all(|(_, found)| found.is_empty())
    }

    /// Each difference, at most [`DISAGREEMENTS_PER_CHECK_MAX`] of each kind.
    pub fn differences(&self) -> Vec<KeptDifference> {
        let amounts = |a: &Amounts| format!("{}/{}/{}", a.committed, a.called, a.paid);
        let capital = self.capital.iter().take(DISAGREEMENTS_PER_CHECK_MAX).map(
            |((fund, tranche, kind, programme), kept, counted)| KeptDifference {
                kept_amount: "capital total, committed/called/paid cents".into(),
                item: format!("fund {fund}, tranche {tranche}, {kind}/{programme}"),
                kept: amounts(kept),
                counted: amounts(counted),
            },
        );
        let sums = |u: &UsageSum| format!("{}/{}/{}", u.records, u.milli_hours, u.subsidy_cents);
        let usage =
            self.usage.iter().take(DISAGREEMENTS_PER_CHECK_MAX).map(|((table, key), kept, counted)| KeptDifference {
                kept_amount: format!("usage sum in {table}, records/milli-GPU-hours/aid cents"),
                item: key.clone(),
                kept: sums(kept),
                counted: sums(counted),
            });
        let running = self.running.iter().flat_map(|(check, found)| {
            found.iter().take(DISAGREEMENTS_PER_CHECK_MAX).map(|d| KeptDifference {
                kept_amount: format!("{}, cents ({})", check.kept, check.counted_from),
                item: d.item.clone(),
                kept: d.kept.to_string(),
                counted: d.counted.to_string(),
            })
        });
        capital.chain(usage).chain(running).collect()
    }
}
