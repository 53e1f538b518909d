//! Usage from the files and feeds facilities already have: this service's CSV file, Slurm's
//! accounting output (`sacct --parsable2`) and CloudEvents batches.
//!
//! A file is read line by line. A line that cannot be read is reported with its number, its
//! column and the reason; a line that carries no usage (a Slurm job step, a job without GPUs)
//! is reported as skipped; every other line becomes a record and is counted as any batch is
//! (`domain/usage.rs`): once per record id, refused with its reason when it may not count.
//! Nothing is guessed: a file whose header is wrong is refused as a whole.

pub mod cloudevents;
pub mod csv;
pub mod slurm;

use serde::Serialize;
use utoipa::ToSchema;

use super::hours::GpuHours;
use super::usage::{first_with_same_id, RecordOutcome, UsageRecord, USAGE_BATCH_RECORDS_MAX};
use crate::i18n::message::{Message, Wording};

/// Lines one file may hold below its header (Slurm job steps included; at most
/// `USAGE_BATCH_RECORDS_MAX` of them may be records).
pub const IMPORT_LINES_MAX: usize = 50_000;

/// The formats a usage file may be in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileFormat {
    /// This service's CSV: `record_id,award_id,gpu_hours,period_start,period_end`.
    Csv,
    /// `sacct --parsable2` with the columns JobID, Account, AllocTRES, Start and End.
    Slurm,
}

impl FileFormat {
    /// Slurm's parsable output is `|`-separated and headed `JobID|…`; anything else is CSV.
    pub fn detect(file: &[u8]) -> FileFormat {
        let text = String::from_utf8_lossy(&file[..file.len().min(4096)]);
        let header = text.lines().find(|l| !l.trim().is_empty()).unwrap_or_default();
        if header.contains('|') && header.split('|').any(|c| c.trim().eq_ignore_ascii_case("JobID")) {
            FileFormat::Slurm
        } else {
            FileFormat::Csv
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            FileFormat::Csv => "csv",
            FileFormat::Slurm => "slurm",
        }
    }
}

/// One line of a file, read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedLine {
    /// Counted as an editor counts, the header being line 1.
    pub line: usize,
    pub item: LineItem,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LineItem {
    /// A record to count. A Slurm line names its account, by which its award is found; its
    /// record's `award_id` is empty until then.
    Record { record: UsageRecord, slurm_account: Option<String> },
    /// A line that carries no usage of its own.
    Skipped { code: &'static str, reason: Message },
    /// A line that could not be read.
    Malformed { column: String, reason: Message },
}

impl ParsedLine {
    fn malformed(line: usize, column: &str, reason: Message) -> ParsedLine {
        ParsedLine { line, item: LineItem::Malformed { column: column.to_string(), reason } }
    }

    fn skipped(line: usize, code: &'static str, reason: Message) -> ParsedLine {
        ParsedLine { line, item: LineItem::Skipped { code, reason } }
    }
}

/// Checks the number of lines and records of a read file.
fn bounded(lines: Vec<ParsedLine>) -> Result<Vec<ParsedLine>, Message> {
    if lines.is_empty() {
        return Err(Message::new("msg-import-empty"));
    }
    if lines.len() > IMPORT_LINES_MAX {
        return Err(Message::new("msg-import-lines").count("max", IMPORT_LINES_MAX));
    }
    let records = lines.iter().filter(|l| matches!(l.item, LineItem::Record { .. })).count();
    if records > USAGE_BATCH_RECORDS_MAX {
        return Err(Message::new("msg-upload-rows").count("max", USAGE_BATCH_RECORDS_MAX));
    }
    Ok(lines)
}

/// What became of one line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LineResult {
    /// Counted now.
    Counted,
    /// Counted by an earlier file or batch; counted once.
    Replayed,
    /// The same record as an earlier line of this file; counted once, there.
    Duplicate,
    /// Not counted: the record may not count (its code and reason say why).
    Refused,
    /// Carries no usage of its own.
    Skipped,
    /// Could not be read.
    Malformed,
}

/// One line of an import report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct ImportLine {
    pub line: usize,
    pub result: LineResult,
    /// Present for lines that became a record.
    pub record_id: Option<String>,
    pub award_id: Option<String>,
    #[schema(value_type = Option<String>)]
    pub gpu_hours: Option<GpuHours>,
    /// Why a line was refused, skipped or malformed, as a stable code.
    pub code: Option<String>,
    /// The column at fault, for a malformed line.
    pub column: Option<String>,
    #[schema(value_type = Option<String>)]
    pub reason: Option<Wording>,
    /// For a duplicate: the line that counts.
    pub duplicate_of_line: Option<usize>,
}

impl ImportLine {
    fn bare(line: usize, result: LineResult) -> ImportLine {
        ImportLine {
            line,
            result,
            record_id: None,
            award_id: None,
            gpu_hours: None,
            code: None,
            column: None,
            reason: None,
            duplicate_of_line: None,
        }
    }

    fn of_record(line: usize, result: LineResult, record: &UsageRecord) -> ImportLine {
        ImportLine {
            record_id: Some(record.record_id.clone()),
            award_id: Some(record.award_id.clone()).filter(|id| !id.is_empty()),
            gpu_hours: Some(record.gpu_hours),
            ..ImportLine::bare(line, result)
        }
    }

