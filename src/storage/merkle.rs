//! The journal's Merkle tree in the database, its proofs and its checkpoints (docs/ledger.md,
//! "Merkle tree and checkpoints"; the hashing in `domain::merkle`). The tree grows in the
//! transaction that appends the entries it covers: each leaf stores about two hashes, and a
//! batch of leaves reads the tree's frontier (a hash per level) in one statement, so appending
//! costs the same at any size.

use std::cell::RefCell;
use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::schema::{checkpoints, journal_entries, merkle_hashes, merkle_tree};
use super::{DbConnection, PageOf};
use crate::domain::ledger::ChainVerifier;
use crate::domain::merkle::{self, Hash, HashReader};
use crate::error::{AppError, AppResult};

/// Entries read at a time when the tree catches up with the journal.
pub const CATCH_UP_PAGE_ENTRIES: i64 = 5_000;

/// Stored hashes, those of the write under way first, then the database's.
struct StoredHashes<'c> {
    conn: RefCell<&'c mut DbConnection>,
    pending: HashMap<u64, Hash>,
    /// Hashes read from the database already: a batch's leaves share their left siblings.
    read: RefCell<HashMap<u64, Hash>>,
    /// A database error met while the tree arithmetic was reading; reported after it.
    failure: RefCell<Option<diesel::result::Error>>,
}

impl<'c> StoredHashes<'c> {
    fn new(conn: &'c mut DbConnection) -> Self {
        StoredHashes {
            conn: RefCell::new(conn),
            pending: HashMap::new(),
            read: RefCell::new(HashMap::new()),
            failure: RefCell::new(None),
        }
    }

    fn error(&self, error: String) -> AppError {
        match self.failure.borrow_mut().take() {
            Some(database) => database.into(),
            None => AppError::internal(format!("Merkle tree: {error}")),
        }
    }
}

impl HashReader for StoredHashes<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::tlog::Error> {
        let mut found = self.read.borrow_mut();
        let missing: Vec<i64> = indexes
            .iter()
            .filter(|i| !self.pending.contains_key(i) && !found.contains_key(i))
            .filter_map(|&i| i64::try_from(i).ok())
            .collect();
        if !missing.is_empty() {
            let mut conn = self.conn.borrow_mut();
            // The tree grows with every entry: a plan cached while it was small scans it all.
            let rows: Vec<(i64, Vec<u8>)> = match merkle_hashes::table
                .filter(merkle_hashes::stored_index.eq_any(&missing))
                .filter(super::planned_each_time())
                .select((merkle_hashes::stored_index, merkle_hashes::hash))
                .load(&mut **conn)
            {
                Ok(rows) => rows,
                Err(error) => {
                    *self.failure.borrow_mut() = Some(error);
                    return Err(tlog_tiles::tlog::Error::IndexesNotInTree);
                }
            };
            for (index, bytes) in rows {
                let hash: [u8; 32] = bytes.try_into().map_err(|_| tlog_tiles::tlog::Error::MalformedHash)?;
                found.insert(index as u64, Hash(hash));
            }
        }
        indexes
            .iter()
            .map(|i| {
                self.pending.get(i).or_else(|| found.get(i)).copied().ok_or(tlog_tiles::tlog::Error::IndexesNotInTree)
            })
            .collect()
    }
}

/// How many entries the tree holds.
pub fn tree_size(conn: &mut DbConnection) -> AppResult<i64> {
    Ok(merkle_tree::table.find(1).select(merkle_tree::size).first(conn)?)
}

/// Appends the leaves of the entries with chain hashes `entry_hashes`, which follow the tree's
/// last leaf (`size`), and records the new size. Call in the transaction that appends them.
pub fn append(conn: &mut DbConnection, size: i64, entry_hashes: &[&str]) -> AppResult<()> {
    let new_size = append_leaves(conn, size, entry_hashes)?;
    diesel::update(merkle_tree::table.find(1)).set(merkle_tree::size.eq(new_size)).execute(conn)?;
    Ok(())
}

