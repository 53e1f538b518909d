//! Staff pages for actions that had only the JSON API: a fund's tranches, the facilities and
//! their list prices, proceeds, and the reversal of a journal entry. Each form calls the API's
//! own handler (or, under four eyes, proposes the operation), so the pages meet the same rules.

use crate::domain::hours::Quarter;
use crate::i18n::{phrase, verbatim, Lang};
use std::collections::HashMap;

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::Value;

use super::forms::{Field, FieldKind, FormSpec};
use super::view::{eur, fact, group_thousands, link, Card, Cell, Fact, Page, Section, Table};
use super::{done, form_page, id_of, proposed, refused, render, submit, Done, FormPage, PageResult, Session};
use crate::domain::ledger::{reversal_of, PostingLine};
use crate::domain::money::Cents;
use crate::domain::parties::EU27;
use crate::domain::proposals::{ProposalKind, ProposalStatus};
use crate::domain::roles::Role;
use crate::error::{AppError, AppResult};
use crate::http::api::capital::today;
use crate::http::api::investments;
use crate::http::api::ledger::{self as ledger_api, ReversalRequest};
use crate::http::api::structure::{self as structure_api, positive, PriceRequest};
use crate::http::extract::{parse_id, ValidJson};
use crate::http::AppState;
use crate::storage::ledger::{self, EntryFilter, EntryWithPostings, REVERSIBLE_EVENTS};
use crate::storage::proposals::would_post;
use crate::storage::proposals::{self, Operation, Proposal};
use crate::storage::structure::{self, Facility, FacilityPrice, Tranche};
use crate::storage::write_tx;
use crate::storage::{funds, DbConnection};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(tranches_page)
        .service(tranche_post)
        .service(facilities_page)
        .service(facility_post)
        .service(prices_page)
        .service(price_post)
        .service(proceeds_form)
        .service(proceeds_post)
        .service(reversal_page)
        .service(reversal_post);
}

/// Pending proposals of `kind` on `subject` (a facility, a journal entry).
fn pending_on(conn: &mut DbConnection, kind: ProposalKind, subject: &str) -> AppResult<Vec<Proposal>> {
    let pending = proposals::list(conn, Some(ProposalStatus::Pending))?;
    Ok(pending.into_iter().filter(|p| p.kind == kind && p.subject_id == subject).collect())
}

fn operation_text(proposal: &Proposal, key: &str) -> String {
    proposal.operation.get(key).and_then(Value::as_str).unwrap_or_default().to_string()
}

// ---- Tranches ------------------------------------------------------------------------

fn tranche_form(session: &Session, fund_id: &str) -> FormSpec {
    FormSpec::new(
        format!("/funds/{fund_id}/tranches"),
        "Add tranche",
        &session.csrf_token,
        vec![
            Field::new("name", "Name", FieldKind::Text),
            Field::new("seniority", "Seniority (1 is the most senior)", FieldKind::Integer),
            Field::new("target_size", "Target size (EUR)", FieldKind::Money),
            Field::new("pref_rate", "Preferred return a year", FieldKind::Decimal).hint("A fraction: 0.08 for 8%."),
            Field::new("return_cap", "Return cap (multiple of paid-in)", FieldKind::Decimal)
                .optional()
                .hint("E.g. 1.20; empty for no cap."),
            Field::new("min_ticket", "Minimum ticket (EUR)", FieldKind::Money).optional(),
            Field::new("first_loss", "First-loss tranche (takes losses before the others)", FieldKind::Checkbox),
        ],
    )
}

/// `0.08` → `8%`.
fn percent(rate: Decimal) -> String {
    match rate.checked_mul(Decimal::ONE_HUNDRED) {
        Some(hundredths) => format!("{}%", hundredths.normalize()),
        None => rate.to_string(),
    }
}

