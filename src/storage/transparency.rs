//! The public figures of a fund (docs/transparency.md): committed and paid-in money by programme
//! and Member State, leverage, capital deployed per facility, the compute-grant pool and where
//! its money came from, the state-aid register and the latest checkpoint. Read by anyone, so
//! nothing here names a private investor or shows an SME's non-public data.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::attribution::{grant_attribution, GrantAttribution};
use super::funds::get_fund;
use super::merkle::CheckpointRow;
use super::register::{aid_granted, register_of, AidGranted, RegisterRecord, REGISTER_COLUMNS};
use super::schema::{
    capital_calls, commitments, contributions, deployments, facilities, journal_entries, notices, proceeds, sources,
};
use super::DbConnection;
use crate::domain::export::csv_text;
use crate::domain::hours::GpuHours;
use crate::domain::money::Cents;
use crate::error::AppResult;

/// Fewest private investors of one country for their money to be shown under that country;
/// the money of countries with fewer is shown together as `other`, so no row is one investor's.
pub const PRIVATE_COUNTRY_INVESTORS_MIN: usize = 3;

/// The licence the open data is published under.
pub const LICENCE_NAME: &str = "Creative Commons Attribution 4.0 International (CC BY 4.0)";
pub const LICENCE_URL: &str = "https://creativecommons.org/licenses/by/4.0/";
pub const LICENCE_NOTICE: &str = "Figures of the InvestAI fund administration, published under CC BY 4.0: \
    reuse them freely, naming the source. Amounts in EUR, exact to the cent.";

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Licence {
    pub name: String,
    pub url: String,
    pub notice: String,
}

fn licence() -> Licence {
    Licence { name: LICENCE_NAME.into(), url: LICENCE_URL.into(), notice: LICENCE_NOTICE.into() }
}

/// Committed and paid-in money of one programme and Member State.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CapitalRow {
    /// `public` or `private`.
    pub money: String,
    /// The programme (`digital_europe`, `cohesion`, ...), `private` for private investors.
    pub programme: String,
    /// The Member State (or `EU`) of public money. For private money, the country where at
    /// least three of the fund's private investors sit and `other` for the rest (itself at
    /// least three), or else `all`: no row is ever one or two private investors' money.
    pub member_state: String,
    /// How many sources the row adds up.
    pub sources: usize,
    #[schema(value_type = String)]
    pub committed: Cents,
    #[schema(value_type = String)]
    pub paid_in: Cents,
}

/// Public and private money, and the leverage between them. Private money, and so leverage,
/// is null while one or two private investors hold money in the fund: it would be their money.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct CapitalTotals {
    #[schema(value_type = String)]
    pub public_committed: Cents,
    #[schema(value_type = Option<String>)]
    pub private_committed: Option<Cents>,
    #[schema(value_type = String)]
    pub public_paid_in: Cents,
    #[schema(value_type = Option<String>)]
    pub private_paid_in: Option<Cents>,
    /// Private euros committed per public euro committed, to two decimals (half away from
    /// zero); null while nothing public is committed, or while private money is withheld.
    #[schema(value_type = Option<String>)]
    pub leverage_committed: Option<Decimal>,
    /// The same for paid-in money.
    #[schema(value_type = Option<String>)]
    pub leverage_paid_in: Option<Decimal>,
}

/// Capital deployed into one facility, and the cost it has returned.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FacilityRow {
    pub facility_id: String,
    pub facility: String,
    pub kind: String,
    pub member_state: String,
    #[schema(value_type = String)]
    pub deployed: Cents,
    #[schema(value_type = String)]
    pub cost_returned: Cents,
}

/// The compute-grant pool's life in one place.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct PoolSummary {
    /// Reserved by distributions and put in by manual entries.
    #[schema(value_type = String)]
    pub filled: Cents,
    #[schema(value_type = String)]
    pub committed_to_calls: Cents,
    #[schema(value_type = String)]
    pub awarded: Cents,
    #[schema(value_type = String)]
    pub used: Cents,
    /// Aid of lapsed awards, returned to the pool.
    #[schema(value_type = String)]
    pub lapsed: Cents,
    #[schema(value_type = String)]
    pub gpu_hours_used: GpuHours,
    #[schema(value_type = String)]
    pub gpu_hours_lapsed: GpuHours,
    /// Not yet committed to a call.
    #[schema(value_type = String)]
    pub available: Cents,
}

