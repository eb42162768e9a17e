//! Distinct callers per endpoint, counted in ClickHouse. Discovery merges per-request templates
//! (`/org/acme/members`, `/org/globex/members`) into one endpoint (`/org/{org_id}/members`),
//! and their per-template counts (`TEMPLATE_STATS`) cannot be added up: a client that called
//! both is one caller. Once `build_pinned` has said which rows each endpoint took, one query per
//! batch of merged endpoints gives each its events and counts `uniqExact` of the caller.
//!
//! A query names an endpoint's events in one of two ways, the shorter: the list of its
//! templates, or its shape (`/org/*/members`: the number of segments and the literals) less the
//! shapes of the other endpoints that overlap it and with the templates the shape alone gets
//! wrong listed. Thousands of word-like ids make a long list and a short shape, so a query stays
//! within `MAX_QUERY_BYTES` (ClickHouse refuses queries over `max_query_size`, 256 KiB by
//! default) however many templates were merged.

use super::{caller_sql, Discovered, TemplateStats};
use crate::store::StoreError;
use clickhouse::Row;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};

/// Longest query sent; endpoints are batched within it.
pub const MAX_QUERY_BYTES: usize = 128 * 1024;
/// A template list up to this long is used as it is, without working out the shape.
const SHORT_LIST_BYTES: usize = 1024;

/// The per-request template a row of `TEMPLATE_STATS` is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TemplateKey {
    pub authority: String,
    pub method: String,
    pub path_template: String,
}

impl TemplateKey {
    pub fn of(row: &TemplateStats) -> Self {
        TemplateKey {
            authority: row.authority.clone(),
            method: row.method.clone(),
            path_template: row.path_template.clone(),
        }
    }
}

/// What `queries` makes of the endpoints.
#[derive(Debug, Default)]
pub struct CallerQueries {
    /// each answers rows of `EndpointCallers`
    pub queries: Vec<String>,
    /// merged endpoints (indices) whose events cannot be named within one query
    pub too_large: Vec<usize>,
}

/// One answer row: `endpoint` is the index in the `Discovered` list plus one.
#[derive(Debug, Row, Deserialize)]
pub struct EndpointCallers {
    pub endpoint: u64,
    pub callers: u64,
}

/// Sets the callers of each endpoint that merged several rows of `keys` (the rows given to
/// `build_pinned`) to the distinct callers of all its templates' events. An endpoint of one row
/// has that row's count already. One too large to name in a query keeps its floor, with a
/// warning.
pub async fn count(
    client: &clickhouse::Client,
    url: &str,
    database: &str,
    keys: &[TemplateKey],
    discovered: &mut [Discovered],
) -> Result<(), StoreError> {
    let planned = queries(database, keys, discovered);
    for index in planned.too_large {
        let e = &discovered[index].endpoint;
        tracing::warn!(
            host = %e.host,
            method = %e.method,
            template = %e.template,
            "too many templates to count this endpoint's distinct callers: the most of any one is shown"
        );
    }
    for sql in planned.queries {
        // `query_raw`: a `?` in a template is not a bind
        let rows: Vec<EndpointCallers> = client.query_raw(&sql).fetch_all().await.map_err(StoreError::at(url))?;
        for row in rows {
            let index = usize::try_from(row.endpoint).ok().and_then(|e| e.checked_sub(1));
            if let Some(d) = index.and_then(|i| discovered.get_mut(i)) {
                d.endpoint.callers = row.callers;
            }
        }
    }
    Ok(())
}

