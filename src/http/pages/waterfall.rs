//! The waterfall editor (staff; auditors and admins read the terms): a fund's terms in force and
//! their versions, a form holding the terms to edit, and, on *Preview*, a distribution under the
//! edited terms beside the same distribution under the terms in force. Saving (with four eyes
//! on, proposing) is offered only below a preview and sends the terms that preview was made
//! from, so no change is saved unseen. Previews and saves go through the JSON API's handlers.

use crate::i18n::{phrase, verbatim};
use std::collections::{BTreeMap, HashMap};

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse, ResponseError};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::forms::{response_json, to_json, Field, FieldKind, FormData, FormSpec};
use super::view::{eur, fact, Card, Cell, Page, Section, Table};
use super::{proposed, redirect, render_status, Done, PageResult, Session};
use crate::domain::money::Cents;
use crate::domain::proposals::{ProposalKind, ProposalStatus};
use crate::domain::roles::Role;
use crate::domain::waterfall::{Mode, Step, Target, Terms};
use crate::error::{AppError, AppResult, Message};
use crate::http::api::waterfall as api;
use crate::http::extract::{parse_id, parse_json, ValidJson};
use crate::http::AppState;
use crate::storage::funds::{get_fund, Fund};
use crate::storage::proposals::{Operation, Proposal};
use crate::storage::structure::{list_tranches, Tranche};
use crate::storage::waterfall::{list_terms, TermsVersion};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(editor_page).service(preview_post).service(save_post);
}

/// The `done` code of a save, and what the page then says; fixed, so a link cannot make the
/// page say anything else.
const SAVED: (&str, &str) = ("terms", "New terms saved: they are in force now, as the latest version below.");

/// What the editor shows of a fund: the fund, every version of its terms (oldest first), its
/// tranches, its terms proposed and waiting for approval, and its cash today.
struct Books {
    fund: Fund,
    versions: Vec<TermsVersion>,
    tranches: Vec<Tranche>,
    proposed: Vec<Proposal>,
    cash_today: Cents,
}

impl Books {
    fn current(&self) -> Option<&TermsVersion> {
        self.versions.last()
    }

    fn tranche_names(&self) -> HashMap<&str, &str> {
        self.tranches.iter().map(|t| (t.id.as_str(), t.name.as_str())).collect()
    }
}

async fn load(state: &AppState, fund_id: &str) -> PageResult<Books> {
    let fund_id = fund_id.to_string();
    let books = state
        .db(move |conn| {
            let fund = get_fund(conn, &fund_id)?;
            let versions = list_terms(conn, &fund_id)?;
            let tranches = list_tranches(conn, &fund_id)?;
            let proposed = crate::storage::proposals::list(conn, Some(ProposalStatus::Pending))?
                .into_iter()
                .filter(|p| p.kind == ProposalKind::WaterfallTerms && p.subject_id == fund_id)
                .collect();
            let today = crate::http::api::capital::today();
            let cash_today = match crate::storage::ledger::find_account_by_code(conn, &fund_id, "1000")? {
                Some(account) => crate::storage::ledger::account_balance(conn, &account.id, None, today)?,
                None => Cents::ZERO,
            };
            Ok(Books { fund, versions, tranches, proposed, cash_today })
        })
        .await?;
    Ok(books)
}

/// What the editor's forms carry: the steps as JSON text, and the preview's cash and date.
struct Input {
    steps: String,
    cash: String,
    date: String,
}

impl Input {
    /// The terms in force (or a first step to start from), the fund's cash today, today.
    fn initial(books: &Books) -> Input {
        let steps = match books.current() {
            Some(current) => steps_text(&current.terms.steps),
            None => {
                // A fund without terms starts from returning capital, most senior first.
                let tranches = books.tranches.iter().map(|t| t.id.clone()).collect();
                steps_text(&[Step::Capital { tranches, mode: Mode::Sequential }])
            }
        };
        let cash = if books.cash_today.get() > 0 { books.cash_today.to_string() } else { String::new() };
        Input { steps, cash, date: crate::http::api::capital::today().to_string() }
    }

