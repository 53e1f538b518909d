//! Where each compute-grant euro came from (docs/grants.md, "Where the pool's money came from").
//!
//! The pool's money is traced through three kinds of holder, in journal order: the pool itself,
//! each grant call's reserved budget, and each award's aid. A distribution's reserve step brings
//! money in, split over the sources pro rata to what each had paid in by then; every later move
//! (a call's budget, an award, a usage debit, a lapse returning aid) takes from its holder's
//! attributed balances pro rata to them, by the largest-remainder rule. Every split sums exactly
//! to the amount moved, so per source: reserved + topped up = in the pool + in calls + in awards
//! + used + withdrawn, to the cent.

use std::collections::BTreeMap;

use super::hours::GpuHours;
use super::money::{allocate_units, Cents, MoneyError};

/// The source money is attributed to when no source can be named: money put into the pool by a
/// manual entry, or reserved before anyone had paid in.
pub const UNATTRIBUTED: &str = "unattributed";

/// One move of the pool's money, as the journal records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PoolFlow {
    /// A distribution's reserve step; `paid_in` is each source's paid-in capital on its date.
    Reserve { amount: Cents, paid_in: Vec<(String, Cents)> },
    /// Money put into the pool otherwise (a manual entry): unattributed.
    TopUp { amount: Cents },
    /// Money taken out of the pool otherwise (a manual entry).
    Withdrawal { amount: Cents },
    /// A grant call's budget reserved from the pool.
    CallBudget { call: String, amount: Cents },
    /// An award's aid value committed from its call's budget.
    Award { call: String, award: String, amount: Cents },
    /// A usage batch's debit of one award, with the GPU-hours it paid for.
    Usage { award: String, amount: Cents, hours: GpuHours },
    /// Unused aid returned to the pool at the end of an award, with the hours that lapsed.
    Lapse { award: String, amount: Cents, hours: GpuHours },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttributionError {
    #[error("{holder} holds {held} and cannot give {wanted}")]
    Overdrawn { holder: String, held: Cents, wanted: Cents },
    #[error(transparent)]
    Money(#[from] MoneyError),
}

/// Attributed balances of one holder, by source id (ordered, so splits are deterministic).
pub type Holdings = BTreeMap<String, i64>;

/// What the pool received from and gave on behalf of one source.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PoolShare {
    pub reserved: i64,
    pub topped_up: i64,
    pub withdrawn: i64,
    pub committed_to_calls: i64,
}

/// One source's part of one award.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AwardShare {
    pub awarded: i64,
    pub used: i64,
    pub returned: i64,
    pub hours_used_milli: i64,
    pub hours_lapsed_milli: i64,
}

/// The attribution of a fund's pool after some flows.
#[derive(Clone, Debug, Default)]
pub struct Attribution {
    pub pool: Holdings,
    pub calls: BTreeMap<String, Holdings>,
    pub awards: BTreeMap<String, Holdings>,
    pub pool_shares: BTreeMap<String, PoolShare>,
    pub award_shares: BTreeMap<String, BTreeMap<String, AwardShare>>,
}

/// Splits `amount` over `weights` (source, weight) by the largest-remainder rule.
fn split(amount: i64, weights: &[(String, i64)]) -> Result<Vec<(String, i64)>, MoneyError> {
    let units: Vec<i128> = weights.iter().map(|(_, w)| i128::from(*w)).collect();
    let parts = allocate_units(amount, &units)?;
    Ok(weights.iter().map(|(s, _)| s.clone()).zip(parts).filter(|(_, part)| *part != 0).collect())
}

fn positive(holdings: &Holdings) -> Vec<(String, i64)> {
    holdings.iter().filter(|(_, v)| **v > 0).map(|(s, v)| (s.clone(), *v)).collect()
}

fn add(into: &mut i64, amount: i64) -> Result<(), MoneyError> {
    *into = into.checked_add(amount).ok_or(MoneyError::Overflow)?;
    Ok(())
}

