//! The serde_json visitor that walked bodies before `json`, kept as the reference the tests walk
//! bodies with: the two must record the same fields and hand the sink the same values.

use super::{utf8_prefix, FieldType, State, ValueSink, Walk, WalkLimits};
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// `json_walk` (`json_fields` without a sink) done by serde_json.
pub(super) fn serde_walk(body: &[u8], limits: WalkLimits, sink: Option<ValueSink<'_>>) -> Walk {
    let mut state = State::new(limits, sink);
    let mut deserializer = serde_json::Deserializer::from_str(utf8_prefix(body));
    let parsed = Node { state: &mut state, depth: 0 }.deserialize(&mut deserializer);
    let complete = parsed.is_ok() && deserializer.end().is_ok();
    Walk { fields: state.fields, complete, prototype_key: state.prototype_key }
}

impl State<'_> {
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
