//! State aid granted by compute grants, by basis, SME category and region: one card shared by
//! the public fund page and the staff's grant-call list.

use super::view::{eur, gpu_hours, Card, Cell, Section, Table};
use crate::domain::state_aid::AidBasis;
use crate::i18n::{phrase, Lang};
use crate::storage::register::{AidGranted, AidGroup};

fn table(caption: &str, first: &str, groups: &[AidGroup], name: impl Fn(&str) -> String) -> Table {
    let mut table = Table::new(caption, &[first, "#Awards", "#GPU-hours awarded", "#Aid granted"]);
    for group in groups {
        table.row(vec![
            Cell::text(name(&group.key)),
            Cell::num(group.awards.to_string()),
            Cell::hours(group.gpu_hours),
            Cell::money(group.aid_granted),
        ]);
    }
    table.empty("No award yet.")
}

/// The basis in words (the register's objective).
fn basis_words(key: &str) -> String {
    AidBasis::parse(key).map_or_else(|| key.to_string(), |basis| basis.objective().to_string())
}

pub fn aid_granted_card(aid: &AidGranted) -> Card {
    Card::new("State aid granted")
        .with(Section::Text(phrase(
            "page-aid-granted-total",
            &[
                ("count", aid.total.awards.to_string()),
                ("hours", Lang::current().value(&gpu_hours(aid.total.gpu_hours))),
                ("amount", Lang::current().value(&eur(aid.total.aid_granted))),
            ],
        )))
        .with(Section::Table(table("By basis", "Basis", &aid.by_basis, basis_words)))
        .with(Section::Table(table("By SME category", "SME category", &aid.by_sme_category, str::to_string)))
        .with(Section::Table(table("By region (NUTS 2)", "Region", &aid.by_region, str::to_string)))
}