fn credit(holdings: &mut Holdings, parts: &[(String, i64)]) -> Result<(), MoneyError> {
    for (source, part) in parts {
        add(holdings.entry(source.clone()).or_default(), *part)?;
    }
    Ok(())
}

/// Takes `amount` from `holdings` pro rata to the balances, or refuses when they hold less.
fn draw(holdings: &mut Holdings, holder: &str, amount: Cents) -> Result<Vec<(String, i64)>, AttributionError> {
    let weights = positive(holdings);
    let held: i64 = weights.iter().map(|(_, w)| *w).sum();
    if amount.get() > held {
        return Err(AttributionError::Overdrawn { holder: holder.into(), held: Cents::new(held), wanted: amount });
    }
    let parts = split(amount.get(), &weights)?;
    for (source, part) in &parts {
        add(holdings.entry(source.clone()).or_default(), -part)?;
    }
    holdings.retain(|_, v| *v != 0);
    Ok(parts)
}

impl Attribution {
    /// Applies one flow and answers how its amount was split over the sources.
    pub fn apply(&mut self, flow: &PoolFlow) -> Result<Vec<(String, i64)>, AttributionError> {
        match flow {
            PoolFlow::Reserve { amount, paid_in } => {
                let weights: Vec<(String, i64)> =
                    paid_in.iter().filter(|(_, c)| c.get() > 0).map(|(s, c)| (s.clone(), c.get())).collect();
                let parts = if amount.is_zero() {
                    Vec::new()
                } else if weights.is_empty() {
                    vec![(UNATTRIBUTED.to_string(), amount.get())]
                } else {
                    split(amount.get(), &weights)?
                };
                credit(&mut self.pool, &parts)?;
                for (source, part) in &parts {
                    add(&mut self.pool_shares.entry(source.clone()).or_default().reserved, *part)?;
                }
                Ok(parts)
            }
            PoolFlow::TopUp { amount } => {
                if amount.is_zero() {
                    return Ok(Vec::new());
                }
                let parts = vec![(UNATTRIBUTED.to_string(), amount.get())];
                credit(&mut self.pool, &parts)?;
                add(&mut self.pool_shares.entry(UNATTRIBUTED.into()).or_default().topped_up, amount.get())?;
                Ok(parts)
            }
            PoolFlow::Withdrawal { amount } => {
                let parts = draw(&mut self.pool, "the pool", *amount)?;
                for (source, part) in &parts {
                    add(&mut self.pool_shares.entry(source.clone()).or_default().withdrawn, *part)?;
                }
                Ok(parts)
            }
            PoolFlow::CallBudget { call, amount } => {
                let parts = draw(&mut self.pool, "the pool", *amount)?;
                credit(self.calls.entry(call.clone()).or_default(), &parts)?;
                for (source, part) in &parts {
                    add(&mut self.pool_shares.entry(source.clone()).or_default().committed_to_calls, *part)?;
                }
                Ok(parts)
            }
            PoolFlow::Award { call, award, amount } => {
                let holdings = self.calls.entry(call.clone()).or_default();
                let parts = draw(holdings, &format!("grant call {call}"), *amount)?;
                credit(self.awards.entry(award.clone()).or_default(), &parts)?;
                let shares = self.award_shares.entry(award.clone()).or_default();
                for (source, part) in &parts {
                    add(&mut shares.entry(source.clone()).or_default().awarded, *part)?;
                }
                Ok(parts)
            }
            PoolFlow::Usage { award, amount, hours } => self.take_from_award(award, *amount, *hours, false),
            PoolFlow::Lapse { award, amount, hours } => {
                let parts = self.take_from_award(award, *amount, *hours, true)?;
                credit(&mut self.pool, &parts)?;
                Ok(parts)
            }
        }
    }

