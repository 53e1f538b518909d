//! Request extractors that parse and validate at the edge: the caller, JSON bodies with
//! field-level errors, idempotency keys, and ids.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use super::body_errors::all_field_errors;
use super::AppState;
use crate::auth::{standing, Principal};
use crate::error::{AppError, FieldError};
use crate::storage::idempotency::KEY_LENGTH_MAX;

/// Name of the cookie that carries a browser session's token.
pub const SESSION_COOKIE: &str = "investai_session";

fn state(req: &HttpRequest) -> Result<&AppState, AppError> {
    req.app_data::<actix_web::web::Data<AppState>>()
        .map(|data| data.get_ref())
        .ok_or_else(|| AppError::internal("application state missing"))
}

/// The caller of an API request, from `Authorization: Bearer <jwt>`.
impl FromRequest for Principal {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Principal, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let found = state_data(req).and_then(|state| Ok((state, bearer_text(req)?)));
        Box::pin(async move {
            let (state, token) = found?;
            admit_token(&state, &token).await
        })
    }
}

fn state_data(req: &HttpRequest) -> Result<actix_web::web::Data<AppState>, AppError> {
    req.app_data::<actix_web::web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::internal("application state missing"))
}

fn bearer_text(req: &HttpRequest) -> Result<String, AppError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| AppError::Unauthorized("missing Authorization: Bearer token".into()))?;
    value
        .to_str()
        .ok()
        .and_then(bearer_token)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .ok_or_else(|| AppError::Unauthorized("Authorization header must be `Bearer <token>`".into()))
}

/// The token of an `Authorization` value: the scheme is matched case-insensitively
/// (RFC 9110 section 11.1), one or more spaces follow it.
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The principal a token speaks for: its signature and times are checked, then whether its
/// user may still act (`auth::standing`).
pub async fn admit_token(state: &AppState, token: &str) -> Result<Principal, AppError> {
    let claims = state.keys.verify(token).map_err(|e| AppError::Unauthorized(e.to_string()))?;
    let standing = state.standing_of(&claims.sub).await?;
    standing::admit(&claims, state.keys.minter(&claims), standing.as_deref())
        .map_err(|refusal| AppError::Unauthorized(refusal.to_string()))
}

/// The caller of a download that HTML pages link to: the bearer token when one is sent,
/// otherwise the browser's session cookie.
pub async fn bearer_or_session_principal(req: &HttpRequest) -> Result<Principal, AppError> {
    let state = state_data(req)?;
    if req.headers().contains_key(header::AUTHORIZATION) {
        return admit_token(&state, &bearer_text(req)?).await;
    }
    if req.cookie(SESSION_COOKIE).is_none() {
        return Err(AppError::Unauthorized("send an Authorization: Bearer token or sign in".into()));
    }
    session_principal(req).await?.ok_or_else(|| AppError::Unauthorized("the session has ended; sign in again".into()))
}

/// The caller of an HTML page, from the session cookie; `None` when not signed in or when the
/// session ended (expired, signed out, or its user changed).
pub async fn session_principal(req: &HttpRequest) -> Result<Option<Principal>, AppError> {
    let state = state_data(req)?;
    let Some(cookie) = req.cookie(SESSION_COOKIE) else {
        return Ok(None);
    };
    match admit_token(&state, cookie.value()).await {
        Ok(principal) => Ok(Some(principal)),
        Err(AppError::Unauthorized(_)) => Ok(None),
        Err(other) => Err(other),
    }
}

/// A JSON body, with its raw bytes kept for idempotency fingerprints.
///
/// Errors name the field by its JSON path (`postings[1].debit`) and the reason; unknown
/// fields are refused by `#[serde(deny_unknown_fields)]` on the target types.
pub struct ValidJson<T> {
    pub value: T,
    pub raw: Bytes,
}

impl<T: DeserializeOwned + 'static> FromRequest for ValidJson<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = RawBody::from_request(req, payload);
        Box::pin(async move {
            let body = body.await?;
            if body.media_type != "application/json" {
                return Err(AppError::UnsupportedMediaType("send the body as Content-Type: application/json".into()));
            }
            let value = parse_json(&body.raw)?;
            Ok(ValidJson { value, raw: body.raw })
        })
    }
}

/// A body of any media type, read up to the service's body limit: its media type (lower
/// case, without parameters; empty when none is declared) and its bytes.
pub struct RawBody {
    pub media_type: String,
    pub raw: Bytes,
}

impl FromRequest for RawBody {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = state(req).map(|s| s.settings.body_limit_bytes).unwrap_or(1024 * 1024);
        let media_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase())
            .unwrap_or_default();
        let declared_length = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if declared_length.is_some_and(|length| length > limit) {
                return Err(AppError::PayloadTooLarge(limit));
            }
            let mut body = BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| AppError::MalformedBody {
                    detail: format!("body could not be read: {e}"),
                    errors: vec![],
                })?;
                if body.len() + chunk.len() > limit {
                    return Err(AppError::PayloadTooLarge(limit));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(RawBody { media_type, raw: body.freeze() })
        })
    }
}

