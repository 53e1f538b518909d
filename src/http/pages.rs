//! HTML pages: sign in, sign out and the home page of each role.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::extract::{session_principal, SESSION_COOKIE};
use super::AppState;
use crate::auth::login::{authenticate, token_for};
use crate::auth::{csrf, Principal};
use crate::domain::roles::Role;
use crate::error::{AppError, AppResult};

/// Cookie holding the pre-login nonce that the login form's CSRF token is bound to.
pub const CSRF_COOKIE: &str = "investai_csrf";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(home)
        .service(login_form)
        .service(login)
        .service(logout)
        .service(stylesheet)
        .service(notice_page)
        .service(statement_page);
}

pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf_token: String,
    error: Option<String>,
    username: String,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    display_name: String,
    role: Role,
    party: Option<String>,
    role_summary: &'static str,
    nav: Vec<NavItem>,
    csrf_token: String,
}

/// Renders a template into a response; a template error is a 500 with a problem body.
pub fn render(template: &impl Template) -> AppResult<HttpResponse> {
    let html = template.render().map_err(AppError::internal)?;
    Ok(HttpResponse::Ok().content_type("text/html; charset=utf-8").body(html))
}

fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, to)).finish()
}

/// Whether cookies get the `Secure` flag for this request.
fn secure_cookies(state: &AppState, req: &HttpRequest) -> bool {
    match state.settings.cookie_secure.as_str() {
        "always" => true,
        "never" => false,
        _ => req.connection_info().scheme() == "https",
    }
}

fn role_summary(role: Role) -> &'static str {
    match role {
        Role::Staff => "Record sources, commitments and capital activity; run distributions; manage grant calls.",
        Role::Investor => "Your own positions, notices, distributions and statements.",
        Role::Auditor => "Read every book, export the ledger and check that nothing was altered.",
        Role::Sme => "Apply for subsidised GPU-hours and follow your applications.",
        Role::Facility => "Report GPU-hour usage against awards and see your capacity.",
        Role::Admin => "Manage users and keys.",
    }
}

/// What the role's navigation offers: only what it may use.
pub fn navigation(role: Role) -> Vec<NavItem> {
    let mut items = vec![NavItem { href: "/", label: "Home" }];
    if role.reads_all() {
        items.push(NavItem { href: "/api/docs/", label: "API reference" });
    }
    items
}

#[get("/")]
async fn home(state: web::Data<AppState>, req: HttpRequest) -> AppResult<HttpResponse> {
    let Some(principal) = session_principal(&req) else {
        return Ok(redirect("/login"));
    };
    let Principal { subject, role, name, token_id } = principal;
    render(&HomePage {
        display_name: name.unwrap_or_else(|| subject.clone()),
        party: role.is_party_bound().then_some(subject),
        role,
        role_summary: role_summary(role),
        nav: navigation(role),
        csrf_token: csrf::token(&state.secret, &token_id),
    })
}

fn login_page(state: &AppState, req: &HttpRequest, error: Option<String>, username: String) -> AppResult<HttpResponse> {
    let nonce = req
        .cookie(CSRF_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|v| v.len() == 36)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let page = LoginPage { csrf_token: csrf::token(&state.secret, &nonce), error: error.clone(), username };
    let html = page.render().map_err(AppError::internal)?;
    let cookie = Cookie::build(CSRF_COOKIE, nonce)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure_cookies(state, req))
        .finish();
    let mut response = if error.is_some() { HttpResponse::Unauthorized() } else { HttpResponse::Ok() };
    Ok(response.cookie(cookie).content_type("text/html; charset=utf-8").body(html))
}

#[get("/login")]
async fn login_form(state: web::Data<AppState>, req: HttpRequest) -> AppResult<HttpResponse> {
    login_page(&state, &req, None, String::new())
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    csrf_token: String,
}

