SELECT concat(f.1, ' in ', f.2) AS subject, endpoint, sum(if(f.4 = 'body', inspection_weight, 1)) AS value, toFloat64(0) AS baseline,
count() AS events, [f.1] AS details, groupArray(5)(request_id) AS samples
FROM (SELECT concat(method, ' ', path_template) AS endpoint, request_id, sensitive.class AS classes, sensitive.direction AS directions,
             sensitive.location AS locations, sensitive.part AS parts, inspection_weight
      FROM meshward.http_events WHERE ts >= toDateTime(1790000000) AND ts < toDateTime(1790000300))
ARRAY JOIN arrayFilter(x -> tupleElement(x, 3) = 2,
                       arrayMap((c, l, d, p) -> (c, l, d, p), classes, locations, directions, parts)) AS f
WHERE endpoint IN (SELECT concat(method, ' ', path_template) FROM (SELECT authority, method, path_template FROM meshward.endpoint_hourly WHERE hour >= toDateTime(1789395200) AND hour < toStartOfHour(toDateTime(1790000000))
UNION ALL SELECT authority, method, path_template FROM meshward.http_events
WHERE ts >= toStartOfHour(toDateTime(1790000000)) AND ts < toDateTime(1790000000)))
  AND (endpoint, f.1) NOT IN (
    SELECT endpoint, c FROM (
      SELECT concat(method, ' ', path_template) AS endpoint, groupUniqArrayArrayMerge(response_classes) AS classes
      FROM meshward.endpoint_hourly WHERE hour >= toDateTime(1789395200) AND hour < toStartOfHour(toDateTime(1790000000))
      GROUP BY endpoint) ARRAY JOIN classes AS c
    UNION ALL
    SELECT concat(method, ' ', path_template) AS endpoint, c FROM meshward.http_events
    ARRAY JOIN arrayFilter((c, d) -> d = 2, sensitive.class, sensitive.direction) AS c
    WHERE ts >= toStartOfHour(toDateTime(1790000000)) AND ts < toDateTime(1790000000))
GROUP BY subject, endpoint, f.1
