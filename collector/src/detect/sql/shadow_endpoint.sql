-- shadow_endpoint: like a new endpoint, on a host with an uploaded spec that does not document it
SELECT subject, endpoint, value, baseline, events, ['not in the spec'] AS details, samples FROM ({fresh})
WHERE matched = 0 AND specced