    pub fn refused(line: usize, record: &UsageRecord, code: &str, reason: Message) -> ImportLine {
        ImportLine {
            code: Some(code.to_string()),
            reason: Some(reason.into()),
            ..ImportLine::of_record(line, LineResult::Refused, record)
        }
    }
}

/// The report of lines that carry no record: skipped and malformed ones.
pub fn unrecorded_line(parsed: &ParsedLine) -> Option<ImportLine> {
    match &parsed.item {
        LineItem::Record { .. } => None,
        LineItem::Skipped { code, reason } => Some(ImportLine {
            code: Some(code.to_string()),
            reason: Some(reason.clone().into()),
            ..ImportLine::bare(parsed.line, LineResult::Skipped)
        }),
        LineItem::Malformed { column, reason } => Some(ImportLine {
            code: Some("malformed".into()),
            column: Some(column.clone()),
            reason: Some(reason.clone().into()),
            ..ImportLine::bare(parsed.line, LineResult::Malformed)
        }),
    }
}

/// The report of the lines that were counted as one batch: `records[i]` came from line
/// `lines[i]` and became `outcomes[i]`. A replay of a record id an earlier line of the batch
/// carries is a duplicate of that first line.
pub fn counted_lines(lines: &[usize], records: &[UsageRecord], outcomes: &[RecordOutcome]) -> Vec<ImportLine> {
    assert!(lines.len() == records.len() && records.len() == outcomes.len(), "one outcome per record");
    let first = first_with_same_id(records);
    let mut report = Vec::with_capacity(records.len());
    for (index, ((line, record), outcome)) in lines.iter().zip(records).zip(outcomes).enumerate() {
        let first_line = lines[first[index]];
        report.push(match outcome {
            RecordOutcome::Accepted { .. } => ImportLine::of_record(*line, LineResult::Counted, record),
            RecordOutcome::Replayed { .. } if first_line != *line => ImportLine {
                duplicate_of_line: Some(first_line),
                ..ImportLine::of_record(*line, LineResult::Duplicate, record)
            },
            RecordOutcome::Replayed { .. } => ImportLine::of_record(*line, LineResult::Replayed, record),
            RecordOutcome::Refused { code, reason } => ImportLine {
                code: Some(code.clone()),
                reason: Some(reason.clone()),
                ..ImportLine::of_record(*line, LineResult::Refused, record)
            },
        });
    }
    report
}

/// Lines counted per result.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct LineCounts {
    pub lines: usize,
    pub counted: usize,
    pub replayed: usize,
    pub duplicates: usize,
    pub refused: usize,
    pub skipped: usize,
    pub malformed: usize,
}

impl LineCounts {
    pub fn of(lines: &[ImportLine]) -> LineCounts {
        let mut counts = LineCounts { lines: lines.len(), ..LineCounts::default() };
        for line in lines {
            let slot = match line.result {
                LineResult::Counted => &mut counts.counted,
                LineResult::Replayed => &mut counts.replayed,
                LineResult::Duplicate => &mut counts.duplicates,
                LineResult::Refused => &mut counts.refused,
                LineResult::Skipped => &mut counts.skipped,
                LineResult::Malformed => &mut counts.malformed,
            };
            *slot += 1;
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::Cents;
    use chrono::NaiveDate;

    fn record(id: &str) -> UsageRecord {
        let day = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        UsageRecord {
            record_id: id.into(),
            award_id: "a".into(),
            gpu_hours: GpuHours::from_milli(1_000),
            period_start: day.and_hms_opt(8, 0, 0).unwrap(),
            period_end: day.and_hms_opt(9, 0, 0).unwrap(),
        }
    }

    #[test]
    fn a_format_is_told_by_its_header() {
        assert_eq!(FileFormat::detect(b"JobID|Account|AllocTRES|Start|End\n1|a|gres/gpu=1|x|y\n"), FileFormat::Slurm);
        assert_eq!(FileFormat::detect(b"\n\njobid|account\n"), FileFormat::Slurm);
        assert_eq!(FileFormat::detect(b"record_id,award_id,gpu_hours,period_start,period_end\n"), FileFormat::Csv);
        assert_eq!(FileFormat::detect(b""), FileFormat::Csv);
    }

    #[test]
    fn a_replay_within_the_batch_is_a_duplicate_of_its_first_line() {
        let records = vec![record("r-1"), record("r-2"), record("r-1"), record("r-3")];
        let outcomes = vec![
            RecordOutcome::Accepted { subsidy: Cents::new(5) },
            RecordOutcome::Replayed { subsidy: Cents::new(5), entry_id: "e-0".into() },
            RecordOutcome::Replayed { subsidy: Cents::new(5), entry_id: String::new() },
            RecordOutcome::Refused { code: "zero-hours".into(), reason: Message::new("msg-usage-zero-hours").into() },
        ];
        let lines = counted_lines(&[2, 3, 5, 6], &records, &outcomes);
        let results: Vec<LineResult> = lines.iter().map(|l| l.result).collect();
        assert_eq!(results, [LineResult::Counted, LineResult::Replayed, LineResult::Duplicate, LineResult::Refused]);
        assert_eq!(lines[2].duplicate_of_line, Some(2));
        assert_eq!(lines[3].code.as_deref(), Some("zero-hours"));
        let counts = LineCounts::of(&lines);
        assert_eq!((counts.lines, counts.counted, counts.replayed, counts.duplicates, counts.refused), (4, 1, 1, 1, 1));
    }
}
