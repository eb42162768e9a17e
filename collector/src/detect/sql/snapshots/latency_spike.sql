SELECT endpoint AS subject, endpoint, p99 / 1000 AS value, usual / 1000 AS baseline, events,
[concat('baseline_hours=', toString(hours))] AS details, samples FROM (
  SELECT concat(method, ' ', path_template) AS endpoint, quantileExact(0.99)(duration_us) AS p99, count() AS events,
         groupArray(5)(request_id) AS samples
  FROM meshward.http_events WHERE ts >= toDateTime(1790000180) AND ts < toDateTime(1790000300) GROUP BY endpoint) AS current_window
ANY LEFT JOIN (
  SELECT endpoint, medianExact(hour_p99) AS usual, count() AS hours FROM (
    SELECT concat(method, ' ', path_template) AS endpoint, hour,
           quantilesMerge(0.5, 0.9, 0.99)(latency_us)[3] AS hour_p99 FROM meshward.endpoint_hourly
    WHERE hour >= toDateTime(1789913600) AND hour < toStartOfHour(toDateTime(1790000000)) GROUP BY endpoint, hour)
  GROUP BY endpoint) AS usual_hours USING endpoint
WHERE hours >= 6 AND events >= 20 AND p99 >= 3 * usual AND p99 >= 50000
