SELECT subject, endpoint, value, baseline, events, ['not in the spec'] AS details, samples FROM (SELECT authority AS subject, endpoint, toFloat64(calls) AS value, toFloat64(0) AS baseline,
       calls AS events, emptyArrayString() AS details, samples, arrayFirstIndex((s, ot, op) -> (length(s) = length(ot) AND arrayAll((a, b) -> (substring(a, 1, 1) = '{' AND substring(a, length(a), 1) = '}') OR lower(a) = lower(b), arrayResize(s, greatest(length(s), length(ot)), ''), arrayResize(ot, greatest(length(s), length(ot)), ''))) OR (length(s) = length(op) AND arrayAll((a, b) -> (substring(a, 1, 1) = '{' AND substring(a, length(a), 1) = '}') OR lower(a) = lower(b), arrayResize(s, greatest(length(s), length(op)), ''), arrayResize(op, greatest(length(s), length(op)), ''))), op_paths, replicate(t, op_paths), replicate(p, op_paths)) AS matched,
       authority IN (SELECT host FROM meshward.api_operations WHERE uploaded_ms < 1790000300000) AS specced, authority, method, op_templates FROM (
  SELECT authority, method, concat(method, ' ', path_template) AS endpoint, arrayFilter(x -> x != '', splitByChar('/', any(path_template))) AS t, arrayFilter(x -> x != '', splitByChar('/', any(path))) AS p,
         countIf(status NOT IN (404, 405)) AS calls, groupArray(5)(request_id) AS samples
  FROM meshward.http_events WHERE ts >= toDateTime(1790000000) AND ts < toDateTime(1790000300)
    AND authority IN (SELECT authority FROM (SELECT authority, method, path_template FROM meshward.endpoint_hourly WHERE hour >= toDateTime(1789395200) AND hour < toStartOfHour(toDateTime(1790000000))
UNION ALL SELECT authority, method, path_template FROM meshward.http_events
WHERE ts >= toStartOfHour(toDateTime(1790000000)) AND ts < toDateTime(1790000000)))
    AND (authority, method, path_template) NOT IN (SELECT authority, method, path_template FROM meshward.endpoint_hourly WHERE hour >= toDateTime(1789395200) AND hour < toStartOfHour(toDateTime(1790000000))
UNION ALL SELECT authority, method, path_template FROM meshward.http_events
WHERE ts >= toStartOfHour(toDateTime(1790000000)) AND ts < toDateTime(1790000000))
  GROUP BY authority, method, path_template HAVING calls >= 5) AS fresh
ANY LEFT JOIN (SELECT host AS authority, method, groupArray(segments) AS op_paths, groupArray(query_params) AS op_params,
       groupArray(template) AS op_templates
FROM meshward.api_operations WHERE (host, uploaded_ms) IN (
  SELECT host, max(uploaded_ms) FROM meshward.api_operations WHERE uploaded_ms < 1790000300000 GROUP BY host)
GROUP BY host, method) AS ops USING authority, method)
WHERE matched = 0 AND specced
