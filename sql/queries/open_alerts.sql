-- What is going on right now?
-- Alerts not resolved, newest first, with their evidence (counts, what they were compared
-- with, sample request ids). Every change of an alert is a row; the latest version counts.
SELECT id, state, severity, kind, subject, endpoint,
       toDateTime(intDiv(first_ms, 1000)) AS first_seen, toDateTime(intDiv(last_ms, 1000)) AS last_seen, evidence
FROM (
    SELECT id, argMax(state, version) AS state, argMax(kind, version) AS kind,
           min(last_seen_ms) AS first_ms, max(last_seen_ms) AS last_ms,
           visitParamExtractString(argMax(body, version), 'severity') AS severity,
           visitParamExtractString(argMax(body, version), 'subject') AS subject,
           visitParamExtractString(argMax(body, version), 'endpoint') AS endpoint,
           visitParamExtractRaw(argMax(body, version), 'evidence') AS evidence
    FROM meshward.alerts
    GROUP BY id
)
WHERE state != 'resolved'
ORDER BY last_ms DESC
