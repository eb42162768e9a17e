-- new_endpoint: an endpoint template seen for the first time on a host that had traffic before (a
-- host seen for the first time is a new deployment, not an anomaly), documented in the host's spec
-- or on a host without one
SELECT subject, endpoint, value, baseline, events, details, samples FROM (
  SELECT subject, endpoint, value, baseline, events, details, samples, matched, specced, authority, method,
         op_templates FROM ({fresh})) AS fresh
ANY LEFT JOIN (
  SELECT authority, method, groupUniqArray(op_templates[m]) AS seen_ops FROM (
    SELECT authority, method, op_templates,
           arrayFirstIndex((s, ot) -> {fits}, op_paths, replicate(t, op_paths)) AS m FROM (
      SELECT DISTINCT authority, method, {t} AS t FROM ({before})) AS known
    ANY INNER JOIN ({ops}) AS ops USING authority, method)
  WHERE m > 0 GROUP BY authority, method) AS known_ops USING authority, method
WHERE NOT specced OR (matched > 0 AND NOT has(seen_ops, op_templates[matched]))
