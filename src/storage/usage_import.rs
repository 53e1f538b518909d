//! Usage files (CSV, Slurm accounting) counted in one write transaction with the record of
//! the import, and the per-facility table mapping Slurm accounts to awards.

use std::collections::HashMap;

use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::schema::{grant_awards, slurm_accounts, usage_imports};
use super::usage::{from_micros, ingest_with_outcomes, metered_facility, to_micros, AwardUsage};
use super::{new_id, now_micros, upsert, DbConnection};
use crate::domain::hours::GpuHours;
use crate::domain::time::utc;
use crate::domain::usage::UsageRecord;
use crate::domain::usage_feeds::{
    counted_lines, slurm, unrecorded_line, FileFormat, ImportLine, LineCounts, LineItem, LineResult, ParsedLine,
};
use crate::error::{AppError, AppResult, Message};

/// Imports listed per page of a facility's history.
pub const IMPORT_HISTORY_ROWS_MAX: i64 = 50;
/// Longest file name kept with an import, in characters.
pub const IMPORT_FILE_NAME_CHARS_MAX: usize = 200;

/// How a file reached the service.
#[derive(Clone, Copy, Debug)]
pub enum Channel {
    Page,
    Api,
    Command,
}

impl Channel {
    fn code(self) -> &'static str {
        match self {
            Channel::Page => "page",
            Channel::Api => "api",
            Channel::Command => "command",
        }
    }
}

/// The answer to a usage file: what became of every line below its header.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ImportReport {
    pub import_id: String,
    pub file_format: FileFormat,
    #[serde(flatten)]
    pub counts: LineCounts,
    /// GPU-hours counted now.
    #[schema(value_type = String)]
    pub gpu_hours: GpuHours,
    pub awards: Vec<AwardUsage>,
    /// One per line below the header that is not blank, in file order.
    pub lines: Vec<ImportLine>,
}

/// A file's name is kept as sent, so it is refused rather than cut or cleaned: the history must
/// show the name the operator sees. No name at all is allowed.
fn check_file_name(file_name: &str) -> AppResult<()> {
    if file_name.is_empty() {
        return Ok(());
    }
    if file_name.chars().count() > IMPORT_FILE_NAME_CHARS_MAX {
        return Err(AppError::field("file_name", format!("must be at most {IMPORT_FILE_NAME_CHARS_MAX} characters")));
    }
    match crate::domain::text::refusal(file_name, false) {
        Some(reason) => Err(AppError::field("file_name", reason)),
        None => Ok(()),
    }
}

/// Counts a read usage file for a facility. Run inside `write_tx`.
pub fn import(
    conn: &mut DbConnection,
    facility_id: &str,
    (file_format, file_name, channel): (FileFormat, &str, Channel),
    parsed: &[ParsedLine],
    actor: &str,
) -> AppResult<ImportReport> {
    check_file_name(file_name)?;
    metered_facility(conn, facility_id)?;
    let accounts = account_awards(conn, facility_id)?;
    let mut report_lines = Vec::with_capacity(parsed.len());
    let mut records: Vec<UsageRecord> = Vec::new();
    let mut record_lines = Vec::new();
    for line in parsed {
        let LineItem::Record { record, slurm_account } = &line.item else {
            report_lines.extend(unrecorded_line(line));
            continue;
        };
        let mut record = record.clone();
        if let Some(account) = slurm_account {
            match accounts.get(account) {
                Some(award_id) => record.award_id = award_id.clone(),
                None => {
                    let reason = Message::new("msg-import-unmapped").text("account", account.clone());
                    report_lines.push(ImportLine::refused(line.line, &record, "unmapped-account", reason));
                    continue;
                }
            }
        }
        records.push(record);
        record_lines.push(line.line);
    }
    let (awards, outcomes) = if records.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        let (report, outcomes) = ingest_with_outcomes(conn, facility_id, &records, actor)?;
        (report.awards, outcomes)
    };
    report_lines.extend(counted_lines(&record_lines, &records, &outcomes));
    report_lines.sort_by_key(|l| l.line);
    let counts = LineCounts::of(&report_lines);
    let gpu_hours = report_lines
        .iter()
        .filter(|l| l.result == LineResult::Counted)
        .filter_map(|l| l.gpu_hours)
        .fold(GpuHours::ZERO, GpuHours::saturating_add);
    let import_id = new_id();
    let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    diesel::insert_into(usage_imports::table)
        .values((
            usage_imports::id.eq(&import_id),
            usage_imports::facility_id.eq(facility_id),
            usage_imports::file_format.eq(file_format.code()),
            usage_imports::file_name.eq(file_name),
            usage_imports::channel.eq(channel.code()),
            usage_imports::lines.eq(count(counts.lines)),
            usage_imports::counted.eq(count(counts.counted)),
            usage_imports::replayed.eq(count(counts.replayed)),
            usage_imports::duplicates.eq(count(counts.duplicates)),
            usage_imports::refused.eq(count(counts.refused)),
            usage_imports::skipped.eq(count(counts.skipped)),
            usage_imports::malformed.eq(count(counts.malformed)),
            usage_imports::milli_hours.eq(gpu_hours.milli()),
            usage_imports::imported_by.eq(actor),
            usage_imports::imported_at_us.eq(to_micros(now_micros())),
        ))
        .execute(conn)?;
    Ok(ImportReport { import_id, file_format, counts, gpu_hours, awards, lines: report_lines })
}

