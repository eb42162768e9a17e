SELECT client_ip AS subject, '' AS endpoint,
sum(if(arrayExists(p -> p != 'body', `attacks.part`), 1, inspection_weight)) AS value,
toFloat64(uniqExact(path_template)) AS baseline,
count() AS events, groupUniqArrayArray(`attacks.class`) AS details, groupArray(5)(request_id) AS samples
FROM meshward.http_events WHERE ts >= toDateTime(1790000000) AND ts < toDateTime(1790000300) AND length(`attacks.class`) > 0 AND client_ip != ''
GROUP BY subject HAVING value >= 10
