//! The event heap: events ordered by (virtual time, insertion sequence). The sequence makes
//! simultaneous events fire in the order they were scheduled, so nothing about the order
//! depends on a hash, an address or a thread.
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

use std::collections::BTreeMap;

#[derive(Debug)]
pub struct EventQueue<E> {
    heap: BTreeMap<(u64, u64), E>,
    seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue { heap: BTreeMap::new(), seq: 0 }
    }
}

impl<E> EventQueue<E> {
    pub fn push(&mut self, at_ms: u64, e: E) {
        self.seq += 1;
        self.heap.insert((at_ms, self.seq), e);
    }

    /// The earliest event, with its time.
    pub fn pop(&mut self) -> Option<(u64, E)> {
        self.heap.pop_first().map(|((t, _), e)| (t, e))
    }

    pub fn peek_time(&self) -> Option<u64> {
        self.heap.first_key_value().map(|((t, _), _)| *t)
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Removes every event for which `drop` is true (used when a member crashes).
    pub fn retain(&mut self, mut keep: impl FnMut(&E) -> bool) {
        self.heap.retain(|_, e| keep(e));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_pop_by_time_then_by_insertion_order() {
        let mut q = EventQueue::default();
        q.push(10, "c");
        q.push(5, "a");
        q.push(10, "d");
        q.push(5, "b");
        assert_eq!(q.peek_time(), Some(5));
        let order: Vec<(u64, &str)> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(order, vec![(5, "a"), (5, "b"), (10, "c"), (10, "d")]);
        assert!(q.is_empty());
    }
}
