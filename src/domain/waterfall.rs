//! The waterfall engine (docs/waterfall.md): distributes an amount of cash on a date over the fund's
//! tranches, investor positions and accounts, step by step, exact to the cent.
//!
//! Pure: the caller hands in the terms, every position's state and the cash; the engine
//! returns every line it paid with the rule it applied, what was owed, what was paid and the
//! shortfall left. The same function previews, executes and values tranches (hypothetical
//! liquidation), so the three can never disagree.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::chart;
use super::money::{allocate_by_weights, allocate_pro_rata, stored, Cents, MoneyError, AMOUNT_CENTS_MAX};

/// Characters a fee's name may have, as any other name in the books.
pub const FEE_NAME_CHARS_MAX: usize = 200;
/// Steps one set of terms may have.
pub const STEPS_MAX: usize = 50;
/// Day count basis: ACT/365 Fixed.
pub const DAYS_PER_YEAR: i64 = 365;
/// Percentages are scaled to integers with this many decimals for exact allocation; terms may
/// not state one more finely.
const PERCENT_SCALE: u32 = 6;
/// A rate (a fraction, not a percentage) may have this many decimals: a percentage's six.
const RATE_SCALE: u32 = PERCENT_SCALE + 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// In rank order, each tranche fully before the next.
    Sequential,
    /// All named tranches together, pro rata to what each position is owed.
    ProRata,
}

/// Who receives a share: a tranche (its investors) or an account of the fund (by code).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    #[schema(value_type = String)]
    Tranche(Arc<str>),
    Account(String),
}

impl Target {
    /// What ties are broken by: a tranche's id, an account's code (the lower, as text, first).
    pub fn id(&self) -> &str {
        match self {
            Target::Tranche(id) => id,
            Target::Account(code) => code,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Share {
    #[serde(flatten)]
    pub target: Target,
    /// Percent of the residual, e.g. `"80"`.
    #[schema(value_type = String)]
    #[serde(deserialize_with = "crate::domain::plain_decimal::deserialize")]
    pub percent: Decimal,
}

/// One step of a waterfall. The vocabulary is fixed (docs/waterfall.md).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// Pay a fee or expense to an account: a fixed amount, or a rate on commitments.
    Fee {
        name: String,
        /// Expense or liability account code, e.g. `5000`.
        account: String,
        #[schema(value_type = Option<String>)]
        fixed: Option<Cents>,
        /// Rate on the commitments of all positions (or of `tranches` when given).
        #[schema(value_type = Option<String>)]
        #[serde(default, deserialize_with = "crate::domain::plain_decimal::deserialize_option")]
        rate_on_commitments: Option<Decimal>,
        #[serde(default)]
        tranches: Vec<String>,
    },
    /// Pay the accrued, unpaid preferred return of the named tranches.
    Pref { tranches: Vec<String>, mode: Mode },
    /// Return outstanding contributed capital of the named tranches.
    Capital { tranches: Vec<String>, mode: Mode },
    /// Move a share of what remains (optionally capped) to an account, e.g. the compute-grant pool.
    Reserve {
        account: String,
        #[schema(value_type = String)]
        #[serde(deserialize_with = "crate::domain::plain_decimal::deserialize")]
        percent: Decimal,
        #[schema(value_type = Option<String>)]
        cap: Option<Cents>,
    },
    /// Give the beneficiary all that remains until it holds `target_percent` of the profits.
    CatchUp {
        beneficiary: Target,
        #[schema(value_type = String)]
        #[serde(deserialize_with = "crate::domain::plain_decimal::deserialize")]
        target_percent: Decimal,
    },
    /// Share the residual by percentages; a tranche at its return cap takes no more.
    Split { shares: Vec<Share> },
}

impl Step {
    pub fn kind(&self) -> &'static str {
        match self {
            Step::Fee { .. } => "fee",
            Step::Pref { .. } => "pref",
            Step::Capital { .. } => "capital",
            Step::Reserve { .. } => "reserve",
            Step::CatchUp { .. } => "catch_up",
            Step::Split { .. } => "split",
        }
    }
}

/// The waterfall of a fund: an ordered list of steps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Terms {
    pub steps: Vec<Step>,
}

/// What the engine needs of a tranche.
#[derive(Clone, Debug)]
pub struct TrancheTerms {
    pub id: String,
    pub name: String,
    pub seniority: i32,
    /// Annual rate as a fraction (0.08).
    pub pref_rate: Decimal,
    /// Cap on everything a position receives, as a multiple of its paid-in capital.
    pub return_cap: Option<Decimal>,
}

/// A contribution (positive) or a return of capital (negative) on a date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapitalFlow {
    pub date: NaiveDate,
    pub amount: Cents,
}

/// One investor's commitment to one tranche, as it stands before this distribution.
#[derive(Clone, Debug)]
pub struct Position {
    /// Shared, so that every line naming the position costs no copy.
    pub id: Arc<str>,
    pub tranche_id: String,
    pub committed: Cents,
    /// Contributions and returns of capital, in any order.
    pub flows: Vec<CapitalFlow>,
    pub pref_paid: Cents,
    /// Everything but returns of capital received so far (pref, catch-up, split).
    pub profit_received: Cents,
    /// Everything received so far, of every kind.
    pub total_received: Cents,
}

impl Position {
    pub fn paid_in(&self) -> Cents {
        Cents::new(self.flows.iter().filter(|f| f.amount.get() > 0).map(|f| f.amount.get()).sum())
    }

    pub fn outstanding_capital(&self) -> Cents {
        Cents::new(self.flows.iter().map(|f| f.amount.get()).sum::<i64>().max(0))
    }

