//! The journal as a beancount ledger: options, the commodity, an `open` per account, one
//! transaction per entry with its facts as metadata, and a `balance` directive per account
//! at the end, so `bean-check` proves every balance when it reads the file.
//!
//! Account names: beancount's five roots (`Assets`, `Liabilities`, `Equity`, `Income`,
//! `Expenses`), then one component of the code and the name in ASCII letters, digits and
//! dashes (`Assets:1000-Cash-at-bank`, `Equity:3100-01-Contributed-capital-Senior`); the full
//! name is kept as the account's `name` metadata.

use chrono::NaiveDate;

use super::export::{EntryFacts, ExportMeta, PostingFacts, CURRENCY};
use super::ledger::AccountKind;
use super::money::Cents;

/// beancount's root account of each kind.
pub fn root(kind: AccountKind) -> &'static str {
    match kind {
        AccountKind::Asset => "Assets",
        AccountKind::Liability => "Liabilities",
        AccountKind::Equity => "Equity",
        AccountKind::Income => "Income",
        AccountKind::Expense => "Expenses",
    }
}

/// The beancount name of an account: root, then code and name as one component of ASCII
/// letters, digits and single dashes, starting with the code's first character.
pub fn account(kind: AccountKind, code: &str, name: &str) -> String {
    let mut component = String::new();
    for c in format!("{code} {name}").chars() {
        if c.is_ascii_alphanumeric() {
            component.push(c);
        } else if !component.is_empty() && !component.ends_with('-') {
            component.push('-');
        }
    }
    let component = component.trim_end_matches('-');
    let component = match component.chars().next() {
        Some(first) if first.is_ascii_uppercase() || first.is_ascii_digit() => component.to_string(),
        _ => format!("A{component}"),
    };
    format!("{}:{component}", root(kind))
}

/// A string as beancount reads it: in double quotes, `\` and `"` escaped, on one line.
pub fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `1234.56 EUR`, `-0.01 EUR`.
pub fn amount(value: Cents) -> String {
    format!("{value} {CURRENCY}")
}

/// The head of the file: the snapshot as comments, the options, the commodity and an `open`
/// for every account, dated `opened` (on or before the first entry).
pub fn preamble(meta: &ExportMeta, opened: NaiveDate, accounts: &[(AccountKind, &str, &str)]) -> String {
    let mut text = String::from("; InvestAI ledger export (beancount)\n");
    for (key, value) in meta.pairs() {
        text.push_str(&format!("; {key}: {}\n", value.replace('\n', " ")));
    }
    text.push_str("; Entries with an effective date on or before as_of and a sequence up to head_sequence.\n\n");
    text.push_str(&format!("option \"title\" {}\n", string(&meta.fund_name)));
    text.push_str(&format!("option \"operating_currency\" \"{CURRENCY}\"\n\n"));
    text.push_str(&format!("{opened} commodity {CURRENCY}\n\n"));
    for (kind, code, name) in accounts {
        text.push_str(&format!("{opened} open {} {CURRENCY}\n", account(*kind, code, name)));
        text.push_str(&format!("  code: {}\n  name: {}\n", string(code), string(name)));
    }
    text.push('\n');
    text
}

/// One entry as a cleared transaction, its facts as metadata.
pub fn transaction(entry: &EntryFacts<'_>, postings: &[PostingFacts<'_>]) -> String {
    let mut text = format!("{} * {}\n", entry.effective_date, string(entry.description));
    text.push_str(&format!("  sequence: {}\n", entry.sequence));
    for (key, value) in [
        ("entry_id", Some(entry.entry_id)),
        ("event", Some(&*format!("{}/{}", entry.event_type, entry.event_id))),
        ("actor", Some(entry.actor)),
        ("reverses", entry.reverses_entry_id),
        ("hash", Some(entry.hash)),
    ] {
        if let Some(value) = value {
            text.push_str(&format!("  {key}: {}\n", string(value)));
        }
    }
    for posting in postings {
        text.push_str(&format!("  {}  {}\n", posting.account, amount(posting.amount)));
        if let Some(party) = posting.party_id {
            text.push_str(&format!("    party: {}\n", string(party)));
        }
        if !posting.memo.is_empty() {
            text.push_str(&format!("    memo: {}\n", string(posting.memo)));
        }
    }
    text.push('\n');
    text
}

/// A `balance` directive per account: beancount checks a balance at the start of its date,
/// so the balances as of `as_of` are asserted on the day after. Beancount lets a balance be
/// off by one unit of its last digit unless told otherwise; `~ 0.00` makes the check exact.
pub fn balances(as_of: NaiveDate, balances: &[(&str, Cents)]) -> String {
    let day_after = as_of.succ_opt().unwrap_or(as_of);
    let mut text = format!("; each account's balance as of {as_of}, checked at the start of {day_after}\n");
    for (account, balance) in balances {
        text.push_str(&format!("{day_after} balance {account}  {balance} ~ 0.00 {CURRENCY}\n"));
    }
    text.push('\n');
    text
}

/// The last line; a file without it was cut short.
pub fn trailer(entries: u64, postings: u64) -> String {
    format!("; end of export: {entries} entries, {postings} postings\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_names_are_one_component_beancount_accepts() {
        assert_eq!(account(AccountKind::Asset, "1000", "Cash at bank"), "Assets:1000-Cash-at-bank");
        assert_eq!(
            account(AccountKind::Equity, "3100.01", "Contributed capital: Senior"),
            "Equity:3100-01-Contributed-capital-Senior"
        );
        assert_eq!(account(AccountKind::Expense, "x", "Société générale"), "Expenses:Ax-Soci-t-g-n-rale");
        assert_eq!(account(AccountKind::Income, "", ""), "Income:A");
    }

    #[test]
    fn strings_are_quoted_and_escaped_on_one_line() {
        assert_eq!(string(r#"Fees "Q1" \ 50%"#), r#""Fees \"Q1\" \\ 50%""#);
        assert_eq!(string("two\nlines"), "\"two lines\"");
    }

    #[test]
    fn balances_are_checked_the_day_after_as_of() {
        let as_of = NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
        let text = balances(as_of, &[("Assets:1000-Cash", Cents::new(-1))]);
        assert!(text.contains("2026-07-01 balance Assets:1000-Cash  -0.01 ~ 0.00 EUR\n"), "{text}");
    }
}
