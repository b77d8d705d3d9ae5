//! A slab: connections in numbered slots, so an event's token leads straight to its connection.
//!
//! An event loop registers each socket with a token of its choosing (epoll's `u64`, `polling`'s
//! `usize`) and gets that token back with every event. Using the connection's slot number as
//! the token turns "which connection is this?" into an index — no search, no map. Slots of
//! closed connections are reused, so the slab stays as small as the busiest moment.
//!
//! **The rule about reusing keys**, stated once for every loop in the workspace: a key freed by
//! [`Slab::remove`] is not handed out again until [`Slab::next_turn`], which a loop calls once
//! per turn, before it waits. Within one turn the loop may still hold the old key — a later
//! event of the same batch, an edge-triggered loop's still-ready list — and an immediately
//! reused key would deliver those to a newcomer that never asked for them.

/// Values in numbered slots; see the module docs for when a key may be reused.
#[derive(Debug)]
pub struct Slab<T> {
    slots: Vec<Option<T>>,
    /// Keys free to hand out now.
    free: Vec<usize>,
    /// Keys freed during this turn: free from the next one.
    released: Vec<usize>,
    len: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab {
            slots: Vec::new(),
            free: Vec::new(),
            released: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Slab<T> {
    /// An empty slab.
    pub fn new() -> Slab<T> {
        Slab::default()
    }

    /// The key the next [`insert`](Slab::insert) will use — to register a socket under it
    /// before the connection is stored.
    pub fn vacant_key(&self) -> usize {
        self.free.last().copied().unwrap_or(self.slots.len())
    }

    /// Stores `value` and returns its key ([`vacant_key`](Slab::vacant_key) as it was).
    pub fn insert(&mut self, value: T) -> usize {
        let key = match self.free.pop() {
            Some(key) => key,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        self.slots[key] = Some(value);
        self.len += 1;
        key
    }

    /// The value under `key`, if that slot is in use.
    pub fn get(&self, key: usize) -> Option<&T> {
        self.slots.get(key).and_then(Option::as_ref)
    }

    /// The value under `key`, if that slot is in use.
    pub fn get_mut(&mut self, key: usize) -> Option<&mut T> {
        self.slots.get_mut(key).and_then(Option::as_mut)
    }

    /// Takes the value out; its key is reused only after [`next_turn`](Slab::next_turn).
    pub fn remove(&mut self, key: usize) -> Option<T> {
        let value = self.slots.get_mut(key)?.take()?;
        self.released.push(key);
        self.len -= 1;
        Some(value)
    }

    /// Makes the keys freed since the last call available again. Call it once per turn of the
    /// loop, when no key from the previous batch of events is held any more.
    pub fn next_turn(&mut self) {
        self.free.append(&mut self.released);
    }

    /// How many values are stored.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Every stored value with its key.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &T)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(key, slot)| slot.as_ref().map(|value| (key, value)))
    }

    /// Every key in use, in order (a snapshot: the slab may change while the keys are used).
    pub fn keys(&self) -> Vec<usize> {
        self.iter().map(|(key, _)| key).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::Slab;

    #[test]
    fn a_freed_key_is_reused_only_after_the_turn_ends() {
        let mut slab = Slab::new();
        let a = slab.insert("a");
        let b = slab.insert("b");
        assert_eq!(slab.remove(a), Some("a"));
        // Same turn: an event already collected for `a` must not reach a newcomer.
        let c = slab.insert("c");
        assert_ne!(c, a);
        assert_eq!(slab.get(a), None);
        slab.next_turn();
        assert_eq!(slab.vacant_key(), a);
        assert_eq!(slab.insert("d"), a);
        assert_eq!(slab.len(), 3);
        assert_eq!(slab.keys(), vec![a, b, c]);
    }

    #[test]
    fn removing_twice_or_out_of_range_is_none() {
        let mut slab = Slab::new();
        let a = slab.insert(1);
        assert_eq!(slab.remove(a), Some(1));
        assert_eq!(slab.remove(a), None);
        assert_eq!(slab.remove(99), None);
        slab.next_turn();
        // The key was released once, so it is handed out once.
        assert_eq!(slab.insert(2), a);
        assert_eq!(slab.insert(3), a + 1);
        assert!(!slab.is_empty());
    }
}
