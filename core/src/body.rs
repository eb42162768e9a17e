//! Body schema walking: the field paths of a JSON body with their inferred types, no values.
//!
//! `{"user":{"email":"a@b.c","tags":["x"]}}` gives `$.user: object`, `$.user.email: string`,
//! `$.user.tags: array`, `$.user.tags[*]: string`. Array elements share one `[*]` path, so the
//! output grows with the shape of the body, not its length; it is capped anyway.
//!
//! The walk is a serde visitor over serde_json's parser: it records each field as the parser
//! passes it and never builds a `Value` tree (building one cost most of the filter's body time
//! in Envoy). A truncated or invalid body yields the fields seen before the error.

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

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

    /// The type two observations of one path share: integer and number make number.
    fn merge(self, other: FieldType) -> FieldType {
        match (self, other) {
            (a, b) if a == b => a,
            (FieldType::Integer, FieldType::Number) | (FieldType::Number, FieldType::Integer) => FieldType::Number,
            (FieldType::Null, b) => b,
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
        WalkLimits { max_fields: 256, max_depth: 16 }
    }
}

/// What a walk found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Walk {
    pub fields: Vec<BodyFieldOut>,
    /// False when the body ended early or was not valid JSON; `fields` holds what came before.
    pub complete: bool,
    /// The path of the first `__proto__` or `prototype` key: where a prototype pollution would
    /// start. Such a key usually holds an object, so no value's own key shows it.
    pub prototype_key: Option<String>,
}

/// Whether a content type is JSON (`application/json`, `application/problem+json`, ...).
pub fn is_json(content_type: &str) -> bool {
    let mime = content_type.split(';').next().unwrap_or_default().trim();
    mime.eq_ignore_ascii_case("application/json")
        || mime.len() > 5 && mime.get(mime.len() - 5..).is_some_and(|end| end.eq_ignore_ascii_case("+json"))
}

/// Walks a JSON body and returns its field paths.
pub fn json_fields(body: &[u8], limits: WalkLimits) -> Walk {
    walk(body, limits, None)
}

/// Walks a JSON body, returns its field paths and hands every scalar value to `sink` as
/// `(path, key, value)`: strings as they are, numbers in their decimal form, so detectors can
/// see card numbers sent as JSON numbers. `key` is the last object key on the path (for an
/// array element, the array's key).
pub fn json_walk(body: &[u8], limits: WalkLimits, sink: &mut dyn FnMut(&str, &str, &str)) -> Walk {
    walk(body, limits, Some(sink))
}

/// Receives `(path, key, value)` for each scalar.
type ValueSink<'k> = &'k mut dyn FnMut(&str, &str, &str);

fn walk(body: &[u8], limits: WalkLimits, sink: Option<ValueSink<'_>>) -> Walk {
    let mut state = State {
        fields: Vec::new(),
        path: String::from("$"),
        key: 0..0,
        next_field: 0,
        limits,
        sink,
        prototype_key: None,
    };
    // One UTF-8 check over the whole body instead of one per string: from a `str`, serde_json
    // takes its strings as they are (7% of a 16 KiB scan went to validating them one by one). A
    // body that is not UTF-8 is walked up to its first invalid byte, which is where parsing bytes
    // would have stopped too: such a byte can only be inside a string.
    let text = match std::str::from_utf8(body) {
        Ok(text) => text,
        Err(e) => std::str::from_utf8(&body[..e.valid_up_to()]).unwrap_or_default(),
    };
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let parsed = Node { state: &mut state, depth: 0 }.deserialize(&mut deserializer);
    let complete = parsed.is_ok() && deserializer.end().is_ok();
    Walk { fields: state.fields, complete, prototype_key: state.prototype_key }
}

struct State<'k> {
    fields: Vec<BodyFieldOut>,
    path: String,
    /// Where the last object key on `path` is written in it (`last_key` without the search):
    /// set by `push_key`, put back when an object ends, as an array's elements share its key.
    key: std::ops::Range<usize>,
    /// The field after the one last recorded: arrays of objects repeat their fields in order,
    /// so it is usually the next one.
    next_field: usize,
    limits: WalkLimits,
    sink: Option<ValueSink<'k>>,
    prototype_key: Option<String>,
}

/// The last key of a path: `number` for `$.cards[*].number`, `a b` for `$['a b']`. The walk
/// tracks it as it writes the path; this reads it back, for the tests to check that against.
#[cfg(test)]
fn last_key(path: &str) -> &str {
    let mut rest = path;
    while let Some(stripped) = rest.strip_suffix("[*]") {
        rest = stripped;
    }
    if let Some(stripped) = rest.strip_suffix("']") {
        return stripped.rfind("['").map(|i| &stripped[i + 2..]).unwrap_or_default();
    }
    match rest.rfind('.') {
        Some(i) => &rest[i + 1..],
        None => "",
    }
}