fn account_awards(conn: &mut DbConnection, facility_id: &str) -> AppResult<HashMap<String, String>> {
    let rows: Vec<(String, String)> = slurm_accounts::table
        .filter(slurm_accounts::facility_id.eq(facility_id))
        .select((slurm_accounts::account, slurm_accounts::award_id))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// A Slurm account of a facility and the award its jobs bill.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SlurmAccount {
    pub account: String,
    pub award_id: String,
    pub set_by: String,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "utc")]
    pub set_at: chrono::NaiveDateTime,
}

/// The facility's Slurm accounts, by name.
pub fn list_slurm_accounts(conn: &mut DbConnection, facility_id: &str) -> AppResult<Vec<SlurmAccount>> {
    let rows: Vec<(String, String, String, i64)> = slurm_accounts::table
        .filter(slurm_accounts::facility_id.eq(facility_id))
        .order(slurm_accounts::account.asc())
        .select((slurm_accounts::account, slurm_accounts::award_id, slurm_accounts::set_by, slurm_accounts::set_at_us))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(account, award_id, set_by, at)| SlurmAccount { account, award_id, set_by, set_at: from_micros(at) })
        .collect())
}

/// Maps a Slurm account of the facility to one of its awards (a new mapping or a change).
/// Run inside `write_tx`.
pub fn set_slurm_account(
    conn: &mut DbConnection,
    facility_id: &str,
    account: &str,
    award_id: &str,
    actor: &str,
) -> AppResult<SlurmAccount> {
    metered_facility(conn, facility_id)?;
    let account = slurm::account_name(account).map_err(|m| AppError::invalid("account", m))?;
    let award_facility: Option<String> =
        grant_awards::table.find(award_id).select(grant_awards::facility_id).first(conn).optional()?;
    if award_facility.as_deref() != Some(facility_id) {
        return Err(AppError::invalid("award_id", Message::new("msg-slurm-account-award")));
    }
    // One statement either way, so two operators mapping a new account at once cannot race.
    let at = now_micros();
    let row = (
        slurm_accounts::facility_id.eq(facility_id),
        slurm_accounts::account.eq(&account),
        slurm_accounts::award_id.eq(award_id),
        slurm_accounts::set_by.eq(actor),
        slurm_accounts::set_at_us.eq(to_micros(at)),
    );
    let change = (
        slurm_accounts::award_id.eq(award_id),
        slurm_accounts::set_by.eq(actor),
        slurm_accounts::set_at_us.eq(to_micros(at)),
    );
    let key = (slurm_accounts::facility_id, slurm_accounts::account);
    upsert!(conn, slurm_accounts::table, row, on key, set change);
    Ok(SlurmAccount { account, award_id: award_id.to_string(), set_by: actor.to_string(), set_at: at })
}

/// One usage file in a facility's history.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ImportSummary {
    pub import_id: String,
    pub file_format: String,
    pub file_name: String,
    pub channel: String,
    #[serde(flatten)]
    pub counts: LineCounts,
    #[schema(value_type = String)]
    pub gpu_hours: GpuHours,
    pub imported_by: String,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "utc")]
    pub imported_at: chrono::NaiveDateTime,
}

type ImportRow = (String, String, String, String, i64, i64, i64, i64, i64, i64, i64, i64, String, i64);

/// The facility's latest imports, newest first.
pub fn import_history(conn: &mut DbConnection, facility_id: &str) -> AppResult<Vec<ImportSummary>> {
    use usage_imports as u;
    let rows: Vec<ImportRow> = u::table
        .filter(u::facility_id.eq(facility_id))
        .order((u::imported_at_us.desc(), u::id.desc()))
        .limit(IMPORT_HISTORY_ROWS_MAX)
        .select((
            u::id,
            u::file_format,
            u::file_name,
            u::channel,
            u::lines,
            u::counted,
            u::replayed,
            u::duplicates,
            u::refused,
            u::skipped,
            u::malformed,
            u::milli_hours,
            u::imported_by,
            u::imported_at_us,
        ))
        .load(conn)?;
    let size = |n: i64| usize::try_from(n).unwrap_or_default();
    Ok(rows
        .into_iter()
        .map(|r| ImportSummary {
            import_id: r.0,
            file_format: r.1,
            file_name: r.2,
            channel: r.3,
            counts: LineCounts {
                lines: size(r.4),
                counted: size(r.5),
                replayed: size(r.6),
                duplicates: size(r.7),
                refused: size(r.8),
                skipped: size(r.9),
                malformed: size(r.10),
            },
            gpu_hours: GpuHours::from_milli(r.11),
            imported_by: r.12,
            imported_at: from_micros(r.13),
        })
        .collect())
}