/// The latest signed checkpoint of the journal and the key that checks it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PublicCheckpoint {
    #[serde(flatten)]
    pub checkpoint: CheckpointRow,
    /// The verifier key (C2SP note verifier), when the server has one.
    pub verifier_key: Option<String>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TransparencyReport {
    pub fund_id: String,
    pub fund_name: String,
    pub parent_id: Option<String>,
    pub licence: Licence,
    pub capital: Vec<CapitalRow>,
    pub capital_totals: CapitalTotals,
    pub facilities: Vec<FacilityRow>,
    pub pool: PoolSummary,
    pub grant_attribution: GrantAttribution,
    /// Aid granted by this fund's compute grants, by basis, SME category and region.
    pub state_aid_granted: AidGranted,
    /// Awards of this fund in the public state-aid register (every de minimis award, GBER
    /// awards above EUR 100,000), in the Transparency Award Module's fields.
    pub state_aid_register: Vec<RegisterRecord>,
    pub checkpoint: Option<PublicCheckpoint>,
}

/// (kind, programme, country) of every source.
fn source_kinds(conn: &mut DbConnection) -> AppResult<BTreeMap<String, (String, String, String)>> {
    let rows: Vec<(String, String, String, String)> =
        sources::table.select((sources::id, sources::kind, sources::programme, sources::country)).load(conn)?;
    Ok(rows.into_iter().map(|(id, kind, programme, country)| (id, (kind, programme, country))).collect())
}

/// Adds `cents` to a running sum, refusing (never wrapping or panicking on) an overflow.
fn add_cents(total: &mut i64, cents: i64) -> AppResult<()> {
    *total = Cents::new(*total).checked_add(Cents::new(cents))?.get();
    Ok(())
}

/// Sums (source, cents) rows by source.
fn by_source(rows: Vec<(String, i64)>) -> AppResult<BTreeMap<String, i64>> {
    let mut sums = BTreeMap::new();
    for (source, cents) in rows {
        add_cents(sums.entry(source).or_default(), cents)?;
    }
    Ok(sums)
}

fn committed_by_source(conn: &mut DbConnection, fund_id: &str) -> AppResult<BTreeMap<String, i64>> {
    by_source(
        commitments::table
            .filter(commitments::fund_id.eq(fund_id))
            .select((commitments::source_id, commitments::committed_cents))
            .load(conn)?,
    )
}

fn paid_in_by_source(conn: &mut DbConnection, fund_id: &str) -> AppResult<BTreeMap<String, i64>> {
    by_source(
        contributions::table
            .inner_join(notices::table.on(notices::id.eq(contributions::notice_id)))
            .inner_join(capital_calls::table.on(capital_calls::id.eq(notices::call_id)))
            .filter(capital_calls::fund_id.eq(fund_id))
            .select((notices::source_id, contributions::amount_cents))
            .load(conn)?,
    )
}

