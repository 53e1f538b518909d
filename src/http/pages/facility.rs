//! Facility-operator pages: capacity by quarter, the awards at the facility, and usage
//! uploaded as a CSV file or Slurm accounting output with a result for every line, the Slurm
//! accounts mapped to awards and the files received.

use crate::i18n::{phrase, verbatim, Lang};
use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest};
use futures_util::StreamExt;

use super::charts::{self, BarRow};
use super::forms::{api_body, Field, FieldKind, FormData, FormSpec};
use super::view::{gpu_hours, group_thousands, Card, Cell, Page, Section, Table};
use super::{done, render, render_status, Done, PageResult, Session};
use crate::domain::hours::{GpuHours, Quarter};
use crate::domain::roles::Role;
use crate::domain::usage::USAGE_BATCH_RECORDS_MAX;
use crate::domain::usage_feeds::{self, csv::USAGE_COLUMNS, LineResult};
use crate::error::{AppError, Message};
use crate::http::api::usage as api;
use crate::http::AppState;
use crate::storage::awards::{Award, AwardFilter};
use crate::storage::usage_import::{self, Channel, ImportReport, ImportSummary, SlurmAccount};
use crate::storage::{awards, facility_statement, structure};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(upload_form).service(upload_post).service(template_csv).service(slurm_account_post);
}

/// Largest usage file accepted: 10,000 rows of about 150 bytes, with room to spare.
pub const USAGE_FILE_BYTES_MAX: usize = 4 * 1024 * 1024;
/// Bytes the text fields of an upload (its CSRF token) may carry together.
pub const UPLOAD_FIELDS_BYTES_MAX: usize = 16 * 1024;
/// Quarters shown before and after the current one.
const QUARTERS_AROUND: i32 = 4;

