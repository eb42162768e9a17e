-- Rows (authority, method, path_template) of the endpoints seen in [past, from): whole hours
-- from the baseline, the rest of the hour before `from` from raw rows.
SELECT authority, method, path_template FROM {db}.endpoint_hourly WHERE {hours}
UNION ALL SELECT authority, method, path_template FROM {db}.http_events
WHERE ts >= toStartOfHour(toDateTime({from})) AND ts < toDateTime({from})
