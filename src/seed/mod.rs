//! Loading a fixture file (the InvestAI demo data, or any file of the same form).
//!
//! Records refer to each other by `key`s local to the file; the loader creates each record
//! through the same storage functions the API uses, each in its own transaction, so every
//! rule applies and every journal entry is posted exactly as if staff had entered it.

mod grants;

use std::collections::HashMap;

use chrono::NaiveDate;
use indicatif::{ProgressBar, ProgressStyle};
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::auth::password;
use crate::domain::money::Cents;
use crate::domain::payment::BankAccount;
use crate::domain::roles::Role;
use crate::domain::waterfall::Terms;
use crate::error::{AppError, AppResult};
use crate::storage::capital::{self, CallLine, NewCall, NoticeFilter};
use crate::storage::commitments::{create_commitment, NewCommitment};
use crate::storage::funds::{create_fund, set_bank_account, NewFund};
use crate::storage::investments::{self, DeploymentRow, ProceedsRow, ValuationRow};
use crate::storage::structure::{self, Facility, NewTranche, Source};
use crate::storage::users::create_user;
use crate::storage::waterfall;
use crate::storage::{write_tx, DbConnection};

/// Actor recorded on everything a fixture creates.
pub const SEED_ACTOR: &str = "staff:seed";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixture {
    /// Free text: where the numbers come from and which are illustrative.
    #[serde(default)]
    pub notes: Vec<String>,
    #[serde(default)]
    pub funds: Vec<FundRecord>,
    #[serde(default)]
    pub tranches: Vec<TrancheRecord>,
    #[serde(default)]
    pub sources: Vec<SourceRecord>,
    #[serde(default)]
    pub facilities: Vec<FacilityRecord>,
    #[serde(default)]
    pub commitments: Vec<CommitmentRecord>,
    #[serde(default)]
    pub calls: Vec<CallRecord>,
    #[serde(default)]
    pub contributions: Vec<ContributionRecord>,
    #[serde(default)]
    pub deployments: Vec<DeploymentRecord>,
    #[serde(default)]
    pub valuations: Vec<ValuationRecord>,
    #[serde(default)]
    pub proceeds: Vec<ProceedsRecord>,
    #[serde(default)]
    pub waterfalls: Vec<WaterfallRecord>,
    #[serde(default)]
    pub distributions: Vec<DistributionRecord>,
    #[serde(default)]
    pub smes: Vec<grants::SmeRecord>,
    #[serde(default)]
    pub grant_calls: Vec<grants::GrantCallRecord>,
    #[serde(default)]
    pub applications: Vec<grants::ApplicationRecord>,
    #[serde(default)]
    pub usage: Vec<grants::UsageBatchRecord>,
    #[serde(default)]
    pub users: Vec<UserRecord>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProceedsRecord {
    pub fund: String,
    pub facility: Option<String>,
    pub amount: Cents,
    pub cost_returned: Cents,
    #[serde(deserialize_with = "crate::domain::calendar_date::deserialize")]
    pub value_date: NaiveDate,
    pub description: String,
}

/// Terms as the API takes them, with tranche keys of the file in place of ids.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaterfallRecord {
    pub fund: String,
    pub terms: serde_json::Value,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistributionRecord {
    pub fund: String,
    pub cash: Cents,
    #[serde(deserialize_with = "crate::domain::calendar_date::deserialize")]
    pub date: NaiveDate,
    pub description: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FundRecord {
    pub key: String,
    pub name: String,
    pub parent: Option<String>,
    pub target_size: Cents,
    #[serde(deserialize_with = "crate::domain::calendar_date::deserialize")]
    pub inception_date: NaiveDate,
    pub term_years: i32,
    /// Printed on call notices; a compartment without one uses its umbrella's.
    #[serde(default)]
    pub bank_account: Option<crate::domain::payment::BankAccount>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrancheRecord {
    pub key: String,
    pub fund: String,
    pub name: String,
    pub seniority: i32,
    pub target_size: Cents,
    pub pref_rate: Decimal,
    pub return_cap: Option<Decimal>,
    pub first_loss: bool,
    pub min_ticket: Cents,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceRecord {
    pub key: String,
    pub kind: String,
    pub programme: String,
    pub legal_name: String,
    pub country: String,
    #[serde(default)]
    pub lei: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FacilityRecord {
    pub key: String,
    pub name: String,
    pub kind: String,
    pub member_state: String,
    pub chip_count: i64,
    pub chip_type: String,
    pub quarterly_capacity_gpu_hours: i64,
    /// List price versions per GPU-hour.
    #[serde(default)]
    pub prices: Vec<PriceRecord>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceRecord {
    #[serde(deserialize_with = "crate::domain::calendar_date::deserialize")]
    pub effective_date: NaiveDate,
    pub price_per_gpu_hour: Cents,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommitmentRecord {
    pub source: String,
    pub tranche: String,
    pub amount: Cents,
    #[serde(deserialize_with = "crate::domain::calendar_date::deserialize")]
    pub effective_date: NaiveDate,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallLineRecord {
    pub tranche: String,
    pub purpose: String,
    pub facility: Option<String>,
    pub amount: Cents,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallRecord {
    pub key: String,
    pub fund: String,
    #[serde(deserialize_with = "crate::domain::calendar_date::deserialize")]
    pub call_date: NaiveDate,
    #[serde(deserialize_with = "crate::domain::calendar_date::deserialize")]
    pub due_date: NaiveDate,
    pub description: String,
    pub lines: Vec<CallLineRecord>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContributionRecord {
    pub call: String,
    pub source: String,
    pub tranche: String,
    /// None pays the notice in full.
    pub amount: Option<Cents>,
    #[serde(deserialize_with = "crate::domain::calendar_date::deserialize")]
    pub value_date: NaiveDate,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploymentRecord {
    pub fund: String,
    pub facility: String,
    pub kind: String,
    pub amount: Cents,
    #[serde(deserialize_with = "crate::domain::calendar_date::deserialize")]
    pub value_date: NaiveDate,
    pub description: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValuationRecord {
    pub fund: String,
    #[serde(deserialize_with = "crate::domain::calendar_date::deserialize")]
    pub as_of: NaiveDate,
    pub nav: Cents,
    pub description: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserRecord {
    pub username: String,
    pub role: Role,
    /// Key of the party (investor, SME, facility) a party-bound user acts for.
    pub party: Option<String>,
    /// Demo password; real deployments add users with `investai user add`.
    pub password: String,
}

impl Fixture {
    pub fn record_count(&self) -> usize {
        self.funds.len()
            + self.tranches.len()
            + self.sources.len()
            + self.facilities.len()
            + self.commitments.len()
            + self.calls.len()
            + self.contributions.len()
            + self.deployments.len()
            + self.valuations.len()
            + self.proceeds.len()
            + self.waterfalls.len()
            + self.distributions.len()
            + self.smes.len()
            + self.grant_calls.len()
            + self.applications.len()
            + self.usage.len()
            + self.users.len()
    }
}

/// What a load created, for the demo banner.
#[derive(Debug, Default)]
pub struct SeedReport {
    pub records: usize,
}

pub fn read_fixture(path: &std::path::Path) -> AppResult<Fixture> {
    let text = std::fs::read(path).map_err(|e| AppError::internal(format!("cannot read {}: {e}", path.display())))?;
    crate::http::extract::parse_json(&text).map_err(|e| AppError::internal(format!("{}: {e}", path.display())))
}

fn progress(total: usize, show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total as u64);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}") {
        bar.set_style(style);
    }
    bar
}

/// Keys of the file mapped to the ids the database gave them.
#[derive(Default)]
struct Keys(HashMap<String, String>);

impl Keys {
    fn get(&self, key: &str, referrer: &str) -> AppResult<String> {
        self.0
            .get(key)
            .cloned()
            .ok_or_else(|| AppError::internal(format!("fixture: {referrer} refers to unknown key {key:?}")))
    }

    fn put(&mut self, key: &str, id: String) -> AppResult<()> {
        match self.0.insert(key.to_string(), id) {
            None => Ok(()),
            Some(_) => Err(AppError::internal(format!("fixture: key {key:?} is used twice"))),
        }
    }
}

/// Loads every record, each in its own transaction; stops at the first refused record.
pub fn load(conn: &mut DbConnection, fixture: &Fixture, show_progress: bool) -> AppResult<SeedReport> {
    let bar = progress(fixture.record_count(), show_progress);
    let mut keys = Keys::default();
    let context = |what: &str, error: AppError| AppError::internal(format!("fixture {what}: {error}"));
    for r in &fixture.funds {
        let parent_id = r.parent.as_deref().map(|p| keys.get(p, &r.key)).transpose()?;
        let new = NewFund {
            name: r.name.clone(),
            parent_id,
            target_size: r.target_size,
            inception_date: r.inception_date,
            term_years: r.term_years,
        };
        let fund = write_tx(conn, |c| {
            let fund = create_fund(c, new.clone())?;
            if let Some(account) = &r.bank_account {
                let account = BankAccount::parse(&account.account_holder, &account.iban, account.bic.as_deref())
                    .map_err(|(field, reason)| AppError::field(format!("bank_account.{field}"), reason))?;
                set_bank_account(c, &fund.id, &account)?;
            }
            Ok(fund)
        })
        .map_err(|e| context(&r.key, e))?;
        keys.put(&r.key, fund.id)?;
        bar.inc(1);
    }
    for r in &fixture.tranches {
        let fund_id = keys.get(&r.fund, &r.key)?;
        let new = NewTranche {
            name: r.name.clone(),
            seniority: r.seniority,
            target_size: r.target_size,
            pref_rate: r.pref_rate,
            return_cap: r.return_cap,
            first_loss: r.first_loss,
            min_ticket: r.min_ticket,
        };
        let tranche =
            write_tx(conn, |c| structure::create_tranche(c, &fund_id, new.clone())).map_err(|e| context(&r.key, e))?;
        keys.put(&r.key, tranche.id)?;
        bar.inc(1);
    }
    for r in &fixture.sources {
        let source = Source {
            id: String::new(),
            kind: r.kind.clone(),
            programme: r.programme.clone(),
            legal_name: r.legal_name.clone(),
            country: r.country.clone(),
            lei: r.lei.clone(),
            created_at: Default::default(),
        };
        let source = write_tx(conn, |c| structure::create_source(c, source.clone())).map_err(|e| context(&r.key, e))?;
        keys.put(&r.key, source.id)?;
        bar.inc(1);
    }
    for r in &fixture.facilities {
        let facility = Facility {
            id: String::new(),
            name: r.name.clone(),
            kind: r.kind.clone(),
            member_state: r.member_state.clone(),
            chip_count: r.chip_count,
            chip_type: r.chip_type.clone(),
            quarterly_capacity_gpu_hours: r.quarterly_capacity_gpu_hours,
            created_at: Default::default(),
            gpus_per_record_max: r.chip_count,
        };
        let facility = write_tx(conn, |c| {
            let facility = structure::create_facility(c, facility.clone())?;
            for price in &r.prices {
                structure::add_price(c, &facility.id, price.effective_date, price.price_per_gpu_hour, SEED_ACTOR)?;
            }
            Ok(facility)
        })
        .map_err(|e| context(&r.key, e))?;
        keys.put(&r.key, facility.id)?;
        bar.inc(1);
    }
    load_capital_activity(conn, fixture, &mut keys, &bar)?;
    grants::load_smes(&fixture.smes, &mut keys)?;
    grants::load_calls(conn, &fixture.grant_calls, &mut keys).map_err(|e| context("grant calls", e))?;
    grants::load_applications(conn, &fixture.applications, &mut keys).map_err(|e| context("applications", e))?;
    grants::load_usage(conn, &fixture.usage, &keys).map_err(|e| context("usage", e))?;
    bar.inc((fixture.smes.len() + fixture.grant_calls.len() + fixture.applications.len() + fixture.usage.len()) as u64);
    for r in &fixture.users {
        let party = r.party.as_deref().map(|p| keys.get(p, &r.username)).transpose()?;
        let hash = password::hash(&r.password).map_err(AppError::internal)?;
        write_tx(conn, |c| create_user(c, &r.username, r.role, party.as_deref(), hash.clone(), "system:seed"))
            .map_err(|e| context(&r.username, e))?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(SeedReport { records: fixture.record_count() })
}

fn load_capital_activity(
    conn: &mut DbConnection,
    fixture: &Fixture,
    keys: &mut Keys,
    bar: &ProgressBar,
) -> AppResult<()> {
    let context = |what: &str, error: AppError| AppError::internal(format!("fixture {what}: {error}"));
    for r in &fixture.commitments {
        let tranche_id = keys.get(&r.tranche, &r.source)?;
        let new = NewCommitment {
            source_id: keys.get(&r.source, &r.tranche)?,
            tranche_id: tranche_id.clone(),
            amount: r.amount,
            effective_date: r.effective_date,
            allow_oversubscription: false,
            actor: SEED_ACTOR.into(),
        };
        write_tx(conn, |c| {
            let fund_id = structure::get_tranche(c, &tranche_id)?.fund_id;
            create_commitment(c, &fund_id, new.clone())
        })
        .map_err(|e| context(&format!("commitment {}/{}", r.source, r.tranche), e))?;
        bar.inc(1);
    }
    for r in &fixture.calls {
        let fund_id = keys.get(&r.fund, &r.key)?;
        let lines = r
            .lines
            .iter()
            .map(|l| {
                Ok(CallLine {
                    tranche_id: keys.get(&l.tranche, &r.key)?,
                    purpose: l.purpose.clone(),
                    facility_id: l.facility.as_deref().map(|f| keys.get(f, &r.key)).transpose()?,
                    amount: l.amount,
                })
            })
            .collect::<AppResult<Vec<_>>>()?;
        let new = NewCall {
            call_date: r.call_date,
            due_date: r.due_date,
            description: r.description.clone(),
            lines,
            actor: SEED_ACTOR.into(),
        };
        let call =
            write_tx(conn, |c| capital::create_call(c, &fund_id, new.clone())).map_err(|e| context(&r.key, e))?;
        keys.put(&r.key, call.id)?;
        bar.inc(1);
    }
    let today = chrono::Utc::now().date_naive();
    for r in &fixture.contributions {
        let what = format!("contribution {}/{}", r.call, r.source);
        let filter = NoticeFilter {
            call_id: Some(keys.get(&r.call, &what)?),
            source_id: Some(keys.get(&r.source, &what)?),
            ..Default::default()
        };
        let tranche_id = keys.get(&r.tranche, &what)?;
        write_tx(conn, |c| {
            let notice = capital::list_notices(c, &filter, today, 10)?
                .into_iter()
                .find(|n| n.tranche_id == tranche_id)
                .ok_or_else(|| AppError::not_found("notice"))?;
            let amount = r.amount.unwrap_or(notice.outstanding);
            capital::record_contribution(c, &notice.id, amount, r.value_date, SEED_ACTOR, today)
        })
        .map_err(|e| context(&what, e))?;
        bar.inc(1);
    }
    for r in &fixture.deployments {
        let row = DeploymentRow {
            id: String::new(),
            fund_id: keys.get(&r.fund, &r.description)?,
            facility_id: keys.get(&r.facility, &r.description)?,
            kind: r.kind.clone(),
            amount_cents: r.amount.get(),
            value_date: r.value_date,
            description: r.description.clone(),
            actor: SEED_ACTOR.into(),
            created_at: Default::default(),
        };
        write_tx(conn, |c| investments::deploy(c, row.clone())).map_err(|e| context(&r.description, e))?;
        bar.inc(1);
    }
    for r in &fixture.valuations {
        let row = ValuationRow {
            id: String::new(),
            fund_id: keys.get(&r.fund, &r.description)?,
            as_of_date: r.as_of,
            nav_cents: r.nav.get(),
            description: r.description.clone(),
            actor: SEED_ACTOR.into(),
            created_at: Default::default(),
        };
        write_tx(conn, |c| investments::record_valuation(c, row.clone())).map_err(|e| context(&r.description, e))?;
        bar.inc(1);
    }
    for r in &fixture.proceeds {
        let row = ProceedsRow {
            id: String::new(),
            fund_id: keys.get(&r.fund, &r.description)?,
            facility_id: r.facility.as_deref().map(|f| keys.get(f, &r.description)).transpose()?,
            amount_cents: r.amount.get(),
            cost_returned_cents: r.cost_returned.get(),
            value_date: r.value_date,
            description: r.description.clone(),
            actor: SEED_ACTOR.into(),
            created_at: Default::default(),
        };
        write_tx(conn, |c| investments::receive_proceeds(c, row.clone())).map_err(|e| context(&r.description, e))?;
        bar.inc(1);
    }
    for r in &fixture.waterfalls {
        let fund_id = keys.get(&r.fund, "waterfall")?;
        let mut terms = r.terms.clone();
        resolve_tranche_keys(&mut terms, keys)?;
        let terms: Terms = serde_json::from_value(terms)
            .map_err(|e| AppError::internal(format!("fixture waterfall of {}: {e}", r.fund)))?;
        write_tx(conn, |c| waterfall::set_terms(c, &fund_id, terms.clone(), SEED_ACTOR))
            .map_err(|e| context("waterfall", e))?;
        bar.inc(1);
    }
    for r in &fixture.distributions {
        let fund_id = keys.get(&r.fund, &r.description)?;
        write_tx(conn, |c| waterfall::execute(c, &fund_id, r.cash, r.date, &r.description, SEED_ACTOR))
            .map_err(|e| context(&r.description, e))?;
        bar.inc(1);
    }
    Ok(())
}

/// Replaces tranche keys of the file by tranche ids wherever terms name a tranche.
fn resolve_tranche_keys(value: &mut serde_json::Value, keys: &Keys) -> AppResult<()> {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            for (name, inner) in map.iter_mut() {
                match (name.as_str(), inner) {
                    ("tranche", Value::String(key)) => *key = keys.get(key, "waterfall")?,
                    ("tranches", Value::Array(list)) => {
                        for item in list.iter_mut() {
                            if let Value::String(key) = item {
                                *key = keys.get(key, "waterfall")?;
                            }
                        }
                    }
                    (_, other) => resolve_tranche_keys(other, keys)?,
                }
            }
        }
        Value::Array(list) => {
            for item in list {
                resolve_tranche_keys(item, keys)?;
            }
        }
        _ => {}
    }
    Ok(())
}
