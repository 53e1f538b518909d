//! The journal's Merkle tree and checkpoints, on both backends, checked from outside: a
//! checkpoint's root and every proof the server gives are recomputed here with RFC 6962 / RFC
//! 9162 hashing written in this file, not the service's; `investai verify --checkpoint` catches
//! the insider's two attacks that plain `verify` passes (truncation with the head moved back,
//! and a consistent rewrite with every later hash recomputed) and refuses a wrong signature.

use crate::common;

use base64::Engine;
use common::{investai, TestApp, TEST_CHECKPOINT_KEY, TEST_CHECKPOINT_VERIFIER_KEY};
use investai::domain::ledger::chain_hash;
use investai::storage::ledger::get_entry;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

type Hash = [u8; 32];

fn sha256(parts: &[&[u8]]) -> Hash {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

fn node(left: &Hash, right: &Hash) -> Hash {
    sha256(&[&[1], left, right])
}

/// RFC 6962 section 2.1: MTH over the leaf hashes, split at the largest power of two below n.
fn mth(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => sha256(&[]),
        1 => leaves[0],
        n => {
            let mut k = 1;
            while k * 2 < n {
                k *= 2;
            }
            node(&mth(&leaves[..k]), &mth(&leaves[k..]))
        }
    }
}

/// The leaf hash of an entry: SHA-256(0x00 || the 32 bytes of its chain hash).
fn leaf(entry_hash_hex: &str) -> Hash {
    sha256(&[&[0], &hex::decode(entry_hash_hex).expect("hex")])
}

fn unhex(text: &Value) -> Hash {
    hex::decode(text.as_str().expect("hex text")).expect("hex").try_into().expect("32 bytes")
}

/// RFC 9162 section 2.1.3.2: verifying an inclusion proof.
fn inclusion_verifies(index: u64, size: u64, leaf_hash: Hash, path: &[Hash], root: Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut fn_, mut sn, mut r) = (index, size - 1, leaf_hash);
    for p in path {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    sn == 0 && r == root
}