fn tranches_table(tranches: &[Tranche]) -> Table {
    let mut table = Table::new(
        "Tranches, most senior first",
        &["Tranche", "#Seniority", "#Target size", "#Preferred return", "#Return cap", "First loss", "#Minimum ticket"],
    );
    for t in tranches {
        table.row(vec![
            Cell::text(t.name.clone()),
            Cell::num(t.seniority.to_string()),
            Cell::money(t.target_size),
            Cell::num(percent(t.pref_rate)),
            Cell::num(t.return_cap.map_or_else(|| "none".to_string(), |cap| format!("{}× paid-in", cap.normalize()))),
            Cell::text(if t.first_loss { "yes" } else { "no" }),
            Cell::money(t.min_ticket),
        ]);
    }
    table.empty("No tranche yet: add the first below.")
}

async fn tranches_view(
    state: &AppState,
    req: &HttpRequest,
    session: &Session,
    fund_id: &str,
    form: FormSpec,
) -> PageResult<Page> {
    let id = fund_id.to_string();
    let (fund, tranches) =
        state.db(move |conn| Ok((funds::get_fund(conn, &id)?, structure::list_tranches(conn, &id)?))).await?;
    Ok(Page::new(session.layout(req.path()), phrase("page-tranches-of", &[("fund", fund.name.clone())]))
        .subtitle("Share classes of the fund: how its returns and losses are ranked.")
        .flash(Done::from_query(req))
        .card(Card::new("Tranches").with(Section::Table(tranches_table(&tranches))).with(Section::Links(vec![
            link("Open the fund", format!("/funds/{fund_id}")),
            link("Record proceeds", format!("/funds/{fund_id}/proceeds/new")),
        ])))
        .card(
            Card::new("Add a tranche")
                .text(
                    "Its capital accounts are added to the fund's chart; a seniority or name already used is refused.",
                )
                .with(Section::Form(form)),
        ))
}

#[get("/funds/{fund_id}/tranches")]
async fn tranches_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
) -> PageResult {
    session.require(&[Role::Staff])?;
    let fund_id = parse_id("fund_id", &path)?;
    let form = tranche_form(&session, &fund_id);
    render(&tranches_view(&state, &req, &session, &fund_id, form).await?)
}

#[post("/funds/{fund_id}/tranches")]
async fn tranche_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
    body: web::Bytes,
) -> PageResult {
    session.require(&[Role::Staff])?;
    let fund_id = parse_id("fund_id", &path)?;
    let form_data = session.read_form(&state, &body)?;
    let outcome = submit(&form_data, tranche_form(&session, &fund_id), |body, key| {
        let path = web::Path::from(fund_id.clone());
        structure_api::create_tranche(state.clone(), req.clone(), session.principal.clone(), key, path, body)
    })
    .await;
    match outcome {
        Ok(_) => done(&format!("/funds/{fund_id}/tranches"), Done::Tranche),
        Err((form, status)) => refused(tranches_view(&state, &req, &session, &fund_id, form).await?, status),
    }
}

// ---- Facilities and their prices -----------------------------------------------------

fn facility_form(session: &Session) -> FormSpec {
    FormSpec::new(
        "/facilities",
        "Register facility",
        &session.csrf_token,
        vec![
            Field::new("name", "Name", FieldKind::Text),
            Field::new("kind", "Kind", FieldKind::Select).options(vec![
                ("gigafactory".into(), "AI gigafactory".into()),
                ("ai_factory".into(), "AI factory".into()),
            ]),
            Field::new("member_state", "Member State", FieldKind::Select)
                .options(EU27.iter().map(|code| (code.to_string(), code.to_string())).collect()),
            Field::new("chip_count", "Chips (GPUs)", FieldKind::Integer),
            Field::new("chip_type", "Chip type", FieldKind::Text).hint("E.g. NVIDIA H100."),
            Field::new("quarterly_capacity_gpu_hours", "Capacity per quarter (GPU-hours)", FieldKind::Integer),
            Field::new("gpus_per_record_max", "Most GPUs one usage record may cover", FieldKind::Integer)
                .optional()
                .hint("All its chips when left empty."),
        ],
    )
}

