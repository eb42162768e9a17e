SELECT caller_id AS subject, endpoint, toFloat64(objects) AS value, toFloat64(peers) AS baseline, events,
[concat('peers=', toString(callers)), concat('own_past_max_per_hour=', toString(own_max)),
 concat('own_past_hours=', toString(own_hours))] AS details, samples FROM (
  SELECT caller_id, endpoint, objects, events, samples, peers, callers FROM (
    SELECT caller_id, concat(method, ' ', path_template) AS endpoint, uniqExact(path) AS objects, count() AS events,
           groupArray(5)(request_id) AS samples
    FROM meshward.http_events WHERE ts >= toDateTime(1790000000) AND ts < toDateTime(1790000300) AND caller_id != '' AND position(path_template, '{') > 0
    GROUP BY caller_id, endpoint) AS mine
  ANY LEFT JOIN (
    SELECT endpoint, quantileExact(0.5)(objects) AS peers, count() AS callers FROM (
      SELECT caller_id, concat(method, ' ', path_template) AS endpoint, uniqExact(path) AS objects FROM meshward.http_events
      WHERE ts >= toDateTime(1790000000) AND ts < toDateTime(1790000300) AND caller_id != '' AND position(path_template, '{') > 0 GROUP BY caller_id, endpoint)
    GROUP BY endpoint) AS others USING endpoint) AS with_peers
ANY LEFT JOIN (
  SELECT caller AS caller_id, endpoint, max(n) AS own_max, count() AS own_hours FROM (
    SELECT caller, concat(method, ' ', path_template) AS endpoint, hour, uniqMerge(objects) AS n
    FROM meshward.caller_hourly WHERE hour >= toDateTime(1789395200) AND hour < toStartOfHour(toDateTime(1790000000))
      AND caller IN (
        SELECT caller_id FROM meshward.http_events WHERE ts >= toDateTime(1790000000) AND ts < toDateTime(1790000300) AND caller_id != ''
          AND position(path_template, '{') > 0
        GROUP BY caller_id, method, path_template HAVING uniqExact(path) >= 50)
    GROUP BY caller, endpoint, hour)
  GROUP BY caller_id, endpoint) AS own_past USING caller_id, endpoint
WHERE objects >= 50 AND (callers < 3 OR objects >= 10 * greatest(peers, 1))
  AND (own_hours = 0 OR objects > own_max)