/// Deserializes with the path of the failing field in the error. Valid bodies take the plain
/// parser; only a refused body is parsed again with path tracking, which costs a wrapper on
/// every field (a 10,000-record usage batch has 50,000).
pub fn parse_json<T: DeserializeOwned>(raw: &[u8]) -> Result<T, AppError> {
    match serde_json::from_slice(raw) {
        Ok(value) => Ok(value),
        Err(_) => parse_json_with_path(raw),
    }
}

fn parse_json_with_path<T: DeserializeOwned>(raw: &[u8]) -> Result<T, AppError> {
    let deserializer = &mut serde_json::Deserializer::from_slice(raw);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let reason = clean_serde_message(&inner.to_string());
        if inner.is_syntax() || inner.is_eof() {
            AppError::MalformedBody { detail: format!("body is not valid JSON: {reason}"), errors: vec![] }
        } else {
            let field = if path == "." { "body".to_string() } else { path };
            let errors = all_field_errors::<T>(raw, FieldError::new(field, reason));
            let detail = errors.iter().map(|e| format!("{}: {}", e.field, e.reason)).collect::<Vec<_>>().join("; ");
            AppError::MalformedBody { detail, errors }
        }
    })
}

/// serde appends " at line 1 column 42" to messages; the path already says where.
fn clean_serde_message(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_string(),
        None => message.to_string(),
    }
}

/// The `Idempotency-Key` header, if sent: 1 to 255 visible ASCII characters.
pub struct IdempotencyKey(pub Option<String>);

impl FromRequest for IdempotencyKey {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let outcome = match req.headers().get("Idempotency-Key") {
            None => Ok(IdempotencyKey(None)),
            Some(value) => match value.to_str() {
                Ok(key)
                    if !key.is_empty() && key.len() <= KEY_LENGTH_MAX && key.chars().all(|c| c.is_ascii_graphic()) =>
                {
                    Ok(IdempotencyKey(Some(key.to_string())))
                }
                _ => Err(AppError::field(
                    "Idempotency-Key",
                    format!("must be 1 to {KEY_LENGTH_MAX} visible ASCII characters"),
                )),
            },
        };
        std::future::ready(outcome)
    }
}

/// Fingerprint of a request for idempotency: method, path and body.
pub fn request_fingerprint(req: &HttpRequest, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(req.method().as_str().as_bytes());
    hasher.update(b" ");
    hasher.update(req.path().as_bytes());
    hasher.update(b"\n");
    hasher.update(body);
    hex::encode(hasher.finalize())
}

/// Validates an id taken from a path or body: a UUID, returned in canonical form.
pub fn parse_id(field: &str, text: &str) -> Result<String, AppError> {
    canonical_uuid(text).map_err(|reason| AppError::field(field, reason))
}

fn canonical_uuid(text: &str) -> Result<String, &'static str> {
    uuid::Uuid::parse_str(text).map(|id| id.to_string()).map_err(|_| "not a valid UUID")
}

/// A UUID in canonical form, read from its text.
struct UuidText(String);

impl<'de> serde::Deserialize<'de> for UuidText {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <String as serde::Deserialize>::deserialize(deserializer)?;
        canonical_uuid(&text).map(UuidText).map_err(serde::de::Error::custom)
    }
}

/// `deserialize_with` for an id field of a body or query: a UUID, kept in canonical form, so
/// a malformed id is refused with its field's path like any other wrong value.
pub fn uuid_text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    <UuidText as serde::Deserialize>::deserialize(deserializer).map(|id| id.0)
}

/// `uuid_text` for an optional id (with `#[serde(default)]`).
pub fn optional_uuid_text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    <Option<UuidText> as serde::Deserialize>::deserialize(deserializer).map(|id| id.map(|id| id.0))
}

/// `uuid_text` for a list of ids; a malformed one is named by its index (`ids[2]`).
pub fn uuid_texts<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    <Vec<UuidText> as serde::Deserialize>::deserialize(deserializer).map(|ids| ids.into_iter().map(|id| id.0).collect())
}

/// Query-string parameters, with the failing parameter named in the error (`query.as_of`).
pub struct ValidQuery<T>(pub T);

impl<T> std::ops::Deref for ValidQuery<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for ValidQuery<T> {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(ValidQuery))
    }
}

/// Parses a query string into `T`. A parameter holding a control character is refused on its
/// name before anything reads it: no name or text in the books holds one (every write refuses
/// them), and PostgreSQL cannot take a NUL in a text parameter at all.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, AppError> {
    let controlled = url_pairs(query).find(|(key, value)| key.chars().chain(value.chars()).any(char::is_control));
    if let Some((key, _)) = controlled {
        let name: String = key.chars().filter(|c| !c.is_control()).collect();
        return Err(AppError::Validation(vec![FieldError::new(
            format!("query.{name}"),
            "must not contain control characters",
        )]));
    }
    let pairs = serde_urlencoded::Deserializer::new(url_pairs(query));
    serde_path_to_error::deserialize(pairs).map_err(|error| {
        let path = error.path().to_string();
        let reason = error.into_inner().to_string();
        let field = if path == "." { "query".to_string() } else { format!("query.{path}") };
        AppError::Validation(vec![FieldError::new(field, reason)])
    })
}

fn url_pairs(query: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(query.as_bytes())
}
