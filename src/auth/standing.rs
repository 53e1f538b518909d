//! Whether a verified token still speaks for an active user (docs/security.md, "Sessions and
//! revocation").
//!
//! A token's signature proves who minted it, not that its user may still act. Every token
//! names a user (`sub` is the user name, for tokens of this service and of an identity
//! provider alike); it is admitted only while that user exists, is not disabled, holds the
//! token's role, and the token was not signed out. Tokens of this service also carry the
//! user's credentials version, which disabling, a password reset and a role change move on.
//!
//! Each node keeps what it read of a user for `refresh` (a setting, 5 s by default): a change
//! made on another node takes effect here within that time; one made on this node, at once.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Claims, Principal};
use crate::domain::roles::Role;

/// Users whose standing a node remembers at once.
pub const STANDINGS_CACHED_MAX: usize = 10_000;
/// The longest a node may keep a user's standing (`standing_refresh_seconds`).
pub const STANDING_REFRESH_SECONDS_MAX: u64 = 60;

/// What a node knows of a user when admitting a token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Standing {
    pub username: String,
    pub role: Role,
    pub party_id: Option<String>,
    pub credentials_version: i64,
    pub disabled: bool,
    /// Ids of the user's tokens signed out and not yet expired.
    pub signed_out: HashSet<String>,
}

/// Where a token comes from: this service mints with a credentials version, an identity
/// provider cannot know it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Minter {
    ThisService,
    IdentityProvider,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the token's user does not exist")]
    NoSuchUser,
    #[error("the token's user is disabled")]
    Disabled,
    #[error("the token's role is no longer the user's")]
    RoleChanged,
    #[error("the token was revoked: the user's password or access changed since it was issued")]
    CredentialsChanged,
    #[error("the token was signed out")]
    SignedOut,
    #[error("the token's user has no party to act for")]
    NoParty,
}

/// Admits a verified token for its user, or says why not. The principal acts for the user's
/// party when the role is party-bound, otherwise as the user.
pub fn admit(claims: &Claims, minter: Minter, standing: Option<&Standing>) -> Result<Principal, Refusal> {
    let user = standing.ok_or(Refusal::NoSuchUser)?;
    if user.disabled {
        return Err(Refusal::Disabled);
    }
    if user.role != claims.role {
        return Err(Refusal::RoleChanged);
    }
    if minter == Minter::ThisService && claims.ver != Some(user.credentials_version) {
        return Err(Refusal::CredentialsChanged);
    }
    if user.signed_out.contains(&claims.jti) {
        return Err(Refusal::SignedOut);
    }
    let subject = match (user.role.is_party_bound(), &user.party_id) {
        (true, Some(party)) => party.clone(),
        (true, None) => return Err(Refusal::NoParty),
        (false, _) => user.username.clone(),
    };
    Ok(Principal {
        subject,
        role: user.role,
        username: user.username.clone(),
        token_id: claims.jti.clone(),
        expires_at: claims.exp,
    })
}

/// The standings a node read recently, by user name.
pub struct StandingCache {
    entries: quick_cache::sync::Cache<String, (Instant, Arc<Standing>)>,
    /// When each user was last changed on this node: a standing read before it is stale.
    changed: quick_cache::sync::Cache<String, Instant>,
    refresh: Duration,
}

impl StandingCache {
    pub fn new(refresh: Duration) -> Self {
        StandingCache {
            entries: quick_cache::sync::Cache::new(STANDINGS_CACHED_MAX),
            changed: quick_cache::sync::Cache::new(STANDINGS_CACHED_MAX),
            refresh,
        }
    }

    /// The user's standing if read less than `refresh` ago.
    pub fn fresh(&self, username: &str, now: Instant) -> Option<Arc<Standing>> {
        let (read_at, standing) = self.entries.get(username)?;
        (now.saturating_duration_since(read_at) < self.refresh).then_some(standing)
    }

    /// Keeps `standing`, read at `read_at`, unless the user was changed on this node since.
    pub fn remember(&self, standing: Standing, read_at: Instant) -> Arc<Standing> {
        let standing = Arc::new(standing);
        if self.changed.get(&standing.username).is_none_or(|changed_at| read_at > changed_at) {
            self.entries.insert(standing.username.clone(), (read_at, standing.clone()));
        }
        standing
    }

