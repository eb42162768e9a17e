//! The queries Meshward documents and runs itself. `{db}` is the database. Each one reads the
//! `events` view, which shows every event once; each runs on ClickHouse 18.16 and current
//! servers (checked by the SQL compatibility test).

/// Events per endpoint template and status, with median latency and distinct callers.
pub const EVENTS_BY_ENDPOINT: &str = "SELECT method, path_template, status, count() AS events, \
     round(quantile(0.5)(duration_us) / 1000, 2) AS p50_ms, uniqExact(caller_id) AS callers \
     FROM {db}.events GROUP BY method, path_template, status ORDER BY path_template, method, status";

/// Request body schema of one endpoint: `$.path: type` lines. Binds: method, template.
pub const REQUEST_BODY_FIELDS: &str = "SELECT DISTINCT arrayJoin(arrayMap((p, t) -> concat(p, ': ', t), \
     request_body_fields.path, request_body_fields.type)) AS field \
     FROM {db}.events WHERE method = ? AND path_template = ? ORDER BY field";

/// Each event once, and how many rows the raw table holds (duplicates wait for a merge).
pub const EVENT_COUNTS: &str = "SELECT (SELECT count() FROM {db}.events) AS events, \
     (SELECT count() FROM {db}.http_events) AS raw_rows";

/// What detection found, by kind, class and where (no values are stored, only places). `events`
/// counts the events that showed it; `exchanges` estimates the exchanges that carried it, as
/// bodies are inspected for a sample of them (a body finding stands for `inspection_weight`
/// exchanges, one in a path, query or header for one). Locations are spelt by
/// `meshward_core::finding_location_sql!`, as `core::detect::finding_location` spells them.
pub const FINDINGS: &str = concat!(
    "SELECT kind, class, location, count() AS events, round(sum(weight)) AS exchanges FROM ( \
     SELECT 'sensitive' AS kind, f.1 AS class, ",
    meshward_core::finding_location_sql!("f.2", "f.3", "f.4"),
    " AS location, if(f.3 = 'body', inspection_weight, 1) AS weight \
     FROM {db}.events ARRAY JOIN arrayMap((c, d, p, l) -> (c, d, p, l), sensitive.class, sensitive.direction, \
     sensitive.part, sensitive.location) AS f \
     UNION ALL \
     SELECT 'attack' AS kind, a.1 AS class, ",
    meshward_core::finding_location_sql!("a.4", "a.2", "a.3"),
    " AS location, if(a.2 = 'body', inspection_weight, 1) AS weight \
     FROM {db}.events ARRAY JOIN arrayMap((c, p, l, d) -> (c, p, l, d), attacks.class, attacks.part, attacks.location, \
     attacks.direction) AS a) \
     GROUP BY kind, class, location ORDER BY kind, class, location"
);

/// Every query above, for the compatibility test.
pub const ALL: &[&str] = &[EVENTS_BY_ENDPOINT, REQUEST_BODY_FIELDS, EVENT_COUNTS, FINDINGS];

/// Fills `{db}` and the `?` binds (as quoted string literals) for running by hand.
pub fn render(query: &str, db: &str, binds: &[&str]) -> String {
    let mut out = String::with_capacity(query.len());
    let mut binds = binds.iter();
    for (i, part) in query.replace("{db}", db).split('?').enumerate() {
        if i > 0 {
            match binds.next() {
                Some(value) => {
                    out.push('\'');
                    out.push_str(&value.replace('\\', "\\\\").replace('\'', "\\'"));
                    out.push('\'');
                }
                None => out.push_str("''"),
            }
        }
        out.push_str(part);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn render_quotes_binds() {
        assert_eq!(
            super::render("SELECT ? FROM {db}.t WHERE a = ?", "d", &["x'y"]),
            "SELECT 'x\\'y' FROM d.t WHERE a = ''"
        );
    }
}
