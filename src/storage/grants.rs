//! Grant calls funded from a fund's compute-grant pool, SME applications and their reviews.
//! Awards, lapses and the views over them are in `awards.rs`; metered usage in `usage.rs`.
//!
//! Ledger: a call reserves its budget from the pool (`Dr 1020 / Cr 1010`, party = the call).

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::funds::get_fund;
use super::ledger::{post_entry, standard_account, NewEntry};
use super::schema::{
    award_undertakings, grant_applications, grant_awards, grant_call_facilities, grant_calls, grant_reviews,
};
use super::structure::{get_facility, price_on};
use super::{new_id, now_micros, DbConnection};
use crate::domain::chart::{COMPUTE_GRANT_COMMITTED, COMPUTE_GRANT_POOL};
use crate::domain::eligibility::{EnterpriseFigures, Related, RuleApplied, SmeCategory};
use crate::domain::grants::{
    assess, linked_members, single_undertaking, undertaking_key, ApplicationFacts, ApplicationStatus, Assessment,
    CallTerms, Declarations, SCORE_MAX,
};
use crate::domain::hours::GpuHours;
use crate::domain::ledger::PostingLine;
use crate::domain::money::Cents;
use crate::domain::state_aid::{intensity_with_bonus, AidBasis, BonusClaim, GrantedAid};
use crate::error::{AppError, AppResult, FieldError, Message, Wording};

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = grant_calls)]
pub struct CallRow {
    pub id: String,
    pub fund_id: String,
    pub name: String,
    pub budget_cents: i64,
    pub committed_cents: i64,
    pub opens_at: NaiveDateTime,
    pub closes_at: NaiveDateTime,
    pub max_milli_hours_per_award: i64,
    pub aid_basis: String,
    pub min_reviewers: i32,
    pub min_average_score: String,
    pub entry_id: String,
    pub actor: String,
    pub created_at: NaiveDateTime,
    pub aid_measure_reference: Option<String>,
    pub granting_authority: String,
    pub bonus_allowed: bool,
}

/// Aid intensity in percent by SME category under a call's basis.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Intensities {
    #[schema(value_type = String, example = "70")]
    pub micro: Decimal,
    #[schema(value_type = String, example = "70")]
    pub small: Decimal,
    #[schema(value_type = String, example = "60")]
    pub medium: Decimal,
}

impl Intensities {
    fn of(basis: AidBasis, bonus: bool) -> Intensities {
        let of = |category| intensity_with_bonus(basis, category, bonus).unwrap_or_default();
        Intensities { micro: of(SmeCategory::Micro), small: of(SmeCategory::Small), medium: of(SmeCategory::Medium) }
    }
}

/// A grant call: a budget from the compute-grant pool for subsidised GPU-hours.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct GrantCall {
    pub id: String,
    pub fund_id: String,
    pub name: String,
    #[schema(value_type = String, example = "5000000.00")]
    pub budget: Cents,
    /// Aid value of the awards made under the call.
    #[schema(value_type = String)]
    pub committed: Cents,
    #[schema(value_type = String)]
    pub remaining: Cents,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "crate::domain::time::utc")]
    pub opens_at: NaiveDateTime,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "crate::domain::time::utc")]
    pub closes_at: NaiveDateTime,
    /// Open for submissions now.
    pub open: bool,
    pub eligible_facility_ids: Vec<String>,
    #[schema(value_type = String, example = "50000.000")]
    pub max_gpu_hours_per_award: GpuHours,
    pub aid_basis: AidBasis,
    /// The aid measure's reference in the Commission's register (`SA.123456`); every GBER
    /// call has one.
    pub aid_measure_reference: Option<String>,
    /// Who grants the aid, as the transparency register names it.
    pub granting_authority: String,
    /// The GBER Art. 25(6)(b) collaboration or dissemination bonus (15 points, at most 80%)
    /// may be claimed.
    pub bonus_allowed: bool,
    /// Intensities without the bonus.
    pub intensities: Intensities,
    /// Intensities with the bonus, when the call allows it.
    pub intensities_with_bonus: Option<Intensities>,
    pub min_reviewers: i32,
    #[schema(value_type = String, example = "60")]
    pub min_average_score: Decimal,
    /// The journal entry that reserved the budget from the pool.
    pub entry_id: String,
}

impl CallRow {
    pub fn basis(&self) -> AppResult<AidBasis> {
        AidBasis::parse(&self.aid_basis)
            .ok_or_else(|| AppError::internal(format!("call {} has unknown aid basis {}", self.id, self.aid_basis)))
    }

    pub fn min_score(&self) -> AppResult<Decimal> {
        self.min_average_score
            .parse()
            .map_err(|_| AppError::internal(format!("call {} has a malformed minimum score", self.id)))
    }

    pub fn terms(&self, facilities: Vec<String>) -> AppResult<CallTerms> {
        Ok(CallTerms {
            opens_at: self.opens_at,
            closes_at: self.closes_at,
            eligible_facilities: facilities,
            max_hours_per_award: GpuHours::from_milli(self.max_milli_hours_per_award),
            aid_basis: self.basis()?,
            min_reviewers: self.min_reviewers,
            min_average_score: self.min_score()?,
            bonus_allowed: self.bonus_allowed,
        })
    }

