//! Staff pages: the funds and their capital stack, and the forms that record sources,
//! commitments and amendments, capital calls, contributions, deployments, valuations and
//! distributions (preview first, then execute).

use crate::i18n::{phrase, verbatim, Lang};
use actix_web::{get, post, web, HttpRequest};
use serde_json::Value;

use super::charts::{self, BarRow};
use super::forms::{Field, FieldKind, FormSpec};
use super::view::{eur, fact, link, Card, Cell, Page, Section, Table};
use super::{
    done, form_page, id_of, list_page_rows, next_page_link, proposed, refused, render, submit, Done, FormPage,
    ListQuery, PageQuery, PageResult, Session,
};
use crate::domain::money::Cents;
use crate::domain::roles::Role;
use crate::http::api::{capital, commitments, investments, structure as structure_api, waterfall};
use crate::http::extract::{parse_id, ValidJson};
use crate::http::AppState;
use crate::storage::commitments::{list_commitments, CommitmentFilter};
use crate::storage::overview::{fund_overview, FundOverview};
use crate::storage::proposals::{Operation, ProposedCallLine};
use crate::storage::{funds, structure};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(fund_page)
        .service(sources_page)
        .service(source_post)
        .service(commitment_form)
        .service(commitment_post)
        .service(amendment_form)
        .service(amendment_post)
        .service(call_form)
        .service(call_post)
        .service(call_page)
        .service(contribution_form)
        .service(contribution_post)
        .service(deployment_form)
        .service(deployment_post)
        .service(valuation_form)
        .service(valuation_post)
        .service(distribution_form)
        .service(distribution_post);
}

/// Rows a staff list shows at most; the JSON API pages through the rest.
const LIST_ROWS_MAX: i64 = 500;

fn options<T>(items: &[T], id: impl Fn(&T) -> String, label: impl Fn(&T) -> String) -> Vec<(String, String)> {
    items.iter().map(|item| (id(item), label(item))).collect()
}

fn today() -> String {
    crate::http::api::capital::today().to_string()
}

pub async fn dashboard(state: &AppState, req: &HttpRequest, session: &Session) -> PageResult {
    let all = state.read_db(funds::list_funds).await?;
    let mut table = Table::new("Funds and compartments", &["Fund", "Kind", "#Target size", "Inception"]);
    for fund in &all {
        table.row(vec![
            Cell::link(fund.name.clone(), format!("/funds/{}", fund.id)),
            Cell::text(fund.kind.clone()),
            Cell::money(fund.target_size),
            Cell::text(fund.inception_date.to_string()),
        ]);
    }
    let page = Page::new(session.layout("/"), "Fund administration")
        .subtitle("Open a fund for its capital stack and to record activity.")
        .flash(super::Done::from_query(req))
        .card(Card::new("Funds").with(Section::Table(table)))
        .card(Card::new("Compute grants").with(Section::Links(vec![
            link("Grant calls", "/grant-calls"),
            link("Review queue", "/review"),
            link("Open a grant call", "/grant-calls/new"),
        ])));
    render(&page)
}

fn capital_stack_chart(overview: &FundOverview) -> Section {
    // Tranches come most senior first (seniority 1), and bars are drawn top down.
    let rows: Vec<BarRow> = overview
        .by_tranche
        .iter()
        .map(|t| BarRow {
            label: t.name.clone(),
            values: vec![
                t.figures.paid_in.get(),
                t.figures.called.get().saturating_sub(t.figures.paid_in.get()),
                t.figures.unfunded.get(),
            ],
            note: eur(t.figures.committed),
        })
        .collect();
    Section::Chart(charts::stacked_bars(
        "stack",
        "Capital stack by tranche",
        "Committed capital of each tranche, most senior on top, split into paid-in, called but unpaid, and unfunded.",
        &charts::series(&["Paid-in", "Called, unpaid", "Unfunded"]),
        &rows,
        |cents| eur(Cents::new(cents)),
    ))
}

fn public_private_chart(overview: &FundOverview) -> Section {
    let mut rows = vec![
        BarRow {
            label: "Public".into(),
            values: vec![overview.public.committed.get()],
            note: eur(overview.public.committed),
        },
        BarRow {
            label: "Private".into(),
            values: vec![overview.private.committed.get()],
            note: eur(overview.private.committed),
        },
    ];
    for group in &overview.by_programme {
        rows.push(BarRow {
            label: group.key.replace('_', " "),
            values: vec![group.figures.committed.get()],
            note: eur(group.figures.committed),
        });
    }
    Section::Chart(charts::stacked_bars(
        "sources",
        "Commitments: public, private and by programme",
        "Committed capital from public and private sources, then by programme.",
        &charts::series(&["Committed"]),
        &rows,
        |cents| eur(Cents::new(cents)),
    ))
}

fn figures_table(caption: &str, rows: Vec<(String, &crate::storage::overview::Figures)>) -> Table {
    let mut table = Table::new(caption, &["", "#Committed", "#Called", "#Paid-in", "#Unfunded"]);
    for (label, f) in rows {
        table.row(vec![
            Cell::text(label),
            Cell::money(f.committed),
            Cell::money(f.called),
            Cell::money(f.paid_in),
            Cell::money(f.unfunded),
        ]);
    }
    table
}

