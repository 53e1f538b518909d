//! Proposals under the four-eyes principle (docs/four-eyes.md): stored with the exact preview
//! they will execute, and executed by a different staff user's approval in one write
//! transaction that recomputes the preview and refuses if it changed.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::schema::proposals;
use super::{awards, grants, new_id, not_in_list, now_micros, waterfall, DbConnection, PageOf};
use crate::domain::hours::GpuHours;
use crate::domain::money::Cents;
use crate::domain::proposals::{
    check_decision, expiry, status_at, Decision, Pending, ProposalKind, ProposalStatus, Refusal,
};
use crate::error::{AppError, AppResult, Message};

/// Proposals the pages list at most (the API pages through them all).
pub const PROPOSALS_LIST_MAX: i64 = 500;

/// A line of a proposed capital call, as `POST /funds/{id}/capital-calls` takes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposedCallLine {
    pub tranche_id: String,
    /// `investment` (name the facility), `fees` or `expenses`
    pub purpose: String,
    #[serde(default)]
    pub facility_id: Option<String>,
    #[schema(value_type = String)]
    pub amount: Cents,
}

/// A line of a proposed manual entry, as `POST /funds/{id}/journal-entries` takes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposedPosting {
    /// Account code in the fund's chart, e.g. `1000`.
    pub account: String,
    /// Exactly one of `debit` and `credit`, a positive decimal string.
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub debit: Option<Cents>,
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub credit: Option<Cents>,
    #[serde(default)]
    pub party_id: Option<String>,
    #[serde(default)]
    pub memo: String,
}

impl From<super::capital::CallLine> for ProposedCallLine {
    fn from(line: super::capital::CallLine) -> Self {
        ProposedCallLine {
            tranche_id: line.tranche_id,
            purpose: line.purpose,
            facility_id: line.facility_id,
            amount: line.amount,
        }
    }
}

impl From<ProposedCallLine> for super::capital::CallLine {
    fn from(line: ProposedCallLine) -> Self {
        super::capital::CallLine {
            tranche_id: line.tranche_id,
            purpose: line.purpose,
            facility_id: line.facility_id,
            amount: line.amount,
        }
    }
}

/// What a proposal executes, with its inputs (the body of the operation's own API call).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Operation {
    /// A distribution of `cash` on `date` through the fund's current waterfall.
    Distribution {
        fund_id: String,
        #[schema(value_type = String, example = "250000000.00")]
        cash: Cents,
        #[serde(deserialize_with = "crate::domain::calendar_date::deserialize")]
        date: chrono::NaiveDate,
        description: String,
    },
    /// An award to a submitted application, of `gpu_hours` (all requested when omitted).
    GrantAward {
        application_id: String,
        #[schema(value_type = Option<String>)]
        #[serde(default)]
        gpu_hours: Option<GpuHours>,
    },
    /// The rejection of a submitted application, with the reason the applicant reads.
    GrantRejection { application_id: String, reason: String },
    /// A capital call: each line allocated pro rata to its tranche's unfunded commitments, a
    /// notice to every investor.
    CapitalCall {
        fund_id: String,
        #[serde(deserialize_with = "crate::domain::calendar_date::deserialize")]
        call_date: chrono::NaiveDate,
        #[serde(deserialize_with = "crate::domain::calendar_date::deserialize")]
        due_date: chrono::NaiveDate,
        description: String,
        lines: Vec<ProposedCallLine>,
    },
    /// A manual journal entry: balanced, at least two postings.
    ManualEntry {
        fund_id: String,
        #[serde(deserialize_with = "crate::domain::calendar_date::deserialize")]
        effective_date: chrono::NaiveDate,
        description: String,
        postings: Vec<ProposedPosting>,
    },
    /// A new version of a fund's waterfall terms.
    WaterfallTerms {
        fund_id: String,
        #[schema(value_type = Object)]
        terms: crate::domain::waterfall::Terms,
    },
    /// A write-down of a fund's investment in a facility, its loss allocated first-loss first.
    WriteDown {
        fund_id: String,
        facility_id: String,
        #[schema(value_type = String)]
        amount: Cents,
        #[serde(deserialize_with = "crate::domain::calendar_date::deserialize")]
        value_date: chrono::NaiveDate,
        description: String,
    },
    /// The reversal of a manual entry or a proceeds entry.
    Reversal {
        entry_id: String,
        #[serde(deserialize_with = "crate::domain::calendar_date::deserialize")]
        effective_date: chrono::NaiveDate,
        reason: String,
    },
    /// A facility's list price per GPU-hour from a date on.
    FacilityPrice {
        facility_id: String,
        #[serde(deserialize_with = "crate::domain::calendar_date::deserialize")]
        effective_date: chrono::NaiveDate,
        #[schema(value_type = String)]
        price_per_gpu_hour: Cents,
    },
    /// A user's new role (and the party a party-bound role acts for); admins propose and decide.
    UserRole {
        user_id: String,
        role: crate::domain::roles::Role,
        #[serde(default)]
        party_id: Option<String>,
    },
    /// The bank account a fund's notices print (admins propose and decide).
    BankAccount {
        fund_id: String,
        account_holder: String,
        /// Spaces allowed.
        iban: String,
        #[serde(default)]
        bic: Option<String>,
    },
}

