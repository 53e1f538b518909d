//! Slurm's accounting output, as `sacct --parsable2` prints it: a header line naming the
//! fields, then one `|`-separated line per job and per job step, e.g.
//!
//! ```text
//! JobID|Account|AllocTRES|Start|End|State
//! 4711|sme-quantum|billing=64,cpu=64,gres/gpu=8,mem=512G,node=1|2026-06-01T08:00:00|2026-06-01T10:30:00|COMPLETED
//! 4711.batch|sme-quantum|cpu=64,gres/gpu=8,mem=512G,node=1|2026-06-01T08:00:00|2026-06-01T10:30:00|COMPLETED
//! ```
//!
//! A job's usage is its allocated GPUs times its run time (End − Start), in thousandths of a
//! GPU-hour rounded down, so a record never claims more than the job held. The job's line
//! counts; its steps (`4711.batch`, `4711.0`) run inside the same allocation and are skipped.
//! GPUs are read from `AllocTRES` (`gres/gpu=8`, or the sum of typed `gres/gpu:a100=8` when
//! no total is given) or from the older `AllocGRES` (`gpu:8`, `gpu:a100:8(IDX:0-7)`). Times
//! without an offset are UTC: run `sacct` with `TZ=UTC`. The record id is `slurm-<JobID>`,
//! so a job counts once however often its line is sent.

use chrono::{DateTime, NaiveDateTime};

use super::{bounded, LineItem, ParsedLine};
use crate::domain::hours::GpuHours;
use crate::domain::usage::UsageRecord;
use crate::i18n::message::Message;

/// Columns the header must name.
pub const SLURM_COLUMNS: [&str; 4] = ["JobID", "Account", "Start", "End"];
/// Columns one of which must give the allocated GPUs.
pub const SLURM_GPU_COLUMNS: [&str; 2] = ["AllocTRES", "AllocGRES"];
/// Longest Slurm account name accepted, in bytes (Slurm's own limit is lower).
pub const SLURM_ACCOUNT_LENGTH_MAX: usize = 64;
/// Prefix of the record ids of Slurm jobs.
pub const SLURM_RECORD_PREFIX: &str = "slurm-";

struct Header {
    width: usize,
    job_id: usize,
    account: usize,
    start: usize,
    end: usize,
    gpus: (usize, GpuColumn),
}

#[derive(Clone, Copy)]
enum GpuColumn {
    Tres,
    Gres,
}

fn header(line: &str) -> Result<Header, Message> {
    let names: Vec<&str> = line.split('|').map(str::trim).collect();
    let find = |name: &str| names.iter().position(|n| n.eq_ignore_ascii_case(name));
    let wrong = || {
        Message::new("msg-import-slurm-columns")
            .text("columns", format!("{}, {}", SLURM_COLUMNS.join(", "), SLURM_GPU_COLUMNS.join(" or ")))
    };
    let gpus =
        find("AllocTRES").map(|i| (i, GpuColumn::Tres)).or_else(|| find("AllocGRES").map(|i| (i, GpuColumn::Gres)));
    match (find("JobID"), find("Account"), find("Start"), find("End"), gpus) {
        (Some(job_id), Some(account), Some(start), Some(end), Some(gpus)) => {
            Ok(Header { width: names.len(), job_id, account, start, end, gpus })
        }
        _ => Err(wrong()),
    }
}

/// Reads `sacct --parsable2` output. A wrong header refuses the file; a wrong line is reported.
pub fn parse(file: &[u8]) -> Result<Vec<ParsedLine>, Message> {
    let text =
        std::str::from_utf8(file).map_err(|e| Message::new("msg-upload-not-csv").text("error", e.to_string()))?;
    let mut numbered =
        text.lines().enumerate().map(|(i, l)| (i + 1, l.trim_end_matches('\r'))).filter(|(_, l)| !l.trim().is_empty());
    let Some((_, first)) = numbered.next() else { return Err(Message::new("msg-import-empty")) };
    let header = header(first)?;
    let mut lines = Vec::new();
    for (line, text) in numbered {
        if lines.len() > super::IMPORT_LINES_MAX {
            break;
        }
        lines.push(read_line(&header, line, text));
    }
    bounded(lines)
}

