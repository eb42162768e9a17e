-- rate_spike: an endpoint's request rate far above its hourly baseline (median + 6 MAD, and 3 times
-- the median). The baseline is seasonal once there is enough history: the same hour of the week (3
-- weeks or more), else the same hour of the day (3 days or more), else the last 24 hours (6 hours
-- or more)
SELECT endpoint AS subject, endpoint, rate AS value, med AS baseline, events,
[concat('baseline=', basis), concat('baseline_hours=', toString(hours)), concat('mad=', toString(mad))] AS details,
samples FROM (
  SELECT {endpoint} AS endpoint, count() * 3600 / {span} AS rate, count() AS events,
         groupArray(5)(request_id) AS samples
  FROM {db}.http_events WHERE {recent} GROUP BY endpoint) AS current_window
ANY LEFT JOIN (
  SELECT endpoint, basis, toFloat64(arrayReduce('medianExact', counts)) AS med,
         arrayReduce('medianExact', arrayMap(x -> abs(x - med), counts)) AS mad, length(counts) AS hours
  FROM (SELECT endpoint,
          multiIf(length(weekly) >= 3, weekly, length(daily) >= 3, daily, recent) AS counts,
          multiIf(length(weekly) >= 3, 'hour_of_week', length(daily) >= 3, 'hour_of_day', 'last_24h') AS basis
    FROM (SELECT endpoint,
            groupArrayIf(n, toDayOfWeek(hour) = toDayOfWeek(toDateTime({to})) AND toHour(hour) = toHour(toDateTime({to}))) AS weekly,
            groupArrayIf(n, toHour(hour) = toHour(toDateTime({to})) AND hour >= toDateTime({past_week})) AS daily,
            groupArrayIf(n, hour >= toDateTime({past_day})) AS recent
      FROM (SELECT {endpoint} AS endpoint, hour, countMerge(requests) AS n
        FROM {db}.endpoint_hourly WHERE {hours}
        GROUP BY endpoint, hour)
      GROUP BY endpoint))) AS usual_hours USING endpoint
WHERE hours >= if(basis = 'last_24h', 6, 3) AND events >= {min} AND rate >= med + 6 * greatest(mad, 1)
  AND rate >= 3 * med
