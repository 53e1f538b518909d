//! HTML forms that drive the JSON API's own handlers. A form is described once (its
//! fields and their kinds); a posted form is checked for its CSRF token, turned into the
//! JSON body the API handler takes, and handed to that handler, so a browser and a program
//! meet the same validation, rules and idempotency. A refusal comes back as the API's field
//! errors and is shown next to the fields it names.

use actix_web::body::MessageBody;
use actix_web::HttpResponse;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::auth::csrf;
use crate::error::{AppError, AppResult, FieldError};
use crate::http::extract::{parse_json, IdempotencyKey, ValidJson};

/// Largest posted form accepted, in fields.
pub const FORM_FIELDS_MAX: usize = 400;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    /// Long free text.
    TextArea,
    /// EUR with up to two decimals, read as the page's language writes numbers
    /// (`i18n::format::number_typed`) and sent as a plain decimal string.
    Money,
    /// A decimal (GPU-hours, scores, rates), read and sent as `Money` is.
    Decimal,
    /// A whole number sent as a JSON number.
    Integer,
    Date,
    /// `datetime-local`, sent as RFC 3339 in UTC.
    DateTime,
    Select,
    /// Yes or no, chosen from a select, sent as a JSON boolean; left out while unanswered (a
    /// declaration is never answered for the user).
    YesNo,
    /// A list of ids from a multiple select, sent as a JSON array.
    MultiSelect,
    Checkbox,
    Hidden,
    /// A hidden whole number, sent as a JSON number (a revision being approved).
    HiddenInteger,
    /// A file upload (multipart forms only).
    File,
}

pub struct Field {
    /// The JSON path of the field in the API body, with `.` between levels (`company.country`).
    pub name: String,
    pub label: String,
    pub kind: FieldKind,
    pub value: String,
    /// Selected values of a multiple select.
    pub selected: Vec<String>,
    pub options: Vec<(String, String)>,
    pub hint: Option<String>,
    pub error: Option<String>,
    pub required: bool,
}

impl Field {
    pub fn new(name: &str, label: &str, kind: FieldKind) -> Field {
        let options = if kind == FieldKind::YesNo {
            vec![("true".to_string(), "Yes".to_string()), ("false".to_string(), "No".to_string())]
        } else {
            Vec::new()
        };
        Field {
            name: name.to_string(),
            label: label.to_string(),
            kind,
            value: String::new(),
            selected: Vec::new(),
            options,
            hint: None,
            error: None,
            required: true,
        }
    }

    pub fn optional(mut self) -> Field {
        self.required = false;
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Field {
        self.hint = Some(hint.into());
        self
    }

    pub fn value(mut self, value: impl Into<String>) -> Field {
        self.value = value.into();
        self
    }

    pub fn options(mut self, options: Vec<(String, String)>) -> Field {
        self.options = options;
        self
    }

    /// The id of the input, usable in `for`, `aria-describedby` and tests.
    pub fn id(&self) -> String {
        format!("f-{}", self.name.replace('.', "-"))
    }

    pub fn is(&self, kind: &str) -> bool {
        let own = match self.kind {
            FieldKind::Text => "text",
            FieldKind::TextArea => "textarea",
            FieldKind::Money | FieldKind::Decimal => "decimal",
            FieldKind::Integer => "integer",
            FieldKind::Date => "date",
            FieldKind::DateTime => "datetime",
            FieldKind::Select | FieldKind::YesNo => "select",
            FieldKind::MultiSelect => "multiselect",
            FieldKind::Checkbox => "checkbox",
            FieldKind::Hidden | FieldKind::HiddenInteger => "hidden",
            FieldKind::File => "file",
        };
        own == kind
    }

    pub fn is_selected(&self, option: &str) -> bool {
        if self.kind == FieldKind::MultiSelect {
            self.selected.iter().any(|s| s == option)
        } else {
            self.value == option
        }
    }

    pub fn checked(&self) -> bool {
        matches!(self.value.as_str(), "true" | "on")
    }
}

pub struct FormSpec {
    pub action: String,
    pub submit_label: String,
    pub fields: Vec<Field>,
    pub csrf_token: String,
    /// One key per rendered form: a double submit replays the first result.
    pub idempotency_key: String,
    /// A refusal that names no field of the form.
    pub error: Option<String>,
    /// `multipart/form-data` (file upload).
    pub multipart: bool,
    /// Extra buttons that post the same form with `intent` set to their value.
    pub alternatives: Vec<(String, String)>,
    /// `get` for filters (no token, nothing changes), `post` for everything that writes.
    pub method: &'static str,
    /// Why the form cannot be sent now: its button is disabled and this is said beside it.
    pub blocked: Option<String>,
}

impl FormSpec {
    pub fn new(action: impl Into<String>, submit_label: &str, csrf_token: &str, fields: Vec<Field>) -> FormSpec {
        FormSpec {
            action: action.into(),
            submit_label: submit_label.to_string(),
            fields,
            csrf_token: csrf_token.to_string(),
            idempotency_key: uuid::Uuid::new_v4().to_string(),
            error: None,
            multipart: false,
            alternatives: Vec::new(),
            method: "post",
            blocked: None,
        }
    }

