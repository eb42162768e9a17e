-- sensitive_rise: an endpoint's responses carrying far more sensitive records each than usual
-- (median + 6 MAD and 3 times the median of its hours), once the baseline rests on 6 hours or more
SELECT endpoint AS subject, endpoint, per_response AS value, med AS baseline, events,
[concat('baseline_hours=', toString(hours)), concat('mad=', toString(mad))] AS details, samples FROM (
  SELECT {endpoint} AS endpoint,
         sumIf({response_records} * inspection_weight, inspected = 1) / sumIf(inspection_weight, inspected = 1)
           AS per_response, count() AS events, groupArray(5)(request_id) AS samples
  FROM {db}.http_events WHERE {recent} GROUP BY endpoint) AS current_window
ANY LEFT JOIN (
  SELECT endpoint, med, arrayReduce('medianExact', arrayMap(x -> abs(x - med), ratios)) AS mad, length(ratios) AS hours
  FROM (SELECT endpoint, groupArray(r) AS ratios, medianExact(r) AS med FROM (
    SELECT {endpoint} AS endpoint, hour,
           if(sumMerge(inspected_weight) > 0, sumMerge(response_records_weighted) / sumMerge(inspected_weight),
              sumMerge(response_records) / countMerge(requests)) AS r
    FROM {db}.endpoint_hourly
    WHERE {day_hours} GROUP BY endpoint, hour)
  GROUP BY endpoint)) AS usual_hours USING endpoint
WHERE hours >= 6 AND med > 0 AND events >= {min} AND per_response >= 3 * med
  AND per_response >= med + 6 * greatest(mad, 0.5)