    pub fn remaining(&self) -> Cents {
        Cents::new(self.budget_cents - self.committed_cents)
    }

    fn view(&self, facilities: Vec<String>, now: NaiveDateTime) -> AppResult<GrantCall> {
        let basis = self.basis()?;
        Ok(GrantCall {
            id: self.id.clone(),
            fund_id: self.fund_id.clone(),
            name: self.name.clone(),
            budget: Cents::new(self.budget_cents),
            committed: Cents::new(self.committed_cents),
            remaining: self.remaining(),
            opens_at: self.opens_at,
            closes_at: self.closes_at,
            open: self.opens_at <= now && now < self.closes_at,
            eligible_facility_ids: facilities,
            max_gpu_hours_per_award: GpuHours::from_milli(self.max_milli_hours_per_award),
            aid_basis: basis,
            aid_measure_reference: self.aid_measure_reference.clone(),
            granting_authority: self.granting_authority.clone(),
            bonus_allowed: self.bonus_allowed,
            intensities: Intensities::of(basis, false),
            intensities_with_bonus: self.bonus_allowed.then(|| Intensities::of(basis, true)),
            min_reviewers: self.min_reviewers,
            min_average_score: self.min_score()?,
            entry_id: self.entry_id.clone(),
        })
    }
}

#[derive(Clone, Debug)]
pub struct NewCall {
    pub fund_id: String,
    pub name: String,
    pub budget: Cents,
    pub opens_at: NaiveDateTime,
    pub closes_at: NaiveDateTime,
    pub facility_ids: Vec<String>,
    pub max_hours_per_award: GpuHours,
    pub aid_basis: AidBasis,
    pub min_reviewers: i32,
    pub min_average_score: Decimal,
    pub aid_measure_reference: Option<String>,
    /// `None`: the fund grants, under its own name.
    pub granting_authority: Option<String>,
    pub bonus_allowed: bool,
    pub actor: String,
}

/// Opens a grant call, reserving its budget from the fund's compute-grant pool (never more than
/// the pool holds today and on every later date: the floor rule of the ledger).
pub fn create_call(conn: &mut DbConnection, new: NewCall) -> AppResult<GrantCall> {
    let fund = get_fund(conn, &new.fund_id)?;
    let taken: i64 = grant_calls::table.filter(grant_calls::name.eq(&new.name)).count().get_result(conn)?;
    if taken > 0 {
        return Err(AppError::conflict("call-name-taken", Message::new("msg-call-name-taken").text("name", &new.name)));
    }
    for (index, facility_id) in new.facility_ids.iter().enumerate() {
        if get_facility(conn, facility_id).is_err() {
            return Err(AppError::rule_on(
                "unknown-facility",
                &format!("eligible_facility_ids[{index}]"),
                "no such facility",
            ));
        }
    }
    let now = now_micros();
    let today = now.date();
    let id = new_id();
    let pool = standard_account(conn, &new.fund_id, COMPUTE_GRANT_POOL)?;
    let committed = standard_account(conn, &new.fund_id, COMPUTE_GRANT_COMMITTED)?;
    let entry = post_entry(
        conn,
        NewEntry {
            fund_id: new.fund_id.clone(),
            effective_date: today,
            actor: new.actor.clone(),
            event_type: "grant_call".into(),
            event_id: id.clone(),
            description: format!("budget of grant call {} reserved from the compute-grant pool", new.name),
            reverses_entry_id: None,
            amount_field: "budget",
            date_field: "budget",
            postings: vec![
                PostingLine {
                    account_id: committed.id,
                    amount: new.budget,
                    party_id: Some(id.clone()),
                    memo: "call budget".into(),
                },
                PostingLine {
                    account_id: pool.id,
                    amount: new.budget.checked_neg()?,
                    party_id: Some(id.clone()),
                    memo: "call budget".into(),
                },
            ],
        },
    )?;
    let row = CallRow {
        id: id.clone(),
        fund_id: new.fund_id,
        name: new.name,
        budget_cents: new.budget.get(),
        committed_cents: 0,
        opens_at: new.opens_at,
        closes_at: new.closes_at,
        max_milli_hours_per_award: new.max_hours_per_award.milli(),
        aid_basis: new.aid_basis.as_str().into(),
        min_reviewers: new.min_reviewers,
        min_average_score: new.min_average_score.normalize().to_string(),
        aid_measure_reference: new.aid_measure_reference,
        granting_authority: new.granting_authority.unwrap_or(fund.name),
        bonus_allowed: new.bonus_allowed,
        entry_id: entry.id,
        actor: new.actor,
        created_at: now,
    };
    diesel::insert_into(grant_calls::table).values(&row).execute(conn)?;
    let links: Vec<_> = new
        .facility_ids
        .iter()
        .map(|f| (grant_call_facilities::call_id.eq(&id), grant_call_facilities::facility_id.eq(f)))
        .collect();
    super::batch_insert!(conn, grant_call_facilities::table, &links);
    row.view(new.facility_ids, now)
}

