//! The detectors: each a documented SQL rule over the events of a window `[from, to)` (epoch
//! seconds) and the hourly baselines before it, so the same rule runs live on a schedule and over
//! past data. Every rule returns rows of one shape: the subject (a client address, a caller, an
//! endpoint), the endpoint, the measured value, what it is compared with, the events it rests
//! on, details (classes, ...) and sample request ids as evidence.
//!
//! Rules read the raw rows (`http_events`), not the exactly-once `events` view: `FINAL` over a
//! day's partition costs seconds per rule on ClickHouse 18.16 (BENCHMARKS.md), and a batch
//! written twice, which is rare, counts twice here as it does in the baselines. History comes
//! from the baselines (`endpoint_hourly`, `caller_hourly`) for whole hours and from raw rows
//! for the part of the current hour before the window.

use crate::config::DetectConfig;
use serde::Serialize;

/// One detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// a surge of 401/403 from one source against login-like endpoints
    CredentialStuffing,
    /// 401/403 against login-like endpoints spread over many sources
    DistributedStuffing,
    /// one caller touching far more distinct objects of a templated endpoint than its peers,
    /// and more within the window than in any hour of its own past
    Enumeration,
    /// a response field carrying a sensitive class the endpoint did not return before
    DataExposure,
    /// an endpoint's responses carrying far more sensitive records each than usual (median +
    /// 6 MAD and 3 times the median of its hours), once the baseline rests on 6 hours or more
    SensitiveRise,
    /// an endpoint template seen for the first time on a host that had traffic before (a host
    /// seen for the first time is a new deployment, not an anomaly), documented in the host's
    /// spec or on a host without one
    NewEndpoint,
    /// like a new endpoint, on a host with an uploaded spec that does not document it
    ShadowEndpoint,
    /// a query parameter the spec does not document, on a documented endpoint, not seen there
    /// in the history before the window
    UndocumentedParameter,
    /// an endpoint's share of 5xx far above its recent hours
    ErrorSpike,
    /// many requests with attack findings from one source
    AttackBurst,
    /// an endpoint's request rate far above its hourly baseline (median + 6 MAD, and 3 times
    /// the median). The baseline is seasonal once there is enough history: the same hour of
    /// the week (3 weeks or more), else the same hour of the day (3 days or more), else the
    /// last 24 hours (6 hours or more)
    RateSpike,
    /// an endpoint's p99 latency far above the median of its hourly p99s
    LatencySpike,
}

pub const KINDS: &[Kind] = &[
    Kind::CredentialStuffing,
    Kind::DistributedStuffing,
    Kind::Enumeration,
    Kind::DataExposure,
    Kind::SensitiveRise,
    Kind::NewEndpoint,
    Kind::ShadowEndpoint,
    Kind::UndocumentedParameter,
    Kind::ErrorSpike,
    Kind::AttackBurst,
    Kind::RateSpike,
    Kind::LatencySpike,
];

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::CredentialStuffing => "credential_stuffing",
            Kind::DistributedStuffing => "distributed_stuffing",
            Kind::Enumeration => "enumeration",
            Kind::DataExposure => "data_exposure",
            Kind::SensitiveRise => "sensitive_rise",
            Kind::NewEndpoint => "new_endpoint",
            Kind::ShadowEndpoint => "shadow_endpoint",
            Kind::UndocumentedParameter => "undocumented_parameter",
            Kind::ErrorSpike => "error_spike",
            Kind::AttackBurst => "attack_burst",
            Kind::RateSpike => "rate_spike",
            Kind::LatencySpike => "latency_spike",
        }
    }

    pub fn severity(self) -> &'static str {
        match self {
            Kind::CredentialStuffing | Kind::DistributedStuffing | Kind::DataExposure => "high",
            Kind::Enumeration | Kind::AttackBurst | Kind::SensitiveRise => "high",
            Kind::ErrorSpike | Kind::RateSpike | Kind::LatencySpike | Kind::ShadowEndpoint => "medium",
            Kind::NewEndpoint | Kind::UndocumentedParameter => "low",
        }
    }

    /// What `value` and `baseline` mean, for the evidence.
    pub fn measures(self) -> (&'static str, &'static str) {
        match self {
            Kind::CredentialStuffing => ("failed_logins", "login_attempts"),
            Kind::DistributedStuffing => ("failed_logins", "sources"),
            Kind::Enumeration => ("distinct_objects", "peer_median_objects"),
            Kind::DataExposure => ("responses", "responses_before"),
            Kind::SensitiveRise => ("records_per_response", "usual_records_per_response"),
            Kind::NewEndpoint | Kind::ShadowEndpoint | Kind::UndocumentedParameter => ("calls", "calls_before"),
            Kind::ErrorSpike => ("server_error_share", "usual_share_p90"),
            Kind::AttackBurst => ("attack_requests", "endpoints"),
            Kind::RateSpike => ("requests_per_hour", "usual_requests_per_hour"),
            Kind::LatencySpike => ("p99_ms", "usual_p99_ms"),
        }
    }
}

