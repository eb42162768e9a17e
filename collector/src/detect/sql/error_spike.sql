-- error_spike: an endpoint's share of 5xx far above its recent hours
SELECT endpoint AS subject, endpoint, share AS value, usual AS baseline, events, emptyArrayString() AS details,
samples FROM (
  SELECT {endpoint} AS endpoint, countIf(status >= 500) / count() AS share, count() AS events,
         groupArrayIf(5)(request_id, status >= 500) AS samples
  FROM {db}.http_events WHERE {recent} GROUP BY endpoint) AS current_window
ANY LEFT JOIN (
  SELECT endpoint, quantileExact(0.9)(hour_share) AS usual FROM (
    SELECT {endpoint} AS endpoint, hour, sumMerge(server_errors) / countMerge(requests) AS hour_share
    FROM {db}.endpoint_hourly WHERE {day_hours}
    GROUP BY endpoint, hour)
  GROUP BY endpoint) AS usual_hours USING endpoint
WHERE events >= {min} AND share >= {floor} AND share >= {factor} * usual
