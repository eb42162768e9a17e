//! Body schema walking: the field paths of a JSON body with their inferred types, no values.
//!
//! `{"user":{"email":"a@b.c","tags":["x"]}}` gives `$.user: object`, `$.user.email: string`,
//! `$.user.tags: array`, `$.user.tags[*]: string`. Array elements share one `[*]` path, so the
//! output grows with the shape of the body, not its length; it is capped anyway.
//!
//! The walk records each field as the parser (`json`, written for it) passes it and never builds
//! a value tree (building one cost most of the filter's body time in Envoy). A truncated or
//! invalid body yields the fields seen before the error.

mod json;
#[cfg(test)]
mod oracle;
#[cfg(test)]
mod tests;

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
    let mut state = State::new(limits, sink);
    let mut parser = json::Parser::new(utf8_prefix(body));
    let complete = parser.document(&mut state);
    Walk { fields: state.fields, complete, prototype_key: state.prototype_key }
}

/// The body as text: all of it, or up to its first byte that is not UTF-8. One check over the
/// whole body instead of one per string; such a byte can only be inside a string, so this is
/// where a parser reading bytes would have stopped too.
fn utf8_prefix(body: &[u8]) -> &str {
    match std::str::from_utf8(body) {
        Ok(text) => text,
        Err(e) => std::str::from_utf8(&body[..e.valid_up_to()]).unwrap_or_default(),
    }
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

/// Bytes a key may hold and still be written `.key` in a path (letters, digits, `_`, `-`).
static KEY_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        table[c] = b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
        c += 1;
    }
    table
};

impl<'k> State<'k> {
    fn new(limits: WalkLimits, sink: Option<ValueSink<'k>>) -> Self {
        State {
            fields: Vec::new(),
            path: String::from("$"),
            key: 0..0,
            next_field: 0,
            limits,
            sink,
            prototype_key: None,
        }
    }

    fn has_sink(&self) -> bool {
        self.sink.is_some()
    }

    fn value(&mut self, value: &str) {
        if let Some(sink) = self.sink.as_mut() {
            sink(&self.path, self.path.get(self.key.clone()).unwrap_or_default(), value);
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
        let plain = key.as_bytes().first().is_some_and(|c| !c.is_ascii_digit())
            && key.bytes().all(|c| KEY_BYTES[usize::from(c)]);
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
