//! Numbers, amounts, dates and hours as people read them in each language: thousands
//! grouped, the currency where the language puts it, never `-0.00`, hours with the decimals
//! they have. Pure functions; exact (integers and decimals, no floats).

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::Lang;
use crate::domain::hours::GpuHours;
use crate::domain::money::Cents;

/// A space that keeps `1 234` and `70 %` on one line.
pub const NO_BREAK_SPACE: char = '\u{a0}';

struct Separators {
    group: char,
    decimal: char,
}

fn separators(lang: Lang) -> Separators {
    match lang {
        Lang::En => Separators { group: ',', decimal: '.' },
        Lang::Fr => Separators { group: NO_BREAK_SPACE, decimal: ',' },
        Lang::De => Separators { group: '.', decimal: ',' },
    }
}

/// A plain decimal string (`-1234567.89`, `12`) with the language's separators.
pub fn decimal_text(plain: &str, lang: Lang) -> String {
    let separators = separators(lang);
    let (sign, unsigned) = match plain.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", plain),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let mut text = String::with_capacity(plain.len() + whole.len() / 3 + 1);
    text.push_str(sign);
    for (index, digit) in whole.chars().enumerate() {
        if index > 0 && (whole.len() - index) % 3 == 0 {
            text.push(separators.group);
        }
        text.push(digit);
    }
    if !fraction.is_empty() {
        text.push(separators.decimal);
        text.push_str(fraction);
    }
    text
}

/// `EUR 1,234,567.89` · `1 234 567,89 EUR` · `1.234.567,89 EUR`.
pub fn amount(cents: Cents, lang: Lang) -> String {
    let number = decimal_text(&cents.to_string(), lang);
    match lang {
        Lang::En => format!("EUR{NO_BREAK_SPACE}{number}"),
        Lang::Fr | Lang::De => format!("{number}{NO_BREAK_SPACE}EUR"),
    }
}

/// An amount paid out, shown as a deduction: `EUR -3.50`; zero stays `EUR 0.00`.
pub fn deduction(cents: Cents, lang: Lang) -> String {
    amount(Cents::new(cents.get().saturating_neg()), lang)
}

/// GPU-hours with the decimals they have: `12,500.25`, `3`, `0.005`.
pub fn hours(hours: GpuHours, lang: Lang) -> String {
    decimal_text(&trimmed(&hours.to_string()), lang)
}

/// A percentage to at most two decimals: `70%` · `70 %` · `12,5 %`.
pub fn percent(value: Decimal, lang: Lang) -> String {
    let number = decimal_text(&trimmed(&value.round_dp(2).to_string()), lang);
    match lang {
        Lang::En => format!("{number}%"),
        Lang::Fr | Lang::De => format!("{number}{NO_BREAK_SPACE}%"),
    }
}

/// A multiple of paid-in capital (DPI, TVPI) with the decimals it was rounded to, at least two:
/// `1.2549x` · `1,2549x`. Never rounded again: a figure rounded twice can land on another one
/// (1.0149995 is 1.0150 to four decimals, 1.02 from those, but 1.01 to two).
pub fn multiple(value: Decimal, lang: Lang) -> String {
    let mut shown = value;
    if shown.scale() < 2 {
        shown.rescale(2);
    }
    format!("{}x", decimal_text(&shown.to_string(), lang))
}

/// `26 November 2026` · `26 novembre 2026` · `26. November 2026`.
pub fn date(date: NaiveDate, lang: Lang) -> String {
    let (pattern, locale) = match lang {
        Lang::En => ("%-d %B %Y", chrono::Locale::en_GB),
        Lang::Fr => ("%-d %B %Y", chrono::Locale::fr_FR),
        Lang::De => ("%-d. %B %Y", chrono::Locale::de_DE),
    };
    date.format_localized(pattern, locale).to_string()
}

/// Text an English page builder formatted (`EUR 1,234.50`, `2026-11-26`, `1,250.5`, `70%`,
/// `1.25x`) in `lang`'s form; None for any other text. Exact: digits are moved, never
/// recomputed.
pub fn relocalise(text: &str, lang: Lang) -> Option<String> {
    if let Some(number) = text.strip_prefix("EUR ") {
        let cents = english_decimal(number)?;
        let (whole, fraction) = cents.split_once('.')?;
        if fraction.len() != 2 {
            return None;
        }
        let cents: i64 = format!("{whole}{fraction}").parse().ok()?;
        return Some(amount(Cents::new(cents), lang));
    }
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return (text.len() == 10).then(|| date(day, lang));
    }
    if let Some(number) = text.strip_suffix('%') {
        let number = decimal_text(&english_decimal(number)?, lang);
        return Some(match lang {
            Lang::En => format!("{number}%"),
            Lang::Fr | Lang::De => format!("{number}{NO_BREAK_SPACE}%"),
        });
    }
    if let Some(number) = text.strip_suffix('x') {
        return Some(format!("{}x", decimal_text(&english_decimal(number)?, lang)));
    }
    english_decimal(text).map(|plain| decimal_text(&plain, lang))
}

