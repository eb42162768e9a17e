SELECT endpoint AS subject, endpoint, per_response AS value, med AS baseline, events,
[concat('baseline_hours=', toString(hours)), concat('mad=', toString(mad))] AS details, samples FROM (
  SELECT concat(method, ' ', path_template) AS endpoint,
         sumIf(arraySum(arrayMap((n, d) -> if(d = 2, greatest(n, 1), 0), `sensitive.count`, `sensitive.direction`)) * inspection_weight, inspected = 1) / sumIf(inspection_weight, inspected = 1)
           AS per_response, count() AS events, groupArray(5)(request_id) AS samples
  FROM meshward.http_events WHERE ts >= toDateTime(1790000180) AND ts < toDateTime(1790000300) GROUP BY endpoint) AS current_window
ANY LEFT JOIN (
  SELECT endpoint, med, arrayReduce('medianExact', arrayMap(x -> abs(x - med), ratios)) AS mad, length(ratios) AS hours
  FROM (SELECT endpoint, groupArray(r) AS ratios, medianExact(r) AS med FROM (
    SELECT concat(method, ' ', path_template) AS endpoint, hour,
           if(sumMerge(inspected_weight) > 0, sumMerge(response_records_weighted) / sumMerge(inspected_weight),
              sumMerge(response_records) / countMerge(requests)) AS r
    FROM meshward.endpoint_hourly
    WHERE hour >= toDateTime(1789913600) AND hour < toStartOfHour(toDateTime(1790000000)) GROUP BY endpoint, hour)
  GROUP BY endpoint)) AS usual_hours USING endpoint
WHERE hours >= 6 AND med > 0 AND events >= 20 AND per_response >= 3 * med
  AND per_response >= med + 6 * greatest(mad, 0.5)
