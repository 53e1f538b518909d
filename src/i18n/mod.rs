//! Languages: English, French and German. Texts live in Fluent catalogues under `locales/`
//! (one folder per language, compiled into the binary); amounts, dates and hours are
//! formatted per language by [`format`]. See docs/languages.md.

pub mod format;
pub mod message;

use std::borrow::Cow;
use std::collections::HashMap;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader};
use serde::{Deserialize, Serialize};

fluent_templates::static_loader! {
    static CATALOGUES = {
        locales: "./locales",
        fallback_language: "en",
        // Unicode isolation marks around arguments would end up in PDFs' extracted text and
        // in CSV cells copied from pages; every argument here is a name, a date or an amount.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// A language the product speaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Fr,
    De,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::En, Lang::Fr, Lang::De];

    /// The BCP 47 tag: `en`, `fr`, `de`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
            Lang::De => "de",
        }
    }

    /// The language's own name, as a language switch shows it.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Fr => "Français",
            Lang::De => "Deutsch",
        }
    }

    /// `fr`, `fr-BE`, `DE-at`: the language of a tag, if it is one of ours.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Lang::ALL.into_iter().find(|lang| lang.tag() == primary)
    }

    /// The best of our languages for an `Accept-Language` header (RFC 9110, 12.5.4), by the
    /// client's weights; English when none of them is ours.
    pub fn negotiate(accept_language: &str) -> Lang {
        let mut best: Option<(u16, usize, Lang)> = None;
        for (position, range) in accept_language.split(',').enumerate().take(ACCEPT_LANGUAGE_RANGES_MAX) {
            let mut parts = range.split(';');
            let Some(lang) = parts.next().and_then(Lang::from_tag) else { continue };
            let weight = parts.find_map(|p| p.trim().strip_prefix("q=")).map_or(Some(1000), quality_thousandths);
            let Some(weight) = weight.filter(|w| *w > 0) else { continue };
            // Higher weight wins; at equal weight the earlier range does.
            if best.is_none_or(|(w, p, _)| weight > w || (weight == w && position < p)) {
                best = Some((weight, position, lang));
            }
        }
        best.map_or(Lang::En, |(_, _, lang)| lang)
    }

    fn identifier(self) -> LanguageIdentifier {
        match self {
            Lang::En => fluent_templates::langid!("en"),
            Lang::Fr => fluent_templates::langid!("fr"),
            Lang::De => fluent_templates::langid!("de"),
        }
    }

    /// The text of `key`. A key missing from this language falls back to English, and one
    /// missing from English shows as the key itself, which the catalogue tests forbid.
    pub fn t(self, key: &str) -> String {
        CATALOGUES.try_lookup(&self.identifier(), key).unwrap_or_else(|| key.to_string())
    }

    /// The text of `key` with named arguments, e.g. `("name", "Alpha GmbH")`.
    pub fn t_with(self, key: &str, args: &[(&'static str, String)]) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue> =
            args.iter().map(|(name, value)| (Cow::Borrowed(*name), FluentValue::from(value.clone()))).collect();
        CATALOGUES.try_lookup_with_args(&self.identifier(), key, &args).unwrap_or_else(|| key.to_string())
    }

    /// An English term of a family in this language (`sector` `fishery and aquaculture` is
    /// `sector-fishery-and-aquaculture`), or the term as it is when the catalogue lacks it.
    pub fn term(self, family: &str, english: &str) -> String {
        let key = format!("{family}-{}", ui_key(english).trim_start_matches("ui-"));
        CATALOGUES.try_lookup(&self.identifier(), &key).unwrap_or_else(|| english.to_string())
    }

    /// A code's words run into a sentence ("the application is under review"): lower case,
    /// but German keeps the capitals of its nouns.
    pub fn name_in_sentence(self, family: &str, code: &str) -> String {
        let words = self.name_of(family, code);
        if self == Lang::De {
            words
        } else {
            words.to_lowercase()
        }
    }

    /// The text of a code in a family (`programme`, `status`, `role`, `refusal`, ...): the
    /// words for `status` `under_review`, or the code itself, readable, for one not in the
    /// catalogue (a new code shows, never a blank).
    pub fn name_of(self, family: &str, code: &str) -> String {
        let key = format!("{family}-{}", code.replace([' ', '_'], "-"));
        CATALOGUES.try_lookup(&self.identifier(), &key).unwrap_or_else(|| code.replace(['_', '-'], " "))
    }
}

/// The cookie holding a reader's chosen language (set by the language switch and at sign-in
/// from the user's preference).
pub const LANG_COOKIE: &str = "lang";

tokio::task_local! {
    static REQUEST_LANG: Lang;
    /// Texts this request's page builders gave as they are to be shown (names, titles,
    /// phrases already put in the reader's language): the templates show them unchanged.
    static SHOWN_AS_IS: std::cell::RefCell<std::collections::HashSet<String>>;
}

impl Lang {
    /// A request's language: the reader's choice (the `lang` cookie), else the best of the
    /// browser's `Accept-Language`, else English.
    pub fn for_request(chosen: Option<&str>, accept_language: Option<&str>) -> Lang {
        chosen.and_then(Lang::from_tag).unwrap_or_else(|| Lang::negotiate(accept_language.unwrap_or("")))
    }

    /// The language of the request being answered (English outside a request).
    pub fn current() -> Lang {
        REQUEST_LANG.try_with(|lang| *lang).unwrap_or_default()
    }
}

/// Runs `future` (a request's handling) with `lang` as [`Lang::current`].
pub async fn with_lang<F: std::future::Future>(lang: Lang, future: F) -> F::Output {
    let shown_as_is = std::cell::RefCell::new(std::collections::HashSet::new());
    REQUEST_LANG.scope(lang, SHOWN_AS_IS.scope(shown_as_is, future)).await
}

/// Text a page shows as it is in every language, where a label would stand: a name, a
/// description someone typed, an id.
pub fn verbatim(text: impl Into<String>) -> String {
    let text = text.into();
    let _ = SHOWN_AS_IS.try_with(|shown| shown.borrow_mut().insert(text.clone()));
    text
}

/// A page phrase holding data (`Prices of { $name }`): the catalogue's `key` in the
/// request's language with `args`, shown as it is.
pub fn phrase(key: &str, args: &[(&'static str, String)]) -> String {
    verbatim(Lang::current().t_with(key, args))
}

fn shown_as_is(text: &str) -> bool {
    SHOWN_AS_IS.try_with(|shown| shown.borrow().contains(text)).unwrap_or(false)
}

/// Page texts are looked up by their English wording: the catalogue key of `Capital stack`
/// is `ui-capital-stack` (lower-case letters and digits, other runs of characters as one `-`).
/// English is then the source text, as in gettext, and the pages' code stays readable.
pub fn ui_key(english: &str) -> String {
    let mut key = String::with_capacity(english.len() + 3);
    key.push_str("ui-");
    for c in english.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            key.push(c);
        } else if !key.ends_with('-') {
            key.push('-');
        }
    }
    key.trim_end_matches('-').to_string()
}

impl Lang {
    /// A page's label (title, heading, column, button, field) in this language. A label with no
    /// entry in the catalogue is shown in English and remembered in [`untranslated`], which the
    /// page tests require to stay empty.
    pub fn label(self, english: &str) -> String {
        if english.trim().is_empty() || !english.chars().any(char::is_alphabetic) || shown_as_is(english) {
            return english.to_string();
        }
        match CATALOGUES.try_lookup(&self.identifier(), &ui_key(english)) {
            Some(text) => text,
            None => {
                remember_untranslated(english);
                english.to_string()
            }
        }
    }

    /// A value shown on a page: a word the catalogue knows (`Yes`, a status) in this
    /// language, an amount, date or figure in this language's form, anything else (a name,
    /// an id) as it is.
    pub fn value(self, text: &str) -> String {
        if self == Lang::En {
            return text.to_string();
        }
        if let Some(relocalised) = format::relocalise(text, self) {
            return relocalised;
        }
        if text.chars().any(char::is_alphabetic) && text.len() <= UI_VALUE_CHARS_MAX {
            if let Some(words) = CATALOGUES.try_lookup(&self.identifier(), &ui_key(text)) {
                return words;
            }
        }
        text.to_string()
    }
}

/// Values longer than this are free text (descriptions, names), never looked up.
const UI_VALUE_CHARS_MAX: usize = 80;
/// Untranslated labels remembered at most; enough for every page of the product.
pub const UNTRANSLATED_LABELS_MAX: usize = 2_000;

static UNTRANSLATED: std::sync::Mutex<std::collections::BTreeSet<String>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

fn remember_untranslated(english: &str) {
    if let Ok(mut seen) = UNTRANSLATED.lock() {
        if seen.len() < UNTRANSLATED_LABELS_MAX {
            seen.insert(english.to_string());
        }
    }
}

/// Labels pages showed without a catalogue entry since the process started (for the tests
/// that walk every page, and for a maintainer adding a page).
pub fn untranslated() -> Vec<String> {
    UNTRANSLATED.lock().map(|seen| seen.iter().cloned().collect()).unwrap_or_default()
}

/// Ranges read from one `Accept-Language` header; the rest are ignored.
const ACCEPT_LANGUAGE_RANGES_MAX: usize = 32;

/// `0.8` → 800; `1` → 1000; anything not a quality value → None.
fn quality_thousandths(value: &str) -> Option<u16> {
    let value = value.trim();
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    if fraction.len() > 3 || !fraction.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let fraction: u16 = format!("{fraction:0<3}").parse().ok()?;
    match whole {
        "0" => Some(fraction),
        "1" if fraction == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_weights_choose_among_our_languages() {
        assert_eq!(Lang::negotiate("fr-FR,fr;q=0.9,en;q=0.8"), Lang::Fr);
        assert_eq!(Lang::negotiate("en;q=0.5, de-AT"), Lang::De);
        assert_eq!(Lang::negotiate("it, es;q=0.9"), Lang::En);
        assert_eq!(Lang::negotiate("de;q=0, fr;q=0.1"), Lang::Fr);
        assert_eq!(Lang::negotiate("fr;q=0.7, de;q=0.7"), Lang::Fr);
        assert_eq!(Lang::negotiate("de;q=2, fr;q=0.3"), Lang::Fr);
        assert_eq!(Lang::negotiate(""), Lang::En);
    }

    #[test]
    fn names_come_from_the_catalogue_and_unknown_codes_stay_readable() {
        assert_eq!(Lang::En.name_of("status", "under_review"), "Under review");
        assert_eq!(Lang::Fr.name_of("status", "under_review"), "En cours d’examen");
        assert_eq!(Lang::De.name_of("programme", "digital europe"), "Programm Digitales Europa");
        assert_eq!(Lang::En.name_of("status", "not_a_status"), "not a status");
    }

    #[test]
    fn arguments_are_placed_without_isolation_marks() {
        let text = Lang::De.t_with("doc-call-notice-number", &[("number", "3".into())]);
        assert_eq!(text, "Kapitalabruf Nr. 3");
    }
}

#[cfg(test)]
mod catalogue_tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::Path;

    use fluent_syntax::ast::{Entry, Expression, InlineExpression, Pattern, PatternElement};

    use super::Lang;

    /// The message ids of every `.ftl` file of one language, parsed by Fluent's own parser
    /// (a syntax error fails the test).
    fn keys(lang: Lang) -> BTreeSet<String> {
        let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("locales").join(lang.tag());
        let mut keys = BTreeSet::new();
        for file in std::fs::read_dir(&folder).expect("locale folder") {
            let path = file.expect("entry").path();
            let source = std::fs::read_to_string(&path).expect("catalogue");
            let resource = fluent_syntax::parser::parse(source.as_str())
                .unwrap_or_else(|(_, errors)| panic!("{}: {errors:?}", path.display()));
            for entry in resource.body {
                if let Entry::Message(message) = entry {
                    assert!(keys.insert(message.id.name.to_string()), "{} defined twice", message.id.name);
                }
            }
        }
        keys
    }

    #[test]
    fn every_key_exists_in_every_language() {
        let english = keys(Lang::En);
        assert!(english.len() > 100, "the English catalogue has {} keys", english.len());
        for lang in [Lang::Fr, Lang::De] {
            let other = keys(lang);
            let missing: Vec<_> = english.difference(&other).collect();
            let extra: Vec<_> = other.difference(&english).collect();
            assert!(missing.is_empty() && extra.is_empty(), "{lang:?}: missing {missing:?}, not in English {extra:?}");
        }
    }

    /// The variables each message of one language's `messages.ftl` uses, selectors included.
    fn message_variables(lang: Lang) -> BTreeMap<String, BTreeSet<String>> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("locales").join(lang.tag()).join("messages.ftl");
        let source = std::fs::read_to_string(&path).expect("messages catalogue");
        let resource = fluent_syntax::parser::parse(source.as_str()).unwrap_or_else(|(_, errors)| panic!("{errors:?}"));
        let mut variables = BTreeMap::new();
        for entry in resource.body {
            if let Entry::Message(message) = entry {
                let mut names = BTreeSet::new();
                if let Some(pattern) = &message.value {
                    pattern_variables(pattern, &mut names);
                }
                variables.insert(message.id.name.to_string(), names);
            }
        }
        variables
    }

    fn pattern_variables(pattern: &Pattern<&str>, names: &mut BTreeSet<String>) {
        for element in &pattern.elements {
            if let PatternElement::Placeable { expression } = element {
                match expression {
                    Expression::Inline(inline) => inline_variable(inline, names),
                    Expression::Select { selector, variants } => {
                        inline_variable(selector, names);
                        for variant in variants {
                            pattern_variables(&variant.value, names);
                        }
                    }
                }
            }
        }
    }

    fn inline_variable(inline: &InlineExpression<&str>, names: &mut BTreeSet<String>) {
        if let InlineExpression::VariableReference { id } = inline {
            names.insert(id.name.to_string());
        }
    }

    /// A refusal in French or German names every figure the English one names.
    #[test]
    fn every_message_carries_the_same_data_in_every_language() {
        let english = message_variables(Lang::En);
        assert!(!english.is_empty());
        for lang in [Lang::Fr, Lang::De] {
            assert_eq!(message_variables(lang), english, "{lang:?}: messages whose variables differ from English");
        }
    }

    /// Every message key the code names (`Message::new` with a `msg-` key) is in the catalogue.
    #[test]
    fn every_message_the_code_names_is_in_the_catalogue() {
        let english = message_variables(Lang::En);
        let mut named = BTreeSet::new();
        let mut folders = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(&folder).expect("source folder") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    folders.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let source = std::fs::read_to_string(&path).expect("source");
                    for piece in source.split("Message::new(\"").skip(1) {
                        let key = piece.split('"').next().unwrap_or_default();
                        named.insert(key.to_string());
                    }
                }
            }
        }
        assert!(named.len() >= 20, "found {} message keys in the code", named.len());
        let missing: Vec<_> = named.iter().filter(|key| !english.contains_key(*key)).collect();
        assert!(missing.is_empty(), "message keys missing from locales/en/messages.ftl: {missing:?}");
    }

    #[test]
    fn every_key_resolves_to_text_in_every_language() {
        // Every argument any message of any catalogue takes, read from the catalogues; a message
        // missing one would not resolve.
        let mut names = BTreeSet::new();
        for lang in Lang::ALL {
            let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("locales").join(lang.tag());
            for file in std::fs::read_dir(&folder).expect("locale folder") {
                let source = std::fs::read_to_string(file.expect("entry").path()).expect("catalogue");
                let resource = fluent_syntax::parser::parse(source.as_str()).unwrap_or_else(|(_, e)| panic!("{e:?}"));
                for entry in resource.body {
                    if let Entry::Message(message) = entry {
                        if let Some(pattern) = &message.value {
                            pattern_variables(pattern, &mut names);
                        }
                    }
                }
            }
        }
        assert!(names.len() > 30, "{names:?}");
        let args: Vec<(&'static str, String)> =
            names.into_iter().map(|name| (&*Box::leak(name.into_boxed_str()), "x".to_string())).collect();
        for lang in Lang::ALL {
            for key in keys(lang) {
                let text = lang.t_with(&key, &args);
                assert!(!text.is_empty() && text != key, "{lang:?} {key} has no text");
            }
        }
    }
}
