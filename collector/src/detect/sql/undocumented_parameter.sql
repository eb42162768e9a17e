-- undocumented_parameter: a query parameter the spec does not document, on a documented endpoint,
-- not seen there in the history before the window
SELECT concat('param ', param, ' at ', authority) AS subject, endpoint, toFloat64(count()) AS value,
toFloat64(0) AS baseline, count() AS events,
[concat('parameter=', param), concat('documented=', arrayStringConcat(any(documented), ','))] AS details,
groupArray(5)(request_id) AS samples FROM (
  SELECT authority, endpoint, param, request_id, op_params[{matched}] AS documented, {matched} AS matched FROM (
    SELECT authority, method, {endpoint} AS endpoint, {t} AS t, {p} AS p, request_id, query_params
    FROM {db}.http_events WHERE {window} AND length(query_params) > 0 AND authority IN ({hosts})) AS seen
  ARRAY JOIN query_params AS param
  ANY INNER JOIN ({ops}) AS ops USING authority, method)
WHERE matched > 0 AND NOT has(documented, param)
  AND (authority, endpoint, param) NOT IN (
    SELECT authority, endpoint, param FROM (
      SELECT authority, {endpoint} AS endpoint, groupUniqArrayArrayMerge(params) AS seen_params
      FROM {db}.endpoint_hourly WHERE {history_hours}
      GROUP BY authority, endpoint) ARRAY JOIN seen_params AS param)
GROUP BY authority, endpoint, param HAVING value >= {min}
