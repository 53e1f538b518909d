//! The four-eyes principle (docs/four-eyes.md): an operation one staff user proposes takes effect
//! only when a different staff user approves it, exactly as previewed. These are the rules of a
//! proposal's life; storage and handlers carry them out.

use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How long a proposal waits for a decision before it expires, unless the settings say otherwise.
pub const PROPOSAL_LIFETIME_HOURS_DEFAULT: i64 = 72;
/// The longest lifetime the settings accept: 30 days.
pub const PROPOSAL_LIFETIME_HOURS_MAX: i64 = 720;

/// What a proposal executes once approved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProposalKind {
    /// A distribution of a fund's cash through its waterfall (`subject`: the fund).
    Distribution,
    /// An award of GPU-hours to an application (`subject`: the application).
    GrantAward,
    /// The rejection of an application with a reason (`subject`: the application).
    GrantRejection,
    /// A capital call (`subject`: the fund).
    CapitalCall,
    /// A manual journal entry (`subject`: the fund).
    ManualEntry,
    /// A new version of a fund's waterfall terms (`subject`: the fund).
    WaterfallTerms,
    /// A write-down of an investment (`subject`: the fund).
    WriteDown,
    /// The reversal of a journal entry (`subject`: the entry).
    Reversal,
    /// A facility's list price from a date on (`subject`: the facility).
    FacilityPrice,
    /// A user's new role (`subject`: the user); proposed and approved by admins.
    UserRole,
    /// The bank account a fund's notices print (`subject`: the fund); proposed and approved by
    /// admins, since a changed account redirects investors' money.
    BankAccount,
}

impl ProposalKind {
    pub const ALL: [ProposalKind; 11] = [
        ProposalKind::Distribution,
        ProposalKind::CapitalCall,
        ProposalKind::ManualEntry,
        ProposalKind::GrantAward,
        ProposalKind::GrantRejection,
        ProposalKind::WaterfallTerms,
        ProposalKind::WriteDown,
        ProposalKind::Reversal,
        ProposalKind::FacilityPrice,
        ProposalKind::UserRole,
        ProposalKind::BankAccount,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProposalKind::Distribution => "distribution",
            ProposalKind::GrantAward => "grant_award",
            ProposalKind::GrantRejection => "grant_rejection",
            ProposalKind::CapitalCall => "capital_call",
            ProposalKind::ManualEntry => "manual_entry",
            ProposalKind::WaterfallTerms => "waterfall_terms",
            ProposalKind::WriteDown => "write_down",
            ProposalKind::Reversal => "reversal",
            ProposalKind::FacilityPrice => "facility_price",
            ProposalKind::UserRole => "user_role",
            ProposalKind::BankAccount => "bank_account",
        }
    }

    /// Who proposes and decides it: admins manage users and the funds' bank accounts, staff
    /// everything else.
    pub fn decided_by(self) -> super::roles::Role {
        match self {
            ProposalKind::UserRole | ProposalKind::BankAccount => super::roles::Role::Admin,
            _ => super::roles::Role::Staff,
        }
    }

    pub fn parse(text: &str) -> Option<ProposalKind> {
        ProposalKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProposalStatus {
    Pending,
    Executed,
    Rejected,
    Withdrawn,
    Expired,
}

impl ProposalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ProposalStatus::Pending => "pending",
            ProposalStatus::Executed => "executed",
            ProposalStatus::Rejected => "rejected",
            ProposalStatus::Withdrawn => "withdrawn",
            ProposalStatus::Expired => "expired",
        }
    }

    pub fn parse(text: &str) -> Option<ProposalStatus> {
        [
            ProposalStatus::Pending,
            ProposalStatus::Executed,
            ProposalStatus::Rejected,
            ProposalStatus::Withdrawn,
            ProposalStatus::Expired,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// A decision on a proposal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// By another staff user: execute it as previewed.
    Approve,
    /// By another staff user, with a reason.
    Reject,
    /// By the proposer.
    Withdraw,
}

/// Why a decision is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the proposal is {0}; only a pending proposal can be decided")]
    NotPending(&'static str),
    #[error("the proposal expired at {0} UTC; propose it again")]
    Expired(NaiveDateTime),
    #[error("the four-eyes principle: the user who proposed an operation cannot approve or reject it")]
    OwnProposal,
    #[error("only the user who proposed an operation can withdraw it")]
    NotTheProposer,
    #[error("revision {asked} was decided on, but the proposal is at revision {current}: read it again")]
    StaleRevision { asked: i32, current: i32 },
}

impl Refusal {
    /// The problem type of the refusal.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::NotPending(_) => "proposal-decided",
            Refusal::Expired(_) => "proposal-expired",
            Refusal::OwnProposal => "own-proposal",
            Refusal::NotTheProposer => "not-the-proposer",
            Refusal::StaleRevision { .. } => "proposal-revised",
        }
    }
}

