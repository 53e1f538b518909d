//! Staff pages of the four-eyes principle (docs/four-eyes.md): the proposals waiting for a
//! decision, and one proposal with the exact preview it will execute and the forms to approve,
//! reject or withdraw it. The decisions go through the same handlers as the JSON API.

use crate::i18n::{phrase, verbatim};
use actix_web::{get, post, web, HttpRequest};
use serde_json::Value;

use super::forms::{Field, FieldKind, FormSpec};
use super::view::{fact, link, Card, Cell, Page, Section, Table};
use super::{done, posted, proposed, refused, render, submit, Done, PageError, PageResult, Session};
use crate::domain::proposals::{ProposalKind, ProposalStatus};
use crate::domain::roles::Role;
use crate::error::AppError;
use crate::http::api::proposals as api;
use crate::http::extract::{parse_id, IdempotencyKey, ValidJson};
use crate::http::AppState;
use crate::storage::proposals::{self, Operation, Proposal};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_page)
        .service(proposal_page)
        .service(decision_post)
        .service(fund_form_page)
        .service(fund_form_post);
}

const READERS: &[Role] = &[Role::Staff, Role::Auditor, Role::Admin];

/// Proposes `operation` through the API handler, as a page's form does: the proposal, or the
/// refusal.
pub async fn propose(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    session: &Session,
    key: IdempotencyKey,
    operation: Operation,
) -> crate::error::AppResult<actix_web::HttpResponse> {
    let raw = serde_json::to_vec(&operation).map_err(AppError::internal)?;
    let body = ValidJson { value: operation, raw: raw.into() };
    api::propose(state.clone(), req.clone(), session.principal.clone(), key, body).await
}

/// One line saying what the proposal does, for lists and headings.
fn summary(proposal: &Proposal) -> String {
    let field = |name: &str| proposal.operation.get(name).and_then(Value::as_str).unwrap_or_default().to_string();
    match proposal.kind {
        ProposalKind::Distribution => format!(
            "EUR {} on {}: {}",
            super::view::group_thousands(&field("cash")),
            field("date"),
            field("description")
        ),
        ProposalKind::GrantAward => {
            let hours = proposal.operation.get("gpu_hours").and_then(Value::as_str).map(str::to_string);
            format!(
                "application {}, {} GPU-hours",
                field("application_id"),
                hours.unwrap_or_else(|| "the requested".into())
            )
        }
        ProposalKind::GrantRejection => format!("application {}", field("application_id")),
        ProposalKind::CapitalCall => format!("call of {}: {}", field("call_date"), field("description")),
        ProposalKind::ManualEntry => format!("entry on {}: {}", field("effective_date"), field("description")),
        ProposalKind::WaterfallTerms => format!("new terms for fund {}", field("fund_id")),
        ProposalKind::WriteDown => format!(
            "EUR {} on {}: {}",
            super::view::group_thousands(&field("amount")),
            field("value_date"),
            field("description")
        ),
        ProposalKind::Reversal => {
            format!("entry {} on {}: {}", field("entry_id"), field("effective_date"), field("reason"))
        }
        ProposalKind::FacilityPrice => {
            format!("EUR {} per GPU-hour from {}", field("price_per_gpu_hour"), field("effective_date"))
        }
        ProposalKind::UserRole => {
            let party = field("party_id");
            let party = if party.is_empty() { String::new() } else { format!(" for party {party}") };
            format!("user {} becomes {}{party}", field("user_id"), field("role"))
        }
        ProposalKind::BankAccount => {
            format!("{}, IBAN {} for fund {}", field("account_holder"), field("iban"), field("fund_id"))
        }
    }
}

fn kind_label(proposal: &Proposal) -> String {
    super::view::words("proposal", proposal.kind.as_str())
}

fn when(at: chrono::NaiveDateTime) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Decided proposals the list page shows, newest first; each stays at its own page.
const DECIDED_SHOWN: i64 = 50;

