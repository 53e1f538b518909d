//! The building blocks every page is made of: cards holding facts, tables, charts, forms
//! and links. One template (`page.html`) renders them all, so a page is a function that
//! builds a `Page` from the same storage views the JSON API serves.

use askama::Template;

use crate::domain::hours::GpuHours;
use crate::domain::money::Cents;
use crate::i18n::Lang;

use super::charts::Chart;
use super::forms::FormSpec;

pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
}

/// What surrounds every page: who is signed in (nobody on the public pages) and where they
/// may go.
pub struct Layout {
    /// "username · role", or none on a public page.
    pub who: Option<String>,
    pub nav: Vec<NavItem>,
    /// CSRF token for the sign-out form (and any form on the page).
    pub csrf_token: String,
    /// The path of the page, to mark the current navigation item.
    pub current: String,
    /// The reader's language: every label and figure is shown in it.
    pub lang: Lang,
}

impl Layout {
    /// The layout of a page anyone may read without signing in.
    pub fn public(current: &str, lang: Lang) -> Layout {
        Layout {
            who: None,
            nav: vec![NavItem { href: "/transparency", label: "Transparency" }],
            csrf_token: String::new(),
            current: current.to_string(),
            lang,
        }
    }

    /// A label (heading, column, field, button) in the reader's language.
    pub fn t(&self, english: &str) -> String {
        self.lang.label(english)
    }

    /// A value (word, amount, date, figure) in the reader's language.
    pub fn v(&self, text: &str) -> String {
        self.lang.value(text)
    }

    /// An amount in the reader's language: `EUR 1,234.50`, `1 234,50 EUR`.
    pub fn money(&self, amount: &Cents) -> String {
        crate::i18n::format::amount(*amount, self.lang)
    }

    /// An amount paid out, as a deduction (`EUR -3.50`; zero stays `EUR 0.00`).
    pub fn deduction(&self, amount: &Cents) -> String {
        crate::i18n::format::deduction(*amount, self.lang)
    }

    /// A date in the reader's language: `26 November 2026`, `26 novembre 2026`.
    pub fn date(&self, day: &chrono::NaiveDate) -> String {
        crate::i18n::format::date(*day, self.lang)
    }

    /// The languages a reader may switch to, with their own names.
    pub fn languages(&self) -> Vec<(&'static str, &'static str, bool)> {
        Lang::ALL.iter().map(|l| (l.tag(), l.native_name(), *l == self.lang)).collect()
    }
}

#[derive(Template)]
#[template(path = "page.html")]
pub struct Page {
    pub layout: Layout,
    pub title: String,
    pub subtitle: Option<String>,
    /// A one-line confirmation of what the last action did.
    pub flash: Option<String>,
    pub cards: Vec<Card>,
}

impl Page {
    pub fn new(layout: Layout, title: impl Into<String>) -> Page {
        Page { layout, title: title.into(), subtitle: None, flash: None, cards: Vec::new() }
    }

    pub fn subtitle(mut self, text: impl Into<String>) -> Page {
        self.subtitle = Some(text.into());
        self
    }

    pub fn flash(mut self, text: Option<String>) -> Page {
        self.flash = text;
        self
    }

    pub fn card(mut self, card: Card) -> Page {
        self.cards.push(card);
        self
    }
}

pub struct Card {
    pub title: String,
    /// Anchor id; also labels the section for assistive technology.
    pub id: String,
    pub sections: Vec<Section>,
}

impl Card {
    pub fn new(title: impl Into<String>) -> Card {
        let title = title.into();
        let id = slug(&title);
        Card { title, id, sections: Vec::new() }
    }

    pub fn with(mut self, section: Section) -> Card {
        self.sections.push(section);
        self
    }

    pub fn text(self, text: impl Into<String>) -> Card {
        self.with(Section::Text(text.into()))
    }
}

pub enum Section {
    Text(String),
    /// A warning or refusal the reader must see.
    Alert(String),
    Facts(Vec<Fact>),
    Table(Table),
    Chart(Chart),
    Form(FormSpec),
    Links(Vec<Link>),
}

pub struct Fact {
    pub label: String,
    pub value: String,
    pub href: Option<String>,
}

pub fn fact(label: impl Into<String>, value: impl Into<String>) -> Fact {
    Fact { label: label.into(), value: value.into(), href: None }
}

pub struct Link {
    pub href: String,
    pub label: String,
}

pub fn link(label: impl Into<String>, href: impl Into<String>) -> Link {
    Link { href: href.into(), label: label.into() }
}

pub struct Column {
    pub label: String,
    pub numeric: bool,
}

pub struct Cell {
    pub text: String,
    pub href: Option<String>,
    pub numeric: bool,
}

impl Cell {
    pub fn text(text: impl Into<String>) -> Cell {
        Cell { text: text.into(), href: None, numeric: false }
    }

