//! The journal as an RFC 6962 Merkle tree, and its signed checkpoints (docs/ledger.md, "Merkle
//! tree and checkpoints"). Leaf `i` is entry `i + 1` of the chain: the leaf data are the 32
//! bytes of the entry's chain hash, its leaf hash `SHA-256(0x00 || data)`, an inner node
//! `SHA-256(0x01 || left || right)`, the tree split at the largest power of two below its size.
//! A checkpoint is a C2SP `tlog-checkpoint` (origin, size, base64 root) in a signed note,
//! signed with Ed25519. The tree arithmetic and the note format are those of the `tlog_tiles`
//! and `signed_note` crates (ports of Go's `sumdb/tlog` and `sumdb/note`); this module says
//! what the leaves are and how a checkpoint is read and checked.

use std::fmt;

use signed_note::{Note, Signer, StandardSigner, StandardVerifier, Verifier, VerifierList};
pub use tlog_tiles::tlog::{Hash, HashReader, RecordProof, TreeProof};
use tlog_tiles::{checkpoint::Checkpoint, tlog};

/// Hashes in a proof at most: two per level of a tree of 2^63 leaves.
pub const PROOF_HASHES_MAX: usize = 128;

/// Why a checkpoint or a proof is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProofError {
    /// The note or checkpoint text is not in the documented form.
    Malformed(String),
    /// No signature by the expected key verifies.
    Signature(String),
    /// The proof does not lead to the stated root.
    Mismatch(String),
}

impl fmt::Display for ProofError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProofError::Malformed(why) => write!(f, "malformed: {why}"),
            ProofError::Signature(why) => write!(f, "signature: {why}"),
            ProofError::Mismatch(why) => write!(f, "does not verify: {why}"),
        }
    }
}

/// The leaf hash of an entry whose chain hash is `entry_hash_hex` (64 hex digits).
pub fn leaf_hash(entry_hash_hex: &str) -> Result<Hash, ProofError> {
    let bytes = hex::decode(entry_hash_hex).map_err(|e| ProofError::Malformed(format!("entry hash: {e}")))?;
    if bytes.len() != tlog::HASH_SIZE {
        return Err(ProofError::Malformed(format!("entry hash has {} bytes, not 32", bytes.len())));
    }
    Ok(tlog::record_hash(&bytes))
}

/// The hashes to store when leaf `index` (0-based) is appended, read from the stored ones of
/// the leaves before it; they go at [`stored_index`]`(0, index)` onwards.
pub fn hashes_to_store<R: HashReader>(index: u64, leaf: Hash, stored: &R) -> Result<Vec<Hash>, String> {
    tlog::stored_hashes_for_record_hash(index, leaf, stored).map_err(|e| e.to_string())
}

/// Where the hashes of the tree's frontier are stored: the roots of the complete subtrees a
/// tree of `size` leaves splits into, one per bit set in `size`, largest first. Appending
/// leaves after them reads no other stored hash: each new inner node's left child is either
/// one of these or a node of the leaves appended since, so one read of these serves any batch.
pub fn frontier_indexes(size: u64) -> Vec<u64> {
    (0..u64::BITS as u8)
        .rev()
        .filter(|&level| size >> level & 1 == 1)
        .map(|level| stored_index(level, (size >> level) - 1))
        .collect()
}

/// Where the hash of the subtree at `level` and position `n` is stored.
pub fn stored_index(level: u8, n: u64) -> u64 {
    tlog::stored_hash_index(level, n)
}

/// The root of the first `size` leaves, from the stored hashes.
pub fn tree_root<R: HashReader>(size: u64, stored: &R) -> Result<Hash, String> {
    tlog::tree_hash(size, stored).map_err(|e| e.to_string())
}

pub fn prove_inclusion<R: HashReader>(tree_size: u64, index: u64, stored: &R) -> Result<RecordProof, String> {
    tlog::prove_record(tree_size, index, stored).map_err(|e| e.to_string())
}

