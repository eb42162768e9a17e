-- Who is attacking, and with what?
-- Requests with attack findings per client address and class over the last day.
SELECT client_ip AS client, a AS class, count() AS requests, uniqExact(path_template) AS endpoints,
       countIf(verdict = 1) AS blocked, max(ts) AS last_seen
FROM meshward.events
ARRAY JOIN attacks.class AS a
WHERE ts >= now() - 86400
GROUP BY client, class
ORDER BY requests DESC
LIMIT 100
