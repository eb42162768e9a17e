-- Which sensitive data does each endpoint handle, and where?
-- Every sensitive class seen per endpoint, direction and field. `events` estimates the exchanges
-- that carried it (a body finding stands for `inspection_weight` exchanges, as bodies are
-- inspected for a sample of them); `seen` counts the events that showed it.
SELECT authority AS host, method, path_template AS endpoint,
       if(f.2 = 1, 'request', 'response') AS direction, f.1 AS class, concat(f.3, ':', f.4) AS place,
       round(sum(if(f.3 = 'body', inspection_weight, 1))) AS events, count() AS seen
FROM meshward.events
ARRAY JOIN arrayMap((c, d, p, l) -> (c, d, p, l), sensitive.class, sensitive.direction, sensitive.part,
                    sensitive.location) AS f
GROUP BY host, method, endpoint, direction, class, place
ORDER BY events DESC
LIMIT 500