/// RFC 9162 section 2.1.4.2: verifying a consistency proof.
fn consistency_verifies(first: u64, second: u64, first_root: Hash, second_root: Hash, proof: &[Hash]) -> bool {
    if first == second {
        return proof.is_empty() && first_root == second_root;
    }
    if first == 0 || first > second || proof.is_empty() {
        return false;
    }
    let mut path: Vec<Hash> = proof.to_vec();
    if first.is_power_of_two() {
        path.insert(0, first_root);
    }
    let (mut fn_, mut sn) = (first - 1, second - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node(c, &fr);
            sr = node(c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    sn == 0 && fr == first_root && sr == second_root
}

/// A GET without any credentials.
/// Posts `count` entries to a new fund; its id.
async fn post_entries(app: &TestApp, count: usize) -> String {
    let fund = app.create_fund(&format!("Transparency fund {}", uuid::Uuid::new_v4())).await;
    for n in 1..=count {
        let amount = format!("{n}.00");
        let body = json!({"effective_date": "2025-03-01", "description": format!("entry {n}"), "postings": [
            {"account": "1000", "debit": amount}, {"account": "3900", "credit": amount}]});
        let reply = app.post(&format!("/api/v1/funds/{fund}/journal-entries"), &app.staff(), &body).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
    }
    fund
}

/// The journal's entry hashes in sequence, as the API lists them.
async fn entry_hashes(app: &TestApp) -> Vec<String> {
    let mut entries: Vec<(i64, String)> = Vec::new();
    let mut after = String::new();
    loop {
        let reply = app.get(&format!("/api/v1/ledger/entries?limit=500{after}"), &app.auditor()).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        for item in reply.body["items"].as_array().expect("items") {
            entries.push((item["sequence"].as_i64().expect("sequence"), item["hash"].as_str().expect("hash").into()));
        }
        match reply.body["next_after"].as_str() {
            Some(next) => after = format!("&after={next}"),
            None => break,
        }
    }
    entries.sort();
    assert!(entries.iter().enumerate().all(|(i, (sequence, _))| *sequence == i as i64 + 1), "gap-free");
    entries.into_iter().map(|(_, hash)| hash).collect()
}

/// Size and root of a checkpoint note, read here by the C2SP format.
fn checkpoint_body(note: &str) -> (u64, Hash) {
    let mut lines = note.lines();
    assert_eq!(lines.next(), Some("investai.test/journal"), "{note}");
    let size = lines.next().and_then(|l| l.parse().ok()).expect("size line");
    let root = base64::engine::general_purpose::STANDARD.decode(lines.next().expect("root line")).expect("base64");
    assert_eq!(lines.next(), Some(""), "a blank line before the signatures");
    assert!(lines.next().is_some_and(|l| l.starts_with("\u{2014} investai.test/journal ")), "{note}");
    (size, root.try_into().expect("32 bytes"))
}

/// Runs `investai verify --checkpoint` on `note`; exit code and output.
fn verify_against(app: &TestApp, note: &str, key: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("checkpoint");
    std::fs::write(&file, note).expect("write checkpoint");
    let out = investai(&app.database_url)
        .args(["verify", "--checkpoint", file.to_str().expect("path"), "--key", key])
        .output()
        .expect("run verify");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code(), text)
}

fn plain_verify_passes(app: &TestApp) {
    let out = investai(&app.database_url).arg("verify").output().expect("run verify");
    assert!(out.status.success(), "the attack passes the hash chain: {}", String::from_utf8_lossy(&out.stderr));
}

async fn checkpoints_and_proofs_match_an_independent_rfc_6962_computation(app: TestApp) {
    post_entries(&app, 13).await;
    let first_note = app.issue_checkpoint();
    post_entries(&app, 6).await;
    let note = app.issue_checkpoint();
    let hashes = entry_hashes(&app).await;
    let leaves: Vec<Hash> = hashes.iter().map(|h| leaf(h)).collect();
    let size = leaves.len() as u64;
    assert_eq!(size, 19);

    // Served without a token, and the root is RFC 6962's over the entries' hashes.
    let latest = app.get_public("/api/v1/transparency/checkpoint").await;
    assert_eq!(latest.status, 200);
    assert_eq!(latest.text, note);
    assert_eq!(checkpoint_body(&note), (size, mth(&leaves)));
    let (first_size, first_root) = checkpoint_body(&first_note);
    assert_eq!(first_root, mth(&leaves[..first_size as usize]));
    let key = app.get_public("/api/v1/transparency/key").await;
    assert_eq!(key.text.trim(), TEST_CHECKPOINT_VERIFIER_KEY);
    let listed = app.get_public("/api/v1/transparency/checkpoints?limit=1").await;
    assert_eq!(listed.body["items"][0]["tree_size"], first_size);
    let after = listed.body["next_after"].as_str().expect("a second page");
    let second = app.get_public(&format!("/api/v1/transparency/checkpoints?after={after}")).await;
    assert_eq!(second.body["items"][0]["note"], note.as_str());
    let last = app.get_public(&format!("/api/v1/transparency/checkpoints?limit=1&after={after}")).await;
    assert_eq!(last.body["next_after"], serde_json::Value::Null, "the last checkpoint ends the list: {}", last.text);
    let stored = app.get_public(&format!("/api/v1/transparency/checkpoints/{first_size}")).await;
    assert_eq!(stored.text, first_note);

    // Every entry's inclusion proof in both trees, and consistency between sizes.
    for tree_size in [first_size, size] {
        for sequence in 1..=tree_size {
            let path = format!("/api/v1/transparency/proofs/inclusion?sequence={sequence}&tree_size={tree_size}");
            let proof = app.get_public(&path).await;
            assert_eq!(proof.status, 200, "{}", proof.text);
            let audit: Vec<Hash> = proof.body["hashes"].as_array().expect("hashes").iter().map(unhex).collect();
            let index = sequence - 1;
            let root = mth(&leaves[..tree_size as usize]);
            assert_eq!(unhex(&proof.body["root_hash"]), root);
            // The signed note of that size comes with the proof: its root is the one proven.
            let signed = if tree_size == size { &note } else { &first_note };
            assert_eq!(proof.body["checkpoint"], signed.as_str(), "{path}");
            assert!(inclusion_verifies(index, tree_size, leaves[index as usize], &audit, root), "{path}");
            // Right end points, one inner node wrong: refused.
            for i in 0..audit.len() {
                let mut forged = audit.clone();
                forged[i][0] ^= 1;
                assert!(!inclusion_verifies(index, tree_size, leaves[index as usize], &forged, root));
            }
        }
    }
    for (from, to) in [(1, size), (first_size, size), (7, 8), (8, 13), (size, size)] {
        let proof =
            app.get_public(&format!("/api/v1/transparency/proofs/consistency?from_size={from}&to_size={to}")).await;
        assert_eq!(proof.status, 200, "{}", proof.text);
        let hashes: Vec<Hash> = proof.body["hashes"].as_array().expect("hashes").iter().map(unhex).collect();
        let (first_root, second_root) = (mth(&leaves[..from as usize]), mth(&leaves[..to as usize]));
        assert!(consistency_verifies(from, to, first_root, second_root, &hashes), "{from} to {to}");
        // A size that was signed comes with its note; one never signed with none, its root the
        // server's word alone.
        for (field, at) in [("from_checkpoint", from), ("to_checkpoint", to)] {
            let signed = [(first_size, first_note.as_str()), (size, note.as_str())].into_iter().find(|(s, _)| *s == at);
            let expected = signed.map_or(Value::Null, |(_, note)| Value::from(note));
            assert_eq!(proof.body[field], expected, "{field} of {from} to {to}");
        }
        for i in 0..hashes.len() {
            let mut forged = hashes.clone();
            forged[i][31] ^= 0x80;
            assert!(!consistency_verifies(from, to, first_root, second_root, &forged), "{from} to {to}, hash {i}");
        }
    }

    // Sizes beyond the journal, and nonsense, are 400s naming the field.
    for (path, field) in [
        (format!("inclusion?sequence=1&tree_size={}", size + 1), "query.tree_size"),
        ("inclusion?sequence=5&tree_size=4".to_string(), "query.tree_size"),
        ("inclusion?sequence=0&tree_size=4".to_string(), "query.sequence"),
        (format!("consistency?from_size=2&to_size={}", size + 1), "query.to_size"),
        ("consistency?from_size=x&to_size=3".to_string(), "query.from_size"),
    ] {
        let reply = app.get_public(&format!("/api/v1/transparency/proofs/{path}")).await;
        common::assert_problem(&reply, 400, Some(field));
    }
    let (code, text) = verify_against(&app, &note, TEST_CHECKPOINT_VERIFIER_KEY);
    assert_eq!(code, Some(0), "{text}");
}

/// What a careful insider does after changing postings: the daily totals the floors read summed
/// again from them, so that `investai verify` finds every running amount agreeing.
fn rebuild_account_days(app: &TestApp) {
    app.sql(
        "DELETE FROM account_days;
         INSERT INTO account_days (account_id, party_key, day, net_cents)
             SELECT p.account_id, '', e.effective_date, SUM(p.amount_cents)
             FROM postings p JOIN journal_entries e ON e.id = p.entry_id GROUP BY p.account_id, e.effective_date;
         INSERT INTO account_days (account_id, party_key, day, net_cents)
             SELECT p.account_id, p.party_id, e.effective_date, SUM(p.amount_cents)
             FROM postings p JOIN journal_entries e ON e.id = p.entry_id
             WHERE p.party_id IS NOT NULL AND p.party_id <> ''
             GROUP BY p.account_id, p.party_id, e.effective_date;",
    )
    .expect("daily totals summed again");
}

async fn verify_checkpoint_catches_a_truncation_that_verify_passes(app: TestApp) {
    post_entries(&app, 5).await;
    let note = app.issue_checkpoint();
    let hashes = entry_hashes(&app).await;
    let keep = hashes.len() - 3;
    truncate(&app, &hashes, keep);
    plain_verify_passes(&app);
    let (code, text) = verify_against(&app, &note, TEST_CHECKPOINT_VERIFIER_KEY);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains(&format!("the journal holds {keep} entries")) && text.contains("removed"), "{text}");
}

