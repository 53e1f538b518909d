//! Facility-operator pages: capacity by quarter, the awards at the facility, and usage
//! uploaded as a CSV file with a result for every row.

use crate::i18n::{phrase, verbatim, Lang};
use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest};
use futures_util::StreamExt;
use serde_json::{json, Value};

use super::charts::{self, BarRow};
use super::forms::{Field, FieldKind, FormData, FormSpec};
use super::view::{gpu_hours, group_thousands, Card, Cell, Page, Section, Table};
use super::{render, render_status, PageResult, Session};
use crate::domain::hours::{GpuHours, Quarter};
use crate::domain::roles::Role;
use crate::domain::usage::USAGE_BATCH_RECORDS_MAX;
use crate::error::{AppError, Message};
use crate::http::api::usage as api;
use crate::http::extract::parse_json;
use crate::http::AppState;
use crate::storage::usage::UsageReport;
use crate::storage::{awards, structure};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(upload_form).service(upload_post);
}

/// Largest usage file accepted: 10,000 rows of about 150 bytes, with room to spare.
pub const USAGE_FILE_BYTES_MAX: usize = 4 * 1024 * 1024;
/// The columns a usage file must have, in its header row.
const USAGE_COLUMNS: [&str; 5] = ["record_id", "award_id", "gpu_hours", "period_start", "period_end"];
/// Quarters shown before and after the current one.
const QUARTERS_AROUND: i32 = 4;

pub async fn dashboard(state: &AppState, req: &HttpRequest, session: &Session) -> PageResult {
    let facility_id = session.principal.subject.clone();
    let now = Quarter::of(crate::http::api::capital::today());
    let (from, to) = (Quarter::from_key(now.key() - QUARTERS_AROUND), Quarter::from_key(now.key() + QUARTERS_AROUND));
    let id = facility_id.clone();
    let loaded = state
        .db(move |conn| Ok((structure::get_facility(conn, &id)?, awards::facility_capacity(conn, &id, from, to)?)))
        .await;
    let (facility, capacity) = match loaded {
        Ok(loaded) => loaded,
        Err(AppError::NotFound(_)) => {
            let card = Card::new("Facility not registered")
                .text(phrase("page-no-such-facility", &[("id", facility_id.to_string())]));
            return render(&Page::new(session.layout("/"), "Your facility").card(card));
        }
        Err(other) => return Err(other.into()),
    };
    let rows: Vec<BarRow> = capacity
        .quarters
        .iter()
        .map(|q| BarRow {
            label: q.quarter.clone(),
            values: vec![
                q.used_gpu_hours.milli(),
                q.reserved_gpu_hours.milli().saturating_sub(q.used_gpu_hours.milli()),
                q.free_gpu_hours.milli(),
            ],
            note: format!("{} GPU-h", gpu_hours(q.capacity_gpu_hours)),
        })
        .collect();
    let chart = charts::stacked_bars(
        "capacity",
        "Capacity by quarter",
        "GPU-hours of each quarter: used, reserved by awards but not yet used, and free.",
        &charts::series(&["Used", "Reserved, unused", "Free"]),
        &rows,
        |thousandths| format!("{} GPU-h", gpu_hours(GpuHours::from_milli(thousandths))),
    );
    let mut table = Table::new(
        "Capacity by quarter (GPU-hours)",
        &["Quarter", "#Capacity", "#Reserved", "#Used", "#Free", "Statement"],
    );
    let lang = crate::i18n::Lang::current().tag();
    for q in &capacity.quarters {
        table.row(vec![
            Cell::text(q.quarter.clone()),
            Cell::hours(q.capacity_gpu_hours),
            Cell::hours(q.reserved_gpu_hours),
            Cell::hours(q.used_gpu_hours),
            Cell::hours(q.free_gpu_hours),
            Cell::link("PDF", format!("/api/v1/facilities/{facility_id}/statements/{}/pdf?lang={lang}", q.quarter)),
        ]);
    }
    let awards_table = super::grants::facility_awards(state, &facility_id).await?;
    let lang = Lang::current();
    let page = Page::new(session.layout("/"), verbatim(capacity.name.clone()))
        .subtitle(phrase(
            "page-facility-subtitle",
            &[
                ("kind", lang.name_of("facility-kind", &facility.kind)),
                ("country", facility.member_state.clone()),
                ("chips", lang.value(&group_thousands(&facility.chip_count.to_string()))),
                ("chip_type", facility.chip_type.clone()),
                ("hours", lang.value(&group_thousands(&facility.quarterly_capacity_gpu_hours.to_string()))),
            ],
        ))
        .flash(super::Done::from_query(req))
        .card(Card::new("Capacity").with(Section::Chart(chart)).with(Section::Table(table)))
        .card(Card::new("Awards").with(Section::Table(awards_table.empty("No award at this facility yet."))))
        .card(
            Card::new("Usage").with(Section::Links(vec![super::view::link("Upload usage (CSV)", "/facility/usage")])),
        );
    render(&page)
}

