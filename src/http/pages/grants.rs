//! Compute-grant pages: staff open calls, review, award and reject; SMEs apply (seeing their
//! category and aid value before they submit) and follow their applications and hours.

use crate::i18n::{phrase, verbatim, Lang};
use actix_web::{get, post, web, HttpRequest};
use serde_json::Value;

use super::enterprise::{drop_empty_groups, enterprise_fields, enterprise_values, rules_table};
use super::forms::{Field, FieldKind, FormData, FormSpec};
use super::view::{eur, fact, gpu_hours, link, Card, Cell, Page, Section, Table};
use super::{
    done, form_page, id_of, list_page_rows, next_page_link, posted, refused, render, submit, Done, FormPage, ListQuery,
    PageError, PageResult, Session,
};
use crate::domain::roles::Role;
use crate::error::{AppError, FieldError};
use crate::http::api::grants as api;
use crate::http::extract::{parse_id, ValidJson};
use crate::http::AppState;
use crate::storage::awards::{self, AwardFilter};
use crate::storage::grants::{self, Application, ApplicationFilter, GrantCall};
use crate::storage::proposals::Operation;
use crate::storage::register;
use crate::storage::structure;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(calls_page)
        .service(new_call_form)
        .service(new_call_post)
        .service(call_page)
        .service(apply_form)
        .service(apply_post)
        .service(review_queue)
        .service(applications_page)
        .service(application_page)
        .service(edit_post)
        .service(submit_post)
        .service(decision_post);
}

/// Statuses of applications waiting for staff to review and decide.
const AWAITING_DECISION: [&str; 2] = ["submitted", "under_review"];
/// Applications a list page shows at most.
const APPLICATIONS_SHOWN_MAX: i64 = 500;
fn call_table(calls: &[GrantCall], role: Role) -> Table {
    let mut table =
        Table::new("Grant calls", &["Grant call", "Opens", "Closes", "Aid basis", "#Budget", "#Remaining", "Status"]);
    for call in calls {
        let status = if call.open { "open" } else { "closed" };
        let name = match role {
            Role::Sme if call.open => {
                Cell::link(format!("{} (apply)", call.name), format!("/grant-calls/{}/apply", call.id))
            }
            Role::Sme => Cell::text(call.name.clone()),
            _ => Cell::link(call.name.clone(), format!("/grant-calls/{}", call.id)),
        };
        table.row(vec![
            name,
            Cell::text(call.opens_at.format("%Y-%m-%d %H:%M UTC").to_string()),
            Cell::text(call.closes_at.format("%Y-%m-%d %H:%M UTC").to_string()),
            Cell::text(super::view::words("basis", call.aid_basis.as_str())),
            Cell::money(call.budget),
            Cell::money(call.remaining),
            Cell::text(status),
        ]);
    }
    table
}

#[get("/grant-calls")]
async fn calls_page(state: web::Data<AppState>, req: HttpRequest, session: Session) -> PageResult {
    session.require(&[Role::Staff, Role::Auditor, Role::Admin, Role::Sme])?;
    let (calls, aid) = state.db(|conn| Ok((grants::list_calls(conn)?, register::aid_granted(conn, None)?))).await?;
    let mut card = Card::new("Grant calls").with(Section::Table(call_table(&calls, session.principal.role)));
    if session.principal.role == Role::Staff {
        card = card.with(Section::Links(vec![link("Open a grant call", "/grant-calls/new")]));
    }
    let mut page =
        Page::new(session.layout(req.path()), "Compute-grant calls").flash(Done::from_query(&req)).card(card);
    if session.principal.role != Role::Sme {
        page = page.card(super::state_aid::aid_granted_card(&aid));
    }
    render(&page)
}

