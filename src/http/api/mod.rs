//! The JSON API, `/api/v1`.

pub mod auth;
pub mod capital;
pub mod commitments;
pub mod documents;
pub mod enterprise;
pub mod explain;
pub mod exports;
pub mod funds;
pub mod grants;
pub mod investments;
pub mod ledger;
pub mod proposals;
pub mod structure;
pub mod transparency;
pub mod usage;
pub mod users;
pub mod waterfall;

use crate::http::routes::RouteTable;
use actix_web::web;

use crate::error::{AppError, AppResult, Message};
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
        documents::routes,
        structure::routes,
        commitments::routes,
        capital::routes,
        investments::routes,
        waterfall::routes,
        explain::routes,
        proposals::routes,
        grants::routes,
        enterprise::routes,
        usage::routes,
        transparency::routes,
    ] {
        add(&mut table);
    }
    cfg.service(web::scope("/api/v1").configure(|cfg| table.register(cfg)));
}

/// A page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub items: Vec<T>,
    /// Pass back as `after` for the next page; null on the page that holds the list's last item.
    pub next_after: Option<String>,
}

impl<T: ToSchema> Page<T> {
    /// The page of `rows` read with a limit of `limit + 1`: the row beyond the page only tells that
    /// more follow, so a page that ends at the list's last item offers no empty next page.
    pub fn from_rows(rows: Vec<T>, limit: i64, key: impl Fn(&T) -> String) -> Page<T> {
        let crate::storage::PageOf { items, next_after } = crate::storage::PageOf::from_rows(rows, limit, key);
        Page { items, next_after }
    }
}

/// Default and largest page sizes of list endpoints.
pub const PAGE_LIMIT_DEFAULT: i64 = 50;
pub const PAGE_LIMIT_MAX: i64 = 500;
// The document states these maxima as literals (`#[param(maximum = ...)]` takes no constant).
const _: () = assert!(PAGE_LIMIT_MAX == 500);
const _: () = assert!(crate::storage::usage::RECORDS_PAGE_MAX == 1000);
const _: () = assert!(crate::storage::users::USER_EVENTS_PAGE_MAX == 200);

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AsOfQuery {
    /// Calendar date (UTC), inclusive; today when omitted.
    #[serde(default, deserialize_with = "crate::domain::calendar_date::deserialize_option")]
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
        Some(_) => Err(AppError::invalid("query.limit", Message::new("msg-limit-range").count("max", max))),
    }
}

/// `after` and `limit` of a list whose items have ids.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// The `next_after` of the previous page: the id of its last item.
    #[param(value_type = Option<uuid::Uuid>)]
    #[serde(default, deserialize_with = "crate::http::extract::optional_uuid_text")]
    pub after: Option<String>,
    /// 1 to 500; 50 when omitted.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// `after` and `limit` of a list whose items are named by something else than an id.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CursorQuery {
    /// The `next_after` of the previous page.
    pub after: Option<String>,
    /// 1 to 500; 50 when omitted.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// A page of a whole list, in the list's own order: the `limit` items after the one whose key
/// is `after`. `next_after` is the last item's key when more follow. For lists read whole (the
/// registers and per-fund lists, which stay small); long lists page in their queries.
pub fn page_after<T: ToSchema>(
    items: Vec<T>,
    key: impl Fn(&T) -> String,
    after: Option<&str>,
    limit: Option<i64>,
) -> AppResult<Page<T>> {
    let limit = usize::try_from(page_limit(limit)?).map_err(AppError::internal)?;
    let start = match after {
        None => 0,
        Some(after) => {
            let found = items.iter().position(|item| key(item) == after);
            found.map(|index| index + 1).ok_or_else(|| AppError::field("query.after", "not an item of this list"))?
        }
    };
    let more = items.len().saturating_sub(start) > limit;
    let items: Vec<T> = items.into_iter().skip(start).take(limit).collect();
    let next_after = if more { items.last().map(&key) } else { None };
    Ok(Page { items, next_after })
}

/// A requested page size of the lists with the common maximum, `PAGE_LIMIT_MAX`.
pub fn page_limit(requested: Option<i64>) -> AppResult<i64> {
    page_limit_up_to(requested, PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX)
}
