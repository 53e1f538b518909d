//! State aid for compute grants: GBER Art. 25 research intensities (with the Art. 25(6)(b)
//! collaboration or dissemination bonus), cumulation with other aid for the same costs
//! (GBER Art. 8(3)), and the de minimis ceiling of a single undertaking (Regulation 2023/2831:
//! EUR 300,000 over any rolling three years, shared by all linked enterprises).

use chrono::{Months, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::eligibility::SmeCategory;
use super::money::{Cents, MoneyError};
use crate::i18n::message::Message;

/// De minimis ceiling per single undertaking over any rolling three years.
pub const DE_MINIMIS_CEILING: Cents = Cents::new(300_000 * 100);
/// The rolling window of de minimis, in months.
pub const DE_MINIMIS_WINDOW_MONTHS: u32 = 36;
/// GBER Art. 25 ceiling on any intensity.
pub const INTENSITY_MAX_PERCENT: i64 = 80;
/// GBER Art. 25(6)(b): points added for effective collaboration or wide dissemination.
pub const COLLABORATION_BONUS_PERCENT: i64 = 15;
/// Decimals of percent an intensity reduced for cumulation keeps (rounded down).
pub const REDUCED_INTENSITY_SCALE: u32 = 2;

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

    /// Aid under the General Block Exemption Regulation (not de minimis).
    pub fn is_gber(self) -> bool {
        self != AidBasis::DeMinimis
    }

    /// The aid's objective as the transparency register names it.
    pub fn objective(self) -> &'static str {
        match self {
            AidBasis::DeMinimis => "De minimis aid (Regulation (EU) 2023/2831)",
            AidBasis::IndustrialResearch => "Research and development: industrial research (GBER Art. 25(2)(b))",
            AidBasis::ExperimentalDevelopment => {
                "Research and development: experimental development (GBER Art. 25(2)(c))"
            }
        }
    }
}

/// GBER awards above this are published (GBER Art. 9(1)(c)); every de minimis award is
/// recorded whatever its amount (Regulation 2023/2831 Art. 6, from 2026-01-01).
pub const GBER_PUBLICATION_THRESHOLD: Cents = Cents::new(100_000 * 100);

/// Whether an award goes into the public state-aid register.
pub fn published(basis: AidBasis, aid: Cents) -> bool {
    !basis.is_gber() || aid > GBER_PUBLICATION_THRESHOLD
}

impl AidBasis {
    /// The legal basis as the register names it.
    pub fn legal_basis(self) -> &'static str {
        if self.is_gber() {
            "Regulation (EU) No 651/2014 (GBER), Art. 25"
        } else {
            "Regulation (EU) 2023/2831 (de minimis)"
        }
    }
}

/// Why an Art. 25(6)(b) bonus is claimed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BonusClaim {
    /// Effective collaboration between undertakings (at least one an SME) or with a research
    /// and knowledge-dissemination organisation (Art. 25(6)(b)(i)).
    Collaboration,
    /// Wide dissemination of the project's results (Art. 25(6)(b)(ii)).
    Dissemination,
}

impl BonusClaim {
    pub fn as_str(self) -> &'static str {
        match self {
            BonusClaim::Collaboration => "collaboration",
            BonusClaim::Dissemination => "dissemination",
        }
    }
}

/// The intensity with the Art. 25(6)(b) bonus when `bonus` holds (GBER bases only), capped at
/// [`INTENSITY_MAX_PERCENT`]; none for a non-SME.
pub fn intensity_with_bonus(basis: AidBasis, category: SmeCategory, bonus: bool) -> Option<Decimal> {
    let base = intensity_percent(basis, category)?;
    if !bonus || !basis.is_gber() {
        return Some(base);
    }
    Some((base + Decimal::from(COLLABORATION_BONUS_PERCENT)).min(Decimal::from(INTENSITY_MAX_PERCENT)))
}

/// Other aid for the same eligible costs leaves no room under the highest applicable intensity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CumulationExceeded {
    pub highest: Decimal,
    pub other: Cents,
    pub other_percent: Decimal,
    pub costs: Cents,
}

impl CumulationExceeded {
    pub fn message(&self) -> Message {
        Message::new("msg-cumulation-exceeded")
            .percent("highest", self.highest)
            .amount("other", self.other)
            .percent("other_percent", self.other_percent)
            .amount("costs", self.costs)
    }
}

