//! The authenticated caller, as every handler sees it.

use crate::domain::roles::Role;
use crate::error::{AppError, AppResult};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// User name, or for party-bound roles the party's id.
    pub subject: String,
    pub role: Role,
    /// The user the token speaks for.
    pub username: String,
    pub token_id: String,
    /// When the token expires (seconds since the epoch): how long a sign-out must be kept.
    pub expires_at: i64,
}

impl Principal {
    /// How the journal names whoever did something: `role:subject`.
    pub fn actor(&self) -> String {
        format!("{}:{}", self.role, self.subject)
    }

    /// Refuses the request unless the caller holds one of `roles`.
    pub fn require(&self, roles: &[Role]) -> AppResult<()> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!("the {} role may not do this", self.role)))
        }
    }

    /// The party whose data a party-bound caller may see; `None` for roles that read all.
    pub fn party_scope(&self) -> Option<&str> {
        self.role.is_party_bound().then_some(self.subject.as_str())
    }

    /// The party filter a list runs with. Party-bound callers are held to their own party;
    /// `None` means the caller asked for another party's data: the answer is an empty list.
    pub fn party_filter(&self, asked: Option<String>) -> Option<Option<String>> {
        match (self.party_scope(), asked) {
            (Some(own), Some(asked)) if own != asked => None,
            (Some(own), _) => Some(Some(own.to_string())),
            (None, asked) => Some(asked),
        }
    }

    /// Whether the caller may read data of `party_id` of kind `role`. Callers answer 404,
    /// not 403, when this is false, so that ids of other parties cannot be probed.
    pub fn may_read_party(&self, party_role: Role, party_id: &str) -> bool {
        self.role.reads_all() || (self.role == party_role && self.subject == party_id)
    }
}
