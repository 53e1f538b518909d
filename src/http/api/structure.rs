//! Tranches, sources (investors) and facilities.

use crate::http::api::{page_after, CursorQuery, Page, PageQuery};
use crate::http::extract::ValidQuery;
use crate::http::routes::RouteTable;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use rust_decimal::Decimal;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::domain::money::Cents;
use crate::domain::parties::{country_code, eu_member_state, lei};
use crate::domain::roles::Role;
use crate::error::{AppError, AppResult, FieldError};
use crate::http::api::funds::validate_name;
use crate::http::extract::{parse_id, IdempotencyKey, ValidJson};
use crate::http::{idempotent, AppState};
use crate::storage::funds::get_fund;
use crate::storage::structure::{self, Facility, FacilityPrice, NewTranche, Source, Tranche, SOURCE_KINDS};

pub fn routes(table: &mut RouteTable) {
    table.post("/funds/{fund_id}/tranches", create_tranche);
    table.get("/funds/{fund_id}/tranches", list_tranches);
    table.post("/sources", create_source);
    table.get("/sources", list_sources);
    table.get("/sources/{source_id}", get_source);
    table.post("/facilities", create_facility);
    table.get("/facilities", list_facilities);
    table.get("/facilities/{facility_id}", get_facility);
    table.post("/facilities/{facility_id}/prices", add_price);
    table.get("/facilities/{facility_id}/prices", list_prices);
    table.get("/facilities/{facility_id}/price", price_on);
}

/// Largest preferred-return rate accepted (100% a year).
pub const PREF_RATE_MAX: Decimal = Decimal::ONE;
/// Largest return cap accepted, as a multiple of paid-in.
pub const RETURN_CAP_MAX: Decimal = Decimal::from_parts(100, 0, 0, false, 0);

/// Collects field errors; `finish` turns them into one 400 naming every field.
#[derive(Default)]
pub struct Checks(Vec<FieldError>);

impl Checks {
    pub fn check<T>(&mut self, field: &str, outcome: Result<T, String>) -> Option<T> {
        match outcome {
            Ok(value) => Some(value),
            Err(reason) => {
                self.0.push(FieldError::new(field, reason));
                None
            }
        }
    }

    /// A UUID field, in canonical form.
    pub fn id(&mut self, field: &str, text: &str) -> Option<String> {
        self.check(
            field,
            uuid::Uuid::parse_str(text).map(|id| id.to_string()).map_err(|_| "not a valid UUID".to_string()),
        )
    }

    pub fn require(&mut self, field: &str, ok: bool, reason: &str) {
        if !ok {
            self.0.push(FieldError::new(field, reason));
        }
    }

    pub fn finish(self) -> AppResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(self.0))
        }
    }
}

