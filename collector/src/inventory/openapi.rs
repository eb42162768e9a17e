//! OpenAPI in and out. Import: a spec's operations, to mark each discovered endpoint
//! `documented` or `shadow`, each operation never seen `zombie`, deprecated operations still
//! called, and parameter and body-type mismatches. Export: a reconstructed OpenAPI document per
//! host from the inventory (paths, methods, parameters, request and response schemas, statuses,
//! security schemes seen), OpenAPI 3.1 unless 3.0 is asked for.
//!
//! Import reads OpenAPI 3.0 and 3.1 and Swagger 2.0, YAML or JSON. `$ref`s within the document
//! are followed (`#/components/...`, `#/definitions/...`, path items, `components/pathItems`);
//! one that points at nothing is an error. `$ref`s to other files, `$id`s and anchors are not
//! followed: what they hold is missing from the operations (bundle multi-file specs first).

use super::Endpoint;
use meshward_core::endpoint::{is_param, segments};
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashSet};

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("not YAML or JSON: {0}")]
    Parse(#[from] serde_norway::Error),
    #[error("not an OpenAPI or Swagger document: {0}")]
    NotOpenApi(&'static str),
    #[error("`{field}: {version}`: Meshward reads OpenAPI 3.0 and 3.1 and Swagger 2.0")]
    Version { field: &'static str, version: String },
    #[error("{at}: {problem}")]
    Invalid { at: String, problem: &'static str },
    #[error("{at}: `$ref: {reference}` points at nothing in the document")]
    DanglingRef { at: String, reference: String },
    #[error("{at}: `$ref: {reference}` goes through more than {MAX_REF_HOPS} `$ref`s (a loop?)")]
    RefLoop { at: String, reference: String },
}

/// One operation of an imported spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Operation {
    pub method: String,
    pub template: String,
    pub deprecated: bool,
    pub query_params: Vec<String>,
    /// request body fields as `path: type`, in the inventory's notation (a field whose schema
    /// allows several types, `type: [integer, string]`, has one line per type)
    pub request_fields: Vec<String>,
    /// whether the operation needs credentials (its `security`, else the document's)
    pub secured: bool,
    pub tags: Vec<String>,
}

/// An imported spec: its version and the operations of the paths it serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Spec {
    /// as the document says it: `2.0` (Swagger), `3.0.3`, `3.1.0`, ...
    pub version: String,
    pub operations: Vec<Operation>,
    /// names of the OpenAPI 3.1 `webhooks`, which are not among `operations`
    pub webhooks: Vec<String>,
}

const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// How many `$ref`s in a row are followed before giving up.
const MAX_REF_HOPS: usize = 16;

/// Reads the operations of an OpenAPI 3.0 or 3.1 or Swagger 2.0 document (YAML or JSON).
pub fn parse(text: &str) -> Result<Vec<Operation>, SpecError> {
    parse_spec(text).map(|spec| spec.operations)
}

/// Which of the formats a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Swagger2,
    OpenApi3,
}

/// A version field as text (YAML reads an unquoted `3.1` or `2.0` as a number).
fn version_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn format_of(doc: &Value) -> Result<(Format, String), SpecError> {
    if let Some(v) = doc.get("openapi") {
        let version = version_text(v).ok_or(SpecError::NotOpenApi("`openapi` is not a version number"))?;
        let minor = version.split('.').take(2).collect::<Vec<_>>();
        return match minor.as_slice() {
            ["3", "0" | "1"] => Ok((Format::OpenApi3, version)),
            _ => Err(SpecError::Version { field: "openapi", version }),
        };
    }
    if let Some(v) = doc.get("swagger") {
        let version = version_text(v).ok_or(SpecError::NotOpenApi("`swagger` is not a version number"))?;
        return match version.as_str() {
            "2.0" | "2" => Ok((Format::Swagger2, version)),
            _ => Err(SpecError::Version { field: "swagger", version }),
        };
    }
    Err(SpecError::NotOpenApi("no `openapi` or `swagger` version field"))
}

