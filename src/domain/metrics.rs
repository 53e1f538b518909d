//! Investor metrics (DOMAIN §6): XIRR, DPI, RVPI, TVPI.
//!
//! Multiples are exact decimals of exact cents. XIRR is a rate, the root of a sum of powers:
//! like Excel, it is found numerically in double precision (a rate is not money, and no decimal
//! type evaluates fractional powers fast enough). Amounts enter it already exact.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::money::Cents;

/// Newton steps before XIRR gives up, as Excel does after 100.
pub const XIRR_ITERATIONS_MAX: usize = 100;
/// Convergence: successive rates closer than this.
pub const XIRR_TOLERANCE: f64 = 1e-12;
/// Excel's first guess.
pub const XIRR_GUESS: f64 = 0.1;
/// Points scanned for further roots when the flows change sign more than once: 1 + rate from
/// 0.01 to 11, evenly spaced in its logarithm.
const ROOT_SCAN_POINTS: usize = 400;

fn scan_rates() -> impl Iterator<Item = f64> {
    let (low, high) = (0.01f64.ln(), 11.0f64.ln());
    (0..=ROOT_SCAN_POINTS).map(move |i| (low + (high - low) * i as f64 / ROOT_SCAN_POINTS as f64).exp() - 1.0)
}

/// What XIRR found. A series with no root or several is said so, never hidden.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Xirr {
    /// One rate: the only root.
    Rate { rate: f64 },
    /// Several rates make the present value zero; `rate` is the one Excel returns (from 0.1).
    MultipleRoots { rate: f64, roots: Vec<f64> },
    /// All flows have the same sign (or there are fewer than two): no rate exists.
    NoSignChange,
    /// Newton's method did not converge from 0.1 and no root was found by scanning.
    NoConvergence,
}

impl Xirr {
    pub fn rate(&self) -> Option<f64> {
        match self {
            Xirr::Rate { rate } | Xirr::MultipleRoots { rate, .. } => Some(*rate),
            _ => None,
        }
    }
}

/// Year fractions (ACT/365) from the first date, and the flows as doubles. XIRR is a rate
/// found by Newton's method on exponentials, so the solver works in doubles; the flows are
/// converted here, exactly (integer cents below 2^53), and no amount ever comes back out.
fn prepare(flows: &[(NaiveDate, Cents)]) -> (Vec<f64>, Vec<f64>) {
    let start = flows.iter().map(|(d, _)| *d).min().unwrap_or_default();
    let years = flows.iter().map(|(d, _)| (*d - start).num_days() as f64 / 365.0).collect();
    let values = flows.iter().map(|(_, v)| v.get() as f64 / 100.0).collect();
    (years, values)
}

/// Net present value and its derivative at `rate`.
fn npv_and_slope(rate: f64, years: &[f64], values: &[f64]) -> (f64, f64) {
    let log_base = (1.0 + rate).ln();
    let mut npv = 0.0;
    let mut slope = 0.0;
    for (t, v) in years.iter().zip(values) {
        let discounted = v * (-t * log_base).exp();
        npv += discounted;
        slope -= t * discounted;
    }
    (npv, slope / (1.0 + rate))
}

fn newton(guess: f64, years: &[f64], values: &[f64]) -> Option<f64> {
    let mut rate = guess;
    for _ in 0..XIRR_ITERATIONS_MAX {
        let (npv, slope) = npv_and_slope(rate, years, values);
        if slope == 0.0 || !slope.is_finite() {
            return None;
        }
        let next = rate - npv / slope;
        if !next.is_finite() || next <= -1.0 {
            return None;
        }
        if (next - rate).abs() < XIRR_TOLERANCE {
            return Some(next);
        }
        rate = next;
    }
    None
}

/// Halley's method: value, slope and curvature from one pass over the flows.
fn halley(guess: f64, years: &[f64], values: &[f64]) -> Option<f64> {
    let mut rate = guess;
    for _ in 0..XIRR_ITERATIONS_MAX {
        let log_base = (1.0 + rate).ln();
        let (mut npv, mut first, mut second) = (0.0, 0.0, 0.0);
        for (t, v) in years.iter().zip(values) {
            let discounted = v * (-t * log_base).exp();
            npv += discounted;
            first += t * discounted;
            second += t * (t + 1.0) * discounted;
        }
        let base = 1.0 + rate;
        let slope = -first / base;
        let curvature = second / (base * base);
        let denominator = 2.0 * slope * slope - npv * curvature;
        if denominator == 0.0 || !denominator.is_finite() {
            return None;
        }
        let next = rate - 2.0 * npv * slope / denominator;
        if !next.is_finite() || next <= -1.0 {
            return None;
        }
        if (next - rate).abs() < XIRR_TOLERANCE {
            return Some(next);
        }
        rate = next;
    }
    None
}

fn sign_changes(flows: &[(NaiveDate, Cents)]) -> usize {
    let mut ordered: Vec<&(NaiveDate, Cents)> = flows.iter().filter(|(_, v)| !v.is_zero()).collect();
    ordered.sort_by_key(|(d, _)| *d);
    ordered.windows(2).filter(|w| w[0].1.is_negative() != w[1].1.is_negative()).count()
}