    fn posted(form: &FormData) -> Input {
        let text = |name: &str| form.get(name).unwrap_or_default().to_string();
        Input { steps: text("steps"), cash: text("cash"), date: text("date") }
    }
}

/// Steps as the form shows them: pretty JSON, one field per line.
fn steps_text(steps: &[Step]) -> String {
    serde_json::to_string_pretty(steps).unwrap_or_default()
}

/// The steps typed in the form, as JSON: a list of steps, or the terms object holding them.
fn parse_steps(text: &str) -> AppResult<Value> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        let message = Message::new("msg-terms-not-json").count("line", e.line()).count("column", e.column());
        AppError::invalid("steps", message)
    })?;
    match value {
        Value::Array(_) => Ok(value),
        Value::Object(mut terms) if terms.len() == 1 && terms.contains_key("steps") => {
            Ok(terms.remove("steps").unwrap_or_default())
        }
        _ => Err(AppError::field("steps", "give a JSON list of steps: [{\"type\": \"capital\", ...}, ...]")),
    }
}

fn cash_and_date_fields() -> [Field; 2] {
    [
        Field::new("cash", "Cash to distribute in the preview (EUR)", FieldKind::Money)
            .hint("Pre-filled with the fund's cash today. The preview records nothing."),
        Field::new("date", "Distribution date of the preview", FieldKind::Date),
    ]
}

/// The form holding the terms being edited, with the cash and date to preview them on.
fn edit_form(session: &Session, fund_id: &str, input: &Input) -> FormSpec {
    let [cash, date] = cash_and_date_fields();
    FormSpec::new(
        format!("/funds/{fund_id}/waterfall"),
        "Preview",
        &session.csrf_token,
        vec![
            Field::new("steps", "Steps, in order (JSON)", FieldKind::TextArea)
                .value(input.steps.clone())
                .hint("A list of steps of the kinds above, paid in order; tranches are named by their ids."),
            cash.value(input.cash.clone()),
            date.value(input.date.clone()),
        ],
    )
}

/// The form that saves (or proposes) the previewed terms: they travel in hidden fields, so what
/// is saved is what the preview above it was made from, whatever was typed since.
fn save_form(session: &Session, fund_id: &str, input: &Input, four_eyes: bool) -> FormSpec {
    let label = if four_eyes { "Propose these terms" } else { "Save these terms" };
    FormSpec::new(
        format!("/funds/{fund_id}/waterfall/save"),
        label,
        &session.csrf_token,
        vec![
            Field::new("steps", "Steps", FieldKind::Hidden).value(input.steps.clone()),
            Field::new("cash", "Cash", FieldKind::Hidden).value(input.cash.clone()),
            Field::new("date", "Date", FieldKind::Hidden).value(input.date.clone()),
        ],
    )
}

/// A refused form, with every reason next to its field; the steps' reasons keep their paths
/// (`steps[1].shares`), since one text area holds them all.
fn with_refusal(form: FormSpec, error: &AppError) -> FormSpec {
    let mut form = form.with_error(error);
    let on_steps: Vec<String> = error
        .field_errors()
        .iter()
        .filter(|e| e.field == "steps" || e.field.starts_with("steps[") || e.field.starts_with("steps."))
        .map(|e| {
            let reason = e.reason.in_lang(crate::i18n::Lang::current());
            if e.field == "steps" {
                reason
            } else {
                format!("{}: {reason}", e.field)
            }
        })
        .collect();
    if let Some(field) = form.fields.iter_mut().find(|f| f.name == "steps" && !on_steps.is_empty()) {
        field.error = Some(on_steps.join("; "));
    }
    form
}

fn mode_text(mode: Mode) -> &'static str {
    match mode {
        Mode::Sequential => "in order of seniority",
        Mode::ProRata => "pro rata",
    }
}

