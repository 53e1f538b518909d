//! Signing in and out of the HTML pages.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;

use super::{posted, PageQuery, PageResult};
use crate::auth::csrf;
use crate::auth::login::{client_address, sign_in, sign_out, token_for};
use crate::error::AppError;
use crate::http::extract::{session_principal, SESSION_COOKIE};
use crate::http::AppState;
use crate::i18n::{Lang, LANG_COOKIE};
use serde::Deserialize;

/// Cookie holding the pre-login nonce that the login form's CSRF token is bound to.
pub const CSRF_COOKIE: &str = "investai_csrf";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(login_form).service(login).service(logout).service(choose_language);
}

/// A year: a reader's language choice outlives sessions.
const LANG_COOKIE_DAYS: i64 = 365;

fn lang_cookie(state: &AppState, req: &HttpRequest, lang: Lang) -> Cookie<'static> {
    Cookie::build(LANG_COOKIE, lang.tag())
        .path("/")
        .same_site(SameSite::Lax)
        .secure(secure_cookies(state, req))
        .max_age(actix_web::cookie::time::Duration::days(LANG_COOKIE_DAYS))
        .finish()
}

#[derive(Deserialize)]
struct LanguageChoice {
    lang: String,
    back: Option<String>,
}

/// The language switch on every page: remembers the choice in a cookie and, for a signed-in
/// user, as their preference (applied at their next sign-in on any device), then goes back to
/// the page it was pressed on. Only a path on this site is gone back to.
#[get("/language")]
async fn choose_language(state: web::Data<AppState>, req: HttpRequest, query: PageQuery<LanguageChoice>) -> PageResult {
    let lang = Lang::from_tag(&query.lang)
        .filter(|l| l.tag() == query.lang)
        .ok_or_else(|| AppError::field("query.lang", "must be en, fr or de"))?;
    if let Some(principal) = session_principal(&req).await? {
        let username = principal.username.clone();
        state.db(move |conn| crate::storage::users::set_language(conn, &username, lang.tag())).await?;
    }
    let back = query.back.as_deref().filter(|b| b.starts_with('/') && !b.starts_with("//") && !b.contains('\\'));
    Ok(HttpResponse::SeeOther()
        .cookie(lang_cookie(&state, &req, lang))
        .insert_header((header::LOCATION, back.unwrap_or("/")))
        .finish())
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: super::view::Layout,
    csrf_token: String,
    error: Option<String>,
    username: String,
}

/// Whether cookies get the `Secure` flag for this request.
fn secure_cookies(state: &AppState, req: &HttpRequest) -> bool {
    match state.settings.cookie_secure.as_str() {
        "always" => true,
        "never" => false,
        _ => req.connection_info().scheme() == "https",
    }
}

fn login_page(state: &AppState, req: &HttpRequest, error: Option<String>, username: String) -> PageResult {
    let nonce = req
        .cookie(CSRF_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|v| v.len() == 36)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let page = LoginPage {
        layout: super::view::Layout::public("/login", crate::i18n::Lang::current()),
        csrf_token: csrf::token(&state.secret, &nonce),
        error: error.clone(),
        username,
    };
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
async fn login_form(state: web::Data<AppState>, req: HttpRequest) -> PageResult {
    login_page(&state, &req, None, String::new())
}

#[post("/login")]
async fn login(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> PageResult {
    let form = posted(&body)?;
    let field = |name: &str| form.get(name).unwrap_or_default().to_string();
    let (username, password, csrf_token) = (field("username"), field("password"), field("csrf_token"));
    let nonce = req.cookie(CSRF_COOKIE).map(|c| c.value().to_string()).unwrap_or_default();
    if nonce.is_empty() || !csrf::verify(&state.secret, &nonce, &csrf_token) {
        return Err(AppError::Forbidden(
            "the form expired or did not come from this site; reload and try again".into(),
        )
        .into());
    }
    let ttl = state.settings.token_ttl_minutes * 60;
    let address = client_address(&state, &req);
    let outcome = match sign_in(&state, username.clone(), password, address).await {
        Ok(user) => {
            let name = user.username.clone();
            let language = state.db(move |conn| crate::storage::users::language_of(conn, &name)).await?;
            token_for(&state.keys, &user, ttl).map(|token| (token, language.as_deref().and_then(Lang::from_tag)))
        }
        Err(error) => Err(error),
    };
    match outcome {
        Ok((token, language)) => {
            let cookie = Cookie::build(SESSION_COOKIE, token)
                .path("/")
                .http_only(true)
                .same_site(SameSite::Strict)
                .secure(secure_cookies(&state, &req))
                .max_age(actix_web::cookie::time::Duration::seconds(ttl))
                .finish();
            let mut response = HttpResponse::SeeOther();
            response.cookie(cookie).insert_header((header::LOCATION, "/"));
            if let Some(lang) = language {
                response.cookie(lang_cookie(&state, &req, lang));
            }
            Ok(response.finish())
        }
        Err(AppError::Unauthorized(reason)) => login_page(&state, &req, Some(reason), username),
        Err(AppError::TooManyRequests { detail, retry_after_seconds, .. }) => {
            let mut page = login_page(&state, &req, Some(detail), username)?;
            *page.status_mut() = actix_web::http::StatusCode::TOO_MANY_REQUESTS;
            if let Ok(value) = header::HeaderValue::from_str(&retry_after_seconds.to_string()) {
                page.headers_mut().insert(header::RETRY_AFTER, value);
            }
            Ok(page)
        }
        Err(other) => Err(other.into()),
    }
}

#[post("/logout")]
async fn logout(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> PageResult {
    let form = posted(&body)?;
    if let Some(principal) = session_principal(&req).await? {
        if !csrf::verify(&state.secret, &principal.token_id, form.get("csrf_token").unwrap_or_default()) {
            return Err(AppError::Forbidden("the form did not come from this site".into()).into());
        }
        sign_out(&state, &principal).await?;
    }
    let mut gone = Cookie::build(SESSION_COOKIE, "").path("/").finish();
    gone.make_removal();
    Ok(HttpResponse::SeeOther().cookie(gone).insert_header((header::LOCATION, "/login")).finish())
}