impl Operation {
    pub fn kind(&self) -> ProposalKind {
        match self {
            Operation::Distribution { .. } => ProposalKind::Distribution,
            Operation::GrantAward { .. } => ProposalKind::GrantAward,
            Operation::GrantRejection { .. } => ProposalKind::GrantRejection,
            Operation::CapitalCall { .. } => ProposalKind::CapitalCall,
            Operation::ManualEntry { .. } => ProposalKind::ManualEntry,
            Operation::WaterfallTerms { .. } => ProposalKind::WaterfallTerms,
            Operation::WriteDown { .. } => ProposalKind::WriteDown,
            Operation::Reversal { .. } => ProposalKind::Reversal,
            Operation::FacilityPrice { .. } => ProposalKind::FacilityPrice,
            Operation::UserRole { .. } => ProposalKind::UserRole,
            Operation::BankAccount { .. } => ProposalKind::BankAccount,
        }
    }

    /// The fund or application the operation acts on.
    pub fn subject(&self) -> &str {
        match self {
            Operation::Distribution { fund_id, .. }
            | Operation::CapitalCall { fund_id, .. }
            | Operation::ManualEntry { fund_id, .. }
            | Operation::WaterfallTerms { fund_id, .. }
            | Operation::WriteDown { fund_id, .. }
            | Operation::BankAccount { fund_id, .. } => fund_id,
            Operation::GrantAward { application_id, .. } | Operation::GrantRejection { application_id, .. } => {
                application_id
            }
            Operation::Reversal { entry_id, .. } => entry_id,
            Operation::FacilityPrice { facility_id, .. } => facility_id,
            Operation::UserRole { user_id, .. } => user_id,
        }
    }
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = proposals)]
pub struct ProposalRow {
    pub id: String,
    pub kind: String,
    pub subject_id: String,
    pub request: String,
    pub preview: String,
    pub revision: i32,
    pub status: String,
    pub proposed_by: String,
    pub proposed_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub reason: Option<String>,
    pub result: Option<String>,
}

/// A proposal as the API shows it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Proposal {
    pub id: String,
    pub kind: ProposalKind,
    pub subject_id: String,
    /// The operation and its inputs.
    #[schema(value_type = Object)]
    pub operation: Value,
    /// What the operation will do, exactly as it will be executed: for a distribution the whole
    /// allocation, for an award its hours, price, intensity and aid value.
    #[schema(value_type = Object)]
    pub preview: Value,
    /// Goes up each time the preview is recomputed because the books changed; an approval
    /// names the revision it approves.
    pub revision: i32,
    pub status: ProposalStatus,
    pub proposed_by: String,
    #[serde(serialize_with = "crate::domain::time::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub proposed_at: NaiveDateTime,
    #[serde(serialize_with = "crate::domain::time::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: NaiveDateTime,
    pub decided_by: Option<String>,
    #[serde(serialize_with = "crate::domain::time::utc_option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub decided_at: Option<NaiveDateTime>,
    /// Why it was rejected.
    pub reason: Option<String>,
    /// What the approval executed (the operation's own answer).
    #[schema(value_type = Option<Object>)]
    pub result: Option<Value>,
}

