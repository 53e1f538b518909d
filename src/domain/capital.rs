//! Capital-call allocation: who pays how much of a call, exact to the cent.
//!
//! A tranche's call is shared over its investors pro rata to their unfunded commitment
//! (docs/capital-activity.md) with the largest-remainder rule (docs/ledger.md, "Money");
//! nobody is ever called above their unfunded amount. Each investor's share is then split by purpose (investment, fees,
//! expenses) so that both each investor's purposes and each purpose's investors sum exactly.
//!
//! A commitment is never called above what it committed on any date: a call draws only on
//! what was committed on its date and stays committed on every later date, and a decrease or
//! cancellation may not take a commitment below what it had been called on any date from the
//! amendment's on.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::money::{allocate_pro_rata, Cents, MoneyError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    #[error("the call ({call}) is larger than the tranche's unfunded commitments ({unfunded})")]
    AboveUnfunded { call: Cents, unfunded: Cents },
    #[error("amounts must be positive")]
    NotPositive,
    #[error(transparent)]
    Money(#[from] MoneyError),
}

/// Shares `amount` over investors pro rata to `unfunded`, never above anyone's unfunded.
pub fn allocate_call(amount: Cents, unfunded: &[Cents]) -> Result<Vec<Cents>, CallError> {
    if amount.get() <= 0 || unfunded.iter().any(|u| u.is_negative()) {
        return Err(CallError::NotPositive);
    }
    let total_unfunded = Cents::sum(unfunded.iter().copied())?;
    if amount > total_unfunded {
        return Err(CallError::AboveUnfunded { call: amount, unfunded: total_unfunded });
    }
    let shares = allocate_pro_rata(amount, unfunded)?;
    // Largest remainder never rounds a share above its weight when amount <= sum of weights.
    debug_assert!(shares.iter().zip(unfunded).all(|(share, cap)| share <= cap));
    Ok(shares)
}

/// Splits each investor's share of a call over the call's purposes.
///
/// `shares[i]` is investor i's total; `purposes[p]` is purpose p's total; both sum to the same
/// amount. Purposes are filled in order, each pro rata to what investors still owe, so the
/// last purpose takes exactly what remains: rows and columns both sum exactly, nothing negative.
pub fn split_by_purpose(shares: &[Cents], purposes: &[Cents]) -> Result<Vec<Vec<Cents>>, CallError> {
    let share_total = Cents::sum(shares.iter().copied())?;
    let purpose_total = Cents::sum(purposes.iter().copied())?;
    if share_total != purpose_total || purposes.iter().any(|p| p.is_negative()) {
        return Err(CallError::NotPositive);
    }
    let mut remaining: Vec<Cents> = shares.to_vec();
    let mut rows = vec![Vec::with_capacity(purposes.len()); shares.len()];
    for purpose in purposes {
        let part =
            if purpose.is_zero() { vec![Cents::ZERO; shares.len()] } else { allocate_pro_rata(*purpose, &remaining)? };
        for (index, amount) in part.into_iter().enumerate() {
            remaining[index] = remaining[index].checked_sub(amount)?;
            rows[index].push(amount);
        }
    }
    debug_assert!(remaining.iter().all(|r| r.is_zero()));
    Ok(rows)
}

/// What a commitment had committed and had been called by the end of a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DatedBalance {
    pub date: NaiveDate,
    pub committed: Cents,
    pub called: Cents,
}

/// The first date from `from` on on which the commitment, with `removed` taken from it from
/// `from` on, would have been called above what it committed then; `None` if there is none.
/// `events` are its commitment events (signed: decreases negative) and `calls` its shares of
/// calls, each with its date.
pub fn first_date_called_above_committed(
    events: &[(NaiveDate, Cents)],
    calls: &[(NaiveDate, Cents)],
    from: NaiveDate,
    removed: Cents,
) -> Result<Option<DatedBalance>, MoneyError> {
    let balances = balances_from(events, calls, from, removed)?;
    Ok(balances.into_iter().find(|b| b.committed < b.called))
}

/// What a call dated `from` may still draw on a commitment: the least, over every date from
/// `from` on, of what it committed then less what its calls dated by then had taken (never
/// below zero). A decrease dated after the call lowers it; so does a later call.
pub fn callable_on_every_date_from(
    events: &[(NaiveDate, Cents)],
    calls: &[(NaiveDate, Cents)],
    from: NaiveDate,
) -> Result<Cents, MoneyError> {
    let mut least: Option<Cents> = None;
    for balance in balances_from(events, calls, from, Cents::ZERO)? {
        let room = balance.committed.checked_sub(balance.called)?;
        least = Some(least.map_or(room, |l| l.min(room)));
    }
    Ok(least.unwrap_or(Cents::ZERO).max(Cents::ZERO))
}