    /// An id for the form's own elements, from its action (`/applications/1/submit` gives
    /// `form-applications-1-submit`).
    pub fn id(&self) -> String {
        let path: String =
            self.action.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
        format!("form{}", path.trim_end_matches('-'))
    }

    /// Disables the form's buttons, saying why next to them.
    pub fn blocked(mut self, reason: impl Into<String>) -> FormSpec {
        self.blocked = Some(reason.into());
        self
    }

    /// A filter form: sent with GET, so its result can be bookmarked; it changes nothing.
    pub fn filter(action: impl Into<String>, submit_label: &str, fields: Vec<Field>) -> FormSpec {
        FormSpec { method: "get", ..FormSpec::new(action, submit_label, "", fields) }
    }

    /// Fills the fields with what was posted, so a refused form keeps the user's input.
    pub fn refill(mut self, posted: &FormData) -> FormSpec {
        for field in &mut self.fields {
            if field.kind == FieldKind::MultiSelect {
                field.selected = posted.all(&field.name).map(str::to_string).collect();
            } else if field.kind == FieldKind::Checkbox {
                field.value = posted.get(&field.name).unwrap_or("false").to_string();
            } else if let Some(value) = posted.get(&field.name) {
                field.value = value.to_string();
            }
        }
        if let Some(key) = posted.get("idempotency_key") {
            self.idempotency_key = key.to_string();
        }
        self
    }

