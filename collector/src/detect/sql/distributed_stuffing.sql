-- distributed_stuffing: 401/403 against login-like endpoints spread over many sources
SELECT '*' AS subject, {endpoint} AS endpoint, toFloat64(countIf(status IN (401, 403))) AS value,
toFloat64(uniqExactIf(client_ip, status IN (401, 403))) AS baseline, count() AS events,
emptyArrayString() AS details, groupArray(5)(request_id) AS samples
FROM {db}.http_events WHERE {window} AND {login_like}
GROUP BY endpoint HAVING value >= {failures} AND baseline >= {sources}
