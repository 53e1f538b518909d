//! State aid for compute grants: GBER Art. 25 research intensities and the de minimis ceiling
//! (Regulation 2023/2831: EUR 300,000 per single undertaking over any rolling three years).

use chrono::{Months, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::eligibility::SmeCategory;
use super::money::{Cents, MoneyError};

/// De minimis ceiling per single undertaking over any rolling three years.
pub const DE_MINIMIS_CEILING: Cents = Cents::new(300_000 * 100);
/// The rolling window of de minimis, in months.
pub const DE_MINIMIS_WINDOW_MONTHS: u32 = 36;
/// GBER Art. 25 ceiling on any intensity.
pub const INTENSITY_MAX_PERCENT: i64 = 80;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AidBasis {
    /// The whole subsidy is aid, counted against the de minimis ceiling.
    DeMinimis,
    /// GBER Art. 25(2)(b): 50% base.
    IndustrialResearch,
    /// GBER Art. 25(2)(c): 25% base.
    ExperimentalDevelopment,
}

impl AidBasis {
    pub const ALL: [AidBasis; 3] =
        [AidBasis::DeMinimis, AidBasis::IndustrialResearch, AidBasis::ExperimentalDevelopment];

    pub fn as_str(self) -> &'static str {
        match self {
            AidBasis::DeMinimis => "de_minimis",
            AidBasis::IndustrialResearch => "industrial_research",
            AidBasis::ExperimentalDevelopment => "experimental_development",
        }
    }

    pub fn parse(text: &str) -> Option<AidBasis> {
        AidBasis::ALL.into_iter().find(|b| b.as_str() == text)
    }
}

/// Aid intensity in percent for a basis and an SME category; none for a non-SME.
pub fn intensity_percent(basis: AidBasis, category: SmeCategory) -> Option<Decimal> {
    let bonus = match category {
        SmeCategory::Micro | SmeCategory::Small => 20,
        SmeCategory::Medium => 10,
        SmeCategory::NotSme => return None,
    };
    let percent = match basis {
        AidBasis::DeMinimis => 100,
        AidBasis::IndustrialResearch => (50 + bonus).min(INTENSITY_MAX_PERCENT),
        AidBasis::ExperimentalDevelopment => (25 + bonus).min(INTENSITY_MAX_PERCENT),
    };
    Some(Decimal::from(percent))
}

/// Aid value: GPU-hours (in thousandths) x list price per hour x intensity, rounded down to
/// the cent. Integer arithmetic on the intensity's decimal digits: exact, and it runs for every
/// usage record, so it avoids decimal division.
pub fn aid_value(milli_gpu_hours: i64, price_per_hour: Cents, intensity_percent: Decimal) -> Result<Cents, MoneyError> {
    if milli_gpu_hours < 0 || price_per_hour.is_negative() || intensity_percent.is_sign_negative() {
        return Err(MoneyError::Negative);
    }
    // cents = milli / 1000 x price_cents x (mantissa / 10^scale) / 100
    let numerator = i128::from(milli_gpu_hours)
        .checked_mul(i128::from(price_per_hour.get()))
        .and_then(|n| n.checked_mul(intensity_percent.mantissa()))
        .ok_or(MoneyError::Overflow)?;
    let denominator = 100_000_i128
        .checked_mul(10_i128.checked_pow(intensity_percent.scale()).ok_or(MoneyError::Overflow)?)
        .ok_or(MoneyError::Overflow)?;
    let cents = i64::try_from(numerator / denominator).map_err(|_| MoneyError::TooLarge)?;
    Cents::from_decimal(Decimal::new(cents, 2))
}

/// Why de minimis aid is refused, with the figures.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "de minimis ceiling exceeded: {prior} of aid in the three years to {date} plus {requested} requested is {total}, above {ceiling} (at most {headroom} more can be granted)"
)]
pub struct DeMinimisExceeded {
    pub date: NaiveDate,
    pub prior: Cents,
    pub requested: Cents,
    pub total: Cents,
    pub ceiling: Cents,
    pub headroom: Cents,
}

