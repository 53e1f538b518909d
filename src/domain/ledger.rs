//! Double-entry rules: accounts, balanced journal entries, and the hash chain over them.
//!
//! Pure code: the storage layer hands in rows, this module says whether they are valid and
//! what their hashes must be. Postings carry signed cents: positive debits, negative credits.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::money::{Cents, MoneyError, AMOUNT_CENTS_MAX};

/// Postings one entry may carry: large enough for a capital call over every investor.
pub const ENTRY_POSTINGS_MAX: usize = 20_000;
/// Hash of "nothing before": the chain starts from 64 zeros.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// Version tag of the canonical form, so the form can evolve without breaking old hashes.
pub const CANONICAL_VERSION: &str = "investai-entry-v1";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    Asset,
    Liability,
    Equity,
    Income,
    Expense,
}

impl AccountKind {
    pub const ALL: [AccountKind; 5] =
        [AccountKind::Asset, AccountKind::Liability, AccountKind::Equity, AccountKind::Income, AccountKind::Expense];

    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::Asset => "asset",
            AccountKind::Liability => "liability",
            AccountKind::Equity => "equity",
            AccountKind::Income => "income",
            AccountKind::Expense => "expense",
        }
    }

    pub fn parse(text: &str) -> Option<AccountKind> {
        AccountKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// Assets and expenses grow with debits; the others with credits.
    pub fn is_debit_normal(self) -> bool {
        matches!(self, AccountKind::Asset | AccountKind::Expense)
    }
}

/// Stable account codes: four digits, then optional dot-separated sub-account digits
/// (e.g. `1100`, `3100.01`). They never change once an account exists.
pub fn validate_account_code(code: &str) -> Result<(), &'static str> {
    let mut parts = code.split('.');
    let head = parts.next().unwrap_or_default();
    if head.len() != 4 || !head.chars().all(|c| c.is_ascii_digit()) {
        return Err("must start with four digits, e.g. 1100");
    }
    let mut depth = 0;
    for part in parts {
        depth += 1;
        if part.is_empty() || part.len() > 4 || !part.chars().all(|c| c.is_ascii_digit()) {
            return Err("sub-account parts are 1 to 4 digits after a dot, e.g. 3100.01");
        }
    }
    if depth > 3 {
        return Err("at most three sub-account levels");
    }
    Ok(())
}

/// One line of an entry before it is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostingLine {
    pub account_id: String,
    /// Positive: debit. Negative: credit. Never zero.
    pub amount: Cents,
    /// The party the money belongs to (investor, facility, SME), when there is one.
    pub party_id: Option<String>,
    pub memo: String,
}

/// Why an entry was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error("an entry needs at least two postings")]
    TooFewPostings,
    #[error("an entry may have at most {ENTRY_POSTINGS_MAX} postings")]
    TooManyPostings,
    #[error("posting {0} has a zero amount")]
    ZeroPosting(usize),
    #[error("postings do not balance: debits minus credits is {0}")]
    Unbalanced(Cents),
    #[error("an entry's debits sum to at most {}", Cents::new(AMOUNT_CENTS_MAX))]
    TooLarge,
    #[error("amount error: {0}")]
    Money(#[from] MoneyError),
}

/// Checks the double-entry invariant: two or more non-zero postings summing to exactly zero.
pub fn check_balanced(postings: &[PostingLine]) -> Result<(), EntryError> {
    if postings.len() < 2 {
        return Err(EntryError::TooFewPostings);
    }
    if postings.len() > ENTRY_POSTINGS_MAX {
        return Err(EntryError::TooManyPostings);
    }
    if let Some(index) = postings.iter().position(|p| p.amount.is_zero()) {
        return Err(EntryError::ZeroPosting(index));
    }
    let total = Cents::sum(postings.iter().map(|p| p.amount))?;
    if !total.is_zero() {
        return Err(EntryError::Unbalanced(total));
    }
    // Bounded per entry, an account's totals stay far inside 64 bits; a running sum of
    // alternating postings would not show it.
    let debits: i128 = postings.iter().map(|p| i128::from(p.amount.get().max(0))).sum();
    if debits > i128::from(AMOUNT_CENTS_MAX) {
        return Err(EntryError::TooLarge);
    }
    Ok(())
}

