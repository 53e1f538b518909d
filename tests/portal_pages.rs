//! The investor's and the SME's own pages over HTTP, on both backends: funds named on every
//! notice, distributions totalled, every document listed, a refused draft that cannot be sent,
//! and an award's timeline and burn-down worked out here from the rule.

use crate::common;

use chrono::{Datelike, NaiveDate};
use common::pages::{get, links, table_rows};
use common::{created, id, TestApp};
use investai::domain::roles::Role;
use serde_json::json;

use crate::grants::{application, award, draft, open_call, reviewed, setup};
use crate::pages::two_investors;

/// The demo funds' test fixture starts on this date (`TestApp::create_fund`).
const INCEPTION: &str = "2025-02-11";

/// Quarter ends after `inception` up to `today`, counted from the calendar.
fn quarter_ends(inception: NaiveDate, today: NaiveDate) -> Vec<NaiveDate> {
    let mut ends = Vec::new();
    for year in inception.year()..=today.year() {
        for (month, day) in [(3, 31), (6, 30), (9, 30), (12, 31)] {
            let end = NaiveDate::from_ymd_opt(year, month, day).expect("date");
            if end >= inception && end <= today {
                ends.push(end);
            }
        }
    }
    ends
}

async fn an_investor_reads_each_fund_its_distributions_and_every_document(app: TestApp) {
    let f = two_investors(&app).await;
    let notices = app.get("/api/v1/notices", &app.staff()).await;
    let mut alpha_notice = String::new();
    for notice in notices.body["items"].as_array().expect("notices") {
        if notice["investor_id"] == f.alpha.as_str() {
            alpha_notice = id(notice);
        }
        let body = json!({"amount": notice["amount"], "value_date": "2025-01-15"});
        created(&app, &format!("/api/v1/notices/{}/contributions", id(notice)), body).await;
    }
    assert!(!alpha_notice.is_empty(), "{}", notices.text);
    let cash = json!({"effective_date": "2025-06-30", "description": "cash", "postings": [
        {"account": "1000", "debit": "150.00"}, {"account": "3900", "credit": "150.00"}]});
    created(&app, &format!("/api/v1/funds/{}/journal-entries", f.fund), cash).await;
    let body = json!({"cash": "150.00", "date": "2025-07-01", "description": "First distribution"});
    let distribution = id(&created(&app, &format!("/api/v1/funds/{}/distributions", f.fund), body).await);

    let alpha = app.browser_as("alpha", Role::Investor, Some(&f.alpha)).await;
    let page = get(&alpha, &app, "/notices").await;
    assert_eq!(page.status, 200, "{}", page.text);
    let calls = table_rows(&page.text, "Capital-call notices");
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0][1], "Pages fund", "the notice names its fund: {calls:?}");
    // Alpha holds 600 of 1,000 committed: its 60% of the 150.00 distributed.
    let received = table_rows(&page.text, "Distributions received in all");
    assert_eq!(received, [["Pages fund", "Alpha Capital", "1", "EUR 60.00", "EUR 0.00", "EUR 30.00", "EUR 90.00"]]);
    let paid = table_rows(&page.text, "Distribution notices, newest first");
    assert_eq!(paid.len(), 1, "{paid:?}");
    assert_eq!(paid[0][1], "Pages fund");

    let page = get(&alpha, &app, "/documents").await;
    assert_eq!(page.status, 200, "{}", page.text);
    let rows = table_rows(&page.text, "Your documents, newest first");
    let today = chrono::Utc::now().date_naive();
    let inception: NaiveDate = INCEPTION.parse().expect("date");
    let statements: Vec<&Vec<String>> = rows.iter().filter(|row| row[1] == "Quarterly statement").collect();
    let expected: Vec<String> = quarter_ends(inception, today).iter().rev().map(NaiveDate::to_string).collect();
    let shown: Vec<String> = statements.iter().map(|row| row[0].clone()).collect();
    assert_eq!(shown, expected, "one statement per quarter ended since inception, newest first");
    assert!(rows.iter().any(|row| row[1] == "Capital call notice" && row[0] == "2025-01-01"), "{rows:?}");
    assert!(rows.iter().any(|row| row[1] == "Distribution notice" && row[0] == "2025-07-01"), "{rows:?}");
    let hrefs = links(&page.text);
    assert!(hrefs.iter().any(|h| h.starts_with(&format!("/api/v1/notices/{alpha_notice}/pdf"))), "{hrefs:?}");
    let own_notice = format!("/api/v1/distributions/{distribution}/notices/{}/pdf", f.alpha);
    assert!(hrefs.iter().any(|h| h.starts_with(&own_notice)), "{hrefs:?}");
    assert!(!page.text.contains(&f.beta), "nothing of another investor");
    let newest = format!("/api/v1/funds/{}/investors/{}/statement/pdf?to={}", f.fund, f.alpha, expected[0]);
    let pdf = hrefs.iter().find(|h| h.starts_with(&newest)).expect("the newest statement's link");
    let file = alpha.get(format!("{}{pdf}", app.address)).send().await.expect("pdf");
    assert_eq!(file.status(), 200);
    assert_eq!(file.headers()["content-type"], "application/pdf");

    let home = get(&alpha, &app, "/").await;
    let since_inception = format!("/statements/{}/{}?from={INCEPTION}&to={today}", f.fund, f.alpha);
    assert!(links(&home.text).contains(&since_inception), "{}", home.text);
    assert_eq!(get(&alpha, &app, &since_inception).await.status, 200);
    let staff = app.browser_as("stan", Role::Staff, None).await;
    assert_eq!(get(&staff, &app, "/documents").await.status, 403);
}