fn parse_json(text: &str) -> AppResult<Value> {
    serde_json::from_str(text).map_err(|e| AppError::internal(format!("stored proposal JSON: {e}")))
}

impl ProposalRow {
    pub fn view(&self, now: NaiveDateTime) -> AppResult<Proposal> {
        let kind = self.kind()?;
        let stored =
            ProposalStatus::parse(&self.status).ok_or_else(|| AppError::internal("unknown proposal status"))?;
        Ok(Proposal {
            id: self.id.clone(),
            kind,
            subject_id: self.subject_id.clone(),
            operation: parse_json(&self.request)?,
            preview: parse_json(&self.preview)?,
            revision: self.revision,
            status: status_at(stored, self.expires_at, now),
            proposed_by: self.proposed_by.clone(),
            proposed_at: self.proposed_at,
            expires_at: self.expires_at,
            decided_by: self.decided_by.clone(),
            decided_at: self.decided_at,
            reason: self.reason.clone(),
            result: self.result.as_deref().map(parse_json).transpose()?,
        })
    }

    pub fn kind(&self) -> AppResult<ProposalKind> {
        ProposalKind::parse(&self.kind).ok_or_else(|| AppError::internal("unknown proposal kind"))
    }

    /// The stored operation, read by today's rules: one stored under looser ones (a date form
    /// since refused) is the proposer's mistake, not the server's, and can only be rejected or
    /// withdrawn.
    pub fn operation(&self) -> AppResult<Operation> {
        serde_json::from_str(&self.request).map_err(|e| {
            AppError::rule("proposal-unreadable", Message::new("msg-proposal-unreadable").text("error", e.to_string()))
        })
    }

    fn pending(&self) -> AppResult<Pending<'_>> {
        Ok(Pending {
            status: ProposalStatus::parse(&self.status).ok_or_else(|| AppError::internal("unknown proposal status"))?,
            proposed_by: &self.proposed_by,
            expires_at: self.expires_at,
            revision: self.revision,
        })
    }
}

fn refused(refusal: Refusal) -> AppError {
    match refusal {
        Refusal::StaleRevision { .. } | Refusal::NotPending(_) => {
            AppError::conflict(refusal.code(), refusal.to_string())
        }
        _ => AppError::rule(refusal.code(), refusal.to_string()),
    }
}

/// Fields of an answer that name the rows a write makes, or when and by whom: not known before
/// it runs, so not part of what a preview promises.
const VOLATILE_FIELDS: [&str; 9] =
    ["id", "created_at", "actor", "entry_id", "sequence", "hash", "previous_hash", "write_down_id", "call_id"];