async fn verify_checkpoint_catches_a_consistent_rewrite_that_verify_passes(app: TestApp) {
    post_entries(&app, 4).await;
    let note = app.issue_checkpoint();
    let hashes = entry_hashes(&app).await;
    let target = hashes.len() - 2;
    rewrite_consistently(&app, &hashes, target);
    plain_verify_passes(&app);
    let (code, text) = verify_against(&app, &note, TEST_CHECKPOINT_VERIFIER_KEY);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("rewritten"), "{text}");
}

/// What an insider who can write to the database does to change entry `target` unseen by the
/// hash chain: doubles its amounts, then recomputes its hash and every later one, and the
/// head's, by the documented format, and the daily totals; the Merkle tree is left as it was.
fn rewrite_consistently(app: &TestApp, hashes: &[String], target: usize) {
    drop_guards(app);
    app.sql(&format!(
        "UPDATE postings SET amount_cents = amount_cents * 2
         WHERE entry_id = (SELECT id FROM journal_entries WHERE sequence = {target})"
    ))
    .expect("double");
    let mut previous = hashes[target - 2].clone();
    for sequence in target..=hashes.len() {
        let mut conn = app.conn();
        let id: String = {
            use diesel::prelude::*;
            use investai::storage::schema::journal_entries;
            journal_entries::table
                .filter(journal_entries::sequence.eq(sequence as i64))
                .select(journal_entries::id)
                .first(&mut *conn)
                .expect("id")
        };
        let stored = get_entry(&mut conn, &id).expect("entry");
        let hash = chain_hash(&previous, &stored.entry.canonical(&stored.postings));
        drop(conn);
        app.sql(&format!(
            "UPDATE journal_entries SET previous_hash = '{previous}', hash = '{hash}' WHERE id = '{id}';"
        ))
        .expect("rehash");
        previous = hash;
    }
    app.sql(&format!("UPDATE ledger_head SET last_hash = '{previous}'")).expect("head");
    rebuild_account_days(app);
}

/// What an insider who can write to the database does to remove the entries after `keep`:
/// deletes them, moves the head back to entry `keep` and sums the daily totals again.
fn truncate(app: &TestApp, hashes: &[String], keep: usize) {
    drop_guards(app);
    app.sql(&format!(
        "UPDATE ledger_head SET sequence = {keep}, last_hash = '{hash}',
             last_entry_id = (SELECT id FROM journal_entries WHERE sequence = {keep});
         DELETE FROM postings WHERE entry_id IN (SELECT id FROM journal_entries WHERE sequence > {keep});
         DELETE FROM journal_entries WHERE sequence > {keep};",
        hash = hashes[keep - 1]
    ))
    .expect("truncate");
    rebuild_account_days(app);
}

