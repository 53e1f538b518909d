//! Who may do what. The subject of a party-bound role is the id of that party.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Staff,
    Investor,
    Auditor,
    Sme,
    Facility,
    Admin,
}

impl Role {
    pub const ALL: [Role; 6] = [Role::Staff, Role::Investor, Role::Auditor, Role::Sme, Role::Facility, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Staff => "staff",
            Role::Investor => "investor",
            Role::Auditor => "auditor",
            Role::Sme => "sme",
            Role::Facility => "facility",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// Investors, SMEs and facility operators act for one party and see only its data.
    pub fn is_party_bound(self) -> bool {
        matches!(self, Role::Investor | Role::Sme | Role::Facility)
    }

    /// Roles that may read every fund's books.
    pub fn reads_all(self) -> bool {
        matches!(self, Role::Staff | Role::Auditor | Role::Admin)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Role::parse(text).ok_or_else(|| {
            format!("unknown role {text:?}: expected one of staff, investor, auditor, sme, facility, admin")
        })
    }
}