pub fn prove_consistency<R: HashReader>(to_size: u64, from_size: u64, stored: &R) -> Result<TreeProof, String> {
    tlog::prove_tree(to_size, from_size, stored).map_err(|e| e.to_string())
}

/// Checks that `proof` shows leaf `index` with hash `leaf` in the tree of `tree_size` leaves
/// whose root is `root`.
pub fn check_inclusion(proof: &[Hash], tree_size: u64, root: Hash, index: u64, leaf: Hash) -> Result<(), ProofError> {
    if proof.len() > PROOF_HASHES_MAX {
        return Err(ProofError::Malformed(format!("more than {PROOF_HASHES_MAX} hashes")));
    }
    tlog::check_record(&proof.to_vec(), tree_size, root, index, leaf)
        .map_err(|e| ProofError::Mismatch(format!("inclusion of leaf {index} in tree {tree_size}: {e}")))
}

/// Checks that `proof` shows the tree of `from_size` leaves with root `from_root` to be a prefix
/// of the tree of `to_size` leaves with root `to_root`.
pub fn check_consistency(
    proof: &[Hash],
    to_size: u64,
    to_root: Hash,
    from_size: u64,
    from_root: Hash,
) -> Result<(), ProofError> {
    if proof.len() > PROOF_HASHES_MAX {
        return Err(ProofError::Malformed(format!("more than {PROOF_HASHES_MAX} hashes")));
    }
    tlog::check_tree(&proof.to_vec(), to_size, to_root, from_size, from_root)
        .map_err(|e| ProofError::Mismatch(format!("tree {from_size} is not a prefix of tree {to_size}: {e}")))
}

/// The root of a tree from its leaf hashes in order, built on a stack of perfect subtrees:
/// linear time, logarithmic memory, and no stored hash trusted. `verify --checkpoint` recomputes
/// a checkpoint's root with it from the journal itself.
#[derive(Default)]
pub struct RootBuilder {
    /// Perfect subtrees, largest first: (height, hash).
    stack: Vec<(u32, Hash)>,
    size: u64,
}

impl RootBuilder {
    /// Resumes after the first `size` leaves from the roots of the perfect subtrees they split
    /// into, largest first (the hashes stored at [`frontier_indexes`]`(size)`). Who resumes
    /// compares [`Self::root`] with a signed root before trusting them.
    pub fn resume(size: u64, frontier: &[Hash]) -> Result<Self, String> {
        let heights: Vec<u32> = (0..u64::BITS).rev().filter(|&level| size >> level & 1 == 1).collect();
        if heights.len() != frontier.len() {
            return Err(format!(
                "a tree of {size} leaves has {} frontier hashes, not {}",
                heights.len(),
                frontier.len()
            ));
        }
        Ok(RootBuilder { stack: heights.into_iter().zip(frontier.iter().copied()).collect(), size })
    }

    pub fn push(&mut self, leaf: Hash) {
        let mut node = (0u32, leaf);
        while let Some(&(height, left)) = self.stack.last() {
            if height != node.0 {
                break;
            }
            self.stack.pop();
            node = (height + 1, tlog::node_hash(left, node.1));
        }
        self.stack.push(node);
        self.size += 1;
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// RFC 6962's root: the perfect subtrees joined from the right.
    pub fn root(&self) -> Hash {
        let mut subtrees = self.stack.iter().rev();
        let Some(&(_, last)) = subtrees.next() else { return tlog::EMPTY_HASH };
        subtrees.fold(last, |right, &(_, left)| tlog::node_hash(left, right))
    }
}

/// A checkpoint read from a signed note whose signature verified.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedCheckpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

/// A checkpoint signer: the key's name is the log's origin.
pub struct CheckpointSigner {
    signer: StandardSigner,
    verifier_key: String,
}

impl CheckpointSigner {
    /// From a note signer key (`PRIVATE+KEY+<origin>+<key id>+<base64 key>`); the verifier key
    /// is derived from it.
    pub fn new(signer_key: &str) -> Result<CheckpointSigner, String> {
        let signer = StandardSigner::new(signer_key.trim()).map_err(|e| format!("checkpoint signing key: {e}"))?;
        let verifier_key = verifier_key_of(signer_key.trim())?;
        Ok(CheckpointSigner { signer, verifier_key })
    }