/// The most a tranche commits on any date from `from` on. `total` is what it commits once every
/// event has taken effect, whatever its date; `later` are its events dated after `from`
/// (signed: removals negative). On a date it commits `total` less its events dated after that
/// date, so a removal dated later leaves more committed before it than `total` says.
pub fn most_committed_from(total: Cents, later: &[(NaiveDate, Cents)], from: NaiveDate) -> Result<Cents, MoneyError> {
    let mut by_date: BTreeMap<NaiveDate, Cents> = BTreeMap::new();
    let mut still_to_come = Cents::ZERO;
    for (date, amount) in later.iter().filter(|(date, _)| *date > from) {
        let change = by_date.entry(*date).or_insert(Cents::ZERO);
        *change = change.checked_add(*amount)?;
        still_to_come = still_to_come.checked_add(*amount)?;
    }
    let mut most = total.checked_sub(still_to_come)?;
    for change in by_date.values() {
        still_to_come = still_to_come.checked_sub(*change)?;
        most = most.max(total.checked_sub(still_to_come)?);
    }
    Ok(most)
}

/// The commitment's balances on `from` and on every later date on which they change, with
/// `removed` taken from what it commits from `from` on. Balances change only on the dates of
/// its events and calls, so those and `from` are the only dates to look at.
fn balances_from(
    events: &[(NaiveDate, Cents)],
    calls: &[(NaiveDate, Cents)],
    from: NaiveDate,
    removed: Cents,
) -> Result<Vec<DatedBalance>, MoneyError> {
    let mut changes: BTreeMap<NaiveDate, (Cents, Cents)> = BTreeMap::new();
    changes.insert(from, (removed.checked_neg()?, Cents::ZERO));
    for (date, amount) in events {
        let change = changes.entry(*date).or_insert((Cents::ZERO, Cents::ZERO));
        change.0 = change.0.checked_add(*amount)?;
    }
    for (date, amount) in calls {
        let change = changes.entry(*date).or_insert((Cents::ZERO, Cents::ZERO));
        change.1 = change.1.checked_add(*amount)?;
    }
    let (mut committed, mut called) = (Cents::ZERO, Cents::ZERO);
    let mut balances = Vec::new();
    for (date, (committed_change, called_change)) in changes {
        committed = committed.checked_add(committed_change)?;
        called = called.checked_add(called_change)?;
        if date >= from {
            balances.push(DatedBalance { date, committed, called });
        }
    }
    Ok(balances)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cents(values: &[i64]) -> Vec<Cents> {
        values.iter().copied().map(Cents::new).collect()
    }

    #[test]
    fn a_call_is_shared_pro_rata_to_unfunded() {
        // Unfunded 600 / 300 / 100: a call of 100.00 gives 60.00 / 30.00 / 10.00.
        let shares = allocate_call(Cents::new(10_000), &cents(&[60_000, 30_000, 10_000])).unwrap();
        assert_eq!(shares, cents(&[6_000, 3_000, 1_000]));
        // 1 cent over three equal investors goes to the first.
        assert_eq!(allocate_call(Cents::new(1), &cents(&[5, 5, 5])).unwrap(), cents(&[1, 0, 0]));
    }

    #[test]
    fn a_call_above_the_unfunded_total_is_refused() {
        assert_eq!(
            allocate_call(Cents::new(101), &cents(&[50, 50])),
            Err(CallError::AboveUnfunded { call: Cents::new(101), unfunded: Cents::new(100) })
        );
        // Calling everything takes each investor's whole unfunded amount.
        assert_eq!(allocate_call(Cents::new(100), &cents(&[33, 67])).unwrap(), cents(&[33, 67]));
    }

    #[test]
    fn purposes_split_exactly_both_ways() {
        let rows = split_by_purpose(&cents(&[667, 333]), &cents(&[900, 100])).unwrap();
        assert_eq!(rows, vec![cents(&[600, 67]), cents(&[300, 33])]);
    }

    fn day(offset: i64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 1, 1).unwrap() + chrono::Days::new(offset as u64)
    }

    #[test]
    fn a_removal_dated_later_leaves_more_committed_before_it() {
        // 1,000.00 from day 0, 400.00 of it removed from day 243: 600.00 in all, 1,000.00 until
        // day 242. From day 31 on the most is 1,000.00; from day 243 on, 600.00.
        let later = [(day(243), Cents::new(-40_000))];
        assert_eq!(most_committed_from(Cents::new(60_000), &later, day(31)), Ok(Cents::new(100_000)));
        assert_eq!(most_committed_from(Cents::new(60_000), &later, day(243)), Ok(Cents::new(60_000)));
        // Additions dated later only raise what is committed: the most is the total.
        let added = [(day(100), Cents::new(5_000)), (day(200), Cents::new(-5_000)), (day(300), Cents::new(7_000))];
        assert_eq!(most_committed_from(Cents::new(20_000), &added, day(50)), Ok(Cents::new(20_000)));
    }

    #[test]
    fn a_back_dated_removal_is_checked_on_every_later_call_date() {
        // 100.00 from day 0, called in full on day 59, 50.00 more from day 90.
        let events = [(day(0), Cents::new(10_000)), (day(90), Cents::new(5_000))];
        let calls = [(day(59), Cents::new(10_000))];
        let first = |from: i64, removed: i64| {
            first_date_called_above_committed(&events, &calls, day(from), Cents::new(removed)).unwrap()
        };
        // 50.00 removed from day 31: on day 59, 50.00 committed against 100.00 called.
        let broken = DatedBalance { date: day(59), committed: Cents::new(5_000), called: Cents::new(10_000) };
        assert_eq!(first(31, 5_000), Some(broken));
        assert_eq!(first(59, 1), Some(DatedBalance { date: day(59), committed: Cents::new(9_999), ..broken }));
        // From day 80 the date itself breaks; from day 90, 50.00 can go and not a cent more.
        assert_eq!(first(80, 5_000).map(|b| b.date), Some(day(80)));
        assert_eq!(first(90, 5_000), None);
        assert_eq!(first(90, 5_001).map(|b| (b.date, b.committed)), Some((day(90), Cents::new(9_999))));
        // Before anything was called, any amount up to what was committed can go.
        assert_eq!(first(10, 0), None);
    }

    #[test]
    fn a_call_before_a_dip_draws_only_what_the_dip_leaves() {
        // 100.00 from day 0, 50.00 of it gone from day 31, 50.00 back from day 90.
        let events = [(day(0), Cents::new(10_000)), (day(31), Cents::new(-5_000)), (day(90), Cents::new(5_000))];
        let callable =
            |from: i64, calls: &[(NaiveDate, Cents)]| callable_on_every_date_from(&events, calls, day(from)).unwrap();
        // On day 19 and today it commits 100.00, but only 50.00 from day 31 to day 89.
        assert_eq!(callable(19, &[]), Cents::new(5_000));
        assert_eq!(callable(31, &[]), Cents::new(5_000));
        assert_eq!(callable(90, &[]), Cents::new(10_000));
        // With 50.00 called on day 19, nothing before day 90, 50.00 from then on.
        let called = [(day(19), Cents::new(5_000))];
        assert_eq!(callable(19, &called), Cents::ZERO);
        assert_eq!(callable(89, &called), Cents::ZERO);
        assert_eq!(callable(90, &called), Cents::new(5_000));
        // A later call counts from its own date: 30.00 on day 95 leaves 20.00 to a call on day 90.
        let later = [(day(19), Cents::new(5_000)), (day(95), Cents::new(3_000))];
        assert_eq!(callable(90, &later), Cents::new(2_000));
    }

    proptest! {
        #[test]
        fn a_removal_is_refused_exactly_when_some_later_day_would_be_called_above_committed(
            events in proptest::collection::vec((0i64..60, 1i64..1_000), 1..6),
            calls in proptest::collection::vec((0i64..60, 1i64..1_000), 0..6),
            from in 0i64..70,
            removed in 0i64..3_000,
        ) {
            let dated = |rows: &[(i64, i64)]| rows.iter().map(|(d, a)| (day(*d), Cents::new(*a))).collect::<Vec<_>>();
            let found = first_date_called_above_committed(&dated(&events), &dated(&calls), day(from), Cents::new(removed)).unwrap();
            // Reference: walk every day, summing everything dated on or before it.
            let through = |rows: &[(i64, i64)], d: i64| rows.iter().filter(|(on, _)| *on <= d).map(|(_, a)| a).sum::<i64>();
            let expected = (from..=70).find_map(|d| {
                let committed = through(&events, d) - removed;
                let called = through(&calls, d);
                (committed < called).then(|| DatedBalance { date: day(d), committed: Cents::new(committed), called: Cents::new(called) })
            });
            prop_assert_eq!(found, expected);
        }

        #[test]
        fn a_call_draws_at_most_the_least_room_on_any_later_day(
            events in proptest::collection::vec((0i64..60, -1_000i64..1_000), 1..6),
            calls in proptest::collection::vec((0i64..60, 1i64..1_000), 0..6),
            from in 0i64..70,
        ) {
            let dated = |rows: &[(i64, i64)]| rows.iter().map(|(d, a)| (day(*d), Cents::new(*a))).collect::<Vec<_>>();
            let found = callable_on_every_date_from(&dated(&events), &dated(&calls), day(from)).unwrap();
            // Reference: the largest call dated `from` that leaves every day from then on (walked
            // one by one, to past the last dated change) committed at least what it is called.
            let through = |rows: &[(i64, i64)], d: i64| rows.iter().filter(|(on, _)| *on <= d).map(|(_, a)| a).sum::<i64>();
            let fits = |amount: i64| (from..=70).all(|d| through(&events, d) >= through(&calls, d) + amount);
            let expected = (0..=6_000).rev().find(|amount| fits(*amount)).unwrap_or(0);
            prop_assert_eq!(found, Cents::new(expected));
        }

        #[test]
        fn the_most_committed_from_a_date_is_the_largest_day_by_day(
            events in proptest::collection::vec((0i64..60, -1_000i64..1_000), 0..8),
            from in 0i64..70,
        ) {
            let total: i64 = events.iter().map(|(_, a)| a).sum();
            let later: Vec<(NaiveDate, Cents)> =
                events.iter().filter(|(d, _)| *d > from).map(|(d, a)| (day(*d), Cents::new(*a))).collect();
            let found = most_committed_from(Cents::new(total), &later, day(from)).unwrap();
            // Reference: every day from `from` to past the last event, summing what is dated by then.
            let through = |d: i64| events.iter().filter(|(on, _)| *on <= d).map(|(_, a)| a).sum::<i64>();
            let expected = (from..=70).map(through).max().unwrap_or(total);
            prop_assert_eq!(found, Cents::new(expected));
        }

        #[test]
        fn calls_conserve_cents_and_respect_unfunded(
            unfunded in proptest::collection::vec(0i64..10_000_000_000, 1..60),
            fraction in 1u32..=1000,
            purposes in proptest::collection::vec(0i64..1000, 1..4),
        ) {
            let total: i64 = unfunded.iter().sum();
            prop_assume!(total > 0);
            let amount = ((total as i128 * fraction as i128) / 1000).max(1) as i64;
            let unfunded = cents(&unfunded);
            let shares = allocate_call(Cents::new(amount), &unfunded).unwrap();
            prop_assert_eq!(shares.iter().map(|s| s.get()).sum::<i64>(), amount);
            for (share, cap) in shares.iter().zip(&unfunded) {
                prop_assert!(share.get() >= 0 && share <= cap);
            }
            // Purposes in proportion to the weights drawn, summing to the amount.
            prop_assume!(purposes.iter().any(|p| *p > 0));
            let purpose_amounts = allocate_pro_rata(Cents::new(amount), &cents(&purposes)).unwrap();
            let rows = split_by_purpose(&shares, &purpose_amounts).unwrap();
            for (row, share) in rows.iter().zip(&shares) {
                prop_assert_eq!(row.iter().map(|c| c.get()).sum::<i64>(), share.get());
                prop_assert!(row.iter().all(|c| c.get() >= 0));
            }
            for (p, purpose) in purpose_amounts.iter().enumerate() {
                prop_assert_eq!(rows.iter().map(|r| r[p].get()).sum::<i64>(), purpose.get());
            }
        }

        #[test]
        fn successive_calls_never_take_unfunded_below_zero(
            commitments in proptest::collection::vec(1i64..1_000_000_000, 1..30),
            calls in proptest::collection::vec(1u32..=1000, 1..12),
        ) {
            let mut unfunded = cents(&commitments);
            for permille in calls {
                let remaining: i64 = unfunded.iter().map(|u| u.get()).sum();
                if remaining == 0 {
                    break;
                }
                let amount = ((remaining as i128 * permille as i128) / 1000).max(1) as i64;
                let shares = allocate_call(Cents::new(amount), &unfunded).unwrap();
                prop_assert_eq!(shares.iter().map(|s| s.get()).sum::<i64>(), amount);
                for (left, share) in unfunded.iter_mut().zip(&shares) {
                    *left = left.checked_sub(*share).unwrap();
                    prop_assert!(!left.is_negative());
                }
                // One cent more than what is left is always refused.
                let left: i64 = unfunded.iter().map(|u| u.get()).sum();
                let refused = allocate_call(Cents::new(left + 1), &unfunded).is_err();
                prop_assert!(refused);
            }
        }
    }
}
