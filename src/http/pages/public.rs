//! The public pages, read without signing in (docs/transparency.md): every fund's money by
//! programme and Member State, what it deployed, where the compute-grant pool's money came
//! from and went, the state-aid register, the latest checkpoint and how to check it, and the
//! open data behind each table.

use crate::i18n::{phrase, verbatim};
use actix_web::{get, web};

use super::view::{eur, fact, gpu_hours, link, Card, Cell, Layout, Page, Section, Table};
use super::{render, PageResult};
use crate::domain::money::Cents;
use crate::http::api::transparency::read_report;
use crate::http::extract::parse_id;
use crate::http::AppState;
use crate::storage::read_tx;
use crate::storage::transparency::{
    self, CapitalTotals, OpenDataTable, TransparencyReport, LICENCE_NOTICE, LICENCE_URL,
};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(index).service(fund_page);
}

/// A programme as people name it.
fn programme_name(code: &str) -> String {
    super::view::words("programme", code)
}

fn place_name(code: Option<&str>) -> String {
    match code {
        Some("EU") => "EU budget".into(),
        Some("other") => "Other countries".into(),
        Some("all") => "All countries".into(),
        Some(code) => code.to_string(),
        None => "—".into(),
    }
}

fn leverage_text(leverage: &Option<rust_decimal::Decimal>) -> String {
    match leverage {
        Some(ratio) => format!("EUR {ratio} private per public euro"),
        None => "no public money yet".into(),
    }
}

/// Private money, or why it is not shown: one or two investors' money is theirs.
fn private_text(amount: Option<Cents>) -> String {
    amount.map_or_else(|| WITHHELD.to_string(), eur)
}

const WITHHELD: &str = "withheld: fewer than three private investors";

fn totals_facts(totals: &CapitalTotals) -> Section {
    let leverage = |ratio: &Option<rust_decimal::Decimal>| match totals.private_committed {
        None => WITHHELD.to_string(),
        Some(_) => leverage_text(ratio),
    };
    Section::Facts(vec![
        fact("Public money committed", eur(totals.public_committed)),
        fact("Private money committed", private_text(totals.private_committed)),
        fact("Leverage, committed", leverage(&totals.leverage_committed)),
        fact("Public money paid in", eur(totals.public_paid_in)),
        fact("Private money paid in", private_text(totals.private_paid_in)),
        fact("Leverage, paid in", leverage(&totals.leverage_paid_in)),
    ])
}

/// The latest checkpoint and the steps to check it without trusting this server.
fn checkpoint_card(report: Option<&transparency::PublicCheckpoint>) -> Card {
    let mut card = Card::new("Check the books yourself");
    let Some(latest) = report else {
        return card.text("No checkpoint has been signed yet.");
    };
    card = card.with(Section::Facts(vec![
        fact("Entries covered", latest.checkpoint.tree_size.to_string()),
        fact("Root hash (SHA-256, RFC 6962)", latest.checkpoint.root_hash.clone()),
        fact("Signed at", latest.checkpoint.issued_at.format("%Y-%m-%d %H:%M UTC").to_string()),
        fact("Verifier key", latest.verifier_key.clone().unwrap_or_else(|| "not published".into())),
    ]));
    card.text(
        "Every journal entry is a leaf of a Merkle tree; each checkpoint signs the tree's size and root with \
         Ed25519. Keep a copy of the checkpoint outside this server. Later, a consistency proof shows that the \
         journal still extends it: no entry was removed or changed since.",
    )
    .text(
        "1. Get the verifier key from somewhere other than this server (a publication of the fund, or a copy you \
         kept): a key read from this server proves nothing about it; /api/v1/transparency/key is there to compare. \
         2. Save the checkpoint (GET /api/v1/transparency/checkpoint) and check its signature with that key. \
         3. Later, save a newer checkpoint, check its signature, and ask for the consistency proof between the two \
         sizes (/api/v1/transparency/proofs/consistency): check it with any RFC 6962 implementation against the two \
         signed roots, never against the roots the answer states. 4. To check an entry, ask for its inclusion proof \
         in a signed checkpoint's tree (/api/v1/transparency/proofs/inclusion) and check it against that \
         checkpoint's signed root. With access to the database, investai verify --checkpoint checkpoint.txt --key \
         KEY checks the whole journal against your copy.",
    )
    .with(Section::Links(vec![
        link("Latest checkpoint", "/api/v1/transparency/checkpoint"),
        link("Verifier key", "/api/v1/transparency/key"),
        link("All checkpoints", "/api/v1/transparency/checkpoints"),
    ]))
}