/// A signing job with `dir` to publish to, and a run of it, forced, on its own thread.
fn publishing_job(app: &TestApp, dir: &std::path::Path) -> investai::jobs::CheckpointJob {
    let mut settings = (*app.state.settings).clone();
    settings.checkpoint_publish_dir = Some(dir.to_path_buf());
    investai::jobs::CheckpointJob::from_settings(&settings, TEST_CHECKPOINT_KEY).expect("job")
}

async fn run_forced(
    app: &TestApp,
    job: &investai::jobs::CheckpointJob,
) -> investai::error::AppResult<Option<investai::storage::merkle::CheckpointRow>> {
    let (pool, job) = (app.state.pool.clone(), job.clone());
    tokio::task::spawn_blocking(move || job.run_once(&pool, true)).await.expect("join")
}

/// A backlog longer than a step is signed step by step, each checkpoint published, the last
/// over the whole journal.
async fn a_long_backlog_is_signed_step_by_step(app: TestApp) {
    let dir = tempfile::tempdir().expect("dir");
    let mut job = publishing_job(&app, dir.path());
    job.policy.entries_per_step = 2;
    post_entries(&app, 5).await;
    let last = run_forced(&app, &job).await.expect("signed").expect("a checkpoint");
    assert_eq!(last.tree_size, 5);
    let mut signed: Vec<String> = std::fs::read_dir(dir.path())
        .expect("published")
        .filter_map(|f| f.ok()?.file_name().into_string().ok())
        .collect();
    signed.sort();
    assert_eq!(signed, ["2", "4", "5", "latest"]);
    let list = app.get_public("/api/v1/transparency/checkpoints").await;
    let sizes: Vec<i64> =
        list.body["items"].as_array().expect("items").iter().filter_map(|c| c["tree_size"].as_i64()).collect();
    assert_eq!(sizes, [2, 4, 5]);
}

/// The published checkpoint anchors the walk when it is newer than every stored one (its row
/// removed): an entry it signed, rewritten since, is named.
async fn a_published_checkpoint_newer_than_the_stored_ones_anchors_the_check(app: TestApp) {
    let dir = tempfile::tempdir().expect("dir");
    let job = publishing_job(&app, dir.path());
    post_entries(&app, 2).await;
    run_forced(&app, &job).await.expect("signed");
    post_entries(&app, 2).await;
    let published = run_forced(&app, &job).await.expect("signed").expect("a checkpoint");
    assert_eq!(published.tree_size, 4);
    let drop_guard = match app.backend {
        common::Backend::Sqlite => "DROP TRIGGER checkpoints_no_delete;",
        common::Backend::Postgres => "DROP TRIGGER checkpoints_append_only ON checkpoints;",
    };
    app.sql(&format!("{drop_guard} DELETE FROM checkpoints WHERE tree_size = 4;")).expect("row removed");
    post_entries(&app, 1).await;
    let hashes = entry_hashes(&app).await;
    rewrite_consistently(&app, &hashes, 4);
    let error = run_forced(&app, &job).await.map(|_| ()).expect_err("nothing is signed").to_string();
    assert!(error.contains("entry 4 is not the one the last checkpoint signed"), "{error}");
}

/// Runs `investai checkpoint`, which must refuse to sign; what it says.
fn checkpoint_refused(app: &TestApp) -> String {
    let out = investai(&app.database_url)
        .env("INVESTAI_CHECKPOINT_SIGNING_KEY", TEST_CHECKPOINT_KEY)
        .arg("checkpoint")
        .output()
        .expect("run checkpoint");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success(), "nothing may be signed: {text}");
    text
}

/// Entries rewritten after the last checkpoint, the stored tree left alone: a checkpoint would
/// sign leaves of entries the journal no longer holds.
async fn a_checkpoint_is_not_signed_over_a_journal_rewritten_since_the_last(app: TestApp) {
    post_entries(&app, 3).await;
    app.issue_checkpoint();
    post_entries(&app, 3).await;
    let hashes = entry_hashes(&app).await;
    rewrite_consistently(&app, &hashes, hashes.len() - 1);
    plain_verify_passes(&app);
    let said = checkpoint_refused(&app);
    assert!(said.contains("not signing") && said.contains("not the tree of the journal's entries"), "{said}");
    let latest = app.get_public("/api/v1/transparency/checkpoint").await;
    let (size, _) = checkpoint_body(&latest.text);
    assert_eq!(size as usize, hashes.len() - 3, "the last checkpoint is still the one before the rewrite");
}

