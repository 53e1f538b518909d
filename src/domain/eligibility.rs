//! SME definition (Commission Recommendation 2003/361/EC) for compute-grant applicants.
//!
//! Headcount in annual work units AND (turnover OR balance-sheet total) below the ceilings of a
//! category (Art. 2). Relations (Art. 3): an enterprise is *linked* to another that holds, or is
//! held by it, above 50% of capital or votes, or that controls it otherwise (board majority,
//! dominant influence by contract or by the articles); *partner* at 25% to 50%; autonomous
//! below 25%, or at up to 50% when the holder is one of the investors Art. 3(2) lists. Linked
//! enterprises' figures count in full, partners' pro rata (Art. 6). 25% or more held by public
//! bodies, jointly or singly, makes an enterprise not an SME, save those listed investors
//! (Art. 3(4)). A category changes only when a ceiling is crossed in two consecutive
//! accounting periods (Art. 4(2)).
//!
//! Every rule applied is reported in words with its figures (`RuleApplied`), so an applicant
//! and a reviewer read the same reasoning the service used.

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

    /// The category in words, as the assessment writes it.
    pub fn words(self) -> &'static str {
        match self {
            SmeCategory::Micro => "micro",
            SmeCategory::Small => "small",
            SmeCategory::Medium => "medium-sized",
            SmeCategory::NotSme => "above the medium-sized ceilings",
        }
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
    #[serde(deserialize_with = "crate::domain::plain_decimal::deserialize")]
    pub staff_awu: Decimal,
    #[schema(value_type = String)]
    pub turnover: Cents,
    #[schema(value_type = String)]
    pub balance_sheet: Cents,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EligibilityError {
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    #[error(transparent)]
    Money(#[from] MoneyError),
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

/// Business angels' total investment in the enterprise must stay below this (Art. 3(2)(a)).
pub const BUSINESS_ANGEL_INVESTMENT_BELOW: Cents = Cents::new(1_250_000 * 100);
/// An autonomous local authority's annual budget must stay below this (Art. 3(2)(d)).
pub const LOCAL_AUTHORITY_BUDGET_BELOW: Cents = Cents::new(10_000_000 * 100);
/// An autonomous local authority must have fewer inhabitants than this (Art. 3(2)(d)).
pub const LOCAL_AUTHORITY_INHABITANTS_BELOW: u32 = 5_000;
/// Public bodies holding this share or more, jointly or singly, make an enterprise not an SME.
pub const PUBLIC_CONTROL_PERCENT_MIN: i64 = 25;

/// Control other than a majority holding that links two enterprises (Art. 3(3)(b) to (d)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Control {
    /// The right to appoint or remove a majority of the board.
    BoardMajority,
    /// Dominant influence under a contract.
    Contract,
    /// Dominant influence under the memorandum or articles of association.
    Articles,
}

impl Control {
    pub fn as_str(self) -> &'static str {
        match self {
            Control::BoardMajority => "board_majority",
            Control::Contract => "contract",
            Control::Articles => "articles",
        }
    }

    fn words(self) -> &'static str {
        match self {
            Control::BoardMajority => "the right to appoint or remove a majority of the board",
            Control::Contract => "dominant influence under a contract",
            Control::Articles => "dominant influence under the articles of association",
        }
    }
}

/// The investors Art. 3(2) lists: holding up to 50% they leave an enterprise autonomous, and
/// their holdings do not count towards public-body control (Art. 3(4)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ListedInvestor {
    PublicInvestmentCorporation,
    VentureCapitalCompany,
    /// Business angels whose total investment in the enterprise is below EUR 1,250,000.
    BusinessAngel {
        #[schema(value_type = String, example = "400000.00")]
        total_invested: Cents,
    },
    /// A university or a non-profit research centre.
    UniversityOrResearchCentre,
    /// An institutional investor, regional development funds included.
    InstitutionalInvestor,
    /// An autonomous local authority with an annual budget below EUR 10 million and fewer
    /// than 5,000 inhabitants.
    AutonomousLocalAuthority {
        #[schema(value_type = String, example = "6000000.00")]
        annual_budget: Cents,
        inhabitants: u32,
    },
}

