//! The API inventory: which endpoints each host serves, from the events in ClickHouse, with
//! word-like path parameters found by `core::discovery` (weighted by distinct callers).

pub mod callers;
pub mod openapi;
pub mod status;

pub use status::{InventoryError, InventoryStore};

use crate::store::StoreError;
use clickhouse::Row;
use meshward_core::{Discovery, DiscoveryConfig};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Who called, as the inventory counts callers: the caller identity, else the client address.
macro_rules! caller_sql {
    () => {
        "if(caller_id != '', caller_id, client_ip)"
    };
}
pub(crate) use caller_sql;

/// Calls per host, method and per-request template (one row per group), with the parameters,
/// body fields (`path: type`), auth schemes and sensitive data (`request.body.$.ssn: us_ssn`)
/// seen. `{db}`: the database.
pub const TEMPLATE_STATS: &str = concat!(
    "SELECT authority, method, path_template, count() AS calls, \
     min(ts_ms) AS first_seen_ms, max(ts_ms) AS last_seen_ms, groupUniqArray(status) AS statuses, \
     uniqExact(",
    caller_sql!(),
    ") AS callers, \
     groupUniqArrayArray(query_params) AS query_params, \
     groupUniqArrayArray(arrayMap((p, t) -> concat(p, ': ', t), request_body_fields.path, request_body_fields.type)) \
     AS request_fields, \
     groupUniqArrayArray(arrayMap((p, t) -> concat(p, ': ', t), response_body_fields.path, response_body_fields.type)) \
     AS response_fields, \
     groupUniqArray(caller_id_source) AS auth, \
     groupUniqArrayArray(arrayMap((d, p, l, c) -> concat(",
    meshward_core::finding_location_sql!("d", "p", "l"),
    ", ': ', c), \
     sensitive.direction, sensitive.part, sensitive.location, sensitive.class)) AS sensitive, \
     topK(3)(path) AS sample_paths, \
     countIf(has(attacks.part, 'path')) AS path_attacks, operation \
     FROM {db}.events GROUP BY authority, method, path_template, operation"
);

#[derive(Debug, Clone, Default, Row, Deserialize)]
pub struct TemplateStats {
    pub authority: String,
    pub method: String,
    pub path_template: String,
    pub calls: u64,
    pub first_seen_ms: u64,
    pub last_seen_ms: u64,
    pub statuses: Vec<u16>,
    pub callers: u64,
    pub query_params: Vec<String>,
    pub request_fields: Vec<String>,
    pub response_fields: Vec<String>,
    /// caller identity sources (`bearer`, `api_key`, ...); empty for anonymous calls
    pub auth: Vec<String>,
    pub sensitive: Vec<String>,
    /// a few raw paths of the template, which tell a constant (`/1/`) from an id
    pub sample_paths: Vec<String>,
    /// calls whose path carried an attack (`/api/products/..%2F..%2Fetc%2Fpasswd`)
    pub path_attacks: u64,
    /// the GraphQL or JSON-RPC operation the requests' bodies named (`query GetUser`), read
    /// from deeply inspected requests; empty for the others
    pub operation: String,
}

/// The template of the requests whose path carried an attack and fits no endpoint of their
/// host: counted there, per method, instead of each attack path becoming an endpoint.
pub const UNMATCHED_ATTACKS: &str = "{unmatched attack paths}";

impl TemplateStats {
    /// Every call of this per-request template carried an attack in its path: it names no
    /// endpoint of the API, only what an attacker sent.
    fn is_attack_path(&self) -> bool {
        self.path_attacks > 0 && self.path_attacks >= self.calls
    }
}

impl Endpoint {
    /// The template, and the operation after it when there is one (`/graphql query GetUser`).
    pub fn label(&self) -> String {
        if self.operation.is_empty() {
            self.template.clone()
        } else {
            format!("{} {}", self.template, self.operation)
        }
    }
}