#[get("/transparency")]
async fn index(state: web::Data<AppState>) -> PageResult {
    let key = state.checkpoint_verifier_key.clone();
    let (lines, checkpoint) = state
        .db(move |conn| {
            read_tx(conn, |c| Ok((transparency::fund_lines(c)?, transparency::public_checkpoint(c, key.as_deref())?)))
        })
        .await?;
    let mut table = Table::new(
        "Money committed and paid in, by fund",
        &["Fund", "#Public committed", "#Private committed", "Leverage", "#Public paid in", "#Private paid in"],
    );
    for line in &lines {
        table.row(vec![
            Cell::link(line.fund_name.clone(), format!("/transparency/funds/{}", line.fund_id)),
            Cell::money(line.totals.public_committed),
            line.totals.private_committed.map_or_else(|| Cell::text(WITHHELD), Cell::money),
            Cell::num(line.totals.leverage_committed.map(|r| format!("{r} : 1")).unwrap_or_else(|| "—".into())),
            Cell::money(line.totals.public_paid_in),
            line.totals.private_paid_in.map_or_else(|| Cell::text(WITHHELD), Cell::money),
        ]);
    }
    let page = Page::new(Layout::public("/transparency", crate::i18n::Lang::current()), "InvestAI in public figures")
        .subtitle("What the public and private money of the fund is, what it bought, and how to check the books without trusting us.")
        .card(Card::new("Funds").with(Section::Table(table.empty("No fund yet."))))
        .card(checkpoint_card(checkpoint.as_ref()))
        .card(open_data_card(None));
    render(&page)
}

fn open_data_card(report: Option<&TransparencyReport>) -> Card {
    let mut links = Vec::new();
    match report {
        Some(report) => {
            links.push(link("All figures (JSON)", format!("/api/v1/transparency/funds/{}", report.fund_id)));
            for table in OpenDataTable::ALL {
                links.push(link(
                    verbatim(format!("{}.csv", table.name())),
                    format!("/api/v1/transparency/funds/{}/open-data/{}.csv", report.fund_id, table.name()),
                ));
            }
        }
        None => links.push(link("Funds (JSON)", "/api/v1/transparency/funds")),
    }
    Card::new("Open data")
        .text(LICENCE_NOTICE)
        .text(phrase("page-licence", &[("url", LICENCE_URL.to_string())]))
        .with(Section::Links(links))
}

fn capital_card(report: &TransparencyReport) -> Card {
    let mut table = Table::new(
        "Committed and paid in, by programme and Member State",
        &["Money", "Programme", "Member State", "#Sources", "#Committed", "#Paid in"],
    );
    for row in &report.capital {
        table.row(vec![
            Cell::text(row.money.clone()),
            Cell::text(programme_name(&row.programme)),
            Cell::text(place_name(Some(&row.member_state))),
            Cell::num(row.sources.to_string()),
            Cell::money(row.committed),
            Cell::money(row.paid_in),
        ]);
    }
    Card::new("Money committed and paid in")
        .with(totals_facts(&report.capital_totals))
        .with(Section::Table(table.empty("No commitments yet.")))
        .text(phrase(
            "page-private-investors-by-country",
            &[("count", transparency::PRIVATE_COUNTRY_INVESTORS_MIN.to_string())],
        ))
}

fn facilities_card(report: &TransparencyReport) -> Card {
    let mut table = Table::new(
        "Capital deployed per facility",
        &["Facility", "Kind", "Member State", "#Deployed", "#Cost returned"],
    );
    for row in &report.facilities {
        table.row(vec![
            Cell::text(row.facility.clone()),
            Cell::text(row.kind.replace('_', " ")),
            Cell::text(row.member_state.clone()),
            Cell::money(row.deployed),
            Cell::money(row.cost_returned),
        ]);
    }
    Card::new("Capital deployed").with(Section::Table(table.empty("Nothing deployed yet.")))
}