    /// Pref accrued to `date`: daily, simple, ACT/365F on outstanding contributed capital.
    /// Rounded down to the cent.
    pub fn pref_accrued(&self, rate: Decimal, date: NaiveDate) -> Result<Cents, MoneyError> {
        // The integral of outstanding capital over time is the sum of each flow times the
        // days it has been outstanding: exact in integer cent-days.
        let cent_days: i128 = self
            .flows
            .iter()
            .filter(|f| f.date < date)
            .map(|f| i128::from(f.amount.get()) * i128::from((date - f.date).num_days()))
            .sum();
        if cent_days <= 0 || rate.is_zero() {
            return Ok(Cents::ZERO);
        }
        // rate = mantissa / 10^scale, so accrued = cent_days x mantissa / (365 x 10^scale),
        // rounded down: exact integer arithmetic, no decimal division per position.
        let denominator = i128::from(DAYS_PER_YEAR) * 10i128.pow(rate.scale());
        let numerator = cent_days.checked_mul(rate.mantissa()).ok_or(MoneyError::Overflow)?;
        // Accrued beyond the largest amount is owed as that amount, more than any cash to pay it.
        let accrued = numerator.div_euclid(denominator).min(i128::from(AMOUNT_CENTS_MAX));
        i64::try_from(accrued).map(Cents::new).map_err(|_| MoneyError::Overflow)
    }
}

/// One payment (or non-payment) of a step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Line {
    pub target: Target,
    /// The investor position paid, for tranche targets.
    #[schema(value_type = Option<String>)]
    pub position_id: Option<Arc<str>>,
    #[serde(deserialize_with = "stored::cents")]
    #[schema(value_type = String)]
    pub owed: Cents,
    #[serde(deserialize_with = "stored::cents")]
    #[schema(value_type = String)]
    pub paid: Cents,
    /// Owed but not paid by this distribution; carried forward for pref and capital. Never
    /// negative: `paid = owed - shortfall + redistributed`.
    #[serde(deserialize_with = "stored::cents")]
    #[schema(value_type = String)]
    pub shortfall: Cents,
    /// Paid beyond what the rule owed: a share of what a capped target could not take, handed
    /// on to this one (split and catch-up).
    #[serde(default, deserialize_with = "stored::cents")]
    #[schema(value_type = String)]
    pub redistributed: Cents,
    /// The rule that set `owed`, in words (shared by the lines of a step and tranche).
    #[schema(value_type = String)]
    pub rule: Arc<str>,
    /// What the rule starts from: pref accrued to date, or capital paid in.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "stored::optional_cents")]
    #[schema(value_type = Option<String>)]
    pub basis: Option<Cents>,
    /// Already settled by earlier distributions: pref paid, or capital returned.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "stored::optional_cents")]
    #[schema(value_type = Option<String>)]
    pub settled_before: Option<Cents>,
}