/// One endpoint of the inventory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Endpoint {
    pub host: String,
    pub method: String,
    pub template: String,
    /// the GraphQL or JSON-RPC operation (`query GetUser`, `rpc users.get`): one endpoint per
    /// operation of a path; empty for other endpoints (and for requests whose body was not read)
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub operation: String,
    pub calls: u64,
    pub first_seen_ms: u64,
    pub last_seen_ms: u64,
    pub statuses: Vec<u16>,
    /// Distinct callers (the caller identity, else the client address), each counted once
    /// however many of the endpoint's per-request templates it called. `build_pinned` alone
    /// knows only each template's count and gives the largest (a floor); `inventory::endpoints`
    /// (the collector's inventory) and `meshward analyze` count the union over `Discovered::rows`.
    pub callers: u64,
    pub query_params: Vec<String>,
    /// request body fields as `path: type`
    pub request_fields: Vec<String>,
    pub response_fields: Vec<String>,
    /// how callers authenticated (`bearer`, `jwt_sub`, `api_key`, `basic`, `none`)
    pub auth: Vec<String>,
    /// sensitive data seen, as `response.body.$.email: email`
    pub sensitive: Vec<String>,
}

/// An endpoint with the rows of `build_pinned`'s input that went into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovered {
    pub endpoint: Endpoint,
    /// indices of the input rows merged into the endpoint, ascending; every row is in exactly
    /// one endpoint
    pub rows: Vec<usize>,
}

/// The inventory from ClickHouse (of one host, or all): discovery over the per-template rows
/// with `pins` applied, and each endpoint's callers counted in ClickHouse over the events of
/// all its templates (`callers`).
pub async fn endpoints(
    client: &clickhouse::Client,
    url: &str,
    database: &str,
    pins: &Pins,
    host: Option<&str>,
) -> Result<Vec<Endpoint>, StoreError> {
    let stats = template_stats(client, url, database).await?;
    let keys: Vec<callers::TemplateKey> = stats.iter().map(callers::TemplateKey::of).collect();
    let mut discovered = build_pinned(stats, DiscoveryConfig::default(), pins);
    discovered.retain(|d| host.is_none_or(|h| h == d.endpoint.host));
    callers::count(client, url, database, &keys, &mut discovered).await?;
    Ok(discovered.into_iter().map(|d| d.endpoint).collect())
}

/// Reads the per-template statistics from ClickHouse.
pub async fn template_stats(
    client: &clickhouse::Client,
    url: &str,
    database: &str,
) -> Result<Vec<TemplateStats>, StoreError> {
    client.query(&TEMPLATE_STATS.replace("{db}", database)).fetch_all().await.map_err(StoreError::at(url))
}

#[derive(Debug, Row, Deserialize)]
struct SpecRow {
    body: String,
}

#[derive(Debug, Row, Serialize)]
struct SpecInsert<'a> {
    host: &'a str,
    uploaded_ms: u64,
    uploaded_by: &'a str,
    body: &'a str,
}

/// The latest OpenAPI document uploaded for a host.
pub async fn latest_spec(
    client: &clickhouse::Client,
    url: &str,
    database: &str,
    host: &str,
) -> Result<Option<String>, StoreError> {
    let rows: Vec<SpecRow> = client
        .query(&format!("SELECT body FROM {database}.api_specs WHERE host = ? ORDER BY uploaded_ms DESC LIMIT 1"))
        .bind(host)
        .fetch_all()
        .await
        .map_err(StoreError::at(url))?;
    Ok(rows.into_iter().next().map(|r| r.body))
}

