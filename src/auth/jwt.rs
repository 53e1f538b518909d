//! Minting and checking JWTs.
//!
//! The key is chosen by the token's `alg`, and each key accepts exactly one algorithm:
//! HS256 tokens are checked only against the HMAC secret, RS256/EdDSA tokens only against the
//! identity provider's public key. So `alg: none` and algorithm confusion (a public key used
//! as an HMAC secret) are refused by construction.

use std::path::Path;

use chrono::Utc;
use jsonwebtoken::{decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::standing::Minter;
use crate::config::Settings;
use crate::domain::roles::Role;

/// Clock skew tolerated on `exp` and `nbf`, in seconds.
pub const CLOCK_LEEWAY_SECONDS: u64 = 30;
/// Verified tokens remembered per node, so that a token sent again is not verified again.
pub const TOKENS_VERIFIED_MAX: usize = 10_000;
/// Longest lifetime `investai token` will mint.
pub const TOKEN_TTL_SECONDS_MAX: i64 = 90 * 24 * 3600;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// The user name (tokens of this service and of an identity provider alike).
    pub sub: String,
    pub role: Role,
    pub iss: String,
    pub aud: String,
    pub exp: i64,
    pub nbf: i64,
    pub iat: i64,
    /// Unique token id: CSRF tokens of a browser session are derived from it.
    pub jti: String,
    /// The user's credentials version when this service minted the token (`standing`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ver: Option<i64>,
}

struct ExternalIdp {
    algorithm: Algorithm,
    key: DecodingKey,
    issuer: String,
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    issuer: String,
    audience: String,
    external: Option<ExternalIdp>,
    /// Claims of tokens whose signature, issuer, audience and claims passed, by token: a
    /// token's bytes fix its claims, so only its times need checking again. A changed byte
    /// is another token, verified in full.
    verified: quick_cache::sync::Cache<String, Claims>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("malformed token")]
    Malformed,
    #[error("token algorithm not accepted")]
    Algorithm,
    #[error("token expired")]
    Expired,
    #[error("token not valid yet")]
    NotYetValid,
    #[error("token audience not accepted")]
    Audience,
    #[error("token issuer not accepted")]
    Issuer,
    #[error("token signature invalid")]
    Signature,
    #[error("token claims invalid: {0}")]
    Claims(String),
}

impl JwtKeys {
    pub fn new(secret: &str, issuer: &str, audience: &str) -> Self {
        JwtKeys {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            issuer: issuer.to_string(),
            audience: audience.to_string(),
            external: None,
            verified: quick_cache::sync::Cache::new(TOKENS_VERIFIED_MAX),
        }
    }

    /// Keys from the settings, with `secret` already resolved (configured or demo key).
    pub fn from_settings(settings: &Settings, secret: &str) -> Result<Self, String> {
        let mut keys = JwtKeys::new(secret, &settings.jwt_issuer, &settings.jwt_audience);
        if let (Some(file), Some(alg)) = (&settings.idp_public_key_file, settings.idp_algorithm.as_deref()) {
            let issuer =
                settings.idp_issuer.clone().ok_or("idp_issuer is required with an external identity provider")?;
            keys = keys.with_external_idp(file, alg, &issuer)?;
        }
        Ok(keys)
    }

    pub fn with_external_idp(mut self, pem_file: &Path, algorithm: &str, issuer: &str) -> Result<Self, String> {
        let pem = std::fs::read(pem_file).map_err(|e| format!("cannot read {}: {e}", pem_file.display()))?;
        self = self.with_external_pem(&pem, algorithm, issuer)?;
        Ok(self)
    }

    pub fn with_external_pem(mut self, pem: &[u8], algorithm: &str, issuer: &str) -> Result<Self, String> {
        let (algorithm, key) = match algorithm {
            "RS256" => (Algorithm::RS256, DecodingKey::from_rsa_pem(pem)),
            "EdDSA" => (Algorithm::EdDSA, DecodingKey::from_ed_pem(pem)),
            other => return Err(format!("identity provider algorithm {other} is not supported")),
        };
        let key = key.map_err(|e| format!("identity provider public key: {e}"))?;
        self.external = Some(ExternalIdp { algorithm, key, issuer: issuer.to_string() });
        Ok(self)
    }

    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// Who minted a verified token: this service (its own issuer) or the identity provider.
    pub fn minter(&self, claims: &Claims) -> Minter {
        if claims.iss == self.issuer {
            Minter::ThisService
        } else {
            Minter::IdentityProvider
        }
    }