impl Line {
    /// A line paying `paid` against `owed`: what was owed and not paid is the shortfall, what
    /// was paid beyond it came by redistribution. Neither is ever negative.
    fn settled(target: Target, position_id: Option<Arc<str>>, owed: Cents, paid: Cents, rule: Arc<str>) -> Line {
        Line {
            target,
            position_id,
            owed,
            paid,
            shortfall: Cents::new((owed.get() - paid.get()).max(0)),
            redistributed: Cents::new((paid.get() - owed.get()).max(0)),
            rule,
            basis: None,
            settled_before: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StepResult {
    pub index: usize,
    /// `fee`, `pref`, `capital`, `reserve`, `catch_up` or `split`
    pub kind: String,
    pub description: String,
    #[serde(deserialize_with = "stored::cents")]
    #[schema(value_type = String)]
    pub available: Cents,
    #[serde(deserialize_with = "stored::cents")]
    #[schema(value_type = String)]
    pub owed: Cents,
    #[serde(deserialize_with = "stored::cents")]
    #[schema(value_type = String)]
    pub paid: Cents,
    pub lines: Vec<Line>,
}

/// The full allocation of a distribution.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Allocation {
    pub date: NaiveDate,
    #[serde(deserialize_with = "stored::cents")]
    #[schema(value_type = String)]
    pub cash: Cents,
    #[serde(deserialize_with = "stored::cents")]
    #[schema(value_type = String)]
    pub distributed: Cents,
    /// Cash no step could pay (every receiver capped or owed nothing).
    #[serde(deserialize_with = "stored::cents")]
    #[schema(value_type = String)]
    pub remaining: Cents,
    pub steps: Vec<StepResult>,
}

impl Allocation {
    /// Total paid to each position over all steps.
    pub fn paid_by_position(&self) -> BTreeMap<String, Cents> {
        let mut totals: BTreeMap<String, Cents> = BTreeMap::new();
        for line in self.steps.iter().flat_map(|s| &s.lines) {
            if let Some(position) = &line.position_id {
                let entry = totals.entry(position.to_string()).or_default();
                *entry = Cents::new(entry.get() + line.paid.get());
            }
        }
        totals
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WaterfallError {
    #[error("{path}: {reason}")]
    Invalid { path: String, reason: String },
    #[error(transparent)]
    Money(#[from] MoneyError),
}

fn invalid(path: impl Into<String>, reason: impl Into<String>) -> WaterfallError {
    WaterfallError::Invalid { path: path.into(), reason: reason.into() }
}

fn percent_weight(percent: Decimal) -> Result<i128, MoneyError> {
    let scaled = percent.checked_mul(Decimal::from(10i64.pow(PERCENT_SCALE))).ok_or(MoneyError::Overflow)?;
    scaled.trunc().to_i128().ok_or(MoneyError::Overflow)
}

/// Checks terms against the fund's tranches; every problem is named by its JSON path.
pub fn validate(terms: &Terms, tranches: &[TrancheTerms]) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    let known = |id: &str| tranches.iter().any(|t| t.id == id);
    if terms.steps.is_empty() || terms.steps.len() > STEPS_MAX {
        problems.push(("steps".into(), format!("give 1 to {STEPS_MAX} steps")));
    }
    let mut residual_taken_at: Option<usize> = None;
    for (index, step) in terms.steps.iter().enumerate() {
        let path = format!("steps[{index}]");
        if let Some(earlier) = residual_taken_at {
            problems.push((
                path.clone(),
                format!("can never pay: step {earlier} before it distributes everything that remains"),
            ));
        }
        let check_tranches = |list: &[String], problems: &mut Vec<(String, String)>| {
            if list.is_empty() {
                problems.push((format!("{path}.tranches"), "name at least one tranche".into()));
            }
            for (i, id) in list.iter().enumerate() {
                if !known(id) {
                    problems.push((format!("{path}.tranches[{i}]"), format!("unknown tranche {id}")));
                }
            }
        };
        match step {
            Step::Fee { name, account, fixed, rate_on_commitments, tranches: named } => {
                let name = name.trim();
                if name.is_empty() || name.chars().count() > FEE_NAME_CHARS_MAX {
                    problems.push((
                        format!("{path}.name"),
                        format!("name the fee in 1 to {FEE_NAME_CHARS_MAX} characters"),
                    ));
                } else if let Some(reason) = super::text::refusal(name, false) {
                    problems.push((format!("{path}.name"), reason.into()));
                }
                if account.trim().is_empty() {
                    problems.push((format!("{path}.account"), "name the account the fee is paid to".into()));
                }
                match (fixed, rate_on_commitments) {
                    (Some(amount), None) if amount.get() > 0 => {}
                    (None, Some(rate)) if rate.scale() > RATE_SCALE => problems
                        .push((format!("{path}.rate_on_commitments"), format!("at most {RATE_SCALE} decimal places"))),
                    (None, Some(rate)) if *rate > Decimal::ZERO && *rate <= Decimal::ONE => {}
                    (Some(_), Some(_)) => {
                        problems.push((path.clone(), "give either fixed or rate_on_commitments, not both".into()))
                    }
                    (None, None) => problems.push((path.clone(), "give fixed or rate_on_commitments".into())),
                    _ => problems
                        .push((path.clone(), "can never pay: the fee must be positive (a rate at most 1)".into())),
                }
                for (i, id) in named.iter().enumerate() {
                    if !known(id) {
                        problems.push((format!("{path}.tranches[{i}]"), format!("unknown tranche {id}")));
                    }
                }
            }
            Step::Pref { tranches: named, .. } => {
                check_tranches(named, &mut problems);
                let all_zero =
                    named.iter().all(|id| tranches.iter().find(|t| &t.id == id).is_none_or(|t| t.pref_rate.is_zero()));
                if !named.is_empty() && all_zero {
                    problems
                        .push((path.clone(), "can never pay: every named tranche has a preferred return of 0".into()));
                }
            }
            Step::Capital { tranches: named, .. } => check_tranches(named, &mut problems),
            Step::Reserve { account, percent, cap } => {
                if account.trim().is_empty() {
                    problems.push((format!("{path}.account"), "name the reserve account".into()));
                }
                if *percent <= Decimal::ZERO || *percent > Decimal::ONE_HUNDRED {
                    problems.push((format!("{path}.percent"), "must be above 0 and at most 100".into()));
                } else if percent.scale() > PERCENT_SCALE {
                    problems.push((format!("{path}.percent"), too_fine()));
                }
                if cap.is_some_and(|c| c.get() <= 0) {
                    problems.push((format!("{path}.cap"), "can never pay: the cap must be positive".into()));
                }
                if *percent == Decimal::ONE_HUNDRED && cap.is_none() {
                    residual_taken_at = Some(index);
                }
            }
            Step::CatchUp { beneficiary, target_percent } => {
                if let Target::Tranche(id) = beneficiary {
                    if !known(id) {
                        problems.push((format!("{path}.beneficiary"), format!("unknown tranche {id}")));
                    }
                }
                if *target_percent <= Decimal::ZERO || *target_percent >= Decimal::ONE_HUNDRED {
                    problems.push((format!("{path}.target_percent"), "must be above 0 and below 100".into()));
                } else if target_percent.scale() > PERCENT_SCALE {
                    problems.push((format!("{path}.target_percent"), too_fine()));
                }
            }
            Step::Split { shares } => {
                match shares.iter().try_fold(Decimal::ZERO, |sum, share| sum.checked_add(share.percent)) {
                    Some(total) if total == Decimal::ONE_HUNDRED => {}
                    Some(total) => {
                        problems.push((format!("{path}.shares"), format!("percentages sum to {total}, not 100")))
                    }
                    None => problems.push((format!("{path}.shares"), "percentages sum to far more than 100".into())),
                }
                for (i, share) in shares.iter().enumerate() {
                    if share.percent < Decimal::ZERO || share.percent > Decimal::ONE_HUNDRED {
                        problems.push((format!("{path}.shares[{i}].percent"), "must be from 0 to 100".into()));
                    } else if share.percent.scale() > PERCENT_SCALE {
                        problems.push((format!("{path}.shares[{i}].percent"), too_fine()));
                    }
                    if let Target::Tranche(id) = &share.target {
                        if !known(id) {
                            problems.push((format!("{path}.shares[{i}]"), format!("unknown tranche {id}")));
                        }
                    }
                }
                residual_taken_at = Some(index);
            }
        }
    }
    problems
}

/// Split shares naming a receiver a share before them already names, by path: refused when
/// terms are saved. Terms stored before that rule still run, their repeated shares merged
/// ([`merged_shares`]).
pub fn repeated_receivers(terms: &Terms) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    for (index, step) in terms.steps.iter().enumerate() {
        let Step::Split { shares } = step else { continue };
        let mut first_of: BTreeMap<&Target, usize> = BTreeMap::new();
        for (i, share) in shares.iter().enumerate() {
            if let Some(first) = first_of.get(&share.target) {
                problems.push((
                    format!("steps[{index}].shares[{i}]"),
                    format!("names the same receiver as shares[{first}]: give each receiver one share"),
                ));
            } else {
                first_of.insert(&share.target, i);
            }
        }
    }
    problems
}

/// One share per receiver, in the order first listed, with the percentages of repeats added:
/// two shares of one capped tranche would each be capped against the same room.
fn merged_shares(shares: &[Share]) -> Vec<Share> {
    let mut merged: Vec<Share> = Vec::with_capacity(shares.len());
    let mut slot_of: BTreeMap<&Target, usize> = BTreeMap::new();
    for share in shares {
        match slot_of.get(&share.target) {
            // Each percentage is at most 100 (`validate`): the sum cannot overflow.
            Some(slot) => merged[*slot].percent = merged[*slot].percent.saturating_add(share.percent),
            None => {
                slot_of.insert(&share.target, merged.len());
                merged.push(share.clone());
            }
        }
    }
    merged
}

fn too_fine() -> String {
    format!("at most {PERCENT_SCALE} decimal places")
}

/// `amount x factor`, rounded down to the cent, in integers.
fn multiply_down(amount: Cents, factor: Decimal) -> Result<Cents, MoneyError> {
    let product = i128::from(amount.get()).checked_mul(factor.mantissa()).ok_or(MoneyError::Overflow)?;
    i64::try_from(product.div_euclid(10i128.pow(factor.scale()))).map(Cents::new).map_err(|_| MoneyError::Overflow)
}

/// What a position has received so far in the distribution being computed.
#[derive(Clone, Copy, Default)]
struct Received {
    total: Cents,
    profit: Cents,
    pref: Cents,
    capital: Cents,
}

/// State while a distribution runs through its steps. Positions are read, never copied:
/// what changes lives in `now`, indexed like `positions`.
struct Run<'a> {
    tranches: &'a [TrancheTerms],
    positions: &'a [Position],
    now: Vec<Received>,
    paid_in: Vec<Cents>,
    /// Index into `tranches` of each position's tranche.
    tranche_of: Vec<usize>,
    /// Each tranche's id, shared by the lines that name it.
    tranche_ids: Vec<Arc<str>>,
    /// Positions of each tranche, in id order.
    members: BTreeMap<&'a str, Vec<usize>>,
    /// Most a position may ever receive under its tranche's return cap (paid-in does not
    /// change during a distribution, so this is computed once).
    cap_limits: Vec<Option<Cents>>,
    account_profits: BTreeMap<String, Cents>,
    date: NaiveDate,
    left: Cents,
}

impl<'a> Run<'a> {
    fn new(
        tranches: &'a [TrancheTerms],
        positions: &'a [Position],
        account_profits: BTreeMap<String, Cents>,
        date: NaiveDate,
        cash: Cents,
    ) -> Result<Self, MoneyError> {
        let mut order: Vec<usize> = (0..positions.len()).collect();
        if !positions.is_sorted_by(|a, b| a.id <= b.id) {
            order.sort_by(|a, b| positions[*a].id.cmp(&positions[*b].id));
        }
        let mut members: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for index in order {
            members.entry(positions[index].tranche_id.as_str()).or_default().push(index);
        }
        let paid_in: Vec<Cents> = positions.iter().map(Position::paid_in).collect();
        let tranche_of: Vec<usize> = positions
            .iter()
            .map(|p| tranches.iter().position(|t| t.id == p.tranche_id).unwrap_or(usize::MAX))
            .collect();
        let tranche_ids: Vec<Arc<str>> = tranches.iter().map(|t| Arc::from(t.id.as_str())).collect();
        let cap_limits = positions
            .iter()
            .zip(&paid_in)
            .map(|(position, paid)| {
                let cap = tranches.iter().find(|t| t.id == position.tranche_id).and_then(|t| t.return_cap);
                cap.map(|cap| multiply_down(*paid, cap)).transpose()
            })
            .collect::<Result<_, _>>()?;
        Ok(Run {
            tranches,
            positions,
            now: vec![Received::default(); positions.len()],
            paid_in,
            tranche_of,
            tranche_ids,
            members,
            cap_limits,
            account_profits,
            date,
            left: cash,
        })
    }

    fn tranche(&self, id: &str) -> Option<&TrancheTerms> {
        self.tranches.iter().find(|t| t.id == id)
    }

    /// The shared id of a position's tranche.
    fn tranche_id_of(&self, position: usize) -> Arc<str> {
        self.tranche_ids
            .get(self.tranche_of[position])
            .cloned()
            .unwrap_or_else(|| Arc::from(self.positions[position].tranche_id.as_str()))
    }

    fn total_received(&self, position: usize) -> Cents {
        Cents::new(self.positions[position].total_received.get() + self.now[position].total.get())
    }

    /// How much more a position may receive before its tranche's return cap.
    fn headroom(&self, position: usize) -> Option<Cents> {
        self.cap_limits[position].map(|limit| Cents::new((limit.get() - self.total_received(position).get()).max(0)))
    }

    /// Positions of the named tranches, most senior tranche first, then by id.
    fn positions_of<S: AsRef<str>>(&self, tranche_ids: &[S]) -> Vec<usize> {
        let mut named: Vec<&TrancheTerms> =
            self.tranches.iter().filter(|t| tranche_ids.iter().any(|id| id.as_ref() == t.id)).collect();
        named.sort_by_key(|t| t.seniority);
        named.iter().filter_map(|t| self.members.get(t.id.as_str())).flatten().copied().collect()
    }

    fn credit(&mut self, position: usize, amount: Cents, kind: &str) -> Result<(), MoneyError> {
        let received = &mut self.now[position];
        received.total = received.total.checked_add(amount)?;
        match kind {
            "capital" => received.capital = received.capital.checked_add(amount)?,
            "pref" => {
                received.pref = received.pref.checked_add(amount)?;
                received.profit = received.profit.checked_add(amount)?;
            }
            _ => received.profit = received.profit.checked_add(amount)?,
        }
        self.left = self.left.checked_sub(amount)?;
        Ok(())
    }

    /// Pays owed amounts of positions, sequentially by tranche rank or all pro rata.
    fn pay_positions(
        &mut self,
        indices: &[usize],
        owed: &[Cents],
        mode: Mode,
        kind: &str,
    ) -> Result<Vec<Cents>, MoneyError> {
        let mut paid = vec![Cents::ZERO; indices.len()];
        let groups: Vec<Vec<usize>> = match mode {
            Mode::ProRata => vec![(0..indices.len()).collect()],
            Mode::Sequential => {
                let mut by_tranche: Vec<(usize, Vec<usize>)> = Vec::new();
                for (slot, index) in indices.iter().enumerate() {
                    let tranche = self.tranche_of[*index];
                    match by_tranche.last_mut() {
                        Some((id, group)) if *id == tranche => group.push(slot),
                        _ => by_tranche.push((tranche, vec![slot])),
                    }
                }
                by_tranche.into_iter().map(|(_, group)| group).collect()
            }
        };
        for mut group in groups {
            // Largest remainders tie to the lower position id, whatever the tranches' ranks.
            group.sort_by(|a, b| self.positions[indices[*a]].id.cmp(&self.positions[indices[*b]].id));
            let group_owed = Cents::sum(group.iter().map(|slot| owed[*slot]))?;
            let pay = group_owed.min(self.left);
            let weights: Vec<Cents> = group.iter().map(|slot| owed[*slot]).collect();
            let shares = if pay.is_zero() { vec![Cents::ZERO; group.len()] } else { allocate_pro_rata(pay, &weights)? };
            for (slot, share) in group.iter().zip(shares) {
                paid[*slot] = share;
                self.credit(indices[*slot], share, kind)?;
            }
        }
        Ok(paid)
    }

    /// Shares `amount` over positions by weight without passing anyone's cap. Returns what
    /// each got and what could not be placed because everyone is capped.
    fn place_capped(
        &self,
        amount: Cents,
        indices: &[usize],
        weights: &[i128],
    ) -> Result<(Vec<Cents>, Cents), MoneyError> {
        let caps: Vec<Option<Cents>> = indices.iter().map(|i| self.headroom(*i)).collect();
        allocate_capped(amount, weights, &caps)
    }
}

/// Allocates `amount` pro rata to `weights`, never giving anyone more than their cap; what a
/// capped party cannot take goes to the others pro rata to their weights. A cap binds when the
/// exact share passes it, never because rounding a share reached it: the parties a cap does
/// not bind share as by the rule of docs/ledger.md ("Money"). Bounded: each round saturates
/// at least one party or ends.
pub fn allocate_capped(
    amount: Cents,
    weights: &[i128],
    caps: &[Option<Cents>],
) -> Result<(Vec<Cents>, Cents), MoneyError> {
    let mut given = vec![Cents::ZERO; weights.len()];
    let mut saturated: Vec<bool> = caps.iter().map(|c| c.is_some_and(|c| c.get() <= 0)).collect();
    let mut left = amount;
    for _round in 0..=weights.len() {
        let active: Vec<usize> = (0..weights.len()).filter(|i| !saturated[*i] && weights[*i] > 0).collect();
        if left.is_zero() || active.is_empty() {
            break;
        }
        let active_weights: Vec<i128> = active.iter().map(|i| weights[*i]).collect();
        let weight_sum: i128 = active_weights.iter().sum();
        let mut capped_any = false;
        for i in &active {
            if let Some(cap) = caps[*i] {
                let room = cap.checked_sub(given[*i])?;
                if exact_share_exceeds(left, weights[*i], weight_sum, room)? {
                    given[*i] = cap;
                    saturated[*i] = true;
                    capped_any = true;
                }
            }
        }
        let shares = if capped_any { Vec::new() } else { allocate_by_weights(left, &active_weights)? };
        if !capped_any {
            for (slot, i) in active.iter().enumerate() {
                given[*i] = given[*i].checked_add(shares[slot])?;
            }
            left = Cents::ZERO;
            break;
        }
        left = amount.checked_sub(Cents::sum(given.iter().copied())?)?;
    }
    Ok((given, left))
}

/// Whether `amount x weight / weight_sum`, exactly, is more than `room`.
fn exact_share_exceeds(amount: Cents, weight: i128, weight_sum: i128, room: Cents) -> Result<bool, MoneyError> {
    let product = i128::from(amount.get()).checked_mul(weight).ok_or(MoneyError::Overflow)?;
    let (whole, rest) = (product / weight_sum, product % weight_sum);
    let room = i128::from(room.get());
    Ok(whole > room || (whole == room && rest > 0))
}

/// Runs `cash` through the terms on `date`. `positions` are the state before this distribution;
/// `account_profits` what each account received from catch-up and split steps so far.
pub fn distribute(
    terms: &Terms,
    tranches: &[TrancheTerms],
    positions: &[Position],
    account_profits: &BTreeMap<String, Cents>,
    cash: Cents,
    date: NaiveDate,
) -> Result<Allocation, WaterfallError> {
    let problems = validate(terms, tranches);
    if let Some((path, reason)) = problems.into_iter().next() {
        return Err(invalid(path, reason));
    }
    if cash.is_negative() {
        return Err(invalid("cash", "must not be negative"));
    }
    let mut run = Run::new(tranches, positions, account_profits.clone(), date, cash)?;
    let mut steps = Vec::with_capacity(terms.steps.len());
    for (index, step) in terms.steps.iter().enumerate() {
        let available = run.left;
        let (description, lines) = match step {
            Step::Fee { name, account, fixed, rate_on_commitments, tranches: named } => {
                fee_step(&mut run, name, account, *fixed, *rate_on_commitments, named)?
            }
            Step::Pref { tranches: named, mode } => pref_step(&mut run, named, *mode)?,
            Step::Capital { tranches: named, mode } => capital_step(&mut run, named, *mode)?,
            Step::Reserve { account, percent, cap } => reserve_step(&mut run, account, *percent, *cap)?,
            Step::CatchUp { beneficiary, target_percent } => catch_up_step(&mut run, beneficiary, *target_percent)?,
            Step::Split { shares } => split_step(&mut run, shares)?,
        };
        let owed = Cents::sum(lines.iter().map(|l| l.owed))?;
        let paid = Cents::sum(lines.iter().map(|l| l.paid))?;
        debug_assert_eq!(available.get() - paid.get(), run.left.get(), "step {index} lost or created cents");
        steps.push(StepResult { index, kind: step.kind().into(), description, available, owed, paid, lines });
    }
    let distributed = cash.checked_sub(run.left)?;
    Ok(Allocation { date, cash, distributed, remaining: run.left, steps })
}

fn tranche_names(run: &Run<'_>, ids: &[String]) -> String {
    let mut named: Vec<&TrancheTerms> = ids.iter().filter_map(|id| run.tranche(id)).collect();
    named.sort_by_key(|t| t.seniority);
    named.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", ")
}

fn account_line(account: &str, owed: Cents, paid: Cents, rule: String) -> Line {
    Line::settled(Target::Account(account.into()), None, owed, paid, rule.into())
}

fn fee_step(
    run: &mut Run<'_>,
    name: &str,
    account: &str,
    fixed: Option<Cents>,
    rate: Option<Decimal>,
    named: &[String],
) -> Result<(String, Vec<Line>), WaterfallError> {
    let (owed, rule) = match (fixed, rate) {
        (Some(amount), _) => (amount, format!("fixed fee {amount}")),
        (None, Some(rate)) => {
            let base = Cents::sum(
                run.positions.iter().filter(|p| named.is_empty() || named.contains(&p.tranche_id)).map(|p| p.committed),
            )?;
            // A fee beyond the largest amount is owed as that amount, more than any cash to pay it.
            let (fee, beyond) = match base.to_decimal().checked_mul(rate).map(Cents::floor_from) {
                Some(Ok(fee)) => (fee, ""),
                Some(Err(MoneyError::TooLarge)) | None => {
                    (Cents::new(AMOUNT_CENTS_MAX), ", owed as the largest amount, ")
                }
                Some(Err(error)) => return Err(error.into()),
            };
            let percent = (rate * Decimal::ONE_HUNDRED).normalize();
            let owed_text = if beyond.is_empty() { String::new() } else { format!("{beyond}{fee}") };
            (fee, format!("{percent}% of commitments of {base}{owed_text}"))
        }
        (None, None) => (Cents::ZERO, "no fee".into()),
    };
    let paid = owed.min(run.left);
    run.left = run.left.checked_sub(paid)?;
    Ok((format!("Fee: {name}"), vec![account_line(account, owed, paid, rule)]))
}

/// Per position: (owed in full, owed within the return cap, basis, settled before).
type Owing = (Cents, Cents, Cents, Cents);

fn pref_step(run: &mut Run<'_>, named: &[String], mode: Mode) -> Result<(String, Vec<Line>), WaterfallError> {
    let indices = run.positions_of(named);
    let rules: Vec<Arc<str>> = run
        .tranches
        .iter()
        .map(|t| {
            let rule = format!(
                "{}% a year, simple, ACT/365F on outstanding contributed capital; basis = pref accrued to date, settled_before = pref paid before",
                (t.pref_rate * Decimal::ONE_HUNDRED).normalize()
            );
            Arc::from(rule)
        })
        .collect();
    let mut owing = Vec::with_capacity(indices.len());
    for i in &indices {
        let position = &run.positions[*i];
        let rate = run.tranches.get(run.tranche_of[*i]).map_or(Decimal::ZERO, |t| t.pref_rate);
        let accrued = position.pref_accrued(rate, run.date)?;
        let paid_before = position.pref_paid.checked_add(run.now[*i].pref)?;
        let unpaid = Cents::new((accrued.get() - paid_before.get()).max(0));
        let due = run.headroom(*i).map_or(unpaid, |h| unpaid.min(h));
        owing.push((unpaid, due, accrued, paid_before));
    }
    let due: Vec<Cents> = owing.iter().map(|o| o.1).collect();
    let paid = run.pay_positions(&indices, &due, mode, "pref")?;
    let lines = lines_for(run, &indices, &owing, &paid, &rules);
    Ok((format!("Preferred return, {}: {}", mode_words(mode), tranche_names(run, named)), lines))
}

fn capital_step(run: &mut Run<'_>, named: &[String], mode: Mode) -> Result<(String, Vec<Line>), WaterfallError> {
    let indices = run.positions_of(named);
    let rule: Arc<str> =
        Arc::from("outstanding contributed capital; basis = paid in, settled_before = capital returned before");
    let rules: Vec<Arc<str>> = run.tranches.iter().map(|_| rule.clone()).collect();
    let mut owing = Vec::with_capacity(indices.len());
    for i in &indices {
        let position = &run.positions[*i];
        let outstanding = position.outstanding_capital().checked_sub(run.now[*i].capital)?;
        let outstanding = Cents::new(outstanding.get().max(0));
        let due = run.headroom(*i).map_or(outstanding, |h| outstanding.min(h));
        let paid_in = run.paid_in[*i];
        owing.push((outstanding, due, paid_in, paid_in.checked_sub(outstanding)?));
    }
    let due: Vec<Cents> = owing.iter().map(|o| o.1).collect();
    let paid = run.pay_positions(&indices, &due, mode, "capital")?;
    let lines = lines_for(run, &indices, &owing, &paid, &rules);
    Ok((format!("Return of capital, {}: {}", mode_words(mode), tranche_names(run, named)), lines))
}

fn mode_words(mode: Mode) -> &'static str {
    match mode {
        Mode::Sequential => "sequential by seniority",
        Mode::ProRata => "pro rata",
    }
}