fn without_volatile(value: Value) -> Value {
    match value {
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .filter(|(name, _)| !VOLATILE_FIELDS.contains(&name.as_str()))
                .map(|(name, v)| (name, without_volatile(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_volatile).collect()),
        other => other,
    }
}

/// The parts of an executed operation's answer that its preview promises (ids and times of
/// the rows it will write are not known before).
fn promised(kind: ProposalKind, executed: Value) -> Value {
    let keep: &[&str] = match kind {
        ProposalKind::Distribution => &["fund_id", "terms_version", "allocation", "investors"],
        ProposalKind::GrantAward => &[
            "application_id",
            "sme_id",
            "facility_id",
            "start_date",
            "end_date",
            "aid_basis",
            "sme_category",
            "intensity_percent",
            "price_per_gpu_hour",
            "awarded_gpu_hours",
            "aid_value",
        ],
        ProposalKind::GrantRejection => &["id", "status", "rejection_reason"],
        _ => return without_volatile(executed),
    };
    let Value::Object(fields) = executed else { return Value::Null };
    Value::Object(fields.into_iter().filter(|(name, _)| keep.contains(&name.as_str())).collect())
}

/// An entry as a preview shows it: what it posts to which account, and which entry it undoes.
fn entry_view(conn: &mut DbConnection, entry: &super::ledger::EntryWithPostings) -> AppResult<Value> {
    let ids: Vec<&str> = entry.postings.iter().map(|p| p.account_id.as_str()).collect();
    let labels = super::ledger::account_labels(conn, &ids)?;
    let postings: Vec<Value> = entry
        .postings
        .iter()
        .map(|p| {
            let (code, name) = labels.get(&p.account_id).cloned().unwrap_or_default();
            let amount = Cents::new(p.amount_cents);
            let (debit, credit) =
                if amount.is_negative() { (Cents::ZERO, amount.abs()) } else { (amount, Cents::ZERO) };
            serde_json::json!({"account_code": code, "account_name": name, "debit": debit, "credit": credit,
                "party_id": p.party_id, "memo": p.memo})
        })
        .collect();
    Ok(serde_json::json!({
        "id": entry.entry.id,
        "sequence": entry.entry.sequence,
        "reverses_entry_id": entry.entry.reverses_entry_id,
        "effective_date": entry.entry.effective_date,
        "description": entry.entry.description,
        "postings": postings,
    }))
}

/// The journal entries `write` would post now, each as [`entry_view`] shows it: run in a
/// savepoint that is always rolled back, so a page can show what an irreversible action posts
/// before the user confirms it. Call it inside a write transaction (the writes' lock).
pub fn would_post<T>(
    conn: &mut DbConnection,
    write: impl FnOnce(&mut DbConnection) -> AppResult<T>,
) -> AppResult<Vec<Value>> {
    use super::schema::journal_entries;
    let before: Option<i64> = journal_entries::table.select(diesel::dsl::max(journal_entries::sequence)).first(conn)?;
    let mut seen = None;
    let outcome = conn.transaction::<(), AppError, _>(|c| {
        write(c)?;
        let ids: Vec<String> = journal_entries::table
            .filter(journal_entries::sequence.gt(before.unwrap_or(i64::MIN)))
            .order(journal_entries::sequence.asc())
            .select(journal_entries::id)
            .load(c)?;
        let mut views = Vec::with_capacity(ids.len());
        for id in &ids {
            let entry = super::ledger::get_entry(c, id)?;
            views.push(entry_view(c, &entry)?);
        }
        seen = Some(views);
        Err(AppError::internal("dry run rolled back"))
    });
    match (outcome, seen) {
        (Err(_), Some(views)) => Ok(views),
        (Err(error), None) => Err(error),
        (Ok(()), _) => Err(AppError::internal("a dry run was not rolled back")),
    }
}

fn to_value(value: impl Serialize) -> AppResult<Value> {
    serde_json::to_value(value).map_err(AppError::internal)
}

/// Executes the operation in the caller's transaction; its answer.
fn execute(conn: &mut DbConnection, operation: &Operation, actor: &str) -> AppResult<Value> {
    match operation {
        Operation::Distribution { fund_id, cash, date, description } => {
            super::funds::get_fund(conn, fund_id)?;
            to_value(waterfall::execute(conn, fund_id, *cash, *date, description, actor)?)
        }
        Operation::GrantAward { application_id, gpu_hours } => {
            to_value(awards::award(conn, application_id, *gpu_hours, actor)?)
        }
        Operation::GrantRejection { application_id, reason } => {
            to_value(grants::reject(conn, application_id, reason, actor)?)
        }
        Operation::CapitalCall { fund_id, call_date, due_date, description, lines } => {
            super::funds::get_fund(conn, fund_id)?;
            let lines = lines.iter().cloned().map(super::capital::CallLine::from).collect();
            let call = super::capital::NewCall {
                call_date: *call_date,
                due_date: *due_date,
                description: description.clone(),
                lines,
                actor: actor.to_string(),
            };
            let call = super::capital::create_call(conn, fund_id, call)?;
            // The call with every notice it sends: the allocation the approver approves.
            let filter = super::capital::NoticeFilter { call_id: Some(call.id.clone()), ..Default::default() };
            let notices =
                super::capital::list_notices(conn, &filter, call.call_date, super::capital::CALL_INVESTORS_MAX)?;
            Ok(serde_json::json!({"call": to_value(call)?, "notices": to_value(notices)?}))
        }
        Operation::ManualEntry { fund_id, effective_date, description, postings } => {
            let lines: Vec<super::ledger::CodedLine> = postings
                .iter()
                .map(|p| {
                    let amount = match (p.debit, p.credit) {
                        (Some(debit), None) => Ok(debit),
                        (None, Some(credit)) => credit.checked_neg(),
                        _ => Err(crate::domain::money::MoneyError::NotPositive),
                    }?;
                    Ok(super::ledger::CodedLine {
                        code: p.account.clone(),
                        amount,
                        party_id: p.party_id.clone(),
                        memo: p.memo.clone(),
                    })
                })
                .collect::<AppResult<_>>()?;
            let entry = super::ledger::post_manual_entry(conn, fund_id, *effective_date, description, &lines, actor)?;
            entry_view(conn, &entry)
        }
        Operation::WaterfallTerms { fund_id, terms } => {
            super::funds::get_fund(conn, fund_id)?;
            to_value(waterfall::set_terms(conn, fund_id, terms.clone(), actor)?)
        }
        Operation::WriteDown { fund_id, facility_id, amount, value_date, description } => {
            super::funds::get_fund(conn, fund_id)?;
            to_value(waterfall::write_down(conn, fund_id, facility_id, *amount, *value_date, description, actor)?)
        }
        Operation::Reversal { entry_id, effective_date, reason } => {
            let row = super::ledger::reverse_entry(conn, entry_id, actor, *effective_date, reason)?;
            let entry = super::ledger::get_entry(conn, &row.id)?;
            entry_view(conn, &entry)
        }
        Operation::FacilityPrice { facility_id, effective_date, price_per_gpu_hour } => {
            to_value(super::structure::add_price(conn, facility_id, *effective_date, *price_per_gpu_hour, actor)?)
        }
        Operation::UserRole { user_id, role, party_id } => {
            // Neither the proposer nor the approver may change their own role: the API refuses
            // both before this runs (it knows who they are).
            let change = super::users::AccountChange::ChangeRole { role: *role, party_id: party_id.clone() };
            to_value(super::users::change_account(conn, user_id, change, "", actor)?)
        }
        Operation::BankAccount { fund_id, account_holder, iban, bic } => {
            let account = super::funds::checked_bank_account(account_holder, iban, bic.as_deref())?;
            super::funds::set_bank_account(conn, fund_id, &account)?;
            to_value(account)
        }
    }
}

/// What the operation would do now: executed inside a savepoint that is always rolled back, so
/// the preview comes from the very code that will execute it.
pub fn preview(conn: &mut DbConnection, operation: &Operation) -> AppResult<Value> {
    let mut answer = None;
    let outcome = conn.transaction::<(), AppError, _>(|c| {
        answer = Some(execute(c, operation, "preview")?);
        Err(AppError::internal("preview rolled back"))
    });
    match (outcome, answer) {
        (Err(_), Some(answer)) => Ok(promised(operation.kind(), answer)),
        (Err(error), None) => Err(error),
        (Ok(()), _) => Err(AppError::internal("a preview was not rolled back")),
    }
}

/// Records a proposal of `operation` by `actor`, with its preview computed now.
pub fn propose(
    conn: &mut DbConnection,
    operation: &Operation,
    actor: &str,
    lifetime_hours: i64,
) -> AppResult<Proposal> {
    let preview = preview(conn, operation)?;
    let now = now_micros();
    let row = ProposalRow {
        id: new_id(),
        kind: operation.kind().as_str().into(),
        subject_id: operation.subject().into(),
        request: serde_json::to_string(operation).map_err(AppError::internal)?,
        preview: serde_json::to_string(&preview).map_err(AppError::internal)?,
        revision: 1,
        status: ProposalStatus::Pending.as_str().into(),
        proposed_by: actor.into(),
        proposed_at: now,
        expires_at: expiry(now, lifetime_hours),
        decided_by: None,
        decided_at: None,
        reason: None,
        result: None,
    };
    diesel::insert_into(proposals::table).values(&row).execute(conn)?;
    row.view(now)
}

pub fn get_row(conn: &mut DbConnection, id: &str) -> AppResult<ProposalRow> {
    proposals::table
        .find(id)
        .select(ProposalRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found(format!("proposal {id}")))
}

pub fn get_proposal(conn: &mut DbConnection, id: &str) -> AppResult<Proposal> {
    get_row(conn, id)?.view(now_micros())
}

/// Proposals, newest first; only those of `status` (as they stand now) when given.
pub fn list(conn: &mut DbConnection, status: Option<ProposalStatus>) -> AppResult<Vec<Proposal>> {
    Ok(page_of_proposals(conn, status, None, PROPOSALS_LIST_MAX)?.items)
}

/// The proposals decided, as the predicate of the index `proposals_decided` states it: a literal,
/// so that the plan of a kept statement may read that index (a bound value could be anything).
const DECIDED_SQL: &str = "proposals.status <> 'pending'";

/// The newest `limit` proposals that no longer wait for a decision (approved, rejected,
/// withdrawn or expired), newest first: the newest decided ones from `proposals_decided`, which
/// holds those alone, and the newest pending ones past their expiry from `proposals_by_status`.
/// Neither read grows with the number of proposals that wait.
pub fn latest_decided(conn: &mut DbConnection, limit: i64) -> AppResult<Vec<Proposal>> {
    let now = now_micros();
    let newest_first = (proposals::proposed_at.desc(), proposals::id.desc());
    let mut rows: Vec<ProposalRow> = proposals::table
        .select(ProposalRow::as_select())
        .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(DECIDED_SQL))
        .order(newest_first)
        .limit(limit)
        .load(conn)?;
    let expired: Vec<ProposalRow> = proposals::table
        .select(ProposalRow::as_select())
        .filter(proposals::status.eq("pending"))
        .filter(proposals::expires_at.le(now))
        .order(newest_first)
        .limit(limit)
        .load(conn)?;
    rows.extend(expired);
    rows.sort_by(|a, b| (&b.proposed_at, &b.id).cmp(&(&a.proposed_at, &a.id)));
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    rows.into_iter().map(|row| row.view(now)).collect()
}