    /// A usage debit or a lapse: money out of an award, and the hours it stands for split in
    /// proportion to the money (or, when no money moves, to the award's attributed aid).
    fn take_from_award(
        &mut self,
        award: &str,
        amount: Cents,
        hours: GpuHours,
        lapse: bool,
    ) -> Result<Vec<(String, i64)>, AttributionError> {
        let holdings = self.awards.entry(award.to_string()).or_default();
        let parts = draw(holdings, &format!("award {award}"), amount)?;
        let shares = self.award_shares.entry(award.to_string()).or_default();
        let hour_weights = if parts.is_empty() {
            let awarded: Vec<(String, i64)> = shares.iter().map(|(s, share)| (s.clone(), share.awarded)).collect();
            if awarded.iter().any(|(_, w)| *w > 0) {
                awarded
            } else {
                vec![(UNATTRIBUTED.to_string(), 1)]
            }
        } else {
            parts.clone()
        };
        let hour_parts = split(hours.milli(), &hour_weights)?;
        for (source, part) in &parts {
            let share = shares.entry(source.clone()).or_default();
            add(if lapse { &mut share.returned } else { &mut share.used }, *part)?;
        }
        for (source, milli) in &hour_parts {
            let share = shares.entry(source.clone()).or_default();
            add(if lapse { &mut share.hours_lapsed_milli } else { &mut share.hours_used_milli }, *milli)?;
        }
        Ok(parts)
    }

