//! HTML pages for people: a dashboard per role, forms that drive the same handlers as the
//! JSON API, printable documents, and errors shown as pages (never as raw JSON).
//!
//! Each role's pages live in their own module; `view` holds the building blocks, `forms`
//! the form plumbing, `charts` the SVG charts.

pub mod admin;
pub mod auditor;
pub mod auth;
pub mod award_progress;
pub mod charts;
pub mod documents;
pub mod enterprise;
pub mod facility;
pub mod forms;
pub mod grants;
pub mod inbox;
pub mod investor;
pub mod proposals;
pub mod public;
pub mod staff;
pub mod state_aid;
pub mod view;
pub mod waterfall;
pub mod workbench;

use std::future::Future;

use actix_web::dev::Payload;
use actix_web::http::{header, StatusCode};
use actix_web::{get, web, FromRequest, HttpRequest, HttpResponse, ResponseError};
use askama::Template;
use serde::de::DeserializeOwned;
use serde_json::Value;

use self::forms::{api_body, error_text, response_json, FormData, FormSpec};
use self::view::{Card, Layout, NavItem, Page, Section};
use super::extract::{parse_query, session_principal, IdempotencyKey, ValidJson};
use super::AppState;
use crate::auth::{csrf, Principal};
use crate::domain::roles::Role;
use crate::error::{AppError, AppResult};

pub use self::auth::CSRF_COOKIE;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(home)
        .service(stylesheet)
        .configure(auth::routes)
        .configure(documents::routes)
        .configure(staff::routes)
        .configure(grants::routes)
        .configure(enterprise::routes)
        .configure(investor::routes)
        .configure(auditor::routes)
        .configure(facility::routes)
        .configure(admin::routes)
        .configure(inbox::routes)
        .configure(proposals::routes)
        .configure(workbench::routes)
        .configure(public::routes)
        .configure(waterfall::routes);
}

/// A signed-in browser: the caller and the CSRF token its forms carry.
pub struct Session {
    pub principal: Principal,
    pub csrf_token: String,
}

impl Session {
    pub fn require(&self, roles: &[Role]) -> Result<(), PageError> {
        self.principal.require(roles).map_err(PageError::from)
    }

    pub fn layout(&self, current: &str) -> Layout {
        Layout {
            who: Some(format!("{} · {}", self.principal.username, view::words("role", self.principal.role.as_str()))),
            nav: navigation(self.principal.role),
            csrf_token: self.csrf_token.clone(),
            current: current.to_string(),
            lang: crate::i18n::Lang::current(),
        }
    }

    /// Checks a posted form's CSRF token against this session.
    pub fn check(&self, state: &AppState, posted: &FormData) -> Result<(), PageError> {
        posted.check_csrf(&state.secret, &self.principal.token_id).map_err(PageError::from)
    }

    /// A posted form of this session: its fields, once its CSRF token is checked.
    pub fn read_form(&self, state: &AppState, body: &web::Bytes) -> PageResult<FormData> {
        let form = posted(body)?;
        self.check(state, &form)?;
        Ok(form)
    }
}

impl FromRequest for Session {
    type Error = PageError;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Session, PageError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req.app_data::<web::Data<AppState>>().cloned().ok_or(PageError::SignIn)?;
            let principal = session_principal(&req).await?.ok_or(PageError::SignIn)?;
            let csrf_token = csrf::token(&state.secret, &principal.token_id);
            Ok(Session { principal, csrf_token })
        })
    }
}

/// A page's query, parsed as the API parses its own; a malformed one answers an error page
/// (400) naming the parameter, not the API's JSON.
pub struct PageQuery<T>(pub T);

impl<T> std::ops::Deref for PageQuery<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for PageQuery<T> {
    type Error = PageError;
    type Future = std::future::Ready<Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(PageQuery).map_err(PageError::from))
    }
}

/// What a page answers when it cannot show what was asked: a sign-in redirect or an error
/// page with the status of the underlying error.
#[derive(Debug)]
pub enum PageError {
    SignIn,
    App(AppError),
}

