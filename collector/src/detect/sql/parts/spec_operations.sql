-- The operations in force at `to` per host and method (the latest spec upload of each host):
-- columns authority, method, op_paths (segments per operation), op_params, op_templates (in
-- one order).
SELECT host AS authority, method, groupArray(segments) AS op_paths, groupArray(query_params) AS op_params,
       groupArray(template) AS op_templates
FROM {db}.api_operations WHERE (host, uploaded_ms) IN (
  SELECT host, max(uploaded_ms) FROM {db}.api_operations WHERE uploaded_ms < {to_ms} GROUP BY host)
GROUP BY host, method
