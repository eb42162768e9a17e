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

/// Whether spec path segments `s` fit a template's or path's segments `{o}`: as many, and
/// each spec segment a `{parameter}` or the same literal (as the inventory compares them).
/// ClickHouse 18.16's lambdas see only their own arguments, and `arrayAll` wants arrays of one
/// size even where the lengths already differ: hence the padding.
fn fits(o: &str) -> String {
    let size = format!("greatest(length(s), length({o}))");
    format!(
        "(length(s) = length({o}) AND arrayAll((a, b) -> (substring(a, 1, 1) = '{{' AND substring(a, length(a), 1) = '}}') \
         OR lower(a) = lower(b), arrayResize(s, {size}, ''), arrayResize({o}, {size}, '')))"
    )
}

/// The segments of a path or template column.
fn segments(column: &str) -> String {
    format!("arrayFilter(x -> x != '', splitByChar('/', {column}))")
}

/// The operations in force at `to` per host and method (the latest spec upload of each host):
/// columns `authority`, `method`, `op_paths` (segments per operation), `op_params`,
/// `op_templates` (in one order).
fn spec_operations(db: &str, to: u64) -> String {
    format!(
        "SELECT host AS authority, method, groupArray(segments) AS op_paths, groupArray(query_params) AS op_params, \
         groupArray(template) AS op_templates \
         FROM {db}.api_operations WHERE (host, uploaded_ms) IN ( \
           SELECT host, max(uploaded_ms) FROM {db}.api_operations WHERE uploaded_ms < {to_ms} GROUP BY host) \
         GROUP BY host, method",
        to_ms = to * 1000
    )
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
        fits("ot"),
        fits("op")
    )
}

/// Rows `(authority, method, path_template)` of the endpoints seen in `[past, from)`: whole
/// hours from the baseline, the rest of the hour before `from` from raw rows.
fn seen_before(db: &str, past: u64, from: u64) -> String {
    format!(
        "SELECT authority, method, path_template FROM {db}.endpoint_hourly WHERE {hours} \
         UNION ALL SELECT authority, method, path_template FROM {db}.http_events \
         WHERE ts >= toStartOfHour(toDateTime({from})) AND ts < toDateTime({from})",
        hours = whole_hours(past, from)
    )
}

/// Endpoints (host, method, template) first seen in `[from, to)` on hosts that had traffic
/// before, with their documented operation (`matched`, 0 for none) and whether the host has a
/// spec (`specced`). Calls answered 404 or 405 do not count: a scanner's guesses are not
/// endpoints.
fn fresh_endpoints(db: &str, from: u64, to: u64, past: u64, min: u64) -> String {
    let endpoint = ENDPOINT;
    let before = seen_before(db, past, from);
    format!(
        "SELECT authority AS subject, endpoint, toFloat64(calls) AS value, toFloat64(0) AS baseline, \
         calls AS events, emptyArrayString() AS details, samples, {matched} AS matched, \
         authority IN ({hosts}) AS specced, authority, method, op_templates FROM ( \
           SELECT authority, method, {endpoint} AS endpoint, {t} AS t, {p} AS p, \
                  countIf(status NOT IN (404, 405)) AS calls, groupArray(5)(request_id) AS samples \
           FROM {db}.http_events WHERE ts >= toDateTime({from}) AND ts < toDateTime({to}) \
             AND authority IN (SELECT authority FROM ({before})) \
             AND (authority, method, path_template) NOT IN ({before}) \
           GROUP BY authority, method, path_template HAVING calls >= {min}) AS fresh \
         ANY LEFT JOIN ({ops}) AS ops USING authority, method",
        matched = matched_operation(),
        hosts = spec_hosts(db, to),
        t = segments("any(path_template)"),
        p = segments("any(path)"),
        ops = spec_operations(db, to),
    )
}