fn upload_spec(session: &Session) -> FormSpec {
    let mut form = FormSpec::new(
        "/facility/usage",
        "Upload",
        &session.csrf_token,
        vec![Field::new("file", "Usage file (CSV)", FieldKind::File).hint(phrase(
            "page-usage-file-hint",
            &[("columns", USAGE_COLUMNS.join(",")), ("rows", USAGE_BATCH_RECORDS_MAX.to_string())],
        ))],
    );
    form.multipart = true;
    form
}

fn upload_page(session: &Session, form: FormSpec, result: Option<Card>) -> Page {
    let mut page = Page::new(session.layout("/facility/usage"), "Upload usage")
        .card(Card::new("Usage file").with(Section::Form(form)));
    if let Some(card) = result {
        page = page.card(card);
    }
    page
}

#[get("/facility/usage")]
async fn upload_form(session: Session) -> PageResult {
    session.require(&[Role::Facility])?;
    render(&upload_page(&session, upload_spec(&session), None))
}

/// The fields of a multipart upload: text fields and the one file, bounded in size.
async fn read_upload(mut payload: Multipart) -> Result<(FormData, Vec<u8>), AppError> {
    let mut fields = Vec::new();
    let mut file = Vec::new();
    while let Some(part) = payload.next().await {
        let mut part = part.map_err(unreadable)?;
        let name = part.name().unwrap_or_default().to_string();
        let mut bytes = Vec::new();
        while let Some(chunk) = part.next().await {
            let chunk = chunk.map_err(unreadable)?;
            if bytes.len() + chunk.len() > USAGE_FILE_BYTES_MAX {
                return Err(AppError::invalid(
                    "file",
                    Message::new("msg-upload-too-large").count("max", USAGE_FILE_BYTES_MAX),
                ));
            }
            bytes.extend_from_slice(&chunk);
        }
        if name == "file" {
            file = bytes;
        } else {
            fields.push((name, String::from_utf8_lossy(&bytes).into_owned()));
        }
    }
    Ok((FormData(fields), file))
}

fn unreadable(error: actix_multipart::MultipartError) -> AppError {
    AppError::invalid("file", Message::new("msg-upload-unreadable").text("error", error.to_string()))
}

/// The API body for a usage file: one record per row, named by the header.
pub fn usage_body(file: &[u8]) -> Result<Vec<u8>, AppError> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(file);
    let headers = reader
        .headers()
        .map_err(|e| AppError::invalid("file", Message::new("msg-upload-not-csv").text("error", e.to_string())))?
        .clone();
    let positions: Vec<usize> = USAGE_COLUMNS
        .iter()
        .map(|column| {
            headers.iter().position(|h| h.eq_ignore_ascii_case(column)).ok_or_else(|| {
                AppError::invalid("file", Message::new("msg-upload-columns").text("columns", USAGE_COLUMNS.join(",")))
            })
        })
        .collect::<Result<_, _>>()?;
    let mut records = Vec::new();
    for (index, row) in reader.records().enumerate() {
        let row = row.map_err(|e| {
            AppError::invalid(
                "file",
                Message::new("msg-upload-row").count("row", index + 2).text("error", e.to_string()),
            )
        })?;
        if records.len() == USAGE_BATCH_RECORDS_MAX {
            return Err(AppError::invalid(
                "file",
                Message::new("msg-upload-rows").count("max", USAGE_BATCH_RECORDS_MAX),
            ));
        }
        let cell = |column: usize| row.get(positions[column]).unwrap_or_default().to_string();
        records.push(json!({
            "record_id": cell(0),
            "award_id": cell(1),
            "gpu_hours": cell(2),
            "period_start": cell(3),
            "period_end": cell(4),
        }));
    }
    if records.is_empty() {
        return Err(AppError::field("file", "the file has no rows below its header"));
    }
    serde_json::to_vec(&json!({ "records": records })).map_err(AppError::internal)
}

