-- Is the pipeline keeping up?
-- Events stored per minute over the last hour and how long they took from the request to the
-- collector's spool (received_ms - ts_ms), per minute.
SELECT toStartOfMinute(ts) AS minute, count() AS events,
       round(quantile(0.5)(received_ms - ts_ms) / 1000, 2) AS p50_lag_s,
       round(max(received_ms - ts_ms) / 1000, 2) AS max_lag_s
FROM meshward.events
WHERE ts >= now() - 3600
GROUP BY minute
ORDER BY minute
