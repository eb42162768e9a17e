SELECT '*' AS subject, concat(method, ' ', path_template) AS endpoint, toFloat64(countIf(status IN (401, 403))) AS value,
toFloat64(uniqExactIf(client_ip, status IN (401, 403))) AS baseline, count() AS events,
emptyArrayString() AS details, groupArray(5)(request_id) AS samples
FROM meshward.http_events WHERE ts >= toDateTime(1790000000) AND ts < toDateTime(1790000300) AND match(lower(path_template), '(login|signin|sign-in|auth|token|session|password)')
GROUP BY endpoint HAVING value >= 200 AND baseline >= 20