/// The version in force on `date`: the latest effective on or before it (`prices` oldest first,
/// as storage lists them; the rule of `storage::structure::price_on`).
fn in_force(prices: &[FacilityPrice], date: NaiveDate) -> Option<&FacilityPrice> {
    prices.iter().rev().find(|p| p.effective_date <= date)
}

fn price_text(price: Option<&FacilityPrice>) -> String {
    price.map_or_else(|| "none".to_string(), |p| format!("{} from {}", eur(p.price_per_gpu_hour), p.effective_date))
}

fn kind_label(kind: &str) -> String {
    match kind {
        "gigafactory" => "AI gigafactory".into(),
        "ai_factory" => "AI factory".into(),
        other => other.replace('_', " "),
    }
}

fn chips(f: &Facility) -> String {
    format!("{} × {}", group_thousands(&f.chip_count.to_string()), f.chip_type)
}

async fn facilities_view(state: &AppState, req: &HttpRequest, session: &Session, form: FormSpec) -> PageResult<Page> {
    let listed = state
        .db(|conn| {
            let facilities = structure::list_facilities(conn)?;
            facilities
                .into_iter()
                .map(|f| {
                    let prices = structure::list_prices(conn, &f.id)?;
                    Ok((f, prices))
                })
                .collect::<AppResult<Vec<_>>>()
        })
        .await?;
    let now = today();
    let mut table = Table::new(
        "Facilities",
        &[
            "Facility",
            "Kind",
            "Member State",
            "Chips",
            "#Capacity per quarter (GPU-hours)",
            "#List price today",
            "Last quarter's statement",
            "",
        ],
    );
    // The quarter a facility is paid for next: the last one closed.
    let closed = Quarter::of(Quarter::of(now).first_day().pred_opt().unwrap_or(now));
    let lang = crate::i18n::Lang::current().tag();
    for (f, prices) in &listed {
        table.row(vec![
            Cell::text(f.name.clone()),
            Cell::text(kind_label(&f.kind)),
            Cell::text(f.member_state.clone()),
            Cell::text(chips(f)),
            Cell::num(group_thousands(&f.quarterly_capacity_gpu_hours.to_string())),
            Cell::num(in_force(prices, now).map_or_else(|| "none".to_string(), |p| eur(p.price_per_gpu_hour))),
            Cell::link(
                format!("{closed} (PDF)"),
                format!("/api/v1/facilities/{}/statements/{closed}/pdf?lang={lang}", f.id),
            ),
            Cell::link("Prices", format!("/facilities/{}/prices", f.id)),
        ]);
    }
    Ok(Page::new(session.layout("/facilities"), "Facilities")
        .subtitle("AI gigafactories and AI factories, with the list price per GPU-hour in force today.")
        .flash(Done::from_query(req))
        .card(Card::new("All facilities").with(Section::Table(table.empty("No facility yet."))))
        .card(Card::new("Register a facility").with(Section::Form(form))))
}

#[get("/facilities")]
async fn facilities_page(state: web::Data<AppState>, req: HttpRequest, session: Session) -> PageResult {
    session.require(&[Role::Staff])?;
    render(&facilities_view(&state, &req, &session, facility_form(&session)).await?)
}

#[post("/facilities")]
async fn facility_post(state: web::Data<AppState>, req: HttpRequest, session: Session, body: web::Bytes) -> PageResult {
    session.require(&[Role::Staff])?;
    let form_data = session.read_form(&state, &body)?;
    let outcome = submit(&form_data, facility_form(&session), |body, key| {
        structure_api::create_facility(state.clone(), req.clone(), session.principal.clone(), key, body)
    })
    .await;
    match outcome {
        // A facility is priced before any award can be made there: its price page is next.
        Ok(json) => done(&format!("/facilities/{}/prices", id_of(&json)), Done::Facility),
        Err((form, status)) => refused(facilities_view(&state, &req, &session, form).await?, status),
    }
}

