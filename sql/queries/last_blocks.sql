-- What did enforcement do in the last hour, request by request?
-- The last blocks (403 from the filter) and dry-run matches, newest first, with the rule, its
-- reason, the client and the request id (x-request-id: the key into the application's logs).
-- The collector's audit log (target meshward::audit) writes the same requests as JSON lines.
SELECT ts, action, rule_id, reason, client, request_id, host, method, endpoint, status, workload
FROM meshward.blocks
WHERE ts >= now() - 3600
ORDER BY ts_ms DESC
LIMIT 100