/// Templates of login-like endpoints.
// no '?' in the SQL: the client reads it as a bind placeholder, hence lower() instead of (?i)
const LOGIN_LIKE: &str = "match(lower(path_template), '(login|signin|sign-in|auth|token|session|password)')";

/// An endpoint as the rules name it: `GET /users/{user_id}`.
const ENDPOINT: &str = "concat(method, ' ', path_template)";

/// The whole hours of a baseline table in `[past, from)`: the hour `from` falls in is not
/// whole yet, and rules take it from raw rows where they need it.
fn whole_hours(past: u64, from: u64) -> String {
    format!("hour >= toDateTime({past}) AND hour < toStartOfHour(toDateTime({from}))")
}

/// What the spike rules (rate, latency, 5xx) measure: the end of the window, in seconds.
const RECENT_S: u64 = 120;

/// What one finding `f` (a tuple whose fourth element is its part) stands for: bodies are
/// inspected for a sample of exchanges, each inspected one standing for `inspection_weight`;
/// paths, queries and headers are scanned on every exchange.
const FINDING_WEIGHT: &str = "if(f.4 = 'body', inspection_weight, 1)";

/// The sensitive records (values of a sensitive class) a response carried; events from before
/// findings were counted have count 0 and count one each.
const RESPONSE_RECORDS: &str =
    "arraySum(arrayMap((n, d) -> if(d = 2, greatest(n, 1), 0), `sensitive.count`, `sensitive.direction`))";

/// Whether the spec path segments `spec` fit a template's or path's segments `observed` (two
/// array expressions; `segments` makes them): `core::endpoint::fit` in SQL (as many segments,
/// each spec segment a `{parameter}` or the same literal, ASCII case ignored), which the SQL
/// compatibility test holds it to. ClickHouse 18.16's lambdas see only their own arguments, and
/// `arrayAll` wants arrays of one size even where the lengths already differ: hence the padding.
pub fn fits(spec: &str, observed: &str) -> String {
    let size = format!("greatest(length({spec}), length({observed}))");
    format!(
        "(length({spec}) = length({observed}) AND arrayAll((a, b) -> (substring(a, 1, 1) = '{{' AND substring(a, length(a), 1) = '}}') \
         OR lower(a) = lower(b), arrayResize({spec}, {size}, ''), arrayResize({observed}, {size}, '')))"
    )
}

/// The segments of a path or template column, as `core::endpoint::segments` splits them.
pub fn segments(column: &str) -> String {
    format!("arrayFilter(x -> x != '', splitByChar('/', {column}))")
}

/// Hosts with a spec in force at `to`.
fn spec_hosts(db: &str, to: u64) -> String {
    format!("SELECT host FROM {db}.api_operations WHERE uploaded_ms < {}", to * 1000)
}

/// The position (1-based, 0 for none) in `op_paths` of the operation that documents the
/// template segments `t` or the path segments `p`.
fn matched_operation() -> String {
    format!(
        "arrayFirstIndex((s, ot, op) -> {} OR {}, op_paths, replicate(t, op_paths), replicate(p, op_paths))",
        fits("s", "ot"),
        fits("s", "op")
    )
}

/// A value a rule's SQL takes, written as its type says.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// the database the tables are in
    Database(String),
    /// epoch seconds, epoch milliseconds, a count, a threshold
    Int(u64),
    /// a share or factor (a ClickHouse Float64 literal)
    Float(f64),
    /// SQL written here: an expression, a condition, a subquery
    Sql(String),
}

impl Value {
    fn write(&self, out: &mut String) {
        use std::fmt::Write;
        match self {
            Value::Database(name) | Value::Sql(name) => out.push_str(name),
            Value::Int(n) => {
                let _ = write!(out, "{n}");
            }
            Value::Float(x) if x.is_nan() => out.push_str("nan"),
            Value::Float(x) if x.is_infinite() => out.push_str(if *x > 0.0 { "inf" } else { "-inf" }),
            Value::Float(x) => {
                let _ = write!(out, "{x}");
            }
        }
    }
}

