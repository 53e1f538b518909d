//! The enterprise an SME states: the form fields shared by the company profile and an
//! application that does not use the profile, and the SME's profile page (`/profile`).

use actix_web::{get, post, web, HttpRequest};

use super::forms::{Field, FieldKind, FormData, FormSpec};
use super::view::{fact, Card, Cell, Page, Section, Table};
use super::{done, form_page, refused, render, submit, Done, PageResult, Session};
use crate::domain::eligibility::{EnterpriseFigures, RuleApplied};
use crate::domain::roles::Role;
use crate::http::api::enterprise as api;
use crate::http::AppState;
use crate::storage::grants::Enterprise;
use crate::storage::profiles::{self, SmeProfile};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(profile_page).service(profile_post);
}

/// Related-enterprise rows an enterprise form offers (the API takes up to 50).
pub const RELATED_FORM_ROWS: usize = 2;

fn yes_no(value: bool) -> String {
    value.to_string()
}

/// The enterprise's fields. `figures_prefix` is where the latest figures sit in the API body:
/// `figures.` in a profile, nothing in an application.
pub fn enterprise_fields(figures_prefix: &str) -> Vec<Field> {
    let figure = |name: &str| format!("{figures_prefix}{name}");
    let mut fields = vec![
        Field::new("company.legal_name", "Company legal name", FieldKind::Text),
        Field::new("company.registration_number", "Registration or VAT number", FieldKind::Text),
        Field::new("company.country", "Country (EU-27 ISO code, e.g. DE)", FieldKind::Text),
        Field::new("company.nace_code", "Main activity (NACE Rev. 2 code, e.g. 62.01)", FieldKind::Text).optional(),
        Field::new("company.nuts2_region", "Region (NUTS 2 code, e.g. DE21)", FieldKind::Text).optional(),
        Field::new(&figure("staff_awu"), "Headcount, latest closed period (annual work units)", FieldKind::Decimal),
        Field::new(&figure("turnover"), "Annual turnover, latest closed period (EUR)", FieldKind::Money),
        Field::new(&figure("balance_sheet"), "Balance-sheet total, latest closed period (EUR)", FieldKind::Money),
        Field::new("previous_period.staff_awu", "Headcount, the period before", FieldKind::Decimal)
            .optional()
            .hint("A category changes only when a ceiling is crossed in two consecutive periods; leave the period before empty if there is none."),
        Field::new("previous_period.turnover", "Annual turnover, the period before (EUR)", FieldKind::Money).optional(),
        Field::new("previous_period.balance_sheet", "Balance-sheet total, the period before (EUR)", FieldKind::Money)
            .optional(),
    ];
    for row in 0..RELATED_FORM_ROWS {
        fields.extend(related_fields(row));
    }
    fields.extend([
        Field::new(
            "de_minimis_received",
            "De minimis aid received elsewhere in the last 3 years (EUR)",
            FieldKind::Money,
        )
        .optional(),
        Field::new(
            "declarations.undertaking_in_difficulty",
            "Is the company an undertaking in difficulty?",
            FieldKind::YesNo,
        )
        .optional()
        .hint("GBER Art. 2(18); asked by GBER calls."),
        Field::new(
            "declarations.outstanding_recovery_order",
            "Is the company under an outstanding recovery order for illegal aid?",
            FieldKind::YesNo,
        )
        .optional()
        .hint("Asked by GBER calls."),
    ]);
    fields
}