    pub fn num(text: impl Into<String>) -> Cell {
        Cell { text: text.into(), href: None, numeric: true }
    }

    pub fn money(amount: Cents) -> Cell {
        Cell::num(eur(amount))
    }

    pub fn hours(hours: GpuHours) -> Cell {
        Cell::num(gpu_hours(hours))
    }

    pub fn link(text: impl Into<String>, href: impl Into<String>) -> Cell {
        Cell { text: text.into(), href: Some(href.into()), numeric: false }
    }
}

pub struct Table {
    /// Says what the table holds; read out by screen readers, shown above the table.
    pub caption: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
    pub empty: String,
}

impl Table {
    /// Columns are given as labels; a label starting with `#` is a numeric (right-aligned) column.
    pub fn new(caption: impl Into<String>, columns: &[&str]) -> Table {
        let columns = columns
            .iter()
            .map(|label| match label.strip_prefix('#') {
                Some(label) => Column { label: label.to_string(), numeric: true },
                None => Column { label: label.to_string(), numeric: false },
            })
            .collect();
        Table { caption: caption.into(), columns, rows: Vec::new(), empty: "Nothing yet.".into() }
    }

    pub fn empty(mut self, text: impl Into<String>) -> Table {
        self.empty = text.into();
        self
    }

    pub fn row(&mut self, cells: Vec<Cell>) {
        debug_assert_eq!(cells.len(), self.columns.len(), "row width must match the columns");
        self.rows.push(cells);
    }

    /// The label of column `index`: on a phone each cell shows it beside its value.
    pub fn label(&self, index: &usize) -> &str {
        self.columns.get(*index).map_or("", |c| c.label.as_str())
    }
}

/// A code (`under_review`, `digital_europe`, `staff`) of a family (`status`, `programme`,
/// `role`, `category`, `basis`, `proposal`) in words, in the reader's language.
pub fn words(family: &str, code: &str) -> String {
    Lang::current().name_of(family, code)
}

/// An amount as people read it: `EUR 1,250,000.00`, `EUR -3.50`.
pub fn eur(amount: Cents) -> String {
    format!("EUR {}", group_thousands(&amount.to_string()))
}

/// GPU-hours as people read them, with the decimals they have: `12,500.25`, `3`.
pub fn gpu_hours(hours: GpuHours) -> String {
    crate::i18n::format::hours(hours, Lang::En)
}

/// A multiple of paid-in capital (DPI, TVPI) to two decimals: `1.25x`, `0.00x`.
pub fn multiple(value: rust_decimal::Decimal) -> String {
    crate::i18n::format::multiple(value, Lang::En)
}

/// XIRR as a percentage, or why there is no single rate: never one rate alone where the
/// cash flows have several.
pub fn xirr_words(xirr: &crate::domain::metrics::Xirr) -> String {
    use crate::domain::metrics::Xirr;
    match xirr {
        // Display only: the rate is found on doubles (domain/metrics.rs); no amount comes from it.
        Xirr::Rate { rate } => format!("{:.2}%", rate * 100.0),
        Xirr::MultipleRoots { rate, roots } => format!("{:.2}% (one of {} rates)", rate * 100.0, roots.len()),
        Xirr::NoSignChange => "none (no inflow and outflow both)".into(),
        Xirr::NoConvergence => "not found".into(),
    }
}

/// Inserts `,` between groups of three digits of a decimal string's integer part.
pub fn group_thousands(decimal: &str) -> String {
    crate::i18n::format::decimal_text(decimal, Lang::En)
}

/// Lower-case words joined by `-`, for anchor ids.
pub fn slug(text: &str) -> String {
    let mut slug = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped_and_cents_kept() {
        assert_eq!(group_thousands("0.05"), "0.05");
        assert_eq!(group_thousands("999.00"), "999.00");
        assert_eq!(group_thousands("1000.00"), "1,000.00");
        assert_eq!(group_thousands("-1234567.89"), "-1,234,567.89");
        assert_eq!(group_thousands("200000000000.00"), "200,000,000,000.00");
        assert_eq!(group_thousands("12345"), "12,345");
        assert_eq!(eur(Cents::new(-350)), "EUR -3.50");
    }

    #[test]
    fn an_xirr_of_several_rates_says_so() {
        use crate::domain::metrics::Xirr;
        let several = Xirr::MultipleRoots { rate: 0.1, roots: vec![0.1, 0.2] };
        assert_eq!(xirr_words(&several), "10.00% (one of 2 rates)");
        assert_eq!(xirr_words(&Xirr::Rate { rate: 0.0525 }), "5.25%");
        assert_eq!(xirr_words(&Xirr::NoConvergence), "not found");
    }

    #[test]
    fn slugs_are_anchor_safe() {
        assert_eq!(slug("Capital stack: by tranche"), "capital-stack-by-tranche");
        assert_eq!(slug("  Hours used  "), "hours-used");
    }
}
