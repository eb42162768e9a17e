-- Which endpoints run outside the spec, and which documented ones nobody calls?
-- The latest standing the collector computed against each host's uploaded OpenAPI spec: shadow
-- (called, not documented), zombie (documented, not called for inventory.zombie_after_days),
-- deprecated (documented as deprecated, still called).
SELECT host, method, template AS endpoint, status, calls,
       if(last_seen_ms = 0, 'never', toString(toDateTime(intDiv(last_seen_ms, 1000)))) AS last_seen
FROM meshward.inventory_status
WHERE computed_ms = (SELECT max(computed_ms) FROM meshward.inventory_status)
  AND status IN ('shadow', 'zombie', 'deprecated')
ORDER BY status, host, endpoint