/// The postings that undo `postings`: same accounts and parties, opposite signs.
pub fn reversal_of(postings: &[PostingLine]) -> Result<Vec<PostingLine>, MoneyError> {
    postings
        .iter()
        .map(|p| {
            Ok(PostingLine {
                account_id: p.account_id.clone(),
                amount: p.amount.checked_neg()?,
                party_id: p.party_id.clone(),
                memo: p.memo.clone(),
            })
        })
        .collect()
}

/// Everything about an entry that its hash covers. Field order is part of the format.
#[derive(Clone, Debug, Serialize)]
pub struct CanonicalEntry<'a> {
    pub version: &'static str,
    pub sequence: i64,
    pub id: &'a str,
    pub fund_id: &'a str,
    pub effective_date: NaiveDate,
    /// Microsecond precision, the finest both databases keep.
    pub created_at: String,
    pub actor: &'a str,
    pub event_type: &'a str,
    pub event_id: &'a str,
    pub description: &'a str,
    pub reverses_entry_id: Option<&'a str>,
    pub postings: Vec<CanonicalPosting<'a>>,
}

#[derive(Clone, Debug, Serialize)]
pub struct CanonicalPosting<'a> {
    pub line: i32,
    pub account_id: &'a str,
    pub amount_cents: i64,
    pub party_id: Option<&'a str>,
    pub memo: &'a str,
}

/// The one timestamp format hashed and stored: RFC 3339, UTC, microseconds.
pub fn canonical_timestamp(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// SHA-256 over the previous entry's hash and this entry's canonical JSON, as lowercase hex.
pub fn chain_hash(previous_hash: &str, entry: &CanonicalEntry<'_>) -> String {
    hash_canonical_text(previous_hash, canonical_json(entry).as_bytes())
}

/// The canonical JSON of an entry, as hashed. Serializing plain strings and integers cannot
/// fail; an empty text would still be caught by verification, the stored hash not matching.
pub fn canonical_json(entry: &CanonicalEntry<'_>) -> String {
    serde_json::to_string(entry).unwrap_or_default()
}

/// [`chain_hash`] of an entry given as its canonical JSON text (as `journal-proofs.jsonl`
/// carries it): `SHA-256(previous_hash || "\n" || text)`, lowercase hex.
pub fn hash_canonical_text(previous_hash: &str, canonical_json: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(previous_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(canonical_json);
    hex::encode(hasher.finalize())
}

/// What a stored entry looks like to the verifier.
#[derive(Clone, Debug)]
pub struct StoredEntry<'a> {
    pub canonical: CanonicalEntry<'a>,
    pub previous_hash: &'a str,
    pub hash: &'a str,
}

/// The first thing wrong with a stored chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum ChainFault {
    /// Sequence numbers must run 1, 2, 3… without a gap (a gap is a deleted entry).
    MissingSequence { expected: i64, found: i64, entry_id: String },
    /// The entry's stored previous hash is not the hash of the entry before it.
    BrokenLink { sequence: i64, entry_id: String },
    /// Recomputing the hash from the stored content gives another value: the entry was edited.
    HashMismatch { sequence: i64, entry_id: String },
    /// The postings no longer sum to zero, or fewer than two remain.
    Unbalanced { sequence: i64, entry_id: String, detail: String },
    /// The chain head records more entries, or another last hash, than are stored.
    HeadMismatch { head_sequence: i64, last_sequence: i64 },
}

impl ChainFault {
    pub fn describe(&self) -> String {
        match self {
            ChainFault::MissingSequence { expected, found, entry_id } => format!(
                "entry {entry_id}: sequence {found} follows {} (entry {expected} is missing)",
                expected - 1
            ),
            ChainFault::BrokenLink { sequence, entry_id } => {
                format!("entry {entry_id} (sequence {sequence}): link to the previous entry is broken")
            }
            ChainFault::HashMismatch { sequence, entry_id } => format!(
                "entry {entry_id} (sequence {sequence}): content does not match its hash (altered)"
            ),
            ChainFault::Unbalanced { sequence, entry_id, detail } => {
                format!("entry {entry_id} (sequence {sequence}): {detail}")
            }
            ChainFault::HeadMismatch { head_sequence, last_sequence } => format!(
                "chain head records {head_sequence} entries but the last stored entry is {last_sequence} (entries deleted)"
            ),
        }
    }
}