/// Rows by programme and Member State, private money by country only where enough invest.
fn capital_rows(
    kinds: &BTreeMap<String, (String, String, String)>,
    committed: &BTreeMap<String, i64>,
    paid_in: &BTreeMap<String, i64>,
) -> AppResult<(Vec<CapitalRow>, CapitalTotals)> {
    // A source holding nothing (a commitment cancelled before any call) is no investor here: counted,
    // it would let one or two investors' money pass for a row of three.
    let holds_money = |source: &&String| {
        committed.get(*source).is_some_and(|cents| *cents != 0) || paid_in.get(*source).is_some_and(|cents| *cents != 0)
    };
    let investors: BTreeSet<&String> = committed.keys().chain(paid_in.keys()).filter(holds_money).collect();
    let mut private_by_country: BTreeMap<&str, usize> = BTreeMap::new();
    for source in &investors {
        if let Some((kind, _, country)) = kinds.get(*source) {
            if kind == "private" {
                *private_by_country.entry(country.as_str()).or_default() += 1;
            }
        }
    }
    let shown = |country: &str| private_by_country.get(country).copied().unwrap_or(0) >= PRIVATE_COUNTRY_INVESTORS_MIN;
    let others: usize = private_by_country.iter().filter(|(c, _)| !shown(c)).map(|(_, n)| n).sum();
    // A small `other` row would be one or two investors' money: then no country is shown.
    let by_country = others == 0 || others >= PRIVATE_COUNTRY_INVESTORS_MIN;
    // And a small `all` row too: then private money is not shown at all.
    let private_investors: usize = private_by_country.values().sum();
    let private_shown = private_investors == 0 || private_investors >= PRIVATE_COUNTRY_INVESTORS_MIN;
    let mut rows: BTreeMap<(bool, String, String), (usize, i64, i64)> = BTreeMap::new();
    for source in investors {
        let Some((kind, programme, country)) = kinds.get(source) else { continue };
        let private = kind == "private";
        if private && !private_shown {
            continue;
        }
        let key = if private {
            let member_state = match (by_country, shown(country)) {
                (false, _) => "all".to_string(),
                (true, true) => country.clone(),
                (true, false) => "other".to_string(),
            };
            (true, "private".to_string(), member_state)
        } else {
            (false, programme.clone(), country.clone())
        };
        let row = rows.entry(key).or_default();
        row.0 += 1;
        add_cents(&mut row.1, committed.get(source).copied().unwrap_or(0))?;
        add_cents(&mut row.2, paid_in.get(source).copied().unwrap_or(0))?;
    }
    let mut totals = CapitalTotals::default();
    let (mut private_committed, mut private_paid_in) = (Cents::ZERO, Cents::ZERO);
    let mut out = Vec::with_capacity(rows.len());
    for ((private, programme, member_state), (count, committed, paid_in)) in rows {
        let (committed, paid_in) = (Cents::new(committed), Cents::new(paid_in));
        if private {
            private_committed = private_committed.checked_add(committed)?;
            private_paid_in = private_paid_in.checked_add(paid_in)?;
        } else {
            totals.public_committed = totals.public_committed.checked_add(committed)?;
            totals.public_paid_in = totals.public_paid_in.checked_add(paid_in)?;
        }
        let money = if private { "private" } else { "public" };
        out.push(CapitalRow { money: money.into(), programme, member_state, sources: count, committed, paid_in });
    }
    if private_shown {
        totals.private_committed = Some(private_committed);
        totals.private_paid_in = Some(private_paid_in);
        totals.leverage_committed = crate::domain::metrics::leverage(private_committed, totals.public_committed);
        totals.leverage_paid_in = crate::domain::metrics::leverage(private_paid_in, totals.public_paid_in);
    }
    Ok((out, totals))
}

/// Proceeds whose entry a reversal undid: they returned no cost (docs/ledger.md, reversals).
fn reversed_proceeds(conn: &mut DbConnection, fund_id: &str) -> AppResult<BTreeSet<String>> {
    let undone: Vec<Option<String>> = journal_entries::table
        .filter(journal_entries::fund_id.eq(fund_id))
        // Read through the index on the event type: reversals are few among the entries.
        .filter(journal_entries::event_type.eq("reversal"))
        .filter(journal_entries::reverses_entry_id.is_not_null())
        .select(journal_entries::reverses_entry_id)
        .load(conn)?;
    let undone: Vec<String> = undone.into_iter().flatten().collect();
    let mut events = BTreeSet::new();
    for chunk in undone.chunks(500) {
        let ids: Vec<String> = journal_entries::table
            .filter(journal_entries::id.eq_any(chunk))
            .filter(journal_entries::event_type.eq("proceeds"))
            .select(journal_entries::event_id)
            .load(conn)?;
        events.extend(ids);
    }
    Ok(events)
}

