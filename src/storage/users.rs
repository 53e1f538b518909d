//! Users who log in with a password. Party-bound roles carry the id of their party.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use std::collections::HashSet;

use super::schema::{facilities, revoked_tokens, sources, user_events, users};
use super::{new_id, not_in_list, now_micros, DbConnection, PageOf};
use crate::auth::standing::Standing;
use crate::domain::roles::Role;
use crate::error::{AppError, AppResult, Message};

/// Events one page of a user's history holds at most.
pub const USER_EVENTS_PAGE_MAX: i64 = 200;

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub role: String,
    pub party_id: Option<String>,
    pub password_hash: String,
    pub created_at: NaiveDateTime,
    pub disabled_at: Option<NaiveDateTime>,
    /// Moves on when the user is disabled, their password is reset or their role changes:
    /// tokens minted before stop working (docs/security.md).
    pub credentials_version: i64,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct User {
    pub id: String,
    pub username: String,
    pub role: Role,
    pub party_id: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "crate::domain::time::utc")]
    pub created_at: NaiveDateTime,
    pub disabled: bool,
}

impl UserRow {
    pub fn role(&self) -> AppResult<Role> {
        Role::parse(&self.role).ok_or_else(|| AppError::internal(format!("user {} has unknown role", self.id)))
    }

    pub fn to_user(&self) -> AppResult<User> {
        Ok(User {
            id: self.id.clone(),
            username: self.username.clone(),
            role: self.role()?,
            party_id: self.party_id.clone(),
            created_at: self.created_at,
            disabled: self.disabled_at.is_some(),
        })
    }
}

/// Username rules: 3 to 64 characters of letters, digits, `.`, `-`, `_` and `@`.
pub fn validate_username(name: &str) -> Result<(), &'static str> {
    let ok_chars = name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'));
    if !(3..=64).contains(&name.len()) || !ok_chars {
        return Err("3 to 64 characters: letters, digits, '.', '-', '_' or '@'");
    }
    Ok(())
}

pub fn create_user(
    conn: &mut DbConnection,
    username: &str,
    role: Role,
    party_id: Option<&str>,
    password_hash: String,
    actor: &str,
) -> AppResult<User> {
    validate_username(username).map_err(|reason| AppError::field("username", reason))?;
    check_role_and_party(conn, role, party_id)?;
    if find_by_username(conn, username)?.is_some() {
        return Err(AppError::conflict(
            "username-taken",
            Message::new("msg-username-taken").text("username", username),
        ));
    }
    let row = UserRow {
        id: new_id(),
        username: username.to_string(),
        role: role.as_str().to_string(),
        party_id: party_id.map(str::to_string),
        password_hash,
        created_at: now_micros(),
        disabled_at: None,
        credentials_version: 0,
    };
    diesel::insert_into(users::table).values(&row).execute(conn)?;
    record_event(conn, &row.id, UserAction::Created, &format!("role {role}"), actor)?;
    row.to_user()
}

/// A party-bound role names an existing party of its kind; other roles name none.
fn check_role_and_party(conn: &mut DbConnection, role: Role, party_id: Option<&str>) -> AppResult<()> {
    if role.is_party_bound() != party_id.is_some() {
        return Err(AppError::field(
            "party_id",
            "investor, sme and facility users need the id of their party; other roles have none",
        ));
    }
    match party_id {
        Some(party) => check_party(conn, role, party),
        None => Ok(()),
    }
}

/// The party of a party-bound user exists and is of the role's kind: an investor acts for a
/// registered source, a facility operator for a registered facility. An SME's id is its own
/// (no register holds SMEs before their first application), so it only must not be the id of a
/// source or a facility.
fn check_party(conn: &mut DbConnection, role: Role, party_id: &str) -> AppResult<()> {
    let is_source = sources::table.find(party_id).count().get_result::<i64>(conn)? > 0;
    let is_facility = facilities::table.find(party_id).count().get_result::<i64>(conn)? > 0;
    let refusal = match role {
        Role::Investor if !is_source => Some("no source (investor) with this id"),
        Role::Facility if !is_facility => Some("no facility with this id"),
        Role::Sme if is_source || is_facility => Some("this id is a source's or a facility's, not an SME's"),
        _ => None,
    };
    match refusal {
        Some(reason) => Err(AppError::rule_on("unknown-party", "party_id", reason)),
        None => Ok(()),
    }
}

