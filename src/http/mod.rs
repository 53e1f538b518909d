//! HTTP: the JSON API under `/api/v1`, HTML pages, health and metrics. Handlers are thin:
//! they check the caller, parse the input and hand over to storage in a blocking thread.

pub mod api;
pub mod body_errors;
pub mod commitment_writer;
pub mod extract;
pub mod health;
pub mod idempotent;
pub mod openapi;
pub mod pages;
pub mod problem;
pub mod routes;
pub mod views;

use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use actix_web::dev::{Server, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue, CONTENT_SECURITY_POLICY};
use actix_web::http::Method;
use actix_web::middleware::DefaultHeaders;
use actix_web::{web, App, HttpMessage, HttpServer};
use tracing_actix_web::{RequestId, TracingLogger};

use crate::auth::JwtKeys;
use crate::config::Settings;
use crate::error::{AppError, AppResult};
use crate::storage::replica::{Replica, ReplicaRead};
use crate::storage::{DbConnection, DbPool, PooledConn};

/// Everything a handler needs; cheap to clone, shared by all workers of a node.
#[derive(Clone)]
pub struct AppState {
    pub pool: DbPool,
    pub keys: Arc<JwtKeys>,
    pub settings: Arc<Settings>,
    /// The HMAC secret: signs tokens and CSRF tokens.
    pub secret: Arc<String>,
    pub backend: &'static str,
    /// Derived views kept while the books are unchanged; none when turned off.
    pub views: Option<Arc<views::ViewCache>>,
    /// Records new commitments in batches.
    pub commitments: commitment_writer::CommitmentWriter,
    /// Responses this node answered with 500 (a fault on our side, logged at ERROR).
    pub internal_errors: Arc<AtomicU64>,
    /// The threads that hash passwords, with their bounded queue.
    pub hasher: crate::auth::hasher::PasswordHasher,
    /// Failed sign-ins per account and client address.
    pub sign_in_throttle: Arc<crate::auth::throttle::SignInThrottle>,
    /// The public key of the journal's checkpoints, when this node signs them.
    pub checkpoint_verifier_key: Option<Arc<str>>,
    /// Refused sign-ins wait here before they are answered.
    pub sign_in_refusal_hold: crate::auth::refusal_hold::RefusalHold,
    /// What this node read of users lately, to admit their tokens.
    pub standings: Arc<crate::auth::standing::StandingCache>,
    /// The hot standby that serves reads which may be a little behind, when one is configured.
    pub replica: Option<Arc<Replica>>,
}

impl AppState {
    /// The standing of user `username`: remembered when read within the refresh time,
    /// otherwise read now. A user that does not exist is not remembered.
    pub async fn standing_of(&self, username: &str) -> AppResult<Option<Arc<crate::auth::standing::Standing>>> {
        if let Some(standing) = self.standings.fresh(username, std::time::Instant::now()) {
            return Ok(Some(standing));
        }
        let read_at = std::time::Instant::now();
        let name = username.to_string();
        let standing = self.db(move |conn| crate::storage::users::standing(conn, &name)).await?;
        Ok(standing.map(|standing| self.standings.remember(standing, read_at)))
    }