#[get("/funds/{fund_id}")]
async fn fund_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
) -> PageResult {
    session.require(&[Role::Staff, Role::Auditor, Role::Admin])?;
    let fund_id = parse_id("fund_id", &path)?;
    let id = fund_id.clone();
    let (overview, calls, commitments) = state
        .db(move |conn| {
            let overview = fund_overview(conn, &id)?;
            let calls = crate::storage::capital::list_calls(conn, &id)?;
            let filter = CommitmentFilter { fund_id: Some(id.clone()), ..Default::default() };
            let commitments = list_commitments(conn, &filter, LIST_ROWS_MAX)?;
            let ids: Vec<&str> = commitments.iter().map(|c| c.source_id.as_str()).collect();
            let names = structure::source_names(conn, &ids)?;
            let commitments: Vec<_> = commitments
                .into_iter()
                .map(|c| {
                    let name = names.get(&c.source_id).cloned().unwrap_or_else(|| c.source_id.clone());
                    (name, c)
                })
                .collect();
            Ok((overview, calls, commitments))
        })
        .await?;
    let fund = &overview.fund;
    let leverage =
        overview.leverage.map_or("none (no public money)".to_string(), |l| format!("{l} private per public euro"));
    let mut summary = Card::new("Summary").with(Section::Facts(vec![
        fact("Target size", eur(fund.target_size)),
        fact("Committed", eur(overview.totals.committed)),
        fact("Called", eur(overview.totals.called)),
        fact("Paid-in", eur(overview.totals.paid_in)),
        fact("Unfunded", eur(overview.totals.unfunded)),
        fact("Deployed", eur(overview.deployed)),
        fact("Leverage", leverage),
    ]));
    if session.principal.role == Role::Staff {
        summary = summary.with(Section::Links(vec![
            link("Record a commitment", format!("/funds/{fund_id}/commitments/new")),
            link("Issue a capital call", format!("/funds/{fund_id}/calls/new")),
            link("Record a deployment", format!("/funds/{fund_id}/deployments/new")),
            link("Record a valuation", format!("/funds/{fund_id}/valuations/new")),
            link("Distribute proceeds", format!("/funds/{fund_id}/distributions/new")),
            link("Propose a write-down", format!("/funds/{fund_id}/propose/write-down")),
            link("Propose a manual entry", format!("/funds/{fund_id}/propose/manual-entry")),
            link("Record proceeds", format!("/funds/{fund_id}/proceeds/new")),
            link("Tranches", format!("/funds/{fund_id}/tranches")),
            link("Waterfall terms", format!("/funds/{fund_id}/waterfall")),
        ]));
    }
    let tranche_rows = overview.by_tranche.iter().map(|t| (t.name.clone(), &t.figures)).collect();
    let group_rows = vec![("Public".to_string(), &overview.public), ("Private".to_string(), &overview.private)];
    let programme_rows = overview.by_programme.iter().map(|g| (g.key.replace('_', " "), &g.figures)).collect();
    let mut compartments = Table::new("Compartments", &["Compartment", "#Committed", "#Paid-in"]);
    for c in &overview.compartments {
        compartments.row(vec![
            Cell::link(c.fund.name.clone(), format!("/funds/{}", c.fund.id)),
            Cell::money(c.totals.committed),
            Cell::money(c.totals.paid_in),
        ]);
    }
    let mut commitment_table =
        Table::new("Commitments", &["Source", "Tranche", "#Committed", "#Called", "#Paid-in", "#Unfunded", ""]);
    let tranche_names: std::collections::HashMap<&str, &str> =
        overview.by_tranche.iter().map(|t| (t.tranche_id.as_str(), t.name.as_str())).collect();
    for (source, c) in &commitments {
        let amend = if session.principal.role == Role::Staff {
            Cell::link("Amend", format!("/commitments/{}/amend", c.id))
        } else {
            Cell::text("")
        };
        commitment_table.row(vec![
            Cell::text(source.clone()),
            Cell::text(tranche_names.get(c.tranche_id.as_str()).copied().unwrap_or("?").to_string()),
            Cell::money(c.committed),
            Cell::money(c.called),
            Cell::money(c.paid_in),
            Cell::money(c.unfunded),
            amend,
        ]);
    }
    let mut call_table = Table::new("Capital calls", &["Call", "Date", "Due", "Description", "#Amount", "#Notices"]);
    for call in &calls {
        call_table.row(vec![
            Cell::link(format!("No. {}", call.call_number), format!("/calls/{}", call.id)),
            Cell::text(call.call_date.to_string()),
            Cell::text(call.due_date.to_string()),
            Cell::text(call.description.clone()),
            Cell::money(call.amount),
            Cell::num(call.notice_count.to_string()),
        ]);
    }
    let performance = fund_performance(&state, &fund.id).await?;
    let lang = Lang::current();
    let mut page = Page::new(session.layout(req.path()), verbatim(fund.name.clone()))
        .subtitle(phrase(
            "page-fund-subtitle",
            &[
                ("kind", lang.t(&format!("fund-kind-{}", fund.kind))),
                ("date", crate::i18n::format::date(fund.inception_date, lang)),
                ("years", fund.term_years.to_string()),
            ],
        ))
        .flash(Done::from_query(&req))
        .card(summary)
        .card(performance)
        .card(
            Card::new("Capital stack")
                .with(capital_stack_chart(&overview))
                .with(Section::Table(figures_table("Capital stack by tranche", tranche_rows))),
        )
        .card(
            Card::new("Public and private money")
                .with(public_private_chart(&overview))
                .with(Section::Table(figures_table("Public and private", group_rows)))
                .with(Section::Table(figures_table("By programme", programme_rows))),
        );
    if !overview.compartments.is_empty() {
        page = page.card(Card::new("Compartments").with(Section::Table(compartments)));
    }
    page = page
        .card(Card::new("Commitments").with(Section::Table(commitment_table)))
        .card(Card::new("Capital calls").with(Section::Table(call_table)));
    let fund_id = fund.id.clone();
    let activity = state.read_db(move |conn| read_activity(conn, &fund_id)).await?;
    for card in activity_cards(&activity) {
        page = page.card(card);
    }
    render(&page)
}

/// A multiple as people read it: two decimals and an x.
fn multiple(value: Option<rust_decimal::Decimal>) -> String {
    value.map_or_else(|| "none (nothing paid in)".into(), super::view::multiple)
}

