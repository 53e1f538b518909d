//! The journal's public proofs, without a token: signed checkpoints, the key that signs them,
//! inclusion and consistency proofs (docs/ledger.md, "Merkle tree and checkpoints").

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::{page_limit, Page};
use crate::error::{AppError, AppResult};
use crate::http::extract::ValidQuery;
use crate::http::routes::RouteTable;
use crate::http::views::{cached_json, cached_value};
use crate::http::AppState;
use crate::storage::attribution::{self, GrantAttribution};
use crate::storage::merkle::{self, CheckpointRow, ConsistencyProof, InclusionProof};
use crate::storage::transparency::{self as public_figures, FundLine, OpenDataTable, TransparencyReport, LICENCE_URL};
use crate::storage::{read_tx, DbConnection};

pub fn routes(table: &mut RouteTable) {
    table.get("/transparency/checkpoint", latest_checkpoint);
    table.get("/transparency/checkpoints", list_checkpoints);
    table.get("/transparency/checkpoints/{tree_size}", checkpoint);
    table.get("/transparency/key", verifier_key);
    table.get("/transparency/proofs/inclusion", inclusion_proof);
    table.get("/transparency/proofs/consistency", consistency_proof);
    table.get("/transparency/funds/{fund_id}/grant-attribution", grant_attribution);
    table.get("/transparency/funds", fund_lines);
    table.get("/transparency/funds/{fund_id}", fund_report);
    table.get("/transparency/funds/{fund_id}/open-data/{file}", open_data);
}

/// A signed note, as C2SP's `tlog-checkpoint` serves it.
fn note_response(note: String) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; charset=utf-8").body(note)
}