/// GBER Art. 8(3)(b): this award's intensity once other aid for the same eligible costs is
/// counted, so that both together never exceed the highest applicable intensity. The reduced
/// intensity is rounded down to [`REDUCED_INTENSITY_SCALE`] decimals, so the total stays under.
pub fn cumulated_intensity(highest: Decimal, costs: Cents, other: Cents) -> Result<Decimal, CumulationExceeded> {
    if other.is_zero() {
        return Ok(highest);
    }
    let other_percent = if costs.is_zero() {
        Decimal::ONE_HUNDRED
    } else {
        other.to_decimal() * Decimal::ONE_HUNDRED / costs.to_decimal()
    };
    let reduced = (highest - other_percent)
        .round_dp_with_strategy(REDUCED_INTENSITY_SCALE, rust_decimal::RoundingStrategy::ToNegativeInfinity);
    if reduced <= Decimal::ZERO {
        return Err(CumulationExceeded { highest, other, other_percent: other_percent.round_dp(2), costs });
    }
    Ok(reduced.normalize())
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

/// A member of a single undertaking (Regulation 2023/2831 Art. 2(2)): the applicant or an
/// enterprise linked to it, with the de minimis aid it declares received elsewhere.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    /// Country and register number, normalised (see `grants::undertaking_key`).
    pub key: String,
    pub declared: Cents,
}

/// De minimis aid granted here to a member of the single undertaking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantedAid {
    pub date: NaiveDate,
    pub amount: Cents,
    pub beneficiary: String,
    pub beneficiary_key: String,
    /// What the beneficiary declared received elsewhere when it applied for this aid.
    pub beneficiary_declared: Cents,
    /// The enterprises that application named as linked to the beneficiary with the aid it
    /// declared each received elsewhere (those it declared an amount for).
    pub linked_declared: Vec<Member>,
    /// The keys of every enterprise that application named as linked, declared for or not.
    pub linked_keys: Vec<String>,
}

/// One member's aid in the window, for the refusal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberAid {
    pub name: String,
    pub key: String,
    /// Aid received elsewhere as counted: the larger of this application's declaration and the
    /// latest in an application of aid granted here.
    pub declared: Cents,
    pub granted_here: Cents,
    /// What this application declares for the member; `None` for a member only applications of
    /// aid granted here name.
    pub declared_here: Option<Cents>,
    /// Whether an application of aid granted to this member names the applicant as linked:
    /// the applicant may know who claims a link to it, to contest it.
    pub links_a_member: bool,
}

/// What a refusal shows of one member to the applicant.
enum ShownMember {
    /// Named by the application: what it declares for the member, and the aid granted here.
    Named { declared: Cents, granted: Cents },
    /// A beneficiary whose application links it to the applicant: the aid granted here only.
    Linking { granted: Cents },
}

impl MemberAid {
    /// Aid granted here is public (docs/state-aid-register.md); what other applications
    /// declare, and the enterprises they link that are not this application's, are not.
    fn shown(&self) -> Option<ShownMember> {
        match self.declared_here {
            Some(declared) => Some(ShownMember::Named { declared, granted: self.granted_here }),
            None if self.links_a_member => Some(ShownMember::Linking { granted: self.granted_here }),
            None => None,
        }
    }
}

/// Why de minimis aid is refused: the members the application names with the aid it declares
/// for them and the aid granted them here, and what else is counted, as one sum, without what
/// other applicants declared or which enterprises they linked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeMinimisExceeded {
    pub date: NaiveDate,
    pub members: Vec<MemberAid>,
    pub prior: Cents,
    pub requested: Cents,
    pub total: Cents,
    pub ceiling: Cents,
    pub headroom: Cents,
}

impl DeMinimisExceeded {
    pub fn message(&self) -> Message {
        let mut shown_total = Cents::ZERO;
        let mut members: Vec<Message> = Vec::with_capacity(self.members.len() + 1);
        for m in &self.members {
            let (message, shown) = match m.shown() {
                Some(ShownMember::Named { declared, granted }) => (
                    Message::new("msg-de-minimis-member").amount("declared", declared).amount("granted", granted),
                    declared.get().saturating_add(granted.get()),
                ),
                Some(ShownMember::Linking { granted }) => {
                    (Message::new("msg-de-minimis-linking-member").amount("granted", granted), granted.get())
                }
                None => continue,
            };
            shown_total = Cents::new(shown_total.get().saturating_add(shown));
            members.push(message.text("name", &m.name).text("key", &m.key));
        }
        let elsewhere = Cents::new(self.prior.get().saturating_sub(shown_total.get()));
        if !elsewhere.is_zero() {
            members.push(Message::new("msg-de-minimis-counted-from-other-applications").amount("amount", elsewhere));
        }
        Message::new("msg-de-minimis-exceeded")
            .date("date", self.date)
            .text("scope", if self.members.len() > 1 { "group" } else { "single" })
            .list("members", members)
            .amount("prior", self.prior)
            .amount("requested", self.requested)
            .amount("total", self.total)
            .amount("ceiling", self.ceiling)
            .amount("headroom", self.headroom)
    }
}

