//! Compute grants: calls, SME applications, reviews, awards, lapses, and the views over them.

use crate::http::api::{page_after, PageQuery};
use crate::http::routes::RouteTable;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use utoipa::ToSchema;

use super::enterprise::validate_enterprise;
use super::funds::validate_name;
use super::structure::{positive, Checks};
use super::{page_limit, Page};
use crate::auth::Principal;
use crate::domain::eligibility::{EnterpriseFigures, Related};
use crate::domain::grants::{Declarations, SCORE_MAX};
use crate::domain::hours::{GpuHours, Quarter};
use crate::domain::money::Cents;
use crate::domain::roles::Role;
use crate::domain::state_aid::{AidBasis, BonusClaim};
use crate::error::{AppError, AppResult};
use crate::http::extract::{parse_id, IdempotencyKey, ValidJson, ValidQuery};
use crate::http::views::cached_json;
use crate::http::{idempotent, AppState};
use crate::storage::attribution::{self, GrantAttribution};
use crate::storage::awards::{self, Award, AwardFilter, CallSummary, FacilityCapacity, Lapse, SmeGrants};
use crate::storage::grants::{
    self, Application, ApplicationFilter, ApplicationRequestInput, Company, Enterprise, GrantCall, NewCall,
    ProjectInput,
};
use crate::storage::register::{self, AidGranted, RegisterRecord};
use crate::storage::usage::{self, StoredUsage};
use crate::storage::{read_tx, write_tx};

pub fn routes(table: &mut RouteTable) {
    table.post("/grant-calls", create_call);
    table.get("/grant-calls", list_calls);
    table.get("/grant-calls/{call_id}", get_call);
    table.post("/grant-calls/{call_id}/applications", create_application);
    table.get("/applications", list_applications);
    table.get("/applications/{application_id}", get_application);
    table.put("/applications/{application_id}", update_application);
    table.post("/applications/{application_id}/submit", submit_application);
    table.post("/applications/{application_id}/reviews", review_application);
    table.post("/applications/{application_id}/award", award_application);
    table.post("/applications/{application_id}/rejection", reject_application);
    table.get("/awards", list_awards);
    table.get("/awards/{award_id}", get_award);
    table.get("/awards/{award_id}/usage", award_usage);
    table.get("/facilities/{facility_id}/capacity", facility_capacity);
    table.get("/smes/{sme_id}/grants", sme_grants);
    table.get("/grants/register", register);
    table.get("/grants/register.csv", register_csv);
    table.get("/grants/aid-granted", aid_granted);
    table.get("/funds/{fund_id}/grant-attribution", grant_attribution);
    table.post("/grants/lapse", lapse);
}