/// Stores an uploaded spec; the newest upload of a host is the one in force.
pub async fn store_spec(
    client: &clickhouse::Client,
    url: &str,
    database: &str,
    host: &str,
    by: &str,
    body: &str,
) -> Result<(), StoreError> {
    let err = StoreError::at(url);
    let now_ms = crate::store::now_ms();
    let client = client.clone().with_database(database);
    // the operations first: a spec in force always has its operations beside it
    if let Ok(operations) = openapi::parse(body) {
        store_operations(&client, url, host, now_ms, &operations).await?;
    }
    let mut insert = client.insert::<SpecInsert<'_>>("api_specs").await.map_err(err)?;
    insert.write(&SpecInsert { host, uploaded_ms: now_ms, uploaded_by: by, body }).await.map_err(err)?;
    insert.end().await.map_err(err)
}

#[derive(Debug, Row, Serialize)]
struct OperationRow<'a> {
    host: &'a str,
    uploaded_ms: u64,
    method: &'a str,
    template: &'a str,
    segments: Vec<&'a str>,
    query_params: &'a [String],
    deprecated: u8,
}

/// The operations of a host's spec uploaded at `uploaded_ms` (`api_operations`), as the
/// shadow-endpoint and undocumented-parameter detectors read them.
pub async fn store_operations(
    client: &clickhouse::Client,
    url: &str,
    host: &str,
    uploaded_ms: u64,
    operations: &[openapi::Operation],
) -> Result<(), StoreError> {
    let err = StoreError::at(url);
    let mut insert = client.insert::<OperationRow<'_>>("api_operations").await.map_err(err)?;
    for op in operations {
        let row = OperationRow {
            host,
            uploaded_ms,
            method: &op.method,
            template: &op.template,
            segments: split_segments(&op.template),
            query_params: &op.query_params,
            deprecated: u8::from(op.deprecated),
        };
        insert.write(&row).await.map_err(err)?;
    }
    insert.end().await.map_err(err)
}

/// A template's non-empty segments, as stored beside an uploaded spec's operations.
fn split_segments(t: &str) -> Vec<&str> {
    meshward_core::endpoint::segments(t).collect()
}

/// Templates operators fix, per host (`*` for every host), applied before discovery: a
/// per-request template under a pin becomes the pin, the most literal pin winning.
#[derive(Debug, Clone, Default)]
pub struct Pins {
    pub by_host: BTreeMap<String, Vec<String>>,
}

impl Pins {
    /// `host=/path/{id}` or `/path/{id}` (every host).
    pub fn parse(entries: &[String]) -> Self {
        let mut pins = Pins::default();
        for entry in entries {
            let (host, template) = match entry.split_once('=') {
                Some((h, t)) if t.starts_with('/') => (h.to_owned(), t.to_owned()),
                _ => ("*".to_owned(), entry.clone()),
            };
            pins.by_host.entry(host).or_default().push(template);
        }
        pins
    }

    pub fn add(&mut self, host: &str, templates: impl IntoIterator<Item = String>) {
        self.by_host.entry(host.to_owned()).or_default().extend(templates);
    }

    fn resolve(&self, host: &str, template: &str) -> Option<String> {
        let pins = self.by_host.get(host).into_iter().chain(self.by_host.get("*")).flatten();
        most_literal_fit(pins, template).cloned()
    }
}

/// Of `templates`, the one that covers `observed` with the most literal segments (the last of
/// equals), as `core::endpoint::fit` counts them.
fn most_literal_fit<'a>(templates: impl Iterator<Item = &'a String>, observed: &str) -> Option<&'a String> {
    templates
        .filter_map(|t| meshward_core::endpoint::fit(t, observed).map(|literals| (literals, t)))
        .max_by_key(|(literals, _)| *literals)
        .map(|(_, t)| t)
}

/// Merges per-request templates into endpoints, host by host.
pub fn build(stats: Vec<TemplateStats>, config: DiscoveryConfig) -> Vec<Discovered> {
    build_pinned(stats, config, &Pins::default())
}