    pub fn origin(&self) -> &str {
        self.signer.name()
    }

    /// The public key outsiders check checkpoints with: `<origin>+<key id>+<base64 key>`.
    pub fn verifier_key(&self) -> &str {
        &self.verifier_key
    }

    /// The signed note of the checkpoint of `size` leaves with root `root`.
    pub fn sign(&self, size: u64, root: Hash) -> Result<String, String> {
        let checkpoint = Checkpoint::new(self.origin(), size, root, "").map_err(|e| e.to_string())?;
        let mut note = Note::new(&checkpoint.to_bytes(), &[]).map_err(|e| e.to_string())?;
        note.add_sigs(&[&self.signer]).map_err(|e| e.to_string())?;
        String::from_utf8(note.to_bytes()).map_err(|e| e.to_string())
    }
}

/// A new signer key and its verifier key for `origin`.
pub fn generate_signer_key(origin: &str) -> (String, String) {
    signed_note::generate_key(&mut rand::rngs::OsRng, origin)
}

/// The verifier key of a signer key.
fn verifier_key_of(signer_key: &str) -> Result<String, String> {
    use base64::Engine;
    let malformed = || "checkpoint signing key: not PRIVATE+KEY+<name>+<id>+<key>".to_string();
    let mut parts = signer_key.splitn(5, '+');
    let (Some("PRIVATE"), Some("KEY"), Some(name), Some(_), Some(key)) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed());
    };
    let bytes = base64::engine::general_purpose::STANDARD.decode(key).map_err(|_| malformed())?;
    let seed: [u8; 32] = bytes.get(1..).and_then(|s| s.try_into().ok()).ok_or_else(malformed)?;
    let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
    Ok(signed_note::new_ed25519_verifier_key(name, &public))
}

/// Refuses text that is not a signed-note verifier key (`<name>+<key id>+<base64 key>`).
pub fn check_verifier_key(verifier_key: &str) -> Result<(), String> {
    StandardVerifier::new(verifier_key.trim()).map(|_| ()).map_err(|e| format!("checkpoint verifier key: {e}"))
}

/// Reads a signed checkpoint and checks its signature with `verifier_key`.
pub fn open_checkpoint(note_text: &[u8], verifier_key: &str) -> Result<SignedCheckpoint, ProofError> {
    let verifier =
        StandardVerifier::new(verifier_key.trim()).map_err(|e| ProofError::Malformed(format!("verifier key: {e}")))?;
    let note = Note::from_bytes(note_text).map_err(|e| ProofError::Malformed(format!("signed note: {e}")))?;
    let origin = verifier.name().to_string();
    note.verify(&VerifierList::new(vec![Box::new(verifier)])).map_err(|e| ProofError::Signature(e.to_string()))?;
    let checkpoint =
        Checkpoint::from_bytes(note.text()).map_err(|e| ProofError::Malformed(format!("checkpoint: {e}")))?;
    if checkpoint.origin() != origin {
        return Err(ProofError::Malformed(format!("origin {} is not the key's {origin}", checkpoint.origin())));
    }
    Ok(SignedCheckpoint { origin, size: checkpoint.size(), root: *checkpoint.hash() })
}

/// Lower-case hex of a hash, as the API writes them.
pub fn hex_of(hash: &Hash) -> String {
    hex::encode(hash.0)
}

/// A hash from 64 hex digits.
pub fn hash_from_hex(text: &str) -> Result<Hash, ProofError> {
    let bytes = hex::decode(text).map_err(|e| ProofError::Malformed(format!("hash {text:?}: {e}")))?;
    let array: [u8; tlog::HASH_SIZE] =
        bytes.try_into().map_err(|_| ProofError::Malformed(format!("hash {text:?} is not 32 bytes")))?;
    Ok(Hash(array))
}

/// What `investai verify-export` found in a `journal-proofs.jsonl` file that checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvenExport {
    pub fund_id: String,
    pub tree_size: u64,
    pub entries: u64,
}