/// Largest number of facilities one call names.
pub const CALL_FACILITIES_MAX: usize = 100;
/// Longest project summary, in characters.
pub const SUMMARY_CHARS_MAX: usize = 5_000;
/// Longest review comment or rejection reason, in characters.
pub const COMMENT_CHARS_MAX: usize = 5_000;

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// Free text of 1 to `max` characters, as `domain::text` has text; line breaks and tabs allowed.
pub fn text(value: &str, max: usize) -> Result<(), String> {
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed.chars().count() > max {
        return Err(format!("must be 1 to {max} characters"));
    }
    crate::domain::text::refusal(trimmed, true).map_or(Ok(()), |reason| Err(reason.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGrantCallRequest {
    /// The fund whose compute-grant pool (account 1010) funds the call.
    #[schema(value_type = uuid::Uuid)]
    #[serde(deserialize_with = "crate::http::extract::uuid_text")]
    pub fund_id: String,
    pub name: String,
    #[schema(value_type = String, example = "5000000.00")]
    pub budget: Cents,
    #[schema(value_type = String, format = DateTime)]
    #[serde(deserialize_with = "crate::domain::time::rfc3339")]
    pub opens_at: DateTime<Utc>,
    #[schema(value_type = String, format = DateTime)]
    #[serde(deserialize_with = "crate::domain::time::rfc3339")]
    pub closes_at: DateTime<Utc>,
    #[schema(value_type = Vec<uuid::Uuid>)]
    #[serde(deserialize_with = "crate::http::extract::uuid_texts")]
    pub eligible_facility_ids: Vec<String>,
    #[schema(value_type = String, example = "50000")]
    pub max_gpu_hours_per_award: GpuHours,
    pub aid_basis: AidBasis,
    pub min_reviewers: i32,
    /// 0 to 100.
    #[schema(value_type = String, example = "60")]
    #[serde(deserialize_with = "crate::domain::plain_decimal::deserialize")]
    pub min_average_score: Decimal,
    /// The aid measure's reference in the Commission's register, `SA.` and five or six
    /// digits; required for GBER bases, optional for de minimis.
    #[serde(default)]
    pub aid_measure_reference: Option<String>,
    /// Who grants the aid, as the transparency register names it; the fund's name when left out.
    #[serde(default)]
    pub granting_authority: Option<String>,
    /// Allow the GBER Art. 25(6)(b) collaboration or dissemination bonus (GBER bases only).
    #[serde(default)]
    pub bonus_allowed: bool,
}

/// An aid measure reference: `SA.` and five or six digits (`SA.123456`), upper-cased.
pub fn aid_measure_reference(text: &str) -> Result<String, String> {
    let code = text.trim().to_ascii_uppercase();
    let digits = code.strip_prefix("SA.").unwrap_or("");
    if (5..=6).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) {
        Ok(code)
    } else {
        Err(format!("{text:?} is not an aid measure reference (SA. and five or six digits, e.g. SA.123456)"))
    }
}

impl NewGrantCallRequest {
    pub fn validate(self, actor: String) -> AppResult<NewCall> {
        let mut checks = Checks::default();
        let fund_id = checks.id("fund_id", &self.fund_id);
        checks.check("name", validate_name(&self.name));
        checks.check("budget", positive(self.budget));
        // Compared as stored, to the microsecond.
        // `time::rfc3339` read them to the microsecond, the finest both backends store.
        let (opens_at, closes_at) = (self.opens_at.naive_utc(), self.closes_at.naive_utc());
        checks.require("closes_at", closes_at > opens_at, "must be after opens_at (to the microsecond)");
        checks.require(
            "eligible_facility_ids",
            (1..=CALL_FACILITIES_MAX).contains(&self.eligible_facility_ids.len()),
            &format!("must name 1 to {CALL_FACILITIES_MAX} facilities"),
        );
        let mut facility_ids = Vec::new();
        for (index, id) in self.eligible_facility_ids.iter().enumerate() {
            if let Some(id) = checks.id(&format!("eligible_facility_ids[{index}]"), id) {
                if !facility_ids.contains(&id) {
                    facility_ids.push(id);
                }
            }
        }
        checks.require("max_gpu_hours_per_award", !self.max_gpu_hours_per_award.is_zero(), "must be greater than zero");
        checks.require("min_reviewers", (1..=20).contains(&self.min_reviewers), "must be 1 to 20");
        checks.require(
            "min_average_score",
            self.min_average_score >= Decimal::ZERO
                && self.min_average_score <= Decimal::from(SCORE_MAX)
                && self.min_average_score.scale() <= 2,
            &format!("must be 0 to {SCORE_MAX} with at most 2 decimals"),
        );
        let reference = match self.aid_measure_reference.as_deref() {
            Some(text) => checks.check("aid_measure_reference", aid_measure_reference(text)),
            None => {
                checks.require(
                    "aid_measure_reference",
                    !self.aid_basis.is_gber(),
                    "a GBER call needs the aid measure's SA number",
                );
                None
            }
        };
        if let Some(authority) = &self.granting_authority {
            checks.check("granting_authority", validate_name(authority));
        }
        checks.require(
            "bonus_allowed",
            !self.bonus_allowed || self.aid_basis.is_gber(),
            "the Art. 25(6)(b) bonus applies to GBER bases only",
        );
        checks.finish()?;
        Ok(NewCall {
            aid_measure_reference: reference,
            granting_authority: self.granting_authority.map(|a| a.trim().to_string()),
            bonus_allowed: self.bonus_allowed,
            fund_id: fund_id.unwrap_or_default(),
            name: self.name.trim().to_string(),
            budget: self.budget,
            opens_at,
            closes_at,
            facility_ids,
            max_hours_per_award: self.max_gpu_hours_per_award,
            aid_basis: self.aid_basis,
            min_reviewers: self.min_reviewers,
            min_average_score: self.min_average_score,
            actor,
        })
    }
}

/// Open a grant call, reserving its budget from the fund's compute-grant pool (staff).
#[utoipa::path(post, path = "/grant-calls", tag = "grants", security(("bearer" = [])), request_body = NewGrantCallRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1 to 255 visible ASCII characters", min_length = 1, max_length = 255, pattern = r"^[!-~]+$")),
    responses((status = 201, body = GrantCall),
        (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "pool-insufficient, unknown-facility", body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn create_call(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    key: IdempotencyKey,
    body: ValidJson<NewGrantCallRequest>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff])?;
    let new = body.value.validate(principal.actor())?;
    idempotent::write(&state, &req, &principal, key, &body.raw, StatusCode::CREATED, move |conn| {
        grants::create_call(conn, new.clone())
    })
    .await
}

/// Every grant call, newest first.
#[utoipa::path(get, path = "/grant-calls", tag = "grants", security(("bearer" = [])), params(PageQuery), responses((status = 200, body = Page<GrantCall>)))]
pub async fn list_calls(
    state: web::Data<AppState>,
    _principal: Principal,
    query: ValidQuery<PageQuery>,
) -> AppResult<HttpResponse> {
    let calls = state.db(grants::list_calls).await?;
    let page = page_after(calls, |c| c.id.clone(), query.after.as_deref(), query.limit)?;
    Ok(HttpResponse::Ok().json(page))
}

/// A grant call with its applications by status, awards, hours and money used.
///
/// Staff, auditors and admins: with one award, its figures are one SME's and one facility's.
#[utoipa::path(get, path = "/grant-calls/{call_id}", tag = "grants", security(("bearer" = [])), params(("call_id" = String, Path, format = Uuid)),
    responses((status = 200, body = CallSummary), (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn get_call(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff, Role::Auditor, Role::Admin])?;
    let call_id = parse_id("call_id", &path)?;
    let summary = state.db(move |conn| awards::call_summary(conn, &call_id)).await?;
    Ok(HttpResponse::Ok().json(summary))
}

/// An application: the enterprise (or nothing, to take the SME's profile) and the project.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationRequest {
    /// Leave out, with the figures, related enterprises, de minimis aid received and
    /// declarations, to take them from the SME's profile.
    pub company: Option<Company>,
    /// Headcount in annual work units, latest closed accounting period.
    #[schema(value_type = Option<String>, example = "12.5")]
    #[serde(default, deserialize_with = "crate::domain::plain_decimal::deserialize_option")]
    pub staff_awu: Option<Decimal>,
    #[schema(value_type = Option<String>, example = "1800000.00")]
    pub turnover: Option<Cents>,
    #[schema(value_type = Option<String>, example = "1500000.00")]
    pub balance_sheet: Option<Cents>,
    /// Figures of the closed period before the latest (Art. 4(2): a category changes only
    /// when a ceiling is crossed in two consecutive periods); leave out with one period only.
    pub previous_period: Option<EnterpriseFigures>,
    /// Partner and linked enterprises, holders among them (public bodies, listed investors).
    pub related: Option<Vec<Related>>,
    /// De minimis aid received elsewhere in the last three years.
    #[schema(value_type = Option<String>)]
    pub de_minimis_received: Option<Cents>,
    /// GBER declarations (asked by GBER calls).
    pub declarations: Option<Declarations>,
    /// The GBER Art. 25(6)(b) bonus claimed, where the call allows it.
    pub bonus: Option<BonusClaim>,
    /// Other State aid for the same eligible costs (GBER cumulation).
    #[schema(value_type = Option<String>)]
    pub other_aid_same_costs: Option<Cents>,
    pub project_title: String,
    pub summary: String,
    #[schema(value_type = String, example = "10000")]
    pub requested_gpu_hours: GpuHours,
    #[schema(value_type = uuid::Uuid)]
    #[serde(deserialize_with = "crate::http::extract::uuid_text")]
    pub facility_id: String,
    #[serde(deserialize_with = "crate::domain::calendar_date::deserialize")]
    pub start_date: NaiveDate,
    #[serde(deserialize_with = "crate::domain::calendar_date::deserialize")]
    pub end_date: NaiveDate,
}

impl ApplicationRequest {
    /// The enterprise stated, or `None` (profile) when the company and its figures are left out.
    fn enterprise(&mut self, checks: &mut Checks) -> Option<Enterprise> {
        let Some(company) = self.company.take() else {
            let stated = [
                ("staff_awu", self.staff_awu.is_some()),
                ("turnover", self.turnover.is_some()),
                ("balance_sheet", self.balance_sheet.is_some()),
                ("previous_period", self.previous_period.is_some()),
                ("related", self.related.is_some()),
                ("de_minimis_received", self.de_minimis_received.is_some()),
                ("declarations", self.declarations.is_some()),
            ];
            for (field, given) in stated {
                checks.require(field, !given, "comes from the SME profile when company is left out; state company too");
            }
            return None;
        };
        checks.require("staff_awu", self.staff_awu.is_some(), "required with company");
        checks.require("turnover", self.turnover.is_some(), "required with company");
        checks.require("balance_sheet", self.balance_sheet.is_some(), "required with company");
        Some(Enterprise {
            company,
            figures: EnterpriseFigures {
                staff_awu: self.staff_awu.unwrap_or_default(),
                turnover: self.turnover.unwrap_or_default(),
                balance_sheet: self.balance_sheet.unwrap_or_default(),
            },
            previous_period: self.previous_period,
            related: self.related.take().unwrap_or_default(),
            de_minimis_received: self.de_minimis_received.unwrap_or_default(),
            declarations: self.declarations.unwrap_or_default(),
        })
    }

    pub fn validate(mut self) -> AppResult<ApplicationRequestInput> {
        let mut checks = Checks::default();
        let enterprise = self.enterprise(&mut checks);
        let other_aid = self.other_aid_same_costs.unwrap_or_default();
        checks.require("other_aid_same_costs", !other_aid.is_negative(), "must not be negative");
        checks.check("project_title", validate_name(&self.project_title));
        checks.check("summary", text(&self.summary, SUMMARY_CHARS_MAX));
        checks.require("requested_gpu_hours", !self.requested_gpu_hours.is_zero(), "must be greater than zero");
        let facility_id = checks.id("facility_id", &self.facility_id);
        checks.finish()?;
        let enterprise = enterprise.map(|e| validate_enterprise(e, "")).transpose()?;
        Ok(ApplicationRequestInput {
            enterprise,
            project: ProjectInput {
                bonus: self.bonus,
                other_aid_same_costs: other_aid,
                project_title: self.project_title.trim().to_string(),
                summary: self.summary.trim().to_string(),
                requested: self.requested_gpu_hours,
                facility_id: facility_id.unwrap_or_default(),
                start_date: self.start_date,
                end_date: self.end_date,
            },
        })
    }
}

/// Save a draft application to a call (SME). The answer shows the computed SME category, the
/// aid value and every reason the application could not be submitted as it stands.
#[utoipa::path(post, path = "/grant-calls/{call_id}/applications", tag = "grants", security(("bearer" = [])), params(("call_id" = String, Path, format = Uuid),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1 to 255 visible ASCII characters", min_length = 1, max_length = 255, pattern = r"^[!-~]+$")),
    request_body = ApplicationRequest,
    responses((status = 201, body = Application),
        (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn create_application(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    key: IdempotencyKey,
    path: web::Path<String>,
    body: ValidJson<ApplicationRequest>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Sme])?;
    let call_id = parse_id("call_id", &path)?;
    let input = body.value.validate()?;
    let sme_id = principal.subject.clone();
    idempotent::write(&state, &req, &principal, key, &body.raw, StatusCode::CREATED, move |conn| {
        grants::create_application(conn, &call_id, &sme_id, input.clone())
    })
    .await
}

/// Loads an application the caller may see: staff, auditors and admins any, an SME its own.
pub async fn visible_application(state: &AppState, principal: &Principal, id: String) -> AppResult<Application> {
    principal.require(&[Role::Staff, Role::Auditor, Role::Admin, Role::Sme])?;
    let mut application = state.db(move |conn| grants::get_application(conn, &id)).await?;
    if !principal.may_read_party(Role::Sme, &application.sme_id) {
        return Err(AppError::not_found(format!("application {}", application.id)));
    }
    if principal.role == Role::Sme {
        // Reviewers' names and comments are internal to the evaluation.
        application.reviews.clear();
    }
    Ok(application)
}

/// One application.
#[utoipa::path(get, path = "/applications/{application_id}", tag = "grants", security(("bearer" = [])), params(("application_id" = String, Path, format = Uuid)),
    responses((status = 200, body = Application), (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn get_application(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = parse_id("application_id", &path)?;
    Ok(HttpResponse::Ok().json(visible_application(&state, &principal, id).await?))
}

/// Replace a draft's content (SME, own drafts only).
#[utoipa::path(put, path = "/applications/{application_id}", tag = "grants", security(("bearer" = [])), params(("application_id" = String, Path, format = Uuid)),
    request_body = ApplicationRequest,
    responses((status = 200, body = Application),
        (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "not-a-draft", body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn update_application(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    body: ValidJson<ApplicationRequest>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Sme])?;
    let id = parse_id("application_id", &path)?;
    let input = body.value.validate()?;
    visible_application(&state, &principal, id.clone()).await?;
    let updated = state.db(move |conn| write_tx(conn, |c| grants::update_draft(c, &id, input.clone()))).await?;
    Ok(HttpResponse::Ok().json(updated))
}

/// Submit a draft (SME). Refused with every reason and its figures: not an SME, not in the
/// EU-27, call not open or closed, hours above the call maximum, facility not eligible,
/// invalid period, de minimis ceiling exceeded.
#[utoipa::path(post, path = "/applications/{application_id}/submit", tag = "grants", security(("bearer" = [])), params(("application_id" = String, Path, format = Uuid),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1 to 255 visible ASCII characters", min_length = 1, max_length = 255, pattern = r"^[!-~]+$")),
    responses((status = 200, body = Application),
        (status = 422, description = "not-an-sme, not-in-eu, call-closed, hours-above-call-maximum, de-minimis-exceeded, ...", body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn submit_application(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    key: IdempotencyKey,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Sme])?;
    let id = parse_id("application_id", &path)?;
    visible_application(&state, &principal, id.clone()).await?;
    idempotent::write(&state, &req, &principal, key, &[], StatusCode::OK, move |conn| grants::submit(conn, &id)).await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ApplicationQuery {
    #[param(value_type = Option<uuid::Uuid>)]
    #[serde(default, deserialize_with = "crate::http::extract::optional_uuid_text")]
    pub call_id: Option<String>,
    /// draft, submitted, under_review, awarded, rejected, completed or expired
    pub status: Option<String>,
    #[param(value_type = Option<uuid::Uuid>)]
    #[serde(default, deserialize_with = "crate::http::extract::optional_uuid_text")]
    pub after: Option<String>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// Applications (the review queue is `status=submitted` and `status=under_review`). An SME
/// sees only its own.
#[utoipa::path(get, path = "/applications", tag = "grants", security(("bearer" = [])), params(ApplicationQuery),
    responses((status = 200, body = Page<Application>)))]
pub async fn list_applications(
    state: web::Data<AppState>,
    principal: Principal,
    query: ValidQuery<ApplicationQuery>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff, Role::Auditor, Role::Admin, Role::Sme])?;
    let query = query.0;
    if let Some(status) = &query.status {
        if crate::domain::grants::ApplicationStatus::parse(status).is_none() {
            return Err(AppError::field("query.status", "not a status of an application"));
        }
    }
    let filter = ApplicationFilter {
        call_id: query.call_id.clone(),
        sme_id: principal.party_scope().map(str::to_string),
        status: query.status,
        after: query.after.clone(),
    };
    let limit = page_limit(query.limit)?;
    let items = state.db(move |conn| grants::list_applications(conn, &filter, limit + 1)).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(items, limit, |a| a.id.clone())))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    /// 0 to 100.
    pub score: i32,
    pub comment: String,
}

