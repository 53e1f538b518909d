//! The public state-aid register, in the fields of the Commission's Transparency Award Module:
//! every de minimis award whatever its amount, and GBER awards above EUR 100,000
//! (`domain::state_aid::published`). docs/state-aid-register.md describes each field, and
//! docs/state-aid-register.schema.json is the JSON answer's schema.

use chrono::NaiveDate;
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::schema::{facilities, grant_awards, grant_calls};
use super::{not_in_list, DbConnection, PageOf};
use crate::domain::hours::GpuHours;
use crate::domain::money::Cents;
use crate::domain::state_aid::{published, AidBasis};
use crate::error::{AppError, AppResult};

/// Records of the register one read takes at most; the whole register is read a page at a time.
pub const REGISTER_ROWS_MAX: i64 = 10_000;
/// What the beneficiary receives: GPU-hours at a subsidised price, a service in kind.
pub const AID_INSTRUMENT: &str = "Subsidised services in kind (GPU-hours)";

/// One award in the Transparency Award Module's fields.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RegisterRecord {
    pub award_id: String,
    /// The beneficiary's Member State (ISO 3166-1 alpha-2).
    pub country: String,
    /// The grant call the aid was granted under.
    pub aid_measure_title: String,
    /// The aid measure's SA number; none for de minimis aid granted outside a notified scheme.
    pub aid_measure_reference: Option<String>,
    pub legal_basis: String,
    pub objective: String,
    pub beneficiary_name: String,
    /// Company register or VAT number, as declared.
    pub beneficiary_identifier: String,
    /// `SME` (only SMEs receive compute grants).
    pub beneficiary_type: String,
    /// micro, small or medium
    pub sme_category: String,
    /// NUTS 2 region; none for awards made before regions were recorded.
    pub region_nuts2: Option<String>,
    /// NACE Rev. 2 code of the main activity; none for awards made before it was recorded.
    pub sector_nace: Option<String>,
    pub aid_instrument: String,
    /// The aid value granted, EUR.
    #[schema(value_type = String, example = "150000.00")]
    pub nominal_amount_eur: Cents,
    /// For a grant in kind the aid element equals the nominal amount, EUR.
    #[schema(value_type = String, example = "150000.00")]
    pub aid_element_eur: Cents,
    #[schema(value_type = String, example = "70")]
    pub aid_intensity_percent: Decimal,
    pub date_of_granting: NaiveDate,
    pub granting_authority: String,
    pub facility: String,
    #[schema(value_type = String, example = "75000.000")]
    pub gpu_hours: GpuHours,
    /// Why it is published: `de-minimis` (every de minimis award) or `gber-above-100000`.
    pub publication_rule: String,
}

/// The columns of the CSV, in order (the JSON fields' names).
pub const REGISTER_COLUMNS: [&str; 21] = [
    "award_id",
    "country",
    "aid_measure_title",
    "aid_measure_reference",
    "legal_basis",
    "objective",
    "beneficiary_name",
    "beneficiary_identifier",
    "beneficiary_type",
    "sme_category",
    "region_nuts2",
    "sector_nace",
    "aid_instrument",
    "nominal_amount_eur",
    "aid_element_eur",
    "aid_intensity_percent",
    "date_of_granting",
    "granting_authority",
    "facility",
    "gpu_hours",
    "publication_rule",
];

impl RegisterRecord {
    /// The record as CSV cells, in [`REGISTER_COLUMNS`] order.
    pub fn cells(&self) -> Vec<String> {
        let optional = |value: &Option<String>| value.clone().unwrap_or_default();
        vec![
            self.award_id.clone(),
            self.country.clone(),
            self.aid_measure_title.clone(),
            optional(&self.aid_measure_reference),
            self.legal_basis.clone(),
            self.objective.clone(),
            self.beneficiary_name.clone(),
            self.beneficiary_identifier.clone(),
            self.beneficiary_type.clone(),
            self.sme_category.clone(),
            optional(&self.region_nuts2),
            optional(&self.sector_nace),
            self.aid_instrument.clone(),
            self.nominal_amount_eur.to_string(),
            self.aid_element_eur.to_string(),
            self.aid_intensity_percent.normalize().to_string(),
            self.date_of_granting.to_string(),
            self.granting_authority.clone(),
            self.facility.clone(),
            self.gpu_hours.to_string(),
            self.publication_rule.clone(),
        ]
    }
}

type Row = (
    (String, String, String, String, String, String, Option<String>, Option<String>),
    (NaiveDate, String, String, i64, i64, String),
    (Option<String>, String),
);

/// The register's rule ([`published`]) as SQL: every de minimis award, and GBER awards above
/// the publication threshold. The partial index `grant_awards_published` has the same predicate,
/// which lets the database read a page of the register from it alone.
pub const PUBLISHED_SQL: &str = "(grant_awards.aid_basis = 'de_minimis' OR grant_awards.aid_value_cents > 10000000)";