/// The price form: first *Preview* (what will apply from the date), then, once that was shown,
/// *Set price*, or with four eyes on *Propose price*.
fn price_form(session: &Session, facility_id: &str, four_eyes: bool, previewed: bool) -> FormSpec {
    let mut form = FormSpec::new(
        format!("/facilities/{facility_id}/prices"),
        "Preview",
        &session.csrf_token,
        vec![
            Field::new("effective_date", "Applies from", FieldKind::Date).value(today().to_string()),
            Field::new("price_per_gpu_hour", "List price per GPU-hour (EUR)", FieldKind::Money)
                .hint("Up to two decimals, e.g. 2.10."),
        ],
    );
    if previewed {
        form.alternatives = if four_eyes {
            vec![("propose".into(), "Propose price".into())]
        } else {
            vec![("execute".into(), "Set price".into())]
        };
    }
    form
}

/// What a new price would do: the price it replaces on its date and how long it applies.
fn price_preview(prices: &[FacilityPrice], date: NaiveDate, price: Cents) -> Vec<Section> {
    let mut facts = vec![
        fact("Applies from", date.to_string()),
        fact("New list price per GPU-hour", eur(price)),
        fact("In force on that date now", price_text(in_force(prices, date))),
    ];
    let until = match prices.iter().find(|p| p.effective_date > date) {
        Some(next) => match next.effective_date.pred_opt() {
            Some(last) => format!("{last} (the price from {} follows)", next.effective_date),
            None => next.effective_date.to_string(),
        },
        None => "a later price is set (none is yet)".to_string(),
    };
    facts.push(fact("Applies until", until));
    vec![Section::Text("Preview: nothing is recorded yet.".into()), Section::Facts(facts)]
}

struct PricesContext {
    facility: Facility,
    prices: Vec<FacilityPrice>,
    pending: Vec<Proposal>,
}

async fn prices_context(state: &AppState, facility_id: &str) -> PageResult<PricesContext> {
    let id = facility_id.to_string();
    Ok(state
        .db(move |conn| {
            Ok(PricesContext {
                facility: structure::get_facility(conn, &id)?,
                prices: structure::list_prices(conn, &id)?,
                pending: pending_on(conn, ProposalKind::FacilityPrice, &id)?,
            })
        })
        .await?)
}

fn prices_view(
    state: &AppState,
    session: &Session,
    req: &HttpRequest,
    context: &PricesContext,
    form_sections: Vec<Section>,
) -> Page {
    let f = &context.facility;
    let now = today();
    let current = in_force(&context.prices, now);
    let mut history = Table::new("Price versions, oldest first", &["Applies from", "#Price per GPU-hour", "Status"]);
    for (index, p) in context.prices.iter().enumerate() {
        let next = context.prices.get(index + 1);
        let status = if p.effective_date > now {
            "from a later date".to_string()
        } else if current.is_some_and(|c| c.effective_date == p.effective_date) {
            "in force today".to_string()
        } else {
            next.map_or_else(String::new, |n| format!("replaced from {}", n.effective_date))
        };
        history.row(vec![
            Cell::text(p.effective_date.to_string()),
            Cell::money(p.price_per_gpu_hour),
            Cell::text(status),
        ]);
    }
    let mut page = Page::new(session.layout("/facilities"), phrase("page-prices-of", &[("facility", f.name.clone())]))
        .subtitle(verbatim(format!(
            "{} · {} · {}",
            Lang::current().label(&kind_label(&f.kind)),
            f.member_state,
            chips(f)
        )))
        .flash(Done::from_query(req))
        .card(Card::new("Facility").with(Section::Facts(vec![
            fact(
                "Capacity per quarter",
                format!("{} GPU-hours", group_thousands(&f.quarterly_capacity_gpu_hours.to_string())),
            ),
            fact("List price today", price_text(current)),
            Fact { label: "Register".into(), value: "All facilities".into(), href: Some("/facilities".into()) },
        ])))
        .card(Card::new("Price history").with(Section::Table(history.empty("No price yet."))));
    if !context.pending.is_empty() {
        let mut table = Table::new("Proposed prices", &["Applies from", "#Price per GPU-hour", "Proposed by", ""]);
        for p in &context.pending {
            table.row(vec![
                Cell::text(operation_text(p, "effective_date")),
                Cell::num(format!("EUR {}", group_thousands(&operation_text(p, "price_per_gpu_hour")))),
                Cell::text(p.proposed_by.clone()),
                Cell::link("Open proposal", format!("/proposals/{}", p.id)),
            ]);
        }
        page = page.card(Card::new("Waiting for approval").with(Section::Table(table)));
    }
    let mut card = Card::new("Add a price").text(
        "A price applies from its date until a later one; versions are never changed. Preview shows what will apply before anything is recorded.",
    );
    if state.settings.four_eyes {
        card.sections.push(Section::Text(
            "A price is proposed: it is recorded when another staff user approves the proposal.".into(),
        ));
    }
    card.sections.extend(form_sections);
    page.card(card)
}