fn facility_rows(conn: &mut DbConnection, fund_id: &str) -> AppResult<Vec<FacilityRow>> {
    let deployed: Vec<(String, i64)> = deployments::table
        .filter(deployments::fund_id.eq(fund_id))
        .select((deployments::facility_id, deployments::amount_cents))
        .load(conn)?;
    let reversed = reversed_proceeds(conn, fund_id)?;
    let returned: Vec<(String, Option<String>, i64)> = proceeds::table
        .filter(proceeds::fund_id.eq(fund_id))
        .select((proceeds::id, proceeds::facility_id, proceeds::cost_returned_cents))
        .load(conn)?;
    let mut sums: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for (facility, cents) in deployed {
        add_cents(&mut sums.entry(facility).or_default().0, cents)?;
    }
    for (id, facility, cents) in returned {
        if let Some(facility) = facility.filter(|_| !reversed.contains(&id)) {
            add_cents(&mut sums.entry(facility).or_default().1, cents)?;
        }
    }
    let ids: Vec<&String> = sums.keys().collect();
    let names: Vec<(String, String, String, String)> = facilities::table
        .filter(facilities::id.eq_any(ids))
        .select((facilities::id, facilities::name, facilities::kind, facilities::member_state))
        .load(conn)?;
    let mut rows: Vec<FacilityRow> = names
        .into_iter()
        .map(|(id, name, kind, member_state)| {
            let (deployed, returned) = sums.get(&id).copied().unwrap_or_default();
            FacilityRow {
                facility_id: id,
                facility: name,
                kind,
                member_state,
                deployed: Cents::new(deployed),
                cost_returned: Cents::new(returned),
            }
        })
        .collect();
    rows.sort_by(|a, b| b.deployed.cmp(&a.deployed).then_with(|| a.facility.cmp(&b.facility)));
    Ok(rows)
}

fn pool_summary(attribution: &GrantAttribution) -> AppResult<PoolSummary> {
    let totals = &attribution.totals;
    let filled = totals.reserved.checked_add(totals.topped_up)?;
    Ok(PoolSummary {
        filled,
        committed_to_calls: totals.committed_to_calls,
        awarded: totals.awards.awarded,
        used: totals.awards.used,
        lapsed: totals.awards.returned,
        gpu_hours_used: totals.awards.gpu_hours_used,
        gpu_hours_lapsed: totals.awards.gpu_hours_lapsed,
        available: totals.in_pool,
    })
}

/// The latest checkpoint as its signed note says when the node has the verifier key: the newest
/// whose note opens with the key, size and root read from the note, not from the table's
/// columns (`merkle::latest_signed`); the public page never shows an unsigned root.
pub fn public_checkpoint(conn: &mut DbConnection, verifier_key: Option<&str>) -> AppResult<Option<PublicCheckpoint>> {
    Ok(super::merkle::trusted_latest(conn, verifier_key)?
        .map(|checkpoint| PublicCheckpoint { checkpoint, verifier_key: verifier_key.map(str::to_string) }))
}

/// The public figures of one fund, read in one snapshot of the books.
pub fn report(conn: &mut DbConnection, fund_id: &str, verifier_key: Option<&str>) -> AppResult<TransparencyReport> {
    let fund = get_fund(conn, fund_id)?;
    let kinds = source_kinds(conn)?;
    let committed = committed_by_source(conn, fund_id)?;
    let paid_in = paid_in_by_source(conn, fund_id)?;
    let (capital, capital_totals) = capital_rows(&kinds, &committed, &paid_in)?;
    let grant_attribution = grant_attribution(conn, fund_id, false)?;
    let checkpoint = public_checkpoint(conn, verifier_key)?;
    Ok(TransparencyReport {
        fund_id: fund.id,
        fund_name: fund.name,
        parent_id: fund.parent_id,
        licence: licence(),
        capital,
        capital_totals,
        facilities: facility_rows(conn, fund_id)?,
        pool: pool_summary(&grant_attribution)?,
        grant_attribution,
        state_aid_granted: aid_granted(conn, Some(fund_id))?,
        state_aid_register: register_of(conn, Some(fund_id))?,
        checkpoint,
    })
}

/// One line per fund for the index of the public pages.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FundLine {
    pub fund_id: String,
    pub fund_name: String,
    pub parent_id: Option<String>,
    pub inception_date: NaiveDate,
    #[serde(flatten)]
    pub totals: CapitalTotals,
}

