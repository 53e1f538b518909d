//! Investor pages: the investor's own positions in each fund (committed, called, paid-in,
//! unfunded, distributed, NAV, multiples, XIRR), a chart of cash flows and NAV over time,
//! notices and statements. Every figure is filtered to the signed-in investor's own id.

use crate::domain::hours::Quarter;
use crate::i18n::verbatim;
use actix_web::{get, web, HttpRequest};
use chrono::{Datelike, NaiveDate};

use super::charts::{self, TimePoint};
use super::view::{eur, fact, link, Card, Cell, Link, Page, Section, Table};
use super::{render, PageResult, Session};
use crate::domain::money::Cents;
use crate::domain::roles::Role;
use crate::http::AppState;
use crate::storage::capital::{list_notices, NoticeFilter};
use crate::storage::commitments::{committed_on, list_commitments, CommitmentFilter};
use crate::storage::metrics::{fund_metrics, investor_history, HistoryPoint, Metrics};
use crate::storage::waterfall::{distribution_notices, DistributionNotice};
use crate::storage::{funds, structure};
use std::collections::{BTreeMap, HashMap};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(notices_page).service(documents_page);
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
    let mut commitments = list_commitments(conn, &filter, COMMITMENTS_READ_MAX)?;
    // The page speaks of today: an amendment that takes effect later does not count yet.
    let ids: Vec<&str> = commitments.iter().map(|c| c.id.as_str()).collect();
    let committed_today = committed_on(conn, &ids, today)?;
    for c in &mut commitments {
        c.committed = committed_today.get(&c.id).copied().unwrap_or(Cents::ZERO);
        c.unfunded = c.committed.checked_sub(c.called).unwrap_or(Cents::ZERO).max(Cents::ZERO);
    }
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
        let (metrics, history) = match figures(conn, &fund_id, investor, today) {
            Ok(figures) => figures,
            // A fund without waterfall terms has no NAV by liquidation yet: its figures wait,
            // the other funds' show.
            Err(error) if error.status() < 500 => (None, Vec::new()),
            Err(error) => return Err(error),
        };
        positions.push(Position {
            committed: Cents::sum(mine.iter().map(|c| c.committed))?,
            called: Cents::sum(mine.iter().map(|c| c.called))?,
            paid_in: Cents::sum(mine.iter().map(|c| c.paid_in))?,
            unfunded: Cents::sum(mine.iter().map(|c| c.unfunded))?,
            history,
            fund,
            metrics,
            by_tranche,
        });
    }
    Ok(positions)
}

/// The investor's metrics and history in a fund, by hypothetical liquidation.
fn figures(
    conn: &mut crate::storage::DbConnection,
    fund_id: &str,
    investor: &str,
    today: chrono::NaiveDate,
) -> crate::error::AppResult<(Option<Metrics>, Vec<HistoryPoint>)> {
    let metrics = fund_metrics(conn, fund_id, today, Some(investor))?.investors.into_iter().next();
    Ok((metrics, investor_history(conn, fund_id, investor, today)?))
}

fn history_chart(fund_name: &str, history: &[HistoryPoint]) -> Section {
    let points: Vec<TimePoint> = history
        .iter()
        .map(|p| TimePoint {
            date: p.date,
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

/// Statements for the periods investors ask for most; the statement page chooses any other.
fn statement_links(fund: &funds::Fund, investor: &str, today: NaiveDate) -> Vec<Link> {
    let quarter = Quarter::of(today);
    let last_quarter = Quarter::of(quarter.first_day().pred_opt().unwrap_or(today));
    let year_start = today.with_ordinal(1).unwrap_or(today);
    let statement = |from: NaiveDate, to: NaiveDate| format!("/statements/{}/{investor}?from={from}&to={to}", fund.id);
    vec![
        link("Statement, quarter to date", statement(quarter.first_day(), today)),
        link("Statement, last quarter", statement(last_quarter.first_day(), last_quarter.last_day())),
        link("Statement, year to date", statement(year_start, today)),
        link("Statement since inception", statement(fund.inception_date.min(today), today)),
    ]
}

pub async fn dashboard(state: &AppState, req: &HttpRequest, session: &Session) -> PageResult {
    let investor = session.principal.subject.clone();
    let id = investor.clone();
    let positions = state.read_db(move |conn| load_positions(conn, &id)).await?;
    let mut page = Page::new(session.layout("/"), "Your positions")
        .subtitle("Figures as of today; NAV by hypothetical liquidation through each fund's waterfall.")
        .flash(super::Done::from_query(req));
    if positions.is_empty() {
        page = page.card(Card::new("No positions").text("You have no commitment in any fund yet."));
    }
    let today = crate::http::api::capital::today();
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
                fact("XIRR", super::view::xirr_words(&m.xirr)),
            ]);
        }
        let card = Card::new(verbatim(p.fund.name.clone()))
            .with(Section::Facts(facts))
            .with(Section::Table(p.by_tranche))
            .with(history_chart(&p.fund.name, &p.history))
            .with(Section::Table(history_table(&p.history)))
            .with(Section::Links(statement_links(&p.fund, &investor, today)))
            .with(Section::Links(vec![
                link(
                    "Statement as PDF",
                    format!(
                        "/api/v1/funds/{}/investors/{investor}/statement/pdf?lang={}",
                        p.fund.id,
                        crate::i18n::Lang::current().tag()
                    ),
                ),
                link("Notices", "/notices"),
                link("Documents", "/documents"),
            ]));
        page = page.card(card);
    }
    render(&page)
}