/// A page of the proposals, newest first, after the proposal `after`; only those of `status`
/// (as they stand now) when given. A proposal that expires between two pages leaves the
/// pending ones without shifting them.
pub fn page_of_proposals(
    conn: &mut DbConnection,
    status: Option<ProposalStatus>,
    after: Option<&str>,
    limit: i64,
) -> AppResult<PageOf<Proposal>> {
    let now = now_micros();
    let mut query = proposals::table.select(ProposalRow::as_select()).into_boxed();
    if let Some(after) = after {
        let proposed_at: NaiveDateTime = proposals::table
            .find(after)
            .select(proposals::proposed_at)
            .first(conn)
            .optional()?
            .ok_or_else(not_in_list)?;
        // The bound on the time alone is where the index's walk starts; the rest skips the
        // proposals of that instant already listed.
        let older_on_instant = proposals::proposed_at.lt(proposed_at).or(proposals::id.lt(after.to_string()));
        query = query.filter(proposals::proposed_at.le(proposed_at)).filter(older_on_instant);
    }
    query = match status {
        Some(ProposalStatus::Pending) => {
            query.filter(proposals::status.eq("pending")).filter(proposals::expires_at.gt(now))
        }
        Some(ProposalStatus::Expired) => query.filter(
            proposals::status.eq("expired").or(proposals::status.eq("pending").and(proposals::expires_at.le(now))),
        ),
        Some(other) => query.filter(proposals::status.eq(other.as_str())),
        None => query,
    };
    let rows = query.order((proposals::proposed_at.desc(), proposals::id.desc())).limit(limit + 1).load(conn)?;
    PageOf::from_rows(rows, limit, |row| row.id.clone()).try_map(|row| row.view(now))
}

