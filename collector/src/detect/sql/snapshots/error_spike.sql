SELECT endpoint AS subject, endpoint, share AS value, usual AS baseline, events, emptyArrayString() AS details,
samples FROM (
  SELECT concat(method, ' ', path_template) AS endpoint, countIf(status >= 500) / count() AS share, count() AS events,
         groupArrayIf(5)(request_id, status >= 500) AS samples
  FROM meshward.http_events WHERE ts >= toDateTime(1790000180) AND ts < toDateTime(1790000300) GROUP BY endpoint) AS current_window
ANY LEFT JOIN (
  SELECT endpoint, quantileExact(0.9)(hour_share) AS usual FROM (
    SELECT concat(method, ' ', path_template) AS endpoint, hour, sumMerge(server_errors) / countMerge(requests) AS hour_share
    FROM meshward.endpoint_hourly WHERE hour >= toDateTime(1789913600) AND hour < toStartOfHour(toDateTime(1790000000))
    GROUP BY endpoint, hour)
  GROUP BY endpoint) AS usual_hours USING endpoint
WHERE events >= 20 AND share >= 0.2 AND share >= 3 * usual
