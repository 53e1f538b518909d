//! Usage metering by facility operators: batches of GPU-hour records against awards.

use crate::http::routes::RouteTable;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::domain::hours::GpuHours;
use crate::domain::roles::Role;
use crate::domain::usage::{UsageRecord, USAGE_BATCH_RECORDS_MAX};
use crate::domain::usage_feeds::cloudevents::{self, CLOUDEVENTS_BATCH_MEDIA_TYPE};
use crate::domain::usage_feeds::{self, FileFormat, ParsedLine};
use crate::error::{AppError, AppResult, FieldError, Message};
use crate::http::extract::{parse_json, RawBody, ValidJson, ValidQuery};
use crate::http::AppState;
use crate::storage::usage::{self, UsageReport};
use crate::storage::usage_import::{self, Channel, ImportReport, ImportSummary, SlurmAccount};
use crate::storage::write_tx;

pub fn routes(table: &mut RouteTable) {
    table.post("/usage", report_usage);
    table.post("/usage/imports", import_usage_file);
    table.get("/usage/imports", list_usage_imports);
    table.get("/usage/slurm-accounts", list_slurm_accounts);
    table.put("/usage/slurm-accounts/{account}", set_slurm_account);
}

/// One metered record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UsageRecordRequest {
    /// The facility's own id for the record (1 to 128 visible ASCII characters); counted once.
    pub record_id: String,
    #[schema(value_type = uuid::Uuid)]
    #[serde(deserialize_with = "crate::http::extract::uuid_text")]
    pub award_id: String,
    /// Up to 3 decimals, as a string (`"1.250"`) or a whole number.
    #[schema(value_type = GpuHoursValue, example = "1.250")]
    pub gpu_hours: GpuHours,
    #[schema(value_type = String, format = DateTime)]
    #[serde(deserialize_with = "crate::domain::time::rfc3339")]
    pub period_start: DateTime<Utc>,
    #[schema(value_type = String, format = DateTime)]
    #[serde(deserialize_with = "crate::domain::time::rfc3339")]
    pub period_end: DateTime<Utc>,
}

