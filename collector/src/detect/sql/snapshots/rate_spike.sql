SELECT endpoint AS subject, endpoint, rate AS value, med AS baseline, events,
[concat('baseline=', basis), concat('baseline_hours=', toString(hours)), concat('mad=', toString(mad))] AS details,
samples FROM (
  SELECT concat(method, ' ', path_template) AS endpoint, count() * 3600 / 120 AS rate, count() AS events,
         groupArray(5)(request_id) AS samples
  FROM meshward.http_events WHERE ts >= toDateTime(1790000180) AND ts < toDateTime(1790000300) GROUP BY endpoint) AS current_window
ANY LEFT JOIN (
  SELECT endpoint, basis, toFloat64(arrayReduce('medianExact', counts)) AS med,
         arrayReduce('medianExact', arrayMap(x -> abs(x - med), counts)) AS mad, length(counts) AS hours
  FROM (SELECT endpoint,
          multiIf(length(weekly) >= 3, weekly, length(daily) >= 3, daily, recent) AS counts,
          multiIf(length(weekly) >= 3, 'hour_of_week', length(daily) >= 3, 'hour_of_day', 'last_24h') AS basis
    FROM (SELECT endpoint,
            groupArrayIf(n, toDayOfWeek(hour) = toDayOfWeek(toDateTime(1790000300)) AND toHour(hour) = toHour(toDateTime(1790000300))) AS weekly,
            groupArrayIf(n, toHour(hour) = toHour(toDateTime(1790000300)) AND hour >= toDateTime(1789395200)) AS daily,
            groupArrayIf(n, hour >= toDateTime(1789913600)) AS recent
      FROM (SELECT concat(method, ' ', path_template) AS endpoint, hour, countMerge(requests) AS n
        FROM meshward.endpoint_hourly WHERE hour >= toDateTime(1787580800) AND hour < toStartOfHour(toDateTime(1790000000))
        GROUP BY endpoint, hour)
      GROUP BY endpoint))) AS usual_hours USING endpoint
WHERE hours >= if(basis = 'last_24h', 6, 3) AND events >= 20 AND rate >= med + 6 * greatest(mad, 1)
  AND rate >= 3 * med
