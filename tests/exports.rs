//! Auditor exports on both backends: the journal as CSV, JSON lines and hledger (read back by
//! the real `hledger`), the workbook (read back by calamine), trial balance and capital
//! accounts, each tied to the hash chain and to the service's own figures.

use crate::common;

use std::collections::BTreeMap;
use std::io::Cursor;
use std::str::FromStr;

use calamine::{Data, Reader, Xlsx};
use common::{assert_problem, created, id, TestApp};
use investai::domain::money::Cents;
use investai::domain::roles::Role;
use serde_json::{json, Value};

const AS_OF: &str = "2026-06-30";
const TRICKY_DESCRIPTION: &str = "Advisory fees, \"Q1\"  (two  spaces); 50% paid | rest later";

struct Books {
    fund: String,
    senior: String,
    junior: String,
    /// Entries dated after AS_OF, to be left out of exports as of AS_OF.
    late_entries: usize,
}

/// A fund with two tranches and three investors; commitments with an increase; a partial
/// call and its contributions; a deployment and an exit; waterfall terms and a distribution;
/// manual entries (one with commas, quotes, two spaces, `;` and `|` in its description), one
/// of them reversed; and one entry dated after AS_OF.
async fn books(app: &TestApp) -> Books {
    let fund = app.create_fund("Export fund").await;
    let senior = id(&created(
        app,
        &format!("/api/v1/funds/{fund}/tranches"),
        json!({"name": "Senior: private", "seniority": 1, "target_size": "2000.00", "pref_rate": "0.08"}),
    )
    .await);
    let junior = id(&created(app, &format!("/api/v1/funds/{fund}/tranches"), json!({"name": "First loss", "seniority": 2, "target_size": "500.00", "pref_rate": "0", "return_cap": "1.5", "first_loss": true})).await);
    let mut commitments = Vec::new();
    for (name, tranche, amount) in
        [("Senior A, SA", &senior, "600.00"), ("Senior B", &senior, "400.00"), ("EU budget", &junior, "500.00")]
    {
        let source =
            id(&created(app, "/api/v1/sources", json!({"kind": "private", "legal_name": name, "country": "FR"})).await);
        let commitment = created(
            app,
            &format!("/api/v1/funds/{fund}/commitments"),
            json!({"source_id": source, "tranche_id": tranche, "amount": amount, "effective_date": "2024-12-01"}),
        )
        .await;
        commitments.push(id(&commitment));
    }
    created(
        app,
        &format!("/api/v1/commitments/{}/amendments", commitments[1]),
        json!({"kind": "increase", "amount": "100.00", "effective_date": "2025-02-01"}),
    )
    .await;
    let facility = id(&created(app, "/api/v1/facilities", json!({"name": "GF export", "kind": "gigafactory", "member_state": "DE", "chip_count": 1000, "chip_type": "GPU", "quarterly_capacity_gpu_hours": 2160000})).await);
    let call = created(
        app,
        &format!("/api/v1/funds/{fund}/capital-calls"),
        json!({"call_date": "2025-01-01", "due_date": "2025-01-15", "description": "First call", "lines": [
        {"tranche_id": senior, "purpose": "investment", "facility_id": facility, "amount": "800.00"},
        {"tranche_id": junior, "purpose": "investment", "facility_id": facility, "amount": "500.00"}]}),
    )
    .await;
    let notices = app.get(&format!("/api/v1/notices?call_id={}", id(&call)), &app.staff()).await;
    for notice in notices.body["items"].as_array().cloned().unwrap_or_default() {
        created(
            app,
            &format!("/api/v1/notices/{}/contributions", id(&notice)),
            json!({"amount": notice["amount"], "value_date": "2025-01-10"}),
        )
        .await;
    }
    created(app, &format!("/api/v1/funds/{fund}/deployments"), json!({"facility_id": facility, "kind": "equity", "amount": "1200.00", "value_date": "2025-01-20", "description": "Stake"})).await;
    created(app, &format!("/api/v1/funds/{fund}/proceeds"), json!({"facility_id": facility, "amount": "1800.00", "cost_returned": "1200.00", "value_date": "2026-01-01", "description": "Exit"})).await;
    created(
        app,
        &format!("/api/v1/funds/{fund}/waterfall"),
        json!({"steps": [
            {"type": "pref", "tranches": [senior], "mode": "sequential"},
            {"type": "capital", "tranches": [senior, junior], "mode": "sequential"},
            {"type": "split", "shares": [{"tranche": senior, "percent": "40"}, {"tranche": junior, "percent": "60"}]}
        ]}),
    )
    .await;
    created(
        app,
        &format!("/api/v1/funds/{fund}/distributions"),
        json!({"cash": "1500.00", "date": "2026-02-01", "description": "Exit proceeds"}),
    )
    .await;
    let manual = |date: &str, description: &str, debit: &str, credit: &str, amount: &str| {
        json!({"effective_date": date, "description": description, "postings": [
            {"account": debit, "debit": amount, "memo": "memo, with: colon"},
            {"account": credit, "credit": amount}
        ]})
    };
    created(
        app,
        &format!("/api/v1/funds/{fund}/journal-entries"),
        manual("2026-03-01", TRICKY_DESCRIPTION, "5000", "1000", "12.34"),
    )
    .await;
    let wrong = created(
        app,
        &format!("/api/v1/funds/{fund}/journal-entries"),
        manual("2026-03-02", "Posted twice", "5010", "1000", "7.00"),
    )
    .await;
    created(
        app,
        &format!("/api/v1/ledger/entries/{}/reversal", id(&wrong)),
        json!({"effective_date": "2026-03-03", "reason": "Duplicate"}),
    )
    .await;
    created(
        app,
        &format!("/api/v1/funds/{fund}/journal-entries"),
        manual("2027-01-01", "Next year", "5000", "1000", "1.00"),
    )
    .await;
    Books { fund, senior, junior, late_entries: 1 }
}