#[get("/facilities/{facility_id}/prices")]
async fn prices_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
) -> PageResult {
    session.require(&[Role::Staff])?;
    let facility_id = parse_id("facility_id", &path)?;
    let context = prices_context(&state, &facility_id).await?;
    let form = price_form(&session, &facility_id, state.settings.four_eyes, false);
    render(&prices_view(&state, &session, &req, &context, vec![Section::Form(form)]))
}

#[post("/facilities/{facility_id}/prices")]
async fn price_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
    body: web::Bytes,
) -> PageResult {
    session.require(&[Role::Staff])?;
    let facility_id = parse_id("facility_id", &path)?;
    let form_data = session.read_form(&state, &body)?;
    let context = prices_context(&state, &facility_id).await?;
    let four_eyes = state.settings.four_eyes;
    let intent = form_data.get("intent").map(str::to_string);
    let (execute, propose) = (intent.as_deref() == Some("execute"), intent.as_deref() == Some("propose") && four_eyes);
    // The values as the API read them, for the preview.
    let mut read = None;
    let outcome = submit(
        &form_data,
        price_form(&session, &facility_id, four_eyes, false),
        |body: ValidJson<PriceRequest>, key| {
            read = Some((body.value.effective_date, body.value.price_per_gpu_hour));
            let path = web::Path::from(facility_id.clone());
            let (state, req, session) = (state.clone(), req.clone(), &session);
            async move {
                if propose {
                    let PriceRequest { effective_date, price_per_gpu_hour } = body.value;
                    let operation =
                        Operation::FacilityPrice { facility_id: path.into_inner(), effective_date, price_per_gpu_hour };
                    super::proposals::propose(&state, &req, session, key, operation).await
                } else if execute {
                    structure_api::add_price(state, req, session.principal.clone(), key, path, body).await
                } else {
                    // A preview records nothing: it sets the price in a transaction rolled back,
                    // so it refuses what *Set price* would (a version on that date, a date on or
                    // before the facility's latest award).
                    let PriceRequest { effective_date, price_per_gpu_hour } = body.value;
                    positive(price_per_gpu_hour).map_err(|reason| AppError::field("price_per_gpu_hour", reason))?;
                    let (facility, actor) = (path.into_inner(), session.principal.actor());
                    state
                        .db(move |conn| {
                            crate::storage::write_tx(conn, |c| {
                                crate::storage::proposals::would_post(c, |c| {
                                    structure::add_price(c, &facility, effective_date, price_per_gpu_hour, &actor)
                                })
                            })
                        })
                        .await?;
                    Ok(HttpResponse::Ok().json(serde_json::json!({})))
                }
            }
        },
    )
    .await;
    match (outcome, read) {
        (Ok(json), _) if propose => proposed(&json),
        (Ok(_), _) if execute => done(&format!("/facilities/{facility_id}/prices"), Done::Price),
        (Ok(_), Some((date, price))) => {
            // The same values again, with the button that records them under the preview.
            let form = price_form(&session, &facility_id, four_eyes, true).refill(&form_data);
            let mut sections = price_preview(&context.prices, date, price);
            sections.push(Section::Form(form));
            render(&prices_view(&state, &session, &req, &context, sections))
        }
        (Ok(_), None) => Err(AppError::internal("a price preview without its values").into()),
        (Err((form, status)), _) => {
            refused(prices_view(&state, &session, &req, &context, vec![Section::Form(form)]), status)
        }
    }
}

