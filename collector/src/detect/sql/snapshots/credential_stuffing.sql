SELECT client_ip AS subject, concat(method, ' ', path_template) AS endpoint, toFloat64(countIf(status IN (401, 403))) AS value,
toFloat64(count()) AS baseline, count() AS events, emptyArrayString() AS details,
groupArray(5)(request_id) AS samples
FROM meshward.http_events WHERE ts >= toDateTime(1790000000) AND ts < toDateTime(1790000300) AND match(lower(path_template), '(login|signin|sign-in|auth|token|session|password)') AND client_ip != ''
GROUP BY subject, endpoint HAVING value >= 20 AND value >= baseline / 2