/// Checks a new de minimis grant on `date` against the ceiling of the single undertaking:
/// aid every member declares received elsewhere, plus aid granted here to any member within
/// the three years up to and including `date`. A beneficiary of aid granted here that the
/// members do not list (it named the applicant as linked) joins the undertaking, and so do the
/// enterprises its application named as linked with aid received elsewhere. A member's aid
/// received elsewhere is the larger of what this application declares for it and the latest
/// declaration for it in an application of aid granted here in the window (its own, or a linked
/// enterprise's naming it; of two on one day, the larger): a declaration covers three years, so
/// two are never added.
pub fn check_single_undertaking(
    date: NaiveDate,
    members: &[Member],
    granted: &[GrantedAid],
    requested: Cents,
) -> Result<Result<(), DeMinimisExceeded>, MoneyError> {
    let window_start = date.checked_sub_months(Months::new(DE_MINIMIS_WINDOW_MONTHS)).unwrap_or(NaiveDate::MIN);
    let mut aid: Vec<MemberAid> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for member in members {
        if seen.insert(member.key.clone()) {
            aid.push(MemberAid {
                name: member.name.clone(),
                key: member.key.clone(),
                declared: member.declared,
                granted_here: Cents::ZERO,
                declared_here: Some(member.declared),
                links_a_member: false,
            });
        } else if let Some(known) = aid.iter_mut().find(|m| m.key == member.key) {
            known.declared = known.declared.checked_add(member.declared)?;
            known.declared_here = Some(known.declared);
        }
    }
    let mut latest_declared: std::collections::HashMap<&str, (NaiveDate, Cents)> = std::collections::HashMap::new();
    for grant in granted.iter().filter(|g| g.date > window_start && g.date <= date) {
        // The applicant is the first member: a link to another member is that member's to know.
        let links_a_member = members.first().is_some_and(|applicant| grant.linked_keys.contains(&applicant.key));
        match aid.iter_mut().find(|m| m.key == grant.beneficiary_key) {
            Some(member) => {
                member.granted_here = member.granted_here.checked_add(grant.amount)?;
                member.links_a_member |= links_a_member;
            }
            None => aid.push(MemberAid {
                name: grant.beneficiary.clone(),
                key: grant.beneficiary_key.clone(),
                declared: Cents::ZERO,
                granted_here: grant.amount,
                declared_here: None,
                links_a_member,
            }),
        }
        // The latest declaration; of two on one day, the larger, whatever the order.
        let declarations = std::iter::once((grant.beneficiary_key.as_str(), grant.beneficiary_declared))
            .chain(grant.linked_declared.iter().map(|member| (member.key.as_str(), member.declared)));
        for (key, declared) in declarations {
            let latest = latest_declared.entry(key).or_insert((grant.date, Cents::ZERO));
            if (grant.date, declared) > *latest {
                *latest = (grant.date, declared);
            }
        }
    }
    let in_window = granted.iter().filter(|g| g.date > window_start && g.date <= date);
    for named in in_window.flat_map(|g| &g.linked_declared) {
        if !aid.iter().any(|m| m.key == named.key) {
            let (name, key) = (named.name.clone(), named.key.clone());
            let links_a_member = false;
            aid.push(MemberAid {
                name,
                key,
                declared: Cents::ZERO,
                granted_here: Cents::ZERO,
                declared_here: None,
                links_a_member,
            });
        }
    }
    for member in &mut aid {
        if let Some((_, declared)) = latest_declared.get(member.key.as_str()) {
            member.declared = member.declared.max(*declared);
        }
    }
    let mut prior = Cents::ZERO;
    for member in &aid {
        prior = prior.checked_add(member.declared)?.checked_add(member.granted_here)?;
    }
    let total = prior.checked_add(requested)?;
    if total <= DE_MINIMIS_CEILING {
        return Ok(Ok(()));
    }
    let headroom = Cents::new((DE_MINIMIS_CEILING.get() - prior.get()).max(0));
    Ok(Err(DeMinimisExceeded { date, members: aid, prior, requested, total, ceiling: DE_MINIMIS_CEILING, headroom }))
}