fn related_fields(row: usize) -> Vec<Field> {
    let n = row + 1;
    let name = |part: &str| format!("related.{row}.{part}");
    let label = |what: &str| {
        let what = crate::i18n::Lang::current().label(what);
        crate::i18n::phrase("page-related-enterprise-field", &[("number", n.to_string()), ("field", what)])
    };
    let controls = [
        ("board_majority", "appoints or removes a board majority"),
        ("contract", "dominant influence by contract"),
        ("articles", "dominant influence by its articles"),
    ];
    let investors = [
        ("public_investment_corporation", "public investment corporation"),
        ("venture_capital_company", "venture capital company"),
        ("business_angel", "business angels"),
        ("university_or_research_centre", "university or non-profit research centre"),
        ("institutional_investor", "institutional investor or regional development fund"),
        ("autonomous_local_authority", "autonomous local authority"),
    ];
    let options = |list: &[(&str, &str)]| list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    vec![
        Field::new(&name("legal_name"), &label("legal name"), FieldKind::Text).optional(),
        Field::new(&name("country"), &label("country"), FieldKind::Text).optional(),
        Field::new(&name("registration_number"), &label("registration or VAT number"), FieldKind::Text).optional(),
        Field::new(&name("holding_percent"), &label("holding (%)"), FieldKind::Decimal)
            .optional()
            .hint("The larger of the two holdings, capital or votes; leave the row empty if none."),
        Field::new(&name("control"), &label("control other than by holding"), FieldKind::Select)
            .optional()
            .options(options(&controls)),
        Field::new(&name("public_body"), &label("is it a public body?"), FieldKind::YesNo).optional(),
        Field::new(&name("listed_investor.kind"), &label("investor of a kind Art. 3(2) lists"), FieldKind::Select)
            .optional()
            .options(options(&investors)),
        Field::new(
            &name("listed_investor.total_invested"),
            &label("business angels' total investment (EUR)"),
            FieldKind::Money,
        )
        .optional(),
        Field::new(
            &name("listed_investor.annual_budget"),
            &label("local authority's annual budget (EUR)"),
            FieldKind::Money,
        )
        .optional(),
        Field::new(&name("listed_investor.inhabitants"), &label("local authority's inhabitants"), FieldKind::Integer)
            .optional(),
        Field::new(&name("figures.staff_awu"), &label("headcount"), FieldKind::Decimal).optional(),
        Field::new(&name("figures.turnover"), &label("turnover (EUR)"), FieldKind::Money).optional(),
        Field::new(&name("figures.balance_sheet"), &label("balance sheet (EUR)"), FieldKind::Money).optional(),
        Field::new(
            &name("de_minimis_received"),
            &label("de minimis aid it received elsewhere in 3 years (EUR)"),
            FieldKind::Money,
        )
        .optional(),
    ]
}

/// Drops the groups left empty (related-enterprise rows, the period before), so only those
/// filled in reach the API.
pub fn drop_empty_groups(form_data: &mut FormData) {
    let prefixes = (0..RELATED_FORM_ROWS).map(|row| format!("related.{row}.")).chain(["previous_period.".to_string()]);
    for prefix in prefixes {
        let blank = form_data.0.iter().filter(|(n, _)| n.starts_with(&prefix)).all(|(_, v)| v.trim().is_empty());
        if blank {
            form_data.0.retain(|(name, _)| !name.starts_with(&prefix));
        }
    }
}

fn figures_values(pairs: &mut Vec<(String, String)>, prefix: &str, figures: &EnterpriseFigures) {
    pairs.push((format!("{prefix}staff_awu"), figures.staff_awu.to_string()));
    pairs.push((format!("{prefix}turnover"), figures.turnover.to_string()));
    pairs.push((format!("{prefix}balance_sheet"), figures.balance_sheet.to_string()));
}

/// An enterprise's values in the form's field names.
pub fn enterprise_values(enterprise: &Enterprise, figures_prefix: &str) -> Vec<(String, String)> {
    let company = &enterprise.company;
    let mut pairs = vec![
        ("company.legal_name".to_string(), company.legal_name.clone()),
        ("company.registration_number".to_string(), company.registration_number.clone()),
        ("company.country".to_string(), company.country.clone()),
        ("company.nace_code".to_string(), company.nace_code.clone().unwrap_or_default()),
        ("company.nuts2_region".to_string(), company.nuts2_region.clone().unwrap_or_default()),
        ("de_minimis_received".to_string(), enterprise.de_minimis_received.to_string()),
    ];
    figures_values(&mut pairs, figures_prefix, &enterprise.figures);
    if let Some(previous) = &enterprise.previous_period {
        figures_values(&mut pairs, "previous_period.", previous);
    }
    let declarations = enterprise.declarations;
    for (name, value) in [
        ("declarations.undertaking_in_difficulty", declarations.undertaking_in_difficulty),
        ("declarations.outstanding_recovery_order", declarations.outstanding_recovery_order),
    ] {
        pairs.push((name.to_string(), value.map(yes_no).unwrap_or_default()));
    }
    for (row, related) in enterprise.related.iter().take(RELATED_FORM_ROWS).enumerate() {
        let name = |part: &str| format!("related.{row}.{part}");
        pairs.push((name("legal_name"), related.legal_name.clone()));
        pairs.push((name("country"), related.country.clone()));
        pairs.push((name("registration_number"), related.registration_number.clone()));
        pairs.push((name("holding_percent"), related.holding_percent.to_string()));
        pairs.push((name("control"), related.control.map(|c| c.as_str().to_string()).unwrap_or_default()));
        pairs.push((name("public_body"), if related.public_body { "true".into() } else { String::new() }));
        if let Some(investor) = related.listed_investor {
            let value = serde_json::to_value(investor).unwrap_or_default();
            for key in ["kind", "total_invested", "annual_budget", "inhabitants"] {
                if let Some(part) = value.get(key) {
                    let text = part.as_str().map_or_else(|| part.to_string(), str::to_string);
                    pairs.push((name(&format!("listed_investor.{key}")), text));
                }
            }
        }
        if let Some(figures) = &related.figures {
            figures_values(&mut pairs, &name("figures."), figures);
        }
        if let Some(declared) = related.de_minimis_received {
            pairs.push((name("de_minimis_received"), declared.to_string()));
        }
    }
    pairs
}