/// `records[3].gpu_hours` in an API error → `row 5 (gpu_hours)`: rows counted as in a
/// spreadsheet, the header being row 1.
fn row_of(field: &str) -> String {
    let Some(rest) = field.strip_prefix("records[") else { return field.to_string() };
    let Some((index, column)) = rest.split_once(']') else { return field.to_string() };
    match index.parse::<usize>() {
        Ok(index) => format!("row {} ({})", index + 2, column.trim_start_matches('.')),
        Err(_) => field.to_string(),
    }
}

fn result_card(body: &[u8], report: &UsageReport) -> Card {
    let records: Vec<Value> = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("records").and_then(Value::as_array).cloned())
        .unwrap_or_default();
    let count = |n: usize| n.to_string();
    let lang = crate::i18n::Lang::current();
    let mut table = Table::new("Result by row", &["Row", "Record id", "Award", "#GPU-hours", "Result"]);
    for (index, record) in records.iter().enumerate() {
        let result = match report.refusals.iter().find(|r| r.index == index) {
            Some(refusal) => phrase(
                "page-usage-refused",
                &[("code", refusal.code.clone()), ("reason", refusal.reason.in_lang(lang))],
            ),
            None => "counted".to_string(),
        };
        let text = |key: &str| record.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
        table.row(vec![
            Cell::num((index + 2).to_string()),
            Cell::text(text("record_id")),
            Cell::text(text("award_id")),
            Cell::num(text("gpu_hours")),
            Cell::text(result),
        ]);
    }
    Card::new("Result")
        .with(Section::Facts(vec![
            super::view::fact("Rows", count(report.records)),
            super::view::fact("Counted now", count(report.new)),
            super::view::fact("Already counted before (replays)", count(report.replayed)),
            super::view::fact("Refused", count(report.refused)),
        ]))
        .with(Section::Table(table))
}

#[post("/facility/usage")]
async fn upload_post(state: web::Data<AppState>, session: Session, payload: Multipart) -> PageResult {
    session.require(&[Role::Facility])?;
    let outcome = async {
        let (fields, file) = read_upload(payload).await?;
        session.check(&state, &fields).map_err(|e| match e {
            super::PageError::App(error) => error,
            super::PageError::SignIn => AppError::Unauthorized("sign in again".into()),
        })?;
        let raw = usage_body(&file)?;
        let value = parse_json(&raw).map_err(|error| {
            let errors = error
                .field_errors()
                .iter()
                .map(|f| format!("{}: {}", row_of(&f.field), f.reason.in_lang(Lang::current())))
                .collect::<Vec<_>>();
            AppError::field("file", if errors.is_empty() { error.to_string() } else { errors.join("; ") })
        })?;
        let report = api::ingest_batch(&state, &session.principal, value).await?;
        Ok::<_, AppError>((raw, report))
    }
    .await;
    match outcome {
        Ok((raw, report)) => render(&upload_page(&session, upload_spec(&session), Some(result_card(&raw, &report)))),
        Err(AppError::Forbidden(reason)) => Err(AppError::Forbidden(reason).into()),
        Err(error) => {
            let status = actix_web::ResponseError::status_code(&error);
            let form = upload_spec(&session).with_error(&error);
            render_status(
                &upload_page(&session, form, None),
                if status.is_server_error() { StatusCode::INTERNAL_SERVER_ERROR } else { status },
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_usage_file_becomes_the_api_batch() {
        let file = b"record_id,award_id,gpu_hours,period_start,period_end\nr-1, a-1 ,1.5,2026-06-01T08:00:00Z,2026-06-01T09:30:00Z\n";
        let body: Value = serde_json::from_slice(&usage_body(file).unwrap()).unwrap();
        assert_eq!(body["records"][0]["award_id"], "a-1");
        assert_eq!(body["records"][0]["gpu_hours"], "1.5");
    }

    #[test]
    fn a_file_without_the_columns_is_refused_with_the_reason() {
        let error = usage_body(b"id,hours\n1,2\n").unwrap_err();
        assert_eq!(error.field_errors()[0].field, "file");
        assert!(usage_body(b"record_id,award_id,gpu_hours,period_start,period_end\n").is_err());
    }

    #[test]
    fn api_paths_are_shown_as_spreadsheet_rows() {
        assert_eq!(row_of("records[0].gpu_hours"), "row 2 (gpu_hours)");
        assert_eq!(row_of("file"), "file");
    }
}