/// A NACE Rev. 2 code the de minimis Regulation excludes (Art. 1(1)(a) and (b)): fishery and
/// aquaculture (division 03) and primary agricultural production (groups 01.1 to 01.5; a bare
/// division 01 cannot be told apart and is excluded too). Support activities (01.6) and
/// hunting (01.7) are not primary production.
pub fn de_minimis_excluded_sector(nace: &str) -> Option<&'static str> {
    let digits: String = nace.chars().filter(char::is_ascii_digit).collect();
    match (digits.get(0..2), digits.get(2..3)) {
        (Some("03"), _) => Some("fishery and aquaculture"),
        (Some("01"), None) | (Some("01"), Some("1" | "2" | "3" | "4" | "5")) => {
            Some("primary production of agricultural products")
        }
        _ => None,
    }
}

crate::said_by_message!(CumulationExceeded, DeMinimisExceeded);

#[cfg(test)]
mod tests {
    use super::*;

    fn exceeded_by_two_members() -> DeMinimisExceeded {
        let member = |name: &str, key: &str, declared, granted| MemberAid {
            name: name.into(),
            key: key.into(),
            declared: Cents::new(declared),
            granted_here: Cents::new(granted),
            declared_here: Some(Cents::new(declared)),
            links_a_member: false,
        };
        DeMinimisExceeded {
            date: NaiveDate::from_ymd_opt(2026, 11, 26).unwrap_or_default(),
            members: vec![member("Alpha", "DE:HRB1", 12_000_000, 5_000_000), member("Beta", "FR:B2", 0, 3_000_000)],
            prior: Cents::new(20_000_000),
            requested: Cents::new(10_000_050),
            total: Cents::new(30_000_050),
            ceiling: Cents::new(30_000_000),
            headroom: Cents::new(10_000_000),
        }
    }