/// One step in words, tranches by name.
fn describe(step: &Step, names: &HashMap<&str, &str>) -> String {
    let name = |id: &str| names.get(id).map_or_else(|| id.to_string(), |n| n.to_string());
    let list = |ids: &[String]| ids.iter().map(|id| name(id)).collect::<Vec<_>>().join(", ");
    let target = |t: &Target| match t {
        Target::Tranche(id) => name(id),
        Target::Account(code) => format!("account {code}"),
    };
    match step {
        Step::Fee { name: fee, account, fixed, rate_on_commitments, tranches } => {
            let amount = match (fixed, rate_on_commitments) {
                (Some(amount), _) => eur(*amount),
                (None, Some(rate)) if tranches.is_empty() => format!("{rate} of all commitments"),
                (None, Some(rate)) => format!("{rate} of the commitments to {}", list(tranches)),
                (None, None) => "nothing".into(),
            };
            format!("{fee}: {amount} to account {account}")
        }
        Step::Pref { tranches, mode } => {
            format!("Accrued preferred return of {}, {}", list(tranches), mode_text(*mode))
        }
        Step::Capital { tranches, mode } => {
            format!("Contributed capital of {}, {}", list(tranches), mode_text(*mode))
        }
        Step::Reserve { account, percent, cap } => {
            let cap = cap.map(|c| format!(", at most {}", eur(c))).unwrap_or_default();
            format!("{percent}% of what remains to account {account}{cap}")
        }
        Step::CatchUp { beneficiary, target_percent } => {
            format!("All that remains to {} until it holds {target_percent}% of the profits", target(beneficiary))
        }
        Step::Split { shares } => {
            let parts: Vec<String> = shares.iter().map(|s| format!("{} {}%", target(&s.target), s.percent)).collect();
            format!("The residual: {}", parts.join(", "))
        }
    }
}

fn kind_text(step: &Step) -> String {
    step.kind().replace('_', " ")
}

/// The terms in force in words, and every version with who set it and when.
fn terms_cards(books: &Books) -> Vec<Card> {
    let names = books.tranche_names();
    let mut in_force = Card::new("Terms in force");
    match books.current() {
        None => in_force = in_force.text("No terms yet: distributions are refused until terms are saved."),
        Some(current) => {
            in_force = in_force.with(Section::Facts(vec![
                fact("Version", current.version.to_string()),
                fact("Set by", current.actor.clone()),
                fact("Set at", current.created_at.format("%Y-%m-%d %H:%M UTC").to_string()),
            ]));
            let mut steps = Table::new(
                phrase("page-steps-of-version", &[("version", current.version.to_string())]),
                &["#Step", "Kind", "Pays"],
            );
            for (index, step) in current.terms.steps.iter().enumerate() {
                steps.row(vec![
                    Cell::num(index.to_string()),
                    Cell::text(kind_text(step)),
                    Cell::text(describe(step, &names)),
                ]);
            }
            in_force = in_force.with(Section::Table(steps));
        }
    }
    let mut versions = Table::new("Versions of the terms, newest first", &["#Version", "Set by", "Set at", "Steps"]);
    for version in books.versions.iter().rev() {
        let kinds: Vec<String> = version.terms.steps.iter().map(kind_text).collect();
        versions.row(vec![
            Cell::num(version.version.to_string()),
            Cell::text(version.actor.clone()),
            Cell::text(version.created_at.format("%Y-%m-%d %H:%M UTC").to_string()),
            Cell::text(kinds.join(" → ")),
        ]);
    }
    let mut history = Card::new("Versions").with(Section::Table(versions.empty("No version yet.")));
    if !books.proposed.is_empty() {
        let mut waiting = Table::new("Terms proposed, waiting for approval", &["Proposal", "Proposed by", "Expires"]);
        for p in &books.proposed {
            waiting.row(vec![
                Cell::link("Open the proposal", format!("/proposals/{}", p.id)),
                Cell::text(p.proposed_by.clone()),
                Cell::text(p.expires_at.format("%Y-%m-%d %H:%M UTC").to_string()),
            ]);
        }
        history = history.with(Section::Table(waiting));
    }
    vec![in_force, history]
}

