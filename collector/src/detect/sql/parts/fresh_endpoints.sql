-- Endpoints (host, method, template) first seen in [from, to) on hosts that had traffic before,
-- with their documented operation (`matched`, 0 for none) and whether the host has a spec
-- (`specced`). Calls answered 404 or 405 do not count: a scanner's guesses are not endpoints.
SELECT authority AS subject, endpoint, toFloat64(calls) AS value, toFloat64(0) AS baseline,
       calls AS events, emptyArrayString() AS details, samples, {matched} AS matched,
       authority IN ({hosts}) AS specced, authority, method, op_templates FROM (
  SELECT authority, method, {endpoint} AS endpoint, {t} AS t, {p} AS p,
         countIf(status NOT IN (404, 405)) AS calls, groupArray(5)(request_id) AS samples
  FROM {db}.http_events WHERE ts >= toDateTime({from}) AND ts < toDateTime({to})
    AND authority IN (SELECT authority FROM ({before}))
    AND (authority, method, path_template) NOT IN ({before})
  GROUP BY authority, method, path_template HAVING calls >= {min}) AS fresh
ANY LEFT JOIN ({ops}) AS ops USING authority, method