    #[test]
    fn a_de_minimis_refusal_names_every_member_in_each_language() {
        let exceeded = exceeded_by_two_members();
        assert_eq!(
            exceeded.to_string(),
            "de minimis ceiling exceeded: in the three years to 2026-11-26, the single undertaking's members: \
             Alpha (DE:HRB1) declared EUR 120000.00 received elsewhere and was granted EUR 50000.00 here; \
             Beta (FR:B2) declared EUR 0.00 received elsewhere and was granted EUR 30000.00 here; that is \
             EUR 200000.00, and with EUR 100000.50 requested EUR 300000.50, above EUR 300000.00 (at most \
             EUR 100000.00 more can be granted)"
        );
        let german = exceeded.message().in_lang(crate::i18n::Lang::De);
        for part in
            ["26. November 2026", "Alpha (DE:HRB1) hat 120.000,00\u{a0}EUR", "Beta (FR:B2)", "300.000,50\u{a0}EUR"]
        {
            assert!(german.contains(part), "{part:?} missing from {german}");
        }
        let french = exceeded.message().in_lang(crate::i18n::Lang::Fr);
        for part in ["26 novembre 2026", "les membres de l'entreprise unique", "100\u{a0}000,50\u{a0}EUR"] {
            assert!(french.contains(part), "{part:?} missing from {french}");
        }
    }

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    /// X names its competitor C as linked. C's own application (aid granted here) declared
    /// EUR 250,000 received elsewhere and linked D; P's names C; Y's names X. X's refusal shows
    /// C's aid granted here, which the register publishes, what X itself declared, and Y, who
    /// claims a link to X; C's declaration, D and P are counted, as one sum, never named.
    #[test]
    fn a_refusal_shows_only_what_the_application_names_and_the_register_publishes() {
        let members = [
            Member { name: "X".into(), key: "FR:X1".into(), declared: Cents::new(1_000_000) },
            Member { name: "Competitor".into(), key: "DE:C1".into(), declared: Cents::ZERO },
        ];
        let granted = [
            GrantedAid {
                date: d("2026-06-01"),
                amount: Cents::new(2_000_000),
                beneficiary: "Competitor".into(),
                beneficiary_key: "DE:C1".into(),
                beneficiary_declared: Cents::new(25_000_000),
                linked_declared: vec![Member {
                    name: "Delta Secret".into(),
                    key: "NL:D9".into(),
                    declared: Cents::new(300_000),
                }],
                linked_keys: vec!["NL:D9".into()],
            },
            GrantedAid {
                // Parent P names C as linked, not X: that link is C's to know, not X's.
                date: d("2026-07-01"),
                amount: Cents::new(50_000),
                beneficiary: "Parent Private".into(),
                beneficiary_key: "BE:P5".into(),
                beneficiary_declared: Cents::ZERO,
                linked_declared: Vec::new(),
                linked_keys: vec!["DE:C1".into()],
            },
            GrantedAid {
                // Y names X itself as linked: X may know it, to contest the link.
                date: d("2026-08-01"),
                amount: Cents::new(70_000),
                beneficiary: "Y Claims".into(),
                beneficiary_key: "IT:Y7".into(),
                beneficiary_declared: Cents::ZERO,
                linked_declared: Vec::new(),
                linked_keys: vec!["FR:X1".into()],
            },
        ];
        let refused = check_single_undertaking(d("2026-11-26"), &members, &granted, Cents::new(2_000_000)).unwrap();
        let exceeded = refused.expect_err("above the ceiling");
        // Counted: X 10,000.00 + C's 250,000.00 declared and 20,000.00 granted + D's 3,000.00
        // + P's 500.00 + Y's 700.00.
        assert_eq!(exceeded.prior, Cents::new(28_420_000));
        let said = exceeded.to_string();
        assert!(
            said.contains(
                "Y Claims (IT:Y7), whose application names the applicant as linked, was granted EUR 700.00 here"
            ),
            "{said}"
        );
        let said = exceeded.to_string();
        assert!(
            said.contains("X (FR:X1) declared EUR 10000.00 received elsewhere and was granted EUR 0.00 here"),
            "{said}"
        );
        assert!(
            said.contains("Competitor (DE:C1) declared EUR 0.00 received elsewhere and was granted EUR 20000.00 here"),
            "{said}"
        );
        // 250,000.00 + 3,000.00 + 500.00: one sum, which the headroom gives away as well.
        assert!(said.contains("EUR 253500.00 more counted from applications of aid granted here"), "{said}");
        for secret in ["Delta", "NL:D9", "Parent", "BE:P5", "EUR 250000.00", "EUR 3000.00"] {
            assert!(!said.contains(secret), "{secret:?} shown in {said}");
        }
        for lang in [crate::i18n::Lang::Fr, crate::i18n::Lang::De] {
            let text = exceeded.message().in_lang(lang);
            assert!(!text.contains("Delta") && !text.contains("Parent") && text.contains("253"), "{text}");
        }
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

    fn member(name: &str, key: &str, declared_eur: i64) -> Member {
        Member { name: name.into(), key: key.into(), declared: Cents::new(declared_eur * 100) }
    }

    fn granted(date: &str, eur: i64, name: &str, key: &str) -> GrantedAid {
        GrantedAid {
            date: d(date),
            amount: Cents::new(eur * 100),
            beneficiary: name.into(),
            beneficiary_key: key.into(),
            beneficiary_declared: Cents::ZERO,
            linked_declared: Vec::new(),
            linked_keys: Vec::new(),
        }
    }

    #[test]
    fn aid_declared_for_a_member_in_a_linked_enterprises_application_counts() {
        // Alpha named Beta as linked and declared Beta received EUR 150,000 elsewhere; Alpha
        // was awarded EUR 100,000 here. Beta applies alone for EUR 100,000, declaring nothing.
        let mut alpha = granted("2025-03-01", 100_000, "Alpha", "DE:HRB1");
        alpha.linked_declared = vec![member("Beta", "FR:B2", 150_000)];
        let beta = [member("Beta", "FR:B2", 0)];
        let error = check_single_undertaking(d("2026-01-15"), &beta, &[alpha.clone()], Cents::new(100_000 * 100))
            .unwrap()
            .unwrap_err();
        assert_eq!((error.prior, error.headroom), (Cents::new(250_000 * 100), Cents::new(50_000 * 100)));
        // Beta's own later declaration replaces it; an enterprise only Alpha named joins too.
        let mut own = granted("2025-09-01", 10_000, "Beta", "FR:B2");
        own.beneficiary_declared = Cents::new(20_000 * 100);
        alpha.linked_declared.push(member("Gamma", "IT:G3", 30_000));
        let error = check_single_undertaking(d("2026-01-15"), &beta, &[alpha, own], Cents::new(150_000 * 100))
            .unwrap()
            .unwrap_err();
        assert_eq!(error.prior, Cents::new((100_000 + 10_000 + 20_000 + 30_000) * 100));
        assert!(error.members.iter().any(|m| m.name == "Gamma" && m.declared == Cents::new(30_000 * 100)));
    }

    #[test]
    fn a_members_own_declaration_at_its_latest_award_counts_for_the_group() {
        // Alpha declared EUR 150,000 received elsewhere when it was awarded EUR 100,000 here
        // and named Beta as linked; Beta applies alone for EUR 150,000 declaring nothing.
        let mut alpha = granted("2025-03-01", 100_000, "Alpha", "DE:HRB1");
        alpha.beneficiary_declared = Cents::new(150_000 * 100);
        let beta = [member("Beta", "FR:B2", 0)];
        let error = check_single_undertaking(d("2026-01-15"), &beta, &[alpha.clone()], Cents::new(150_000 * 100))
            .unwrap()
            .unwrap_err();
        assert_eq!((error.prior, error.headroom), (Cents::new(250_000 * 100), Cents::new(50_000 * 100)));
        assert_eq!(
            check_single_undertaking(d("2026-01-15"), &beta, &[alpha.clone()], Cents::new(50_000 * 100)),
            Ok(Ok(()))
        );
        // Declared again in this application, the larger of the two counts, never both.
        let both = [member("Beta", "FR:B2", 0), member("Alpha", "DE:HRB1", 120_000)];
        let error = check_single_undertaking(d("2026-01-15"), &both, &[alpha.clone()], Cents::new(60_000 * 100))
            .unwrap()
            .unwrap_err();
        assert_eq!(error.prior, Cents::new(250_000 * 100));
        // A later award's declaration replaces an earlier one's.
        let mut later = granted("2025-09-01", 10_000, "Alpha", "DE:HRB1");
        later.beneficiary_declared = Cents::new(20_000 * 100);
        let outcome = check_single_undertaking(d("2026-01-15"), &beta, &[alpha, later], Cents::new(170_000 * 100));
        assert_eq!(outcome, Ok(Ok(())), "110,000 granted + 20,000 declared + 170,000 = 300,000");
    }

    #[test]
    fn de_minimis_counts_declared_and_granted_aid_in_the_rolling_window() {
        let acme = [member("Acme", "DE:HRB1", 50_000)];
        let aid =
            [granted("2022-06-30", 100_000, "Acme", "DE:HRB1"), granted("2024-01-15", 150_000, "Acme", "DE:HRB1")];
        // On 2025-06-30 the window is (2022-06-30, 2025-06-30]: the 2022 award has just left it.
        assert_eq!(check_single_undertaking(d("2025-06-30"), &acme, &aid, Cents::new(100_000 * 100)), Ok(Ok(())));
        let error =
            check_single_undertaking(d("2025-06-29"), &acme, &aid, Cents::new(100_000 * 100)).unwrap().unwrap_err();
        assert_eq!(error.prior, Cents::new(300_000 * 100));
        assert_eq!(error.headroom, Cents::ZERO);
        assert!(error.to_string().contains("300000.00"), "{error}");
        // Exactly at the ceiling is allowed; one cent over is not.
        assert_eq!(check_single_undertaking(d("2025-01-01"), &[], &[], Cents::new(300_000 * 100)), Ok(Ok(())));
        assert!(check_single_undertaking(d("2025-01-01"), &[], &[], Cents::new(300_000 * 100 + 1)).unwrap().is_err());
    }

    // User guide case: Alpha and Beta are linked (Alpha holds 60% of Beta): one single
    // undertaking, one EUR 300,000 ceiling. Beta received EUR 200,000 here; Alpha declares
    // EUR 50,000 received elsewhere; Alpha's request of EUR 60,000 is refused, naming Beta.
    #[test]
    fn linked_enterprises_share_one_ceiling_and_the_refusal_names_them() {
        let group = [member("Alpha GmbH", "DE:HRB1", 50_000), member("Beta GmbH", "DE:HRB2", 0)];
        let aid = [granted("2025-03-01", 200_000, "Beta GmbH", "DE:HRB2")];
        let refused = check_single_undertaking(d("2026-06-01"), &group, &aid, Cents::new(60_000 * 100)).unwrap();
        let error = refused.unwrap_err();
        assert_eq!(error.total, Cents::new(310_000 * 100));
        assert_eq!(error.headroom, Cents::new(50_000 * 100));
        let text = error.to_string();
        assert!(text.contains("Beta GmbH (DE:HRB2)") && text.contains("granted EUR 200000.00 here"), "{text}");
        assert!(text.contains("Alpha GmbH (DE:HRB1) declared EUR 50000.00"), "{text}");
        assert_eq!(check_single_undertaking(d("2026-06-01"), &group, &aid, Cents::new(50_000 * 100)), Ok(Ok(())));
        // Beta named Alpha as linked on its own application: aid granted to Beta counts for
        // Alpha even when Alpha does not list Beta (the caller found it by Alpha's key).
        let alone = [member("Alpha GmbH", "DE:HRB1", 50_000)];
        let error =
            check_single_undertaking(d("2026-06-01"), &alone, &aid, Cents::new(60_000 * 100)).unwrap().unwrap_err();
        assert_eq!(error.members.len(), 2);
        assert_eq!(error.members[1].name, "Beta GmbH");
    }

    #[test]
    fn every_de_minimis_award_and_gber_above_100000_are_published() {
        assert!(published(AidBasis::DeMinimis, Cents::new(1)));
        assert!(!published(AidBasis::IndustrialResearch, Cents::new(100_000 * 100)));
        assert!(published(AidBasis::IndustrialResearch, Cents::new(100_000 * 100 + 1)));
        assert!(published(AidBasis::ExperimentalDevelopment, Cents::new(250_000 * 100)));
    }

    #[test]
    fn excluded_sectors() {
        assert_eq!(de_minimis_excluded_sector("03.21"), Some("fishery and aquaculture"));
        assert_eq!(de_minimis_excluded_sector("A01.11"), Some("primary production of agricultural products"));
        assert_eq!(de_minimis_excluded_sector("01"), Some("primary production of agricultural products"));
        assert_eq!(de_minimis_excluded_sector("01.61"), None, "support activities are not primary production");
        assert_eq!(de_minimis_excluded_sector("62.01"), None);
        assert_eq!(de_minimis_excluded_sector("10.20"), None, "processing fish is not fishery");
    }

    #[test]
    fn collaboration_bonus_is_capped_at_80_percent() {
        use AidBasis::*;
        use SmeCategory::*;
        assert_eq!(intensity_with_bonus(IndustrialResearch, Small, true), Some(Decimal::from(80)), "50+20+15 capped");
        assert_eq!(intensity_with_bonus(IndustrialResearch, Medium, true), Some(Decimal::from(75)));
        assert_eq!(intensity_with_bonus(ExperimentalDevelopment, Micro, true), Some(Decimal::from(60)));
        assert_eq!(intensity_with_bonus(ExperimentalDevelopment, Medium, true), Some(Decimal::from(50)));
        assert_eq!(intensity_with_bonus(ExperimentalDevelopment, Medium, false), Some(Decimal::from(35)));
        assert_eq!(intensity_with_bonus(DeMinimis, Small, true), Some(Decimal::from(100)), "no bonus on de minimis");
        assert_eq!(intensity_with_bonus(IndustrialResearch, NotSme, true), None);
    }

    #[test]
    fn cumulation_reduces_the_intensity_and_refuses_when_nothing_is_left() {
        // EUR 100,000 of costs at 70%: other aid of EUR 12,345.67 leaves 57.65432...% -> 57.65%.
        let costs = Cents::new(100_000 * 100);
        assert_eq!(cumulated_intensity(Decimal::from(70), costs, Cents::ZERO), Ok(Decimal::from(70)));
        assert_eq!(cumulated_intensity(Decimal::from(70), costs, Cents::new(1_234_567)), Ok("57.65".parse().unwrap()));
        let refused = cumulated_intensity(Decimal::from(70), costs, Cents::new(70_000 * 100)).unwrap_err();
        assert_eq!(refused.other_percent, Decimal::from(70));
        assert!(cumulated_intensity(Decimal::from(70), Cents::ZERO, Cents::new(1)).is_err());
    }

    proptest::proptest! {
        // Whatever the members and the aid granted here, the check accepts exactly when the
        // declared aid of every member plus the grants within the 36 months to the date (summed
        // here on their own) plus the request stay within EUR 300,000; members' order does not matter.
        #[test]
        fn the_ceiling_holds_for_the_whole_single_undertaking(
            declared in proptest::collection::vec(0i64..15_000_000, 1..5),
            grants in proptest::collection::vec((0usize..6, 0i64..15_000_000, 0i64..2_000, 0i64..15_000_000), 0..8),
            linked in proptest::collection::vec((0usize..8, 0usize..6, 0i64..15_000_000), 0..6),
            requested in 0i64..30_000_000,
        ) {
            let date = d("2026-06-30");
            let members: Vec<Member> = declared
                .iter()
                .enumerate()
                .map(|(i, cents)| Member { name: format!("M{i}"), key: format!("K{i}"), declared: Cents::new(*cents) })
                .collect();
            // Each `linked` row: the grant (by index) whose application declared it, the key, the aid.
            let aid: Vec<GrantedAid> = grants
                .iter()
                .enumerate()
                .map(|(index, (who, cents, days_ago, declared))| GrantedAid {
                    date: date - chrono::Duration::days(*days_ago),
                    amount: Cents::new(*cents),
                    beneficiary: format!("B{who}"),
                    beneficiary_key: format!("K{who}"),
                    beneficiary_declared: Cents::new(*declared),
                    linked_declared: linked
                        .iter()
                        .filter(|(grant, _, _)| *grant == index)
                        .map(|(_, key, cents)| Member {
                            name: format!("L{key}"),
                            key: format!("K{key}"),
                            declared: Cents::new(*cents),
                        })
                        .collect(),
                    linked_keys: linked
                        .iter()
                        .filter(|(grant, _, _)| *grant == index)
                        .map(|(_, key, _)| format!("K{key}"))
                        .collect(),
                })
                .collect();
            let window_start = d("2023-06-30");
            let in_window: Vec<&GrantedAid> = aid.iter().filter(|g| g.date > window_start).collect();
            let granted: i64 = in_window.iter().map(|g| g.amount.get()).sum();
            // Per key: the larger of this application's declaration and the latest one at an
            // award in the window (the larger of a day's), never both.
            let mut declared_total = 0i64;
            for key in 0..6usize {
                let here = declared.get(key).copied().unwrap_or(0);
                let key = format!("K{key}");
                let own = in_window
                    .iter()
                    .flat_map(|g| {
                        let mine = (g.beneficiary_key == key).then_some((g.date, g.beneficiary_declared.get()));
                        let named = g.linked_declared.iter().filter(|m| m.key == key).map(|m| (g.date, m.declared.get()));
                        mine.into_iter().chain(named).collect::<Vec<_>>()
                    })
                    .max()
                    .map_or(0, |(_, cents)| cents);
                declared_total += here.max(own);
            }
            let total = declared_total + granted + requested;
            let outcome = check_single_undertaking(date, &members, &aid, Cents::new(requested)).unwrap();
            proptest::prop_assert_eq!(outcome.is_ok(), total <= 30_000_000);
            if let Err(exceeded) = &outcome {
                proptest::prop_assert_eq!(exceeded.total, Cents::new(total));
            }
            let reversed: Vec<Member> = members.iter().rev().cloned().collect();
            let again = check_single_undertaking(date, &reversed, &aid, Cents::new(requested)).unwrap();
            proptest::prop_assert_eq!(again.is_ok(), outcome.is_ok());
        }

        // Whatever the other aid, this award's aid plus the other aid never exceeds the costs
        // times the highest intensity (GBER Art. 8(3)(b)), computed here in exact rationals.
        #[test]
        fn cumulated_aid_never_exceeds_the_highest_intensity(
            milli in 1i64..100_000_000_000, price in 1i64..100_000, highest in 1u32..=80, other in 0i64..10_000_000_000,
        ) {
            let price = Cents::new(price);
            let highest = Decimal::from(highest);
            let costs = aid_value(milli, price, Decimal::ONE_HUNDRED).unwrap();
            let other = Cents::new(other);
            if let Ok(reduced) = cumulated_intensity(highest, costs, other) {
                let aid = aid_value(milli, price, reduced).unwrap();
                // (aid + other) x 100 x 1000 <= milli x price x highest, in integers.
                let lhs = (i128::from(aid.get()) + i128::from(other.get())) * 100 * 1000;
                let rhs = i128::from(milli) * i128::from(price.get()) * highest.mantissa() / 10_i128.pow(highest.scale());
                proptest::prop_assert!(lhs <= rhs, "aid {} + other {} above {}% of {}", aid, other, highest, costs);
                proptest::prop_assert!(reduced <= highest && reduced > Decimal::ZERO);
            }
        }
    }
}
