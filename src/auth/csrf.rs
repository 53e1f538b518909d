//! CSRF tokens for HTML forms: an HMAC of the session's token id (or, before login, of a
//! random nonce kept in a cookie) under the server's secret. A form posted from another
//! site cannot know it; the session cookie is also `SameSite=Strict`.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

pub fn token(secret: &str, binding: &str) -> String {
    hex::encode(mac(secret, binding).finalize().into_bytes())
}

/// Constant-time comparison of a submitted token with the expected one.
pub fn verify(secret: &str, binding: &str, submitted: &str) -> bool {
    match hex::decode(submitted) {
        Ok(bytes) => mac(secret, binding).verify_slice(&bytes).is_ok(),
        Err(_) => false,
    }
}

fn mac(secret: &str, binding: &str) -> HmacSha256 {
    // The secret comes from the server's settings, never from a request.
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(b"csrf:");
    mac.update(binding.as_bytes());
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_bind_to_session_and_secret() {
        let t = token("secret-a", "session-1");
        assert!(verify("secret-a", "session-1", &t));
        assert!(!verify("secret-a", "session-2", &t));
        assert!(!verify("secret-b", "session-1", &t));
        assert!(!verify("secret-a", "session-1", "zz"));
    }
}
