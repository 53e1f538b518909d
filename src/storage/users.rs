//! Users who log in with a password. Party-bound roles carry the id of their party.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::schema::{facilities, sources, users};
use super::{new_id, now_micros, DbConnection};
use crate::domain::roles::Role;
use crate::error::{AppError, AppResult};

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
) -> AppResult<User> {
    validate_username(username).map_err(|reason| AppError::field("username", reason))?;
    if role.is_party_bound() != party_id.is_some() {
        return Err(AppError::field(
            "party_id",
            "investor, sme and facility users need the id of their party; other roles have none",
        ));
    }
    if let Some(party) = party_id {
        check_party(conn, role, party)?;
    }
    if find_by_username(conn, username)?.is_some() {
        return Err(AppError::conflict("username-taken", format!("user {username} exists")));
    }
    let row = UserRow {
        id: new_id(),
        username: username.to_string(),
        role: role.as_str().to_string(),
        party_id: party_id.map(str::to_string),
        password_hash,
        created_at: now_micros(),
        disabled_at: None,
    };
    diesel::insert_into(users::table).values(&row).execute(conn)?;
    row.to_user()
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

pub fn list_users(conn: &mut DbConnection) -> AppResult<Vec<User>> {
    users::table
        .order(users::username.asc())
        .select(UserRow::as_select())
        .load(conn)?
        .iter()
        .map(UserRow::to_user)
        .collect()
}