/// A signed entry rewritten, with every later hash: the last signed entry is no longer the one
/// the checkpoint holds.
async fn a_checkpoint_is_not_signed_over_a_journal_rewritten_before_the_last(app: TestApp) {
    post_entries(&app, 3).await;
    app.issue_checkpoint();
    post_entries(&app, 2).await;
    let hashes = entry_hashes(&app).await;
    let signed = hashes.len() - 2;
    rewrite_consistently(&app, &hashes, signed - 1);
    plain_verify_passes(&app);
    let said = checkpoint_refused(&app);
    assert!(said.contains(&format!("entry {signed} is not the one the last checkpoint signed")), "{said}");
}

/// Entries removed after the last checkpoint and others written in their place: the stored
/// tree, left ahead of the journal, still holds the removed entries' leaves and takes none of
/// the new ones.
async fn a_checkpoint_is_not_signed_over_a_tree_ahead_of_the_journal(app: TestApp) {
    post_entries(&app, 3).await;
    app.issue_checkpoint();
    post_entries(&app, 3).await;
    let hashes = entry_hashes(&app).await;
    let keep = hashes.len() - 3;
    truncate(&app, &hashes, keep);
    post_entries(&app, 2).await;
    plain_verify_passes(&app);
    let said = checkpoint_refused(&app);
    let held = format!("the tree holds {} entries, the journal {} up to its head", keep + 3, keep + 2);
    assert!(said.contains("not signing") && said.contains(&held), "{said}");
}

async fn verify_checkpoint_refuses_a_wrong_signature(app: TestApp) {
    post_entries(&app, 2).await;
    let note = app.issue_checkpoint();
    // Another key of the same name, and the note with its size changed.
    let (_, stranger) = investai::domain::merkle::generate_signer_key("investai.test/journal");
    let (code, text) = verify_against(&app, &note, &stranger);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("signature"), "{text}");
    let (size, _) = checkpoint_body(&note);
    let altered = note.replacen(&format!("\n{size}\n"), &format!("\n{}\n", size - 1), 1);
    let (code, text) = verify_against(&app, &altered, TEST_CHECKPOINT_VERIFIER_KEY);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("signature"), "{text}");
    // The stored tree the proofs come from, changed by an insider: the checkpoint tells.
    app.sql(match app.backend {
        common::Backend::Sqlite => "DROP TRIGGER merkle_hashes_no_update;",
        common::Backend::Postgres => "DROP TRIGGER merkle_hashes_append_only ON merkle_hashes;",
    })
    .expect("drop guard");
    let changed = match app.backend {
        common::Backend::Sqlite => "UPDATE merkle_hashes SET hash = zeroblob(32)",
        common::Backend::Postgres => "UPDATE merkle_hashes SET hash = decode(repeat('00', 32), 'hex')",
    };
    app.sql(changed).expect("change the stored hashes");
    let (code, text) = verify_against(&app, &note, TEST_CHECKPOINT_VERIFIER_KEY);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("stored Merkle tree"), "{text}");
}

/// Runs `investai verify-export` on `text`; exit code and output.
fn verify_export(text: &str, checkpoint: Option<&str>) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("journal-proofs.jsonl");
    std::fs::write(&file, text).expect("write export");
    let mut command = investai("sqlite://unused.db");
    command.args(["verify-export", file.to_str().expect("path"), "--key", TEST_CHECKPOINT_VERIFIER_KEY]);
    if let Some(note) = checkpoint {
        let kept = dir.path().join("checkpoint");
        std::fs::write(&kept, note).expect("write checkpoint");
        command.args(["--checkpoint", kept.to_str().expect("path")]);
    }
    let out = command.output().expect("run verify-export");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code(), text)
}

/// Changes line `number` (from 1) of a JSON-lines text with `change`.
fn with_line(text: &str, number: usize, change: impl Fn(&mut Value)) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut value: Value = serde_json::from_str(&lines[number - 1]).expect("JSON line");
    change(&mut value);
    lines[number - 1] = value.to_string();
    lines.join("\n") + "\n"
}

