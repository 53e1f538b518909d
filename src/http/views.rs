//! Cached derived views: the JSON of views that are computed from the whole fund (metrics
//! through a hypothetical liquidation, the fund overview) is kept per node and served again
//! while the books have not changed.
//!
//! A body is kept under its view's key and the two counters as they were when its computation
//! began: the write transactions this process committed (so a node's own writes are seen at
//! once) and the changes the watcher saw in the database's books version (writes by other
//! nodes and by the command line, seen within `WATCH_INTERVAL_MS`). Once either moves,
//! requests ask for a new key, and the watcher's next reading drops the old bodies. Requests that miss the
//! same key together wait for one computation. If the watcher has not read the version for
//! `WATCH_FRESH_MAX_MS` (it can fall behind on a loaded machine), the first request to notice
//! reads the version itself, and the requests behind it wait for that one reading; when the
//! version cannot be read, nothing is served from the cache. Only successful views are kept; the
//! caller's access is checked before the cache is asked, and the key carries every input of
//! the view, the caller's party scope included. The cache holds at most `view_cache_bytes`.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use actix_web::web::Bytes;
use actix_web::HttpResponse;
use serde::Serialize;

use super::AppState;
use crate::error::{AppError, AppResult};
use crate::storage::{version, DbConnection, DbManager, DbTarget};

/// How often the watcher reads the database's books version.
pub const WATCH_INTERVAL_MS: u64 = 5;
/// Older than this, the watcher's last reading no longer vouches for cached views.
pub const WATCH_FRESH_MAX_MS: u64 = 200;
/// Pause before the watcher reconnects after losing its connection.
const WATCH_RECONNECT_MS: u64 = 500;

/// Views a cache of `bytes` is expected to hold, for sizing its table.
const VIEW_BYTES_TYPICAL: u64 = 4 * 1024;

/// A body weighs its bytes and its key's.
#[derive(Clone)]
struct BodyBytes;

impl quick_cache::Weighter<String, Bytes> for BodyBytes {
    fn weight(&self, key: &String, body: &Bytes) -> u64 {
        (key.len() + body.len()) as u64
    }
}

/// Views kept as values (for pages that render them), beside the JSON bodies.
pub const VALUE_VIEWS_MAX: usize = 64;

type ValueView = Arc<dyn std::any::Any + Send + Sync>;

pub struct ViewCache {
    entries: quick_cache::sync::Cache<String, Bytes, BodyBytes>,
    values: quick_cache::sync::Cache<String, ValueView>,
    remote_changes: AtomicU64,
    /// The books version last read, `VERSION_UNKNOWN` before the first reading.
    last_version: AtomicI64,
    /// When the books version was last read: milliseconds since `started`.
    watched_at_ms: AtomicU64,
    started: Instant,
    /// Requests that find the watcher behind queue here for one reading of the version.
    refreshing: tokio::sync::Mutex<()>,
}

/// `last_version` before any reading, or after a failed one.
const VERSION_UNKNOWN: i64 = i64::MIN;

impl ViewCache {
    /// A cache of at most `bytes` of views, watching the database at `target`; none when 0.
    pub fn start(bytes: u64, target: &DbTarget) -> Option<Arc<ViewCache>> {
        if bytes == 0 {
            return None;
        }
        let items = usize::try_from((bytes / VIEW_BYTES_TYPICAL).max(1)).unwrap_or(usize::MAX);
        let cache = Arc::new(ViewCache::unwatched(items, bytes));
        let (weak, target) = (Arc::downgrade(&cache), target.clone());
        let spawned = std::thread::Builder::new().name("view-watcher".into()).spawn(move || watch(weak, target));
        match spawned {
            Ok(_) => Some(cache),
            Err(error) => {
                tracing::warn!(%error, "cannot start the view watcher; views are computed on every request");
                None
            }
        }
    }

    /// `key` as of now: the view's key with both counters.
    fn versioned(&self, key: &str) -> String {
        let remote = self.remote_changes.load(Ordering::Acquire);
        format!("{key}@{}.{remote}", version::writes_committed())
    }

