//! Tranches, sources (investors) and facilities: the parties and share classes of the fund.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::ledger::create_account;
use super::schema::{facilities, grant_awards, sources, tranches};
use super::{new_id, not_in_list, now_micros, DbConnection, PageOf};
use crate::domain::chart::{tranche_account, TRANCHE_ACCOUNTS};
use crate::domain::money::Cents;
use crate::error::{AppError, AppResult, Message, OutOfOrder};

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = tranches)]
pub struct TrancheRow {
    pub id: String,
    pub fund_id: String,
    pub name: String,
    pub seniority: i32,
    pub target_cents: i64,
    pub pref_rate: String,
    pub return_cap: Option<String>,
    pub first_loss: i32,
    pub min_ticket_cents: i64,
    pub created_at: NaiveDateTime,
}

/// A share class of a fund. Rank 1 is the most senior.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Tranche {
    pub id: String,
    pub fund_id: String,
    pub name: String,
    pub seniority: i32,
    #[schema(value_type = String, example = "4000000000.00")]
    pub target_size: Cents,
    /// Annual preferred-return rate as a decimal fraction, e.g. `0.08`.
    #[schema(value_type = String, example = "0.08")]
    pub pref_rate: Decimal,
    /// Return cap as a multiple of paid-in capital, e.g. `1.20`; none when uncapped.
    #[schema(value_type = Option<String>, example = "1.20")]
    pub return_cap: Option<Decimal>,
    pub first_loss: bool,
    #[schema(value_type = String)]
    pub min_ticket: Cents,
}

impl TrancheRow {
    pub fn to_tranche(&self) -> AppResult<Tranche> {
        let decimal = |text: &str| {
            text.parse::<Decimal>()
                .map_err(|_| AppError::internal(format!("tranche {} has a malformed rate {text}", self.id)))
        };
        Ok(Tranche {
            id: self.id.clone(),
            fund_id: self.fund_id.clone(),
            name: self.name.clone(),
            seniority: self.seniority,
            target_size: Cents::new(self.target_cents),
            pref_rate: decimal(&self.pref_rate)?,
            return_cap: self.return_cap.as_deref().map(decimal).transpose()?,
            first_loss: self.first_loss == 1,
            min_ticket: Cents::new(self.min_ticket_cents),
        })
    }
}

#[derive(Clone, Debug)]
pub struct NewTranche {
    pub name: String,
    pub seniority: i32,
    pub target_size: Cents,
    pub pref_rate: Decimal,
    pub return_cap: Option<Decimal>,
    pub first_loss: bool,
    pub min_ticket: Cents,
}

/// Adds a tranche and its capital sub-accounts to a fund's chart.
pub fn create_tranche(conn: &mut DbConnection, fund_id: &str, new: NewTranche) -> AppResult<Tranche> {
    let existing = list_tranches(conn, fund_id)?;
    if existing.iter().any(|t| t.seniority == new.seniority) {
        return Err(AppError::conflict(
            "seniority-taken",
            Message::new("msg-seniority-taken").count("seniority", new.seniority),
        ));
    }
    if existing.iter().any(|t| t.name == new.name) {
        return Err(AppError::conflict(
            "tranche-name-taken",
            Message::new("msg-tranche-name-taken").text("name", &new.name),
        ));
    }
    first_loss_ranks_last(&existing, &new)?;
    let row = TrancheRow {
        id: new_id(),
        fund_id: fund_id.to_string(),
        name: new.name,
        seniority: new.seniority,
        target_cents: new.target_size.get(),
        pref_rate: new.pref_rate.normalize().to_string(),
        return_cap: new.return_cap.map(|c| c.normalize().to_string()),
        first_loss: i32::from(new.first_loss),
        min_ticket_cents: new.min_ticket.get(),
        created_at: now_micros(),
    };
    diesel::insert_into(tranches::table).values(&row).execute(conn)?;
    for (parent, label, kind) in TRANCHE_ACCOUNTS {
        let code = tranche_account(parent, row.seniority);
        create_account(conn, fund_id, &code, &format!("{label}: {}", row.name), *kind)?;
    }
    row.to_tranche()
}

/// Losses hit tranches in reverse seniority, so a first-loss tranche ranks below (has a higher
/// seniority number than) every tranche that is not one.
fn first_loss_ranks_last(existing: &[Tranche], new: &NewTranche) -> AppResult<()> {
    let misplaced = existing.iter().find(|t| {
        (new.first_loss && !t.first_loss && t.seniority > new.seniority)
            || (!new.first_loss && t.first_loss && t.seniority < new.seniority)
    });
    match misplaced {
        Some(other) => Err(AppError::rule_on(
            "first-loss-not-most-junior",
            "seniority",
            Message::new("msg-first-loss-not-most-junior")
                .text("other", &other.name)
                .count("seniority", other.seniority),
        )),
        None => Ok(()),
    }
}