pub fn call_row(conn: &mut DbConnection, call_id: &str) -> AppResult<CallRow> {
    grant_calls::table
        .find(call_id)
        .select(CallRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found(format!("grant call {call_id}")))
}

pub fn call_facilities(conn: &mut DbConnection, call_id: &str) -> AppResult<Vec<String>> {
    Ok(grant_call_facilities::table
        .filter(grant_call_facilities::call_id.eq(call_id))
        .order(grant_call_facilities::facility_id.asc())
        .select(grant_call_facilities::facility_id)
        .load(conn)?)
}

pub fn get_call(conn: &mut DbConnection, call_id: &str) -> AppResult<GrantCall> {
    let row = call_row(conn, call_id)?;
    let facilities = call_facilities(conn, call_id)?;
    row.view(facilities, now_micros())
}

/// Every grant call, newest first.
pub fn list_calls(conn: &mut DbConnection) -> AppResult<Vec<GrantCall>> {
    let rows: Vec<CallRow> =
        grant_calls::table.order(grant_calls::created_at.desc()).select(CallRow::as_select()).load(conn)?;
    let links: Vec<(String, String)> = grant_call_facilities::table
        .order(grant_call_facilities::facility_id.asc())
        .select((grant_call_facilities::call_id, grant_call_facilities::facility_id))
        .load(conn)?;
    let mut by_call: HashMap<String, Vec<String>> = HashMap::new();
    for (call, facility) in links {
        by_call.entry(call).or_default().push(facility);
    }
    let now = now_micros();
    rows.iter().map(|row| row.view(by_call.remove(&row.id).unwrap_or_default(), now)).collect()
}

/// The company that applies.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Company {
    pub legal_name: String,
    /// Company register or VAT number.
    pub registration_number: String,
    /// ISO 3166-1 alpha-2 of the country of establishment.
    pub country: String,
    /// NACE Rev. 2 code of the main activity (`62.01` or `J62.01`; normalised to the latter).
    #[serde(default)]
    pub nace_code: Option<String>,
    /// NUTS 2 region of establishment (`FR10`; Greece's codes begin with EL).
    #[serde(default)]
    pub nuts2_region: Option<String>,
}

/// The enterprise behind an application: what an SME's profile holds, declared once and
/// reused by every application.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Enterprise {
    pub company: Company,
    /// Figures of the latest closed accounting period.
    pub figures: EnterpriseFigures,
    /// Figures of the closed period before it; none for an enterprise with one period.
    #[serde(default)]
    pub previous_period: Option<EnterpriseFigures>,
    #[serde(default)]
    pub related: Vec<Related>,
    /// De minimis aid the applicant received elsewhere in the last three years (0 if left out).
    #[serde(default)]
    #[schema(value_type = String)]
    pub de_minimis_received: Cents,
    #[serde(default)]
    pub declarations: Declarations,
}

/// What an application adds to the enterprise, kept with it as JSON.
#[derive(Clone, Debug, Default, Serialize, serde::Deserialize)]
#[serde(default)]
struct StateAidFacts {
    nace_code: Option<String>,
    nuts2_region: Option<String>,
    previous_period: Option<EnterpriseFigures>,
    declarations: Declarations,
    bonus: Option<BonusClaim>,
    other_aid_same_costs: Cents,
}

/// The project an application asks for (validated at the edge).
#[derive(Clone, Debug)]
pub struct ProjectInput {
    pub bonus: Option<BonusClaim>,
    pub other_aid_same_costs: Cents,
    pub project_title: String,
    pub summary: String,
    pub requested: GpuHours,
    pub facility_id: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
}

/// An application as the SME sends it: the enterprise stated, or `None` to take its profile.
#[derive(Clone, Debug)]
pub struct ApplicationRequestInput {
    pub enterprise: Option<Enterprise>,
    pub project: ProjectInput,
}

/// An application's content: the enterprise and the project.
#[derive(Clone, Debug)]
pub struct ApplicationInput {
    pub enterprise: Enterprise,
    /// The enterprise was taken from the SME's profile: a draft follows the profile until it
    /// is submitted.
    pub from_profile: bool,
    pub project: ProjectInput,
}

impl ApplicationInput {
    /// The enterprise stated, or the SME's profile.
    pub fn resolve(
        conn: &mut DbConnection,
        sme_id: &str,
        request: ApplicationRequestInput,
    ) -> AppResult<ApplicationInput> {
        let (enterprise, from_profile) = match request.enterprise {
            Some(enterprise) => (enterprise, false),
            None => match super::profiles::profile_enterprise(conn, sme_id)? {
                Some(enterprise) => (enterprise, true),
                None => {
                    return Err(AppError::rule_on(
                        "no-profile",
                        "company",
                        "state the company, or save the SME profile first (PUT /api/v1/smes/{sme_id}/profile)",
                    ))
                }
            },
        };
        Ok(ApplicationInput { enterprise, from_profile, project: request.project })
    }

