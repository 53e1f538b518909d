//! The ledger: chart of accounts, journal entries, balances, trial balance, verification.

use crate::http::api::{page_after, PageQuery};
use crate::http::routes::RouteTable;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{page_limit, AsOfQuery, Page};
use crate::auth::Principal;
use crate::domain::ledger::{validate_account_code, AccountKind};
use crate::domain::money::Cents;
use crate::domain::roles::Role;
use crate::domain::text::refusal;
use crate::error::{AppError, AppResult, FieldError};
use crate::http::api::funds::validate_name;
use crate::http::extract::{parse_id, IdempotencyKey, ValidJson, ValidQuery};
use crate::http::{idempotent, AppState};
use crate::storage::funds::get_fund;
use crate::storage::ledger::{
    self, account_labels, Account, AccountBalance, CodedLine, EntryFilter, EntryWithPostings, TrialBalance,
    VerifyReport,
};
use crate::storage::running_amounts::{self, KeptDifference};
use crate::storage::{read_tx, DbConnection};

/// Roles that read the books of every fund.
pub const LEDGER_READERS: &[Role] = &[Role::Staff, Role::Auditor, Role::Admin];

pub fn routes(table: &mut RouteTable) {
    table.get("/funds/{fund_id}/accounts", list_accounts);
    table.post("/funds/{fund_id}/accounts", create_account);
    table.get("/funds/{fund_id}/accounts/{code}/balance", account_balance);
    table.get("/funds/{fund_id}/trial-balance", trial_balance);
    table.post("/funds/{fund_id}/journal-entries", post_entry);
    table.get("/ledger/entries", list_entries);
    table.get("/ledger/entries/{entry_id}", get_entry);
    table.post("/ledger/entries/{entry_id}/reversal", reverse_entry);
    table.get("/ledger/verify", verify);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PostingView {
    pub line: i32,
    pub account_id: String,
    pub account_code: String,
    pub account_name: String,
    #[schema(value_type = String, example = "1000.00")]
    pub debit: Cents,
    #[schema(value_type = String, example = "0.00")]
    pub credit: Cents,
    pub party_id: Option<String>,
    pub memo: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JournalEntryView {
    pub id: String,
    pub sequence: i64,
    pub fund_id: String,
    pub effective_date: NaiveDate,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "crate::domain::time::utc")]
    pub created_at: NaiveDateTime,
    pub actor: String,
    pub event_type: String,
    pub event_id: String,
    pub description: String,
    pub reverses_entry_id: Option<String>,
    pub previous_hash: String,
    pub hash: String,
    pub postings: Vec<PostingView>,
}

/// Entries with their accounts' codes and names, for the API and the pages.
pub fn entry_views(conn: &mut DbConnection, entries: Vec<EntryWithPostings>) -> AppResult<Vec<JournalEntryView>> {
    let mut ids: Vec<&str> = entries.iter().flat_map(|e| e.postings.iter().map(|p| p.account_id.as_str())).collect();
    ids.sort_unstable();
    ids.dedup();
    let labels = account_labels(conn, &ids)?;
    Ok(entries
        .into_iter()
        .map(|item| {
            let postings = item
                .postings
                .into_iter()
                .map(|p| {
                    let (code, name) = labels.get(&p.account_id).cloned().unwrap_or_default();
                    let amount = Cents::new(p.amount_cents);
                    PostingView {
                        line: p.line,
                        account_code: code,
                        account_name: name,
                        debit: if amount.is_negative() { Cents::ZERO } else { amount },
                        credit: if amount.is_negative() { amount.abs() } else { Cents::ZERO },
                        account_id: p.account_id,
                        party_id: p.party_id,
                        memo: p.memo,
                    }
                })
                .collect();
            let e = item.entry;
            JournalEntryView {
                id: e.id,
                sequence: e.sequence,
                fund_id: e.fund_id,
                effective_date: e.effective_date,
                created_at: e.created_at,
                actor: e.actor,
                event_type: e.event_type,
                event_id: e.event_id,
                description: e.description,
                reverses_entry_id: e.reverses_entry_id,
                previous_hash: e.previous_hash,
                hash: e.hash,
                postings,
            }
        })
        .collect())
}

