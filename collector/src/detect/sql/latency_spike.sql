-- latency_spike: an endpoint's p99 latency far above the median of its hourly p99s
SELECT endpoint AS subject, endpoint, p99 / 1000 AS value, usual / 1000 AS baseline, events,
[concat('baseline_hours=', toString(hours))] AS details, samples FROM (
  SELECT {endpoint} AS endpoint, quantileExact(0.99)(duration_us) AS p99, count() AS events,
         groupArray(5)(request_id) AS samples
  FROM {db}.http_events WHERE {recent} GROUP BY endpoint) AS current_window
ANY LEFT JOIN (
  SELECT endpoint, medianExact(hour_p99) AS usual, count() AS hours FROM (
    SELECT {endpoint} AS endpoint, hour,
           quantilesMerge(0.5, 0.9, 0.99)(latency_us)[3] AS hour_p99 FROM {db}.endpoint_hourly
    WHERE {day_hours} GROUP BY endpoint, hour)
  GROUP BY endpoint) AS usual_hours USING endpoint
WHERE hours >= 6 AND events >= {min} AND p99 >= 3 * usual AND p99 >= 50000