impl ListedInvestor {
    /// Whether the investor meets the conditions of its kind, in words either way.
    pub fn qualifies(self) -> Result<String, String> {
        match self {
            ListedInvestor::PublicInvestmentCorporation => Ok("a public investment corporation".into()),
            ListedInvestor::VentureCapitalCompany => Ok("a venture capital company".into()),
            ListedInvestor::BusinessAngel { total_invested } if total_invested < BUSINESS_ANGEL_INVESTMENT_BELOW => {
                Ok(format!("business angels with EUR {total_invested} invested (below EUR {BUSINESS_ANGEL_INVESTMENT_BELOW})"))
            }
            ListedInvestor::BusinessAngel { total_invested } => Err(format!(
                "business angels with EUR {total_invested} invested, not below EUR {BUSINESS_ANGEL_INVESTMENT_BELOW}"
            )),
            ListedInvestor::UniversityOrResearchCentre => Ok("a university or non-profit research centre".into()),
            ListedInvestor::InstitutionalInvestor => Ok("an institutional investor".into()),
            ListedInvestor::AutonomousLocalAuthority { annual_budget, inhabitants }
                if annual_budget < LOCAL_AUTHORITY_BUDGET_BELOW && inhabitants < LOCAL_AUTHORITY_INHABITANTS_BELOW =>
            {
                Ok(format!(
                    "an autonomous local authority with a budget of EUR {annual_budget} and {inhabitants} inhabitants"
                ))
            }
            ListedInvestor::AutonomousLocalAuthority { annual_budget, inhabitants } => Err(format!(
                "a local authority with a budget of EUR {annual_budget} and {inhabitants} inhabitants, not below EUR {LOCAL_AUTHORITY_BUDGET_BELOW} and {LOCAL_AUTHORITY_INHABITANTS_BELOW} inhabitants"
            )),
        }
    }
}

/// An enterprise that holds the applicant or is held by it, or controls it or is controlled by
/// it, with its identity, the larger of the two holdings (capital or votes) in percent, and
/// its figures for the same two accounting periods as the applicant's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Related {
    #[serde(default)]
    pub legal_name: String,
    /// ISO 3166-1 alpha-2 of the country where it is registered.
    #[serde(default)]
    pub country: String,
    /// Company register or VAT number: a linked enterprise is recognised by it across
    /// applicants, for the de minimis ceiling of the single undertaking.
    #[serde(default)]
    pub registration_number: String,
    #[schema(value_type = String, example = "30")]
    #[serde(deserialize_with = "crate::domain::plain_decimal::deserialize")]
    pub holding_percent: Decimal,
    /// Control other than a majority holding, if any: it links the enterprises whatever the
    /// holding.
    #[serde(default)]
    pub control: Option<Control>,
    /// The holder is a public body (State, region, municipality, public agency).
    #[serde(default)]
    pub public_body: bool,
    /// The holder is one of the investors Art. 3(2) lists.
    #[serde(default)]
    pub listed_investor: Option<ListedInvestor>,
    /// Figures of the latest closed accounting period; required unless the enterprise is
    /// autonomous (its figures would not count).
    #[serde(default)]
    pub figures: Option<EnterpriseFigures>,
    /// Figures of the period before; the latest figures stand in when left out.
    #[serde(default)]
    pub previous_figures: Option<EnterpriseFigures>,
    /// De minimis aid this enterprise received elsewhere in the last three years (counted when
    /// it is linked: the single undertaking shares one ceiling).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub de_minimis_received: Option<Cents>,
}

/// How a related enterprise's figures count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// In full.
    Linked,
    /// Pro rata to the holding.
    Partner,
    /// Not at all.
    Autonomous,
}