impl From<AppError> for PageError {
    fn from(error: AppError) -> Self {
        PageError::App(error)
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PageError::SignIn => f.write_str("sign in required"),
            PageError::App(error) => error.fmt(f),
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    status: u16,
    heading: &'static str,
    message: String,
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::SignIn => StatusCode::SEE_OTHER,
            PageError::App(error) => error.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let error = match self {
            PageError::SignIn => return redirect("/login"),
            PageError::App(error) => error,
        };
        if let AppError::Internal(cause) = error {
            tracing::error!(error = %cause, "internal error on a page");
        }
        let heading = match error.status() {
            404 => "Not found",
            403 => "Not allowed",
            401 => "Please sign in again",
            400 | 422 => "Cannot do that",
            409 => "Conflict",
            _ => "Something went wrong",
        };
        let layout = Layout::public("", crate::i18n::Lang::current());
        let page = ErrorPage { layout, status: error.status(), heading, message: error_text(error) };
        let html = page.render().unwrap_or_else(|_| heading.to_string());
        HttpResponse::build(self.status_code()).content_type("text/html; charset=utf-8").body(html)
    }
}

pub type PageResult<T = HttpResponse> = Result<T, PageError>;

/// Renders a template into a response; a template error is a 500 page.
pub fn render(template: &impl Template) -> PageResult {
    render_status(template, StatusCode::OK)
}

pub fn render_status(template: &impl Template, status: StatusCode) -> PageResult {
    let html = template.render().map_err(AppError::internal)?;
    Ok(HttpResponse::build(status).content_type("text/html; charset=utf-8").body(html))
}

pub fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, to)).finish()
}

/// Redirects after a successful form, with a confirmation shown on the next page.
pub fn done(to: &str, what: Done) -> PageResult {
    let separator = if to.contains('?') { '&' } else { '?' };
    Ok(redirect(&format!("{to}{separator}done={}", what.code())))
}

/// The confirmations a page can show after a form; a fixed list, so a link cannot make a
/// page say anything else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Done {
    Source,
    Commitment,
    Amendment,
    Call,
    Contribution,
    Deployment,
    Valuation,
    Distribution,
    GrantCall,
    Draft,
    Submitted,
    Review,
    Award,
    Rejection,
    User,
    Account,
    Proposed,
    Approved,
    ProposalRejected,
    Withdrawn,
    Profile,
    Tranche,
    Facility,
    Price,
    Proceeds,
    Reversal,
    SlurmAccount,
}

impl Done {
    const ALL: [Done; 27] = [
        Done::Source,
        Done::Commitment,
        Done::Amendment,
        Done::Call,
        Done::Contribution,
        Done::Deployment,
        Done::Valuation,
        Done::Distribution,
        Done::GrantCall,
        Done::Draft,
        Done::Submitted,
        Done::Review,
        Done::Award,
        Done::Rejection,
        Done::User,
        Done::Account,
        Done::Proposed,
        Done::Approved,
        Done::ProposalRejected,
        Done::Withdrawn,
        Done::Profile,
        Done::Tranche,
        Done::Facility,
        Done::Price,
        Done::Proceeds,
        Done::Reversal,
        Done::SlurmAccount,
    ];