fn lines_for(run: &Run<'_>, indices: &[usize], owing: &[Owing], paid: &[Cents], rules: &[Arc<str>]) -> Vec<Line> {
    indices
        .iter()
        .zip(owing)
        .zip(paid)
        .map(|((i, (full, due, basis, before)), paid)| {
            let position = &run.positions[*i];
            let shared = rules.get(run.tranche_of[*i]).cloned().unwrap_or_else(|| Arc::from(""));
            let rule = if due < full {
                Arc::from(format!("{shared}; the return cap leaves room for {due} only"))
            } else {
                shared
            };
            Line {
                basis: Some(*basis),
                settled_before: Some(*before),
                ..Line::settled(Target::Tranche(run.tranche_id_of(*i)), Some(position.id.clone()), *full, *paid, rule)
            }
        })
        .collect()
}

fn reserve_step(
    run: &mut Run<'_>,
    account: &str,
    percent: Decimal,
    cap: Option<Cents>,
) -> Result<(String, Vec<Line>), WaterfallError> {
    let share = Cents::floor_from(run.left.to_decimal() * percent / Decimal::ONE_HUNDRED)?;
    let owed = cap.map_or(share, |c| share.min(c));
    let paid = owed.min(run.left);
    let mut rule = format!("{}% of the {} remaining", percent.normalize(), run.left);
    if let Some(cap) = cap {
        rule.push_str(&format!(", capped at {cap}"));
    }
    run.left = run.left.checked_sub(paid)?;
    Ok((format!("Reserve to account {account}"), vec![account_line(account, owed, paid, rule)]))
}