impl Related {
    /// The relation Art. 3 gives, and why, in words.
    pub fn relation(&self) -> (Relation, String) {
        let holding = self.holding_percent.normalize();
        if let Some(control) = self.control {
            return (Relation::Linked, format!("linked by {} (holding {holding}%)", control.words()));
        }
        if self.holding_percent > Decimal::from(50) {
            return (Relation::Linked, format!("linked by a majority holding of {holding}%"));
        }
        if self.holding_percent < Decimal::from(25) {
            return (Relation::Autonomous, format!("autonomous: a holding of {holding}% is below 25%"));
        }
        match self.listed_investor.map(ListedInvestor::qualifies) {
            Some(Ok(who)) => (
                Relation::Autonomous,
                format!("autonomous: a holding of {holding}% by {who}, an investor Art. 3(2) lists, up to 50%"),
            ),
            Some(Err(why)) => (
                Relation::Partner,
                format!("partner with a holding of {holding}%: {why}, so not an investor Art. 3(2) lists"),
            ),
            None => (Relation::Partner, format!("partner with a holding of {holding}% (25% to 50%)")),
        }
    }

    /// The share of its figures that counts: linked in full, partners pro rata, none otherwise.
    pub fn share(&self) -> Decimal {
        match self.relation().0 {
            Relation::Linked => Decimal::ONE,
            Relation::Partner => self.holding_percent / Decimal::ONE_HUNDRED,
            Relation::Autonomous => Decimal::ZERO,
        }
    }

    /// A public body's holding that counts towards public control (Art. 3(4)): every public
    /// body's, save a listed investor's that qualifies and is not linked.
    fn public_holding(&self) -> Decimal {
        if !self.public_body {
            return Decimal::ZERO;
        }
        let excepted =
            self.listed_investor.is_some_and(|i| i.qualifies().is_ok()) && self.relation().0 != Relation::Linked;
        if excepted {
            Decimal::ZERO
        } else {
            self.holding_percent
        }
    }

    fn label(&self) -> String {
        if self.legal_name.trim().is_empty() {
            "an unnamed enterprise".into()
        } else {
            self.legal_name.trim().to_string()
        }
    }
}

/// One accounting period of the two an applicant declares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    Latest,
    Previous,
}

/// The figures that count in a period: own, plus partners pro rata, plus linked in full.
pub fn aggregate_period(
    own: &EnterpriseFigures,
    related: &[Related],
    period: Period,
) -> Result<EnterpriseFigures, EligibilityError> {
    check(own, "figures")?;
    let mut total = *own;
    // Partners' shares are summed exactly and the sum rounded up to the cent once, so that "at
    // or below the ceiling" compares the exact figure: EUR 2,000,000.005 is above EUR 2 m.
    let mut turnover = own.turnover.to_decimal();
    let mut balance_sheet = own.balance_sheet.to_decimal();
    let exact_add = |sum: Decimal, amount: Cents, share: Decimal| {
        amount.to_decimal().checked_mul(share).and_then(|part| sum.checked_add(part)).ok_or(MoneyError::Overflow)
    };
    for (index, other) in related.iter().enumerate() {
        let field = format!("related[{index}]");
        if other.holding_percent < Decimal::ZERO || other.holding_percent > Decimal::ONE_HUNDRED {
            return Err(EligibilityError::Invalid {
                field: format!("{field}.holding_percent"),
                reason: "must be 0 to 100".into(),
            });
        }
        let share = other.share();
        let latest = match other.figures {
            Some(latest) => latest,
            // An autonomous holding counts nothing; a public body that is no enterprise has no
            // figures to add (its holding decides through Art. 3(4)).
            None if share.is_zero() || other.public_body => continue,
            None => {
                return Err(EligibilityError::Invalid {
                    field: format!("{field}.figures"),
                    reason: "required: a partner's or linked enterprise's figures count".into(),
                })
            }
        };
        check(&latest, &format!("{field}.figures"))?;
        let figures = match (period, other.previous_figures) {
            (Period::Previous, Some(previous)) => {
                check(&previous, &format!("{field}.previous_figures"))?;
                previous
            }
            _ => latest,
        };
        total.staff_awu += figures.staff_awu * share;
        turnover = exact_add(turnover, figures.turnover, share)?;
        balance_sheet = exact_add(balance_sheet, figures.balance_sheet, share)?;
    }
    total.turnover = Cents::ceil_from(turnover)?;
    total.balance_sheet = Cents::ceil_from(balance_sheet)?;
    Ok(total)
}

/// The figures that count in the latest period.
pub fn aggregate(own: &EnterpriseFigures, related: &[Related]) -> Result<EnterpriseFigures, EligibilityError> {
    aggregate_period(own, related, Period::Latest)
}

