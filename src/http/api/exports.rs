//! Auditor exports of a fund's books, streamed: the journal as CSV, JSON lines and an hledger
//! journal, a workbook, the trial balance and the capital accounts. See docs/exports.md.
//!
//! The snapshot (fund, chain head, last entry covered) is fixed before the first byte, so a
//! refusal is still a problem document. The body is written by a blocking thread that reads
//! the journal page by page and hands chunks to the response through a bounded channel: a
//! slow client holds the writer back, and memory stays flat however large the ledger. A client
//! that reads nothing for `EXPORT_STALL_SECONDS_MAX` is cut off, so that it cannot hold a
//! database connection for as long as it keeps the socket open.

use crate::http::routes::RouteTable;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use chrono::{Datelike, SecondsFormat, Utc};
use tokio::sync::mpsc;
use tracing_actix_web::RequestId;

use super::AsOfQuery;
use crate::domain::export::ExportMeta;
use crate::error::{AppError, AppResult};
use crate::http::extract::{bearer_or_session_principal, parse_id, parse_query};
use crate::http::AppState;
use crate::storage::export::{self, ExportKind};
use crate::storage::PooledConn;

/// Chunks waiting between the writer thread and the client: with `EXPORT_CHUNK_BYTES` each,
/// at most about half a megabyte of an export is in memory at once.
pub const EXPORT_CHANNEL_CHUNKS: usize = 8;

/// Longest the writer waits for the client to take a chunk before it stops the export and
/// gives its database connection back.
pub const EXPORT_STALL_SECONDS_MAX: u64 = 60;

/// How often a writer held back by a full channel looks again.
const EXPORT_STALL_POLL_MILLIS: u64 = 5;
/// Size at which the writer hands a chunk to the response.
pub const EXPORT_CHUNK_BYTES: usize = 64 * 1024;

/// Response headers that tie an export to the hash chain (`investai verify`).
pub const AS_OF_HEADER: &str = "X-Ledger-As-Of";
pub const LAST_SEQUENCE_HEADER: &str = "X-Ledger-Last-Sequence";
pub const LAST_HASH_HEADER: &str = "X-Ledger-Last-Hash";
pub const HEAD_SEQUENCE_HEADER: &str = "X-Ledger-Head-Sequence";
pub const HEAD_HASH_HEADER: &str = "X-Ledger-Head-Hash";

pub fn routes(table: &mut RouteTable) {
    table.get("/funds/{fund_id}/exports/{name}", download_export);
}

type Chunk = Result<Bytes, io::Error>;

/// An `io::Write` that gathers bytes into chunks and sends each full chunk through the
/// bounded channel, blocking while the channel is full. Writing fails once the client has
/// gone (the receiving end is dropped), which stops the export.
struct ChunkSink {
    tx: mpsc::Sender<Chunk>,
    buffer: Vec<u8>,
    closed: bool,
    stall_max: Duration,
    /// Set once the last chunk is in the channel: a channel that closes without it ends the
    /// response with an error, so that a stopped export never looks complete.
    complete: Arc<AtomicBool>,
}

impl ChunkSink {
    fn new(tx: mpsc::Sender<Chunk>, stall_max: Duration) -> ChunkSink {
        let complete = Arc::new(AtomicBool::new(false));
        ChunkSink { tx, buffer: Vec::with_capacity(EXPORT_CHUNK_BYTES), closed: false, stall_max, complete }
    }

    /// Waits while the channel is full, at most `stall_max`; a client gone or stalled that
    /// long closes the sink.
    fn send(&mut self, mut chunk: Chunk) -> io::Result<()> {
        let since = Instant::now();
        loop {
            match self.tx.try_send(chunk) {
                Ok(()) => return Ok(()),
                Err(mpsc::error::TrySendError::Full(back)) if since.elapsed() < self.stall_max => {
                    chunk = back;
                    std::thread::sleep(Duration::from_millis(EXPORT_STALL_POLL_MILLIS));
                }
                Err(_) => {
                    self.closed = true;
                    return Err(io::Error::new(io::ErrorKind::BrokenPipe, "the client went away or stalled"));
                }
            }
        }
    }

    fn send_buffer(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let full = std::mem::replace(&mut self.buffer, Vec::with_capacity(EXPORT_CHUNK_BYTES));
        self.send(Ok(Bytes::from(full)))
    }

    /// Sends what is left and marks the export complete; the response ends when the sink is
    /// dropped.
    fn finish(mut self) -> io::Result<()> {
        self.send_buffer()?;
        self.complete.store(true, Ordering::SeqCst);
        Ok(())
    }

    /// Ends the response with an error: the connection is cut, so the client sees a
    /// truncated transfer rather than a file that looks complete.
    fn fail(mut self, reason: String) {
        self.buffer.clear();
        let _ = self.send(Err(io::Error::other(reason)));
    }
}

