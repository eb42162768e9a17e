//! Body schema walking: the field paths of a JSON body with their inferred types, no values.
//!
//! `{"user":{"email":"a@b.c","tags":["x"]}}` gives `$.user: object`, `$.user.email: string`,
//! `$.user.tags: array`, `$.user.tags[*]: string`. Array elements share one `[*]` path, so the
//! output grows with the shape of the body, not its length; it is capped anyway.

use serde_json::Value;

/// JSON type of a field, as OpenAPI names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FieldType {
    Null,
    Boolean,
    Integer,
    Number,
    String,
    Array,
    Object,
}

impl FieldType {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Null => "null",
            FieldType::Boolean => "boolean",
            FieldType::Integer => "integer",
            FieldType::Number => "number",
            FieldType::String => "string",
            FieldType::Array => "array",
            FieldType::Object => "object",
        }
    }

    fn of(value: &Value) -> Self {
        match value {
            Value::Null => FieldType::Null,
            Value::Bool(_) => FieldType::Boolean,
            Value::Number(n) if n.is_i64() || n.is_u64() => FieldType::Integer,
            Value::Number(_) => FieldType::Number,
            Value::String(_) => FieldType::String,
            Value::Array(_) => FieldType::Array,
            Value::Object(_) => FieldType::Object,
        }
    }

    /// The type two observations of one path share: integer and number make number.
    fn merge(self, other: FieldType) -> FieldType {
        match (self, other) {
            (a, b) if a == b => a,
            (FieldType::Integer, FieldType::Number) | (FieldType::Number, FieldType::Integer) => {
                FieldType::Number
            }
            (FieldType::Null, b) => b,
            (a, FieldType::Null) => a,
            (a, _) => a,
        }
    }
}

/// One field path and its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyFieldOut {
    pub path: String,
    pub field_type: FieldType,
}

/// Limits that keep the walk bounded whatever the body holds.
#[derive(Debug, Clone, Copy)]
pub struct WalkLimits {
    pub max_fields: usize,
    pub max_depth: usize,
}

impl Default for WalkLimits {
    fn default() -> Self {
        WalkLimits {
            max_fields: 256,
            max_depth: 16,
        }
    }
}

/// Parses a JSON body and returns its field paths; `None` when it is not valid JSON
/// (truncated bodies included).
pub fn json_fields(body: &[u8], limits: WalkLimits) -> Option<Vec<BodyFieldOut>> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let mut out = Vec::new();
    let mut path = String::from("$");
    walk(&value, &mut path, 0, limits, &mut out);
    Some(out)
}

fn walk(
    value: &Value,
    path: &mut String,
    depth: usize,
    limits: WalkLimits,
    out: &mut Vec<BodyFieldOut>,
) {
    if depth >= limits.max_depth {
        return;
    }
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let len = path.len();
                push_key(path, key);
                record(path, FieldType::of(child), limits, out);
                walk(child, path, depth + 1, limits, out);
                path.truncate(len);
            }
        }
        Value::Array(items) => {
            let len = path.len();
            path.push_str("[*]");
            for child in items {
                record(path, FieldType::of(child), limits, out);
                walk(child, path, depth + 1, limits, out);
            }
            path.truncate(len);
        }
        _ => {}
    }
}

fn record(path: &str, field_type: FieldType, limits: WalkLimits, out: &mut Vec<BodyFieldOut>) {
    // Few fields per body: a linear scan beats hashing at this size.
    if let Some(existing) = out.iter_mut().find(|f| f.path == path) {
        existing.field_type = existing.field_type.merge(field_type);
    } else if out.len() < limits.max_fields {
        out.push(BodyFieldOut {
            path: path.to_owned(),
            field_type,
        });
    }
}

fn push_key(path: &mut String, key: &str) {
    let plain = !key.is_empty()
        && key
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
        && !key.as_bytes()[0].is_ascii_digit();
    if plain {
        path.push('.');
        path.push_str(key);
    } else {
        path.push_str("['");
        for c in key.chars() {
            if c == '\'' || c == '\\' {
                path.push('\\');
            }
            path.push(c);
        }
        path.push_str("']");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(body: &str) -> Vec<(String, &'static str)> {
        json_fields(body.as_bytes(), WalkLimits::default())
            .unwrap_or_default()
            .into_iter()
            .map(|f| (f.path, f.field_type.as_str()))
            .collect()
    }

    #[test]
    fn nested_objects_and_arrays() {
        let got = fields(
            r#"{"user":{"email":"a@b.c","age":3,"tags":["x","y"]},"cards":[{"number":"4111"},{"number":"5500","cvv":1}]}"#,
        );
        let want = [
            ("$.user", "object"),
            ("$.user.email", "string"),
            ("$.user.age", "integer"),
            ("$.user.tags", "array"),
            ("$.user.tags[*]", "string"),
            ("$.cards", "array"),
            ("$.cards[*]", "object"),
            ("$.cards[*].number", "string"),
            ("$.cards[*].cvv", "integer"),
        ];
        let mut want: Vec<(String, &str)> = want.iter().map(|(p, t)| (p.to_string(), *t)).collect();
        let mut got = got;
        got.sort();
        want.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn merges_integer_and_number() {
        assert_eq!(fields(r#"[1, 2.5]"#), vec![("$[*]".to_string(), "number")]);
    }

    #[test]
    fn odd_keys_are_quoted() {
        assert_eq!(
            fields(r#"{"a b":1}"#),
            vec![("$['a b']".to_string(), "integer")]
        );
    }

    #[test]
    fn invalid_or_truncated_json_gives_none() {
        assert!(json_fields(br#"{"a": [1, 2"#, WalkLimits::default()).is_none());
        assert!(json_fields(&[0xff, 0xfe], WalkLimits::default()).is_none());
    }

    #[test]
    fn limits_hold() {
        let deep = "[".repeat(100) + &"]".repeat(100);
        let got = json_fields(
            deep.as_bytes(),
            WalkLimits {
                max_fields: 1000,
                max_depth: 5,
            },
        )
        .unwrap_or_default();
        assert_eq!(got.len(), 5);
        let wide: String = format!(
            "{{{}}}",
            (0..500)
                .map(|i| format!("\"k{i}\":1"))
                .collect::<Vec<_>>()
                .join(",")
        );
        let got = json_fields(
            wide.as_bytes(),
            WalkLimits {
                max_fields: 10,
                max_depth: 5,
            },
        )
        .unwrap_or_default();
        assert_eq!(got.len(), 10);
    }
}