async fn call_spec(state: &AppState, session: &Session) -> PageResult<FormSpec> {
    let (funds, facilities) =
        state.db(|conn| Ok((crate::storage::funds::list_funds(conn)?, structure::list_facilities(conn)?))).await?;
    let bases = ["de_minimis", "industrial_research", "experimental_development"];
    Ok(FormSpec::new(
        "/grant-calls/new",
        "Check",
        &session.csrf_token,
        vec![
            Field::new("fund_id", "Fund whose compute-grant pool funds the call", FieldKind::Select)
                .options(funds.iter().map(|f| (f.id.clone(), f.name.clone())).collect()),
            Field::new("name", "Name", FieldKind::Text),
            Field::new("budget", "Budget (EUR)", FieldKind::Money)
                .hint("Reserved from the pool; refused above what it holds."),
            Field::new("opens_at", "Opens (UTC)", FieldKind::DateTime),
            Field::new("closes_at", "Closes (UTC)", FieldKind::DateTime),
            Field::new("eligible_facility_ids", "Eligible facilities", FieldKind::MultiSelect).options(
                facilities.iter().map(|f| (f.id.clone(), format!("{} ({})", f.name, f.member_state))).collect(),
            ),
            Field::new("max_gpu_hours_per_award", "Largest award (GPU-hours)", FieldKind::Decimal),
            Field::new("aid_basis", "Aid basis", FieldKind::Select)
                .options(bases.iter().map(|b| (b.to_string(), super::view::words("basis", b))).collect()),
            Field::new("aid_measure_reference", "Aid measure reference (SA number)", FieldKind::Text)
                .optional()
                .hint("SA. and five or six digits; required for GBER bases."),
            Field::new("granting_authority", "Granting authority", FieldKind::Text)
                .optional()
                .hint("As the transparency register names it; the fund's name when left empty."),
            Field::new(
                "bonus_allowed",
                "Allow the GBER Art. 25(6)(b) collaboration or dissemination bonus",
                FieldKind::Checkbox,
            ),
            Field::new("min_reviewers", "Reviews needed", FieldKind::Integer).value("2"),
            Field::new("min_average_score", "Lowest average score (0 to 100)", FieldKind::Decimal).value("60"),
        ],
    ))
}

#[get("/grant-calls/new")]
async fn new_call_form(state: web::Data<AppState>, req: HttpRequest, session: Session) -> PageResult {
    session.require(&[Role::Staff])?;
    let form = call_spec(&state, &session).await?;
    render(&form_page(&session, req.path(), "Open a grant call", vec![], form))
}

#[post("/grant-calls/new")]
async fn new_call_post(state: web::Data<AppState>, req: HttpRequest, session: Session, body: web::Bytes) -> PageResult {
    session.require(&[Role::Staff])?;
    let form_data = session.read_form(&state, &body)?;
    let form = call_spec(&state, &session).await?;
    let page = FormPage { session: &session, req: &req, title: "Open a grant call", context: vec![] };
    let dry_run = |input: api::NewGrantCallRequest| {
        let (state, actor) = (state.clone(), session.principal.actor());
        async move {
            let new = input.validate(actor)?;
            state
                .db(move |conn| {
                    crate::storage::write_tx(conn, |c| {
                        crate::storage::proposals::would_post(c, |c| grants::create_call(c, new.clone()))
                    })
                })
                .await
        }
    };
    let call = |body, key| api::create_call(state.clone(), req.clone(), session.principal.clone(), key, body);
    let next = |json: &Value| format!("/grant-calls/{}", id_of(json));
    page.check_then_post(&form_data, form, "Open call", dry_run, call, next, Done::GrantCall).await
}

fn application_table(caption: &str, applications: &[Application]) -> Table {
    let mut table = Table::new(caption, &["Project", "Applicant", "Category", "#GPU-hours", "Status"]);
    for a in applications {
        table.row(vec![
            Cell::link(a.project_title.clone(), format!("/applications/{}", a.id)),
            Cell::text(a.company.legal_name.clone()),
            Cell::text(super::view::words("category", a.sme_category.as_str())),
            Cell::hours(a.requested_gpu_hours),
            Cell::text(super::view::words("status", &a.status)),
        ]);
    }
    table
}

