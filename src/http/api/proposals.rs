//! Proposals and approvals under the four-eyes principle (docs/four-eyes.md): one staff user
//! proposes, another approves, and the approval executes exactly the preview it was shown.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::capital::{validate_call, CallLineRequest, NewCallRequest};
use super::funds::validate_name;
use super::grants::{text, COMMENT_CHARS_MAX};
use super::ledger::{validate_manual_entry, ManualEntryRequest, PostingRequest};
use super::structure::{positive, Checks};
use super::Page;
use crate::auth::Principal;
use crate::domain::proposals::ProposalStatus;
use crate::domain::roles::Role;
use crate::error::{AppError, AppResult};
use crate::http::extract::{parse_id, IdempotencyKey, ValidJson, ValidQuery};
use crate::http::routes::RouteTable;
use crate::http::{idempotent, AppState};
use crate::storage::proposals::{self, Operation, Proposal, ProposedCallLine, ProposedPosting};
use crate::storage::write_tx;

pub fn routes(table: &mut RouteTable) {
    table.post("/proposals", propose);
    table.get("/proposals", list_proposals);
    table.get("/proposals/{proposal_id}", get_proposal);
    table.post("/proposals/{proposal_id}/approval", approve);
    table.post("/proposals/{proposal_id}/rejection", reject);
    table.post("/proposals/{proposal_id}/withdrawal", withdraw);
}

const READERS: &[Role] = &[Role::Staff, Role::Auditor, Role::Admin];

/// The refusal of a direct call that must go through a proposal when four-eyes is on.
pub fn require_proposal(state: &AppState, what: &str) -> AppResult<()> {
    if state.settings.four_eyes {
        return Err(AppError::rule(
            "four-eyes-required",
            format!("{what} takes effect only when a second person approves it: POST /api/v1/proposals"),
        ));
    }
    Ok(())
}

/// The operation with its ids in canonical form, checked field by field.
fn checked(operation: Operation) -> AppResult<Operation> {
    let mut checks = Checks::default();
    let operation = match operation {
        Operation::Distribution { fund_id, cash, date, description } => {
            checks.check("cash", positive(cash));
            checks.check("description", validate_name(&description));
            Operation::Distribution {
                fund_id: parse_id("fund_id", &fund_id)?,
                cash,
                date,
                description: description.trim().to_string(),
            }
        }
        Operation::GrantAward { application_id, gpu_hours } => {
            Operation::GrantAward { application_id: parse_id("application_id", &application_id)?, gpu_hours }
        }
        Operation::GrantRejection { application_id, reason } => {
            checks.check("reason", text(&reason, COMMENT_CHARS_MAX));
            Operation::GrantRejection {
                application_id: parse_id("application_id", &application_id)?,
                reason: reason.trim().to_string(),
            }
        }
        Operation::CapitalCall { fund_id, call_date, due_date, description, lines } => {
            let request = NewCallRequest {
                call_date,
                due_date,
                description,
                lines: lines
                    .into_iter()
                    .map(|l| CallLineRequest {
                        tranche_id: l.tranche_id,
                        purpose: l.purpose,
                        facility_id: l.facility_id,
                        amount: l.amount,
                    })
                    .collect(),
            };
            let call = validate_call(&request, String::new())?;
            Operation::CapitalCall {
                fund_id: parse_id("fund_id", &fund_id)?,
                call_date: call.call_date,
                due_date: call.due_date,
                description: call.description,
                lines: call.lines.into_iter().map(ProposedCallLine::from).collect(),
            }
        }
        Operation::ManualEntry { fund_id, effective_date, description, postings } => {
            let mut request = ManualEntryRequest { effective_date, description, postings: Vec::new() };
            for p in &postings {
                let party_id = p.party_id.as_deref().map(|id| parse_id("party_id", id)).transpose()?;
                request.postings.push(PostingRequest {
                    account: p.account.clone(),
                    debit: p.debit,
                    credit: p.credit,
                    party_id,
                    memo: p.memo.clone(),
                });
            }
            validate_manual_entry(&request)?;
            Operation::ManualEntry {
                fund_id: parse_id("fund_id", &fund_id)?,
                effective_date,
                description: request.description.trim().to_string(),
                postings: request
                    .postings
                    .into_iter()
                    .map(|p| ProposedPosting {
                        account: p.account,
                        debit: p.debit,
                        credit: p.credit,
                        party_id: p.party_id,
                        memo: p.memo,
                    })
                    .collect(),
            }
        }
        Operation::WaterfallTerms { fund_id, terms } => {
            Operation::WaterfallTerms { fund_id: parse_id("fund_id", &fund_id)?, terms }
        }
        Operation::WriteDown { fund_id, facility_id, amount, value_date, description } => {
            checks.check("amount", positive(amount));
            checks.check("description", validate_name(&description));
            Operation::WriteDown {
                fund_id: parse_id("fund_id", &fund_id)?,
                facility_id: parse_id("facility_id", &facility_id)?,
                amount,
                value_date,
                description: description.trim().to_string(),
            }
        }
        Operation::Reversal { entry_id, effective_date, reason } => {
            checks.check("reason", validate_name(&reason));
            Operation::Reversal {
                entry_id: parse_id("entry_id", &entry_id)?,
                effective_date,
                reason: reason.trim().to_string(),
            }
        }
        Operation::FacilityPrice { facility_id, effective_date, price_per_gpu_hour } => {
            checks.check("price_per_gpu_hour", positive(price_per_gpu_hour));
            Operation::FacilityPrice {
                facility_id: parse_id("facility_id", &facility_id)?,
                effective_date,
                price_per_gpu_hour,
            }
        }
        Operation::UserRole { user_id, role, party_id } => Operation::UserRole {
            user_id: parse_id("user_id", &user_id)?,
            role,
            party_id: party_id.map(|p| parse_id("party_id", &p)).transpose()?,
        },
        Operation::BankAccount { fund_id, account_holder, iban, bic } => {
            let account = crate::storage::funds::checked_bank_account(&account_holder, &iban, bic.as_deref())?;
            Operation::BankAccount {
                fund_id: parse_id("fund_id", &fund_id)?,
                account_holder: account.account_holder,
                iban: account.iban,
                bic: account.bic,
            }
        }
    };
    checks.finish()?;
    Ok(operation)
}