/// One rule the classification applied, with its figures, in words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct RuleApplied {
    /// Where the rule is written, e.g. `Rec. 2003/361 Art. 3(3)`.
    pub rule: String,
    pub finding: String,
}

fn applied(rule: &str, finding: String) -> RuleApplied {
    RuleApplied { rule: rule.into(), finding }
}

/// The SME category of an applicant as the Recommendation writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Classification {
    pub category: SmeCategory,
    /// Figures that count in the latest period.
    pub aggregated: EnterpriseFigures,
    /// Figures that count in the period before, when declared.
    pub aggregated_previous: Option<EnterpriseFigures>,
    /// Capital or votes held by public bodies that count towards control, in percent.
    pub public_holding_percent: Decimal,
    pub rules: Vec<RuleApplied>,
}

fn describe(figures: &EnterpriseFigures) -> String {
    format!(
        "{} annual work units, a turnover of EUR {} and a balance sheet of EUR {}",
        figures.staff_awu.normalize(),
        figures.turnover,
        figures.balance_sheet
    )
}

/// Classifies an applicant from its latest and (when declared) previous closed accounting
/// periods and its related enterprises, saying in words every rule applied.
pub fn classify_enterprise(
    own: &EnterpriseFigures,
    previous: Option<&EnterpriseFigures>,
    related: &[Related],
) -> Result<Classification, EligibilityError> {
    let mut rules = Vec::new();
    for other in related {
        let (_, why) = other.relation();
        rules.push(applied("Rec. 2003/361 Art. 3", format!("{}: {why}", other.label())));
    }
    let aggregated = aggregate_period(own, related, Period::Latest)?;
    let latest = category(&aggregated);
    rules.push(applied(
        "Rec. 2003/361 Art. 2 and 6",
        format!(
            "latest closed period, with partners pro rata and linked enterprises in full: {}: {}",
            describe(&aggregated),
            latest.words()
        ),
    ));
    let (figures_category, aggregated_previous) = match previous {
        None => {
            rules.push(applied(
                "Rec. 2003/361 Art. 4(3)",
                "only the latest period is declared, so it decides (as for a newly established enterprise); declare the period before to apply the two-period rule".into(),
            ));
            (latest, None)
        }
        Some(previous_own) => {
            check(previous_own, "previous_period")?;
            let before = aggregate_period(previous_own, related, Period::Previous)?;
            let earlier = category(&before);
            rules.push(applied(
                "Rec. 2003/361 Art. 2 and 6",
                format!("previous closed period: {}: {}", describe(&before), earlier.words()),
            ));
            let settled = two_period_category(earlier, latest);
            let finding = if earlier == latest {
                format!("both periods are {}: the category is {}", latest.words(), settled.words())
            } else {
                format!(
                    "a ceiling was crossed in the latest period only ({} before, {} now): the category stays {} until it is crossed in two consecutive periods",
                    earlier.words(),
                    latest.words(),
                    settled.words()
                )
            };
            rules.push(applied("Rec. 2003/361 Art. 4(2)", finding));
            (settled, Some(before))
        }
    };
    let public_holding: Decimal = related.iter().map(Related::public_holding).sum();
    let publicly_controlled = public_holding >= Decimal::from(PUBLIC_CONTROL_PERCENT_MIN);
    if related.iter().any(|r| r.public_body) {
        let verdict = if publicly_controlled {
            format!("{PUBLIC_CONTROL_PERCENT_MIN}% or more: not an SME")
        } else {
            format!("below {PUBLIC_CONTROL_PERCENT_MIN}%: no effect")
        };
        rules.push(applied(
            "Rec. 2003/361 Art. 3(4)",
            format!(
                "public bodies hold {}% that counts (listed investors up to 50% excepted): {verdict}",
                public_holding.normalize()
            ),
        ));
    }
    let category = if publicly_controlled { SmeCategory::NotSme } else { figures_category };
    Ok(Classification { category, aggregated, aggregated_previous, public_holding_percent: public_holding, rules })
}

/// Art. 4(2): the category changes only when a ceiling is crossed in two consecutive periods.
/// The previous period's category stands for the status held before; when the latest period
/// differs from it, the status stays until the next period confirms the crossing.
pub fn two_period_category(previous: SmeCategory, latest: SmeCategory) -> SmeCategory {
    if previous == latest {
        latest
    } else {
        previous
    }
}