#[get("/proposals")]
async fn list_page(state: web::Data<AppState>, session: Session) -> PageResult {
    session.require(READERS)?;
    let (pending, decided_latest) = state
        .db(|conn| {
            Ok((proposals::list(conn, Some(ProposalStatus::Pending))?, proposals::latest_decided(conn, DECIDED_SHOWN)?))
        })
        .await?;
    let me = session.principal.actor();
    let mut waiting =
        Table::new("Waiting for a decision", &["Proposal", "Proposed by", "Proposed", "Expires", "Yours to decide"]);
    for p in &pending {
        waiting.row(vec![
            Cell::link(format!("{} ({})", kind_label(p), summary(p)), format!("/proposals/{}", p.id)),
            Cell::text(p.proposed_by.clone()),
            Cell::text(when(p.proposed_at)),
            Cell::text(when(p.expires_at)),
            Cell::text(if p.proposed_by == me { "no: you proposed it" } else { "yes" }),
        ]);
    }
    let mut decided = Table::new("Decided", &["Proposal", "Status", "Proposed by", "Decided by", "Decided"]);
    for p in &decided_latest {
        decided.row(vec![
            Cell::link(format!("{} ({})", kind_label(p), summary(p)), format!("/proposals/{}", p.id)),
            Cell::text(p.status.as_str()),
            Cell::text(p.proposed_by.clone()),
            Cell::text(p.decided_by.clone().unwrap_or_default()),
            Cell::text(p.decided_at.map(when).unwrap_or_default()),
        ]);
    }
    let page = Page::new(session.layout("/proposals"), "Proposals")
        .subtitle("Distributions, awards and rejections take effect when a second staff user approves them.")
        .card(Card::new("Waiting").with(Section::Table(waiting.empty("Nothing waits for a decision."))))
        .card(Card::new("Decided").with(Section::Table(decided.empty("Nothing decided yet."))));
    render(&page)
}

/// The preview as the page shows it: a distribution's whole allocation, an award's terms.
fn preview_sections(proposal: &Proposal) -> Vec<Section> {
    let preview = &proposal.preview;
    if let Some(refusal) = preview.get("refused") {
        let detail = refusal.get("detail").and_then(Value::as_str).unwrap_or_default();
        return vec![Section::Alert(phrase("page-would-be-refused-now", &[("detail", detail.to_string())]))];
    }
    let text = |key: &str| preview.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
    match proposal.kind {
        ProposalKind::Distribution => super::staff::allocation_sections(preview),
        ProposalKind::GrantAward => vec![Section::Facts(vec![
            fact("GPU-hours", super::view::group_thousands(&text("awarded_gpu_hours"))),
            fact("Price per GPU-hour", format!("EUR {}", text("price_per_gpu_hour"))),
            fact("Aid intensity", format!("{}%", text("intensity_percent"))),
            fact("Aid value", format!("EUR {}", super::view::group_thousands(&text("aid_value")))),
            fact("Aid basis", super::view::words("basis", &text("aid_basis"))),
            fact("Period", format!("{} to {}", text("start_date"), text("end_date"))),
            fact("SME category", super::view::words("category", &text("sme_category"))),
        ])],
        ProposalKind::GrantRejection => {
            vec![Section::Facts(vec![fact("Reason shown to the applicant", text("rejection_reason"))])]
        }
        ProposalKind::ManualEntry | ProposalKind::Reversal => entry_sections(preview),
        // The other operations are shown as the API answers them, less ids and times.
        _ => vec![Section::Facts(
            preview
                .as_object()
                .into_iter()
                .flatten()
                .map(|(name, value)| match value {
                    Value::String(text) => fact(verbatim(name.replace('_', " ")), text.clone()),
                    other => fact(verbatim(name.replace('_', " ")), other.to_string()),
                })
                .collect(),
        )],
    }
}

/// A journal entry as `storage::proposals` shows it: its date, description and postings.
pub(super) fn entry_sections(entry: &Value) -> Vec<Section> {
    let text = |key: &str| entry.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
    let mut table = Table::new("Postings", &["Account", "Name", "#Debit", "#Credit", "Memo"]);
    for p in entry.get("postings").and_then(Value::as_array).into_iter().flatten() {
        let field = |key: &str| p.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
        table.row(vec![
            Cell::text(field("account_code")),
            Cell::text(field("account_name")),
            Cell::num(format!("EUR {}", super::view::group_thousands(&field("debit")))),
            Cell::num(format!("EUR {}", super::view::group_thousands(&field("credit")))),
            Cell::text(field("memo")),
        ]);
    }
    vec![
        Section::Facts(vec![fact("Effective date", text("effective_date")), fact("Description", text("description"))]),
        Section::Table(table),
    ]
}

fn decision_forms(session: &Session, proposal: &Proposal) -> Vec<FormSpec> {
    if proposal.status != ProposalStatus::Pending || session.principal.require(&[proposal.kind.decided_by()]).is_err() {
        return Vec::new();
    }
    let id = &proposal.id;
    if proposal.proposed_by == session.principal.actor() {
        return vec![FormSpec::new(
            format!("/proposals/{id}/withdraw"),
            "Withdraw proposal",
            &session.csrf_token,
            vec![],
        )];
    }
    let approve = FormSpec::new(
        format!("/proposals/{id}/approve"),
        "Approve and execute",
        &session.csrf_token,
        vec![Field::new("revision", "Revision", FieldKind::HiddenInteger).value(proposal.revision.to_string())],
    );
    let reject = FormSpec::new(
        format!("/proposals/{id}/reject"),
        "Reject",
        &session.csrf_token,
        vec![Field::new("reason", "Reason (for the proposer)", FieldKind::TextArea)],
    );
    vec![approve, reject]
}