#[get("/grant-calls/{call_id}")]
async fn call_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
) -> PageResult {
    session.require(&[Role::Staff, Role::Auditor, Role::Admin])?;
    let call_id = parse_id("call_id", &path)?;
    let id = call_id.clone();
    let (summary, applications) = state
        .db(move |conn| {
            let summary = awards::call_summary(conn, &id)?;
            let filter = ApplicationFilter { call_id: Some(id.clone()), ..Default::default() };
            Ok((summary, grants::list_applications(conn, &filter, APPLICATIONS_SHOWN_MAX)?))
        })
        .await?;
    let call = &summary.call;
    let page = Page::new(session.layout(req.path()), verbatim(call.name.clone()))
        .flash(Done::from_query(&req))
        .card(Card::new("Grant call").with(Section::Facts(vec![
            fact("Budget", eur(call.budget)),
            fact("Committed to awards", eur(call.committed)),
            fact("Remaining", eur(call.remaining)),
            fact("Opens", call.opens_at.format("%Y-%m-%d %H:%M UTC").to_string()),
            fact("Closes", call.closes_at.format("%Y-%m-%d %H:%M UTC").to_string()),
            fact("Aid basis", super::view::words("basis", call.aid_basis.as_str())),
            fact("Largest award", format!("{} GPU-hours", gpu_hours(call.max_gpu_hours_per_award))),
            fact("Reviews needed", call.min_reviewers.to_string()),
            fact("Lowest average score", call.min_average_score.to_string()),
            fact("Awards", summary.awards.to_string()),
            fact("GPU-hours awarded", gpu_hours(summary.awarded_gpu_hours)),
            fact("GPU-hours used", gpu_hours(summary.used_gpu_hours)),
            fact("Subsidy used", eur(summary.subsidy_used)),
            fact("Returned to the pool", eur(summary.returned_to_pool)),
        ])))
        .card(
            Card::new("Applications")
                .with(Section::Table(application_table("Applications to this call", &applications))),
        );
    render(&page)
}

#[get("/review")]
async fn review_queue(state: web::Data<AppState>, req: HttpRequest, session: Session) -> PageResult {
    session.require(&[Role::Staff])?;
    let applications = state
        .db(|conn| {
            let mut waiting = Vec::new();
            for status in AWAITING_DECISION {
                let filter = ApplicationFilter { status: Some(status.to_string()), ..Default::default() };
                waiting.extend(grants::list_applications(conn, &filter, APPLICATIONS_SHOWN_MAX)?);
            }
            waiting.sort_by(|a, b| a.id.cmp(&b.id));
            Ok(waiting)
        })
        .await?;
    let table = application_table("Submitted applications, oldest first", &applications)
        .empty("No application is waiting for review.");
    render(
        &Page::new(session.layout(req.path()), "Review queue")
            .card(Card::new("Waiting for review").with(Section::Table(table))),
    )
}

#[get("/applications")]
async fn applications_page(state: web::Data<AppState>, req: HttpRequest, session: Session) -> PageResult {
    session.require(&[Role::Sme, Role::Staff, Role::Auditor, Role::Admin])?;
    let sme = session.principal.party_scope().map(str::to_string);
    let applications = state
        .db(move |conn| {
            let filter = ApplicationFilter { sme_id: sme, ..Default::default() };
            grants::list_applications(conn, &filter, APPLICATIONS_SHOWN_MAX)
        })
        .await?;
    let table = application_table("Applications", &applications);
    render(
        &Page::new(session.layout(req.path()), "Applications")
            .card(Card::new("Applications").with(Section::Table(table))),
    )
}

// ---- SME: apply, edit, submit --------------------------------------------------------

/// The application form: the enterprise's fields unless it comes from the SME's profile, then
/// the project's.
async fn application_spec(
    state: &AppState,
    session: &Session,
    call_id: &str,
    action: String,
    with_enterprise: bool,
) -> PageResult<FormSpec> {
    let id = call_id.to_string();
    let (call, facilities) =
        state.db(move |conn| Ok((grants::get_call(conn, &id)?, structure::list_facilities(conn)?))).await?;
    let eligible: Vec<(String, String)> = facilities
        .iter()
        .filter(|f| call.eligible_facility_ids.contains(&f.id))
        .map(|f| (f.id.clone(), format!("{} ({})", f.name, f.member_state)))
        .collect();
    let mut fields = if with_enterprise { enterprise_fields("") } else { Vec::new() };
    if call.bonus_allowed {
        fields.push(Field::new("bonus", "GBER Art. 25(6)(b) bonus claimed", FieldKind::Select).optional().options(
            vec![
                ("collaboration".into(), "effective collaboration (with an SME or a research organisation)".into()),
                ("dissemination".into(), "wide dissemination of the results".into()),
            ],
        ));
    }
    if call.aid_basis.is_gber() {
        fields.push(
            Field::new("other_aid_same_costs", "Other State aid for the same costs (EUR)", FieldKind::Money)
                .optional()
                .hint("Aid for the same GPU-hours from another source; this award's intensity is reduced so the total stays within the highest intensity."),
        );
    }
    fields.extend([
        Field::new("project_title", "Project title", FieldKind::Text),
        Field::new("summary", "Project summary", FieldKind::TextArea),
        Field::new("requested_gpu_hours", "GPU-hours requested", FieldKind::Decimal).hint(phrase(
            "page-hours-at-most",
            &[("hours", Lang::current().value(&gpu_hours(call.max_gpu_hours_per_award)))],
        )),
        Field::new("facility_id", "Facility", FieldKind::Select).options(eligible),
        Field::new("start_date", "Start date", FieldKind::Date),
        Field::new("end_date", "End date", FieldKind::Date),
    ]);
    Ok(FormSpec::new(action, "Save draft and check", &session.csrf_token, fields))
}

