//! The enterprise behind SME applications, checked at the edge, and the SME profile that
//! states it once: `GET` and `PUT /smes/{sme_id}/profile`.

use actix_web::{web, HttpResponse};
use rust_decimal::Decimal;

use super::funds::validate_name;
use super::structure::Checks;
use crate::auth::Principal;
use crate::domain::eligibility::{aggregate_period, EnterpriseFigures, ListedInvestor, Period, Related};
use crate::domain::parties::{country_code, nace_code, nuts2_region};
use crate::domain::roles::Role;
use crate::error::{AppError, AppResult};
use crate::http::extract::{parse_id, ValidJson};
use crate::http::routes::RouteTable;
use crate::http::AppState;
use crate::storage::grants::{Company, Enterprise};
use crate::storage::profiles::{self, SmeProfile};
use crate::storage::write_tx;

pub fn routes(table: &mut RouteTable) {
    table.get("/smes/{sme_id}/profile", get_profile);
    table.put("/smes/{sme_id}/profile", put_profile);
}

/// Largest number of related enterprises one application or profile lists.
pub const RELATED_ENTERPRISES_MAX: usize = 50;
/// Largest headcount accepted, in annual work units.
pub const STAFF_AWU_MAX: i64 = 10_000_000;

fn registration(checks: &mut Checks, field: &str, text: &str) -> String {
    let number = text.trim().to_string();
    checks.require(
        field,
        (1..=64).contains(&number.len())
            && number.chars().any(|c| c.is_ascii_alphanumeric())
            && number.chars().all(|c| c.is_ascii_alphanumeric() || " -./".contains(c)),
        "must be 1 to 64 letters, digits, spaces, dashes, dots or slashes",
    );
    number
}

fn figures(checks: &mut Checks, prefix: &str, figures: &EnterpriseFigures) {
    checks.require(
        &format!("{prefix}staff_awu"),
        figures.staff_awu >= Decimal::ZERO
            && figures.staff_awu <= Decimal::from(STAFF_AWU_MAX)
            && figures.staff_awu.scale() <= 2,
        "must be 0 to 10,000,000 annual work units with at most 2 decimals",
    );
    checks.require(&format!("{prefix}turnover"), !figures.turnover.is_negative(), "must not be negative");
    checks.require(&format!("{prefix}balance_sheet"), !figures.balance_sheet.is_negative(), "must not be negative");
}

fn company(checks: &mut Checks, company: &Company) -> Company {
    checks.check("company.legal_name", validate_name(&company.legal_name));
    let registration_number = registration(checks, "company.registration_number", &company.registration_number);
    let country = checks.check("company.country", country_code(&company.country)).unwrap_or_default();
    let nace = company.nace_code.as_deref().and_then(|code| checks.check("company.nace_code", nace_code(code)));
    let nuts = company
        .nuts2_region
        .as_deref()
        .and_then(|code| checks.check("company.nuts2_region", nuts2_region(code, &country)));
    Company {
        legal_name: company.legal_name.trim().to_string(),
        registration_number,
        country,
        nace_code: nace,
        nuts2_region: nuts,
    }
}

/// A related enterprise's identity may be left out in a draft (submission asks for it); what
/// is given must be well formed.
fn related(checks: &mut Checks, index: usize, other: &Related) -> Related {
    let field = |name: &str| format!("related[{index}].{name}");
    let mut clean = other.clone();
    clean.legal_name = other.legal_name.trim().to_string();
    if !clean.legal_name.is_empty() {
        checks.check(&field("legal_name"), validate_name(&clean.legal_name));
    }
    if !other.country.trim().is_empty() {
        clean.country = checks.check(&field("country"), country_code(&other.country)).unwrap_or_default();
    }
    if !other.registration_number.trim().is_empty() {
        clean.registration_number = registration(checks, &field("registration_number"), &other.registration_number);
    }
    if let Some(latest) = &other.figures {
        figures(checks, &field("figures."), latest);
    }
    if let Some(previous) = &other.previous_figures {
        figures(checks, &field("previous_figures."), previous);
    }
    let declared = other.de_minimis_received.unwrap_or_default();
    checks.require(&field("de_minimis_received"), !declared.is_negative(), "must not be negative");
    match other.listed_investor {
        Some(ListedInvestor::BusinessAngel { total_invested }) => checks.require(
            &field("listed_investor.total_invested"),
            !total_invested.is_negative(),
            "must not be negative",
        ),
        Some(ListedInvestor::AutonomousLocalAuthority { annual_budget, .. }) => checks.require(
            &field("listed_investor.annual_budget"),
            !annual_budget.is_negative(),
            "must not be negative",
        ),
        _ => {}
    }
    clean
}

