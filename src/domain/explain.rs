//! Explaining a figure: which postings make up a fund's or an investor's paid-in, distributed
//! and NAV, and the compute-grant pool's balance, and how the entries that hold them are summed
//! and paged. Exact in integer cents; the storage side reads the postings
//! (`storage/explain.rs`).

use serde::Serialize;
use utoipa::ToSchema;

use super::chart::{CAPITAL_CALL_RECEIVABLE, COMPUTE_GRANT_POOL, CONTRIBUTED_CAPITAL, DISTRIBUTIONS_TO_INVESTORS};
use super::money::{Cents, MoneyError};

/// A figure that can be explained.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Figure {
    /// Capital paid in: the contributions.
    PaidIn,
    /// Distributed to investors: capital returned, pref and profit.
    Distributed,
    /// Value by hypothetical liquidation of the fund on the date.
    Nav,
    /// Balance of the compute-grant pool, account `1010` (a fund's figure only).
    ComputeGrantPool,
}

impl Figure {
    pub const ALL: [Figure; 4] = [Figure::PaidIn, Figure::Distributed, Figure::Nav, Figure::ComputeGrantPool];

    pub fn name(self) -> &'static str {
        match self {
            Figure::PaidIn => "paid_in",
            Figure::Distributed => "distributed",
            Figure::Nav => "nav",
            Figure::ComputeGrantPool => "compute_grant_pool",
        }
    }

    pub fn parse(text: &str) -> Option<Figure> {
        Figure::ALL.into_iter().find(|f| f.name() == text)
    }

    /// Whether an investor has this figure (the pool is the fund's alone).
    pub fn of_investors(self) -> bool {
        self != Figure::ComputeGrantPool
    }

    /// The only event whose entries count, for a figure that one kind of event makes up.
    pub fn event_type(self) -> Option<&'static str> {
        match self {
            Figure::PaidIn => Some("contribution"),
            Figure::Distributed => Some("distribution"),
            Figure::Nav | Figure::ComputeGrantPool => None,
        }
    }

    /// Whether postings to the account of this code count toward the figure. NAV's accounts
    /// (the investors' net assets) are the books' rule, `storage::investments::counts_in_nav`.
    pub fn counts_account(self, code: &str) -> bool {
        let parent = code.split('.').next().unwrap_or(code);
        match self {
            // A contribution credits the investor's receivable.
            Figure::PaidIn => code == CAPITAL_CALL_RECEIVABLE,
            // A distribution debits the tranche's capital (returns of capital) or distributions
            // (pref, catch-up, split) sub-account, naming the investor.
            Figure::Distributed => {
                code != parent && (parent == CONTRIBUTED_CAPITAL || parent == DISTRIBUTIONS_TO_INVESTORS)
            }
            Figure::ComputeGrantPool => code == COMPUTE_GRANT_POOL,
            Figure::Nav => false,
        }
    }

    /// Whether only postings that name a party (an investor's money) count.
    pub fn party_postings_only(self) -> bool {
        matches!(self, Figure::PaidIn | Figure::Distributed)
    }

    /// Turns an entry's net of counted postings (debit-positive) into its part of the figure:
    /// paid-in is a credit to the receivable, everything else a debit balance.
    pub fn part_of(self, net: Cents) -> Result<Cents, MoneyError> {
        match self {
            Figure::PaidIn => net.checked_neg(),
            Figure::Distributed | Figure::Nav | Figure::ComputeGrantPool => Ok(net),
        }
    }
}

/// The entries that make up a figure, summed whole and cut to one page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryPage {
    /// Over every entry, not only the page.
    pub total: Cents,
    /// Entries whose part is not zero.
    pub count: usize,
    /// (sequence, part) of the page's entries, in sequence order.
    pub page: Vec<(i64, Cents)>,
    /// The last sequence of the page, when more entries follow.
    pub next_after: Option<i64>,
}

/// Sums each entry's part of a figure and cuts the page of at most `limit` entries after the
/// sequence `after`. `parts` holds (sequence, part) in sequence order; entries whose part is
/// zero add nothing and are left out.
pub fn page_of_parts(parts: Vec<(i64, Cents)>, after: Option<i64>, limit: usize) -> Result<EntryPage, MoneyError> {
    let mut total = Cents::ZERO;
    let mut count = 0;
    let mut page = Vec::new();
    let mut more = false;
    for (sequence, part) in parts.into_iter().filter(|(_, part)| !part.is_zero()) {
        total = total.checked_add(part)?;
        count += 1;
        if after.is_some_and(|after| sequence <= after) {
            continue;
        }
        if page.len() < limit {
            page.push((sequence, part));
        } else {
            more = true;
        }
    }
    let next_after = if more { page.last().map(|(sequence, _)| *sequence) } else { None };
    Ok(EntryPage { total, count, page, next_after })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_parse_by_their_names_only() {
        for figure in Figure::ALL {
            assert_eq!(Figure::parse(figure.name()), Some(figure));
        }
        assert_eq!(Figure::parse("PaidIn"), None);
        assert_eq!(Figure::parse("nav "), None);
        assert!(!Figure::ComputeGrantPool.of_investors());
    }

    #[test]
    fn accounts_of_each_figure() {
        assert!(Figure::PaidIn.counts_account("1100"));
        assert!(!Figure::PaidIn.counts_account("1000"));
        assert!(Figure::Distributed.counts_account("3100.01"));
        assert!(Figure::Distributed.counts_account("3200.03"));
        assert!(!Figure::Distributed.counts_account("3200"));
        assert!(!Figure::Distributed.counts_account("3400.01"));
        assert!(Figure::ComputeGrantPool.counts_account("1010"));
        assert!(!Figure::ComputeGrantPool.counts_account("1010.01"));
        assert_eq!(Figure::PaidIn.part_of(Cents::new(-150)), Ok(Cents::new(150)));
        assert_eq!(Figure::Nav.part_of(Cents::new(-150)), Ok(Cents::new(-150)));
    }

    #[test]
    fn pages_sum_every_entry_and_cut_after_the_sequence() {
        let parts: Vec<(i64, Cents)> =
            vec![(2, Cents::new(100)), (5, Cents::ZERO), (7, Cents::new(-30)), (9, Cents::new(1))];
        let first = page_of_parts(parts.clone(), None, 2).expect("sums");
        assert_eq!(first.total, Cents::new(71));
        assert_eq!(first.count, 3);
        assert_eq!(first.page, vec![(2, Cents::new(100)), (7, Cents::new(-30))]);
        assert_eq!(first.next_after, Some(7));
        let second = page_of_parts(parts.clone(), first.next_after, 2).expect("sums");
        assert_eq!(second.total, Cents::new(71), "the total is always over every entry");
        assert_eq!(second.page, vec![(9, Cents::new(1))]);
        assert_eq!(second.next_after, None);
        let whole = page_of_parts(parts, None, 3).expect("sums");
        assert_eq!(whole.next_after, None, "a page that holds the rest says nothing follows");
        assert_eq!(
            page_of_parts(vec![(1, Cents::new(i64::MAX)), (2, Cents::new(1))], None, 5),
            Err(MoneyError::Overflow)
        );
    }
}
