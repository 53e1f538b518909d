//! The simulation's independent reference: the rules restated from docs/ledger.md and
//! docs/waterfall.md and computed from the journal as read over HTTP, never with the
//! service's own code. Pure: no IO.

use std::collections::BTreeMap;

use chrono::NaiveDate;

/// One posting as the journal API shows it: signed cents, debit positive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Posting {
    pub account_id: String,
    pub code: String,
    pub cents: i64,
    pub party: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub sequence: i64,
    pub id: String,
    pub hash: String,
    pub fund_id: String,
    pub date: NaiveDate,
    pub event_type: String,
    pub postings: Vec<Posting>,
}

/// Which way an account must not cross zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Normal {
    /// Assets: the debit balance never goes below zero.
    Debit,
    /// Liabilities: the credit balance never goes below zero.
    Credit,
}

/// The accounts that must not go negative on any date (docs/ledger.md, "Floors"), by the
/// first four digits of the code, and whether the floor also holds for each party's share.
pub const FLOORS: &[(&str, Normal, bool)] = &[
    ("1000", Normal::Debit, false),
    ("1010", Normal::Debit, false),
    ("1020", Normal::Debit, true),
    ("1030", Normal::Debit, true),
    ("1040", Normal::Debit, true),
    ("1100", Normal::Debit, true),
    ("1200", Normal::Debit, true),
    ("1300", Normal::Debit, false),
    ("2000", Normal::Credit, false),
    ("2100", Normal::Credit, false),
    ("2200", Normal::Credit, true),
    ("9000", Normal::Debit, true),
    ("9100", Normal::Credit, true),
];

/// Accounts outside the investors' net assets (docs/waterfall.md, "NAV and metrics"):
/// memorandum commitments, the compute-grant pool and what it owes facilities, and capital
/// called but not paid (a receivable from the investor who owes it, not value for anyone).
pub const OUTSIDE_NAV: &[&str] = &["9000", "9100", "1010", "1020", "1030", "1040", "2200", "1100"];

fn head(code: &str) -> &str {
    code.split('.').next().unwrap_or(code)
}

/// Every date on which a floor account (or a party's share of one) stands below zero: the
/// first such date per account and party, with the balance.
pub fn floor_breaches(entries: &[Entry]) -> Vec<String> {
    // (fund, account, party) -> date -> net change that day
    let mut days: BTreeMap<(String, String, String), BTreeMap<NaiveDate, i64>> = BTreeMap::new();
    for entry in entries {
        for posting in &entry.postings {
            let Some((_, normal, per_party)) = FLOORS.iter().find(|(code, _, _)| *code == head(&posting.code)) else {
                continue;
            };
            let signed = if *normal == Normal::Debit { posting.cents } else { -posting.cents };
            let mut keys = vec![String::new()];
            if *per_party {
                keys.extend(posting.party.clone());
            }
            for party in keys {
                let key = (entry.fund_id.clone(), posting.code.clone(), party);
                *days.entry(key).or_default().entry(entry.date).or_default() += signed;
            }
        }
    }
    let mut breaches = Vec::new();
    for ((fund, code, party), by_day) in days {
        let mut balance = 0i64;
        for (date, change) in by_day {
            balance += change;
            if balance < 0 {
                let whose = if party.is_empty() { String::new() } else { format!(" (party {party})") };
                breaches.push(format!("fund {fund}: account {code}{whose} stands at {} on {date}", eur(balance)));
                break;
            }
        }
    }
    breaches
}

/// Net balance of every account id of a fund as of a date (inclusive).
pub fn balances(entries: &[Entry], fund: &str, as_of: NaiveDate) -> BTreeMap<String, i64> {
    let mut totals = BTreeMap::new();
    for entry in entries.iter().filter(|e| e.fund_id == fund && e.date <= as_of) {
        for posting in &entry.postings {
            *totals.entry(posting.account_id.clone()).or_default() += posting.cents;
        }
    }
    totals
}