/// The fund's chart of accounts.
#[utoipa::path(get, path = "/funds/{fund_id}/accounts", tag = "ledger", security(("bearer" = [])), params(PageQuery, ("fund_id" = String, Path, format = Uuid)),
    responses((status = 200, body = Page<Account>), (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn list_accounts(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    query: ValidQuery<PageQuery>,
) -> AppResult<HttpResponse> {
    principal.require(LEDGER_READERS)?;
    let fund_id = parse_id("fund_id", &path)?;
    let accounts = state
        .db(move |conn| {
            read_tx(conn, |conn| {
                get_fund(conn, &fund_id)?;
                ledger::list_accounts(conn, &fund_id)
            })
        })
        .await?;
    let page = page_after(accounts, |a| a.id.clone(), query.after.as_deref(), query.limit)?;
    Ok(HttpResponse::Ok().json(page))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccountRequest {
    /// Four digits, then optional dot-separated sub-account digits: `3100.01`.
    pub code: String,
    pub name: String,
    pub kind: AccountKind,
}

/// Add an account to the fund's chart (staff). Codes are stable and never reused.
#[utoipa::path(post, path = "/funds/{fund_id}/accounts", tag = "ledger", security(("bearer" = [])), params(("fund_id" = String, Path, format = Uuid),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1 to 255 visible ASCII characters", min_length = 1, max_length = 255, pattern = r"^[!-~]+$")),
    request_body = NewAccountRequest,
    responses((status = 201, body = Account), (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 409, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn create_account(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    key: IdempotencyKey,
    path: web::Path<String>,
    body: ValidJson<NewAccountRequest>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff])?;
    let fund_id = parse_id("fund_id", &path)?;
    let input = body.value;
    let mut errors = Vec::new();
    if let Err(reason) = validate_account_code(&input.code) {
        errors.push(FieldError::new("code", reason));
    }
    if let Err(reason) = validate_name(&input.name) {
        errors.push(FieldError::new("name", reason));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    idempotent::write(&state, &req, &principal, key, &body.raw, StatusCode::CREATED, move |conn| {
        get_fund(conn, &fund_id)?;
        ledger::create_account(conn, &fund_id, &input.code, input.name.trim(), input.kind)
    })
    .await
}

/// Balance of one account as of a date.
#[utoipa::path(get, path = "/funds/{fund_id}/accounts/{code}/balance", tag = "ledger", security(("bearer" = [])), params(("fund_id" = String, Path, format = Uuid), ("code" = String, Path), AsOfQuery),
    responses((status = 200, body = AccountBalance), (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn account_balance(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, String)>,
    query: ValidQuery<AsOfQuery>,
) -> AppResult<HttpResponse> {
    principal.require(LEDGER_READERS)?;
    let (fund_id, code) = path.into_inner();
    let fund_id = parse_id("fund_id", &fund_id)?;
    let as_of = query.date();
    let balance = state
        .db(move |conn| {
            read_tx(conn, |conn| {
                let account = ledger::find_account_by_code(conn, &fund_id, &code)?
                    .ok_or_else(|| AppError::not_found(format!("account {code}")))?;
                ledger::account_balances(conn, &fund_id, as_of)?
                    .into_iter()
                    .find(|b| b.account_id == account.id)
                    .ok_or_else(|| AppError::not_found(format!("account {code}")))
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(balance))
}

/// Trial balance of a fund as of a date: every account, total debits equal total credits.
#[utoipa::path(get, path = "/funds/{fund_id}/trial-balance", tag = "ledger", security(("bearer" = [])), params(("fund_id" = String, Path, format = Uuid), AsOfQuery),
    responses((status = 200, body = TrialBalance), (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn trial_balance(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    query: ValidQuery<AsOfQuery>,
) -> AppResult<HttpResponse> {
    principal.require(LEDGER_READERS)?;
    let fund_id = parse_id("fund_id", &path)?;
    let as_of = query.date();
    let report = state
        .db(move |conn| {
            read_tx(conn, |conn| {
                get_fund(conn, &fund_id)?;
                ledger::trial_balance(conn, &fund_id, as_of)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(report))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostingRequest {
    /// Account code in the fund's chart, e.g. `1000`.
    pub account: String,
    /// Exactly one of `debit` and `credit`, a positive decimal string.
    #[schema(value_type = Option<String>, example = "1000.00")]
    pub debit: Option<Cents>,
    #[schema(value_type = Option<String>)]
    pub credit: Option<Cents>,
    #[schema(value_type = Option<uuid::Uuid>)]
    #[serde(default, deserialize_with = "crate::http::extract::optional_uuid_text")]
    pub party_id: Option<String>,
    #[serde(default)]
    pub memo: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ManualEntryRequest {
    #[serde(deserialize_with = "crate::domain::calendar_date::deserialize")]
    pub effective_date: NaiveDate,
    pub description: String,
    pub postings: Vec<PostingRequest>,
}

/// The entry's lines by account code, checked field by field; the accounts are resolved in the
/// write transaction (`storage::ledger::post_manual_entry`).
pub fn validate_manual_entry(input: &ManualEntryRequest) -> AppResult<Vec<CodedLine>> {
    let mut errors = Vec::new();
    if let Err(reason) = validate_name(&input.description) {
        errors.push(FieldError::new("description", reason));
    }
    let mut lines = Vec::new();
    for (index, posting) in input.postings.iter().enumerate() {
        let field = |name: &str| format!("postings[{index}].{name}");
        let amount = match (posting.debit, posting.credit) {
            (Some(debit), None) if debit.get() > 0 => Some(debit),
            (None, Some(credit)) if credit.get() > 0 => credit.checked_neg().ok(),
            (Some(_), Some(_)) => {
                errors.push(FieldError::new(field("debit"), "give either debit or credit, not both"));
                None
            }
            (None, None) => {
                errors.push(FieldError::new(field("debit"), "give a debit or a credit amount"));
                None
            }
            (debit, _) => {
                let name = if debit.is_some() { "debit" } else { "credit" };
                errors.push(FieldError::new(field(name), "must be greater than zero"));
                None
            }
        };
        if validate_account_code(&posting.account).is_err() {
            errors.push(FieldError::new(field("account"), "not an account code such as 1000"));
        }
        if posting.memo.chars().count() > 500 {
            errors.push(FieldError::new(field("memo"), "at most 500 characters"));
        }
        // A memo may be left empty or blank; written, it follows the rule for text, and a line
        // break or a tab is a control character however it is padded.
        let blank = posting.memo.chars().all(|c| c.is_whitespace() && !c.is_control());
        if let Some(reason) = Some(posting.memo.as_str()).filter(|_| !blank).and_then(|m| refusal(m, false)) {
            errors.push(FieldError::new(field("memo"), reason));
        }
        if let Some(amount) = amount {
            lines.push(CodedLine {
                code: posting.account.clone(),
                amount,
                party_id: posting.party_id.clone(),
                memo: posting.memo.clone(),
            });
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    Ok(lines)
}

/// Post a manual journal entry (staff): balanced, at least two postings, never edited later.
#[utoipa::path(post, path = "/funds/{fund_id}/journal-entries", tag = "ledger", security(("bearer" = [])), params(("fund_id" = String, Path, format = Uuid),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1 to 255 visible ASCII characters", min_length = 1, max_length = 255, pattern = r"^[!-~]+$")),
    request_body = ManualEntryRequest,
    responses((status = 201, body = JournalEntryView),
        (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn post_entry(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    key: IdempotencyKey,
    path: web::Path<String>,
    body: ValidJson<ManualEntryRequest>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff])?;
    super::proposals::require_proposal(&state, "a manual entry")?;
    let fund_id = parse_id("fund_id", &path)?;
    let lines = validate_manual_entry(&body.value)?;
    let (effective_date, description) = (body.value.effective_date, body.value.description.trim().to_string());
    let actor = principal.actor();
    idempotent::write(&state, &req, &principal, key, &body.raw, StatusCode::CREATED, move |conn| {
        let entry = ledger::post_manual_entry(conn, &fund_id, effective_date, &description, &lines, &actor)?;
        entry_views(conn, vec![entry])?.pop().ok_or_else(|| AppError::internal("posted entry vanished"))
    })
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EntryQuery {
    #[param(value_type = Option<uuid::Uuid>)]
    #[serde(default, deserialize_with = "crate::http::extract::optional_uuid_text")]
    pub fund_id: Option<String>,
    /// Account id: only entries that post to it.
    #[param(value_type = Option<uuid::Uuid>)]
    #[serde(default, deserialize_with = "crate::http::extract::optional_uuid_text")]
    pub account_id: Option<String>,
    pub event_type: Option<String>,
    pub event_id: Option<String>,
    pub actor: Option<String>,
    /// Entries effective on or after this date.
    #[serde(default, deserialize_with = "crate::domain::calendar_date::deserialize_option")]
    pub from: Option<NaiveDate>,
    /// Entries effective on or before this date; not before `from` (400 on `query.to`).
    #[serde(default, deserialize_with = "crate::domain::calendar_date::deserialize_option")]
    pub to: Option<NaiveDate>,
    /// Sequence number to continue after (from `next_after`).
    pub after: Option<i64>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// A range of dates whose end comes before its start selects nothing; it is refused on `field`,
/// naming both, rather than answered with an empty list that reads as no entries.
pub fn date_range_in_order(from: Option<NaiveDate>, to: Option<NaiveDate>, field: &str) -> AppResult<()> {
    match (from, to) {
        (Some(from), Some(to)) if to < from => Err(AppError::field(field, format!("{to} is before from ({from})"))),
        _ => Ok(()),
    }
}

/// The journal, filtered and paginated in sequence order (staff, auditors).
#[utoipa::path(get, path = "/ledger/entries", tag = "ledger", security(("bearer" = [])), params(EntryQuery),
    responses((status = 200, body = Page<JournalEntryView>)))]
pub async fn list_entries(
    state: web::Data<AppState>,
    principal: Principal,
    query: ValidQuery<EntryQuery>,
) -> AppResult<HttpResponse> {
    principal.require(LEDGER_READERS)?;
    let query = query.0;
    date_range_in_order(query.from, query.to, "query.to")?;
    let filter = EntryFilter {
        fund_id: query.fund_id.clone(),
        account_id: query.account_id.clone(),
        event_type: query.event_type,
        event_id: query.event_id,
        actor: query.actor,
        from_date: query.from,
        to_date: query.to,
        after_sequence: query.after,
    };
    let limit = page_limit(query.limit)?;
    let page = state
        .db(move |conn| {
            read_tx(conn, |conn| {
                let page = ledger::list_entries(conn, &filter, limit)?;
                Ok(Page { items: entry_views(conn, page.items)?, next_after: page.next_after })
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One journal entry with its postings and hashes.
#[utoipa::path(get, path = "/ledger/entries/{entry_id}", tag = "ledger", security(("bearer" = [])), params(("entry_id" = String, Path, format = Uuid)),
    responses((status = 200, body = JournalEntryView), (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn get_entry(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    principal.require(LEDGER_READERS)?;
    let entry_id = parse_id("entry_id", &path)?;
    let view = state
        .db(move |conn| {
            let entry = ledger::get_entry(conn, &entry_id)?;
            entry_views(conn, vec![entry])?.pop().ok_or_else(|| AppError::not_found("journal entry"))
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReversalRequest {
    #[serde(deserialize_with = "crate::domain::calendar_date::deserialize")]
    pub effective_date: NaiveDate,
    pub reason: String,
}

/// Reverse an entry (staff): posts its mirror image, naming the entry it reverses.
#[utoipa::path(post, path = "/ledger/entries/{entry_id}/reversal", tag = "ledger", security(("bearer" = [])), params(("entry_id" = String, Path, format = Uuid),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1 to 255 visible ASCII characters", min_length = 1, max_length = 255, pattern = r"^[!-~]+$")),
    request_body = ReversalRequest,
    responses((status = 201, body = JournalEntryView),
        (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 409, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn reverse_entry(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    key: IdempotencyKey,
    path: web::Path<String>,
    body: ValidJson<ReversalRequest>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff])?;
    super::proposals::require_proposal(&state, "a reversal")?;
    let entry_id = parse_id("entry_id", &path)?;
    validate_name(&body.value.reason).map_err(|reason| AppError::field("reason", reason))?;
    let (effective_date, reason) = (body.value.effective_date, body.value.reason.trim().to_string());
    let actor = principal.actor();
    idempotent::write(&state, &req, &principal, key, &body.raw, StatusCode::CREATED, move |conn| {
        let row = ledger::reverse_entry(conn, &entry_id, &actor, effective_date, &reason)?;
        let entry = ledger::get_entry(conn, &row.id)?;
        entry_views(conn, vec![entry])?.pop().ok_or_else(|| AppError::internal("posted entry vanished"))
    })
    .await
}

/// What `GET /ledger/verify` answers: the hash chain walked, and every kept amount counted
/// again from its records, in one state of the books.
#[derive(Serialize, ToSchema)]
pub struct LedgerVerification {
    /// The chain's report; its `ok` is true only when the kept amounts agree too.
    #[serde(flatten)]
    pub chain: VerifyReport,
    /// Every running amount, capital total and usage sum equals the records it sums
    /// (docs/ledger.md, "Running amounts").
    pub kept_amounts_agree: bool,
    /// Each that differs, with both figures: at most 100 of each kind.
    pub kept_amounts_differing: Vec<KeptDifference>,
}

/// Re-check every entry's balance and the whole hash chain, and count every kept amount again
/// from its records (auditors, staff, admin).
#[utoipa::path(get, path = "/ledger/verify", tag = "ledger", security(("bearer" = [])), responses((status = 200, body = LedgerVerification)))]
pub async fn verify(state: web::Data<AppState>, principal: Principal) -> AppResult<HttpResponse> {
    principal.require(LEDGER_READERS)?;
    let (mut chain, recount) =
        state.db(|conn| read_tx(conn, |c| Ok((ledger::verify_chain(c)?, running_amounts::recount(c)?)))).await?;
    let kept_amounts_agree = recount.agrees();
    chain.ok &= kept_amounts_agree;
    Ok(HttpResponse::Ok().json(LedgerVerification {
        chain,
        kept_amounts_agree,
        kept_amounts_differing: recount.differences(),
    }))
}
