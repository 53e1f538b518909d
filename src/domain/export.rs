//! Auditor exports, the pure part: what one posting row holds, and how it is written as CSV,
//! JSON lines and an hledger journal; how accounts are named for hledger; the metadata that
//! ties an export to the hash chain. No IO here: storage reads the pages, HTTP streams them.
//! See docs/exports.md.

use std::borrow::Cow;

use chrono::NaiveDate;
use serde::Serialize;

use super::ledger::AccountKind;
use super::money::Cents;

/// Every amount is in euros.
pub const CURRENCY: &str = "EUR";

/// The ledger snapshot an export covers, stated in its response headers and inside the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExportMeta {
    /// The export's name, e.g. `journal.csv`.
    pub export: String,
    pub fund_id: String,
    pub fund_name: String,
    /// Entries with an effective date on or before this date are covered.
    pub as_of: NaiveDate,
    /// Sequence of the last entry of the fund covered (0 when none is).
    pub last_sequence: i64,
    /// Hash of that entry (64 zeros when none is).
    pub last_hash: String,
    /// The chain head when the export started; no entry after it is covered.
    pub head_sequence: i64,
    pub head_hash: String,
    /// When the export started, RFC 3339 UTC.
    pub exported_at: String,
}

impl ExportMeta {
    /// (key, value) pairs in a fixed order. Values hold no spaces, commas or quotes, except
    /// the fund name, which is left out of the one-line forms.
    pub fn pairs(&self) -> [(&'static str, String); 8] {
        [
            ("export", self.export.clone()),
            ("fund_id", self.fund_id.clone()),
            ("as_of", self.as_of.to_string()),
            ("last_sequence", self.last_sequence.to_string()),
            ("last_hash", self.last_hash.clone()),
            ("head_sequence", self.head_sequence.to_string()),
            ("head_hash", self.head_hash.clone()),
            ("exported_at", self.exported_at.clone()),
        ]
    }

    /// The first line of every CSV export: `# investai-export key=value ...`, one line, no
    /// comma, so a reader that does not skip it sees a one-field record.
    pub fn csv_preamble(&self) -> String {
        let mut line = String::from("# investai-export");
        for (key, value) in self.pairs() {
            line.push(' ');
            line.push_str(key);
            line.push('=');
            line.push_str(&value);
        }
        line.push('\n');
        line
    }
}

/// Debit and credit columns of a signed posting amount (debits positive).
pub fn debit_credit(amount: Cents) -> (Cents, Cents) {
    if amount.is_negative() {
        (Cents::ZERO, amount.abs())
    } else {
        (amount, Cents::ZERO)
    }
}

/// One posting with its entry and account: a row of the CSV, a line of the JSON lines, a
/// row of the workbook's journal sheet. Field order is the CSV column order.
#[derive(Clone, Debug, Serialize)]
pub struct PostingRecord<'a> {
    pub entry_id: &'a str,
    pub sequence: i64,
    pub effective_date: NaiveDate,
    pub line: i32,
    pub account_code: &'a str,
    pub account_name: &'a str,
    pub account_kind: &'a str,
    pub debit: Cents,
    pub credit: Cents,
    pub currency: &'static str,
    pub description: &'a str,
    pub event_type: &'a str,
    pub event_id: &'a str,
    pub actor: &'a str,
    pub party_id: Option<&'a str>,
    pub memo: &'a str,
    pub reverses_entry_id: Option<&'a str>,
    pub entry_hash: &'a str,
}

/// Column names of the journal CSV and the workbook's journal sheet, in order.
pub const JOURNAL_COLUMNS: [&str; 18] = [
    "entry_id",
    "sequence",
    "effective_date",
    "line",
    "account_code",
    "account_name",
    "account_kind",
    "debit",
    "credit",
    "currency",
    "description",
    "event_type",
    "event_id",
    "actor",
    "party_id",
    "memo",
    "reverses_entry_id",
    "entry_hash",
];

/// Characters that make a spreadsheet read a cell as a formula when they open it (OWASP's
/// CSV-injection list).
const FORMULA_TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A text field as a CSV cell: one that a spreadsheet would run as a formula (it starts with
/// `=`, `+`, `-`, `@`, a tab or a carriage return, leading spaces ignored) gets a leading `'`,
/// which spreadsheets show as text and never evaluate. Amounts are not text and never pass
/// here: `-100.00` stays a number.
pub fn csv_text(text: &str) -> Cow<'_, str> {
    match text.trim_start_matches(' ').chars().next() {
        Some(first) if FORMULA_TRIGGERS.contains(&first) => Cow::Owned(format!("'{text}")),
        _ => Cow::Borrowed(text),
    }
}