async fn a_proven_export_checks_offline_and_every_change_is_refused(app: TestApp) {
    let fund = post_entries(&app, 4).await;
    post_entries(&app, 3).await;
    let path = format!("/api/v1/funds/{fund}/exports/journal-proofs.jsonl");
    common::assert_problem(&app.get(&path, &app.auditor()).await, 422, None);
    let note = app.issue_checkpoint();
    let export = app.get(&path, &app.auditor()).await;
    assert_eq!(export.status, 200, "{}", export.text);
    let (code, text) = verify_export(&export.text, Some(&note));
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("4 entries"), "{text}");

    // An amount changed in an entry's content; the same with its hash recomputed to match.
    let doubled = |v: &mut Value| {
        let canonical =
            v["canonical"].as_str().expect("canonical").replacen("\"amount_cents\":1", "\"amount_cents\":2", 1);
        v["canonical"] = Value::String(canonical);
    };
    let edited = with_line(&export.text, 2, doubled);
    let (code, text) = verify_export(&edited, None);
    assert_eq!((code, text.contains("not the hash of its content")), (Some(1), true), "{text}");
    let rehashed = with_line(&export.text, 2, |v| {
        doubled(v);
        let previous = v["previous_hash"].as_str().expect("previous").to_string();
        let canonical = v["canonical"].as_str().expect("canonical").to_string();
        v["hash"] = Value::String(investai::domain::ledger::hash_canonical_text(&previous, canonical.as_bytes()));
    });
    let (code, text) = verify_export(&rehashed, None);
    assert_eq!((code, text.contains("does not verify")), (Some(1), true), "{text}");
    // One inner node of a proof wrong, the end points right.
    let forged = with_line(&export.text, 3, |v| {
        let first = v["inclusion"][0].as_str().expect("a proof hash").to_string();
        let flipped = if first.starts_with('0') { first.replacen('0', "1", 1) } else { format!("0{}", &first[1..]) };
        v["inclusion"][0] = Value::String(flipped);
    });
    let (code, text) = verify_export(&forged, None);
    assert_eq!((code, text.contains("does not verify")), (Some(1), true), "{text}");
    // Said to be another fund's (the header is not signed), or with a line after its end.
    let other = uuid::Uuid::new_v4().to_string();
    let renamed = with_line(&export.text, 1, |v| v["fund_id"] = Value::String(other.clone()));
    let (code, text) = verify_export(&renamed, None);
    assert_eq!((code, text.contains("not of the file's fund")), (Some(1), true), "{text}");
    let (code, text) =
        verify_export(&format!("{}{}\n", export.text, export.text.lines().nth(1).expect("an entry")), None);
    assert_eq!((code, text.contains("after the closing line")), (Some(1), true), "{text}");
    // Cut short, and checked against another checkpoint than its own.
    let cut: String = export.text.lines().take(3).map(|l| format!("{l}\n")).collect();
    let (code, text) = verify_export(&cut, None);
    assert_eq!((code, text.contains("cut short")), (Some(1), true), "{text}");
    post_entries(&app, 1).await;
    let later = app.issue_checkpoint();
    let (code, text) = verify_export(&export.text, Some(&later));
    assert_eq!((code, text.contains("not the one given")), (Some(1), true), "{text}");
}

async fn checkpoints_are_signed_every_n_entries_and_daily_and_published(app: TestApp) {
    use investai::jobs::CheckpointJob;
    use investai::storage::merkle::{issue_checkpoint, CheckpointPolicy};
    let published = tempfile::tempdir().expect("dir");
    let mut settings = (*app.state.settings).clone();
    settings.checkpoint_every_entries = 3;
    settings.checkpoint_publish_dir = Some(published.path().join("checkpoints"));
    let job = CheckpointJob::from_settings(&settings, TEST_CHECKPOINT_KEY).expect("job");
    let pool = app.state.pool.clone();
    let run = move |job: CheckpointJob| {
        let pool = pool.clone();
        async move { tokio::task::spawn_blocking(move || job.run_once(&pool, false)).await.expect("join").expect("run") }
    };
    assert!(run(job.clone()).await.is_none(), "an empty journal: nothing to sign");
    post_entries(&app, 2).await;
    let first = run(job.clone()).await.expect("the first checkpoint is due at once");
    assert_eq!(first.tree_size, 2);
    post_entries(&app, 2).await;
    assert!(run(job.clone()).await.is_none(), "2 entries since the last, fewer than 3, within the day");
    post_entries(&app, 1).await;
    let second = run(job.clone()).await.expect("3 entries since the last");
    assert_eq!(second.tree_size, 5);
    let latest = std::fs::read_to_string(published.path().join("checkpoints/latest")).expect("latest published");
    assert_eq!(latest, second.note);
    let kept = std::fs::read_to_string(published.path().join("checkpoints/2")).expect("size 2 published");
    assert_eq!(kept, first.note);
    // A day after the last, one new entry is enough.
    post_entries(&app, 1).await;
    let policy =
        CheckpointPolicy { every_entries: 3, at_least_every: chrono::Duration::hours(24), entries_per_step: 100 };
    let signer = job.signer.clone();
    let mut conn = app.conn();
    let issue = |conn: &mut investai::storage::DbConnection, hours: i64| {
        let at = second.issued_at + chrono::Duration::hours(hours);
        investai::storage::write_tx(conn, |c| issue_checkpoint(c, &signer, policy, at, false, None)).expect("issue")
    };
    assert!(issue(&mut conn, 23).is_none(), "one entry, 23 hours on");
    let third = issue(&mut conn, 25).expect("one entry, 25 hours on");
    assert_eq!(third.tree_size, 6);
    assert!(issue(&mut conn, 50).is_none(), "nothing new since");
    drop(conn);
    // Issued without being published (as when the directory was out of reach): the next run
    // publishes it, though none is due.
    assert!(run(job.clone()).await.is_none());
    let latest = std::fs::read_to_string(published.path().join("checkpoints/latest")).expect("latest published");
    assert_eq!(latest, third.note);

    // Another history under the same key and directory (a database restored from an older
    // backup, then written to): nothing is signed, and what was published stays.
    for entries in [4, 7] {
        let restored = common::spawn_app(app.backend).await;
        post_entries(&restored, entries).await;
        let pool = restored.state.pool.clone();
        let job = job.clone();
        let refused = tokio::task::spawn_blocking(move || job.run_once(&pool, true)).await.expect("join");
        let error = refused.expect_err("a second history is not signed").to_string();
        assert!(error.contains("does not extend the checkpoint of 6 entries"), "{error}");
        assert_eq!(std::fs::read_to_string(published.path().join("checkpoints/latest")).expect("latest"), third.note);
        assert!(!published.path().join("checkpoints/7").exists());
        let mut conn = restored.conn();
        assert!(investai::storage::merkle::latest_checkpoint(&mut conn).expect("read").is_none());
    }
}

