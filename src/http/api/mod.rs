//! The JSON API, `/api/v1`.

pub mod auth;
pub mod capital;
pub mod commitments;
pub mod exports;
pub mod funds;
pub mod grants;
pub mod investments;
pub mod ledger;
pub mod structure;
pub mod usage;
pub mod users;
pub mod waterfall;

use crate::http::routes::RouteTable;
use actix_web::web;

use crate::error::{AppError, AppResult};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn routes(cfg: &mut web::ServiceConfig) {
    let mut table = RouteTable::default();
    for add in [
        auth::routes,
        users::routes,
        funds::routes,
        ledger::routes,
        exports::routes,
        structure::routes,
        commitments::routes,
        capital::routes,
        investments::routes,
        waterfall::routes,
        grants::routes,
        usage::routes,
    ] {
        add(&mut table);
    }
    cfg.service(web::scope("/api/v1").configure(|cfg| table.register(cfg)));
}

/// A page of a list. Pass `next_after` back as `after` to get the next page.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub items: Vec<T>,
    pub next_after: Option<String>,
}

/// Default and largest page sizes of list endpoints.
pub const PAGE_LIMIT_DEFAULT: i64 = 50;
pub const PAGE_LIMIT_MAX: i64 = 500;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AsOfQuery {
    /// Calendar date (UTC), inclusive; today when omitted.
    pub as_of: Option<chrono::NaiveDate>,
}

impl AsOfQuery {
    pub fn date(&self) -> chrono::NaiveDate {
        self.as_of.unwrap_or_else(|| chrono::Utc::now().date_naive())
    }
}

/// A requested page size: `PAGE_LIMIT_DEFAULT` when none is asked, 1 to `max` otherwise; any
/// other value is refused (400 on `query.limit`) rather than quietly changed.
pub fn page_limit_up_to(requested: Option<i64>, default: i64, max: i64) -> AppResult<i64> {
    match requested {
        None => Ok(default),
        Some(limit) if (1..=max).contains(&limit) => Ok(limit),
        Some(_) => Err(AppError::field("query.limit", format!("must be 1 to {max}"))),
    }
}

/// A requested page size of the lists with the common maximum, `PAGE_LIMIT_MAX`.
pub fn page_limit(requested: Option<i64>) -> AppResult<i64> {
    page_limit_up_to(requested, PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX)
}
