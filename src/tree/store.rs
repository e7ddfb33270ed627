//! Where the znodes live: a slab of slots indexed by a hash table of `u32` slot numbers.
//!
//! A plain `HashMap<String, Znode>` keeps every ~150-byte entry inline in a bucket array
//! that sits half empty after each doubling, and every child name is a second copy of the
//! path's last segment. Here a bucket is 4 bytes, slots are dense, and a parent lists its
//! children by slot number, so a child's name is read from its own path. Memory per znode
//! drops by about half; lookups cost one extra indirection.

use super::Znode;
use hashbrown::HashTable;
use rustc_hash::FxHasher;
use std::hash::Hasher;

#[derive(Clone)]
struct Slot {
    path: Box<str>,
    node: Znode,
}

#[derive(Clone, Default)]
pub(crate) struct Store {
    slots: Vec<Option<Slot>>,
    free: Vec<u32>,
    index: HashTable<u32>,
}

fn hash(path: &str) -> u64 {
    let mut h = FxHasher::default();
    h.write(path.as_bytes());
    h.finish()
}

impl Store {
    fn slot(&self, i: u32) -> Option<&Slot> {
        self.slots.get(i as usize).and_then(|s| s.as_ref())
    }

    pub(crate) fn find(&self, path: &str) -> Option<u32> {
        let slots = &self.slots;
        self.index
            .find(hash(path), |&i| slots.get(i as usize).and_then(|s| s.as_ref()).is_some_and(|s| &*s.path == path))
            .copied()
    }

    pub(crate) fn get(&self, path: &str) -> Option<&Znode> {
        self.find(path).and_then(|i| self.slot(i)).map(|s| &s.node)
    }

    pub(crate) fn get_mut(&mut self, path: &str) -> Option<&mut Znode> {
        let i = self.find(path)?;
        self.slots.get_mut(i as usize).and_then(|s| s.as_mut()).map(|s| &mut s.node)
    }

    pub(crate) fn at(&self, i: u32) -> Option<(&str, &Znode)> {
        self.slot(i).map(|s| (&*s.path, &s.node))
    }

    pub(crate) fn contains(&self, path: &str) -> bool {
        self.find(path).is_some()
    }

    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }

    /// Inserts or replaces; returns the slot and the replaced node, if any.
    pub(crate) fn insert(&mut self, path: &str, node: Znode) -> (u32, Option<Znode>) {
        if let Some(i) = self.find(path) {
            if let Some(s) = self.slots.get_mut(i as usize).and_then(|s| s.as_mut()) {
                return (i, Some(std::mem::replace(&mut s.node, node)));
            }
        }
        let slot = Slot { path: path.into(), node };
        let i = match self.free.pop() {
            Some(i) => {
                if let Some(s) = self.slots.get_mut(i as usize) {
                    *s = Some(slot);
                }
                i
            }
            None => {
                self.slots.push(Some(slot));
                (self.slots.len() - 1) as u32
            }
        };
        let slots = &self.slots;
        self.index.insert_unique(hash(path), i, |&j| {
            slots.get(j as usize).and_then(|s| s.as_ref()).map_or(0, |s| hash(&s.path))
        });
        (i, None)
    }

    pub(crate) fn remove(&mut self, path: &str) -> Option<(u32, Znode)> {
        let slots = &self.slots;
        let entry = self
            .index
            .find_entry(hash(path), |&i| {
                slots.get(i as usize).and_then(|s| s.as_ref()).is_some_and(|s| &*s.path == path)
            })
            .ok()?;
        let (i, _) = entry.remove();
        let slot = self.slots.get_mut(i as usize).and_then(|s| s.take())?;
        self.free.push(i);
        Some((i, slot.node))
    }

    pub(crate) fn clear(&mut self) {
        *self = Store::default();
    }
}
