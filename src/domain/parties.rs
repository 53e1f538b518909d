//! Identifiers of the parties: EU-27 country codes and LEIs (ISO 17442).

/// The EU-27 Member States, ISO 3166-1 alpha-2 (Greece is GR; the EU's own "EL" is accepted too).
pub const EU27: [&str; 27] = [
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU", "MT",
    "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
];

/// The ISO code of an EU-27 Member State, or why not.
pub fn eu_member_state(code: &str) -> Result<&'static str, String> {
    let upper = code.trim().to_ascii_uppercase();
    let normalized = if upper == "EL" { "GR".to_string() } else { upper };
    EU27.iter()
        .find(|c| **c == normalized)
        .copied()
        .ok_or_else(|| format!("{code:?} is not an EU-27 Member State (ISO 3166-1 alpha-2, e.g. FR, DE, GR)"))
}

/// Any ISO 3166-1 alpha-2 shaped code (private investors may sit outside the EU).
pub fn country_code(code: &str) -> Result<String, String> {
    let upper = code.trim().to_ascii_uppercase();
    if upper.len() == 2 && upper.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(if upper == "EL" { "GR".into() } else { upper })
    } else {
        Err(format!("{code:?} is not a two-letter ISO 3166-1 country code"))
    }
}

/// Validates a Legal Entity Identifier: 20 characters, digits and capitals, ISO 7064 MOD 97-10.
pub fn lei(text: &str) -> Result<String, String> {
    let code = text.trim().to_ascii_uppercase();
    if code.len() != 20 || !code.chars().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()) {
        return Err("an LEI is 20 characters of digits and capital letters".into());
    }
    if !code[18..].chars().all(|c| c.is_ascii_digit()) {
        return Err("an LEI ends in two check digits".into());
    }
    let mut remainder: u32 = 0;
    for c in code.chars() {
        // Letters count as two digits: A = 10 … Z = 35.
        let value = c.to_digit(36).unwrap_or(0);
        remainder = if value >= 10 { (remainder * 100 + value) % 97 } else { (remainder * 10 + value) % 97 };
    }
    if remainder != 1 {
        return Err("LEI check digits do not match (ISO 17442)".into());
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_leis_validate() {
        // Deutsche Bank AG's published LEI, and another with valid check digits.
        assert!(lei("5493006QMFDDMYWIAM13").is_ok());
        assert!(lei("7LTWFZYICNSX8D621K86").is_ok());
        assert!(lei("7LTWFZYICNSX8D621K87").is_err());
        assert!(lei("short").is_err());
    }

    #[test]
    fn member_states() {
        assert_eq!(eu_member_state("fr"), Ok("FR"));
        assert_eq!(eu_member_state("EL"), Ok("GR"));
        assert!(eu_member_state("GB").is_err());
        assert!(eu_member_state("CH").is_err());
        assert_eq!(EU27.len(), 27);
    }
}