/// The queries that count the callers of the endpoints of `discovered` that merged several
/// rows of `keys`. `{db}` is filled with `database`.
pub fn queries(database: &str, keys: &[TemplateKey], discovered: &[Discovered]) -> CallerQueries {
    let mut rows_by_pair: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    for (index, key) in keys.iter().enumerate() {
        rows_by_pair.entry((&key.authority, &key.method)).or_default().push(index);
    }
    let mut endpoints_by_pair: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    for (index, d) in discovered.iter().enumerate() {
        endpoints_by_pair.entry((&d.endpoint.host, &d.endpoint.method)).or_default().push(index);
    }
    let head_bytes = query_sql(database, &[], &HashSet::new()).len();
    let mut planned = CallerQueries::default();
    let mut branches: Vec<String> = Vec::new();
    let mut hosts: HashSet<&str> = HashSet::new();
    let mut bytes = head_bytes;
    for (index, d) in discovered.iter().enumerate() {
        if d.rows.len() < 2 {
            continue;
        }
        let pair = (d.endpoint.host.as_str(), d.endpoint.method.as_str());
        let context = Context {
            keys,
            pool: rows_by_pair.get(&pair).map(Vec::as_slice).unwrap_or_default(),
            discovered,
            neighbours: endpoints_by_pair.get(&pair).map(Vec::as_slice).unwrap_or_default(),
            index,
        };
        let branch = format!("{}, {}", membership_sql(d, &context), index + 1);
        let host_bytes = if hosts.contains(pair.0) { 0 } else { sql_string(pair.0).len() + 2 };
        if head_bytes + branch.len() + host_bytes + 2 > MAX_QUERY_BYTES {
            planned.too_large.push(index);
            continue;
        }
        if bytes + branch.len() + host_bytes + 2 > MAX_QUERY_BYTES {
            planned.queries.push(query_sql(database, &branches, &hosts));
            branches.clear();
            hosts.clear();
            bytes = head_bytes;
        }
        bytes += branch.len() + 2 + if hosts.insert(pair.0) { sql_string(pair.0).len() + 2 } else { 0 };
        branches.push(branch);
    }
    if !branches.is_empty() {
        planned.queries.push(query_sql(database, &branches, &hosts));
    }
    planned
}

/// One query: each branch is `condition, endpoint id`; the events of `hosts` only.
fn query_sql(database: &str, branches: &[String], hosts: &HashSet<&str>) -> String {
    let mut hosts: Vec<String> = hosts.iter().map(|h| sql_string(h)).collect();
    hosts.sort_unstable();
    // the aliases differ from the columns: 18.16 lets an alias reach into a subquery
    format!(
        "SELECT endpoint, uniqExact(caller) AS callers FROM (SELECT toUInt64(multiIf({}, 0)) AS endpoint, \
         {} AS caller, splitByChar('/', path_template) AS inventory_segments \
         FROM {database}.events WHERE authority IN ({})) WHERE endpoint != 0 GROUP BY endpoint",
        branches.join(", "),
        caller_sql!(),
        hosts.join(", ")
    )
}

/// What naming one endpoint's events needs to know.
struct Context<'a> {
    keys: &'a [TemplateKey],
    /// the rows of the endpoint's host and method
    pool: &'a [usize],
    discovered: &'a [Discovered],
    /// the endpoints of its host and method, itself among them
    neighbours: &'a [usize],
    /// the endpoint's index
    index: usize,
}

/// A condition true on the events of the endpoint's rows and on no other row of its host and
/// method (rows the inventory has not read yet may fall under its shape).
fn membership_sql(d: &Discovered, context: &Context<'_>) -> String {
    let pair = format!("authority = {} AND method = {}", sql_string(&d.endpoint.host), sql_string(&d.endpoint.method));
    let templates = d.rows.iter().filter_map(|&row| context.keys.get(row)).map(|k| k.path_template.as_str());
    let list = format!("path_template IN ({})", sql_list(templates));
    if list.len() <= SHORT_LIST_BYTES {
        return format!("{pair} AND {list}");
    }
    let shape = shape_sql(d, context);
    format!("{pair} AND {}", if shape.len() < list.len() { shape } else { list })
}

/// The endpoint's shape, less the shapes of the others that overlap it; the rows this gets
/// wrong, found by trying it on every row of the host and method, listed one way or the other.
fn shape_sql(d: &Discovered, context: &Context<'_>) -> String {
    let shape = Shape::of(&d.endpoint.template);
    let overlapping: Vec<Shape<'_>> = context
        .neighbours
        .iter()
        .filter(|&&other| other != context.index)
        .filter_map(|&other| context.discovered.get(other))
        .map(|other| Shape::of(&other.endpoint.template))
        // a template without parameters is one row: a miss below lists it more briefly
        .filter(|other| other.has_parameter() && other.overlaps(&shape))
        .collect();
    let members: HashSet<usize> = d.rows.iter().copied().collect();
    let (mut missed, mut taken) = (Vec::new(), Vec::new());
    for &row in context.pool {
        let Some(key) = context.keys.get(row) else { continue };
        let template = key.path_template.as_str();
        let matched = shape.matches(template) && !overlapping.iter().any(|o| o.matches(template));
        match (members.contains(&row), matched) {
            (true, false) => missed.push(template),
            (false, true) => taken.push(template),
            _ => {}
        }
    }
    let mut condition = shape.sql();
    if !overlapping.is_empty() {
        let others: Vec<String> = overlapping.iter().map(Shape::sql).collect();
        condition.push_str(&format!(" AND NOT ({})", others.join(" OR ")));
    }
    if !taken.is_empty() {
        condition.push_str(&format!(" AND path_template NOT IN ({})", sql_list(taken)));
    }
    if missed.is_empty() {
        format!("({condition})")
    } else {
        format!("(({condition}) OR path_template IN ({}))", sql_list(missed))
    }
}