/// A checkpoint row that someone with write access to the table added (a note signed by another
/// key, on the real root) is passed over: the signer checks against the node's own last note,
/// publishes only its own, and the public page shows the node's own latest checkpoint.
async fn only_notes_the_key_opens_are_trusted_published_or_shown(app: TestApp) {
    use investai::jobs::CheckpointJob;
    let fund = post_entries(&app, 2).await;
    let first = app.issue_checkpoint();
    post_entries(&app, 2).await;
    let real_root = {
        let mut conn = app.conn();
        investai::storage::write_tx(&mut conn, |c| {
            investai::storage::merkle::catch_up(c)?;
            investai::storage::merkle::root(c, 3)
        })
        .expect("root of 3")
    };
    let (stranger_key, _) = investai::domain::merkle::generate_signer_key("investai.test/journal");
    let forged = investai::domain::merkle::CheckpointSigner::new(&stranger_key)
        .expect("signer")
        .sign(3, real_root)
        .expect("note");
    let root_hex = investai::domain::merkle::hex_of(&real_root);
    app.sql(&format!(
        "INSERT INTO checkpoints (tree_size, root_hash, note, issued_at) VALUES (3, '{root_hex}', '{}', '2099-01-01 00:00:00')",
        forged.replace('\'', "''")
    ))
    .expect("insert");
    let report = app.get_public(&format!("/api/v1/transparency/funds/{fund}")).await;
    assert_eq!(report.body["checkpoint"]["note"], first.as_str(), "{}", report.text);
    assert_eq!(report.body["checkpoint"]["tree_size"], 2, "{}", report.text);
    let published = tempfile::tempdir().expect("dir");
    let mut settings = (*app.state.settings).clone();
    settings.checkpoint_publish_dir = Some(published.path().join("checkpoints"));
    let job = CheckpointJob::from_settings(&settings, TEST_CHECKPOINT_KEY).expect("job");
    let run = |force: bool| {
        let (pool, job) = (app.state.pool.clone(), job.clone());
        async move { tokio::task::spawn_blocking(move || job.run_once(&pool, force)).await.expect("join").expect("run") }
    };
    // Not due (the forged row's later time does not count): the node's own last note is published.
    assert!(run(false).await.is_none());
    let latest = std::fs::read_to_string(published.path().join("checkpoints/latest")).expect("latest");
    assert_eq!(latest, first);
    let fourth = run(true).await.expect("signed over its own last note");
    assert_eq!(fourth.tree_size, 4);
    assert!(!published.path().join("checkpoints/3").exists(), "the forged note is never published");
    assert_eq!(std::fs::read_to_string(published.path().join("checkpoints/latest")).expect("latest"), fourth.note);
    let report = app.get_public(&format!("/api/v1/transparency/funds/{fund}")).await;
    assert_eq!(report.body["checkpoint"]["note"], fourth.note.as_str(), "{}", report.text);
    let latest = app.get_public("/api/v1/transparency/checkpoint").await;
    assert_eq!(latest.text, fourth.note, "the latest note served is the node's own");
    let proofs = app.get(&format!("/api/v1/funds/{fund}/exports/journal-proofs.jsonl"), &app.auditor()).await;
    let header: Value = serde_json::from_str(proofs.text.lines().next().expect("a header")).expect("json");
    assert_eq!(header["checkpoint"], fourth.note.as_str(), "proofs are against the node's own note");
    // A forged row at the size the node is about to sign: refused, naming it.
    post_entries(&app, 1).await;
    let forge = |size: u64| {
        let note = investai::domain::merkle::CheckpointSigner::new(&stranger_key)
            .expect("signer")
            .sign(size, real_root)
            .expect("note")
            .replace('\'', "''");
        format!("INSERT INTO checkpoints (tree_size, root_hash, note, issued_at) VALUES ({size}, '{root_hex}', '{note}', '2099-01-01 00:00:00');")
    };
    let refused = || {
        let (pool, job) = (app.state.pool.clone(), job.clone());
        async move {
            let outcome = tokio::task::spawn_blocking(move || job.run_once(&pool, true)).await.expect("join");
            outcome.map(|_| ()).expect_err("nothing is signed").to_string()
        }
    };
    app.sql(&forge(5)).expect("insert");
    let error = refused().await;
    assert!(error.contains("not one this key signed"), "the size is held by a note the key does not open: {error}");
    // So many rows written by hand that none of the newest is the node's: nothing is signed.
    let flood: String = (10..10 + investai::storage::merkle::CHECKPOINTS_SCANNED_MAX as u64).map(forge).collect();
    app.sql(&flood).expect("flood");
    post_entries(&app, 1).await;
    let error = refused().await;
    assert!(error.contains("opens with this node's key"), "no anchor among the newest rows: {error}");
}

