//! This service's usage file: a header naming the columns `record_id, award_id, gpu_hours,
//! period_start, period_end` (in any order, any case, other columns ignored), then one record
//! per line. Times are RFC 3339 (`2026-06-01T08:00:00Z`); GPU-hours have up to 3 decimals.

use chrono::{DateTime, NaiveDateTime};

use super::{bounded, LineItem, ParsedLine};
use crate::domain::hours::GpuHours;
use crate::domain::usage::UsageRecord;
use crate::i18n::message::Message;

/// The columns a usage CSV file must name.
pub const USAGE_COLUMNS: [&str; 5] = ["record_id", "award_id", "gpu_hours", "period_start", "period_end"];

/// Reads a usage CSV file. A wrong header refuses the file; a wrong line is reported.
pub fn parse(file: &[u8]) -> Result<Vec<ParsedLine>, Message> {
    let mut reader = ::csv::ReaderBuilder::new().trim(::csv::Trim::All).flexible(true).from_reader(file);
    let headers =
        reader.headers().map_err(|e| Message::new("msg-upload-not-csv").text("error", e.to_string()))?.clone();
    let positions = USAGE_COLUMNS
        .iter()
        .map(|column| headers.iter().position(|h| h.eq_ignore_ascii_case(column)))
        .collect::<Option<Vec<usize>>>()
        .ok_or_else(|| Message::new("msg-upload-columns").text("columns", USAGE_COLUMNS.join(",")))?;
    let mut lines = Vec::new();
    let mut row = ::csv::StringRecord::new();
    let mut counter = LineCounter { file, offset: 0, line: 1 };
    loop {
        let next = reader.position().byte();
        match reader.read_record(&mut row) {
            Ok(false) => break,
            Ok(true) if row.iter().all(str::is_empty) => continue,
            Ok(true) => {
                let line = counter.line_at(row.position().map_or(next, |p| p.byte()));
                lines.push(ParsedLine { line, item: read_row(&row, &positions, line) });
            }
            Err(error) => {
                let line = counter.line_at(error.position().map_or(next, |p| p.byte()));
                lines.push(ParsedLine::malformed(
                    line,
                    "line",
                    Message::new("msg-upload-not-csv").text("error", error.to_string()),
                ));
                if !matches!(error.kind(), ::csv::ErrorKind::Utf8 { .. }) {
                    break;
                }
            }
        }
        if lines.len() > super::IMPORT_LINES_MAX {
            break;
        }
    }
    bounded(lines)
}

/// Line numbers as an editor shows them. The reader's own count starts a record at the blank
/// lines it skipped before it, so lines are counted here from the first byte of the record.
struct LineCounter<'a> {
    file: &'a [u8],
    offset: usize,
    line: usize,
}

impl LineCounter<'_> {
    /// The line of the first character at or after `byte` that is not a line break.
    fn line_at(&mut self, byte: u64) -> usize {
        let mut start = usize::try_from(byte).unwrap_or(usize::MAX).min(self.file.len());
        while start < self.file.len() && matches!(self.file[start], b'\n' | b'\r') {
            start += 1;
        }
        if start > self.offset {
            self.line += self.file[self.offset..start].iter().filter(|&&b| b == b'\n').count();
            self.offset = start;
        }
        self.line
    }
}

fn read_row(row: &::csv::StringRecord, positions: &[usize], line: usize) -> LineItem {
    let cell = |column: usize| row.get(positions[column]).unwrap_or_default();
    let fields = (
        award_id(cell(1)),
        cell(2).parse::<GpuHours>().map_err(|e| Message::new("msg-import-hours").text("error", e.to_string())),
        rfc3339(cell(3)),
        rfc3339(cell(4)),
    );
    match fields {
        (Ok(award_id), Ok(gpu_hours), Ok(period_start), Ok(period_end)) => LineItem::Record {
            record: UsageRecord { record_id: cell(0).to_string(), award_id, gpu_hours, period_start, period_end },
            slurm_account: None,
        },
        (award, hours, start, end) => {
            let first = [
                award.err().map(|m| (1, m)),
                hours.err().map(|m| (2, m)),
                start.err().map(|m| (3, m)),
                end.err().map(|m| (4, m)),
            ]
            .into_iter()
            .flatten()
            .next();
            match first {
                Some((column, reason)) => ParsedLine::malformed(line, USAGE_COLUMNS[column], reason).item,
                None => ParsedLine::malformed(line, "line", Message::new("msg-import-required")).item,
            }
        }
    }
}

/// An award id in canonical form.
pub fn award_id(text: &str) -> Result<String, Message> {
    uuid::Uuid::parse_str(text).map(|id| id.to_string()).map_err(|_| Message::new("msg-import-uuid").text("text", text))
}

/// An RFC 3339 time as UTC, to the microsecond as the API keeps it.
pub fn rfc3339(text: &str) -> Result<NaiveDateTime, Message> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .and_then(crate::domain::time::to_the_microsecond)
        .map(|at| at.naive_utc())
        .ok_or_else(|| Message::new("msg-import-rfc3339").text("text", text))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "record_id,award_id,gpu_hours,period_start,period_end\n";
    const AWARD: &str = "0190a6c2-8d6e-7b6a-9c1e-0a1b2c3d4e5f";

    fn columns(lines: &[ParsedLine]) -> Vec<(usize, String)> {
        lines
            .iter()
            .filter_map(|l| match &l.item {
                LineItem::Malformed { column, .. } => Some((l.line, column.clone())),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn every_bad_line_is_named_and_the_good_ones_are_kept() {
        let file = format!(
            "{HEADER}r-1,{AWARD},1.5,2026-06-01T08:00:00Z,2026-06-01T09:30:00Z\n\
             r-2,not-an-id,1,2026-06-01T08:00:00Z,2026-06-01T09:00:00Z\n\
             r-3,{AWARD},1.2345,2026-06-01T08:00:00Z,2026-06-01T09:00:00Z\n\
             \n\
             r-4,{AWARD},2,yesterday,2026-06-01T09:00:00Z\n\
             r-5,{AWARD}\n\
             r-6,{AWARD},0.5,2026-06-01T08:00:00+02:00,2026-06-01T08:30:00+02:00\n"
        );
        let lines = parse(file.as_bytes()).unwrap();
        let expected = [(3, "award_id"), (4, "gpu_hours"), (6, "period_start"), (7, "gpu_hours")];
        assert_eq!(columns(&lines), expected.map(|(line, column)| (line, column.to_string())));
        let records: Vec<&UsageRecord> = lines
            .iter()
            .filter_map(|l| match &l.item {
                LineItem::Record { record, .. } => Some(record),
                _ => None,
            })
            .collect();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].gpu_hours, GpuHours::from_milli(1_500));
        // An offset is read as the instant it names.
        assert_eq!(records[1].period_start.to_string(), "2026-06-01 06:00:00");
        assert_eq!(lines.iter().map(|l| l.line).collect::<Vec<_>>(), [2, 3, 4, 6, 7, 8]);
    }

    #[test]
    fn a_file_without_the_columns_or_rows_is_refused_whole() {
        assert_eq!(parse(b"id,hours\n1,2\n").unwrap_err().key(), "msg-upload-columns");
        assert_eq!(parse(HEADER.as_bytes()).unwrap_err().key(), "msg-import-empty");
        let many = format!("{HEADER}{}", format!("r,{AWARD},1,x,y\n").repeat(super::super::IMPORT_LINES_MAX + 1));
        assert_eq!(parse(many.as_bytes()).unwrap_err().key(), "msg-import-lines");
    }
}