/// `-1,234.5` → `-1234.5`: a number as English pages group it, or None.
fn english_decimal(text: &str) -> Option<String> {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let groups: Vec<&str> = whole.split(',').collect();
    let grouped_well = groups.first().is_some_and(|g| (1..=3).contains(&g.len()))
        && groups.iter().skip(1).all(|g| g.len() == 3)
        && (groups.len() > 1 || !whole.is_empty());
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if !grouped_well
        || !groups.iter().all(|g| digits(g))
        || !digits(fraction)
        || (text.contains('.') && fraction.is_empty())
    {
        return None;
    }
    let sign = if text.starts_with('-') { "-" } else { "" };
    let fraction = if fraction.is_empty() { String::new() } else { format!(".{fraction}") };
    Some(format!("{sign}{}{fraction}", groups.concat()))
}

/// A decimal string without trailing fractional zeros: `12.500` → `12.5`, `3.000` → `3`.
fn trimmed(plain: &str) -> String {
    match plain.split_once('.') {
        Some((whole, fraction)) => {
            let fraction = fraction.trim_end_matches('0');
            if fraction.is_empty() {
                whole.to_string()
            } else {
                format!("{whole}.{fraction}")
            }
        }
        None => plain.to_string(),
    }
}

/// Spaces people put between groups of digits: the ordinary one, the no-break one (French), the
/// narrow no-break one.
const GROUP_SPACES: [char; 3] = [' ', NO_BREAK_SPACE, '\u{202f}'];

/// A number (an amount, GPU-hours, a rate) as a person typed it, as the API's plain decimal
/// (`1234567.89`), or why it cannot be read without guessing. Spaces between digits are dropped.
/// A separator (`.` or `,`) followed by other than three digits at the end, or the last separator
/// when both kinds appear, is the decimal one: `1234,56`, `0,08` and `1,234.56` read the same in
/// every language. Other separators must stand between groups of three digits, the first group
/// not starting with a zero. A single separator before three digits (`1.234`) is the one reading
/// that depends on the language: its decimal separator makes three decimals, its group separator
/// a thousand; after a zero (`0.125`) it can only be the decimal one. Text of other characters
/// goes on as typed, for the field's own refusal.
pub fn number_typed(text: &str, lang: Lang) -> Result<String, String> {
    let compact: String = text.trim().chars().filter(|c| !GROUP_SPACES.contains(c)).collect();
    let (sign, unsigned) = compact.strip_prefix('-').map_or(("", compact.as_str()), |rest| ("-", rest));
    let separator = |c: char| c == '.' || c == ',';
    if unsigned.is_empty() || !unsigned.chars().all(|c| c.is_ascii_digit() || separator(c)) {
        return Ok(text.trim().to_string());
    }
    let unreadable = || {
        let example = decimal_text("1234567.89", lang);
        format!("{text:?} is not a number that reads one way only: write it as {example} or 1234567.89")
    };
    let (whole, fraction) = match unsigned.rfind(separator) {
        Some(at) if decimal_at(unsigned, at, lang) => (&unsigned[..at], Some(&unsigned[at + 1..])),
        _ => (unsigned, None),
    };
    let digits = grouped_digits(whole).ok_or_else(unreadable)?;
    match fraction {
        Some(fraction) if fraction.is_empty() || !fraction.chars().all(|c| c.is_ascii_digit()) => Err(unreadable()),
        Some(fraction) => Ok(format!("{sign}{digits}.{fraction}")),
        None => Ok(format!("{sign}{digits}")),
    }
}

/// Whether the separator at byte `at`, the last one in `unsigned`, is the decimal separator.
fn decimal_at(unsigned: &str, at: usize, lang: Lang) -> bool {
    let mark = if unsigned[at..].starts_with('.') { '.' } else { ',' };
    let other = if mark == '.' { ',' } else { '.' };
    let before = &unsigned[..at];
    let digits_after = unsigned.len() - at - 1;
    if before.contains(other) {
        true
    } else if before.contains(mark) {
        false
    } else if digits_after == 3 {
        // A group of thousands never starts with a zero, so `0.125` is a decimal on every page.
        mark == separators(lang).decimal || before.starts_with('0')
    } else {
        true
    }
}