    pub fn facts(&self) -> ApplicationFacts {
        let enterprise = &self.enterprise;
        let project = &self.project;
        ApplicationFacts {
            legal_name: enterprise.company.legal_name.clone(),
            registration_number: enterprise.company.registration_number.clone(),
            country: enterprise.company.country.clone(),
            nace_code: enterprise.company.nace_code.clone(),
            nuts2_region: enterprise.company.nuts2_region.clone(),
            own: enterprise.figures,
            previous: enterprise.previous_period,
            related: enterprise.related.clone(),
            declared_de_minimis: enterprise.de_minimis_received,
            declarations: enterprise.declarations,
            bonus: project.bonus,
            other_aid_same_costs: project.other_aid_same_costs,
            requested: project.requested,
            facility_id: project.facility_id.clone(),
            start_date: project.start_date,
            end_date: project.end_date,
        }
    }
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = grant_applications)]
pub struct ApplicationRow {
    pub id: String,
    pub call_id: String,
    pub sme_id: String,
    pub status: String,
    pub legal_name: String,
    pub registration_number: String,
    pub country: String,
    pub undertaking_key: String,
    pub staff_awu: String,
    pub turnover_cents: i64,
    pub balance_sheet_cents: i64,
    pub related_json: String,
    pub declared_de_minimis_cents: i64,
    pub project_title: String,
    pub summary: String,
    pub requested_milli_hours: i64,
    pub facility_id: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub sme_category: String,
    pub rejection_reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub submitted_at: Option<NaiveDateTime>,
    pub decided_at: Option<NaiveDateTime>,
    pub decided_by: Option<String>,
    pub state_aid_json: String,
    pub from_profile: bool,
}

impl ApplicationRow {
    pub fn status(&self) -> AppResult<ApplicationStatus> {
        ApplicationStatus::parse(&self.status)
            .ok_or_else(|| AppError::internal(format!("application {} has unknown status {}", self.id, self.status)))
    }

    pub fn category(&self) -> AppResult<SmeCategory> {
        SmeCategory::parse(&self.sme_category)
            .ok_or_else(|| AppError::internal(format!("application {} has unknown category", self.id)))
    }

    pub fn input(&self) -> AppResult<ApplicationInput> {
        let malformed = |what: &str| AppError::internal(format!("application {} has malformed {what}", self.id));
        let extra: StateAidFacts =
            serde_json::from_str(&self.state_aid_json).map_err(|_| malformed("state-aid facts"))?;
        Ok(ApplicationInput {
            enterprise: Enterprise {
                company: Company {
                    legal_name: self.legal_name.clone(),
                    registration_number: self.registration_number.clone(),
                    country: self.country.clone(),
                    nace_code: extra.nace_code,
                    nuts2_region: extra.nuts2_region,
                },
                figures: EnterpriseFigures {
                    staff_awu: self.staff_awu.parse().map_err(|_| malformed("staff_awu"))?,
                    turnover: Cents::new(self.turnover_cents),
                    balance_sheet: Cents::new(self.balance_sheet_cents),
                },
                previous_period: extra.previous_period,
                related: serde_json::from_str(&self.related_json).map_err(|_| malformed("related enterprises"))?,
                de_minimis_received: Cents::new(self.declared_de_minimis_cents),
                declarations: extra.declarations,
            },
            from_profile: self.from_profile,
            project: ProjectInput {
                bonus: extra.bonus,
                other_aid_same_costs: extra.other_aid_same_costs,
                project_title: self.project_title.clone(),
                summary: self.summary.clone(),
                requested: GpuHours::from_milli(self.requested_milli_hours),
                facility_id: self.facility_id.clone(),
                start_date: self.start_date,
                end_date: self.end_date,
            },
        })
    }
}

/// One refusal the service found, with the field it concerns.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Finding {
    pub code: String,
    pub field: String,
    /// Why, in English; the SME's pages say it in their reader's language.
    #[schema(value_type = String)]
    pub reason: Wording,
}

/// The service's reading of an application as it stands now.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AssessmentView {
    /// EnterpriseFigures with partner enterprises pro rata and linked enterprises in full.
    pub aggregated: EnterpriseFigures,
    /// The same for the previous accounting period, when declared.
    pub aggregated_previous: Option<EnterpriseFigures>,
    pub sme_category: SmeCategory,
    #[schema(value_type = Option<String>, example = "70")]
    pub intensity_percent: Option<Decimal>,
    /// The facility's list price in force today.
    #[schema(value_type = Option<String>)]
    pub price_per_gpu_hour: Option<Cents>,
    /// Requested hours x price x intensity.
    #[schema(value_type = Option<String>)]
    pub aid_value: Option<Cents>,
    /// Every rule applied, with its figures, in words.
    pub rules: Vec<RuleApplied>,
    /// Empty when the application may be submitted as it stands.
    pub refusals: Vec<Finding>,
}