/// Propose an operation (staff): it is previewed now, exactly as it would execute, and waits
/// for another staff user's approval.
#[utoipa::path(post, path = "/proposals", tag = "proposals", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1 to 255 visible ASCII characters", min_length = 1, max_length = 255, pattern = r"^[!-~]+$")),
    request_body = Operation,
    responses((status = 201, body = Proposal),
        (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "the operation is refused as it stands", body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn propose(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    key: IdempotencyKey,
    body: ValidJson<Operation>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff, Role::Admin])?;
    let operation = checked(body.value.clone())?;
    principal.require(&[operation.kind().decided_by()])?;
    not_own_account(&state, &principal, &operation).await?;
    let actor = principal.actor();
    let lifetime = state.settings.proposal_lifetime_hours;
    idempotent::write(&state, &req, &principal, key, &body.raw, StatusCode::CREATED, move |conn| {
        proposals::propose(conn, &operation, &actor, lifetime)
    })
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProposalQuery {
    /// Only proposals in this status now: pending, executed, rejected, withdrawn, expired.
    pub status: Option<String>,
    /// The `next_after` of the previous page: the id of its last proposal.
    #[param(value_type = Option<uuid::Uuid>)]
    #[serde(default, deserialize_with = "crate::http::extract::optional_uuid_text")]
    pub after: Option<String>,
    /// 1 to 500; 50 when omitted.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// Proposals, newest first (staff, auditors).
#[utoipa::path(get, path = "/proposals", tag = "proposals", security(("bearer" = [])), params(ProposalQuery),
    responses((status = 200, body = Page<Proposal>)))]
pub async fn list_proposals(
    state: web::Data<AppState>,
    principal: Principal,
    query: ValidQuery<ProposalQuery>,
) -> AppResult<HttpResponse> {
    principal.require(READERS)?;
    let status = match query.status.as_deref() {
        None => None,
        Some(text) => Some(ProposalStatus::parse(text).ok_or_else(|| {
            AppError::field("query.status", "one of pending, executed, rejected, withdrawn, expired")
        })?),
    };
    let (after, limit) = (query.after.clone(), crate::http::api::page_limit(query.limit)?);
    let page = state.db(move |conn| proposals::page_of_proposals(conn, status, after.as_deref(), limit)).await?;
    Ok(HttpResponse::Ok().json(Page { items: page.items, next_after: page.next_after }))
}