/// The steps the terms may have (docs/waterfall.md), for whoever writes them in the form.
const STEP_KINDS: [(&str, &str, &str); 6] = [
    ("fee", "name, account, fixed or rate_on_commitments, optional tranches", "a fee to the account"),
    ("pref", "tranches, mode (sequential or pro_rata)", "the accrued, unpaid preferred return of each position"),
    ("capital", "tranches, mode (sequential or pro_rata)", "each position's outstanding contributed capital"),
    ("reserve", "account, percent, optional cap", "a share of what remains to the account (the pool is 1010)"),
    (
        "catch_up",
        "beneficiary ({\"tranche\": id} or {\"account\": code}), target_percent",
        "all that remains until the beneficiary holds that share of all profits",
    ),
    (
        "split",
        "shares: [{\"tranche\": id, \"percent\": \"80\"}, {\"account\": code, \"percent\": \"20\"}]",
        "the residual by percentages",
    ),
];

/// The card holding the edit form, with the tranches the steps may name and the kinds of step.
fn edit_card(books: &Books, form: FormSpec) -> Card {
    let mut tranches =
        Table::new("Tranches the steps may name", &["Tranche", "Id", "#Seniority", "#Preferred return", "#Return cap"]);
    for t in &books.tranches {
        tranches.row(vec![
            Cell::text(t.name.clone()),
            Cell::text(t.id.clone()),
            Cell::num(t.seniority.to_string()),
            Cell::num(format!("{}%", (t.pref_rate * Decimal::ONE_HUNDRED).normalize())),
            Cell::num(t.return_cap.map_or_else(|| "none".to_string(), |c| format!("{c}x"))),
        ]);
    }
    let mut vocabulary = Table::new("Kinds of step and their fields", &["type", "Fields", "Pays"]);
    for (kind, fields, pays) in STEP_KINDS {
        vocabulary.row(vec![Cell::text(kind), Cell::text(fields), Cell::text(pays)]);
    }
    Card::new("Edit the terms")
        .text(
            "Change the steps, then Preview: the distribution under your terms is shown beside the same distribution \
             under the terms in force, and only then can the terms be saved. Preferred-return rates and caps belong \
             to the tranches, not to the terms.",
        )
        .with(Section::Table(tranches.empty("The fund has no tranches yet.")))
        .with(Section::Table(vocabulary))
        .with(Section::Form(form))
}

/// One receiver of a previewed distribution: an investor, an account, or what stays undistributed.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Receiver {
    Investor(String),
    Account(String),
    Undistributed,
}

fn amount(value: &Value, key: &str) -> AppResult<Cents> {
    let text = value.get(key).and_then(Value::as_str).unwrap_or("0.00");
    text.parse().map_err(|e| AppError::internal(format!("preview amount {key} {text:?}: {e}")))
}

/// What every receiver gets in a previewed distribution (the API's answer), with names.
fn receivers(view: &Value) -> AppResult<BTreeMap<Receiver, (String, Cents)>> {
    let mut out: BTreeMap<Receiver, (String, Cents)> = BTreeMap::new();
    for share in view.get("investors").and_then(Value::as_array).into_iter().flatten() {
        let id = share.get("investor_id").and_then(Value::as_str).unwrap_or_default().to_string();
        let name = share.get("investor_name").and_then(Value::as_str).unwrap_or_default().to_string();
        out.insert(Receiver::Investor(id), (name, amount(share, "total")?));
    }
    let allocation = view.get("allocation").cloned().unwrap_or(Value::Null);
    let lines = allocation.get("steps").and_then(Value::as_array).into_iter().flatten();
    for line in lines.flat_map(|s| s.get("lines").and_then(Value::as_array).into_iter().flatten()) {
        let Some(code) = line.get("target").and_then(|t| t.get("account")).and_then(Value::as_str) else { continue };
        let slot = out.entry(Receiver::Account(code.to_string())).or_insert((format!("Account {code}"), Cents::ZERO));
        slot.1 = slot.1.checked_add(amount(line, "paid")?)?;
    }
    out.insert(Receiver::Undistributed, ("Not distributable".into(), amount(&allocation, "remaining")?));
    Ok(out)
}