/// Checks a `journal-proofs.jsonl` export offline (docs/exports.md): the checkpoint it names is
/// signed by `verifier_key` and is `expected` when given; each entry's hash is the hash of its
/// canonical text after its previous hash; each entry is in the checkpoint's tree by its
/// inclusion proof; sequences rise; the last line counts the entries. `Err` names the first
/// fault and its line.
pub fn check_proven_export(
    text: &str,
    verifier_key: &str,
    expected: Option<&SignedCheckpoint>,
) -> Result<ProvenExport, String> {
    let mut lines = text.lines().enumerate().map(|(i, line)| (i + 1, line));
    let (_, first) = lines.next().ok_or("the file is empty")?;
    let header: serde_json::Value = serde_json::from_str(first).map_err(|e| format!("line 1: {e}"))?;
    let note = header["checkpoint"].as_str().ok_or("line 1: no checkpoint")?;
    let checkpoint = open_checkpoint(note.as_bytes(), verifier_key).map_err(|e| format!("line 1: checkpoint {e}"))?;
    if expected.is_some_and(|wanted| *wanted != checkpoint) {
        return Err("line 1: the file's checkpoint is not the one given".into());
    }
    // The header is not signed: the fund it names is the fund every entry's hashed text names.
    let fund_id = header["fund_id"].as_str().ok_or("line 1: no fund_id")?.to_string();
    let (mut entries, mut last_sequence) = (0u64, 0u64);
    while let Some((number, line)) = lines.next() {
        let value: serde_json::Value = serde_json::from_str(line).map_err(|e| format!("line {number}: {e}"))?;
        match value["record"].as_str() {
            Some("entry") => {
                let sequence =
                    check_proven_entry(&value, &checkpoint, &fund_id).map_err(|e| format!("line {number}: {e}"))?;
                if sequence <= last_sequence {
                    return Err(format!("line {number}: sequence {sequence} after {last_sequence}"));
                }
                (last_sequence, entries) = (sequence, entries + 1);
            }
            Some("end") if value["entries"].as_u64() == Some(entries) => {
                if let Some((after, _)) = lines.find(|(_, line)| !line.trim().is_empty()) {
                    return Err(format!("line {after}: a line after the closing line"));
                }
                return Ok(ProvenExport { fund_id, tree_size: checkpoint.size, entries });
            }
            Some("end") => {
                return Err(format!("line {number}: the file says {} entries, it holds {entries}", value["entries"]))
            }
            _ => return Err(format!("line {number}: not an entry line")),
        }
    }
    Err("the closing line is missing: the file was cut short".into())
}