/// Reads an OpenAPI 3.0 or 3.1 or Swagger 2.0 document (YAML or JSON): its version, the
/// operations of its paths, and the names of its webhooks.
pub fn parse_spec(text: &str) -> Result<Spec, SpecError> {
    let doc: Value = serde_norway::from_str(text)?;
    if !doc.is_object() {
        return Err(SpecError::NotOpenApi("the document is not a mapping"));
    }
    let (format, version) = format_of(&doc)?;
    // Swagger 2.0 paths are relative to `basePath` (`/api/v1` + `/users` is what is called);
    // `host` and `schemes` name the server, which the inventory's host already is
    let base = match format {
        Format::Swagger2 => match doc.get("basePath") {
            None => String::new(),
            Some(Value::String(b)) => {
                let b = b.trim().trim_end_matches('/');
                if b.is_empty() || b.starts_with('/') {
                    b.to_owned()
                } else {
                    format!("/{b}")
                }
            }
            Some(_) => return Err(SpecError::Invalid { at: "$.basePath".into(), problem: "not a string" }),
        },
        Format::OpenApi3 => String::new(),
    };
    let paths = match doc.get("paths") {
        Some(Value::Object(paths)) => Some(paths),
        // OpenAPI 3.1 documents may have only webhooks or components
        None if format == Format::OpenApi3 && !version.starts_with("3.0") => None,
        None => return Err(SpecError::NotOpenApi("no `paths` object")),
        Some(_) => return Err(SpecError::Invalid { at: "$.paths".into(), problem: "not a mapping" }),
    };
    // `security: []` on an operation opts it out; an empty requirement `{}` allows anonymous calls
    let requires_credentials = |security: &Value| {
        security
            .as_array()
            .is_some_and(|reqs| !reqs.is_empty() && reqs.iter().all(|r| r.as_object().is_some_and(|o| !o.is_empty())))
    };
    let secured_by_default = doc.get("security").is_some_and(requires_credentials);
    let consumes_by_default = doc.get("consumes");
    let mut operations = Vec::new();
    for (path, item) in paths.into_iter().flatten() {
        // the Paths object also holds extensions (`x-...`); a path starts with `/`
        if !path.starts_with('/') {
            continue;
        }
        let at = format!("$.paths['{path}']");
        let item = path_item(&doc, item, &at)?;
        let template = format!("{base}{path}");
        let shared_params = params(&doc, item.get("parameters"), &format!("{at}.parameters"))?;
        for method in METHODS {
            let Some(op) = item.get(*method) else { continue };
            let at = format!("{at}.{method}");
            let op_params = params(&doc, op.get("parameters"), &format!("{at}.parameters"))?;
            let all_params = || shared_params.iter().chain(&op_params).copied();
            let mut query_params: Vec<String> = all_params()
                .filter(|p| p.get("in").and_then(Value::as_str) == Some("query"))
                .filter_map(|p| p.get("name").and_then(Value::as_str).map(str::to_owned))
                .collect();
            query_params.sort();
            query_params.dedup();
            let schema = match format {
                Format::OpenApi3 => match op.get("requestBody") {
                    Some(body) => deref(&doc, body, &format!("{at}.requestBody"))?
                        .get("content")
                        .and_then(Value::as_object)
                        .and_then(|content| content.iter().find(|(mime, _)| mime.contains("json")).map(|(_, c)| c))
                        .and_then(|c| c.get("schema")),
                    None => None,
                },
                // one `in: body` parameter holds the body's schema, sent as the operation's
                // `consumes` (else the document's) says; `in: formData` parameters are the
                // fields of a form, whose types the inventory does not record (it reads JSON
                // bodies), as the form bodies of OpenAPI 3 are not read either
                Format::Swagger2 => {
                    let consumes = op.get("consumes").or(consumes_by_default).and_then(Value::as_array);
                    let json = consumes
                        .is_none_or(|c| c.is_empty() || c.iter().filter_map(Value::as_str).any(|m| m.contains("json")));
                    all_params()
                        .filter(|_| json)
                        .find(|p| p.get("in").and_then(Value::as_str) == Some("body"))
                        .and_then(|p| p.get("schema"))
                }
            };
            let request_fields = match schema {
                Some(schema) => fields_of(&doc, schema, &format!("{at} request body"))?,
                None => Vec::new(),
            };
            operations.push(Operation {
                method: method.to_ascii_uppercase(),
                template: template.clone(),
                deprecated: op.get("deprecated").and_then(Value::as_bool).unwrap_or(false),
                query_params,
                request_fields,
                secured: op.get("security").map_or(secured_by_default, requires_credentials),
                tags: op
                    .get("tags")
                    .and_then(Value::as_array)
                    .map(|t| t.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                    .unwrap_or_default(),
            });
        }
    }
    // Webhooks (OpenAPI 3.1) are requests the API sends to its subscribers, not paths its server
    // answers: they never become operations, so they are neither endpoints nor zombies. The same
    // holds for the `callbacks` of operations, which are not read at all.
    let webhooks = doc
        .get("webhooks")
        .and_then(Value::as_object)
        .map(|w| w.keys().filter(|k| !k.starts_with("x-")).cloned().collect())
        .unwrap_or_default();
    Ok(Spec { version, operations, webhooks })
}

/// A JSON pointer from a `$ref`'s fragment (`#/components/schemas/User%20Data` ->
/// `/components/schemas/User Data`), for refs within the document; `None` for refs to other
/// files, to `$id`s and to anchors (`#user`).
fn local_pointer(reference: &str) -> Option<String> {
    let fragment = reference.strip_prefix('#')?;
    if !fragment.is_empty() && !fragment.starts_with('/') {
        return None;
    }
    Some(percent_decode(fragment))
}

fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_owned();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_owned())
}

/// What a node's `$ref` points at within the document: `Ok(None)` without a `$ref` or for one
/// that is not followed (another file, an anchor), an error if it points at nothing.
fn ref_target<'a>(doc: &'a Value, v: &Value, at: &str) -> Result<Option<&'a Value>, SpecError> {
    let Some(reference) = v.get("$ref").and_then(Value::as_str) else { return Ok(None) };
    let Some(pointer) = local_pointer(reference) else { return Ok(None) };
    doc.pointer(&pointer)
        .map(Some)
        .ok_or_else(|| SpecError::DanglingRef { at: at.to_owned(), reference: reference.to_owned() })
}

/// Follows a chain of `$ref`s (parameters, request bodies): the object at its end, or `v`
/// itself when it has none to follow. Keywords beside a `$ref` here (`summary`,
/// `description`) say nothing the import reads.
fn deref<'a>(doc: &'a Value, v: &'a Value, at: &str) -> Result<&'a Value, SpecError> {
    let mut node = v;
    for _ in 0..MAX_REF_HOPS {
        match ref_target(doc, node, at)? {
            Some(target) => node = target,
            None => return Ok(node),
        }
    }
    let reference = v.get("$ref").and_then(Value::as_str).unwrap_or_default().to_owned();
    Err(SpecError::RefLoop { at: at.to_owned(), reference })
}

/// A path item with its `$ref` (to `components/pathItems` in 3.1, or anywhere in the document)
/// followed; fields beside the `$ref` win over those of the item it points at.
fn path_item(doc: &Value, item: &Value, at: &str) -> Result<Map<String, Value>, SpecError> {
    let mut chain = vec![item];
    while let Some(target) = ref_target(doc, chain[chain.len() - 1], at)? {
        if chain.len() > MAX_REF_HOPS {
            let reference = item.get("$ref").and_then(Value::as_str).unwrap_or_default().to_owned();
            return Err(SpecError::RefLoop { at: at.to_owned(), reference });
        }
        chain.push(target);
    }
    let mut merged = Map::new();
    for level in chain.iter().rev() {
        let Some(fields) = level.as_object() else {
            return Err(SpecError::Invalid { at: at.to_owned(), problem: "the path item is not a mapping" });
        };
        for (k, v) in fields {
            if k != "$ref" {
                merged.insert(k.clone(), v.clone());
            }
        }
    }
    Ok(merged)
}

/// The parameter objects of a `parameters` list, `$ref`s followed.
fn params<'a>(doc: &'a Value, list: Option<&'a Value>, at: &str) -> Result<Vec<&'a Value>, SpecError> {
    match list {
        None => Ok(Vec::new()),
        Some(Value::Array(list)) => {
            list.iter().enumerate().map(|(i, p)| deref(doc, p, &format!("{at}[{i}]"))).collect()
        }
        Some(_) => Err(SpecError::Invalid { at: at.to_owned(), problem: "not a list" }),
    }
}