/// Incremental verifier: feed entries in sequence order, it remembers where the chain stands.
/// Runs in constant memory so a ledger of any size can be checked in pages.
#[derive(Clone, Debug)]
pub struct ChainVerifier {
    expected_sequence: i64,
    previous_hash: String,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier { expected_sequence: 1, previous_hash: GENESIS_HASH.to_string() }
    }
}

impl ChainVerifier {
    /// Checks from entry `next_sequence` on, whose previous hash must be `previous_hash`: the
    /// walk from an entry already trusted (the last one a checkpoint signed).
    pub fn resume(next_sequence: i64, previous_hash: &str) -> Self {
        ChainVerifier { expected_sequence: next_sequence, previous_hash: previous_hash.to_string() }
    }

    pub fn entries_checked(&self) -> i64 {
        self.expected_sequence - 1
    }

    pub fn last_hash(&self) -> &str {
        &self.previous_hash
    }

    pub fn check(&mut self, entry: &StoredEntry<'_>) -> Result<(), ChainFault> {
        let sequence = entry.canonical.sequence;
        let entry_id = entry.canonical.id.to_string();
        if sequence != self.expected_sequence {
            return Err(ChainFault::MissingSequence { expected: self.expected_sequence, found: sequence, entry_id });
        }
        if entry.previous_hash != self.previous_hash {
            return Err(ChainFault::BrokenLink { sequence, entry_id });
        }
        if chain_hash(entry.previous_hash, &entry.canonical) != entry.hash {
            return Err(ChainFault::HashMismatch { sequence, entry_id });
        }
        let lines: Vec<PostingLine> = entry
            .canonical
            .postings
            .iter()
            .map(|p| PostingLine {
                account_id: p.account_id.to_string(),
                amount: Cents::new(p.amount_cents),
                party_id: p.party_id.map(str::to_string),
                memo: p.memo.to_string(),
            })
            .collect();
        if let Err(error) = check_balanced(&lines) {
            return Err(ChainFault::Unbalanced { sequence, entry_id, detail: error.to_string() });
        }
        self.expected_sequence += 1;
        self.previous_hash = entry.hash.to_string();
        Ok(())
    }

    /// Final check against the chain head row that every write updates.
    pub fn finish(&self, head_sequence: i64, head_hash: &str) -> Result<(), ChainFault> {
        if head_sequence != self.entries_checked() || head_hash != self.previous_hash {
            return Err(ChainFault::HeadMismatch { head_sequence, last_sequence: self.entries_checked() });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn line(account: &str, cents: i64) -> PostingLine {
        PostingLine { account_id: account.to_string(), amount: Cents::new(cents), party_id: None, memo: String::new() }
    }

    #[test]
    fn balanced_entries_pass_and_others_fail() {
        assert_eq!(check_balanced(&[line("a", 500), line("b", -500)]), Ok(()));
        assert_eq!(check_balanced(&[line("a", 500)]), Err(EntryError::TooFewPostings));
        assert_eq!(check_balanced(&[line("a", 500), line("b", -499)]), Err(EntryError::Unbalanced(Cents::new(1))));
        assert_eq!(check_balanced(&[line("a", 0), line("b", 0)]), Err(EntryError::ZeroPosting(0)));
    }

    /// An entry moves at most the largest amount: its debits (and so its credits) sum to no
    /// more, however its postings are ordered, so no run of entries of ordinary count can carry
    /// an account's totals out of the 64-bit range.
    #[test]
    fn an_entry_moves_at_most_the_largest_amount() {
        let most = AMOUNT_CENTS_MAX;
        assert_eq!(check_balanced(&[line("a", most), line("b", -most)]), Ok(()));
        let twice = [line("a", most), line("b", -most), line("a", 1), line("b", -1)];
        assert_eq!(check_balanced(&twice), Err(EntryError::TooLarge));
        // Alternating debits and credits keep a running sum small; the debits still add up.
        let alternating: Vec<PostingLine> = (0..18_448)
            .map(|i| line(if i % 2 == 0 { "5000" } else { "4000" }, if i % 2 == 0 { most } else { -most }))
            .collect();
        assert_eq!(check_balanced(&alternating), Err(EntryError::TooLarge));
    }

    proptest! {
        /// The refusal is exactly "debits above the largest amount", checked against a sum in
        /// 128-bit integers.
        #[test]
        fn the_bound_is_on_the_sum_of_debits(debits in proptest::collection::vec(1i64..=AMOUNT_CENTS_MAX, 1..6)) {
            let mut postings: Vec<PostingLine> = debits.iter().map(|d| line("a", *d)).collect();
            postings.extend(debits.iter().map(|d| line("b", -d)));
            let total: i128 = debits.iter().map(|d| i128::from(*d)).sum();
            let expected = if total > i128::from(AMOUNT_CENTS_MAX) { Err(EntryError::TooLarge) } else { Ok(()) };
            prop_assert_eq!(check_balanced(&postings), expected);
        }
    }

    #[test]
    fn reversal_undoes_the_entry() {
        let original = vec![line("a", 700), line("b", -300), line("c", -400)];
        let reversed = reversal_of(&original).unwrap();
        assert_eq!(check_balanced(&reversed), Ok(()));
        for (o, r) in original.iter().zip(&reversed) {
            assert_eq!(o.amount.get() + r.amount.get(), 0);
        }
    }

    #[test]
    fn account_codes() {
        assert!(validate_account_code("1100").is_ok());
        assert!(validate_account_code("3100.01").is_ok());
        assert!(validate_account_code("110").is_err());
        assert!(validate_account_code("1100.").is_err());
        assert!(validate_account_code("abcd").is_err());
        assert!(validate_account_code("1100.1.2.3.4").is_err());
    }

    fn sample<'a>(sequence: i64, id: &'a str, amount: i64) -> CanonicalEntry<'a> {
        CanonicalEntry {
            version: CANONICAL_VERSION,
            sequence,
            id,
            fund_id: "fund",
            effective_date: NaiveDate::from_ymd_opt(2025, 2, 11).unwrap(),
            created_at: "2025-02-11T09:00:00.000000Z".into(),
            actor: "staff:alice",
            event_type: "manual",
            event_id: id,
            description: "test",
            reverses_entry_id: None,
            postings: vec![
                CanonicalPosting { line: 1, account_id: "a", amount_cents: amount, party_id: None, memo: "" },
                CanonicalPosting { line: 2, account_id: "b", amount_cents: -amount, party_id: None, memo: "" },
            ],
        }
    }

