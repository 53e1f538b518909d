//! Compute-grant rules: who may apply to a call, what an award needs, and what it is worth.
//!
//! Pure: storage hands in the call, the applicant's figures, the price in force and the aid the
//! undertaking already holds; these functions say whether the application stands and why not.

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::eligibility::{classify_enterprise, EligibilityError, EnterpriseFigures, Related, RuleApplied, SmeCategory};
use super::hours::{GpuHours, Quarter};
use super::money::{Cents, MoneyError};
use super::parties::eu_member_state;
use super::state_aid::{
    aid_value, check_single_undertaking, cumulated_intensity, de_minimis_excluded_sector, intensity_with_bonus,
    AidBasis, BonusClaim, CumulationExceeded, DeMinimisExceeded, GrantedAid, Member,
};
use crate::i18n::message::Message;

/// Highest score a reviewer may give.
pub const SCORE_MAX: i32 = 100;
/// Longest award period, in days (about five years).
pub const AWARD_PERIOD_DAYS_MAX: i64 = 1_830;

/// Days after an award's end date in which facilities may still report usage of its period
/// (a record's period may end at midnight after the end date, and accounting runs such as
/// Slurm's `sacct` report a day or more later); the award lapses only after them.
pub const USAGE_REPORTING_DAYS: u64 = 7;

/// Whether an award that ends on `end_date` lapses on `as_of`: once the days facilities have to
/// report its last usage are over.
pub fn lapses_on(end_date: NaiveDate, as_of: NaiveDate) -> bool {
    end_date.checked_add_days(chrono::Days::new(USAGE_REPORTING_DAYS)).is_some_and(|last| last < as_of)
}

/// The latest end date of the awards that lapse on `as_of`, if any can.
pub fn latest_end_lapsing_on(as_of: NaiveDate) -> Option<NaiveDate> {
    as_of.checked_sub_days(chrono::Days::new(USAGE_REPORTING_DAYS + 1))
}

/// Where an application stands. `active` is not stored: it is an award whose period has begun.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationStatus {
    Draft,
    Submitted,
    UnderReview,
    Awarded,
    Rejected,
    Completed,
    Expired,
}

impl ApplicationStatus {
    pub const ALL: [ApplicationStatus; 7] = [
        ApplicationStatus::Draft,
        ApplicationStatus::Submitted,
        ApplicationStatus::UnderReview,
        ApplicationStatus::Awarded,
        ApplicationStatus::Rejected,
        ApplicationStatus::Completed,
        ApplicationStatus::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationStatus::Draft => "draft",
            ApplicationStatus::Submitted => "submitted",
            ApplicationStatus::UnderReview => "under_review",
            ApplicationStatus::Awarded => "awarded",
            ApplicationStatus::Rejected => "rejected",
            ApplicationStatus::Completed => "completed",
            ApplicationStatus::Expired => "expired",
        }
    }

    pub fn parse(text: &str) -> Option<ApplicationStatus> {
        ApplicationStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The lifecycle of docs/grants.md: draft, submitted, under review, then awarded or rejected;
    /// an award ends completed (all hours used) or expired (unused hours lapsed).
    pub fn may_become(self, next: ApplicationStatus) -> bool {
        use ApplicationStatus::*;
        matches!(
            (self, next),
            (Draft, Submitted)
                | (Submitted, UnderReview)
                | (Submitted | UnderReview, Awarded | Rejected)
                | (Awarded, Completed | Expired)
        )
    }

    /// What a reader sees: an award whose period has begun and not ended is `active`.
    pub fn shown(self, start: NaiveDate, today: NaiveDate) -> &'static str {
        if self == ApplicationStatus::Awarded && start <= today {
            "active"
        } else {
            self.as_str()
        }
    }
}

/// The terms of a grant call that decide eligibility.
#[derive(Clone, Debug)]
pub struct CallTerms {
    pub opens_at: NaiveDateTime,
    pub closes_at: NaiveDateTime,
    pub eligible_facilities: Vec<String>,
    pub max_hours_per_award: GpuHours,
    pub aid_basis: AidBasis,
    pub min_reviewers: i32,
    pub min_average_score: Decimal,
    /// The call allows the GBER Art. 25(6)(b) collaboration or dissemination bonus.
    pub bonus_allowed: bool,
}

/// The GBER declarations of an application (Art. 1(4)(a) and (c)): `None` until declared.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Declarations {
    /// The undertaking is in difficulty (GBER Art. 2(18)).
    #[serde(default)]
    pub undertaking_in_difficulty: Option<bool>,
    /// The undertaking is subject to an outstanding recovery order following a Commission
    /// decision declaring aid illegal and incompatible.
    #[serde(default)]
    pub outstanding_recovery_order: Option<bool>,
}

