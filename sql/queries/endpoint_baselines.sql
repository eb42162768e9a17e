-- What is normal for each endpoint?
-- From the hourly baselines the collector keeps (materialized view endpoint_hourly): over the
-- last 7 days, the hours of data each rests on, requests per hour (median and 90th percentile),
-- the usual error shares, latency and callers, the sensitive classes its responses carry and
-- how many sensitive values a response carries on average (from the sampled, deeply inspected
-- responses, each weighted by what it stands for), and the body fields seen.
SELECT authority AS host, method, path_template AS endpoint, count() AS hours_of_data,
       quantileExact(0.5)(requests) AS median_requests_per_hour, quantileExact(0.9)(requests) AS p90_requests_per_hour,
       round(sum(server_errors) / sum(requests), 4) AS server_error_share,
       round(sum(client_errors) / sum(requests), 4) AS client_error_share,
       round(quantileExact(0.5)(p99_us) / 1000, 1) AS usual_p99_ms, max(callers) AS most_callers_in_an_hour,
       groupUniqArrayArray(classes) AS response_classes,
       round(if(sum(inspected) > 0, sum(weighted_records) / sum(inspected), sum(records) / sum(requests)), 2)
         AS sensitive_records_per_response,
       groupUniqArrayArray(fields) AS response_fields
FROM (
    SELECT hour, authority, method, path_template, countMerge(requests) AS requests,
           sumMerge(server_errors) AS server_errors, sumMerge(client_errors) AS client_errors,
           quantilesMerge(0.5, 0.9, 0.99)(latency_us)[3] AS p99_us, uniqMerge(callers) AS callers,
           groupUniqArrayArrayMerge(response_classes) AS classes, sumMerge(response_records) AS records,
           sumMerge(response_records_weighted) AS weighted_records, sumMerge(inspected_weight) AS inspected,
           groupUniqArrayArrayMerge(response_fields) AS fields
    FROM meshward.endpoint_hourly
    WHERE hour >= now() - 7 * 86400
    GROUP BY hour, authority, method, path_template
)
GROUP BY host, method, endpoint
ORDER BY median_requests_per_hour DESC