    /// A signed HS256 token for user `username` acting as `role` at credentials version
    /// `credentials_version`, valid from now for `ttl_seconds`.
    pub fn mint(
        &self,
        role: Role,
        username: &str,
        credentials_version: i64,
        ttl_seconds: i64,
    ) -> Result<(String, Claims), String> {
        if !(1..=TOKEN_TTL_SECONDS_MAX).contains(&ttl_seconds) {
            return Err(format!("token lifetime must be 1 to {TOKEN_TTL_SECONDS_MAX} seconds"));
        }
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: username.to_string(),
            role,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            exp: now + ttl_seconds,
            nbf: now,
            iat: now,
            jti: uuid::Uuid::now_v7().to_string(),
            ver: Some(credentials_version),
        };
        let token = self.sign(&claims)?;
        Ok((token, claims))
    }

    /// Signs arbitrary claims (tests use it to make expired or future tokens).
    pub fn sign(&self, claims: &Claims) -> Result<String, String> {
        encode(&Header::new(Algorithm::HS256), claims, &self.encoding).map_err(|e| format!("cannot sign token: {e}"))
    }

    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        self.verify_at(token, Utc::now().timestamp())
    }

    fn verify_at(&self, token: &str, now: i64) -> Result<Claims, TokenError> {
        if let Some(claims) = self.verified.get(token) {
            check_times(&claims, now)?;
            return Ok(claims);
        }
        let claims = self.verify_in_full(token)?;
        self.verified.insert(token.to_string(), claims.clone());
        Ok(claims)
    }

    fn verify_in_full(&self, token: &str) -> Result<Claims, TokenError> {
        let header = decode_header(token).map_err(|_| TokenError::Malformed)?;
        let (key, algorithm, issuer) = match (&self.external, header.alg) {
            (_, Algorithm::HS256) => (&self.decoding, Algorithm::HS256, self.issuer.as_str()),
            (Some(idp), alg) if alg == idp.algorithm => (&idp.key, idp.algorithm, idp.issuer.as_str()),
            _ => return Err(TokenError::Algorithm),
        };
        let mut validation = Validation::new(algorithm);
        validation.leeway = CLOCK_LEEWAY_SECONDS;
        validation.validate_nbf = true;
        validation.set_audience(&[&self.audience]);
        validation.set_issuer(&[issuer]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        let data = decode::<Claims>(token, key, &validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            match e.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                ErrorKind::ImmatureSignature => TokenError::NotYetValid,
                ErrorKind::InvalidAudience => TokenError::Audience,
                ErrorKind::InvalidIssuer => TokenError::Issuer,
                ErrorKind::InvalidSignature => TokenError::Signature,
                ErrorKind::InvalidAlgorithm => TokenError::Algorithm,
                ErrorKind::Json(_) | ErrorKind::MissingRequiredClaim(_) => TokenError::Claims(e.to_string()),
                _ => TokenError::Malformed,
            }
        })?;
        if data.claims.sub.trim().is_empty() {
            return Err(TokenError::Claims("empty subject".into()));
        }
        Ok(data.claims)
    }
}

/// Parses `30m`, `1h`, `7d` or plain seconds.
pub fn parse_ttl(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let value: i64 = number.parse().map_err(|_| format!("invalid duration {text:?}: use e.g. 30m, 1h, 7d"))?;
    let factor = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("invalid duration unit in {text:?}: use s, m, h or d")),
    };
    value.checked_mul(factor).ok_or_else(|| "duration too long".to_string())
}

