//! The problem responses every operation can give, added to the document by rule so that it
//! lists every status the service answers: what the handlers' extractors and the storage layer
//! return is the same for all operations, so it is stated once here, not on each handler.
//! A response a handler documents itself is kept as it is.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::Modify;

pub struct ProblemResponses;

const PROBLEM_MEDIA_TYPE: &str = "application/problem+json";

/// Whether an operation (at a path) can answer a status.
type Applies = fn(&Operation, &str) -> bool;

/// Statuses, each with the rule deciding which operations can answer it.
const RULES: &[(u16, &str, Applies)] = &[
    (400, "Malformed input: an invalid id, query parameter, header or body field (see `errors`)", takes_input),
    (401, "Missing, malformed, tampered or expired token", is_secured),
    (403, "The token's role may not do this", is_secured),
    (404, "No such resource, or one the caller may not see", has_path_parameters),
    (409, "A concurrent write or an idempotency key still in use; retry", is_write),
    (413, "The body is larger than the service accepts", has_body),
    (415, "The body is not `application/json`", has_body),
    (422, "A business rule refused the request (see `type` and `errors`)", is_write),
    (503, "The database is unavailable or busy; retry", uses_database),
];

fn takes_input(op: &Operation, _: &str) -> bool {
    has_body(op, "") || op.parameters.as_ref().is_some_and(|p| !p.is_empty())
}

fn is_secured(op: &Operation, _: &str) -> bool {
    op.security.as_ref().is_some_and(|s| !s.is_empty())
}

fn has_path_parameters(op: &Operation, _: &str) -> bool {
    op.parameters.as_ref().is_some_and(|ps| ps.iter().any(|p| p.parameter_in == ParameterIn::Path))
}

fn has_body(op: &Operation, _: &str) -> bool {
    op.request_body.is_some()
}

fn is_write(op: &Operation, path: &str) -> bool {
    has_body(op, path) && path != "/auth/token"
}

fn uses_database(_: &Operation, path: &str) -> bool {
    path != "/healthz"
}

impl Modify for ProblemResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
            for op in operations.into_iter().flatten() {
                add_problem_responses(op, path);
            }
        }
    }
}

fn add_problem_responses(op: &mut Operation, path: &str) {
    for (status, description, applies) in RULES {
        if !applies(op, path) {
            continue;
        }
        let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build();
        let response = ResponseBuilder::new().description(*description).content(PROBLEM_MEDIA_TYPE, content).build();
        op.responses.responses.entry(status.to_string()).or_insert(RefOr::T(response));
    }
}

/// Path parameters named `*_id` are UUIDs: the handlers refuse anything else with a 400.
pub struct UuidPathIds;

impl Modify for UuidPathIds {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        for item in openapi.paths.paths.values_mut() {
            let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
            for op in operations.into_iter().flatten() {
                let ids = op.parameters.iter_mut().flatten();
                for parameter in ids.filter(|p| p.parameter_in == ParameterIn::Path && p.name.ends_with("_id")) {
                    let uuid = ObjectBuilder::new()
                        .schema_type(Type::String)
                        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)));
                    parameter.schema = Some(RefOr::T(uuid.into()));
                }
            }
        }
    }
}