/// As [`append`], leaving the new size, which it answers, for the caller to record in the same
/// transaction (with the journal's head, in one statement).
pub fn append_leaves(conn: &mut DbConnection, size: i64, entry_hashes: &[&str]) -> AppResult<i64> {
    if entry_hashes.is_empty() {
        return Ok(size);
    }
    let mut stored = StoredHashes::new(conn);
    // The only stored hashes appending reads, in one statement for the whole batch.
    let frontier = merkle::frontier_indexes(u64::try_from(size).map_err(AppError::internal)?);
    stored.read_hashes(&frontier).map_err(|e| stored.error(e.to_string()))?;
    let mut rows: Vec<(i64, Vec<u8>)> = Vec::with_capacity(entry_hashes.len() * 2);
    for (offset, entry_hash) in entry_hashes.iter().enumerate() {
        let index = size as u64 + offset as u64;
        let leaf = merkle::leaf_hash(entry_hash).map_err(|e| AppError::internal(e.to_string()))?;
        let new = merkle::hashes_to_store(index, leaf, &stored).map_err(|e| stored.error(e))?;
        let first = merkle::stored_index(0, index);
        for (k, hash) in new.into_iter().enumerate() {
            stored.pending.insert(first + k as u64, hash);
            rows.push(((first + k as u64) as i64, hash.0.to_vec()));
        }
    }
    let conn = stored.conn.into_inner();
    for chunk in rows.chunks(1_000) {
        let values: Vec<_> = chunk
            .iter()
            .map(|(index, hash)| (merkle_hashes::stored_index.eq(index), merkle_hashes::hash.eq(hash)))
            .collect();
        super::batch_insert!(conn, merkle_hashes::table, &values);
    }
    Ok(size + entry_hashes.len() as i64)
}

/// Brings the tree up to the journal's last entry (a database whose entries predate the tree),
/// a page at a time. Call inside a write transaction.
pub fn catch_up(conn: &mut DbConnection) -> AppResult<i64> {
    loop {
        let size = tree_size(conn)?;
        let hashes: Vec<String> = journal_entries::table
            .filter(journal_entries::sequence.gt(size))
            .order(journal_entries::sequence.asc())
            .limit(CATCH_UP_PAGE_ENTRIES)
            .select(journal_entries::hash)
            .load(conn)?;
        if hashes.is_empty() {
            return Ok(size);
        }
        let borrowed: Vec<&str> = hashes.iter().map(String::as_str).collect();
        append(conn, size, &borrowed)?;
    }
}

/// The root of the first `size` leaves.
pub fn root(conn: &mut DbConnection, size: u64) -> AppResult<Hash> {
    let stored = StoredHashes::new(conn);
    merkle::tree_root(size, &stored).map_err(|e| stored.error(e))
}

/// An inclusion proof, as the API answers it (docs/ledger.md).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct InclusionProof {
    /// The entry's sequence; its leaf index is `sequence - 1`.
    pub sequence: i64,
    pub leaf_index: i64,
    pub tree_size: i64,
    /// The entry's chain hash (the leaf's data), hex.
    pub entry_hash: String,
    /// `SHA-256(0x00 || entry hash bytes)`, hex.
    pub leaf_hash: String,
    /// The root of the tree of `tree_size` leaves, hex.
    pub root_hash: String,
    /// The audit path, from the leaf's sibling up, hex (RFC 6962 section 2.1.1).
    pub hashes: Vec<String>,
    /// The signed checkpoint of `tree_size` entries (a C2SP note the node's verifier key opens),
    /// when one was signed: check the root against it. Null for a size never signed, whose root
    /// is the server's word alone.
    pub checkpoint: Option<String>,
}

/// A consistency proof, as the API answers it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ConsistencyProof {
    pub from_size: i64,
    pub to_size: i64,
    pub from_root_hash: String,
    pub to_root_hash: String,
    /// RFC 6962 section 2.1.2's proof, hex.
    pub hashes: Vec<String>,
    /// The signed checkpoints of `from_size` and `to_size` entries, as `checkpoint` of an
    /// inclusion proof: null for a size never signed.
    pub from_checkpoint: Option<String>,
    pub to_checkpoint: Option<String>,
}

fn hexes(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(merkle::hex_of).collect()
}

