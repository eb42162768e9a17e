-- Which endpoints appeared in the last day?
-- Endpoint templates first seen within 24 hours: new features, or shadow APIs nobody announced.
SELECT authority AS host, method, path_template AS endpoint, min(ts) AS first_seen, count() AS calls,
       uniqExact(caller_id) AS callers
FROM meshward.events
GROUP BY host, method, endpoint
HAVING first_seen >= now() - 86400
ORDER BY first_seen DESC