impl AssessmentView {
    fn new(assessment: Assessment, price: Option<Cents>) -> AssessmentView {
        AssessmentView {
            aggregated: assessment.aggregated,
            aggregated_previous: assessment.aggregated_previous,
            sme_category: assessment.category,
            intensity_percent: assessment.intensity_percent,
            price_per_gpu_hour: price,
            aid_value: assessment.aid_value,
            rules: assessment.rules,
            refusals: assessment
                .refusals
                .iter()
                .map(|r| Finding { code: r.code().into(), field: r.field(), reason: r.message().into() })
                .collect(),
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Review {
    pub reviewer: String,
    pub score: i32,
    pub comment: String,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "crate::domain::time::utc")]
    pub created_at: NaiveDateTime,
}

/// An application with its status, reviews and (while it can still change) its assessment.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Application {
    pub id: String,
    pub call_id: String,
    pub sme_id: String,
    /// draft, submitted, under_review, awarded, active, rejected, completed or expired
    pub status: String,
    pub company: Company,
    #[schema(value_type = String, example = "12.5")]
    pub staff_awu: Decimal,
    #[schema(value_type = String)]
    pub turnover: Cents,
    #[schema(value_type = String)]
    pub balance_sheet: Cents,
    /// Figures of the closed accounting period before the latest.
    pub previous_period: Option<EnterpriseFigures>,
    pub related: Vec<Related>,
    #[schema(value_type = String)]
    pub de_minimis_received: Cents,
    pub declarations: Declarations,
    /// The Art. 25(6)(b) bonus claimed, if any.
    pub bonus: Option<BonusClaim>,
    /// Other State aid for the same eligible costs.
    #[schema(value_type = String)]
    pub other_aid_same_costs: Cents,
    /// The enterprise comes from the SME's profile (a draft follows it until submitted).
    pub from_profile: bool,
    pub project_title: String,
    pub summary: String,
    #[schema(value_type = String, example = "10000.000")]
    pub requested_gpu_hours: GpuHours,
    pub facility_id: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub sme_category: SmeCategory,
    pub reviews: Vec<Review>,
    pub award_id: Option<String>,
    pub rejection_reason: Option<String>,
    /// When the draft was first saved.
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "crate::domain::time::utc")]
    pub created_at: NaiveDateTime,
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(serialize_with = "crate::domain::time::utc_option")]
    pub submitted_at: Option<NaiveDateTime>,
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(serialize_with = "crate::domain::time::utc_option")]
    pub decided_at: Option<NaiveDateTime>,
    /// Present for drafts and applications awaiting a decision.
    pub assessment: Option<AssessmentView>,
}