pub fn positive(amount: Cents) -> Result<Cents, String> {
    amount.require_positive().map_err(|e| e.to_string())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTrancheRequest {
    pub name: String,
    /// 1 is the most senior.
    pub seniority: i32,
    #[schema(value_type = String, example = "4000000000.00")]
    pub target_size: Cents,
    /// Annual preferred-return rate as a decimal fraction: `"0.08"` for 8%.
    #[schema(value_type = String, example = "0.08")]
    #[serde(deserialize_with = "crate::domain::plain_decimal::deserialize")]
    pub pref_rate: Decimal,
    /// Cap on total returns as a multiple of paid-in capital (`"1.20"`); omit for none.
    #[schema(value_type = Option<String>, example = "1.20")]
    #[serde(default, deserialize_with = "crate::domain::plain_decimal::deserialize_option")]
    pub return_cap: Option<Decimal>,
    #[serde(default)]
    pub first_loss: bool,
    #[schema(value_type = Option<String>)]
    pub min_ticket: Option<Cents>,
}

impl NewTrancheRequest {
    fn validate(self) -> AppResult<NewTranche> {
        let mut checks = Checks::default();
        checks.check("name", validate_name(&self.name));
        checks.require("seniority", (1..=99).contains(&self.seniority), "must be 1 (most senior) to 99");
        checks.check("target_size", positive(self.target_size));
        checks.require(
            "pref_rate",
            self.pref_rate >= Decimal::ZERO && self.pref_rate <= PREF_RATE_MAX && self.pref_rate.scale() <= 6,
            "must be a fraction from 0 to 1 with at most 6 decimals (0.08 for 8%)",
        );
        if let Some(cap) = self.return_cap {
            checks.require(
                "return_cap",
                cap > Decimal::ONE && cap <= RETURN_CAP_MAX && cap.scale() <= 4,
                "must be a multiple above 1 and at most 100, e.g. 1.20",
            );
        }
        let min_ticket = self.min_ticket.unwrap_or(Cents::ZERO);
        checks.require(
            "min_ticket",
            !min_ticket.is_negative() && min_ticket <= self.target_size,
            "must be between 0 and the target size",
        );
        checks.finish()?;
        Ok(NewTranche {
            name: self.name.trim().to_string(),
            seniority: self.seniority,
            target_size: self.target_size,
            pref_rate: self.pref_rate,
            return_cap: self.return_cap,
            first_loss: self.first_loss,
            min_ticket,
        })
    }
}

/// Add a tranche (share class) to a fund (staff).
#[utoipa::path(post, path = "/funds/{fund_id}/tranches", tag = "structure", security(("bearer" = [])), params(("fund_id" = String, Path, format = Uuid),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1 to 255 visible ASCII characters", min_length = 1, max_length = 255, pattern = r"^[!-~]+$")),
    request_body = NewTrancheRequest,
    responses((status = 201, body = Tranche), (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 409, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "first-loss-not-most-junior", body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn create_tranche(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    key: IdempotencyKey,
    path: web::Path<String>,
    body: ValidJson<NewTrancheRequest>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff])?;
    let fund_id = parse_id("fund_id", &path)?;
    let new = body.value.validate()?;
    idempotent::write(&state, &req, &principal, key, &body.raw, StatusCode::CREATED, move |conn| {
        get_fund(conn, &fund_id)?;
        structure::create_tranche(conn, &fund_id, new.clone())
    })
    .await
}

/// A fund's tranches, most senior first.
#[utoipa::path(get, path = "/funds/{fund_id}/tranches", tag = "structure", security(("bearer" = [])), params(PageQuery, ("fund_id" = String, Path, format = Uuid)),
    responses((status = 200, body = Page<Tranche>), (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn list_tranches(
    state: web::Data<AppState>,
    _principal: Principal,
    path: web::Path<String>,
    query: ValidQuery<PageQuery>,
) -> AppResult<HttpResponse> {
    let fund_id = parse_id("fund_id", &path)?;
    let list = state
        .db(move |conn| {
            get_fund(conn, &fund_id)?;
            structure::list_tranches(conn, &fund_id)
        })
        .await?;
    let page = page_after(list, |t| t.id.clone(), query.after.as_deref(), query.limit)?;
    Ok(HttpResponse::Ok().json(page))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSourceRequest {
    /// `eu_programme`, `member_state`, `eib_group` or `private`
    pub kind: String,
    /// For `eu_programme`: `digital_europe`, `horizon_europe` or `investeu`. Implied for the others.
    pub programme: Option<String>,
    pub legal_name: String,
    /// ISO 3166-1 alpha-2, a code ISO assigns (the EU's `EL` is kept as `GR`, `XK` is Kosovo);
    /// an EU-27 Member State for `member_state` sources.
    pub country: String,
    /// ISO 17442 Legal Entity Identifier, checksum validated.
    pub lei: Option<String>,
}

impl NewSourceRequest {
    fn validate(self) -> AppResult<Source> {
        let mut checks = Checks::default();
        checks.check("legal_name", validate_name(&self.legal_name));
        let programmes = SOURCE_KINDS.iter().find(|(kind, _)| *kind == self.kind).map(|(_, p)| *p);
        let programme = match (programmes, self.programme.as_deref()) {
            (None, _) => {
                checks.require("kind", false, "must be eu_programme, member_state, eib_group or private");
                None
            }
            (Some(allowed), Some(given)) if allowed.contains(&given) => Some(given.to_string()),
            (Some([only]), None) => Some(only.to_string()),
            (Some(allowed), _) => {
                checks.require("programme", false, &format!("must be one of {}", allowed.join(", ")));
                None
            }
        };
        // EU budget programmes belong to the Union itself: ISO 3166's reserved code EU.
        let country = match self.kind.as_str() {
            "member_state" => checks.check("country", eu_member_state(&self.country).map(str::to_string)),
            "eu_programme" if self.country.trim().eq_ignore_ascii_case("EU") => Some("EU".to_string()),
            "eu_programme" => checks.check("country", eu_member_state(&self.country).map(str::to_string)),
            _ => checks.check("country", country_code(&self.country)),
        };
        let lei = match self.lei.as_deref() {
            Some(text) => checks.check("lei", lei(text)),
            None => None,
        };
        checks.finish()?;
        Ok(Source {
            id: String::new(),
            kind: self.kind,
            programme: programme.unwrap_or_default(),
            legal_name: self.legal_name.trim().to_string(),
            country: country.unwrap_or_default(),
            lei,
            created_at: chrono::NaiveDateTime::default(),
        })
    }
}

/// Register a source of money: an EU programme, a Member State, the EIB Group or a private investor (staff).
#[utoipa::path(post, path = "/sources", tag = "structure", security(("bearer" = [])), request_body = NewSourceRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1 to 255 visible ASCII characters", min_length = 1, max_length = 255, pattern = r"^[!-~]+$")),
    responses((status = 201, body = Source), (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 409, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn create_source(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    key: IdempotencyKey,
    body: ValidJson<NewSourceRequest>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff])?;
    let source = body.value.validate()?;
    idempotent::write(&state, &req, &principal, key, &body.raw, StatusCode::CREATED, move |conn| {
        structure::create_source(conn, source.clone())
    })
    .await
}

/// Sources. An investor sees only itself.
#[utoipa::path(get, path = "/sources", tag = "structure", security(("bearer" = [])), params(PageQuery), responses((status = 200, body = Page<Source>)))]
pub async fn list_sources(
    state: web::Data<AppState>,
    principal: Principal,
    query: ValidQuery<PageQuery>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff, Role::Auditor, Role::Admin, Role::Investor])?;
    let only = principal.party_scope().map(str::to_string);
    let (after, limit) = (query.after.clone(), crate::http::api::page_limit(query.limit)?);
    let page = state.db(move |conn| structure::page_of_sources(conn, only.as_deref(), after.as_deref(), limit)).await?;
    Ok(HttpResponse::Ok().json(Page { items: page.items, next_after: page.next_after }))
}

/// One source. Investors may read only their own (others answer 404).
#[utoipa::path(get, path = "/sources/{source_id}", tag = "structure", security(("bearer" = [])), params(("source_id" = String, Path, format = Uuid)),
    responses((status = 200, body = Source), (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn get_source(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let source_id = parse_id("source_id", &path)?;
    if !principal.may_read_party(Role::Investor, &source_id) {
        return Err(AppError::not_found(format!("source {source_id}")));
    }
    let source = state.db(move |conn| structure::get_source(conn, &source_id)).await?;
    Ok(HttpResponse::Ok().json(source))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFacilityRequest {
    pub name: String,
    /// `gigafactory` or `ai_factory`
    pub kind: String,
    /// EU-27 Member State hosting it.
    pub member_state: String,
    pub chip_count: i64,
    pub chip_type: String,
    pub quarterly_capacity_gpu_hours: i64,
    /// The most GPUs one usage record may cover, 1 to `chip_count`; `chip_count` when left out.
    pub gpus_per_record_max: Option<i64>,
}

/// Register a gigafactory or AI factory (staff).
#[utoipa::path(post, path = "/facilities", tag = "structure", security(("bearer" = [])), request_body = NewFacilityRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1 to 255 visible ASCII characters", min_length = 1, max_length = 255, pattern = r"^[!-~]+$")),
    responses((status = 201, body = Facility), (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 409, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn create_facility(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    key: IdempotencyKey,
    body: ValidJson<NewFacilityRequest>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff])?;
    let input = body.value;
    let mut checks = Checks::default();
    checks.check("name", validate_name(&input.name));
    checks.require(
        "kind",
        matches!(input.kind.as_str(), "gigafactory" | "ai_factory"),
        "must be gigafactory or ai_factory",
    );
    let member_state = checks.check("member_state", eu_member_state(&input.member_state));
    checks.require("chip_count", (1..=10_000_000).contains(&input.chip_count), "must be 1 to 10,000,000");
    checks.check("chip_type", validate_name(&input.chip_type));
    let gpus_per_record_max = input.gpus_per_record_max.unwrap_or(input.chip_count);
    checks.require(
        "gpus_per_record_max",
        (1..=input.chip_count.max(1)).contains(&gpus_per_record_max),
        "must be 1 to the facility's chip_count",
    );
    checks.require(
        "quarterly_capacity_gpu_hours",
        (1..=100_000_000_000).contains(&input.quarterly_capacity_gpu_hours),
        "must be 1 to 100,000,000,000 GPU-hours",
    );
    checks.finish()?;
    let facility = Facility {
        id: String::new(),
        name: input.name.trim().to_string(),
        kind: input.kind,
        member_state: member_state.unwrap_or_default().to_string(),
        chip_count: input.chip_count,
        chip_type: input.chip_type.trim().to_string(),
        quarterly_capacity_gpu_hours: input.quarterly_capacity_gpu_hours,
        created_at: chrono::NaiveDateTime::default(),
        gpus_per_record_max,
    };
    idempotent::write(&state, &req, &principal, key, &body.raw, StatusCode::CREATED, move |conn| {
        structure::create_facility(conn, facility.clone())
    })
    .await
}

/// Every facility.
#[utoipa::path(get, path = "/facilities", tag = "structure", security(("bearer" = [])), params(PageQuery), responses((status = 200, body = Page<Facility>)))]
pub async fn list_facilities(
    state: web::Data<AppState>,
    _principal: Principal,
    query: ValidQuery<PageQuery>,
) -> AppResult<HttpResponse> {
    let list = state.db(structure::list_facilities).await?;
    let page = page_after(list, |f| f.id.clone(), query.after.as_deref(), query.limit)?;
    Ok(HttpResponse::Ok().json(page))
}

/// One facility.
#[utoipa::path(get, path = "/facilities/{facility_id}", tag = "structure", security(("bearer" = [])), params(("facility_id" = String, Path, format = Uuid)),
    responses((status = 200, body = Facility), (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn get_facility(
    state: web::Data<AppState>,
    _principal: Principal,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let facility_id = parse_id("facility_id", &path)?;
    let facility = state.db(move |conn| structure::get_facility(conn, &facility_id)).await?;
    Ok(HttpResponse::Ok().json(facility))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceRequest {
    #[serde(deserialize_with = "crate::domain::calendar_date::deserialize")]
    pub effective_date: chrono::NaiveDate,
    #[schema(value_type = String, example = "2.10")]
    pub price_per_gpu_hour: Cents,
}

/// Add a list price per GPU-hour from a date on (staff). Versions are never edited.
#[utoipa::path(post, path = "/facilities/{facility_id}/prices", tag = "structure", security(("bearer" = [])), params(("facility_id" = String, Path, format = Uuid),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1 to 255 visible ASCII characters", min_length = 1, max_length = 255, pattern = r"^[!-~]+$")),
    request_body = PriceRequest,
    responses((status = 201, body = FacilityPrice),
        (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 409, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn add_price(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    key: IdempotencyKey,
    path: web::Path<String>,
    body: ValidJson<PriceRequest>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff])?;
    super::proposals::require_proposal(&state, "a price change")?;
    let facility_id = parse_id("facility_id", &path)?;
    let price =
        positive(body.value.price_per_gpu_hour).map_err(|reason| AppError::field("price_per_gpu_hour", reason))?;
    let date = body.value.effective_date;
    let actor = principal.actor();
    idempotent::write(&state, &req, &principal, key, &body.raw, StatusCode::CREATED, move |conn| {
        structure::add_price(conn, &facility_id, date, price, &actor)
    })
    .await
}

/// Every price version of a facility, oldest first.
#[utoipa::path(get, path = "/facilities/{facility_id}/prices", tag = "structure", security(("bearer" = [])), params(CursorQuery, ("facility_id" = String, Path, format = Uuid)),
    responses((status = 200, body = Page<FacilityPrice>), (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn list_prices(
    state: web::Data<AppState>,
    _principal: Principal,
    path: web::Path<String>,
    query: ValidQuery<CursorQuery>,
) -> AppResult<HttpResponse> {
    let facility_id = parse_id("facility_id", &path)?;
    let list = state.db(move |conn| structure::list_prices(conn, &facility_id)).await?;
    let page = page_after(list, |p| p.effective_date.to_string(), query.after.as_deref(), query.limit)?;
    Ok(HttpResponse::Ok().json(page))
}

/// The price in force on a date (today when omitted).
#[utoipa::path(get, path = "/facilities/{facility_id}/price", tag = "structure", security(("bearer" = [])), params(("facility_id" = String, Path, format = Uuid), super::AsOfQuery),
    responses((status = 200, body = FacilityPrice), (status = 422, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn price_on(
    state: web::Data<AppState>,
    _principal: Principal,
    path: web::Path<String>,
    query: crate::http::extract::ValidQuery<super::AsOfQuery>,
) -> AppResult<HttpResponse> {
    let facility_id = parse_id("facility_id", &path)?;
    let date = query.date();
    let price = state.db(move |conn| structure::price_on(conn, &facility_id, date)).await?;
    Ok(HttpResponse::Ok().json(price))
}