fn cents(text: &str) -> i64 {
    Cents::from_str(text.trim()).unwrap_or_else(|e| panic!("{text:?} is not an amount: {e}")).get()
}

/// Net balance (debit-positive, cents) of every account with a non-zero balance, by code.
async fn trial_balance(app: &TestApp, fund: &str, as_of: &str) -> (BTreeMap<String, i64>, Value) {
    let reply = app.get(&format!("/api/v1/funds/{fund}/trial-balance?as_of={as_of}"), &app.auditor()).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let nets = reply.body["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .map(|a| (a["code"].as_str().expect("code").to_string(), cents(a["net"].as_str().expect("net"))))
        .filter(|(_, net)| *net != 0)
        .collect();
    (nets, reply.body)
}

async fn download(app: &TestApp, fund: &str, name: &str, as_of: &str) -> (reqwest::header::HeaderMap, Vec<u8>) {
    let response = app
        .client
        .get(format!("{}/api/v1/funds/{fund}/exports/{name}?as_of={as_of}", app.address))
        .bearer_auth(app.auditor())
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.expect("body").to_vec();
    assert_eq!(status, 200, "{name}: {}", String::from_utf8_lossy(&body));
    (headers, body)
}

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_else(|| panic!("no {name} header"))
}

fn without_zeros(map: BTreeMap<String, i64>) -> BTreeMap<String, i64> {
    map.into_iter().filter(|(_, v)| *v != 0).collect()
}

/// Journal CSV rows read back with the csv crate, skipping the `#` preamble line.
fn csv_rows(body: &[u8]) -> (String, Vec<BTreeMap<String, String>>) {
    let text = String::from_utf8(body.to_vec()).expect("UTF-8");
    let preamble = text.lines().next().expect("preamble").to_string();
    let mut reader = csv::ReaderBuilder::new().comment(Some(b'#')).from_reader(body);
    let headers = reader.headers().expect("header row").clone();
    let rows = reader
        .records()
        .map(|r| {
            let r = r.expect("record");
            headers.iter().zip(r.iter()).map(|(h, v)| (h.to_string(), v.to_string())).collect()
        })
        .collect();
    (preamble, rows)
}

async fn journal_csv_matches_the_trial_balance_and_the_chain(app: TestApp) {
    let books = books(&app).await;
    let (tb, _) = trial_balance(&app, &books.fund, AS_OF).await;
    let (headers, body) = download(&app, &books.fund, "journal.csv", AS_OF).await;
    assert!(header(&headers, "content-type").starts_with("text/csv"));
    assert_eq!(
        header(&headers, "content-disposition"),
        format!("attachment; filename=\"investai-{}-journal-{AS_OF}.csv\"", books.fund)
    );
    assert_eq!(header(&headers, "x-ledger-as-of"), AS_OF);
    let (preamble, rows) = csv_rows(&body);
    assert!(preamble.starts_with("# investai-export export=journal.csv"), "{preamble}");
    assert!(!preamble.contains(','), "{preamble}");

    // One row per posting; every entry balances; nothing after AS_OF.
    let mut by_entry: BTreeMap<i64, (i64, i64, String)> = BTreeMap::new();
    let mut by_account: BTreeMap<String, i64> = BTreeMap::new();
    for row in &rows {
        assert!(row["effective_date"].as_str() <= AS_OF, "{row:?}");
        assert_eq!(row["currency"], "EUR");
        let (debit, credit) = (cents(&row["debit"]), cents(&row["credit"]));
        assert!(debit == 0 || credit == 0, "{row:?}");
        let sequence: i64 = row["sequence"].parse().expect("sequence");
        let slot = by_entry.entry(sequence).or_insert((0, 0, row["entry_hash"].clone()));
        slot.0 += debit;
        slot.1 += credit;
        *by_account.entry(row["account_code"].clone()).or_default() += debit - credit;
    }
    for (sequence, (debit, credit, _)) in &by_entry {
        assert_eq!(debit, credit, "entry {sequence} does not balance");
    }
    assert_eq!(without_zeros(by_account), tb, "sums per account against the trial balance");
    let all_entries =
        app.get(&format!("/api/v1/ledger/entries?fund_id={}&limit=500", books.fund), &app.auditor()).await;
    let all_entries = all_entries.body["items"].as_array().cloned().unwrap_or_default();
    let postings: usize = all_entries
        .iter()
        .filter(|e| e["effective_date"].as_str().is_some_and(|d| d <= AS_OF))
        .map(|e| e["postings"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(rows.len(), postings, "one row per posting");
    assert_eq!(by_entry.len() + books.late_entries, all_entries.len(), "the entry after as_of is left out");

    // The tricky description survives quoting; reversal and memo are carried.
    assert!(rows.iter().any(|r| r["description"] == TRICKY_DESCRIPTION));
    assert!(rows.iter().any(|r| !r["reverses_entry_id"].is_empty() && r["event_type"] == "reversal"));
    assert!(rows.iter().any(|r| r["memo"] == "memo, with: colon"));
    assert!(rows.iter().any(|r| !r["party_id"].is_empty()));

    // Tied to the chain: the last entry covered, and the head as verify reports it.
    let (last_sequence, (_, _, last_hash)) = by_entry.iter().next_back().expect("entries");
    assert_eq!(header(&headers, "x-ledger-last-sequence"), last_sequence.to_string());
    assert_eq!(header(&headers, "x-ledger-last-hash"), last_hash);
    assert!(preamble.contains(&format!("last_sequence={last_sequence} last_hash={last_hash}")), "{preamble}");
    let verify = app.get("/api/v1/ledger/verify", &app.auditor()).await;
    assert_eq!(verify.body["ok"], true);
    assert_eq!(header(&headers, "x-ledger-head-sequence"), verify.body["head_sequence"].to_string());
    assert_eq!(header(&headers, "x-ledger-head-hash"), verify.body["head_hash"].as_str().expect("head hash"));
    let entry = app
        .get(
            &format!("/api/v1/ledger/entries?fund_id={}&after={}&limit=1", books.fund, last_sequence - 1),
            &app.auditor(),
        )
        .await;
    assert_eq!(entry.body["items"][0]["hash"].as_str(), Some(last_hash.as_str()));

    // As of a later date the late entry is in.
    let (_, later) = download(&app, &books.fund, "journal.csv", "2027-12-31").await;
    let (_, later_rows) = csv_rows(&later);
    assert_eq!(later_rows.len(), rows.len() + 2);
}

async fn journal_jsonl_lines_parse_and_match_the_trial_balance(app: TestApp) {
    let books = books(&app).await;
    let (tb, _) = trial_balance(&app, &books.fund, AS_OF).await;
    let (headers, body) = download(&app, &books.fund, "journal.jsonl", AS_OF).await;
    assert!(header(&headers, "content-type").starts_with("application/jsonl"));
    let text = String::from_utf8(body).expect("UTF-8");
    let lines: Vec<Value> =
        text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}"))).collect();
    let first = lines.first().expect("first line");
    assert_eq!(first["record"], "export");
    assert_eq!(first["as_of"], AS_OF);
    assert_eq!(first["last_hash"].as_str(), Some(header(&headers, "x-ledger-last-hash")));
    assert_eq!(first["fund_name"], "Export fund");
    let last = lines.last().expect("last line");
    assert_eq!(last["record"], "end");
    let postings = &lines[1..lines.len() - 1];
    assert!(postings.iter().all(|p| p["record"] == "posting"));
    assert_eq!(last["postings"].as_u64(), Some(postings.len() as u64));
    let mut by_account: BTreeMap<String, i64> = BTreeMap::new();
    let mut sequences = std::collections::BTreeSet::new();
    for p in postings {
        let net = cents(p["debit"].as_str().expect("debit string")) - cents(p["credit"].as_str().expect("credit"));
        *by_account.entry(p["account_code"].as_str().expect("code").to_string()).or_default() += net;
        sequences.insert(p["sequence"].as_i64().expect("sequence"));
    }
    assert_eq!(last["entries"].as_u64(), Some(sequences.len() as u64));
    assert_eq!(without_zeros(by_account), tb);
    assert!(postings.iter().any(|p| p["description"] == TRICKY_DESCRIPTION));
}

/// Runs the real hledger on a file; fails with a clear message when it is not installed.
fn hledger(file: &std::path::Path, args: &[&str]) -> String {
    let output = std::process::Command::new("hledger")
        .arg("-f")
        .arg(file)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("these tests run the real hledger and it could not be started ({e}): install it, e.g. `apt-get install hledger`")
        });
    assert!(output.status.success(), "hledger {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("UTF-8")
}