/// De minimis aid granted here to any of `keys` (members of a single undertaking): every de
/// minimis award whose beneficiary's single undertaking, as recorded at award, holds one of them.
pub fn de_minimis_granted(conn: &mut DbConnection, keys: &[String]) -> AppResult<Vec<GrantedAid>> {
    let award_ids = award_undertakings::table
        .filter(award_undertakings::undertaking_key.eq_any(keys))
        .select(award_undertakings::award_id)
        .distinct();
    let rows: Vec<(NaiveDate, i64, String, String, i64, String)> = grant_awards::table
        .inner_join(grant_applications::table.on(grant_applications::id.eq(grant_awards::application_id)))
        .filter(grant_awards::id.eq_any(award_ids))
        .filter(grant_awards::aid_basis.eq(AidBasis::DeMinimis.as_str()))
        // Awards grow with every call: a plan cached while the table was small scans it all.
        .filter(super::planned_each_time())
        .order((grant_awards::award_date.asc(), grant_awards::id.asc()))
        .select((
            grant_awards::award_date,
            grant_awards::aid_value_cents,
            grant_awards::legal_name,
            grant_awards::undertaking_key,
            grant_applications::declared_de_minimis_cents,
            grant_applications::related_json,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(date, cents, beneficiary, beneficiary_key, declared, related_json)| {
            let related: Vec<Related> = serde_json::from_str(&related_json).map_err(|_| {
                AppError::internal(format!("an award of {beneficiary} has malformed related enterprises"))
            })?;
            let linked_keys = linked_members(&related).into_iter().map(|m| m.key).collect();
            // Only amounts the application declared: a linked enterprise left blank says nothing.
            let declared_for: Vec<Related> = related.into_iter().filter(|r| r.de_minimis_received.is_some()).collect();
            let linked_declared = linked_members(&declared_for);
            Ok(GrantedAid {
                date,
                amount: Cents::new(cents),
                beneficiary,
                beneficiary_key,
                beneficiary_declared: Cents::new(declared),
                linked_declared,
                linked_keys,
            })
        })
        .collect()
}

/// Rounds in which a single undertaking takes in the members its awards recorded; a chain of
/// enterprises linked one to the next that is longer is cut there.
pub const UNDERTAKING_ROUNDS_MAX: usize = 16;

/// The de minimis aid that counts for an application's single undertaking: its members, then
/// every enterprise an award here recorded with one of them (linked through it, Art. 2(2) of
/// Regulation 2023/2831), and so on until no new one is found.
pub fn granted_to_undertaking(conn: &mut DbConnection, facts: &ApplicationFacts) -> AppResult<Vec<GrantedAid>> {
    let mut keys: std::collections::BTreeSet<String> = single_undertaking(facts).into_iter().map(|m| m.key).collect();
    for _ in 0..UNDERTAKING_ROUNDS_MAX {
        let known: Vec<&String> = keys.iter().collect();
        // Both lists grow with the awards: planned for their values, as every lookup by a list.
        let sharing: Vec<String> = award_undertakings::table
            .filter(award_undertakings::undertaking_key.eq_any(known))
            .filter(super::planned_each_time())
            .select(award_undertakings::award_id)
            .distinct()
            .load(conn)?;
        let reached: Vec<String> = award_undertakings::table
            .filter(award_undertakings::award_id.eq_any(&sharing))
            .filter(super::planned_each_time())
            .select(award_undertakings::undertaking_key)
            .distinct()
            .load(conn)?;
        let before = keys.len();
        keys.extend(reached);
        if keys.len() == before {
            break;
        }
    }
    let keys: Vec<String> = keys.into_iter().collect();
    de_minimis_granted(conn, &keys)
}

/// Assesses an application's content under its call now, with today's price.
fn assess_input(
    conn: &mut DbConnection,
    call: &CallRow,
    input: &ApplicationInput,
    now: NaiveDateTime,
) -> AppResult<(Assessment, Option<Cents>)> {
    let terms = call.terms(call_facilities(conn, &call.id)?)?;
    let price = price_on(conn, &input.project.facility_id, now.date()).ok().map(|p| p.price_per_gpu_hour);
    let facts = input.facts();
    let granted = granted_to_undertaking(conn, &facts)?;
    let assessment = assess(&terms, &facts, now, price, &granted)?;
    Ok((assessment, price))
}

fn row_from_input(
    id: String,
    call_id: &str,
    sme_id: &str,
    input: &ApplicationInput,
    category: SmeCategory,
) -> AppResult<ApplicationRow> {
    let now = now_micros();
    let enterprise = &input.enterprise;
    let company = &enterprise.company;
    let extra = StateAidFacts {
        nace_code: company.nace_code.clone(),
        nuts2_region: company.nuts2_region.clone(),
        previous_period: enterprise.previous_period,
        declarations: enterprise.declarations,
        bonus: input.project.bonus,
        other_aid_same_costs: input.project.other_aid_same_costs,
    };
    let project = &input.project;
    Ok(ApplicationRow {
        id,
        call_id: call_id.into(),
        sme_id: sme_id.into(),
        status: ApplicationStatus::Draft.as_str().into(),
        legal_name: company.legal_name.clone(),
        registration_number: company.registration_number.clone(),
        country: company.country.clone(),
        undertaking_key: undertaking_key(&company.country, &company.registration_number),
        staff_awu: enterprise.figures.staff_awu.normalize().to_string(),
        turnover_cents: enterprise.figures.turnover.get(),
        balance_sheet_cents: enterprise.figures.balance_sheet.get(),
        related_json: serde_json::to_string(&enterprise.related).map_err(AppError::internal)?,
        declared_de_minimis_cents: enterprise.de_minimis_received.get(),
        project_title: project.project_title.clone(),
        summary: project.summary.clone(),
        requested_milli_hours: project.requested.milli(),
        facility_id: project.facility_id.clone(),
        start_date: project.start_date,
        end_date: project.end_date,
        sme_category: category.as_str().into(),
        rejection_reason: None,
        created_at: now,
        updated_at: now,
        submitted_at: None,
        decided_at: None,
        decided_by: None,
        state_aid_json: serde_json::to_string(&extra).map_err(AppError::internal)?,
        from_profile: input.from_profile,
    })
}

/// Saves a draft application of `sme_id` to a call.
pub fn create_application(
    conn: &mut DbConnection,
    call_id: &str,
    sme_id: &str,
    request: ApplicationRequestInput,
) -> AppResult<Application> {
    let call = call_row(conn, call_id)?;
    let input = ApplicationInput::resolve(conn, sme_id, request)?;
    get_facility(conn, &input.project.facility_id)
        .map_err(|_| AppError::rule_on("unknown-facility", "facility_id", "no such facility"))?;
    let (assessment, _) = assess_input(conn, &call, &input, now_micros())?;
    let row = row_from_input(new_id(), call_id, sme_id, &input, assessment.category)?;
    diesel::insert_into(grant_applications::table).values(&row).execute(conn)?;
    get_application(conn, &row.id)
}

/// Replaces a draft's content. Only drafts change; a submitted application is final.
pub fn update_draft(conn: &mut DbConnection, id: &str, request: ApplicationRequestInput) -> AppResult<Application> {
    let current = application_row(conn, id)?;
    if current.status()? != ApplicationStatus::Draft {
        return Err(AppError::rule(
            "not-a-draft",
            Message::new("msg-not-a-draft-change").word("status", "status", &current.status),
        ));
    }
    let input = ApplicationInput::resolve(conn, &current.sme_id, request)?;
    rewrite_draft(conn, current, &input)
}

/// Stores a draft's new content with its category as assessed now.
fn rewrite_draft(conn: &mut DbConnection, current: ApplicationRow, input: &ApplicationInput) -> AppResult<Application> {
    let id = current.id.clone();
    get_facility(conn, &input.project.facility_id)
        .map_err(|_| AppError::rule_on("unknown-facility", "facility_id", "no such facility"))?;
    let call = call_row(conn, &current.call_id)?;
    let (assessment, _) = assess_input(conn, &call, input, now_micros())?;
    let row = ApplicationRow {
        created_at: current.created_at,
        ..row_from_input(current.id.clone(), &current.call_id, &current.sme_id, input, assessment.category)?
    };
    diesel::update(grant_applications::table.find(&id)).set(&row).execute(conn)?;
    get_application(conn, &id)
}

/// Drafts that follow an SME's profile take its new content (and are assessed again).
pub fn follow_profile(conn: &mut DbConnection, sme_id: &str, enterprise: &Enterprise) -> AppResult<usize> {
    let drafts: Vec<ApplicationRow> = grant_applications::table
        .filter(grant_applications::sme_id.eq(sme_id))
        .filter(grant_applications::status.eq(ApplicationStatus::Draft.as_str()))
        .filter(grant_applications::from_profile.eq(true))
        .select(ApplicationRow::as_select())
        .load(conn)?;
    let count = drafts.len();
    for draft in drafts {
        let input = ApplicationInput { enterprise: enterprise.clone(), ..draft.input()? };
        rewrite_draft(conn, draft, &input)?;
    }
    Ok(count)
}

/// Submits a draft: refused, with every reason and its figures, unless it is eligible now.
pub fn submit(conn: &mut DbConnection, id: &str) -> AppResult<Application> {
    let row = application_row(conn, id)?;
    let status = row.status()?;
    if !status.may_become(ApplicationStatus::Submitted) {
        return Err(AppError::rule(
            "not-a-draft",
            Message::new("msg-not-a-draft-submit").word("status", "status", &row.status),
        ));
    }
    let call = call_row(conn, &row.call_id)?;
    let now = now_micros();
    let (assessment, _) = assess_input(conn, &call, &row.input()?, now)?;
    if let Some(first) = assessment.refusals.first() {
        let errors = assessment.refusals.iter().map(|r| FieldError::message(r.field(), r.message())).collect();
        return Err(AppError::Rule { code: first.code(), detail: first.message().into(), errors });
    }
    diesel::update(grant_applications::table.find(id))
        .set((
            grant_applications::status.eq(ApplicationStatus::Submitted.as_str()),
            grant_applications::sme_category.eq(assessment.category.as_str()),
            grant_applications::submitted_at.eq(Some(now)),
            grant_applications::updated_at.eq(now),
        ))
        .execute(conn)?;
    get_application(conn, id)
}

pub fn application_row(conn: &mut DbConnection, id: &str) -> AppResult<ApplicationRow> {
    grant_applications::table
        .find(id)
        .select(ApplicationRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found(format!("application {id}")))
}

pub fn reviews_of(conn: &mut DbConnection, id: &str) -> AppResult<Vec<Review>> {
    let rows: Vec<(String, i32, String, NaiveDateTime)> = grant_reviews::table
        .filter(grant_reviews::application_id.eq(id))
        .order(grant_reviews::created_at.asc())
        .select((grant_reviews::reviewer, grant_reviews::score, grant_reviews::comment, grant_reviews::created_at))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(reviewer, score, comment, created_at)| Review { reviewer, score, comment, created_at })
        .collect())
}