// ---- Proceeds ------------------------------------------------------------------------

async fn proceeds_spec(state: &AppState, session: &Session, fund_id: &str) -> PageResult<FormSpec> {
    let facilities = state.db(structure::list_facilities).await?;
    Ok(FormSpec::new(
        format!("/funds/{fund_id}/proceeds/new"),
        "Check",
        &session.csrf_token,
        vec![
            Field::new("facility_id", "From facility", FieldKind::Select)
                .optional()
                .hint("None for other income, such as interest.")
                .options(facilities.into_iter().map(|f| (f.id, format!("{} ({})", f.name, f.member_state))).collect()),
            Field::new("amount", "Amount received (EUR)", FieldKind::Money),
            Field::new("cost_returned", "Of which cost returned (EUR)", FieldKind::Money)
                .optional()
                .hint("Only with a facility: the part that returns the cost invested; the rest is a realised gain."),
            Field::new("value_date", "Value date", FieldKind::Date).value(today().to_string()),
            Field::new("description", "Description", FieldKind::Text),
        ],
    ))
}

async fn proceeds_context(state: &AppState, fund_id: &str) -> PageResult<Vec<Section>> {
    let id = fund_id.to_string();
    let fund = state.db(move |conn| funds::get_fund(conn, &id)).await?;
    Ok(vec![
        Section::Facts(vec![Fact { label: "Fund".into(), value: fund.name, href: Some(format!("/funds/{fund_id}")) }]),
        Section::Text(
            "Cash (1000) is debited with the amount; from a facility, the cost returned is credited to its \
             investment and the rest to realised gains; otherwise the amount is credited to investment income."
                .into(),
        ),
    ])
}

#[get("/funds/{fund_id}/proceeds/new")]
async fn proceeds_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
) -> PageResult {
    session.require(&[Role::Staff])?;
    let fund_id = parse_id("fund_id", &path)?;
    let context = proceeds_context(&state, &fund_id).await?;
    let form = proceeds_spec(&state, &session, &fund_id).await?;
    render(&form_page(&session, req.path(), "Record proceeds", context, form))
}

#[post("/funds/{fund_id}/proceeds/new")]
async fn proceeds_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
    body: web::Bytes,
) -> PageResult {
    session.require(&[Role::Staff])?;
    let fund_id = parse_id("fund_id", &path)?;
    let form_data = session.read_form(&state, &body)?;
    let context = proceeds_context(&state, &fund_id).await?;
    let form = proceeds_spec(&state, &session, &fund_id).await?;
    let page = FormPage { session: &session, req: &req, title: "Record proceeds", context };
    let dry_run = |input: investments::ProceedsRequest| {
        let (state, principal, fund) = (state.clone(), session.principal.clone(), fund_id.clone());
        async move {
            let row = investments::proceeds_row(&principal, &fund, &input)?;
            state
                .db(move |conn| {
                    write_tx(conn, |c| {
                        funds::get_fund(c, &fund)?;
                        would_post(c, |c| crate::storage::investments::receive_proceeds(c, row.clone()))
                    })
                })
                .await
        }
    };
    let call = |body, key| {
        let path = web::Path::from(fund_id.clone());
        investments::receive_proceeds(state.clone(), req.clone(), session.principal.clone(), key, path, body)
    };
    let next = |_: &Value| format!("/funds/{fund_id}");
    page.check_then_post(&form_data, form, "Record proceeds", dry_run, call, next, Done::Proceeds).await
}