/// `account -> cents` from `hledger balance -O csv`, keyed by account code.
fn hledger_balances(csv_text: &str) -> BTreeMap<String, i64> {
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let mut balances = BTreeMap::new();
    for record in reader.records() {
        let record = record.expect("hledger CSV");
        let (account, amount) = (&record[0], &record[1]);
        if account == "total" {
            continue;
        }
        let code = account.split_once(':').and_then(|(_, rest)| rest.split(' ').next()).expect("code").to_string();
        let amount = amount.trim();
        let value =
            if amount == "0" { 0 } else { cents(amount.strip_prefix("EUR ").unwrap_or_else(|| panic!("{amount}"))) };
        balances.insert(code, value);
    }
    balances
}

async fn hledger_reads_the_journal_and_balances_to_the_cent(app: TestApp) {
    let books = books(&app).await;
    let (tb, tb_body) = trial_balance(&app, &books.fund, AS_OF).await;
    let (headers, body) = download(&app, &books.fund, "journal.hledger", AS_OF).await;
    assert!(header(&headers, "content-type").starts_with("text/plain"));
    let text = String::from_utf8(body).expect("UTF-8");
    assert!(text.contains(&format!("; last_hash: {}\n", header(&headers, "x-ledger-last-hash"))));
    assert!(text.trim_end().lines().last().is_some_and(|l| l.starts_with("; end of export: ")));
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("books.journal");
    std::fs::write(&file, &text).expect("write journal");

    // --strict: every account and the commodity are declared.
    let balances = hledger_balances(&hledger(&file, &["--strict", "balance", "--flat", "-O", "csv"]));
    assert_eq!(without_zeros(balances), tb, "hledger's balances against the trial balance");
    // Account types: hledger's balance sheet sees the assets of the trial balance.
    let assets: i64 = tb_body["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .filter(|a| a["kind"] == "asset")
        .map(|a| cents(a["net"].as_str().expect("net")))
        .sum();
    let bs = hledger_balances(&hledger(&file, &["balance", "--flat", "-O", "csv", "type:A"]));
    assert_eq!(bs.values().sum::<i64>(), assets, "assets by hledger's account type");
    let income = hledger_balances(&hledger(&file, &["balance", "--flat", "-O", "csv", "type:R"]));
    assert!(income.keys().all(|code| code.starts_with('4')), "{income:?}");
    // Tags carry the event and the hash; descriptions keep their words.
    let hashes = hledger(&file, &["tags", "hash", "--values"]);
    assert!(hashes.contains(header(&headers, "x-ledger-last-hash")));
    let register = hledger(&file, &["print", "desc:Advisory"]);
    assert!(register.contains("Advisory fees, \"Q1\" (two spaces), 50% paid | rest later"), "{register}");
    assert!(text.contains(&format!("equity:3100.{:02} ", 1)), "tranche capital accounts");
    let _ = (&books.senior, &books.junior);
}

fn number(cell: &Data) -> i64 {
    match cell {
        // Cell values are doubles; the test turns them back into cents to compare exactly.
        Data::Float(value) => (value * 100.0).round() as i64,
        Data::Int(value) => value * 100,
        Data::Empty => 0,
        other => panic!("expected a number cell, got {other:?}"),
    }
}

async fn workbook_has_number_cells_that_sum_to_the_trial_balance(app: TestApp) {
    let books = books(&app).await;
    let (tb, _) = trial_balance(&app, &books.fund, AS_OF).await;
    let (headers, body) = download(&app, &books.fund, "workbook.xlsx", AS_OF).await;
    assert!(header(&headers, "content-type").starts_with("application/vnd.openxmlformats"));
    assert!(header(&headers, "content-disposition").ends_with(&format!("-workbook-{AS_OF}.xlsx\"")));
    let body_bytes = body.clone();
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(body)).expect("an XLSX file");
    assert_eq!(workbook.sheet_names(), ["about", "journal", "trial balance", "capital accounts"]);

    let about = workbook.worksheet_range("about").expect("about sheet");
    let about: BTreeMap<String, String> =
        about.rows().map(|r| (r[0].to_string(), r.get(1).map(ToString::to_string).unwrap_or_default())).collect();
    assert_eq!(about["last_hash"], header(&headers, "x-ledger-last-hash"));
    assert_eq!(about["as_of"], AS_OF);

    let journal = workbook.worksheet_range("journal").expect("journal sheet");
    let mut rows = journal.rows();
    let head: Vec<String> = rows.next().expect("header").iter().map(ToString::to_string).collect();
    let col = |name: &str| head.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"));
    let (code, debit, credit, date, sequence) =
        (col("account_code"), col("debit"), col("credit"), col("effective_date"), col("sequence"));
    let mut by_account: BTreeMap<String, i64> = BTreeMap::new();
    let mut count = 0;
    for row in rows {
        assert!(matches!(row[debit], Data::Float(_)), "debit is a number cell: {:?}", row[debit]);
        assert!(matches!(row[credit], Data::Float(_)), "credit is a number cell: {:?}", row[credit]);
        assert!(matches!(row[date], Data::DateTime(_)), "date is a date cell: {:?}", row[date]);
        assert!(matches!(row[sequence], Data::Float(_)), "sequence is a number: {:?}", row[sequence]);
        *by_account.entry(row[code].to_string()).or_default() += number(&row[debit]) - number(&row[credit]);
        count += 1;
    }
    assert!(count > 10, "{count} journal rows");
    assert_eq!(without_zeros(by_account), tb, "journal sheet against the trial balance");

    let sheet = workbook.worksheet_range("trial balance").expect("trial balance sheet");
    let nets: BTreeMap<String, i64> =
        sheet.rows().skip(1).filter(|r| r[0] != Data::Empty).map(|r| (r[0].to_string(), number(&r[5]))).collect();
    assert_eq!(without_zeros(nets), tb);
    let capital = workbook.worksheet_range("capital accounts").expect("capital accounts sheet");
    assert_eq!(capital.rows().count(), 4, "header and three commitments");
    let accounts = sheet.rows().skip(1).filter(|r| r[0] != Data::Empty).count();

    // Each sheet's table has a filter over its header and rows, and its columns a width.
    let mut archive = zip::ZipArchive::new(Cursor::new(body_bytes)).expect("an XLSX archive");
    let mut part = |name: &str| {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut archive.by_name(name).expect("sheet part"), &mut text).expect("XML");
        text
    };
    for (sheet, filter) in [
        ("xl/worksheets/sheet2.xml", format!("A1:R{}", count + 1)),
        ("xl/worksheets/sheet3.xml", format!("A1:G{}", accounts + 1)),
        ("xl/worksheets/sheet4.xml", "A1:M4".to_string()),
    ] {
        let xml = part(sheet);
        assert!(
            xml.contains(&format!("<autoFilter ref=\"{filter}\"")),
            "{sheet}: filter {filter}: {}",
            &xml[..xml.len().min(1500)]
        );
        assert!(xml.contains("<cols>") && xml.contains("customWidth=\"1\""), "{sheet}: column widths");
    }
}

