//! SME definition (Commission Recommendation 2003/361/EC) for compute-grant applicants.
//!
//! Headcount in annual work units AND (turnover OR balance-sheet total) below the ceilings of a
//! category. Partner enterprises (a 25% to 50% holding, either way) add their figures pro rata to
//! the holding; linked enterprises (above 50%) add theirs in full. Holdings below 25% leave an
//! enterprise autonomous and add nothing.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::money::{Cents, MoneyError};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SmeCategory {
    Micro,
    Small,
    Medium,
    /// Above the medium ceilings: not an SME, not eligible for SME calls.
    NotSme,
}

impl SmeCategory {
    pub const ALL: [SmeCategory; 4] =
        [SmeCategory::Micro, SmeCategory::Small, SmeCategory::Medium, SmeCategory::NotSme];

    pub fn as_str(self) -> &'static str {
        match self {
            SmeCategory::Micro => "micro",
            SmeCategory::Small => "small",
            SmeCategory::Medium => "medium",
            SmeCategory::NotSme => "not_sme",
        }
    }

    pub fn parse(text: &str) -> Option<SmeCategory> {
        SmeCategory::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

/// One category's ceilings: headcount strictly below, money at or below.
struct Ceiling {
    category: SmeCategory,
    staff_below: i64,
    turnover_max_eur: i64,
    balance_sheet_max_eur: i64,
}

const CEILINGS: [Ceiling; 3] = [
    Ceiling {
        category: SmeCategory::Micro,
        staff_below: 10,
        turnover_max_eur: 2_000_000,
        balance_sheet_max_eur: 2_000_000,
    },
    Ceiling {
        category: SmeCategory::Small,
        staff_below: 50,
        turnover_max_eur: 10_000_000,
        balance_sheet_max_eur: 10_000_000,
    },
    Ceiling {
        category: SmeCategory::Medium,
        staff_below: 250,
        turnover_max_eur: 50_000_000,
        balance_sheet_max_eur: 43_000_000,
    },
];

/// An enterprise's own figures (last approved accounting period).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EnterpriseFigures {
    /// Staff headcount in annual work units (part-time and seasonal work as fractions).
    #[schema(value_type = String, example = "12.5")]
    pub staff_awu: Decimal,
    #[schema(value_type = String)]
    pub turnover: Cents,
    #[schema(value_type = String)]
    pub balance_sheet: Cents,
}

