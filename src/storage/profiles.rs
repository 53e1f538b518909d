//! An SME's profile: its company, figures, related enterprises and declarations, stated once
//! and reused by every application. Drafts made from the profile follow it until they are
//! submitted; a submitted application keeps what it was submitted with.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::grants::{follow_profile, Enterprise};
use super::schema::sme_profiles;
use super::{now_micros, DbConnection};
use crate::domain::eligibility::{classify_enterprise, EnterpriseFigures, RuleApplied, SmeCategory};
use crate::error::{AppError, AppResult};

/// An SME's profile with the category it gives, every rule applied in words.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SmeProfile {
    pub sme_id: String,
    /// Starts at 1 and grows by one with every change.
    pub version: i64,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "crate::domain::time::utc")]
    pub updated_at: NaiveDateTime,
    pub enterprise: Enterprise,
    pub sme_category: SmeCategory,
    /// Figures that count in the latest period (partners pro rata, linked in full).
    pub aggregated: EnterpriseFigures,
    pub rules: Vec<RuleApplied>,
    /// Drafts that took the new profile with this change.
    pub drafts_updated: usize,
}

fn view(
    sme_id: &str,
    version: i64,
    updated_at: NaiveDateTime,
    enterprise: Enterprise,
    drafts: usize,
) -> AppResult<SmeProfile> {
    let classification =
        classify_enterprise(&enterprise.figures, enterprise.previous_period.as_ref(), &enterprise.related)?;
    Ok(SmeProfile {
        sme_id: sme_id.into(),
        version,
        updated_at,
        enterprise,
        sme_category: classification.category,
        aggregated: classification.aggregated,
        rules: classification.rules,
        drafts_updated: drafts,
    })
}

fn load(conn: &mut DbConnection, sme_id: &str) -> AppResult<Option<(String, i64, NaiveDateTime)>> {
    Ok(sme_profiles::table
        .find(sme_id)
        .select((sme_profiles::profile_json, sme_profiles::version, sme_profiles::updated_at))
        .first(conn)
        .optional()?)
}

fn parse(sme_id: &str, json: &str) -> AppResult<Enterprise> {
    serde_json::from_str(json).map_err(|_| AppError::internal(format!("profile of {sme_id} is malformed")))
}

/// The enterprise of an SME's profile, if it has one.
pub fn profile_enterprise(conn: &mut DbConnection, sme_id: &str) -> AppResult<Option<Enterprise>> {
    load(conn, sme_id)?.map(|(json, _, _)| parse(sme_id, &json)).transpose()
}

pub fn get_profile(conn: &mut DbConnection, sme_id: &str) -> AppResult<SmeProfile> {
    let (json, version, updated_at) =
        load(conn, sme_id)?.ok_or_else(|| AppError::not_found(format!("profile of SME {sme_id}")))?;
    view(sme_id, version, updated_at, parse(sme_id, &json)?, 0)
}

/// Saves an SME's profile (the next version) and brings its drafts made from the profile up
/// to date, in the caller's transaction.
pub fn put_profile(
    conn: &mut DbConnection,
    sme_id: &str,
    enterprise: Enterprise,
    actor: &str,
) -> AppResult<SmeProfile> {
    let json = serde_json::to_string(&enterprise).map_err(AppError::internal)?;
    let now = now_micros();
    let version = match load(conn, sme_id)? {
        Some((_, version, _)) => {
            let next = version + 1;
            diesel::update(sme_profiles::table.find(sme_id))
                .set((
                    sme_profiles::profile_json.eq(&json),
                    sme_profiles::version.eq(next),
                    sme_profiles::updated_at.eq(now),
                    sme_profiles::actor.eq(actor),
                ))
                .execute(conn)?;
            next
        }
        None => {
            diesel::insert_into(sme_profiles::table)
                .values((
                    sme_profiles::sme_id.eq(sme_id),
                    sme_profiles::profile_json.eq(&json),
                    sme_profiles::version.eq(1_i64),
                    sme_profiles::updated_at.eq(now),
                    sme_profiles::actor.eq(actor),
                ))
                .execute(conn)?;
            1
        }
    };
    let drafts = follow_profile(conn, sme_id, &enterprise)?;
    view(sme_id, version, now, enterprise, drafts)
}
