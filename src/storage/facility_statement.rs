//! A facility's quarterly statement: usage counted in the quarter its period starts (as the
//! capacity figures count it) and the subsidy payable, award by award, summed from the very
//! cents each usage record posted.

use chrono::NaiveDate;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use serde::Serialize;
use utoipa::ToSchema;

use super::awards::award_row;
use super::schema::usage_records;
use super::structure::get_facility;
use super::DbConnection;
use crate::domain::hours::{GpuHours, Quarter};
use crate::domain::money::Cents;
use crate::error::{AppError, AppResult};

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FacilityStatementLine {
    pub award_id: String,
    pub sme_id: String,
    pub legal_name: String,
    pub call_id: String,
    pub records: i64,
    #[schema(value_type = String)]
    pub gpu_hours: GpuHours,
    #[schema(value_type = String)]
    pub subsidy: Cents,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FacilityStatement {
    pub facility_id: String,
    pub facility_name: String,
    /// `2026-Q3`
    pub quarter: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    #[schema(value_type = String)]
    pub capacity_gpu_hours: GpuHours,
    pub records: i64,
    #[schema(value_type = String)]
    pub used_gpu_hours: GpuHours,
    /// The subsidy owed to the facility for the quarter's usage.
    #[schema(value_type = String)]
    pub payable: Cents,
    /// One line per award with usage in the quarter, by beneficiary name.
    pub lines: Vec<FacilityStatementLine>,
}

fn start_micros(day: NaiveDate) -> i64 {
    day.and_time(chrono::NaiveTime::MIN).and_utc().timestamp_micros()
}

/// The statement of `facility_id` for `quarter`.
pub fn facility_statement(
    conn: &mut DbConnection,
    facility_id: &str,
    quarter: Quarter,
) -> AppResult<FacilityStatement> {
    let facility = get_facility(conn, facility_id)?;
    let sums: Vec<(String, i64, i64, i64)> = usage_records::table
        .filter(usage_records::facility_id.eq(facility_id))
        .filter(usage_records::period_start_us.ge(start_micros(quarter.first_day())))
        .filter(usage_records::period_start_us.lt(start_micros(quarter.next().first_day())))
        .group_by(usage_records::award_id)
        .select((
            usage_records::award_id,
            sql::<BigInt>("CAST(COUNT(*) AS BIGINT)"),
            sql::<BigInt>("CAST(SUM(milli_hours) AS BIGINT)"),
            sql::<BigInt>("CAST(SUM(subsidy_cents) AS BIGINT)"),
        ))
        .load(conn)?;
    let mut lines = Vec::with_capacity(sums.len());
    for (award_id, records, milli, subsidy) in sums {
        let award = award_row(conn, &award_id)?;
        lines.push(FacilityStatementLine {
            award_id,
            sme_id: award.sme_id,
            legal_name: award.legal_name,
            call_id: award.call_id,
            records,
            gpu_hours: GpuHours::from_milli(milli),
            subsidy: Cents::new(subsidy),
        });
    }
    lines.sort_by(|a, b| (&a.legal_name, &a.award_id).cmp(&(&b.legal_name, &b.award_id)));
    let payable = Cents::sum(lines.iter().map(|l| l.subsidy))?;
    let used = lines.iter().try_fold(0_i64, |sum, l| sum.checked_add(l.gpu_hours.milli()));
    let used = used.ok_or_else(|| AppError::internal("usage hours overflow"))?;
    Ok(FacilityStatement {
        facility_id: facility.id,
        facility_name: facility.name,
        quarter: quarter.to_string(),
        from: quarter.first_day(),
        to: quarter.last_day(),
        capacity_gpu_hours: GpuHours::from_whole(facility.quarterly_capacity_gpu_hours).map_err(AppError::internal)?,
        records: lines.iter().map(|l| l.records).sum(),
        used_gpu_hours: GpuHours::from_milli(used),
        payable,
        lines,
    })
}