/// Whether the signed-in SME has a company profile.
async fn has_profile(state: &AppState, session: &Session) -> PageResult<bool> {
    let sme_id = session.principal.subject.clone();
    Ok(state.db(move |conn| Ok(crate::storage::profiles::profile_enterprise(conn, &sme_id)?.is_some())).await?)
}

fn profile_note(from_profile: bool) -> Section {
    if from_profile {
        Section::Text("The company, its figures, related enterprises and declarations come from your company profile (/profile); change them there.".into())
    } else {
        Section::Text("Save a company profile (/profile) to state the company once for every application.".into())
    }
}

#[get("/grant-calls/{call_id}/apply")]
async fn apply_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
) -> PageResult {
    session.require(&[Role::Sme])?;
    let call_id = parse_id("call_id", &path)?;
    let from_profile = has_profile(&state, &session).await?;
    let form = application_spec(&state, &session, &call_id, req.path().to_string(), !from_profile).await?;
    let context = vec![
        Section::Text(
            "Saving keeps a draft and shows your SME category, the aid intensity and the aid value, and any reason the application would be refused. Nothing is sent for review until you submit.".into(),
        ),
        profile_note(from_profile),
    ];
    render(&form_page(&session, req.path(), "Apply for GPU-hours", context, form))
}

#[post("/grant-calls/{call_id}/apply")]
async fn apply_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
    body: web::Bytes,
) -> PageResult {
    session.require(&[Role::Sme])?;
    let call_id = parse_id("call_id", &path)?;
    let mut form_data = session.read_form(&state, &body)?;
    drop_empty_groups(&mut form_data);
    let from_profile = has_profile(&state, &session).await?;
    let form = application_spec(&state, &session, &call_id, req.path().to_string(), !from_profile).await?;
    let page = FormPage {
        session: &session,
        req: &req,
        title: "Apply for GPU-hours",
        context: vec![profile_note(from_profile)],
    };
    let call = |body, key| {
        let path = web::Path::from(call_id.clone());
        api::create_application(state.clone(), req.clone(), session.principal.clone(), key, path, body)
    };
    page.post(&form_data, form, call, |json| format!("/applications/{}", id_of(json)), Done::Draft).await
}

/// The draft's saved values, in the form's field names.
fn draft_values(a: &Application) -> FormData {
    let mut pairs = vec![
        ("bonus".to_string(), a.bonus.map(|b| b.as_str().to_string()).unwrap_or_default()),
        ("other_aid_same_costs".to_string(), a.other_aid_same_costs.to_string()),
        ("project_title".to_string(), a.project_title.clone()),
        ("summary".to_string(), a.summary.clone()),
        ("requested_gpu_hours".to_string(), a.requested_gpu_hours.to_string()),
        ("facility_id".to_string(), a.facility_id.clone()),
        ("start_date".to_string(), a.start_date.to_string()),
        ("end_date".to_string(), a.end_date.to_string()),
    ];
    if !a.from_profile {
        pairs.extend(enterprise_values(&a.enterprise(), ""));
    }
    FormData(pairs)
}

fn assessment_card(a: &Application) -> Card {
    let mut card = Card::new("Assessment");
    let mut facts = vec![fact("SME category", super::view::words("category", a.sme_category.as_str()))];
    if let Some(view) = &a.assessment {
        facts.push(fact("Headcount with partner and linked enterprises", view.aggregated.staff_awu.to_string()));
        facts.push(fact("Turnover with partner and linked enterprises", eur(view.aggregated.turnover)));
        facts.push(fact("Balance sheet with partner and linked enterprises", eur(view.aggregated.balance_sheet)));
        facts.push(fact(
            "Aid intensity",
            view.intensity_percent.map_or("not eligible".into(), |p| format!("{}%", p.normalize())),
        ));
        facts.push(fact("List price per GPU-hour", view.price_per_gpu_hour.map_or("unknown".into(), eur)));
        facts.push(fact("Aid value", view.aid_value.map_or("none".into(), eur)));
        card = card.with(Section::Facts(facts)).with(Section::Table(rules_table(&view.rules)));
        if view.refusals.is_empty() {
            card = card.text("No reason to refuse this application was found.");
        } else {
            for finding in &view.refusals {
                card = card.with(Section::Alert(phrase(
                    "page-would-be-refused",
                    &[
                        ("refusal", super::view::words("refusal", &finding.code)),
                        ("reason", finding.reason.in_lang(crate::i18n::Lang::current())),
                    ],
                )));
            }
        }
    } else {
        card = card.with(Section::Facts(facts));
    }
    card
}