/// A request body schema's fields in the inventory's notation, each once.
fn fields_of(doc: &Value, schema: &Value, at: &str) -> Result<Vec<String>, SpecError> {
    let mut out = Vec::new();
    flatten_schema(doc, schema, "$", 0, at, &mut out)?;
    let mut seen = HashSet::new();
    out.retain(|f| seen.insert(f.clone()));
    Ok(out)
}

/// The types a schema allows, `null` aside: `type: string`, `type: [string, "null"]` (3.1),
/// or what `properties` or `items` imply.
fn schema_types(schema: &Value) -> Vec<&str> {
    let mut types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ if schema.get("properties").is_some() => vec!["object"],
        _ if schema.get("items").is_some() || schema.get("prefixItems").is_some() => vec!["array"],
        _ => Vec::new(),
    };
    if types.len() > 1 {
        types.retain(|t| *t != "null");
    }
    types
}

/// `{"type":"object","properties":{"a":{"type":"string"}}}` -> `$.a: string`.
fn flatten_schema(
    doc: &Value,
    schema: &Value,
    path: &str,
    depth: usize,
    at: &str,
    out: &mut Vec<String>,
) -> Result<(), SpecError> {
    if depth > 12 || out.len() > 512 {
        return Ok(());
    }
    // a boolean schema (3.1: `true`, `false`) says nothing about fields
    if !schema.is_object() {
        return Ok(());
    }
    // the schema a `$ref` points at, and then the keywords beside the `$ref`: JSON Schema
    // 2020-12 (OpenAPI 3.1) applies both; 3.0 says to ignore the siblings, but what authors put
    // there (`properties`, `items`) is meant, and it only adds documented fields
    if let Some(target) = ref_target(doc, schema, at)? {
        flatten_schema(doc, target, path, depth + 1, at, out)?;
    }
    // `allOf` adds up its parts; `anyOf` and `oneOf` may be any of theirs, so a field of any is
    // documented (3.1's nullable reference, `anyOf: [{$ref: ...}, {type: "null"}]`, among them)
    for combinator in ["allOf", "anyOf", "oneOf"] {
        for part in schema.get(combinator).and_then(Value::as_array).into_iter().flatten() {
            flatten_schema(doc, part, path, depth + 1, at, out)?;
        }
    }
    if path != "$" {
        for ty in schema_types(schema) {
            out.push(format!("{path}: {ty}"));
        }
    }
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (name, prop) in props {
            flatten_schema(doc, prop, &child_path(path, name), depth + 1, at, out)?;
        }
    }
    let items = format!("{path}[*]");
    if let Some(item) = schema.get("items") {
        flatten_schema(doc, item, &items, depth + 1, at, out)?;
    }
    for item in schema.get("prefixItems").and_then(Value::as_array).into_iter().flatten() {
        flatten_schema(doc, item, &items, depth + 1, at, out)?;
    }
    Ok(())
}

/// The inventory's notation for a child field: `$.a`, or `$['a b']` for odd names.
pub fn child_path(path: &str, name: &str) -> String {
    let plain = !name.is_empty()
        && name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
        && !name.as_bytes()[0].is_ascii_digit();
    if plain {
        format!("{path}.{name}")
    } else {
        format!("{path}['{}']", name.replace('\'', "\\'"))
    }
}

/// How an endpoint stands against the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Documented,
    Shadow,
    /// documented, marked deprecated, and still called
    Deprecated,
}

/// An endpoint with its standing and what differs from the spec.
#[derive(Debug, Clone, Serialize)]
pub struct Checked {
    #[serde(flatten)]
    pub endpoint: Endpoint,
    pub status: Status,
    /// the spec path it matched
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec_template: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mismatches: Vec<String>,
}

/// The inventory against a spec.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub endpoints: Vec<Checked>,
    /// spec operations not seen since `since_ms`
    pub zombies: Vec<Operation>,
}

/// How well a spec path matches an inventory template: `None` if it does not, else the number
/// of literal segments matched (higher is more specific). A spec parameter matches anything;
/// an inventory parameter matches only a spec parameter (`core::endpoint::fit`).
fn match_score(spec: &str, observed: &str) -> Option<usize> {
    meshward_core::endpoint::fit(spec, observed)
}

fn field_type(field: &str) -> Option<(&str, &str)> {
    field.rsplit_once(": ")
}

/// The start of a window of `days` ending now, for `compare`'s `since_ms`.
pub fn window_start_ms(days: u64) -> u64 {
    crate::store::now_ms().saturating_sub(days.saturating_mul(86_400_000))
}

/// Marks each endpoint of one host against the operations of its spec. Endpoints last seen
/// before `since_ms` do not count as calls (so their operations can be zombies).
pub fn compare(operations: &[Operation], endpoints: &[Endpoint], since_ms: u64) -> Comparison {
    let mut seen = vec![false; operations.len()];
    let mut checked = Vec::with_capacity(endpoints.len());
    // attack paths that fit no endpoint are not an operation of the API, documented or shadow
    for endpoint in endpoints.iter().filter(|e| e.template != super::UNMATCHED_ATTACKS) {
        let best = operations
            .iter()
            .enumerate()
            .filter(|(_, op)| op.method.eq_ignore_ascii_case(&endpoint.method))
            .filter_map(|(i, op)| match_score(&op.template, &endpoint.template).map(|s| (s, i)))
            .max();
        let recent = endpoint.last_seen_ms >= since_ms;
        let Some((_, index)) = best else {
            checked.push(Checked {
                endpoint: endpoint.clone(),
                status: Status::Shadow,
                spec_template: None,
                mismatches: Vec::new(),
            });
            continue;
        };
        let op = &operations[index];
        if recent {
            seen[index] = true;
        }
        let mut mismatches = Vec::new();
        for param in &endpoint.query_params {
            if !op.query_params.contains(param) {
                mismatches.push(format!("undocumented query parameter `{param}`"));
            }
        }
        // a field may have several documented types (`type: [integer, string]`)
        let mut documented: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (path, ty) in op.request_fields.iter().filter_map(|f| field_type(f)) {
            documented.entry(path).or_default().push(ty);
        }
        for field in &endpoint.request_fields {
            let Some((path, observed)) = field_type(field) else { continue };
            match documented.get(path) {
                None => mismatches.push(format!("undocumented request field `{path}`")),
                Some(spec) if !spec.iter().any(|s| types_agree(s, observed)) => mismatches
                    .push(format!("request field `{path}` is {observed}, the spec says {}", spec.join(" or "))),
                Some(_) => {}
            }
        }
        let status = if op.deprecated && recent { Status::Deprecated } else { Status::Documented };
        checked.push(Checked {
            endpoint: endpoint.clone(),
            status,
            spec_template: Some(op.template.clone()),
            mismatches,
        });
    }
    let zombies = operations.iter().zip(seen).filter(|(_, s)| !s).map(|(op, _)| op.clone()).collect();
    Comparison { endpoints: checked, zombies }
}

