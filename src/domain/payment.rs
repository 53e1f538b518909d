//! Where investors pay: the fund's bank account (IBAN checked by its ISO 13616 check digits)
//! and the structured creditor reference (ISO 11649, `RF..`) that matches a payment to its
//! capital-call notice.

use iban::IbanLike;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// SEPA's limit on a party's name.
pub const ACCOUNT_HOLDER_CHARS_MAX: usize = 70;
/// ISO 11649: `RF`, two check digits and at most 21 characters.
pub const CREDITOR_REFERENCE_BODY_CHARS_MAX: usize = 21;

/// A fund's bank account, as printed on call notices.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BankAccount {
    #[schema(example = "InvestAI Fund SICAV")]
    pub account_holder: String,
    /// Electronic format, without spaces.
    #[schema(example = "LU280019400644750000")]
    pub iban: String,
    #[schema(example = "BCEELULL")]
    pub bic: Option<String>,
}

impl BankAccount {
    /// Checks a bank account as typed: the holder's name, the IBAN (spaces allowed, any case)
    /// and the BIC. On error: the field and the reason.
    pub fn parse(account_holder: &str, iban: &str, bic: Option<&str>) -> Result<BankAccount, (&'static str, String)> {
        let account_holder = account_holder.trim();
        if account_holder.is_empty() || account_holder.chars().count() > ACCOUNT_HOLDER_CHARS_MAX {
            return Err(("account_holder", format!("must be 1 to {ACCOUNT_HOLDER_CHARS_MAX} characters")));
        }
        // The payee every call notice prints: a name that hides or reorders text would show
        // investors another payee than the one stored.
        if let Some(reason) = super::text::refusal(account_holder, false) {
            return Err(("account_holder", reason.to_string()));
        }
        let iban: iban::Iban = iban
            .trim()
            .to_ascii_uppercase()
            .parse()
            .map_err(|error| ("iban", format!("is not a valid IBAN ({error})")))?;
        let bic = bic.map(str::trim).filter(|b| !b.is_empty()).map(parse_bic).transpose()?;
        Ok(BankAccount { account_holder: account_holder.to_string(), iban: iban.electronic_str().to_string(), bic })
    }

    /// The IBAN in groups of four, as printed.
    pub fn iban_printed(&self) -> String {
        self.iban.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(" ")
    }
}

/// A BIC (ISO 9362): 4 letters of institution, 2 of country, 2 of location, 3 of branch.
fn parse_bic(bic: &str) -> Result<String, (&'static str, String)> {
    let bic = bic.to_ascii_uppercase();
    let shape_ok = matches!(bic.len(), 8 | 11)
        && bic.chars().all(|c| c.is_ascii_alphanumeric())
        && bic[..6].chars().all(|c| c.is_ascii_alphabetic());
    if shape_ok {
        Ok(bic)
    } else {
        Err(("bic", "must be 8 or 11 letters and digits, the first six letters (ISO 9362)".into()))
    }
}

/// The ISO 11649 creditor reference for `body` (letters and digits only, at most 21; others
/// are dropped): `RF`, check digits making the whole reference 1 modulo 97, then the body.
pub fn creditor_reference(body: &str) -> String {
    let body: String = body
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .take(CREDITOR_REFERENCE_BODY_CHARS_MAX)
        .collect();
    let remainder = mod97(&format!("{body}RF00"));
    format!("RF{:02}{body}", 98 - remainder)
}

/// The remainder modulo 97 of the digits made by writing A as 10, B as 11, ... Z as 35.
fn mod97(text: &str) -> u32 {
    text.chars().fold(0, |remainder, c| {
        let value = c.to_digit(36).unwrap_or(0);
        let shift = if value >= 10 { 100 } else { 10 };
        (remainder * shift + value) % 97
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether a reference's check digits hold (ISO 11649 section 3).
    pub fn creditor_reference_is_valid(reference: &str) -> bool {
        let compact: String = reference.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
        compact.len() > 4
            && compact.starts_with("RF")
            && compact.chars().all(|c| c.is_ascii_alphanumeric())
            && mod97(&format!("{}{}", &compact[4..], &compact[..4])) == 1
    }

    #[test]
    fn creditor_references_match_the_standard_examples() {
        // ISO 11649's example and the European Payments Council's.
        assert_eq!(creditor_reference("539007547034"), "RF18539007547034");
        assert!(creditor_reference_is_valid("RF18 5390 0754 7034"));
        assert!(creditor_reference_is_valid("RF712348231"));
        assert!(!creditor_reference_is_valid("RF19539007547034"));
        let made = creditor_reference("call-3 / 9f2c41aa");
        assert_eq!(&made[4..], "CALL39F2C41AA");
        assert!(creditor_reference_is_valid(&made));
    }

    #[test]
    fn bank_accounts_are_checked_field_by_field() {
        let account = BankAccount::parse(" InvestAI Fund ", "lu28 0019 4006 4475 0000", Some("bceelull")).unwrap();
        assert_eq!(account.iban, "LU280019400644750000");
        assert_eq!(account.iban_printed(), "LU28 0019 4006 4475 0000");
        assert_eq!(account.bic.as_deref(), Some("BCEELULL"));
        assert_eq!(BankAccount::parse("x", "LU290019400644750000", None).unwrap_err().0, "iban");
        assert_eq!(BankAccount::parse("", "LU280019400644750000", None).unwrap_err().0, "account_holder");
        let reversed = BankAccount::parse("Fund \u{202E}dtL", "LU280019400644750000", None).unwrap_err();
        assert_eq!(reversed.0, "account_holder");
        assert_eq!(BankAccount::parse("x", "LU280019400644750000", Some("BCE1LULL")).unwrap_err().0, "bic");
    }
}
