//! The writes the simulation makes: every write the service accepts, with amounts at and
//! around their edges and effective dates back and forward. Each reads what it needs from
//! the world, the mirror or the API, and records in the world what was acknowledged.

use chrono::{Duration, NaiveDate, Utc};
use serde_json::{json, Value};

use super::driver::{date, money, Award, Sim, Tranche};
use super::oracle::cents;
use investai::domain::roles::Role;

/// Tranches, sources and facilities a run creates at most.
const TRANCHES_MAX: usize = 4;
const SOURCES_MAX: usize = 8;
const FACILITIES_MAX: usize = 3;

/// The writes, by weight. Setup writes come first when what a write needs does not exist.
const OPS: &[(Op, u32)] = &[
    (Op::Tranche, 3),
    (Op::Source, 3),
    (Op::Commitment, 6),
    (Op::Amendment, 3),
    (Op::CapitalCall, 6),
    (Op::Contribution, 10),
    (Op::Facility, 2),
    (Op::Deployment, 8),
    (Op::Proceeds, 6),
    (Op::Valuation, 3),
    (Op::WriteDown, 3),
    (Op::Terms, 3),
    (Op::Distribution, 8),
    (Op::GrantCall, 3),
    (Op::Application, 4),
    (Op::Award, 4),
    (Op::Usage, 5),
    (Op::Lapse, 2),
    (Op::ManualEntry, 6),
    (Op::Reversal, 4),
    (Op::Retry, 5),
    (Op::Race, 2),
    (Op::Restart, 1),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Tranche,
    Source,
    Commitment,
    Amendment,
    CapitalCall,
    Contribution,
    Facility,
    Deployment,
    Proceeds,
    Valuation,
    WriteDown,
    Terms,
    Distribution,
    GrantCall,
    Application,
    Award,
    Usage,
    Lapse,
    ManualEntry,
    Reversal,
    Retry,
    Race,
    Restart,
}

/// Whole euros in cents.
const fn eur(euros: i64) -> i64 {
    euros * 100
}

fn id_of(reply: &Value) -> String {
    reply["id"].as_str().unwrap_or_default().to_string()
}

impl Sim {
    /// One step: a write chosen by the seed (or the setup it needs first).
    pub async fn act(&mut self, restarts: bool) {
        self.step += 1;
        if self.world.fund.is_empty() {
            return self.fund().await;
        }
        let total: u32 = OPS.iter().map(|(_, w)| w).sum();
        let mut roll = self.below(total as usize) as u32;
        let mut op = Op::Retry;
        for (candidate, weight) in OPS {
            if roll < *weight {
                op = *candidate;
                break;
            }
            roll -= weight;
        }
        let op = self.prerequisite(op);
        match op {
            Op::Tranche => self.tranche().await,
            Op::Source => self.source().await,
            Op::Commitment => self.commitment().await,
            Op::Amendment => self.amendment().await,
            Op::CapitalCall => self.capital_call().await,
            Op::Contribution => self.contribution().await,
            Op::Facility => self.facility().await,
            Op::Deployment => self.deployment().await,
            Op::Proceeds => self.proceeds().await,
            Op::Valuation => self.valuation().await,
            Op::WriteDown => self.write_down().await,
            Op::Terms => self.terms().await,
            Op::Distribution => self.distribution().await,
            Op::GrantCall => self.grant_call().await,
            Op::Application => self.application().await,
            Op::Award => self.award().await,
            Op::Usage => self.usage().await,
            Op::Lapse => self.lapse().await,
            Op::ManualEntry => self.manual_entry().await,
            Op::Reversal => self.reversal().await,
            Op::Retry => self.retry().await,
            Op::Race => self.race_for_cash().await,
            Op::Restart if restarts => self.restart().await,
            Op::Restart => self.retry().await,
        }
    }

