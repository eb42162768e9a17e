-- Which endpoints return card numbers?
-- Responses that carried a payment card number (Luhn and known issuer ranges checked in the
-- sidecar; only the class and the field are stored, never the number), by endpoint and field.
SELECT authority AS host, method, path_template AS endpoint, f.2 AS field, count() AS responses,
       max(ts) AS last_seen
FROM meshward.events
ARRAY JOIN arrayMap((c, d, l) -> (c, l, d), sensitive.class, sensitive.direction, sensitive.location) AS f
WHERE f.1 = 'credit_card' AND f.3 = 2
GROUP BY host, method, endpoint, field
ORDER BY responses DESC