/// Edited against in force, receiver by receiver: either column of amounts sums to the cash.
fn comparison(edited: &Value, in_force: &Value) -> AppResult<Table> {
    let (edited, in_force) = (receivers(edited)?, receivers(in_force)?);
    let mut table = Table::new(
        "Who receives what: edited terms against terms in force",
        &["Receiver", "#Edited terms", "#Terms in force", "#Change"],
    );
    let mut keys: Vec<&Receiver> = edited.keys().chain(in_force.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        let name = edited.get(key).or_else(|| in_force.get(key)).map(|(n, _)| n.clone()).unwrap_or_default();
        let new = edited.get(key).map_or(Cents::ZERO, |(_, c)| *c);
        let old = in_force.get(key).map_or(Cents::ZERO, |(_, c)| *c);
        let change = new.checked_sub(old)?;
        let change = if change.get() > 0 { format!("+{}", eur(change)) } else { eur(change) };
        table.row(vec![Cell::text(name), Cell::money(new), Cell::money(old), Cell::num(change)]);
    }
    Ok(table)
}

/// A preview's steps and investor shares, their tables captioned with which terms they follow.
fn allocation_card(title: &str, which: &str, view: &Value) -> Card {
    let mut card = Card::new(title);
    card.sections = super::staff::allocation_sections(view);
    for section in &mut card.sections {
        if let Section::Table(table) = section {
            table.caption = format!("{}, {which}", table.caption);
        }
    }
    card
}

/// The previews of a posted form, and the form that saves what they were made from.
struct Previews {
    edited: Value,
    /// Under the terms in force, or why there is none.
    in_force: Result<Value, String>,
    save: FormSpec,
}

fn preview_cards(books: &Books, previews: Previews, four_eyes: bool) -> AppResult<Vec<Card>> {
    let next = previews.edited.get("terms_version").map(Value::to_string).unwrap_or_default();
    let mut cards = Vec::new();
    let in_force_title = match books.current() {
        Some(current) => format!("Under the terms in force (version {})", current.version),
        None => "Under the terms in force".to_string(),
    };
    match &previews.in_force {
        Ok(in_force) => cards.push(
            Card::new("Preview: edited terms against terms in force")
                .text("Both columns sum to the cash of the preview. Nothing was recorded.")
                .with(Section::Table(comparison(&previews.edited, in_force)?)),
        ),
        Err(reason) => {
            cards.push(Card::new("Preview: edited terms against terms in force").text(verbatim(reason.clone())))
        }
    }
    cards.push(allocation_card(
        &format!("Under the edited terms (would be version {next})"),
        "edited terms",
        &previews.edited,
    ));
    if let Ok(in_force) = &previews.in_force {
        cards.push(allocation_card(&in_force_title, "terms in force", in_force));
    }
    let text = if four_eyes {
        "Proposes exactly the terms previewed above; they take effect when another staff user approves them. \
         To change them, edit the steps and preview again."
    } else {
        "Saves exactly the terms previewed above as a new version, in force at once. To change them, edit the steps \
         and preview again."
    };
    cards.push(Card::new("Save the previewed terms").text(text).with(Section::Form(previews.save)));
    Ok(cards)
}

fn editor(session: &Session, path: &str, books: &Books, form: FormSpec) -> Page {
    let mut page =
        Page::new(session.layout(path), phrase("page-waterfall-terms-of", &[("fund", books.fund.name.clone())]))
            .subtitle("Edit the terms, preview a distribution under them beside the terms in force, then save.");
    for card in terms_cards(books) {
        page = page.card(card);
    }
    page.card(edit_card(books, form))
}

fn answer(page: &Page, status: StatusCode) -> PageResult {
    render_status(page, status)
}