// ---- Reversal of a journal entry -----------------------------------------------------

struct EntryContext {
    original: EntryWithPostings,
    /// Account id → (code, name).
    labels: HashMap<String, (String, String)>,
    /// The entry that reversed it already, if one did.
    reversed_by: Option<EntryWithPostings>,
    pending: Vec<Proposal>,
}

async fn entry_context(state: &AppState, entry_id: &str) -> PageResult<EntryContext> {
    let id = entry_id.to_string();
    Ok(state
        .db(move |conn| {
            let original = ledger::get_entry(conn, &id)?;
            let mut ids: Vec<&str> = original.postings.iter().map(|p| p.account_id.as_str()).collect();
            ids.sort_unstable();
            ids.dedup();
            let labels = ledger::account_labels(conn, &ids)?;
            // A reversal is recorded as the event `reversal` of the entry it reverses.
            let filter =
                EntryFilter { event_type: Some("reversal".into()), event_id: Some(id.clone()), ..Default::default() };
            let reversed_by = ledger::list_entries(conn, &filter, 1)?.items.into_iter().next();
            let pending = pending_on(conn, ProposalKind::Reversal, &id)?;
            Ok(EntryContext { original, labels, reversed_by, pending })
        })
        .await?)
}

fn postings_table(caption: &str, lines: &[PostingLine], labels: &HashMap<String, (String, String)>) -> Table {
    let mut table = Table::new(caption, &["Account", "Name", "#Debit", "#Credit", "Memo"]);
    for line in lines {
        let (code, name) = labels.get(&line.account_id).cloned().unwrap_or_default();
        let (debit, credit) =
            if line.amount.is_negative() { (Cents::ZERO, line.amount.abs()) } else { (line.amount, Cents::ZERO) };
        table.row(vec![
            Cell::text(code),
            Cell::text(name),
            Cell::money(debit),
            Cell::money(credit),
            Cell::text(line.memo.clone()),
        ]);
    }
    table
}

fn reversal_form(session: &Session, entry_id: &str, four_eyes: bool, earliest: NaiveDate) -> FormSpec {
    let label = if four_eyes { "Propose reversal" } else { "Post reversal" };
    FormSpec::new(
        format!("/ledger/entries/{entry_id}/reverse"),
        label,
        &session.csrf_token,
        vec![
            Field::new("effective_date", "Effective date", FieldKind::Date)
                .value(today().max(earliest).to_string())
                .hint(phrase("page-not-before", &[("date", crate::i18n::format::date(earliest, Lang::current()))])),
            Field::new("reason", "Reason", FieldKind::Text),
        ],
    )
}

/// Why the entry cannot be reversed here, if it cannot (the API refuses these too).
fn not_reversible(context: &EntryContext) -> Option<Section> {
    let e = &context.original.entry;
    if let Some(by) = &context.reversed_by {
        return Some(Section::Links(vec![link(
            format!("Reversed by entry {} on {}", by.entry.sequence, by.entry.effective_date),
            format!("/audit/entries/{}", by.entry.id),
        )]));
    }
    if e.reverses_entry_id.is_some() {
        return Some(Section::Alert(
            "This entry is itself a reversal and is not reversed again; post a new entry instead.".into(),
        ));
    }
    if !REVERSIBLE_EVENTS.contains(&e.event_type.as_str()) {
        return Some(Section::Alert(phrase(
            "page-not-reversible-event",
            &[("event", Lang::current().name_in_sentence("event", &e.event_type))],
        )));
    }
    None
}