/// An application's view; `award_id` is looked up unless the caller already knows it.
fn to_application(
    conn: &mut DbConnection,
    row: ApplicationRow,
    with_details: bool,
    known_award: Option<Option<String>>,
) -> AppResult<Application> {
    let status = row.status()?;
    let input = row.input()?;
    let now = now_micros();
    let undecided =
        matches!(status, ApplicationStatus::Draft | ApplicationStatus::Submitted | ApplicationStatus::UnderReview);
    let assessment = if with_details && undecided {
        let call = call_row(conn, &row.call_id)?;
        let (assessment, price) = assess_input(conn, &call, &input, now)?;
        Some(AssessmentView::new(assessment, price))
    } else {
        None
    };
    let reviews = if with_details { reviews_of(conn, &row.id)? } else { Vec::new() };
    let award_id = match known_award {
        Some(known) => known,
        None => grant_awards::table
            .filter(grant_awards::application_id.eq(&row.id))
            .select(grant_awards::id)
            .first::<String>(conn)
            .optional()?,
    };
    Ok(Application {
        status: status.shown(row.start_date, now.date()).into(),
        sme_category: row.category()?,
        id: row.id,
        call_id: row.call_id,
        sme_id: row.sme_id,
        company: input.enterprise.company,
        staff_awu: input.enterprise.figures.staff_awu,
        turnover: input.enterprise.figures.turnover,
        balance_sheet: input.enterprise.figures.balance_sheet,
        previous_period: input.enterprise.previous_period,
        related: input.enterprise.related,
        de_minimis_received: input.enterprise.de_minimis_received,
        declarations: input.enterprise.declarations,
        bonus: input.project.bonus,
        other_aid_same_costs: input.project.other_aid_same_costs,
        from_profile: input.from_profile,
        project_title: input.project.project_title,
        summary: input.project.summary,
        requested_gpu_hours: input.project.requested,
        facility_id: input.project.facility_id,
        start_date: input.project.start_date,
        end_date: input.project.end_date,
        reviews,
        award_id,
        rejection_reason: row.rejection_reason,
        created_at: row.created_at,
        submitted_at: row.submitted_at,
        decided_at: row.decided_at,
        assessment,
    })
}