/// The whole register, of one fund's awards when `fund_id` is given; newest first. Read a page
/// of `REGISTER_ROWS_MAX` at a time.
pub fn register_of(conn: &mut DbConnection, fund_id: Option<&str>) -> AppResult<Vec<RegisterRecord>> {
    let mut records = Vec::new();
    let mut after = None;
    loop {
        let page = records_after(conn, fund_id, after.take(), REGISTER_ROWS_MAX)?;
        let last = page.last().map(|r: &RegisterRecord| (r.date_of_granting, r.award_id.clone()));
        let full = page.len() as i64 == REGISTER_ROWS_MAX;
        records.extend(page);
        match last {
            Some(last) if full => after = Some(last),
            _ => return Ok(records),
        }
    }
}

/// A page of the register, newest first, after the record of the award `after`.
pub fn page_of_register(conn: &mut DbConnection, after: Option<&str>, limit: i64) -> AppResult<PageOf<RegisterRecord>> {
    let after = match after {
        None => None,
        Some(award_id) => {
            let (date, basis, aid): (NaiveDate, String, i64) = grant_awards::table
                .find(award_id)
                .select((grant_awards::award_date, grant_awards::aid_basis, grant_awards::aid_value_cents))
                .first(conn)
                .optional()?
                .ok_or_else(not_in_list)?;
            if !AidBasis::parse(&basis).is_some_and(|basis| published(basis, Cents::new(aid))) {
                return Err(not_in_list());
            }
            Some((date, award_id.to_string()))
        }
    };
    let records = records_after(conn, None, after, limit + 1)?;
    Ok(PageOf::from_rows(records, limit, |r| r.award_id.clone()))
}

/// At most `limit` records after the one granted on `after.0` to award `after.1`, newest first.
fn records_after(
    conn: &mut DbConnection,
    fund_id: Option<&str>,
    after: Option<(NaiveDate, String)>,
    limit: i64,
) -> AppResult<Vec<RegisterRecord>> {
    let mut query = grant_awards::table
        .inner_join(facilities::table.on(facilities::id.eq(grant_awards::facility_id)))
        .inner_join(grant_calls::table.on(grant_calls::id.eq(grant_awards::call_id)))
        .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(PUBLISHED_SQL))
        .into_boxed();
    if let Some(fund_id) = fund_id {
        query = query.filter(grant_awards::fund_id.eq(fund_id.to_string()));
    }
    if let Some((date, award_id)) = after {
        // The bound on the date alone is where the index's walk starts; the rest skips the
        // records of that day already listed.
        let after_on_day = grant_awards::award_date.lt(date).or(grant_awards::id.gt(award_id));
        query = query.filter(grant_awards::award_date.le(date)).filter(after_on_day);
    }
    let rows: Vec<Row> = query
        .order((grant_awards::award_date.desc(), grant_awards::id.asc()))
        .limit(limit)
        .select((
            (
                grant_awards::id,
                grant_awards::country,
                grant_awards::legal_name,
                grant_awards::registration_number,
                grant_awards::sme_category,
                grant_awards::intensity_percent,
                grant_awards::nuts2_region,
                grant_awards::nace_code,
            ),
            (
                grant_awards::award_date,
                grant_awards::aid_basis,
                facilities::name,
                grant_awards::awarded_milli_hours,
                grant_awards::aid_value_cents,
                grant_calls::name,
            ),
            (grant_calls::aid_measure_reference, grant_calls::granting_authority),
        ))
        .load(conn)?;
    rows.into_iter().map(record).collect()
}

fn record(row: Row) -> AppResult<RegisterRecord> {
    let ((award_id, country, name, registration, category, intensity, region, nace), rest, (reference, authority)) =
        row;
    let (date, basis, facility, milli, aid, call_name) = rest;
    let basis =
        AidBasis::parse(&basis).ok_or_else(|| AppError::internal(format!("award {award_id}: unknown aid basis")))?;
    debug_assert!(published(basis, Cents::new(aid)), "the query selects what the rule publishes");
    let intensity =
        intensity.parse().map_err(|_| AppError::internal(format!("award {award_id} has a malformed intensity")))?;
    Ok(RegisterRecord {
        country,
        aid_measure_title: call_name,
        aid_measure_reference: reference,
        legal_basis: basis.legal_basis().into(),
        objective: basis.objective().into(),
        beneficiary_name: name,
        beneficiary_identifier: registration,
        beneficiary_type: "SME".into(),
        sme_category: category,
        region_nuts2: region,
        sector_nace: nace,
        aid_instrument: AID_INSTRUMENT.into(),
        nominal_amount_eur: Cents::new(aid),
        aid_element_eur: Cents::new(aid),
        aid_intensity_percent: intensity,
        date_of_granting: date,
        granting_authority: authority,
        facility,
        gpu_hours: GpuHours::from_milli(milli),
        publication_rule: if basis.is_gber() { "gber-above-100000" } else { "de-minimis" }.into(),
        award_id,
    })
}

