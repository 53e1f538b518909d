//! Authentication: JWT bearer tokens (own HS256, or an external IdP's RS256/EdDSA),
//! argon2 passwords, CSRF tokens for HTML forms.

pub mod csrf;
pub mod hasher;
pub mod jwt;
pub mod login;
pub mod password;
pub mod principal;
pub mod refusal_hold;
pub mod standing;
pub mod throttle;

pub use jwt::{Claims, JwtKeys};
pub use principal::Principal;