/// Checks a new de minimis grant on `date` against the ceiling: aid the undertaking declared for
/// the window, plus aid granted here within the three years up to and including `date`.
pub fn check_de_minimis(
    date: NaiveDate,
    declared: Cents,
    granted: &[(NaiveDate, Cents)],
    requested: Cents,
) -> Result<Result<(), DeMinimisExceeded>, MoneyError> {
    let window_start = date.checked_sub_months(Months::new(DE_MINIMIS_WINDOW_MONTHS)).unwrap_or(NaiveDate::MIN);
    let in_window = Cents::sum(granted.iter().filter(|(d, _)| *d > window_start && *d <= date).map(|(_, a)| *a))?;
    let prior = declared.checked_add(in_window)?;
    let total = prior.checked_add(requested)?;
    if total <= DE_MINIMIS_CEILING {
        return Ok(Ok(()));
    }
    let headroom = Cents::new((DE_MINIMIS_CEILING.get() - prior.get()).max(0));
    Ok(Err(DeMinimisExceeded { date, prior, requested, total, ceiling: DE_MINIMIS_CEILING, headroom }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn gber_intensities_by_category() {
        use AidBasis::*;
        use SmeCategory::*;
        assert_eq!(intensity_percent(IndustrialResearch, Small), Some(Decimal::from(70)));
        assert_eq!(intensity_percent(IndustrialResearch, Micro), Some(Decimal::from(70)));
        assert_eq!(intensity_percent(IndustrialResearch, Medium), Some(Decimal::from(60)));
        assert_eq!(intensity_percent(ExperimentalDevelopment, Small), Some(Decimal::from(45)));
        assert_eq!(intensity_percent(ExperimentalDevelopment, Medium), Some(Decimal::from(35)));
        assert_eq!(intensity_percent(DeMinimis, Medium), Some(Decimal::from(100)));
        assert_eq!(intensity_percent(IndustrialResearch, NotSme), None);
    }

    #[test]
    fn aid_value_is_hours_times_price_times_intensity() {
        // 1,234.567 GPU-hours at EUR 2.10 and 70%: 1,814.81349 -> 1,814.81.
        assert_eq!(aid_value(1_234_567, Cents::new(210), Decimal::from(70)), Ok(Cents::new(181_481)));
    }

    proptest::proptest! {
        #[test]
        fn integer_aid_value_equals_the_decimal_formula(
            milli in 0i64..1_000_000_000_000, price in 0i64..1_000_000, percent in 0u32..=10_000, scale in 0u32..3,
        ) {
            let intensity = Decimal::new(i64::from(percent), scale);
            let price = Cents::new(price);
            let gross = Decimal::from(milli) * price.to_decimal() / Decimal::from(1000);
            let expected = Cents::floor_from(gross * intensity / Decimal::ONE_HUNDRED);
            proptest::prop_assert_eq!(aid_value(milli, price, intensity), expected, "both refuse amounts above the limit");
        }
    }

    #[test]
    fn de_minimis_counts_declared_and_granted_aid_in_the_rolling_window() {
        let granted = [(d("2022-06-30"), Cents::new(100_000 * 100)), (d("2024-01-15"), Cents::new(150_000 * 100))];
        // On 2025-06-30 the window is (2022-06-30, 2025-06-30]: the 2022 award has just left it.
        assert_eq!(
            check_de_minimis(d("2025-06-30"), Cents::new(50_000 * 100), &granted, Cents::new(100_000 * 100)),
            Ok(Ok(()))
        );
        let refused =
            check_de_minimis(d("2025-06-29"), Cents::new(50_000 * 100), &granted, Cents::new(100_000 * 100)).unwrap();
        let error = refused.unwrap_err();
        assert_eq!(error.prior, Cents::new(300_000 * 100));
        assert_eq!(error.headroom, Cents::ZERO);
        assert!(error.to_string().contains("300000.00"), "{error}");
        // Exactly at the ceiling is allowed; one cent over is not.
        assert_eq!(check_de_minimis(d("2025-01-01"), Cents::ZERO, &[], Cents::new(300_000 * 100)), Ok(Ok(())));
        assert!(check_de_minimis(d("2025-01-01"), Cents::ZERO, &[], Cents::new(300_000 * 100 + 1)).unwrap().is_err());
    }
}