pub fn find_by_username(conn: &mut DbConnection, username: &str) -> AppResult<Option<UserRow>> {
    Ok(users::table.filter(users::username.eq(username)).select(UserRow::as_select()).first(conn).optional()?)
}

/// A page of the users in the order of their names, after the user `after` (an id).
pub fn page_of_users(conn: &mut DbConnection, after: Option<&str>, limit: i64) -> AppResult<PageOf<User>> {
    let mut query =
        users::table.order(users::username.asc()).limit(limit + 1).select(UserRow::as_select()).into_boxed();
    if let Some(after) = after {
        let name: String =
            users::table.find(after).select(users::username).first(conn).optional()?.ok_or_else(not_in_list)?;
        query = query.filter(users::username.gt(name));
    }
    PageOf::from_rows(query.load(conn)?, limit, |u| u.id.clone()).try_map(|row| row.to_user())
}

pub fn find_by_id(conn: &mut DbConnection, id: &str) -> AppResult<UserRow> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found(format!("user {id}")))
}

/// What a node needs to admit a token of `username`: the account and its signed-out tokens
/// that have not expired yet.
pub fn standing(conn: &mut DbConnection, username: &str) -> AppResult<Option<Standing>> {
    let Some(user) = find_by_username(conn, username)? else {
        return Ok(None);
    };
    let signed_out: HashSet<String> = revoked_tokens::table
        .filter(revoked_tokens::username.eq(username))
        .filter(revoked_tokens::expires_at.gt(now_micros()))
        .select(revoked_tokens::token_id)
        .load(conn)?
        .into_iter()
        .collect();
    Ok(Some(Standing {
        role: user.role()?,
        username: user.username,
        party_id: user.party_id,
        credentials_version: user.credentials_version,
        disabled: user.disabled_at.is_some(),
        signed_out,
    }))
}