/// Profits paid so far to everyone, and to one target.
fn profits(run: &Run<'_>, target: &Target) -> Result<(Cents, Cents), MoneyError> {
    let profit_of = |i: usize| Cents::new(run.positions[i].profit_received.get() + run.now[i].profit.get());
    let positions = Cents::sum((0..run.positions.len()).map(profit_of))?;
    let accounts = Cents::sum(run.account_profits.values().copied())?;
    let all = positions.checked_add(accounts)?;
    let own = match target {
        Target::Account(code) => run.account_profits.get(code).copied().unwrap_or_default(),
        Target::Tranche(id) => Cents::sum(run.members.get(&**id).into_iter().flatten().map(|i| profit_of(*i)))?,
    };
    Ok((all, own))
}

/// Pays `amount` to a target: an account takes it whole, a tranche shares it over its
/// positions pro rata to paid-in without passing any cap.
fn pay_target(
    run: &mut Run<'_>,
    target: &Target,
    amount: Cents,
    owed: Cents,
    rule: Arc<str>,
) -> Result<Vec<Line>, WaterfallError> {
    match target {
        Target::Account(code) => {
            run.left = run.left.checked_sub(amount)?;
            let entry = run.account_profits.entry(code.clone()).or_default();
            *entry = entry.checked_add(amount)?;
            Ok(vec![Line::settled(target.clone(), None, owed, amount, rule)])
        }
        Target::Tranche(id) => {
            let indices = run.positions_of(std::slice::from_ref(id));
            let weights: Vec<i128> = indices.iter().map(|i| i128::from(run.paid_in[*i].get())).collect();
            let (shares, _unplaced) = run.place_capped(amount, &indices, &weights)?;
            let owed_shares = if owed.is_zero() || weights.iter().all(|w| *w == 0) {
                vec![Cents::ZERO; indices.len()]
            } else {
                allocate_by_weights(owed, &weights)?
            };
            let mut lines = Vec::with_capacity(indices.len());
            for ((i, share), owed_share) in indices.iter().zip(&shares).zip(owed_shares) {
                run.credit(*i, *share, "profit")?;
                let position = Some(run.positions[*i].id.clone());
                lines.push(Line::settled(target.clone(), position, owed_share, *share, rule.clone()));
            }
            Ok(lines)
        }
    }
}