    fn code(self) -> &'static str {
        match self {
            Done::Source => "source",
            Done::Commitment => "commitment",
            Done::Amendment => "amendment",
            Done::Call => "call",
            Done::Contribution => "contribution",
            Done::Deployment => "deployment",
            Done::Valuation => "valuation",
            Done::Distribution => "distribution",
            Done::GrantCall => "grant-call",
            Done::Draft => "draft",
            Done::Submitted => "submitted",
            Done::Review => "review",
            Done::Award => "award",
            Done::Rejection => "rejection",
            Done::User => "user",
            Done::Account => "account",
            Done::Proposed => "proposed",
            Done::Approved => "approved",
            Done::ProposalRejected => "proposal-rejected",
            Done::Withdrawn => "withdrawn",
            Done::Profile => "profile",
            Done::Tranche => "tranche",
            Done::Facility => "facility",
            Done::Price => "price",
            Done::Proceeds => "proceeds",
            Done::Reversal => "reversal",
            Done::SlurmAccount => "slurm-account",
        }
    }

    fn message(self) -> &'static str {
        match self {
            Done::Source => "Source recorded.",
            Done::Commitment => "Commitment recorded.",
            Done::Amendment => "Amendment recorded.",
            Done::Call => "Capital call issued; notices were sent to every investor of the tranche.",
            Done::Contribution => "Contribution recorded.",
            Done::Deployment => "Deployment recorded.",
            Done::Valuation => "Valuation recorded.",
            Done::Distribution => "Distribution executed and posted to the ledger.",
            Done::GrantCall => "Grant call opened; its budget is reserved from the compute-grant pool.",
            Done::Draft => "Draft saved. Check the assessment below, then submit.",
            Done::Submitted => "Application submitted.",
            Done::Review => "Review recorded.",
            Done::Award => "Award made.",
            Done::Rejection => "Application rejected.",
            Done::User => "User added.",
            Done::Account => "Account changed; the user's earlier sessions and tokens have ended.",
            Done::Proposed => "Proposed. It takes effect when another staff user approves it.",
            Done::Approved => "Approved and executed exactly as previewed.",
            Done::ProposalRejected => "Proposal rejected.",
            Done::Withdrawn => "Proposal withdrawn.",
            Done::Profile => "Profile saved. Your drafts made from it now use it; submitted applications keep theirs.",
            Done::Tranche => "Tranche added, with its capital accounts in the fund's chart.",
            Done::Facility => "Facility registered. Give it a list price per GPU-hour below.",
            Done::Price => "Price recorded; it applies from its date until a later one.",
            Done::Proceeds => "Proceeds recorded and posted to the ledger.",
            Done::Reversal => "Reversal posted to the ledger.",
            Done::SlurmAccount => "Slurm account mapped: its jobs bill that award from the next file on.",
        }
    }

    /// The confirmation named by a `done` query parameter, if it is one of ours.
    pub fn from_query(req: &HttpRequest) -> Option<String> {
        let code = form_urlencoded::parse(req.query_string().as_bytes()).find(|(k, _)| k == "done")?.1;
        Done::ALL.into_iter().find(|d| d.code() == code).map(|d| d.message().to_string())
    }
}

/// What each role's navigation offers: only what it may use.
pub fn navigation(role: Role) -> Vec<NavItem> {
    let item = |href, label| NavItem { href, label };
    let mut items = vec![item("/", "Home")];
    match role {
        Role::Staff => items.extend([
            item("/inbox", "Inbox"),
            item("/sources", "Sources"),
            item("/facilities", "Facilities"),
            item("/grant-calls", "Grant calls"),
            item("/review", "Review queue"),
            item("/proposals", "Proposals"),
            item("/audit/journal", "Journal"),
        ]),
        Role::Investor => items.extend([item("/notices", "Notices"), item("/documents", "Documents")]),
        Role::Auditor => items.extend([
            item("/audit/journal", "Journal"),
            item("/audit/trial-balance", "Trial balance"),
            item("/audit/chain", "Hash chain"),
            item("/audit/exports", "Exports"),
        ]),
        Role::Sme => items.extend([
            item("/grant-calls", "Grant calls"),
            item("/applications", "My applications"),
            item("/profile", "Company profile"),
        ]),
        Role::Facility => items.push(item("/facility/usage", "Upload usage")),
        Role::Admin => items.extend([item("/admin/users", "Users"), item("/proposals", "Proposals")]),
    }
    if role.reads_all() {
        items.push(item("/api/docs/", "API reference"));
    }
    items
}

/// Each role's home page is its dashboard.
#[get("/")]
async fn home(state: web::Data<AppState>, req: HttpRequest, session: Session) -> PageResult {
    match session.principal.role {
        Role::Staff => staff::dashboard(&state, &req, &session).await,
        Role::Investor => investor::dashboard(&state, &req, &session).await,
        Role::Auditor => auditor::dashboard(&state, &session).await,
        Role::Sme => grants::sme_dashboard(&state, &req, &session).await,
        Role::Facility => facility::dashboard(&state, &req, &session).await,
        Role::Admin => admin::dashboard(&state, &req, &session, None).await,
    }
}

/// A page holding one form, with facts about what it acts on above it.
pub fn form_page(session: &Session, current: &str, title: &str, context: Vec<Section>, form: FormSpec) -> Page {
    let mut card = Card::new(title);
    card.sections = context;
    card.sections.push(Section::Form(form));
    Page::new(session.layout(current), title).card(card)
}

