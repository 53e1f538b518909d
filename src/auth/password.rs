//! Password hashing with argon2id (PHC strings, salted per user).

use std::cell::RefCell;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

/// Shortest password accepted for a new user.
pub const PASSWORD_CHARS_MIN: usize = 12;
/// Longest password accepted (argon2 cost grows with input; this bounds it).
pub const PASSWORD_BYTES_MAX: usize = 1024;

/// argon2id cost, as the OWASP Password Storage Cheat Sheet's first configuration: 19 MiB of
/// memory, 2 iterations, 1 lane. A stored hash carries its own parameters, so raising them
/// later re-costs new hashes only.
pub const ARGON2_MEMORY_KIB: u32 = 19_456;
pub const ARGON2_ITERATIONS: u32 = 2;
pub const ARGON2_LANES: u32 = 1;

fn argon2() -> Result<Argon2<'static>, String> {
    let params = Params::new(ARGON2_MEMORY_KIB, ARGON2_ITERATIONS, ARGON2_LANES, None)
        .map_err(|e| format!("argon2 parameters: {e}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

pub fn check_strength(password: &str) -> Result<(), String> {
    if password.chars().count() < PASSWORD_CHARS_MIN {
        return Err(format!("password must be at least {PASSWORD_CHARS_MIN} characters"));
    }
    if password.len() > PASSWORD_BYTES_MAX {
        return Err(format!("password must be at most {PASSWORD_BYTES_MAX} bytes"));
    }
    Ok(())
}

thread_local! {
    /// The working memory of this thread's hashes (19 MiB), allocated once and reused: an
    /// allocation per hash left the allocator holding several of them per thread.
    static HASH_MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// argon2 of `password` and `salt` into `out`, in this thread's reused working memory.
fn hash_into(argon: &Argon2<'_>, params: &Params, password: &[u8], salt: &[u8], out: &mut [u8]) -> argon2::Result<()> {
    HASH_MEMORY.with(|memory| {
        let mut blocks = memory.borrow_mut();
        if blocks.len() != params.block_count() {
            *blocks = vec![Block::default(); params.block_count()];
        }
        argon.hash_password_into_with_memory(password, salt, out, blocks.as_mut_slice())
    })
}

pub fn hash(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    let params = Params::new(ARGON2_MEMORY_KIB, ARGON2_ITERATIONS, ARGON2_LANES, None)
        .map_err(|e| format!("argon2 parameters: {e}"))?;
    let argon = argon2()?;
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes).map_err(|e| format!("salt: {e}"))?;
    let output = Output::init_with(Params::DEFAULT_OUTPUT_LEN, |out| {
        hash_into(&argon, &params, password.as_bytes(), salt_bytes, out).map_err(Into::into)
    })
    .map_err(|e| format!("cannot hash password: {e}"))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| format!("argon2 parameters: {e}"))?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// True when `password` matches the stored PHC hash. A malformed hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    if password.len() > PASSWORD_BYTES_MAX {
        return false;
    }
    let Ok(parsed) = PasswordHash::new(stored) else { return false };
    let (Some(expected), Some(salt)) = (parsed.hash, parsed.salt) else { return false };
    let (Ok(algorithm), Ok(params)) = (Algorithm::try_from(parsed.algorithm), Params::try_from(&parsed)) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(version)) => version,
        Some(Err(_)) => return false,
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_bytes) else { return false };
    let argon = Argon2::new(algorithm, version, params.clone());
    let mut out = vec![0u8; expected.len()];
    if hash_into(&argon, &params, password.as_bytes(), salt_bytes, &mut out).is_err() {
        return false;
    }
    // Output compares in constant time.
    Output::new(&out).is_ok_and(|computed| computed == expected)
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
    fn new_hashes_are_argon2id_with_the_owasp_parameters() {
        let stored = hash("correct horse battery").unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");
    }

    /// The reused-memory path agrees with the crate's own hashing and verifying, both ways.
    #[test]
    fn hashes_agree_with_the_argon2_crates_own_path() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let standard = argon2()
            .unwrap()
            .hash_password(b"correct horse battery", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        assert!(verify("correct horse battery", &standard));
        assert!(!verify("correct horse batterx", &standard));
        let ours = hash("correct horse battery").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default().verify_password(b"correct horse battery", &parsed).is_ok());
        assert!(Argon2::default().verify_password(b"wrong", &parsed).is_err());
        // An older hash with other parameters still verifies (the memory is resized).
        let small = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(8_192, 1, 1, None).unwrap())
            .hash_password(b"old password here", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        assert!(verify("old password here", &small));
        assert!(verify("correct horse battery", &ours));
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(check_strength("short").is_err());
        assert!(check_strength("long enough password").is_ok());
    }
}