fn target_name(run: &Run<'_>, target: &Target) -> String {
    match target {
        Target::Account(code) => format!("account {code}"),
        Target::Tranche(id) => run.tranche(id).map_or_else(|| id.to_string(), |t| t.name.clone()),
    }
}

fn catch_up_step(
    run: &mut Run<'_>,
    beneficiary: &Target,
    target_percent: Decimal,
) -> Result<(String, Vec<Line>), WaterfallError> {
    let (all, own) = profits(run, beneficiary)?;
    let others = all.checked_sub(own)?;
    let t = target_percent / Decimal::ONE_HUNDRED;
    // The beneficiary holds t of all profits when own = t / (1 - t) x others. Validated terms
    // keep 1 - t at 1e-8 or more, so the decimal holds it; a target beyond the largest amount
    // is owed as that amount, which is more than any cash to pay it.
    let target = others.to_decimal().checked_mul(t).and_then(|x| x.checked_div(Decimal::ONE - t));
    let (wanted, beyond) = match target.map(Cents::floor_from) {
        Some(Ok(wanted)) => (wanted, ""),
        Some(Err(MoneyError::TooLarge)) | None => (Cents::new(AMOUNT_CENTS_MAX), "above "),
        Some(Err(error)) => return Err(error.into()),
    };
    let owed = Cents::new(wanted.get().saturating_sub(own.get()).clamp(0, AMOUNT_CENTS_MAX));
    let pay = owed.min(run.left);
    let rule = format!(
        "catch-up to {}% of profits: others hold {others}, beneficiary {own}, target {beyond}{wanted}",
        target_percent.normalize()
    );
    let lines = pay_target(run, beneficiary, pay, owed, Arc::from(rule))?;
    Ok((format!("Catch-up to {}", target_name(run, beneficiary)), lines))
}

