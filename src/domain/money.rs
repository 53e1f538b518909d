//! Exact money: integer euro cents, parsed from and printed as decimal strings.
//!
//! No float ever touches an amount. Arithmetic is checked; allocation over several parties
//! uses the largest-remainder rule of docs/ledger.md ("Money") so that the parts always sum to the whole.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Largest amount the service accepts in one figure: EUR 10^13 (fifty times the whole fund).
pub const AMOUNT_EUR_MAX: i64 = 10_000_000_000_000;
/// The same limit in cents.
pub const AMOUNT_CENTS_MAX: i64 = AMOUNT_EUR_MAX * 100;
/// Decimal places of the euro.
pub const CENT_SCALE: u32 = 2;

/// An amount of euros, exact to the cent. Signed: ledger postings use the sign for debit/credit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cents(i64);

/// Why a money string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("not a decimal number (expected a string such as \"1250000.00\")")]
    NotANumber,
    #[error("more than 2 decimal places: amounts are exact to the cent")]
    TooManyDecimals,
    #[error("above the limit of EUR 10,000,000,000,000")]
    TooLarge,
    #[error("must not be negative")]
    Negative,
    #[error("must be greater than zero")]
    NotPositive,
    #[error("arithmetic overflow")]
    Overflow,
}

impl Cents {
    pub const ZERO: Cents = Cents(0);

    pub const fn new(cents: i64) -> Self {
        Cents(cents)
    }

    pub const fn get(self) -> i64 {
        self.0
    }

    /// Whole euros (test fixtures and demo data).
    pub fn from_eur(eur: i64) -> Result<Self, MoneyError> {
        eur.checked_mul(100).map(Cents).ok_or(MoneyError::Overflow)
    }

    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, CENT_SCALE)
    }

    /// Exact conversion: refuses anything finer than a cent or beyond the absolute limit.
    pub fn from_decimal(value: Decimal) -> Result<Self, MoneyError> {
        let normalized = value.normalize();
        if normalized.scale() > CENT_SCALE {
            return Err(MoneyError::TooManyDecimals);
        }
        let cents = normalized
            .checked_mul(Decimal::ONE_HUNDRED)
            .and_then(|v| rust_decimal::prelude::ToPrimitive::to_i64(&v.trunc()))
            .ok_or(MoneyError::TooLarge)?;
        if cents.unsigned_abs() > AMOUNT_CENTS_MAX as u64 {
            return Err(MoneyError::TooLarge);
        }
        Ok(Cents(cents))
    }

    /// A decimal amount of euros rounded down to the cent (shares, rates and caps).
    pub fn floor_from(value: Decimal) -> Result<Self, MoneyError> {
        Cents::from_decimal(
            value.round_dp_with_strategy(CENT_SCALE, rust_decimal::RoundingStrategy::ToNegativeInfinity),
        )
    }

    /// A decimal amount of euros rounded up to the cent (a sum compared with a ceiling).
    pub fn ceil_from(value: Decimal) -> Result<Self, MoneyError> {
        Cents::from_decimal(
            value.round_dp_with_strategy(CENT_SCALE, rust_decimal::RoundingStrategy::ToPositiveInfinity),
        )
    }

    pub fn checked_add(self, other: Cents) -> Result<Cents, MoneyError> {
        self.0.checked_add(other.0).map(Cents).ok_or(MoneyError::Overflow)
    }

    pub fn checked_sub(self, other: Cents) -> Result<Cents, MoneyError> {
        self.0.checked_sub(other.0).map(Cents).ok_or(MoneyError::Overflow)
    }

    pub fn checked_neg(self) -> Result<Cents, MoneyError> {
        self.0.checked_neg().map(Cents).ok_or(MoneyError::Overflow)
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn abs(self) -> Cents {
        Cents(self.0.saturating_abs())
    }

    pub fn min(self, other: Cents) -> Cents {
        Cents(self.0.min(other.0))
    }

    /// Sum that refuses to overflow instead of wrapping.
    pub fn sum<I: IntoIterator<Item = Cents>>(items: I) -> Result<Cents, MoneyError> {
        items.into_iter().try_fold(Cents::ZERO, |acc, item| acc.checked_add(item))
    }

    /// A positive amount for a business event: > 0 and within the limit.
    pub fn require_positive(self) -> Result<Cents, MoneyError> {
        if self.0 <= 0 {
            Err(MoneyError::NotPositive)
        } else {
            Ok(self)
        }
    }

    pub fn require_non_negative(self) -> Result<Cents, MoneyError> {
        if self.0 < 0 {
            Err(MoneyError::Negative)
        } else {
            Ok(self)
        }
    }
}

