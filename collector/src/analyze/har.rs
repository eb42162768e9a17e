//! Streaming readers for recorded traffic: HAR 1.2 (browsers, Burp, proxies) and JSON lines of
//! Meshward events (`SELECT ... FROM events FORMAT JSONEachRow`). Entries are handed over one
//! at a time, so memory does not grow with the file.

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::fmt;
use std::io::{BufRead, Read};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NameValue {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PostData {
    pub mime_type: String,
    pub text: String,
    pub params: Vec<NameValue>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Content {
    pub mime_type: String,
    pub text: String,
    pub encoding: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Request {
    pub method: String,
    pub url: String,
    pub headers: Vec<NameValue>,
    pub post_data: Option<PostData>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Response {
    pub status: u32,
    pub headers: Vec<NameValue>,
    pub content: Content,
}

/// One HAR entry: the parts Meshward reads.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Entry {
    pub started_date_time: String,
    pub request: Request,
    pub response: Response,
    /// milliseconds
    pub time: f64,
}

/// Calls `on_entry` for each entry of a HAR document (`log.entries[*]`); other members are
/// skipped without being kept.
pub fn read_har<R: Read>(reader: R, on_entry: &mut dyn FnMut(Entry)) -> Result<(), serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_reader(reader);
    Root { on_entry }.deserialize(&mut deserializer)?;
    deserializer.end()
}

struct Root<'a> {
    on_entry: &'a mut dyn FnMut(Entry),
}

impl<'de> DeserializeSeed<'de> for Root<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Root<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a HAR document: {\"log\": {\"entries\": [...]}}")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut found = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "log" {
                map.next_value_seed(Log { on_entry: &mut *self.on_entry })?;
                found = true;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        if found {
            Ok(())
        } else {
            Err(serde::de::Error::missing_field("log"))
        }
    }
}

struct Log<'a> {
    on_entry: &'a mut dyn FnMut(Entry),
}

impl<'de> DeserializeSeed<'de> for Log<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Log<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the HAR log object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key == "entries" {
                map.next_value_seed(Entries { on_entry: &mut *self.on_entry })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

struct Entries<'a> {
    on_entry: &'a mut dyn FnMut(Entry),
}

impl<'de> DeserializeSeed<'de> for Entries<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Entries<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the HAR entries array")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(entry) = seq.next_element::<Entry>()? {
            (self.on_entry)(entry);
        }
        Ok(())
    }
}

/// One Meshward event as ClickHouse's `JSONEachRow` writes it (the columns `analyze` reads):
/// a subset of `store::EventRow`, the one Rust mirror of the events table, with its field
/// names, column names and types (`tests/tests/sql_compat.rs` reads a row's JSON back as a line
/// and compares every field).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EventLine {
    pub authority: String,
    pub method: String,
    pub path: String,
    pub path_template: String,
    pub status: u16,
    pub ts_ms: u64,
    pub caller_id: String,
    pub caller_id_source: String,
    pub client_ip: String,
    pub query_params: Vec<String>,
    #[serde(rename = "request_body_fields.path")]
    pub request_field_paths: Vec<String>,
    #[serde(rename = "request_body_fields.type")]
    pub request_field_types: Vec<String>,
    #[serde(rename = "response_body_fields.path")]
    pub response_field_paths: Vec<String>,
    #[serde(rename = "response_body_fields.type")]
    pub response_field_types: Vec<String>,
    #[serde(rename = "sensitive.class")]
    pub sensitive_class: Vec<String>,
    #[serde(rename = "sensitive.direction")]
    pub sensitive_direction: Vec<u8>,
    #[serde(rename = "sensitive.part")]
    pub sensitive_part: Vec<String>,
    #[serde(rename = "sensitive.location")]
    pub sensitive_location: Vec<String>,
    #[serde(rename = "sensitive.confidence")]
    pub sensitive_confidence: Vec<f32>,
    #[serde(rename = "attacks.class")]
    pub attack_class: Vec<String>,
    #[serde(rename = "attacks.direction")]
    pub attack_direction: Vec<u8>,
    #[serde(rename = "attacks.part")]
    pub attack_part: Vec<String>,
    #[serde(rename = "attacks.location")]
    pub attack_location: Vec<String>,
    pub operation: String,
}

/// Calls `on_line` for each event line; stops at the first line that is not an event, saying
/// which.
pub fn read_event_lines<R: BufRead>(reader: R, on_line: &mut dyn FnMut(EventLine)) -> anyhow::Result<()> {
    for (number, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| anyhow::anyhow!("reading line {}: {e}", number + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let event: EventLine = serde_json::from_str(&line)
            .map_err(|e| anyhow::anyhow!("line {} is not a Meshward event: {e}", number + 1))?;
        on_line(event);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_stream_and_other_members_are_skipped() {
        let har = r#"{"log":{"version":"1.2","creator":{"name":"x"},"pages":[{"id":"p"}],"entries":[
            {"startedDateTime":"2024-01-01T00:00:00Z","time":12.5,"request":{"method":"GET","url":"https://a.example/u/1?q=x","headers":[{"name":"Accept","value":"*/*"}]},
             "response":{"status":200,"headers":[],"content":{"mimeType":"application/json","text":"{}"}},"cache":{}},
            {"request":{"method":"POST","url":"https://a.example/login","postData":{"mimeType":"application/json","text":"{\"password\":\"x\"}"}},"response":{"status":401}}
        ]}}"#;
        let mut seen = Vec::new();
        read_har(har.as_bytes(), &mut |e| seen.push((e.request.method, e.request.url, e.response.status)))
            .unwrap_or_default();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[1], ("POST".to_owned(), "https://a.example/login".to_owned(), 401));
        assert!(read_har(&b"{\"entries\":[]}"[..], &mut |_| {})
            .is_err_and(|e| e.to_string().contains("missing field `log`")));
        assert!(read_har(&b"{\"log\":{\"entries\":[{}"[..], &mut |_| {}).is_err());
    }
}