/// The SQL of one detector for `[from, to)`.
pub fn sql(kind: Kind, database: &str, from: u64, to: u64, config: &DetectConfig) -> String {
    let db = database;
    let window = format!("ts >= toDateTime({from}) AND ts < toDateTime({to})");
    // spikes are judged on the last two minutes: a longer window dilutes a sudden change
    let recent_from = to.saturating_sub(RECENT_S).max(from);
    let recent = format!("ts >= toDateTime({recent_from}) AND ts < toDateTime({to})");
    let endpoint = ENDPOINT;
    // how far back "before" reaches, and its whole hours in the baselines (`{history_hours}`);
    // the spike rules' baselines cover the past day (`{day_hours}`)
    let history = from.saturating_sub(config.history_days * 86_400);
    let history_hours = whole_hours(history, from);
    let day_hours = whole_hours(from.saturating_sub(86_400), from);
    match kind {
        Kind::CredentialStuffing => format!(
            "SELECT client_ip AS subject, {endpoint} AS endpoint, toFloat64(countIf(status IN (401, 403))) AS value, \
             toFloat64(count()) AS baseline, count() AS events, emptyArrayString() AS details, \
             groupArray(5)(request_id) AS samples \
             FROM {db}.http_events WHERE {window} AND {LOGIN_LIKE} AND client_ip != '' \
             GROUP BY subject, endpoint HAVING value >= {min} AND value >= baseline / 2",
            min = config.stuffing_min_failures
        ),
        Kind::DistributedStuffing => format!(
            "SELECT '*' AS subject, {endpoint} AS endpoint, toFloat64(countIf(status IN (401, 403))) AS value, \
             toFloat64(uniqExactIf(client_ip, status IN (401, 403))) AS baseline, count() AS events, \
             emptyArrayString() AS details, groupArray(5)(request_id) AS samples \
             FROM {db}.http_events WHERE {window} AND {LOGIN_LIKE} \
             GROUP BY endpoint HAVING value >= {failures} AND baseline >= {sources}",
            failures = config.stuffing_spread_failures,
            sources = config.stuffing_spread_sources
        ),
        Kind::Enumeration => format!(
            "SELECT caller_id AS subject, endpoint, toFloat64(objects) AS value, toFloat64(peers) AS baseline, events, \
             [concat('peers=', toString(callers)), concat('own_past_max_per_hour=', toString(own_max)), \
              concat('own_past_hours=', toString(own_hours))] AS details, samples FROM ( \
               SELECT caller_id, endpoint, objects, events, samples, peers, callers FROM ( \
                 SELECT caller_id, {endpoint} AS endpoint, uniqExact(path) AS objects, count() AS events, \
                        groupArray(5)(request_id) AS samples \
                 FROM {db}.http_events WHERE {window} AND caller_id != '' AND position(path_template, '{{') > 0 \
                 GROUP BY caller_id, endpoint) AS mine \
               ANY LEFT JOIN ( \
                 SELECT endpoint, quantileExact(0.5)(objects) AS peers, count() AS callers FROM ( \
                   SELECT caller_id, {endpoint} AS endpoint, uniqExact(path) AS objects FROM {db}.http_events \
                   WHERE {window} AND caller_id != '' AND position(path_template, '{{') > 0 GROUP BY caller_id, endpoint) \
                 GROUP BY endpoint) AS others USING endpoint) AS with_peers \
             ANY LEFT JOIN ( \
               SELECT caller AS caller_id, endpoint, max(n) AS own_max, count() AS own_hours FROM ( \
                 SELECT caller, {endpoint} AS endpoint, hour, uniqMerge(objects) AS n \
                 FROM {db}.caller_hourly WHERE {history_hours} \
                   AND caller IN ( \
                     SELECT caller_id FROM {db}.http_events WHERE {window} AND caller_id != '' \
                       AND position(path_template, '{{') > 0 \
                     GROUP BY caller_id, method, path_template HAVING uniqExact(path) >= {min}) \
                 GROUP BY caller, endpoint, hour) \
               GROUP BY caller_id, endpoint) AS own_past USING caller_id, endpoint \
             WHERE objects >= {min} AND (callers < 3 OR objects >= {factor} * greatest(peers, 1)) \
               AND (own_hours = 0 OR objects > own_max)",
            min = config.enumeration_min_objects,
            factor = config.enumeration_peer_factor,
        ),
        Kind::DataExposure => format!(
            "SELECT concat(f.1, ' in ', f.2) AS subject, endpoint, sum({FINDING_WEIGHT}) AS value, toFloat64(0) AS baseline, \
             count() AS events, [f.1] AS details, groupArray(5)(request_id) AS samples \
             FROM (SELECT {endpoint} AS endpoint, request_id, sensitive.class AS classes, sensitive.direction AS directions, \
                          sensitive.location AS locations, sensitive.part AS parts, inspection_weight \
                   FROM {db}.http_events WHERE {window}) \
             ARRAY JOIN arrayFilter(x -> tupleElement(x, 3) = 2, \
                                    arrayMap((c, l, d, p) -> (c, l, d, p), classes, locations, directions, parts)) AS f \
             WHERE endpoint IN (SELECT {endpoint} FROM ({before})) \
               AND (endpoint, f.1) NOT IN ( \
                 SELECT endpoint, c FROM ( \
                   SELECT {endpoint} AS endpoint, groupUniqArrayArrayMerge(response_classes) AS classes \
                   FROM {db}.endpoint_hourly WHERE {history_hours} \
                   GROUP BY endpoint) ARRAY JOIN classes AS c \
                 UNION ALL \
                 SELECT {endpoint} AS endpoint, c FROM {db}.http_events \
                 ARRAY JOIN arrayFilter((c, d) -> d = 2, sensitive.class, sensitive.direction) AS c \
                 WHERE ts >= toStartOfHour(toDateTime({from})) AND ts < toDateTime({from})) \
             GROUP BY subject, endpoint, f.1",
            before = seen_before(db, history, from)
        ),
        // on a host with a spec, an operation that goes live: its first template, not every new
        // value of a word-like id under an operation already called (`/users/carol` after
        // `/users/alice`)
        Kind::NewEndpoint => format!(
            "SELECT subject, endpoint, value, baseline, events, details, samples FROM ( \
               SELECT subject, endpoint, value, baseline, events, details, samples, matched, specced, authority, method, \
                      op_templates FROM ({fresh})) AS fresh \
             ANY LEFT JOIN ( \
               SELECT authority, method, groupUniqArray(op_templates[m]) AS seen_ops FROM ( \
                 SELECT authority, method, op_templates, \
                        arrayFirstIndex((s, ot) -> {fits}, op_paths, replicate(t, op_paths)) AS m FROM ( \
                   SELECT DISTINCT authority, method, {t} AS t FROM ({before})) AS known \
                 ANY INNER JOIN ({ops}) AS ops USING authority, method) \
               WHERE m > 0 GROUP BY authority, method) AS known_ops USING authority, method \
             WHERE NOT specced OR (matched > 0 AND NOT has(seen_ops, op_templates[matched]))",
            fresh = fresh_endpoints(db, from, to, history, config.new_endpoint_min_calls),
            fits = fits("ot"),
            t = segments("path_template"),
            before = seen_before(db, history, from),
            ops = spec_operations(db, to)
        ),
        Kind::ShadowEndpoint => format!(
            "SELECT subject, endpoint, value, baseline, events, ['not in the spec'] AS details, samples FROM ({fresh}) \
             WHERE matched = 0 AND specced",
            fresh = fresh_endpoints(db, from, to, history, config.new_endpoint_min_calls)
        ),
        Kind::UndocumentedParameter => format!(
            "SELECT concat('param ', param, ' at ', authority) AS subject, endpoint, toFloat64(count()) AS value, \
             toFloat64(0) AS baseline, count() AS events, \
             [concat('parameter=', param), concat('documented=', arrayStringConcat(any(documented), ','))] AS details, \
             groupArray(5)(request_id) AS samples FROM ( \
               SELECT authority, endpoint, param, request_id, op_params[{matched}] AS documented, {matched} AS matched FROM ( \
                 SELECT authority, method, {endpoint} AS endpoint, {t} AS t, {p} AS p, request_id, query_params \
                 FROM {db}.http_events WHERE {window} AND length(query_params) > 0 AND authority IN ({hosts})) AS seen \
               ARRAY JOIN query_params AS param \
               ANY INNER JOIN ({ops}) AS ops USING authority, method) \
             WHERE matched > 0 AND NOT has(documented, param) \
               AND (authority, endpoint, param) NOT IN ( \
                 SELECT authority, endpoint, param FROM ( \
                   SELECT authority, {endpoint} AS endpoint, groupUniqArrayArrayMerge(params) AS seen_params \
                   FROM {db}.endpoint_hourly WHERE {history_hours} \
                   GROUP BY authority, endpoint) ARRAY JOIN seen_params AS param) \
             GROUP BY authority, endpoint, param HAVING value >= {min}",
            matched = matched_operation(),
            t = segments("path_template"),
            p = segments("path"),
            hosts = spec_hosts(db, to),
            ops = spec_operations(db, to),
            min = config.undocumented_parameter_min_calls
        ),
        Kind::SensitiveRise => format!(
            "SELECT endpoint AS subject, endpoint, per_response AS value, med AS baseline, events, \
             [concat('baseline_hours=', toString(hours)), concat('mad=', toString(mad))] AS details, samples FROM ( \
               SELECT {endpoint} AS endpoint, \
                      sumIf({RESPONSE_RECORDS} * inspection_weight, inspected = 1) / sumIf(inspection_weight, inspected = 1) \
                        AS per_response, count() AS events, groupArray(5)(request_id) AS samples \
               FROM {db}.http_events WHERE {recent} GROUP BY endpoint) AS current_window \
             ANY LEFT JOIN ( \
               SELECT endpoint, med, arrayReduce('medianExact', arrayMap(x -> abs(x - med), ratios)) AS mad, length(ratios) AS hours \
               FROM (SELECT endpoint, groupArray(r) AS ratios, medianExact(r) AS med FROM ( \
                 SELECT {endpoint} AS endpoint, hour, \
                        if(sumMerge(inspected_weight) > 0, sumMerge(response_records_weighted) / sumMerge(inspected_weight), \
                           sumMerge(response_records) / countMerge(requests)) AS r \
                 FROM {db}.endpoint_hourly \
                 WHERE {day_hours} GROUP BY endpoint, hour) \
               GROUP BY endpoint)) AS usual_hours USING endpoint \
             WHERE hours >= 6 AND med > 0 AND events >= {min} AND per_response >= 3 * med \
               AND per_response >= med + 6 * greatest(mad, 0.5)",
            min = config.error_min_requests
        ),
        Kind::ErrorSpike => format!(
            "SELECT endpoint AS subject, endpoint, share AS value, usual AS baseline, events, emptyArrayString() AS details, \
             samples FROM ( \
               SELECT {endpoint} AS endpoint, countIf(status >= 500) / count() AS share, count() AS events, \
                      groupArrayIf(5)(request_id, status >= 500) AS samples \
               FROM {db}.http_events WHERE {recent} GROUP BY endpoint) AS current_window \
             ANY LEFT JOIN ( \
               SELECT endpoint, quantileExact(0.9)(hour_share) AS usual FROM ( \
                 SELECT {endpoint} AS endpoint, hour, sumMerge(server_errors) / countMerge(requests) AS hour_share \
                 FROM {db}.endpoint_hourly WHERE {day_hours} \
                 GROUP BY endpoint, hour) \
               GROUP BY endpoint) AS usual_hours USING endpoint \
             WHERE events >= {min} AND share >= {floor} AND share >= {factor} * usual",
            min = config.error_min_requests,
            floor = config.error_min_share,
            factor = config.error_factor
        ),
        Kind::RateSpike => format!(
            "SELECT endpoint AS subject, endpoint, rate AS value, med AS baseline, events, \
             [concat('baseline=', basis), concat('baseline_hours=', toString(hours)), concat('mad=', toString(mad))] AS details, \
             samples FROM ( \
               SELECT {endpoint} AS endpoint, count() * 3600 / {span} AS rate, count() AS events, \
                      groupArray(5)(request_id) AS samples \
               FROM {db}.http_events WHERE {recent} GROUP BY endpoint) AS current_window \
             ANY LEFT JOIN ( \
               SELECT endpoint, basis, toFloat64(arrayReduce('medianExact', counts)) AS med, \
                      arrayReduce('medianExact', arrayMap(x -> abs(x - med), counts)) AS mad, length(counts) AS hours \
               FROM (SELECT endpoint, \
                       multiIf(length(weekly) >= 3, weekly, length(daily) >= 3, daily, recent) AS counts, \
                       multiIf(length(weekly) >= 3, 'hour_of_week', length(daily) >= 3, 'hour_of_day', 'last_24h') AS basis \
                 FROM (SELECT endpoint, \
                         groupArrayIf(n, toDayOfWeek(hour) = toDayOfWeek(toDateTime({to})) AND toHour(hour) = toHour(toDateTime({to}))) AS weekly, \
                         groupArrayIf(n, toHour(hour) = toHour(toDateTime({to})) AND hour >= toDateTime({past_week})) AS daily, \
                         groupArrayIf(n, hour >= toDateTime({past_day})) AS recent \
                   FROM (SELECT {endpoint} AS endpoint, hour, countMerge(requests) AS n \
                     FROM {db}.endpoint_hourly WHERE {hours} \
                     GROUP BY endpoint, hour) \
                   GROUP BY endpoint))) AS usual_hours USING endpoint \
             WHERE hours >= if(basis = 'last_24h', 6, 3) AND events >= {min} AND rate >= med + 6 * greatest(mad, 1) \
               AND rate >= 3 * med",
            span = to.saturating_sub(recent_from).max(1),
            hours = whole_hours(from.saturating_sub(config.seasonal_days.max(1) * 86_400), from),
            past_week = from.saturating_sub(7 * 86_400),
            past_day = from.saturating_sub(86_400),
            min = config.error_min_requests
        ),
        Kind::LatencySpike => format!(
            "SELECT endpoint AS subject, endpoint, p99 / 1000 AS value, usual / 1000 AS baseline, events, \
             [concat('baseline_hours=', toString(hours))] AS details, samples FROM ( \
               SELECT {endpoint} AS endpoint, quantileExact(0.99)(duration_us) AS p99, count() AS events, \
                      groupArray(5)(request_id) AS samples \
               FROM {db}.http_events WHERE {recent} GROUP BY endpoint) AS current_window \
             ANY LEFT JOIN ( \
               SELECT endpoint, medianExact(hour_p99) AS usual, count() AS hours FROM ( \
                 SELECT {endpoint} AS endpoint, hour, \
                        quantilesMerge(0.5, 0.9, 0.99)(latency_us)[3] AS hour_p99 FROM {db}.endpoint_hourly \
                 WHERE {day_hours} GROUP BY endpoint, hour) \
               GROUP BY endpoint) AS usual_hours USING endpoint \
             WHERE hours >= 6 AND events >= {min} AND p99 >= 3 * usual AND p99 >= 50000",
            min = config.error_min_requests
        ),
        Kind::AttackBurst => format!(
            "SELECT client_ip AS subject, '' AS endpoint, \
             sum(if(arrayExists(p -> p != 'body', `attacks.part`), 1, inspection_weight)) AS value, \
             toFloat64(uniqExact(path_template)) AS baseline, \
             count() AS events, groupUniqArrayArray(`attacks.class`) AS details, groupArray(5)(request_id) AS samples \
             FROM {db}.http_events WHERE {window} AND length(`attacks.class`) > 0 AND client_ip != '' \
             GROUP BY subject HAVING value >= {min}",
            min = config.attack_burst_min
        ),
    }
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
}