/// Runs an API handler on a posted form: `Ok` with the handler's JSON, or the form back
/// with the handler's reasons next to the fields and the status to answer with.
pub async fn submit<T, F, Fut>(posted: &FormData, form: FormSpec, call: F) -> Result<Value, (FormSpec, StatusCode)>
where
    T: DeserializeOwned,
    F: FnOnce(ValidJson<T>, IdempotencyKey) -> Fut,
    Fut: Future<Output = AppResult<HttpResponse>>,
{
    let outcome = async {
        let body = api_body::<T>(&form.fields, posted)?;
        let response = call(body, posted.idempotency_key()).await?;
        response_json(response).await
    }
    .await;
    outcome.map_err(|error| {
        let status = error.status_code();
        (form.refill(posted).with_error(&error), status)
    })
}

/// A page holding one form, as a posted form's handler answers it.
pub struct FormPage<'a> {
    pub session: &'a Session,
    pub req: &'a HttpRequest,
    pub title: &'a str,
    /// Facts shown above the form.
    pub context: Vec<Section>,
}

impl FormPage<'_> {
    /// Runs `call` (an API handler) on the posted form. Success redirects to the page `next`
    /// names from the handler's answer, with the confirmation `what`; a refusal shows this
    /// page again with the reasons next to the fields.
    pub async fn post<T, F, Fut>(
        self,
        posted: &FormData,
        form: FormSpec,
        call: F,
        next: impl FnOnce(&Value) -> String,
        what: Done,
    ) -> PageResult
    where
        T: DeserializeOwned,
        F: FnOnce(ValidJson<T>, IdempotencyKey) -> Fut,
        Fut: Future<Output = AppResult<HttpResponse>>,
    {
        match submit(posted, form, call).await {
            Ok(json) => done(&next(&json), what),
            Err((form, status)) => {
                refused(form_page(self.session, self.req.path(), self.title, self.context, form), status)
            }
        }
    }
}

/// The hidden field that carries a digest of what *Check* showed: *Post* refuses once the same
/// form would post other entries (a write came in between), as an approval does a changed preview.
const CHECKED_FIELD: &str = "_checked";

/// A digest of the entries as the check shows them: dates, descriptions and postings.
fn shown_entries_digest(entries: &[Value]) -> String {
    use sha2::Digest;
    let shown: Vec<Value> = entries
        .iter()
        .map(|entry| {
            let postings: Vec<Value> = entry
                .get("postings")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|p| {
                    serde_json::json!([
                        p.get("account_code"),
                        p.get("debit"),
                        p.get("credit"),
                        p.get("party_id"),
                        p.get("memo")
                    ])
                })
                .collect();
            serde_json::json!([entry.get("effective_date"), entry.get("description"), postings])
        })
        .collect();
    hex::encode(sha2::Sha256::digest(Value::Array(shown).to_string().as_bytes()))
}

