//! The OpenAPI 3 document, generated from the handlers, and its browsable UI.

use actix_web::{get, web, HttpResponse};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

mod problems;
use problems::{ProblemResponses, UuidPathIds};
use utoipa_swagger_ui::SwaggerUi;

use super::{api, health};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "InvestAI fund administration API",
        description = "Books of the EU InvestAI fund: funds, tranches, capital activity, waterfall, compute grants and the hash-chained double-entry ledger. Amounts are decimal strings in EUR, exact to the cent. Errors are RFC 9457 problem documents.",
        license(name = "EUPL-1.2"),
    ),
    paths(
        health::healthz,
        health::readyz,
        api::auth::issue_token,
        api::auth::sign_out,
        api::users::list_users,
        api::users::create_user,
        api::users::disable_user,
        api::users::enable_user,
        api::users::reset_password,
        api::users::change_role,
        api::users::list_events,
        api::funds::list_funds,
        api::funds::create_fund,
        api::funds::get_fund,
        api::ledger::list_accounts,
        api::ledger::create_account,
        api::ledger::account_balance,
        api::ledger::trial_balance,
        api::ledger::post_entry,
        api::ledger::list_entries,
        api::ledger::get_entry,
        api::ledger::reverse_entry,
        api::ledger::verify,
        api::transparency::latest_checkpoint,
        api::transparency::list_checkpoints,
        api::transparency::checkpoint,
        api::transparency::verifier_key,
        api::transparency::inclusion_proof,
        api::transparency::consistency_proof,
        api::transparency::grant_attribution,
        api::transparency::fund_lines,
        api::transparency::fund_report,
        api::transparency::open_data,
        api::grants::grant_attribution,
        api::exports::download_export,
        api::documents::call_notice_pdf,
        api::documents::call_notice_email,
        api::documents::distribution_notice_pdf,
        api::documents::statement_pdf,
        api::documents::award_letter_pdf,
        api::documents::award_letter_email,
        api::documents::get_facility_statement,
        api::documents::facility_statement_pdf,
        api::documents::get_bank_account,
        api::documents::put_bank_account,
        api::structure::create_tranche,
        api::structure::list_tranches,
        api::structure::create_source,
        api::structure::list_sources,
        api::structure::get_source,
        api::structure::create_facility,
        api::structure::list_facilities,
        api::structure::get_facility,
        api::structure::add_price,
        api::structure::list_prices,
        api::structure::price_on,
        api::commitments::create_commitment,
        api::commitments::list_commitments,
        api::commitments::get_commitment,
        api::commitments::amend_commitment,
        api::capital::create_call,
        api::capital::list_calls,
        api::capital::get_call,
        api::capital::list_notices,
        api::capital::get_notice,
        api::capital::pay_notice,
        api::investments::deploy,
        api::investments::list_deployments,
        api::investments::receive_proceeds,
        api::investments::record_valuation,
        api::investments::overview,
        api::waterfall::set_terms,
        api::waterfall::get_terms,
        api::waterfall::list_terms,
        api::waterfall::preview_terms,
        api::waterfall::preview,
        api::waterfall::execute,
        api::waterfall::list_distributions,
        api::waterfall::get_distribution,
        api::waterfall::notices,
        api::waterfall::write_down,
        api::waterfall::tranche_nav,
        api::waterfall::fund_metrics,
        api::waterfall::statement,
        api::explain::explain_fund_figure,
        api::explain::explain_investor_figure,
        api::proposals::propose,
        api::proposals::list_proposals,
        api::proposals::get_proposal,
        api::proposals::approve,
        api::proposals::reject,
        api::proposals::withdraw,
        api::grants::create_call,
        api::grants::list_calls,
        api::grants::get_call,
        api::grants::create_application,
        api::grants::list_applications,
        api::grants::get_application,
        api::grants::update_application,
        api::grants::submit_application,
        api::grants::review_application,
        api::grants::award_application,
        api::grants::reject_application,
        api::grants::list_awards,
        api::grants::get_award,
        api::grants::award_usage,
        api::grants::facility_capacity,
        api::grants::sme_grants,
        api::grants::register,
        api::grants::register_csv,
        api::grants::aid_granted,
        api::enterprise::get_profile,
        api::enterprise::put_profile,
        api::grants::lapse,
        api::usage::report_usage,
        api::usage::import_usage_file,
        api::usage::list_usage_imports,
        api::usage::list_slurm_accounts,
        api::usage::set_slurm_account,
    ),
    components(schemas(crate::http::problem::Problem, crate::error::FieldError, api::explain::InvestorFigure)),
    modifiers(&BearerAuth, &ProblemResponses, &UuidPathIds),
    servers((url = "/api/v1", description = "API v1")),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
        // Downloads linked from the HTML pages also accept the browser's session cookie.
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(crate::http::extract::SESSION_COOKIE))),
        );
    }
}

/// Stack for building the document: the generated builder nests deeply, and its debug-build
/// frames need more than the 2 MiB stacks of worker threads.
const DOCUMENT_BUILD_STACK_BYTES: usize = 16 * 1024 * 1024;

static DOCUMENT: std::sync::OnceLock<utoipa::openapi::OpenApi> = std::sync::OnceLock::new();

/// The document as served: paths are absolute (`/api/v1/...`, `/healthz`). Built once.
pub fn document() -> utoipa::openapi::OpenApi {
    DOCUMENT
        .get_or_init(|| {
            std::thread::Builder::new()
                .name("openapi".into())
                .stack_size(DOCUMENT_BUILD_STACK_BYTES)
                .spawn(build_document)
                .ok()
                .and_then(|handle| handle.join().ok())
                .unwrap_or_default()
        })
        .clone()
}

fn build_document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.servers = None;
    let paths = std::mem::take(&mut doc.paths.paths);
    for (path, item) in paths {
        let full =
            if path.starts_with("/healthz") || path.starts_with("/readyz") { path } else { format!("/api/v1{path}") };
        doc.paths.paths.insert(full, item);
    }
    doc
}

#[get("/api/openapi.json")]
async fn openapi_json(doc: web::Data<utoipa::openapi::OpenApi>) -> HttpResponse {
    HttpResponse::Ok().json(doc.get_ref())
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    let doc = document();
    cfg.app_data(web::Data::new(doc.clone()))
        .service(openapi_json)
        .service(SwaggerUi::new("/api/docs/{_:.*}").url("/api/openapi-ui.json", doc));
}