/// The register as CSV (RFC 4180, UTF-8, a header row of [`REGISTER_COLUMNS`]).
pub fn register_csv(records: &[RegisterRecord]) -> AppResult<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(REGISTER_COLUMNS).map_err(AppError::internal)?;
    for record in records {
        let cells: Vec<String> =
            record.cells().into_iter().map(|c| crate::domain::export::csv_text(&c).into_owned()).collect();
        writer.write_record(&cells).map_err(AppError::internal)?;
    }
    writer.into_inner().map_err(AppError::internal)
}

/// Aid granted in one group: awards, aid value and GPU-hours awarded.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct AidGroup {
    /// The basis, SME category or NUTS 2 region (`not recorded` for awards made before
    /// regions were kept).
    pub key: String,
    pub awards: i64,
    #[schema(value_type = String, example = "1250000.00")]
    pub aid_granted: Cents,
    #[schema(value_type = String, example = "500000.000")]
    pub gpu_hours: GpuHours,
}

/// State aid granted through compute grants, by basis, SME category and region.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct AidGranted {
    pub total: AidGroup,
    pub by_basis: Vec<AidGroup>,
    pub by_sme_category: Vec<AidGroup>,
    pub by_region: Vec<AidGroup>,
}

/// Region of awards made before regions were recorded.
pub const REGION_NOT_RECORDED: &str = "not recorded";

fn add(
    groups: &mut std::collections::BTreeMap<String, AidGroup>,
    key: &str,
    awards: i64,
    aid: Cents,
    hours: GpuHours,
) -> AppResult<()> {
    let group =
        groups.entry(key.to_string()).or_insert_with(|| AidGroup { key: key.to_string(), ..AidGroup::default() });
    group.awards += awards;
    group.aid_granted = group.aid_granted.checked_add(aid)?;
    group.gpu_hours = group.gpu_hours.saturating_add(hours);
    Ok(())
}

/// Aid granted by the awards of a fund (every fund when `None`), summed in SQL per basis,
/// category and region, and rolled up here.
pub fn aid_granted(conn: &mut DbConnection, fund_id: Option<&str>) -> AppResult<AidGranted> {
    use diesel::dsl::sql;
    use diesel::sql_types::BigInt;
    // A fund id (a UUID) holds no LIKE wildcard; `%` matches every fund.
    let fund_pattern = fund_id.map_or_else(|| "%".to_string(), str::to_string);
    let rows: Vec<(String, String, Option<String>, i64, i64, i64)> = grant_awards::table
        .filter(grant_awards::fund_id.like(fund_pattern))
        .group_by((grant_awards::aid_basis, grant_awards::sme_category, grant_awards::nuts2_region))
        .select((
            grant_awards::aid_basis,
            grant_awards::sme_category,
            grant_awards::nuts2_region,
            sql::<BigInt>("CAST(COUNT(*) AS BIGINT)"),
            sql::<BigInt>("CAST(SUM(grant_awards.aid_value_cents) AS BIGINT)"),
            sql::<BigInt>("CAST(SUM(grant_awards.awarded_milli_hours) AS BIGINT)"),
        ))
        .load(conn)?;
    let (mut basis, mut category, mut region, mut total) = Default::default();
    for (aid_basis, sme_category, nuts2, count, cents, milli) in rows {
        let (aid, hours) = (Cents::new(cents), GpuHours::from_milli(milli));
        add(&mut basis, &aid_basis, count, aid, hours)?;
        add(&mut category, &sme_category, count, aid, hours)?;
        add(&mut region, nuts2.as_deref().unwrap_or(REGION_NOT_RECORDED), count, aid, hours)?;
        add(&mut total, "total", count, aid, hours)?;
    }
    let list = |groups: std::collections::BTreeMap<String, AidGroup>| groups.into_values().collect::<Vec<_>>();
    Ok(AidGranted {
        total: list(total).pop().unwrap_or_else(|| AidGroup { key: "total".into(), ..AidGroup::default() }),
        by_basis: list(basis),
        by_sme_category: list(category),
        by_region: list(region),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::state_aid::GBER_PUBLICATION_THRESHOLD;

    #[test]
    fn the_register_query_and_its_index_state_the_publication_rule() {
        let rule = format!(
            "(grant_awards.aid_basis = '{}' OR grant_awards.aid_value_cents > {})",
            AidBasis::DeMinimis.as_str(),
            GBER_PUBLICATION_THRESHOLD.get()
        );
        assert_eq!(PUBLISHED_SQL, rule);
        assert!(
            AidBasis::ALL.iter().all(|b| b.is_gber() == (*b != AidBasis::DeMinimis)),
            "de minimis alone is not GBER"
        );
        let index_predicate = rule.replace("grant_awards.", "");
        for migration in [
            include_str!("../../migrations/postgres/2026-12-10-000001_lists_paged_by_index/up.sql"),
            include_str!("../../migrations/sqlite/2026-12-10-000001_lists_paged_by_index/up.sql"),
        ] {
            assert!(migration.contains(&format!("WHERE {index_predicate};")), "{migration}");
        }
    }
}