/// The latest signed checkpoint of the journal (a C2SP signed note), without a token.
#[utoipa::path(get, path = "/transparency/checkpoint", tag = "transparency", responses(
    (status = 200, description = "origin, tree size and base64 root, a blank line, and Ed25519 signature lines", content_type = "text/plain", body = String),
    (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn latest_checkpoint(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let key = state.checkpoint_verifier_key.clone();
    let latest = state.db(move |conn| merkle::trusted_latest(conn, key.as_deref())).await?;
    latest.map(|row| note_response(row.note)).ok_or_else(|| AppError::NotFound("checkpoint (none issued yet)".into()))
}

/// `after` and `limit` of the checkpoint list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CheckpointsQuery {
    /// The `next_after` of the previous page: the tree size of its last checkpoint.
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// 1 to 500; 50 when omitted.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// The checkpoints whose note the node's verifier key opens, oldest first, without a token; a
/// row the key does not open is passed over, so a page may hold fewer than `limit`.
#[utoipa::path(get, path = "/transparency/checkpoints", tag = "transparency", params(CheckpointsQuery), responses(
    (status = 200, body = Page<CheckpointRow>),
    (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn list_checkpoints(
    state: web::Data<AppState>,
    query: ValidQuery<CheckpointsQuery>,
) -> AppResult<web::Json<Page<CheckpointRow>>> {
    let limit = page_limit(query.limit)?;
    let after = match query.after {
        Some(after) if after < 0 => return Err(AppError::field("query.after", "must be a tree size, 0 or more")),
        after => after.unwrap_or(0),
    };
    let Some(key) = state.checkpoint_verifier_key.clone() else {
        return Ok(web::Json(Page { items: Vec::new(), next_after: None }));
    };
    let page = state.db(move |conn| merkle::list_signed(conn, &key, after, limit)).await?;
    Ok(web::Json(Page { items: page.items, next_after: page.next_after }))
}

/// The signed checkpoint of one tree size, without a token.
#[utoipa::path(get, path = "/transparency/checkpoints/{tree_size}", tag = "transparency",
    params(("tree_size" = i64, Path, minimum = 1)),
    responses(
        (status = 200, description = "the signed note", content_type = "text/plain", body = String),
        (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn checkpoint(state: web::Data<AppState>, path: web::Path<String>) -> AppResult<HttpResponse> {
    let tree_size: i64 = path
        .into_inner()
        .parse()
        .ok()
        .filter(|size| *size >= 1)
        .ok_or_else(|| AppError::field("path.tree_size", "must be a tree size, 1 or more"))?;
    let key = state.checkpoint_verifier_key.clone();
    let row = state.db(move |conn| merkle::checkpoint_at(conn, tree_size)).await?;
    // Only a note the verifier key opens is served: a row written by hand is never shown.
    row.filter(|row| key.as_deref().is_some_and(|key| merkle::opened(row, key).is_ok()))
        .map(|row| note_response(row.note))
        .ok_or_else(|| AppError::NotFound(format!("checkpoint of tree size {tree_size}")))
}

/// The verifier key of the checkpoints (`<origin>+<key id>+<base64 Ed25519 key>`), without a
/// token. Keep a copy from another channel than this server: a key read from the server whose
/// checkpoints it checks proves nothing against that server.
#[utoipa::path(get, path = "/transparency/key", tag = "transparency", responses(
    (status = 200, description = "the signed-note verifier key", content_type = "text/plain", body = String),
    (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn verifier_key(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let key =
        state.checkpoint_verifier_key.as_ref().ok_or_else(|| AppError::NotFound("checkpoint key (none set)".into()))?;
    Ok(HttpResponse::Ok().content_type("text/plain; charset=utf-8").body(format!("{key}\n")))
}

/// An entry and a tree size.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InclusionQuery {
    /// The entry's sequence (its leaf index is one less).
    #[param(minimum = 1)]
    pub sequence: i64,
    /// The tree's size: the entry's sequence up to the journal's length.
    #[param(minimum = 1)]
    pub tree_size: i64,
}

/// Two tree sizes.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyQuery {
    #[param(minimum = 1)]
    pub from_size: i64,
    /// From `from_size` up to the journal's length.
    #[param(minimum = 1)]
    pub to_size: i64,
}

/// Refuses a tree size beyond the journal's.
fn within_tree(conn: &mut DbConnection, field: &str, size: i64) -> AppResult<()> {
    let length = merkle::tree_size(conn)?;
    if size > length {
        return Err(AppError::field(field, format!("the journal has {length} entries; {size} is beyond it")));
    }
    Ok(())
}

/// The proof that an entry is in the tree of a given size (RFC 6962 section 2.1.1), without a
/// token.
#[utoipa::path(get, path = "/transparency/proofs/inclusion", tag = "transparency", params(InclusionQuery), responses(
    (status = 200, body = InclusionProof),
    (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn inclusion_proof(
    state: web::Data<AppState>,
    query: ValidQuery<InclusionQuery>,
) -> AppResult<web::Json<InclusionProof>> {
    let InclusionQuery { sequence, tree_size } = query.0;
    let mut errors = Vec::new();
    if sequence < 1 {
        errors.push(crate::error::FieldError::new("query.sequence", "must be 1 or more"));
    }
    if tree_size < sequence.max(1) {
        errors.push(crate::error::FieldError::new("query.tree_size", "must be at least the entry's sequence"));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let key = state.checkpoint_verifier_key.clone();
    let proof = state
        .db(move |conn| {
            read_tx(conn, |c| {
                within_tree(c, "query.tree_size", tree_size)?;
                let checkpoint = merkle::signed_note(c, key.as_deref(), tree_size)?;
                Ok(merkle::InclusionProof { checkpoint, ..merkle::inclusion_proof(c, sequence, tree_size)? })
            })
        })
        .await?;
    Ok(web::Json(proof))
}

/// The proof that the tree of one size is a prefix of the tree of a larger one (RFC 6962
/// section 2.1.2), without a token.
#[utoipa::path(get, path = "/transparency/proofs/consistency", tag = "transparency", params(ConsistencyQuery), responses(
    (status = 200, body = ConsistencyProof),
    (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn consistency_proof(
    state: web::Data<AppState>,
    query: ValidQuery<ConsistencyQuery>,
) -> AppResult<web::Json<ConsistencyProof>> {
    let ConsistencyQuery { from_size, to_size } = query.0;
    let mut errors = Vec::new();
    if from_size < 1 {
        errors.push(crate::error::FieldError::new("query.from_size", "must be 1 or more"));
    }
    if to_size < from_size.max(1) {
        errors.push(crate::error::FieldError::new("query.to_size", "must be at least from_size"));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let key = state.checkpoint_verifier_key.clone();
    let proof = state
        .db(move |conn| {
            read_tx(conn, |c| {
                within_tree(c, "query.to_size", to_size)?;
                let from_checkpoint = merkle::signed_note(c, key.as_deref(), from_size)?;
                let to_checkpoint = merkle::signed_note(c, key.as_deref(), to_size)?;
                Ok(merkle::ConsistencyProof {
                    from_checkpoint,
                    to_checkpoint,
                    ..merkle::consistency_proof(c, from_size, to_size)?
                })
            })
        })
        .await?;
    Ok(web::Json(proof))
}

/// Where a fund's compute-grant money came from, by programme, Member State and SME category,
/// without a token (docs/grants.md, "Where the pool's money came from"). Private investors are
/// shown together, never one by one.
#[utoipa::path(get, path = "/transparency/funds/{fund_id}/grant-attribution", tag = "transparency",
    params(("fund_id" = String, Path, format = Uuid)),
    responses((status = 200, body = GrantAttribution), (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn grant_attribution(state: web::Data<AppState>, path: web::Path<String>) -> AppResult<HttpResponse> {
    let fund_id = crate::http::extract::parse_id("fund_id", &path.into_inner())?;
    let key = format!("grant-attribution/public/{fund_id}");
    cached_json(&state, key, move |conn| read_tx(conn, |c| attribution::grant_attribution(c, &fund_id, false))).await
}

/// The licence of the open data, as an RFC 8288 link any client can read.
fn licence_link() -> (&'static str, String) {
    ("Link", format!("<{LICENCE_URL}>; rel=\"license\""))
}

/// Every fund with its public and private money committed and paid in, and the leverage,
/// without a token.
#[utoipa::path(get, path = "/transparency/funds", tag = "transparency", responses((status = 200, body = [FundLine])))]
pub async fn fund_lines(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let lines = state.db(|conn| read_tx(conn, public_figures::fund_lines)).await?;
    Ok(HttpResponse::Ok().insert_header(licence_link()).json(lines))
}

/// Reads a fund's public figures in one snapshot, from the node's view cache while neither the
/// books nor the latest checkpoint have changed (the page, the JSON and the CSV files of one
/// state of the books are computed once).
pub async fn read_report(state: &web::Data<AppState>, fund_id: String) -> AppResult<Arc<TransparencyReport>> {
    let checkpoint_size = state.db(|conn| Ok(merkle::latest_checkpoint(conn)?.map_or(0, |c| c.tree_size))).await?;
    let key = format!("transparency-report/{fund_id}/{checkpoint_size}");
    let verifier_key = state.checkpoint_verifier_key.clone();
    cached_value(state, key, move |conn| {
        read_tx(conn, |c| public_figures::report(c, &fund_id, verifier_key.as_deref()))
    })
    .await
}

/// A fund's public figures, without a token (docs/transparency.md): committed and paid-in money
/// by programme and Member State, leverage, capital deployed per facility, the compute-grant
/// pool and where its money came from, the state-aid register and the latest checkpoint. Open
/// data under CC BY 4.0 (the `Link: rel="license"` header and `licence`).
#[utoipa::path(get, path = "/transparency/funds/{fund_id}", tag = "transparency",
    params(("fund_id" = String, Path, format = Uuid)),
    responses((status = 200, body = TransparencyReport),
        (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn fund_report(state: web::Data<AppState>, path: web::Path<String>) -> AppResult<HttpResponse> {
    let fund_id = crate::http::extract::parse_id("fund_id", &path.into_inner())?;
    let report = read_report(&state, fund_id).await?;
    Ok(HttpResponse::Ok().insert_header(licence_link()).json(&*report))
}

/// One table of a fund's public figures as CSV, without a token: `capital.csv`,
/// `facilities.csv`, `grant-attribution.csv`, `grants-by-sme-category.csv`,
/// `state-aid-register.csv`. The same figures as the JSON, amounts in EUR with two decimals.
#[utoipa::path(get, path = "/transparency/funds/{fund_id}/open-data/{file}", tag = "transparency",
    params(("fund_id" = String, Path, format = Uuid),
        ("file" = String, Path, description = "capital.csv, facilities.csv, grant-attribution.csv, grants-by-sme-category.csv or state-aid-register.csv")),
    responses((status = 200, content_type = "text/csv", body = String),
        (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn open_data(state: web::Data<AppState>, path: web::Path<(String, String)>) -> AppResult<HttpResponse> {
    let (fund_id, file) = path.into_inner();
    let fund_id = crate::http::extract::parse_id("fund_id", &fund_id)?;
    let table = OpenDataTable::from_file_name(&file).ok_or_else(|| {
        let names: Vec<String> = OpenDataTable::ALL.iter().map(|t| format!("{}.csv", t.name())).collect();
        AppError::field("file", format!("one of {}", names.join(", ")))
    })?;
    let report = read_report(&state, fund_id.clone()).await?;
    let body = public_figures::table_csv(&report, table)?;
    let file_name = format!("investai-{fund_id}-{}.csv", table.name());
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(licence_link())
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{file_name}\"")))
        .body(body))
}
