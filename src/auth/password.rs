//! Password hashing with argon2id (PHC strings, salted per user).

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

/// Shortest password accepted for a new user.
pub const PASSWORD_CHARS_MIN: usize = 12;
/// Longest password accepted (argon2 cost grows with input; this bounds it).
pub const PASSWORD_BYTES_MAX: usize = 1024;

pub fn check_strength(password: &str) -> Result<(), String> {
    if password.chars().count() < PASSWORD_CHARS_MIN {
        return Err(format!("password must be at least {PASSWORD_CHARS_MIN} characters"));
    }
    if password.len() > PASSWORD_BYTES_MAX {
        return Err(format!("password must be at most {PASSWORD_BYTES_MAX} bytes"));
    }
    Ok(())
}

pub fn hash(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("cannot hash password: {e}"))
}

/// True when `password` matches the stored PHC hash. A malformed hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    if password.len() > PASSWORD_BYTES_MAX {
        return false;
    }
    PasswordHash::new(stored)
        .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
        .unwrap_or(false)
}

/// A hash of a password nobody knows: verifying against it costs the same time as a real
/// user, so a login for an unknown name cannot be told apart by its timing.
pub fn decoy_hash() -> &'static str {
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Jm9Ub1GvTFkO9e1mDm1bqWOkz1fB1RJ0lQFNnUhrM2w"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_only_their_password() {
        let stored = hash("correct horse battery").unwrap();
        assert!(verify("correct horse battery", &stored));
        assert!(!verify("wrong horse battery", &stored));
        assert!(!verify("anything", "not a hash"));
        assert!(!verify("anything", decoy_hash()));
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(check_strength("short").is_err());
        assert!(check_strength("long enough password").is_ok());
    }
}
