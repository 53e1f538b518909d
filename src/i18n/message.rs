//! Sentences with data, such as a refusal naming its figures ("the call (EUR 900.00) is larger
//! than the EUR 500.00 unfunded"): a catalogue key and typed arguments, put in words when shown,
//! so a page says it in its reader's language with the figures in that language's form, and the
//! API says it in English. The English text comes from the English catalogue, never from a
//! second copy in the code. Catalogue: `locales/*/messages.ftl`.

use std::fmt;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::{format, Lang};
use crate::domain::hours::GpuHours;
use crate::domain::money::Cents;

/// One argument of a message, formatted per language when the message is put in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arg {
    /// A name, an id or any text shown as it is.
    Text(String),
    Amount(Cents),
    Hours(GpuHours),
    Percent(Decimal),
    Date(NaiveDate),
    /// A whole number; signed, so no value is misread.
    Count(i128),
    /// A decimal number (annual work units, an average score), as many decimals as it has.
    Number(Decimal),
    /// Sentences joined by `; `, such as each member of a group with its figures.
    List(Vec<Message>),
    /// An English term of a family, translated when the catalogue has it (`sector`
    /// `fishery and aquaculture`: key `sector-fishery-and-aquaculture`).
    Term {
        family: &'static str,
        english: String,
    },
    /// A code shown in words (`status` `under_review`: "under review", « en cours d'examen »).
    Word {
        family: &'static str,
        code: String,
    },
}

/// A catalogue key with its arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    key: &'static str,
    args: Vec<(&'static str, Arg)>,
}

impl Message {
    /// The message `key` of `locales/*/messages.ftl` (keys start with `msg-`).
    pub fn new(key: &'static str) -> Message {
        Message { key, args: Vec::new() }
    }

    pub fn key(&self) -> &'static str {
        self.key
    }

    fn with(mut self, name: &'static str, arg: Arg) -> Message {
        self.args.push((name, arg));
        self
    }

    pub fn text(self, name: &'static str, value: impl Into<String>) -> Message {
        self.with(name, Arg::Text(value.into()))
    }

    pub fn amount(self, name: &'static str, value: Cents) -> Message {
        self.with(name, Arg::Amount(value))
    }

    pub fn hours(self, name: &'static str, value: GpuHours) -> Message {
        self.with(name, Arg::Hours(value))
    }

    pub fn percent(self, name: &'static str, value: Decimal) -> Message {
        self.with(name, Arg::Percent(value))
    }

    pub fn date(self, name: &'static str, value: NaiveDate) -> Message {
        self.with(name, Arg::Date(value))
    }

    pub fn count(self, name: &'static str, value: impl TryInto<i128>) -> Message {
        // Every integer type of the code fits an i128; the fallback is never taken.
        self.with(name, Arg::Count(value.try_into().unwrap_or(i128::MAX)))
    }

    pub fn number(self, name: &'static str, value: Decimal) -> Message {
        self.with(name, Arg::Number(value))
    }

    pub fn list(self, name: &'static str, messages: Vec<Message>) -> Message {
        self.with(name, Arg::List(messages))
    }

    pub fn term(self, name: &'static str, family: &'static str, english: impl Into<String>) -> Message {
        self.with(name, Arg::Term { family, english: english.into() })
    }

    pub fn word(self, name: &'static str, family: &'static str, code: impl Into<String>) -> Message {
        self.with(name, Arg::Word { family, code: code.into() })
    }

    /// The message in `lang`, with its figures in that language's form.
    pub fn in_lang(&self, lang: Lang) -> String {
        let args: Vec<(&'static str, String)> =
            self.args.iter().map(|(name, arg)| (*name, arg.in_lang(lang))).collect();
        lang.t_with(self.key, &args)
    }

    /// The English text as the API answers it: figures as the API's own fields carry them
    /// (`EUR 1234567.89`, `2026-11-26`, `12.500`), so a client finds in the text the very
    /// value it sent or read.
    pub fn english(&self) -> String {
        let args: Vec<(&'static str, String)> = self.args.iter().map(|(name, arg)| (*name, arg.plain())).collect();
        Lang::En.t_with(self.key, &args)
    }
}

/// `Display` (the API's English) and `Error` for refusal types whose `message()` says them, so
/// the English lives in the catalogue alone.
#[macro_export]
macro_rules! said_by_message {
    ($($refusal:ty),* $(,)?) => {
        $(
            impl std::fmt::Display for $refusal {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str(&self.message().english())
                }
            }

            impl std::error::Error for $refusal {}
        )*
    };
}