/// The checkpoints a node lists, and the status of its checkpoint 2 (which must be `first`) and
/// of its latest; checkpoint 3, written by hand, must never be served.
async fn shown(app: &TestApp, first: &str) -> (Vec<i64>, u16, u16) {
    let list = app.get_public("/api/v1/transparency/checkpoints").await;
    assert_eq!(list.status, 200, "{}", list.text);
    let sizes: Vec<i64> =
        list.body["items"].as_array().expect("items").iter().filter_map(|c| c["tree_size"].as_i64()).collect();
    let forged = app.get_public("/api/v1/transparency/checkpoints/3").await;
    assert_eq!(forged.status, 404, "a note the key does not open is never served: {}", forged.text);
    let own = app.get_public("/api/v1/transparency/checkpoints/2").await;
    let latest = app.get_public("/api/v1/transparency/checkpoint").await;
    for served in [&own, &latest] {
        assert!(served.status == 404 || served.text == first, "{}", served.text);
    }
    (sizes, own.status, latest.status)
}

/// A node shows, lists and serves only the checkpoints whose note its verifier key opens: the
/// signing node's own key, or the public key given to a node that does not sign; a node with
/// neither shows none.
async fn a_node_shows_only_checkpoints_its_verifier_key_opens(mut app: TestApp) {
    post_entries(&app, 2).await;
    let first = app.issue_checkpoint();
    let (stranger_key, _) = investai::domain::merkle::generate_signer_key("investai.test/journal");
    let root = investai::domain::merkle::hash_from_hex(&"ab".repeat(32)).expect("a hash");
    let forged = investai::domain::merkle::CheckpointSigner::new(&stranger_key).expect("signer").sign(3, root);
    app.sql(&format!(
        "INSERT INTO checkpoints (tree_size, root_hash, note, issued_at) VALUES (3, '{}', '{}', '2099-01-01 00:00:00')",
        "ab".repeat(32),
        forged.expect("note").replace('\'', "''")
    ))
    .expect("a row written by hand");
    assert_eq!(shown(&app, &first).await, (vec![2], 200, 200), "the signing node");
    app.restart_with(|settings| {
        settings.checkpoint_signing_key = None;
        settings.checkpoint_verifier_key = Some(TEST_CHECKPOINT_VERIFIER_KEY.to_string());
    })
    .await;
    assert_eq!(shown(&app, &first).await, (vec![2], 200, 200), "a node with the verifier key alone");
    app.restart_with(|settings| settings.checkpoint_verifier_key = None).await;
    assert_eq!(shown(&app, &first).await, (vec![], 404, 404), "a node that can check nothing shows nothing");
}

/// Removes the journal's append-only triggers and the head's, as someone with direct database
/// access could.
fn drop_guards(app: &TestApp) {
    let statements = match app.backend {
        common::Backend::Sqlite => {
            "DROP TRIGGER postings_append_only_update; DROP TRIGGER postings_append_only_delete;
             DROP TRIGGER journal_entries_append_only_update; DROP TRIGGER journal_entries_append_only_delete;
             DROP TRIGGER ledger_head_advances_over_balanced_entries;"
        }
        common::Backend::Postgres => {
            "DROP TRIGGER postings_append_only ON postings; DROP TRIGGER journal_entries_append_only ON journal_entries;
             DROP TRIGGER ledger_head_advances_over_balanced_entries ON ledger_head;"
        }
    };
    app.sql(statements).expect("drop guards");
}

on_both_backends!(
    checkpoints_and_proofs_match_an_independent_rfc_6962_computation,
    verify_checkpoint_catches_a_truncation_that_verify_passes,
    verify_checkpoint_catches_a_consistent_rewrite_that_verify_passes,
    a_checkpoint_is_not_signed_over_a_journal_rewritten_since_the_last,
    a_checkpoint_is_not_signed_over_a_tree_ahead_of_the_journal,
    a_checkpoint_is_not_signed_over_a_journal_rewritten_before_the_last,
    verify_checkpoint_refuses_a_wrong_signature,
    a_proven_export_checks_offline_and_every_change_is_refused,
    checkpoints_are_signed_every_n_entries_and_daily_and_published,
    only_notes_the_key_opens_are_trusted_published_or_shown,
    a_node_shows_only_checkpoints_its_verifier_key_opens,
    a_long_backlog_is_signed_step_by_step,
    a_published_checkpoint_newer_than_the_stored_ones_anchors_the_check,
);