/// The checks of `exp` and `nbf` that `jsonwebtoken` makes, for a token verified before.
fn check_times(claims: &Claims, now: i64) -> Result<(), TokenError> {
    let leeway = CLOCK_LEEWAY_SECONDS as i64;
    if claims.exp < now - leeway {
        return Err(TokenError::Expired);
    }
    if claims.nbf > now + leeway {
        return Err(TokenError::NotYetValid);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn keys() -> JwtKeys {
        JwtKeys::new(SECRET, "investai", "investai")
    }

    #[test]
    fn minted_tokens_verify() {
        let (token, claims) = keys().mint(Role::Staff, "alice", 0, 600).unwrap();
        assert_eq!(keys().verify(&token), Ok(claims));
    }

    #[test]
    fn a_token_verified_before_still_expires_and_a_changed_one_is_verified_in_full() {
        let keys = keys();
        let (token, claims) = keys.mint(Role::Staff, "alice", 0, 600).unwrap();
        assert_eq!(keys.verify(&token), Ok(claims.clone()));
        assert_eq!(keys.verify(&token), Ok(claims.clone()), "from the verified tokens");
        let leeway = CLOCK_LEEWAY_SECONDS as i64;
        assert_eq!(keys.verify_at(&token, claims.exp + leeway), Ok(claims.clone()));
        assert_eq!(keys.verify_at(&token, claims.exp + leeway + 1), Err(TokenError::Expired));
        assert_eq!(keys.verify_at(&token, claims.nbf - leeway - 1), Err(TokenError::NotYetValid));
        // A character inside the signature (the last one carries padding bits).
        let mut tampered = token.clone();
        let at = tampered.len() - 10;
        let changed = if &tampered[at..=at] == "A" { "B" } else { "A" };
        tampered.replace_range(at..=at, changed);
        assert_eq!(keys.verify(&tampered), Err(TokenError::Signature));
    }

    #[test]
    fn expired_future_and_foreign_tokens_fail() {
        let keys = keys();
        let (_, mut claims) = keys.mint(Role::Staff, "alice", 0, 600).unwrap();
        claims.exp = Utc::now().timestamp() - 3600;
        assert_eq!(keys.verify(&keys.sign(&claims).unwrap()), Err(TokenError::Expired));
        let (_, mut claims) = keys.mint(Role::Staff, "alice", 0, 600).unwrap();
        claims.nbf = Utc::now().timestamp() + 3600;
        assert_eq!(keys.verify(&keys.sign(&claims).unwrap()), Err(TokenError::NotYetValid));
        let other = JwtKeys::new(SECRET, "investai", "someone-else");
        let (token, _) = other.mint(Role::Staff, "alice", 0, 600).unwrap();
        assert_eq!(keys.verify(&token), Err(TokenError::Audience));
        let other = JwtKeys::new("fedcba9876543210fedcba9876543210", "investai", "investai");
        let (token, _) = other.mint(Role::Staff, "alice", 0, 600).unwrap();
        assert_eq!(keys.verify(&token), Err(TokenError::Signature));
    }

    #[test]
    fn alg_none_is_refused() {
        let (token, _) = keys().mint(Role::Admin, "alice", 0, 600).unwrap();
        let payload = token.split('.').nth(1).unwrap();
        let header = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let unsigned = format!("{header}.{payload}.");
        assert!(keys().verify(&unsigned).is_err());
    }

    /// A throwaway Ed25519 key pair for tests only.
    const IDP_PRIVATE_PEM: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIN3nLzmchyK8o3rui5fL3BUhv8kOVeBAeWh/3qfH2b6Q\n-----END PRIVATE KEY-----\n";
    const IDP_PUBLIC_PEM: &str = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAHw8lg/SwpEYr/T9ZAGoHkenUFU+Ywx0tBn2U9dCyQ28=\n-----END PUBLIC KEY-----\n";

    fn idp_claims(issuer: &str) -> Claims {
        let now = Utc::now().timestamp();
        Claims {
            sub: "carol@idp".into(),
            role: Role::Auditor,
            iss: issuer.into(),
            aud: "investai".into(),
            exp: now + 600,
            nbf: now,
            iat: now,
            jti: "idp-1".into(),
            ver: None,
        }
    }

    #[test]
    fn external_identity_provider_tokens_verify_with_its_key_only() {
        let keys = keys().with_external_pem(IDP_PUBLIC_PEM.as_bytes(), "EdDSA", "https://idp.example").unwrap();
        let signing = EncodingKey::from_ed_pem(IDP_PRIVATE_PEM.as_bytes()).unwrap();
        let token = encode(&Header::new(Algorithm::EdDSA), &idp_claims("https://idp.example"), &signing).unwrap();
        assert_eq!(keys.verify(&token).map(|c| c.role), Ok(Role::Auditor));
        // The provider's tokens must carry the provider's issuer.
        let wrong_issuer = encode(&Header::new(Algorithm::EdDSA), &idp_claims("investai"), &signing).unwrap();
        assert_eq!(keys.verify(&wrong_issuer), Err(TokenError::Issuer));
        // Algorithm confusion: an HS256 token "signed" with the public key as HMAC secret.
        let forged = encode(
            &Header::new(Algorithm::HS256),
            &idp_claims("investai"),
            &EncodingKey::from_secret(IDP_PUBLIC_PEM.as_bytes()),
        )
        .unwrap();
        assert_eq!(keys.verify(&forged), Err(TokenError::Signature));
        // Without a configured provider, EdDSA tokens are refused outright.
        assert_eq!(super::tests::keys().verify(&token), Err(TokenError::Algorithm));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_ttl("1h"), Ok(3600));
        assert_eq!(parse_ttl("30m"), Ok(1800));
        assert_eq!(parse_ttl("45"), Ok(45));
        assert!(parse_ttl("1y").is_err());
        assert!(parse_ttl("h").is_err());
    }
}
