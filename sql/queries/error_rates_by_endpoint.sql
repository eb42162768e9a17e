-- Which endpoints fail most?
-- Share of 4xx and 5xx answers per endpoint over the last hour, with p99 latency.
SELECT authority AS host, method, path_template AS endpoint, count() AS calls,
       round(countIf(status >= 400 AND status < 500) / calls, 3) AS client_errors,
       round(countIf(status >= 500) / calls, 3) AS server_errors,
       round(quantile(0.99)(duration_us) / 1000, 1) AS p99_ms
FROM meshward.events
WHERE ts >= now() - 3600
GROUP BY host, method, endpoint
ORDER BY server_errors DESC, client_errors DESC
LIMIT 100
