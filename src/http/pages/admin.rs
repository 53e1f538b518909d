//! Administrator pages: the users, a form to add one, and each user's page: disable or
//! enable, reset the password, change the role, and what was done to the account by whom.

use crate::i18n::phrase;
use actix_web::{get, post, web, HttpRequest};
use serde_json::Value;

use super::forms::{Field, FieldKind, FormData, FormSpec};
use super::view::{fact, Card, Cell, Page, Section, Table};
use super::{
    done, list_page_rows, next_page_link, proposed, refused, render, submit, Done, ListQuery, PageError, PageQuery,
    PageResult, Session,
};
use crate::domain::roles::Role;
use crate::error::AppError;
use crate::http::api::users as api;
use crate::http::extract::{parse_id, ValidJson};
use crate::http::AppState;
use crate::storage::proposals::Operation;
use crate::storage::users::{self, User, USER_EVENTS_PAGE_MAX};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(users_page).service(user_post).service(user_page).service(account_post);
}

fn role_options() -> Vec<(String, String)> {
    Role::ALL.iter().map(|r| (r.as_str().to_string(), r.as_str().to_string())).collect()
}

fn user_spec(session: &Session) -> FormSpec {
    FormSpec::new(
        "/admin/users",
        "Add user",
        &session.csrf_token,
        vec![
            Field::new("username", "User name", FieldKind::Text),
            Field::new("role", "Role", FieldKind::Select).options(role_options()),
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
    let first_page = ListQuery::default();
    render(&users_view(state, req, session, form.unwrap_or_else(|| user_spec(session)), first_page).await?)
}

async fn users_view(
    state: &AppState,
    req: &HttpRequest,
    session: &Session,
    form: FormSpec,
    query: ListQuery,
) -> PageResult<Page> {
    let limit = list_page_rows(query.limit)?;
    let after = query.after;
    let page = state.db(move |conn| users::page_of_users(conn, after.as_deref(), limit)).await?;
    let mut table = Table::new("Users", &["User name", "Role", "Party", "Created", "Disabled"]);
    for u in &page.items {
        table.row(vec![
            Cell::link(u.username.clone(), format!("/admin/users/{}", u.id)),
            Cell::text(super::view::words("role", u.role.as_str())),
            Cell::text(u.party_id.clone().unwrap_or_default()),
            Cell::text(u.created_at.format("%Y-%m-%d").to_string()),
            Cell::text(if u.disabled { "yes" } else { "no" }),
        ]);
    }
    let mut list = Card::new("All users").with(Section::Table(table));
    if let Some(last) = &page.next_after {
        list = list.with(next_page_link(req, "/admin/users", last));
    }
    Ok(Page::new(session.layout(req.path()), "Users")
        .flash(Done::from_query(req))
        .card(Card::new("Add a user").with(Section::Form(form)))
        .card(list))
}

/// The users in the order of their names, a page at a time.
#[get("/admin/users")]
async fn users_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    query: PageQuery<ListQuery>,
) -> PageResult {
    session.require(&[Role::Admin])?;
    render(&users_view(&state, &req, &session, user_spec(&session), query.0).await?)
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
        Err((form, status)) => {
            let first_page = ListQuery::default();
            refused(users_view(&state, &req, &session, without_password(form), first_page).await?, status)
        }
    }
}

/// The forms of one user's page, by the action they post to.
struct AccountForms {
    access: FormSpec,
    password: FormSpec,
    role: FormSpec,
}

impl AccountForms {
    /// With `four_eyes`, the role form proposes the change for another admin to approve.
    fn new(session: &Session, user: &User, four_eyes: bool) -> Self {
        let action = |what: &str| format!("/admin/users/{}/{what}", user.id);
        let access = match user.disabled {
            true => FormSpec::new(action("enable"), "Enable user", &session.csrf_token, vec![]),
            false => FormSpec::new(action("disable"), "Disable user", &session.csrf_token, vec![]),
        };
        let password = FormSpec::new(
            action("password"),
            "Set new password",
            &session.csrf_token,
            vec![Field::new("password", "New password", FieldKind::Text)
                .hint("At least 12 characters; hand it over in person. The user's sessions end.")],
        );
        let role = FormSpec::new(
            action("role"),
            if four_eyes { "Propose role change" } else { "Change role" },
            &session.csrf_token,
            vec![
                Field::new("role", "Role", FieldKind::Select).options(role_options()).value(user.role.as_str()),
                Field::new("party_id", "Party id", FieldKind::Text)
                    .optional()
                    .value(user.party_id.clone().unwrap_or_default())
                    .hint("For investor, SME and facility roles: the party the user acts for."),
            ],
        );
        AccountForms { access, password, role }
    }

    /// The same forms with `form` (refused) in place of the one posting to the same action.
    fn with(mut self, form: FormSpec) -> Self {
        if form.action.ends_with("/password") {
            self.password = form;
        } else if form.action.ends_with("/role") {
            self.role = form;
        } else {
            self.access = form;
        }
        self
    }
}

