//! The one error type of the service. Every variant maps to an RFC 9457 problem (see
//! `http::problem`); domain and storage code return it so handlers stay thin.

use std::fmt;

use chrono::NaiveDate;

use crate::domain::ledger::EntryError;
use crate::domain::money::MoneyError;
pub use crate::i18n::message::{Message, Wording};

/// One field that failed validation, named by its JSON path (`postings[1].amount`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    /// Why, in English; pages show it in their reader's language.
    #[schema(value_type = String)]
    pub reason: Wording,
}

impl FieldError {
    pub fn new(field: impl Into<String>, reason: impl fmt::Display) -> Self {
        FieldError { field: field.into(), reason: Wording::from(reason.to_string()) }
    }

    /// A reason holding data (figures, names), said in each reader's language.
    pub fn message(field: impl Into<String>, reason: Message) -> Self {
        FieldError { field: field.into(), reason: Wording::from(reason) }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request is well-formed JSON but a field is invalid (400).
    #[error("invalid request: {}", summarize(.0))]
    Validation(Vec<FieldError>),
    /// The body could not be read as the expected JSON at all (400).
    #[error("{detail}")]
    MalformedBody { detail: String, errors: Vec<FieldError> },
    #[error("{0} not found")]
    NotFound(String),
    /// A business rule refuses the request as it stands (422), e.g. a call above the unfunded amount.
    #[error("{detail}")]
    Rule { code: &'static str, detail: Wording, errors: Vec<FieldError> },
    /// The request conflicts with the current state (409), e.g. a duplicate or a request in flight.
    #[error("{detail}")]
    Conflict { code: &'static str, detail: Wording },
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("request body larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The path exists but not with this method (405, with `Allow`).
    #[error("{method} is not allowed here; allowed: {}", .allowed.join(", "))]
    MethodNotAllowed { method: String, allowed: Vec<String> },
    /// The client sends too much, too fast (429, with `Retry-After`).
    #[error("{detail}")]
    TooManyRequests { code: &'static str, detail: String, retry_after_seconds: u64 },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// Anything the client could not have caused. Logged in full; the client sees a request id.
    #[error("internal error: {0}")]
    Internal(String),
}

fn summarize(errors: &[FieldError]) -> String {
    errors.iter().map(|e| format!("{}: {}", e.field, e.reason)).collect::<Vec<_>>().join("; ")
}

impl AppError {
    pub fn field(field: impl Into<String>, reason: impl fmt::Display) -> Self {
        AppError::Validation(vec![FieldError::new(field, reason)])
    }

    /// A field's reason holding data (figures, names), said in each reader's language.
    pub fn invalid(field: impl Into<String>, reason: Message) -> Self {
        AppError::Validation(vec![FieldError::message(field, reason)])
    }

    pub fn rule(code: &'static str, detail: impl Into<Wording>) -> Self {
        AppError::Rule { code, detail: detail.into(), errors: Vec::new() }
    }

    pub fn rule_on(code: &'static str, field: &str, detail: impl Into<Wording>) -> Self {
        let detail = detail.into();
        AppError::Rule { code, errors: vec![FieldError { field: field.to_string(), reason: detail.clone() }], detail }
    }

    pub fn conflict(code: &'static str, detail: impl Into<Wording>) -> Self {
        AppError::Conflict { code, detail: detail.into() }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        AppError::NotFound(what.into())
    }

    pub fn internal(error: impl fmt::Display) -> Self {
        AppError::Internal(error.to_string())
    }

    /// Stable machine-readable code; the problem `type` is built from it.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Validation(_) => "validation-failed",
            AppError::MalformedBody { .. } => "malformed-body",
            AppError::NotFound(_) => "not-found",
            AppError::Rule { code, .. } | AppError::Conflict { code, .. } | AppError::TooManyRequests { code, .. } => {
                code
            }
            AppError::Unauthorized(_) => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::PayloadTooLarge(_) => "payload-too-large",
            AppError::UnsupportedMediaType(_) => "unsupported-media-type",
            AppError::MethodNotAllowed { .. } => "method-not-allowed",
            AppError::Unavailable(_) => "unavailable",
            AppError::Internal(_) => "internal-error",
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            AppError::Validation(_) | AppError::MalformedBody { .. } => 400,
            AppError::Unauthorized(_) => 401,
            AppError::Forbidden(_) => 403,
            AppError::NotFound(_) => 404,
            AppError::Conflict { .. } => 409,
            AppError::PayloadTooLarge(_) => 413,
            AppError::UnsupportedMediaType(_) => 415,
            AppError::Rule { .. } => 422,
            AppError::MethodNotAllowed { .. } => 405,
            AppError::TooManyRequests { .. } => 429,
            AppError::Unavailable(_) => 503,
            AppError::Internal(_) => 500,
        }
    }

    /// What the error says to a person reading `lang` (pages; the API answers in English with
    /// `to_string()`): messages with data in that language, fixed texts through the catalogue.
    pub fn in_lang(&self, lang: crate::i18n::Lang) -> String {
        match self {
            AppError::Rule { detail, .. } | AppError::Conflict { detail, .. } => detail.in_lang(lang),
            AppError::Validation(errors) => {
                errors.iter().map(|e| format!("{}: {}", e.field, e.reason.in_lang(lang))).collect::<Vec<_>>().join("; ")
            }
            other => lang.value(&other.to_string()),
        }
    }

    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            AppError::Validation(errors) | AppError::MalformedBody { errors, .. } | AppError::Rule { errors, .. } => {
                errors
            }
            _ => &[],
        }
    }
}

/// The refusal of a write dated out of order with a record it must follow, or with today: its
/// problem code, the request field of its date, and its message, which names both dates (`$date`
/// and `$latest`, or `$today`) so the caller knows which dates are in order.
#[derive(Clone, Copy, Debug)]
pub struct OutOfOrder {
    pub code: &'static str,
    pub field: &'static str,
    pub message: &'static str,
}

impl OutOfOrder {
    /// Refuses `date` unless it is on or after `latest` (a record of the same kind: the same
    /// day is in order).
    pub fn unless_on_or_after(self, latest: Option<NaiveDate>, date: NaiveDate) -> AppResult<()> {
        match latest {
            Some(latest) if latest > date => Err(self.refusal(date, latest)),
            _ => Ok(()),
        }
    }