impl FromStr for Cents {
    type Err = MoneyError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        // Files and forms may pad a figure; a JSON body may not (see `Deserialize` below).
        let trimmed = text.trim();
        if !super::plain_decimal::is_plain(trimmed) {
            return Err(MoneyError::NotANumber);
        }
        let body = trimmed.strip_prefix('-').unwrap_or(trimmed);
        if let Some((_, fraction)) = body.split_once('.') {
            if fraction.len() > CENT_SCALE as usize {
                return Err(MoneyError::TooManyDecimals);
            }
        }
        // Cheap length guard before Decimal parsing: 10^15 cents has 16 integer digits.
        if body.split('.').next().map_or(0, str::len) > 16 {
            return Err(MoneyError::TooLarge);
        }
        let value = Decimal::from_str_exact(trimmed).map_err(|_| MoneyError::NotANumber)?;
        Cents::from_decimal(value)
    }
}

impl fmt::Display for Cents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl Serialize for Cents {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Cents {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CentsVisitor;
        impl serde::de::Visitor<'_> for CentsVisitor {
            type Value = Cents;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an amount as a decimal string such as \"1250000.00\"")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Cents, E> {
                if text.trim() != text {
                    return Err(E::custom(MoneyError::NotANumber));
                }
                text.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_str(CentsVisitor)
    }
}

/// Deserializers for amounts the service computed and stored itself (a distribution's
/// allocation), read back whatever their size: a sum of many lines may pass
/// [`AMOUNT_CENTS_MAX`], the limit on a figure a client sends, and must still be readable.
pub mod stored {
    use super::{Cents, MoneyError, CENT_SCALE};
    use serde::{Deserialize, Deserializer};

    fn parse(text: &str) -> Result<Cents, MoneyError> {
        if !crate::domain::plain_decimal::is_plain(text) {
            return Err(MoneyError::NotANumber);
        }
        let value = rust_decimal::Decimal::from_str_exact(text).map_err(|_| MoneyError::NotANumber)?;
        if value.normalize().scale() > CENT_SCALE {
            return Err(MoneyError::TooManyDecimals);
        }
        let cents = value.checked_mul(rust_decimal::Decimal::ONE_HUNDRED).ok_or(MoneyError::Overflow)?;
        rust_decimal::prelude::ToPrimitive::to_i64(&cents).map(Cents).ok_or(MoneyError::Overflow)
    }

    /// A stored amount, any 64-bit number of cents.
    pub fn cents<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Cents, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        parse(&text).map_err(serde::de::Error::custom)
    }

    /// A stored amount that may be absent.
    pub fn optional_cents<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Cents>, D::Error> {
        let text = <Option<std::borrow::Cow<'de, str>>>::deserialize(deserializer)?;
        text.map(|t| parse(&t).map_err(serde::de::Error::custom)).transpose()
    }
}

/// Splits `total` over parties in proportion to `weights`, exact to the cent (docs/ledger.md, "Money").
///
/// Each party gets its share rounded down; the cents left over go one each to the largest
/// remainders, ties to the lower index (callers order parties by id). Zero total weight
/// with a non-zero total is refused: there is nobody to give the money to.
pub fn allocate_pro_rata(total: Cents, weights: &[Cents]) -> Result<Vec<Cents>, MoneyError> {
    let weights: Vec<i128> = weights.iter().map(|w| i128::from(w.get())).collect();
    allocate_by_weights(total, &weights)
}

/// As [`allocate_pro_rata`], with plain integer weights (scaled percentages, counts).
pub fn allocate_by_weights(total: Cents, weights: &[i128]) -> Result<Vec<Cents>, MoneyError> {
    Ok(allocate_units(total.get(), weights)?.into_iter().map(Cents).collect())
}

