//! Floors: the accounts that must not go below zero, on the date of a write and on every later
//! date (docs/ledger.md, "Floors"). Late recording is normal in fund administration, so as far
//! as the floors go a back-dated write is allowed, but only if no balance from its date on
//! breaks a floor: the refusal names the first date it would break, the account and the balance.
//!
//! Pure: the storage layer hands in each account's daily net changes; this module says which
//! accounts have floors and where a series of balances first breaks one.

use chrono::NaiveDate;

use super::chart;
use super::money::Cents;

/// Which balance an account's floor holds up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Normal {
    /// Assets: the debit balance stays at zero or above.
    Debit,
    /// Liabilities: the credit balance stays at zero or above.
    Credit,
}

/// An account (by its four-digit head code, so its sub-accounts too) that must not go below zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Floor {
    pub code: &'static str,
    pub normal: Normal,
    /// The floor holds for each party's share of the account too (the postings naming it):
    /// investments per facility, receivables and unfunded commitments per investor, grant
    /// money per call, SME and facility.
    pub per_party: bool,
    /// The problem type of a refusal.
    pub problem: &'static str,
}

const fn floor(code: &'static str, normal: Normal, per_party: bool, problem: &'static str) -> Floor {
    Floor { code, normal, per_party, problem }
}

/// Problem type of a floor that has no more specific one.
pub const BELOW_FLOOR: &str = "balance-below-floor";

/// Every floor of the standard chart.
pub const FLOORS: &[Floor] = &[
    floor(chart::CASH, Normal::Debit, false, "insufficient-cash"),
    floor(chart::COMPUTE_GRANT_POOL, Normal::Debit, false, "pool-insufficient"),
    floor(chart::COMPUTE_GRANT_COMMITTED, Normal::Debit, true, BELOW_FLOOR),
    floor(chart::COMPUTE_GRANT_AWARDED, Normal::Debit, true, BELOW_FLOOR),
    floor(chart::COMPUTE_GRANT_DUE, Normal::Debit, true, BELOW_FLOOR),
    floor(chart::CAPITAL_CALL_RECEIVABLE, Normal::Debit, true, BELOW_FLOOR),
    floor(chart::INVESTMENTS_EQUITY, Normal::Debit, true, BELOW_FLOOR),
    floor(chart::PROCEEDS_RECEIVABLE, Normal::Debit, false, BELOW_FLOOR),
    floor(chart::DISTRIBUTIONS_PAYABLE, Normal::Credit, false, BELOW_FLOOR),
    floor(chart::FEES_PAYABLE, Normal::Credit, false, BELOW_FLOOR),
    floor(chart::GRANT_COMMITMENTS_PAYABLE, Normal::Credit, true, BELOW_FLOOR),
    floor(chart::UNFUNDED_COMMITMENTS, Normal::Debit, true, BELOW_FLOOR),
    floor(chart::UNFUNDED_COMMITMENTS_CONTRA, Normal::Credit, true, BELOW_FLOOR),
];

/// The floor of an account code (`1000`, or a sub-account such as `1000.01`), if it has one.
pub fn floor_of(code: &str) -> Option<&'static Floor> {
    let head = code.split('.').next().unwrap_or(code);
    FLOORS.iter().find(|f| f.code == head)
}

impl Floor {
    /// A debit-positive amount as the floor reads it: positive holds the account up.
    pub fn held(&self, debit_positive: i64) -> i64 {
        match self.normal {
            Normal::Debit => debit_positive,
            Normal::Credit => -debit_positive,
        }
    }

    /// Whether a posting of `amount` (debit positive) takes the account toward its floor.
    pub fn lowers(&self, amount: Cents) -> bool {
        self.held(amount.get()) < 0
    }
}

/// Where a series of balances first goes below the floor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Breach {
    pub date: NaiveDate,
    /// The balance on that date, debit positive (as the journal shows it).
    pub balance: Cents,
}

/// The first date on which the balance breaks `floor`: the balance before the first day given
/// is `opening` (debit positive), then each day adds its net change. Days come in date order.
pub fn first_breach(floor: &Floor, opening: i64, days: impl IntoIterator<Item = (NaiveDate, i64)>) -> Option<Breach> {
    let mut balance = i128::from(opening);
    for (date, change) in days {
        balance += i128::from(change);
        let debit_positive = i64::try_from(balance).unwrap_or(if balance < 0 { i64::MIN } else { i64::MAX });
        if floor.held(debit_positive) < 0 {
            return Some(Breach { date, balance: Cents::new(debit_positive) });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + chrono::Duration::days(i64::from(day))
    }

    #[test]
    fn floors_by_head_code() {
        assert_eq!(floor_of("1000").map(|f| f.problem), Some("insufficient-cash"));
        assert_eq!(floor_of("1000.01").map(|f| f.code), Some("1000"));
        assert_eq!(floor_of("1200").map(|f| f.per_party), Some(true));
        assert_eq!(floor_of("2200").map(|f| f.normal), Some(Normal::Credit));
        assert!(floor_of("3100.01").is_none());
        assert!(floor_of("5000").is_none());
        let every =
            FLOORS.iter().all(|f| crate::domain::chart::STANDARD_CHART.iter().any(|(code, _, _)| *code == f.code));
        assert!(every, "every floor is an account of the standard chart");
    }

    #[test]
    fn a_spend_back_dated_before_a_later_spend_breaks_the_later_date() {
        let cash = floor_of("1000").unwrap();
        // 1,000,000.00 held; 1,000,000.00 spent on day 150; the same amount back-dated to day 60.
        let days = [(d(60), -100_000_000), (d(150), -100_000_000)];
        assert_eq!(
            first_breach(cash, 100_000_000, days),
            Some(Breach { date: d(150), balance: Cents::new(-100_000_000) })
        );
        assert_eq!(first_breach(cash, 100_000_000, [(d(60), -100_000_000)]), None);
    }

    #[test]
    fn a_liability_floor_reads_the_credit_balance() {
        let payable = floor_of("2100").unwrap();
        assert!(payable.lowers(Cents::new(1)));
        assert!(!payable.lowers(Cents::new(-1)));
        assert_eq!(first_breach(payable, -500, [(d(1), 500)]), None);
        assert_eq!(first_breach(payable, -500, [(d(1), 501)]), Some(Breach { date: d(1), balance: Cents::new(1) }));
    }

    proptest! {
        /// The first breach is the first prefix sum below zero, computed the plain way.
        #[test]
        fn first_breach_is_the_first_negative_prefix(
            opening in 0i64..1_000_000,
            changes in proptest::collection::vec(-400_000i64..400_000, 0..40),
        ) {
            let cash = floor_of("1000").unwrap();
            let days: Vec<(NaiveDate, i64)> = changes.iter().enumerate().map(|(i, c)| (d(i as u32), *c)).collect();
            let mut running = opening;
            let mut expected = None;
            for (date, change) in &days {
                running += change;
                if running < 0 {
                    expected = Some(Breach { date: *date, balance: Cents::new(running) });
                    break;
                }
            }
            prop_assert_eq!(first_breach(cash, opening, days), expected);
        }
    }
}