/// How GPU-hours may be written (the document's view of `GpuHours`, which parses both).
#[derive(ToSchema, serde::Serialize)]
#[serde(untagged)]
#[allow(dead_code)]
enum GpuHoursValue {
    /// Up to 3 decimals, e.g. `"1.250"`.
    Decimal(String),
    /// A whole number of hours.
    Whole(u64),
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UsageBatchRequest {
    /// 1 to 10,000 records.
    pub records: Vec<UsageRecordRequest>,
}

/// One usage event of a CloudEvents batch (`application/cloudevents-batch+json`).
#[derive(ToSchema, serde::Serialize)]
#[allow(dead_code)]
struct UsageEvent {
    /// `1.0`
    specversion: String,
    /// `eu.investai.usage.gpu_hours`
    #[serde(rename = "type")]
    kind: String,
    /// The meter that sent it.
    source: String,
    /// The record id: counted once.
    id: String,
    /// The award.
    #[schema(value_type = uuid::Uuid)]
    subject: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    time: Option<String>,
    /// `application/json` when given.
    datacontenttype: Option<String>,
    data: UsageEventData,
}

/// The metered figures of a usage event.
#[derive(ToSchema, serde::Serialize)]
#[allow(dead_code)]
struct UsageEventData {
    #[schema(value_type = GpuHoursValue)]
    gpu_hours: String,
    #[schema(value_type = String, format = DateTime)]
    period_start: String,
    #[schema(value_type = String, format = DateTime)]
    period_end: String,
}

/// Report GPU-hours used against awards (facility operators), as this service's JSON batch or
/// as a CloudEvents batch (`application/cloudevents-batch+json`: one
/// `eu.investai.usage.gpu_hours` event per record, the event id as record id, the award as
/// subject). A record id counts once, however often and in whatever batch it is sent: a
/// replay answers with the original result and debits nothing. Records for another
/// facility's award, outside the award's period, or above its remaining hours are refused
/// one by one, with the reason; the rest are counted.
#[utoipa::path(post, path = "/usage", tag = "grants", security(("bearer" = [])),
    request_body(content(
        (UsageBatchRequest = "application/json"),
        (Vec<UsageEvent> = "application/cloudevents-batch+json"))),
    responses((status = 200, body = UsageReport),
        (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 413, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 415, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn report_usage(state: web::Data<AppState>, principal: Principal, body: RawBody) -> AppResult<HttpResponse> {
    principal.require(&[Role::Facility])?;
    let records = match body.media_type.as_str() {
        "application/json" => parse_json::<UsageBatchRequest>(&body.raw)?.records.into_iter().map(record_of).collect(),
        CLOUDEVENTS_BATCH_MEDIA_TYPE => {
            let batch: serde_json::Value = parse_json(&body.raw)?;
            cloudevents::parse(&batch).map_err(|errors| {
                AppError::Validation(errors.into_iter().map(|(path, m)| FieldError::message(path, m)).collect())
            })?
        }
        _ => {
            return Err(AppError::UnsupportedMediaType(format!(
                "send the body as Content-Type: application/json or {CLOUDEVENTS_BATCH_MEDIA_TYPE}"
            )))
        }
    };
    Ok(HttpResponse::Ok().json(ingest_records(&state, &principal, records).await?))
}

fn record_of(r: UsageRecordRequest) -> UsageRecord {
    UsageRecord {
        record_id: r.record_id,
        award_id: r.award_id,
        gpu_hours: r.gpu_hours,
        period_start: r.period_start.naive_utc(),
        period_end: r.period_end.naive_utc(),
    }
}

/// Counts a facility's batch of usage records (the API's answer, and the upload page's).
pub async fn ingest_batch(
    state: &AppState,
    principal: &Principal,
    batch: UsageBatchRequest,
) -> AppResult<usage::UsageReport> {
    ingest_records(state, principal, batch.records.into_iter().map(record_of).collect()).await
}

async fn ingest_records(state: &AppState, principal: &Principal, records: Vec<UsageRecord>) -> AppResult<UsageReport> {
    principal.require(&[Role::Facility])?;
    if records.is_empty() || records.len() > USAGE_BATCH_RECORDS_MAX {
        return Err(AppError::invalid(
            "records",
            Message::new("msg-usage-batch-size").count("max", USAGE_BATCH_RECORDS_MAX),
        ));
    }
    let facility_id = principal.subject.clone();
    let actor = principal.actor();
    state.db(move |conn| write_tx(conn, |c| usage::ingest(c, &facility_id, &records, &actor))).await
}

/// Reads a usage file of either format, the format told by its header.
pub fn read_usage_file(file: &[u8]) -> AppResult<(FileFormat, Vec<ParsedLine>)> {
    let format = FileFormat::detect(file);
    let parsed = match format {
        FileFormat::Csv => usage_feeds::csv::parse(file),
        FileFormat::Slurm => usage_feeds::slurm::parse(file),
    };
    parsed.map(|lines| (format, lines)).map_err(|m| AppError::invalid("file", m))
}

/// Counts a read usage file for the facility the principal speaks for.
pub async fn import_file(
    state: &AppState,
    principal: &Principal,
    (format, file_name, channel): (FileFormat, String, Channel),
    lines: Vec<ParsedLine>,
) -> AppResult<ImportReport> {
    principal.require(&[Role::Facility])?;
    let facility_id = principal.subject.clone();
    let actor = principal.actor();
    state
        .db(move |conn| {
            write_tx(conn, |c| usage_import::import(c, &facility_id, (format, &file_name, channel), &lines, &actor))
        })
        .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// The file's name, kept in the facility's import history.
    pub file_name: Option<String>,
}

/// Import a usage file (facility operators): this service's CSV (`record_id, award_id,
/// gpu_hours, period_start, period_end`) or Slurm's accounting output
/// (`TZ=UTC sacct --parsable2 --format=JobID,Account,AllocTRES,Start,End`), told apart by the
/// header. Every line is answered: counted, replayed, a duplicate of an earlier line, refused
/// (with its code and reason), skipped (a job step, a job without GPUs) or malformed (with
/// its column and reason); the lines that can count are counted. A Slurm job's award is
/// found by its account (`/usage/slurm-accounts`) and its record id is `slurm-<JobID>`.
#[utoipa::path(post, path = "/usage/imports", tag = "grants", security(("bearer" = [])), params(ImportQuery),
    request_body(content((String = "text/csv"), (String = "text/plain"))),
    responses((status = 200, body = ImportReport),
        (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 413, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 415, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn import_usage_file(
    state: web::Data<AppState>,
    principal: Principal,
    query: ValidQuery<ImportQuery>,
    body: RawBody,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Facility])?;
    if !matches!(body.media_type.as_str(), "text/csv" | "text/plain") {
        return Err(AppError::UnsupportedMediaType("send the file as Content-Type: text/csv or text/plain".into()));
    }
    let (format, lines) = read_usage_file(&body.raw)?;
    let name = query.0.file_name.unwrap_or_default();
    Ok(HttpResponse::Ok().json(import_file(&state, &principal, (format, name, Channel::Api), lines).await?))
}

/// The facility's latest usage files, newest first (facility operators).
#[utoipa::path(get, path = "/usage/imports", tag = "grants", security(("bearer" = [])),
    responses((status = 200, body = [ImportSummary])))]
pub async fn list_usage_imports(state: web::Data<AppState>, principal: Principal) -> AppResult<HttpResponse> {
    principal.require(&[Role::Facility])?;
    let facility_id = principal.subject.clone();
    let history = state.db(move |conn| usage_import::import_history(conn, &facility_id)).await?;
    Ok(HttpResponse::Ok().json(history))
}

/// The facility's Slurm accounts and the award each bills (facility operators).
#[utoipa::path(get, path = "/usage/slurm-accounts", tag = "grants", security(("bearer" = [])),
    responses((status = 200, body = [SlurmAccount])))]
