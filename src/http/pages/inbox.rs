//! The staff inbox: what waits for this user, each with a link to act (docs/pages.md).
//! Proposals waiting for this user's approval, notices overdue, applications waiting for review,
//! awards ending within 30 days, and journal entries not yet covered by a published checkpoint.

use crate::i18n::phrase;
use actix_web::{get, web};
use chrono::Duration;

use super::view::{eur, fact, gpu_hours, link, Card, Cell, Page, Section, Table};
use super::{render, PageResult, Session};
use crate::domain::proposals::ProposalStatus;
use crate::domain::roles::Role;
use crate::http::AppState;
use crate::storage::awards::{self, Award};
use crate::storage::capital::{self, Notice, NoticeFilter};
use crate::storage::grants::{self, Application, ApplicationFilter};
use crate::storage::merkle::{self, CheckpointRow};
use crate::storage::proposals::{self, Proposal};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(inbox_page);
}

/// Rows of each list at most: the inbox points at work, the lists behind it hold it all.
const INBOX_ROWS_MAX: i64 = 100;
/// Awards ending within this many days are listed.
const AWARDS_ENDING_DAYS: i64 = 30;
const REVIEW_STATUSES: [&str; 2] = ["submitted", "under_review"];

struct Inbox {
    proposals: Vec<Proposal>,
    late_notices: Vec<Notice>,
    applications: Vec<Application>,
    awards_ending: Vec<Award>,
    tree_size: i64,
    checkpoint: Option<CheckpointRow>,
}

fn read_inbox(conn: &mut crate::storage::DbConnection, me: &str, key: Option<&str>) -> crate::error::AppResult<Inbox> {
    let today = crate::http::api::capital::today();
    let proposals =
        proposals::list(conn, Some(ProposalStatus::Pending))?.into_iter().filter(|p| p.proposed_by != me).collect();
    let late = NoticeFilter { late_only: true, ..Default::default() };
    let late_notices = capital::list_notices(conn, &late, today, INBOX_ROWS_MAX)?;
    let mut applications = Vec::new();
    for status in REVIEW_STATUSES {
        let filter = ApplicationFilter { status: Some(status.to_string()), ..Default::default() };
        applications.extend(grants::list_applications(conn, &filter, INBOX_ROWS_MAX)?);
    }
    let horizon = today + Duration::days(AWARDS_ENDING_DAYS);
    let awards_ending = awards::awards_ending_between(conn, today, horizon, INBOX_ROWS_MAX)?;
    Ok(Inbox {
        proposals,
        late_notices,
        applications,
        awards_ending,
        tree_size: merkle::tree_size(conn)?,
        checkpoint: merkle::trusted_latest(conn, key)?,
    })
}

fn proposals_card(inbox: &Inbox) -> Card {
    let mut table = Table::new("Proposals waiting for your approval", &["Proposal", "Proposed by", "Expires"]);
    for p in &inbox.proposals {
        table.row(vec![
            Cell::link(super::view::words("proposal", p.kind.as_str()), format!("/proposals/{}", p.id)),
            Cell::text(p.proposed_by.clone()),
            Cell::text(p.expires_at.format("%Y-%m-%d %H:%M UTC").to_string()),
        ]);
    }
    Card::new("Proposals to decide").with(Section::Table(table.empty("Nothing waits for your approval.")))
}

fn notices_card(inbox: &Inbox) -> Card {
    let mut table = Table::new("Notices past their due date", &["Investor", "Call", "Due", "#Outstanding"]);
    for n in &inbox.late_notices {
        table.row(vec![
            Cell::text(n.investor_name.clone()),
            Cell::link(format!("Call {}", n.call_number), format!("/calls/{}", n.call_id)),
            Cell::text(n.due_date.to_string()),
            Cell::money(n.outstanding),
        ]);
    }
    Card::new("Notices overdue").with(Section::Table(table.empty("No notice is overdue.")))
}

fn applications_card(inbox: &Inbox) -> Card {
    let mut table = Table::new("Applications waiting for review", &["Applicant", "Project", "Status"]);
    for a in &inbox.applications {
        table.row(vec![
            Cell::link(a.company.legal_name.clone(), format!("/applications/{}", a.id)),
            Cell::text(a.project_title.clone()),
            Cell::text(super::view::words("status", &a.status)),
        ]);
    }
    Card::new("Applications to review").with(Section::Table(table.empty("No application waits for review.")))
}

fn awards_card(inbox: &Inbox) -> Card {
    let mut table =
        Table::new("Awards ending within 30 days", &["Beneficiary", "Ends", "#GPU-hours left", "#Aid left"]);
    for a in &inbox.awards_ending {
        table.row(vec![
            Cell::link(a.legal_name.clone(), format!("/applications/{}", a.application_id)),
            Cell::text(a.end_date.to_string()),
            Cell::num(gpu_hours(a.remaining_gpu_hours)),
            Cell::num(eur(a.subsidy_remaining)),
        ]);
    }
    Card::new("Awards ending").with(Section::Table(table.empty("No award ends within 30 days.")))
}

fn checkpoint_card(inbox: &Inbox) -> Card {
    let covered = inbox.checkpoint.as_ref().map_or(0, |c| c.tree_size);
    let uncovered = inbox.tree_size - covered;
    let mut card = Card::new("Checkpoints");
    card = card.with(Section::Facts(vec![
        fact("Journal entries", inbox.tree_size.to_string()),
        fact("Covered by the latest signed checkpoint", covered.to_string()),
        fact(
            "Signed at",
            inbox.checkpoint.as_ref().map_or("never".into(), |c| c.issued_at.format("%Y-%m-%d %H:%M UTC").to_string()),
        ),
    ]));
    if uncovered > 0 {
        card = card.with(Section::Alert(phrase("page-entries-uncovered", &[("count", uncovered.to_string())])));
    }
    card.with(Section::Links(vec![link("Public checkpoint", "/transparency")]))
}

#[get("/inbox")]
async fn inbox_page(state: web::Data<AppState>, session: Session) -> PageResult {
    session.require(&[Role::Staff])?;
    let me = session.principal.actor();
    let key = state.checkpoint_verifier_key.clone();
    let inbox = state.db(move |conn| read_inbox(conn, &me, key.as_deref())).await?;
    let page = Page::new(session.layout("/inbox"), "Inbox")
        .subtitle("What waits for you, each with a link to act.")
        .card(proposals_card(&inbox))
        .card(notices_card(&inbox))
        .card(applications_card(&inbox))
        .card(awards_card(&inbox))
        .card(checkpoint_card(&inbox));
    render(&page)
}