/// Ends a pending proposal as `status`; refused if another decision got there first.
fn decide(
    conn: &mut DbConnection,
    row: &ProposalRow,
    status: ProposalStatus,
    actor: &str,
    reason: Option<&str>,
    result: Option<String>,
) -> AppResult<()> {
    let changed = diesel::update(
        proposals::table
            .filter(proposals::id.eq(&row.id))
            .filter(proposals::status.eq("pending"))
            .filter(proposals::revision.eq(row.revision)),
    )
    .set((
        proposals::status.eq(status.as_str()),
        proposals::decided_by.eq(Some(actor)),
        proposals::decided_at.eq(Some(now_micros())),
        proposals::reason.eq(reason),
        proposals::result.eq(result),
    ))
    .execute(conn)?;
    if changed != 1 {
        return Err(AppError::conflict("proposal-decided", "another decision on this proposal came first"));
    }
    Ok(())
}

/// Approves revision `revision` of a proposal: executes it as `approver` if what it does now is
/// exactly its preview, in the caller's write transaction. A changed preview is refused
/// (`preview-changed`) and nothing is written; [`revise`] then records the new preview.
pub fn approve(conn: &mut DbConnection, id: &str, approver: &str, revision: i32) -> AppResult<Proposal> {
    let row = get_row(conn, id)?;
    let now = now_micros();
    check_decision(&row.pending()?, Decision::Approve, approver, Some(revision), now).map_err(refused)?;
    let operation = row.operation()?;
    let actor = format!("{approver} (proposed by {})", row.proposed_by);
    let executed = execute(conn, &operation, &actor)?;
    if promised(operation.kind(), executed.clone()) != parse_json(&row.preview)? {
        return Err(AppError::conflict(
            "preview-changed",
            "the books changed since this proposal was previewed, so it would not do exactly what it shows; \
             nothing was executed: read the proposal again and decide on its new preview",
        ));
    }
    let result = serde_json::to_string(&executed).map_err(AppError::internal)?;
    decide(conn, &row, ProposalStatus::Executed, approver, None, Some(result))?;
    get_proposal(conn, id)
}

