//! Administrator pages: the users and a form to add one.

use actix_web::{get, post, web, HttpRequest};

use super::forms::{Field, FieldKind, FormSpec};
use super::view::{Card, Cell, Page, Section, Table};
use super::{done, refused, render, submit, Done, PageResult, Session};
use crate::domain::roles::Role;
use crate::http::api::users as api;
use crate::http::AppState;
use crate::storage::users;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(users_page).service(user_post);
}

fn user_spec(session: &Session) -> FormSpec {
    FormSpec::new(
        "/admin/users",
        "Add user",
        &session.csrf_token,
        vec![
            Field::new("username", "User name", FieldKind::Text),
            Field::new("role", "Role", FieldKind::Select)
                .options(Role::ALL.iter().map(|r| (r.as_str().to_string(), r.as_str().to_string())).collect()),
            Field::new("party_id", "Party id", FieldKind::Text)
                .optional()
                .hint("For investor, SME and facility users: the id of the party they act for."),
            Field::new("password", "Initial password", FieldKind::Text)
                .hint("At least 12 characters; hand it over in person."),
        ],
    )
}

pub async fn dashboard(
    state: &AppState,
    req: &HttpRequest,
    session: &Session,
    form: Option<FormSpec>,
) -> PageResult<actix_web::HttpResponse> {
    render(&users_view(state, req, session, form.unwrap_or_else(|| user_spec(session))).await?)
}

async fn users_view(state: &AppState, req: &HttpRequest, session: &Session, form: FormSpec) -> PageResult<Page> {
    let all = state.db(users::list_users).await?;
    let mut table = Table::new("Users", &["User name", "Role", "Party", "Created", "Disabled"]);
    for u in &all {
        table.row(vec![
            Cell::text(u.username.clone()),
            Cell::text(u.role.as_str()),
            Cell::text(u.party_id.clone().unwrap_or_default()),
            Cell::text(u.created_at.format("%Y-%m-%d").to_string()),
            Cell::text(if u.disabled { "yes" } else { "no" }),
        ]);
    }
    Ok(Page::new(session.layout(req.path()), "Users")
        .flash(Done::from_query(req))
        .card(Card::new("Add a user").with(Section::Form(form)))
        .card(Card::new("All users").with(Section::Table(table))))
}

#[get("/admin/users")]
async fn users_page(state: web::Data<AppState>, req: HttpRequest, session: Session) -> PageResult {
    session.require(&[Role::Admin])?;
    dashboard(&state, &req, &session, None).await
}

#[post("/admin/users")]
async fn user_post(state: web::Data<AppState>, req: HttpRequest, session: Session, body: web::Bytes) -> PageResult {
    session.require(&[Role::Admin])?;
    let form_data = session.read_form(&state, &body)?;
    let outcome = submit(&form_data, user_spec(&session), |body, key| {
        api::create_user(state.clone(), req.clone(), session.principal.clone(), key, body)
    })
    .await;
    match outcome {
        Ok(_) => done("/admin/users", Done::User),
        Err((mut form, status)) => {
            // Never send a password back to the browser.
            for field in form.fields.iter_mut().filter(|f| f.name == "password") {
                field.value.clear();
            }
            refused(users_view(&state, &req, &session, form).await?, status)
        }
    }
}