fn split_step(run: &mut Run<'_>, shares: &[Share]) -> Result<(String, Vec<Line>), WaterfallError> {
    let merged = merged_shares(shares);
    let shares = merged.as_slice();
    let residual = run.left;
    let weights: Vec<i128> = shares.iter().map(|s| percent_weight(s.percent)).collect::<Result<_, _>>()?;
    // A tranche can take at most the sum of its positions' headroom; accounts are uncapped.
    // A tranche nobody has paid into (or without positions) can take nothing: its positions
    // share what it takes by paid-in, so its share goes to the others, as a capped one's does.
    let mut caps = Vec::with_capacity(shares.len());
    let mut unpaid = vec![false; shares.len()];
    for (slot, share) in shares.iter().enumerate() {
        caps.push(match &share.target {
            Target::Account(_) => None,
            Target::Tranche(id) => {
                let indices = run.positions_of(std::slice::from_ref(id));
                let mut total: Option<Cents> = Some(Cents::ZERO);
                for i in &indices {
                    total = match (total, run.headroom(*i)) {
                        (Some(sum), Some(room)) => Some(sum.checked_add(room)?),
                        _ => None,
                    };
                }
                unpaid[slot] = indices.iter().all(|i| run.paid_in[*i].is_zero());
                if unpaid[slot] {
                    Some(Cents::ZERO)
                } else {
                    total
                }
            }
        });
    }
    // Allocated over the targets in id order, so that exact ties go to the lower id, whatever
    // the order the shares are listed in.
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by(|a, b| shares[*a].target.id().cmp(shares[*b].target.id()));
    let sorted_weights: Vec<i128> = order.iter().map(|i| weights[*i]).collect();
    let sorted_caps: Vec<Option<Cents>> = order.iter().map(|i| caps[*i]).collect();
    let (sorted_amounts, _unplaced) = allocate_capped(residual, &sorted_weights, &sorted_caps)?;
    let sorted_nominal = allocate_by_weights(residual, &sorted_weights)?;
    let mut nominal = vec![Cents::ZERO; shares.len()];
    let mut amounts = vec![Cents::ZERO; shares.len()];
    for (slot, index) in order.iter().enumerate() {
        nominal[*index] = sorted_nominal[slot];
        amounts[*index] = sorted_amounts[slot];
    }
    let mut lines = Vec::new();
    for (((share, amount), owed), unpaid) in shares.iter().zip(&amounts).zip(&nominal).zip(&unpaid) {
        let mut rule = format!("{}% of the residual {residual}", share.percent.normalize());
        if amount < owed && *unpaid {
            rule.push_str("; nothing paid in, its share goes to the others pro rata");
        } else if amount < owed {
            rule.push_str("; return cap reached, the excess goes to the others pro rata");
        } else if amount > owed {
            rule.push_str("; with its share of what capped targets could not take");
        }
        let mut paid_lines = pay_target(run, &share.target, *amount, *owed, Arc::from(rule))?;
        lines.append(&mut paid_lines);
    }
    Ok(("Residual split".into(), lines))
}

