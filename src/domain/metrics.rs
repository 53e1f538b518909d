//! Investor metrics (docs/waterfall.md, "NAV and metrics"): XIRR, DPI, RVPI, TVPI.
//!
//! Multiples are exact decimals of exact cents. XIRR is a rate, the root of a sum of powers:
//! like Excel, it is found numerically in double precision (a rate is not money, and no decimal
//! type evaluates fractional powers fast enough). Amounts enter it already exact.

use chrono::{Datelike, NaiveDate};
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
/// A root found by Newton's or Halley's method is accepted when the present value there is
/// this small against the sum of the flows' absolute present values.
const ROOT_RELATIVE_NPV_MAX: f64 = 1e-9;
/// Steps of the bracketed search (Brent's method), each halving the bracket at worst:
/// enough to pin the root to the last bit of a double anywhere in range.
const BRENT_ITERATIONS_MAX: usize = 200;
/// The search runs on x = ln(1 + rate), which maps every rate above -100% to the real line.
/// Beyond these bounds the rate is closer to -100% than a double can show, or larger than one
/// can hold: `exp(709)` is near the largest double.
const LOG_GROWTH_MIN: f64 = -745.0;
const LOG_GROWTH_MAX: f64 = 709.0;
/// Where the flows change sign more than once, the search for every root scans x = ln(1 + rate)
/// at these points: dense from -63% to +400% (x from -1 to 1.6), sparser out to -99.9999% and
/// 10^8% (x = -/+13.8), and coarse on to the ends of a double's range; each change of sign
/// between neighbours, and each pair of roots around a turning point between them, is pinned
/// by Brent's method.
const SCAN_BANDS: [(f64, f64, usize); 5] =
    [(LOG_GROWTH_MIN, -13.8, 24), (-13.8, -1.0, 60), (-1.0, 1.6, 200), (1.6, 13.8, 60), (13.8, LOG_GROWTH_MAX, 24)];

fn scan_points() -> Vec<f64> {
    let mut points = Vec::with_capacity(SCAN_BANDS.iter().map(|b| b.2).sum::<usize>() + 1);
    for (low, high, count) in SCAN_BANDS {
        points.extend((0..count).map(|i| low + (high - low) * i as f64 / count as f64));
    }
    points.push(LOG_GROWTH_MAX);
    points
}

/// What XIRR found. A series with no root or several is said so, never hidden.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Xirr {
    /// One rate: the only root. A rate closer to -100% than a double can show is given as -1.
    Rate { rate: f64 },
    /// Several rates make the present value zero; `rate` is the one Excel returns (from 0.1).
    MultipleRoots { rate: f64, roots: Vec<f64> },
    /// All flows have the same sign (or there are fewer than two): no rate exists.
    NoSignChange,
    /// No rate was found: the flows change sign more than once and neither Newton's method
    /// from 0.1 nor a scan of every rate a double can hold found one, or (one sign change) the
    /// rate is larger than a double can hold. With one sign change a rate always exists and,
    /// within a double's range, is found.
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

