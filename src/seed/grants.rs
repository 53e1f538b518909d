//! Compute-grant records of a fixture: SMEs, grant calls, applications with their reviews
//! and awards, and metered usage. Each goes through the same validation and storage
//! functions as the API, so the demo's grants obey every rule real ones do.

use serde::Deserialize;
use serde_json::Value;

use super::{Keys, SEED_ACTOR};
use crate::domain::hours::GpuHours;
use crate::domain::usage::UsageRecord;
use crate::error::{AppError, AppResult};
use crate::http::api::grants::{ApplicationRequest, NewGrantCallRequest};
use crate::storage::{awards, grants, usage, write_tx, DbConnection};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmeRecord {
    /// The SME's party id is made when the fixture loads; users refer to it by this key.
    pub key: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantCallRecord {
    pub key: String,
    /// The API's request body, with `fund_id` and `eligible_facility_ids` as fixture keys.
    pub request: Value,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewRecord {
    pub reviewer: String,
    pub score: i32,
    pub comment: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicationRecord {
    pub key: String,
    pub call: String,
    pub sme: String,
    /// The API's request body, with `facility_id` as a fixture key.
    pub request: Value,
    #[serde(default)]
    pub submit: bool,
    #[serde(default)]
    pub reviews: Vec<ReviewRecord>,
    /// Awarded when present (`null`: left for staff to decide).
    pub award_gpu_hours: Option<GpuHours>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageBatchRecord {
    pub facility: String,
    pub records: Vec<UsageLine>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageLine {
    pub record_id: String,
    /// The application whose award the hours are debited from.
    pub application: String,
    pub gpu_hours: GpuHours,
    #[serde(deserialize_with = "crate::domain::time::rfc3339")]
    pub period_start: chrono::DateTime<chrono::Utc>,
    #[serde(deserialize_with = "crate::domain::time::rfc3339")]
    pub period_end: chrono::DateTime<chrono::Utc>,
}

/// Replaces the fixture key held at `field` by the id it stands for.
fn resolve(request: &mut Value, field: &str, keys: &Keys, referrer: &str) -> AppResult<()> {
    match request.get_mut(field) {
        Some(Value::String(key)) => *key = keys.get(key, referrer)?,
        Some(Value::Array(items)) => {
            for item in items.iter_mut() {
                if let Value::String(key) = item {
                    *key = keys.get(key, referrer)?;
                }
            }
        }
        _ => return Err(AppError::internal(format!("fixture: {referrer} has no {field}"))),
    }
    Ok(())
}

fn parse<T: serde::de::DeserializeOwned>(request: Value, referrer: &str) -> AppResult<T> {
    serde_json::from_value(request).map_err(|e| AppError::internal(format!("fixture: {referrer}: {e}")))
}

pub(super) fn load_smes(records: &[SmeRecord], keys: &mut Keys) -> AppResult<()> {
    for r in records {
        keys.put(&r.key, uuid::Uuid::now_v7().to_string())?;
    }
    Ok(())
}

pub(super) fn load_calls(conn: &mut DbConnection, records: &[GrantCallRecord], keys: &mut Keys) -> AppResult<()> {
    for r in records {
        let mut request = r.request.clone();
        resolve(&mut request, "fund_id", keys, &r.key)?;
        resolve(&mut request, "eligible_facility_ids", keys, &r.key)?;
        let new = parse::<NewGrantCallRequest>(request, &r.key)?.validate(SEED_ACTOR.to_string())?;
        let call = write_tx(conn, |c| grants::create_call(c, new.clone()))?;
        keys.put(&r.key, call.id)?;
    }
    Ok(())
}

pub(super) fn load_applications(
    conn: &mut DbConnection,
    records: &[ApplicationRecord],
    keys: &mut Keys,
) -> AppResult<()> {
    for r in records {
        let mut request = r.request.clone();
        resolve(&mut request, "facility_id", keys, &r.key)?;
        let input = parse::<ApplicationRequest>(request, &r.key)?.validate()?;
        let (call_id, sme_id) = (keys.get(&r.call, &r.key)?, keys.get(&r.sme, &r.key)?);
        let application = write_tx(conn, |c| grants::create_application(c, &call_id, &sme_id, input.clone()))?;
        if r.submit {
            write_tx(conn, |c| grants::submit(c, &application.id))?;
        }
        for review in &r.reviews {
            write_tx(conn, |c| {
                grants::add_review(c, &application.id, &review.reviewer, review.score, &review.comment)
            })?;
        }
        if let Some(hours) = r.award_gpu_hours {
            let award = write_tx(conn, |c| awards::award(c, &application.id, Some(hours), SEED_ACTOR))?;
            keys.put(&format!("{}#award", r.key), award.id)?;
        }
        keys.put(&r.key, application.id)?;
    }
    Ok(())
}

pub(super) fn load_usage(conn: &mut DbConnection, batches: &[UsageBatchRecord], keys: &Keys) -> AppResult<()> {
    for batch in batches {
        let facility_id = keys.get(&batch.facility, "usage")?;
        let records = batch
            .records
            .iter()
            .map(|line| {
                Ok(UsageRecord {
                    record_id: line.record_id.clone(),
                    award_id: keys.get(&format!("{}#award", line.application), &line.record_id)?,
                    gpu_hours: line.gpu_hours,
                    period_start: line.period_start.naive_utc(),
                    period_end: line.period_end.naive_utc(),
                })
            })
            .collect::<AppResult<Vec<_>>>()?;
        let actor = format!("facility:{facility_id}");
        let report = write_tx(conn, |c| usage::ingest(c, &facility_id, &records, &actor))?;
        if report.refused > 0 {
            return Err(AppError::internal(format!("fixture: {} usage records refused", report.refused)));
        }
    }
    Ok(())
}
