-- Which endpoints return card numbers?
-- Responses that carried a payment card number (Luhn and known issuer ranges checked in the
-- sidecar; only the class and the field are stored, never the number), by endpoint and field.
-- Bodies are inspected for a sample of responses: `responses` estimates all of them (each body
-- finding stands for `inspection_weight` responses), `seen` counts the inspected ones.
SELECT authority AS host, method, path_template AS endpoint, f.2 AS field,
       round(sum(if(f.4 = 'body', inspection_weight, 1))) AS responses, count() AS seen, max(ts) AS last_seen
FROM meshward.events
ARRAY JOIN arrayMap((c, d, l, p) -> (c, l, d, p), sensitive.class, sensitive.direction, sensitive.location,
                    sensitive.part) AS f
WHERE f.1 = 'credit_card' AND f.3 = 2
GROUP BY host, method, endpoint, field
ORDER BY responses DESC