pub fn fund_lines(conn: &mut DbConnection) -> AppResult<Vec<FundLine>> {
    let kinds = source_kinds(conn)?;
    let funds = super::funds::list_funds(conn)?;
    let mut lines = Vec::with_capacity(funds.len());
    for fund in funds {
        let committed = committed_by_source(conn, &fund.id)?;
        let paid_in = paid_in_by_source(conn, &fund.id)?;
        let (_, totals) = capital_rows(&kinds, &committed, &paid_in)?;
        lines.push(FundLine {
            fund_id: fund.id,
            fund_name: fund.name,
            parent_id: fund.parent_id,
            inception_date: fund.inception_date,
            totals,
        });
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(rows: &[(&str, &str, &str, &str)]) -> BTreeMap<String, (String, String, String)> {
        rows.iter().map(|(id, k, p, c)| (id.to_string(), (k.to_string(), p.to_string(), c.to_string()))).collect()
    }

    #[test]
    fn a_country_with_fewer_than_three_private_investors_is_shown_as_other() {
        let kinds = kinds(&[
            ("a", "private", "private", "FR"),
            ("b", "private", "private", "FR"),
            ("c", "private", "private", "FR"),
            ("d", "private", "private", "CH"),
            ("f", "private", "private", "US"),
            ("g", "private", "private", "AE"),
            ("e", "eu_programme", "digital_europe", "EU"),
        ]);
        let committed: BTreeMap<String, i64> =
            [("a", 100), ("b", 200), ("c", 300), ("d", 7), ("f", 1), ("g", 2), ("e", 50)]
                .iter()
                .map(|(s, c)| (s.to_string(), *c))
                .collect();
        let paid_in: BTreeMap<String, i64> = [("a", 10), ("e", 5)].iter().map(|(s, c)| (s.to_string(), *c)).collect();
        let (rows, totals) = capital_rows(&kinds, &committed, &paid_in).unwrap();
        let find = |m: &str| rows.iter().find(|r| r.member_state == m).unwrap();
        assert_eq!((find("FR").sources, find("FR").committed.get()), (3, 600));
        assert_eq!((find("other").sources, find("other").committed.get()), (3, 10));
        assert!(rows.iter().all(|r| r.member_state != "CH"));
        assert_eq!(find("EU").programme, "digital_europe");
        assert_eq!((totals.public_committed, totals.private_committed), (Cents::new(50), Some(Cents::new(610))));
        assert_eq!(totals.leverage_committed, Some(Decimal::new(1220, 2)));
        assert_eq!(totals.leverage_paid_in, Some(Decimal::new(200, 2)));
        // Without two of them, `other` would be one investor: all private money is one row. So
        // it is when the two hold nothing (committed and cancelled before any call).
        let fewer: BTreeMap<String, i64> =
            committed.iter().filter(|(s, _)| *s != "f" && *s != "g").map(|(s, c)| (s.clone(), *c)).collect();
        let emptied: BTreeMap<String, i64> =
            committed.iter().map(|(s, c)| (s.clone(), if s == "f" || s == "g" { 0 } else { *c })).collect();
        for committed in [fewer, emptied] {
            let (rows, _) = capital_rows(&kinds, &committed, &paid_in).unwrap();
            let private: Vec<_> = rows.iter().filter(|r| r.money == "private").collect();
            assert_eq!(private.len(), 1);
            let row = (private[0].member_state.as_str(), private[0].sources, private[0].committed.get());
            assert_eq!(row, ("all", 4, 607));
        }
    }
}

/// The open-data tables a report is published as, one CSV file each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenDataTable {
    Capital,
    Facilities,
    GrantAttribution,
    GrantsBySmeCategory,
    StateAidRegister,
}

impl OpenDataTable {
    pub const ALL: [OpenDataTable; 5] = [
        OpenDataTable::Capital,
        OpenDataTable::Facilities,
        OpenDataTable::GrantAttribution,
        OpenDataTable::GrantsBySmeCategory,
        OpenDataTable::StateAidRegister,
    ];

    pub fn name(self) -> &'static str {
        match self {
            OpenDataTable::Capital => "capital",
            OpenDataTable::Facilities => "facilities",
            OpenDataTable::GrantAttribution => "grant-attribution",
            OpenDataTable::GrantsBySmeCategory => "grants-by-sme-category",
            OpenDataTable::StateAidRegister => "state-aid-register",
        }
    }

    /// The table named by a file name such as `capital.csv`.
    pub fn from_file_name(file: &str) -> Option<OpenDataTable> {
        let name = file.strip_suffix(".csv")?;
        OpenDataTable::ALL.into_iter().find(|t| t.name() == name)
    }
}

