//! OpenAPI 3 in and out. Import: a spec's operations, to mark each discovered endpoint
//! `documented` or `shadow`, each operation never seen `zombie`, deprecated operations still
//! called, and parameter and body-type mismatches. Export: a reconstructed OpenAPI 3.0 document
//! per host from the inventory (paths, methods, parameters, request and response schemas,
//! statuses, security schemes seen).

use super::Endpoint;
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("not YAML or JSON: {0}")]
    Parse(#[from] serde_norway::Error),
    #[error("not an OpenAPI 3 document: {0}")]
    NotOpenApi(&'static str),
}

/// One operation of an imported spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Operation {
    pub method: String,
    pub template: String,
    pub deprecated: bool,
    pub query_params: Vec<String>,
    /// request body fields as `path: type`, in the inventory's notation
    pub request_fields: Vec<String>,
    /// whether the operation needs credentials (its `security`, else the document's)
    pub secured: bool,
    pub tags: Vec<String>,
}

const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// Reads the operations of an OpenAPI 3 document (YAML or JSON). `$ref`s to
/// `#/components/...` are followed for parameters and schemas.
pub fn parse(text: &str) -> Result<Vec<Operation>, SpecError> {
    let doc: Value = serde_norway::from_str(text)?;
    let version =
        doc.get("openapi").and_then(Value::as_str).ok_or(SpecError::NotOpenApi("no `openapi` version field"))?;
    if !version.starts_with('3') {
        return Err(SpecError::NotOpenApi("only OpenAPI 3.x is read (Swagger 2 is not)"));
    }
    let paths = doc.get("paths").and_then(Value::as_object).ok_or(SpecError::NotOpenApi("no `paths` object"))?;
    // `security: []` on an operation opts it out; an empty requirement `{}` allows anonymous calls
    let requires_credentials = |security: &Value| {
        security
            .as_array()
            .is_some_and(|reqs| !reqs.is_empty() && reqs.iter().all(|r| r.as_object().is_some_and(|o| !o.is_empty())))
    };
    let secured_by_default = doc.get("security").is_some_and(requires_credentials);
    let mut operations = Vec::new();
    for (template, item) in paths {
        let shared_params = item.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default();
        for method in METHODS {
            let Some(op) = item.get(*method) else { continue };
            let mut query_params: Vec<String> = shared_params
                .iter()
                .chain(op.get("parameters").and_then(Value::as_array).into_iter().flatten())
                .map(|p| resolve(&doc, p))
                .filter(|p| p.get("in").and_then(Value::as_str) == Some("query"))
                .filter_map(|p| p.get("name").and_then(Value::as_str).map(str::to_owned))
                .collect();
            query_params.sort();
            query_params.dedup();
            let schema = op
                .pointer("/requestBody/content")
                .and_then(Value::as_object)
                .and_then(|content| content.iter().find(|(mime, _)| mime.contains("json")).map(|(_, c)| c))
                .and_then(|c| c.get("schema"));
            let mut request_fields = Vec::new();
            if let Some(schema) = schema {
                flatten_schema(&doc, schema, "$", 0, &mut request_fields);
            }
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
    Ok(operations)
}

fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix('#')) {
        Some(pointer) => doc.pointer(pointer).unwrap_or(v),
        None => v,
    }
}

/// `{"type":"object","properties":{"a":{"type":"string"}}}` -> `$.a: string`.
fn flatten_schema(doc: &Value, schema: &Value, path: &str, depth: usize, out: &mut Vec<String>) {
    if depth > 12 || out.len() > 512 {
        return;
    }
    let schema = resolve(doc, schema);
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for s in all {
            flatten_schema(doc, s, path, depth + 1, out);
        }
        return;
    }
    let ty = schema.get("type").and_then(Value::as_str).unwrap_or(if schema.get("properties").is_some() {
        "object"
    } else {
        ""
    });
    if path != "$" && !ty.is_empty() {
        out.push(format!("{path}: {ty}"));
    }
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (name, prop) in props {
            flatten_schema(doc, prop, &child_path(path, name), depth + 1, out);
        }
    }
    if let Some(items) = schema.get("items") {
        flatten_schema(doc, items, &format!("{path}[*]"), depth + 1, out);
    }
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

fn segments(template: &str) -> Vec<&str> {
    template.trim_end_matches('/').split('/').filter(|s| !s.is_empty()).collect()
}

fn is_param(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with('}')
}

/// How well a spec path matches an inventory template: `None` if it does not, else the number
/// of literal segments matched (higher is more specific). A spec parameter matches anything;
/// an inventory parameter matches only a spec parameter.
fn match_score(spec: &str, observed: &str) -> Option<usize> {
    let (a, b) = (segments(spec), segments(observed));
    if a.len() != b.len() {
        return None;
    }
    let mut literals = 0;
    for (s, o) in a.iter().zip(&b) {
        if is_param(s) {
            continue;
        }
        if is_param(o) || !s.eq_ignore_ascii_case(o) {
            return None;
        }
        literals += 1;
    }
    Some(literals)
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
    for endpoint in endpoints {
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
        let documented: BTreeMap<&str, &str> = op.request_fields.iter().filter_map(|f| field_type(f)).collect();
        for field in &endpoint.request_fields {
            let Some((path, observed)) = field_type(field) else { continue };
            match documented.get(path) {
                None => mismatches.push(format!("undocumented request field `{path}`")),
                Some(&spec) if !types_agree(spec, observed) => {
                    mismatches.push(format!("request field `{path}` is {observed}, the spec says {spec}"))
                }
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

/// A reconstructed OpenAPI 3.0.3 document for one host's endpoints.
pub fn export(host: &str, endpoints: &[Endpoint]) -> Value {
    let mut paths: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    let mut schemes: BTreeMap<&'static str, Value> = BTreeMap::new();
    for e in endpoints.iter().filter(|e| e.host == host) {
        let mut parameters: Vec<Value> = segments(&e.template)
            .iter()
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
                json!({"content": {"application/json": {"schema": schema_from_fields(&e.request_fields)}}}),
            );
        }
        let mut responses = Map::new();
        for status in &e.statuses {
            let key = if (100..600).contains(status) { status.to_string() } else { "default".to_owned() };
            let mut response = json!({"description": "Observed"});
            if (200..300).contains(status) && !e.response_fields.is_empty() {
                response["content"] = json!({"application/json": {"schema": schema_from_fields(&e.response_fields)}});
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
        "openapi": "3.0.3",
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

/// A JSON schema from field paths and types (`$.items[*].sku: string`, ...).
pub fn schema_from_fields(fields: &[String]) -> Value {
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
        if node.get("type").is_none() || (ty != "object" && ty != "array") {
            node["type"] = json!(if ty == "null" { "string" } else { ty });
            if ty == "null" {
                node["nullable"] = json!(true);
            }
        }
    }
    if root.get("type").is_none() {
        root["type"] = json!("object");
    }
    root
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
        assert!(matches!(parse("openapi: 2.0\npaths: {}"), Err(SpecError::NotOpenApi(_))));
        assert!(parse("{]").is_err());
        Ok(())
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
        let doc = export("shop.example", &[orders]);
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
}
