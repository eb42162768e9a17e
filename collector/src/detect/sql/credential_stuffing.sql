-- credential_stuffing: a surge of 401/403 from one source against login-like endpoints
SELECT client_ip AS subject, {endpoint} AS endpoint, toFloat64(countIf(status IN (401, 403))) AS value,
toFloat64(count()) AS baseline, count() AS events, emptyArrayString() AS details,
groupArray(5)(request_id) AS samples
FROM {db}.http_events WHERE {window} AND {login_like} AND client_ip != ''
GROUP BY subject, endpoint HAVING value >= {min} AND value >= baseline / 2