impl PostingRecord<'_> {
    /// The record as a CSV row in `JOURNAL_COLUMNS` order: text through `csv_text`, amounts
    /// and numbers as they are.
    pub fn csv_row(&self) -> [Cow<'_, str>; 18] {
        let text = |value: &'_ str| csv_text(value).into_owned();
        [
            csv_text(self.entry_id),
            Cow::Owned(self.sequence.to_string()),
            Cow::Owned(self.effective_date.to_string()),
            Cow::Owned(self.line.to_string()),
            csv_text(self.account_code),
            csv_text(self.account_name),
            csv_text(self.account_kind),
            Cow::Owned(self.debit.to_string()),
            Cow::Owned(self.credit.to_string()),
            Cow::Borrowed(self.currency),
            csv_text(self.description),
            csv_text(self.event_type),
            csv_text(self.event_id),
            csv_text(self.actor),
            Cow::Owned(self.party_id.map(text).unwrap_or_default()),
            csv_text(self.memo),
            Cow::Owned(self.reverses_entry_id.map(text).unwrap_or_default()),
            csv_text(self.entry_hash),
        ]
    }
}

/// A line of the JSON-lines export: `record` says which of the three kinds it is.
#[derive(Serialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum JsonLine<'a> {
    /// The first line: the snapshot the file covers.
    Export(&'a ExportMeta),
    /// One per posting, in sequence and line order.
    Posting(&'a PostingRecord<'a>),
    /// The last line: how many entries and postings came before it. A file without it was
    /// cut short.
    End { entries: u64, postings: u64 },
}

/// One JSON object and its newline.
pub fn json_line(line: &JsonLine<'_>) -> Result<String, serde_json::Error> {
    let mut text = serde_json::to_string(line)?;
    text.push('\n');
    Ok(text)
}

/// hledger's top-level account of each kind. hledger infers the account type from these
/// names, and the `account` directives state it too.
pub fn hledger_top_account(kind: AccountKind) -> (&'static str, &'static str) {
    match kind {
        AccountKind::Asset => ("assets", "A"),
        AccountKind::Liability => ("liabilities", "L"),
        AccountKind::Equity => ("equity", "E"),
        AccountKind::Income => ("income", "R"),
        AccountKind::Expense => ("expenses", "X"),
    }
}

/// Text made safe for one hledger line: control characters become spaces and runs of
/// whitespace one space (two spaces end an account name, a newline ends the line).
pub fn hledger_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars() {
        if c.is_whitespace() || c.is_control() {
            pending_space = !out.is_empty();
        } else {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c);
        }
    }
    out
}

/// The hledger name of an account: `assets:1000 Cash at bank`. A flat name under the
/// kind's top-level account; `:` in the account's own name would make a sub-account and `;`
/// a comment, so they become ` -` and `,` (`Contributed capital: Senior` reads
/// `Contributed capital - Senior`).
pub fn hledger_account(kind: AccountKind, code: &str, name: &str) -> String {
    let (top, _) = hledger_top_account(kind);
    let name = hledger_text(&name.replace(':', " -").replace(';', ","));
    let code = hledger_text(&code.replace(':', "-").replace(';', ","));
    if name.is_empty() {
        format!("{top}:{code}")
    } else {
        format!("{top}:{code} {name}")
    }
}

/// An amount as hledger reads it: `EUR 1234.56`, `EUR -0.01`; `.` is the decimal mark and
/// there is no digit grouping.
pub fn hledger_amount(amount: Cents) -> String {
    format!("{CURRENCY} {amount}")
}

/// A transaction description: one line, and `;` (which would start a comment) becomes `,`.
pub fn hledger_description(text: &str) -> String {
    hledger_text(&text.replace(';', ","))
}

/// A tag value: one line, and `,` (which would end the value) becomes `;`.
pub fn hledger_tag_value(text: &str) -> String {
    hledger_text(&text.replace(',', ";"))
}

