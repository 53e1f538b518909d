//! Investor pages: the investor's own positions in each fund (committed, called, paid-in,
//! unfunded, distributed, NAV, multiples, XIRR), a chart of cash flows and NAV over time,
//! notices and statements. Every figure is filtered to the signed-in investor's own id.

use crate::i18n::verbatim;
use actix_web::{get, web, HttpRequest};
use chrono::Datelike;

use super::charts::{self, TimePoint};
use super::view::{eur, fact, link, Card, Cell, Page, Section, Table};
use super::{render, PageResult, Session};
use crate::domain::money::Cents;
use crate::domain::roles::Role;
use crate::http::AppState;
use crate::storage::capital::{list_notices, NoticeFilter};
use crate::storage::commitments::{list_commitments, CommitmentFilter};
use crate::storage::metrics::{fund_metrics, investor_history, HistoryPoint, Metrics};
use crate::storage::waterfall::distribution_notices;
use crate::storage::{funds, structure};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(notices_page);
}

/// Notices an investor's list shows at most.
const NOTICES_SHOWN_MAX: i64 = 500;
/// Commitments of one investor read at most.
const COMMITMENTS_READ_MAX: i64 = 500;

fn ratio(value: Option<rust_decimal::Decimal>) -> String {
    value.map_or("n/a".into(), super::view::multiple)
}

/// One fund as the investor sees it.
struct Position {
    fund: funds::Fund,
    committed: Cents,
    called: Cents,
    paid_in: Cents,
    unfunded: Cents,
    metrics: Option<Metrics>,
    by_tranche: Table,
    history: Vec<HistoryPoint>,
}

fn load_positions(conn: &mut crate::storage::DbConnection, investor: &str) -> crate::error::AppResult<Vec<Position>> {
    let today = crate::http::api::capital::today();
    let filter = CommitmentFilter { source_id: Some(investor.to_string()), ..Default::default() };
    let commitments = list_commitments(conn, &filter, COMMITMENTS_READ_MAX)?;
    let mut fund_ids: Vec<String> = commitments.iter().map(|c| c.fund_id.clone()).collect();
    fund_ids.sort();
    fund_ids.dedup();
    let mut positions = Vec::new();
    for fund_id in fund_ids {
        let fund = funds::get_fund(conn, &fund_id)?;
        let tranches = structure::list_tranches(conn, &fund_id)?;
        let mine: Vec<_> = commitments.iter().filter(|c| c.fund_id == fund_id).collect();
        let mut by_tranche =
            Table::new("Your commitments by tranche", &["Tranche", "#Committed", "#Called", "#Paid-in", "#Unfunded"]);
        for c in &mine {
            let name = tranches.iter().find(|t| t.id == c.tranche_id).map_or("?".to_string(), |t| t.name.clone());
            by_tranche.row(vec![
                Cell::text(name),
                Cell::money(c.committed),
                Cell::money(c.called),
                Cell::money(c.paid_in),
                Cell::money(c.unfunded),
            ]);
        }
        let metrics = fund_metrics(conn, &fund_id, today, Some(investor))?.investors.into_iter().next();
        positions.push(Position {
            committed: Cents::sum(mine.iter().map(|c| c.committed))?,
            called: Cents::sum(mine.iter().map(|c| c.called))?,
            paid_in: Cents::sum(mine.iter().map(|c| c.paid_in))?,
            unfunded: Cents::sum(mine.iter().map(|c| c.unfunded))?,
            history: investor_history(conn, &fund_id, investor, today)?,
            fund,
            metrics,
            by_tranche,
        });
    }
    Ok(positions)
}

fn history_chart(fund_name: &str, history: &[HistoryPoint]) -> Section {
    let points: Vec<TimePoint> = history
        .iter()
        .map(|p| TimePoint {
            label: p.date.to_string(),
            flow: p.distributed.get().saturating_sub(p.contributed.get()),
            level: p.nav.get(),
        })
        .collect();
    Section::Chart(charts::flows_and_level(
        "flows",
        &crate::i18n::phrase("page-cash-flows-of", &[("fund", fund_name.to_string())]),
        "Contributions (down) and distributions (up) on each date, and the value of your positions on that date (line).",
        ["Distributions", "Contributions", "NAV"],
        &points,
        |cents| eur(Cents::new(cents)),
    ))
}

fn history_table(history: &[HistoryPoint]) -> Table {
    let mut table = Table::new("Cash flows and NAV by date", &["Date", "#Contributed", "#Distributed", "#NAV"]);
    for p in history {
        table.row(vec![
            Cell::text(p.date.to_string()),
            Cell::money(p.contributed),
            Cell::money(p.distributed),
            Cell::money(p.nav),
        ]);
    }
    table
}