/// The proof that entry `sequence` is in the tree of `tree_size` leaves. The caller has checked
/// `1 <= sequence <= tree_size <= tree size`.
pub fn inclusion_proof(conn: &mut DbConnection, sequence: i64, tree_size: i64) -> AppResult<InclusionProof> {
    let entry_hash: String = journal_entries::table
        .filter(journal_entries::sequence.eq(sequence))
        .select(journal_entries::hash)
        .first(conn)?;
    let leaf = merkle::leaf_hash(&entry_hash).map_err(|e| AppError::internal(e.to_string()))?;
    let proof = audit_path(conn, sequence, tree_size)?;
    let root = root(conn, tree_size as u64)?;
    Ok(InclusionProof {
        sequence,
        leaf_index: sequence - 1,
        tree_size,
        entry_hash,
        leaf_hash: merkle::hex_of(&leaf),
        root_hash: merkle::hex_of(&root),
        hashes: hexes(&proof),
        checkpoint: None,
    })
}

/// The audit path of entry `sequence` in the tree of `tree_size` leaves, alone: for callers that
/// have the entry and the root already (the proofs export).
pub fn audit_path(conn: &mut DbConnection, sequence: i64, tree_size: i64) -> AppResult<Vec<Hash>> {
    let stored = StoredHashes::new(conn);
    merkle::prove_inclusion(tree_size as u64, (sequence - 1) as u64, &stored).map_err(|e| stored.error(e))
}

/// The proof that the tree of `from_size` leaves is a prefix of the tree of `to_size`. The
/// caller has checked `1 <= from_size <= to_size <= tree size`.
pub fn consistency_proof(conn: &mut DbConnection, from_size: i64, to_size: i64) -> AppResult<ConsistencyProof> {
    let stored = StoredHashes::new(conn);
    let proof = merkle::prove_consistency(to_size as u64, from_size as u64, &stored).map_err(|e| stored.error(e))?;
    let from_root = merkle::tree_root(from_size as u64, &stored).map_err(|e| stored.error(e))?;
    let to_root = merkle::tree_root(to_size as u64, &stored).map_err(|e| stored.error(e))?;
    Ok(ConsistencyProof {
        from_size,
        to_size,
        from_root_hash: merkle::hex_of(&from_root),
        to_root_hash: merkle::hex_of(&to_root),
        hashes: hexes(&proof),
        from_checkpoint: None,
        to_checkpoint: None,
    })
}

/// A stored checkpoint.
#[derive(Clone, Debug, Queryable, Selectable, Insertable, Serialize, ToSchema)]
#[diesel(table_name = checkpoints)]
pub struct CheckpointRow {
    pub tree_size: i64,
    /// The root, hex (the note carries it in base64).
    pub root_hash: String,
    /// The C2SP signed note.
    pub note: String,
    #[serde(serialize_with = "crate::domain::time::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub issued_at: NaiveDateTime,
}

