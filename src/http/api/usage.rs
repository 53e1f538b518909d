//! Usage metering by facility operators: batches of GPU-hour records against awards.

use crate::http::routes::RouteTable;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::ToSchema;

use super::grants::micros;
use crate::auth::Principal;
use crate::domain::hours::GpuHours;
use crate::domain::roles::Role;
use crate::domain::usage::{UsageRecord, USAGE_BATCH_RECORDS_MAX};
use crate::error::{AppError, AppResult, Message};
use crate::http::extract::ValidJson;
use crate::http::AppState;
use crate::storage::usage::{self, UsageReport};
use crate::storage::write_tx;

pub fn routes(table: &mut RouteTable) {
    table.post("/usage", report_usage);
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
    #[serde(deserialize_with = "rfc3339")]
    pub period_start: DateTime<Utc>,
    #[schema(value_type = String, format = DateTime)]
    #[serde(deserialize_with = "rfc3339")]
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

/// RFC 3339 through chrono's dedicated parser: a batch carries 20,000 timestamps, and the
/// generic `FromStr` behind `DateTime`'s own serde impl is several times slower.
fn rfc3339<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    let text = <std::borrow::Cow<'de, str> as Deserialize>::deserialize(deserializer)?;
    DateTime::parse_from_rfc3339(&text)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|e| serde::de::Error::custom(format!("not an RFC 3339 timestamp such as 2026-06-01T08:00:00Z: {e}")))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UsageBatchRequest {
    /// 1 to 10,000 records.
    pub records: Vec<UsageRecordRequest>,
}

/// Report GPU-hours used against awards (facility operators). A record id counts once,
/// however often and in whatever batch it is sent: a replay answers with the original result
/// and debits nothing. Records for another facility's award, outside the award's period, or
/// above its remaining hours are refused one by one, with the reason; the rest are counted.
#[utoipa::path(post, path = "/usage", tag = "grants", security(("bearer" = [])), request_body = UsageBatchRequest,
    responses((status = 200, body = UsageReport),
        (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 413, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn report_usage(
    state: web::Data<AppState>,
    principal: Principal,
    body: ValidJson<UsageBatchRequest>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(ingest_batch(&state, &principal, body.value).await?))
}

/// Counts a facility's batch of usage records (the API's answer, and the upload page's).
pub async fn ingest_batch(
    state: &AppState,
    principal: &Principal,
    batch: UsageBatchRequest,
) -> AppResult<usage::UsageReport> {
    principal.require(&[Role::Facility])?;
    let requests = batch.records;
    if requests.is_empty() || requests.len() > USAGE_BATCH_RECORDS_MAX {
        return Err(AppError::invalid(
            "records",
            Message::new("msg-usage-batch-size").count("max", USAGE_BATCH_RECORDS_MAX),
        ));
    }
    let records: Vec<UsageRecord> = requests
        .into_iter()
        .map(|r| UsageRecord {
            record_id: r.record_id,
            award_id: r.award_id,
            gpu_hours: r.gpu_hours,
            period_start: micros(r.period_start),
            period_end: micros(r.period_end),
        })
        .collect();
    let facility_id = principal.subject.clone();
    let actor = principal.actor();
    state.db(move |conn| write_tx(conn, |c| usage::ingest(c, &facility_id, &records, &actor))).await
}
