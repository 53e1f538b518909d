//! The pure core: money, ledger rules and the fund's vocabulary. No IO anywhere below here.

pub mod attribution;
pub mod beancount;
pub mod burn_down;
pub mod capital;
pub mod chart;
pub mod eligibility;
pub mod explain;
pub mod export;
pub mod floors;
pub mod grants;
pub mod hours;
pub mod ledger;
pub mod merkle;
pub mod metrics;
pub mod money;
pub mod parties;
pub mod payment;
pub mod plain_decimal;
pub mod proposals;
pub mod roles;
pub mod state_aid;
pub mod text;
pub mod time;
pub mod usage;
pub mod usage_feeds;
pub mod waterfall;
