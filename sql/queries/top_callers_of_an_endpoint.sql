-- Who calls this endpoint most?
-- Callers (identity hash, else client address) of one endpoint over the last day, with their
-- error share. Change the host, method and template.
SELECT if(caller_id != '', caller_id, client_ip) AS caller, any(caller_id_source) AS auth,
       count() AS calls, countIf(status >= 400) AS errors, round(errors / calls, 3) AS error_share,
       uniqExact(path) AS distinct_paths
FROM meshward.events
WHERE authority = 'shop.example.com' AND method = 'GET' AND path_template = '/api/users/{user_id}'
  AND ts >= now() - 86400
GROUP BY caller
ORDER BY calls DESC
LIMIT 50