fn read_line(header: &Header, line: usize, text: &str) -> ParsedLine {
    let cells: Vec<&str> = text.split('|').map(str::trim).collect();
    if cells.len() != header.width {
        let reason = Message::new("msg-import-fields").count("expected", header.width).count("found", cells.len());
        return ParsedLine::malformed(line, "line", reason);
    }
    let job_id = cells[header.job_id];
    if job_id.is_empty() {
        return ParsedLine::malformed(line, "JobID", Message::new("msg-import-required"));
    }
    if job_id.contains('.') {
        return ParsedLine::skipped(line, "job-step", Message::new("msg-import-job-step"));
    }
    let (start, end) = (cells[header.start], cells[header.end]);
    if !is_time(start) || !is_time(end) {
        return ParsedLine::skipped(line, "job-not-ended", Message::new("msg-import-not-ended").text("end", end));
    }
    let account = match account_name(cells[header.account]) {
        Ok(account) => account,
        Err(reason) => return ParsedLine::malformed(line, "Account", reason),
    };
    let (period_start, period_end) = match (slurm_time(start), slurm_time(end)) {
        (Ok(s), Ok(e)) => (s, e),
        (Err(reason), _) => return ParsedLine::malformed(line, "Start", reason),
        (_, Err(reason)) => return ParsedLine::malformed(line, "End", reason),
    };
    let (column, kind) = header.gpus;
    let gpus = match kind {
        GpuColumn::Tres => tres_gpus(cells[column]),
        GpuColumn::Gres => gres_gpus(cells[column]),
    };
    let gpus = match gpus {
        Ok(0) => return ParsedLine::skipped(line, "no-gpus", Message::new("msg-import-no-gpus")),
        Ok(n) => n,
        Err(reason) => {
            return ParsedLine::malformed(
                line,
                if matches!(kind, GpuColumn::Tres) { "AllocTRES" } else { "AllocGRES" },
                reason,
            )
        }
    };
    if period_end < period_start {
        return ParsedLine::malformed(line, "End", Message::new("msg-usage-period"));
    }
    let hours = gpu_hours(gpus, (period_end - period_start).num_seconds());
    if hours.is_zero() {
        return ParsedLine::skipped(line, "no-gpu-hours", Message::new("msg-import-no-hours"));
    }
    let record = UsageRecord {
        record_id: format!("{SLURM_RECORD_PREFIX}{job_id}"),
        award_id: String::new(),
        gpu_hours: hours,
        period_start,
        period_end,
    };
    ParsedLine { line, item: LineItem::Record { record, slurm_account: Some(account) } }
}

/// A Slurm account name as kept: lower case (Slurm's database keeps names so), 1 to
/// `SLURM_ACCOUNT_LENGTH_MAX` letters, digits, `-`, `_` or `.`.
pub fn account_name(text: &str) -> Result<String, Message> {
    let name = text.trim().to_lowercase();
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if name.is_empty() || name.len() > SLURM_ACCOUNT_LENGTH_MAX || !name.chars().all(allowed) {
        return Err(Message::new("msg-slurm-account").count("max", SLURM_ACCOUNT_LENGTH_MAX));
    }
    Ok(name)
}

/// Slurm writes `Unknown` (or `None`) for a time not reached yet.
fn is_time(text: &str) -> bool {
    !text.is_empty() && !["unknown", "none"].contains(&text.to_ascii_lowercase().as_str())
}

/// GPU-hours of `gpus` GPUs held for `seconds`, in thousandths rounded down.
pub fn gpu_hours(gpus: i64, seconds: i64) -> GpuHours {
    let milli = i128::from(gpus) * i128::from(seconds.max(0)) * 1_000 / 3_600;
    GpuHours::from_milli(i64::try_from(milli).unwrap_or(i64::MAX))
}

/// `2026-06-01T08:00:00` (Slurm's default, read as UTC) or RFC 3339.
fn slurm_time(text: &str) -> Result<NaiveDateTime, Message> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S")
        .ok()
        .or_else(|| {
            DateTime::parse_from_rfc3339(text)
                .ok()
                .and_then(crate::domain::time::to_the_microsecond)
                .map(|at| at.naive_utc())
        })
        .ok_or_else(|| Message::new("msg-import-slurm-time").text("text", text))
}

fn count(text: &str) -> Option<i64> {
    text.parse::<i64>().ok().filter(|n| (0..=1_000_000).contains(n))
}

/// GPUs in `AllocTRES`: `gres/gpu=N`, else the sum of `gres/gpu:TYPE=N`; none is 0.
fn tres_gpus(text: &str) -> Result<i64, Message> {
    let wrong = || Message::new("msg-import-gpus").text("text", text);
    let mut total = None;
    let mut typed = 0i64;
    for item in text.split(',').filter(|i| !i.is_empty()) {
        let (key, value) = item.split_once('=').ok_or_else(wrong)?;
        if key == "gres/gpu" {
            total = Some(count(value).ok_or_else(wrong)?);
        } else if key.starts_with("gres/gpu:") {
            typed = typed.saturating_add(count(value).ok_or_else(wrong)?);
        }
    }
    Ok(total.unwrap_or(typed))
}