/// A template's segments split on `/` as `splitByChar` splits them, parameters as `None`.
struct Shape<'a> {
    segments: Vec<Option<&'a str>>,
}

impl<'a> Shape<'a> {
    fn of(template: &'a str) -> Self {
        let is_parameter = |s: &str| s.len() >= 2 && s.starts_with('{') && s.ends_with('}');
        Shape { segments: template.split('/').map(|s| (!is_parameter(s)).then_some(s)).collect() }
    }

    fn has_parameter(&self) -> bool {
        self.segments.iter().any(Option::is_none)
    }

    /// Whether a path could fall under both.
    fn overlaps(&self, other: &Shape<'_>) -> bool {
        self.segments.len() == other.segments.len()
            && self.segments.iter().zip(&other.segments).all(|pair| match pair {
                (Some(a), Some(b)) => a == b,
                _ => true,
            })
    }

    /// As the SQL of `sql` decides it.
    fn matches(&self, path: &str) -> bool {
        let mut segments = path.split('/');
        self.segments.iter().all(|literal| match (segments.next(), literal) {
            (Some(segment), Some(literal)) => segment == *literal,
            (Some(_), None) => true,
            (None, _) => false,
        }) && segments.next().is_none()
    }

    fn sql(&self) -> String {
        let mut conditions = vec![format!("length(inventory_segments) = {}", self.segments.len())];
        for (i, literal) in self.segments.iter().enumerate() {
            if let Some(literal) = literal {
                conditions.push(format!("inventory_segments[{}] = {}", i + 1, sql_string(literal)));
            }
        }
        conditions.join(" AND ")
    }
}

fn sql_list<'s>(values: impl IntoIterator<Item = &'s str>) -> String {
    values.into_iter().map(sql_string).collect::<Vec<_>>().join(", ")
}