/// The edit form of a draft, with the assessment's refusals next to the fields they name.
async fn edit_form(
    state: &AppState,
    session: &Session,
    a: &Application,
    posted: Option<&FormData>,
) -> PageResult<FormSpec> {
    let action = format!("/applications/{}/edit", a.id);
    let form = application_spec(state, session, &a.call_id, action, !a.from_profile).await?;
    let form = form.refill(posted.unwrap_or(&draft_values(a)));
    let findings: Vec<FieldError> = a
        .assessment
        .iter()
        .flat_map(|view| view.refusals.iter())
        .map(|f| FieldError { field: f.field.clone(), reason: f.reason.clone() })
        .collect();
    if findings.is_empty() || posted.is_some() {
        return Ok(form);
    }
    Ok(form.with_error(&AppError::Validation(findings)))
}

fn submit_form(session: &Session, application_id: &str) -> FormSpec {
    FormSpec::new(format!("/applications/{application_id}/submit"), "Submit application", &session.csrf_token, vec![])
}

fn reviews_table(a: &Application) -> Table {
    let mut table = Table::new("Reviews", &["Reviewer", "#Score", "Comment"]);
    for r in &a.reviews {
        table.row(vec![Cell::text(r.reviewer.clone()), Cell::num(r.score.to_string()), Cell::text(r.comment.clone())]);
    }
    table.empty("No review yet.")
}

/// The staff forms of an application; with four eyes on, award and rejection are proposed.
fn staff_forms(session: &Session, a: &Application, four_eyes: bool) -> Vec<Card> {
    let id = &a.id;
    let review = FormSpec::new(
        format!("/applications/{id}/review"),
        "Record review",
        &session.csrf_token,
        vec![
            Field::new("score", "Score (0 to 100)", FieldKind::Integer),
            Field::new("comment", "Comment", FieldKind::TextArea),
        ],
    );
    let (award_label, reject_label) =
        if four_eyes { ("Propose award", "Propose rejection") } else { ("Award", "Reject") };
    let award = FormSpec::new(
        format!("/applications/{id}/award"),
        award_label,
        &session.csrf_token,
        vec![Field::new("gpu_hours", "GPU-hours to award", FieldKind::Decimal).optional().hint(phrase(
            "page-hours-at-most-requested",
            &[("hours", Lang::current().value(&gpu_hours(a.requested_gpu_hours)))],
        ))],
    );
    let reject = FormSpec::new(
        format!("/applications/{id}/reject"),
        reject_label,
        &session.csrf_token,
        vec![Field::new("reason", "Reason (shown to the applicant)", FieldKind::TextArea)],
    );
    vec![
        Card::new("Review").with(Section::Form(review)),
        Card::new("Award").with(Section::Form(award)),
        Card::new("Reject").with(Section::Form(reject)),
    ]
}

async fn award_card(state: &AppState, award: &awards::Award) -> PageResult<Card> {
    let lang = crate::i18n::Lang::current();
    let period = [
        ("from", crate::i18n::format::date(award.start_date, lang)),
        ("to", crate::i18n::format::date(award.end_date, lang)),
    ];
    let letter = format!("/api/v1/awards/{}/letter/pdf?lang={}", award.id, lang.tag());
    let mut card = Card::new("Award")
        .with(Section::Facts(vec![
            fact("Status", super::view::words("status", &award.status)),
            fact("Period", lang.t_with("label-period-range", &period)),
            fact("GPU-hours awarded", gpu_hours(award.awarded_gpu_hours)),
            fact("GPU-hours used", gpu_hours(award.used_gpu_hours)),
            fact("GPU-hours remaining", gpu_hours(award.remaining_gpu_hours)),
            fact("Aid value", eur(award.aid_value)),
            fact("Subsidy used", eur(award.subsidy_used)),
            fact("Subsidy remaining", eur(award.subsidy_remaining)),
        ]))
        .with(Section::Links(vec![super::view::link("Award letter (PDF)", letter)]));
    for section in super::award_progress::burn_down_sections(state, award).await? {
        card = card.with(section);
    }
    Ok(card)
}

