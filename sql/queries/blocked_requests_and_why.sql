-- Who was blocked, by which rule, and why?
-- Blocked and dry-run requests of the last 7 days per rule and client, with the rule's reason
-- and who made it (the blocks view: each enforced request with its rule's latest version).
SELECT rule_id, action, client, count() AS requests, max(ts) AS last_seen,
       any(reason) AS reason, any(created_by) AS created_by
FROM meshward.blocks
WHERE ts >= now() - 7 * 86400
GROUP BY rule_id, action, client
ORDER BY requests DESC