/// Excel-compatible XIRR of dated flows (negative = paid in, positive = received).
pub fn xirr(flows: &[(NaiveDate, Cents)]) -> Xirr {
    let changes = sign_changes(flows);
    if changes == 0 {
        return Xirr::NoSignChange;
    }
    let (years, values) = prepare(flows);
    // Descartes' rule of signs holds for sums of real powers: one sign change, one root, which
    // Halley's method (cubic) reaches in fewer passes over the flows than Newton's.
    if changes == 1 {
        return halley(XIRR_GUESS, &years, &values)
            .or_else(|| newton(XIRR_GUESS, &years, &values))
            .map_or(Xirr::NoConvergence, |rate| Xirr::Rate { rate });
    }
    let primary = newton(XIRR_GUESS, &years, &values);
    let mut roots: Vec<f64> = Vec::new();
    let grid: Vec<f64> = scan_rates().collect();
    for pair in grid.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if npv_and_slope(a, &years, &values).0.signum() != npv_and_slope(b, &years, &values).0.signum() {
            if let Some(root) = newton((a + b) / 2.0, &years, &values) {
                if !roots.iter().any(|r| (r - root).abs() < 1e-9) {
                    roots.push(root);
                }
            }
        }
    }
    if let Some(rate) = primary {
        if !roots.iter().any(|r| (r - rate).abs() < 1e-9) {
            roots.push(rate);
        }
    }
    roots.sort_by(f64::total_cmp);
    match (primary.or_else(|| roots.first().copied()), roots.len()) {
        (None, _) => Xirr::NoConvergence,
        (Some(rate), 0 | 1) => Xirr::Rate { rate },
        (Some(rate), _) => Xirr::MultipleRoots { rate, roots },
    }
}

/// DPI, RVPI and TVPI: exact ratios, shown to 4 decimals; none without paid-in capital.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Multiples {
    #[schema(value_type = Option<String>)]
    pub dpi: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub rvpi: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub tvpi: Option<Decimal>,
}

pub fn multiples(paid_in: Cents, distributed: Cents, nav: Cents) -> Multiples {
    if paid_in.get() <= 0 {
        return Multiples { dpi: None, rvpi: None, tvpi: None };
    }
    let ratio = |value: Cents| {
        let mut r = (value.to_decimal() / paid_in.to_decimal()).round_dp(4);
        r.rescale(4);
        r
    };
    let dpi = ratio(distributed);
    let rvpi = ratio(nav);
    let mut tvpi = ((distributed.to_decimal() + nav.to_decimal()) / paid_in.to_decimal()).round_dp(4);
    tvpi.rescale(4);
    Multiples { dpi: Some(dpi), rvpi: Some(rvpi), tvpi: Some(tvpi) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn flows(list: &[(&str, i64)]) -> Vec<(NaiveDate, Cents)> {
        list.iter().map(|(date, eur)| (d(date), Cents::new(eur * 100))).collect()
    }

    #[test]
    fn excel_reference_case() {
        // DOMAIN §6 (Excel's documented XIRR example): Excel shows 0.373362535, the result of
        // its looser stopping rule; the exact root is 0.37336253351883..., 1.5e-9 away.
        let series = flows(&[
            ("2008-01-01", -10000),
            ("2008-03-01", 2750),
            ("2008-10-30", 4250),
            ("2009-02-15", 3250),
            ("2009-04-01", 2750),
        ]);
        let Xirr::Rate { rate } = xirr(&series) else { panic!("expected a rate") };
        assert!((rate - 0.373362535).abs() < 2e-9, "{rate}");
        let (years, values) = prepare(&series);
        assert!(npv_and_slope(rate, &years, &values).0.abs() < 1e-7, "a root, not an approximation");
    }

    #[test]
    fn no_sign_change_is_reported() {
        assert_eq!(xirr(&flows(&[("2020-01-01", -100), ("2021-01-01", -50)])), Xirr::NoSignChange);
        assert_eq!(xirr(&flows(&[("2020-01-01", 100)])), Xirr::NoSignChange);
    }

    #[test]
    fn several_roots_are_reported() {
        // -1000, +2300, -1320 a year apart: NPV = 0 at 10% and at 20%.
        let series = flows(&[("2021-01-01", -1000), ("2022-01-01", 2300), ("2023-01-01", -1320)]);
        match xirr(&series) {
            Xirr::MultipleRoots { rate, roots } => {
                assert!((rate - 0.1).abs() < 1e-3 || (rate - 0.2).abs() < 1e-3, "{rate}");
                assert_eq!(roots.len(), 2, "{roots:?}");
            }
            other => panic!("expected multiple roots, got {other:?}"),
        }
    }

    #[test]
    fn multiples_are_exact_ratios() {
        let m = multiples(Cents::new(100_000), Cents::new(50_000), Cents::new(75_000));
        assert_eq!(m.dpi, Some(Decimal::new(5000, 4)));
        assert_eq!(m.rvpi, Some(Decimal::new(7500, 4)));
        assert_eq!(m.tvpi, Some(Decimal::new(12500, 4)));
        assert_eq!(multiples(Cents::ZERO, Cents::new(1), Cents::new(1)).tvpi, None);
    }
}