pub fn list_tranches(conn: &mut DbConnection, fund_id: &str) -> AppResult<Vec<Tranche>> {
    tranches::table
        .filter(tranches::fund_id.eq(fund_id))
        .order(tranches::seniority.asc())
        .select(TrancheRow::as_select())
        .load(conn)?
        .iter()
        .map(TrancheRow::to_tranche)
        .collect()
}

pub fn get_tranche(conn: &mut DbConnection, tranche_id: &str) -> AppResult<Tranche> {
    tranches::table
        .find(tranche_id)
        .select(TrancheRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found(format!("tranche {tranche_id}")))?
        .to_tranche()
}

/// Kinds of source and the programmes each may carry.
pub const SOURCE_KINDS: &[(&str, &[&str])] = &[
    ("eu_programme", &["digital_europe", "horizon_europe", "investeu"]),
    ("member_state", &["cohesion"]),
    ("eib_group", &["eib"]),
    ("private", &["private"]),
];

/// Public money: EU budget programmes, Member States' cohesion funds, the EIB Group.
pub fn is_public_kind(kind: &str) -> bool {
    kind != "private"
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable, Serialize, ToSchema)]
#[diesel(table_name = sources)]
pub struct Source {
    pub id: String,
    /// `eu_programme`, `member_state`, `eib_group` or `private`
    pub kind: String,
    /// `digital_europe`, `horizon_europe`, `investeu`, `cohesion`, `eib` or `private`
    pub programme: String,
    pub legal_name: String,
    /// ISO 3166-1 alpha-2
    pub country: String,
    pub lei: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "crate::domain::time::utc")]
    pub created_at: NaiveDateTime,
}

pub fn create_source(conn: &mut DbConnection, mut source: Source) -> AppResult<Source> {
    let taken: i64 = sources::table.filter(sources::legal_name.eq(&source.legal_name)).count().get_result(conn)?;
    if taken > 0 {
        return Err(AppError::conflict(
            "source-name-taken",
            Message::new("msg-source-name-taken").text("name", &source.legal_name),
        ));
    }
    if let Some(lei) = &source.lei {
        let used: i64 = sources::table.filter(sources::lei.eq(lei)).count().get_result(conn)?;
        if used > 0 {
            return Err(AppError::conflict("lei-taken", Message::new("msg-lei-taken").text("lei", lei)));
        }
    }
    source.id = new_id();
    source.created_at = now_micros();
    diesel::insert_into(sources::table).values(&source).execute(conn)?;
    Ok(source)
}

pub fn get_source(conn: &mut DbConnection, source_id: &str) -> AppResult<Source> {
    find_source(conn, source_id)?.ok_or_else(|| AppError::not_found(format!("source {source_id}")))
}

/// The source `source_id`, if there is one.
pub fn find_source(conn: &mut DbConnection, source_id: &str) -> AppResult<Option<Source>> {
    Ok(sources::table.find(source_id).select(Source::as_select()).first(conn).optional()?)
}

/// Up to `limit` sources in the order of their names, from the first whose name is `from` or
/// comes after it: read from the names' index, however many sources there are.
pub fn sources_from(conn: &mut DbConnection, from: &str, limit: i64) -> AppResult<Vec<Source>> {
    Ok(sources::table
        .filter(sources::legal_name.ge(from))
        .order(sources::legal_name.asc())
        .limit(limit)
        .select(Source::as_select())
        .load(conn)?)
}

/// A page of the sources in the order of their names (unique), after the source `after`; only
/// the source `only` when given (an investor's own).
pub fn page_of_sources(
    conn: &mut DbConnection,
    only: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> AppResult<PageOf<Source>> {
    let mut query =
        sources::table.order(sources::legal_name.asc()).limit(limit + 1).select(Source::as_select()).into_boxed();
    if let Some(id) = only {
        query = query.filter(sources::id.eq(id.to_string()));
    }
    if let Some(after) = after {
        // An investor's list holds its own source alone: no other id is an item of it.
        if only.is_some_and(|own| own != after) {
            return Err(not_in_list());
        }
        let name: String =
            sources::table.find(after).select(sources::legal_name).first(conn).optional()?.ok_or_else(not_in_list)?;
        query = query.filter(sources::legal_name.gt(name));
    }
    Ok(PageOf::from_rows(query.load(conn)?, limit, |s| s.id.clone()))
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable, Serialize, ToSchema)]
#[diesel(table_name = facilities)]
pub struct Facility {
    pub id: String,
    pub name: String,
    /// `gigafactory` or `ai_factory`
    pub kind: String,
    /// EU-27 ISO code
    pub member_state: String,
    pub chip_count: i64,
    pub chip_type: String,
    pub quarterly_capacity_gpu_hours: i64,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "crate::domain::time::utc")]
    pub created_at: NaiveDateTime,
    /// The most GPUs one usage record may cover (1 to `chip_count`): a record's GPU-hours
    /// never exceed its period's length in hours times this.
    pub gpus_per_record_max: i64,
}