    /// Refuses `date` unless it is after `latest` (a record that counted what was dated by its
    /// own date: the same day would have been counted).
    pub fn unless_after(self, latest: Option<NaiveDate>, date: NaiveDate) -> AppResult<()> {
        match latest {
            Some(latest) if latest >= date => Err(self.refusal(date, latest)),
            _ => Ok(()),
        }
    }

    /// Refuses `date` unless it is `today` or earlier: a record of what has happened (a call
    /// sent, cash paid or received, a loss, a valuation). None of them but proceeds is ever
    /// reversed, and one dated ahead would hold back every write that must follow it until then.
    pub fn unless_come(self, date: NaiveDate, today: NaiveDate) -> AppResult<()> {
        if date > today {
            let message = Message::new(self.message).date("date", date).date("today", today);
            return Err(AppError::rule_on(self.code, self.field, message));
        }
        Ok(())
    }

    fn refusal(self, date: NaiveDate, latest: NaiveDate) -> AppError {
        AppError::rule_on(self.code, self.field, Message::new(self.message).date("date", date).date("latest", latest))
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match error {
            Error::NotFound => AppError::NotFound("record".into()),
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, info) => AppError::Conflict {
                code: "write-conflict",
                detail: format!("concurrent update, try again: {}", info.message()).into(),
            },
            other => AppError::Internal(format!("database: {other}")),
        }
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(error: diesel::r2d2::PoolError) -> Self {
        database_unavailable(&error)
    }
}

/// The database cannot be reached: the cause (which may name its host, port and user) goes to
/// the log with the request id, the client is told to try again.
pub fn database_unavailable(cause: &dyn std::fmt::Display) -> AppError {
    tracing::warn!(error = %cause, "database unavailable");
    AppError::Unavailable("the database is unavailable; try again shortly".into())
}

impl From<EntryError> for AppError {
    fn from(error: EntryError) -> Self {
        match error {
            EntryError::TooLarge | EntryError::Money(_) => {
                AppError::rule_on("amount-out-of-range", "postings", error.to_string())
            }
            _ => AppError::rule_on("unbalanced-entry", "postings", error.to_string()),
        }
    }
}

impl From<crate::domain::eligibility::EligibilityError> for AppError {
    fn from(error: crate::domain::eligibility::EligibilityError) -> Self {
        match error {
            crate::domain::eligibility::EligibilityError::Invalid { field, reason } => AppError::field(field, reason),
            crate::domain::eligibility::EligibilityError::Money(e) => AppError::from(e),
        }
    }
}

impl From<MoneyError> for AppError {
    fn from(error: MoneyError) -> Self {
        AppError::rule("amount-out-of-range", error.to_string())
    }
}

pub type AppResult<T> = Result<T, AppError>;
