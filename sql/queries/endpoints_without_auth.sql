-- Which endpoints answer callers without credentials?
-- Endpoints with successful calls that carried no bearer token, API key, basic auth or JWT.
SELECT authority AS host, method, path_template AS endpoint, count() AS calls,
       countIf(caller_id_source = '' AND status < 400) AS anonymous_successes,
       round(anonymous_successes / calls, 3) AS anonymous_share
FROM meshward.events
GROUP BY host, method, endpoint
HAVING anonymous_successes > 0
ORDER BY anonymous_share DESC, calls DESC