    /// Places each reason next to the field it names; the rest go above the form.
    pub fn with_error(mut self, error: &AppError) -> FormSpec {
        let lang = crate::i18n::Lang::current();
        let mut unplaced = Vec::new();
        for FieldError { field, reason } in error.field_errors() {
            let name = field_name(field);
            let target = self.fields.iter_mut().find(|f| f.kind != FieldKind::Hidden && name_matches(&f.name, &name));
            match target {
                Some(f) if f.error.is_none() => f.error = Some(reason.in_lang(lang)),
                Some(_) => {}
                None => unplaced.push(format!("{field}: {}", reason.in_lang(lang))),
            }
        }
        let placed_all = unplaced.is_empty() && !error.field_errors().is_empty();
        self.error = match (placed_all, unplaced.is_empty()) {
            (true, _) => Some("Please correct the fields marked below.".into()),
            (false, true) => Some(error_text(error)),
            (false, false) => Some(format!("{} ({})", error_text(error), unplaced.join("; "))),
        };
        self
    }
}

/// What an error says to a person, in the page's language: the API's detail, without internals.
pub fn error_text(error: &AppError) -> String {
    match error {
        AppError::Internal(_) => "Something went wrong on our side; nothing was changed. Try again later.".into(),
        other => other.in_lang(crate::i18n::Lang::current()),
    }
}

/// `postings[1].debit` → `postings.1.debit`; `query.as_of` → `as_of`.
fn field_name(path: &str) -> String {
    let path = path.strip_prefix("query.").unwrap_or(path);
    path.replace('[', ".").replace(']', "")
}

fn name_matches(field: &str, error_path: &str) -> bool {
    field == error_path || error_path.starts_with(&format!("{field}."))
}

/// A posted form, in order, as name and value pairs.
pub struct FormData(pub Vec<(String, String)>);

impl FormData {
    pub fn parse(body: &[u8]) -> AppResult<FormData> {
        let pairs: Vec<(String, String)> =
            form_urlencoded::parse(body).into_owned().take(FORM_FIELDS_MAX + 1).collect();
        if pairs.len() > FORM_FIELDS_MAX {
            return Err(AppError::field("form", format!("more than {FORM_FIELDS_MAX} fields")));
        }
        Ok(FormData(pairs))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0.iter().filter(move |(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Refuses the form unless it carries the CSRF token of this session.
    pub fn check_csrf(&self, secret: &str, token_id: &str) -> AppResult<()> {
        let submitted = self.get("csrf_token").unwrap_or_default();
        if csrf::verify(secret, token_id, submitted) {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "the form expired or did not come from this site; reload the page and try again".into(),
            ))
        }
    }

    pub fn idempotency_key(&self) -> IdempotencyKey {
        IdempotencyKey(self.get("idempotency_key").filter(|k| uuid::Uuid::parse_str(k).is_ok()).map(str::to_string))
    }
}

/// The JSON body the API takes, built from the posted values of the form's fields.
/// Empty optional fields are left out; whole numbers that do not parse are refused here
/// with the field named, as the API would refuse them.
pub fn to_json(fields: &[Field], posted: &FormData) -> AppResult<Value> {
    let mut body = Value::Object(Map::new());
    let mut errors = Vec::new();
    for field in fields.iter().filter(|f| f.kind != FieldKind::Hidden || !f.name.starts_with('_')) {
        let value = match field.kind {
            FieldKind::Checkbox => Some(Value::Bool(matches!(posted.get(&field.name), Some("on" | "true")))),
            FieldKind::MultiSelect => {
                Some(Value::Array(posted.all(&field.name).map(|v| Value::String(v.to_string())).collect()))
            }
            _ => match posted.get(&field.name).map(str::trim).filter(|v| !v.is_empty()) {
                None => None,
                Some(text) => match field.kind {
                    FieldKind::Integer | FieldKind::HiddenInteger => match text.parse::<i64>() {
                        Ok(number) => Some(Value::from(number)),
                        Err(_) => {
                            errors.push(FieldError::new(field.name.clone(), "must be a whole number"));
                            None
                        }
                    },
                    FieldKind::DateTime => Some(Value::String(datetime_local_to_rfc3339(text))),
                    FieldKind::YesNo => match text {
                        "true" => Some(Value::Bool(true)),
                        "false" => Some(Value::Bool(false)),
                        _ => {
                            errors.push(FieldError::new(field.name.clone(), "must be yes or no"));
                            None
                        }
                    },
                    FieldKind::Money | FieldKind::Decimal => {
                        match crate::i18n::format::number_typed(text, crate::i18n::Lang::current()) {
                            Ok(plain) => Some(Value::String(plain)),
                            Err(reason) => {
                                errors.push(FieldError::new(field.name.clone(), reason));
                                None
                            }
                        }
                    }
                    _ => Some(Value::String(text.to_string())),
                },
            },
        };
        if let Some(value) = value {
            insert_path(&mut body, &field.name, value);
        }
    }
    if errors.is_empty() {
        Ok(body)
    } else {
        Err(AppError::Validation(errors))
    }
}

/// `2026-01-31T09:30` (what browsers send) → `2026-01-31T09:30:00Z`; other text unchanged.
fn datetime_local_to_rfc3339(text: &str) -> String {
    match text.len() {
        16 => format!("{text}:00Z"),
        19 => format!("{text}Z"),
        _ => text.to_string(),
    }
}

/// Sets `value` at a dotted path, creating objects (or arrays for numeric segments).
fn insert_path(root: &mut Value, path: &str, value: Value) {
    let segments: Vec<&str> = path.split('.').collect();
    let mut node = root;
    for (depth, segment) in segments.iter().enumerate() {
        let last = depth + 1 == segments.len();
        let next_is_index = segments.get(depth + 1).is_some_and(|s| s.parse::<usize>().is_ok());
        let empty = if next_is_index { Value::Array(Vec::new()) } else { Value::Object(Map::new()) };
        node = match (node, segment.parse::<usize>()) {
            (Value::Array(items), Ok(index)) => {
                while items.len() <= index {
                    items.push(Value::Object(Map::new()));
                }
                &mut items[index]
            }
            (Value::Object(map), _) => map.entry(segment.to_string()).or_insert(empty),
            (other, _) => return *other = value,
        };
        if last {
            *node = value;
            return;
        }
    }
}

/// The API body for a form: JSON bytes and the parsed request, with the API's field errors.
pub fn api_body<T: DeserializeOwned>(fields: &[Field], posted: &FormData) -> AppResult<ValidJson<T>> {
    let json = to_json(fields, posted)?;
    let raw = serde_json::to_vec(&json).map_err(AppError::internal)?;
    let value = parse_json::<T>(&raw)?;
    Ok(ValidJson { value, raw: raw.into() })
}

/// The JSON an API handler answered with.
pub async fn response_json(response: HttpResponse) -> AppResult<Value> {
    let bytes = response.into_body().try_into_bytes().map_err(|_| AppError::internal("streamed API body in a form"))?;
    serde_json::from_slice(&bytes).map_err(AppError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posted(pairs: &[(&str, &str)]) -> FormData {
        FormData(pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect())
    }

    #[test]
    fn nested_fields_build_nested_json() {
        let fields = vec![
            Field::new("company.legal_name", "Name", FieldKind::Text),
            Field::new("figures.staff_awu", "Staff", FieldKind::Integer),
            Field::new("related.0.figures.staff_awu", "Linked staff", FieldKind::Integer),
            Field::new("hours", "Hours", FieldKind::Decimal),
            Field::new("allow", "Allow", FieldKind::Checkbox),
            Field::new("empty", "Empty", FieldKind::Text).optional(),
            Field::new("facility_ids", "Facilities", FieldKind::MultiSelect),
            Field::new("opens_at", "Opens", FieldKind::DateTime),
            Field::new("budget", "Budget", FieldKind::Money),
        ];
        let form = posted(&[
            ("company.legal_name", "Ada GmbH"),
            ("figures.staff_awu", "12"),
            ("related.0.figures.staff_awu", "300"),
            ("hours", "1200.5"),
            ("empty", "  "),
            ("facility_ids", "a"),
            ("facility_ids", "b"),
            ("opens_at", "2026-01-31T09:30"),
            ("budget", "1,000,000.00"),
        ]);
        let json = to_json(&fields, &form).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "company": {"legal_name": "Ada GmbH"},
                "figures": {"staff_awu": 12},
                "related": [{"figures": {"staff_awu": 300}}],
                "hours": "1200.5",
                "allow": false,
                "facility_ids": ["a", "b"],
                "opens_at": "2026-01-31T09:30:00Z",
                "budget": "1000000.00"
            })
        );
    }

    #[test]
    fn a_whole_number_that_does_not_parse_names_its_field() {
        let fields = vec![Field::new("min_reviewers", "Reviewers", FieldKind::Integer)];
        let error = to_json(&fields, &posted(&[("min_reviewers", "two")])).unwrap_err();
        assert_eq!(error.field_errors()[0].field, "min_reviewers");
    }

    #[test]
    fn errors_land_next_to_their_fields() {
        let spec = FormSpec::new(
            "/x",
            "Save",
            "t",
            vec![Field::new("amount", "Amount", FieldKind::Money), Field::new("postings", "Lines", FieldKind::Text)],
        );
        let error = AppError::Validation(vec![
            FieldError::new("amount", "must be positive"),
            FieldError::new("postings[1].debit", "too many decimals"),
            FieldError::new("elsewhere", "odd"),
        ]);
        let spec = spec.with_error(&error);
        assert_eq!(spec.fields[0].error.as_deref(), Some("must be positive"));
        assert_eq!(spec.fields[1].error.as_deref(), Some("too many decimals"));
        assert!(spec.error.unwrap_or_default().contains("elsewhere: odd"));
    }
}