/// Recomputes a pending proposal's preview; stores it as the next revision when it changed.
pub fn revise(conn: &mut DbConnection, id: &str) -> AppResult<Proposal> {
    let row = get_row(conn, id)?;
    let now = now_micros();
    if status_at(row.pending()?.status, row.expires_at, now) != ProposalStatus::Pending {
        return row.view(now);
    }
    let fresh = match row.operation().and_then(|operation| preview(conn, &operation)) {
        Ok(fresh) => fresh,
        // The operation is refused outright now (the application was decided, the cash is
        // gone): its reason is shown, and the proposal can only be rejected or withdrawn.
        Err(error) => serde_json::json!({"refused": {"type": error.code(), "detail": error.to_string()}}),
    };
    if fresh != parse_json(&row.preview)? {
        diesel::update(proposals::table.filter(proposals::id.eq(id)).filter(proposals::revision.eq(row.revision)))
            .set((
                proposals::preview.eq(serde_json::to_string(&fresh).map_err(AppError::internal)?),
                proposals::revision.eq(row.revision + 1),
            ))
            .execute(conn)?;
    }
    get_proposal(conn, id)
}

/// Rejects a proposal (by another staff user) with a reason.
pub fn reject(conn: &mut DbConnection, id: &str, actor: &str, reason: &str) -> AppResult<Proposal> {
    let row = get_row(conn, id)?;
    check_decision(&row.pending()?, Decision::Reject, actor, None, now_micros()).map_err(refused)?;
    decide(conn, &row, ProposalStatus::Rejected, actor, Some(reason), None)?;
    get_proposal(conn, id)
}

/// Withdraws a proposal (by its proposer).
pub fn withdraw(conn: &mut DbConnection, id: &str, actor: &str) -> AppResult<Proposal> {
    let row = get_row(conn, id)?;
    check_decision(&row.pending()?, Decision::Withdraw, actor, None, now_micros()).map_err(refused)?;
    decide(conn, &row, ProposalStatus::Withdrawn, actor, None, None)?;
    get_proposal(conn, id)
}