/// The values of one rendering, by placeholder name.
pub type Values = Vec<(&'static str, Value)>;

/// Whether `name` can be a placeholder: `{name}`, lower-case letters, digits and `_`, as in
/// `{db}` or `{history_hours}`. Any other brace is SQL (`position(path_template, '{')`).
fn placeholder_at(text: &str) -> Option<&str> {
    let rest = text.strip_prefix('{')?;
    let end = rest.find('}')?;
    let name = &rest[..end];
    let valid = !name.is_empty()
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    valid.then_some(name)
}

/// The placeholders a template names, in order (repeats included).
pub fn placeholders(template: &str) -> Vec<String> {
    let body = strip_comments(template);
    body.match_indices('{').filter_map(|(at, _)| placeholder_at(&body[at..]).map(str::to_owned)).collect()
}

/// The template without its whole-line `--` comments (they document the files; SQL sent to
/// the server carries none).
fn strip_comments(template: &str) -> String {
    let lines: Vec<&str> = template.lines().filter(|l| !l.trim_start().starts_with("--")).collect();
    lines.join("\n").trim().to_owned()
}

/// A template with each `{name}` replaced by its value (one pass: values are not scanned
/// again). A name without a value stays as it is, which the server refuses; the tests render
/// every rule and find none.
pub fn render(template: &str, values: &[(&str, Value)]) -> String {
    let body = strip_comments(template);
    let mut out = String::with_capacity(body.len() * 2);
    let mut rest = body.as_str();
    while let Some(at) = rest.find('{') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        match placeholder_at(tail).and_then(|name| values.iter().find(|(n, _)| *n == name).map(|v| (name, &v.1))) {
            Some((name, value)) => {
                value.write(&mut out);
                rest = &tail[name.len() + 2..];
            }
            None => {
                out.push('{');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Each rule's SQL, one file per rule (`detect/sql/<kind>.sql`), and the parts some share.
pub fn template(kind: Kind) -> &'static str {
    match kind {
        Kind::CredentialStuffing => include_str!("sql/credential_stuffing.sql"),
        Kind::DistributedStuffing => include_str!("sql/distributed_stuffing.sql"),
        Kind::Enumeration => include_str!("sql/enumeration.sql"),
        Kind::DataExposure => include_str!("sql/data_exposure.sql"),
        Kind::SensitiveRise => include_str!("sql/sensitive_rise.sql"),
        Kind::NewEndpoint => include_str!("sql/new_endpoint.sql"),
        Kind::ShadowEndpoint => include_str!("sql/shadow_endpoint.sql"),
        Kind::UndocumentedParameter => include_str!("sql/undocumented_parameter.sql"),
        Kind::ErrorSpike => include_str!("sql/error_spike.sql"),
        Kind::AttackBurst => include_str!("sql/attack_burst.sql"),
        Kind::RateSpike => include_str!("sql/rate_spike.sql"),
        Kind::LatencySpike => include_str!("sql/latency_spike.sql"),
    }
}

const SEEN_BEFORE: &str = include_str!("sql/parts/seen_before.sql");
const SPEC_OPERATIONS: &str = include_str!("sql/parts/spec_operations.sql");
const FRESH_ENDPOINTS: &str = include_str!("sql/parts/fresh_endpoints.sql");

/// `ts` in `[from, to)`.
fn window(from: u64, to: u64) -> String {
    format!("ts >= toDateTime({from}) AND ts < toDateTime({to})")
}

/// Rows `(authority, method, path_template)` of the endpoints seen in `[past, from)`.
fn seen_before(db: &str, past: u64, from: u64) -> String {
    render(
        SEEN_BEFORE,
        &[
            ("db", Value::Database(db.to_owned())),
            ("hours", Value::Sql(whole_hours(past, from))),
            ("from", Value::Int(from)),
        ],
    )
}

/// The operations in force at `to` per host and method (`parts/spec_operations.sql`).
fn spec_operations(db: &str, to: u64) -> String {
    render(SPEC_OPERATIONS, &[("db", Value::Database(db.to_owned())), ("to_ms", Value::Int(to * 1000))])
}

/// Endpoints first seen in `[from, to)` (`parts/fresh_endpoints.sql`).
fn fresh_endpoints(db: &str, from: u64, to: u64, past: u64, min: u64) -> String {
    render(
        FRESH_ENDPOINTS,
        &[
            ("db", Value::Database(db.to_owned())),
            ("from", Value::Int(from)),
            ("to", Value::Int(to)),
            ("endpoint", Value::Sql(ENDPOINT.to_owned())),
            ("before", Value::Sql(seen_before(db, past, from))),
            ("min", Value::Int(min)),
            ("matched", Value::Sql(matched_operation())),
            ("hosts", Value::Sql(spec_hosts(db, to))),
            ("t", Value::Sql(segments("any(path_template)"))),
            ("p", Value::Sql(segments("any(path)"))),
            ("ops", Value::Sql(spec_operations(db, to))),
        ],
    )
}

/// The values every rule may take: the database, the window and its parts, and the shared
/// expressions.
fn common_values(database: &str, from: u64, to: u64, config: &DetectConfig) -> Values {
    // spikes are judged on the last two minutes: a longer window dilutes a sudden change
    let recent_from = to.saturating_sub(RECENT_S).max(from);
    // how far back "before" reaches, and its whole hours in the baselines (`{history_hours}`);
    // the spike rules' baselines cover the past day (`{day_hours}`)
    let history = from.saturating_sub(config.history_days * 86_400);
    vec![
        ("db", Value::Database(database.to_owned())),
        ("from", Value::Int(from)),
        ("to", Value::Int(to)),
        ("window", Value::Sql(window(from, to))),
        ("recent", Value::Sql(window(recent_from, to))),
        ("endpoint", Value::Sql(ENDPOINT.to_owned())),
        ("login_like", Value::Sql(LOGIN_LIKE.to_owned())),
        ("finding_weight", Value::Sql(FINDING_WEIGHT.to_owned())),
        ("response_records", Value::Sql(RESPONSE_RECORDS.to_owned())),
        ("history_hours", Value::Sql(whole_hours(history, from))),
        ("day_hours", Value::Sql(whole_hours(from.saturating_sub(86_400), from))),
    ]
}

/// The values only `kind`'s rule takes (its thresholds and subqueries).
fn rule_values(kind: Kind, database: &str, from: u64, to: u64, config: &DetectConfig) -> Values {
    let db = database;
    let history = from.saturating_sub(config.history_days * 86_400);
    let recent_from = to.saturating_sub(RECENT_S).max(from);
    let fresh = || Value::Sql(fresh_endpoints(db, from, to, history, config.new_endpoint_min_calls));
    match kind {
        Kind::CredentialStuffing => vec![("min", Value::Int(config.stuffing_min_failures))],
        Kind::DistributedStuffing => vec![
            ("failures", Value::Int(config.stuffing_spread_failures)),
            ("sources", Value::Int(config.stuffing_spread_sources)),
        ],
        Kind::Enumeration => vec![
            ("min", Value::Int(config.enumeration_min_objects)),
            ("factor", Value::Int(config.enumeration_peer_factor)),
        ],
        Kind::DataExposure => vec![("before", Value::Sql(seen_before(db, history, from)))],
        // on a host with a spec, an operation that goes live: its first template, not every new
        // value of a word-like id under an operation already called (`/users/carol` after
        // `/users/alice`)
        Kind::NewEndpoint => vec![
            ("fresh", fresh()),
            ("fits", Value::Sql(fits("s", "ot"))),
            ("t", Value::Sql(segments("path_template"))),
            ("before", Value::Sql(seen_before(db, history, from))),
            ("ops", Value::Sql(spec_operations(db, to))),
        ],
        Kind::ShadowEndpoint => vec![("fresh", fresh())],
        Kind::UndocumentedParameter => vec![
            ("matched", Value::Sql(matched_operation())),
            ("t", Value::Sql(segments("path_template"))),
            ("p", Value::Sql(segments("path"))),
            ("hosts", Value::Sql(spec_hosts(db, to))),
            ("ops", Value::Sql(spec_operations(db, to))),
            ("min", Value::Int(config.undocumented_parameter_min_calls)),
        ],
        Kind::SensitiveRise | Kind::LatencySpike => vec![("min", Value::Int(config.error_min_requests))],
        Kind::ErrorSpike => vec![
            ("min", Value::Int(config.error_min_requests)),
            ("floor", Value::Float(config.error_min_share)),
            ("factor", Value::Float(config.error_factor)),
        ],
        Kind::RateSpike => vec![
            ("span", Value::Int(to.saturating_sub(recent_from).max(1))),
            ("hours", Value::Sql(whole_hours(from.saturating_sub(config.seasonal_days.max(1) * 86_400), from))),
            ("past_week", Value::Int(from.saturating_sub(7 * 86_400))),
            ("past_day", Value::Int(from.saturating_sub(86_400))),
            ("min", Value::Int(config.error_min_requests)),
        ],
        Kind::AttackBurst => vec![("min", Value::Int(config.attack_burst_min))],
    }
}

/// The window the snapshots of the rendered SQL (`detect/sql/snapshots/`) are taken for.
pub const SNAPSHOT_WINDOW: (u64, u64) = (1_790_000_000, 1_790_000_300);

/// The SQL of one detector for `[from, to)`: its file rendered with its values.
pub fn sql(kind: Kind, database: &str, from: u64, to: u64, config: &DetectConfig) -> String {
    let mut values = rule_values(kind, database, from, to, config);
    values.extend(common_values(database, from, to, config));
    render(template(kind), &values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_detector_has_a_window_and_the_common_shape() {
        let config = DetectConfig::default();
        for kind in KINDS {
            let sql = sql(*kind, "db", 1_000_000, 1_000_300, &config);
            assert!(sql.contains("toDateTime(1000000)"), "{sql}");
            assert!(!sql.contains('?'), "the client would take '?' for a bind placeholder: {sql}");
            for column in ["AS subject", "AS value", "AS baseline", "AS details", "samples"] {
                assert!(sql.contains(column), "{kind:?} lacks {column}: {sql}");
            }
        }
    }

    /// The rendered SQL of every rule, as `sql/snapshots/<kind>.sql` holds it (database
    /// `meshward`, the default configuration, the window `SNAPSHOT_WINDOW`); the SQL
    /// compatibility test runs the same on both servers. `MESHWARD_UPDATE_SNAPSHOTS=1` writes
    /// them anew.
    #[test]
    fn rendered_sql_matches_the_snapshots() -> std::io::Result<()> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/detect/sql/snapshots");
        let update = std::env::var_os("MESHWARD_UPDATE_SNAPSHOTS").is_some();
        let (from, to) = SNAPSHOT_WINDOW;
        for kind in KINDS {
            let rendered = sql(*kind, "meshward", from, to, &DetectConfig::default());
            let file = dir.join(format!("{}.sql", kind.as_str()));
            if update {
                std::fs::create_dir_all(&dir)?;
                std::fs::write(&file, format!("{rendered}\n"))?;
                continue;
            }
            let stored = std::fs::read_to_string(&file).unwrap_or_default();
            assert_eq!(
                stored.trim_end(),
                rendered,
                "{} differs from the rendered SQL (MESHWARD_UPDATE_SNAPSHOTS=1 writes it anew)",
                file.display()
            );
        }
        Ok(())
    }

    /// Every placeholder of every file has a value, and every value of a rule's own is used.
    #[test]
    fn every_placeholder_has_a_value_and_every_value_a_place() {
        let config = DetectConfig::default();
        let common: Vec<&str> = common_values("db", 1, 2, &config).iter().map(|(n, _)| *n).collect();
        for kind in KINDS {
            let own = rule_values(*kind, "db", 1, 2, &config);
            let names = placeholders(template(*kind));
            for (name, _) in &own {
                assert!(!common.contains(name), "{kind:?}: {name} is a common value too");
                assert!(names.iter().any(|n| n == name), "{kind:?} takes {name} and does not use it");
            }
            for name in &names {
                let known = common.contains(&name.as_str()) || own.iter().any(|(n, _)| n == name);
                assert!(known, "{kind:?} names {{{name}}} without a value");
            }
            let rendered = sql(*kind, "db", 1_000_000, 1_000_300, &config);
            assert!(placeholders(&rendered).is_empty(), "{kind:?} left placeholders: {rendered}");
            assert!(!rendered.contains("--"), "{kind:?} kept a comment: {rendered}");
        }
        let parts = fresh_endpoints("db", 1, 2, 0, 1) + &seen_before("db", 0, 1) + &spec_operations("db", 2);
        assert!(placeholders(&parts).is_empty(), "{parts}");
    }

    #[test]
    fn values_render_by_type() {
        let values = [
            ("db", Value::Database("d".into())),
            ("n", Value::Int(7)),
            ("x", Value::Float(0.25)),
            ("y", Value::Float(3.0)),
            ("s", Value::Sql("a = '{b}'".into())),
        ];
        let template =
            "-- a comment {n}\nSELECT {n}, {x}, {y} FROM {db}.t WHERE {s} AND position(p, '{') > 0 AND {unknown}";
        assert_eq!(
            render(template, &values),
            "SELECT 7, 0.25, 3 FROM d.t WHERE a = '{b}' AND position(p, '{') > 0 AND {unknown}"
        );
        assert_eq!(placeholders(template), ["n", "x", "y", "db", "s", "unknown"]);
    }
}
