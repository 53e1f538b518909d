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

/// Kosovo's code in the EU's own lists; ISO 3166-1 leaves it user-assigned.
const KOSOVO: &str = "XK";

/// A country's ISO 3166-1 alpha-2 code, as ISO assigns them (private investors may sit outside
/// the EU): "XX" or "QZ", user-assigned, name no country. The EU's "EL" is Greece (GR), and its
/// "XK" Kosovo.
pub fn country_code(code: &str) -> Result<String, String> {
    let upper = code.trim().to_ascii_uppercase();
    let normalized = if upper == "EL" { "GR".to_string() } else { upper };
    if normalized == KOSOVO || isocountry::CountryCode::for_alpha2(&normalized).is_ok() {
        Ok(normalized)
    } else {
        Err(format!("{code:?} is not a country's ISO 3166-1 alpha-2 code"))
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

/// NACE Rev. 2 sections by their first and last division.
const NACE_SECTIONS: [(char, u32, u32); 21] = [
    ('A', 1, 3),
    ('B', 5, 9),
    ('C', 10, 33),
    ('D', 35, 35),
    ('E', 36, 39),
    ('F', 41, 43),
    ('G', 45, 47),
    ('H', 49, 53),
    ('I', 55, 56),
    ('J', 58, 63),
    ('K', 64, 66),
    ('L', 68, 68),
    ('M', 69, 75),
    ('N', 77, 82),
    ('O', 84, 84),
    ('P', 85, 85),
    ('Q', 86, 88),
    ('R', 90, 93),
    ('S', 94, 96),
    ('T', 97, 98),
    ('U', 99, 99),
];

/// The NACE Rev. 2 section letter of a division, if the division exists.
pub fn nace_section(division: u32) -> Option<char> {
    NACE_SECTIONS.iter().find(|(_, first, last)| (*first..=*last).contains(&division)).map(|(letter, _, _)| *letter)
}

/// A NACE Rev. 2 activity code: a division, group or class (`62`, `62.0`, `62.01`), with or
/// without its section letter (`J62.01`), normalised to `J62.01`.
pub fn nace_code(text: &str) -> Result<String, String> {
    let trimmed = text.trim().to_ascii_uppercase();
    let invalid = || format!("{text:?} is not a NACE Rev. 2 code (a division, group or class such as 62.01 or J62.01)");
    let (letter, rest) = match trimmed.chars().next() {
        Some(c) if c.is_ascii_alphabetic() => (Some(c), trimmed[1..].trim_start_matches('.').to_string()),
        _ => (None, trimmed.clone()),
    };
    let digits: String = rest.chars().filter(|c| *c != '.').collect();
    let shaped = matches!(rest.len(), 2 | 4 | 5)
        && digits.chars().all(|c| c.is_ascii_digit())
        && (2..=4).contains(&digits.len())
        && (rest.len() == 2 || rest.as_bytes().get(2) == Some(&b'.'));
    if !shaped {
        return Err(invalid());
    }
    let division: u32 = digits[0..2].parse().map_err(|_| invalid())?;
    let section =
        nace_section(division).ok_or_else(|| format!("{text:?}: there is no NACE Rev. 2 division {division:02}"))?;
    if letter.is_some_and(|l| l != section) {
        return Err(format!("{text:?}: division {division:02} is in section {section}"));
    }
    let code = if digits.len() == 2 { digits.clone() } else { format!("{}.{}", &digits[0..2], &digits[2..]) };
    Ok(format!("{section}{code}"))
}

/// A NUTS 2 region code (`DE30`, `FR10`, `EL30`): the country's two letters (Greece is EL)
/// and two letters or digits; it must lie in `country` (ISO 3166-1 alpha-2).
pub fn nuts2_region(text: &str, country: &str) -> Result<String, String> {
    let code = text.trim().to_ascii_uppercase();
    if code.len() != 4
        || !code.chars().all(|c| c.is_ascii_alphanumeric())
        || !code[0..2].chars().all(|c| c.is_ascii_uppercase())
    {
        return Err(format!("{text:?} is not a NUTS 2 code (two letters of the country and two more, e.g. DE30)"));
    }
    let country = country.trim().to_ascii_uppercase();
    let expected = if country == "GR" { "EL" } else { country.as_str() };
    if &code[0..2] != expected {
        return Err(format!("{code} is not a region of {country} (its NUTS codes begin with {expected})"));
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

    #[test]
    fn countries_are_the_codes_iso_assigns() {
        for (given, code) in [("us", "US"), ("CH", "CH"), (" no ", "NO"), ("EL", "GR"), ("AE", "AE"), ("XK", "XK")] {
            assert_eq!(country_code(given).as_deref(), Ok(code), "{given}");
        }
        for unassigned in ["XX", "QZ", "AA", "ZZ", "UK", "EU", "D", "DEU", "1A", ""] {
            assert!(country_code(unassigned).is_err(), "{unassigned}");
        }
    }

    #[test]
    fn nace_codes_normalise_and_name_their_section() {
        assert_eq!(nace_code("62.01").as_deref(), Ok("J62.01"));
        assert_eq!(nace_code("j62.01").as_deref(), Ok("J62.01"));
        assert_eq!(nace_code("J.62.01").as_deref(), Ok("J62.01"));
        assert_eq!(nace_code("72.1").as_deref(), Ok("M72.1"));
        assert_eq!(nace_code("03").as_deref(), Ok("A03"));
        assert!(nace_code("04.10").is_err(), "no division 04");
        assert!(nace_code("C62.01").is_err(), "62 is in section J");
        assert!(nace_code("6201").is_err());
        assert!(nace_code("62.011").is_err());
        assert!(nace_code("").is_err());
    }

    #[test]
    fn nuts2_regions_lie_in_their_country() {
        assert_eq!(nuts2_region("de30", "DE").as_deref(), Ok("DE30"));
        assert_eq!(nuts2_region("EL30", "GR").as_deref(), Ok("EL30"));
        assert_eq!(nuts2_region("FRK2", "FR").as_deref(), Ok("FRK2"));
        assert!(nuts2_region("FR10", "DE").is_err());
        assert!(nuts2_region("DE3", "DE").is_err());
        assert!(nuts2_region("DE300", "DE").is_err());
    }
}