impl State<'_> {
    fn value(&mut self, value: &str) {
        if let Some(sink) = self.sink.as_mut() {
            sink(&self.path, self.path.get(self.key.clone()).unwrap_or_default(), value);
        }
    }

    // numbers are most of many bodies: formatted on the stack by the crates serde_json itself
    // writes numbers with, several times faster than `Display`
    fn integer(&mut self, value: impl itoa::Integer) {
        if self.sink.is_some() {
            self.value(itoa::Buffer::new().format(value));
        }
    }

    fn float(&mut self, value: f64) {
        if self.sink.is_some() {
            self.value(ryu::Buffer::new().format(value));
        }
    }

    fn record(&mut self, field_type: FieldType) {
        // Few fields per body: a linear scan beats hashing at this size, after a look at the
        // field that followed the last one
        let guess = self.fields.get(self.next_field).filter(|f| f.path == self.path).map(|_| self.next_field);
        if let Some(i) = guess.or_else(|| self.fields.iter().position(|f| f.path == self.path)) {
            let existing = &mut self.fields[i];
            existing.field_type = existing.field_type.merge(field_type);
            self.next_field = i + 1;
        } else if self.fields.len() < self.limits.max_fields {
            self.fields.push(BodyFieldOut { path: self.path.clone(), field_type });
            self.next_field = self.fields.len();
        }
    }

    fn push_key(&mut self, key: &str) {
        let plain = !key.is_empty()
            && key.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
            && !key.as_bytes()[0].is_ascii_digit();
        if plain {
            self.path.push('.');
            let start = self.path.len();
            self.path.push_str(key);
            self.key = start..self.path.len();
        } else {
            self.path.push_str("['");
            let start = self.path.len();
            for c in key.chars() {
                if c == '\'' || c == '\\' {
                    self.path.push('\\');
                }
                self.path.push(c);
            }
            self.key = start..self.path.len();
            self.path.push_str("']");
        }
        if self.prototype_key.is_none() && matches!(key, "__proto__" | "prototype") {
            self.prototype_key = Some(self.path.clone());
        }
    }
}