/// A spreadsheet's date cells start in 1900: an earlier date is written as its text, never as
/// a cell that would show another day.
async fn workbook_dates_show_the_day_they_hold(app: TestApp) {
    let fund = app.create_fund("Old dates fund").await;
    for on in ["1850-06-30", "1900-02-28", "1900-03-01", "2024-02-29"] {
        let body = json!({"effective_date": on, "description": format!("Entry of {on}"), "postings": [
            {"account": "1000", "debit": "1.00"}, {"account": "3900", "credit": "1.00"}]});
        created(&app, &format!("/api/v1/funds/{fund}/journal-entries"), body).await;
    }
    let (_, body) = download(&app, &fund, "workbook.xlsx", "2025-01-01").await;
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(body)).expect("an XLSX file");
    let journal = workbook.worksheet_range("journal").expect("journal sheet");
    let mut rows = journal.rows();
    let head: Vec<String> = rows.next().expect("header").iter().map(ToString::to_string).collect();
    let col = |name: &str| head.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"));
    let (date, description) = (col("effective_date"), col("description"));
    let excel_epoch = chrono::NaiveDate::from_ymd_opt(1899, 12, 30).expect("a date");
    let mut shown: Vec<(String, String)> = rows
        .map(|row| {
            let day = match &row[date] {
                Data::String(text) => format!("text {text}"),
                // Serial days since 1899-12-30, as spreadsheets count them from 1900-03-01 on.
                Data::DateTime(cell) => format!("date {}", excel_epoch + chrono::Days::new(cell.as_f64() as u64)),
                other => panic!("a date cell or its text: {other:?}"),
            };
            (row[description].to_string(), day)
        })
        .collect();
    shown.sort();
    shown.dedup();
    let expected = [
        ("Entry of 1850-06-30", "text 1850-06-30"),
        ("Entry of 1900-02-28", "text 1900-02-28"),
        ("Entry of 1900-03-01", "date 1900-03-01"),
        ("Entry of 2024-02-29", "date 2024-02-29"),
    ];
    let expected: Vec<(String, String)> = expected.iter().map(|(d, s)| (d.to_string(), s.to_string())).collect();
    assert_eq!(shown, expected);
}