/// The performance card of a fund, from the view cache (today's metrics).
async fn fund_performance(state: &AppState, fund_id: &str) -> PageResult<Card> {
    let today = crate::http::api::capital::today();
    let key = format!("fund-metrics-view/{fund_id}/{today}");
    let id = fund_id.to_string();
    let metrics = crate::http::views::cached_value(state, key, move |conn| {
        crate::storage::read_tx(conn, |c| crate::storage::metrics::fund_metrics(c, &id, today, None))
    })
    .await;
    match metrics {
        Ok(metrics) => Ok(performance_card(&metrics)),
        // A fund without waterfall terms has no NAV by liquidation yet: say so, and where to act.
        Err(error) if error.status() < 500 => Ok(Card::new("Performance")
            .with(Section::Text(phrase("page-no-figures-yet", &[("reason", super::forms::error_text(&error))])))
            .with(Section::Links(vec![link("Waterfall terms", format!("/funds/{fund_id}/waterfall"))]))),
        Err(error) => Err(error.into()),
    }
}

/// NAV, DPI, RVPI, TVPI and XIRR of the fund and of each tranche, most senior first; the
/// fund's capital deployed and MOIC.
fn performance_card(metrics: &crate::storage::metrics::FundMetrics) -> Card {
    let mut table = Table::new(
        phrase("page-performance-on", &[("date", crate::i18n::format::date(metrics.as_of, Lang::current()))]),
        &["", "#Paid-in", "#Distributed", "#NAV", "#DPI", "#RVPI", "#TVPI", "#XIRR"],
    );
    for m in metrics.fund.iter().chain(&metrics.tranches) {
        let name = if m.scope == "fund" { "Fund".to_string() } else { m.name.clone() };
        table.row(vec![
            Cell::text(name),
            Cell::money(m.paid_in),
            Cell::money(m.distributed),
            Cell::money(m.nav),
            Cell::num(multiple(m.multiples.dpi)),
            Cell::num(multiple(m.multiples.rvpi)),
            Cell::num(multiple(m.multiples.tvpi)),
            Cell::num(super::view::xirr_words(&m.xirr)),
        ]);
    }
    let valuation = metrics.valuation_date.map_or("no valuation yet".to_string(), |d| format!("latest valuation {d}"));
    Card::new("Performance")
        .with(Section::Facts(vec![
            fact("Fund NAV", eur(metrics.fund_nav)),
            fact("Valuation", valuation),
            fact("Capital deployed", metrics.invested.map(eur).unwrap_or_default()),
            fact("MOIC", multiple(metrics.moic)),
        ]))
        .with(Section::Table(table))
}

/// A fund's distributions, deployments and overdue notices, for its page.
struct Activity {
    distributions: Vec<crate::storage::waterfall::DistributionSummary>,
    deployments: Vec<crate::storage::investments::Deployment>,
    late: Vec<crate::storage::capital::Notice>,
    today: chrono::NaiveDate,
}

fn read_activity(conn: &mut crate::storage::DbConnection, fund_id: &str) -> crate::error::AppResult<Activity> {
    let today = crate::http::api::capital::today();
    let filter = crate::storage::capital::NoticeFilter {
        fund_id: Some(fund_id.to_string()),
        late_only: true,
        ..Default::default()
    };
    Ok(Activity {
        distributions: crate::storage::waterfall::list_distributions(conn, fund_id)?,
        deployments: crate::storage::investments::list_deployments(conn, &[fund_id.to_string()])?,
        late: crate::storage::capital::list_notices(conn, &filter, today, LIST_ROWS_MAX)?,
        today,
    })
}

fn activity_cards(activity: &Activity) -> Vec<Card> {
    let mut late = Table::new("Late payers", &["Investor", "Call", "Due", "#Days overdue", "#Outstanding"]);
    for n in &activity.late {
        late.row(vec![
            Cell::text(n.investor_name.clone()),
            Cell::link(format!("No. {}", n.call_number), format!("/calls/{}", n.call_id)),
            Cell::text(n.due_date.to_string()),
            Cell::num((activity.today - n.due_date).num_days().to_string()),
            Cell::money(n.outstanding),
        ]);
    }
    let mut distributions = Table::new("Distributions", &["Date", "Description", "#Cash", "#Distributed", "#Terms"]);
    for d in &activity.distributions {
        distributions.row(vec![
            Cell::text(d.date.to_string()),
            Cell::text(d.description.clone()),
            Cell::money(d.cash),
            Cell::money(d.distributed),
            Cell::num(format!("v{}", d.terms_version)),
        ]);
    }
    let mut deployments = Table::new("Deployments", &["Date", "Kind", "Description", "#Amount"]);
    for d in &activity.deployments {
        deployments.row(vec![
            Cell::text(d.value_date.to_string()),
            Cell::text(d.kind.clone()),
            Cell::text(d.description.clone()),
            Cell::money(d.amount),
        ]);
    }
    vec![
        Card::new("Late payers").with(Section::Table(late.empty("Every notice due is paid."))),
        Card::new("Distributions").with(Section::Table(distributions.empty("No distribution yet."))),
        Card::new("Deployments").with(Section::Table(deployments.empty("Nothing deployed yet."))),
    ]
}

// ---- Sources -------------------------------------------------------------------------

fn source_form(session: &Session) -> FormSpec {
    let kinds = ["eu_programme", "member_state", "eib_group", "private"];
    let programmes = ["digital_europe", "horizon_europe", "investeu"];
    FormSpec::new(
        "/sources",
        "Record source",
        &session.csrf_token,
        vec![
            Field::new("legal_name", "Legal name", FieldKind::Text),
            Field::new("kind", "Kind", FieldKind::Select)
                .options(kinds.iter().map(|k| (k.to_string(), super::view::words("programme", k))).collect()),
            Field::new("programme", "EU programme", FieldKind::Select)
                .optional()
                .hint("Only for EU programme sources.")
                .options(programmes.iter().map(|k| (k.to_string(), super::view::words("programme", k))).collect()),
            Field::new("country", "Country (ISO code, e.g. DE)", FieldKind::Text),
            Field::new("lei", "Legal Entity Identifier", FieldKind::Text).optional(),
        ],
    )
}

