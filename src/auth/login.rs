//! Password sign-in, shared by the token endpoint and the browser login form: throttled per
//! account and client address (`throttle`), hashed on the bounded hashing threads (`hasher`).

use std::net::IpAddr;
use std::time::{Duration, Instant};

use actix_web::HttpRequest;

use crate::auth::password;
use crate::auth::JwtKeys;
use crate::auth::Principal;
use crate::error::{AppError, AppResult};
use crate::http::AppState;
use crate::storage::users::{self, find_by_username, UserRow};
use crate::storage::write_tx;

/// The same answer for an unknown user, a wrong password and a disabled account.
const LOGIN_REFUSED: &str = "unknown user name or wrong password";

/// Every name that breaks the user-name rules is counted, looked up and refused as this one,
/// which no account can have: the throttle then keeps at most a user name's length per
/// counter, and the database never sees text it would refuse (a NUL byte on PostgreSQL).
const IMPOSSIBLE_USERNAME: &str = "";

/// The name a sign-in is checked under: the name sent when an account could have it.
fn name_to_check(sent: String) -> String {
    if users::validate_username(&sent).is_ok() {
        sent
    } else {
        IMPOSSIBLE_USERNAME.to_string()
    }
}

/// Seconds to tell a throttled client, rounded up.
fn retry_seconds(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

/// Checks a user's password, unless the account or the address must wait first. Takes the
/// same time whether or not the user exists: an unknown name is checked against a decoy hash.
/// A refusal to check (throttled, or the hashing queue full) is answered after the node's
/// refusal hold (`refusal_hold`).
pub async fn sign_in(state: &AppState, username: String, password_text: String, address: IpAddr) -> AppResult<UserRow> {
    let outcome = check_password(state, username, password_text, address).await;
    if let Err(AppError::TooManyRequests { .. }) = &outcome {
        state.sign_in_refusal_hold.hold().await;
    }
    outcome
}

async fn check_password(
    state: &AppState,
    username: String,
    password_text: String,
    address: IpAddr,
) -> AppResult<UserRow> {
    let username = name_to_check(username);
    if let Err(wait) = state.sign_in_throttle.check(&username, address, Instant::now()) {
        let seconds = retry_seconds(wait);
        return Err(AppError::TooManyRequests {
            code: "sign-in-throttled",
            detail: format!("too many failed sign-ins; the next is checked in {seconds} s"),
            retry_after_seconds: seconds,
        });
    }
    let name = username.clone();
    let user = match username.as_str() {
        IMPOSSIBLE_USERNAME => None,
        _ => state.db(move |conn| find_by_username(conn, &name)).await?,
    };
    let stored = user.as_ref().map_or_else(|| password::decoy_hash().to_string(), |u| u.password_hash.clone());
    let matches = state.hasher.verify(password_text, stored).await?;
    match user {
        Some(user) if matches && user.disabled_at.is_none() => {
            state.sign_in_throttle.succeeded(&username, address);
            Ok(user)
        }
        _ => {
            state.sign_in_throttle.failed(&username, address, Instant::now());
            Err(AppError::Unauthorized(LOGIN_REFUSED.into()))
        }
    }
}

/// The client's address: the rightmost value of the trusted proxy's header when one is
/// configured (the address the proxy saw), otherwise the connection's peer.
pub fn client_address(state: &AppState, req: &HttpRequest) -> IpAddr {
    let from_header = state.settings.client_ip_header.as_deref().and_then(|name| {
        let value = req.headers().get(name)?.to_str().ok()?;
        value.rsplit(',').next()?.trim().parse::<IpAddr>().ok()
    });
    from_header.or_else(|| req.peer_addr().map(|peer| peer.ip())).unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
}

/// A token for a signed-in user: it names the user and their credentials version, so that
/// disabling, a password reset or a role change ends it (`standing`).
pub fn token_for(keys: &JwtKeys, user: &UserRow, ttl_seconds: i64) -> AppResult<String> {
    keys.mint(user.role()?, &user.username, user.credentials_version, ttl_seconds)
        .map(|(token, _)| token)
        .map_err(AppError::internal)
}

/// Ends the session of `principal`'s token: refused from now on every node (at once on this
/// one, on the others within the standing refresh time), until it would have expired.
pub async fn sign_out(state: &AppState, principal: &Principal) -> AppResult<()> {
    let (username, token_id) = (principal.username.clone(), principal.token_id.clone());
    let leeway = super::jwt::CLOCK_LEEWAY_SECONDS as i64;
    let expires_at = chrono::DateTime::from_timestamp(principal.expires_at.saturating_add(leeway), 0)
        .map(|at| at.naive_utc())
        .ok_or_else(|| AppError::internal("token expiry out of range"))?;
    let name = username.clone();
    state.db(move |conn| write_tx(conn, |c| users::sign_out(c, &name, &token_id, expires_at))).await?;
    state.standings.forget(&username);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_no_account_can_have_is_checked_as_the_impossible_one() {
        assert_eq!(name_to_check("alice".into()), "alice");
        assert_eq!(name_to_check("a.b-c_d@example.eu".into()), "a.b-c_d@example.eu");
        for sent in ["a\0b".to_string(), "x".repeat(65), "x".repeat(4 << 20), "al".into(), "élodie".into()] {
            assert_eq!(name_to_check(sent.clone()), IMPOSSIBLE_USERNAME, "{:.20}", sent);
        }
        assert!(users::validate_username(IMPOSSIBLE_USERNAME).is_err(), "no account can have it");
    }
}