/// The digits of a whole part whose groups of three are separated by one kind of separator
/// (`1.234.567`, `1,234`, `1234`); none if the groups are not of three digits.
fn grouped_digits(whole: &str) -> Option<String> {
    let marks: Vec<char> = whole.chars().filter(|c| !c.is_ascii_digit()).collect();
    if marks.is_empty() {
        return (!whole.is_empty()).then(|| whole.to_string());
    }
    if marks.iter().any(|m| *m != marks[0]) {
        return None;
    }
    let groups: Vec<&str> = whole.split(marks[0]).collect();
    // `0.125` is not a thousands grouping of 125: a German page does not read it as 125.
    let first_ok = (1..=3).contains(&groups[0].len()) && !groups[0].starts_with('0');
    (first_ok && groups[1..].iter().all(|g| g.len() == 3)).then(|| groups.concat())
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use proptest::prelude::*;

    use super::*;

    const NB: char = NO_BREAK_SPACE;

    #[test]
    fn amounts_read_as_each_language_writes_them() {
        let amount_of = |cents: i64, lang| amount(Cents::new(cents), lang).replace(NB, " ");
        assert_eq!(amount_of(123_456_789, Lang::En), "EUR 1,234,567.89");
        assert_eq!(amount_of(123_456_789, Lang::Fr), "1 234 567,89 EUR");
        assert_eq!(amount_of(123_456_789, Lang::De), "1.234.567,89 EUR");
        assert_eq!(amount_of(-350, Lang::En), "EUR -3.50");
        assert_eq!(amount_of(5, Lang::De), "0,05 EUR");
        assert_eq!(amount_of(20_000_000_000_000, Lang::Fr), "200 000 000 000,00 EUR");
        assert_eq!(deduction(Cents::ZERO, Lang::En).replace(NB, " "), "EUR 0.00");
        assert_eq!(deduction(Cents::new(8_393_597_260), Lang::En).replace(NB, " "), "EUR -83,935,972.60");
    }

    #[test]
    fn hours_keep_only_the_decimals_they_have() {
        let of = |milli: i64, lang| hours(GpuHours::from_milli(milli), lang).replace(NB, " ");
        assert_eq!(of(12_500_250, Lang::En), "12,500.25");
        assert_eq!(of(3_000, Lang::En), "3");
        assert_eq!(of(5, Lang::Fr), "0,005");
        assert_eq!(of(1_234_567_500, Lang::De), "1.234.567,5");
    }

    #[test]
    fn percentages_multiples_and_dates() {
        let d = |s: &str| Decimal::from_str(s).unwrap();
        assert_eq!(percent(d("70"), Lang::En), "70%");
        assert_eq!(percent(d("12.50"), Lang::Fr).replace(NB, " "), "12,5 %");
        assert_eq!(percent(d("33.3333"), Lang::De).replace(NB, " "), "33,33 %");
        assert_eq!(multiple(d("1.2549"), Lang::En), "1.2549x");
        assert_eq!(multiple(d("1.0150"), Lang::De), "1,0150x", "as given, not rounded again to 1.02");
        assert_eq!(multiple(d("1.25"), Lang::En), "1.25x");
        assert_eq!(multiple(d("0"), Lang::Fr), "0,00x");
        let day = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        assert_eq!(date(day, Lang::En), "1 March 2026");
        assert_eq!(date(day, Lang::Fr), "1 mars 2026");
        assert_eq!(date(day, Lang::De), "1. März 2026");
    }

    #[test]
    fn english_page_figures_are_put_in_each_language() {
        let fr = |text: &str| relocalise(text, Lang::Fr).map(|t| t.replace(NB, " "));
        assert_eq!(fr("EUR 1,234,567.89").as_deref(), Some("1 234 567,89 EUR"));
        assert_eq!(fr("EUR -3.50").as_deref(), Some("-3,50 EUR"));
        assert_eq!(fr("2026-03-01").as_deref(), Some("1 mars 2026"));
        assert_eq!(fr("12,500.25").as_deref(), Some("12 500,25"));
        assert_eq!(fr("70%").as_deref(), Some("70 %"));
        assert_eq!(fr("1.25x").as_deref(), Some("1,25x"));
        assert_eq!(relocalise("1.25x", Lang::De).as_deref(), Some("1,25x"));
        for not_a_figure in ["Aurora Pension Fund", "12,34", "1,2345", "EUR 1.5", "2026-3-1", "", "Q1", "1.", "x", "%"]
        {
            assert_eq!(relocalise(not_a_figure, Lang::Fr), None, "{not_a_figure}");
        }
    }

    /// Reads a formatted amount back with the language's separators, independently of
    /// [`decimal_text`]: digits only, the decimal separator the language's.
    fn read_back(text: &str, lang: Lang) -> i64 {
        let decimal = if lang == Lang::En { '.' } else { ',' };
        let negative = text.contains('-');
        let (whole, fraction) = text.rsplit_once(decimal).expect("two decimals");
        let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
        let value: i64 = format!("{}{}", digits(whole), digits(fraction)).parse().expect("digits");
        if negative {
            -value
        } else {
            value
        }
    }

    #[test]
    fn typed_amounts_read_one_way_or_are_refused() {
        let read = |text: &str, lang| number_typed(text, lang);
        for lang in Lang::ALL {
            for (typed, plain) in [
                ("1234,56", "1234.56"),
                ("1234.56", "1234.56"),
                ("12,5", "12.5"),
                ("1,234,567.89", "1234567.89"),
                ("1.234.567,89", "1234567.89"),
                ("1\u{a0}234\u{202f}567,89", "1234567.89"),
                ("1 234 567", "1234567"),
                ("1.234.567", "1234567"),
                ("-1.234,50", "-1234.50"),
                ("250000000.00", "250000000.00"),
                ("0,07", "0.07"),
                ("1,2345", "1.2345"),
            ] {
                assert_eq!(read(typed, lang).as_deref(), Ok(plain), "{typed} in {lang:?}");
            }
            for unreadable in ["1,23,456", "12,", "1.234,567.8", ",5", "1..5", "12.34.56"] {
                assert!(read(unreadable, lang).is_err(), "{unreadable} in {lang:?}");
            }
            // Text that is no number at all goes on for the amount's own refusal.
            assert_eq!(read("1e5", lang).as_deref(), Ok("1e5"));
        }
        // One separator before three digits: a thousand where it groups, three decimals where
        // it is the decimal separator (then refused as too many decimals).
        assert_eq!(read("1,234", Lang::En).as_deref(), Ok("1234"));
        assert_eq!(read("1.234", Lang::En).as_deref(), Ok("1.234"));
        assert_eq!(read("1.234", Lang::De).as_deref(), Ok("1234"));
        assert_eq!(read("1,234", Lang::De).as_deref(), Ok("1.234"));
        assert_eq!(read("1,234", Lang::Fr).as_deref(), Ok("1.234"));
    }

    #[test]
    fn typed_rates_and_hours_read_as_the_page_writes_them() {
        let read = |text: &str, lang| number_typed(text, lang);
        for lang in Lang::ALL {
            for (typed, plain) in [("0,08", "0.08"), ("0.08", "0.08"), ("1,20", "1.20"), ("12,5", "12.5")] {
                assert_eq!(read(typed, lang).as_deref(), Ok(plain), "{typed} in {lang:?}");
            }
            // A first group starting with zero groups nothing: not 125, not 8, not 0.
            for unreadable in ["0.125.000", "0,125,000", "-0,125.5"] {
                assert!(read(unreadable, lang).is_err(), "{unreadable} in {lang:?}");
            }
        }
        // Thousandths of a GPU-hour, written with the page's decimal separator.
        assert_eq!(read("0,005", Lang::De).as_deref(), Ok("0.005"));
        assert_eq!(read("0,125", Lang::Fr).as_deref(), Ok("0.125"));
        assert_eq!(read("0.125", Lang::En).as_deref(), Ok("0.125"));
        // After a zero, the other language's decimal separator cannot group thousands: 0.125
        // on every page, not 125.
        assert_eq!(read("0.125", Lang::De).as_deref(), Ok("0.125"));
        assert_eq!(read("0,125", Lang::En).as_deref(), Ok("0.125"));
        assert_eq!(read("-0.125", Lang::Fr).as_deref(), Ok("-0.125"));
    }

    proptest! {
        #[test]
        fn an_amount_typed_as_any_language_shows_it_reads_as_its_cents(cents in -10_i64.pow(15)..10_i64.pow(15)) {
            let plain = Cents::new(cents).to_string();
            for shown_in in Lang::ALL {
                let typed = decimal_text(&plain, shown_in);
                for page in Lang::ALL {
                    prop_assert_eq!(number_typed(&typed, page), Ok(plain.clone()), "{} on a {:?} page", typed, page);
                }
            }
        }

        #[test]
        fn a_number_typed_as_the_page_shows_it_reads_as_itself(
            whole in 0_u64..10_u64.pow(12),
            fraction in proptest::option::of("[0-9]{1,6}"),
            negative in any::<bool>(),
        ) {
            let sign = if negative { "-" } else { "" };
            let plain = match &fraction {
                Some(fraction) => format!("{sign}{whole}.{fraction}"),
                None => format!("{sign}{whole}"),
            };
            for lang in Lang::ALL {
                let typed = decimal_text(&plain, lang);
                prop_assert_eq!(number_typed(&typed, lang), Ok(plain.clone()), "{} on a {:?} page", typed, lang);
            }
        }

        #[test]
        fn every_amount_reads_back_to_its_cents(cents in -10_i64.pow(15)..10_i64.pow(15)) {
            for lang in Lang::ALL {
                let text = amount(Cents::new(cents), lang);
                prop_assert_eq!(read_back(&text, lang), cents, "{}", text);
                prop_assert!(!text.contains("-0.00") && !text.contains("-0,00"), "{}", text);
            }
        }
    }
}