fn proposal_view(session: &Session, proposal: &Proposal, forms: Vec<FormSpec>) -> Page {
    let mut facts = vec![
        fact("Status", super::view::words("status", proposal.status.as_str())),
        fact("Revision", proposal.revision.to_string()),
        fact("Proposed by", proposal.proposed_by.clone()),
        fact("Proposed", when(proposal.proposed_at)),
        fact("Expires", when(proposal.expires_at)),
    ];
    if let Some(by) = &proposal.decided_by {
        facts.push(fact("Decided by", by.clone()));
    }
    if let Some(reason) = &proposal.reason {
        facts.push(fact("Reason", reason.clone()));
    }
    let mut preview = Card::new("What it will do").text(
        "Approving executes exactly this. If the books change first, nothing is executed and this page shows the new preview.",
    );
    preview.sections.extend(preview_sections(proposal));
    let mut page = Page::new(session.layout("/proposals"), phrase("page-proposal", &[("kind", kind_label(proposal))]))
        .subtitle(verbatim(summary(proposal)))
        .card(Card::new("Proposal").with(Section::Facts(facts)))
        .card(preview);
    if proposal.result.is_some() {
        page = page.card(Card::new("Executed").with(Section::Links(vec![link("Journal", "/audit/journal")])));
    }
    if !forms.is_empty() {
        let mut card = Card::new("Decide");
        card.sections = forms.into_iter().map(Section::Form).collect();
        page = page.card(card);
    }
    page
}

async fn load(state: &AppState, id: String) -> PageResult<Proposal> {
    Ok(state.db(move |conn| proposals::get_proposal(conn, &id)).await?)
}

#[get("/proposals/{proposal_id}")]
async fn proposal_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
) -> PageResult {
    session.require(READERS)?;
    let proposal = load(&state, parse_id("proposal_id", &path)?).await?;
    let forms = decision_forms(&session, &proposal);
    render(&proposal_view(&session, &proposal, forms).flash(Done::from_query(&req)))
}

#[post("/proposals/{proposal_id}/{decision}")]
async fn decision_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> PageResult {
    session.require(&[Role::Staff, Role::Admin])?;
    let (id, decision) = path.into_inner();
    let id = parse_id("proposal_id", &id)?;
    let form_data = posted(&body)?;
    session.check(&state, &form_data)?;
    let proposal = load(&state, id.clone()).await?;
    let forms = decision_forms(&session, &proposal);
    let action = format!("/proposals/{id}/{decision}");
    let Some(form) = forms.into_iter().find(|f| f.action == action) else {
        return Err(PageError::from(AppError::not_found(format!("page {}", req.path()))));
    };
    let (s, r, p, i) = (state.clone(), req.clone(), session.principal.clone(), web::Path::from(id.clone()));
    let outcome = match decision.as_str() {
        "approve" => submit(&form_data, form, move |b, k| api::approve(s, r, p, k, i, b)).await,
        "reject" => submit(&form_data, form, move |b, k| api::reject(s, r, p, k, i, b)).await,
        _ => submit(&form_data, form, move |_: ValidJson<Value>, k| api::withdraw(s, r, p, k, i)).await,
    };
    let what = match decision.as_str() {
        "approve" => Done::Approved,
        "reject" => Done::ProposalRejected,
        _ => Done::Withdrawn,
    };
    match outcome {
        Ok(_) => done(&format!("/proposals/{id}"), what),
        Err((form, status)) => {
            // Shown again as it stands now: after `preview-changed`, with its new preview.
            let now = load(&state, id).await?;
            let mut forms = decision_forms(&session, &now);
            if let Some(slot) = forms.iter_mut().find(|f| f.action == action) {
                slot.error = form.error.clone();
            }
            let mut page = proposal_view(&session, &now, forms);
            page.flash = form.error;
            refused(page, status)
        }
    }
}

// ---- Forms that propose an operation of a fund ------------------------------------------

/// Posting lines a proposed manual entry's form offers; empty ones are left out.
const ENTRY_FORM_LINES: usize = 4;

/// The operations of a fund that have a form here: (path segment, kind, title).
const FUND_FORMS: [(&str, &str, &str); 2] =
    [("write-down", "write_down", "Propose a write-down"), ("manual-entry", "manual_entry", "Propose a manual entry")];