/// The head of an hledger export: the snapshot as comments, then the directives that fix
/// the decimal mark, the commodity's style and each account's type.
pub fn hledger_preamble(meta: &ExportMeta, accounts: &[(AccountKind, &str, &str)]) -> String {
    let mut text = String::new();
    text.push_str("; InvestAI ledger export (hledger journal)\n");
    text.push_str(&format!("; fund: {}\n", hledger_tag_value(&meta.fund_name)));
    for (key, value) in meta.pairs() {
        text.push_str(&format!("; {key}: {value}\n"));
    }
    text.push_str("; Entries with an effective date on or before as_of and a sequence up to head_sequence.\n\n");
    text.push_str("decimal-mark .\n");
    text.push_str(&format!("commodity {CURRENCY} 1000.00\n\n"));
    for (kind, code, name) in accounts {
        let (_, type_code) = hledger_top_account(*kind);
        text.push_str(&format!("account {}  ; type: {type_code}\n", hledger_account(*kind, code, name)));
    }
    text.push('\n');
    text
}

/// An entry's facts as the ledger-tool exports (hledger, beancount) show them.
#[derive(Clone, Debug)]
pub struct EntryFacts<'a> {
    pub entry_id: &'a str,
    pub sequence: i64,
    pub effective_date: NaiveDate,
    pub description: &'a str,
    pub event_type: &'a str,
    pub event_id: &'a str,
    pub actor: &'a str,
    pub reverses_entry_id: Option<&'a str>,
    pub hash: &'a str,
}

/// One posting as the ledger-tool exports show it: the account's name in the tool, the signed
/// amount, party and memo.
#[derive(Clone, Debug)]
pub struct PostingFacts<'a> {
    pub account: &'a str,
    pub amount: Cents,
    pub party_id: Option<&'a str>,
    pub memo: &'a str,
}

/// One entry as an hledger transaction: cleared (`*`), the sequence as its code, the entry
/// id, event, actor and hash as tags, one posting per line with party and memo as tags.
pub fn hledger_transaction(entry: &EntryFacts<'_>, postings: &[PostingFacts<'_>]) -> String {
    let mut text = String::with_capacity(256 + postings.len() * 96);
    text.push_str(&format!(
        "{} * ({}) {}\n",
        entry.effective_date,
        entry.sequence,
        hledger_description(entry.description)
    ));
    text.push_str(&format!(
        "    ; entry: {}, event: {}/{}, actor: {}\n",
        hledger_tag_value(entry.entry_id),
        hledger_tag_value(entry.event_type),
        hledger_tag_value(entry.event_id),
        hledger_tag_value(entry.actor)
    ));
    if let Some(reversed) = entry.reverses_entry_id {
        text.push_str(&format!("    ; reverses: {}\n", hledger_tag_value(reversed)));
    }
    text.push_str(&format!("    ; hash: {}\n", hledger_tag_value(entry.hash)));
    for posting in postings {
        text.push_str("    ");
        text.push_str(posting.account);
        text.push_str("    ");
        text.push_str(&hledger_amount(posting.amount));
        let mut tags = Vec::new();
        if let Some(party) = posting.party_id {
            tags.push(format!("party: {}", hledger_tag_value(party)));
        }
        let memo = hledger_tag_value(posting.memo);
        if !memo.is_empty() {
            tags.push(format!("memo: {memo}"));
        }
        if !tags.is_empty() {
            text.push_str("  ; ");
            text.push_str(&tags.join(", "));
        }
        text.push('\n');
    }
    text.push('\n');
    text
}

/// A closing transaction dated `as_of` asserting every account's balance, so hledger checks
/// each figure when it reads the file: a zero posting per account with `= EUR <balance>`.
/// Dated on the last day the export covers and written after every entry, it is read last.
pub fn hledger_assertions(as_of: NaiveDate, balances: &[(&str, Cents)]) -> String {
    let mut text = format!("{as_of} * Balances as of {as_of}\n");
    text.push_str("    ; each account's balance over the entries above, asserted\n");
    for (account, balance) in balances {
        text.push_str(&format!("    {account}    {CURRENCY} 0 = {}\n", hledger_amount(*balance)));
    }
    text.push('\n');
    text
}

/// The last lines of an hledger export. A file without them was cut short.
pub fn hledger_trailer(entries: u64, postings: u64) -> String {
    format!("; end of export: {entries} entries, {postings} postings\n")
}

