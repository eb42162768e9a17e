-- Are the filters losing events?
-- Per filter VM (one per Envoy worker), what it sent and what it had to drop over the last day:
-- a full outbox (collector unreachable or too slow) or events too large for a batch. The
-- counters are cumulative per VM, so the latest report holds the totals.
SELECT source_id AS filter_vm, max(received_ms) AS last_report_ms, sum(events) AS events_sent,
       max(dropped_buffer_full) AS dropped_buffer_full, max(dropped_too_large) AS dropped_too_large
FROM meshward.filter_reports FINAL
WHERE received_ms >= (toUInt64(toUInt32(now())) - 86400) * 1000
GROUP BY filter_vm
ORDER BY dropped_buffer_full + dropped_too_large DESC, events_sent DESC
