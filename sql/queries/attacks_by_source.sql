-- Who is attacking, and with what?
-- Requests with attack findings per client address and class over the last day. Bodies are
-- inspected for a sample of exchanges: a finding in a body stands for `inspection_weight`
-- requests, one in a path, query or header (scanned on every exchange) for one.
SELECT client_ip AS client, a.1 AS class, round(sum(if(a.2 = 'body', inspection_weight, 1))) AS requests,
       uniqExact(path_template) AS endpoints, countIf(verdict = 1) AS blocked, max(ts) AS last_seen
FROM meshward.events
ARRAY JOIN arrayMap((c, p) -> (c, p), attacks.class, attacks.part) AS a
WHERE ts >= now() - 86400
GROUP BY client, class
ORDER BY requests DESC
LIMIT 100