/// `build` with pinned templates (from configuration, the command line, or an uploaded spec,
/// which takes precedence over what discovery would find). Each endpoint comes with the input
/// rows it merged, so that what cannot be added up (callers) can be counted over them.
pub fn build_pinned(stats: Vec<TemplateStats>, config: DiscoveryConfig, pins: &Pins) -> Vec<Discovered> {
    let mut by_host: BTreeMap<String, Vec<(usize, TemplateStats)>> = BTreeMap::new();
    let mut pinned: std::collections::HashSet<(String, String)> = std::collections::HashSet::new();
    // per-request parameters whose raw value never varies (`/1/actions/{id}`) are literals
    let mut constants: BTreeMap<String, meshward_core::Constants> = BTreeMap::new();
    for row in &stats {
        constants.entry(row.authority.clone()).or_default().observe(&row.path_template, &row.sample_paths);
    }
    for (index, mut row) in stats.into_iter().enumerate() {
        if let Some(constants) = constants.get(&row.authority) {
            row.path_template = constants.literal(&row.path_template, &row.sample_paths);
        }
        if let Some(pin) = pins.resolve(&row.authority, &row.path_template) {
            row.path_template = pin;
            pinned.insert((row.authority.clone(), row.path_template.clone()));
        }
        by_host.entry(row.authority.clone()).or_default().push((index, row));
    }
    let mut discovered: BTreeMap<(String, String, String, String), Discovered> = BTreeMap::new();
    for (host, rows) in by_host {
        let mut discovery = Discovery::new(config);
        for (_, row) in &rows {
            if !pinned.contains(&(host.clone(), row.path_template.clone())) && !row.is_attack_path() {
                discovery.observe_call(&row.path_template, row.callers, &row.method, &row.query_params);
            }
        }
        // the API's own templates first: attack paths are then counted on the endpoint they hit
        let (attacks, rows): (Vec<_>, Vec<_>) = rows.into_iter().partition(|(_, row)| row.is_attack_path());
        let mut endpoint_templates: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
        for (index, row) in rows.into_iter().chain(attacks) {
            let template = if pinned.contains(&(host.clone(), row.path_template.clone())) {
                row.path_template.clone()
            } else if row.is_attack_path() {
                // the most literal endpoint of the same method whose template the path fits
                let templates = endpoint_templates.get(&row.method).into_iter().flatten();
                most_literal_fit(templates, &row.path_template).cloned().unwrap_or_else(|| UNMATCHED_ATTACKS.to_owned())
            } else {
                let template = discovery.resolve(&row.path_template);
                endpoint_templates.entry(row.method.clone()).or_default().insert(template.clone());
                template
            };
            let key = (host.clone(), template.clone(), row.method.clone(), row.operation.clone());
            let entry = discovered.entry(key).or_insert_with(|| Discovered {
                endpoint: Endpoint {
                    host: host.clone(),
                    method: row.method.clone(),
                    template,
                    operation: row.operation.clone(),
                    calls: 0,
                    first_seen_ms: u64::MAX,
                    last_seen_ms: 0,
                    statuses: Vec::new(),
                    callers: 0,
                    query_params: Vec::new(),
                    request_fields: Vec::new(),
                    response_fields: Vec::new(),
                    auth: Vec::new(),
                    sensitive: Vec::new(),
                },
                rows: Vec::new(),
            });
            entry.rows.push(index);
            let endpoint = &mut entry.endpoint;
            endpoint.calls += row.calls;
            endpoint.first_seen_ms = endpoint.first_seen_ms.min(row.first_seen_ms);
            endpoint.last_seen_ms = endpoint.last_seen_ms.max(row.last_seen_ms);
            // one client may have called several of the rows: their counts do not add up
            endpoint.callers = endpoint.callers.max(row.callers);
            endpoint.statuses.extend(row.statuses);
            endpoint.query_params.extend(row.query_params);
            endpoint.request_fields.extend(row.request_fields);
            endpoint.response_fields.extend(row.response_fields);
            endpoint.auth.extend(row.auth.into_iter().map(|a| if a.is_empty() { "none".to_owned() } else { a }));
            endpoint.sensitive.extend(row.sensitive);
        }
    }
    let mut discovered: Vec<Discovered> = discovered.into_values().collect();
    for Discovered { endpoint, rows } in &mut discovered {
        rows.sort_unstable();
        endpoint.statuses.sort_unstable();
        endpoint.statuses.dedup();
        for list in [
            &mut endpoint.query_params,
            &mut endpoint.request_fields,
            &mut endpoint.response_fields,
            &mut endpoint.auth,
            &mut endpoint.sensitive,
        ] {
            list.sort_unstable();
            list.dedup();
        }
    }
    discovered
}