pub async fn dashboard(state: &AppState, req: &HttpRequest, session: &Session) -> PageResult {
    let facility_id = session.principal.subject.clone();
    let now = Quarter::of(crate::http::api::capital::today());
    let (from, to) = (Quarter::from_key(now.key() - QUARTERS_AROUND), Quarter::from_key(now.key() + QUARTERS_AROUND));
    let id = facility_id.clone();
    let loaded = state
        .read_db(move |conn| {
            let facility = structure::get_facility(conn, &id)?;
            let capacity = awards::facility_capacity(conn, &id, from, to)?;
            let statements = (from.key()..=to.key())
                .map(|key| facility_statement::facility_statement(conn, &id, Quarter::from_key(key)))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((facility, capacity, statements))
        })
        .await;
    let (facility, capacity, statements) = match loaded {
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
    // The chart's three parts, then what they add up to: used and reserved-unused are the
    // reserved hours, so the table and the chart say the same.
    let mut table = Table::new(
        "Capacity by quarter (GPU-hours)",
        &["Quarter", "#Capacity", "#Used", "#Reserved, unused", "#Free", "#Reserved by awards"],
    );
    for q in &capacity.quarters {
        table.row(vec![
            Cell::text(q.quarter.clone()),
            Cell::hours(q.capacity_gpu_hours),
            Cell::hours(q.used_gpu_hours),
            Cell::hours(q.reserved_gpu_hours.saturating_sub(q.used_gpu_hours)),
            Cell::hours(q.free_gpu_hours),
            Cell::hours(q.reserved_gpu_hours),
        ]);
    }
    let lang = crate::i18n::Lang::current().tag();
    let mut payable = Table::new(
        "Payable by quarter (EUR)",
        &["Quarter", "#Records", "#GPU-hours used", "#Payable (EUR)", "Statement"],
    );
    for statement in &statements {
        payable.row(vec![
            Cell::text(statement.quarter.clone()),
            Cell::num(statement.records.to_string()),
            Cell::hours(statement.used_gpu_hours),
            Cell::money(statement.payable),
            Cell::link(
                "PDF",
                format!("/api/v1/facilities/{facility_id}/statements/{}/pdf?lang={lang}", statement.quarter),
            ),
        ]);
    }
    let awards = super::grants::facility_awards(state, req, &facility_id).await?;
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
        .card(Card::new("Payable").text(phrase("page-facility-payable-intro", &[])).with(Section::Table(payable)))
        .card(awards)
        .card(Card::new("Usage").with(Section::Links(vec![
            super::view::link("Upload usage (CSV or Slurm)", "/facility/usage"),
            super::view::link("CSV template", "/facility/usage/template.csv"),
        ])));
    render(&page)
}

fn upload_spec(session: &Session) -> FormSpec {
    let mut form = FormSpec::new(
        "/facility/usage",
        "Upload",
        &session.csrf_token,
        vec![Field::new("file", "Usage file (CSV or Slurm sacct)", FieldKind::File).hint(phrase(
            "page-usage-file-hint",
            &[("columns", USAGE_COLUMNS.join(",")), ("rows", USAGE_BATCH_RECORDS_MAX.to_string())],
        ))],
    );
    form.multipart = true;
    form
}

fn slurm_spec(session: &Session, awards: &[Award]) -> FormSpec {
    let options = awards.iter().map(|a| (a.id.clone(), format!("{} ({})", a.legal_name, a.id))).collect();
    FormSpec::new(
        "/facility/slurm-accounts",
        "Map account",
        &session.csrf_token,
        vec![
            Field::new("account", "Slurm account", FieldKind::Text).hint(phrase(
                "page-slurm-account-hint",
                &[("max", usage_feeds::slurm::SLURM_ACCOUNT_LENGTH_MAX.to_string())],
            )),
            Field::new("award_id", "Award", FieldKind::Select).options(options),
        ],
    )
}

/// What the upload page shows besides its forms: the facility's awards, Slurm accounts and
/// latest usage files.
struct UsageContext {
    awards: Vec<Award>,
    accounts: Vec<SlurmAccount>,
    history: Vec<ImportSummary>,
}

async fn usage_context(state: &AppState, session: &Session) -> PageResult<UsageContext> {
    let facility_id = session.principal.subject.clone();
    let context = state
        .db(move |conn| {
            let filter = AwardFilter { facility_id: Some(facility_id.clone()), ..Default::default() };
            Ok(UsageContext {
                awards: awards::list_awards(conn, &filter)?,
                accounts: usage_import::list_slurm_accounts(conn, &facility_id)?,
                history: usage_import::import_history(conn, &facility_id)?,
            })
        })
        .await?;
    Ok(context)
}

fn upload_page(session: &Session, context: &UsageContext, forms: (FormSpec, FormSpec), result: Option<Card>) -> Page {
    let (upload, slurm) = forms;
    let mut page = Page::new(session.layout("/facility/usage"), "Upload usage").card(
        Card::new("Usage file")
            .with(Section::Form(upload))
            .with(Section::Links(vec![super::view::link("CSV template", "/facility/usage/template.csv")])),
    );
    if let Some(card) = result {
        page = page.card(card);
    }
    page.card(slurm_card(context, slurm)).card(history_card(&context.history))
}

fn slurm_card(context: &UsageContext, form: FormSpec) -> Card {
    let mut table = Table::new("Slurm accounts", &["Slurm account", "Award", "SME", "Set by", "Set at"]);
    for account in &context.accounts {
        let sme = context.awards.iter().find(|a| a.id == account.award_id).map(|a| a.legal_name.clone());
        table.row(vec![
            Cell::text(account.account.clone()),
            Cell::text(account.award_id.clone()),
            Cell::text(sme.unwrap_or_default()),
            Cell::text(account.set_by.clone()),
            Cell::text(account.set_at.format("%Y-%m-%d %H:%M UTC").to_string()),
        ]);
    }
    Card::new("Slurm accounts")
        .text(phrase("page-slurm-accounts-intro", &[]))
        .with(Section::Table(table.empty("No Slurm account mapped yet.")))
        .with(Section::Form(form))
}

fn history_card(history: &[ImportSummary]) -> Card {
    let mut table = Table::new(
        "Usage files",
        &[
            "Received",
            "File",
            "Format",
            "Sent by",
            "#Lines",
            "#Counted",
            "#Replayed",
            "#Duplicates",
            "#Refused",
            "#Skipped",
            "#Malformed",
            "#GPU-hours counted",
        ],
    );
    for import in history {
        let c = &import.counts;
        table.row(vec![
            Cell::text(import.imported_at.format("%Y-%m-%d %H:%M UTC").to_string()),
            Cell::text(import.file_name.clone()),
            Cell::text(import.file_format.clone()),
            Cell::text(import.imported_by.clone()),
            Cell::num(c.lines.to_string()),
            Cell::num(c.counted.to_string()),
            Cell::num(c.replayed.to_string()),
            Cell::num(c.duplicates.to_string()),
            Cell::num(c.refused.to_string()),
            Cell::num(c.skipped.to_string()),
            Cell::num(c.malformed.to_string()),
            Cell::hours(import.gpu_hours),
        ]);
    }
    Card::new("Usage files").with(Section::Table(table.empty("No usage file received yet.")))
}

#[get("/facility/usage")]
async fn upload_form(state: web::Data<AppState>, req: HttpRequest, session: Session) -> PageResult {
    session.require(&[Role::Facility])?;
    let context = usage_context(&state, &session).await?;
    let forms = (upload_spec(&session), slurm_spec(&session, &context.awards));
    render(&upload_page(&session, &context, forms, None).flash(super::Done::from_query(&req)))
}

/// A CSV file to fill in: the header, and a line per award with hours left with its id, the other
/// cells left empty (so the template counts nothing if sent unfilled).
#[get("/facility/usage/template.csv")]
async fn template_csv(state: web::Data<AppState>, session: Session) -> PageResult {
    session.require(&[Role::Facility])?;
    let context = usage_context(&state, &session).await?;
    let mut csv = format!("{}\r\n", USAGE_COLUMNS.join(","));
    for award in context.awards.iter().filter(|a| !a.remaining_gpu_hours.is_zero()) {
        csv.push_str(&format!(",{},,,\r\n", award.id));
    }
    Ok(actix_web::HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", "attachment; filename=\"usage-template.csv\""))
        .body(csv))
}

