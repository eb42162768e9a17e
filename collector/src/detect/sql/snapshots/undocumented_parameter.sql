SELECT concat('param ', param, ' at ', authority) AS subject, endpoint, toFloat64(count()) AS value,
toFloat64(0) AS baseline, count() AS events,
[concat('parameter=', param), concat('documented=', arrayStringConcat(any(documented), ','))] AS details,
groupArray(5)(request_id) AS samples FROM (
  SELECT authority, endpoint, param, request_id, op_params[arrayFirstIndex((s, ot, op) -> (length(s) = length(ot) AND arrayAll((a, b) -> (substring(a, 1, 1) = '{' AND substring(a, length(a), 1) = '}') OR lower(a) = lower(b), arrayResize(s, greatest(length(s), length(ot)), ''), arrayResize(ot, greatest(length(s), length(ot)), ''))) OR (length(s) = length(op) AND arrayAll((a, b) -> (substring(a, 1, 1) = '{' AND substring(a, length(a), 1) = '}') OR lower(a) = lower(b), arrayResize(s, greatest(length(s), length(op)), ''), arrayResize(op, greatest(length(s), length(op)), ''))), op_paths, replicate(t, op_paths), replicate(p, op_paths))] AS documented, arrayFirstIndex((s, ot, op) -> (length(s) = length(ot) AND arrayAll((a, b) -> (substring(a, 1, 1) = '{' AND substring(a, length(a), 1) = '}') OR lower(a) = lower(b), arrayResize(s, greatest(length(s), length(ot)), ''), arrayResize(ot, greatest(length(s), length(ot)), ''))) OR (length(s) = length(op) AND arrayAll((a, b) -> (substring(a, 1, 1) = '{' AND substring(a, length(a), 1) = '}') OR lower(a) = lower(b), arrayResize(s, greatest(length(s), length(op)), ''), arrayResize(op, greatest(length(s), length(op)), ''))), op_paths, replicate(t, op_paths), replicate(p, op_paths)) AS matched FROM (
    SELECT authority, method, concat(method, ' ', path_template) AS endpoint, arrayFilter(x -> x != '', splitByChar('/', path_template)) AS t, arrayFilter(x -> x != '', splitByChar('/', path)) AS p, request_id, query_params
    FROM meshward.http_events WHERE ts >= toDateTime(1790000000) AND ts < toDateTime(1790000300) AND length(query_params) > 0 AND authority IN (SELECT host FROM meshward.api_operations WHERE uploaded_ms < 1790000300000)) AS seen
  ARRAY JOIN query_params AS param
  ANY INNER JOIN (SELECT host AS authority, method, groupArray(segments) AS op_paths, groupArray(query_params) AS op_params,
       groupArray(template) AS op_templates
FROM meshward.api_operations WHERE (host, uploaded_ms) IN (
  SELECT host, max(uploaded_ms) FROM meshward.api_operations WHERE uploaded_ms < 1790000300000 GROUP BY host)
GROUP BY host, method) AS ops USING authority, method)
WHERE matched > 0 AND NOT has(documented, param)
  AND (authority, endpoint, param) NOT IN (
    SELECT authority, endpoint, param FROM (
      SELECT authority, concat(method, ' ', path_template) AS endpoint, groupUniqArrayArrayMerge(params) AS seen_params
      FROM meshward.endpoint_hourly WHERE hour >= toDateTime(1789395200) AND hour < toStartOfHour(toDateTime(1790000000))
      GROUP BY authority, endpoint) ARRAY JOIN seen_params AS param)
GROUP BY authority, endpoint, param HAVING value >= 3