    /// What must exist before `op` can be tried.
    fn prerequisite(&self, op: Op) -> Op {
        let w = &self.world;
        let needs = match op {
            Op::Commitment | Op::CapitalCall if w.tranches.len() < 2 => Op::Tranche,
            Op::Commitment if w.sources.len() < 3 => Op::Source,
            Op::Amendment | Op::CapitalCall if w.commitments.len() < 3 => Op::Commitment,
            Op::Contribution if w.notices.is_empty() => Op::CapitalCall,
            Op::Deployment | Op::Proceeds | Op::WriteDown | Op::GrantCall | Op::Race if w.facilities.is_empty() => {
                Op::Facility
            }
            Op::Distribution | Op::Valuation if !w.terms_set => Op::Terms,
            Op::Terms if w.tranches.len() < 2 => Op::Tranche,
            Op::Application if w.grant_calls.is_empty() => Op::GrantCall,
            Op::Award if w.applications.is_empty() => Op::Application,
            Op::Usage | Op::Lapse if w.awards.is_empty() => Op::Award,
            _ => op,
        };
        if needs == op {
            op
        } else {
            self.prerequisite(needs)
        }
    }

    async fn fund(&mut self) {
        let staff = self.staff();
        let body = json!({"name": format!("Simulated fund {}", self.seed), "target_size": "1000000000.00",
            "inception_date": "2024-01-01", "term_years": 10});
        let reply = self.post("/api/v1/funds", &staff, body).await;
        self.world.fund = id_of(&reply.body);
    }

    async fn tranche(&mut self) {
        if self.world.tranches.len() >= TRANCHES_MAX {
            return self.source().await;
        }
        let seniority = self.world.tranches.len() + 1;
        let pref = ["0", "0.05", "0.08", "0.12"][self.below(4)];
        let cap = [Value::Null, json!("1.1"), json!("1.5"), json!("2")][self.below(4)].clone();
        let target = self.cents_between(eur(1_000_000), eur(20_000_000));
        // A first-loss tranche ranks below every other: once there is one, the next are too.
        let first_loss = self.world.tranches.iter().any(|t| t.first_loss) || (seniority >= 3 && self.chance(60));
        let body = json!({"name": format!("Tranche {seniority}"), "seniority": seniority, "target_size": money(target),
            "pref_rate": pref, "return_cap": cap, "first_loss": first_loss});
        let staff = self.staff();
        let fund = self.world.fund.clone();
        let reply = self.post(&format!("/api/v1/funds/{fund}/tranches"), &staff, body).await;
        if reply.status == 201 {
            self.world.tranches.push(Tranche { id: id_of(&reply.body), pref: pref != "0", first_loss });
        }
    }

    async fn source(&mut self) {
        if self.world.sources.len() >= SOURCES_MAX {
            return self.commitment().await;
        }
        let n = self.next();
        let name = format!("Investor {n} of run {}", self.seed);
        // Mostly private money, some public: the overview splits the two.
        let body = if self.chance(30) {
            json!({"kind": "eu_programme", "programme": "horizon_europe", "legal_name": name, "country": "EU"})
        } else {
            json!({"kind": "private", "legal_name": name, "country": "FR"})
        };
        let staff = self.staff();
        let reply = self.post("/api/v1/sources", &staff, body).await;
        if reply.status == 201 {
            self.world.sources.push(id_of(&reply.body));
        }
    }

    async fn commitment(&mut self) {
        let (Some(source), Some(tranche)) =
            (self.pick(&self.world.sources.clone()), self.pick(&self.world.tranches.clone()))
        else {
            return;
        };
        let amount = self.cents_between(eur(100_000), eur(5_000_000));
        let on = self.pick_date();
        let body = json!({"source_id": source, "tranche_id": tranche.id, "amount": money(amount), "effective_date": on,
            "allow_oversubscription": self.chance(30)});
        let staff = self.staff();
        let fund = self.world.fund.clone();
        let reply = self.post(&format!("/api/v1/funds/{fund}/commitments"), &staff, body).await;
        if reply.status == 201 {
            self.world.commitments.push((id_of(&reply.body), tranche.id));
        }
    }