    fn watcher_is_fresh(&self) -> bool {
        let now = self.started.elapsed().as_millis() as u64;
        now.saturating_sub(self.watched_at_ms.load(Ordering::Acquire)) <= WATCH_FRESH_MAX_MS
    }

    /// An empty cache of at most `items` and `bytes`, with no reading of the version yet.
    fn unwatched(items: usize, bytes: u64) -> ViewCache {
        ViewCache {
            entries: quick_cache::sync::Cache::with_weighter(items, bytes, BodyBytes),
            values: quick_cache::sync::Cache::new(VALUE_VIEWS_MAX),
            remote_changes: AtomicU64::new(0),
            last_version: AtomicI64::new(VERSION_UNKNOWN),
            watched_at_ms: AtomicU64::new(0),
            started: Instant::now(),
            refreshing: tokio::sync::Mutex::new(()),
        }
    }

    /// Takes a reading of the books version: a change moves the counter and drops every view
    /// kept so far (all of them are of older books, and left to eviction they would fill the
    /// cache with dead bodies between writes). Two readers may count one change twice, which
    /// only drops bodies early.
    fn observe(&self, version: i64) {
        if self.last_version.swap(version, Ordering::AcqRel) != version {
            self.remote_changes.fetch_add(1, Ordering::AcqRel);
            self.entries.clear();
            self.values.clear();
        }
        let now = self.started.elapsed().as_millis() as u64;
        self.watched_at_ms.fetch_max(now, Ordering::AcqRel);
    }

    /// A failed reading: until the next good one, any version counts as a change.
    fn lose_sight(&self) {
        self.last_version.store(VERSION_UNKNOWN, Ordering::Release);
    }

    /// True once the version has been read within `WATCH_FRESH_MAX_MS`, reading it here when
    /// the watcher is behind.
    async fn is_fresh(&self, state: &AppState) -> bool {
        if self.watcher_is_fresh() {
            return true;
        }
        let _turn = self.refreshing.lock().await;
        if self.watcher_is_fresh() {
            return true;
        }
        match state.db(version::books_version).await {
            Ok(version) => {
                self.observe(version);
                true
            }
            Err(_) => {
                self.lose_sight();
                false
            }
        }
    }
}

/// Answers the JSON of `compute`, from the node's cache while the books are unchanged.
pub async fn cached_json<T, F>(state: &AppState, key: String, compute: F) -> AppResult<HttpResponse>
where
    T: Serialize + Send + 'static,
    F: FnOnce(&mut DbConnection) -> AppResult<T> + Clone + Send + 'static,
{
    let computed = async {
        let (view, current) = state.read_db_for_view(compute).await?;
        let mut body = serde_json::to_vec(&view).map_err(AppError::internal)?;
        // Kept bodies hold no spare capacity: the cache weighs their length.
        body.shrink_to_fit();
        Ok::<_, AppError>((Bytes::from(body), current))
    };
    let cache = match state.views.as_ref() {
        Some(cache) if cache.is_fresh(state).await => Some(cache),
        _ => None,
    };
    let body = match cache {
        Some(cache) => get_or_compute(&cache.entries, cache.versioned(&key), computed).await?,
        None => computed.await?.0,
    };
    Ok(HttpResponse::Ok().content_type("application/json").body(body))
}

/// As [`cached_json`], for a view a page renders: the value itself, shared.
pub async fn cached_value<T, F>(state: &AppState, key: String, compute: F) -> AppResult<Arc<T>>
where
    T: Send + Sync + 'static,
    F: FnOnce(&mut DbConnection) -> AppResult<T> + Clone + Send + 'static,
{
    let computed = async {
        let (value, current) = state.read_db_for_view(compute).await?;
        Ok::<_, AppError>((Arc::new(value) as ValueView, current))
    };
    let cache = match state.views.as_ref() {
        Some(cache) if cache.is_fresh(state).await => Some(cache),
        _ => None,
    };
    let value = match cache {
        Some(cache) => get_or_compute(&cache.values, cache.versioned(&key), computed).await?,
        None => computed.await?.0,
    };
    value.downcast::<T>().map_err(|_| AppError::internal(format!("view {key} was cached as another type")))
}