/// The endpoints as an aligned text table.
pub fn table(endpoints: &[Endpoint]) -> String {
    let time = |ms: u64| {
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
        humantime::format_rfc3339_seconds(at).to_string()
    };
    let rows: Vec<[String; 9]> = endpoints
        .iter()
        .map(|e| {
            [
                e.host.clone(),
                e.method.clone(),
                e.label(),
                e.calls.to_string(),
                e.callers.to_string(),
                e.statuses.iter().map(u16::to_string).collect::<Vec<_>>().join(","),
                e.auth.join(","),
                time(e.first_seen_ms),
                time(e.last_seen_ms),
            ]
        })
        .collect();
    let header = ["HOST", "METHOD", "ENDPOINT", "CALLS", "CALLERS", "STATUSES", "AUTH", "FIRST SEEN", "LAST SEEN"];
    aligned(&header, &rows)
}

/// Rows as left-aligned columns under a header, two spaces apart.
pub fn aligned<const N: usize>(header: &[&str; N], rows: &[[String; N]]) -> String {
    let widths: Vec<usize> =
        (0..N).map(|i| rows.iter().map(|r| r[i].len()).chain([header[i].len()]).max().unwrap_or(0)).collect();
    let line =
        |cells: Vec<&str>| cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect::<Vec<_>>().join("  ");
    let mut out = line(header.to_vec()).trim_end().to_owned();
    out.push('\n');
    for row in rows {
        out.push_str(line(row.iter().map(String::as_str).collect()).trim_end());
        out.push('\n');
    }
    out
}

