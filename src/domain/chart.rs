//! The standard chart of accounts every fund starts with. Codes are stable: reports,
//! exports and posting rules refer to them by these constants.

use super::ledger::AccountKind;

pub const CASH: &str = "1000";
pub const CAPITAL_CALL_RECEIVABLE: &str = "1100";
pub const INVESTMENTS_EQUITY: &str = "1200";
pub const PROCEEDS_RECEIVABLE: &str = "1300";
pub const DISTRIBUTIONS_PAYABLE: &str = "2000";
pub const FEES_PAYABLE: &str = "2100";
pub const GRANT_COMMITMENTS_PAYABLE: &str = "2200";
pub const CONTRIBUTED_CAPITAL: &str = "3100";
pub const DISTRIBUTIONS_TO_INVESTORS: &str = "3200";
pub const COMPUTE_GRANT_POOL: &str = "1010";
pub const COMPUTE_GRANT_COMMITTED: &str = "1020";
pub const COMPUTE_GRANT_AWARDED: &str = "1030";
pub const COMPUTE_GRANT_DUE: &str = "1040";
pub const ALLOCATED_GAINS_LOSSES: &str = "3400";
pub const OPENING_BALANCE_EQUITY: &str = "3900";
pub const INVESTMENT_INCOME: &str = "4000";
pub const REALISED_GAINS: &str = "4100";
pub const UNREALISED_GAINS: &str = "4200";
pub const MANAGEMENT_FEES: &str = "5000";
pub const FUND_EXPENSES: &str = "5010";
pub const GRANTS_TO_FACILITIES: &str = "5100";
pub const COMPUTE_SUBSIDIES: &str = "5200";
pub const WRITE_DOWNS: &str = "5300";
pub const UNFUNDED_COMMITMENTS: &str = "9000";
pub const UNFUNDED_COMMITMENTS_CONTRA: &str = "9100";

/// Memorandum accounts: they record what investors have promised and not paid (each entry on
/// them balances within them), not the fund's own assets and claims, so the trial balance
/// totals them apart.
pub const MEMORANDUM_ACCOUNTS: [&str; 2] = [UNFUNDED_COMMITMENTS, UNFUNDED_COMMITMENTS_CONTRA];

pub fn is_memorandum(code: &str) -> bool {
    MEMORANDUM_ACCOUNTS.contains(&code)
}

/// Why a waterfall step may not pay to `code`, if it may not: the cash a distribution pays out
/// of, the accounts that calls, commitments and grants keep beside records outside the journal,
/// and the investors' capital accounts, which tranche targets reach with the investor named.
/// A sub-account (`9000.01`) is kept as its parent is.
pub fn waterfall_target_refusal(code: &str) -> Option<&'static str> {
    let parent = code.split('.').next().unwrap_or_default();
    match parent {
        CASH => Some("the cash a distribution pays out of"),
        CAPITAL_CALL_RECEIVABLE => Some("kept by capital calls and contributions, notice by notice"),
        INVESTMENTS_EQUITY | PROCEEDS_RECEIVABLE => Some("kept facility by facility by deployments and proceeds"),
        COMPUTE_GRANT_COMMITTED | COMPUTE_GRANT_AWARDED | COMPUTE_GRANT_DUE | GRANT_COMMITMENTS_PAYABLE => {
            Some("kept by grant calls, awards, usage and lapses")
        }
        UNFUNDED_COMMITMENTS | UNFUNDED_COMMITMENTS_CONTRA => Some("a memorandum account kept by commitments"),
        CONTRIBUTED_CAPITAL | DISTRIBUTIONS_TO_INVESTORS | ALLOCATED_GAINS_LOSSES => {
            Some("an investors' capital account: name the tranche instead")
        }
        _ => None,
    }
}