/// The application page: what was asked, the assessment, and what the viewer may do next.
async fn application_view(
    state: &AppState,
    req: &HttpRequest,
    session: &Session,
    a: &Application,
    edit: Option<FormSpec>,
    staff: Option<Vec<Card>>,
) -> PageResult<Page> {
    let mut page = Page::new(session.layout(req.path()), verbatim(a.project_title.clone()))
        .subtitle(phrase(
            "page-application-subtitle",
            &[("name", a.company.legal_name.clone()), ("status", Lang::current().name_of("status", a.status.as_str()))],
        ))
        .flash(Done::from_query(req))
        .card(
            Card::new("Application")
                .with(Section::Facts(vec![
                    fact(
                        "Applicant",
                        format!("{} ({}, {})", a.company.legal_name, a.company.registration_number, a.company.country),
                    ),
                    fact("GPU-hours requested", gpu_hours(a.requested_gpu_hours)),
                    fact("Period", format!("{} to {}", a.start_date, a.end_date)),
                    fact("Status", super::view::words("status", &a.status)),
                ]))
                .text(verbatim(a.summary.clone())),
        )
        .card(assessment_card(a));
    if let Some(reason) = &a.rejection_reason {
        page = page.card(
            Card::new("Decision")
                .with(Section::Alert(phrase("page-rejected-because", &[("reason", reason.to_string())]))),
        );
    }
    let award = match &a.award_id {
        Some(award_id) => Some(api::visible_award(state, &session.principal, award_id.clone()).await?),
        None => None,
    };
    let today = crate::http::api::capital::today();
    page = page.card(Card::new("Progress").with(Section::Table(super::award_progress::timeline(
        a,
        award.as_ref(),
        today,
    ))));
    if let Some(award) = &award {
        page = page.card(award_card(state, award).await?);
    }
    let is_draft = a.status == "draft";
    if session.principal.role == Role::Sme && is_draft {
        let edit = match edit {
            Some(form) => form,
            None => edit_form(state, session, a, None).await?,
        };
        let refused = a.assessment.as_ref().is_some_and(|view| !view.refusals.is_empty());
        let mut submit = submit_form(session, &a.id);
        if refused {
            submit = submit.blocked(
                "Submitting opens once the draft shows no reason to refuse: change the fields marked below and save.",
            );
        }
        page = page
            .card(
                Card::new("Submit")
                    .text("Submit when the assessment shows no reason to refuse.")
                    .with(Section::Form(submit)),
            )
            .card(Card::new("Edit the draft").with(Section::Form(edit)));
    }
    if session.principal.role != Role::Sme {
        page = page.card(Card::new("Reviews").with(Section::Table(reviews_table(a))));
    }
    if session.principal.role == Role::Staff && AWAITING_DECISION.contains(&a.status.as_str()) {
        for card in staff.unwrap_or_else(|| staff_forms(session, a, state.settings.four_eyes)) {
            page = page.card(card);
        }
    }
    Ok(page)
}

async fn load_application(state: &AppState, session: &Session, id: &str) -> PageResult<Application> {
    Ok(api::visible_application(state, &session.principal, id.to_string()).await?)
}

#[get("/applications/{application_id}")]
async fn application_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
) -> PageResult {
    session.require(&[Role::Sme, Role::Staff, Role::Auditor, Role::Admin])?;
    let id = parse_id("application_id", &path)?;
    let a = load_application(&state, &session, &id).await?;
    render(&application_view(&state, &req, &session, &a, None, None).await?)
}

#[post("/applications/{application_id}/edit")]
async fn edit_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
    body: web::Bytes,
) -> PageResult {
    session.require(&[Role::Sme])?;
    let id = parse_id("application_id", &path)?;
    let mut form_data = session.read_form(&state, &body)?;
    drop_empty_groups(&mut form_data);
    let a = load_application(&state, &session, &id).await?;
    let form = edit_form(&state, &session, &a, Some(&form_data)).await?;
    let outcome = submit(&form_data, form, |body, _key| {
        api::update_application(state.clone(), session.principal.clone(), web::Path::from(id.clone()), body)
    })
    .await;
    match outcome {
        Ok(_) => done(&format!("/applications/{id}"), Done::Draft),
        Err((form, status)) => refused(application_view(&state, &req, &session, &a, Some(form), None).await?, status),
    }
}