async fn trial_balance_and_capital_accounts_csv_match_the_api(app: TestApp) {
    let books = books(&app).await;
    let (_, tb) = trial_balance(&app, &books.fund, AS_OF).await;
    let (headers, body) = download(&app, &books.fund, "trial-balance.csv", AS_OF).await;
    assert!(header(&headers, "content-disposition").ends_with(&format!("-trial-balance-{AS_OF}.csv\"")));
    let (_, rows) = csv_rows(&body);
    let accounts = tb["accounts"].as_array().expect("accounts");
    assert_eq!(rows.len(), accounts.len());
    for (row, account) in rows.iter().zip(accounts) {
        assert_eq!(row["account_code"], account["code"].as_str().unwrap_or_default());
        for (column, field) in [("debit", "debit"), ("credit", "credit"), ("net", "net")] {
            assert_eq!(row[column], account[field].as_str().unwrap_or_default(), "{column} of {row:?}");
        }
    }

    let (_, body) = download(&app, &books.fund, "capital-accounts.csv", AS_OF).await;
    let (preamble, rows) = csv_rows(&body);
    assert!(preamble.contains("export=capital-accounts.csv"));
    assert_eq!(rows.len(), 3);
    let commitments = app.get(&format!("/api/v1/funds/{}/commitments", books.fund), &app.auditor()).await;
    let commitments = commitments.body["items"].as_array().cloned().unwrap_or_default();
    let metrics = app.get(&format!("/api/v1/funds/{}/metrics?as_of={AS_OF}", books.fund), &app.auditor()).await;
    assert_eq!(metrics.status, 200, "{}", metrics.text);
    let mut navs: BTreeMap<String, String> = BTreeMap::new();
    for tranche in [&books.senior, &books.junior] {
        let nav = app
            .get(&format!("/api/v1/funds/{}/tranches/{tranche}/nav?as_of={AS_OF}", books.fund), &app.auditor())
            .await;
        for p in nav.body["positions"].as_array().cloned().unwrap_or_default() {
            navs.insert(
                p["commitment_id"].as_str().unwrap_or_default().into(),
                p["nav"].as_str().unwrap_or_default().into(),
            );
        }
    }
    for row in &rows {
        let commitment = commitments.iter().find(|c| c["id"] == row["commitment_id"].as_str()).expect("commitment");
        for field in ["committed", "called", "paid_in", "unfunded"] {
            assert_eq!(row[field], commitment[field].as_str().unwrap_or_default(), "{field} of {row:?}");
        }
        assert_eq!(row["nav"], navs[&row["commitment_id"]], "nav of {row:?}");
        let investor = metrics.body["investors"]
            .as_array()
            .and_then(|list| list.iter().find(|i| i["id"] == row["investor_id"].as_str()))
            .expect("investor metrics");
        assert_eq!(row["distributed"], investor["distributed"].as_str().unwrap_or_default(), "one position each");
        assert_eq!(row["paid_in"], investor["paid_in"].as_str().unwrap_or_default());
    }
    let senior_b = rows.iter().find(|r| r["investor_name"] == "Senior B").expect("Senior B");
    assert_eq!(senior_b["committed"], "500.00", "initial 400.00 and the increase of 100.00");
    assert_ne!(senior_b["unfunded"], "0.00");
    assert!(rows.iter().any(|r| r["investor_name"] == "Senior A, SA"), "a name with a comma survives quoting");

    // Before the increase and the call: committed as of the date, nothing called.
    let (_, early) = download(&app, &books.fund, "capital-accounts.csv", "2025-01-31").await;
    let (_, early) = csv_rows(&early);
    let senior_b = early.iter().find(|r| r["investor_name"] == "Senior B").expect("Senior B");
    assert_eq!(senior_b["committed"], "400.00");
    assert_ne!(senior_b["called"], "0.00");
    assert_eq!(senior_b["distributed"], "0.00");
    let (_, before_call) = download(&app, &books.fund, "capital-accounts.csv", "2024-12-31").await;
    let (_, before_call) = csv_rows(&before_call);
    assert!(before_call.iter().all(|r| r["called"] == "0.00" && r["paid_in"] == "0.00"));
}

async fn only_readers_of_all_books_may_export_by_token_or_session(app: TestApp) {
    let fund = app.create_fund("Guarded fund").await;
    let url = |name: &str| format!("{}/api/v1/funds/{fund}/exports/{name}", app.address);
    for role in [Role::Investor, Role::Sme, Role::Facility] {
        let token = app.token(role, "01934b7e-0000-7000-8000-000000000001");
        let reply = app.send(app.client.get(url("journal.csv")).bearer_auth(token)).await;
        assert_problem(&reply, 403, None);
    }
    for role in [Role::Staff, Role::Admin] {
        let reply = app.send(app.client.get(url("journal.csv")).bearer_auth(app.token(role, "someone"))).await;
        assert_eq!(reply.status, 200, "{role}: {}", reply.text);
    }
    let anonymous = reqwest::Client::new();
    let reply = app.send(anonymous.get(url("journal.csv"))).await;
    assert_problem(&reply, 401, None);
    // A browser session: the cookie carries the same signed token as a login sets.
    let reply = app
        .send(anonymous.get(url("journal.hledger")).header("Cookie", format!("investai_session={}", app.auditor())))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(reply.text.starts_with("; InvestAI ledger export"));
    // An empty journal: no entry covered, the genesis hash, still a header row.
    assert_eq!(header(&reply.headers, "x-ledger-last-sequence"), "0");
    assert_eq!(header(&reply.headers, "x-ledger-last-hash"), "0".repeat(64));
    let investor_session = app
        .send(
            anonymous
                .get(url("journal.csv"))
                .header("Cookie", format!("investai_session={}", app.token(Role::Investor, "x"))),
        )
        .await;
    assert_problem(&investor_session, 403, None);
    let bad_cookie = app.send(anonymous.get(url("journal.csv")).header("Cookie", "investai_session=not-a-token")).await;
    assert_problem(&bad_cookie, 401, None);
    // Capital accounts of a fund without waterfall terms: figures, and no NAV.
    let tranche = id(&created(
        &app,
        &format!("/api/v1/funds/{fund}/tranches"),
        json!({"name": "Only", "seniority": 1, "target_size": "100.00", "pref_rate": "0"}),
    )
    .await);
    let source = id(&created(
        &app,
        "/api/v1/sources",
        json!({"kind": "private", "legal_name": "Lone investor", "country": "IT"}),
    )
    .await);
    created(
        &app,
        &format!("/api/v1/funds/{fund}/commitments"),
        json!({"source_id": source, "tranche_id": tranche, "amount": "100.00", "effective_date": "2025-01-01"}),
    )
    .await;
    let (_, capital) = download(&app, &fund, "capital-accounts.csv", AS_OF).await;
    let (_, capital) = csv_rows(&capital);
    assert_eq!(capital.len(), 1);
    assert_eq!((capital[0]["committed"].as_str(), capital[0]["unfunded"].as_str()), ("100.00", "100.00"));
    assert_eq!(capital[0]["nav"], "", "no waterfall terms, no NAV");
    let fund = app.create_fund("Empty fund").await;
    let (_, empty) = download(&app, &fund, "journal.csv", AS_OF).await;
    let (_, rows) = csv_rows(&empty);
    assert!(rows.is_empty());
    assert_eq!(String::from_utf8(empty).expect("UTF-8").lines().nth(1), Some("entry_id,sequence,effective_date,line,account_code,account_name,account_kind,debit,credit,currency,description,event_type,event_id,actor,party_id,memo,reverses_entry_id,entry_hash"));
}