/// (code, name, kind) of every account a new fund gets.
pub const STANDARD_CHART: &[(&str, &str, AccountKind)] = &[
    (CASH, "Cash at bank", AccountKind::Asset),
    (COMPUTE_GRANT_POOL, "Compute-grant pool (restricted cash)", AccountKind::Asset),
    (COMPUTE_GRANT_COMMITTED, "Compute-grant pool committed to grant calls (restricted cash)", AccountKind::Asset),
    (COMPUTE_GRANT_AWARDED, "Compute-grant pool committed to awards (restricted cash)", AccountKind::Asset),
    (COMPUTE_GRANT_DUE, "Compute-grant cash held for facility payables (restricted cash)", AccountKind::Asset),
    (CAPITAL_CALL_RECEIVABLE, "Capital calls receivable", AccountKind::Asset),
    (INVESTMENTS_EQUITY, "Equity investments in facilities", AccountKind::Asset),
    (PROCEEDS_RECEIVABLE, "Proceeds receivable", AccountKind::Asset),
    (DISTRIBUTIONS_PAYABLE, "Distributions payable", AccountKind::Liability),
    (FEES_PAYABLE, "Fees and expenses payable", AccountKind::Liability),
    (GRANT_COMMITMENTS_PAYABLE, "Compute-grant commitments payable to facilities", AccountKind::Liability),
    (CONTRIBUTED_CAPITAL, "Contributed capital", AccountKind::Equity),
    (DISTRIBUTIONS_TO_INVESTORS, "Distributions to investors", AccountKind::Equity),
    (ALLOCATED_GAINS_LOSSES, "Allocated gains and losses", AccountKind::Equity),
    (OPENING_BALANCE_EQUITY, "Opening balance equity", AccountKind::Equity),
    (INVESTMENT_INCOME, "Investment income", AccountKind::Income),
    (REALISED_GAINS, "Realised gains and losses", AccountKind::Income),
    (UNREALISED_GAINS, "Unrealised gains and losses", AccountKind::Income),
    (MANAGEMENT_FEES, "Management fees", AccountKind::Expense),
    (FUND_EXPENSES, "Fund expenses", AccountKind::Expense),
    (GRANTS_TO_FACILITIES, "Grants to facilities", AccountKind::Expense),
    (COMPUTE_SUBSIDIES, "Compute-hour subsidies to SMEs", AccountKind::Expense),
    (WRITE_DOWNS, "Write-downs of investments", AccountKind::Expense),
    (UNFUNDED_COMMITMENTS, "Unfunded commitments receivable (memorandum)", AccountKind::Asset),
    (UNFUNDED_COMMITMENTS_CONTRA, "Unfunded commitments (memorandum contra)", AccountKind::Liability),
];

/// The per-tranche sub-account of a capital account: `3100.01` for the tranche of seniority 1.
pub fn tranche_account(parent: &str, seniority: i32) -> String {
    format!("{parent}.{seniority:02}")
}

/// Capital accounts each tranche gets, as (parent code, name prefix, kind).
pub const TRANCHE_ACCOUNTS: &[(&str, &str, AccountKind)] = &[
    (CONTRIBUTED_CAPITAL, "Contributed capital", AccountKind::Equity),
    (DISTRIBUTIONS_TO_INVESTORS, "Distributions", AccountKind::Equity),
    (ALLOCATED_GAINS_LOSSES, "Allocated gains and losses", AccountKind::Equity),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ledger::validate_account_code;

    #[test]
    fn a_waterfall_pays_to_no_account_kept_by_events_or_by_investor() {
        let payable: Vec<&str> = STANDARD_CHART
            .iter()
            .map(|(code, _, _)| *code)
            .filter(|code| waterfall_target_refusal(code).is_none())
            .collect();
        let expected = ["1010", "2000", "2100", "3900", "4000", "4100", "4200"];
        let expected = expected.iter().chain(&["5000", "5010", "5100", "5200", "5300"]).copied().collect::<Vec<_>>();
        assert_eq!(payable, expected);
        for code in ["9000.01", "3100.02", "3200.01", "3400.03", "1100.7", "1000"] {
            assert!(waterfall_target_refusal(code).is_some(), "{code}");
        }
        assert!(waterfall_target_refusal("5020").is_none(), "an account a fund adds");
    }

    #[test]
    fn standard_chart_codes_are_valid_and_unique() {
        let mut codes: Vec<&str> = STANDARD_CHART.iter().map(|(code, _, _)| *code).collect();
        for code in &codes {
            assert!(validate_account_code(code).is_ok(), "{code}");
        }
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), STANDARD_CHART.len());
    }
}