    async fn amendment(&mut self) {
        let Some((commitment, _)) = self.pick(&self.world.commitments.clone()) else { return };
        let current = self.get(&format!("/api/v1/commitments/{commitment}")).await;
        let unfunded = current.body["unfunded"].as_str().and_then(cents).unwrap_or(0);
        let on = self.pick_date();
        let body = match self.below(4) {
            0 => json!({"kind": "cancel", "effective_date": on}),
            1 => {
                json!({"kind": "increase", "amount": money(self.cents_between(1, eur(1_000_000))), "effective_date": on,
                "allow_oversubscription": true})
            }
            _ => json!({"kind": "decrease", "amount": money(self.around(unfunded)), "effective_date": on}),
        };
        let staff = self.staff();
        let reply = self.post(&format!("/api/v1/commitments/{commitment}/amendments"), &staff, body).await;
        if reply.status == 201 {
            self.world.touched.insert(commitment);
        }
    }

    async fn capital_call(&mut self) {
        let fund = self.world.fund.clone();
        let listed = self.get(&format!("/api/v1/funds/{fund}/commitments?limit=500")).await;
        let mut lines = Vec::new();
        let tranches = self.world.tranches.clone();
        for tranche in tranches {
            if !self.chance(60) {
                continue;
            }
            let unfunded: i64 = listed.body["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|c| c["tranche_id"] == tranche.id.as_str())
                .filter_map(|c| c["unfunded"].as_str().and_then(cents))
                .sum();
            if unfunded <= 0 && self.chance(80) {
                continue;
            }
            let amount = match self.below(3) {
                0 => self.around(unfunded),
                _ => self.cents_between(1, unfunded.max(1) / 3),
            };
            let facility = self.pick(&self.world.facilities.clone());
            let (purpose, facility) = match (self.below(4), facility) {
                (0, _) => ("fees", Value::Null),
                (1, _) | (_, None) => ("expenses", Value::Null),
                (_, Some(f)) => ("investment", json!(f)),
            };
            lines.push(
                json!({"tranche_id": tranche.id, "purpose": purpose, "facility_id": facility, "amount": money(amount)}),
            );
        }
        if lines.is_empty() {
            return;
        }
        let call_date = self.pick_past_date();
        let due = call_date + Duration::days(self.cents_between(0, 30));
        let body = json!({"call_date": call_date, "due_date": due, "description": "Simulated call", "lines": lines});
        let staff = self.staff();
        let reply = self.post(&format!("/api/v1/funds/{fund}/capital-calls"), &staff, body).await;
        if reply.status == 201 {
            let call = id_of(&reply.body);
            let notices = self.get(&format!("/api/v1/notices?call_id={call}&limit=500")).await;
            for notice in notices.body["items"].as_array().cloned().unwrap_or_default() {
                self.world.notices.push(id_of(&notice));
                self.world.touched.extend(notice["commitment_id"].as_str().map(str::to_string));
            }
        }
    }

    async fn contribution(&mut self) {
        let Some(notice) = self.pick(&self.world.notices.clone()) else { return };
        let current = self.get(&format!("/api/v1/notices/{notice}")).await;
        let outstanding = current.body["outstanding"].as_str().and_then(cents).unwrap_or(0);
        let investor = current.body["investor_id"].as_str().unwrap_or_default().to_string();
        let due = date(current.body["due_date"].as_str().unwrap_or("2024-01-01"));
        let call_date = date(current.body["call_date"].as_str().unwrap_or("2024-01-01"));
        let amount = match self.below(4) {
            0 => self.cents_between(1, outstanding.max(1)),
            _ => self.around(outstanding),
        };
        let on = match self.below(5) {
            0 => call_date - Duration::days(1),
            1 => due + Duration::days(self.cents_between(1, 90)),
            2 => self.pick_past_date(),
            _ => due,
        };
        let staff = self.staff();
        let reply = self
            .post(
                &format!("/api/v1/notices/{notice}/contributions"),
                &staff,
                json!({"amount": money(amount), "value_date": on}),
            )
            .await;
        if reply.status == 201 {
            self.world.contributions.push((on, investor, amount));
        }
    }

    async fn facility(&mut self) {
        if self.world.facilities.len() >= FACILITIES_MAX {
            return self.deployment().await;
        }
        let n = self.next();
        let body = json!({"name": format!("Facility {n} of run {}", self.seed), "kind": "ai_factory", "member_state": "FI",
            "chip_count": 1000, "chip_type": "H100", "quarterly_capacity_gpu_hours": 2_000_000});
        let staff = self.staff();
        let reply = self.post("/api/v1/facilities", &staff, body).await;
        if reply.status != 201 {
            return;
        }
        let id = id_of(&reply.body);
        let price = json!({"effective_date": "2024-01-01", "price_per_gpu_hour": "2.00"});
        self.post(&format!("/api/v1/facilities/{id}/prices"), &staff, price).await;
        self.world.facilities.push(id);
    }

    /// A deployment body aimed at the cash the fund holds on its date.
    fn deployment_body(&mut self) -> Option<(String, Value, String, i64, bool)> {
        let facility = self.pick(&self.world.facilities.clone())?;
        let on = self.pick_past_date();
        let edge = if self.chance(50) { self.spendable("1000", on) } else { self.cash_on(on) };
        let amount = self.around(edge);
        let equity = self.chance(75);
        let body = json!({"facility_id": facility, "kind": if equity { "equity" } else { "grant" }, "amount": money(amount),
            "value_date": on, "description": "Simulated deployment"});
        Some((format!("/api/v1/funds/{}/deployments", self.world.fund), body, facility, amount, equity))
    }

    /// Cash on a date as the mirror has it.
    fn cash_on(&self, on: NaiveDate) -> i64 {
        self.mirror
            .iter()
            .filter(|e| e.fund_id == self.world.fund && e.date <= on)
            .flat_map(|e| e.postings.iter())
            .filter(|p| p.code == "1000")
            .map(|p| p.cents)
            .sum()
    }

    async fn deployment(&mut self) {
        let Some((path, body, facility, amount, equity)) = self.deployment_body() else { return };
        let staff = self.staff();
        let reply = self.post(&path, &staff, body).await;
        if reply.status == 201 && equity {
            *self.world.carried.entry(facility).or_default() += amount;
        }
    }

    async fn proceeds(&mut self) {
        let on = self.pick_past_date();
        let amount = self.cents_between(1, eur(3_000_000));
        let facility = self.pick(&self.world.facilities.clone());
        let (facility, cost) = match facility {
            Some(f) if self.chance(75) => {
                let carried = self.world.carried.get(&f).copied().unwrap_or(0);
                let cost = if self.chance(30) { 0 } else { self.around(carried) };
                (json!(f), cost)
            }
            _ => (Value::Null, 0),
        };
        let amount = amount.max(cost);
        let body = json!({"facility_id": facility, "amount": money(amount), "cost_returned": money(cost), "value_date": on,
            "description": "Simulated proceeds"});
        let staff = self.staff();
        let fund = self.world.fund.clone();
        let reply = self.post(&format!("/api/v1/funds/{fund}/proceeds"), &staff, body).await;
        if reply.status == 201 {
            if let Some(f) = facility.as_str() {
                *self.world.carried.entry(f.to_string()).or_default() -= cost;
            }
        }
    }

    async fn valuation(&mut self) {
        let on = self.pick_past_date();
        let books = super::oracle::book_nav(&self.mirror, &self.world.fund, on);
        let factor = [1, 10, 50, 90, 100, 110, 150, 400][self.below(8)];
        let nav = (books.max(0) / 100 * factor).max(0);
        let body = json!({"as_of": on, "nav": money(nav), "description": "Simulated valuation"});
        let staff = self.staff();
        let fund = self.world.fund.clone();
        self.post(&format!("/api/v1/funds/{fund}/valuations"), &staff, body).await;
    }

    async fn write_down(&mut self) {
        let Some(facility) = self.pick(&self.world.facilities.clone()) else { return };
        let carried = self.world.carried.get(&facility).copied().unwrap_or(0);
        let amount = self.around(carried);
        let on = self.pick_past_date();
        let body = json!({"facility_id": facility, "amount": money(amount), "value_date": on, "description": "Simulated loss"});
        let staff = self.staff();
        let fund = self.world.fund.clone();
        let reply = self.post(&format!("/api/v1/funds/{fund}/write-downs"), &staff, body).await;
        if reply.status == 201 {
            *self.world.carried.entry(facility).or_default() -= amount;
        }
    }

    async fn terms(&mut self) {
        let tranches = self.world.tranches.clone();
        let ids: Vec<String> = tranches.iter().map(|t| t.id.clone()).collect();
        let mode = |sim: &mut Sim| if sim.chance(50) { "sequential" } else { "pro_rata" };
        let mut steps = Vec::new();
        if self.chance(25) {
            steps.push(json!({"type": "fee", "name": "Administration", "account": "5000",
                "fixed": money(self.cents_between(100, eur(50_000)))}));
        }
        let with_pref: Vec<String> = tranches.iter().filter(|t| t.pref).map(|t| t.id.clone()).collect();
        if !with_pref.is_empty() && self.chance(70) {
            steps.push(json!({"type": "pref", "tranches": with_pref, "mode": mode(self)}));
        }
        steps.push(json!({"type": "capital", "tranches": ids, "mode": mode(self)}));
        if self.chance(60) {
            let cap = if self.chance(50) { Value::Null } else { money(self.cents_between(100, eur(1_000_000))) };
            steps.push(json!({"type": "reserve", "account": "1010", "percent": format!("{}", self.cents_between(1, 30)), "cap": cap}));
        }
        if self.chance(30) {
            let beneficiary = match self.pick(&ids) {
                Some(id) if self.chance(60) => json!({"tranche": id}),
                _ => json!({"account": "1010"}),
            };
            steps.push(json!({"type": "catch_up", "beneficiary": beneficiary, "target_percent": format!("{}", self.cents_between(5, 40))}));
        }
        // A split whose percentages sum to 100, over the tranches and sometimes the pool.
        let mut shares = Vec::new();
        let mut left = 100i64;
        let mut targets: Vec<Value> = ids.iter().map(|id| json!({"tranche": id})).collect();
        if self.chance(50) {
            targets.push(json!({"account": "1010"}));
        }
        let count = targets.len();
        for (index, mut target) in targets.into_iter().enumerate() {
            let percent = if index + 1 == count { left } else { self.cents_between(0, left) };
            left -= percent;
            target["percent"] = json!(percent.to_string());
            shares.push(target);
        }
        steps.push(json!({"type": "split", "shares": shares}));
        let staff = self.staff();
        let fund = self.world.fund.clone();
        let reply = self.post(&format!("/api/v1/funds/{fund}/waterfall"), &staff, json!({"steps": steps})).await;
        if reply.status == 201 {
            self.world.terms_set = true;
        }
    }

    /// A distribution body aimed at the cash on its date.
    fn distribution_body(&mut self) -> (String, Value) {
        let last = self.world.last_distribution;
        let picked = self.pick_past_date();
        let on = match last {
            Some(last) if self.chance(85) => last.max(picked),
            _ => picked,
        };
        let edge = if self.chance(50) { self.spendable("1000", on) } else { self.cash_on(on) };
        let cash = self.around(edge);
        let body = json!({"cash": money(cash), "date": on, "description": "Simulated distribution"});
        (format!("/api/v1/funds/{}/distributions", self.world.fund), body)
    }

    async fn distribution(&mut self) {
        let (path, body) = self.distribution_body();
        let staff = self.staff();
        let preview = self.app.post(&format!("{path}/preview"), &staff, &body).await;
        self.log.push(format!("#{} POST {path}/preview {body} -> {}", self.step, preview.status));
        if preview.status >= 500 {
            self.flag(format!("[server-error] preview answered {}: {}", preview.status, preview.text));
        }
        for line in preview.body["allocation"]["steps"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|s| s["lines"].as_array())
            .flatten()
        {
            if line["shortfall"].as_str().and_then(cents).is_some_and(|s| s < 0) {
                self.flag(format!("[waterfall-line] preview line with a negative shortfall: {line}"));
            }
        }
        let reply = self.post(&path, &staff, body).await;
        if reply.status == 201 {
            self.record_distribution(&reply.body);
            if preview.status == 200 && preview.body["allocation"] != reply.body["allocation"] {
                self.flag(format!(
                    "[preview] the executed distribution differs from its preview:\npreview {}\nexecuted {}",
                    preview.body["allocation"], reply.body["allocation"]
                ));
            }
        }
    }

    fn record_distribution(&mut self, executed: &Value) {
        let on = date(executed["allocation"]["date"].as_str().unwrap_or_default());
        self.world.last_distribution = Some(self.world.last_distribution.map_or(on, |d| d.max(on)));
        for share in executed["investors"].as_array().cloned().unwrap_or_default() {
            let total = share["total"].as_str().and_then(cents).unwrap_or(0);
            let investor = share["investor_id"].as_str().unwrap_or_default().to_string();
            self.world.distributions.push((on, investor, total));
        }
    }

    /// The two staff clients spend the same cash at once: a deployment and a distribution, or
    /// two deployments.
    async fn race_for_cash(&mut self) {
        let Some((path, body, facility, amount, equity)) = self.deployment_body() else { return };
        let second = if self.world.terms_set && self.chance(50) {
            self.distribution_body()
        } else {
            let mut again = body.clone();
            again["description"] = json!("Simulated deployment, raced");
            (path.clone(), again)
        };
        let (a, b) = self.race((path.clone(), body), second.clone()).await;
        if a.status == 201 && equity {
            *self.world.carried.entry(facility.clone()).or_default() += amount;
        }
        if b.status == 201 {
            if second.0 == path {
                if equity {
                    *self.world.carried.entry(facility).or_default() += amount;
                }
            } else {
                self.record_distribution(&b.body);
            }
        }
    }

    async fn grant_call(&mut self) {
        let now = Utc::now();
        let pool = self.spendable("1010", self.today);
        let budget = if pool <= 0 { self.cents_between(1, eur(100_000)) } else { self.around(pool) };
        let n = self.next();
        let body = json!({"fund_id": self.world.fund, "name": format!("Call {n} of run {}", self.seed), "budget": money(budget),
            "opens_at": (now - Duration::days(1)).to_rfc3339(), "closes_at": (now + Duration::days(30)).to_rfc3339(),
            "eligible_facility_ids": self.world.facilities, "max_gpu_hours_per_award": "20000",
            "aid_basis": "industrial_research", "aid_measure_reference": "SA.100001", "min_reviewers": 1, "min_average_score": "50"});
        let staff = self.staff();
        let reply = self.post("/api/v1/grant-calls", &staff, body).await;
        if reply.status == 201 {
            self.world.grant_calls.push(id_of(&reply.body));
        }
    }

    async fn application(&mut self) {
        let (Some(call), Some(facility)) =
            (self.pick(&self.world.grant_calls.clone()), self.pick(&self.world.facilities.clone()))
        else {
            return;
        };
        let n = self.next();
        let sme = format!("sme-{}-{n}", self.seed);
        let start = self.today + Duration::days(self.cents_between(-300, 60));
        let end = start + Duration::days(self.cents_between(0, 80));
        let hours = self.cents_between(1, 10_000);
        let body = json!({
            "company": {"legal_name": format!("Simulated SME {n}"), "registration_number": format!("RCS-{}-{n}", self.seed), "country": "FR", "nace_code": "62.01", "nuts2_region": "FR10"},
            "staff_awu": "8", "turnover": "1500000.00", "balance_sheet": "1200000.00", "related": [], "declarations": {"undertaking_in_difficulty": false, "outstanding_recovery_order": false}, 
            "project_title": "Simulated project", "summary": "Training a model.",
            "requested_gpu_hours": hours.to_string(), "facility_id": facility, "start_date": start, "end_date": end});
        let token = self.app.token(Role::Sme, &sme);
        let draft = self.post(&format!("/api/v1/grant-calls/{call}/applications"), &token, body).await;
        if draft.status != 201 {
            return;
        }
        let id = id_of(&draft.body);
        let submitted = self.post(&format!("/api/v1/applications/{id}/submit"), &token, Value::Null).await;
        if submitted.status != 200 {
            return;
        }
        let reviewer = self.app.token(Role::Staff, &format!("reviewer-{n}"));
        let review = self
            .post(
                &format!("/api/v1/applications/{id}/reviews"),
                &reviewer,
                json!({"score": 80, "comment": "Sound plan."}),
            )
            .await;
        if review.status == 201 {
            self.world.applications.push((id, sme));
        }
    }

    async fn award(&mut self) {
        let Some((application, _)) = self.pick(&self.world.applications.clone()) else { return };
        let body =
            if self.chance(50) { json!({}) } else { json!({"gpu_hours": self.cents_between(1, 5_000).to_string()}) };
        let staff = self.staff();
        let reply = self.post(&format!("/api/v1/applications/{application}/award"), &staff, body).await;
        if reply.status == 201 {
            let b = &reply.body;
            self.world.awards.push(Award {
                id: id_of(b),
                facility: b["facility_id"].as_str().unwrap_or_default().to_string(),
                start: date(b["start_date"].as_str().unwrap_or_default()),
                end: date(b["end_date"].as_str().unwrap_or_default()),
            });
        }
    }

    async fn usage(&mut self) {
        let Some(award) = self.pick(&self.world.awards.clone()) else { return };
        let current = self.get(&format!("/api/v1/awards/{}", award.id)).await;
        let remaining = current.body["remaining_gpu_hours"]
            .as_str()
            .and_then(|h| h.parse::<f64>().ok())
            .map_or(0, |h| (h * 1000.0).round() as i64);
        let mut records = Vec::new();
        for _ in 0..self.cents_between(1, 3) {
            let milli = match self.below(4) {
                0 => remaining,
                1 => remaining + 1,
                2 => self.cents_between(1, remaining.max(1)),
                _ => self.cents_between(1, 5_000),
            }
            .max(1);
            // A day that has ended: usage reports periods over by the time it arrives.
            let last = award.end.min(self.today - Duration::days(1)).max(award.start);
            let day = award.start + Duration::days(self.cents_between(0, (last - award.start).num_days()));
            let n = self.next();
            records.push(json!({"record_id": format!("rec-{}-{n}", self.seed), "award_id": award.id,
                "gpu_hours": format!("{}.{:03}", milli / 1000, milli % 1000),
                "period_start": format!("{day}T08:00:00Z"), "period_end": format!("{day}T20:00:00Z")}));
        }
        let token = self.app.token(Role::Facility, &award.facility);
        self.post("/api/v1/usage", &token, json!({"records": records})).await;
    }

    async fn lapse(&mut self) {
        let Some(award) = self.pick(&self.world.awards.clone()) else { return };
        let as_of = award.end + Duration::days(self.cents_between(1, 30));
        let staff = self.staff();
        self.post("/api/v1/grants/lapse", &staff, json!({"as_of": as_of})).await;
    }

    async fn manual_entry(&mut self) {
        // (debit, credit, the account whose balance is the edge)
        let pairs: [(&str, &str, &str); 7] = [
            ("1010", "3900", ""),
            ("1000", "3900", ""),
            ("5010", "1000", "1000"),
            ("3900", "1010", "1010"),
            ("5000", "2100", ""),
            ("2100", "1000", "2100"),
            ("5300", "1200", "1200"),
        ];
        let index = self.below(pairs.len());
        let (debit, credit, edge) = pairs[index];
        let on = self.pick_date();
        let amount = if edge.is_empty() {
            self.cents_between(1, eur(2_000_000))
        } else {
            let held = self.spendable(edge, on).abs();
            self.around(held)
        };
        let body = json!({"effective_date": on, "description": "Simulated manual entry", "postings": [
            {"account": debit, "debit": money(amount)}, {"account": credit, "credit": money(amount)}]});
        let staff = self.staff();
        let fund = self.world.fund.clone();
        self.post(&format!("/api/v1/funds/{fund}/journal-entries"), &staff, body).await;
    }

    async fn reversal(&mut self) {
        let fund = self.world.fund.clone();
        let candidates: Vec<(String, NaiveDate)> =
            self.mirror.iter().filter(|e| e.fund_id == fund).map(|e| (e.id.clone(), e.date)).collect();
        let Some((entry, on)) = self.pick(&candidates) else { return };
        let when = if self.chance(80) { on + Duration::days(self.cents_between(0, 60)) } else { self.pick_date() };
        let staff = self.staff();
        self.post(
            &format!("/api/v1/ledger/entries/{entry}/reversal"),
            &staff,
            json!({"effective_date": when, "reason": "Simulated correction"}),
        )
        .await;
    }
}
