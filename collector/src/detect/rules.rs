//! The detectors: each a documented SQL rule over the `events` view for a window
//! `[from, to)` (epoch seconds), so the same rule runs live on a schedule and over past data.
//! Every rule returns rows of one shape: the subject (a client address, a caller, an endpoint),
//! the endpoint, the measured value, what it is compared with, the events it rests on, details
//! (classes, ...) and sample request ids as evidence.

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
    /// one caller touching far more distinct objects of a templated endpoint than its peers
    Enumeration,
    /// a response field carrying a sensitive class the endpoint did not return before
    DataExposure,
    /// an endpoint template seen for the first time on a host that had traffic before (a host
    /// seen for the first time is a new deployment, not an anomaly)
    NewEndpoint,
    /// an endpoint's share of 5xx far above its recent hours
    ErrorSpike,
    /// many requests with attack findings from one source
    AttackBurst,
    /// an endpoint's request rate far above its hourly baseline (median + 6 MAD, and 3 times
    /// the median), once the baseline rests on 6 hours or more
    RateSpike,
    /// an endpoint's p99 latency far above the median of its hourly p99s
    LatencySpike,
}

pub const KINDS: &[Kind] = &[
    Kind::CredentialStuffing,
    Kind::DistributedStuffing,
    Kind::Enumeration,
    Kind::DataExposure,
    Kind::NewEndpoint,
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
            Kind::NewEndpoint => "new_endpoint",
            Kind::ErrorSpike => "error_spike",
            Kind::AttackBurst => "attack_burst",
            Kind::RateSpike => "rate_spike",
            Kind::LatencySpike => "latency_spike",
        }
    }

    pub fn severity(self) -> &'static str {
        match self {
            Kind::CredentialStuffing | Kind::DistributedStuffing | Kind::DataExposure => "high",
            Kind::Enumeration | Kind::AttackBurst => "high",
            Kind::ErrorSpike | Kind::RateSpike | Kind::LatencySpike => "medium",
            Kind::NewEndpoint => "low",
        }
    }

    /// What `value` and `baseline` mean, for the evidence.
    pub fn measures(self) -> (&'static str, &'static str) {
        match self {
            Kind::CredentialStuffing => ("failed_logins", "login_attempts"),
            Kind::DistributedStuffing => ("failed_logins", "sources"),
            Kind::Enumeration => ("distinct_objects", "peer_median_objects"),
            Kind::DataExposure => ("responses", "responses_before"),
            Kind::NewEndpoint => ("calls", "calls_before"),
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

/// What the spike rules (rate, latency, 5xx) measure: the end of the window, in seconds.
const RECENT_S: u64 = 120;

/// The SQL of one detector for `[from, to)`.
pub fn sql(kind: Kind, database: &str, from: u64, to: u64, config: &DetectConfig) -> String {
    let db = database;
    let window = format!("ts >= toDateTime({from}) AND ts < toDateTime({to})");
    // spikes are judged on the last two minutes: a longer window dilutes a sudden change
    let recent_from = to.saturating_sub(RECENT_S).max(from);
    let recent = format!("ts >= toDateTime({recent_from}) AND ts < toDateTime({to})");
    let endpoint = "concat(method, ' ', path_template)";
    match kind {
        Kind::CredentialStuffing => format!(
            "SELECT client_ip AS subject, {endpoint} AS endpoint, toFloat64(countIf(status IN (401, 403))) AS value, \
             toFloat64(count()) AS baseline, count() AS events, emptyArrayString() AS details, \
             groupArray(5)(request_id) AS samples \
             FROM {db}.events WHERE {window} AND {LOGIN_LIKE} AND client_ip != '' \
             GROUP BY subject, endpoint HAVING value >= {min} AND value >= baseline / 2",
            min = config.stuffing_min_failures
        ),
        Kind::DistributedStuffing => format!(
            "SELECT '*' AS subject, {endpoint} AS endpoint, toFloat64(countIf(status IN (401, 403))) AS value, \
             toFloat64(uniqExactIf(client_ip, status IN (401, 403))) AS baseline, count() AS events, \
             emptyArrayString() AS details, groupArray(5)(request_id) AS samples \
             FROM {db}.events WHERE {window} AND {LOGIN_LIKE} \
             GROUP BY endpoint HAVING value >= {failures} AND baseline >= {sources}",
            failures = config.stuffing_spread_failures,
            sources = config.stuffing_spread_sources
        ),
        Kind::Enumeration => format!(
            "SELECT caller_id AS subject, endpoint, toFloat64(objects) AS value, toFloat64(peers) AS baseline, events, \
             emptyArrayString() AS details, samples FROM ( \
               SELECT caller_id, {endpoint} AS endpoint, uniqExact(path) AS objects, count() AS events, \
                      groupArray(5)(request_id) AS samples \
               FROM {db}.events WHERE {window} AND caller_id != '' AND position(path_template, '{{') > 0 \
               GROUP BY caller_id, endpoint) AS mine \
             ANY LEFT JOIN ( \
               SELECT endpoint, quantileExact(0.5)(objects) AS peers, count() AS callers FROM ( \
                 SELECT caller_id, {endpoint} AS endpoint, uniqExact(path) AS objects FROM {db}.events \
                 WHERE {window} AND caller_id != '' AND position(path_template, '{{') > 0 GROUP BY caller_id, endpoint) \
               GROUP BY endpoint) AS others USING endpoint \
             WHERE objects >= {min} AND (callers < 3 OR objects >= {factor} * greatest(peers, 1))",
            min = config.enumeration_min_objects,
            factor = config.enumeration_peer_factor
        ),
        Kind::DataExposure => format!(
            "SELECT concat(f.1, ' in ', f.2) AS subject, endpoint, toFloat64(count()) AS value, toFloat64(0) AS baseline, \
             count() AS events, [f.1] AS details, groupArray(5)(request_id) AS samples \
             FROM (SELECT {endpoint} AS endpoint, request_id, sensitive.class AS classes, sensitive.direction AS directions, \
                          sensitive.location AS locations FROM {db}.events WHERE {window}) \
             ARRAY JOIN arrayFilter(x -> tupleElement(x, 3) = 2, arrayMap((c, l, d) -> (c, l, d), classes, locations, directions)) AS f \
             WHERE endpoint IN (SELECT {endpoint} FROM {db}.events WHERE ts >= toDateTime({past}) AND ts < toDateTime({from})) \
               AND (endpoint, f.1) NOT IN ( \
                 SELECT {endpoint}, c FROM {db}.events ARRAY JOIN arrayFilter((c, d) -> d = 2, sensitive.class, sensitive.direction) AS c \
                 WHERE ts >= toDateTime({past}) AND ts < toDateTime({from})) \
             GROUP BY subject, endpoint, f.1",
            past = from.saturating_sub(config.history_days * 86_400)
        ),
        Kind::NewEndpoint => format!(
            "SELECT concat(authority, ' ', {endpoint}) AS subject, {endpoint} AS endpoint, toFloat64(count()) AS value, \
             toFloat64(0) AS baseline, count() AS events, emptyArrayString() AS details, groupArray(5)(request_id) AS samples \
             FROM {db}.events WHERE ts >= toDateTime({past}) AND ts < toDateTime({to}) \
               AND authority IN (SELECT authority FROM {db}.events WHERE ts >= toDateTime({past}) AND ts < toDateTime({from})) \
             GROUP BY subject, endpoint HAVING min(ts) >= toDateTime({from}) AND countIf(ts >= toDateTime({from})) >= {min}",
            past = from.saturating_sub(config.history_days * 86_400),
            min = config.new_endpoint_min_calls
        ),
        Kind::ErrorSpike => format!(
            "SELECT endpoint AS subject, endpoint, share AS value, usual AS baseline, events, emptyArrayString() AS details, \
             samples FROM ( \
               SELECT {endpoint} AS endpoint, countIf(status >= 500) / count() AS share, count() AS events, \
                      groupArrayIf(5)(request_id, status >= 500) AS samples \
               FROM {db}.events WHERE {recent} GROUP BY endpoint) AS current_window \
             ANY LEFT JOIN ( \
               SELECT endpoint, quantileExact(0.9)(hour_share) AS usual FROM ( \
                 SELECT {endpoint} AS endpoint, toStartOfHour(ts) AS hour, countIf(status >= 500) / count() AS hour_share \
                 FROM {db}.events WHERE ts >= toDateTime({past}) AND ts < toDateTime({from}) GROUP BY endpoint, hour) \
               GROUP BY endpoint) AS usual_hours USING endpoint \
             WHERE events >= {min} AND share >= {floor} AND share >= {factor} * usual",
            past = from.saturating_sub(86_400),
            min = config.error_min_requests,
            floor = config.error_min_share,
            factor = config.error_factor
        ),
        Kind::RateSpike => format!(
            "SELECT endpoint AS subject, endpoint, rate AS value, med AS baseline, events, \
             [concat('baseline_hours=', toString(hours)), concat('mad=', toString(mad))] AS details, samples FROM ( \
               SELECT {endpoint} AS endpoint, count() * 3600 / {span} AS rate, count() AS events, \
                      groupArray(5)(request_id) AS samples \
               FROM {db}.events WHERE {recent} GROUP BY endpoint) AS current_window \
             ANY LEFT JOIN ( \
               SELECT endpoint, med, arrayReduce('medianExact', arrayMap(x -> abs(x - med), counts)) AS mad, length(counts) AS hours \
               FROM (SELECT endpoint, groupArray(n) AS counts, medianExact(n) AS med FROM ( \
                 SELECT concat(method, ' ', path_template) AS endpoint, hour, countMerge(requests) AS n FROM {db}.endpoint_hourly \
                 WHERE hour >= toDateTime({past}) AND hour < toStartOfHour(toDateTime({from})) GROUP BY endpoint, hour) \
               GROUP BY endpoint)) AS usual_hours USING endpoint \
             WHERE hours >= 6 AND events >= {min} AND rate >= med + 6 * greatest(mad, 1) AND rate >= 3 * med",
            span = to.saturating_sub(recent_from).max(1),
            past = from.saturating_sub(86_400),
            min = config.error_min_requests
        ),
        Kind::LatencySpike => format!(
            "SELECT endpoint AS subject, endpoint, p99 / 1000 AS value, usual / 1000 AS baseline, events, \
             [concat('baseline_hours=', toString(hours))] AS details, samples FROM ( \
               SELECT {endpoint} AS endpoint, quantileExact(0.99)(duration_us) AS p99, count() AS events, \
                      groupArray(5)(request_id) AS samples \
               FROM {db}.events WHERE {recent} GROUP BY endpoint) AS current_window \
             ANY LEFT JOIN ( \
               SELECT endpoint, medianExact(hour_p99) AS usual, count() AS hours FROM ( \
                 SELECT concat(method, ' ', path_template) AS endpoint, hour, \
                        quantilesMerge(0.5, 0.9, 0.99)(latency_us)[3] AS hour_p99 FROM {db}.endpoint_hourly \
                 WHERE hour >= toDateTime({past}) AND hour < toStartOfHour(toDateTime({from})) GROUP BY endpoint, hour) \
               GROUP BY endpoint) AS usual_hours USING endpoint \
             WHERE hours >= 6 AND events >= {min} AND p99 >= 3 * usual AND p99 >= 50000",
            past = from.saturating_sub(86_400),
            min = config.error_min_requests
        ),
        Kind::AttackBurst => format!(
            "SELECT client_ip AS subject, '' AS endpoint, toFloat64(count()) AS value, toFloat64(uniqExact(path_template)) AS baseline, \
             count() AS events, groupUniqArrayArray(`attacks.class`) AS details, groupArray(5)(request_id) AS samples \
             FROM {db}.events WHERE {window} AND length(`attacks.class`) > 0 AND client_ip != '' \
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