/// What an SME states in its application.
#[derive(Clone, Debug)]
pub struct ApplicationFacts {
    pub legal_name: String,
    pub registration_number: String,
    pub country: String,
    /// NACE Rev. 2 code of the main activity, normalised; `None` until declared.
    pub nace_code: Option<String>,
    /// NUTS 2 region of establishment; `None` until declared.
    pub nuts2_region: Option<String>,
    pub own: EnterpriseFigures,
    /// Figures of the closed accounting period before the latest, when there is one.
    pub previous: Option<EnterpriseFigures>,
    pub related: Vec<Related>,
    /// De minimis aid the undertaking received elsewhere in the last three years.
    pub declared_de_minimis: Cents,
    pub declarations: Declarations,
    pub bonus: Option<BonusClaim>,
    /// Other State aid for the same eligible costs (the same GPU-hours), in EUR.
    pub other_aid_same_costs: Cents,
    pub requested: GpuHours,
    pub facility_id: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
}

/// Why an application is refused: each with a stable code, the field it concerns and the figures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    NotAnSme { staff_awu: Decimal, turnover: Cents, balance_sheet: Cents },
    PubliclyControlled { percent: Decimal },
    Undeclared { field: String, what: String },
    SectorExcluded { nace: String, sector: &'static str },
    InDifficulty,
    RecoveryOrder,
    BonusNotAllowed,
    Cumulation(CumulationExceeded),
    NotInEu(String),
    CallNotOpen(NaiveDateTime),
    CallClosed(NaiveDateTime),
    HoursAboveMaximum { requested: GpuHours, maximum: GpuHours },
    FacilityNotEligible,
    Period(Message),
    DeMinimis(DeMinimisExceeded),
}

impl Refusal {
    /// What the refusal says, with its figures: in English to the API, in the reader's
    /// language on pages.
    pub fn message(&self) -> Message {
        match self {
            Refusal::NotAnSme { staff_awu, turnover, balance_sheet } => Message::new("msg-not-an-sme")
                .number("awu", *staff_awu)
                .amount("turnover", *turnover)
                .amount("balance_sheet", *balance_sheet),
            Refusal::PubliclyControlled { percent } => {
                Message::new("msg-publicly-controlled").percent("percent", *percent)
            }
            Refusal::Undeclared { what, .. } => Message::new("msg-undeclared").term("what", "declared", what),
            Refusal::SectorExcluded { nace, sector } => {
                Message::new("msg-sector-excluded").term("sector", "sector", *sector).text("nace", nace)
            }
            Refusal::InDifficulty => Message::new("msg-in-difficulty"),
            Refusal::RecoveryOrder => Message::new("msg-recovery-order"),
            Refusal::BonusNotAllowed => Message::new("msg-bonus-not-allowed"),
            Refusal::Cumulation(exceeded) => exceeded.message(),
            Refusal::NotInEu(country) => Message::new("msg-not-in-eu").text("country", country),
            Refusal::CallNotOpen(at) => Message::new("msg-call-not-open").text("at", at.to_string()),
            Refusal::CallClosed(at) => Message::new("msg-call-closed").text("at", at.to_string()),
            Refusal::HoursAboveMaximum { requested, maximum } => {
                Message::new("msg-hours-above-maximum").hours("requested", *requested).hours("maximum", *maximum)
            }
            Refusal::FacilityNotEligible => Message::new("msg-facility-not-eligible"),
            Refusal::Period(reason) => reason.clone(),
            Refusal::DeMinimis(exceeded) => exceeded.message(),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Refusal::NotAnSme { .. } => "not-an-sme",
            Refusal::PubliclyControlled { .. } => "publicly-controlled",
            Refusal::Undeclared { .. } => "declaration-missing",
            Refusal::SectorExcluded { .. } => "sector-excluded",
            Refusal::InDifficulty => "undertaking-in-difficulty",
            Refusal::RecoveryOrder => "outstanding-recovery-order",
            Refusal::BonusNotAllowed => "bonus-not-allowed",
            Refusal::Cumulation(_) => "cumulation-exceeded",
            Refusal::NotInEu(_) => "not-in-eu",
            Refusal::CallNotOpen(_) => "call-not-open",
            Refusal::CallClosed(_) => "call-closed",
            Refusal::HoursAboveMaximum { .. } => "hours-above-call-maximum",
            Refusal::FacilityNotEligible => "facility-not-eligible",
            Refusal::Period(_) => "invalid-period",
            Refusal::DeMinimis(_) => "de-minimis-exceeded",
        }
    }

    pub fn field(&self) -> String {
        let field = match self {
            Refusal::Undeclared { field, .. } => return field.clone(),
            Refusal::NotAnSme { .. } => "staff_awu",
            Refusal::PubliclyControlled { .. } => "related",
            Refusal::SectorExcluded { .. } => "company.nace_code",
            Refusal::InDifficulty => "declarations.undertaking_in_difficulty",
            Refusal::RecoveryOrder => "declarations.outstanding_recovery_order",
            Refusal::BonusNotAllowed => "bonus",
            Refusal::Cumulation(_) => "other_aid_same_costs",
            Refusal::NotInEu(_) => "company.country",
            Refusal::CallNotOpen(_) | Refusal::CallClosed(_) => "call_id",
            Refusal::HoursAboveMaximum { .. } => "requested_gpu_hours",
            Refusal::FacilityNotEligible => "facility_id",
            Refusal::Period(_) => "end_date",
            // Fewer hours is what brings the request under the ceiling.
            Refusal::DeMinimis(_) => "requested_gpu_hours",
        };
        field.to_string()
    }
}