async fn sources_view(
    state: &AppState,
    req: &HttpRequest,
    session: &Session,
    form: FormSpec,
    query: ListQuery,
) -> PageResult<Page> {
    let limit = list_page_rows(query.limit)?;
    let after = query.after;
    let page = state.db(move |conn| structure::page_of_sources(conn, None, after.as_deref(), limit)).await?;
    let mut table = Table::new("Sources of capital", &["Legal name", "Kind", "Programme", "Country"]);
    for s in &page.items {
        table.row(vec![
            Cell::text(s.legal_name.clone()),
            Cell::text(s.kind.replace('_', " ")),
            Cell::text(s.programme.replace('_', " ")),
            Cell::text(s.country.clone()),
        ]);
    }
    let mut list = Card::new("All sources").with(Section::Table(table));
    if let Some(last) = &page.next_after {
        list = list.with(next_page_link(req, "/sources", last));
    }
    Ok(Page::new(session.layout("/sources"), "Sources")
        .flash(Done::from_query(req))
        .card(Card::new("Record a source").with(Section::Form(form)))
        .card(list))
}

/// The sources in the order of their names, a page at a time.
#[get("/sources")]
async fn sources_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    query: PageQuery<ListQuery>,
) -> PageResult {
    session.require(&[Role::Staff])?;
    let page = sources_view(&state, &req, &session, source_form(&session), query.0).await?;
    render(&page)
}

#[post("/sources")]
async fn source_post(state: web::Data<AppState>, req: HttpRequest, session: Session, body: web::Bytes) -> PageResult {
    session.require(&[Role::Staff])?;
    let form_data = session.read_form(&state, &body)?;
    let outcome = submit(&form_data, source_form(&session), |body, key| {
        structure_api::create_source(state.clone(), req.clone(), session.principal.clone(), key, body)
    })
    .await;
    match outcome {
        Ok(_) => done("/sources", Done::Source),
        Err((form, status)) => {
            let first_page = ListQuery::default();
            refused(sources_view(&state, &req, &session, form, first_page).await?, status)
        }
    }
}

// ---- Commitments ---------------------------------------------------------------------

/// Sources the commitment form's menu offers at once; a search field starts the menu at a name.
const SOURCE_MENU_ROWS: i64 = 200;

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceMenuQuery {
    /// The menu starts at the first source whose name is this or comes after it.
    sources_from: Option<String>,
}

/// Which sources the commitment form's menu offers: those from a name on, and the one chosen
/// in a form sent back, wherever it stands.
struct SourceMenu {
    from: String,
    chosen: Option<String>,
}

/// The form that starts the menu at a name, above the commitment form.
fn source_search(path: &str, menu: &SourceMenu) -> Section {
    Section::Form(FormSpec::filter(
        path,
        "Show sources",
        vec![Field::new("sources_from", "Sources from", FieldKind::Text)
            .optional()
            .value(menu.from.clone())
            .hint("The menu lists the sources in the order of their names, from the first at or after this one.")],
    ))
}

async fn commitment_spec(
    state: &AppState,
    session: &Session,
    fund_id: &str,
    menu: &SourceMenu,
) -> PageResult<FormSpec> {
    let id = fund_id.to_string();
    let (from, chosen) = (menu.from.clone(), menu.chosen.clone());
    let (tranches, sources) = state
        .db(move |conn| {
            let mut sources = structure::sources_from(conn, &from, SOURCE_MENU_ROWS)?;
            // Only an id can name a source; anything else is refused with the form's other checks.
            let listed = |c: &String| sources.iter().any(|s| &s.id == c);
            if let Some(chosen) = chosen.filter(|c| uuid::Uuid::parse_str(c).is_ok() && !listed(c)) {
                sources.extend(structure::find_source(conn, &chosen)?);
            }
            Ok((structure::list_tranches(conn, &id)?, sources))
        })
        .await?;
    Ok(FormSpec::new(
        format!("/funds/{fund_id}/commitments/new"),
        "Record commitment",
        &session.csrf_token,
        vec![
            Field::new("source_id", "Source", FieldKind::Select).options(options(
                &sources,
                |s| s.id.clone(),
                |s| format!("{} ({})", s.legal_name, s.country),
            )),
            Field::new("tranche_id", "Tranche", FieldKind::Select).options(options(
                &tranches,
                |t| t.id.clone(),
                |t| t.name.clone(),
            )),
            Field::new("amount", "Amount (EUR)", FieldKind::Money).hint("Up to two decimals, e.g. 250000000.00"),
            Field::new("effective_date", "Effective date", FieldKind::Date).value(today()),
            Field::new("allow_oversubscription", "Allow the tranche to exceed its target", FieldKind::Checkbox),
        ],
    ))
}

#[get("/funds/{fund_id}/commitments/new")]
async fn commitment_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
    query: PageQuery<SourceMenuQuery>,
) -> PageResult {
    session.require(&[Role::Staff])?;
    let fund_id = parse_id("fund_id", &path)?;
    let from = query.0.sources_from.unwrap_or_default();
    if !from.is_empty() {
        crate::http::api::funds::validate_name(&from)
            .map_err(|reason| crate::error::AppError::field("sources_from", reason))?;
    }
    let menu = SourceMenu { from, chosen: None };
    let form = commitment_spec(&state, &session, &fund_id, &menu).await?;
    let search = source_search(req.path(), &menu);
    render(&form_page(&session, req.path(), "Record a commitment", vec![search], form))
}

