//! A bounded map of recently used entries, for the per-worker caches of the request path (caller
//! identities, header values that held nothing). Two generations: lookups look in both and move
//! a hit from the old one to the new; when the new one is full the old one is dropped and the
//! new one becomes old. So what is used keeps its place, and memory stays at two generations.

use rustc_hash::FxHashMap;
use std::borrow::Borrow;
use std::hash::Hash;

#[derive(Debug)]
pub struct Recent<K, V> {
    young: FxHashMap<K, V>,
    old: FxHashMap<K, V>,
    per_generation: usize,
}

impl<K: Hash + Eq, V> Recent<K, V> {
    pub fn new(per_generation: usize) -> Self {
        Recent { young: FxHashMap::default(), old: FxHashMap::default(), per_generation: per_generation.max(1) }
    }

    pub fn len(&self) -> usize {
        self.young.len() + self.old.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value of `key`, if it was put in or looked up within the last two generations.
    pub fn get<Q>(&mut self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if !self.young.contains_key(key) {
            let (k, v) = self.old.remove_entry(key)?;
            self.insert(k, v);
        }
        self.young.get(key)
    }

    pub fn insert(&mut self, key: K, value: V) {
        if self.young.len() >= self.per_generation {
            self.old = std::mem::take(&mut self.young);
        }
        self.young.insert(key, value);
    }
}

#[cfg(test)]
mod tests {
    use super::Recent;

    #[test]
    fn what_is_used_stays_and_memory_is_bounded() {
        let mut recent: Recent<u32, u32> = Recent::new(4);
        recent.insert(1, 10);
        for i in 100..1000 {
            recent.insert(i, i);
            // looked up every round, 1 is never dropped
            assert_eq!(recent.get(&1), Some(&10), "{i}");
            assert!(recent.len() <= 8);
        }
        assert_eq!(recent.get(&100), None, "old entries go");
        assert_eq!(recent.get(&999), Some(&999));
    }
}