    /// Forgets a user changed on this node, so the change applies here at once, even over a
    /// standing being read while it was made.
    pub fn forget(&self, username: &str) {
        self.changed.insert(username.to_string(), Instant::now());
        self.entries.remove(username);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(role: Role, ver: Option<i64>) -> Claims {
        Claims {
            sub: "dana".into(),
            role,
            iss: "investai".into(),
            aud: "investai".into(),
            exp: 2_000_000_000,
            nbf: 0,
            iat: 0,
            jti: "token-1".into(),
            ver,
        }
    }

    fn standing(role: Role, party: Option<&str>) -> Standing {
        Standing {
            username: "dana".into(),
            role,
            party_id: party.map(str::to_string),
            credentials_version: 3,
            disabled: false,
            signed_out: HashSet::new(),
        }
    }

    #[test]
    fn an_active_user_is_admitted_as_themself_or_as_their_party() {
        let staff = admit(&claims(Role::Staff, Some(3)), Minter::ThisService, Some(&standing(Role::Staff, None)));
        assert_eq!(staff.map(|p| (p.subject, p.username)), Ok(("dana".into(), "dana".into())));
        let investor = standing(Role::Investor, Some("source-9"));
        let principal = admit(&claims(Role::Investor, Some(3)), Minter::ThisService, Some(&investor));
        assert_eq!(principal.map(|p| p.subject), Ok("source-9".into()));
    }

    #[test]
    fn every_change_to_the_user_refuses_older_tokens() {
        let token = claims(Role::Staff, Some(3));
        let mut user = standing(Role::Staff, None);
        assert_eq!(admit(&token, Minter::ThisService, None), Err(Refusal::NoSuchUser));
        user.credentials_version = 4;
        assert_eq!(admit(&token, Minter::ThisService, Some(&user)), Err(Refusal::CredentialsChanged));
        user.credentials_version = 3;
        user.role = Role::Auditor;
        assert_eq!(admit(&token, Minter::ThisService, Some(&user)), Err(Refusal::RoleChanged));
        user.role = Role::Staff;
        user.signed_out.insert("token-1".into());
        assert_eq!(admit(&token, Minter::ThisService, Some(&user)), Err(Refusal::SignedOut));
        user.disabled = true;
        assert_eq!(admit(&token, Minter::ThisService, Some(&user)), Err(Refusal::Disabled));
        let unversioned = claims(Role::Staff, None);
        let user = standing(Role::Staff, None);
        assert_eq!(admit(&unversioned, Minter::ThisService, Some(&user)), Err(Refusal::CredentialsChanged));
    }

    #[test]
    fn an_identity_providers_token_needs_no_version_but_the_same_role() {
        let user = standing(Role::Auditor, None);
        assert!(admit(&claims(Role::Auditor, None), Minter::IdentityProvider, Some(&user)).is_ok());
        assert_eq!(admit(&claims(Role::Staff, None), Minter::IdentityProvider, Some(&user)), Err(Refusal::RoleChanged));
        let orphan = standing(Role::Sme, None);
        assert_eq!(admit(&claims(Role::Sme, None), Minter::IdentityProvider, Some(&orphan)), Err(Refusal::NoParty));
    }

    #[test]
    fn a_standing_is_kept_for_the_refresh_time_and_forgotten_on_demand() {
        let cache = StandingCache::new(Duration::from_secs(5));
        let start = Instant::now();
        cache.remember(standing(Role::Staff, None), start);
        assert!(cache.fresh("dana", start + Duration::from_millis(4_999)).is_some());
        assert!(cache.fresh("dana", start + Duration::from_secs(5)).is_none());
        cache.forget("dana");
        assert!(cache.fresh("dana", start).is_none());
    }

    /// A standing read before the user was changed on this node, and stored after, is not kept:
    /// the change applies here at once, whatever request was reading at the time.
    #[test]
    fn a_standing_read_before_a_change_is_not_kept_after_it() {
        let cache = StandingCache::new(Duration::from_secs(5));
        let read_before = Instant::now();
        cache.forget("dana");
        cache.remember(standing(Role::Staff, None), read_before);
        assert!(cache.fresh("dana", Instant::now()).is_none(), "read before the change");
        cache.remember(standing(Role::Staff, None), Instant::now());
        assert!(cache.fresh("dana", Instant::now()).is_some(), "read after it");
    }
}