pub fn create_facility(conn: &mut DbConnection, mut facility: Facility) -> AppResult<Facility> {
    let taken: i64 = facilities::table.filter(facilities::name.eq(&facility.name)).count().get_result(conn)?;
    if taken > 0 {
        return Err(AppError::conflict(
            "facility-name-taken",
            Message::new("msg-facility-name-taken").text("name", &facility.name),
        ));
    }
    facility.id = new_id();
    facility.created_at = now_micros();
    diesel::insert_into(facilities::table).values(&facility).execute(conn)?;
    Ok(facility)
}

pub fn get_facility(conn: &mut DbConnection, facility_id: &str) -> AppResult<Facility> {
    facilities::table
        .find(facility_id)
        .select(Facility::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found(format!("facility {facility_id}")))
}

pub fn list_facilities(conn: &mut DbConnection) -> AppResult<Vec<Facility>> {
    Ok(facilities::table.order(facilities::name.asc()).select(Facility::as_select()).load(conn)?)
}

/// A facility's list price per GPU-hour from a date on.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FacilityPrice {
    pub facility_id: String,
    pub effective_date: chrono::NaiveDate,
    #[schema(value_type = String, example = "2.10")]
    pub price_per_gpu_hour: Cents,
}

/// Adds a price version. A version is never changed: a new price takes a new effective date.
pub fn add_price(
    conn: &mut DbConnection,
    facility_id: &str,
    effective_date: chrono::NaiveDate,
    price: Cents,
    actor: &str,
) -> AppResult<FacilityPrice> {
    use super::schema::facility_prices;
    get_facility(conn, facility_id)?;
    let taken: i64 = facility_prices::table
        .filter(facility_prices::facility_id.eq(facility_id))
        .filter(facility_prices::effective_date.eq(effective_date))
        .count()
        .get_result(conn)?;
    if taken > 0 {
        return Err(AppError::conflict(
            "price-version-exists",
            Message::new("msg-price-version-exists").date("date", effective_date),
        ));
    }
    // An award keeps the price in force on its date; a version taking effect on or before it
    // would make the price read back for that date differ from the one the award kept.
    let latest_award: Option<chrono::NaiveDate> = grant_awards::table
        .filter(grant_awards::facility_id.eq(facility_id))
        .select(diesel::dsl::max(grant_awards::award_date))
        .first(conn)?;
    OutOfOrder { code: "price-before-award", field: "effective_date", message: "msg-price-before-award" }
        .unless_after(latest_award, effective_date)?;
    diesel::insert_into(facility_prices::table)
        .values((
            facility_prices::facility_id.eq(facility_id),
            facility_prices::effective_date.eq(effective_date),
            facility_prices::price_cents.eq(price.get()),
            facility_prices::actor.eq(actor),
            facility_prices::created_at.eq(now_micros()),
        ))
        .execute(conn)?;
    Ok(FacilityPrice { facility_id: facility_id.into(), effective_date, price_per_gpu_hour: price })
}

pub fn list_prices(conn: &mut DbConnection, facility_id: &str) -> AppResult<Vec<FacilityPrice>> {
    use super::schema::facility_prices;
    get_facility(conn, facility_id)?;
    let rows: Vec<(chrono::NaiveDate, i64)> = facility_prices::table
        .filter(facility_prices::facility_id.eq(facility_id))
        .order(facility_prices::effective_date.asc())
        .select((facility_prices::effective_date, facility_prices::price_cents))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(effective_date, cents)| FacilityPrice {
            facility_id: facility_id.into(),
            effective_date,
            price_per_gpu_hour: Cents::new(cents),
        })
        .collect())
}

/// The price in force on a date: the latest version effective on or before it.
pub fn price_on(conn: &mut DbConnection, facility_id: &str, date: chrono::NaiveDate) -> AppResult<FacilityPrice> {
    list_prices(conn, facility_id)?
        .into_iter()
        .rev()
        .find(|p| p.effective_date <= date)
        .ok_or_else(|| AppError::rule("no-price", Message::new("msg-no-price").date("date", date)))
}

/// The legal names of the sources among `ids`, by id; ids of no source are left out. Read in
/// chunks of [`super::LOOKUP_KEYS_MAX`], each planned for its values (sources grow with every investor).
pub fn source_names<S: AsRef<str>>(
    conn: &mut DbConnection,
    ids: &[S],
) -> crate::error::AppResult<std::collections::HashMap<String, String>> {
    let mut names = std::collections::HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(super::LOOKUP_KEYS_MAX) {
        let chunk: Vec<&str> = chunk.iter().map(AsRef::as_ref).collect();
        let rows: Vec<(String, String)> = sources::table
            .filter(sources::id.eq_any(&chunk))
            .filter(super::planned_each_time())
            .select((sources::id, sources::legal_name))
            .load(conn)?;
        names.extend(rows);
    }
    Ok(names)
}