/// One posting of the journal entry that records an executed distribution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JournalLine {
    pub account_code: String,
    /// Positive: debit. Negative: credit.
    pub amount: Cents,
    pub position_id: Option<Arc<str>>,
    pub memo: String,
}

/// The balanced entry of a distribution: each payment debits its receiver (a tranche's
/// contributed capital `3100.NN` for returns of capital, its distributions account `3200.NN`
/// for pref and profit, or the named account), and cash is credited with the total paid.
pub fn journal_lines(
    allocation: &Allocation,
    seniority_of: impl Fn(&str) -> Option<i32>,
    cash_account: &str,
) -> Result<Vec<JournalLine>, WaterfallError> {
    let mut lines = Vec::new();
    for step in &allocation.steps {
        for line in step.lines.iter().filter(|l| l.paid.get() > 0) {
            let account_code = match &line.target {
                Target::Account(code) => code.clone(),
                Target::Tranche(tranche) => {
                    let rank =
                        seniority_of(tranche).ok_or_else(|| invalid("lines", format!("unknown tranche {tranche}")))?;
                    let parent = if step.kind == "capital" {
                        chart::CONTRIBUTED_CAPITAL
                    } else {
                        chart::DISTRIBUTIONS_TO_INVESTORS
                    };
                    chart::tranche_account(parent, rank)
                }
            };
            lines.push(JournalLine {
                account_code,
                amount: line.paid,
                position_id: line.position_id.clone(),
                memo: format!("{} step {}", step.kind, step.index),
            });
        }
    }
    if !allocation.distributed.is_zero() {
        lines.push(JournalLine {
            account_code: cash_account.to_string(),
            amount: allocation.distributed.checked_neg()?,
            position_id: None,
            memo: "distribution".into(),
        });
    }
    debug_assert_eq!(lines.iter().map(|l| l.amount.get()).sum::<i64>(), 0);
    Ok(lines)
}

/// Allocates a write-down over positions in reverse seniority (first-loss first): each
/// tranche absorbs up to its positions' capital at risk before the next senior one is touched;
/// within a tranche, pro rata to capital at risk. Refused when the loss exceeds all capital.
pub fn allocate_loss(
    loss: Cents,
    tranches: &[TrancheTerms],
    at_risk: &[(String, String, Cents)],
) -> Result<Vec<(String, Cents)>, WaterfallError> {
    if loss.get() <= 0 {
        return Err(invalid("amount", "must be greater than zero"));
    }
    let total = Cents::sum(at_risk.iter().map(|(_, _, c)| *c))?;
    if loss > total {
        return Err(invalid("amount", format!("the loss {loss} exceeds all capital at risk ({total})")));
    }
    let mut order: Vec<&TrancheTerms> = tranches.iter().collect();
    order.sort_by_key(|t| std::cmp::Reverse(t.seniority));
    let mut left = loss;
    let mut result = Vec::new();
    for tranche in order {
        let members: Vec<&(String, String, Cents)> = at_risk.iter().filter(|(_, t, _)| *t == tranche.id).collect();
        let capacity = Cents::sum(members.iter().map(|(_, _, c)| *c))?;
        let take = capacity.min(left);
        if take.is_zero() {
            continue;
        }
        let weights: Vec<Cents> = members.iter().map(|(_, _, c)| *c).collect();
        for ((position, _, _), share) in members.iter().zip(allocate_pro_rata(take, &weights)?) {
            if !share.is_zero() {
                result.push((position.clone(), share));
            }
        }
        left = left.checked_sub(take)?;
    }
    debug_assert!(left.is_zero());
    Ok(result)
}

#[cfg(test)]
mod tests;
