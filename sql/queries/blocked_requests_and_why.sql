-- Who was blocked, by which rule, and why?
-- Blocked and dry-run requests of the last 7 days per rule and client, with the rule's reason
-- and who made it (the latest version of each rule in block_rules).
SELECT block_rule_id AS rule_id, if(verdict = 1, 'block', 'dry_run') AS action, client_ip AS client,
       requests, last_seen, reason, created_by
FROM (
    SELECT block_rule_id, verdict, client_ip, count() AS requests, max(ts) AS last_seen
    FROM meshward.events
    WHERE verdict != 0 AND ts >= now() - 7 * 86400
    GROUP BY block_rule_id, verdict, client_ip
) AS blocked
ANY LEFT JOIN (
    SELECT id AS block_rule_id,
           visitParamExtractString(argMax(rule, version), 'reason') AS reason,
           visitParamExtractString(argMax(rule, version), 'created_by') AS created_by
    FROM meshward.block_rules
    GROUP BY id
) AS rules USING block_rule_id
ORDER BY requests DESC
