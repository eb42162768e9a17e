//! Body shapes: an endpoint's bodies mostly share one field list, so an event carries the
//! list's id and the list itself only the first time a worker sends that id in a window. The
//! collector keeps the lists and expands the ids (`collector/src/store/shapes.rs`).
//!
//! The id is a keyed hash (BLAKE3, keyed from the mesh's identity secret, cut to 64 bits), so a
//! client that controls a body cannot craft one whose id is another endpoint's and make the
//! collector file its fields under it. The window also ends whenever the worker's stream to the
//! collector starts over or the outbox drops an event, since either may lose a definition.

use crate::body::BodyFieldOut;
use rustc_hash::FxHashSet;

const KEY_CONTEXT: &str = "meshward 2026 body shape id v1";
/// Ids remembered per worker; past it the set starts over (definitions are sent again).
pub const MAX_SENT_SHAPES: usize = 4096;

#[derive(Debug)]
pub struct Shapes {
    key: [u8; 32],
    sent: FxHashSet<u64>,
    window_start_us: u64,
    window_us: u64,
}

impl Shapes {
    pub fn new(secret: &str, window_s: u32) -> Self {
        Shapes {
            key: blake3::derive_key(KEY_CONTEXT, secret.as_bytes()),
            sent: FxHashSet::default(),
            window_start_us: 0,
            window_us: u64::from(window_s) * 1_000_000,
        }
    }

    /// The id of a field list (0 for none); never 0 otherwise.
    pub fn id(&self, fields: &[BodyFieldOut]) -> u64 {
        if fields.is_empty() {
            return 0;
        }
        let mut hasher = blake3::Hasher::new_keyed(&self.key);
        for field in fields {
            hasher.update(field.path.as_bytes());
            hasher.update(&[0, field.field_type as u8 + 1]);
        }
        let digest = hasher.finalize();
        let mut id = [0u8; 8];
        id.copy_from_slice(&digest.as_bytes()[..8]);
        u64::from_le_bytes(id).max(1)
    }

    /// Whether the field list of `id` must go with this event: the first time in the window.
    pub fn needs_definition(&mut self, id: u64, now_us: u64) -> bool {
        if now_us.saturating_sub(self.window_start_us) >= self.window_us || self.sent.len() >= MAX_SENT_SHAPES {
            self.sent.clear();
            self.window_start_us = now_us;
        }
        self.sent.insert(id)
    }

    /// Starts the window over: every shape is defined again with its next event.
    pub fn forget(&mut self) {
        self.sent.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::FieldType;

    fn field(path: &str, field_type: FieldType) -> BodyFieldOut {
        BodyFieldOut { path: path.into(), field_type }
    }

    #[test]
    fn ids_follow_paths_and_types() {
        let shapes = Shapes::new("k", 60);
        let a = [field("$.a", FieldType::String), field("$.b", FieldType::Integer)];
        let b = [field("$.a", FieldType::String), field("$.b", FieldType::Number)];
        let c = [field("$.a", FieldType::String), field("$.b", FieldType::Integer)];
        assert_eq!(shapes.id(&a), shapes.id(&c));
        assert_ne!(shapes.id(&a), shapes.id(&b));
        assert_eq!(shapes.id(&[]), 0);
        // path boundaries are part of the hash: `$.ab` + `c` is not `$.a` + `bc`
        let d = [field("$.ab", FieldType::String), field("c", FieldType::String)];
        let e = [field("$.a", FieldType::String), field("bc", FieldType::String)];
        assert_ne!(shapes.id(&d), shapes.id(&e));
        assert_ne!(Shapes::new("other", 60).id(&a), shapes.id(&a), "keyed");
    }

    #[test]
    fn defined_once_per_window() {
        let mut shapes = Shapes::new("k", 60);
        assert!(shapes.needs_definition(5, 1_000_000));
        assert!(!shapes.needs_definition(5, 2_000_000));
        assert!(shapes.needs_definition(6, 2_000_000));
        assert!(shapes.needs_definition(5, 62_000_000), "a new window");
        shapes.forget();
        assert!(shapes.needs_definition(5, 62_000_001));
    }
}