/// The service's reading of an application: category, intensity, aid value, every rule it
/// applied in words, and every refusal.
#[derive(Clone, Debug)]
pub struct Assessment {
    pub aggregated: EnterpriseFigures,
    pub aggregated_previous: Option<EnterpriseFigures>,
    pub category: SmeCategory,
    /// The intensity this award gets: the call's for the category, with the bonus, reduced by
    /// other aid for the same costs.
    pub intensity_percent: Option<Decimal>,
    pub aid_value: Option<Cents>,
    pub rules: Vec<RuleApplied>,
    pub refusals: Vec<Refusal>,
}

/// The applicant and its linked enterprises: one single undertaking for de minimis.
pub fn single_undertaking(facts: &ApplicationFacts) -> Vec<Member> {
    let mut members = vec![Member {
        name: facts.legal_name.clone(),
        key: undertaking_key(&facts.country, &facts.registration_number),
        declared: facts.declared_de_minimis,
    }];
    members.extend(linked_members(&facts.related));
    members
}

/// The enterprises an applicant names as linked that can be told apart (a register number), each
/// with the de minimis aid the applicant declares it received elsewhere.
pub fn linked_members(related: &[Related]) -> Vec<Member> {
    related
        .iter()
        .filter(|r| r.relation().0 == super::eligibility::Relation::Linked && !r.registration_number.trim().is_empty())
        .map(|r| Member {
            name: r.legal_name.trim().to_string(),
            key: undertaking_key(&r.country, &r.registration_number),
            declared: r.de_minimis_received.unwrap_or(Cents::ZERO),
        })
        .collect()
}

/// The intensity an award gets at `price` for `hours`: the call's for the category, with the
/// bonus where claimed and allowed, reduced by other aid for the same costs (on any basis: de
/// minimis aid too never takes both above the highest intensity, 100% of the costs).
pub fn award_intensity(
    call: &CallTerms,
    facts: &ApplicationFacts,
    category: SmeCategory,
    hours: GpuHours,
    price: Cents,
) -> Result<Option<Result<Decimal, CumulationExceeded>>, MoneyError> {
    let bonus = facts.bonus.is_some() && call.bonus_allowed;
    let Some(highest) = intensity_with_bonus(call.aid_basis, category, bonus) else {
        return Ok(None);
    };
    let costs = aid_value(hours.milli(), price, Decimal::ONE_HUNDRED)?;
    Ok(Some(cumulated_intensity(highest, costs, facts.other_aid_same_costs)))
}

/// Assesses an application at `now` with the facility's price in force and the de minimis aid
/// granted here to any member of its single undertaking.
pub fn assess(
    call: &CallTerms,
    facts: &ApplicationFacts,
    now: NaiveDateTime,
    price: Option<Cents>,
    granted_de_minimis: &[GrantedAid],
) -> Result<Assessment, EligibilityError> {
    let classification = classify_enterprise(&facts.own, facts.previous.as_ref(), &facts.related)?;
    let category = classification.category;
    let mut rules = classification.rules;
    let mut refusals = Vec::new();
    let (intensity, aid) = match price {
        Some(price) => match award_intensity(call, facts, category, facts.requested, price)? {
            Some(Ok(percent)) => (Some(percent), Some(aid_value(facts.requested.milli(), price, percent)?)),
            Some(Err(exceeded)) => {
                refusals.push(Refusal::Cumulation(exceeded));
                (None, None)
            }
            None => (None, None),
        },
        None => (intensity_with_bonus(call.aid_basis, category, facts.bonus.is_some() && call.bonus_allowed), None),
    };
    if let Some(percent) = intensity {
        rules.push(RuleApplied {
            rule: intensity_rule(call.aid_basis).into(),
            finding: intensity_words(call, facts, category, percent),
        });
    }
    if eu_member_state(&facts.country).is_err() {
        refusals.push(Refusal::NotInEu(facts.country.clone()));
    }
    identity_refusals(call, facts, &mut refusals);
    if category == SmeCategory::NotSme {
        refusals.push(
            if classification.public_holding_percent >= Decimal::from(super::eligibility::PUBLIC_CONTROL_PERCENT_MIN) {
                Refusal::PubliclyControlled { percent: classification.public_holding_percent.normalize() }
            } else {
                Refusal::NotAnSme {
                    staff_awu: classification.aggregated.staff_awu,
                    turnover: classification.aggregated.turnover,
                    balance_sheet: classification.aggregated.balance_sheet,
                }
            },
        );
    }
    if now < call.opens_at {
        refusals.push(Refusal::CallNotOpen(call.opens_at));
    }
    if now >= call.closes_at {
        refusals.push(Refusal::CallClosed(call.closes_at));
    }
    if facts.requested > call.max_hours_per_award {
        refusals.push(Refusal::HoursAboveMaximum { requested: facts.requested, maximum: call.max_hours_per_award });
    }
    if !call.eligible_facilities.contains(&facts.facility_id) {
        refusals.push(Refusal::FacilityNotEligible);
    }
    if let Err(reason) = check_period(facts.start_date, facts.end_date) {
        refusals.push(Refusal::Period(reason));
    }
    if let (AidBasis::DeMinimis, Some(aid)) = (call.aid_basis, aid) {
        let members = single_undertaking(facts);
        if members.len() > 1 {
            let names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
            rules.push(RuleApplied {
                rule: "Reg. 2023/2831 Art. 2(2)".into(),
                finding: format!("one single undertaking shares the ceiling: {}", names.join(", ")),
            });
        }
        if let Err(exceeded) = check_single_undertaking(now.date(), &members, granted_de_minimis, aid)? {
            refusals.push(Refusal::DeMinimis(exceeded));
        }
    }
    Ok(Assessment {
        aggregated: classification.aggregated,
        aggregated_previous: classification.aggregated_previous,
        category,
        intensity_percent: intensity,
        aid_value: aid,
        rules,
        refusals,
    })
}