impl FormPage<'_> {
    /// An irreversible form: pressed as *Check*, it shows the journal entries `dry_run` says it
    /// would post, above the same form filled in and a `post_label` button; that button posts
    /// it with `call` (an API handler), as [`FormPage::post`] does, unless the entries it would
    /// post now are not those shown: then they are shown again, to be checked again (409).
    #[allow(clippy::too_many_arguments)]
    pub async fn check_then_post<T, D, DFut, F, Fut>(
        self,
        posted: &FormData,
        form: FormSpec,
        post_label: &str,
        dry_run: D,
        call: F,
        next: impl FnOnce(&Value) -> String,
        what: Done,
    ) -> PageResult
    where
        T: DeserializeOwned,
        D: FnOnce(T) -> DFut,
        DFut: Future<Output = AppResult<Vec<Value>>>,
        F: FnOnce(ValidJson<T>, IdempotencyKey) -> Fut,
        Fut: Future<Output = AppResult<HttpResponse>>,
    {
        let posting = posted.get("intent") == Some("post");
        let shown = posted.get(CHECKED_FIELD).map(str::to_string);
        if posting && shown.is_none() {
            return self.post(posted, form, call, next, what).await;
        }
        let checked = async { dry_run(api_body::<T>(&form.fields, posted)?.value).await }.await;
        let entries = match checked {
            // What would be refused now is refused by the post itself, with its reasons.
            Err(_) if posting => return self.post(posted, form, call, next, what).await,
            Err(error) => {
                let status = error.status_code();
                let form = form.refill(posted).with_error(&error);
                return refused(form_page(self.session, self.req.path(), self.title, self.context, form), status);
            }
            Ok(entries) => entries,
        };
        let digest = shown_entries_digest(&entries);
        let changed = posting && shown.as_deref() != Some(digest.as_str());
        if posting && !changed {
            return self.post(posted, form, call, next, what).await;
        }
        let mut form = form.refill(posted);
        form.fields.retain(|f| f.name != CHECKED_FIELD);
        form.fields.push(forms::Field::new(CHECKED_FIELD, "Checked", forms::FieldKind::Hidden).value(digest));
        form.alternatives = vec![("post".into(), post_label.to_string())];
        let mut card = Card::new("What will be posted");
        let lang = crate::i18n::Lang::current();
        if changed {
            card.sections.push(Section::Text(crate::i18n::phrase("page-check-changed", &[])));
        }
        card.sections.push(Section::Text(crate::i18n::phrase(
            "page-check-then-post",
            &[("post", lang.label(post_label)), ("check", lang.label(&form.submit_label))],
        )));
        if entries.is_empty() {
            card.sections.push(Section::Text("It posts no journal entry.".into()));
        }
        for entry in &entries {
            card.sections.extend(proposals::entry_sections(entry));
        }
        let page = form_page(self.session, self.req.path(), self.title, self.context, form).card(card);
        let status = if changed { StatusCode::CONFLICT } else { StatusCode::OK };
        render_status(&page, status)
    }
}

/// The id a created resource or proposal was answered with.
pub fn id_of(json: &Value) -> &str {
    json.get("id").and_then(Value::as_str).unwrap_or_default()
}

/// After a proposal is made: its page, where another user decides it.
pub fn proposed(json: &Value) -> PageResult {
    done(&format!("/proposals/{}", id_of(json)), Done::Proposed)
}

/// Rows a page shows of a long list when the reader asks no `limit`; the list pages with
/// `after`, by the key of its order, so no page reads more than it shows.
pub const LIST_PAGE_ROWS_DEFAULT: i64 = 100;

/// Where a page of a long list starts: after the item whose key is `after` (the last on the page
/// before), `limit` rows; `done` is the confirmation a form's redirect adds.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub after: Option<String>,
    pub limit: Option<i64>,
    pub done: Option<String>,
}

impl ListQuery {
    /// The list position in a page's query, for pages whose handler reads no query of its own.
    pub fn of(req: &HttpRequest) -> AppResult<ListQuery> {
        parse_query(req.query_string())
    }
}

/// The rows a page of a long list shows: `limit` from the query (1 to the API's maximum), or
/// [`LIST_PAGE_ROWS_DEFAULT`].
pub fn list_page_rows(limit: Option<i64>) -> AppResult<i64> {
    crate::http::api::page_limit_up_to(limit, LIST_PAGE_ROWS_DEFAULT, crate::http::api::PAGE_LIMIT_MAX)
}

/// The link to the page after the item `last` of a list, keeping the page's other query
/// parameters.
pub fn next_page_link(req: &HttpRequest, path: &str, last: &str) -> Section {
    let mut next: Vec<(String, String)> =
        form_urlencoded::parse(req.query_string().as_bytes()).into_owned().filter(|(k, _)| k != "after").collect();
    next.push(("after".into(), last.to_string()));
    let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(next).finish();
    Section::Links(vec![view::link("Next page", format!("{path}?{query}"))])
}

/// Renders a page again with a refused form (status of the refusal: 400, 409, 422...).
pub fn refused(page: Page, status: StatusCode) -> PageResult {
    render_status(&page, status)
}

/// Reads a posted body as form fields (the body limit is the form limit of the app).
pub fn posted(body: &web::Bytes) -> Result<FormData, PageError> {
    FormData::parse(body).map_err(PageError::from)
}

#[get("/static/app.css")]
async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(include_str!("../../../static/app.css"))
}