async fn user_view(
    state: &AppState,
    req: &HttpRequest,
    session: &Session,
    id: &str,
    refused_form: Option<FormSpec>,
) -> PageResult<Page> {
    let lookup = id.to_string();
    let user = state.db(move |conn| users::find_by_id(conn, &lookup)?.to_user()).await?;
    let history = id.to_string();
    let events = state.db(move |conn| users::list_events(conn, &history, None, USER_EVENTS_PAGE_MAX)).await?;
    let mut forms = AccountForms::new(session, &user, state.settings.four_eyes);
    if let Some(form) = refused_form {
        forms = forms.with(form);
    }
    let mut table = Table::new("What was done to this account", &["When (UTC)", "Action", "Detail", "By"]);
    for event in &events {
        table.row(vec![
            Cell::text(event.recorded_at.format("%Y-%m-%d %H:%M:%S").to_string()),
            Cell::text(event.action.as_str().replace('_', " ")),
            Cell::text(event.detail.clone()),
            Cell::text(event.actor.clone()),
        ]);
    }
    let facts = vec![
        fact("User name", user.username.clone()),
        fact("Role", super::view::words("role", user.role.as_str())),
        fact("Party", user.party_id.clone().unwrap_or_else(|| "-".into())),
        fact("Created", user.created_at.format("%Y-%m-%d").to_string()),
        fact("Status", if user.disabled { "disabled" } else { "active" }),
    ];
    Ok(Page::new(session.layout("/admin/users"), phrase("page-user", &[("name", user.username.clone())]))
        .flash(Done::from_query(req))
        .card(Card::new("Account").with(Section::Facts(facts)).with(Section::Form(forms.access)))
        .card(Card::new("Reset the password").with(Section::Form(forms.password)))
        .card(Card::new("Change the role").with(Section::Form(forms.role)))
        .card(Card::new("History").with(Section::Table(table))))
}

#[get("/admin/users/{id}")]
async fn user_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    id: web::Path<String>,
) -> PageResult {
    session.require(&[Role::Admin])?;
    let id = parse_id("id", &id)?;
    render(&user_view(&state, &req, &session, &id, None).await?)
}

#[post("/admin/users/{id}/{action}")]
async fn account_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> PageResult {
    session.require(&[Role::Admin])?;
    let (id, action) = path.into_inner();
    let id = parse_id("id", &id)?;
    let posted = session.read_form(&state, &body)?;
    let lookup = id.clone();
    let user = state.db(move |conn| users::find_by_id(conn, &lookup)?.to_user()).await?;
    let forms = AccountForms::new(&session, &user, state.settings.four_eyes);
    let principal = session.principal.clone();
    if action == "role" && state.settings.four_eyes {
        return propose_role(&state, &req, &session, &id, &posted, forms.role).await;
    }
    let outcome = match action.as_str() {
        "disable" => {
            post_access(&posted, forms.access, |key| api::disable_user(state.clone(), req.clone(), principal, key))
                .await
        }
        "enable" => {
            post_access(&posted, forms.access, |key| api::enable_user(state.clone(), req.clone(), principal, key)).await
        }
        "password" => {
            submit(&posted, forms.password, |body, key| {
                api::reset_password(state.clone(), req.clone(), principal, key, body)
            })
            .await
        }
        "role" => {
            submit(&posted, forms.role, |body, key| api::change_role(state.clone(), req.clone(), principal, key, body))
                .await
        }
        _ => return Err(PageError::App(AppError::not_found(format!("account action {action}")))),
    };
    match outcome {
        Ok(_) => done(&format!("/admin/users/{id}"), Done::Account),
        Err((form, status)) => {
            refused(user_view(&state, &req, &session, &id, Some(without_password(form))).await?, status)
        }
    }
}

/// Proposes a role change (four eyes on): another admin approves it at `/proposals/{id}`.
async fn propose_role(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    session: &Session,
    user_id: &str,
    posted: &FormData,
    form: FormSpec,
) -> PageResult {
    let outcome = submit(posted, form, |body: ValidJson<api::RoleChangeRequest>, key| {
        let operation = Operation::UserRole {
            user_id: user_id.to_string(),
            role: body.value.role,
            party_id: body.value.party_id.clone(),
        };
        super::proposals::propose(state, req, session, key, operation)
    })
    .await;
    match outcome {
        Ok(proposal) => proposed(&proposal),
        Err((form, status)) => refused(user_view(state, req, session, user_id, Some(form)).await?, status),
    }
}

/// Disabling and enabling post no fields: the handler is called with the form's key alone.
async fn post_access<F, Fut>(
    posted: &FormData,
    form: FormSpec,
    call: F,
) -> Result<Value, (FormSpec, actix_web::http::StatusCode)>
where
    F: FnOnce(crate::http::extract::IdempotencyKey) -> Fut,
    Fut: std::future::Future<Output = crate::error::AppResult<actix_web::HttpResponse>>,
{
    submit::<Value, _, _>(posted, form, |_, key| call(key)).await
}

/// A refused form as it goes back to the browser: never with a password in it.
fn without_password(mut form: FormSpec) -> FormSpec {
    for field in form.fields.iter_mut().filter(|f| f.name == "password") {
        field.value.clear();
    }
    form
}