#[get("/notices")]
async fn notices_page(state: web::Data<AppState>, req: HttpRequest, session: Session) -> PageResult {
    session.require(&[Role::Investor, Role::Staff, Role::Auditor, Role::Admin])?;
    let scope = session.principal.party_scope().map(str::to_string);
    let (notices, distributions, fund_names) = state
        .db(move |conn| {
            let filter = NoticeFilter { source_id: scope.clone(), ..Default::default() };
            let notices = list_notices(conn, &filter, crate::http::api::capital::today(), NOTICES_SHOWN_MAX)?;
            let mut distributions = distribution_notices(conn, None, scope.as_deref())?;
            distributions.reverse();
            distributions.truncate(NOTICES_SHOWN_MAX as usize);
            let fund_names: HashMap<String, String> =
                funds::list_funds(conn)?.into_iter().map(|fund| (fund.id, fund.name)).collect();
            Ok((notices, distributions, fund_names))
        })
        .await?;
    let fund_of = |fund_id: &str| Cell::text(fund_names.get(fund_id).cloned().unwrap_or_else(|| fund_id.to_string()));
    let lang = crate::i18n::Lang::current().tag();
    let mut table = Table::new(
        "Capital-call notices",
        &["Notice", "Fund", "Tranche", "Call date", "Due", "#Amount", "#Outstanding", "Status", "Document"],
    );
    for n in &notices {
        table.row(vec![
            Cell::link(format!("Call {} · {}", n.call_number, n.investor_name), format!("/notices/{}", n.id)),
            fund_of(&n.fund_id),
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
            "Fund",
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
            fund_of(&d.fund_id),
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
    let received = distributions_received(&distributions, &fund_names)?;
    render(
        &Page::new(session.layout(req.path()), "Notices")
            .card(Card::new("Capital calls").with(Section::Table(table)))
            .card(
                Card::new("Distributions")
                    .with(Section::Table(received))
                    .with(Section::Table(paid_out.empty("No distribution yet."))),
            ),
    )
}

/// What the distributions shown paid, by fund and investor, split as the waterfall split them.
fn distributions_received(
    distributions: &[DistributionNotice],
    fund_names: &HashMap<String, String>,
) -> crate::error::AppResult<Table> {
    // Per (fund, investor): how many distributions, and capital, pref, profit and total paid.
    let mut totals: BTreeMap<(String, String), (usize, [Cents; 4])> = BTreeMap::new();
    for d in distributions {
        let fund = fund_names.get(&d.fund_id).cloned().unwrap_or_else(|| d.fund_id.clone());
        let (count, sums) = totals.entry((fund, d.share.investor_name.clone())).or_insert((0, [Cents::ZERO; 4]));
        *count += 1;
        for (sum, part) in sums.iter_mut().zip([d.share.capital, d.share.pref, d.share.profit, d.share.total]) {
            *sum = sum.checked_add(part)?;
        }
    }
    let mut table = Table::new(
        "Distributions received in all",
        &["Fund", "Investor", "#Distributions", "#Return of capital", "#Preferred return", "#Profit share", "#Total"],
    );
    for ((fund, investor), (count, sums)) in totals {
        let mut cells = vec![Cell::text(fund), Cell::text(investor), Cell::num(count.to_string())];
        cells.extend(sums.into_iter().map(Cell::money));
        table.row(cells);
    }
    Ok(table.empty("No distribution yet."))
}

/// Quarterly statements the documents list offers per fund at most (ten years).
const QUARTERLY_STATEMENTS_MAX: usize = 40;

/// One document of the investor's list.
struct Document {
    date: NaiveDate,
    kind: &'static str,
    fund: String,
    title: String,
    href: String,
}

/// Every document the investor has: call and distribution notices, and a statement for each
/// quarter ended since the fund's inception, newest first.
#[get("/documents")]
async fn documents_page(state: web::Data<AppState>, req: HttpRequest, session: Session) -> PageResult {
    session.require(&[Role::Investor])?;
    let investor = session.principal.subject.clone();
    let lang = crate::i18n::Lang::current().tag();
    let today = crate::http::api::capital::today();
    let id = investor.clone();
    let (notices, distributions, funds) = state
        .db(move |conn| {
            let filter = NoticeFilter { source_id: Some(id.clone()), ..Default::default() };
            let notices = list_notices(conn, &filter, today, NOTICES_SHOWN_MAX)?;
            let distributions = distribution_notices(conn, None, Some(&id))?;
            let commitments = list_commitments(
                conn,
                &CommitmentFilter { source_id: Some(id.clone()), ..Default::default() },
                COMMITMENTS_READ_MAX,
            )?;
            let mut fund_ids: Vec<String> = commitments.into_iter().map(|c| c.fund_id).collect();
            fund_ids.sort();
            fund_ids.dedup();
            let funds = fund_ids.iter().map(|fund_id| funds::get_fund(conn, fund_id)).collect::<Result<Vec<_>, _>>()?;
            Ok((notices, distributions, funds))
        })
        .await?;
    let fund_name =
        |fund_id: &str| funds.iter().find(|f| f.id == fund_id).map_or(fund_id.to_string(), |f| f.name.clone());
    let mut documents: Vec<Document> = Vec::new();
    for n in &notices {
        documents.push(Document {
            date: n.call_date,
            kind: "Capital-call notice",
            fund: fund_name(&n.fund_id),
            title: format!("Call {} · {}", n.call_number, n.tranche_name),
            href: format!("/api/v1/notices/{}/pdf?lang={lang}", n.id),
        });
    }
    for d in &distributions {
        documents.push(Document {
            date: d.date,
            kind: "Distribution notice",
            fund: fund_name(&d.fund_id),
            title: d.description.clone(),
            href: format!(
                "/api/v1/distributions/{}/notices/{}/pdf?lang={lang}",
                d.distribution_id, d.share.investor_id
            ),
        });
    }
    for fund in &funds {
        for quarter in quarters_ended(fund.inception_date, today) {
            documents.push(Document {
                date: quarter.last_day(),
                kind: "Quarterly statement",
                fund: fund.name.clone(),
                title: quarter.to_string(),
                href: format!(
                    "/api/v1/funds/{}/investors/{investor}/statement/pdf?to={}&lang={lang}",
                    fund.id,
                    quarter.last_day()
                ),
            });
        }
    }
    documents.sort_by(|a, b| b.date.cmp(&a.date).then_with(|| a.kind.cmp(b.kind)));
    let mut table = Table::new("Your documents, newest first", &["Date", "Document", "Fund", "Reference", "File"]);
    for d in documents {
        table.row(vec![
            Cell::text(d.date.to_string()),
            Cell::text(crate::i18n::Lang::current().label(d.kind)),
            Cell::text(d.fund),
            Cell::text(d.title),
            Cell::link("PDF", d.href),
        ]);
    }
    render(
        &Page::new(session.layout(req.path()), "Documents")
            .subtitle("Notices and quarterly statements as PDF, in the language of this page.")
            .card(Card::new("Documents").with(Section::Table(table.empty("No document yet.")))),
    )
}

/// The quarters that ended after `inception` and on or before `today`, the newest
/// [`QUARTERLY_STATEMENTS_MAX`] of them, newest first.
fn quarters_ended(inception: NaiveDate, today: NaiveDate) -> Vec<Quarter> {
    let mut quarters = Vec::new();
    let mut quarter = Quarter::of(today);
    // The current quarter has not ended unless today is its last day.
    if quarter.last_day() > today {
        quarter = Quarter::of(quarter.first_day().pred_opt().unwrap_or(today));
    }
    while quarter.last_day() >= inception && quarters.len() < QUARTERLY_STATEMENTS_MAX {
        quarters.push(quarter);
        match quarter.first_day().pred_opt() {
            Some(day) => quarter = Quarter::of(day),
            None => break,
        }
    }
    quarters
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn statements_are_offered_for_each_quarter_ended_since_inception() {
        let ends = |inception: &str, today: &str| -> Vec<String> {
            quarters_ended(day(inception), day(today)).iter().map(|q| q.last_day().to_string()).collect()
        };
        assert_eq!(ends("2025-05-10", "2026-02-01"), ["2025-12-31", "2025-09-30", "2025-06-30"]);
        assert_eq!(ends("2026-01-01", "2026-03-31"), ["2026-03-31"]);
        assert!(ends("2026-01-01", "2026-03-30").is_empty());
        assert_eq!(quarters_ended(day("1990-01-01"), day("2026-11-26")).len(), QUARTERLY_STATEMENTS_MAX);
    }
}