async fn bad_requests_are_problems(app: TestApp) {
    let fund = app.create_fund("Problem fund").await;
    let auditor = app.auditor();
    let reply = app.get(&format!("/api/v1/funds/{fund}/exports/journal.pdf"), &auditor).await;
    assert_problem(&reply, 404, None);
    let reply = app.get(&format!("/api/v1/funds/{fund}/exports/journal.csv?as_of=2026-13-01"), &auditor).await;
    assert_problem(&reply, 400, Some("query.as_of"));
    let reply = app.get(&format!("/api/v1/funds/{fund}/exports/journal.csv?as_of=yesterday"), &auditor).await;
    assert_problem(&reply, 400, Some("query.as_of"));
    // Beancount asserts balances on the day after as_of, which needs a four-digit year.
    let reply = app.get(&format!("/api/v1/funds/{fund}/exports/journal.beancount?as_of=9999-12-31"), &auditor).await;
    assert_problem(&reply, 400, Some("query.as_of"));
    let reply = app.get(&format!("/api/v1/funds/{fund}/exports/journal.beancount?as_of=9999-12-30"), &auditor).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(reply.text.contains("9999-12-31 balance") && !reply.text.contains("+10000"), "{}", reply.text);
    let reply = app.get("/api/v1/funds/01934b7e-0000-7000-8000-000000000000/exports/journal.csv", &auditor).await;
    assert_problem(&reply, 404, None);
    let reply = app.get("/api/v1/funds/not-a-uuid/exports/journal.csv", &auditor).await;
    assert_problem(&reply, 400, Some("fund_id"));
    // Without as_of: today.
    let reply = app.get(&format!("/api/v1/funds/{fund}/exports/trial-balance.csv"), &auditor).await;
    assert_eq!(reply.status, 200);
    let today = chrono::Utc::now().date_naive().to_string();
    assert_eq!(header(&reply.headers, "x-ledger-as-of"), today);
}

async fn an_export_covers_the_chain_as_it_stood_when_it_started(app: TestApp) {
    use investai::storage::export::{snapshot, write_export, ExportKind};
    let books = books(&app).await;
    let as_of = chrono::NaiveDate::from_ymd_opt(2027, 12, 31).expect("date");
    let meta = {
        let mut conn = app.conn();
        snapshot(&mut conn, ExportKind::JournalCsv, &books.fund, as_of, "now".into(), None).expect("snapshot")
    };
    // An entry posted while the export runs is not in it, and the balances agree.
    let late = json!({"effective_date": "2026-04-01", "description": "During the export", "postings": [
        {"account": "5000", "debit": "3.00"}, {"account": "1000", "credit": "3.00"}]});
    created(&app, &format!("/api/v1/funds/{}/journal-entries", books.fund), late).await;
    let mut out = Vec::new();
    let written = {
        let mut conn = app.conn();
        write_export(&mut conn, ExportKind::JournalCsv, &meta, None, &mut out).expect("export")
    };
    let (_, rows) = csv_rows(&out);
    assert_eq!(rows.len() as u64, written.postings);
    assert!(rows.iter().all(|r| r["description"] != "During the export"));
    assert!(rows.iter().all(|r| r["sequence"].parse::<i64>().expect("sequence") <= meta.last_sequence));
    let mut out = Vec::new();
    {
        let mut conn = app.conn();
        let tb_meta =
            snapshot(&mut conn, ExportKind::TrialBalanceCsv, &books.fund, as_of, "now".into(), None).expect("meta");
        assert_eq!(tb_meta.last_sequence, meta.last_sequence + 1);
        write_export(&mut conn, ExportKind::TrialBalanceCsv, &meta, None, &mut out).expect("trial balance");
    }
    let (_, tb_rows) = csv_rows(&out);
    let cash = tb_rows.iter().find(|r| r["account_code"] == "5000").expect("5000");
    let from_journal: i64 =
        rows.iter().filter(|r| r["account_code"] == "5000").map(|r| cents(&r["debit"]) - cents(&r["credit"])).sum();
    assert_eq!(cents(&cash["net"]), from_journal, "the snapshot's trial balance leaves the new entry out too");
}

/// Runs a ledger tool on a file; the exit status and what it printed.
fn run_tool(program: &str, args: &[&std::ffi::OsStr]) -> (bool, String) {
    let output = std::process::Command::new(program).args(args).output().unwrap_or_else(|e| {
        panic!("these tests run the real {program} and it could not be started ({e}): scripts/test installs it")
    });
    let said = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), said)
}