/// The largest-remainder rule on any indivisible unit (cents, thousandths of a GPU-hour):
/// shares rounded down, the units left over one each to the largest remainders, ties to the
/// lower index. The shares always sum to `total`.
pub fn allocate_units(total: i64, weights: &[i128]) -> Result<Vec<i64>, MoneyError> {
    if total < 0 || weights.iter().any(|w| *w < 0) {
        return Err(MoneyError::Negative);
    }
    let weight_sum: i128 = weights.iter().sum();
    if weight_sum == 0 {
        return if total == 0 { Ok(vec![0; weights.len()]) } else { Err(MoneyError::NotPositive) };
    }
    let total_i = i128::from(total);
    let mut shares = Vec::with_capacity(weights.len());
    let mut remainders = Vec::with_capacity(weights.len());
    for (index, weight) in weights.iter().enumerate() {
        // Weights up to 10^20 times totals up to 10^15 stay far inside i128.
        let product = total_i * weight;
        shares.push(product / weight_sum);
        remainders.push((product % weight_sum, index));
    }
    let allocated: i128 = shares.iter().sum();
    let leftover = usize::try_from(total_i - allocated).map_err(|_| MoneyError::Overflow)?;
    // Fewer units are left than parties. They go to the largest remainders, ties to the lower
    // index: a selection of the top `leftover` in that order, linear rather than a full sort.
    debug_assert!(leftover < weights.len().max(1));
    let by_priority = |a: &(i128, usize), b: &(i128, usize)| b.0.cmp(&a.0).then(a.1.cmp(&b.1));
    if leftover > 0 {
        if leftover < remainders.len() {
            remainders.select_nth_unstable_by(leftover - 1, by_priority);
        }
        for (_, index) in &remainders[..leftover] {
            shares[*index] += 1;
        }
    }
    let result: Vec<i64> = shares.into_iter().map(|s| s as i64).collect();
    debug_assert_eq!(result.iter().map(|c| i128::from(*c)).sum::<i128>(), total_i);
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_prints_decimal_strings() {
        assert_eq!("1250000.00".parse::<Cents>(), Ok(Cents(125_000_000)));
        assert_eq!("0.5".parse::<Cents>(), Ok(Cents(50)));
        assert_eq!("7".parse::<Cents>(), Ok(Cents(700)));
        assert_eq!("-3.07".parse::<Cents>(), Ok(Cents(-307)));
        assert_eq!(Cents(125_000_000).to_string(), "1250000.00");
        assert_eq!(Cents(-5).to_string(), "-0.05");
    }

    #[test]
    fn refuses_fractions_of_a_cent_and_junk() {
        assert_eq!("1.001".parse::<Cents>(), Err(MoneyError::TooManyDecimals));
        assert_eq!("1e5".parse::<Cents>(), Err(MoneyError::NotANumber));
        assert_eq!("".parse::<Cents>(), Err(MoneyError::NotANumber));
        assert_eq!("1.".parse::<Cents>(), Err(MoneyError::NotANumber));
        assert_eq!("NaN".parse::<Cents>(), Err(MoneyError::NotANumber));
        assert_eq!("1,5".parse::<Cents>(), Err(MoneyError::NotANumber));
    }

    #[test]
    fn refuses_absurd_amounts() {
        assert_eq!("10000000000000.00".parse::<Cents>(), Ok(Cents(AMOUNT_CENTS_MAX)));
        assert_eq!("10000000000000.01".parse::<Cents>(), Err(MoneyError::TooLarge));
        assert_eq!("99999999999999999999999".parse::<Cents>(), Err(MoneyError::TooLarge));
    }

    #[test]
    fn json_amounts_are_strings_only() {
        let parsed: Result<Cents, _> = serde_json::from_str("12.5");
        assert!(parsed.is_err());
        let parsed: Cents = serde_json::from_str("\"12.50\"").unwrap();
        assert_eq!(parsed, Cents(1250));
        assert_eq!(serde_json::to_string(&Cents(1250)).unwrap(), "\"12.50\"");
        // Leading zeros are plain notation too.
        assert_eq!(serde_json::from_str::<Cents>("\"007.50\"").unwrap(), Cents(750));
        // Plain notation in a request: no padding, exponent, sign + or bare point.
        for refused in [" 5", "5 ", "\\t5", "\\u00a05", "5e2", "+5", ".5", "5."] {
            let parsed: Result<Cents, _> = serde_json::from_str(&format!("\"{refused}\""));
            assert!(parsed.is_err(), "{refused:?} should be refused");
        }
    }

    #[test]
    fn allocation_gives_leftover_cents_to_largest_remainders_then_lower_index() {
        // 100 cents over three equal weights: 33 each, the one left cent goes to index 0.
        let parts = allocate_pro_rata(Cents(100), &[Cents(1), Cents(1), Cents(1)]).unwrap();
        assert_eq!(parts, vec![Cents(34), Cents(33), Cents(33)]);
        // Weights 1:2 of 10 cents: 3.33 and 6.66 -> remainders .33 and .66: the second gets it.
        let parts = allocate_pro_rata(Cents(10), &[Cents(1), Cents(2)]).unwrap();
        assert_eq!(parts, vec![Cents(3), Cents(7)]);
    }

    #[test]
    fn allocation_refuses_money_with_nobody_to_receive_it() {
        assert_eq!(allocate_pro_rata(Cents(1), &[Cents(0)]), Err(MoneyError::NotPositive));
        assert_eq!(allocate_pro_rata(Cents(0), &[]), Ok(vec![]));
    }

    proptest! {
        #[test]
        fn allocation_conserves_every_cent(
            total in 0i64..AMOUNT_CENTS_MAX,
            weights in proptest::collection::vec(0i64..AMOUNT_CENTS_MAX, 1..40),
        ) {
            let weights: Vec<Cents> = weights.into_iter().map(Cents).collect();
            prop_assume!(weights.iter().any(|w| w.get() > 0));
            let parts = allocate_pro_rata(Cents(total), &weights).unwrap();
            prop_assert_eq!(parts.iter().map(|c| c.get() as i128).sum::<i128>(), total as i128);
            let weight_sum: i128 = weights.iter().map(|w| w.get() as i128).sum();
            for (part, weight) in parts.iter().zip(&weights) {
                // Never more than one cent away from the exact share.
                let exact_floor = (total as i128 * weight.get() as i128) / weight_sum;
                prop_assert!(part.get() as i128 - exact_floor <= 1);
                prop_assert!(part.get() as i128 >= exact_floor);
            }
        }

        #[test]
        fn display_and_parse_round_trip(cents in -AMOUNT_CENTS_MAX..=AMOUNT_CENTS_MAX) {
            let text = Cents(cents).to_string();
            prop_assert_eq!(text.parse::<Cents>(), Ok(Cents(cents)));
        }
    }
}