/// The status a stored proposal has at `now`: a pending one past its expiry has expired.
pub fn status_at(stored: ProposalStatus, expires_at: NaiveDateTime, now: NaiveDateTime) -> ProposalStatus {
    if stored == ProposalStatus::Pending && now >= expires_at {
        ProposalStatus::Expired
    } else {
        stored
    }
}

/// When a proposal made at `now` expires.
pub fn expiry(now: NaiveDateTime, lifetime_hours: i64) -> NaiveDateTime {
    now + Duration::hours(lifetime_hours.clamp(1, PROPOSAL_LIFETIME_HOURS_MAX))
}

/// The facts of a proposal a decision is checked against.
pub struct Pending<'a> {
    pub status: ProposalStatus,
    pub proposed_by: &'a str,
    pub expires_at: NaiveDateTime,
    pub revision: i32,
}

/// Checks that `decider` may take `decision` on the proposal at `now`, deciding on `revision`
/// (approvals name the revision the approver saw; other decisions need not).
pub fn check_decision(
    proposal: &Pending<'_>,
    decision: Decision,
    decider: &str,
    revision: Option<i32>,
    now: NaiveDateTime,
) -> Result<(), Refusal> {
    match status_at(proposal.status, proposal.expires_at, now) {
        ProposalStatus::Pending => {}
        ProposalStatus::Expired => return Err(Refusal::Expired(proposal.expires_at)),
        other => return Err(Refusal::NotPending(other.as_str())),
    }
    let own = proposal.proposed_by == decider;
    match decision {
        Decision::Withdraw if !own => return Err(Refusal::NotTheProposer),
        Decision::Approve | Decision::Reject if own => return Err(Refusal::OwnProposal),
        _ => {}
    }
    match revision {
        Some(asked) if asked != proposal.revision => Err(Refusal::StaleRevision { asked, current: proposal.revision }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hour: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 26).and_then(|d| d.and_hms_opt(hour, 0, 0)).unwrap()
    }

    fn pending(by: &str) -> Pending<'_> {
        Pending { status: ProposalStatus::Pending, proposed_by: by, expires_at: at(12), revision: 1 }
    }

    #[test]
    fn the_proposer_never_decides_but_may_withdraw() {
        let p = pending("staff:ann");
        assert_eq!(check_decision(&p, Decision::Approve, "staff:ann", Some(1), at(9)), Err(Refusal::OwnProposal));
        assert_eq!(check_decision(&p, Decision::Reject, "staff:ann", None, at(9)), Err(Refusal::OwnProposal));
        assert_eq!(check_decision(&p, Decision::Withdraw, "staff:ann", None, at(9)), Ok(()));
        assert_eq!(check_decision(&p, Decision::Approve, "staff:bob", Some(1), at(9)), Ok(()));
        assert_eq!(check_decision(&p, Decision::Withdraw, "staff:bob", None, at(9)), Err(Refusal::NotTheProposer));
    }

    #[test]
    fn decided_expired_and_revised_proposals_are_refused() {
        let mut p = pending("staff:ann");
        assert_eq!(check_decision(&p, Decision::Approve, "staff:bob", Some(1), at(12)), Err(Refusal::Expired(at(12))));
        assert_eq!(
            check_decision(&p, Decision::Approve, "staff:bob", Some(2), at(9)),
            Err(Refusal::StaleRevision { asked: 2, current: 1 })
        );
        p.status = ProposalStatus::Executed;
        assert_eq!(
            check_decision(&p, Decision::Approve, "staff:bob", Some(1), at(9)),
            Err(Refusal::NotPending("executed"))
        );
        assert_eq!(status_at(ProposalStatus::Executed, at(1), at(9)), ProposalStatus::Executed);
    }

    #[test]
    fn lifetimes_are_bounded() {
        assert_eq!(expiry(at(0), 0), at(1));
        assert_eq!(expiry(at(0), 5), at(5));
        assert_eq!(expiry(at(0), 10_000), at(0) + Duration::hours(PROPOSAL_LIFETIME_HOURS_MAX));
    }
}