    /// Applies flows in order; the first that cannot be applied is answered with its index.
    pub fn replay<'a>(flows: impl IntoIterator<Item = &'a PoolFlow>) -> Result<Attribution, (usize, AttributionError)> {
        let mut attribution = Attribution::default();
        for (index, flow) in flows.into_iter().enumerate() {
            attribution.apply(flow).map_err(|e| (index, e))?;
        }
        Ok(attribution)
    }

    /// Per source: (money in, money accounted for: held anywhere, used or withdrawn). The two
    /// are equal for every source after any sequence of flows.
    pub fn balance_sheet(&self) -> BTreeMap<String, (i64, i64)> {
        let mut sheet: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        for (source, share) in &self.pool_shares {
            let row = sheet.entry(source.clone()).or_default();
            row.0 += share.reserved + share.topped_up;
            row.1 += share.withdrawn;
        }
        let held = std::iter::once(&self.pool).chain(self.calls.values()).chain(self.awards.values());
        for holdings in held {
            for (source, amount) in holdings {
                sheet.entry(source.clone()).or_default().1 += amount;
            }
        }
        for shares in self.award_shares.values() {
            for (source, share) in shares {
                sheet.entry(source.clone()).or_default().1 += share.used;
            }
        }
        sheet
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn c(cents: i64) -> Cents {
        Cents::new(cents)
    }

    #[test]
    fn a_reserve_is_split_by_paid_in_and_every_later_move_pro_rata() {
        // Paid in 3:1; 1,000.01 reserved: 750.01 and 250.00 (the odd cent to the larger remainder).
        let flows = [
            PoolFlow::Reserve { amount: c(100_001), paid_in: vec![("a".into(), c(300)), ("b".into(), c(100))] },
            PoolFlow::CallBudget { call: "k".into(), amount: c(40_000) },
            PoolFlow::Award { call: "k".into(), award: "w".into(), amount: c(10_000) },
            PoolFlow::Usage { award: "w".into(), amount: c(1_000), hours: GpuHours::from_milli(500_000) },
            PoolFlow::Lapse { award: "w".into(), amount: c(9_000), hours: GpuHours::from_milli(4_500_000) },
        ];
        let mut attribution = Attribution::default();
        let splits: Vec<_> = flows.iter().map(|f| attribution.apply(f).unwrap()).collect();
        assert_eq!(splits[0], vec![("a".to_string(), 75_001), ("b".to_string(), 25_000)]);
        // 40,000 of 75,001 : 25,000 -> 30,000.3 and 9,999.7: a 30,000, b 10,000.
        assert_eq!(splits[1], vec![("a".to_string(), 30_000), ("b".to_string(), 10_000)]);
        assert_eq!(splits[2], vec![("a".to_string(), 7_500), ("b".to_string(), 2_500)]);
        assert_eq!(splits[3], vec![("a".to_string(), 750), ("b".to_string(), 250)]);
        let w = &attribution.award_shares["w"];
        assert_eq!((w["a"].hours_used_milli, w["b"].hours_used_milli), (375_000, 125_000));
        assert_eq!((w["a"].returned, w["b"].returned), (6_750, 2_250));
        assert_eq!((w["a"].hours_lapsed_milli, w["b"].hours_lapsed_milli), (3_375_000, 1_125_000));
        assert!(attribution.awards["w"].is_empty());
        // The pool holds 75,001 - 30,000 + 6,750 for a and 25,000 - 10,000 + 2,250 for b.
        assert_eq!(attribution.pool["a"], 51_751);
        assert_eq!(attribution.pool["b"], 17_250);
    }

    #[test]
    fn money_reserved_before_anyone_paid_in_and_manual_top_ups_are_unattributed() {
        let mut attribution = Attribution::default();
        attribution.apply(&PoolFlow::Reserve { amount: c(500), paid_in: vec![] }).unwrap();
        attribution.apply(&PoolFlow::TopUp { amount: c(250) }).unwrap();
        assert_eq!(attribution.pool[UNATTRIBUTED], 750);
    }

    #[test]
    fn a_draw_above_the_holding_is_refused() {
        let mut attribution = Attribution::default();
        attribution.apply(&PoolFlow::Reserve { amount: c(100), paid_in: vec![("a".into(), c(1))] }).unwrap();
        let refused = attribution.apply(&PoolFlow::CallBudget { call: "k".into(), amount: c(101) });
        assert!(matches!(refused, Err(AttributionError::Overdrawn { .. })));
        let refused = attribution.apply(&PoolFlow::Award { call: "k".into(), award: "w".into(), amount: c(1) });
        assert!(matches!(refused, Err(AttributionError::Overdrawn { .. })));
    }

    #[test]
    fn hours_used_without_money_follow_the_awarded_aid() {
        let mut attribution = Attribution::default();
        attribution
            .apply(&PoolFlow::Reserve { amount: c(400), paid_in: vec![("a".into(), c(1)), ("b".into(), c(3))] })
            .unwrap();
        attribution.apply(&PoolFlow::CallBudget { call: "k".into(), amount: c(400) }).unwrap();
        attribution.apply(&PoolFlow::Award { call: "k".into(), award: "w".into(), amount: c(400) }).unwrap();
        attribution
            .apply(&PoolFlow::Usage { award: "w".into(), amount: c(0), hours: GpuHours::from_milli(4) })
            .unwrap();
        let w = &attribution.award_shares["w"];
        assert_eq!((w["a"].hours_used_milli, w["b"].hours_used_milli), (1, 3));
    }

    /// A random but valid history: amounts drawn within what each holder has, by totals alone.
    fn history() -> impl Strategy<Value = Vec<PoolFlow>> {
        let step = (0u8..7, 0i64..1_000_000_000, proptest::collection::vec(0i64..1_000_000, 0..6), 0usize..4);
        proptest::collection::vec(step, 1..80).prop_map(|steps| {
            let mut pool = 0i64;
            let mut calls = [0i64; 4];
            let mut awards: Vec<(usize, i64, bool)> = Vec::new();
            let mut flows = Vec::new();
            for (kind, raw, paid_in, pick) in steps {
                match kind {
                    0 => {
                        let paid_in = paid_in.iter().enumerate().map(|(i, p)| (format!("s{i}"), c(*p))).collect();
                        flows.push(PoolFlow::Reserve { amount: c(raw), paid_in });
                        pool += raw;
                    }
                    1 => {
                        flows.push(PoolFlow::TopUp { amount: c(raw % 10_000) });
                        pool += raw % 10_000;
                    }
                    2 if pool > 0 => {
                        let amount = raw % (pool + 1);
                        flows.push(PoolFlow::CallBudget { call: format!("k{pick}"), amount: c(amount) });
                        pool -= amount;
                        calls[pick] += amount;
                    }
                    3 if calls[pick] > 0 => {
                        let amount = raw % (calls[pick] + 1);
                        let award = format!("w{}", awards.len());
                        flows.push(PoolFlow::Award { call: format!("k{pick}"), award, amount: c(amount) });
                        calls[pick] -= amount;
                        awards.push((pick, amount, true));
                    }
                    4 if !awards.is_empty() => {
                        let index = pick % awards.len();
                        if awards[index].2 {
                            let amount = raw % (awards[index].1 + 1);
                            let hours = GpuHours::from_milli(raw % 7_777_777);
                            flows.push(PoolFlow::Usage { award: format!("w{index}"), amount: c(amount), hours });
                            awards[index].1 -= amount;
                        }
                    }
                    5 if !awards.is_empty() => {
                        let index = pick % awards.len();
                        if awards[index].2 {
                            let hours = GpuHours::from_milli(raw % 999_999);
                            flows.push(PoolFlow::Lapse {
                                award: format!("w{index}"),
                                amount: c(awards[index].1),
                                hours,
                            });
                            pool += awards[index].1;
                            awards[index] = (awards[index].0, 0, false);
                        }
                    }
                    6 if pool > 0 => {
                        let amount = raw % (pool + 1);
                        flows.push(PoolFlow::Withdrawal { amount: c(amount) });
                        pool -= amount;
                    }
                    _ => {}
                }
            }
            flows
        })
    }

    fn amount_of(flow: &PoolFlow) -> i64 {
        match flow {
            PoolFlow::Reserve { amount, .. }
            | PoolFlow::TopUp { amount }
            | PoolFlow::Withdrawal { amount }
            | PoolFlow::CallBudget { amount, .. }
            | PoolFlow::Award { amount, .. }
            | PoolFlow::Usage { amount, .. }
            | PoolFlow::Lapse { amount, .. } => amount.get(),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn every_cent_and_every_hour_is_attributed_once(flows in history()) {
            let mut attribution = Attribution::default();
            let (mut pool, mut calls, mut awards, mut used) = (0i64, 0i64, 0i64, 0i64);
            let (mut hours_used, mut hours_lapsed) = (0i64, 0i64);
            for flow in &flows {
                let parts = attribution.apply(flow).unwrap();
                // Each move is split exactly, never into a negative part.
                prop_assert_eq!(parts.iter().map(|(_, p)| p).sum::<i64>(), amount_of(flow));
                prop_assert!(parts.iter().all(|(_, p)| *p > 0));
                let amount = amount_of(flow);
                match flow {
                    PoolFlow::Reserve { .. } | PoolFlow::TopUp { .. } => pool += amount,
                    PoolFlow::Withdrawal { .. } => pool -= amount,
                    PoolFlow::CallBudget { .. } => { pool -= amount; calls += amount }
                    PoolFlow::Award { .. } => { calls -= amount; awards += amount }
                    PoolFlow::Usage { hours, .. } => { awards -= amount; used += amount; hours_used += hours.milli() }
                    PoolFlow::Lapse { hours, .. } => { awards -= amount; pool += amount; hours_lapsed += hours.milli() }
                }
            }
            let total = |h: &Holdings| h.values().sum::<i64>();
            prop_assert_eq!(total(&attribution.pool), pool);
            prop_assert_eq!(attribution.calls.values().map(total).sum::<i64>(), calls);
            prop_assert_eq!(attribution.awards.values().map(total).sum::<i64>(), awards);
            let shares = || attribution.award_shares.values().flat_map(|s| s.values());
            prop_assert_eq!(shares().map(|s| s.used).sum::<i64>(), used);
            prop_assert_eq!(shares().map(|s| s.hours_used_milli).sum::<i64>(), hours_used);
            prop_assert_eq!(shares().map(|s| s.hours_lapsed_milli).sum::<i64>(), hours_lapsed);
            let held = std::iter::once(&attribution.pool).chain(attribution.calls.values()).chain(attribution.awards.values());
            for holdings in held {
                prop_assert!(holdings.values().all(|v| *v >= 0));
            }
            for (source, (money_in, accounted)) in attribution.balance_sheet() {
                prop_assert_eq!(money_in, accounted, "source {}", source);
            }
        }
    }
}