#[post("/applications/{application_id}/submit")]
async fn submit_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
    body: web::Bytes,
) -> PageResult {
    session.require(&[Role::Sme])?;
    let id = parse_id("application_id", &path)?;
    let form = session.read_form(&state, &body)?;
    let submitted = api::submit_application(
        state.clone(),
        req.clone(),
        session.principal.clone(),
        form.idempotency_key(),
        web::Path::from(id.clone()),
    )
    .await;
    match submitted {
        Ok(_) => done(&format!("/applications/{id}"), Done::Submitted),
        Err(error) if error.status() < 500 && error.status() != 404 => {
            let a = load_application(&state, &session, &id).await?;
            let page = application_view(&state, &req, &session, &a, None, None).await?;
            let page = Page { flash: Some(format!("Not submitted: {}", super::forms::error_text(&error))), ..page };
            refused(page, actix_web::ResponseError::status_code(&error))
        }
        Err(error) => Err(PageError::from(error)),
    }
}

/// The staff forms of an application page, in the order `staff_forms` lays them out.
#[derive(Clone, Copy)]
enum Decision {
    Review,
    Award,
    Rejection,
}

impl Decision {
    /// The last segment of the form's action.
    fn parse(segment: &str) -> Option<Decision> {
        match segment {
            "review" => Some(Decision::Review),
            "award" => Some(Decision::Award),
            "reject" => Some(Decision::Rejection),
            _ => None,
        }
    }

    fn card(self) -> usize {
        match self {
            Decision::Review => 0,
            Decision::Award => 1,
            Decision::Rejection => 2,
        }
    }

    fn done(self) -> Done {
        match self {
            Decision::Review => Done::Review,
            Decision::Award => Done::Award,
            Decision::Rejection => Done::Rejection,
        }
    }
}

/// Runs one of the staff decisions (review, award, rejection) posted from the application page.
async fn staff_decision<T, F, Fut>(
    (state, req, session): (&web::Data<AppState>, &HttpRequest, &Session),
    (id, body): (&str, &web::Bytes),
    decision: Decision,
    call: F,
) -> PageResult
where
    T: serde::de::DeserializeOwned,
    F: FnOnce(crate::http::extract::ValidJson<T>, crate::http::extract::IdempotencyKey) -> Fut,
    Fut: std::future::Future<Output = crate::error::AppResult<actix_web::HttpResponse>>,
{
    session.require(&[Role::Staff])?;
    let form_data = posted(body)?;
    session.check(state, &form_data)?;
    let a = load_application(state, session, id).await?;
    let four_eyes = state.settings.four_eyes && !matches!(decision, Decision::Review);
    let mut cards = staff_forms(session, &a, state.settings.four_eyes);
    let which = decision.card();
    let form = match std::mem::replace(&mut cards[which].sections[0], Section::Text(String::new())) {
        Section::Form(form) => form,
        _ => return Err(AppError::internal("staff form missing").into()),
    };
    match submit(&form_data, form, call).await {
        Ok(_) if four_eyes => done(&format!("/applications/{id}"), Done::Proposed),
        Ok(_) => done(&format!("/applications/{id}"), decision.done()),
        Err((form, status)) => {
            cards[which].sections[0] = Section::Form(form);
            refused(application_view(state, req, session, &a, None, Some(cards)).await?, status)
        }
    }
}

/// The staff decisions posted from an application page: `review`, `award` or `reject`.
/// Registered after `edit` and `submit`, which the same path shape would otherwise catch.
#[post("/applications/{application_id}/{decision}")]
async fn decision_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> PageResult {
    let (id, decision) = path.into_inner();
    let id = parse_id("application_id", &id)?;
    let decision = Decision::parse(&decision).ok_or_else(|| AppError::not_found(format!("page {}", req.path())))?;
    let (s, r, p, i) = (state.clone(), req.clone(), session.principal.clone(), web::Path::from(id.clone()));
    let page = (&state, &req, &session);
    match decision {
        Decision::Review => {
            staff_decision(page, (&id, &body), decision, move |b, k| api::review_application(s, r, p, k, i, b)).await
        }
        Decision::Award if state.settings.four_eyes => {
            let (state2, session2) = (state.clone(), &session);
            staff_decision(page, (&id, &body), decision, move |b: ValidJson<api::AwardRequest>, k| async move {
                let operation = Operation::GrantAward { application_id: i.into_inner(), gpu_hours: b.value.gpu_hours };
                super::proposals::propose(&state2, &r, session2, k, operation).await
            })
            .await
        }
        Decision::Rejection if state.settings.four_eyes => {
            let (state2, session2) = (state.clone(), &session);
            staff_decision(page, (&id, &body), decision, move |b: ValidJson<api::RejectionRequest>, k| async move {
                let operation = Operation::GrantRejection { application_id: i.into_inner(), reason: b.value.reason };
                super::proposals::propose(&state2, &r, session2, k, operation).await
            })
            .await
        }
        Decision::Award => {
            staff_decision(page, (&id, &body), decision, move |b, k| api::award_application(s, r, p, k, i, b)).await
        }
        Decision::Rejection => {
            staff_decision(page, (&id, &body), decision, move |b, k| api::reject_application(s, r, p, k, i, b)).await
        }
    }
}

