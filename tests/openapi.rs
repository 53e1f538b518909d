//! The OpenAPI document: a snapshot of the contract, served as generated, with its UI.

use crate::common;

use common::Backend;

#[test]
fn openapi_document_matches_snapshot() {
    let doc = serde_json::to_value(investai::http::openapi::document()).expect("serialize");
    insta::assert_json_snapshot!("openapi", doc);
}

#[test]
fn every_operation_documents_its_errors_as_problems() {
    let doc = serde_json::to_value(investai::http::openapi::document()).expect("serialize");
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 14, "{} paths", paths.len());
    for (path, item) in paths {
        for (method, operation) in item.as_object().expect("item") {
            let responses = operation["responses"].as_object().expect("responses");
            assert!(responses.keys().any(|code| code.starts_with('2')), "{method} {path} has no success response");
            if path.starts_with("/api/v1/") && method == "post" {
                assert!(
                    responses.keys().any(|code| code.starts_with('4')),
                    "{method} {path} documents no error response"
                );
            }
        }
    }
}

#[tokio::test]
async fn served_document_and_ui() {
    let app = common::spawn_app(Backend::Sqlite).await;
    let served = app.send(app.client.get(format!("{}/api/openapi.json", app.address))).await;
    assert_eq!(served.status, 200);
    let expected = serde_json::to_value(investai::http::openapi::document()).expect("serialize");
    assert_eq!(served.body, expected);
    let ui = app.send(app.client.get(format!("{}/api/docs/", app.address))).await;
    assert_eq!(ui.status, 200);
    assert!(ui.text.contains("swagger"), "UI page");
}