fn text<T: ToString>(value: T) -> String {
    value.to_string()
}

fn optional(value: &Option<String>) -> String {
    value.clone().unwrap_or_default()
}

/// Header and rows of one table of a report: the same figures as its JSON, as text (names
/// that a spreadsheet would run as formulas made safe, as in the auditor exports).
pub fn table_rows(report: &TransparencyReport, table: OpenDataTable) -> (Vec<&'static str>, Vec<Vec<String>>) {
    match table {
        OpenDataTable::Capital => (
            vec!["money", "programme", "member_state", "sources", "committed_eur", "paid_in_eur"],
            report
                .capital
                .iter()
                .map(|r| {
                    vec![
                        r.money.clone(),
                        r.programme.clone(),
                        r.member_state.clone(),
                        text(r.sources),
                        text(r.committed),
                        text(r.paid_in),
                    ]
                })
                .collect(),
        ),
        OpenDataTable::Facilities => (
            vec!["facility_id", "facility", "kind", "member_state", "deployed_eur", "cost_returned_eur"],
            report
                .facilities
                .iter()
                .map(|r| {
                    vec![
                        r.facility_id.clone(),
                        csv_text(&r.facility).into_owned(),
                        r.kind.clone(),
                        r.member_state.clone(),
                        text(r.deployed),
                        text(r.cost_returned),
                    ]
                })
                .collect(),
        ),
        OpenDataTable::GrantAttribution => (
            vec![
                "programme",
                "member_state",
                "reserved_eur",
                "topped_up_eur",
                "withdrawn_eur",
                "committed_to_calls_eur",
                "awarded_eur",
                "used_eur",
                "returned_eur",
                "gpu_hours_used",
                "gpu_hours_lapsed",
                "in_pool_eur",
                "in_calls_eur",
                "in_awards_eur",
            ],
            report
                .grant_attribution
                .by_programme_and_member_state
                .iter()
                .map(|r| {
                    let f = &r.figures;
                    vec![
                        r.programme.clone(),
                        optional(&r.member_state),
                        text(f.reserved),
                        text(f.topped_up),
                        text(f.withdrawn),
                        text(f.committed_to_calls),
                        text(f.awards.awarded),
                        text(f.awards.used),
                        text(f.awards.returned),
                        text(f.awards.gpu_hours_used),
                        text(f.awards.gpu_hours_lapsed),
                        text(f.in_pool),
                        text(f.in_calls),
                        text(f.in_awards),
                    ]
                })
                .collect(),
        ),
        OpenDataTable::GrantsBySmeCategory => (
            vec![
                "programme",
                "member_state",
                "sme_category",
                "awarded_eur",
                "used_eur",
                "returned_eur",
                "gpu_hours_used",
                "gpu_hours_lapsed",
            ],
            report
                .grant_attribution
                .by_sme_category
                .iter()
                .map(|r| {
                    let f = &r.figures;
                    vec![
                        r.programme.clone(),
                        optional(&r.member_state),
                        r.sme_category.clone(),
                        text(f.awarded),
                        text(f.used),
                        text(f.returned),
                        text(f.gpu_hours_used),
                        text(f.gpu_hours_lapsed),
                    ]
                })
                .collect(),
        ),
        OpenDataTable::StateAidRegister => (
            REGISTER_COLUMNS.to_vec(),
            report
                .state_aid_register
                .iter()
                .map(|r| r.cells().iter().map(|c| csv_text(c).into_owned()).collect())
                .collect(),
        ),
    }
}

/// One table as CSV (RFC 4180, UTF-8, a header row).
pub fn table_csv(report: &TransparencyReport, table: OpenDataTable) -> AppResult<Vec<u8>> {
    let (header, rows) = table_rows(report, table);
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&header).map_err(crate::error::AppError::internal)?;
    for row in rows {
        writer.write_record(&row).map_err(crate::error::AppError::internal)?;
    }
    writer.into_inner().map_err(crate::error::AppError::internal)
}