/// The investors' net assets in the books: assets less liabilities, outside accounts left out.
pub fn book_nav(entries: &[Entry], fund: &str, as_of: NaiveDate) -> i64 {
    let mut nav = 0i64;
    for entry in entries.iter().filter(|e| e.fund_id == fund && e.date <= as_of) {
        for posting in &entry.postings {
            let code = head(&posting.code);
            if OUTSIDE_NAV.contains(&code) {
                continue;
            }
            if code.starts_with('1') || code.starts_with('2') {
                nav += posting.cents;
            }
        }
    }
    nav
}

/// Flows netted per date, in date order, zero days dropped.
pub fn netted(flows: &[(NaiveDate, i64)]) -> Vec<(NaiveDate, i64)> {
    let mut by_day: BTreeMap<NaiveDate, i64> = BTreeMap::new();
    for (date, cents) in flows {
        *by_day.entry(*date).or_default() += cents;
    }
    by_day.into_iter().filter(|(_, c)| *c != 0).collect()
}

pub fn sign_changes(flows: &[(NaiveDate, i64)]) -> usize {
    netted(flows).windows(2).filter(|w| (w[0].1 < 0) != (w[1].1 < 0)).count()
}

/// Present value at `rate` (ACT/365 from the first flow) relative to the sum of the flows'
/// absolute present values: zero at a root, whatever the scale of the discount factors.
pub fn relative_npv(rate: f64, flows: &[(NaiveDate, i64)]) -> f64 {
    let flows = netted(flows);
    let Some(first) = flows.first().map(|f| f.0) else { return 0.0 };
    let (mut npv, mut scale) = (0.0f64, 0.0f64);
    for (date, cents) in &flows {
        let years = (*date - first).num_days() as f64 / 365.0;
        let value = *cents as f64 * (1.0 + rate).powf(-years);
        npv += value;
        scale += value.abs();
    }
    if scale == 0.0 {
        0.0
    } else {
        npv / scale
    }
}

/// The sign of the present value at `rate`, from log sums of the discounted receipts and
/// payments: right even where the discount factors overflow a double.
pub fn npv_sign(rate: f64, flows: &[(NaiveDate, i64)]) -> std::cmp::Ordering {
    let flows = netted(flows);
    let Some(first) = flows.first().map(|f| f.0) else { return std::cmp::Ordering::Equal };
    let log_growth = (1.0 + rate).ln();
    let log_sum = |positive: bool| {
        let terms: Vec<f64> = flows
            .iter()
            .filter(|(_, c)| (*c > 0) == positive)
            .map(|(d, c)| (c.unsigned_abs() as f64).ln() - (*d - first).num_days() as f64 / 365.0 * log_growth)
            .collect();
        let peak = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        peak + terms.iter().map(|t| (t - peak).exp()).sum::<f64>().ln()
    };
    log_sum(true).total_cmp(&log_sum(false))
}

/// Whether the root lies within 8 machine epsilons (1.8e-15) of `rate`: the present value
/// changes sign between the rates that far either side. Near -100% a double holds `1 + rate` to
/// a few digits only, so the best rate a double can state may leave a relative NPV far above any
/// tolerance; a root finder stops within a few doubles of the root.
pub fn root_near(rate: f64, flows: &[(NaiveDate, i64)]) -> bool {
    const NEAR: f64 = 8.0 * f64::EPSILON;
    let (below, above) = (rate - NEAR, rate + NEAR);
    // Within reach of -100%, the root may lie between -1 and the smallest double above it: the
    // value just above -1 has the sign of the latest flow, whose discount factor grows fastest.
    let low = if below <= -1.0 { sign_next_to_minus_one(flows) } else { npv_sign(below, flows) };
    let high = npv_sign(above, flows);
    low == std::cmp::Ordering::Equal || high == std::cmp::Ordering::Equal || low != high
}

/// The sign of the present value as the rate falls to -100%: that of the latest flow, unless
/// every flow falls on the first date (then the value does not depend on the rate).
fn sign_next_to_minus_one(flows: &[(NaiveDate, i64)]) -> std::cmp::Ordering {
    let flows = netted(flows);
    match (flows.first(), flows.last()) {
        (Some(first), Some(last)) if last.0 > first.0 => last.1.cmp(&0),
        _ => npv_sign(0.0, &flows),
    }
}