fn types_agree(spec: &str, observed: &str) -> bool {
    spec == observed || (spec == "number" && observed == "integer") || observed == "null"
}

/// The OpenAPI version an exported document is written in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum OpenApiVersion {
    /// OpenAPI 3.0.3 (`nullable: true`), for tools that do not read 3.1 yet
    #[value(name = "3.0", alias = "3.0.3")]
    V3_0,
    /// OpenAPI 3.1.0 (JSON Schema 2020-12: `type: [string, "null"]`)
    #[default]
    #[value(name = "3.1", alias = "3.1.0")]
    V3_1,
}

impl OpenApiVersion {
    /// As `--openapi-version` and `?openapi_version=` take it: `3.0`, `3.1`.
    pub fn name(self) -> &'static str {
        match self {
            OpenApiVersion::V3_0 => "3.0",
            OpenApiVersion::V3_1 => "3.1",
        }
    }

    /// The document's `openapi` field.
    pub fn field(self) -> &'static str {
        match self {
            OpenApiVersion::V3_0 => "3.0.3",
            OpenApiVersion::V3_1 => "3.1.0",
        }
    }
}

impl std::str::FromStr for OpenApiVersion {
    type Err = String;

    /// `3.0` or `3.1` (or `3.0.3`, `3.1.0`), as `--openapi-version` and `?openapi_version=` take.
    fn from_str(s: &str) -> Result<Self, String> {
        <Self as clap::ValueEnum>::from_str(s.trim(), false)
            .map_err(|_| format!("unknown OpenAPI version `{s}`: give 3.0 or 3.1"))
    }
}

/// A reconstructed OpenAPI document of one host's endpoints, in `version`. The two differ in
/// how a field seen as null is written: `nullable: true` (3.0) or `type: [X, "null"]` (3.1).
/// Neither carries `example`s (3.0) or `examples` (3.1): Meshward records no values. A 3.1
/// document uses the OAS dialect of JSON Schema 2020-12, the default, so it names no
/// `jsonSchemaDialect`.
pub fn export(host: &str, endpoints: &[Endpoint], version: OpenApiVersion) -> Value {
    let mut paths: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    let mut schemes: BTreeMap<&'static str, Value> = BTreeMap::new();
    for e in endpoints.iter().filter(|e| e.host == host && e.template != super::UNMATCHED_ATTACKS) {
        let mut parameters: Vec<Value> = segments(&e.template)
            .filter(|s| is_param(s))
            .map(|s| {
                let name = s.trim_start_matches('{').trim_end_matches('}');
                json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}})
            })
            .collect();
        parameters.extend(
            e.query_params
                .iter()
                .map(|q| json!({"name": q, "in": "query", "required": false, "schema": {"type": "string"}})),
        );
        let mut op = Map::new();
        op.insert("operationId".into(), json!(operation_id(&e.method, &e.template)));
        op.insert("summary".into(), json!(format!("Seen {} times from {} callers", e.calls, e.callers)));
        if !parameters.is_empty() {
            op.insert("parameters".into(), Value::Array(parameters));
        }
        if !e.request_fields.is_empty() {
            op.insert(
                "requestBody".into(),
                json!({"content": {"application/json": {"schema": schema_from_fields(&e.request_fields, version)}}}),
            );
        }
        let mut responses = Map::new();
        for status in &e.statuses {
            let key = if (100..600).contains(status) { status.to_string() } else { "default".to_owned() };
            let mut response = json!({"description": "Observed"});
            if (200..300).contains(status) && !e.response_fields.is_empty() {
                response["content"] =
                    json!({"application/json": {"schema": schema_from_fields(&e.response_fields, version)}});
            }
            responses.insert(key, response);
        }
        if responses.is_empty() {
            responses.insert("default".into(), json!({"description": "Observed"}));
        }
        op.insert("responses".into(), Value::Object(responses));
        let security: Vec<Value> = e
            .auth
            .iter()
            .filter_map(|a| {
                let (name, scheme) = match a.as_str() {
                    "bearer" => ("bearerAuth", json!({"type": "http", "scheme": "bearer"})),
                    "jwt_sub" => ("jwtAuth", json!({"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})),
                    "basic" => ("basicAuth", json!({"type": "http", "scheme": "basic"})),
                    "api_key" => ("apiKeyAuth", json!({"type": "apiKey", "in": "header", "name": "x-api-key"})),
                    _ => return None,
                };
                schemes.insert(name, scheme);
                Some(json!({ name: [] }))
            })
            .collect();
        if !security.is_empty() {
            // `none` seen beside a scheme: anonymous calls succeed too, which `{}` says
            let mut security = security;
            if e.auth.iter().any(|a| a == "none") {
                security.push(json!({}));
            }
            op.insert("security".into(), Value::Array(security));
        }
        paths.entry(e.template.clone()).or_default().insert(e.method.to_ascii_lowercase(), Value::Object(op));
    }
    let mut doc = json!({
        "openapi": version.field(),
        "info": {"title": format!("{host} (reconstructed by Meshward from traffic)"), "version": "observed"},
        "servers": [{"url": format!("https://{host}")}],
        "paths": paths.into_iter().map(|(k, v)| (k, Value::Object(v))).collect::<Map<String, Value>>(),
    });
    if !schemes.is_empty() {
        doc["components"] = json!({"securitySchemes": schemes});
    }
    doc
}

fn operation_id(method: &str, template: &str) -> String {
    let mut id = method.to_ascii_lowercase();
    for c in template.chars() {
        if c.is_ascii_alphanumeric() {
            id.push(c);
        } else if !id.ends_with('_') {
            id.push('_');
        }
    }
    id.trim_end_matches('_').to_owned()
}

/// Splits `$.a[*]['b c'].d` into `[Key(a), Items, Key(b c), Key(d)]`.
enum Step {
    Key(String),
    Items,
}

fn steps(path: &str) -> Vec<Step> {
    let mut out = Vec::new();
    let mut rest = path.strip_prefix('$').unwrap_or(path);
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("[*]") {
            out.push(Step::Items);
            rest = r;
        } else if let Some(r) = rest.strip_prefix("['") {
            let end = r.find("']").unwrap_or(r.len());
            out.push(Step::Key(r[..end].replace("\\'", "'")));
            rest = r.get(end + 2..).unwrap_or_default();
        } else if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            out.push(Step::Key(r[..end].to_owned()));
            rest = &r[end..];
        } else {
            break;
        }
    }
    out
}