    /// Runs blocking database work on the thread pool (actix workers are single-threaded).
    pub async fn db<T, F>(&self, work: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> AppResult<T> + Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.get()?;
            work(&mut conn)
        })
        .await
        .map_err(|e| AppError::internal(format!("blocking task failed: {e}")))?
    }

    /// Runs a read that may be a little behind the books (a dashboard, an overview, a statement,
    /// an export): on the standby while it is known to be within `replica_lag_max_millis` of the
    /// primary, otherwise, or when the standby fails, on the primary. Nothing that decides money
    /// reads here.
    pub async fn read_db<T, F>(&self, work: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> AppResult<T> + Clone + Send + 'static,
    {
        Ok(self.read_db_keeping_connection(work).await?.1)
    }

    /// As [`AppState::read_db`], for a view the node caches: also answers whether the view is
    /// as new as the books were when the read began (the primary's books version, read first,
    /// is no newer than the version the view was read with). Only such a view may be cached
    /// under the key taken before the read; an older one is served but not kept.
    pub async fn read_db_for_view<T, F>(&self, work: F) -> AppResult<(T, bool)>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> AppResult<T> + Clone + Send + 'static,
    {
        if self.replica.is_none() {
            return Ok((self.db(work).await?, true));
        }
        let primary_version = self.db(crate::storage::version::books_version).await?;
        self.read_db(move |conn| {
            let read_version = crate::storage::version::books_version(conn)?;
            Ok((work(conn)?, read_version >= primary_version))
        })
        .await
    }

    /// As [`AppState::read_db`], answering the connection the read ran on, for a read that goes
    /// on after the answer has started (a streamed export).
    pub async fn read_db_keeping_connection<T, F>(&self, work: F) -> AppResult<(PooledConn, T)>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> AppResult<T> + Clone + Send + 'static,
    {
        let primary = self.pool.clone();
        let on_primary = move |work: F| -> AppResult<(PooledConn, T)> {
            let mut conn = primary.get()?;
            let value = work(&mut conn)?;
            Ok((conn, value))
        };
        let outcome = match self.serving_replica().cloned() {
            Some(replica) => {
                let fallback = work.clone();
                web::block(move || match replica.read_keeping_connection(work) {
                    ReplicaRead::Done(outcome) => outcome,
                    ReplicaRead::Unavailable => {
                        replica.note_sent_to_primary();
                        on_primary(fallback)
                    }
                })
                .await
            }
            None => web::block(move || on_primary(work)).await,
        };
        outcome.map_err(|e| AppError::internal(format!("blocking task failed: {e}")))?
    }

    /// The standby, when one is configured and close enough behind; a read that would have
    /// gone to it and goes to the primary is counted.
    fn serving_replica(&self) -> Option<&Arc<Replica>> {
        let replica = self.replica.as_ref()?;
        let own_write_pending = READS_FROM_PRIMARY.try_with(|primary| *primary).unwrap_or(false);
        if !own_write_pending && replica.is_serving() {
            Some(replica)
        } else {
            replica.note_sent_to_primary();
            None
        }
    }
}

/// The cookie a node sets on the answer to a write while a read replica is configured. For
/// `replica_lag_max_millis` after their own write a client's reads go to the primary, so they
/// show that write; after it, the standby is known to hold it whenever it serves.
pub const WROTE_RECENTLY_COOKIE: &str = "investai-wrote";

tokio::task_local! {
    /// Whether the request being served comes from a client that wrote within the lag bound.
    static READS_FROM_PRIMARY: bool;
}

/// Largest HTML form body a page accepts (CSV uploads are multipart, with their own limit);
/// a larger one is refused with 413 before it is read.
pub const PAGE_FORM_BYTES_MAX: usize = 64 * 1024;

/// The metrics label of requests that match no route.
pub const UNMATCHED_ROUTE_LABEL: &str = "UNKNOWN";

/// The Content-Security-Policy of every answer but the Swagger UI's: this origin's stylesheet
/// and images, no script at all (no page has one), requests and forms only to this origin,
/// never framed.
pub const CONTENT_SECURITY_POLICY_VALUE: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Where the vendored Swagger UI is served; its page runs its own scripts.
const SWAGGER_UI_PREFIX: &str = "/api/docs/";

/// One event per failed request: at ERROR for a server error (someone must look), at INFO for
/// a client's mistake (anyone can cause those, so they must not page anyone).
fn log_error<B>(response: &ServiceResponse<B>) {
    let Some(error) = response.response().error() else { return };
    let status = response.status().as_u16();
    if response.status().is_server_error() {
        tracing::error!(status, error = %error, "request failed");
    } else {
        tracing::info!(status, error = %error, "request refused");
    }
}

/// Seconds a client's reads go to the primary after its write: the lag bound, rounded up.
fn wrote_recently_seconds(settings: &Settings) -> i64 {
    i64::try_from(settings.replica_lag_max_millis.div_ceil(1_000)).unwrap_or(i64::MAX).max(1)
}

/// Marks a request that came as HEAD and is served as GET (see [`head_as_get`]).
#[derive(Clone, Copy)]
pub struct HeadRequest;

/// HEAD is GET without the body (RFC 9110, section 9.3.2), which monitors and load balancers
/// send: routed as GET, and the connection then sends the GET's status and headers, its
/// Content-Length included, and no body. Every middleware outside this one sees HEAD.
fn head_as_get<S>(mut req: actix_web::dev::ServiceRequest, srv: &S) -> S::Future
where
    S: actix_web::dev::Service<actix_web::dev::ServiceRequest>,
{
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
        req.extensions_mut().insert(HeadRequest);
    }
    srv.call(req)
}

/// The method a request came with: HEAD for one served as GET.
pub fn method_as_sent(req: &actix_web::HttpRequest) -> Method {
    if req.extensions().get::<HeadRequest>().is_some() {
        Method::HEAD
    } else {
        req.method().clone()
    }
}