#[post("/funds/{fund_id}/commitments/new")]
async fn commitment_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
    body: web::Bytes,
) -> PageResult {
    session.require(&[Role::Staff])?;
    let fund_id = parse_id("fund_id", &path)?;
    let form_data = session.read_form(&state, &body)?;
    let menu = SourceMenu { from: String::new(), chosen: form_data.get("source_id").map(str::to_string) };
    let form = commitment_spec(&state, &session, &fund_id, &menu).await?;
    let context = vec![source_search(req.path(), &menu)];
    let page = FormPage { session: &session, req: &req, title: "Record a commitment", context };
    let call = |body, key| {
        let path = web::Path::from(fund_id.clone());
        commitments::create_commitment(state.clone(), req.clone(), session.principal.clone(), key, path, body)
    };
    page.post(&form_data, form, call, |_| format!("/funds/{fund_id}"), Done::Commitment).await
}

fn amendment_spec(session: &Session, commitment_id: &str) -> FormSpec {
    FormSpec::new(
        format!("/commitments/{commitment_id}/amend"),
        "Record amendment",
        &session.csrf_token,
        vec![
            Field::new("kind", "Amendment", FieldKind::Select).options(vec![
                ("increase".into(), "Increase".into()),
                ("decrease".into(), "Decrease (unfunded part only)".into()),
                ("cancel".into(), "Cancel all that is unfunded".into()),
            ]),
            Field::new("amount", "Amount (EUR)", FieldKind::Money).optional().hint("Not for a cancellation."),
            Field::new("effective_date", "Effective date", FieldKind::Date).value(today()),
            Field::new("allow_oversubscription", "Allow the tranche to exceed its target", FieldKind::Checkbox),
        ],
    )
}

async fn amendment_context(state: &AppState, commitment_id: &str) -> PageResult<(String, Vec<Section>)> {
    let id = commitment_id.to_string();
    let c = state.db(move |conn| crate::storage::commitments::get_commitment(conn, &id)).await?;
    let facts =
        vec![fact("Committed", eur(c.committed)), fact("Called", eur(c.called)), fact("Unfunded", eur(c.unfunded))];
    Ok((c.fund_id, vec![Section::Facts(facts)]))
}

#[get("/commitments/{commitment_id}/amend")]
async fn amendment_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
) -> PageResult {
    session.require(&[Role::Staff])?;
    let commitment_id = parse_id("commitment_id", &path)?;
    let (_, context) = amendment_context(&state, &commitment_id).await?;
    render(&form_page(&session, req.path(), "Amend a commitment", context, amendment_spec(&session, &commitment_id)))
}

#[post("/commitments/{commitment_id}/amend")]
async fn amendment_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
    body: web::Bytes,
) -> PageResult {
    session.require(&[Role::Staff])?;
    let commitment_id = parse_id("commitment_id", &path)?;
    let form_data = session.read_form(&state, &body)?;
    let (fund_id, context) = amendment_context(&state, &commitment_id).await?;
    let page = FormPage { session: &session, req: &req, title: "Amend a commitment", context };
    let call = |body, key| {
        let path = web::Path::from(commitment_id.clone());
        commitments::amend_commitment(state.clone(), req.clone(), session.principal.clone(), key, path, body)
    };
    page.post(
        &form_data,
        amendment_spec(&session, &commitment_id),
        call,
        |_| format!("/funds/{fund_id}"),
        Done::Amendment,
    )
    .await
}

// ---- Capital calls and contributions -------------------------------------------------

/// Lines a call form offers; a call with more lines goes through the JSON API.
const CALL_FORM_LINES: usize = 3;

async fn call_spec(state: &AppState, session: &Session, fund_id: &str) -> PageResult<FormSpec> {
    let id = fund_id.to_string();
    let (tranches, facilities) =
        state.db(move |conn| Ok((structure::list_tranches(conn, &id)?, structure::list_facilities(conn)?))).await?;
    let mut fields = vec![
        Field::new("description", "Description", FieldKind::Text),
        Field::new("call_date", "Call date", FieldKind::Date).value(today()),
        Field::new("due_date", "Due date", FieldKind::Date),
    ];
    let tranche_options = options(&tranches, |t| t.id.clone(), |t| t.name.clone());
    let facility_options = options(&facilities, |f| f.id.clone(), |f| format!("{} ({})", f.name, f.member_state));
    let purposes = vec![
        ("investment".to_string(), "Investment".to_string()),
        ("fees".to_string(), "Fees".to_string()),
        ("expenses".to_string(), "Expenses".to_string()),
    ];
    for line in 0..CALL_FORM_LINES {
        let n = line + 1;
        let optional = |field: Field| if line == 0 { field } else { field.optional() };
        fields.push(optional(
            Field::new(&format!("lines.{line}.tranche_id"), &format!("Line {n}: tranche"), FieldKind::Select)
                .options(tranche_options.clone()),
        ));
        fields.push(optional(
            Field::new(&format!("lines.{line}.purpose"), &format!("Line {n}: purpose"), FieldKind::Select)
                .options(purposes.clone()),
        ));
        fields.push(
            Field::new(&format!("lines.{line}.facility_id"), &format!("Line {n}: facility"), FieldKind::Select)
                .optional()
                .hint("For an investment line: the facility invested in.")
                .options(facility_options.clone()),
        );
        fields.push(optional(Field::new(
            &format!("lines.{line}.amount"),
            &format!("Line {n}: amount (EUR)"),
            FieldKind::Money,
        )));
    }
    let label = if state.settings.four_eyes { "Propose call" } else { "Issue call" };
    Ok(FormSpec::new(format!("/funds/{fund_id}/calls/new"), label, &session.csrf_token, fields))
}

/// Drops call lines left empty, so that only the lines filled in reach the API.
fn drop_empty_lines(form_data: &mut super::forms::FormData) {
    for line in 0..CALL_FORM_LINES {
        let prefix = format!("lines.{line}.");
        let amount = form_data.get(&format!("{prefix}amount")).unwrap_or_default().trim().is_empty();
        if amount && line > 0 {
            form_data.0.retain(|(name, _)| !name.starts_with(&prefix));
        }
    }
}

