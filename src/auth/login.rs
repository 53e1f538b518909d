//! Password login, shared by the token endpoint and the browser login form.

use crate::auth::password;
use crate::auth::JwtKeys;
use crate::error::{AppError, AppResult};
use crate::storage::users::{find_by_username, UserRow};
use crate::storage::DbConnection;

/// The same answer for an unknown user, a wrong password and a disabled account.
const LOGIN_REFUSED: &str = "unknown user name or wrong password";

/// Checks a user's password. Takes the same time whether or not the user exists.
pub fn authenticate(conn: &mut DbConnection, username: &str, password_text: &str) -> AppResult<UserRow> {
    let user = find_by_username(conn, username)?;
    let stored = user.as_ref().map_or(password::decoy_hash(), |u| u.password_hash.as_str());
    let matches = password::verify(password_text, stored);
    match user {
        Some(user) if matches && user.disabled_at.is_none() => Ok(user),
        _ => Err(AppError::Unauthorized(LOGIN_REFUSED.into())),
    }
}

/// A token for a logged-in user: party-bound roles act as their party.
pub fn token_for(keys: &JwtKeys, user: &UserRow, ttl_seconds: i64) -> AppResult<String> {
    let role = user.role()?;
    let subject = match (&user.party_id, role.is_party_bound()) {
        (Some(party), true) => party.clone(),
        (None, true) => return Err(AppError::internal(format!("user {} has no party", user.username))),
        _ => user.username.clone(),
    };
    keys.mint(role, &subject, Some(&user.username), ttl_seconds).map(|(token, _)| token).map_err(AppError::internal)
}
