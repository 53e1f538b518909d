//! The integration tests, in one test binary: each module is one subject (see docs/testing.md),
//! and one binary links the service once instead of once per subject, and runs the subjects'
//! tests side by side. `logging` and `languages` are binaries of their own: each reads what
//! its whole process recorded (every log event; every label missing from the catalogue).

#[macro_use]
mod common;

mod books;
mod browser;
mod cli;
mod crash;
mod documents;
mod explain;
mod exports;
mod four_eyes;
mod fund_structure;
mod grants;
mod hardening;
mod ledger;
mod openapi;
mod opening;
mod pages;
mod portal_pages;
mod public_figures;
mod query_plans;
mod replica;
mod requests;
mod revocation;
mod round_trips;
mod schema;
mod security;
mod sign_in;
mod simulation;
mod state_aid;
mod transparency;
mod two_nodes;
mod usage_feeds;
mod waterfall;
mod waterfall_editor;
mod workbench_pages;