#[get("/funds/{fund_id}/calls/new")]
async fn call_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
) -> PageResult {
    session.require(&[Role::Staff])?;
    let fund_id = parse_id("fund_id", &path)?;
    let form = call_spec(&state, &session, &fund_id).await?;
    let context = vec![Section::Text(
        "Each line is allocated pro rata to the unfunded commitments of its tranche; every investor gets a notice."
            .into(),
    )];
    render(&form_page(&session, req.path(), "Issue a capital call", context, form))
}

#[post("/funds/{fund_id}/calls/new")]
async fn call_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
    body: web::Bytes,
) -> PageResult {
    session.require(&[Role::Staff])?;
    let fund_id = parse_id("fund_id", &path)?;
    let mut form_data = session.read_form(&state, &body)?;
    drop_empty_lines(&mut form_data);
    let form = call_spec(&state, &session, &fund_id).await?;
    let four_eyes = state.settings.four_eyes;
    let outcome = submit(&form_data, form, |body: ValidJson<capital::NewCallRequest>, key| {
        let path = web::Path::from(fund_id.clone());
        let (state, req, session) = (state.clone(), req.clone(), &session);
        async move {
            if !four_eyes {
                return capital::create_call(state, req, session.principal.clone(), key, path, body).await;
            }
            let capital::NewCallRequest { call_date, due_date, description, lines } = body.value;
            let lines = lines
                .into_iter()
                .map(|l| ProposedCallLine {
                    tranche_id: l.tranche_id,
                    purpose: l.purpose,
                    facility_id: l.facility_id,
                    amount: l.amount,
                })
                .collect();
            let operation =
                Operation::CapitalCall { fund_id: path.into_inner(), call_date, due_date, description, lines };
            super::proposals::propose(&state, &req, session, key, operation).await
        }
    })
    .await;
    match outcome {
        Ok(json) if four_eyes => proposed(&json),
        Ok(json) => done(&format!("/calls/{}", id_of(&json)), Done::Call),
        Err((form, status)) => refused(form_page(&session, req.path(), "Issue a capital call", vec![], form), status),
    }
}

#[get("/calls/{call_id}")]
async fn call_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
) -> PageResult {
    session.require(&[Role::Staff, Role::Auditor, Role::Admin])?;
    let call_id = parse_id("call_id", &path)?;
    let id = call_id.clone();
    let (call, notices) = state
        .db(move |conn| {
            let call = crate::storage::capital::get_call(conn, &id)?;
            let filter = crate::storage::capital::NoticeFilter { call_id: Some(id.clone()), ..Default::default() };
            let notices = crate::storage::capital::list_notices(conn, &filter, capital::today(), LIST_ROWS_MAX)?;
            Ok((call, notices))
        })
        .await?;
    let mut table =
        Table::new("Notices of this call", &["Investor", "Tranche", "#Called", "#Paid", "#Outstanding", "Status", ""]);
    for n in &notices {
        let action = if session.principal.role == Role::Staff && !n.outstanding.is_zero() {
            Cell::link("Record contribution", format!("/notices/{}/pay", n.id))
        } else {
            Cell::link("Notice", format!("/notices/{}", n.id))
        };
        table.row(vec![
            Cell::text(n.investor_name.clone()),
            Cell::text(n.tranche_name.clone()),
            Cell::money(n.amount),
            Cell::money(n.paid),
            Cell::money(n.outstanding),
            Cell::text(if n.late { format!("{} (late)", n.status) } else { n.status.to_string() }),
            action,
        ]);
    }
    let page = Page::new(
        session.layout(req.path()),
        phrase("page-capital-call-number", &[("number", call.call_number.to_string())]),
    )
    .subtitle(verbatim(call.description.clone()))
    .flash(Done::from_query(&req))
    .card(Card::new("Call").with(Section::Facts(vec![
        fact("Call date", call.call_date.to_string()),
        fact("Due date", call.due_date.to_string()),
        fact("Amount", eur(call.amount)),
        fund_fact(&call.fund_id),
    ])))
    .card(Card::new("Notices").with(Section::Table(table)));
    render(&page)
}

fn fund_fact(fund_id: &str) -> super::view::Fact {
    super::view::Fact { label: "Fund".into(), value: "Open the fund".into(), href: Some(format!("/funds/{fund_id}")) }
}

fn contribution_spec(session: &Session, notice_id: &str, outstanding: Cents) -> FormSpec {
    FormSpec::new(
        format!("/notices/{notice_id}/pay"),
        "Check",
        &session.csrf_token,
        vec![
            Field::new("amount", "Amount received (EUR)", FieldKind::Money).value(outstanding.to_string()),
            Field::new("value_date", "Value date", FieldKind::Date).value(today()),
        ],
    )
}

async fn notice_context(
    state: &AppState,
    notice_id: &str,
) -> PageResult<(crate::storage::capital::Notice, Vec<Section>)> {
    let id = notice_id.to_string();
    let notice = state.db(move |conn| crate::storage::capital::get_notice(conn, &id, capital::today())).await?;
    let facts = vec![
        fact("Investor", notice.investor_name.clone()),
        fact("Tranche", notice.tranche_name.clone()),
        fact("Called", eur(notice.amount)),
        fact("Paid", eur(notice.paid)),
        fact("Outstanding", eur(notice.outstanding)),
        fact("Due date", notice.due_date.to_string()),
    ];
    Ok((notice, vec![Section::Facts(facts)]))
}

#[get("/notices/{notice_id}/pay")]
async fn contribution_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
) -> PageResult {
    session.require(&[Role::Staff])?;
    let notice_id = parse_id("notice_id", &path)?;
    let (notice, context) = notice_context(&state, &notice_id).await?;
    let form = contribution_spec(&session, &notice_id, notice.outstanding);
    render(&form_page(&session, req.path(), "Record a contribution", context, form))
}