fn intensity_rule(basis: AidBasis) -> &'static str {
    if basis.is_gber() {
        "GBER Art. 25(5) and (6)"
    } else {
        "Reg. 2023/2831"
    }
}

fn intensity_words(call: &CallTerms, facts: &ApplicationFacts, category: SmeCategory, percent: Decimal) -> String {
    let mut text =
        format!("{} for a {} enterprise: {}%", call.aid_basis.objective(), category.words(), percent.normalize());
    match (facts.bonus, call.bonus_allowed) {
        (Some(claim), true) => {
            text.push_str(&format!(", with the Art. 25(6)(b) bonus for {} (capped at 80%)", claim.as_str()))
        }
        (Some(_), false) => text.push_str(", without a bonus (the call allows none)"),
        _ => {}
    }
    if !facts.other_aid_same_costs.is_zero() {
        let rule = if call.aid_basis.is_gber() { "GBER Art. 8(3)" } else { "Regulation 2023/2831 Art. 5(2)" };
        text.push_str(&format!(
            ", reduced for EUR {} of other aid for the same costs ({rule})",
            facts.other_aid_same_costs
        ));
    }
    text
}

/// What must be declared before submission, and the declarations that exclude aid.
fn identity_refusals(call: &CallTerms, facts: &ApplicationFacts, refusals: &mut Vec<Refusal>) {
    let undeclared = |field: &str, what: &str| Refusal::Undeclared { field: field.into(), what: what.into() };
    match &facts.nace_code {
        None => refusals.push(undeclared("company.nace_code", "the NACE code of the main activity")),
        Some(nace) if call.aid_basis == AidBasis::DeMinimis => {
            if let Some(sector) = de_minimis_excluded_sector(nace) {
                refusals.push(Refusal::SectorExcluded { nace: nace.clone(), sector });
            }
        }
        Some(_) => {}
    }
    if facts.nuts2_region.is_none() {
        refusals.push(undeclared("company.nuts2_region", "the NUTS 2 region of establishment"));
    }
    for (index, related) in facts.related.iter().enumerate() {
        if related.legal_name.trim().is_empty()
            || related.registration_number.trim().is_empty()
            || related.country.trim().is_empty()
        {
            refusals.push(undeclared(
                &format!("related[{index}].registration_number"),
                "each related enterprise's legal name, country and register or VAT number",
            ));
        }
    }
    if call.aid_basis.is_gber() {
        match facts.declarations.undertaking_in_difficulty {
            None => refusals
                .push(undeclared("declarations.undertaking_in_difficulty", "whether the undertaking is in difficulty")),
            Some(true) => refusals.push(Refusal::InDifficulty),
            Some(false) => {}
        }
        match facts.declarations.outstanding_recovery_order {
            None => refusals.push(undeclared(
                "declarations.outstanding_recovery_order",
                "whether the undertaking is under an outstanding recovery order",
            )),
            Some(true) => refusals.push(Refusal::RecoveryOrder),
            Some(false) => {}
        }
    }
    if facts.bonus.is_some() && !call.bonus_allowed {
        refusals.push(Refusal::BonusNotAllowed);
    }
}

/// An award period: ends on or after it starts, and lasts at most [`AWARD_PERIOD_DAYS_MAX`].
pub fn check_period(start: NaiveDate, end: NaiveDate) -> Result<(), Message> {
    if end < start {
        return Err(Message::new("msg-period-ends-before-start").date("end", end).date("start", start));
    }
    if (end - start).num_days() + 1 > AWARD_PERIOD_DAYS_MAX {
        return Err(Message::new("msg-period-too-long").count("max", AWARD_PERIOD_DAYS_MAX));
    }
    Ok(())
}

/// Why an award cannot be made as asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AwardRefusal {
    TooFewReviews { have: usize, need: i32 },
    ScoreBelowMinimum { average: Decimal, minimum: Decimal },
    AboveRequested { awarded: GpuHours, requested: GpuHours },
    ZeroHours,
}

