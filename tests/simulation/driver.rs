//! The simulation's driver: sends requests (recording each in the log that a failing seed
//! prints), mirrors the journal as the API shows it, and checks every invariant after each step.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

use super::oracle::{self, cents, eur, Entry, Posting};
use crate::common::{Reply, TestApp};
use investai::domain::roles::Role;

/// Journal entries read per page while mirroring.
const MIRROR_PAGE: usize = 500;
/// A date after everything the simulation posts.
pub const END_OF_TIME: &str = "9999-12-31";

pub fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_default()
}

#[derive(Clone, Debug)]
pub struct Tranche {
    pub id: String,
    pub pref: bool,
    pub first_loss: bool,
}

#[derive(Clone, Debug)]
pub struct Award {
    pub id: String,
    pub facility: String,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// What the simulation has created, to aim its next requests at.
#[derive(Default)]
pub struct World {
    pub fund: String,
    pub tranches: Vec<Tranche>,
    pub sources: Vec<String>,
    /// (commitment, tranche)
    pub commitments: Vec<(String, String)>,
    pub notices: Vec<String>,
    pub facilities: Vec<String>,
    /// Equity cost carried per facility, as the acknowledged writes left it.
    pub carried: BTreeMap<String, i64>,
    pub terms_set: bool,
    pub last_distribution: Option<NaiveDate>,
    pub grant_calls: Vec<String>,
    /// (application, SME) submitted and reviewed
    pub applications: Vec<(String, String)>,
    pub awards: Vec<Award>,
    /// Acknowledged contributions and distributions: (date, investor, cents).
    pub contributions: Vec<(NaiveDate, String, i64)>,
    pub distributions: Vec<(NaiveDate, String, i64)>,
    pub cursor: NaiveDate,
    pub counter: u64,
    /// Commitments amended or called since the last check: their history is checked date by
    /// date at the next one.
    pub touched: BTreeSet<String>,
}

/// A keyed write that succeeded: sent again, it must be replayed exactly.
#[derive(Clone)]
pub struct Sent {
    pub path: String,
    pub token: String,
    pub key: String,
    pub body: Value,
    pub status: u16,
    pub reply: Value,
}

pub struct Sim {
    pub app: TestApp,
    pub seed: u64,
    pub rng: ChaCha8Rng,
    pub step: usize,
    pub log: Vec<String>,
    pub world: World,
    pub mirror: Vec<Entry>,
    pub sent: Vec<Sent>,
    /// Violations seen while sending (a 5xx, a retry not replayed), reported by the next check.
    pub pending: Vec<String>,
    /// Kinds of violation to look past (`INVESTAI_SIM_IGNORE`), to find what lies behind a known one.
    pub ignored: Vec<String>,
    pub today: NaiveDate,
}

impl Sim {
    pub fn new(app: TestApp, seed: u64) -> Sim {
        Sim {
            app,
            seed,
            rng: ChaCha8Rng::seed_from_u64(seed),
            step: 0,
            log: Vec::new(),
            world: World { cursor: date("2024-01-15"), ..World::default() },
            mirror: Vec::new(),
            sent: Vec::new(),
            pending: Vec::new(),
            ignored: std::env::var("INVESTAI_SIM_IGNORE")
                .unwrap_or_default()
                .split(',')
                .filter(|k| !k.is_empty())
                .map(|k| format!("[{}]", k.trim()))
                .collect(),
            today: chrono::Utc::now().date_naive(),
        }
    }

    // ----- randomness -------------------------------------------------------------------