#[post("/notices/{notice_id}/pay")]
async fn contribution_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
    body: web::Bytes,
) -> PageResult {
    session.require(&[Role::Staff])?;
    let notice_id = parse_id("notice_id", &path)?;
    let form_data = session.read_form(&state, &body)?;
    let (notice, context) = notice_context(&state, &notice_id).await?;
    let page = FormPage { session: &session, req: &req, title: "Record a contribution", context };
    let dry_run = |input: capital::ContributionRequest| {
        let (state, actor, notice) = (state.clone(), session.principal.actor(), notice_id.clone());
        async move {
            let amount = capital::contribution_amount(&input)?;
            let today = capital::today();
            state
                .db(move |conn| {
                    crate::storage::write_tx(conn, |c| {
                        let pay = |c: &mut crate::storage::DbConnection| {
                            crate::storage::capital::record_contribution(
                                c,
                                &notice,
                                amount,
                                input.value_date,
                                &actor,
                                today,
                            )
                        };
                        crate::storage::proposals::would_post(c, pay)
                    })
                })
                .await
        }
    };
    let call = |body, key| {
        let path = web::Path::from(notice_id.clone());
        capital::pay_notice(state.clone(), req.clone(), session.principal.clone(), key, path, body)
    };
    let next = |_: &Value| format!("/calls/{}", notice.call_id);
    let form = contribution_spec(&session, &notice_id, notice.outstanding);
    page.check_then_post(&form_data, form, "Record contribution", dry_run, call, next, Done::Contribution).await
}

// ---- Deployments and valuations ------------------------------------------------------

async fn deployment_spec(state: &AppState, session: &Session, fund_id: &str) -> PageResult<FormSpec> {
    let facilities = state.db(structure::list_facilities).await?;
    Ok(FormSpec::new(
        format!("/funds/{fund_id}/deployments/new"),
        "Check",
        &session.csrf_token,
        vec![
            Field::new("facility_id", "Facility", FieldKind::Select).options(options(
                &facilities,
                |f| f.id.clone(),
                |f| format!("{} ({})", f.name, f.member_state),
            )),
            Field::new("kind", "Kind", FieldKind::Select)
                .options(vec![("equity".into(), "Equity".into()), ("grant".into(), "Grant".into())]),
            Field::new("amount", "Amount (EUR)", FieldKind::Money),
            Field::new("value_date", "Value date", FieldKind::Date).value(today()),
            Field::new("description", "Description", FieldKind::Text),
        ],
    ))
}

#[get("/funds/{fund_id}/deployments/new")]
async fn deployment_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
) -> PageResult {
    session.require(&[Role::Staff])?;
    let fund_id = parse_id("fund_id", &path)?;
    let form = deployment_spec(&state, &session, &fund_id).await?;
    render(&form_page(&session, req.path(), "Record a deployment", vec![], form))
}

#[post("/funds/{fund_id}/deployments/new")]
async fn deployment_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
    body: web::Bytes,
) -> PageResult {
    session.require(&[Role::Staff])?;
    let fund_id = parse_id("fund_id", &path)?;
    let form_data = session.read_form(&state, &body)?;
    let form = deployment_spec(&state, &session, &fund_id).await?;
    let page = FormPage { session: &session, req: &req, title: "Record a deployment", context: vec![] };
    let dry_run = |input: investments::DeploymentRequest| {
        let (state, principal, fund) = (state.clone(), session.principal.clone(), fund_id.clone());
        async move {
            let row = investments::deployment_row(&principal, &fund, &input)?;
            state
                .db(move |conn| {
                    crate::storage::write_tx(conn, |c| {
                        funds::get_fund(c, &fund)?;
                        let deploy =
                            |c: &mut crate::storage::DbConnection| crate::storage::investments::deploy(c, row.clone());
                        crate::storage::proposals::would_post(c, deploy)
                    })
                })
                .await
        }
    };
    let call = |body, key| {
        let path = web::Path::from(fund_id.clone());
        investments::deploy(state.clone(), req.clone(), session.principal.clone(), key, path, body)
    };
    let next = |_: &Value| format!("/funds/{fund_id}");
    page.check_then_post(&form_data, form, "Record deployment", dry_run, call, next, Done::Deployment).await
}

fn valuation_spec(session: &Session, fund_id: &str) -> FormSpec {
    FormSpec::new(
        format!("/funds/{fund_id}/valuations/new"),
        "Check",
        &session.csrf_token,
        vec![
            Field::new("as_of", "As of", FieldKind::Date).value(today()),
            Field::new("nav", "Net asset value (EUR)", FieldKind::Money),
            Field::new("description", "Description", FieldKind::Text),
        ],
    )
}

#[get("/funds/{fund_id}/valuations/new")]
async fn valuation_form(req: HttpRequest, session: Session, path: web::Path<String>) -> PageResult {
    session.require(&[Role::Staff])?;
    let fund_id = parse_id("fund_id", &path)?;
    render(&form_page(&session, req.path(), "Record a valuation", vec![], valuation_spec(&session, &fund_id)))
}