impl Application {
    /// The enterprise the application states.
    pub fn enterprise(&self) -> Enterprise {
        Enterprise {
            company: self.company.clone(),
            figures: EnterpriseFigures {
                staff_awu: self.staff_awu,
                turnover: self.turnover,
                balance_sheet: self.balance_sheet,
            },
            previous_period: self.previous_period,
            related: self.related.clone(),
            de_minimis_received: self.de_minimis_received,
            declarations: self.declarations,
        }
    }
}

pub fn get_application(conn: &mut DbConnection, id: &str) -> AppResult<Application> {
    let row = application_row(conn, id)?;
    to_application(conn, row, true, None)
}

/// Largest page of applications a list returns.
pub const APPLICATIONS_PAGE_MAX: i64 = 500;

#[derive(Clone, Debug, Default)]
pub struct ApplicationFilter {
    pub call_id: Option<String>,
    pub sme_id: Option<String>,
    pub status: Option<String>,
    pub after: Option<String>,
}

/// Applications in id order (oldest first), without reviews or assessment.
pub fn list_applications(
    conn: &mut DbConnection,
    filter: &ApplicationFilter,
    limit: i64,
) -> AppResult<Vec<Application>> {
    let mut query = grant_applications::table.into_boxed();
    if let Some(call) = &filter.call_id {
        query = query.filter(grant_applications::call_id.eq(call.clone()));
    }
    if let Some(sme) = &filter.sme_id {
        query = query.filter(grant_applications::sme_id.eq(sme.clone()));
    }
    if let Some(status) = &filter.status {
        query = query.filter(grant_applications::status.eq(status.clone()));
    }
    if let Some(after) = &filter.after {
        query = query.filter(grant_applications::id.gt(after.clone()));
    }
    let rows: Vec<ApplicationRow> = query
        .order(grant_applications::id.asc())
        // One row beyond the largest page tells a list that more follow.
        .limit(limit.clamp(1, APPLICATIONS_PAGE_MAX + 1))
        .select(ApplicationRow::as_select())
        .load(conn)?;
    // One query for the page's awards, not one per application.
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let mut awards: HashMap<String, String> = grant_awards::table
        .filter(grant_awards::application_id.eq_any(&ids))
        .filter(super::planned_each_time())
        .select((grant_awards::application_id, grant_awards::id))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    rows.into_iter()
        .map(|row| {
            let award = awards.remove(&row.id);
            to_application(conn, row, false, Some(award))
        })
        .collect()
}

/// A reviewer's score (0 to 100) and comment. One review per reviewer; the first review moves
/// a submitted application under review.
pub fn add_review(
    conn: &mut DbConnection,
    id: &str,
    reviewer: &str,
    score: i32,
    comment: &str,
) -> AppResult<Application> {
    let row = application_row(conn, id)?;
    let status = row.status()?;
    if !matches!(status, ApplicationStatus::Submitted | ApplicationStatus::UnderReview) {
        return Err(AppError::rule(
            "not-under-review",
            Message::new("msg-not-submitted-review").word("status", "status", &row.status),
        ));
    }
    if !(0..=SCORE_MAX).contains(&score) {
        return Err(AppError::invalid("score", Message::new("msg-score-range").count("max", SCORE_MAX)));
    }
    let reviewed: i64 = grant_reviews::table
        .filter(grant_reviews::application_id.eq(id))
        .filter(grant_reviews::reviewer.eq(reviewer))
        .count()
        .get_result(conn)?;
    if reviewed > 0 {
        return Err(AppError::conflict(
            "already-reviewed",
            Message::new("msg-already-reviewed").text("reviewer", reviewer),
        ));
    }
    diesel::insert_into(grant_reviews::table)
        .values((
            grant_reviews::application_id.eq(id),
            grant_reviews::reviewer.eq(reviewer),
            grant_reviews::score.eq(score),
            grant_reviews::comment.eq(comment),
            grant_reviews::created_at.eq(now_micros()),
        ))
        .execute(conn)?;
    if status == ApplicationStatus::Submitted {
        diesel::update(grant_applications::table.find(id))
            .set(grant_applications::status.eq(ApplicationStatus::UnderReview.as_str()))
            .execute(conn)?;
    }
    get_application(conn, id)
}

/// Rejects an application that awaits a decision, with the reason the SME will read.
pub fn reject(conn: &mut DbConnection, id: &str, reason: &str, actor: &str) -> AppResult<Application> {
    let row = application_row(conn, id)?;
    if !row.status()?.may_become(ApplicationStatus::Rejected) {
        return Err(AppError::rule(
            "not-under-review",
            Message::new("msg-not-submitted-decide").word("status", "status", &row.status),
        ));
    }
    let now = now_micros();
    diesel::update(grant_applications::table.find(id))
        .set((
            grant_applications::status.eq(ApplicationStatus::Rejected.as_str()),
            grant_applications::rejection_reason.eq(Some(reason)),
            grant_applications::decided_at.eq(Some(now)),
            grant_applications::decided_by.eq(Some(actor)),
            grant_applications::updated_at.eq(now),
        ))
        .execute(conn)?;
    get_application(conn, id)
}