    pub fn chance(&mut self, percent: u32) -> bool {
        self.rng.gen_range(0..100) < percent
    }

    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            self.rng.gen_range(0..n)
        }
    }

    pub fn pick<T: Clone>(&mut self, items: &[T]) -> Option<T> {
        if items.is_empty() {
            None
        } else {
            let index = self.below(items.len());
            Some(items[index].clone())
        }
    }

    pub fn cents_between(&mut self, low: i64, high: i64) -> i64 {
        if high <= low {
            low
        } else {
            self.rng.gen_range(low..=high)
        }
    }

    /// An amount at or around an edge: the edge itself, a cent either side, half of it, or a
    /// little above; never below one cent.
    pub fn around(&mut self, edge: i64) -> i64 {
        let choice = match self.below(6) {
            0 | 1 => edge,
            2 => edge + 1,
            3 => edge - 1,
            4 => edge / 2,
            _ => edge + self.cents_between(1, 100_000),
        };
        choice.max(1)
    }

    /// An effective date: mostly moving forward, sometimes back-dated or far ahead.
    pub fn pick_date(&mut self) -> NaiveDate {
        let cursor = self.world.cursor;
        match self.below(20) {
            0..=12 => {
                let next = cursor + chrono::Duration::days(self.rng.gen_range(0..20));
                self.world.cursor = next;
                next
            }
            13..=16 => cursor - chrono::Duration::days(self.rng.gen_range(1..400)),
            17 | 18 => cursor + chrono::Duration::days(self.rng.gen_range(30..900)),
            _ => date("2999-12-31"),
        }
    }

    /// The date of a record of what has happened (a call, a payment, a deployment, proceeds, a
    /// valuation, a write-down, a distribution): as [`Sim::pick_date`], but one picked after today
    /// is mostly brought back to today, as the service refuses it (docs/ledger.md, "Dated on or
    /// before today"); one in ten is sent as picked, to be refused.
    pub fn pick_past_date(&mut self) -> NaiveDate {
        let picked = self.pick_date();
        if picked > self.today && !self.chance(10) {
            self.today
        } else {
            picked
        }
    }

    pub fn next(&mut self) -> u64 {
        self.world.counter += 1;
        self.world.counter
    }

    /// A fresh idempotency key: the seed and a counter, so a replay sends the same keys.
    pub fn key(&mut self) -> String {
        let n = self.next();
        format!("sim-{}-{n}", self.seed)
    }

    // ----- tokens -----------------------------------------------------------------------

    /// One of the two staff clients, chosen by the seed: the two interleave.
    pub fn staff(&mut self) -> String {
        let name = if self.chance(50) { "alice" } else { "bob" };
        self.app.token(Role::Staff, name)
    }

    pub fn auditor(&self) -> String {
        self.app.token(Role::Auditor, "carol")
    }

    // ----- requests ---------------------------------------------------------------------

    fn note(&mut self, line: String) {
        self.log.push(format!("#{} {line}", self.step));
    }

    /// Records a violation, `[kind] what`, for the next check to report.
    pub fn flag(&mut self, violation: String) {
        self.pending.push(violation);
    }

    fn judge(&mut self, method: &str, path: &str, reply: &Reply) {
        if reply.status >= 500 {
            self.flag(format!("[server-error] {method} {path} answered {}: {}", reply.status, reply.text));
        }
    }

    pub async fn get(&mut self, path: &str) -> Reply {
        let token = self.auditor();
        let reply = self.app.get(path, &token).await;
        self.judge("GET", path, &reply);
        reply
    }

    /// A POST with an idempotency key of its own; successes are kept for retries.
    pub async fn post(&mut self, path: &str, token: &str, body: Value) -> Reply {
        let key = self.key();
        let reply = self.app.post_with_key(path, token, &key, &body).await;
        self.note(format!("POST {path} key={key} {body} -> {}", reply.status));
        self.judge("POST", path, &reply);
        if (200..300).contains(&reply.status) {
            self.sent.push(Sent {
                path: path.into(),
                token: token.into(),
                key,
                body,
                status: reply.status,
                reply: reply.body.clone(),
            });
        }
        reply
    }

    /// Two writes sent at once by the two staff clients.
    pub async fn race(&mut self, first: (String, Value), second: (String, Value)) -> (Reply, Reply) {
        let (alice, bob) = (self.app.token(Role::Staff, "alice"), self.app.token(Role::Staff, "bob"));
        let (key_a, key_b) = (self.key(), self.key());
        let (a, b) = tokio::join!(
            self.app.post_with_key(&first.0, &alice, &key_a, &first.1),
            self.app.post_with_key(&second.0, &bob, &key_b, &second.1)
        );
        self.note(format!("RACE POST {} key={key_a} {} -> {}", first.0, first.1, a.status));
        self.note(format!("RACE POST {} key={key_b} {} -> {}", second.0, second.1, b.status));
        self.judge("POST", &first.0, &a);
        self.judge("POST", &second.0, &b);
        (a, b)
    }

    /// Sends an earlier successful write again with its key: the same answer, replayed. Usage
    /// is idempotent by record id instead (each record counts once: what was accepted is
    /// accepted again and nothing is new), and a lapse by nature (run again, it lapses no award
    /// twice).
    pub async fn retry(&mut self) {
        let Some(sent) = self.pick(&self.sent.clone()) else { return };
        let entries_before =
            self.app.get("/api/v1/ledger/verify", &self.auditor()).await.body["entries_checked"].clone();
        let reply = self.app.post_with_key(&sent.path, &sent.token, &sent.key, &sent.body).await;
        self.note(format!("RETRY POST {} key={} -> {}", sent.path, sent.key, reply.status));
        self.judge("POST", &sent.path, &reply);
        let replayed = reply.headers.get("idempotent-replayed").and_then(|v| v.to_str().ok()) == Some("true");
        let same = match sent.path.as_str() {
            "/api/v1/usage" => reply.body["new"] == 0 && reply.body["accepted"] == sent.reply["accepted"],
            // Run again, a lapse lapses nothing it lapsed before; awards that came due since
            // (ended before the date, made by the other client meanwhile) lapse now, one entry each.
            "/api/v1/grants/lapse" => {
                let after =
                    self.app.get("/api/v1/ledger/verify", &self.auditor()).await.body["entries_checked"].clone();
                let awards = |body: &Value| -> Vec<String> {
                    body.as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|l| l["award_id"].as_str().map(String::from))
                        .collect()
                };
                let (first, again) = (awards(&sent.reply), awards(&reply.body));
                let new_entries =
                    reply.body.as_array().into_iter().flatten().filter(|l| l["entry_id"].is_string()).count();
                let added = after.as_u64().zip(entries_before.as_u64()).map(|(a, b)| a.saturating_sub(b) as usize);
                reply.status == 200 && again.iter().all(|a| !first.contains(a)) && added == Some(new_entries)
            }
            _ => reply.status == sent.status && reply.body == sent.reply && replayed,
        };
        if !same {
            self.flag(format!(
                "[retry] retry of {} with key {} answered {} (replayed: {replayed}) {}, first {} {}",
                sent.path, sent.key, reply.status, reply.text, sent.status, sent.reply
            ));
        }
    }

    pub async fn restart(&mut self) {
        self.note("RESTART".into());
        self.app.restart().await;
        // Everything acknowledged before is still there, exactly.
        let before = std::mem::take(&mut self.mirror);
        if let Err(problem) = self.refresh_mirror().await {
            self.flag(format!("[restart] {problem}"));
        }
        if self.mirror.len() < before.len() || self.mirror[..before.len()] != before[..] {
            self.flag(format!(
                "[restart] after a restart the journal holds {} entries, {} before, or they differ",
                self.mirror.len(),
                before.len()
            ));
        }
    }

    // ----- the journal as the API shows it -----------------------------------------------

    async fn refresh_mirror(&mut self) -> Result<(), String> {
        loop {
            let after = self.mirror.last().map_or(0, |e| e.sequence);
            let reply = self.get(&format!("/api/v1/ledger/entries?after={after}&limit={MIRROR_PAGE}")).await;
            if reply.status != 200 {
                return Err(format!("journal page after {after}: {} {}", reply.status, reply.text));
            }
            let items = reply.body["items"].as_array().cloned().unwrap_or_default();
            for item in &items {
                self.mirror.push(parse_entry(item)?);
            }
            if items.len() < MIRROR_PAGE {
                return Ok(());
            }
        }
    }

    // ----- invariants ---------------------------------------------------------------------

    /// Every invariant of the books, checked from outside after a step: the first violation
    /// not of an ignored kind.
    pub async fn check(&mut self) -> Result<(), String> {
        let mut found = std::mem::take(&mut self.pending);
        let journal = self.check_journal().await;
        found.extend(journal.err());
        if !self.world.fund.is_empty() {
            let checks = [
                self.check_trial_balance().await,
                self.check_metrics().await,
                self.check_commitments().await,
                self.check_overview().await,
                self.check_awards().await,
                self.check_attribution().await,
            ];
            found.extend(checks.into_iter().filter_map(Result::err));
        }
        found.retain(|v| !self.ignored.iter().any(|kind| v.starts_with(kind.as_str())));
        found.into_iter().next().map_or(Ok(()), Err)
    }

    /// New entries balanced and in sequence, the chain verified, every floor held.
    async fn check_journal(&mut self) -> Result<(), String> {
        let known = self.mirror.len();
        self.refresh_mirror().await.map_err(|e| format!("[journal] {e}"))?;
        for (offset, entry) in self.mirror[known..].iter().enumerate() {
            let expected = (known + offset) as i64 + 1;
            if entry.sequence != expected {
                return Err(format!("[journal] sequence {} where {expected} was expected", entry.sequence));
            }
            let sum: i64 = entry.postings.iter().map(|p| p.cents).sum();
            if entry.postings.len() < 2 || sum != 0 {
                let count = entry.postings.len();
                return Err(format!("[unbalanced] entry {}: {count} postings summing to {}", entry.id, eur(sum)));
            }
        }
        let verify = self.get("/api/v1/ledger/verify").await;
        if verify.body["ok"] != true || verify.body["entries_checked"].as_u64() != Some(self.mirror.len() as u64) {
            return Err(format!("[chain] does not verify over {} entries: {}", self.mirror.len(), verify.text));
        }
        self.check_merkle_root().await?;
        match oracle::floor_breaches(&self.mirror).into_iter().next() {
            Some(breach) => Err(format!("[floor] {breach}")),
            None => Ok(()),
        }
    }

    /// The Merkle tree the proofs come from covers every entry, with the root RFC 6962 gives
    /// over their hashes.
    async fn check_merkle_root(&mut self) -> Result<(), String> {
        let size = self.mirror.len();
        if size == 0 {
            return Ok(());
        }
        let proof = self.get(&format!("/api/v1/transparency/proofs/inclusion?sequence={size}&tree_size={size}")).await;
        let expected = oracle::merkle_root(self.mirror.iter().map(|e| e.hash.as_str()));
        if proof.status != 200 || proof.body["root_hash"].as_str() != Some(expected.as_str()) {
            return Err(format!("[merkle] the tree of {size} entries is not RFC 6962's {expected}: {}", proof.text));
        }
        Ok(())
    }

    async fn check_trial_balance(&mut self) -> Result<(), String> {
        let fund = self.world.fund.clone();
        let on = if self.chance(50) { date(END_OF_TIME) } else { self.world.cursor };
        let tb = self.get(&format!("/api/v1/funds/{fund}/trial-balance?as_of={on}")).await;
        if tb.body["balanced"] != true {
            return Err(format!("[trial-balance] as of {on} does not balance: {}", tb.text));
        }
        let expected = oracle::balances(&self.mirror, &fund, on);
        for account in tb.body["accounts"].as_array().cloned().unwrap_or_default() {
            let id = account["account_id"].as_str().unwrap_or_default();
            let shown = account["net"].as_str().and_then(cents).unwrap_or(i64::MIN);
            let journal = expected.get(id).copied().unwrap_or(0);
            if shown != journal {
                return Err(format!(
                    "[trial-balance] as of {on}: account {} shows {} but the journal sums to {}",
                    account["code"],
                    eur(shown),
                    eur(journal)
                ));
            }
        }
        Ok(())
    }

    async fn check_metrics(&mut self) -> Result<(), String> {
        let fund = self.world.fund.clone();
        if !self.world.terms_set {
            return Ok(());
        }
        // On the day the simulation has reached (short horizons: rates near -100% or very
        // large) or today.
        let on = if self.chance(50) { self.world.cursor } else { self.world.cursor.max(self.today) };
        let reply = self.get(&format!("/api/v1/funds/{fund}/metrics?as_of={on}")).await;
        if reply.status != 200 {
            return Err(format!("[metrics] as of {on}: {} {}", reply.status, reply.text));
        }
        let metrics = reply.body;
        let figure = |value: &Value| value.as_str().and_then(cents).unwrap_or(i64::MIN);
        let fund_nav = figure(&metrics["fund_nav"]);
        let books = oracle::book_nav(&self.mirror, &fund, on);
        if fund_nav != books {
            return Err(format!(
                "[nav] fund NAV as of {on} is {} but the books' net assets without unpaid calls are {}",
                eur(fund_nav),
                eur(books)
            ));
        }
        let tranches: i64 = metrics["tranches"].as_array().into_iter().flatten().map(|t| figure(&t["nav"])).sum();
        if tranches != figure(&metrics["fund"]["nav"]) {
            return Err(format!(
                "[tranche-nav] tranche NAVs sum to {} but the fund's investors hold {}",
                eur(tranches),
                metrics["fund"]["nav"]
            ));
        }
        for investor in metrics["investors"].as_array().cloned().unwrap_or_default() {
            self.check_investor(&investor, on)?;
        }
        Ok(())
    }

    /// An investor's paid-in and distributions equal what was acknowledged, and XIRR finds the
    /// rate whenever the flows change sign exactly once.
    fn check_investor(&self, line: &Value, on: NaiveDate) -> Result<(), String> {
        let id = line["id"].as_str().unwrap_or_default();
        let figure = |value: &Value| value.as_str().and_then(cents).unwrap_or(i64::MIN);
        let mine = |list: &[(NaiveDate, String, i64)]| -> Vec<(NaiveDate, i64)> {
            list.iter().filter(|(d, who, _)| who == id && *d <= on).map(|(d, _, c)| (*d, *c)).collect()
        };
        let contributions = mine(&self.world.contributions);
        let distributions = mine(&self.world.distributions);
        let paid_in: i64 = contributions.iter().map(|f| f.1).sum();
        let distributed: i64 = distributions.iter().map(|f| f.1).sum();
        if figure(&line["paid_in"]) != paid_in || figure(&line["distributed"]) != distributed {
            return Err(format!(
                "[investor-flows] investor {id}: metrics show paid-in {} and distributed {}, acknowledged {} and {}",
                line["paid_in"],
                line["distributed"],
                eur(paid_in),
                eur(distributed)
            ));
        }
        let nav = figure(&line["nav"]);
        if nav < 0 {
            return Err(format!("[nav] investor {id}: NAV {} is negative", line["nav"]));
        }
        let mut flows: Vec<(NaiveDate, i64)> = contributions.iter().map(|(d, c)| (*d, -c)).collect();
        flows.extend(distributions);
        if nav != 0 {
            flows.push((on, nav));
        }
        if oracle::sign_changes(&flows) != 1 {
            return Ok(());
        }
        match (line["xirr"]["status"].as_str(), line["xirr"]["rate"].as_f64()) {
            (Some("rate"), Some(rate)) if rate > -1.0 && oracle::relative_npv(rate, &flows).abs() < 1e-6 => Ok(()),
            // As near as a double and a root finder get: the root within 8 epsilons.
            (Some("rate"), Some(rate)) if rate > -1.0 && oracle::root_near(rate, &flows) => Ok(()),
            // Closer to -100% than a double shows: the root lies below the smallest rate above -1.
            (Some("rate"), Some(rate))
                if rate == -1.0 && oracle::npv_sign(-1.0 + f64::EPSILON, &flows) == oracle::npv_sign(0.1, &flows) =>
            {
                Ok(())
            }
            // A rate beyond the largest double (docs/metrics.md: no_convergence).
            (Some("no_convergence"), _) if oracle::root_above_a_double(&flows) => Ok(()),
            _ => Err(format!(
                "[xirr] investor {id}: flows {:?} change sign once, so one rate exists, but XIRR says {}",
                oracle::netted(&flows).iter().map(|(d, c)| format!("{d} {}", eur(*c))).collect::<Vec<_>>(),
                line["xirr"]
            )),
        }
    }

    async fn check_commitments(&mut self) -> Result<(), String> {
        let fund = self.world.fund.clone();
        let reply = self.get(&format!("/api/v1/funds/{fund}/commitments?limit=500")).await;
        for c in reply.body["items"].as_array().cloned().unwrap_or_default() {
            let figure = |name: &str| c[name].as_str().and_then(cents).unwrap_or(i64::MIN);
            let (committed, called, unfunded, paid) =
                (figure("committed"), figure("called"), figure("unfunded"), figure("paid_in"));
            if called > committed || unfunded != committed - called || paid > called || unfunded < 0 || paid < 0 {
                return Err(format!("[commitment] commitment {} called above what it may: {c}", c["id"]));
            }
        }
        self.check_commitment_histories().await
    }

    /// Each commitment amended or called since the last check, on every date of its history:
    /// what it had committed by then is at least what its calls dated by then had taken.
    async fn check_commitment_histories(&mut self) -> Result<(), String> {
        let touched = std::mem::take(&mut self.world.touched);
        if touched.is_empty() {
            return Ok(());
        }
        let calls = self.calls_by_commitment().await?;
        for commitment in touched {
            let read = self.get(&format!("/api/v1/commitments/{commitment}")).await;
            let events: Vec<(NaiveDate, i64)> = read.body["events"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| {
                    let amount = e["amount"].as_str().and_then(cents);
                    let on = e["effective_date"].as_str().and_then(|t| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok());
                    let sign = if matches!(e["kind"].as_str(), Some("initial" | "increase")) { 1 } else { -1 };
                    match (amount, on) {
                        (Some(amount), Some(on)) => Ok((on, sign * amount)),
                        _ => Err(format!(
                            "[commitment] commitment {commitment}: an event the service wrote unreadably: {e}"
                        )),
                    }
                })
                .collect::<Result<_, String>>()?;
            let called = calls.get(&commitment).map(Vec::as_slice).unwrap_or_default();
            if let Some((on, committed, called)) = oracle::called_above_committed(&events, called) {
                return Err(format!(
                    "[commitment] commitment {commitment} on {on}: {} committed, {} called",
                    eur(committed),
                    eur(called)
                ));
            }
        }
        Ok(())
    }

    /// Every notice of the fund as (call date, amount), by commitment.
    async fn calls_by_commitment(&mut self) -> Result<BTreeMap<String, Vec<(NaiveDate, i64)>>, String> {
        let fund = self.world.fund.clone();
        let mut calls: BTreeMap<String, Vec<(NaiveDate, i64)>> = BTreeMap::new();
        let mut after = String::new();
        loop {
            let reply = self.get(&format!("/api/v1/notices?fund_id={fund}&limit=500{after}")).await;
            let page = reply.body["items"]
                .as_array()
                .ok_or_else(|| format!("[commitment] no page of notices: {}", reply.text))?;
            for notice in page {
                let on = notice["call_date"].as_str().and_then(|t| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok());
                let amount = notice["amount"].as_str().and_then(cents);
                let (Some(on), Some(amount), Some(commitment)) = (on, amount, notice["commitment_id"].as_str()) else {
                    return Err(format!("[commitment] a notice the service wrote unreadably: {notice}"));
                };
                calls.entry(commitment.to_string()).or_default().push((on, amount));
            }
            match reply.body["next_after"].as_str() {
                Some(last) => after = format!("&after={last}"),
                None => break,
            }
        }
        Ok(calls)
    }

    /// The overview's totals against the commitments they sum (listed one by one), the
    /// programmes of their sources, and the contributions acknowledged to the run.
    async fn check_overview(&mut self) -> Result<(), String> {
        let fund = self.world.fund.clone();
        let sources = self.get("/api/v1/sources?limit=500").await;
        let programme_of: BTreeMap<String, String> = sources.body["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|s| {
                (
                    s["id"].as_str().unwrap_or_default().to_string(),
                    s["programme"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        let listed = self.get(&format!("/api/v1/funds/{fund}/commitments?limit=500")).await;
        // [committed, called, paid] in total, per tranche and per programme.
        let mut total = [0i64; 3];
        let mut by: BTreeMap<(&str, String), [i64; 3]> = BTreeMap::new();
        for c in listed.body["items"].as_array().cloned().unwrap_or_default() {
            let figure = |name: &str| c[name].as_str().and_then(cents).unwrap_or(i64::MIN);
            let amounts = [figure("committed"), figure("called"), figure("paid_in")];
            let source = c["source_id"].as_str().unwrap_or_default();
            let programme = programme_of.get(source).cloned().unwrap_or_else(|| format!("no source {source}"));
            for key in [("tranche", c["tranche_id"].as_str().unwrap_or_default().to_string()), ("programme", programme)]
            {
                let sums = by.entry(key).or_default();
                (0..3).for_each(|i| sums[i] += amounts[i]);
            }
            (0..3).for_each(|i| total[i] += amounts[i]);
        }
        let acknowledged: i64 = self.world.contributions.iter().map(|(_, _, cents)| cents).sum();
        if total[2] != acknowledged {
            return Err(format!(
                "[overview] commitments show {} paid in, the run acknowledged {}",
                eur(total[2]),
                eur(acknowledged)
            ));
        }
        let overview = self.get(&format!("/api/v1/funds/{fund}/overview")).await;
        let shown = |figures: &Value| {
            ["committed", "called", "paid_in"].map(|n| figures[n].as_str().and_then(cents).unwrap_or(i64::MIN))
        };
        if shown(&overview.body) != total {
            return Err(format!(
                "[overview] totals {:?}, the commitments sum to {total:?}: {}",
                shown(&overview.body),
                overview.body
            ));
        }
        let groups = [("by_tranche", "tranche", "tranche_id"), ("by_programme", "programme", "key")];
        for (list, kind, id) in groups {
            let mut seen: BTreeMap<(&str, String), [i64; 3]> = BTreeMap::new();
            for group in overview.body[list].as_array().cloned().unwrap_or_default() {
                let figures = shown(&group);
                if figures != [0; 3] {
                    seen.insert((kind, group[id].as_str().unwrap_or_default().to_string()), figures);
                }
            }
            let expected: BTreeMap<_, _> = by
                .iter()
                .filter(|((k, _), sums)| *k == kind && **sums != [0; 3])
                .map(|(key, sums)| (key.clone(), *sums))
                .collect();
            if seen != expected {
                return Err(format!("[overview] {list} {seen:?}, the commitments sum to {expected:?}"));
            }
        }
        Ok(())
    }

    async fn check_awards(&mut self) -> Result<(), String> {
        if self.world.awards.is_empty() {
            return Ok(());
        }
        let mut awards = Vec::new();
        let mut after = String::new();
        loop {
            let reply = self.get(&format!("/api/v1/awards?limit=500{after}")).await;
            let page =
                reply.body["items"].as_array().ok_or_else(|| format!("[award] no page of awards: {}", reply.text))?;
            awards.extend(page.iter().cloned());
            match reply.body["next_after"].as_str() {
                Some(last) => after = format!("&after={last}"),
                None => break,
            }
        }
        if awards.len() < self.world.awards.len() {
            return Err(format!("[award] {} awards listed, {} made", awards.len(), self.world.awards.len()));
        }
        for award in awards {
            let hours = |name: &str| award[name].as_str().and_then(|t| t.parse::<f64>().ok()).unwrap_or(-1.0);
            let money = |name: &str| award[name].as_str().and_then(cents).unwrap_or(i64::MIN);
            if hours("used_gpu_hours") > hours("awarded_gpu_hours")
                || hours("used_gpu_hours") < 0.0
                || money("subsidy_used") > money("aid_value")
                || money("subsidy_used") < 0
            {
                return Err(format!("[award] award {} used above what was awarded: {award}", award["id"]));
            }
        }
        Ok(())
    }

    /// The pool's attribution answers, holds what accounts 1010-1030 hold in the mirror,
    /// reserves what the distributions put into 1010, and conserves every source's money.
    async fn check_attribution(&mut self) -> Result<(), String> {
        let fund = self.world.fund.clone();
        let reply = self.get(&format!("/api/v1/funds/{fund}/grant-attribution")).await;
        if reply.status != 200 {
            return Err(format!("[attribution] answered {}: {}", reply.status, reply.text));
        }
        let net = |code: &str, event: Option<&str>| -> i64 {
            self.mirror
                .iter()
                .filter(|e| e.fund_id == fund && event.is_none_or(|t| e.event_type == t))
                .flat_map(|e| e.postings.iter().filter(|p| p.code == code))
                .map(|p| p.cents)
                .sum()
        };
        let figure = |row: &Value, name: &str| row[name].as_str().and_then(cents).unwrap_or(i64::MIN);
        let totals = &reply.body["totals"];
        for (name, expected) in [
            ("in_pool", net("1010", None)),
            ("in_calls", net("1020", None)),
            ("in_awards", net("1030", None)),
            ("reserved", net("1010", Some("distribution"))),
        ] {
            if figure(totals, name) != expected {
                return Err(format!("[attribution] {name} {} where the journal gives {}", totals[name], eur(expected)));
            }
        }
        for row in reply.body["by_source"].as_array().into_iter().flatten() {
            let f = &row["figures"];
            let money_in = figure(f, "reserved") + figure(f, "topped_up");
            let accounted: i64 =
                ["in_pool", "in_calls", "in_awards", "used", "withdrawn"].iter().map(|name| figure(f, name)).sum();
            if money_in != accounted {
                return Err(format!(
                    "[attribution] source {} receives {} and accounts for {}",
                    row["source_id"],
                    eur(money_in),
                    eur(accounted)
                ));
            }
        }
        Ok(())
    }

    /// The smallest debit balance an account shows from `on` to the end of time, as the
    /// journal mirror has it: what a write on `on` may take without breaking a later date.
    pub fn spendable(&self, code: &str, on: NaiveDate) -> i64 {
        let mut by_day: BTreeMap<NaiveDate, i64> = BTreeMap::new();
        for entry in self.mirror.iter().filter(|e| e.fund_id == self.world.fund) {
            for posting in entry.postings.iter().filter(|p| p.code == code) {
                *by_day.entry(entry.date).or_default() += posting.cents;
            }
        }
        let mut balance: i64 = by_day.range(..=on).map(|(_, c)| c).sum();
        let mut lowest = balance;
        for (_, change) in by_day.range(on..).filter(|(day, _)| **day > on) {
            balance += change;
            lowest = lowest.min(balance);
        }
        lowest
    }

    pub fn report(&self, violation: &str) -> String {
        format!(
            "simulation seed {} failed at step {}: {violation}\nreplay: INVESTAI_SIM_SEED={} cargo test --test simulation -- {}\nsequence:\n{}",
            self.seed,
            self.step,
            self.seed,
            match self.app.backend {
                crate::common::Backend::Sqlite => "sqlite",
                crate::common::Backend::Postgres => "postgres",
            },
            self.log.join("\n")
        )
    }
}

fn parse_entry(item: &Value) -> Result<Entry, String> {
    let text = |value: &Value| value.as_str().unwrap_or_default().to_string();
    let postings = item["postings"]
        .as_array()
        .ok_or_else(|| format!("entry without postings: {item}"))?
        .iter()
        .map(|p| {
            let debit = p["debit"].as_str().and_then(cents).unwrap_or(0);
            let credit = p["credit"].as_str().and_then(cents).unwrap_or(0);
            Posting {
                account_id: text(&p["account_id"]),
                code: text(&p["account_code"]),
                cents: debit - credit,
                party: p["party_id"].as_str().map(str::to_string),
            }
        })
        .collect();
    Ok(Entry {
        sequence: item["sequence"].as_i64().unwrap_or(-1),
        id: text(&item["id"]),
        hash: text(&item["hash"]),
        fund_id: text(&item["fund_id"]),
        date: date(item["effective_date"].as_str().unwrap_or_default()),
        event_type: text(&item["event_type"]),
        postings,
    })
}

/// `json!` of an amount in cents as a decimal string.
pub fn money(cents: i64) -> Value {
    json!(eur(cents))
}