fn pool_card(report: &TransparencyReport) -> PageResult<Card> {
    let pool = &report.pool;
    let facts = Section::Facts(vec![
        fact("Filled", eur(pool.filled)),
        fact("Committed to grant calls", eur(pool.committed_to_calls)),
        fact("Awarded to SMEs", eur(pool.awarded)),
        fact("Used (GPU-hours paid)", eur(pool.used)),
        fact("Lapsed and returned", eur(pool.lapsed)),
        fact("GPU-hours used", gpu_hours(pool.gpu_hours_used)),
        fact("GPU-hours lapsed", gpu_hours(pool.gpu_hours_lapsed)),
        fact("Not yet committed", eur(pool.available)),
    ]);
    let mut by_source = Table::new(
        "Where the pool's money came from",
        &["Programme", "Member State", "#Reserved", "#Awarded", "#Used", "#Returned", "#GPU-hours used"],
    );
    for row in &report.grant_attribution.by_programme_and_member_state {
        let f = &row.figures;
        by_source.row(vec![
            Cell::text(programme_name(&row.programme)),
            Cell::text(place_name(row.member_state.as_deref())),
            Cell::money(f.reserved.checked_add(f.topped_up).map_err(crate::error::AppError::from)?),
            Cell::money(f.awards.awarded),
            Cell::money(f.awards.used),
            Cell::money(f.awards.returned),
            Cell::hours(f.awards.gpu_hours_used),
        ]);
    }
    let mut by_category = Table::new(
        "Awards by programme and SME category",
        &["Programme", "Member State", "SME category", "#Awarded", "#Used", "#GPU-hours used", "#GPU-hours lapsed"],
    );
    for row in &report.grant_attribution.by_sme_category {
        let f = &row.figures;
        by_category.row(vec![
            Cell::text(programme_name(&row.programme)),
            Cell::text(place_name(row.member_state.as_deref())),
            Cell::text(row.sme_category.clone()),
            Cell::money(f.awarded),
            Cell::money(f.used),
            Cell::hours(f.gpu_hours_used),
            Cell::hours(f.gpu_hours_lapsed),
        ]);
    }
    Ok(Card::new("Compute grants for SMEs")
        .with(facts)
        .text(
            "Each reserve is attributed to the investors pro rata to what they had paid in on its date; every call, \
             award and GPU-hour draws on those shares pro rata, exact to the cent.",
        )
        .with(Section::Table(by_source.empty("The pool has received nothing yet.")))
        .with(Section::Table(by_category.empty("No awards yet."))))
}

fn register_card(report: &TransparencyReport) -> Card {
    let mut table = Table::new(
        "Every de minimis award, and GBER awards above EUR 100,000",
        &[
            "Beneficiary",
            "Identifier",
            "SME category",
            "Region (NUTS 2)",
            "Sector (NACE)",
            "Objective",
            "Aid measure",
            "Granted",
            "#Aid element",
        ],
    );
    for record in &report.state_aid_register {
        table.row(vec![
            Cell::text(format!("{} ({})", record.beneficiary_name, record.country)),
            Cell::text(record.beneficiary_identifier.clone()),
            Cell::text(record.sme_category.clone()),
            Cell::text(record.region_nuts2.clone().unwrap_or_else(|| "not recorded".into())),
            Cell::text(record.sector_nace.clone().unwrap_or_else(|| "not recorded".into())),
            Cell::text(record.objective.clone()),
            Cell::text(record.aid_measure_reference.clone().unwrap_or_else(|| record.aid_measure_title.clone())),
            Cell::text(record.date_of_granting.to_string()),
            Cell::money(record.aid_element_eur),
        ]);
    }
    Card::new("State-aid register")
        .with(Section::Text(
            "In the fields of the Commission's Transparency Award Module. The whole register is open data: /api/v1/grants/register (JSON) and /api/v1/grants/register.csv.".into(),
        ))
        .with(Section::Table(table.empty("No award to publish.")))
}

#[get("/transparency/funds/{fund_id}")]
async fn fund_page(state: web::Data<AppState>, path: web::Path<String>) -> PageResult {
    let fund_id = parse_id("fund_id", &path.into_inner())?;
    let report = read_report(&state, fund_id).await?;
    let page =
        Page::new(Layout::public("/transparency", crate::i18n::Lang::current()), verbatim(report.fund_name.clone()))
            .subtitle(phrase(
                "page-public-figures-through",
                &[("number", report.grant_attribution.through_sequence.to_string())],
            ))
            .card(capital_card(&report))
            .card(facilities_card(&report))
            .card(pool_card(&report)?)
            .card(super::state_aid::aid_granted_card(&report.state_aid_granted))
            .card(register_card(&report))
            .card(checkpoint_card(report.checkpoint.as_ref()))
            .card(open_data_card(Some(&report)));
    render(&page)
}