/// One entry line: its hash over its canonical text, and its inclusion proof. Its sequence.
fn check_proven_entry(value: &serde_json::Value, checkpoint: &SignedCheckpoint, fund_id: &str) -> Result<u64, String> {
    let sequence = value["sequence"].as_u64().filter(|s| *s >= 1).ok_or("no sequence")?;
    let (hash, previous) =
        (value["hash"].as_str().ok_or("no hash")?, value["previous_hash"].as_str().ok_or("no previous hash")?);
    let canonical = value["canonical"].as_str().ok_or("no canonical text")?;
    let content: serde_json::Value = serde_json::from_str(canonical).map_err(|e| format!("canonical text: {e}"))?;
    if content["sequence"].as_u64() != Some(sequence) {
        return Err(format!("the canonical text is not entry {sequence}'s"));
    }
    if content["fund_id"].as_str() != Some(fund_id) {
        return Err(format!("entry {sequence} is of fund {}, not of the file's fund {fund_id}", content["fund_id"]));
    }
    if crate::domain::ledger::hash_canonical_text(previous, canonical.as_bytes()) != hash {
        return Err(format!("entry {sequence}: its hash is not the hash of its content"));
    }
    let proof: Vec<Hash> = value["inclusion"]
        .as_array()
        .ok_or("no inclusion proof")?
        .iter()
        .map(|h| {
            h.as_str()
                .ok_or_else(|| "a proof hash is not text".to_string())
                .and_then(|t| hash_from_hex(t).map_err(|e| e.to_string()))
        })
        .collect::<Result<_, _>>()?;
    if sequence > checkpoint.size {
        return Err(format!("entry {sequence} is beyond the checkpoint's {} entries", checkpoint.size));
    }
    let leaf = leaf_hash(hash).map_err(|e| e.to_string())?;
    check_inclusion(&proof, checkpoint.size, checkpoint.root, sequence - 1, leaf)
        .map_err(|e| format!("entry {sequence}: {e}"))?;
    Ok(sequence)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};
    use std::collections::HashMap;

    /// RFC 6962's MTH written from the RFC's definition, recursively (a second implementation).
    fn mth(leaves: &[[u8; 32]]) -> [u8; 32] {
        match leaves.len() {
            0 => Sha256::digest([]).into(),
            1 => Sha256::digest([&[0u8][..], &leaves[0]].concat()).into(),
            n => {
                // The largest power of two smaller than n.
                let mut k = 1;
                while k * 2 < n {
                    k *= 2;
                }
                let (left, right) = (mth(&leaves[..k]), mth(&leaves[k..]));
                Sha256::digest([&[1u8][..], &left, &right].concat()).into()
            }
        }
    }

    struct Stored(HashMap<u64, Hash>);

    impl HashReader for Stored {
        fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::tlog::Error> {
            indexes.iter().map(|i| self.0.get(i).copied().ok_or(tlog_tiles::tlog::Error::IndexesOutOfOrder)).collect()
        }
    }

    fn entry_hash(i: u64) -> [u8; 32] {
        Sha256::digest(i.to_be_bytes()).into()
    }

    fn stored_tree(size: u64) -> Stored {
        let mut stored = Stored(HashMap::new());
        for i in 0..size {
            let leaf = leaf_hash(&hex::encode(entry_hash(i))).unwrap();
            let new = hashes_to_store(i, leaf, &stored).unwrap();
            let start = stored_index(0, i);
            for (k, h) in new.into_iter().enumerate() {
                stored.0.insert(start + k as u64, h);
            }
        }
        stored
    }

    #[test]
    fn stored_and_rebuilt_roots_match_the_rfc_definition_at_every_size() {
        let stored = stored_tree(70);
        let mut builder = RootBuilder::default();
        for size in 0..=70u64 {
            let leaves: Vec<[u8; 32]> = (0..size).map(entry_hash).collect();
            let expected = Hash(mth(&leaves));
            assert_eq!(tree_root(size, &stored).unwrap(), expected, "stored, size {size}");
            assert_eq!(builder.root(), expected, "rebuilt, size {size}");
            builder.push(leaf_hash(&hex::encode(entry_hash(size))).unwrap());
        }
    }

    #[test]
    fn a_builder_resumed_from_the_stored_frontier_gives_the_rfc_root_at_every_later_size() {
        let stored = stored_tree(70);
        for start in 0..=40u64 {
            let frontier = stored.read_hashes(&frontier_indexes(start)).unwrap();
            let mut builder = RootBuilder::resume(start, &frontier).unwrap();
            for size in start..=70u64 {
                let leaves: Vec<[u8; 32]> = (0..size).map(entry_hash).collect();
                assert_eq!(builder.root(), Hash(mth(&leaves)), "resumed at {start}, size {size}");
                builder.push(leaf_hash(&hex::encode(entry_hash(size))).unwrap());
            }
        }
        assert!(RootBuilder::resume(5, &[]).is_err(), "5 leaves split into two subtrees");
    }

    /// A reader that answers from `stored` and records every index asked.
    struct Recording<'a>(&'a Stored, std::cell::RefCell<Vec<u64>>);

    impl HashReader for Recording<'_> {
        fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::tlog::Error> {
            self.1.borrow_mut().extend_from_slice(indexes);
            self.0.read_hashes(indexes)
        }
    }

    #[test]
    fn appending_after_a_tree_reads_only_its_frontier_and_the_new_leaves_hashes() {
        let stored = stored_tree(300);
        for size in 0..=200u64 {
            // The tree of `size` leaves: only the hashes stored for those leaves.
            let first_new = stored_index(0, size);
            let old = Stored(stored.0.iter().filter(|(i, _)| **i < first_new).map(|(i, h)| (*i, *h)).collect());
            let frontier = frontier_indexes(size);
            assert_eq!(frontier.len(), size.count_ones() as usize, "size {size}");
            assert!(frontier.iter().all(|i| old.0.contains_key(i)), "size {size}: the frontier is stored");
            let mut grown = Stored(old.0.clone());
            for index in size..size + 70 {
                let reader = Recording(&grown, Default::default());
                let leaf = leaf_hash(&hex::encode(entry_hash(index))).unwrap();
                let new = hashes_to_store(index, leaf, &reader).unwrap();
                let asked = reader.1.into_inner();
                let outside: Vec<u64> = asked.into_iter().filter(|i| *i < first_new && !frontier.contains(i)).collect();
                assert!(outside.is_empty(), "size {size}, leaf {index}: read {outside:?}, frontier {frontier:?}");
                for (k, h) in new.into_iter().enumerate() {
                    grown.0.insert(stored_index(0, index) + k as u64, h);
                }
            }
            let leaves: Vec<[u8; 32]> = (0..size + 70).map(entry_hash).collect();
            assert_eq!(tree_root(size + 70, &grown).unwrap(), Hash(mth(&leaves)), "size {size}");
        }
    }

    #[test]
    fn proofs_verify_and_forged_ones_are_refused() {
        let stored = stored_tree(37);
        let root = tree_root(37, &stored).unwrap();
        let leaf = leaf_hash(&hex::encode(entry_hash(12))).unwrap();
        let proof = prove_inclusion(37, 12, &stored).unwrap();
        check_inclusion(&proof, 37, root, 12, leaf).unwrap();
        // Right end points, a wrong inner node.
        let mut forged = proof.clone();
        forged[1].0[0] ^= 1;
        assert!(matches!(check_inclusion(&forged, 37, root, 12, leaf), Err(ProofError::Mismatch(_))));
        assert!(check_inclusion(&proof, 37, root, 13, leaf).is_err(), "another index");
        assert!(check_inclusion(&proof[..proof.len() - 1], 37, root, 12, leaf).is_err(), "a hash short");

        let old_root = tree_root(20, &stored).unwrap();
        let consistency = prove_consistency(37, 20, &stored).unwrap();
        check_consistency(&consistency, 37, root, 20, old_root).unwrap();
        for i in 0..consistency.len() {
            let mut forged = consistency.clone();
            forged[i].0[31] ^= 0x80;
            assert!(check_consistency(&forged, 37, root, 20, old_root).is_err(), "hash {i} changed");
        }
        let mut other = old_root;
        other.0[0] ^= 1;
        assert!(check_consistency(&consistency, 37, root, 20, other).is_err(), "another old root");
    }

    #[test]
    fn checkpoints_sign_and_open_and_another_key_is_refused() {
        let (signer_key, verifier_key) = generate_signer_key("investai.test/journal");
        let signer = CheckpointSigner::new(&signer_key).unwrap();
        assert_eq!(signer.verifier_key(), verifier_key);
        let root = Hash([7; 32]);
        let note = signer.sign(42, root).unwrap();
        assert!(note.starts_with("investai.test/journal\n42\n"), "{note}");
        assert!(note.contains("\n\n\u{2014} investai.test/journal "), "{note}");
        let opened = open_checkpoint(note.as_bytes(), &verifier_key).unwrap();
        assert_eq!((opened.size, opened.root), (42, root));

        let (_, stranger) = generate_signer_key("investai.test/journal");
        assert!(matches!(open_checkpoint(note.as_bytes(), &stranger), Err(ProofError::Signature(_))));
        let altered = note.replacen("\n42\n", "\n41\n", 1);
        assert!(matches!(open_checkpoint(altered.as_bytes(), &verifier_key), Err(ProofError::Signature(_))));
    }
}
