//! Hardening against hostile traffic and insiders, on both backends: what an attacker's probe
//! found, each replayed as it was reported.

mod common;

use common::TestApp;
use futures_util::stream::{self, StreamExt};

/// Unknown paths an anonymous client sends.
const UNKNOWN_PATHS: usize = 20_000;
/// Largest `/metrics` page after them.
const METRICS_BYTES_MAX: usize = 100 * 1024;

async fn metrics_stay_bounded_whatever_paths_are_requested(app: TestApp) {
    let client = reqwest::Client::new();
    let address = app.address.clone();
    let shapes = ["/{n}", "/api/v1/{n}", "/api/v1/funds/{n}/{n}/x", "/static/{n}.css", "/applications/{n}/x/{n}"];
    let statuses: Vec<u16> = stream::iter(0..UNKNOWN_PATHS)
        .map(|n| {
            let path =
                shapes[n % shapes.len()].replace("{n}", &format!("probe-{n:05}-{}", uuid::Uuid::new_v4().simple()));
            let (client, address) = (client.clone(), address.clone());
            async move { client.get(format!("{address}{path}")).send().await.map_or(0, |r| r.status().as_u16()) }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    let odd: Vec<&u16> = statuses.iter().filter(|s| **s != 404 && **s != 401).collect();
    assert!(odd.is_empty(), "unexpected statuses: {:?}", &odd[..odd.len().min(10)]);
    let metrics = app.send(app.client.get(format!("{}/metrics", app.address))).await;
    assert!(
        metrics.text.len() < METRICS_BYTES_MAX,
        "/metrics is {} bytes after {UNKNOWN_PATHS} unknown paths",
        metrics.text.len()
    );
    assert!(!metrics.text.contains("probe-"), "a raw path became a label");
    assert!(metrics.text.contains("endpoint=\"UNKNOWN\""), "unmatched requests share one label");
    // Known routes keep their pattern, not the ids in them.
    let fund = app.create_fund("Metrics").await;
    app.get(&format!("/api/v1/funds/{fund}"), &app.staff()).await;
    let metrics = app.send(app.client.get(format!("{}/metrics", app.address))).await;
    assert!(metrics.text.contains("endpoint=\"/api/v1/funds/{fund_id}\""), "route patterns as labels");
    assert!(!metrics.text.contains(&fund), "no id in a label");
}

on_both_backends!(metrics_stay_bounded_whatever_paths_are_requested);
