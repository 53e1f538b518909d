//! A facility's quarterly statement: usage counted in the quarter its period starts (as the
//! capacity figures count it) and the subsidy payable, award by award, summed from the very
//! cents each usage record posted, read from the sums each usage batch keeps (one row per award
//! with usage in the quarter, however many records the facility has).

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use super::awards::award_row;
use super::structure::get_facility;
use super::usage_sums::award_quarter_sums;
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

/// The statement of `facility_id` for `quarter`.
pub fn facility_statement(
    conn: &mut DbConnection,
    facility_id: &str,
    quarter: Quarter,
) -> AppResult<FacilityStatement> {
    let facility = get_facility(conn, facility_id)?;
    let sums = award_quarter_sums(conn, facility_id, quarter)?;
    let mut lines = Vec::with_capacity(sums.len());
    for (award_id, sum) in sums {
        let award = award_row(conn, &award_id)?;
        lines.push(FacilityStatementLine {
            award_id,
            sme_id: award.sme_id,
            legal_name: award.legal_name,
            call_id: award.call_id,
            records: sum.records,
            gpu_hours: GpuHours::from_milli(sum.milli_hours),
            subsidy: Cents::new(sum.subsidy_cents),
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