fn reversal_view(
    state: &AppState,
    session: &Session,
    req: &HttpRequest,
    context: &EntryContext,
    form: Option<FormSpec>,
) -> PageResult<Page> {
    let e = &context.original.entry;
    let lines: Vec<PostingLine> = context
        .original
        .postings
        .iter()
        .map(|p| PostingLine {
            account_id: p.account_id.clone(),
            amount: Cents::new(p.amount_cents),
            party_id: p.party_id.clone(),
            memo: p.memo.clone(),
        })
        .collect();
    // The very function the ledger posts a reversal with, so the page shows what will be posted.
    let reversing = reversal_of(&lines).map_err(AppError::from)?;
    let mut page = Page::new(
        session.layout("/audit/journal"),
        phrase("page-reverse-entry", &[("number", e.sequence.to_string())]),
    )
    .subtitle(verbatim(e.description.clone()))
    .flash(Done::from_query(req))
    .card(
        Card::new("Entry")
            .with(Section::Facts(vec![
                fact("Effective date", e.effective_date.to_string()),
                fact("Event", e.event_type.replace('_', " ")),
                fact("Recorded by", e.actor.clone()),
                Fact {
                    label: "In the journal".into(),
                    value: format!("Entry {}", e.sequence),
                    href: Some(format!("/audit/entries/{}", e.id)),
                },
            ]))
            .with(Section::Table(postings_table(
                &format!("Postings of entry {}", e.sequence),
                &lines,
                &context.labels,
            ))),
    );
    let mut card = Card::new("Reversal");
    if let Some(reason) = not_reversible(context) {
        card.sections.push(reason);
        return Ok(page.card(card));
    }
    let four_eyes = state.settings.four_eyes;
    card.sections.push(Section::Text(phrase("page-reversal-explained", &[("number", e.sequence.to_string())])));
    card.sections.push(Section::Table(postings_table("Postings the reversal will post", &reversing, &context.labels)));
    if four_eyes {
        card.sections.push(Section::Text(
            "Nothing is posted now: the proposal shows exactly what it will post, and takes effect when another \
             staff user approves it."
                .into(),
        ));
    }
    for p in &context.pending {
        card.sections.push(Section::Links(vec![link(
            format!("A reversal proposed by {} waits for approval", p.proposed_by),
            format!("/proposals/{}", p.id),
        )]));
    }
    let form = form.unwrap_or_else(|| reversal_form(session, &e.id, four_eyes, e.effective_date));
    card.sections.push(Section::Form(form));
    page = page.card(card);
    Ok(page)
}

#[get("/ledger/entries/{entry_id}/reverse")]
async fn reversal_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
) -> PageResult {
    session.require(&[Role::Staff])?;
    let entry_id = parse_id("entry_id", &path)?;
    let context = entry_context(&state, &entry_id).await?;
    render(&reversal_view(&state, &session, &req, &context, None)?)
}

#[post("/ledger/entries/{entry_id}/reverse")]
async fn reversal_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
    body: web::Bytes,
) -> PageResult {
    session.require(&[Role::Staff])?;
    let entry_id = parse_id("entry_id", &path)?;
    let form_data = session.read_form(&state, &body)?;
    let context = entry_context(&state, &entry_id).await?;
    let four_eyes = state.settings.four_eyes;
    let form = reversal_form(&session, &entry_id, four_eyes, context.original.entry.effective_date);
    let outcome = submit(&form_data, form, |body: ValidJson<ReversalRequest>, key| {
        let path = web::Path::from(entry_id.clone());
        let (state, req, session) = (state.clone(), req.clone(), &session);
        async move {
            if !four_eyes {
                return ledger_api::reverse_entry(state, req, session.principal.clone(), key, path, body).await;
            }
            let ReversalRequest { effective_date, reason } = body.value;
            let operation = Operation::Reversal { entry_id: path.into_inner(), effective_date, reason };
            super::proposals::propose(&state, &req, session, key, operation).await
        }
    })
    .await;
    match outcome {
        Ok(json) if four_eyes => proposed(&json),
        Ok(_) => done(&format!("/ledger/entries/{entry_id}/reverse"), Done::Reversal),
        Err((form, status)) => refused(reversal_view(&state, &session, &req, &context, Some(form))?, status),
    }
}