#[post("/funds/{fund_id}/valuations/new")]
async fn valuation_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
    body: web::Bytes,
) -> PageResult {
    session.require(&[Role::Staff])?;
    let fund_id = parse_id("fund_id", &path)?;
    let form_data = session.read_form(&state, &body)?;
    let page = FormPage { session: &session, req: &req, title: "Record a valuation", context: vec![] };
    let dry_run = |input: investments::ValuationRequest| {
        let (state, principal, fund) = (state.clone(), session.principal.clone(), fund_id.clone());
        async move {
            let row = investments::valuation_row(&principal, &fund, &input)?;
            state
                .db(move |conn| {
                    crate::storage::write_tx(conn, |c| {
                        funds::get_fund(c, &fund)?;
                        let revalue = |c: &mut crate::storage::DbConnection| {
                            crate::storage::investments::record_valuation(c, row.clone())
                        };
                        crate::storage::proposals::would_post(c, revalue)
                    })
                })
                .await
        }
    };
    let call = |body, key| {
        let path = web::Path::from(fund_id.clone());
        investments::record_valuation(state.clone(), req.clone(), session.principal.clone(), key, path, body)
    };
    let next = |_: &Value| format!("/funds/{fund_id}");
    let form = valuation_spec(&session, &fund_id);
    page.check_then_post(&form_data, form, "Record valuation", dry_run, call, next, Done::Valuation).await
}

// ---- Distributions: preview, then execute --------------------------------------------

/// The distribution form: preview, then execute (or, with four eyes on, propose).
fn distribution_spec(session: &Session, fund_id: &str, four_eyes: bool) -> FormSpec {
    let mut form = FormSpec::new(
        format!("/funds/{fund_id}/distributions/new"),
        "Preview",
        &session.csrf_token,
        vec![
            Field::new("cash", "Cash to distribute (EUR)", FieldKind::Money),
            Field::new("date", "Distribution date", FieldKind::Date).value(today()),
            Field::new("description", "Description", FieldKind::Text),
        ],
    );
    form.alternatives = if four_eyes {
        vec![("propose".into(), "Propose distribution".into())]
    } else {
        vec![("execute".into(), "Execute distribution".into())]
    };
    form
}

fn money_of(value: &Value, key: &str) -> String {
    let text = value.get(key).and_then(Value::as_str).unwrap_or("0.00");
    format!("EUR {}", super::view::group_thousands(text))
}

/// Every step of the waterfall and every investor's share, from the API's answer.
pub(super) fn allocation_sections(view: &Value) -> Vec<Section> {
    let allocation = view.get("allocation").cloned().unwrap_or(Value::Null);
    let mut steps = Table::new("Waterfall steps", &["Step", "Kind", "Description", "#Available", "#Owed", "#Paid"]);
    for step in allocation.get("steps").and_then(Value::as_array).into_iter().flatten() {
        steps.row(vec![
            Cell::num(step.get("index").map(Value::to_string).unwrap_or_default()),
            Cell::text(step.get("kind").and_then(Value::as_str).unwrap_or_default().replace('_', " ")),
            Cell::text(step.get("description").and_then(Value::as_str).unwrap_or_default()),
            Cell::num(money_of(step, "available")),
            Cell::num(money_of(step, "owed")),
            Cell::num(money_of(step, "paid")),
        ]);
    }
    let mut investors = Table::new(
        "Distribution by investor",
        &["Investor", "#Return of capital", "#Preferred return", "#Profit share", "#Total"],
    );
    for share in view.get("investors").and_then(Value::as_array).into_iter().flatten() {
        investors.row(vec![
            Cell::text(share.get("investor_name").and_then(Value::as_str).unwrap_or_default()),
            Cell::num(money_of(share, "capital")),
            Cell::num(money_of(share, "pref")),
            Cell::num(money_of(share, "profit")),
            Cell::num(money_of(share, "total")),
        ]);
    }
    vec![
        Section::Facts(vec![
            fact("Cash", money_of(&allocation, "cash")),
            fact("Distributed", money_of(&allocation, "distributed")),
            fact("Not distributable", money_of(&allocation, "remaining")),
        ]),
        Section::Table(steps),
        Section::Table(investors),
    ]
}

#[get("/funds/{fund_id}/distributions/new")]
async fn distribution_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
) -> PageResult {
    session.require(&[Role::Staff])?;
    let fund_id = parse_id("fund_id", &path)?;
    let context = vec![Section::Text(
        "Preview shows every step of the waterfall and each investor's share without recording anything.".into(),
    )];
    let form = distribution_spec(&session, &fund_id, state.settings.four_eyes);
    render(&form_page(&session, req.path(), "Distribute proceeds", context, form))
}

#[post("/funds/{fund_id}/distributions/new")]
async fn distribution_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
    body: web::Bytes,
) -> PageResult {
    session.require(&[Role::Staff])?;
    let fund_id = parse_id("fund_id", &path)?;
    let form_data = session.read_form(&state, &body)?;
    let four_eyes = state.settings.four_eyes;
    let intent = form_data.get("intent").map(str::to_string);
    let (execute, propose) = (intent.as_deref() == Some("execute"), intent.as_deref() == Some("propose") && four_eyes);
    let outcome = submit(&form_data, distribution_spec(&session, &fund_id, four_eyes), |body, key| {
        let path = web::Path::from(fund_id.clone());
        let (state, req, principal, session) = (state.clone(), req.clone(), session.principal.clone(), &session);
        async move {
            if propose {
                let waterfall::DistributionRequest { cash, date, description } = body.value;
                let operation = Operation::Distribution { fund_id: path.into_inner(), cash, date, description };
                super::proposals::propose(&state, &req, session, key, operation).await
            } else if execute {
                waterfall::execute(state, req, principal, key, path, body).await
            } else {
                waterfall::preview(state, principal, path, body).await
            }
        }
    })
    .await;
    match outcome {
        Ok(proposal) if propose => proposed(&proposal),
        Ok(_) if execute => done(&format!("/funds/{fund_id}"), Done::Distribution),
        Ok(view) => {
            // The same form again, filled in, so that "Execute" runs exactly what was previewed.
            let form = distribution_spec(&session, &fund_id, four_eyes).refill(&form_data);
            let mut card = Card::new("Preview");
            card.sections = allocation_sections(&view);
            let page = form_page(&session, req.path(), "Distribute proceeds", vec![], form).card(card);
            render(&page)
        }
        Err((form, status)) => refused(form_page(&session, req.path(), "Distribute proceeds", vec![], form), status),
    }
}