/// The fields of a multipart upload: text fields and the one file (with its name). The file
/// and the text fields have a bound each, so the whole request is bounded however many parts
/// it sends.
async fn read_upload(mut payload: Multipart) -> Result<(FormData, String, Vec<u8>), AppError> {
    let mut fields = Vec::new();
    let mut fields_bytes = 0;
    let mut file = None;
    let mut file_name = String::new();
    while let Some(part) = payload.next().await {
        let mut part = part.map_err(unreadable)?;
        let name = part.name().unwrap_or_default().to_string();
        let is_file = name == "file";
        if is_file && file.is_some() {
            return Err(AppError::invalid("file", Message::new("msg-upload-one-file")));
        }
        let (field, max) = if is_file { ("file", USAGE_FILE_BYTES_MAX) } else { ("form", UPLOAD_FIELDS_BYTES_MAX) };
        let part_file_name = part.content_disposition().and_then(|d| d.get_filename()).unwrap_or_default().to_string();
        let mut bytes = Vec::new();
        while let Some(chunk) = part.next().await {
            let chunk = chunk.map_err(unreadable)?;
            let so_far = if is_file { bytes.len() } else { fields_bytes + bytes.len() };
            if so_far + chunk.len() > max {
                return Err(AppError::invalid(field, Message::new("msg-upload-too-large").count("max", max)));
            }
            bytes.extend_from_slice(&chunk);
        }
        if is_file {
            file = Some(bytes);
            file_name = part_file_name;
        } else {
            fields_bytes += bytes.len();
            fields.push((name, String::from_utf8_lossy(&bytes).into_owned()));
        }
    }
    Ok((FormData(fields), file_name, file.unwrap_or_default()))
}

fn unreadable(error: actix_multipart::MultipartError) -> AppError {
    AppError::invalid("file", Message::new("msg-upload-unreadable").text("error", error.to_string()))
}

