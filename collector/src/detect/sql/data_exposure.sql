-- data_exposure: a response field carrying a sensitive class the endpoint did not return before
SELECT concat(f.1, ' in ', f.2) AS subject, endpoint, sum({finding_weight}) AS value, toFloat64(0) AS baseline,
count() AS events, [f.1] AS details, groupArray(5)(request_id) AS samples
FROM (SELECT {endpoint} AS endpoint, request_id, sensitive.class AS classes, sensitive.direction AS directions,
             sensitive.location AS locations, sensitive.part AS parts, inspection_weight
      FROM {db}.http_events WHERE {window})
ARRAY JOIN arrayFilter(x -> tupleElement(x, 3) = 2,
                       arrayMap((c, l, d, p) -> (c, l, d, p), classes, locations, directions, parts)) AS f
WHERE endpoint IN (SELECT {endpoint} FROM ({before}))
  AND (endpoint, f.1) NOT IN (
    SELECT endpoint, c FROM (
      SELECT {endpoint} AS endpoint, groupUniqArrayArrayMerge(response_classes) AS classes
      FROM {db}.endpoint_hourly WHERE {history_hours}
      GROUP BY endpoint) ARRAY JOIN classes AS c
    UNION ALL
    SELECT {endpoint} AS endpoint, c FROM {db}.http_events
    ARRAY JOIN arrayFilter((c, d) -> d = 2, sensitive.class, sensitive.direction) AS c
    WHERE ts >= toStartOfHour(toDateTime({from})) AND ts < toDateTime({from}))
GROUP BY subject, endpoint, f.1