impl AwardRefusal {
    pub fn message(&self) -> Message {
        match self {
            AwardRefusal::TooFewReviews { have, need } => {
                Message::new("msg-too-few-reviews").count("have", *have).count("need", *need)
            }
            AwardRefusal::ScoreBelowMinimum { average, minimum } => {
                Message::new("msg-score-below-minimum").number("average", *average).number("minimum", *minimum)
            }
            AwardRefusal::AboveRequested { awarded, requested } => {
                Message::new("msg-above-requested").hours("awarded", *awarded).hours("requested", *requested)
            }
            AwardRefusal::ZeroHours => Message::new("msg-zero-hours"),
        }
    }
}

impl AwardRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            AwardRefusal::TooFewReviews { .. } => "too-few-reviews",
            AwardRefusal::ScoreBelowMinimum { .. } => "score-below-minimum",
            AwardRefusal::AboveRequested { .. } | AwardRefusal::ZeroHours => "hours-not-awardable",
        }
    }
}

/// The average of reviewers' scores, to two decimals (display only; the check is exact).
pub fn average_score(scores: &[i32]) -> Decimal {
    if scores.is_empty() {
        return Decimal::ZERO;
    }
    let sum: i64 = scores.iter().map(|s| i64::from(*s)).sum();
    (Decimal::from(sum) / Decimal::from(scores.len())).round_dp(2)
}

/// An award needs the call's minimum number of reviews, an average score at or above its
/// minimum (compared exactly: sum >= minimum x count), and hours between zero and the request.
pub fn check_award(
    call: &CallTerms,
    scores: &[i32],
    requested: GpuHours,
    awarded: GpuHours,
) -> Result<(), AwardRefusal> {
    let have = scores.len();
    if have < usize::try_from(call.min_reviewers).unwrap_or(usize::MAX) {
        return Err(AwardRefusal::TooFewReviews { have, need: call.min_reviewers });
    }
    let sum: i64 = scores.iter().map(|s| i64::from(*s)).sum();
    if Decimal::from(sum) < call.min_average_score * Decimal::from(have) {
        return Err(AwardRefusal::ScoreBelowMinimum {
            average: average_score(scores),
            minimum: call.min_average_score,
        });
    }
    if awarded.is_zero() {
        return Err(AwardRefusal::ZeroHours);
    }
    if awarded > requested {
        return Err(AwardRefusal::AboveRequested { awarded, requested });
    }
    Ok(())
}

/// The subsidy earned by `used` hours of an award: the aid value of those hours at the award's
/// price and intensity. Usage batches post the difference of this figure before and after, so
/// what is posted telescopes to exactly the subsidy of all hours used, never above the award.
pub fn subsidy_of(used: GpuHours, price: Cents, intensity_percent: Decimal) -> Result<Cents, MoneyError> {
    aid_value(used.milli(), price, intensity_percent)
}

/// A quarter whose capacity an award would overrun.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapacityShort {
    pub quarter: Quarter,
    pub capacity: GpuHours,
    pub free: GpuHours,
    pub wanted: GpuHours,
}

impl CapacityShort {
    pub fn message(&self) -> Message {
        Message::new("msg-capacity-short")
            .text("quarter", self.quarter.to_string())
            .hours("free", self.free)
            .hours("capacity", self.capacity)
            .hours("wanted", self.wanted)
    }
}

/// Checks an award's hours by quarter against the facility's capacity less what other awards hold.
pub fn check_capacity(
    capacity_per_quarter: GpuHours,
    reserved: impl Fn(Quarter) -> GpuHours,
    wanted: &[(Quarter, GpuHours)],
) -> Result<(), CapacityShort> {
    for (quarter, hours) in wanted {
        let free = capacity_per_quarter.saturating_sub(reserved(*quarter));
        if *hours > free {
            return Err(CapacityShort { quarter: *quarter, capacity: capacity_per_quarter, free, wanted: *hours });
        }
    }
    Ok(())
}

/// One undertaking across the system for de minimis: its country and registration number,
/// upper-cased with separators removed (`DE:HRB123456`).
pub fn undertaking_key(country: &str, registration: &str) -> String {
    let number: String = registration.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    format!("{}:{}", country.trim().to_ascii_uppercase(), number.to_ascii_uppercase())
}