/// Checks and normalises an enterprise. `figures_prefix` names the latest figures' fields:
/// `figures.` in a profile, nothing in an application (whose figures sit at the top level).
pub fn validate_enterprise(enterprise: Enterprise, figures_prefix: &str) -> AppResult<Enterprise> {
    let mut checks = Checks::default();
    let company = company(&mut checks, &enterprise.company);
    figures(&mut checks, figures_prefix, &enterprise.figures);
    if let Some(previous) = &enterprise.previous_period {
        figures(&mut checks, "previous_period.", previous);
    }
    checks.require(
        "related",
        enterprise.related.len() <= RELATED_ENTERPRISES_MAX,
        &format!("at most {RELATED_ENTERPRISES_MAX} related enterprises"),
    );
    let related: Vec<Related> = enterprise
        .related
        .iter()
        .take(RELATED_ENTERPRISES_MAX)
        .enumerate()
        .map(|(index, other)| self::related(&mut checks, index, other))
        .collect();
    checks.require("de_minimis_received", !enterprise.de_minimis_received.is_negative(), "must not be negative");
    checks.finish()?;
    // Holdings are checked where the figures are aggregated (named by path).
    aggregate_period(&enterprise.figures, &related, Period::Latest)?;
    Ok(Enterprise { company, related, ..enterprise })
}

/// An SME's profile (the SME itself; staff, auditors and admins read any).
#[utoipa::path(get, path = "/smes/{sme_id}/profile", tag = "grants", security(("bearer" = [])), params(("sme_id" = String, Path, format = Uuid)),
    responses((status = 200, body = SmeProfile), (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn get_profile(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff, Role::Auditor, Role::Admin, Role::Sme])?;
    let sme_id = parse_id("sme_id", &path)?;
    if !principal.may_read_party(Role::Sme, &sme_id) {
        return Err(AppError::not_found(format!("profile of SME {sme_id}")));
    }
    let profile = state.db(move |conn| profiles::get_profile(conn, &sme_id)).await?;
    Ok(HttpResponse::Ok().json(profile))
}

/// Save the SME's profile (the SME itself): company with NACE code and NUTS 2 region, the
/// latest and previous closed periods, related enterprises with their identity and relation,
/// de minimis aid received elsewhere and the GBER declarations. Drafts made from the profile
/// take the new content; submitted applications keep theirs.
#[utoipa::path(put, path = "/smes/{sme_id}/profile", tag = "grants", security(("bearer" = [])), params(("sme_id" = String, Path, format = Uuid)),
    request_body = Enterprise,
    responses((status = 200, body = SmeProfile),
        (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn put_profile(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    body: ValidJson<Enterprise>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Sme])?;
    let sme_id = parse_id("sme_id", &path)?;
    if principal.subject != sme_id {
        return Err(AppError::not_found(format!("profile of SME {sme_id}")));
    }
    let enterprise = validate_enterprise(body.value, "figures.")?;
    let actor = principal.actor();
    let profile =
        state.db(move |conn| write_tx(conn, |c| profiles::put_profile(c, &sme_id, enterprise.clone(), &actor))).await?;
    Ok(HttpResponse::Ok().json(profile))
}