pub async fn list_slurm_accounts(state: web::Data<AppState>, principal: Principal) -> AppResult<HttpResponse> {
    principal.require(&[Role::Facility])?;
    let facility_id = principal.subject.clone();
    let accounts = state.db(move |conn| usage_import::list_slurm_accounts(conn, &facility_id)).await?;
    Ok(HttpResponse::Ok().json(accounts))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlurmAccountRequest {
    /// An award of this facility.
    #[schema(value_type = uuid::Uuid)]
    #[serde(deserialize_with = "crate::http::extract::uuid_text")]
    pub award_id: String,
}

/// Map a Slurm account to the award its jobs bill (facility operators); a mapped account is
/// moved to the award given. Names are kept in lower case, as Slurm keeps them.
#[utoipa::path(put, path = "/usage/slurm-accounts/{account}", tag = "grants", security(("bearer" = [])),
    params(("account" = String, Path, description = "1 to 64 letters, digits, -, _ or .")),
    request_body = SlurmAccountRequest,
    responses((status = 200, body = SlurmAccount),
        (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn set_slurm_account(
    state: web::Data<AppState>,
    principal: Principal,
    account: web::Path<String>,
    body: ValidJson<SlurmAccountRequest>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Facility])?;
    let facility_id = principal.subject.clone();
    let actor = principal.actor();
    let account = account.into_inner();
    let award_id = body.value.award_id;
    let mapped = state
        .db(move |conn| {
            write_tx(conn, |c| usage_import::set_slurm_account(c, &facility_id, &account, &award_id, &actor))
        })
        .await?;
    Ok(HttpResponse::Ok().json(mapped))
}