crate::said_by_message!(Refusal, AwardRefusal, CapacityShort);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;
    use proptest::prelude::*;

    /// The English inside refusals (what to declare, an excluded sector) is translated too.
    #[test]
    fn refusals_name_their_terms_in_each_language() {
        let fishery =
            de_minimis_excluded_sector("03.21").map(|sector| Refusal::SectorExcluded { nace: "03.21".into(), sector });
        let undeclared = Refusal::Undeclared {
            field: "declarations.undertaking_in_difficulty".into(),
            what: "whether the undertaking is in difficulty".into(),
        };
        let fishery = fishery.expect("fishery is excluded");
        assert!(fishery.to_string().contains("may not go to fishery and aquaculture"), "{fishery}");
        assert!(fishery.message().in_lang(Lang::De).contains("Fischerei und Aquakultur"));
        assert!(fishery.message().in_lang(Lang::Fr).contains("la pêche et l'aquaculture"));
        assert_eq!(undeclared.to_string(), "whether the undertaking is in difficulty must be declared");
        assert_eq!(undeclared.message().in_lang(Lang::Fr), "à déclarer : si l'entreprise est en difficulté");
        let abroad = Refusal::NotInEu("CH".into());
        assert!(abroad.to_string().starts_with("not established in the EU-27: \"CH\" is not"), "{abroad}");
        assert!(abroad.message().in_lang(Lang::De).contains("„CH“ ist kein Mitgliedstaat"));
    }

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()
    }

    fn call(basis: AidBasis) -> CallTerms {
        CallTerms {
            opens_at: at("2026-01-01 00:00"),
            closes_at: at("2026-03-31 12:00"),
            eligible_facilities: vec!["f1".into()],
            max_hours_per_award: GpuHours::from_whole(50_000).unwrap(),
            aid_basis: basis,
            min_reviewers: 2,
            min_average_score: Decimal::from(60),
            bonus_allowed: false,
        }
    }

    fn facts(staff: i64, turnover_eur: i64) -> ApplicationFacts {
        ApplicationFacts {
            legal_name: "Acme SAS".into(),
            registration_number: "RCS 123 456 789".into(),
            country: "FR".into(),
            nace_code: Some("J62.01".into()),
            nuts2_region: Some("FR10".into()),
            own: EnterpriseFigures {
                staff_awu: Decimal::from(staff),
                turnover: Cents::new(turnover_eur * 100),
                balance_sheet: Cents::new(turnover_eur * 100),
            },
            previous: None,
            related: vec![],
            declared_de_minimis: Cents::ZERO,
            declarations: Declarations {
                undertaking_in_difficulty: Some(false),
                outstanding_recovery_order: Some(false),
            },
            bonus: None,
            other_aid_same_costs: Cents::ZERO,
            requested: GpuHours::from_whole(10_000).unwrap(),
            facility_id: "f1".into(),
            start_date: d("2026-04-01"),
            end_date: d("2026-09-30"),
        }
    }

    #[test]
    fn an_eligible_small_company_gets_its_intensity_and_aid_value() {
        let a = assess(
            &call(AidBasis::IndustrialResearch),
            &facts(20, 3_000_000),
            at("2026-02-01 10:00"),
            Some(Cents::new(250)),
            &[],
        )
        .unwrap();
        assert_eq!(a.category, SmeCategory::Small);
        assert_eq!(a.intensity_percent, Some(Decimal::from(70)));
        // 10,000 h x EUR 2.50 x 70% = EUR 17,500.
        assert_eq!(a.aid_value, Some(Cents::new(1_750_000)));
        assert!(a.refusals.is_empty(), "{:?}", a.refusals);
    }

    #[test]
    fn every_reason_is_named() {
        let mut f = facts(400, 90_000_000);
        f.country = "CH".into();
        f.requested = GpuHours::from_whole(60_000).unwrap();
        f.facility_id = "f2".into();
        f.end_date = d("2026-03-01");
        let a = assess(&call(AidBasis::IndustrialResearch), &f, at("2026-03-31 12:00"), Some(Cents::new(250)), &[])
            .unwrap();
        let codes: Vec<&str> = a.refusals.iter().map(Refusal::code).collect();
        assert_eq!(
            codes,
            [
                "not-in-eu",
                "not-an-sme",
                "call-closed",
                "hours-above-call-maximum",
                "facility-not-eligible",
                "invalid-period"
            ]
        );
        assert!(a.refusals[1].to_string().contains("400 annual work units"), "{}", a.refusals[1]);
        let early =
            assess(&call(AidBasis::IndustrialResearch), &facts(5, 1), at("2025-12-31 23:59"), None, &[]).unwrap();
        assert_eq!(early.refusals[0].code(), "call-not-open");
    }

    #[test]
    fn an_award_lapses_once_the_days_to_report_its_usage_are_over() {
        // Ended 2026-03-31: usage may come until 2026-04-07; it lapses on 2026-04-08.
        assert!(!lapses_on(d("2026-03-31"), d("2026-04-01")));
        assert!(!lapses_on(d("2026-03-31"), d("2026-04-07")));
        assert!(lapses_on(d("2026-03-31"), d("2026-04-08")));
        assert_eq!(latest_end_lapsing_on(d("2026-04-08")), Some(d("2026-03-31")));
        assert_eq!(latest_end_lapsing_on(NaiveDate::MIN), None);
    }

    #[test]
    fn de_minimis_refusal_carries_the_figures() {
        let mut f = facts(5, 1_000_000);
        f.declared_de_minimis = Cents::new(150_000 * 100);
        // 10,000 h x EUR 10.00 x 100% = EUR 100,000; with 80,000 granted here: 330,000.
        let granted = [GrantedAid {
            date: d("2025-05-01"),
            amount: Cents::new(80_000 * 100),
            beneficiary: "Acme SAS".into(),
            beneficiary_key: "FR:RCS123456789".into(),
            beneficiary_declared: Cents::ZERO,
            linked_declared: Vec::new(),
            linked_keys: Vec::new(),
        }];
        let a =
            assess(&call(AidBasis::DeMinimis), &f, at("2026-02-01 10:00"), Some(Cents::new(1_000)), &granted).unwrap();
        let refusal = a.refusals.iter().find(|r| r.code() == "de-minimis-exceeded").expect("refused");
        let text = refusal.to_string();
        assert!(text.contains("230000.00") && text.contains("330000.00") && text.contains("70000.00"), "{text}");
        // The same request under GBER Art. 25 is not counted against de minimis.
        let gber = assess(
            &call(AidBasis::ExperimentalDevelopment),
            &f,
            at("2026-02-01 10:00"),
            Some(Cents::new(1_000)),
            &granted,
        )
        .unwrap();
        assert!(gber.refusals.is_empty());
        assert_eq!(gber.intensity_percent, Some(Decimal::from(45)));
    }

    #[test]
    fn gber_declarations_sector_and_identity_are_required() {
        let mut f = facts(5, 1_000_000);
        f.declarations = Declarations::default();
        f.nuts2_region = None;
        let at_time = at("2026-02-01 10:00");
        let a = assess(&call(AidBasis::IndustrialResearch), &f, at_time, Some(Cents::new(250)), &[]).unwrap();
        let fields: Vec<String> = a.refusals.iter().map(Refusal::field).collect();
        assert_eq!(
            fields,
            [
                "company.nuts2_region",
                "declarations.undertaking_in_difficulty",
                "declarations.outstanding_recovery_order"
            ]
        );
        f.nuts2_region = Some("FR10".into());
        f.declarations = Declarations { undertaking_in_difficulty: Some(true), outstanding_recovery_order: Some(true) };
        let a = assess(&call(AidBasis::IndustrialResearch), &f, at_time, Some(Cents::new(250)), &[]).unwrap();
        let codes: Vec<&str> = a.refusals.iter().map(Refusal::code).collect();
        assert_eq!(codes, ["undertaking-in-difficulty", "outstanding-recovery-order"]);
        // De minimis asks no GBER declaration, but excludes fishery.
        f.nace_code = Some("A03.22".into());
        let a = assess(&call(AidBasis::DeMinimis), &f, at_time, Some(Cents::new(250)), &[]).unwrap();
        let codes: Vec<&str> = a.refusals.iter().map(Refusal::code).collect();
        assert_eq!(codes, ["sector-excluded"]);
        assert!(a.refusals[0].to_string().contains("fishery and aquaculture"));
    }

    #[test]
    fn bonus_and_cumulation_set_the_intensity() {
        let at_time = at("2026-02-01 10:00");
        let mut f = facts(20, 3_000_000);
        f.bonus = Some(BonusClaim::Collaboration);
        let mut c = call(AidBasis::ExperimentalDevelopment);
        let refused = assess(&c, &f, at_time, Some(Cents::new(250)), &[]).unwrap();
        assert_eq!(refused.refusals.iter().map(Refusal::code).collect::<Vec<_>>(), ["bonus-not-allowed"]);
        c.bonus_allowed = true;
        let a = assess(&c, &f, at_time, Some(Cents::new(250)), &[]).unwrap();
        assert_eq!(a.intensity_percent, Some(Decimal::from(60)), "25 + 20 + 15");
        // 10,000 h at EUR 2.50 = EUR 25,000 of costs; EUR 5,000 of other aid is 20 points.
        f.other_aid_same_costs = Cents::new(5_000 * 100);
        let a = assess(&c, &f, at_time, Some(Cents::new(250)), &[]).unwrap();
        assert_eq!(a.intensity_percent, Some(Decimal::from(40)));
        assert_eq!(a.aid_value, Some(Cents::new(10_000 * 100)), "EUR 10,000 + EUR 5,000 = 60% of EUR 25,000");
        f.other_aid_same_costs = Cents::new(15_000 * 100);
        let a = assess(&c, &f, at_time, Some(Cents::new(250)), &[]).unwrap();
        assert_eq!(a.refusals.iter().map(Refusal::code).collect::<Vec<_>>(), ["cumulation-exceeded"]);
    }

    /// De minimis aid for costs that other aid also covers never takes both above the costs
    /// (Regulation 2023/2831 Art. 5(2): no more than the highest intensity, 100% here).
    #[test]
    fn de_minimis_with_other_aid_for_the_same_costs_stays_within_the_costs() {
        let at_time = at("2026-02-01 10:00");
        let c = call(AidBasis::DeMinimis);
        let mut f = facts(20, 3_000_000);
        // 10,000 h at EUR 2.00 = EUR 20,000 of costs; EUR 8,000 of other aid is 40 points.
        f.other_aid_same_costs = Cents::new(8_000 * 100);
        let a = assess(&c, &f, at_time, Some(Cents::new(200)), &[]).unwrap();
        assert_eq!(a.intensity_percent, Some(Decimal::from(60)));
        assert_eq!(a.aid_value, Some(Cents::new(12_000 * 100)), "EUR 12,000 + EUR 8,000 = the EUR 20,000 of costs");
        assert!(a.rules.iter().any(|r| r.finding.contains("reduced for EUR 8000.00 of other aid")), "{:?}", a.rules);
        f.other_aid_same_costs = Cents::new(20_000 * 100);
        let a = assess(&c, &f, at_time, Some(Cents::new(200)), &[]).unwrap();
        assert_eq!(a.refusals.iter().map(Refusal::code).collect::<Vec<_>>(), ["cumulation-exceeded"]);
    }

    #[test]
    fn a_publicly_controlled_company_is_refused_with_the_reason() {
        let mut f = facts(5, 1_000_000);
        f.related = vec![Related {
            legal_name: "Ville de Paris".into(),
            country: "FR".into(),
            registration_number: "SIREN 217 500 016".into(),
            holding_percent: Decimal::from(30),
            control: None,
            public_body: true,
            listed_investor: None,
            figures: None,
            previous_figures: None,
            de_minimis_received: None,
        }];
        let a = assess(&call(AidBasis::DeMinimis), &f, at("2026-02-01 10:00"), Some(Cents::new(250)), &[]).unwrap();
        assert_eq!(a.refusals.iter().map(Refusal::code).collect::<Vec<_>>(), ["publicly-controlled"]);
        assert!(a.refusals[0].to_string().contains("30%"));
        assert!(a.rules.iter().any(|r| r.rule.contains("3(4)")));
    }

    #[test]
    fn award_conditions() {
        let c = call(AidBasis::IndustrialResearch);
        let h = |n| GpuHours::from_whole(n).unwrap();
        assert_eq!(check_award(&c, &[90], h(10), h(10)), Err(AwardRefusal::TooFewReviews { have: 1, need: 2 }));
        assert!(matches!(check_award(&c, &[60, 59], h(10), h(10)), Err(AwardRefusal::ScoreBelowMinimum { .. })));
        assert_eq!(check_award(&c, &[60, 60], h(10), h(10)), Ok(()), "exactly the minimum average passes");
        assert!(matches!(check_award(&c, &[80, 80], h(10), h(11)), Err(AwardRefusal::AboveRequested { .. })));
        assert_eq!(check_award(&c, &[80, 80], h(10), GpuHours::ZERO), Err(AwardRefusal::ZeroHours));
        assert_eq!(check_award(&c, &[80, 80], h(10), h(4)), Ok(()), "hours may be adjusted down");
        assert_eq!(average_score(&[60, 59, 60]), "59.67".parse::<Decimal>().unwrap());
    }

    #[test]
    fn lifecycle_moves_only_forward() {
        use ApplicationStatus::*;
        assert!(Draft.may_become(Submitted));
        assert!(UnderReview.may_become(Awarded));
        assert!(Awarded.may_become(Expired));
        assert!(!Draft.may_become(Awarded));
        assert!(!Rejected.may_become(Awarded));
        assert!(!Expired.may_become(Awarded));
        assert_eq!(Awarded.shown(d("2026-04-01"), d("2026-04-01")), "active");
        assert_eq!(Awarded.shown(d("2026-04-01"), d("2026-03-31")), "awarded");
        for status in ApplicationStatus::ALL {
            assert_eq!(ApplicationStatus::parse(status.as_str()), Some(status));
        }
    }

    #[test]
    fn capacity_is_checked_quarter_by_quarter() {
        let q1 = Quarter { year: 2026, number: 1 };
        let q2 = q1.next();
        let cap = GpuHours::from_whole(1_000).unwrap();
        let reserved = |q: Quarter| if q == q2 { GpuHours::from_whole(900).unwrap() } else { GpuHours::ZERO };
        let h = |n| GpuHours::from_whole(n).unwrap();
        assert!(check_capacity(cap, reserved, &[(q1, h(1_000)), (q2, h(100))]).is_ok());
        let short = check_capacity(cap, reserved, &[(q1, h(10)), (q2, h(101))]).unwrap_err();
        assert_eq!(short.quarter, q2);
        assert_eq!(short.free, h(100));
    }

    #[test]
    fn undertakings_are_matched_on_country_and_number() {
        assert_eq!(undertaking_key("de", "HRB 123.456"), "DE:HRB123456");
        assert_eq!(undertaking_key("DE", "hrb123456"), undertaking_key("de", "HRB-123 456"));
    }

    proptest! {
        #[test]
        fn subsidies_posted_in_steps_sum_to_the_subsidy_of_all_hours(
            steps in proptest::collection::vec(0i64..5_000_000, 1..40),
            price in 1i64..100_000,
            percent in 1u32..=100,
        ) {
            let price = Cents::new(price);
            let percent = Decimal::from(percent);
            let mut used = GpuHours::ZERO;
            let mut posted = Cents::ZERO;
            for step in steps {
                let before = subsidy_of(used, price, percent).unwrap();
                used = used.saturating_add(GpuHours::from_milli(step));
                let after = subsidy_of(used, price, percent).unwrap();
                prop_assert!(after >= before, "subsidy never goes down");
                posted = posted.checked_add(after.checked_sub(before).unwrap()).unwrap();
            }
            prop_assert_eq!(posted, subsidy_of(used, price, percent).unwrap());
        }
    }
}