/// Score an application (staff reviewer; one review each).
#[utoipa::path(post, path = "/applications/{application_id}/reviews", tag = "grants", security(("bearer" = [])), params(("application_id" = String, Path, format = Uuid)),
    request_body = ReviewRequest,
    responses((status = 201, body = Application),
        (status = 409, description = "already-reviewed", body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn review_application(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    key: IdempotencyKey,
    path: web::Path<String>,
    body: ValidJson<ReviewRequest>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff])?;
    let id = parse_id("application_id", &path)?;
    let mut checks = Checks::default();
    checks.require("score", (0..=SCORE_MAX).contains(&body.value.score), &format!("must be 0 to {SCORE_MAX}"));
    checks.check("comment", text(&body.value.comment, COMMENT_CHARS_MAX));
    checks.finish()?;
    let (score, comment) = (body.value.score, body.value.comment.trim().to_string());
    let reviewer = principal.actor();
    idempotent::write(&state, &req, &principal, key, &body.raw, StatusCode::CREATED, move |conn| {
        grants::add_review(conn, &id, &reviewer, score, &comment)
    })
    .await
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AwardRequest {
    /// Hours to award, at most those requested; the request when omitted.
    #[schema(value_type = Option<String>, example = "8000")]
    pub gpu_hours: Option<GpuHours>,
}

/// Award an application (staff). In one transaction: reviews and average score, price on the
/// award date, aid value, the call's budget, the de minimis ceiling, facility capacity by
/// quarter; then the award and its journal entry. Of awards racing for the last euro or hour,
/// exactly one wins.
#[utoipa::path(post, path = "/applications/{application_id}/award", tag = "grants", security(("bearer" = [])), params(("application_id" = String, Path, format = Uuid),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1 to 255 visible ASCII characters", min_length = 1, max_length = 255, pattern = r"^[!-~]+$")),
    request_body = AwardRequest,
    responses((status = 201, body = Award),
        (status = 422, description = "too-few-reviews, score-below-minimum, budget-exhausted, capacity-exhausted, de-minimis-exceeded, no-price", body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn award_application(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    key: IdempotencyKey,
    path: web::Path<String>,
    body: ValidJson<AwardRequest>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff])?;
    super::proposals::require_proposal(&state, "an award")?;
    let id = parse_id("application_id", &path)?;
    let hours = body.value.gpu_hours;
    let actor = principal.actor();
    idempotent::write(&state, &req, &principal, key, &body.raw, StatusCode::CREATED, move |conn| {
        awards::award(conn, &id, hours, &actor)
    })
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectionRequest {
    /// Shown to the applicant.
    pub reason: String,
}

/// Reject an application, with the reason the applicant reads (staff).
#[utoipa::path(post, path = "/applications/{application_id}/rejection", tag = "grants", security(("bearer" = [])), params(("application_id" = String, Path, format = Uuid)),
    request_body = RejectionRequest,
    responses((status = 200, body = Application),
        (status = 422, description = "not-under-review", body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn reject_application(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    key: IdempotencyKey,
    path: web::Path<String>,
    body: ValidJson<RejectionRequest>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff])?;
    super::proposals::require_proposal(&state, "a rejection")?;
    let id = parse_id("application_id", &path)?;
    text(&body.value.reason, COMMENT_CHARS_MAX).map_err(|reason| AppError::field("reason", reason))?;
    let reason = body.value.reason.trim().to_string();
    let actor = principal.actor();
    idempotent::write(&state, &req, &principal, key, &body.raw, StatusCode::OK, move |conn| {
        grants::reject(conn, &id, &reason, &actor)
    })
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AwardQuery {
    #[param(value_type = Option<uuid::Uuid>)]
    #[serde(default, deserialize_with = "crate::http::extract::optional_uuid_text")]
    pub call_id: Option<String>,
    #[param(value_type = Option<uuid::Uuid>)]
    #[serde(default, deserialize_with = "crate::http::extract::optional_uuid_text")]
    pub facility_id: Option<String>,
    #[param(value_type = Option<uuid::Uuid>)]
    #[serde(default, deserialize_with = "crate::http::extract::optional_uuid_text")]
    pub sme_id: Option<String>,
    /// The `next_after` of the previous page: the id of its last award.
    #[param(value_type = Option<uuid::Uuid>)]
    #[serde(default, deserialize_with = "crate::http::extract::optional_uuid_text")]
    pub after: Option<String>,
    /// 1 to 500; 50 when omitted.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// Awards. An SME sees its own; a facility operator those at its facility.
#[utoipa::path(get, path = "/awards", tag = "grants", security(("bearer" = [])), params(AwardQuery), responses((status = 200, body = Page<Award>)))]
pub async fn list_awards(
    state: web::Data<AppState>,
    principal: Principal,
    query: ValidQuery<AwardQuery>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff, Role::Auditor, Role::Admin, Role::Sme, Role::Facility])?;
    let query = query.0;
    let mut filter =
        AwardFilter { call_id: query.call_id.clone(), facility_id: query.facility_id.clone(), sme_id: query.sme_id };
    match principal.role {
        Role::Sme => filter.sme_id = Some(principal.subject.clone()),
        Role::Facility => filter.facility_id = Some(principal.subject.clone()),
        _ => {}
    }
    let (after, limit) = (query.after, page_limit(query.limit)?);
    let page = state.db(move |conn| awards::page_of_awards(conn, &filter, after.as_deref(), limit)).await?;
    Ok(HttpResponse::Ok().json(Page { items: page.items, next_after: page.next_after }))
}

/// Whether the caller may see an award: readers of all, its SME, its facility's operator.
fn may_see_award(principal: &Principal, award: &Award) -> bool {
    principal.may_read_party(Role::Sme, &award.sme_id) || principal.may_read_party(Role::Facility, &award.facility_id)
}

pub async fn visible_award(state: &AppState, principal: &Principal, id: String) -> AppResult<Award> {
    principal.require(&[Role::Staff, Role::Auditor, Role::Admin, Role::Sme, Role::Facility])?;
    let award = state.db(move |conn| awards::get_award(conn, &id)).await?;
    if !may_see_award(principal, &award) {
        return Err(AppError::not_found(format!("award {}", award.id)));
    }
    Ok(award)
}

/// One award: awarded, used and remaining, in GPU-hours and in EUR.
#[utoipa::path(get, path = "/awards/{award_id}", tag = "grants", security(("bearer" = [])), params(("award_id" = String, Path, format = Uuid)),
    responses((status = 200, body = Award), (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn get_award(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = parse_id("award_id", &path)?;
    Ok(HttpResponse::Ok().json(visible_award(&state, &principal, id).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RecordsQuery {
    /// The last `record_id` of the previous page.
    pub after: Option<String>,
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

/// The usage records counted against an award, each with its subsidy and journal entry.
#[utoipa::path(get, path = "/awards/{award_id}/usage", tag = "grants", security(("bearer" = [])), params(("award_id" = String, Path, format = Uuid), RecordsQuery),
    responses((status = 200, body = Page<StoredUsage>), (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn award_usage(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    query: ValidQuery<RecordsQuery>,
) -> AppResult<HttpResponse> {
    let id = parse_id("award_id", &path)?;
    visible_award(&state, &principal, id.clone()).await?;
    let query = query.0;
    let limit = super::page_limit_up_to(query.limit, usage::RECORDS_PAGE_MAX, usage::RECORDS_PAGE_MAX)?;
    let after = query.after;
    let items = state.db(move |conn| usage::award_records(conn, &id, after.as_deref(), limit + 1)).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(items, limit, |r| r.record_id.clone())))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CapacityQuery {
    /// First quarter, e.g. `2026-Q1`; the current quarter when omitted.
    pub from: Option<String>,
    /// Last quarter; seven quarters after `from` when omitted.
    pub to: Option<String>,
}

/// A facility's capacity by quarter: reserved by awards, used, free (staff, auditors, its operator).
#[utoipa::path(get, path = "/facilities/{facility_id}/capacity", tag = "grants", security(("bearer" = [])), params(("facility_id" = String, Path, format = Uuid), CapacityQuery),
    responses((status = 200, body = FacilityCapacity), (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn facility_capacity(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    query: ValidQuery<CapacityQuery>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff, Role::Auditor, Role::Admin, Role::Facility])?;
    let facility_id = parse_id("facility_id", &path)?;
    if !principal.may_read_party(Role::Facility, &facility_id) {
        return Err(AppError::not_found(format!("facility {facility_id}")));
    }
    let parse = |field: &str, text: &Option<String>| {
        text.as_deref().map(|t| t.parse::<Quarter>().map_err(|e| AppError::field(field, e))).transpose()
    };
    let from = parse("query.from", &query.from)?.unwrap_or_else(|| Quarter::of(today()));
    let to = parse("query.to", &query.to)?.unwrap_or_else(|| (0..7).fold(from, |q, _| q.next()));
    let capacity = state.db(move |conn| awards::facility_capacity(conn, &facility_id, from, to)).await?;
    Ok(HttpResponse::Ok().json(capacity))
}

/// An SME's applications and awards with its totals (staff, auditors, the SME itself).
#[utoipa::path(get, path = "/smes/{sme_id}/grants", tag = "grants", security(("bearer" = [])), params(("sme_id" = String, Path, format = Uuid)),
    responses((status = 200, body = SmeGrants), (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn sme_grants(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff, Role::Auditor, Role::Admin, Role::Sme])?;
    let sme_id = parse_id("sme_id", &path.into_inner())?;
    if !principal.may_read_party(Role::Sme, &sme_id) {
        return Err(AppError::not_found(format!("SME {sme_id}")));
    }
    let grants = state.db(move |conn| awards::sme_grants(conn, &sme_id)).await?;
    Ok(HttpResponse::Ok().json(grants))
}

/// Where the fund's compute-grant money came from, down to each source (staff, auditors):
/// docs/grants.md, "Where the pool's money came from". The public form, without sources, is
/// `/transparency/funds/{fund_id}/grant-attribution`.
#[utoipa::path(get, path = "/funds/{fund_id}/grant-attribution", tag = "grants", security(("bearer" = [])), params(("fund_id" = String, Path, format = Uuid)),
    responses((status = 200, body = GrantAttribution), (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn grant_attribution(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff, Role::Auditor, Role::Admin])?;
    let fund_id = parse_id("fund_id", &path.into_inner())?;
    let key = format!("grant-attribution/by-source/{fund_id}");
    cached_json(&state, key, move |conn| read_tx(conn, |c| attribution::grant_attribution(c, &fund_id, true))).await
}

/// The public state-aid register in the Transparency Award Module's fields (no token needed):
/// every de minimis award, and GBER awards above EUR 100,000; newest first.
#[utoipa::path(get, path = "/grants/register", tag = "grants", params(PageQuery), responses((status = 200, body = Page<RegisterRecord>)))]
pub async fn register(state: web::Data<AppState>, query: ValidQuery<PageQuery>) -> AppResult<HttpResponse> {
    let (after, limit) = (query.after.clone(), page_limit(query.limit)?);
    let page = state.db(move |conn| register::page_of_register(conn, after.as_deref(), limit)).await?;
    Ok(HttpResponse::Ok().json(Page { items: page.items, next_after: page.next_after }))
}

/// The whole public state-aid register as CSV (RFC 4180, UTF-8, a header row), the same
/// records and fields as the JSON register (no token needed).
#[utoipa::path(get, path = "/grants/register.csv", tag = "grants",
    responses((status = 200, description = "CSV, columns as docs/state-aid-register.md lists them", content_type = "text/csv", body = String)))]
pub async fn register_csv(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let records = state.db(|conn| register::register_of(conn, None)).await?;
    let body = register::register_csv(&records)?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", "attachment; filename=\"state-aid-register.csv\""))
        .body(body))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AidGrantedQuery {
    /// One fund's awards; every fund's when left out.
    #[param(value_type = Option<uuid::Uuid>)]
    #[serde(default, deserialize_with = "crate::http::extract::optional_uuid_text")]
    pub fund_id: Option<String>,
}

/// State aid granted by compute grants, by basis, SME category and NUTS 2 region: awards,
/// GPU-hours and aid value as awarded (no token needed; the register lists the awards).
#[utoipa::path(get, path = "/grants/aid-granted", tag = "grants", params(AidGrantedQuery),
    responses((status = 200, body = AidGranted), (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn aid_granted(state: web::Data<AppState>, query: ValidQuery<AidGrantedQuery>) -> AppResult<HttpResponse> {
    let fund_id = query.fund_id.clone();
    let aid = state.db(move |conn| register::aid_granted(conn, fund_id.as_deref())).await?;
    Ok(HttpResponse::Ok().json(aid))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LapseRequest {
    /// Lapse awards whose period ended more than 7 days (the days facilities have to report its
    /// usage) before this date (today when omitted; never in the future).
    #[serde(default, deserialize_with = "crate::domain::calendar_date::deserialize_option")]
    pub as_of: Option<NaiveDate>,
}

/// Lapse ended awards now (staff): unused hours lapse, unused aid returns to the pool. The
/// server also does this periodically; running it again changes nothing.
#[utoipa::path(post, path = "/grants/lapse", tag = "grants", security(("bearer" = [])), request_body = LapseRequest,
    responses((status = 200, body = [Lapse]), (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn lapse(
    state: web::Data<AppState>,
    principal: Principal,
    body: ValidJson<LapseRequest>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff])?;
    let as_of = body.value.as_of.unwrap_or_else(today);
    if as_of > today() {
        return Err(AppError::field("as_of", "must not be in the future"));
    }
    let actor = principal.actor();
    let done = state.db(move |conn| awards::lapse_due(conn, as_of, &actor)).await?;
    Ok(HttpResponse::Ok().json(done))
}