/// Routes of the whole service.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.configure(health::routes).configure(openapi::routes).configure(api::routes).configure(pages::routes);
}

/// Starts the server on an already bound listener (port 0 in tests).
pub fn serve(state: AppState, listener: TcpListener) -> std::io::Result<Server> {
    let workers = match state.settings.workers {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };
    // The writer lock's figures beside the requests' (storage/write_lock.rs).
    let registry = prometheus::Registry::new();
    crate::storage::write_lock::register(&registry).map_err(|e| std::io::Error::other(format!("metrics: {e}")))?;
    // Route patterns as labels; every request that matches no route shares one label, so no
    // client can grow the page (or the memory behind it) by inventing paths.
    let prometheus = actix_web_prom::PrometheusMetricsBuilder::new("investai")
        .registry(registry)
        .endpoint("/metrics")
        .mask_unmatched_patterns(UNMATCHED_ROUTE_LABEL)
        .build()
        .map_err(|e| std::io::Error::other(format!("metrics: {e}")))?;
    let internal_errors = state.internal_errors.clone();
    let wrote_recently_seconds = state.replica.as_ref().map(|_| wrote_recently_seconds(&state.settings));
    let data = web::Data::new(state);
    let server = HttpServer::new(move || {
        let internal_errors = internal_errors.clone();
        App::new()
            .app_data(data.clone())
            .app_data(web::QueryConfig::default().error_handler(problem::query_error))
            .app_data(web::PathConfig::default().error_handler(problem::path_error))
            // The pages read their forms as bytes; the JSON API reads its bodies itself.
            .app_data(web::PayloadConfig::new(PAGE_FORM_BYTES_MAX))
            .wrap_fn(head_as_get)
            .wrap(prometheus.clone())
            .wrap(
                DefaultHeaders::new()
                    .add(("X-Content-Type-Options", "nosniff"))
                    .add(("X-Frame-Options", "DENY"))
                    .add(("Referrer-Policy", "no-referrer")),
            )
            .wrap_fn(move |req, srv| {
                use actix_web::dev::Service;
                let request_id = req.extensions().get::<RequestId>().map(|id| id.to_string());
                let swagger_ui = req.path().starts_with(SWAGGER_UI_PREFIX);
                let future = srv.call(req);
                let internal_errors = internal_errors.clone();
                async move {
                    let mut response = future.await?;
                    if response.status() == actix_web::http::StatusCode::INTERNAL_SERVER_ERROR {
                        internal_errors.fetch_add(1, Ordering::Relaxed);
                    }
                    log_error(&response);
                    let headers = response.headers_mut();
                    if let Some(id) = request_id.and_then(|id| HeaderValue::from_str(&id).ok()) {
                        headers.insert(HeaderName::from_static("x-request-id"), id);
                    }
                    if !swagger_ui {
                        headers
                            .insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY_VALUE));
                    }
                    Ok(response)
                }
            })
            .wrap_fn(move |req, srv| {
                use actix_web::dev::Service;
                let own_write_pending = req.cookie(WROTE_RECENTLY_COOKIE).is_some();
                let writes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
                let over_tls = req.connection_info().scheme() == "https";
                let future = READS_FROM_PRIMARY.scope(own_write_pending, srv.call(req));
                async move {
                    let mut response = future.await?;
                    let status = response.status();
                    if let (Some(seconds), true) = (wrote_recently_seconds, writes) {
                        if status.is_success() || status.is_redirection() {
                            let cookie = actix_web::cookie::Cookie::build(WROTE_RECENTLY_COOKIE, "1")
                                .path("/")
                                .http_only(true)
                                .secure(over_tls)
                                .same_site(actix_web::cookie::SameSite::Lax)
                                .max_age(actix_web::cookie::time::Duration::seconds(seconds))
                                .finish();
                            response.response_mut().add_cookie(&cookie).map_err(actix_web::Error::from)?;
                        }
                    }
                    Ok(response)
                }
            })
            .wrap_fn(|req, srv| {
                use actix_web::dev::Service;
                let chosen = req.cookie(crate::i18n::LANG_COOKIE).map(|c| c.value().to_string());
                let accept = req.headers().get(actix_web::http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
                let lang = crate::i18n::Lang::for_request(chosen.as_deref(), accept);
                crate::i18n::with_lang(lang, srv.call(req))
            })
            .wrap(TracingLogger::default())
            .configure(routes)
            .default_service(web::to(problem::not_found))
    })
    .workers(workers)
    .listen(listener)?
    .run();
    Ok(server)
}