/// Ends one token: it is refused from now until it expires, when its record goes too.
pub fn sign_out(conn: &mut DbConnection, username: &str, token_id: &str, expires_at: NaiveDateTime) -> AppResult<()> {
    let now = now_micros();
    diesel::delete(revoked_tokens::table.filter(revoked_tokens::expires_at.le(now))).execute(conn)?;
    let known = revoked_tokens::table.find(token_id).count().get_result::<i64>(conn)? > 0;
    if !known {
        diesel::insert_into(revoked_tokens::table)
            .values((
                revoked_tokens::token_id.eq(token_id),
                revoked_tokens::username.eq(username),
                revoked_tokens::expires_at.eq(expires_at),
                revoked_tokens::revoked_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// What an administrator may do to an account.
#[derive(Clone, Debug)]
pub enum AccountChange {
    Disable,
    Enable,
    ResetPassword { password_hash: String },
    ChangeRole { role: Role, party_id: Option<String> },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserAction {
    Created,
    Disabled,
    Enabled,
    PasswordReset,
    RoleChanged,
}

impl UserAction {
    pub fn as_str(self) -> &'static str {
        match self {
            UserAction::Created => "created",
            UserAction::Disabled => "disabled",
            UserAction::Enabled => "enabled",
            UserAction::PasswordReset => "password_reset",
            UserAction::RoleChanged => "role_changed",
        }
    }

    fn parse(text: &str) -> Option<UserAction> {
        [
            UserAction::Created,
            UserAction::Disabled,
            UserAction::Enabled,
            UserAction::PasswordReset,
            UserAction::RoleChanged,
        ]
        .into_iter()
        .find(|action| action.as_str() == text)
    }
}

/// Applies an administrator's change to `user_id` and records it with `actor`. Everything but
/// re-enabling moves the credentials version on (re-enabling does not bring back the tokens
/// disabling ended). An administrator cannot disable or change the role of their own account,
/// so the last administrator cannot lock everyone out.
pub fn change_account(
    conn: &mut DbConnection,
    user_id: &str,
    change: AccountChange,
    actor_username: &str,
    actor: &str,
) -> AppResult<User> {
    let user = find_by_id(conn, user_id)?;
    let own = user.username == actor_username;
    let (action, detail) = match &change {
        AccountChange::Disable | AccountChange::ChangeRole { .. } if own => {
            return Err(AppError::conflict(
                "own-account",
                "administrators cannot disable or change the role of their own account",
            ))
        }
        AccountChange::Disable if user.disabled_at.is_some() => return user.to_user(),
        AccountChange::Enable if user.disabled_at.is_none() => return user.to_user(),
        AccountChange::Disable => (UserAction::Disabled, String::new()),
        AccountChange::Enable => (UserAction::Enabled, String::new()),
        AccountChange::ResetPassword { .. } => (UserAction::PasswordReset, String::new()),
        AccountChange::ChangeRole { role, party_id } => {
            check_role_and_party(conn, *role, party_id.as_deref())?;
            let party = party_id.as_deref().map(|p| format!(" (party {p})")).unwrap_or_default();
            (UserAction::RoleChanged, format!("{} to {role}{party}", user.role))
        }
    };
    let next_version = user.credentials_version + i64::from(action != UserAction::Enabled);
    let target = users::table.find(user_id);
    let versioned = users::credentials_version.eq(next_version);
    match change {
        AccountChange::Disable => {
            diesel::update(target).set((users::disabled_at.eq(Some(now_micros())), versioned)).execute(conn)?
        }
        AccountChange::Enable => {
            diesel::update(target).set(users::disabled_at.eq(None::<NaiveDateTime>)).execute(conn)?
        }
        AccountChange::ResetPassword { password_hash } => {
            diesel::update(target).set((users::password_hash.eq(password_hash), versioned)).execute(conn)?
        }
        AccountChange::ChangeRole { role, party_id } => diesel::update(target)
            .set((users::role.eq(role.as_str()), users::party_id.eq(party_id), versioned))
            .execute(conn)?,
    };
    record_event(conn, user_id, action, &detail, actor)?;
    find_by_id(conn, user_id)?.to_user()
}

fn record_event(
    conn: &mut DbConnection,
    user_id: &str,
    action: UserAction,
    detail: &str,
    actor: &str,
) -> AppResult<()> {
    diesel::insert_into(user_events::table)
        .values((
            user_events::id.eq(new_id()),
            user_events::user_id.eq(user_id),
            user_events::action.eq(action.as_str()),
            user_events::detail.eq(detail),
            user_events::actor.eq(actor),
            user_events::recorded_at.eq(now_micros()),
        ))
        .execute(conn)?;
    Ok(())
}

/// One thing done to an account.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct UserEvent {
    #[schema(format = Uuid)]
    pub id: String,
    pub action: UserAction,
    /// For a role change, the roles before and after.
    pub detail: String,
    /// Who did it: `role:subject`.
    pub actor: String,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "crate::domain::time::utc")]
    pub recorded_at: NaiveDateTime,
}

/// A user's history, oldest first, `limit` events after the event `after`.
pub fn list_events(
    conn: &mut DbConnection,
    user_id: &str,
    after: Option<&str>,
    limit: i64,
) -> AppResult<Vec<UserEvent>> {
    find_by_id(conn, user_id)?;
    let mut query = user_events::table
        .filter(user_events::user_id.eq(user_id))
        .select((
            user_events::id,
            user_events::action,
            user_events::detail,
            user_events::actor,
            user_events::recorded_at,
        ))
        .order(user_events::id.asc())
        // One row beyond the largest page tells a list that more follow.
        .limit(limit.clamp(1, USER_EVENTS_PAGE_MAX + 1))
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(user_events::id.gt(after.to_string()));
    }
    query
        .load::<(String, String, String, String, NaiveDateTime)>(conn)?
        .into_iter()
        .map(|(id, action, detail, actor, recorded_at)| {
            let action = UserAction::parse(&action)
                .ok_or_else(|| AppError::internal(format!("user event {id} has unknown action {action}")))?;
            Ok(UserEvent { id, action, detail, actor, recorded_at })
        })
        .collect()
}

/// The language a user chose for pages and documents (`en`, `fr`, `de`), if any.
pub fn language_of(conn: &mut DbConnection, username: &str) -> AppResult<Option<String>> {
    Ok(users::table
        .filter(users::username.eq(username))
        .select(users::language)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten())
}

/// Keeps a user's language for their next sign-in, on any device.
pub fn set_language(conn: &mut DbConnection, username: &str, language: &str) -> AppResult<()> {
    diesel::update(users::table.filter(users::username.eq(username)))
        .set(users::language.eq(language))
        .execute(conn)?;
    Ok(())
}
