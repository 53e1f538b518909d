//! Every wrong field of a refused JSON body, not only the first.
//!
//! serde stops at the first field it cannot read. To name the others, the refused field is
//! taken out of the body and the body read again, until it reads, a field is missing, or
//! `FIELD_ERRORS_MAX` fields are named. serde reports a missing field only after it has read
//! every other field of that object, so each pass checks all the fields the earlier ones did
//! not reach in that object; a missing field ends the search (what follows it is not reached).

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::FieldError;

/// Fields named in one refusal at most.
pub const FIELD_ERRORS_MAX: usize = 20;
/// Bodies above this size are not read again: a refusal names their first wrong field only, so
/// a large body cannot make the server parse it `FIELD_ERRORS_MAX` times.
pub const REREAD_BYTES_MAX: usize = 64 * 1024;

/// One step of a field's path: `postings[1].debit` is `postings`, `1`, `debit`.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// The steps of a path as serde_path_to_error writes it (`.` alone is the whole body).
fn steps(path: &str) -> Option<Vec<Step>> {
    let mut steps = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, mut rest) = part.split_at(part.find('[').unwrap_or(part.len()));
        if !key.is_empty() {
            steps.push(Step::Key(key.to_string()));
        }
        while let Some(open) = rest.strip_prefix('[') {
            let close = open.find(']')?;
            steps.push(Step::Index(open[..close].parse().ok()?));
            rest = &open[close + 1..];
        }
    }
    Some(steps)
}

/// Takes the object field at `path` out of `body`; false when the path does not end in an
/// object's field (an array item is kept: taking it out would shift its siblings' indices).
fn take_out(body: &mut Value, path: &str) -> bool {
    let Some(steps) = steps(path) else { return false };
    let Some((Step::Key(last), parents)) = steps.split_last() else { return false };
    let mut node = body;
    for step in parents {
        node = match (step, node) {
            (Step::Key(key), Value::Object(map)) => match map.get_mut(key) {
                Some(child) => child,
                None => return false,
            },
            (Step::Index(index), Value::Array(items)) => match items.get_mut(*index) {
                Some(child) => child,
                None => return false,
            },
            _ => return false,
        };
    }
    match node {
        Value::Object(map) => map.remove(last).is_some(),
        _ => false,
    }
}

/// `parent.field` as a path.
fn child_path(parent: &str, field: &str) -> String {
    if parent == "." || parent.is_empty() {
        field.to_string()
    } else {
        format!("{parent}.{field}")
    }
}

/// The field a "missing field `x`" message names.
fn missing_field(reason: &str) -> Option<&str> {
    reason.strip_prefix("missing field `")?.strip_suffix('`')
}

/// The wrong fields of `raw` as `T`, after the first one (`first`, already found) was refused.
pub fn all_field_errors<T: DeserializeOwned>(raw: &[u8], first: FieldError) -> Vec<FieldError> {
    let mut errors = vec![first];
    if raw.len() > REREAD_BYTES_MAX {
        return errors;
    }
    let Ok(mut body) = serde_json::from_slice::<Value>(raw) else { return errors };
    while errors.len() < FIELD_ERRORS_MAX {
        let Some(last) = errors.last() else { break };
        if !take_out(&mut body, &last.field) {
            break;
        }
        let Err(error) = serde_path_to_error::deserialize::<_, T>(&body) else { break };
        let (path, reason) = (error.path().to_string(), error.into_inner().to_string());
        if let Some(field) = missing_field(&reason) {
            // A field taken out on an earlier pass is missing now: not another error.
            let field = child_path(&path, field);
            if !errors.iter().any(|e| e.field == field) {
                errors.push(FieldError::new(field, reason));
            }
            break;
        }
        let field = if path == "." { "body".to_string() } else { path };
        errors.push(FieldError::new(field, reason));
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Line {
        account: String,
        amount: u32,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Entry {
        name: String,
        term_years: u8,
        lines: Vec<Line>,
        memo: Option<String>,
    }

    fn first<T: DeserializeOwned>(raw: &str) -> FieldError {
        let Err(error) = serde_path_to_error::deserialize::<_, T>(&mut serde_json::Deserializer::from_str(raw)) else {
            panic!("the body should be refused")
        };
        FieldError::new(error.path().to_string(), error.into_inner().to_string())
    }

    fn fields(raw: &str) -> Vec<String> {
        all_field_errors::<Entry>(raw.as_bytes(), first::<Entry>(raw)).into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn paths_are_read_into_keys_and_indices() {
        let expected = vec![Step::Key("lines".into()), Step::Index(1), Step::Key("amount".into())];
        assert_eq!(steps("lines[1].amount"), Some(expected));
        assert_eq!(steps("."), Some(vec![]));
        assert_eq!(steps("a[x]"), None);
    }

    #[test]
    fn every_wrong_field_of_an_object_is_named() {
        let raw = r#"{"name": 7, "term_years": 300, "lines": [], "memo": 1, "extra": true}"#;
        // The first as serde met it, the others in the order of the body's keys, sorted.
        assert_eq!(fields(raw), ["name", "extra", "memo", "term_years"]);
    }

    #[test]
    fn wrong_fields_inside_list_items_are_named_with_their_index() {
        let raw = r#"{"name": "x", "term_years": 1, "lines": [{"account": 1, "amount": "a"}], "memo": null}"#;
        assert_eq!(fields(raw), ["lines[0].account", "lines[0].amount"]);
    }

    #[test]
    fn a_missing_field_is_named_once_and_ends_the_search() {
        let raw = r#"{"term_years": "ten", "lines": []}"#;
        assert_eq!(fields(raw), ["term_years", "name"]);
    }

    #[test]
    fn a_large_body_names_its_first_wrong_field_only() {
        let memo = "m".repeat(REREAD_BYTES_MAX);
        let raw = format!(r#"{{"name": 7, "term_years": 300, "lines": [], "memo": "{memo}"}}"#);
        assert_eq!(fields(&raw), ["name"]);
    }
}