/// Who may read the terms here: whoever reads the fund's page, which links to this one.
const READERS: &[Role] = &[Role::Staff, Role::Auditor, Role::Admin];

#[get("/funds/{fund_id}/waterfall")]
async fn editor_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
) -> PageResult {
    session.require(READERS)?;
    let fund_id = parse_id("fund_id", &path)?;
    let books = load(&state, &fund_id).await?;
    if session.principal.role != Role::Staff {
        // Auditors and admins read the terms and their versions; only staff edit them.
        let mut page = Page::new(
            session.layout(req.path()),
            phrase("page-waterfall-terms-of", &[("fund", books.fund.name.clone())]),
        );
        for card in terms_cards(&books) {
            page = page.card(card);
        }
        return answer(&page, StatusCode::OK);
    }
    let form = edit_form(&session, &fund_id, &Input::initial(&books));
    let saved = form_urlencoded::parse(req.query_string().as_bytes()).any(|(k, v)| k == "done" && v == SAVED.0);
    let flash = if saved { Some(SAVED.1.to_string()) } else { Done::from_query(&req) };
    answer(&editor(&session, req.path(), &books, form).flash(flash), StatusCode::OK)
}

/// The API body of a preview: the steps typed, the cash and date as the form's fields send them.
fn preview_body(posted: &FormData, input: &Input) -> AppResult<ValidJson<api::TermsPreviewRequest>> {
    let steps = parse_steps(&input.steps)?;
    let mut body = to_json(&cash_and_date_fields(), posted)?;
    body["steps"] = steps;
    let raw = serde_json::to_vec(&body).map_err(AppError::internal)?;
    let value = parse_json(&raw)?;
    Ok(ValidJson { value, raw: raw.into() })
}

async fn json_of(response: AppResult<HttpResponse>) -> AppResult<Value> {
    response_json(response?).await
}

#[post("/funds/{fund_id}/waterfall")]
async fn preview_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
    body: web::Bytes,
) -> PageResult {
    session.require(&[Role::Staff])?;
    let fund_id = parse_id("fund_id", &path)?;
    let posted = session.read_form(&state, &body)?;
    let books = load(&state, &fund_id).await?;
    let input = Input::posted(&posted);
    let form = edit_form(&session, &fund_id, &input);
    let edited = match preview_body(&posted, &input) {
        Ok(body) => {
            let (state, principal) = (state.clone(), session.principal.clone());
            json_of(api::preview_terms(state, principal, web::Path::from(fund_id.clone()), body).await).await
        }
        Err(error) => Err(error),
    };
    let edited = match edited {
        Ok(view) => view,
        Err(error) => {
            let page = editor(&session, req.path(), &books, with_refusal(form, &error));
            return answer(&page, error.status_code());
        }
    };
    let in_force = match books.current() {
        None => Err("No terms are in force yet: there is nothing to compare with.".to_string()),
        Some(_) => {
            // The same cash and date, which the edited preview has just accepted.
            let request = json!({"cash": edited["allocation"]["cash"], "date": edited["allocation"]["date"],
                "description": "Preview under the terms in force"});
            let raw = serde_json::to_vec(&request).map_err(AppError::internal)?;
            let body = ValidJson { value: parse_json(&raw)?, raw: raw.into() };
            let (state, principal) = (state.clone(), session.principal.clone());
            json_of(api::preview(state, principal, web::Path::from(fund_id.clone()), body).await)
                .await
                .map_err(|error| format!("The terms in force give no preview: {}", super::forms::error_text(&error)))
        }
    };
    let four_eyes = state.settings.four_eyes;
    let save = save_form(&session, &fund_id, &input, four_eyes);
    let mut page = editor(&session, req.path(), &books, form);
    for card in preview_cards(&books, Previews { edited, in_force, save }, four_eyes)? {
        page = page.card(card);
    }
    answer(&page, StatusCode::OK)
}

