//! Event ids: 128 bits, a random per-worker half and a counter, so ids never repeat across
//! workers, restarts or Envoys without a random call per request.

/// Lower-case hex of `bytes`: event ids and hashes as the tables and logs spell them.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

/// One worker's ids (a wasm VM's, or a native module's worker thread's).
#[derive(Debug)]
pub struct EventIds {
    high: u64,
    next: u64,
}

impl EventIds {
    pub fn new(seed: [u8; 16]) -> Self {
        let (high, low) = seed.split_at(8);
        EventIds {
            high: u64::from_le_bytes(high.try_into().unwrap_or_default()),
            next: u64::from_le_bytes(low.try_into().unwrap_or_default()),
        }
    }

    pub fn next_id(&mut self) -> [u8; 16] {
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&self.high.to_be_bytes());
        id[8..].copy_from_slice(&self.next.to_be_bytes());
        self.next = self.next.wrapping_add(1);
        id
    }

    pub fn source_id(&self) -> String {
        format!("{:016x}", self.high)
    }

    /// The per-worker random half (also seeds the worker's sampling and retry jitter).
    pub fn seed(&self) -> u64 {
        self.high
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_are_unique() {
        let mut ids = EventIds::new([7; 16]);
        let a = ids.next_id();
        let b = ids.next_id();
        assert_eq!(a.len(), 16);
        assert_ne!(a, b);
    }
}