/// The amount after `marker` on each line holding it, by the account code before it.
fn asserted(text: &str, marker: &str, code_of: impl Fn(&str) -> Option<String>) -> BTreeMap<String, i64> {
    text.lines()
        .filter_map(|line| {
            let (head, amount) = line.split_once(marker)?;
            let amount = amount.trim().trim_start_matches("EUR ").trim_end_matches(" EUR");
            let amount = amount.split(" ~ ").next().unwrap_or(amount);
            Some((code_of(head)?, cents(amount)))
        })
        .collect()
}

/// The hledger journal is in date order, as `hledger check ordereddates` wants, and asserts
/// every account's balance at its end: hledger checks them, and they are the trial balance's.
async fn hledger_checks_its_dates_in_order_and_the_balances_it_asserts(app: TestApp) {
    let books = books(&app).await;
    let (tb, _) = trial_balance(&app, &books.fund, AS_OF).await;
    let (_, body) = download(&app, &books.fund, "journal.hledger", AS_OF).await;
    let text = String::from_utf8(body).expect("UTF-8");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("books.journal");
    std::fs::write(&file, &text).expect("write journal");
    let check = |file: &std::path::Path| {
        run_tool(
            "hledger",
            &["-f".as_ref(), file.as_os_str(), "check".as_ref(), "-s".as_ref(), "ordereddates".as_ref()],
        )
    };
    let (ok, said) = check(&file);
    assert!(ok, "hledger check -s ordereddates: {said}");
    let dates: Vec<&str> = text
        .lines()
        .filter(|l| l.len() > 10 && l.as_bytes()[4] == b'-' && l.contains(" * "))
        .map(|l| &l[..10])
        .collect();
    assert!(dates.windows(2).all(|w| w[0] <= w[1]), "{dates:?}");
    assert_eq!(dates.last(), Some(&AS_OF), "the assertions are dated as_of");
    let balances = asserted(&text, " = ", |head| {
        head.trim().split_once(':').and_then(|(_, rest)| rest.split(' ').next()).map(str::to_string)
    });
    assert_eq!(without_zeros(balances.clone()), tb, "asserted balances against the trial balance");
    assert!(balances.len() > tb.len(), "zero balances are asserted too");
    // A wrong figure fails hledger's check.
    let (code, cents_now) = tb.iter().next().map(|(c, v)| (c.clone(), *v)).expect("an account");
    let amount = |v: i64| format!("{}{}.{:02}", if v < 0 { "-" } else { "" }, v.abs() / 100, v.abs() % 100);
    let line = text
        .lines()
        .find(|l| {
            l.contains(" = ") && l.trim_start().split(':').nth(1).is_some_and(|r| r.starts_with(&format!("{code} ")))
        })
        .expect("the assertion");
    let tampered = text.replace(
        line,
        &line.replace(&format!("= EUR {}", amount(cents_now)), &format!("= EUR {}", amount(cents_now + 1))),
    );
    assert_ne!(tampered, text);
    let wrong = dir.path().join("tampered.journal");
    std::fs::write(&wrong, tampered).expect("write journal");
    let (ok, said) = check(&wrong);
    assert!(!ok, "a wrong asserted balance must fail: {said}");
}