pub async fn dashboard(state: &AppState, req: &HttpRequest, session: &Session) -> PageResult {
    let investor = session.principal.subject.clone();
    let id = investor.clone();
    let positions = state.db(move |conn| load_positions(conn, &id)).await?;
    let mut page = Page::new(session.layout("/"), "Your positions")
        .subtitle("Figures as of today; NAV by hypothetical liquidation through each fund's waterfall.")
        .flash(super::Done::from_query(req));
    if positions.is_empty() {
        page = page.card(Card::new("No positions").text("You have no commitment in any fund yet."));
    }
    let year_start = crate::http::api::capital::today().with_ordinal(1).unwrap_or_default();
    for p in positions {
        let mut facts = vec![
            fact("Committed", eur(p.committed)),
            fact("Called", eur(p.called)),
            fact("Paid-in", eur(p.paid_in)),
            fact("Unfunded", eur(p.unfunded)),
        ];
        if let Some(m) = &p.metrics {
            facts.extend([
                fact("Distributed", eur(m.distributed)),
                fact("NAV", eur(m.nav)),
                fact("DPI", ratio(m.multiples.dpi)),
                fact("RVPI", ratio(m.multiples.rvpi)),
                fact("TVPI", ratio(m.multiples.tvpi)),
                fact("XIRR", m.xirr.rate().map_or("n/a".into(), |r| format!("{:.2}%", r * 100.0))),
            ]);
        }
        let card = Card::new(verbatim(p.fund.name.clone()))
            .with(Section::Facts(facts))
            .with(Section::Table(p.by_tranche))
            .with(history_chart(&p.fund.name, &p.history))
            .with(Section::Table(history_table(&p.history)))
            .with(Section::Links(vec![
                link("Statement, year to date", format!("/statements/{}/{}?from={year_start}", p.fund.id, investor)),
                link(
                    "Statement as PDF",
                    format!(
                        "/api/v1/funds/{}/investors/{investor}/statement/pdf?lang={}",
                        p.fund.id,
                        crate::i18n::Lang::current().tag()
                    ),
                ),
                link("Notices", "/notices"),
            ]));
        page = page.card(card);
    }
    render(&page)
}

#[get("/notices")]
async fn notices_page(state: web::Data<AppState>, req: HttpRequest, session: Session) -> PageResult {
    session.require(&[Role::Investor, Role::Staff, Role::Auditor, Role::Admin])?;
    let scope = session.principal.party_scope().map(str::to_string);
    let (notices, distributions) = state
        .db(move |conn| {
            let filter = NoticeFilter { source_id: scope.clone(), ..Default::default() };
            let notices = list_notices(conn, &filter, crate::http::api::capital::today(), NOTICES_SHOWN_MAX)?;
            let mut distributions = distribution_notices(conn, None, scope.as_deref())?;
            distributions.reverse();
            distributions.truncate(NOTICES_SHOWN_MAX as usize);
            Ok((notices, distributions))
        })
        .await?;
    let lang = crate::i18n::Lang::current().tag();
    let mut table = Table::new(
        "Capital-call notices",
        &["Notice", "Tranche", "Call date", "Due", "#Amount", "#Outstanding", "Status", "Document"],
    );
    for n in &notices {
        table.row(vec![
            Cell::link(format!("Call {} · {}", n.call_number, n.investor_name), format!("/notices/{}", n.id)),
            Cell::text(n.tranche_name.clone()),
            Cell::text(n.call_date.to_string()),
            Cell::text(n.due_date.to_string()),
            Cell::money(n.amount),
            Cell::money(n.outstanding),
            Cell::text(if n.late {
                format!("{} ({})", super::view::words("status", n.status), super::view::words("status", "late"))
            } else {
                super::view::words("status", n.status)
            }),
            Cell::link("PDF", format!("/api/v1/notices/{}/pdf?lang={lang}", n.id)),
        ]);
    }
    let mut paid_out = Table::new(
        "Distribution notices, newest first",
        &[
            "Distribution",
            "Investor",
            "Date",
            "#Return of capital",
            "#Preferred return",
            "#Profit share",
            "#Total",
            "Document",
        ],
    );
    for d in &distributions {
        paid_out.row(vec![
            Cell::text(d.description.clone()),
            Cell::text(d.share.investor_name.clone()),
            Cell::text(d.date.to_string()),
            Cell::money(d.share.capital),
            Cell::money(d.share.pref),
            Cell::money(d.share.profit),
            Cell::money(d.share.total),
            Cell::link(
                "PDF",
                format!("/api/v1/distributions/{}/notices/{}/pdf?lang={lang}", d.distribution_id, d.share.investor_id),
            ),
        ]);
    }
    render(
        &Page::new(session.layout(req.path()), "Notices")
            .card(Card::new("Capital calls").with(Section::Table(table)))
            .card(Card::new("Distributions").with(Section::Table(paid_out.empty("No distribution yet.")))),
    )
}