/// The submit form of an application page, from its opening tag to its end.
fn submit_form(page: &str, application: &str) -> String {
    let action = format!("action=\"/applications/{application}/submit\"");
    let form = page.split(&action).nth(1).unwrap_or_else(|| panic!("no submit form: {page}"));
    form.split("</form>").next().unwrap_or_default().to_string()
}

async fn an_sme_cannot_submit_a_refused_draft_and_follows_its_award_day_by_day(app: TestApp) {
    let g = setup(&app, "1000000.00", 100_000).await;
    let call = open_call(&app, &g, "100000.00", "industrial_research", "5000", 1).await;
    let sme = app.browser_as("mistral", Role::Sme, Some(&common::party_id("sme-1"))).await;

    let mut above = application(&g, "RCS-9", "5000.001");
    above["project_title"] = json!("Too many hours");
    let refused = draft(&app, &call, "sme-1", &above).await;
    assert_eq!(refused.status, 201, "{}", refused.text);
    let page = get(&sme, &app, &format!("/applications/{}", id(&refused.body))).await;
    let form = submit_form(&page.text, &id(&refused.body));
    assert!(form.contains("<button type=\"submit\" name=\"intent\" value=\"default\" disabled"), "{form}");
    assert!(form.contains("change the fields marked below"), "{form}");
    let steps = table_rows(&page.text, "Status timeline");
    assert_eq!(steps[0][0], "Draft saved");
    assert_eq!(steps[1][..], ["Submitted for review", "—", "Pending"]);

    // 1,000 h at EUR 2.00 and 70% for a micro enterprise: EUR 1,400.00 of aid.
    let application_id = reviewed(&app, &call, "sme-1", &application(&g, "RCS-1", "1000"), 1).await;
    let page = get(&sme, &app, &format!("/applications/{application_id}")).await;
    assert!(!submit_form_present(&page.text, &application_id), "a submitted application has no submit form");
    let awarded = award(&app, &application_id, json!({})).await;
    assert_eq!(awarded.status, 201, "{}", awarded.text);
    assert_eq!(awarded.body["aid_value"], "1400.00");
    let award_id = id(&awarded.body);
    let record = |record: &str, hours: &str, day: u32| {
        json!({"record_id": record, "award_id": award_id, "gpu_hours": hours,
            "period_start": format!("2026-02-{day:02}T00:00:00Z"), "period_end": format!("2026-02-{day:02}T23:00:00Z")})
    };
    let batch = json!({"records": [record("r-1", "100.5", 2), record("r-2", "20", 2), record("r-3", "300.25", 5)]});
    let sent = app.post("/api/v1/usage", &app.token(Role::Facility, &g.facility), &batch).await;
    assert_eq!(sent.status, 200, "{}", sent.text);

    let page = get(&sme, &app, &format!("/applications/{application_id}")).await;
    assert_eq!(page.status, 200, "{}", page.text);
    // Worked out from the rule: each record's aid is its hours x 2.00 x 70%, exact here
    // (140.70, 28.00, 420.35); hours left are 1,000 less the hours used to date.
    let days = table_rows(&page.text, "Use by day");
    assert_eq!(
        days,
        [
            ["2026-02-02", "120.5", "120.5", "879.5", "EUR 168.70", "EUR 1,231.30"],
            ["2026-02-05", "300.25", "420.75", "579.25", "EUR 589.05", "EUR 810.95"],
        ]
    );
    assert!(page.text.contains("id=\"burn-down-title\""), "a chart beside the table");
    let steps = table_rows(&page.text, "Status timeline");
    let names: Vec<&str> = steps.iter().map(|row| row[0].as_str()).collect();
    // Reviews stay with staff: the applicant's timeline has no review step.
    assert_eq!(names, ["Draft saved", "Submitted for review", "Awarded", "Aid period starts", "Aid period ends"]);
    assert!(steps.iter().all(|row| row[2] == "Done"), "the aid period of Q1 2026 is behind: {steps:?}");
    assert_eq!(steps[3][1], "2026-01-01");
    assert_eq!(steps[4][1], "2026-03-31");
    let staff = app.browser_as("stan", Role::Staff, None).await;
    let page = get(&staff, &app, &format!("/applications/{application_id}")).await;
    let steps = table_rows(&page.text, "Status timeline");
    assert_eq!(steps[2][0], "Review started", "staff see when review began: {steps:?}");
}

fn submit_form_present(page: &str, application: &str) -> bool {
    page.contains(&format!("action=\"/applications/{application}/submit\""))
}

on_both_backends!(
    an_investor_reads_each_fund_its_distributions_and_every_document,
    an_sme_cannot_submit_a_refused_draft_and_follows_its_award_day_by_day,
);
