//! What free text the books accept (names, descriptions, reasons): something visible, and none of
//! the characters that hide text or change how the rest of a line is shown.

use unicode_general_category::{get_general_category, GeneralCategory};

/// The characters of Unicode's `Bidi_Control` property (UAX #9): each reorders the text after it
/// on screen, so a name holding one reads as another name in every register, statement and
/// export that shows it.
pub const BIDI_CONTROLS: [char; 12] = [
    '\u{061C}', '\u{200E}', '\u{200F}', '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}',
    '\u{2067}', '\u{2068}', '\u{2069}',
];

/// Why `text` is refused, if it is. Control characters are refused (line breaks and tabs too,
/// unless `line_breaks`), and so are bidirectional controls; and at least one character must be
/// visible: not a space, not a format character such as a zero-width space.
pub fn refusal(text: &str, line_breaks: bool) -> Option<&'static str> {
    let allowed_control = |c: char| line_breaks && matches!(c, '\n' | '\r' | '\t');
    if text.chars().any(|c| c.is_control() && !allowed_control(c)) {
        return Some("must not contain control characters");
    }
    if text.chars().any(|c| BIDI_CONTROLS.contains(&c)) {
        return Some("must not contain characters that reverse or reorder the text (Unicode bidirectional controls)");
    }
    if !text.chars().any(visible) {
        return Some("must contain a visible character");
    }
    None
}

fn visible(c: char) -> bool {
    !c.is_whitespace() && !matches!(get_general_category(c), GeneralCategory::Format | GeneralCategory::Control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_any_script_are_accepted() {
        for name in [
            "Alpha Capital",
            "Zoë Ørsted SE",
            "Ελληνική Αναπτυξιακή",
            "Caisse des Dépôts",
            "\u{645}\u{6cc}\u{200c}\u{631}\u{648}\u{645}",
        ] {
            assert_eq!(refusal(name, false), None, "{name}");
        }
        assert_eq!(refusal("First line\nsecond line", true), None);
    }

    #[test]
    fn hidden_and_reordering_text_is_refused() {
        assert!(refusal("Evil\u{202E}Corp", false).is_some_and(|r| r.contains("reorder")));
        for c in BIDI_CONTROLS {
            let text = format!("Name {c}x");
            assert!(refusal(&text, true).is_some_and(|r| r.contains("reorder")), "U+{:04X}", c as u32);
        }
        for invisible in ["\u{200B}", "\u{FEFF}\u{200B}", "\u{2060}", " \u{00AD} "] {
            assert_eq!(refusal(invisible, false), Some("must contain a visible character"), "{invisible:?}");
        }
        assert_eq!(refusal("a\nb", false), Some("must not contain control characters"));
        assert_eq!(refusal("a\u{0}b", true), Some("must not contain control characters"));
    }
}