/// Whether the one root lies beyond the largest double. As the rate grows without bound the
/// present value takes the sign of the earliest flow; if at `f64::MAX` (summed in logarithms,
/// so it does not overflow) it still has the other sign, the value has not crossed zero yet.
pub fn root_above_a_double(flows: &[(NaiveDate, i64)]) -> bool {
    let Some(earliest) = netted(flows).first().map(|f| f.1.cmp(&0)) else { return false };
    let at_largest = npv_sign(f64::MAX, flows);
    at_largest != std::cmp::Ordering::Equal && at_largest != earliest
}

/// Cents as a decimal string, for messages.
/// The first date on which a commitment's events (signed cents, by effective date) add up to
/// less than its calls dated on or before it, with both figures: every date either changes is
/// summed afresh.
pub fn called_above_committed(
    events: &[(NaiveDate, i64)],
    calls: &[(NaiveDate, i64)],
) -> Option<(NaiveDate, i64, i64)> {
    let mut dates: Vec<NaiveDate> = events.iter().chain(calls).map(|(on, _)| *on).collect();
    dates.sort();
    dates.dedup();
    let through = |rows: &[(NaiveDate, i64)], day: NaiveDate| {
        rows.iter().filter(|(on, _)| *on <= day).map(|(_, c)| c).sum::<i64>()
    };
    dates
        .into_iter()
        .map(|day| (day, through(events, day), through(calls, day)))
        .find(|(_, committed, called)| committed < called)
}

pub fn eur(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cents.unsigned_abs() / 100, cents.unsigned_abs() % 100)
}

/// A decimal string of euros (`"-1250.5"`, `"3.07"`) as cents.
pub fn cents(text: &str) -> Option<i64> {
    let negative = text.starts_with('-');
    let (whole, fraction) = text.trim_start_matches('-').split_once('.').unwrap_or((text.trim_start_matches('-'), ""));
    if fraction.len() > 2 {
        return None;
    }
    let value = whole.parse::<i64>().ok()? * 100 + format!("{fraction:0<2}").parse::<i64>().ok()?;
    Some(if negative { -value } else { value })
}