/// A ClickHouse string literal.
fn sql_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{build, Endpoint};
    use meshward_core::DiscoveryConfig;

    fn key(path_template: &str) -> TemplateKey {
        TemplateKey { authority: "api.example".into(), method: "GET".into(), path_template: path_template.into() }
    }

    /// An endpoint of `api.example` made of these rows, as `build_pinned` would give it.
    fn endpoint(template: &str, rows: Vec<usize>) -> Discovered {
        Discovered {
            endpoint: Endpoint {
                host: "api.example".into(),
                method: "GET".into(),
                template: template.into(),
                operation: String::new(),
                calls: 0,
                first_seen_ms: 0,
                last_seen_ms: 0,
                statuses: Vec::new(),
                callers: 1,
                query_params: Vec::new(),
                request_fields: Vec::new(),
                response_fields: Vec::new(),
                auth: Vec::new(),
                sensitive: Vec::new(),
            },
            rows,
        }
    }

    /// `build` over these templates, one caller each but `/org/me/members`'s many.
    fn discover(templates: &[String]) -> Vec<Discovered> {
        let stats = templates
            .iter()
            .map(|t| TemplateStats {
                authority: "api.example".into(),
                method: "GET".into(),
                path_template: t.clone(),
                calls: 1,
                statuses: vec![200],
                callers: if t == "/org/me/members" { 200 } else { 1 },
                ..Default::default()
            })
            .collect();
        build(stats, DiscoveryConfig::default())
    }

    #[test]
    fn a_few_merged_templates_are_listed() {
        let keys = [key("/org/acme/members"), key("/org/globex/members"), key("/users/me")];
        let discovered = [endpoint("/org/{org_id}/members", vec![0, 1]), endpoint("/users/me", vec![2])];
        let planned = queries("db", &keys, &discovered);
        assert!(planned.too_large.is_empty());
        assert_eq!(
            planned.queries,
            ["SELECT endpoint, uniqExact(caller) AS callers FROM (SELECT toUInt64(multiIf(\
              authority = 'api.example' AND method = 'GET' AND path_template IN ('/org/acme/members', '/org/globex/members'), 1, 0)) AS endpoint, \
              if(caller_id != '', caller_id, client_ip) AS caller, splitByChar('/', path_template) AS inventory_segments \
              FROM db.events WHERE authority IN ('api.example')) WHERE endpoint != 0 GROUP BY endpoint"],
            "the endpoint of one row has its count already"
        );
    }

    #[test]
    fn thousands_of_word_like_ids_are_named_by_their_shape() {
        let words = ["north", "south", "east", "west", "blue", "green", "red", "amber", "grey", "white"];
        let mut templates = Vec::new();
        for a in words {
            for b in words {
                templates.extend(words.iter().map(|c| format!("/org/{a}-{b}-{c}/members")));
            }
        }
        templates.push("/org/me/members".into());
        templates.push("/org/acme/members/{member_id}".into());
        let discovered = discover(&templates);
        let members = discovered.iter().position(|d| d.endpoint.template == "/org/{org_id}/members");
        let Some(members) = members else { panic!("not merged: {discovered:?}") };
        assert_eq!(discovered[members].rows.len(), 1000);
        let keys: Vec<TemplateKey> = templates.iter().map(|t| key(t)).collect();
        let planned = queries("db", &keys, &discovered);
        let [sql] = planned.queries.as_slice() else { panic!("{planned:?}") };
        assert!(sql.len() < 2_000, "no list of a thousand templates: {sql}");
        assert!(
            sql.contains(&format!(
                "(length(inventory_segments) = 4 AND inventory_segments[1] = '' AND inventory_segments[2] = 'org' \
                 AND inventory_segments[4] = 'members' AND path_template NOT IN ('/org/me/members')), {}",
                members + 1
            )),
            "the literal beside the parameter is left out: {sql}"
        );
    }

    #[test]
    fn rows_the_shape_gets_wrong_are_listed() {
        // a pin matches literals whatever their case; the shape, as ClickHouse compares, does not
        let mut keys: Vec<TemplateKey> =
            (0..100).map(|i| key(&format!("/org/organisation-number-{i}/members"))).collect();
        keys.push(key("/Org/Initech/members"));
        keys.push(key("/org/me/members"));
        let discovered = [endpoint("/org/{org}/members", (0..101).collect()), endpoint("/org/me/members", vec![101])];
        let sql = membership_sql(
            &discovered[0],
            &Context {
                keys: &keys,
                pool: &(0..102).collect::<Vec<_>>(),
                discovered: &discovered,
                neighbours: &[0, 1],
                index: 0,
            },
        );
        assert!(
            sql.ends_with(
                "AND path_template NOT IN ('/org/me/members')) OR path_template IN ('/Org/Initech/members'))"
            ),
            "{sql}"
        );
        let shape = Shape::of("/org/{org}/members");
        assert!(shape.matches("/org/x/members") && !shape.matches("/org/x/members/") && !shape.matches("/org/members"));
        assert!(shape.overlaps(&Shape::of("/{a}/me/members")) && !shape.overlaps(&Shape::of("/org/{o}/teams")));
    }

    #[test]
    fn queries_stay_within_the_limit() {
        // 400 merged endpoints of 20 templates, each listed: many batches, each endpoint in one
        let mut keys = Vec::new();
        let mut discovered = Vec::new();
        for e in 0..400 {
            let first = keys.len();
            keys.extend((0..20).map(|i| key(&format!("/resource-{e}/{i}-{}", "x".repeat(20)))));
            discovered.push(endpoint(&format!("/resource-{e}/{{id}}"), (first..keys.len()).collect()));
        }
        let planned = queries("db", &keys, &discovered);
        assert!(planned.queries.len() > 1 && planned.too_large.is_empty());
        assert!(planned.queries.iter().all(|q| q.len() <= MAX_QUERY_BYTES));
        for e in 0..400 {
            let with = planned.queries.iter().filter(|q| q.contains(&format!("'/resource-{e}/0-"))).count();
            assert_eq!(with, 1, "endpoint {e}");
        }

        // an endpoint whose list and shape are both too long is left with its floor
        let mut keys: Vec<TemplateKey> = (0..6000).map(|i| key(&format!("/x/member-{i}-{}", "m".repeat(30)))).collect();
        keys.extend((0..6000).map(|i| key(&format!("/x/other-{i}-{}", "o".repeat(30)))));
        let mut discovered = vec![endpoint("/x/{id}", (0..6000).collect())];
        discovered.extend((6000..12000).map(|row| endpoint(&keys[row].path_template.clone(), vec![row])));
        let planned = queries("db", &keys, &discovered);
        assert_eq!((planned.queries.len(), planned.too_large.as_slice()), (0, &[0][..]));
    }

    #[test]
    fn literals_are_quoted() {
        assert_eq!(sql_string("a'b\\c\n"), "'a\\'b\\\\c\\n'");
    }
}