impl Arg {
    fn plain(&self) -> String {
        match self {
            Arg::Text(text) => text.clone(),
            Arg::Amount(cents) => format!("EUR {cents}"),
            Arg::Hours(hours) => hours.to_string(),
            Arg::Percent(value) => format!("{}%", value.normalize()),
            Arg::Date(date) => date.to_string(),
            Arg::Count(count) => count.to_string(),
            Arg::Number(value) => value.normalize().to_string(),
            Arg::Term { english, .. } => english.clone(),
            Arg::List(messages) => messages.iter().map(Message::english).collect::<Vec<_>>().join("; "),
            Arg::Word { family, code } => Lang::En.name_in_sentence(family, code),
        }
    }

    fn in_lang(&self, lang: Lang) -> String {
        match self {
            Arg::Text(text) => text.clone(),
            Arg::Amount(cents) => format::amount(*cents, lang),
            Arg::Hours(hours) => format::hours(*hours, lang),
            Arg::Percent(value) => format::percent(*value, lang),
            Arg::Date(date) => format::date(*date, lang),
            Arg::Count(count) => format::decimal_text(&count.to_string(), lang),
            Arg::Number(value) => format::decimal_text(&value.normalize().to_string(), lang),
            Arg::Term { family, english } => lang.term(family, english),
            Arg::List(messages) => messages.iter().map(|m| m.in_lang(lang)).collect::<Vec<_>>().join("; "),
            Arg::Word { family, code } => lang.name_in_sentence(family, code),
        }
    }
}

/// What a refusal or a field's reason says: its English text (the API's `detail` and
/// `reason`) and, where the text holds data, the message that says it in another language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wording {
    english: String,
    message: Option<Message>,
}

impl Wording {
    pub fn english(&self) -> &str {
        &self.english
    }

    pub fn message(&self) -> Option<&Message> {
        self.message.as_ref()
    }

    /// The wording in `lang`: the message in that language, or a fixed English text through
    /// the page catalogue (`must be greater than zero`), or the English text as it is.
    pub fn in_lang(&self, lang: Lang) -> String {
        match &self.message {
            Some(message) => message.in_lang(lang),
            None => lang.value(&self.english),
        }
    }
}

impl fmt::Display for Wording {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.english)
    }
}

impl From<Message> for Wording {
    fn from(message: Message) -> Wording {
        Wording { english: message.english(), message: Some(message) }
    }
}

impl From<String> for Wording {
    fn from(english: String) -> Wording {
        Wording { english, message: None }
    }
}

impl From<&String> for Wording {
    fn from(english: &String) -> Wording {
        Wording::from(english.clone())
    }
}

impl From<&str> for Wording {
    fn from(english: &str) -> Wording {
        Wording::from(english.to_string())
    }
}

impl serde::Serialize for Wording {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.english)
    }
}

impl<'de> serde::Deserialize<'de> for Wording {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Wording, D::Error> {
        String::deserialize(deserializer).map(Wording::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call_above_unfunded() -> Message {
        Message::new("msg-call-above-unfunded")
            .amount("call", Cents::new(123_456_789))
            .text("tranche", "Senior A")
            .amount("unfunded", Cents::new(50_000))
    }

    #[test]
    fn figures_take_each_languages_form() {
        let message = call_above_unfunded();
        assert!(message.in_lang(Lang::En).contains("EUR\u{a0}1,234,567.89"), "{}", message.in_lang(Lang::En));
        // The API's English carries figures as its fields do.
        assert!(message.english().starts_with("EUR 1234567.89 cannot be called"), "{}", message.english());
        assert!(message.english().ends_with("total EUR 500.00"), "{}", message.english());
        let french = message.in_lang(Lang::Fr);
        assert!(french.contains("1\u{a0}234\u{a0}567,89\u{a0}EUR") && french.contains("Senior A"), "{french}");
        let german = message.in_lang(Lang::De);
        assert!(german.contains("1.234.567,89\u{a0}EUR") && german.contains("500,00\u{a0}EUR"), "{german}");
    }

    #[test]
    fn a_wording_says_english_to_the_api_and_the_readers_language_on_pages() {
        let wording = Wording::from(call_above_unfunded());
        assert_eq!(serde_json::to_value(&wording).ok(), Some(serde_json::Value::String(wording.english().into())));
        assert_ne!(wording.in_lang(Lang::De), wording.in_lang(Lang::En));
        // A fixed text without a message goes through the page catalogue.
        let fixed = Wording::from("must be greater than zero");
        assert_eq!(fixed.in_lang(Lang::En), "must be greater than zero");
        assert_ne!(fixed.in_lang(Lang::Fr), "must be greater than zero");
    }

    #[test]
    fn words_are_the_catalogues_names() {
        let message = Message::new("msg-not-a-draft-change").word("status", "status", "under_review");
        assert!(message.english().contains("under review"), "{}", message.english());
    }
}