/// The beancount ledger passes `bean-check`: accounts opened before use, every transaction
/// balanced, and a balance directive per account equal to the trial balance.
async fn beancount_passes_bean_check_and_balances_to_the_trial_balance(app: TestApp) {
    let books = books(&app).await;
    let (tb, _) = trial_balance(&app, &books.fund, AS_OF).await;
    let (headers, body) = download(&app, &books.fund, "journal.beancount", AS_OF).await;
    assert!(header(&headers, "content-type").starts_with("text/plain"));
    assert!(header(&headers, "content-disposition").contains("journal-2026-06-30.beancount"), "{headers:?}");
    let text = String::from_utf8(body).expect("UTF-8");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("books.beancount");
    std::fs::write(&file, &text).expect("write ledger");
    let (ok, said) = run_tool("bean-check", &[file.as_os_str()]);
    assert!(ok && said.trim().is_empty(), "bean-check: {said}");
    let balances = asserted(&text, "  ", |head| {
        let mut words = head.split_whitespace();
        let account = match (words.next(), words.next(), words.next()) {
            (Some(_date), Some("balance"), Some(account)) => account,
            _ => return None,
        };
        let component = account.split(':').nth(1)?;
        // `3100-01-Contributed-…` is code 3100.01; `1000-Cash-…` is 1000.
        let mut parts = component.split('-');
        let code = parts.next()?.to_string();
        match parts.next() {
            Some(sub) if sub.len() == 2 && sub.chars().all(|c| c.is_ascii_digit()) => Some(format!("{code}.{sub}")),
            _ => Some(code),
        }
    });
    assert_eq!(without_zeros(balances), tb, "balance directives against the trial balance");
    assert!(text.contains("2026-07-01 balance "), "checked at the start of the day after as_of");
    assert!(!text.contains("Next year"), "entries after as_of are left out");
    assert!(
        text.contains(r#"Advisory fees, \"Q1\"  (two  spaces); 50% paid | rest later"#),
        "descriptions kept as written"
    );
    assert!(text.trim_end().lines().last().is_some_and(|l| l.starts_with("; end of export: ")));
    // A wrong balance fails bean-check.
    let line = text.lines().find(|l| l.split_whitespace().nth(1) == Some("balance")).expect("a balance directive");
    let (head, amount) = line.rsplit_once("  ").expect("amount");
    let (figure, tolerance) = amount.split_once(" ~ ").expect("an exact check");
    assert_eq!(tolerance, "0.00 EUR", "balances are checked to the cent");
    let plus_a_cent = cents(figure) + 1;
    let sign = if plus_a_cent < 0 { "-" } else { "" };
    let changed = format!("{head}  {sign}{}.{:02} ~ {tolerance}", plus_a_cent.abs() / 100, plus_a_cent.abs() % 100);
    let tampered = text.replace(line, &changed);
    let wrong = dir.path().join("tampered.beancount");
    std::fs::write(&wrong, tampered).expect("write ledger");
    let (ok, said) = run_tool("bean-check", &[wrong.as_os_str()]);
    assert!(!ok, "a wrong balance must fail bean-check: {said}");
}

/// The trial balance totals the fund's own accounts and, apart, the memorandum accounts of
/// unfunded commitments (1,600.00 committed less 1,300.00 called), in the API and on the page.
async fn memorandum_accounts_are_totalled_apart(app: TestApp) {
    let books = books(&app).await;
    let tb = app.get(&format!("/api/v1/funds/{}/trial-balance?as_of={AS_OF}", books.fund), &app.auditor()).await;
    assert_eq!(tb.status, 200, "{}", tb.text);
    let accounts = tb.body["accounts"].as_array().expect("accounts");
    let side = |memorandum: bool, field: &str| -> i64 {
        accounts
            .iter()
            .filter(|a| ["9000", "9100"].contains(&a["code"].as_str().unwrap_or_default()) == memorandum)
            .map(|a| cents(a[field].as_str().expect("amount")))
            .sum()
    };
    assert_eq!(cents(tb.body["total_debit"].as_str().expect("total")), side(false, "debit"), "{}", tb.text);
    assert_eq!(cents(tb.body["total_credit"].as_str().expect("total")), side(false, "credit"));
    assert_eq!(tb.body["memorandum_total_debit"], "300.00", "{}", tb.text);
    assert_eq!(tb.body["memorandum_total_credit"], "300.00");
    assert_eq!((side(true, "debit"), side(true, "credit")), (30_000, 30_000));
    assert_eq!(tb.body["balanced"], true);
    let browser = app.browser_as("audra-memo", Role::Auditor, None).await;
    let page =
        common::pages::get(&browser, &app, &format!("/audit/trial-balance?fund_id={}&as_of={AS_OF}", books.fund)).await;
    assert!(page.text.contains("Memorandum accounts (unfunded commitments), totalled apart"), "{}", page.text);
}

/// An account's ledger names each posting's counterparty, shows no raw id in its text, and
/// pages through 25 entries at a time with the balance brought forward; so does the journal.
async fn ledgers_name_counterparties_and_page_through(app: TestApp) {
    let books = books(&app).await;
    for day in 1..=30 {
        let body = json!({"effective_date": format!("2026-04-{day:02}"), "description": format!("Fee {day}"), "postings": [
            {"account": "5000", "debit": "1.00"}, {"account": "1000", "credit": "1.00"}]});
        created(&app, &format!("/api/v1/funds/{}/journal-entries", books.fund), body).await;
    }
    let browser = app.browser_as("audra-ledgers", Role::Auditor, None).await;
    let get = |path: String| {
        let browser = browser.clone();
        let app = &app;
        async move { common::pages::get(&browser, app, &path).await }
    };
    let receivable = get(format!("/audit/ledger/{}/1100?as_of={AS_OF}", books.fund)).await;
    assert_eq!(receivable.status, 200, "{}", receivable.text);
    assert!(receivable.text.contains(">Counterparty</th>"), "a counterparty column: {}", receivable.text);
    for investor in ["Senior A, SA", "Senior B", "EU budget"] {
        assert!(receivable.text.contains(investor), "{investor} named in the ledger: {}", receivable.text);
    }
    let sources = app.get("/api/v1/sources", &app.staff()).await;
    for source in sources.body["items"].as_array().or(sources.body.as_array()).expect("sources") {
        let id = source["id"].as_str().expect("id");
        assert!(!receivable.text.contains(id), "no raw id of a counterparty on the page: {id}");
    }

    // 31 postings to 5000 up to as_of: 25 on the first page, 6 on the next, which brings
    // forward the first page's balance; the last balance is the trial balance's.
    let first = get(format!("/audit/ledger/{}/5000?as_of={AS_OF}", books.fund)).await;
    let next = first
        .text
        .split("href=\"")
        .find(|l| l.contains("after="))
        .and_then(|l| l.split('"').next())
        .expect("a next page");
    let rows = |text: &str| text.matches("/audit/entries/").count();
    assert_eq!(rows(&first.text), 25, "{}", first.text);
    let second = get(next.replace("&#38;", "&").replace("&amp;", "&")).await;
    assert_eq!(second.status, 200, "{}", second.text);
    assert_eq!(rows(&second.text), 6, "{}", second.text);
    assert!(
        second.text.contains("Brought forward") && second.text.contains("EUR 36.34"),
        "12.34 + 24 x 1.00: {}",
        second.text
    );
    let (tb, _) = trial_balance(&app, &books.fund, AS_OF).await;
    assert_eq!(tb["5000"], 4_234);
    assert!(second.text.contains("EUR 42.34"), "{}", second.text);
    let journal = get(format!("/audit/journal?fund_id={}", books.fund)).await;
    assert!(journal.text.contains("Next page"), "the journal pages through too");
}

on_both_backends!(
    journal_csv_matches_the_trial_balance_and_the_chain,
    journal_jsonl_lines_parse_and_match_the_trial_balance,
    hledger_reads_the_journal_and_balances_to_the_cent,
    hledger_checks_its_dates_in_order_and_the_balances_it_asserts,
    beancount_passes_bean_check_and_balances_to_the_trial_balance,
    workbook_has_number_cells_that_sum_to_the_trial_balance,
    workbook_dates_show_the_day_they_hold,
    trial_balance_and_capital_accounts_csv_match_the_api,
    memorandum_accounts_are_totalled_apart,
    ledgers_name_counterparties_and_page_through,
    only_readers_of_all_books_may_export_by_token_or_session,
    bad_requests_are_problems,
    an_export_covers_the_chain_as_it_stood_when_it_started,
);