/// One proposal with its preview, status and decision (staff, auditors).
#[utoipa::path(get, path = "/proposals/{proposal_id}", tag = "proposals", security(("bearer" = [])),
    params(("proposal_id" = String, Path, format = Uuid)),
    responses((status = 200, body = Proposal), (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn get_proposal(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    principal.require(READERS)?;
    let id = parse_id("proposal_id", &path)?;
    let proposal = state.db(move |conn| proposals::get_proposal(conn, &id)).await?;
    Ok(HttpResponse::Ok().json(proposal))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalRequest {
    /// The revision of the preview the approver read.
    pub revision: i32,
}

/// Approve a proposal (a staff user other than the proposer): it executes in one transaction if
/// what it does now is exactly its preview. If the books changed meanwhile, nothing executes,
/// the answer is 409 `preview-changed`, and the proposal holds its new preview under the next
/// revision for a fresh decision.
#[utoipa::path(post, path = "/proposals/{proposal_id}/approval", tag = "proposals", security(("bearer" = [])),
    params(("proposal_id" = String, Path, format = Uuid),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1 to 255 visible ASCII characters", min_length = 1, max_length = 255, pattern = r"^[!-~]+$")),
    request_body = ApprovalRequest,
    responses((status = 200, description = "executed", body = Proposal),
        (status = 409, description = "preview-changed, proposal-revised or proposal-decided", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "own-proposal, proposal-expired, proposal-unreadable, or the operation's own refusal", body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn approve(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    key: IdempotencyKey,
    path: web::Path<String>,
    body: ValidJson<ApprovalRequest>,
) -> AppResult<HttpResponse> {
    let id = parse_id("proposal_id", &path)?;
    let operation = may_decide(&state, &principal, &id).await?.operation()?;
    not_own_account(&state, &principal, &operation).await?;
    let (actor, revision) = (principal.actor(), body.value.revision);
    let approving = id.clone();
    let answer = idempotent::write(&state, &req, &principal, key, &body.raw, StatusCode::OK, move |conn| {
        proposals::approve(conn, &approving, &actor, revision)
    })
    .await;
    if let Err(AppError::Conflict { code: "preview-changed", .. }) = &answer {
        state.db(move |conn| write_tx(conn, |c| proposals::revise(c, &id))).await?;
    }
    if let Operation::UserRole { user_id, .. } = &operation {
        // The user's tokens and sessions carry the old role: they end now (docs/security.md),
        // and after an error too, which may follow a change committed.
        let user_id = user_id.clone();
        let username = state.db(move |conn| crate::storage::users::find_by_id(conn, &user_id)).await?.username;
        state.standings.forget(&username);
    }
    answer
}

/// The proposal, if `principal` has the role that decides its kind: staff decide money and
/// grants, admins decide role changes. Its stored kind decides, so a proposal whose operation
/// no longer reads can still be rejected or withdrawn.
async fn may_decide(state: &AppState, principal: &Principal, id: &str) -> AppResult<proposals::ProposalRow> {
    principal.require(&[Role::Staff, Role::Admin])?;
    let lookup = id.to_string();
    let row = state.db(move |conn| proposals::get_row(conn, &lookup)).await?;
    principal.require(&[row.kind()?.decided_by()])?;
    Ok(row)
}

/// Nobody proposes or approves a change of their own role, as nobody changes it directly.
async fn not_own_account(state: &AppState, principal: &Principal, operation: &Operation) -> AppResult<()> {
    let Operation::UserRole { user_id, .. } = operation else { return Ok(()) };
    let lookup = user_id.clone();
    let user = state.db(move |conn| crate::storage::users::find_by_id(conn, &lookup)).await?;
    if user.username == principal.username {
        return Err(AppError::conflict(
            "own-account",
            "administrators cannot change the role of their own account, by proposal or approval",
        ));
    }
    Ok(())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposalRejection {
    /// Why, for the proposer.
    pub reason: String,
}

/// Reject a proposal with a reason (a staff user other than the proposer).
#[utoipa::path(post, path = "/proposals/{proposal_id}/rejection", tag = "proposals", security(("bearer" = [])),
    params(("proposal_id" = String, Path, format = Uuid)),
    request_body = ProposalRejection,
    responses((status = 200, body = Proposal),
        (status = 409, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn reject(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    key: IdempotencyKey,
    path: web::Path<String>,
    body: ValidJson<ProposalRejection>,
) -> AppResult<HttpResponse> {
    let id = parse_id("proposal_id", &path)?;
    may_decide(&state, &principal, &id).await?;
    text(&body.value.reason, COMMENT_CHARS_MAX).map_err(|reason| AppError::field("reason", reason))?;
    let (actor, reason) = (principal.actor(), body.value.reason.trim().to_string());
    idempotent::write(&state, &req, &principal, key, &body.raw, StatusCode::OK, move |conn| {
        proposals::reject(conn, &id, &actor, &reason)
    })
    .await
}

/// Withdraw a proposal (its proposer).
#[utoipa::path(post, path = "/proposals/{proposal_id}/withdrawal", tag = "proposals", security(("bearer" = [])),
    params(("proposal_id" = String, Path, format = Uuid)),
    responses((status = 200, body = Proposal),
        (status = 409, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn withdraw(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    key: IdempotencyKey,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = parse_id("proposal_id", &path)?;
    may_decide(&state, &principal, &id).await?;
    let actor = principal.actor();
    idempotent::write(&state, &req, &principal, key, &[], StatusCode::OK, move |conn| {
        proposals::withdraw(conn, &id, &actor)
    })
    .await
}