fn fund_form(session: &Session, fund_id: &str, segment: &str, facilities: Vec<(String, String)>) -> Option<FormSpec> {
    let (_, _, title) = FUND_FORMS.iter().find(|(s, _, _)| *s == segment)?;
    let today = crate::http::api::capital::today().to_string();
    let fields = match segment {
        "write-down" => vec![
            Field::new("facility_id", "Facility", FieldKind::Select).options(facilities),
            Field::new("amount", "Amount written down (EUR)", FieldKind::Money),
            Field::new("value_date", "Value date", FieldKind::Date).value(today),
            Field::new("description", "Description", FieldKind::Text),
        ],
        _ => {
            let mut fields = vec![
                Field::new("effective_date", "Effective date", FieldKind::Date).value(today),
                Field::new("description", "Description", FieldKind::Text),
            ];
            for line in 0..ENTRY_FORM_LINES {
                let n = line + 1;
                let optional = |field: Field| if line < 2 { field } else { field.optional() };
                fields.push(optional(Field::new(
                    &format!("postings.{line}.account"),
                    &format!("Line {n}: account code"),
                    FieldKind::Text,
                )));
                fields.push(
                    Field::new(&format!("postings.{line}.debit"), &format!("Line {n}: debit (EUR)"), FieldKind::Money)
                        .optional(),
                );
                fields.push(
                    Field::new(
                        &format!("postings.{line}.credit"),
                        &format!("Line {n}: credit (EUR)"),
                        FieldKind::Money,
                    )
                    .optional(),
                );
                fields.push(
                    Field::new(&format!("postings.{line}.memo"), &format!("Line {n}: memo"), FieldKind::Text)
                        .optional(),
                );
            }
            fields
        }
    };
    Some(FormSpec::new(format!("/funds/{fund_id}/propose/{segment}"), title, &session.csrf_token, fields))
}

async fn facility_options(state: &AppState) -> PageResult<Vec<(String, String)>> {
    let facilities = state.db(crate::storage::structure::list_facilities).await?;
    Ok(facilities.into_iter().map(|f| (f.id, format!("{} ({})", f.name, f.member_state))).collect())
}

#[get("/funds/{fund_id}/propose/{operation}")]
async fn fund_form_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<(String, String)>,
) -> PageResult {
    session.require(&[Role::Staff])?;
    let (fund_id, segment) = path.into_inner();
    let fund_id = parse_id("fund_id", &fund_id)?;
    let form = fund_form(&session, &fund_id, &segment, facility_options(&state).await?)
        .ok_or_else(|| AppError::not_found(format!("page {}", req.path())))?;
    let title = form.submit_label.clone();
    let context = vec![Section::Text(
        "Nothing is posted now: the proposal shows exactly what it will post, and takes effect when another staff user approves it."
            .into(),
    )];
    render(&super::form_page(&session, req.path(), &title, context, form))
}

#[post("/funds/{fund_id}/propose/{operation}")]
async fn fund_form_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> PageResult {
    session.require(&[Role::Staff])?;
    let (fund_id, segment) = path.into_inner();
    let fund_id = parse_id("fund_id", &fund_id)?;
    let mut form_data = session.read_form(&state, &body)?;
    // Posting lines left empty are not part of the entry.
    for line in 0..ENTRY_FORM_LINES {
        let prefix = format!("postings.{line}.");
        if form_data.get(&format!("{prefix}account")).unwrap_or_default().trim().is_empty() && line >= 2 {
            form_data.0.retain(|(name, _)| !name.starts_with(&prefix));
        }
    }
    let form = fund_form(&session, &fund_id, &segment, facility_options(&state).await?)
        .ok_or_else(|| AppError::not_found(format!("page {}", req.path())))?;
    let title = form.submit_label.clone();
    let kind = FUND_FORMS.iter().find(|(s, _, _)| *s == segment).map(|(_, k, _)| *k).unwrap_or_default();
    let outcome = submit(&form_data, form, |body: ValidJson<Value>, key| {
        let (state, req, session, fund_id) = (state.clone(), req.clone(), &session, fund_id.clone());
        async move {
            let mut value = body.value;
            value["kind"] = Value::from(kind);
            value["fund_id"] = Value::from(fund_id);
            let operation: Operation = serde_json::from_value(value)
                .map_err(|e| AppError::MalformedBody { detail: e.to_string(), errors: Vec::new() })?;
            propose(&state, &req, session, key, operation).await
        }
    })
    .await;
    match outcome {
        Ok(proposal) => proposed(&proposal),
        Err((form, status)) => refused(super::form_page(&session, req.path(), &title, vec![], form), status),
    }
}