/// The view under `key`, or else computed: requests that miss the same key together wait for
/// one computation. The counters in `key` were read before computing, so a write that lands
/// meanwhile moves them and later requests ask for a key this view is not under. A view read
/// from a standby that was behind the books at the time is answered but not kept.
async fn get_or_compute<V, W>(
    cache: &quick_cache::sync::Cache<String, V, W>,
    key: String,
    compute: impl std::future::Future<Output = AppResult<(V, bool)>>,
) -> AppResult<V>
where
    V: Clone,
    W: quick_cache::Weighter<String, V> + Clone,
{
    match cache.get_value_or_guard_async(&key).await {
        Ok(value) => Ok(value),
        Err(guard) => {
            let (value, current) = compute.await?;
            if current {
                let _ = guard.insert(value.clone());
            }
            Ok(value)
        }
    }
}

/// Reads the books version every `WATCH_INTERVAL_MS` on a connection of its own, until the
/// cache is dropped. A change, or a failed read, invalidates every cached view.
fn watch(cache: Weak<ViewCache>, target: DbTarget) {
    let manager = DbManager::new(target);
    let mut conn: Option<DbConnection> = None;
    loop {
        std::thread::sleep(Duration::from_millis(WATCH_INTERVAL_MS));
        let Some(cache) = cache.upgrade() else { return };
        if conn.is_none() {
            conn = diesel::r2d2::ManageConnection::connect(&manager).ok();
        }
        let reading = conn.as_mut().map(version::books_version);
        match reading {
            Some(Ok(current)) => cache.observe(current),
            Some(Err(_)) | None => {
                // Blind: forget the connection; stale readings cannot vouch for any view.
                conn = None;
                cache.lose_sight();
                drop(cache);
                std::thread::sleep(Duration::from_millis(WATCH_RECONNECT_MS));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache() -> ViewCache {
        ViewCache::unwatched(16, 1 << 20)
    }

    #[test]
    fn a_reading_moves_the_key_only_when_the_version_changed_or_was_lost() {
        let cache = cache();
        let key = |cache: &ViewCache| cache.versioned("overview");
        cache.observe(7);
        let first = key(&cache);
        cache.observe(7);
        assert_eq!(key(&cache), first, "same version, same key");
        cache.observe(8);
        let second = key(&cache);
        assert_ne!(second, first);
        cache.lose_sight();
        cache.observe(8);
        assert_ne!(key(&cache), second, "after a failed reading, nothing read before is trusted");
    }

    #[test]
    fn a_change_of_the_books_frees_the_views_of_the_old_books_at_once() {
        let cache = cache();
        cache.observe(7);
        let old = cache.versioned("overview");
        cache.entries.insert(old.clone(), Bytes::from_static(b"{}"));
        cache.values.insert(old.clone(), Arc::new(1_u8) as ValueView);
        cache.observe(7);
        assert_eq!(cache.entries.len(), 1, "same books: the view stays");
        cache.observe(8);
        assert_eq!((cache.entries.len(), cache.values.len()), (0, 0), "no dead view waits for eviction");
        assert_eq!(cache.entries.weight(), 0);
    }

    #[test]
    fn a_watcher_that_stopped_reading_is_not_fresh() {
        let cache = cache();
        cache.observe(1);
        assert!(cache.watcher_is_fresh());
        // Its last reading at the start, more than WATCH_FRESH_MAX_MS ago.
        cache.watched_at_ms.store(0, Ordering::Release);
        std::thread::sleep(Duration::from_millis(WATCH_FRESH_MAX_MS + 10));
        assert!(!cache.watcher_is_fresh());
    }
}
