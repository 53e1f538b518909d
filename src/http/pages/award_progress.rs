//! How an application and its award progress: the status timeline from draft to the end of the
//! aid period, and the award's burn-down (GPU-hours and aid used over time, and what is left).

use chrono::NaiveDateTime;

use super::charts::{self, TimePoint};
use super::view::{gpu_hours, Cell, Section, Table};
use super::PageResult;
use crate::domain::burn_down::{burn_down, BurnDownPoint};
use crate::domain::hours::GpuHours;
use crate::http::AppState;
use crate::storage::awards::Award;
use crate::storage::grants::Application;

fn moment(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// One step of the timeline: what happened (or will), when, and whether it has.
fn step(table: &mut Table, what: &str, when: Option<String>, state: &str) {
    table.row(vec![
        Cell::text(crate::i18n::Lang::current().label(what)),
        Cell::text(when.unwrap_or_else(|| "—".into())),
        Cell::text(super::view::words("step", state)),
    ]);
}

/// The application's steps in order: saved, submitted, reviewed, decided, and for an award the
/// aid period's start and end (`today` tells which of those are behind).
pub fn timeline(a: &Application, award: Option<&Award>, today: chrono::NaiveDate) -> Table {
    let mut table = Table::new("Status timeline", &["Step", "When", "State"]);
    step(&mut table, "Draft saved", Some(moment(a.created_at)), "done");
    let submitted = a.submitted_at.map(moment);
    let submitted_state = if submitted.is_some() { "done" } else { "pending" };
    step(&mut table, "Submitted for review", submitted, submitted_state);
    if let Some(first) = a.reviews.first() {
        step(&mut table, "Review started", Some(moment(first.created_at)), "done");
    }
    let decided = a.decided_at.map(moment);
    if a.status == "rejected" {
        step(&mut table, "Rejected", decided, "done");
        return table;
    }
    // Awarded exactly when an award exists, whatever status the award has reached since.
    let awarded = a.award_id.is_some();
    step(&mut table, "Awarded", decided, if awarded { "done" } else { "pending" });
    if let Some(award) = award {
        let behind = |date: chrono::NaiveDate| if date <= today { "done" } else { "upcoming" };
        step(&mut table, "Aid period starts", Some(award.start_date.to_string()), behind(award.start_date));
        step(&mut table, "Aid period ends", Some(award.end_date.to_string()), behind(award.end_date));
    }
    table
}

fn burn_down_chart(points: &[BurnDownPoint]) -> Section {
    let chart_points: Vec<TimePoint> = points
        .iter()
        .map(|p| TimePoint { date: p.date, flow: p.used_that_day.milli(), level: p.remaining.milli() })
        .collect();
    Section::Chart(charts::flows_and_level(
        "burn-down",
        "GPU-hours used and left",
        "GPU-hours used on each day (bars) and the hours of the award left after it (line).",
        ["GPU-hours used", "", "GPU-hours left"],
        &chart_points,
        |milli| gpu_hours(GpuHours::from_milli(milli)),
    ))
}

fn burn_down_table(points: &[BurnDownPoint]) -> Table {
    let mut table = Table::new(
        "Use by day",
        &["Date", "#GPU-hours used", "#GPU-hours used to date", "#GPU-hours left", "#Aid used to date", "#Aid left"],
    );
    for p in points {
        table.row(vec![
            Cell::text(p.date.to_string()),
            Cell::num(gpu_hours(p.used_that_day)),
            Cell::num(gpu_hours(p.used_to_date)),
            Cell::num(gpu_hours(p.remaining)),
            Cell::money(p.subsidy_to_date),
            Cell::money(p.subsidy_remaining),
        ]);
    }
    table.empty("No usage recorded yet.")
}

/// The award's burn-down as a chart (when there is use to draw) and a table of every day.
pub async fn burn_down_sections(state: &AppState, award: &Award) -> PageResult<Vec<Section>> {
    let award_id = award.id.clone();
    let days = state.db(move |conn| crate::storage::usage_sums::award_daily_use(conn, &award_id)).await?;
    let points = burn_down(award.awarded_gpu_hours, award.aid_value, &days)
        .map_err(|e| crate::error::AppError::Internal(format!("award {} burn-down: {e}", award.id)))?;
    let mut sections = Vec::new();
    if !points.is_empty() {
        sections.push(burn_down_chart(&points));
    }
    sections.push(Section::Table(burn_down_table(&points)));
    Ok(sections)
}