/// A value at the current path: returns its type, records its children.
struct Node<'s, 'k> {
    state: &'s mut State<'k>,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Node<'_, '_> {
    type Value = FieldType;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<FieldType, D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// An object key: appended to the path as it is read (no allocation for plain keys).
struct Key<'s, 'k> {
    state: &'s mut State<'k>,
}

impl<'de> DeserializeSeed<'de> for Key<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E>(self, key: &str) -> Result<(), E> {
        self.state.push_key(key);
        Ok(())
    }
}

impl<'de> Visitor<'de> for Node<'_, '_> {
    type Value = FieldType;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    // booleans and nulls reach the sink too: their keys (`{"$exists": true}`, `{"$ne": null}`)
    // are what the attack scan reads
    fn visit_bool<E>(self, v: bool) -> Result<FieldType, E> {
        self.state.value(if v { "true" } else { "false" });
        Ok(FieldType::Boolean)
    }
    fn visit_i64<E>(self, v: i64) -> Result<FieldType, E> {
        self.state.integer(v);
        Ok(FieldType::Integer)
    }
    fn visit_u64<E>(self, v: u64) -> Result<FieldType, E> {
        self.state.integer(v);
        Ok(FieldType::Integer)
    }
    fn visit_f64<E>(self, v: f64) -> Result<FieldType, E> {
        self.state.float(v);
        Ok(FieldType::Number)
    }
    fn visit_str<E>(self, v: &str) -> Result<FieldType, E> {
        self.state.value(v);
        Ok(FieldType::String)
    }
    fn visit_unit<E>(self) -> Result<FieldType, E> {
        self.state.value("null");
        Ok(FieldType::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FieldType, A::Error> {
        let state = self.state;
        if self.depth + 1 >= state.limits.max_depth {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(FieldType::Array);
        }
        let len = state.path.len();
        state.path.push_str("[*]");
        while let Some(item) = seq.next_element_seed(Node { state: &mut *state, depth: self.depth + 1 })? {
            state.record(item);
        }
        state.path.truncate(len);
        Ok(FieldType::Array)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FieldType, A::Error> {
        let state = self.state;
        if self.depth + 1 >= state.limits.max_depth {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(FieldType::Object);
        }
        let len = state.path.len();
        let key = state.key.clone();
        while map.next_key_seed(Key { state: &mut *state })?.is_some() {
            let value = map.next_value_seed(Node { state: &mut *state, depth: self.depth + 1 });
            match value {
                Ok(field_type) => {
                    state.record(field_type);
                    state.path.truncate(len);
                }
                Err(err) => {
                    state.path.truncate(len);
                    return Err(err);
                }
            }
        }
        state.key = key;
        Ok(FieldType::Object)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(body: &str) -> Vec<(String, &'static str)> {
        json_fields(body.as_bytes(), WalkLimits::default())
            .fields
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
    fn values_reach_the_sink_with_path_and_key() {
        let mut seen = Vec::new();
        let body =
            br#"{"cards":[{"number":4111111111111111},7],"a b":"x","tags":["t"],"n":null,"o":{"p":{"q":1},"r":2}}"#;
        let walk = json_walk(body, WalkLimits::default(), &mut |p, k, v| {
            assert_eq!(k, last_key(p), "{p}");
            seen.push(format!("{p}|{k}|{v}"))
        });
        assert!(walk.complete);
        assert_eq!(
            seen,
            vec![
                "$.cards[*].number|number|4111111111111111",
                "$.cards[*]|cards|7",
                "$['a b']|a b|x",
                "$.tags[*]|tags|t",
                "$.n|n|null",
                "$.o.p.q|q|1",
                "$.o.r|r|2"
            ]
        );
        assert_eq!(last_key("$"), "");
    }

    #[test]
    fn merges_integer_and_number() {
        assert_eq!(fields(r#"[1, 2.5]"#), vec![("$[*]".to_string(), "number")]);
    }

    #[test]
    fn odd_keys_are_quoted() {
        assert_eq!(fields(r#"{"a b":1}"#), vec![("$['a b']".to_string(), "integer")]);
    }

    #[test]
    fn truncated_json_keeps_what_came_before() {
        let walk = json_fields(br#"{"id": 7, "user": {"email": "a@b.c", "tags": [1, 2"#, WalkLimits::default());
        assert!(!walk.complete);
        let paths: Vec<&str> = walk.fields.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, vec!["$.id", "$.user.email", "$.user.tags[*]"]);
        let walk = json_fields(&[0xff, 0xfe], WalkLimits::default());
        assert!(!walk.complete && walk.fields.is_empty());
        // a byte that is not UTF-8 ends the walk where it stands, in the middle of a string or
        // cut off in its middle by a body cap; what came before is kept
        for bad in [&b"{\"id\": 7, \"name\": \"Jos\xe9\", \"age\": 3}"[..], b"{\"id\": 7, \"name\": \"Jos\xc3"] {
            let walk = json_fields(bad, WalkLimits::default());
            let paths: Vec<&str> = walk.fields.iter().map(|f| f.path.as_str()).collect();
            assert!(!walk.complete && paths == ["$.id"], "{paths:?}");
        }
        assert!(!json_fields(br#"{"a":1} trailing"#, WalkLimits::default()).complete);
        assert!(json_fields(br#"{"a":1}"#, WalkLimits::default()).complete);
    }

    #[test]
    fn limits_hold() {
        let deep = "[".repeat(100) + &"]".repeat(100);
        let got = json_fields(deep.as_bytes(), WalkLimits { max_fields: 1000, max_depth: 5 }).fields;
        assert_eq!(got.len(), 4);
        let very_deep = "[".repeat(100_000);
        assert!(!json_fields(very_deep.as_bytes(), WalkLimits::default()).complete);
        let wide: String = format!("{{{}}}", (0..500).map(|i| format!("\"k{i}\":1")).collect::<Vec<_>>().join(","));
        let got = json_fields(wide.as_bytes(), WalkLimits { max_fields: 10, max_depth: 5 }).fields;
        assert_eq!(got.len(), 10);
    }

    proptest::proptest! {
        /// Any bytes, any cut: no panic, and the output respects the limits.
        #[test]
        fn arbitrary_input_is_bounded(body in proptest::collection::vec(proptest::num::u8::ANY, 0..512), cut in 0usize..512) {
            let limits = WalkLimits { max_fields: 8, max_depth: 4 };
            let walk = json_fields(&body[..cut.min(body.len())], limits);
            proptest::prop_assert!(walk.fields.len() <= 8);
        }

        #[test]
        fn cut_json_is_a_prefix_of_whole(cut in 0usize..120) {
            let body = br#"{"a":1,"b":{"c":"x","d":[true,null,{"e":2.5}]},"f":"g"}"#;
            let whole = json_fields(body, WalkLimits::default());
            let part = json_fields(&body[..cut.min(body.len())], WalkLimits::default());
            for field in &part.fields {
                proptest::prop_assert!(whole.fields.iter().any(|w| w.path == field.path));
            }
        }
    }
}