/// The result of a usage file: counts, then every line that did not simply count.
fn result_card(report: &ImportReport) -> Card {
    let lang = Lang::current();
    let count = |n: usize| n.to_string();
    let mut table = Table::new("Result by line", &["Line", "Record id", "Award", "#GPU-hours", "Result"]);
    for line in &report.lines {
        let reason = line.reason.as_ref().map(|r| r.in_lang(lang)).unwrap_or_default();
        let result = match line.result {
            LineResult::Counted => phrase("page-usage-line-counted", &[]),
            LineResult::Replayed => phrase("page-usage-line-replayed", &[]),
            LineResult::Duplicate => {
                phrase("page-usage-line-duplicate", &[("line", line.duplicate_of_line.unwrap_or_default().to_string())])
            }
            LineResult::Refused => {
                phrase("page-usage-refused", &[("code", line.code.clone().unwrap_or_default()), ("reason", reason)])
            }
            LineResult::Skipped => phrase("page-usage-line-skipped", &[("reason", reason)]),
            LineResult::Malformed => phrase(
                "page-usage-line-malformed",
                &[("column", line.column.clone().unwrap_or_default()), ("reason", reason)],
            ),
        };
        table.row(vec![
            Cell::num(line.line.to_string()),
            Cell::text(line.record_id.clone().unwrap_or_default()),
            Cell::text(line.award_id.clone().unwrap_or_default()),
            line.gpu_hours.map_or_else(|| Cell::text(String::new()), Cell::hours),
            Cell::text(result),
        ]);
    }
    let c = &report.counts;
    Card::new("Result")
        .with(Section::Facts(vec![
            super::view::fact("Format", report.file_format.code()),
            super::view::fact("Lines", count(c.lines)),
            super::view::fact("Counted now", count(c.counted)),
            super::view::fact("Already counted before (replays)", count(c.replayed)),
            super::view::fact("Duplicates within this file", count(c.duplicates)),
            super::view::fact("Refused", count(c.refused)),
            super::view::fact("Skipped", count(c.skipped)),
            super::view::fact("Malformed", count(c.malformed)),
            super::view::fact("GPU-hours counted now", gpu_hours(report.gpu_hours)),
        ]))
        .with(Section::Table(table))
}

fn app_error(error: super::PageError) -> AppError {
    match error {
        super::PageError::App(error) => error,
        super::PageError::SignIn => AppError::Unauthorized("sign in again".into()),
    }
}

#[post("/facility/usage")]
async fn upload_post(state: web::Data<AppState>, session: Session, payload: Multipart) -> PageResult {
    session.require(&[Role::Facility])?;
    let outcome = async {
        let (fields, file_name, file) = read_upload(payload).await?;
        session.check(&state, &fields).map_err(app_error)?;
        let (format, lines) = api::read_usage_file(&file)?;
        api::import_file(&state, &session.principal, (format, file_name, Channel::Page), lines).await
    }
    .await;
    let context = usage_context(&state, &session).await?;
    let slurm = slurm_spec(&session, &context.awards);
    match outcome {
        Ok(report) => {
            render(&upload_page(&session, &context, (upload_spec(&session), slurm), Some(result_card(&report))))
        }
        Err(AppError::Forbidden(reason)) => Err(AppError::Forbidden(reason).into()),
        Err(error) => {
            let status = actix_web::ResponseError::status_code(&error);
            let form = upload_spec(&session).with_error(&error);
            render_status(
                &upload_page(&session, &context, (form, slurm), None),
                if status.is_server_error() { StatusCode::INTERNAL_SERVER_ERROR } else { status },
            )
        }
    }
}

#[post("/facility/slurm-accounts")]
async fn slurm_account_post(state: web::Data<AppState>, session: Session, body: web::Bytes) -> PageResult {
    session.require(&[Role::Facility])?;
    let posted = session.read_form(&state, &body)?;
    let context = usage_context(&state, &session).await?;
    let form = slurm_spec(&session, &context.awards);
    let account = posted.get("account").unwrap_or_default().trim().to_string();
    let outcome = async {
        let body = api_body::<api::SlurmAccountRequest>(&form.fields[1..], &posted)?;
        api::set_slurm_account(state.clone(), session.principal.clone(), web::Path::from(account), body).await
    }
    .await;
    match outcome {
        Ok(_) => done("/facility/usage", Done::SlurmAccount),
        Err(error) => {
            let status = actix_web::ResponseError::status_code(&error);
            let form = form.refill(&posted).with_error(&error);
            render_status(&upload_page(&session, &context, (upload_spec(&session), form), None), status)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_names_the_columns_the_reader_wants() {
        let lines = usage_feeds::csv::parse(format!("{}\nr,x,1,a,b\n", USAGE_COLUMNS.join(",")).as_bytes()).unwrap();
        assert_eq!(lines.len(), 1);
    }
}