#[post("/funds/{fund_id}/waterfall/save")]
async fn save_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
    body: web::Bytes,
) -> PageResult {
    session.require(&[Role::Staff])?;
    let fund_id = parse_id("fund_id", &path)?;
    let posted = session.read_form(&state, &body)?;
    let input = Input::posted(&posted);
    let four_eyes = state.settings.four_eyes;
    let outcome = async {
        let raw = serde_json::to_vec(&json!({"steps": parse_steps(&input.steps)?})).map_err(AppError::internal)?;
        let terms: Terms = parse_json(&raw)?;
        let key = posted.idempotency_key();
        let response = if four_eyes {
            let operation = Operation::WaterfallTerms { fund_id: fund_id.clone(), terms };
            super::proposals::propose(&state, &req, &session, key, operation).await
        } else {
            let body = ValidJson { value: terms, raw: raw.into() };
            let (s, r, p) = (state.clone(), req.clone(), session.principal.clone());
            api::set_terms(s, r, p, key, web::Path::from(fund_id.clone()), body).await
        };
        json_of(response).await
    }
    .await;
    match outcome {
        Ok(proposal) if four_eyes => proposed(&proposal),
        Ok(_) => Ok(redirect(&format!("/funds/{fund_id}/waterfall?done={}", SAVED.0))),
        Err(error) => {
            // Refused as the books stand now: the terms are shown again to edit and preview.
            let books = load(&state, &fund_id).await?;
            let form = with_refusal(edit_form(&session, &fund_id, &input), &error);
            answer(&editor(&session, req.path(), &books, form), error.status_code())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::FieldError;

    #[test]
    fn steps_are_a_list_or_the_terms_object_holding_one() {
        assert_eq!(parse_steps("[]").ok(), Some(json!([])));
        assert_eq!(parse_steps(r#"{"steps": [{"type": "split"}]}"#).ok(), Some(json!([{"type": "split"}])));
        for bad in ["", "[", "{\"steps\": [], \"cash\": \"1.00\"}", "\"capital\""] {
            let error = parse_steps(bad).err().map(|e| e.field_errors().to_vec());
            assert_eq!(error.as_ref().and_then(|e| e.first()).map(|e| e.field.as_str()), Some("steps"), "{bad}");
        }
    }

    #[test]
    fn every_reason_on_the_steps_is_shown_with_its_path() {
        let form = FormSpec::new("/x", "Preview", "t", vec![Field::new("steps", "Steps", FieldKind::TextArea)]);
        let error = AppError::Validation(vec![
            FieldError::new("steps[0].tranches[0]", "unknown tranche x"),
            FieldError::new("steps[1].shares", "percentages sum to 90, not 100"),
        ]);
        let form = with_refusal(form, &error);
        assert_eq!(
            form.fields[0].error.as_deref(),
            Some("steps[0].tranches[0]: unknown tranche x; steps[1].shares: percentages sum to 90, not 100")
        );
    }

    #[test]
    fn the_comparison_names_every_receiver_and_the_change() {
        let view = |a: &str, pool: &str, left: &str| {
            json!({"investors": [{"investor_id": "i1", "investor_name": "Alpha", "total": a}],
                "allocation": {"remaining": left, "steps": [{"lines": [
                    {"target": {"account": "1010"}, "paid": pool}, {"target": {"tranche": "t"}, "paid": a}]}]}})
        };
        let table = comparison(&view("90.00", "10.00", "0.00"), &view("100.00", "0.00", "0.00")).ok();
        let rows: Vec<Vec<String>> = table
            .map(|t| t.rows.into_iter().map(|r| r.into_iter().map(|c| c.text).collect()).collect())
            .unwrap_or_default();
        assert_eq!(rows[0], ["Alpha", "EUR 90.00", "EUR 100.00", "EUR -10.00"]);
        assert_eq!(rows[1], ["Account 1010", "EUR 10.00", "EUR 0.00", "+EUR 10.00"]);
        assert_eq!(rows[2], ["Not distributable", "EUR 0.00", "EUR 0.00", "EUR 0.00"]);
    }
}