/// An enterprise the applicant holds, or that holds the applicant, with the larger of the two
/// holdings (capital or voting rights) in percent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Related {
    #[schema(value_type = String, example = "30")]
    pub holding_percent: Decimal,
    pub figures: EnterpriseFigures,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EligibilityError {
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    #[error(transparent)]
    Money(#[from] MoneyError),
}

/// The figures that count: own, plus partners pro rata, plus linked enterprises in full.
pub fn aggregate(own: &EnterpriseFigures, related: &[Related]) -> Result<EnterpriseFigures, EligibilityError> {
    check(own, "figures")?;
    let mut total = *own;
    for (index, other) in related.iter().enumerate() {
        let field = format!("related[{index}]");
        check(&other.figures, &field)?;
        let share = match other.holding_percent {
            p if p < Decimal::ZERO || p > Decimal::ONE_HUNDRED => {
                return Err(EligibilityError::Invalid {
                    field: format!("{field}.holding_percent"),
                    reason: "must be 0 to 100".into(),
                })
            }
            p if p < Decimal::from(25) => Decimal::ZERO,
            p if p <= Decimal::from(50) => p / Decimal::ONE_HUNDRED,
            _ => Decimal::ONE,
        };
        total.staff_awu += other.figures.staff_awu * share;
        total.turnover = total.turnover.checked_add(Cents::floor_from(other.figures.turnover.to_decimal() * share)?)?;
        total.balance_sheet =
            total.balance_sheet.checked_add(Cents::floor_from(other.figures.balance_sheet.to_decimal() * share)?)?;
    }
    Ok(total)
}

fn check(figures: &EnterpriseFigures, field: &str) -> Result<(), EligibilityError> {
    let invalid = |name: &str, reason: &str| EligibilityError::Invalid {
        field: format!("{field}.{name}"),
        reason: reason.into(),
    };
    if figures.staff_awu < Decimal::ZERO {
        return Err(invalid("staff_awu", "must not be negative"));
    }
    if figures.turnover.is_negative() {
        return Err(invalid("turnover", "must not be negative"));
    }
    if figures.balance_sheet.is_negative() {
        return Err(invalid("balance_sheet", "must not be negative"));
    }
    Ok(())
}

/// The category of aggregated figures.
pub fn category(figures: &EnterpriseFigures) -> SmeCategory {
    CEILINGS
        .iter()
        .find(|c| {
            let staff_ok = figures.staff_awu < Decimal::from(c.staff_below);
            let turnover_ok = figures.turnover.get() <= c.turnover_max_eur * 100;
            let balance_ok = figures.balance_sheet.get() <= c.balance_sheet_max_eur * 100;
            staff_ok && (turnover_ok || balance_ok)
        })
        .map_or(SmeCategory::NotSme, |c| c.category)
}

/// The category of an applicant with its partner and linked enterprises.
pub fn classify(own: &EnterpriseFigures, related: &[Related]) -> Result<SmeCategory, EligibilityError> {
    Ok(category(&aggregate(own, related)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn figures(staff: &str, turnover_eur: i64, balance_eur: i64) -> EnterpriseFigures {
        EnterpriseFigures {
            staff_awu: staff.parse().unwrap(),
            turnover: Cents::new(turnover_eur * 100),
            balance_sheet: Cents::new(balance_eur * 100),
        }
    }

    #[test]
    fn thresholds_of_every_category() {
        assert_eq!(category(&figures("9.99", 2_000_000, 5_000_000)), SmeCategory::Micro);
        assert_eq!(category(&figures("10", 1, 1)), SmeCategory::Small, "10 AWU is not below 10");
        assert_eq!(category(&figures("9", 2_000_001, 2_000_001)), SmeCategory::Small);
        assert_eq!(category(&figures("9", 2_000_001, 2_000_000)), SmeCategory::Micro, "balance sheet alone suffices");
        assert_eq!(category(&figures("49.9", 10_000_000, 10_000_000)), SmeCategory::Small);
        assert_eq!(category(&figures("50", 1, 1)), SmeCategory::Medium);
        assert_eq!(category(&figures("40", 10_000_001, 10_000_001)), SmeCategory::Medium);
        assert_eq!(category(&figures("249", 50_000_000, 99_000_000)), SmeCategory::Medium);
        assert_eq!(category(&figures("249", 60_000_000, 43_000_000)), SmeCategory::Medium);
        assert_eq!(category(&figures("249", 50_000_001, 43_000_001)), SmeCategory::NotSme);
        assert_eq!(category(&figures("250", 1, 1)), SmeCategory::NotSme);
    }

    #[test]
    fn small_alone_but_medium_with_its_linked_enterprise() {
        let own = figures("30", 8_000_000, 8_000_000);
        assert_eq!(classify(&own, &[]), Ok(SmeCategory::Small));
        let linked = Related { holding_percent: "60".parse().unwrap(), figures: figures("25", 4_000_000, 3_000_000) };
        assert_eq!(classify(&own, &[linked]), Ok(SmeCategory::Medium), "55 AWU together");
    }

    #[test]
    fn partners_count_pro_rata_and_small_holdings_not_at_all() {
        let own = figures("8", 1_500_000, 1_500_000);
        let partner = Related { holding_percent: "40".parse().unwrap(), figures: figures("10", 2_000_000, 2_000_000) };
        let total = aggregate(&own, &[partner]).unwrap();
        assert_eq!(total.staff_awu, "12".parse::<Decimal>().unwrap());
        assert_eq!(total.turnover, Cents::new(2_300_000 * 100));
        assert_eq!(category(&total), SmeCategory::Small);
        let autonomous = Related { holding_percent: "24.99".parse().unwrap(), figures: figures("1000", 1, 1) };
        assert_eq!(classify(&own, &[autonomous]), Ok(SmeCategory::Micro));
        let bad = Related { holding_percent: "101".parse().unwrap(), figures: figures("1", 1, 1) };
        assert!(classify(&own, &[bad]).is_err());
    }

    proptest! {
        #[test]
        fn related_enterprises_never_make_a_company_smaller(
            staff in 0u32..400, turnover in 0i64..80_000_000, balance in 0i64..80_000_000,
            other_staff in 0u32..400, other_turnover in 0i64..80_000_000, holding in 0u32..=100,
        ) {
            let own = figures(&staff.to_string(), turnover, balance);
            let related = Related { holding_percent: Decimal::from(holding), figures: figures(&other_staff.to_string(), other_turnover, 0) };
            let alone = classify(&own, &[]).unwrap();
            let together = classify(&own, &[related]).unwrap();
            prop_assert!(together >= alone);
        }
    }
}