/// The value of a workbook number cell. The XLSX format stores every number as an IEEE
/// double, so this is the one place an amount becomes a float: exact for every amount up to
/// 2^53 cents (EUR 90 trillion, above the service's EUR 10^13 limit), and only ever written
/// to a cell, never used in arithmetic.
pub fn xlsx_cell_value(amount: Cents) -> f64 {
    // Integer cents to f64 is exact below 2^53; one division by 100 gives the nearest
    // double to the decimal amount, which Excel shows exactly with two decimals.
    amount.get() as f64 / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> ExportMeta {
        ExportMeta {
            export: "journal.csv".into(),
            fund_id: "f1".into(),
            fund_name: "Fund, \"one\"".into(),
            as_of: NaiveDate::from_ymd_opt(2025, 12, 31).unwrap_or_default(),
            last_sequence: 7,
            last_hash: "ab".repeat(32),
            head_sequence: 9,
            head_hash: "cd".repeat(32),
            exported_at: "2026-01-02T03:04:05Z".into(),
        }
    }

    fn record<'a>(description: &'a str, memo: &'a str, amount: Cents) -> PostingRecord<'a> {
        let (debit, credit) = debit_credit(amount);
        PostingRecord {
            entry_id: "e1",
            sequence: 3,
            effective_date: NaiveDate::from_ymd_opt(2025, 3, 1).unwrap_or_default(),
            line: 1,
            account_code: "1000",
            account_name: "Cash at bank",
            account_kind: "asset",
            debit,
            credit,
            currency: CURRENCY,
            description,
            event_type: "manual_entry",
            event_id: "ev1",
            actor: "staff:alice",
            party_id: None,
            memo,
            reverses_entry_id: None,
            entry_hash: "h1",
        }
    }

    #[test]
    fn debit_credit_split_by_sign() {
        assert_eq!(debit_credit(Cents::new(150)), (Cents::new(150), Cents::ZERO));
        assert_eq!(debit_credit(Cents::new(-1)), (Cents::ZERO, Cents::new(1)));
    }

    #[test]
    fn csv_quotes_commas_quotes_and_newlines() {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.serialize(record("Fees, \"Q1\"\nsecond line", "a;b", Cents::new(-123_456))).unwrap();
        let text = String::from_utf8(writer.into_inner().unwrap()).unwrap();
        let header = text.lines().next().unwrap();
        assert_eq!(header, JOURNAL_COLUMNS.join(","));
        assert!(text.contains("\"Fees, \"\"Q1\"\"\nsecond line\""), "{text}");
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let row = reader.records().next().unwrap().unwrap();
        assert_eq!(&row[7], "0.00");
        assert_eq!(&row[8], "1234.56");
        assert_eq!(&row[10], "Fees, \"Q1\"\nsecond line");
        assert_eq!(&row[14], "");
    }

    #[test]
    fn csv_text_neutralises_formula_cells_only() {
        for formula in ["=1+1", "+1", "-cmd|' /C calc'!A0", "@SUM(A1)", "\t=1", "\r=1", "  =1"] {
            assert_eq!(csv_text(formula), format!("'{formula}"), "{formula:?}");
        }
        for plain in ["Fees Q1", "", "1000", "a=b", "'quoted", "e-1"] {
            assert_eq!(csv_text(plain), plain);
        }
    }

    #[test]
    fn csv_rows_keep_amounts_numbers_and_match_the_serialized_record() {
        let formula = record("=HYPERLINK(\"x\")", "+1", Cents::new(-5));
        let row = formula.csv_row();
        assert_eq!(row.len(), JOURNAL_COLUMNS.len());
        assert_eq!((&*row[7], &*row[8]), ("0.00", "0.05"));
        assert_eq!(&*row[10], "'=HYPERLINK(\"x\")");
        assert_eq!(&*row[15], "'+1");
        // A row without formulas reads as serde writes the record.
        let plain = record("Fees", "memo", Cents::new(123_456));
        let mut serialized = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
        serialized.serialize(&plain).unwrap();
        let mut by_row = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
        by_row.write_record(plain.csv_row().iter().map(|c| c.as_bytes())).unwrap();
        assert_eq!(serialized.into_inner().unwrap(), by_row.into_inner().unwrap());
    }

    #[test]
    fn csv_preamble_is_one_field_line() {
        let line = meta().csv_preamble();
        assert!(line.starts_with("# investai-export export=journal.csv fund_id=f1 as_of=2025-12-31 last_sequence=7"));
        assert!(!line.contains(',') && !line.contains('"'));
        assert_eq!(line.matches('\n').count(), 1);
    }

    #[test]
    fn json_lines_are_tagged_and_amounts_are_strings() {
        let record = record("x", "", Cents::new(5));
        let line = json_line(&JsonLine::Posting(&record)).unwrap();
        assert!(line.ends_with('\n') && line.matches('\n').count() == 1);
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["record"], "posting");
        assert_eq!(value["debit"], "0.05");
        assert_eq!(value["credit"], "0.00");
        assert_eq!(value["party_id"], serde_json::Value::Null);
        let meta = meta();
        let first: serde_json::Value = serde_json::from_str(&json_line(&JsonLine::Export(&meta)).unwrap()).unwrap();
        assert_eq!(first["record"], "export");
        assert_eq!(first["last_sequence"], 7);
        let end: serde_json::Value =
            serde_json::from_str(&json_line(&JsonLine::End { entries: 2, postings: 5 }).unwrap()).unwrap();
        assert_eq!(end["record"], "end");
        assert_eq!(end["postings"], 5);
    }

    #[test]
    fn hledger_accounts_sit_under_their_type() {
        assert_eq!(hledger_account(AccountKind::Asset, "1000", "Cash at bank"), "assets:1000 Cash at bank");
        assert_eq!(hledger_account(AccountKind::Liability, "2000", "x"), "liabilities:2000 x");
        assert_eq!(hledger_account(AccountKind::Equity, "3100.01", "Senior"), "equity:3100.01 Senior");
        assert_eq!(hledger_account(AccountKind::Income, "4000", "y"), "income:4000 y");
        assert_eq!(hledger_account(AccountKind::Expense, "5000", "z"), "expenses:5000 z");
    }

    #[test]
    fn hledger_account_names_never_hold_two_spaces_colons_or_semicolons() {
        let name = hledger_account(AccountKind::Equity, "3100.01", "  Contributed  capital:\tSenior; A \n");
        assert_eq!(name, "equity:3100.01 Contributed capital - Senior, A");
        assert!(!name.contains("  "));
        assert_eq!(name.matches(':').count(), 1);
    }

    #[test]
    fn hledger_amounts_are_signed_with_two_decimals() {
        assert_eq!(hledger_amount(Cents::new(123_456)), "EUR 1234.56");
        assert_eq!(hledger_amount(Cents::new(-1)), "EUR -0.01");
        assert_eq!(hledger_amount(Cents::new(-100_000_000_000_000)), "EUR -1000000000000.00");
        assert_eq!(hledger_amount(Cents::ZERO), "EUR 0.00");
    }

    #[test]
    fn hledger_descriptions_with_two_spaces_semicolons_and_newlines_stay_one_line() {
        let entry = EntryFacts {
            entry_id: "e1",
            sequence: 12,
            effective_date: NaiveDate::from_ymd_opt(2025, 3, 1).unwrap_or_default(),
            description: "Fees  Q1; see\nnote, 50%",
            event_type: "manual_entry",
            event_id: "ev,1",
            actor: "staff:alice",
            reverses_entry_id: Some("e0"),
            hash: "h",
        };
        let cash = hledger_account(AccountKind::Asset, "1000", "Cash at bank");
        let fees = hledger_account(AccountKind::Expense, "5000", "Management fees");
        let postings = [
            PostingFacts { account: &fees, amount: Cents::new(1_050), party_id: Some("p1"), memo: "a, b: c" },
            PostingFacts { account: &cash, amount: Cents::new(-1_050), party_id: None, memo: "" },
        ];
        let text = hledger_transaction(&entry, &postings);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "2025-03-01 * (12) Fees Q1, see note, 50%");
        assert_eq!(lines[1], "    ; entry: e1, event: manual_entry/ev;1, actor: staff:alice");
        assert_eq!(lines[2], "    ; reverses: e0");
        assert_eq!(lines[3], "    ; hash: h");
        assert_eq!(lines[4], "    expenses:5000 Management fees    EUR 10.50  ; party: p1, memo: a; b: c");
        assert_eq!(lines[5], "    assets:1000 Cash at bank    EUR -10.50");
        assert_eq!(lines[6], "");
    }

    #[test]
    fn hledger_preamble_declares_types_and_the_snapshot() {
        let text = hledger_preamble(&meta(), &[(AccountKind::Asset, "1000", "Cash at bank")]);
        assert!(text.contains("; fund: Fund; \"one\"\n"), "{text}");
        assert!(text.contains("; last_sequence: 7\n"));
        assert!(text.contains("; head_hash: "));
        assert!(text.contains("decimal-mark .\ncommodity EUR 1000.00\n"));
        assert!(text.contains("account assets:1000 Cash at bank  ; type: A\n"));
        assert!(text.lines().all(|l| l.is_empty() || l.starts_with(';') || !l.contains('\t')));
    }

    #[test]
    fn xlsx_cell_values_are_the_amounts() {
        assert_eq!(xlsx_cell_value(Cents::new(123_456)), 1234.56);
        assert_eq!(xlsx_cell_value(Cents::new(-1)), -0.01);
        assert_eq!(xlsx_cell_value(Cents::new(1_000_000_000_000_000)), 1e13);
    }
}