/// Every rule the classification applied, in words.
pub fn rules_table(rules: &[RuleApplied]) -> Table {
    let mut table = Table::new("How the SME category was found", &["Rule", "Finding"]);
    for rule in rules {
        table.row(vec![Cell::text(rule.rule.clone()), Cell::text(rule.finding.clone())]);
    }
    table
}

fn profile_card(profile: &SmeProfile) -> Card {
    Card::new("Category")
        .with(Section::Facts(vec![
            fact("SME category", super::view::words("category", profile.sme_category.as_str())),
            fact("Profile version", profile.version.to_string()),
        ]))
        .with(Section::Table(rules_table(&profile.rules)))
}

fn profile_form(session: &Session, enterprise: Option<&Enterprise>) -> FormSpec {
    let form = FormSpec::new("/profile", "Save profile", &session.csrf_token, enterprise_fields("figures."));
    match enterprise {
        Some(enterprise) => form.refill(&FormData(enterprise_values(enterprise, "figures."))),
        None => form,
    }
}

async fn profile_of(state: &AppState, session: &Session) -> PageResult<Option<SmeProfile>> {
    let sme_id = session.principal.subject.clone();
    Ok(state
        .db(move |conn| {
            profiles::get_profile(conn, &sme_id)
                .map(Some)
                .or_else(|e| if e.status() == 404 { Ok(None) } else { Err(e) })
        })
        .await?)
}

fn profile_view(session: &Session, req: &HttpRequest, profile: Option<&SmeProfile>, form: FormSpec) -> Page {
    let intro = Section::Text(
        "Stated once, used by every application you make without stating the company again. Drafts made from the profile follow it; a submitted application keeps what it was submitted with.".into(),
    );
    let mut page = form_page(session, req.path(), "Company profile", vec![intro], form).flash(Done::from_query(req));
    if let Some(profile) = profile {
        page = page.card(profile_card(profile));
    }
    page
}

#[get("/profile")]
async fn profile_page(state: web::Data<AppState>, req: HttpRequest, session: Session) -> PageResult {
    session.require(&[Role::Sme])?;
    let profile = profile_of(&state, &session).await?;
    let form = profile_form(&session, profile.as_ref().map(|p| &p.enterprise));
    render(&profile_view(&session, &req, profile.as_ref(), form))
}

#[post("/profile")]
async fn profile_post(state: web::Data<AppState>, req: HttpRequest, session: Session, body: web::Bytes) -> PageResult {
    session.require(&[Role::Sme])?;
    let mut form_data = session.read_form(&state, &body)?;
    drop_empty_groups(&mut form_data);
    let form = profile_form(&session, None);
    let sme_id = session.principal.subject.clone();
    let outcome = submit(&form_data, form, |body, _key| {
        api::put_profile(state.clone(), session.principal.clone(), web::Path::from(sme_id.clone()), body)
    })
    .await;
    match outcome {
        Ok(_) => done("/profile", Done::Profile),
        Err((form, status)) => {
            let profile = profile_of(&state, &session).await?;
            refused(profile_view(&session, &req, profile.as_ref(), form), status)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_related_rows_are_dropped_and_filled_ones_kept() {
        let mut data = FormData(vec![
            ("related.0.holding_percent".into(), "30".into()),
            ("related.0.figures.staff_awu".into(), "10".into()),
            ("related.1.holding_percent".into(), "".into()),
            ("related.1.figures.staff_awu".into(), " ".into()),
            ("project_title".into(), "X".into()),
        ]);
        drop_empty_groups(&mut data);
        assert_eq!(data.0.len(), 3);
        assert!(data.get("related.1.holding_percent").is_none());
    }
}