/// A JSON schema from field paths and types (`$.items[*].sku: string`, ...), nullability
/// written as `version` says.
pub fn schema_from_fields(fields: &[String], version: OpenApiVersion) -> Value {
    let mut root = json!({});
    for field in fields {
        let Some((path, ty)) = field_type(field) else { continue };
        let mut node = &mut root;
        for step in steps(path) {
            match step {
                Step::Key(name) => {
                    if node.get("type").is_none() {
                        node["type"] = json!("object");
                    }
                    if node.get("properties").is_none() {
                        node["properties"] = json!({});
                    }
                    node = &mut node["properties"][name.as_str()];
                }
                Step::Items => {
                    node["type"] = json!("array");
                    if node.get("items").is_none() {
                        node["items"] = json!({});
                    }
                    node = &mut node["items"];
                }
            }
        }
        match ty {
            // seen null: nullable, whatever else it was seen as (in any order)
            "null" => node["nullable"] = json!(true),
            "object" | "array" => {
                if node.get("type").is_none() {
                    node["type"] = json!(ty);
                }
            }
            _ => node["type"] = json!(ty),
        }
    }
    if root.get("type").is_none() {
        root["type"] = json!("object");
    }
    write_nullable(&mut root, version);
    root
}

/// Writes the `nullable` marks of a schema built by `schema_from_fields` as `version` says
/// (`type: X, nullable: true` in 3.0, `type: [X, "null"]` in 3.1), a field seen only as null
/// being a nullable string.
fn write_nullable(node: &mut Value, version: OpenApiVersion) {
    let Some(schema) = node.as_object_mut() else { return };
    if schema.remove("nullable").is_some() {
        let ty = schema.get("type").and_then(Value::as_str).unwrap_or("string").to_owned();
        match version {
            OpenApiVersion::V3_0 => {
                schema.insert("type".into(), json!(ty));
                schema.insert("nullable".into(), json!(true));
            }
            OpenApiVersion::V3_1 => {
                schema.insert("type".into(), json!([ty, "null"]));
            }
        }
    }
    for prop in schema.get_mut("properties").and_then(Value::as_object_mut).into_iter().flat_map(|p| p.values_mut()) {
        write_nullable(prop, version);
    }
    if let Some(items) = schema.get_mut("items") {
        write_nullable(items, version);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = r#"
openapi: 3.0.3
info: {title: shop, version: "1"}
paths:
  /api/users/{id}:
    get:
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
        - $ref: '#/components/parameters/Fields'
      responses: {"200": {description: ok}}
  /api/users/me:
    get:
      responses: {"200": {description: ok}}
  /api/orders:
    post:
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Order'}
      responses: {"201": {description: created}}
  /api/legacy:
    get:
      deprecated: true
      responses: {"200": {description: ok}}
  /api/reports:
    get:
      responses: {"200": {description: ok}}
components:
  parameters:
    Fields: {name: fields, in: query, schema: {type: string}}
  schemas:
    Order:
      type: object
      properties:
        items: {type: array, items: {type: object, properties: {sku: {type: string}, qty: {type: integer}}}}
"#;

    fn endpoint(method: &str, template: &str, last_seen_ms: u64) -> Endpoint {
        Endpoint {
            host: "shop.example".into(),
            method: method.into(),
            template: template.into(),
            operation: String::new(),
            calls: 10,
            first_seen_ms: 1,
            last_seen_ms,
            statuses: vec![200],
            callers: 2,
            query_params: Vec::new(),
            request_fields: Vec::new(),
            response_fields: Vec::new(),
            auth: vec!["bearer".into()],
            sensitive: Vec::new(),
        }
    }

    #[test]
    fn documented_shadow_zombie_deprecated_and_mismatches() -> Result<(), SpecError> {
        let ops = parse(SPEC)?;
        assert_eq!(ops.len(), 5);
        assert_eq!(
            ops.iter().find(|o| o.template == "/api/users/{id}").map(|o| o.query_params.clone()),
            Some(vec!["fields".to_owned()])
        );
        let mut users = endpoint("GET", "/api/users/{user_id}", 100);
        users.query_params = vec!["fields".into(), "debug".into()];
        let mut orders = endpoint("POST", "/api/orders", 100);
        orders.request_fields =
            vec!["$.items: array".into(), "$.items[*].qty: string".into(), "$.coupon: string".into()];
        let endpoints = vec![
            users,
            endpoint("GET", "/api/users/me", 100),
            orders,
            endpoint("GET", "/api/legacy", 100),
            endpoint("GET", "/api/admin/export", 100),
            endpoint("GET", "/api/reports", 5),
        ];
        let c = compare(&ops, &endpoints, 50);
        let status: Vec<(&str, Status)> =
            c.endpoints.iter().map(|e| (e.endpoint.template.as_str(), e.status)).collect();
        assert_eq!(
            status,
            vec![
                ("/api/users/{user_id}", Status::Documented),
                ("/api/users/me", Status::Documented),
                ("/api/orders", Status::Documented),
                ("/api/legacy", Status::Deprecated),
                ("/api/admin/export", Status::Shadow),
                ("/api/reports", Status::Documented),
            ]
        );
        assert_eq!(
            c.endpoints[1].spec_template.as_deref(),
            Some("/api/users/me"),
            "the literal path is the better match"
        );
        assert_eq!(c.endpoints[0].mismatches, vec!["undocumented query parameter `debug`"]);
        assert_eq!(
            c.endpoints[2].mismatches,
            vec![
                "request field `$.items[*].qty` is string, the spec says integer",
                "undocumented request field `$.coupon`"
            ]
        );
        // seen only before the window: its operation is a zombie
        let zombies: Vec<&str> = c.zombies.iter().map(|o| o.template.as_str()).collect();
        assert_eq!(zombies, vec!["/api/reports"]);
        assert!(parse("{]").is_err());
        Ok(())
    }

    /// OpenAPI 3.1 with what it adds to 3.0: `type` arrays with `null`, `examples`, `$ref`
    /// beside other keywords, webhooks, path items by `$ref` (`components/pathItems`), no
    /// `paths` required, boolean schemas, `prefixItems`, `const`, `jsonSchemaDialect`.
    const SPEC_31: &str = r##"
openapi: 3.1.0
jsonSchemaDialect: https://spec.openapis.org/oas/3.1/dialect/base
info: {title: shop, summary: the 3.1 shop, version: "2", license: {name: MIT, identifier: MIT}}
security: [{bearer: []}]
paths:
  x-internal: {note: an extension, not a path}
  /users/{id}:
    $ref: '#/components/pathItems/User'
    description: beside the $ref, and wins over the item's
  /orders:
    post:
      tags: [orders]
      requestBody: {$ref: '#/components/requestBodies/NewOrder'}
      responses: {"201": {description: created}}
  /orders/{id}/notes:
    put:
      security: []
      parameters:
        - {name: id, in: path, required: true, schema: {type: [string, integer]}}
        - {name: draft, in: query, schema: {type: [boolean, "null"], examples: [true]}}
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties:
                text: {type: [string, "null"], examples: ["hello", null]}
                pinned: true
                kind: {const: note}
                tuple: {type: array, prefixItems: [{type: integer}, {type: string}]}
      responses: {"204": {description: saved}}
webhooks:
  orderShipped:
    post:
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Order'}
      responses: {"200": {description: received}}
components:
  securitySchemes:
    bearer: {type: http, scheme: bearer}
  pathItems:
    User:
      summary: one user
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
      get:
        parameters:
          - $ref: '#/components/parameters/Fields'
            description: a Reference Object's own description (3.1)
        responses: {"200": {description: ok}}
      delete:
        deprecated: true
        responses: {"204": {description: gone}}
  parameters:
    Fields: {name: fields, in: query, schema: {type: string}}
  requestBodies:
    NewOrder:
      content:
        application/vnd.api+json:
          schema:
            $ref: '#/components/schemas/Order'
            description: beside the $ref, and with properties of its own
            properties:
              coupon: {type: [string, "null"]}
  schemas:
    Order:
      type: object
      examples: [{items: [], note: null}]
      properties:
        items: {type: array, items: {$ref: '#/components/schemas/Line%20Item'}}
        note: {type: [string, "null"]}
        shipping:
          anyOf: [{$ref: '#/components/schemas/Address'}, {type: "null"}]
        gift: {$ref: 'https://schemas.example/gift.json'}
    Line Item:
      type: object
      properties:
        sku: {type: string}
        qty: {type: integer, minimum: 1}
    Address:
      type: object
      properties:
        city: {type: string}
"##;

    /// Swagger 2.0: paths under `basePath`, `in: body` and `in: formData` parameters,
    /// `#/definitions` and `#/parameters` refs, `consumes`, `host` and `schemes`.
    const SWAGGER_2: &str = r##"{
  "swagger": "2.0",
  "info": {"title": "shop", "version": "1"},
  "host": "shop.example", "schemes": ["https"], "basePath": "/api/v1/",
  "consumes": ["application/json"], "produces": ["application/json"],
  "securityDefinitions": {"key": {"type": "apiKey", "in": "header", "name": "x-api-key"}},
  "security": [{"key": []}],
  "parameters": {"Fields": {"name": "fields", "in": "query", "type": "string"}},
  "paths": {
    "x-generated-by": "an extension",
    "/users/{id}": {
      "parameters": [{"name": "id", "in": "path", "required": true, "type": "integer"}],
      "get": {"parameters": [{"$ref": "#/parameters/Fields"}], "responses": {"200": {"description": "ok"}}}
    },
    "/orders": {
      "post": {
        "parameters": [{"name": "body", "in": "body", "schema": {"$ref": "#/definitions/Order"}}],
        "responses": {"201": {"description": "created"}}
      }
    },
    "/avatars": {
      "post": {
        "consumes": ["multipart/form-data"],
        "parameters": [
          {"name": "file", "in": "formData", "type": "file"},
          {"name": "resize", "in": "query", "type": "boolean"}
        ],
        "responses": {"201": {"description": "stored"}}
      }
    },
    "/legacy/import": {
      "put": {
        "deprecated": true, "security": [], "consumes": ["application/xml"],
        "parameters": [{"name": "body", "in": "body", "schema": {"$ref": "#/definitions/Order"}}],
        "responses": {"200": {"description": "ok"}}
      }
    }
  },
  "definitions": {
    "Order": {
      "type": "object",
      "properties": {
        "items": {"type": "array", "items": {"$ref": "#/definitions/Line"}},
        "note": {"type": "string", "x-nullable": true}
      }
    },
    "Line": {"type": "object", "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"}}}
  }
}"##;

    fn sorted(fields: &[String]) -> Vec<&str> {
        let mut fields: Vec<&str> = fields.iter().map(String::as_str).collect();
        fields.sort();
        fields
    }

    fn op<'a>(ops: &'a [Operation], method: &str, template: &str) -> Result<&'a Operation, String> {
        ops.iter()
            .find(|o| o.method == method && o.template == template)
            .ok_or_else(|| format!("no {method} {template} in {ops:#?}"))
    }

    #[test]
    fn reads_openapi_3_1() -> Result<(), Box<dyn std::error::Error>> {
        let spec = parse_spec(SPEC_31)?;
        assert_eq!(spec.version, "3.1.0");
        let mut listed: Vec<(&str, &str)> =
            spec.operations.iter().map(|o| (o.template.as_str(), o.method.as_str())).collect();
        listed.sort();
        // the webhook is not an operation, nor is the extension under `paths`
        assert_eq!(
            listed,
            vec![("/orders", "POST"), ("/orders/{id}/notes", "PUT"), ("/users/{id}", "DELETE"), ("/users/{id}", "GET")]
        );
        assert_eq!(spec.webhooks, vec!["orderShipped"]);
        // the path item came through its `$ref`, with the path-level parameters and a
        // parameter `$ref` with a sibling
        let user = op(&spec.operations, "GET", "/users/{id}")?;
        assert_eq!(user.query_params, vec!["fields"]);
        assert!(user.secured && !user.deprecated);
        assert!(op(&spec.operations, "DELETE", "/users/{id}")?.deprecated);
        // a request body by `$ref`, a `vnd.api+json` media type, a schema `$ref` with sibling
        // properties, `type: [X, "null"]`, a nullable `anyOf`, a percent-encoded `$ref`; the
        // `$ref` to another file is not followed
        let order = op(&spec.operations, "POST", "/orders")?;
        assert_eq!(
            sorted(&order.request_fields),
            vec![
                "$.coupon: string",
                "$.items: array",
                "$.items[*].qty: integer",
                "$.items[*].sku: string",
                "$.items[*]: object",
                "$.note: string",
                "$.shipping.city: string",
                "$.shipping: null",
                "$.shipping: object",
            ]
        );
        assert_eq!(order.tags, vec!["orders"]);
        let notes = op(&spec.operations, "PUT", "/orders/{id}/notes")?;
        assert!(!notes.secured, "security: [] opts out");
        assert_eq!(notes.query_params, vec!["draft"]);
        assert_eq!(
            sorted(&notes.request_fields),
            vec!["$.text: string", "$.tuple: array", "$.tuple[*]: integer", "$.tuple[*]: string"]
        );
        // against traffic: a nullable field seen null or as its type agrees; a field with two
        // documented types agrees with either
        let mut called = endpoint("PUT", "/orders/{order_id}/notes", 100);
        called.request_fields = vec!["$.text: null".into(), "$.tuple[*]: string".into(), "$.tuple[*]: integer".into()];
        let c = compare(&spec.operations, &[called], 0);
        assert_eq!(c.endpoints[0].status, Status::Documented);
        assert!(c.endpoints[0].mismatches.is_empty(), "{:?}", c.endpoints[0].mismatches);
        let mut wrong = endpoint("PUT", "/orders/{order_id}/notes", 100);
        wrong.request_fields = vec!["$.tuple[*]: boolean".into()];
        let c = compare(&spec.operations, &[wrong], 0);
        assert_eq!(
            c.endpoints[0].mismatches,
            vec!["request field `$.tuple[*]` is boolean, the spec says integer or string"]
        );
        // no `paths` at all is fine in 3.1 (webhooks only), not in 3.0
        let hooks = parse_spec("openapi: 3.1.1\ninfo: {title: t, version: '1'}\nwebhooks: {ping: {post: {}}}")?;
        assert!(hooks.operations.is_empty() && hooks.webhooks == vec!["ping"]);
        assert!(matches!(parse("openapi: 3.0.3\ninfo: {title: t, version: '1'}"), Err(SpecError::NotOpenApi(_))));
        Ok(())
    }

    #[test]
    fn reads_swagger_2() -> Result<(), Box<dyn std::error::Error>> {
        let spec = parse_spec(SWAGGER_2)?;
        assert_eq!(spec.version, "2.0");
        let mut listed: Vec<(&str, &str)> =
            spec.operations.iter().map(|o| (o.template.as_str(), o.method.as_str())).collect();
        listed.sort();
        assert_eq!(
            listed,
            vec![
                ("/api/v1/avatars", "POST"),
                ("/api/v1/legacy/import", "PUT"),
                ("/api/v1/orders", "POST"),
                ("/api/v1/users/{id}", "GET")
            ],
            "paths under basePath, its trailing / dropped"
        );
        let users = op(&spec.operations, "GET", "/api/v1/users/{id}")?;
        assert_eq!(users.query_params, vec!["fields"]);
        assert!(users.secured);
        let orders = op(&spec.operations, "POST", "/api/v1/orders")?;
        assert_eq!(
            sorted(&orders.request_fields),
            vec![
                "$.items: array",
                "$.items[*].qty: integer",
                "$.items[*].sku: string",
                "$.items[*]: object",
                "$.note: string"
            ]
        );
        // form fields are not JSON body fields; the query parameter beside them counts
        let avatars = op(&spec.operations, "POST", "/api/v1/avatars")?;
        assert!(avatars.request_fields.is_empty());
        assert_eq!(avatars.query_params, vec!["resize"]);
        // an XML body is not read either
        let legacy = op(&spec.operations, "PUT", "/api/v1/legacy/import")?;
        assert!(legacy.deprecated && !legacy.secured && legacy.request_fields.is_empty());
        // the same traffic against it: documented under the base path
        let mut called = endpoint("POST", "/api/v1/orders", 100);
        called.request_fields = vec!["$.items[*].qty: integer".into(), "$.rush: boolean".into()];
        let c = compare(&spec.operations, &[called, endpoint("POST", "/orders", 100)], 0);
        assert_eq!(c.endpoints[0].status, Status::Documented);
        assert_eq!(c.endpoints[0].mismatches, vec!["undocumented request field `$.rush`"]);
        assert_eq!(c.endpoints[1].status, Status::Shadow, "not under the base path");
        // YAML, an unquoted version, no basePath
        let yaml = parse_spec("swagger: 2.0\ninfo: {title: t, version: '1'}\npaths: {/ping: {get: {responses: {}}}}")?;
        assert_eq!(yaml.operations[0].template, "/ping");
        Ok(())
    }

    #[test]
    fn errors_say_where() {
        let message = |text: &str| parse(text).err().map(|e| e.to_string()).unwrap_or_default();
        let dangling =
            "openapi: 3.0.3\npaths:\n  /a:\n    get:\n      parameters: [{$ref: '#/components/parameters/Nope'}]\n";
        assert_eq!(
            message(dangling),
            "$.paths['/a'].get.parameters[0]: `$ref: #/components/parameters/Nope` points at nothing in the document"
        );
        let schema = "swagger: '2.0'\npaths:\n  /a:\n    post:\n      parameters: [{in: body, name: b, schema: {$ref: '#/definitions/Gone'}}]\n";
        assert_eq!(
            message(schema),
            "$.paths['/a'].post request body: `$ref: #/definitions/Gone` points at nothing in the document"
        );
        let looped = "openapi: 3.1.0\npaths:\n  /a: {$ref: '#/components/pathItems/A'}\ncomponents:\n  pathItems:\n    A: {$ref: '#/components/pathItems/B'}\n    B: {$ref: '#/components/pathItems/A'}\n";
        assert!(message(looped).starts_with("$.paths['/a']: `$ref: #/components/pathItems/A` goes through more than"));
        assert_eq!(message("openapi: 3.0.3\npaths: [1]"), "$.paths: not a mapping");
        assert_eq!(
            message("openapi: 2.0\npaths: {}"),
            "`openapi: 2.0`: Meshward reads OpenAPI 3.0 and 3.1 and Swagger 2.0"
        );
        assert_eq!(
            message("openapi: 4.0.0\npaths: {}"),
            "`openapi: 4.0.0`: Meshward reads OpenAPI 3.0 and 3.1 and Swagger 2.0"
        );
        assert_eq!(
            message("swagger: '1.2'\npaths: {}"),
            "`swagger: 1.2`: Meshward reads OpenAPI 3.0 and 3.1 and Swagger 2.0"
        );
        assert_eq!(message("info: {}"), "not an OpenAPI or Swagger document: no `openapi` or `swagger` version field");
        assert!(message("{]").starts_with("not YAML or JSON"));
        // a `$ref` into another file is not followed, and not an error
        assert!(parse("openapi: 3.0.3\npaths:\n  /a:\n    get:\n      parameters: [{$ref: 'common.yaml#/Fields'}]\n")
            .is_ok());
    }

    #[test]
    fn export_builds_paths_schemas_and_security() {
        let mut orders = endpoint("POST", "/api/users/{user_id}/orders", 100);
        orders.statuses = vec![201, 400];
        orders.query_params = vec!["dry_run".into()];
        orders.request_fields = vec![
            "$.items: array".into(),
            "$.items[*]: object".into(),
            "$.items[*].sku: string".into(),
            "$['odd key']: integer".into(),
        ];
        orders.response_fields = vec!["$.id: string".into()];
        orders.auth = vec!["bearer".into(), "none".into()];
        let doc = export("shop.example", &[orders], OpenApiVersion::V3_0);
        assert_eq!(doc["openapi"], "3.0.3");
        let op = &doc["paths"]["/api/users/{user_id}/orders"]["post"];
        assert_eq!(
            op["parameters"][0],
            json!({"name": "user_id", "in": "path", "required": true, "schema": {"type": "string"}})
        );
        assert_eq!(op["parameters"][1]["name"], "dry_run");
        let schema = &op["requestBody"]["content"]["application/json"]["schema"];
        assert_eq!(schema["properties"]["items"]["items"]["properties"]["sku"]["type"], "string");
        assert_eq!(schema["properties"]["odd key"]["type"], "integer");
        assert_eq!(
            op["responses"]["201"]["content"]["application/json"]["schema"]["properties"]["id"]["type"],
            "string"
        );
        assert!(op["responses"]["400"].get("content").is_none());
        assert_eq!(op["security"], json!([{"bearerAuth": []}, {}]));
        assert_eq!(doc["components"]["securitySchemes"]["bearerAuth"]["scheme"], "bearer");
    }

    #[test]
    fn export_writes_nullable_fields_as_each_version_says() -> Result<(), SpecError> {
        let mut notes = endpoint("PUT", "/notes/{note_id}", 100);
        // seen null and as a string, null and as an object (in either order), only as null
        notes.request_fields = vec![
            "$.text: null".into(),
            "$.text: string".into(),
            "$.meta.tag: string".into(),
            "$.meta: null".into(),
            "$.meta: object".into(),
            "$.gone: null".into(),
            "$.tags: array".into(),
            "$.tags[*]: string".into(),
        ];
        let v30 = export("shop.example", std::slice::from_ref(&notes), OpenApiVersion::V3_0);
        let v31 = export("shop.example", std::slice::from_ref(&notes), OpenApiVersion::V3_1);
        assert_eq!(v30["openapi"], "3.0.3");
        assert_eq!(v31["openapi"], "3.1.0");
        let schema = |doc: &Value| {
            doc["paths"]["/notes/{note_id}"]["put"]["requestBody"]["content"]["application/json"]["schema"].clone()
        };
        let (s30, s31) = (schema(&v30), schema(&v31));
        assert_eq!(s30["properties"]["text"], json!({"type": "string", "nullable": true}));
        assert_eq!(s31["properties"]["text"], json!({"type": ["string", "null"]}));
        assert_eq!(s30["properties"]["meta"]["type"], "object");
        assert_eq!(s30["properties"]["meta"]["nullable"], true);
        assert_eq!(s31["properties"]["meta"]["type"], json!(["object", "null"]));
        assert_eq!(s31["properties"]["meta"]["properties"]["tag"], json!({"type": "string"}));
        assert_eq!(s30["properties"]["gone"], json!({"type": "string", "nullable": true}));
        assert_eq!(s31["properties"]["gone"], json!({"type": ["string", "null"]}));
        assert_eq!(s31["properties"]["tags"], json!({"type": "array", "items": {"type": "string"}}));
        assert!(!v31.to_string().contains("nullable"), "3.1 has no `nullable`: {v31}");
        assert!(!v30.to_string().contains("\"null\""), "3.0 has no null type: {v30}");
        // what is exported reads back: the same operations, both versions
        for doc in [&v30, &v31] {
            let ops = parse(&doc.to_string())?;
            assert_eq!(ops.len(), 1);
            assert_eq!(ops[0].template, "/notes/{note_id}");
            let c = compare(&ops, std::slice::from_ref(&notes), 0);
            assert!(c.endpoints[0].mismatches.is_empty(), "{:?}", c.endpoints[0].mismatches);
        }
        assert_eq!("3.0".parse::<OpenApiVersion>(), Ok(OpenApiVersion::V3_0));
        assert_eq!("3.1.0".parse::<OpenApiVersion>(), Ok(OpenApiVersion::V3_1));
        assert!("2.0".parse::<OpenApiVersion>().is_err());
        Ok(())
    }
}