/// The endpoints checked against a spec, then the operations never seen.
pub fn comparison_table(c: &openapi::Comparison) -> String {
    let header = ["HOST", "METHOD", "ENDPOINT", "CALLS", "STATUS", "SPEC PATH", "MISMATCHES"];
    let rows: Vec<[String; 7]> = c
        .endpoints
        .iter()
        .map(|e| {
            let status =
                serde_json::to_value(e.status).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
            [
                e.endpoint.host.clone(),
                e.endpoint.method.clone(),
                e.endpoint.template.clone(),
                e.endpoint.calls.to_string(),
                status,
                e.spec_template.clone().unwrap_or_else(|| "-".into()),
                e.mismatches.join("; "),
            ]
        })
        .collect();
    let mut out = aligned(&header, &rows);
    if c.zombies.is_empty() {
        out.push_str("\nno zombie operations: every operation of the spec was called\n");
    } else {
        out.push_str("\nzombie operations (in the spec, never called):\n");
        for op in &c.zombies {
            out.push_str(&format!(
                "  {} {}{}\n",
                op.method,
                op.template,
                if op.deprecated { " (deprecated)" } else { "" }
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(template: &str, calls: u64, callers: u64) -> TemplateStats {
        TemplateStats {
            authority: "api.example.com".into(),
            method: "GET".into(),
            path_template: template.into(),
            calls,
            first_seen_ms: calls,
            last_seen_ms: calls * 10,
            statuses: vec![200],
            callers,
            query_params: vec!["page".into()],
            response_fields: vec!["$.id: integer".into()],
            auth: vec![String::new()],
            ..Default::default()
        }
    }

    #[test]
    fn attack_paths_count_on_the_endpoint_they_hit_or_as_unmatched() {
        let attack = |template: &str| TemplateStats { path_attacks: 1, ..row(template, 1, 1) };
        let mut stats: Vec<TemplateStats> =
            (0..6).map(|i| row(&format!("/api/products/{}x{i}", i * 7), 3, 2)).collect();
        stats.push(row("/api/products/{product_id}", 40, 9));
        stats.push(attack("/api/products/..%2F..%2Fetc%2Fpasswd"));
        stats.push(attack("/wp-admin/setup-config.php"));
        stats.push(attack("/cgi-bin/..%2F..%2Fbin%2Fsh"));
        let endpoints = build(stats, DiscoveryConfig::default());
        let templates: Vec<&str> = endpoints.iter().map(|e| e.endpoint.template.as_str()).collect();
        assert!(!templates.iter().any(|t| t.contains("passwd") || t.contains("wp-admin")), "{templates:?}");
        let products = endpoints.iter().find(|e| e.endpoint.template == "/api/products/{product_id}");
        assert!(
            products.is_some_and(|e| e.rows.contains(&7)),
            "the traversal counts on the product endpoint: {templates:?}"
        );
        let unmatched = endpoints.iter().find(|e| e.endpoint.template == UNMATCHED_ATTACKS);
        assert_eq!(unmatched.map(|e| e.rows.clone()), Some(vec![8, 9]), "{templates:?}");
    }

    #[test]
    fn pins_take_precedence_over_discovery() {
        let mut stats: Vec<TemplateStats> =
            ["acme", "globex", "initech"].iter().map(|n| row(&format!("/org/{n}/members"), 2, 1)).collect();
        stats.push(row("/org/{org_id}/members", 5, 2));
        stats.push(row("/users/me", 7, 3));
        let pins = Pins::parse(&["api.example.com=/org/{org}/members".to_owned(), "/users/{id}".to_owned()]);
        let endpoints = build_pinned(stats, DiscoveryConfig::default(), &pins);
        let listed: Vec<(&str, u64, &[usize])> =
            endpoints.iter().map(|d| (d.endpoint.template.as_str(), d.endpoint.calls, d.rows.as_slice())).collect();
        assert_eq!(listed, vec![("/org/{org}/members", 11, &[0, 1, 2, 3][..]), ("/users/{id}", 7, &[4][..])]);
        // a pin covers a per-request template with as many segments, its literals equal (ASCII
        // case aside) and its parameters matching anything
        let pin = |p: &str, t: &str| most_literal_fit(std::iter::once(&p.to_owned()), t).is_some();
        assert!(pin("/a/{x}", "/A/b") && !pin("/a/{x}", "/a/b/c") && !pin("/a/b", "/a/{x}"));
    }

    #[test]
    fn word_like_ids_merge_and_shared_literals_stay() {
        let mut stats: Vec<TemplateStats> = ["alice", "bob", "carol", "dave", "erin", "frank", "grace"]
            .iter()
            .map(|n| row(&format!("/users/{n}"), 3, 1))
            .collect();
        stats.push(row("/users/me", 500, 40));
        stats.push(row("/users/{user_id}", 100, 30));
        let endpoints = build(stats, DiscoveryConfig::default());
        let listed: Vec<(&str, u64, &[usize])> =
            endpoints.iter().map(|d| (d.endpoint.template.as_str(), d.endpoint.calls, d.rows.as_slice())).collect();
        assert_eq!(
            listed,
            vec![("/users/me", 500, &[7][..]), ("/users/{user_id}", 121, &[0, 1, 2, 3, 4, 5, 6, 8][..])]
        );
        let users = &endpoints[1].endpoint;
        // the seven and the thirty may be the same callers: the floor, not the sum (37)
        assert_eq!((users.first_seen_ms, users.last_seen_ms, users.callers), (3, 1000, 30));
        assert_eq!(
            (users.query_params.as_slice(), users.auth.as_slice()),
            (&["page".to_owned()][..], &["none".to_owned()][..])
        );
    }
}