/// RFC 6962's Merkle tree hash over the entries' chain hashes (hex), written from the RFC:
/// leaves `SHA-256(0x00 || hash bytes)`, nodes `SHA-256(0x01 || left || right)`, split at the
/// largest power of two below the size. Lower-case hex.
pub fn merkle_root<'a>(entry_hashes: impl Iterator<Item = &'a str>) -> String {
    use sha2::{Digest, Sha256};
    fn root(leaves: &[[u8; 32]]) -> [u8; 32] {
        match leaves.len() {
            0 => Sha256::digest([]).into(),
            1 => leaves[0],
            n => {
                let mut k = 1;
                while k * 2 < n {
                    k *= 2;
                }
                let (left, right) = (root(&leaves[..k]), root(&leaves[k..]));
                Sha256::digest([&[1u8][..], &left, &right].concat()).into()
            }
        }
    }
    let leaves: Vec<[u8; 32]> = entry_hashes
        .map(|hash| Sha256::digest([&[0u8][..], &hex::decode(hash).unwrap_or_default()].concat()).into())
        .collect();
    hex::encode(root(&leaves))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn entry(seq: i64, date: &str, lines: &[(&str, i64)]) -> Entry {
        Entry {
            sequence: seq,
            id: format!("e{seq}"),
            hash: String::new(),
            fund_id: "f".into(),
            date: d(date),
            event_type: "manual_entry".into(),
            postings: lines
                .iter()
                .map(|(code, cents)| Posting {
                    account_id: code.to_string(),
                    code: code.to_string(),
                    cents: *cents,
                    party: None,
                })
                .collect(),
        }
    }

    #[test]
    fn a_back_dated_decrease_shows_on_the_call_date() {
        // 100.00 from 01-10, called in full on 03-01, +50.00 from 04-01, -50.00 from 02-01.
        let events = [(d("2025-01-10"), 10_000), (d("2025-04-01"), 5_000), (d("2025-02-01"), -5_000)];
        let calls = [(d("2025-03-01"), 10_000)];
        assert_eq!(called_above_committed(&events, &calls), Some((d("2025-03-01"), 5_000, 10_000)));
        assert_eq!(called_above_committed(&events[..2], &calls), None);
    }

    #[test]
    fn a_back_dated_spend_breaks_the_floor_from_its_date() {
        let entries = vec![
            entry(1, "2024-01-01", &[("1000", 100), ("3900", -100)]),
            entry(2, "2024-06-01", &[("1200", 100), ("1000", -100)]),
            entry(3, "2024-03-01", &[("1200", 100), ("1000", -100)]),
        ];
        let breaches = floor_breaches(&entries);
        assert_eq!(breaches, vec!["fund f: account 1000 stands at -1.00 on 2024-06-01".to_string()]);
        assert!(floor_breaches(&entries[..2]).is_empty());
    }

    /// Seeds 120 and 52 of the long run. 120: the root is -0.999999999999949494... (mpmath, 50
    /// digits), between the doubles -0.9999999999999496 and -0.9999999999999495. 52: the root is
    /// -0.99999999999401663..., 1.4 doubles above the rate stated, -0.9999999999940168.
    #[test]
    fn a_rate_next_to_minus_one_is_judged_by_the_rates_around_it() {
        let day = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap_or_default();
        let seed_120 = [(day("2025-05-16"), -26_482_481), (day("2025-05-26"), 11_446_338)];
        assert!(relative_npv(-0.9999999999999496, &seed_120).abs() > 1e-6, "a tolerance alone refuses it");
        assert!(root_near(-0.9999999999999496, &seed_120));
        assert!(!root_near(-0.99999999999994, &seed_120));
        assert!(!root_near(-0.5, &seed_120));
        let seed_52 = [(day("2024-04-26"), -2_400_312), (day("2024-06-28"), 27_742)];
        assert!(root_near(-0.9999999999940168, &seed_52));
        assert!(!root_near(-0.99999999999, &seed_52));
        // Seed 3 of the suite (2026-11-27), step 65: the root is -0.99999999999999990719...
        // (60 digits), between -1 and the smallest double above it, which is the nearest double.
        let seed_3 = [(day("2024-07-20"), -47_309_654), (day("2024-08-26"), 1_121_360)];
        assert!(root_near(-0.9999999999999999, &seed_3));
        assert!(!root_near(-0.99999999999999, &seed_3));
        let gain = [(day("2024-07-20"), -47_309_654), (day("2024-08-26"), 47_309_655)];
        assert!(!root_near(-0.9999999999999999, &gain));
    }

    /// Seed 220 (long run of 2026-11-26), step 146: EUR 198.34 paid, EUR 7,165,899.51 back four
    /// days later. The rate is (7165899.51 / 198.34)^(365/4) - 1, about 10^416: no double holds
    /// it, and the service answers no_convergence as documented.
    #[test]
    fn a_rate_beyond_the_largest_double_is_recognised() {
        let day = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap_or_default();
        let seed_220 = [(day("2025-06-16"), -19_834), (day("2025-06-20"), 716_589_951)];
        assert!(root_above_a_double(&seed_220));
        // Ten days later the same gain is about 10^166, which a double holds.
        let held = [(day("2025-06-16"), -19_834), (day("2025-06-26"), 716_589_951)];
        assert!(!root_above_a_double(&held));
        let loss = [(day("2025-06-16"), -19_834), (day("2025-06-20"), 100)];
        assert!(!root_above_a_double(&loss));
    }

    #[test]
    fn money_text() {
        assert_eq!(cents("-1250.5"), Some(-125_050));
        assert_eq!(cents("3.07"), Some(307));
        assert_eq!(eur(-5), "-0.05");
    }
}