/// The category of an applicant with its partner and linked enterprises, one period.
pub fn classify(own: &EnterpriseFigures, related: &[Related]) -> Result<SmeCategory, EligibilityError> {
    Ok(classify_enterprise(own, None, related)?.category)
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

    fn related(name: &str, holding: &str, figures: EnterpriseFigures) -> Related {
        Related {
            legal_name: name.into(),
            country: "DE".into(),
            registration_number: format!("HRB {name}"),
            holding_percent: holding.parse().unwrap(),
            control: None,
            public_body: false,
            listed_investor: None,
            figures: Some(figures),
            previous_figures: None,
            de_minimis_received: None,
        }
    }

    fn public(name: &str, holding: &str, investor: Option<ListedInvestor>) -> Related {
        Related { public_body: true, listed_investor: investor, ..related(name, holding, figures("0", 0, 0)) }
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
        let linked = related("Beta", "60", figures("25", 4_000_000, 3_000_000));
        assert_eq!(classify(&own, &[linked]), Ok(SmeCategory::Medium), "55 AWU together");
    }

    #[test]
    fn partners_count_pro_rata_and_small_holdings_not_at_all() {
        let own = figures("8", 1_500_000, 1_500_000);
        let partner = related("Gamma", "40", figures("10", 2_000_000, 2_000_000));
        let total = aggregate(&own, &[partner]).unwrap();
        assert_eq!(total.staff_awu, "12".parse::<Decimal>().unwrap());
        assert_eq!(total.turnover, Cents::new(2_300_000 * 100));
        assert_eq!(category(&total), SmeCategory::Small);
        let autonomous = related("Tiny", "24.99", figures("1000", 1, 1));
        assert_eq!(classify(&own, &[autonomous]), Ok(SmeCategory::Micro));
        let bad = related("Bad", "101", figures("1", 1, 1));
        assert!(classify(&own, &[bad]).is_err());
    }

    /// A partner's share counts to the fraction of a cent: 1,000,000.00 own turnover and 30% of
    /// 3,333,333.35 make 2,000,000.005, above the micro ceiling of 2,000,000.00 (and the balance
    /// sheet of 3,000,000.00 is above it too), so the applicant is small, not micro.
    #[test]
    fn partners_shares_are_compared_with_the_ceilings_exactly() {
        let own = figures("5", 1_000_000, 3_000_000);
        let mut partner = related("Delta", "30", figures("0", 0, 0));
        partner.figures = Some(EnterpriseFigures { turnover: Cents::new(333_333_335), ..figures("0", 0, 0) });
        let total = aggregate(&own, &[partner.clone()]).unwrap();
        assert_eq!(total.turnover, Cents::new(200_000_001), "2,000,000.005 rounded up, never down");
        assert_eq!(classify(&own, &[partner]), Ok(SmeCategory::Small));
        // Two shares that sum exactly to the ceiling stay at it: 1,000,000.005 + 999,999.995.
        let mut first = related("Eta", "50", figures("0", 0, 0));
        first.figures = Some(EnterpriseFigures { turnover: Cents::new(200_000_001), ..figures("0", 0, 0) });
        let mut second = related("Theta", "50", figures("0", 0, 0));
        second.figures = Some(EnterpriseFigures { turnover: Cents::new(199_999_999), ..figures("0", 0, 0) });
        let total = aggregate(&figures("5", 0, 0), &[first, second]).unwrap();
        assert_eq!(total.turnover, Cents::new(200_000_000));
        assert_eq!(category(&total), SmeCategory::Micro);
    }

    // User guide: an enterprise holding 10% but appointing the majority of the board is linked
    // (Art. 3(3)(b)): its figures count in full, not 10% of them and not nothing.
    #[test]
    fn linked_by_board_majority_counts_in_full() {
        let own = figures("20", 4_000_000, 4_000_000);
        let parent = Related {
            control: Some(Control::BoardMajority),
            ..related("Parent Holding", "10", figures("40", 8_000_000, 8_000_000))
        };
        let (relation, why) = parent.relation();
        assert_eq!(relation, Relation::Linked);
        assert!(why.contains("majority of the board"), "{why}");
        let result = classify_enterprise(&own, None, &[parent]).unwrap();
        assert_eq!(result.aggregated, figures("60", 12_000_000, 12_000_000));
        assert_eq!(result.category, SmeCategory::Medium, "small alone, medium with its controlling parent");
        for control in [Control::Contract, Control::Articles] {
            let other = Related { control: Some(control), ..related("Other", "0", figures("1", 1, 1)) };
            assert_eq!(other.relation().0, Relation::Linked);
        }
    }

    // User guide: a municipality holding 30% of the capital makes the enterprise not an SME,
    // whatever its figures (Art. 3(4)); the same holding by a university (a listed investor) does not.
    #[test]
    fn public_body_holding_25_percent_or_more() {
        let own = figures("5", 500_000, 500_000);
        let city = public("City of Lyon", "30", None);
        let result = classify_enterprise(&own, None, &[city]).unwrap();
        assert_eq!(result.category, SmeCategory::NotSme);
        assert_eq!(result.public_holding_percent, Decimal::from(30));
        assert!(result.rules.iter().any(|r| r.rule.contains("3(4)") && r.finding.contains("not an SME")));

        let university = public("Université de Lyon", "30", Some(ListedInvestor::UniversityOrResearchCentre));
        let result = classify_enterprise(&own, None, &[university]).unwrap();
        assert_eq!(result.category, SmeCategory::Micro);
        assert_eq!(result.public_holding_percent, Decimal::ZERO);

        // Jointly: two public bodies at 15% each control 30%.
        let joint = [public("Region", "15", None), public("Chamber of Commerce", "15", None)];
        assert_eq!(classify_enterprise(&own, None, &joint).unwrap().category, SmeCategory::NotSme);
        // 24.99% is below the line.
        assert_eq!(classify(&own, &[public("Region", "24.99", None)]), Ok(SmeCategory::Micro));
        // A listed investor that is linked (above 50%) loses the exception.
        let majority = public("Public Investment Bank", "60", Some(ListedInvestor::PublicInvestmentCorporation));
        assert_eq!(classify(&own, &[majority]), Ok(SmeCategory::NotSme));
    }

    #[test]
    fn local_authorities_and_business_angels_are_excepted_only_under_their_limits() {
        let own = figures("5", 500_000, 500_000);
        let small_town = |budget_eur: i64, inhabitants: u32| {
            public(
                "Commune",
                "40",
                Some(ListedInvestor::AutonomousLocalAuthority {
                    annual_budget: Cents::new(budget_eur * 100),
                    inhabitants,
                }),
            )
        };
        assert_eq!(classify(&own, &[small_town(8_000_000, 4_000)]), Ok(SmeCategory::Micro));
        assert_eq!(
            classify(&own, &[small_town(8_000_000, 5_000)]),
            Ok(SmeCategory::NotSme),
            "5,000 is not below 5,000"
        );
        assert_eq!(classify(&own, &[small_town(10_000_000, 4_000)]), Ok(SmeCategory::NotSme));

        let angels = |invested_eur: i64| Related {
            listed_investor: Some(ListedInvestor::BusinessAngel { total_invested: Cents::new(invested_eur * 100) }),
            ..related("Angels", "40", figures("100", 30_000_000, 30_000_000))
        };
        assert_eq!(angels(1_249_999).relation().0, Relation::Autonomous);
        assert_eq!(classify(&own, &[angels(1_249_999)]), Ok(SmeCategory::Micro));
        assert_eq!(angels(1_250_000).relation().0, Relation::Partner);
        assert_eq!(classify(&own, &[angels(1_250_000)]), Ok(SmeCategory::Medium), "40% of 100 AWU and EUR 30 m");
    }

    // User guide: status is gained or lost only when a ceiling is crossed in two consecutive
    // periods (Art. 4(2)).
    #[test]
    fn category_changes_only_after_two_periods() {
        let small = figures("45", 9_000_000, 9_000_000);
        let medium = figures("60", 9_000_000, 9_000_000);
        let up_once = classify_enterprise(&medium, Some(&small), &[]).unwrap();
        assert_eq!(up_once.category, SmeCategory::Small, "grew in the latest period only");
        assert!(up_once.rules.iter().any(|r| r.rule.contains("4(2)") && r.finding.contains("stays small")));
        assert_eq!(classify_enterprise(&medium, Some(&medium), &[]).unwrap().category, SmeCategory::Medium);
        let down_once = classify_enterprise(&small, Some(&medium), &[]).unwrap();
        assert_eq!(down_once.category, SmeCategory::Medium, "shrank in the latest period only");
        assert_eq!(classify_enterprise(&small, Some(&small), &[]).unwrap().category, SmeCategory::Small);
        let large = figures("300", 60_000_000, 60_000_000);
        assert_eq!(classify_enterprise(&large, Some(&medium), &[]).unwrap().category, SmeCategory::Medium);
        assert_eq!(classify_enterprise(&large, Some(&large), &[]).unwrap().category, SmeCategory::NotSme);
        // A related enterprise's previous figures count in the previous period.
        let partner =
            Related { previous_figures: Some(figures("0", 0, 0)), ..related("Partner", "50", figures("20", 1, 1)) };
        let result = classify_enterprise(&small, Some(&small), &[partner]).unwrap();
        assert_eq!(result.aggregated.staff_awu, Decimal::from(55));
        assert_eq!(result.aggregated_previous.map(|f| f.staff_awu), Some(Decimal::from(45)));
        assert_eq!(result.category, SmeCategory::Small, "medium only in the latest period");
    }

    fn any_category() -> impl Strategy<Value = SmeCategory> {
        proptest::sample::select(SmeCategory::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn related_enterprises_never_make_a_company_smaller(
            staff in 0u32..400, turnover in 0i64..80_000_000, balance in 0i64..80_000_000,
            other_staff in 0u32..400, other_turnover in 0i64..80_000_000, holding in 0u32..=100,
            control in proptest::option::of(proptest::sample::select(vec![Control::BoardMajority, Control::Contract, Control::Articles])),
            public_body in any::<bool>(),
        ) {
            let own = figures(&staff.to_string(), turnover, balance);
            let other = Related {
                control,
                public_body,
                ..related("Other", &holding.to_string(), figures(&other_staff.to_string(), other_turnover, 0))
            };
            let alone = classify(&own, &[]).unwrap();
            let together = classify(&own, std::slice::from_ref(&other)).unwrap();
            prop_assert!(together >= alone);
            if control.is_some() {
                // Control links whatever the holding: the figures count as a 100% holding's.
                let full = Related { control: None, holding_percent: Decimal::ONE_HUNDRED, ..other.clone() };
                prop_assert_eq!(aggregate(&own, &[full]).unwrap(), aggregate(&own, &[other]).unwrap());
            }
        }

        // Public bodies holding 25% or more together make any enterprise not an SME, unless
        // every such holder is a qualifying listed investor at 50% or less.
        #[test]
        fn public_control_decides_whatever_the_figures(
            holdings in proptest::collection::vec((0u32..=60, any::<bool>()), 1..4),
            staff in 0u32..300,
        ) {
            let own = figures(&staff.to_string(), 1_000_000, 1_000_000);
            let related: Vec<Related> = holdings
                .iter()
                .enumerate()
                .map(|(i, (percent, university))| {
                    public(&format!("Body {i}"), &percent.to_string(), university.then_some(ListedInvestor::UniversityOrResearchCentre))
                })
                .collect();
            let counted: u32 = holdings.iter().filter(|(p, university)| !university || *p > 50).map(|(p, _)| p).sum();
            let category = classify(&own, &related).unwrap();
            if counted >= 25 {
                prop_assert_eq!(category, SmeCategory::NotSme);
            } else {
                prop_assert_eq!(category, classify(&own, &[]).unwrap(), "public bodies without figures add nothing");
            }
        }

        #[test]
        fn the_category_moves_only_when_both_periods_agree(previous in any_category(), latest in any_category()) {
            let settled = two_period_category(previous, latest);
            prop_assert!(settled == previous || settled == latest);
            if settled == latest { prop_assert!(previous == latest || settled == previous); }
            if previous != latest { prop_assert_eq!(settled, previous); }
        }
    }
}