/// GPUs in `AllocGRES`: `gpu:N` or `gpu:TYPE:N`, each optionally followed by `(IDX:…)`.
fn gres_gpus(text: &str) -> Result<i64, Message> {
    let wrong = || Message::new("msg-import-gpus").text("text", text);
    let mut total = 0i64;
    for item in text.split(',').filter(|i| !i.is_empty()) {
        let item = item.split('(').next().unwrap_or_default();
        let mut parts = item.split(':');
        if parts.next() != Some("gpu") {
            continue;
        }
        let last = parts.next_back().ok_or_else(wrong)?;
        total = total.saturating_add(count(last).ok_or_else(wrong)?);
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As `TZ=UTC sacct --parsable2 --format=JobID,JobName,Account,AllocTRES,Start,End,State` prints it.
    const SACCT: &str = "\
JobID|JobName|Account|AllocTRES|Start|End|State
4711|train|sme-quantum|billing=64,cpu=64,gres/gpu=8,mem=512G,node=1|2026-06-01T08:00:00|2026-06-01T10:30:00|COMPLETED
4711.batch|batch|sme-quantum|cpu=64,gres/gpu=8,mem=512G,node=1|2026-06-01T08:00:00|2026-06-01T10:30:00|COMPLETED
4711.extern|extern|sme-quantum|billing=64,cpu=64,gres/gpu=8,mem=512G,node=1|2026-06-01T08:00:00|2026-06-01T10:30:00|COMPLETED
4712_3|sweep|SME-Quantum|billing=8,cpu=8,gres/gpu:h100=1,mem=64G,node=1|2026-06-01T09:00:00|2026-06-01T09:20:00|COMPLETED
4713|prep|sme-quantum|billing=4,cpu=4,mem=16G,node=1|2026-06-01T09:00:00|2026-06-01T12:00:00|COMPLETED
4714|long|sme-quantum|billing=8,cpu=8,gres/gpu=2,mem=64G,node=1|2026-06-02T08:00:00|Unknown|RUNNING
4715|bad|sme-quantum|gres/gpu=two|2026-06-01T08:00:00|2026-06-01T09:00:00|FAILED
4716|short|sme-quantum
4717|blip|sme-quantum|gres/gpu=1|2026-06-01T08:00:00|2026-06-01T08:00:03|FAILED
";

    fn summary(lines: &[ParsedLine]) -> Vec<(usize, String)> {
        lines
            .iter()
            .map(|l| {
                let what = match &l.item {
                    LineItem::Record { record, slurm_account } => {
                        format!(
                            "{} {} {}",
                            record.record_id,
                            slurm_account.as_deref().unwrap_or_default(),
                            record.gpu_hours
                        )
                    }
                    LineItem::Skipped { code, .. } => format!("skipped {code}"),
                    LineItem::Malformed { column, .. } => format!("malformed {column}"),
                };
                (l.line, what)
            })
            .collect()
    }

    #[test]
    fn jobs_count_their_gpus_times_their_run_time_and_steps_are_skipped() {
        let lines = parse(SACCT.as_bytes()).unwrap();
        let expected = [
            (2, "slurm-4711 sme-quantum 20.000"),
            (3, "skipped job-step"),
            (4, "skipped job-step"),
            (5, "slurm-4712_3 sme-quantum 0.333"),
            (6, "skipped no-gpus"),
            (7, "skipped job-not-ended"),
            (8, "malformed AllocTRES"),
            (9, "malformed line"),
            (10, "skipped no-gpu-hours"),
        ];
        assert_eq!(summary(&lines), expected.map(|(l, s)| (l, s.to_string())));
    }

    /// Another tool may print RFC 3339 with nanoseconds: the period is kept to the microsecond,
    /// so the same line sent again is the same record, not a conflicting one.
    #[test]
    fn times_finer_than_a_microsecond_are_read_to_the_microsecond() {
        let file = "JobID|Account|AllocTRES|Start|End\n4711|acct|gres/gpu=1|2026-06-01T08:00:00.0000005Z|2026-06-01T09:00:00.9999999Z\n";
        let lines = parse(file.as_bytes()).unwrap();
        let LineItem::Record { record, .. } = &lines[0].item else { panic!("{:?}", lines[0].item) };
        let at = |text: &str| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").unwrap();
        assert_eq!(record.period_start, at("2026-06-01T08:00:00"));
        assert_eq!(record.period_end, at("2026-06-01T09:00:00.999999"));
    }

    #[test]
    fn gpus_are_read_from_either_column_form() {
        assert_eq!(tres_gpus("billing=8,cpu=8,gres/gpu=4,gres/gpu:a100=4,node=1"), Ok(4));
        assert_eq!(tres_gpus("gres/gpu:a100=2,gres/gpu:h100=3"), Ok(5));
        assert_eq!(tres_gpus(""), Ok(0));
        assert_eq!(gres_gpus("gpu:a100:4(IDX:0-3)"), Ok(4));
        assert_eq!(gres_gpus("gpu:2"), Ok(2));
        assert!(gres_gpus("gpu:many").is_err());
    }

    #[test]
    fn usage_is_rounded_down_to_the_thousandth() {
        // 1 GPU for 20 minutes is 0.3333… GPU-hours; 3 GPUs for 20 minutes exactly 1.
        assert_eq!(gpu_hours(1, 1_200), GpuHours::from_milli(333));
        assert_eq!(gpu_hours(3, 1_200), GpuHours::from_milli(1_000));
        assert_eq!(gpu_hours(8, 9_000), GpuHours::from_milli(20_000));
    }

    #[test]
    fn a_header_without_the_columns_refuses_the_file() {
        assert_eq!(parse(b"JobID|Account|Start|End\n1|a|x|y\n").unwrap_err().key(), "msg-import-slurm-columns");
        assert_eq!(parse(b"JobID|Account|AllocGRES|Start|End\n").unwrap_err().key(), "msg-import-empty");
    }
}