// ---- SME home ------------------------------------------------------------------------

pub async fn sme_dashboard(state: &AppState, req: &HttpRequest, session: &Session) -> PageResult {
    let sme = session.principal.subject.clone();
    let (grants_view, calls) =
        state.db(move |conn| Ok((awards::sme_grants(conn, &sme)?, grants::list_calls(conn)?))).await?;
    let open: Vec<GrantCall> = calls.into_iter().filter(|c| c.open).collect();
    let mut awards_table = Table::new(
        "Awards and hours used",
        &["Award", "Period", "#Awarded", "#Used", "#Remaining", "#Aid value", "Status"],
    );
    for a in &grants_view.awards {
        awards_table.row(vec![
            Cell::link(a.legal_name.clone(), format!("/applications/{}", a.application_id)),
            Cell::text(format!("{} to {}", a.start_date, a.end_date)),
            Cell::hours(a.awarded_gpu_hours),
            Cell::hours(a.used_gpu_hours),
            Cell::hours(a.remaining_gpu_hours),
            Cell::money(a.aid_value),
            Cell::text(super::view::words("status", &a.status)),
        ]);
    }
    let page = Page::new(session.layout("/"), "Compute grants")
        .subtitle("Apply for subsidised GPU-hours and follow your applications.")
        .flash(Done::from_query(req))
        .card(
            Card::new("Open calls")
                .with(Section::Table(call_table(&open, Role::Sme).empty("No call is open at the moment."))),
        )
        .card(
            Card::new("Your applications")
                .with(Section::Table(application_table("Your applications", &grants_view.applications))),
        )
        .card(
            Card::new("Your awards")
                .with(Section::Facts(vec![
                    fact("GPU-hours awarded", gpu_hours(grants_view.awarded_gpu_hours)),
                    fact("GPU-hours used", gpu_hours(grants_view.used_gpu_hours)),
                    fact("GPU-hours remaining", gpu_hours(grants_view.remaining_gpu_hours)),
                    fact("Aid value", eur(grants_view.aid_value)),
                ]))
                .with(Section::Table(awards_table)),
        );
    render(&page)
}

/// Awards at a facility, a page at a time, for the facility's home page (its query carries
/// the list's position).
pub async fn facility_awards(state: &AppState, req: &HttpRequest, facility_id: &str) -> PageResult<Card> {
    let position = ListQuery::of(req)?;
    let limit = list_page_rows(position.limit)?;
    let filter = AwardFilter { facility_id: Some(facility_id.to_string()), ..Default::default() };
    let after = position.after;
    let page = state.db(move |conn| awards::page_of_awards(conn, &filter, after.as_deref(), limit)).await?;
    let mut table = Table::new(
        "Awards at this facility",
        &["Award id", "SME", "Period", "#Awarded", "#Used", "#Remaining", "Status"],
    );
    for a in &page.items {
        table.row(vec![
            Cell::text(a.id.clone()),
            Cell::text(a.legal_name.clone()),
            Cell::text(format!("{} to {}", a.start_date, a.end_date)),
            Cell::hours(a.awarded_gpu_hours),
            Cell::hours(a.used_gpu_hours),
            Cell::hours(a.remaining_gpu_hours),
            Cell::text(super::view::words("status", &a.status)),
        ]);
    }
    let mut card = Card::new("Awards").with(Section::Table(table.empty("No award at this facility yet.")));
    if let Some(last) = &page.next_after {
        card = card.with(next_page_link(req, "/", last));
    }
    Ok(card)
}