#[post("/login")]
async fn login(state: web::Data<AppState>, req: HttpRequest, form: web::Form<LoginForm>) -> AppResult<HttpResponse> {
    let LoginForm { username, password, csrf_token } = form.into_inner();
    let nonce = req.cookie(CSRF_COOKIE).map(|c| c.value().to_string()).unwrap_or_default();
    if nonce.is_empty() || !csrf::verify(&state.secret, &nonce, &csrf_token) {
        return Err(AppError::Forbidden(
            "the form expired or did not come from this site; reload and try again".into(),
        ));
    }
    let ttl = state.settings.token_ttl_minutes * 60;
    let keys = state.keys.clone();
    let name = username.clone();
    let outcome = state
        .db(move |conn| {
            let user = authenticate(conn, &name, &password)?;
            token_for(&keys, &user, ttl)
        })
        .await;
    match outcome {
        Ok(token) => {
            let cookie = Cookie::build(SESSION_COOKIE, token)
                .path("/")
                .http_only(true)
                .same_site(SameSite::Strict)
                .secure(secure_cookies(&state, &req))
                .max_age(actix_web::cookie::time::Duration::seconds(ttl))
                .finish();
            Ok(HttpResponse::SeeOther().cookie(cookie).insert_header((header::LOCATION, "/")).finish())
        }
        Err(AppError::Unauthorized(reason)) => login_page(&state, &req, Some(reason), username),
        Err(other) => Err(other),
    }
}

#[derive(Deserialize)]
struct LogoutForm {
    csrf_token: String,
}

#[post("/logout")]
async fn logout(state: web::Data<AppState>, req: HttpRequest, form: web::Form<LogoutForm>) -> AppResult<HttpResponse> {
    if let Some(principal) = session_principal(&req) {
        if !csrf::verify(&state.secret, &principal.token_id, &form.csrf_token) {
            return Err(AppError::Forbidden("the form did not come from this site".into()));
        }
    }
    let mut gone = Cookie::build(SESSION_COOKIE, "").path("/").finish();
    gone.make_removal();
    Ok(HttpResponse::SeeOther().cookie(gone).insert_header((header::LOCATION, "/login")).finish())
}

#[derive(Template)]
#[template(path = "notice.html")]
struct NoticePage {
    n: crate::storage::capital::Notice,
}

/// The printable capital-call notice. Investors see only their own (others: 404).
#[get("/notices/{notice_id}")]
async fn notice_page(state: web::Data<AppState>, req: HttpRequest, path: web::Path<String>) -> AppResult<HttpResponse> {
    let Some(principal) = session_principal(&req) else {
        return Ok(redirect("/login"));
    };
    let notice_id = crate::http::extract::parse_id("notice_id", &path)?;
    let n = crate::http::api::capital::visible_notice(&state, &principal, notice_id).await?;
    render(&NoticePage { n })
}

#[derive(Template)]
#[template(path = "statement.html")]
struct StatementPage {
    s: crate::storage::metrics::Statement,
}

#[derive(Deserialize)]
struct PeriodParams {
    from: chrono::NaiveDate,
    to: Option<chrono::NaiveDate>,
}

/// The printable capital-account statement. Investors see only their own (others: 404).
#[get("/statements/{fund_id}/{investor_id}")]
async fn statement_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    query: crate::http::extract::ValidQuery<PeriodParams>,
) -> AppResult<HttpResponse> {
    let Some(principal) = session_principal(&req) else {
        return Ok(redirect("/login"));
    };
    let (fund_id, investor) = path.into_inner();
    let fund_id = crate::http::extract::parse_id("fund_id", &fund_id)?;
    let investor = crate::http::extract::parse_id("investor_id", &investor)?;
    let to = query.to.unwrap_or_else(crate::http::api::capital::today);
    let s =
        crate::http::api::waterfall::visible_statement(&state, &principal, &fund_id, &investor, query.from, to).await?;
    render(&StatementPage { s })
}

#[get("/static/app.css")]
async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(include_str!("../../static/app.css"))
}