impl Write for ChunkSink {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.closed {
            return Err(io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"));
        }
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= EXPORT_CHUNK_BYTES {
            self.send_buffer()?;
        }
        Ok(data.len())
    }

    /// Chunks leave when full or at the end; a flush of a writer on top changes nothing.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The response body of a writer's channel: its chunks, then the end when the writer marked the
/// export complete, or an error (the connection is cut) when it stopped before.
fn body_of(rx: mpsc::Receiver<Chunk>, complete: Arc<AtomicBool>) -> impl futures_util::Stream<Item = Chunk> {
    futures_util::stream::unfold((rx, complete, false), |(mut rx, complete, ended)| async move {
        if ended {
            return None;
        }
        match rx.recv().await {
            Some(chunk) => Some((chunk, (rx, complete, false))),
            None if complete.load(Ordering::SeqCst) => None,
            None => Some((Err(io::Error::other("the export stopped before its end")), (rx, complete, true))),
        }
    })
}

/// Writes the export on a blocking thread with the connection the snapshot was read on.
fn spawn_writer(
    mut conn: PooledConn,
    kind: ExportKind,
    meta: ExportMeta,
    verifier_key: Option<Arc<str>>,
    request_id: String,
) -> (mpsc::Receiver<Chunk>, Arc<AtomicBool>) {
    let (tx, rx) = mpsc::channel(EXPORT_CHANNEL_CHUNKS);
    let sink = ChunkSink::new(tx, Duration::from_secs(EXPORT_STALL_SECONDS_MAX));
    let complete = sink.complete.clone();
    // Detached: the thread ends when the export is written, fails, or the client goes away.
    drop(actix_web::rt::task::spawn_blocking(move || {
        let mut sink = sink;
        let outcome = export::write_export(&mut conn, kind, &meta, verifier_key.as_deref(), &mut sink);
        match outcome {
            Ok(written) => match sink.finish() {
                Ok(()) => tracing::info!(
                    request_id,
                    export = kind.name(),
                    fund_id = meta.fund_id,
                    entries = written.entries,
                    postings = written.postings,
                    last_sequence = meta.last_sequence,
                    "export written"
                ),
                Err(_) => {
                    tracing::info!(request_id, export = kind.name(), "export stopped: the client went away or stalled")
                }
            },
            Err(_) if sink.closed => {
                tracing::info!(request_id, export = kind.name(), "export stopped: the client went away or stalled")
            }
            Err(error) => {
                tracing::error!(request_id, export = kind.name(), error = %error, "export failed mid-stream");
                sink.fail(error.to_string());
            }
        }
    }));
    (rx, complete)
}

/// Download an export of a fund's books as of a date (auditors, staff, admin; a bearer token
/// or the browser session). `name` is one of `journal.csv`, `journal.jsonl`,
/// `journal.hledger`, `journal.beancount`, `journal-proofs.jsonl`, `workbook.xlsx`, `trial-balance.csv`,
/// `capital-accounts.csv`. The body
/// is streamed; the `X-Ledger-*` headers (and the file itself) state the snapshot it covers.
#[utoipa::path(get, path = "/funds/{fund_id}/exports/{name}", tag = "exports", security(("bearer" = []), ("session" = [])),
    params(("fund_id" = String, Path, format = Uuid),
        ("name" = String, Path, description = "journal.csv, journal.jsonl, journal.hledger (date order, balances asserted at as_of), journal.beancount, journal-proofs.jsonl (each entry with its inclusion proof in the latest checkpoint; 422 no-checkpoint before one is signed), workbook.xlsx, trial-balance.csv or capital-accounts.csv"),
        ("as_of" = Option<chrono::NaiveDate>, Query, description = "Calendar date (UTC), inclusive; today when omitted")),
    responses(
        (status = 200, description = "The export, streamed as an attachment. Entries with an effective date on or before as_of and a sequence up to the chain head at the start are covered.",
            content(
                (String = "text/csv"),
                (String = "application/jsonl"),
                (String = "text/plain"),
                (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            ),
            headers(
                ("X-Ledger-As-Of" = String, description = "The as-of date, YYYY-MM-DD"),
                ("X-Ledger-Last-Sequence" = i64, description = "Sequence of the last entry covered (0 if none)"),
                ("X-Ledger-Last-Hash" = String, description = "Hash of the last entry covered (64 zeros if none)"),
                ("X-Ledger-Head-Sequence" = i64, description = "Sequence of the chain head when the export started"),
                ("X-Ledger-Head-Hash" = String, description = "Hash of the chain head when the export started"),
                ("Content-Disposition" = String, description = "attachment; filename=\"investai-<fund>-<export>-<as_of>.<ext>\""),
            )),
        (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 401, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 403, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn download_export(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let principal = bearer_or_session_principal(&req).await?;
    if !principal.role.reads_all() {
        return Err(AppError::Forbidden(format!("the {} role may not export the books", principal.role)));
    }
    let (fund_id, name) = path.into_inner();
    let kind = ExportKind::parse(&name).ok_or_else(|| AppError::not_found(format!("export {name}")))?;
    let fund_id = parse_id("fund_id", &fund_id)?;
    let as_of = parse_query::<AsOfQuery>(req.query_string())?.date();
    // Beancount checks balances at the start of the next day, which a four-digit year lacks
    // after 9999-12-31 (and beancount reads no other).
    if kind == ExportKind::JournalBeancount && as_of.succ_opt().is_none_or(|next| next.year() > 9999) {
        return Err(AppError::field(
            "query.as_of",
            "at most 9999-12-30: the beancount file checks balances on the day after",
        ));
    }
    let exported_at = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
    let (snapshot_key, writer_key) = (state.checkpoint_verifier_key.clone(), state.checkpoint_verifier_key.clone());
    // The connection is taken before the response starts: a busy pool is still a 503 problem.
    // An export may be a little behind the books: the read replica serves it when in use.
    let (conn, meta) = state
        .read_db_keeping_connection(move |conn| {
            export::snapshot(conn, kind, &fund_id, as_of, exported_at, snapshot_key.as_deref())
        })
        .await?;
    let request_id = req.extensions().get::<RequestId>().map(|id| id.to_string()).unwrap_or_default();

    let mut response = HttpResponse::Ok();
    response
        .content_type(kind.content_type())
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", kind.file_name(&meta.fund_id, meta.as_of)),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((AS_OF_HEADER, meta.as_of.to_string()))
        .insert_header((LAST_SEQUENCE_HEADER, meta.last_sequence.to_string()))
        .insert_header((LAST_HASH_HEADER, meta.last_hash.clone()))
        .insert_header((HEAD_SEQUENCE_HEADER, meta.head_sequence.to_string()))
        .insert_header((HEAD_HASH_HEADER, meta.head_hash.clone()));
    let (rx, complete) = spawn_writer(conn, kind, meta, writer_key, request_id);
    let body = body_of(rx, complete);
    Ok(response.streaming(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_writer_whose_client_reads_nothing_stops_after_the_stall_limit() {
        let (tx, rx) = mpsc::channel::<Chunk>(EXPORT_CHANNEL_CHUNKS);
        let mut sink = ChunkSink::new(tx, Duration::from_millis(200));
        let chunk = vec![b'x'; EXPORT_CHUNK_BYTES];
        for _ in 0..EXPORT_CHANNEL_CHUNKS {
            sink.write_all(&chunk).expect("the channel takes its chunks");
        }
        let started = Instant::now();
        let stalled = sink.write_all(&chunk);
        assert_eq!(stalled.map_err(|e| e.kind()), Err(io::ErrorKind::BrokenPipe));
        assert!(started.elapsed() >= Duration::from_millis(200), "it waited first: {:?}", started.elapsed());
        assert!(sink.closed);
        // The client that reads again gets what was queued, then an error: never a clean end.
        let complete = sink.complete.clone();
        drop(sink);
        let read = collect_body(body_of(rx, complete));
        assert_eq!(read.len(), EXPORT_CHANNEL_CHUNKS + 1);
        assert!(read[..EXPORT_CHANNEL_CHUNKS].iter().all(Result::is_ok));
        assert!(read[EXPORT_CHANNEL_CHUNKS].is_err(), "the stopped export ends with an error");
    }

    /// Collects a body on a runtime of its own.
    fn collect_body(body: impl futures_util::Stream<Item = Chunk>) -> Vec<Chunk> {
        use futures_util::StreamExt;
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        runtime.block_on(body.collect::<Vec<_>>())
    }

    #[test]
    fn a_writer_whose_client_reads_goes_on() {
        let (tx, mut rx) = mpsc::channel::<Chunk>(EXPORT_CHANNEL_CHUNKS);
        let reader = std::thread::spawn(move || {
            let mut bytes = 0;
            while let Some(Ok(chunk)) = rx.blocking_recv() {
                bytes += chunk.len();
            }
            bytes
        });
        let mut sink = ChunkSink::new(tx, Duration::from_millis(200));
        let complete = sink.complete.clone();
        for _ in 0..4 * EXPORT_CHANNEL_CHUNKS {
            sink.write_all(&vec![b'y'; EXPORT_CHUNK_BYTES]).expect("a reading client is never cut off");
        }
        sink.finish().expect("finished");
        assert_eq!(reader.join().expect("reader"), 4 * EXPORT_CHANNEL_CHUNKS * EXPORT_CHUNK_BYTES);
        assert!(complete.load(Ordering::SeqCst), "marked complete");
    }
}