pub fn latest_checkpoint(conn: &mut DbConnection) -> AppResult<Option<CheckpointRow>> {
    Ok(checkpoints::table
        .order(checkpoints::tree_size.desc())
        .select(CheckpointRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn checkpoint_at(conn: &mut DbConnection, tree_size: i64) -> AppResult<Option<CheckpointRow>> {
    Ok(checkpoints::table.find(tree_size).select(CheckpointRow::as_select()).first(conn).optional()?)
}

/// Stored checkpoints looked through, newest first, for one whose note the key opens.
pub const CHECKPOINTS_SCANNED_MAX: i64 = 1_000;

/// Stored checkpoints read at once while looking for one the key opens.
const CHECKPOINTS_PAGE_ROWS: i64 = 16;

/// The newest stored checkpoint whose note opens with `verifier_key`, with what the note says.
/// A newer row whose note does not open (written to the table by hand) is passed over and
/// logged once, never trusted.
pub fn latest_signed(
    conn: &mut DbConnection,
    verifier_key: &str,
) -> AppResult<Option<(CheckpointRow, merkle::SignedCheckpoint)>> {
    Ok(scan_signed(conn, verifier_key)?.0)
}

/// `latest_signed`, and how many newer rows were passed over.
fn scan_signed(
    conn: &mut DbConnection,
    verifier_key: &str,
) -> AppResult<(Option<(CheckpointRow, merkle::SignedCheckpoint)>, usize)> {
    let mut passed_over: Vec<i64> = Vec::new();
    let mut found = None;
    // Page by page, newest first: the newest row is the node's own in the ordinary case, so one
    // small read answers, and never more than `CHECKPOINTS_SCANNED_MAX` rows are read.
    'pages: while found.is_none() && (passed_over.len() as i64) < CHECKPOINTS_SCANNED_MAX {
        let below = passed_over.last().copied().unwrap_or(i64::MAX);
        let room = CHECKPOINTS_SCANNED_MAX - passed_over.len() as i64;
        let rows: Vec<CheckpointRow> = checkpoints::table
            .filter(checkpoints::tree_size.lt(below))
            .order(checkpoints::tree_size.desc())
            .limit(room.min(CHECKPOINTS_PAGE_ROWS))
            .select(CheckpointRow::as_select())
            .load(conn)?;
        if rows.is_empty() {
            break;
        }
        for row in rows {
            match opened(&row, verifier_key) {
                Ok(signed) => {
                    found = Some((row, signed));
                    continue 'pages;
                }
                Err(_) => passed_over.push(row.tree_size),
            }
        }
    }
    if let Some(newest) = passed_over.first() {
        tracing::warn!(
            passed_over = passed_over.len(),
            newest,
            "stored checkpoints whose note this node's key does not open are passed over"
        );
    }
    Ok((found, passed_over.len()))
}

/// The latest checkpoint to show or prove against: the newest whose note opens with the
/// verifier key, size and root as its note says (`latest_signed`); without a key, none, since
/// no row could be checked.
pub fn trusted_latest(conn: &mut DbConnection, verifier_key: Option<&str>) -> AppResult<Option<CheckpointRow>> {
    let Some(key) = verifier_key else {
        return Ok(None);
    };
    Ok(latest_signed(conn, key)?.map(|(row, signed)| CheckpointRow { root_hash: merkle::hex_of(&signed.root), ..row }))
}

/// What a stored checkpoint's note says, its signature checked with `verifier_key`: never what
/// the row's other columns say, which anyone who can write to the table can set. Refused when
/// the note does not open with the key or names another size than the row.
pub fn opened(row: &CheckpointRow, verifier_key: &str) -> AppResult<merkle::SignedCheckpoint> {
    let refuse = |why: String| {
        Err(AppError::Unavailable(format!(
            "the stored checkpoint of {} entries is not one this key signed: {why}; compare the table `checkpoints` \
             with the published notes",
            row.tree_size
        )))
    };
    match merkle::open_checkpoint(row.note.as_bytes(), verifier_key) {
        Ok(signed) if i64::try_from(signed.size).ok() == Some(row.tree_size) => Ok(signed),
        Ok(signed) => refuse(format!("its note names {} entries", signed.size)),
        Err(error) => refuse(error.to_string()),
    }
}

/// Refuses to go on unless the tree of `size` leaves has the signed tree of `signed_size`
/// leaves and `signed_root` as its prefix.
fn extends(conn: &mut DbConnection, size: i64, signed_size: i64, signed_root: Hash) -> AppResult<()> {
    let refuse = |what: String| {
        Err(AppError::Unavailable(format!(
            "not signing: {what}; the journal does not extend the checkpoint of {signed_size} entries already signed \
             (restored from an older backup, or rewritten): compare it with `investai verify --checkpoint`"
        )))
    };
    if size < signed_size {
        return refuse(format!("the tree has {size} entries"));
    }
    if root(conn, signed_size as u64)? != signed_root {
        return refuse(format!("the root of its first {signed_size} entries is another"));
    }
    Ok(())
}

/// The root of the first `size` entries, worked out from the entries themselves rather than
/// read from the stored tree: a node signs only what its journal holds. From the last signed
/// checkpoint `anchor` (size and root) when there is one, resumed from the stored frontier of
/// its tree (which [`extends`] has found to give its root): its last entry must be proven in it;
/// the journal's head must be the tree's last leaf (`tree_size`); and every entry from the
/// anchor's through entry `size` must chain and balance. Refused otherwise, naming what was
/// found (a journal rewritten after its last checkpoint, or a tree left ahead of it).
fn root_from_entries(
    conn: &mut DbConnection,
    anchor: Option<(i64, Hash)>,
    size: i64,
    tree_size: i64,
) -> AppResult<Hash> {
    let refuse = |what: String| {
        AppError::Unavailable(format!(
            "not signing: {what}; the journal is not what the tree and the last checkpoint say \
             (rewritten, or restored in part): compare it with `investai verify --checkpoint`"
        ))
    };
    let (from, mut leaves, verifier) = match anchor.filter(|(signed_size, _)| *signed_size > 0) {
        None => (0, merkle::RootBuilder::default(), ChainVerifier::default()),
        Some((signed_size, signed_root)) => {
            let frontier = {
                let stored = StoredHashes::new(conn);
                let indexes = merkle::frontier_indexes(signed_size as u64);
                stored.read_hashes(&indexes).map_err(|e| stored.error(e.to_string()))?
            };
            let leaves = merkle::RootBuilder::resume(signed_size as u64, &frontier).map_err(AppError::internal)?;
            let (last_hash, last_previous): (String, String) = journal_entries::table
                .filter(journal_entries::sequence.eq(signed_size))
                .select((journal_entries::hash, journal_entries::previous_hash))
                .first(conn)
                .optional()?
                .ok_or_else(|| refuse(format!("entry {signed_size}, the last one signed, is missing")))?;
            let leaf = merkle::leaf_hash(&last_hash).map_err(|e| refuse(format!("entry {signed_size}: {e}")))?;
            let path = audit_path(conn, signed_size, signed_size)?;
            merkle::check_inclusion(&path, signed_size as u64, signed_root, signed_size as u64 - 1, leaf)
                .map_err(|_| refuse(format!("entry {signed_size} is not the one the last checkpoint signed")))?;
            (signed_size, leaves, ChainVerifier::resume(signed_size, &last_previous))
        }
    };
    let (head, _) = super::ledger::chain_head(conn)?;
    if head != tree_size {
        return Err(refuse(format!("the tree holds {tree_size} entries, the journal {head} up to its head")));
    }
    let mut malformed = None;
    let report = super::ledger::verify_chain_from(conn, verifier, size, |entry| {
        if entry.sequence <= from {
            return;
        }
        match merkle::leaf_hash(&entry.hash) {
            Ok(leaf) => leaves.push(leaf),
            Err(e) => malformed = malformed.take().or(Some(format!("entry {}: {e}", entry.sequence))),
        }
    })?;
    if let Some(fault) = report.first_fault.or(malformed) {
        return Err(refuse(fault));
    }
    if report.entries_checked != size || leaves.size() != size as u64 {
        return Err(refuse(format!("the journal's entries end at {}, not at {size}", report.entries_checked)));
    }
    Ok(leaves.root())
}

/// A page of the checkpoints after `after_size` (exclusive), in tree-size order, as they may be
/// shown: only those whose note opens with `verifier_key`, root as the note says; a row the key
/// does not open is passed over. `next_after` follows the rows read, shown or not.
pub fn list_signed(
    conn: &mut DbConnection,
    verifier_key: &str,
    after_size: i64,
    limit: i64,
) -> AppResult<PageOf<CheckpointRow>> {
    let rows = list_checkpoints(conn, after_size, limit + 1)?;
    let PageOf { items, next_after } = PageOf::from_rows(rows, limit, |row| row.tree_size.to_string());
    let items = items
        .into_iter()
        .filter_map(|row| {
            let signed = opened(&row, verifier_key).ok()?;
            Some(CheckpointRow { root_hash: merkle::hex_of(&signed.root), ..row })
        })
        .collect();
    Ok(PageOf { items, next_after })
}

/// Entries a checkpoint signs beyond the last one at most, by default: each is walked under the
/// writer lock before it is signed, so a longer backlog (a first checkpoint of a large journal, a
/// signer off for long) is signed in steps, the lock released between them.
pub const CHECKPOINT_ENTRIES_PER_STEP_MAX: i64 = 10_000;

/// The note of the checkpoint of `tree_size` entries, if one was stored and `verifier_key` opens it.
pub fn signed_note(conn: &mut DbConnection, verifier_key: Option<&str>, tree_size: i64) -> AppResult<Option<String>> {
    let Some(key) = verifier_key else { return Ok(None) };
    Ok(checkpoint_at(conn, tree_size)?.filter(|row| opened(row, key).is_ok()).map(|row| row.note))
}

/// Checkpoints after `after_size` (exclusive), in tree-size order.
pub fn list_checkpoints(conn: &mut DbConnection, after_size: i64, limit: i64) -> AppResult<Vec<CheckpointRow>> {
    Ok(checkpoints::table
        .filter(checkpoints::tree_size.gt(after_size))
        .order(checkpoints::tree_size.asc())
        .limit(limit)
        .select(CheckpointRow::as_select())
        .load(conn)?)
}

/// When a checkpoint is due: this many entries since the last, or a day since it with any.
#[derive(Clone, Copy, Debug)]
pub struct CheckpointPolicy {
    pub every_entries: i64,
    pub at_least_every: chrono::Duration,
    /// Entries signed beyond the last checkpoint at most in one step
    /// ([`CHECKPOINT_ENTRIES_PER_STEP_MAX`]).
    pub entries_per_step: i64,
}

/// Issues a checkpoint of the whole tree when `policy` says one is due (or `force`, and the tree
/// grew since the last), or of its first `policy.entries_per_step` entries past the last
/// checkpoint when more were added: signs its root and stores the note. Several nodes may
/// try at once; the tree size is the key, so one note is kept. Call inside a write transaction.
///
/// Nothing is signed unless the tree extends the last checkpoint stored and `published`, the
/// last one published (a database restored from a backup, or rewritten, would otherwise have a
/// second history signed beside the first).
pub fn issue_checkpoint(
    conn: &mut DbConnection,
    signer: &merkle::CheckpointSigner,
    policy: CheckpointPolicy,
    now: NaiveDateTime,
    force: bool,
    published: Option<&merkle::SignedCheckpoint>,
) -> AppResult<Option<CheckpointRow>> {
    let size = catch_up(conn)?;
    let (last, passed_over) = scan_signed(conn, signer.verifier_key())?;
    // Checkpoints stored and none of this key's among the newest: no anchor to check against,
    // so nothing is signed (a flood of rows written by hand must not remove the anchor).
    if last.is_none() && passed_over > 0 {
        return Err(AppError::Unavailable(format!(
            "not signing: none of the newest {passed_over} stored checkpoints opens with this node's key; \
             compare the table `checkpoints` with the published notes (a new key needs a new database of checkpoints)"
        )));
    }
    let (last_size, last_at) = last.as_ref().map_or((0, None), |(c, _)| (c.tree_size, Some(c.issued_at)));
    let grown = size - last_size;
    let due = grown >= policy.every_entries || last_at.is_none_or(|at| now - at >= policy.at_least_every);
    if grown <= 0 || !(due || force) {
        return Ok(None);
    }
    // Checked only when about to sign, and once when the stored and published checkpoint agree.
    let stored = last.map(|(c, signed)| (c.tree_size, signed.root));
    let published = published.map(|p| (p.size as i64, p.root)).filter(|p| Some(*p) != stored);
    for (signed_size, signed_root) in stored.into_iter().chain(published) {
        extends(conn, size, signed_size, signed_root)?;
    }
    // The entries are walked from the newer of the two: a published note newer than every
    // stored one (whose row was removed or spoiled) is an anchor all the same.
    let anchor = stored.into_iter().chain(published).max_by_key(|(signed_size, _)| *signed_size);
    let tree_size = size;
    let step = policy.entries_per_step.max(1);
    let size = tree_size.min(anchor.map_or(0, |(signed_size, _)| signed_size).saturating_add(step));
    if anchor.is_some_and(|(signed_size, _)| signed_size >= size) {
        return Ok(None);
    }
    let served = root(conn, size as u64)?;
    let root = root_from_entries(conn, anchor, size, tree_size)?;
    if served != root {
        return Err(AppError::Unavailable(format!(
            "not signing: the stored Merkle tree of {size} entries is not the tree of the journal's entries, so its \
             proofs would be wrong; compare it with `investai verify --checkpoint`"
        )));
    }
    let note = signer.sign(size as u64, root).map_err(AppError::internal)?;
    let row = CheckpointRow { tree_size: size, root_hash: merkle::hex_of(&root), note, issued_at: now };
    let inserted = match conn {
        DbConnection::Sqlite(c) => {
            diesel::insert_into(checkpoints::table).values(&row).on_conflict_do_nothing().execute(c)?
        }
        DbConnection::Postgresql(c) => {
            diesel::insert_into(checkpoints::table).values(&row).on_conflict_do_nothing().execute(c)?
        }
    };
    if inserted == 0 {
        // Another node signed this size first, or a row written by hand holds it.
        if let Some(taken) = checkpoint_at(conn, size)? {
            opened(&taken, signer.verifier_key())?;
        }
    }
    Ok((inserted == 1).then_some(row))
}
