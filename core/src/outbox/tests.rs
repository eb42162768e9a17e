use super::*;
use proptest::prelude::*;

fn encode(seq: u64, events: &[Vec<u8>]) -> Vec<u8> {
    let mut out = seq.to_le_bytes().to_vec();
    for e in events {
        out.extend_from_slice(e);
    }
    out
}

fn small() -> OutboxLimits {
    OutboxLimits {
        max_queued_events: 4,
        max_queued_bytes: 100,
        max_batch_events: 2,
        max_batch_bytes: 50,
        max_unacked_bytes: 40,
    }
}

#[test]
fn batches_in_order_and_acks_free_them() {
    let mut outbox = Outbox::new(small());
    for i in 0..3u8 {
        assert_eq!(outbox.push(vec![i; 5]), Ok(()));
    }
    let (seq, payload) = outbox.next_payload(encode).map(|(s, p)| (s, p.to_vec())).unwrap_or_default();
    assert_eq!(seq, 1);
    assert_eq!(payload.len(), 8 + 10);
    outbox.mark_sent(1);
    let (seq2, _) = outbox.next_payload(encode).map(|(s, p)| (s, p.len())).unwrap_or_default();
    assert_eq!(seq2, 2);
    outbox.mark_sent(2);
    assert!(outbox.next_payload(encode).is_none());
    assert_eq!(outbox.ack(1), Some(2));
    assert_eq!(outbox.ack(1), None);
    assert_eq!(outbox.ack(2), Some(1));
    assert_eq!(outbox.held_bytes(), 0);
    assert_eq!(outbox.stats().acked_events, 3);
}

#[test]
fn full_buffer_drops_and_counts() {
    let mut outbox = Outbox::new(small());
    for _ in 0..4 {
        assert_eq!(outbox.push(vec![0; 5]), Ok(()));
    }
    assert_eq!(outbox.push(vec![0; 5]), Err(PushError::BufferFull));
    assert_eq!(outbox.push(vec![0; 51]), Err(PushError::TooLarge));
    assert_eq!(outbox.stats().dropped_buffer_full, 1);
    assert_eq!(outbox.stats().dropped_too_large, 1);
}

#[test]
fn disconnect_resends_same_sequence() {
    let mut outbox = Outbox::new(small());
    outbox.push(vec![1; 5]).ok();
    let seq = outbox.next_payload(encode).map(|(s, _)| s);
    outbox.mark_sent(1);
    outbox.disconnected();
    assert!(outbox.has_work());
    let again = outbox.next_payload(encode).map(|(s, _)| s);
    assert_eq!(seq, again);
}

#[test]
fn window_full_keeps_events_queued() {
    let mut outbox = Outbox::new(small());
    for _ in 0..4 {
        outbox.push(vec![0; 12]).ok();
    }
    // each batch is 8 + 24 = 32 bytes; the 40-byte window takes two batches, then stops
    let first = outbox.next_payload(encode).map(|(s, _)| s);
    outbox.mark_sent(1);
    let second = outbox.next_payload(encode).map(|(s, _)| s);
    outbox.mark_sent(2);
    assert_eq!((first, second), (Some(1), Some(2)));
    assert!(outbox.next_payload(encode).is_none());
    assert_eq!(outbox.queued_events(), 0);
    outbox.ack(1);
    assert!(outbox.next_payload(encode).is_none());
}

proptest! {
    /// Whatever happens, held memory stays within the configured bounds and every pushed
    /// event is either acknowledged, dropped and counted, or still held.
    #[test]
    fn memory_bounded_and_events_accounted(ops in proptest::collection::vec((0u8..5, 1usize..40), 1..300)) {
        let limits = small();
        let mut outbox = Outbox::new(limits);
        let mut accepted = 0u64;
        let mut inflight: Vec<u64> = Vec::new();
        for (op, size) in ops {
            match op {
                0 | 1 => { if outbox.push(vec![0; size]).is_ok() { accepted += 1; } }
                2 => { if let Some((seq, _)) = outbox.next_payload(encode) { outbox.mark_sent(seq); inflight.push(seq); } }
                3 => { if !inflight.is_empty() { let seq = inflight.remove(size % inflight.len()); outbox.ack(seq); } }
                _ => { outbox.disconnected(); inflight.clear(); }
            }
            prop_assert!(outbox.queued_bytes <= limits.max_queued_bytes);
            prop_assert!(outbox.queue.len() <= limits.max_queued_events);
            // the window may be exceeded by at most one batch (cut while below the bound)
            prop_assert!(outbox.pending_bytes < limits.max_unacked_bytes + 8 + limits.max_batch_bytes);
        }
        let held: u64 = outbox.queue.len() as u64 + outbox.pending.iter().map(|p| p.events as u64).sum::<u64>();
        prop_assert_eq!(accepted, outbox.stats().acked_events + held);
    }
}