/// Year fractions (ACT/365) from the first date, and the flows as doubles, netted per date. XIRR
/// is a rate found numerically on exponentials, so the solver works in doubles; the flows are
/// converted here, exactly (integer cents below 2^53), and no amount ever comes back out.
fn prepare(flows: &[(NaiveDate, Cents)]) -> (Vec<f64>, Vec<f64>) {
    let mut sorted: Vec<(NaiveDate, i64)> = flows.iter().map(|(d, c)| (*d, c.get())).collect();
    if !sorted.is_sorted_by_key(|f| f.0) {
        sorted.sort_by_key(|f| f.0);
    }
    let start = sorted.first().map(|f| f.0).unwrap_or_default();
    let (mut years, mut values) = (Vec::with_capacity(sorted.len()), Vec::with_capacity(sorted.len()));
    let mut index = 0;
    while index < sorted.len() {
        let date = sorted[index].0;
        // Netted exactly: in i64 (amounts are at most 10^15 cents, so only thousands of them on
        // one date could overflow it), then in i128 from the overflow on. An i128 throughout
        // would make each conversion to a double a library call.
        let (mut cents, mut overflowed) = (0i64, None::<i128>);
        while index < sorted.len() && sorted[index].0 == date {
            let amount = sorted[index].1;
            match (overflowed.as_mut(), cents.checked_add(amount)) {
                (Some(sum), _) => *sum += i128::from(amount),
                (None, Some(sum)) => cents = sum,
                (None, None) => overflowed = Some(i128::from(cents) + i128::from(amount)),
            }
            index += 1;
        }
        let value = overflowed.map_or(cents as f64, |sum| sum as f64);
        if value != 0.0 {
            // Day numbers subtract faster than dates do (a duration is built and taken apart).
            years.push(f64::from(date.num_days_from_ce() - start.num_days_from_ce()) / 365.0);
            values.push(value / 100.0);
        }
    }
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

/// Whether `rate` is a root: the present value there is nothing against the flows' size.
fn is_root(rate: f64, years: &[f64], values: &[f64]) -> bool {
    let log_base = (1.0 + rate).ln();
    let (mut npv, mut scale) = (0.0f64, 0.0f64);
    for (t, v) in years.iter().zip(values) {
        let discounted = v * (-t * log_base).exp();
        npv += discounted;
        scale += discounted.abs();
    }
    npv.is_finite() && scale.is_finite() && npv.abs() <= ROOT_RELATIVE_NPV_MAX * scale
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

/// Halley's method: value, slope and curvature from one pass over the flows. Returns the rate
/// once the steps are below the tolerance and the present value at the last iterate is nothing
/// against the flows' size (so a stall off the root is not taken for one).
fn halley(guess: f64, years: &[f64], values: &[f64]) -> Option<f64> {
    let mut rate = guess;
    for _ in 0..XIRR_ITERATIONS_MAX {
        let log_base = (1.0 + rate).ln();
        let (mut npv, mut first, mut second, mut scale) = (0.0, 0.0, 0.0, 0.0f64);
        for (t, v) in years.iter().zip(values) {
            let discounted = v * (-t * log_base).exp();
            npv += discounted;
            scale += discounted.abs();
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
            return (npv.abs() <= ROOT_RELATIVE_NPV_MAX * scale).then_some(next);
        }
        rate = next;
    }
    None
}

/// The flows as the root searches read them: years from the first, amounts, and the logarithm
/// of each amount's size, taken once.
struct Flows<'a> {
    years: &'a [f64],
    values: &'a [f64],
    log_sizes: Vec<f64>,
    /// Beyond this |x| a discount factor could overflow a double; up to it the present value
    /// is summed directly.
    direct_max: f64,
}

impl<'a> Flows<'a> {
    fn new(years: &'a [f64], values: &'a [f64]) -> Self {
        let last = years.iter().copied().fold(0.0, f64::max);
        let direct_max = if last > 0.0 { 600.0 / last } else { f64::INFINITY };
        Flows { years, values, log_sizes: values.iter().map(|v| v.abs().ln()).collect(), direct_max }
    }

    /// Zero at a root, and of the present value's sign at x = ln(1 + rate): ln(received) -
    /// ln(paid), each a log-sum-exp of the discounted flows, so finite for every x however far
    /// the discount factors are beyond a double. With one sign change it is monotonic in x.
    fn log_balance(&self, x: f64) -> f64 {
        let log_sum = |positive: bool| {
            let terms = self
                .years
                .iter()
                .zip(self.values)
                .zip(&self.log_sizes)
                .filter(|((_, v), _)| (**v > 0.0) == positive)
                .map(|((t, _), size)| size - t * x);
            let peak = terms.clone().fold(f64::NEG_INFINITY, f64::max);
            if peak == f64::NEG_INFINITY {
                return f64::NEG_INFINITY;
            }
            peak + terms.map(|term| (term - peak).exp()).sum::<f64>().ln()
        };
        log_sum(true) - log_sum(false)
    }

    /// The present value at x and its slope in x, summed directly: none where a discount factor
    /// could overflow.
    fn value_and_slope(&self, x: f64) -> Option<(f64, f64)> {
        if x.abs() >= self.direct_max {
            return None;
        }
        let (mut value, mut slope) = (0.0, 0.0);
        for (t, v) in self.years.iter().zip(self.values) {
            let discounted = v * (-t * x).exp();
            value += discounted;
            slope -= t * discounted;
        }
        Some((value, slope))
    }

    /// The sign of the present value at x.
    fn sign(&self, x: f64) -> f64 {
        self.value_and_slope(x).map_or_else(|| self.log_balance(x), |(value, _)| value).signum()
    }

    /// Every root between neighbouring points of `grid`: where the sign changes between them,
    /// and where it does not but the slope does (a pair of roots either side of a turning point
    /// within one step), pinned by Brent's method. As x = ln(1 + rate).
    fn roots_on(&self, grid: &[f64]) -> Vec<f64> {
        let at: Vec<(f64, Option<f64>)> = grid
            .iter()
            .map(|x| match self.value_and_slope(*x) {
                Some((value, slope)) => (value.signum(), Some(slope.signum())),
                None => (self.log_balance(*x).signum(), None),
            })
            .collect();
        let f = |x: f64| self.log_balance(x);
        let mut roots = Vec::new();
        for (cell, ends) in grid.windows(2).zip(at.windows(2)) {
            let (a, b) = (cell[0], cell[1]);
            if ends[0].0 != ends[1].0 {
                roots.extend(brent(f, a, b));
            } else if let (Some(slope_a), Some(slope_b)) = (ends[0].1, ends[1].1) {
                if slope_a == slope_b {
                    continue;
                }
                let turning = brent(|x| self.value_and_slope(x).map_or(f64::NAN, |(_, slope)| slope), a, b);
                if let Some(m) = turning.filter(|m| self.sign(*m) != ends[0].0) {
                    roots.extend(brent(f, a, m));
                    roots.extend(brent(f, m, b));
                }
            }
        }
        roots
    }
}

/// Brent's method on `f` over [a, b], whose ends have opposite signs: the root to the last
/// bit of a double. Bounded: at most [`BRENT_ITERATIONS_MAX`] evaluations.
fn brent(f: impl Fn(f64) -> f64, mut a: f64, mut b: f64) -> Option<f64> {
    let (mut fa, mut fb) = (f(a), f(b));
    if fa == 0.0 {
        return Some(a);
    }
    if fb == 0.0 {
        return Some(b);
    }
    if fa.signum() == fb.signum() || !fa.is_finite() || !fb.is_finite() {
        return None;
    }
    let (mut c, mut fc) = (a, fa);
    let (mut d, mut e) = (b - a, b - a);
    for _ in 0..BRENT_ITERATIONS_MAX {
        if fb.signum() == fc.signum() {
            (c, fc) = (a, fa);
            (d, e) = (b - a, b - a);
        }
        if fc.abs() < fb.abs() {
            (a, fa, b, fb, c, fc) = (b, fb, c, fc, b, fb);
        }
        let tolerance = 2.0 * f64::EPSILON * b.abs() + f64::MIN_POSITIVE;
        let half = 0.5 * (c - b);
        if half.abs() <= tolerance || fb == 0.0 {
            return Some(b);
        }
        if e.abs() >= tolerance && fa.abs() > fb.abs() {
            // Secant or inverse quadratic interpolation, kept only if it stays well inside.
            let s = fb / fa;
            let (mut p, mut q) = if a == c {
                (2.0 * half * s, 1.0 - s)
            } else {
                let (q0, r) = (fa / fc, fb / fc);
                (s * (2.0 * half * q0 * (q0 - r) - (b - a) * (r - 1.0)), (q0 - 1.0) * (r - 1.0) * (s - 1.0))
            };
            if p > 0.0 {
                q = -q;
            } else {
                p = -p;
            }
            if 2.0 * p < (3.0 * half * q - (tolerance * q).abs()).min((e * q).abs()) {
                (e, d) = (d, p / q);
            } else {
                (d, e) = (half, half);
            }
        } else {
            (d, e) = (half, half);
        }
        (a, fa) = (b, fb);
        b += if d.abs() > tolerance { d } else { tolerance.copysign(half) };
        fb = f(b);
    }
    None
}

/// The one rate of flows that change sign once (Descartes' rule of signs holds for sums of
/// real powers: one sign change, one root above -100%). Halley's method from 0.1 finds most in
/// a few passes; where it fails or lands off the root, the root is bracketed on
/// x = ln(1 + rate), where the present value's sign is monotonic, and pinned by Brent's method.
fn unique_rate(years: &[f64], values: &[f64]) -> Option<f64> {
    if let Some(rate) = halley(XIRR_GUESS, years, values) {
        return Some(rate);
    }
    let flows = Flows::new(years, values);
    let f = |x: f64| flows.log_balance(x);
    let start = XIRR_GUESS.ln_1p();
    let at_start = f(start);
    if at_start == 0.0 {
        return Some(XIRR_GUESS);
    }
    // Step away from the guess, doubling, toward the side where the sign changes.
    let rising = f(start + 1.0) > at_start;
    let upward = (at_start < 0.0) == rising;
    let (mut near, mut step) = (start, 1.0);
    while step < 2048.0 {
        let far = if upward { (start + step).min(LOG_GROWTH_MAX) } else { (start - step).max(LOG_GROWTH_MIN) };
        if f(far).signum() != at_start.signum() {
            let x = brent(f, near.min(far), near.max(far))?;
            return Some(x.exp_m1());
        }
        if far == LOG_GROWTH_MAX || far == LOG_GROWTH_MIN {
            // The rate is beyond what a double holds: as close to -100% as can be shown, or none.
            return (!upward).then_some(-1.0);
        }
        (near, step) = (far, step * 2.0);
    }
    None
}

fn sign_changes(values: &[f64]) -> usize {
    values.windows(2).filter(|w| (w[0] < 0.0) != (w[1] < 0.0)).count()
}

/// Excel-compatible XIRR of dated flows (negative = paid in, positive = received). Flows on the
/// same date count as their sum.
pub fn xirr(flows: &[(NaiveDate, Cents)]) -> Xirr {
    let (years, values) = prepare(flows);
    let changes = sign_changes(&values);
    if changes == 0 {
        return Xirr::NoSignChange;
    }
    if changes == 1 {
        return unique_rate(&years, &values).map_or(Xirr::NoConvergence, |rate| Xirr::Rate { rate });
    }
    let primary = newton(XIRR_GUESS, &years, &values).filter(|r| is_root(*r, &years, &values));
    let flows = Flows::new(&years, &values);
    let mut roots: Vec<f64> = Vec::new();
    for root in flows.roots_on(&scan_points()).into_iter().map(f64::exp_m1) {
        if !roots.iter().any(|r| (r - root).abs() <= 1e-9 * root.abs().max(1e-9)) {
            roots.push(root);
        }
    }
    if let Some(rate) = primary {
        if !roots.iter().any(|r| (r - rate).abs() <= 1e-9 * rate.abs().max(1e-9)) {
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

/// MOIC: TVPI on invested capital, `(distributed + nav) / invested`, exact, shown to 4 decimals
/// as the other multiples; none without invested capital.
pub fn moic(invested: Cents, distributed: Cents, nav: Cents) -> Option<Decimal> {
    if invested.get() <= 0 {
        return None;
    }
    let value = distributed.to_decimal().checked_add(nav.to_decimal())?;
    let mut ratio = value.checked_div(invested.to_decimal())?.round_dp(4);
    ratio.rescale(4);
    Some(ratio)
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

/// Private euros per public euro, to two decimals, a half cent of a ratio rounded up: the one
/// figure of leverage every page and report shows.
pub fn leverage(private: Cents, public: Cents) -> Option<Decimal> {
    if public.get() <= 0 {
        return None;
    }
    let ratio = Decimal::from(private.get()).checked_div(Decimal::from(public.get()))?;
    let mut rounded = ratio.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    rounded.rescale(2);
    Some(rounded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leverage_is_private_per_public_euro_to_two_decimals() {
        assert_eq!(leverage(Cents::new(150), Cents::new(50)).map(|r| r.to_string()), Some("3.00".into()));
        assert_eq!(leverage(Cents::new(2), Cents::new(3)), Some(Decimal::new(67, 2)));
        assert_eq!(leverage(Cents::new(1), Cents::new(8)), Some(Decimal::new(13, 2)), "0.125 rounds up");
        // EUR 25 bn private on EUR 200 bn public.
        let bn = |eur: i64| Cents::from_eur(eur * 1_000_000_000).unwrap();
        assert_eq!(leverage(bn(25), bn(200)).map(|r| r.to_string()), Some("0.13".into()));
        assert_eq!(leverage(Cents::new(1), Cents::ZERO), None);
    }

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn flows(list: &[(&str, i64)]) -> Vec<(NaiveDate, Cents)> {
        list.iter().map(|(date, eur)| (d(date), Cents::new(eur * 100))).collect()
    }

    #[test]
    fn excel_reference_case() {
        // docs/waterfall.md (Excel's documented XIRR example): Excel shows 0.373362535, the result of
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
    fn two_roots_within_one_step_of_the_scan_are_both_found() {
        // Roots at -74.7% and near -71%, one scan step apart, and one near 10^33: three in all.
        let series = vec![
            (d("2024-08-28"), Cents::new(43_041_354)),
            (d("2024-09-11"), Cents::new(-824_758_245)),
            (d("2025-12-31"), Cents::new(934_449_218)),
            (d("2026-03-27"), Cents::new(-581_507_683)),
        ];
        let Xirr::MultipleRoots { roots, .. } = xirr(&series) else { panic!("{:?}", xirr(&series)) };
        assert_eq!(roots.len(), 3, "{roots:?}");
        assert!((roots[0] - -0.7468757864521336).abs() < 1e-12, "{roots:?}");
        for root in &roots[..2] {
            assert!(residual(*root, &series).abs() < 1e-9, "{root}");
        }
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

    /// Relative present value at `rate`, computed directly (powers, not the solver's logs).
    fn residual(rate: f64, series: &[(NaiveDate, Cents)]) -> f64 {
        let first = series.iter().map(|(d, _)| *d).min().unwrap();
        let (mut npv, mut scale) = (0.0f64, 0.0f64);
        for (date, cents) in series {
            let years = (*date - first).num_days() as f64 / 365.0;
            let value = cents.get() as f64 * (1.0 + rate).powf(-years);
            npv += value;
            scale += value.abs();
        }
        npv / scale
    }

    #[test]
    fn a_deep_loss_with_one_sign_change_has_its_rate() {
        // Two calls paid, NAV half of them a month later: pyxirr gives -0.9355857.
        let series = flows(&[("2024-05-15", -1_000_000), ("2024-05-30", -1_000_000), ("2024-06-30", 1_500_000)]);
        let Xirr::Rate { rate } = xirr(&series) else { panic!("expected a rate, got {:?}", xirr(&series)) };
        assert!((rate - -0.9355857).abs() < 1e-7, "{rate}");
        assert!(residual(rate, &series).abs() < 1e-12);
    }

    #[test]
    fn a_very_large_gain_has_its_rate() {
        // Doubled in 24 days: 2^(365/24) - 1.
        let series = vec![(d("2024-06-17"), Cents::new(-219_340_431)), (d("2024-07-11"), Cents::new(438_680_862))];
        let Xirr::Rate { rate } = xirr(&series) else { panic!("expected a rate, got {:?}", xirr(&series)) };
        let exact = 2f64.powf(365.0 / 24.0) - 1.0;
        assert!((rate - exact).abs() <= 1e-12 * exact, "{rate} against {exact}");
    }

    #[test]
    fn a_rate_beyond_a_double_near_minus_one_is_minus_one() {
        // 2,000,000.00 paid, one cent back a day later: 1 + rate = (5e-9)^365.
        let series = vec![(d("2024-01-01"), Cents::new(-200_000_000)), (d("2024-01-02"), Cents::new(1))];
        assert_eq!(xirr(&series), Xirr::Rate { rate: -1.0 });
    }

    #[test]
    fn flows_on_one_date_net_exactly_beyond_i64() {
        // Their running sum passes i64::MAX; in doubles the one cent and the 101 would be lost.
        let day = d("2025-01-01");
        let series = vec![
            (day, Cents::new(9_000_000_000_000_000_001)),
            (day, Cents::new(9_000_000_000_000_000_000)),
            (day, Cents::new(-9_000_000_000_000_000_000)),
            (day, Cents::new(-9_000_000_000_000_000_101)),
            (d("2026-01-01"), Cents::new(110)),
        ];
        let Xirr::Rate { rate } = xirr(&series) else { panic!("expected a rate, got {:?}", xirr(&series)) };
        assert!((rate - 0.1).abs() < 1e-12, "{rate}");
    }

    #[test]
    fn flows_on_one_date_count_as_their_sum() {
        // A payment and a refund on the same day change sign twice but are one flow.
        let series = flows(&[("2025-01-01", -100), ("2025-01-01", 40), ("2026-01-01", 66)]);
        let Xirr::Rate { rate } = xirr(&series) else { panic!("expected a rate") };
        assert!((rate - 0.1).abs() < 1e-12, "{rate}");
    }

    proptest::proptest! {
        /// Any series that changes sign once has its rate, and it is a root (checked by direct
        /// powers), from -99.99% losses to thousandfold gains.
        #[test]
        fn one_sign_change_always_has_its_rate(
            paid in proptest::collection::vec((0i64..400, 1i64..10_000_000_000), 1..6),
            back in proptest::collection::vec((1i64..2_000, 1i64..10_000_000_000), 1..6),
            scale in -4i32..4,
        ) {
            let start = d("2024-01-01");
            let last_paid = paid.iter().map(|(day, _)| *day).max().unwrap_or(0);
            let mut series: Vec<(NaiveDate, Cents)> =
                paid.iter().map(|(day, c)| (start + chrono::Duration::days(*day), Cents::new(-c))).collect();
            let factor = 10f64.powi(scale);
            for (day, cents) in &back {
                let amount = ((*cents as f64) * factor).max(1.0) as i64;
                series.push((start + chrono::Duration::days(last_paid + day), Cents::new(amount)));
            }
            match xirr(&series) {
                Xirr::Rate { rate } => {
                    proptest::prop_assert!(rate >= -1.0);
                    if rate > -1.0 + 1e-6 {
                        proptest::prop_assert!(residual(rate, &series).abs() < 1e-9, "{} at {}", residual(rate, &series), rate);
                    } else if rate > -1.0 + 1e-12 {
                        // So close to -100%, 1 + rate keeps only a few digits in a double: the
                        // root must lie within a few units in the last place of the rate.
                        let (below, above) = (rate - 8.0 * f64::EPSILON, rate + 8.0 * f64::EPSILON);
                        let (low, high) = (residual(below.max(-1.0 + f64::EPSILON), &series), residual(above, &series));
                        proptest::prop_assert!(low.signum() != high.signum() || low == 0.0 || high == 0.0, "{} {} at {}", low, high, rate);
                    }
                }
                // A thousandfold gain in a day is 1000^365: no double holds that rate.
                Xirr::NoConvergence if above_a_double(&series) => {}
                other => proptest::prop_assert!(false, "one sign change, but {:?}", other),
            }
        }
    }

    /// Whether the present value is still positive at the largest rate a double holds, so the
    /// one root lies beyond it: log-sums of receipts and payments discounted at ln(f64::MAX).
    fn above_a_double(series: &[(NaiveDate, Cents)]) -> bool {
        let first = series.iter().map(|(d, _)| *d).min().unwrap();
        let growth = f64::MAX.ln();
        let log_sum = |receipts: bool| {
            let terms: Vec<f64> = series
                .iter()
                .filter(|(_, c)| (c.get() > 0) == receipts)
                .map(|(d, c)| (c.get().unsigned_abs() as f64).ln() - (*d - first).num_days() as f64 / 365.0 * growth)
                .collect();
            let peak = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            peak + terms.iter().map(|t| (t - peak).exp()).sum::<f64>().ln()
        };
        log_sum(true) > log_sum(false)
    }

    #[test]
    fn a_rate_above_a_double_is_no_convergence() {
        // 0.01 paid, 0.10 back a day later: 1 + rate = 10^365.
        let series = vec![(d("2024-01-01"), Cents::new(-1)), (d("2024-01-02"), Cents::new(10))];
        assert!(above_a_double(&series));
        assert_eq!(xirr(&series), Xirr::NoConvergence);
    }

    #[test]
    fn multiples_are_exact_ratios() {
        let m = multiples(Cents::new(100_000), Cents::new(50_000), Cents::new(75_000));
        assert_eq!(m.dpi, Some(Decimal::new(5000, 4)));
        assert_eq!(m.rvpi, Some(Decimal::new(7500, 4)));
        assert_eq!(m.tvpi, Some(Decimal::new(12500, 4)));
        assert_eq!(multiples(Cents::ZERO, Cents::new(1), Cents::new(1)).tvpi, None);
        // 1,000.00 distributed and 1,100.00 of NAV on 1,200.00 invested: 2,100 / 1,200 = 1.75.
        assert_eq!(moic(Cents::new(120_000), Cents::new(100_000), Cents::new(110_000)), Some(Decimal::new(17500, 4)));
        // 1.00 on 3.00: 0.33333... shown as 0.3333.
        assert_eq!(moic(Cents::new(300), Cents::new(100), Cents::ZERO), Some(Decimal::new(3333, 4)));
        assert_eq!(moic(Cents::ZERO, Cents::new(1), Cents::new(1)), None);
    }
}