    #[test]
    fn chain_verifies_and_detects_edits_and_gaps() {
        let first = sample(1, "e1", 100);
        let h1 = chain_hash(GENESIS_HASH, &first);
        let second = sample(2, "e2", 200);
        let h2 = chain_hash(&h1, &second);

        let mut verifier = ChainVerifier::default();
        verifier.check(&StoredEntry { canonical: first.clone(), previous_hash: GENESIS_HASH, hash: &h1 }).unwrap();
        verifier.check(&StoredEntry { canonical: second.clone(), previous_hash: &h1, hash: &h2 }).unwrap();
        assert_eq!(verifier.finish(2, &h2), Ok(()));
        assert!(verifier.finish(3, &h2).is_err());

        // An edited amount (still balanced) changes the hash.
        let mut verifier = ChainVerifier::default();
        let edited = sample(1, "e1", 101);
        assert_eq!(
            verifier.check(&StoredEntry { canonical: edited, previous_hash: GENESIS_HASH, hash: &h1 }),
            Err(ChainFault::HashMismatch { sequence: 1, entry_id: "e1".into() })
        );

        // A deleted first entry leaves a gap.
        let mut verifier = ChainVerifier::default();
        assert!(matches!(
            verifier.check(&StoredEntry { canonical: second, previous_hash: &h1, hash: &h2 }),
            Err(ChainFault::MissingSequence { expected: 1, found: 2, .. })
        ));
    }

    proptest! {
        #[test]
        fn any_split_of_a_debit_into_credits_balances(
            parts in proptest::collection::vec(1i64..1_000_000_000, 1..50)
        ) {
            let total: i64 = parts.iter().sum();
            let mut postings = vec![line("debit", total)];
            postings.extend(parts.iter().map(|p| line("credit", -p)));
            prop_assert_eq!(check_balanced(&postings), Ok(()));
            prop_assert_eq!(check_balanced(&reversal_of(&postings).unwrap()), Ok(()));
            // Any single-cent change breaks it.
            postings[0].amount = Cents::new(total + 1);
            prop_assert_eq!(check_balanced(&postings), Err(EntryError::Unbalanced(Cents::new(1))));
        }
    }
}
