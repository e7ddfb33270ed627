//! Watches: per server and per connection, never replicated (`WatchManager`, two tables as
//! in Java's `DataTree`: data watches and child watches). A persistent watch lives in both
//! tables, a recursive one only in the data table, and in 3.8 each (connection, path) keeps
//! one mode per table: the latest registration wins.

use crate::tree::{path, EventType, WatchEvent};
use std::collections::{BTreeMap, HashMap, HashSet};

pub type ConnId = u64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Standard,
    Persistent,
    PersistentRecursive,
}

#[derive(Default)]
pub struct Table {
    by_path: HashMap<String, HashMap<ConnId, Mode>>,
    by_conn: HashMap<ConnId, HashSet<String>>,
    recursive: usize,
}

impl Table {
    pub fn add(&mut self, path: &str, conn: ConnId, mode: Mode) {
        let m = self.by_path.entry(path.to_string()).or_default();
        if let Some(old) = m.insert(conn, mode) {
            if old == Mode::PersistentRecursive {
                self.recursive -= 1;
            }
        }
        if mode == Mode::PersistentRecursive {
            self.recursive += 1;
        }
        self.by_conn.entry(conn).or_default().insert(path.to_string());
    }

    pub fn remove(&mut self, path: &str, conn: ConnId) -> Option<Mode> {
        let m = self.by_path.get_mut(path)?;
        let mode = m.remove(&conn)?;
        if m.is_empty() {
            self.by_path.remove(path);
        }
        if mode == Mode::PersistentRecursive {
            self.recursive -= 1;
        }
        if let Some(ps) = self.by_conn.get_mut(&conn) {
            ps.remove(path);
            if ps.is_empty() {
                self.by_conn.remove(&conn);
            }
        }
        Some(mode)
    }

    pub fn has(&self, path: &str, conn: ConnId) -> bool {
        self.by_path.get(path).is_some_and(|m| m.contains_key(&conn))
    }

    pub fn mode(&self, path: &str, conn: ConnId) -> Option<Mode> {
        self.by_path.get(path).and_then(|m| m.get(&conn).copied())
    }

    pub fn drop_conn(&mut self, conn: ConnId) {
        if let Some(paths) = self.by_conn.remove(&conn) {
            for p in paths {
                if let Some(m) = self.by_path.get_mut(&p) {
                    if m.remove(&conn) == Some(Mode::PersistentRecursive) {
                        self.recursive -= 1;
                    }
                    if m.is_empty() {
                        self.by_path.remove(&p);
                    }
                }
            }
        }
    }

    /// `WatchManager.triggerWatch` (3.8.0): watchers of `path` itself, and recursive watchers
    /// of its ancestors; recursive watchers never get NodeChildrenChanged; one-shot watches
    /// are removed (even when their delivery is suppressed).
    pub fn trigger(&mut self, path: &str, kind: EventType, suppress: &HashSet<ConnId>) -> HashSet<ConnId> {
        let mut out = HashSet::new();
        let mut fired_once = Vec::new();
        if let Some(m) = self.by_path.get(path) {
            for (&c, &mode) in m {
                match mode {
                    Mode::PersistentRecursive if kind == EventType::NodeChildrenChanged => continue,
                    Mode::Standard => fired_once.push(c),
                    _ => {}
                }
                if !suppress.contains(&c) {
                    out.insert(c);
                }
            }
        }
        for c in fired_once {
            self.remove(path, c);
        }
        if self.recursive > 0 && kind != EventType::NodeChildrenChanged {
            let mut p = path;
            while p != "/" && !p.is_empty() {
                p = path::parent_or_root(p);
                if let Some(m) = self.by_path.get(p) {
                    for (&c, &mode) in m {
                        if mode == Mode::PersistentRecursive && !suppress.contains(&c) {
                            out.insert(c);
                        }
                    }
                }
            }
        }
        out
    }

    /// `WatchManager.containsWatcher` in 3.8.0: true if *any* connection watches exactly
    /// `path` in this table (Java does not look at the caller).
    pub fn any_on(&self, path: &str) -> bool {
        // Java's path iterator yields nothing for "", so a watch on "" is never found.
        !path.is_empty() && self.by_path.contains_key(path)
    }

    pub fn paths_of(&self, conn: ConnId) -> Vec<String> {
        let mut v: Vec<String> = self.by_conn.get(&conn).map(|s| s.iter().cloned().collect()).unwrap_or_default();
        v.sort();
        v
    }

    pub fn count(&self) -> usize {
        self.by_path.values().map(|m| m.len()).sum()
    }

    pub fn path_count(&self) -> usize {
        self.by_path.len()
    }

    pub fn conn_count(&self) -> usize {
        self.by_conn.len()
    }

    /// path → connections, sorted, for `wchp`.
    pub fn by_path_sorted(&self) -> BTreeMap<String, Vec<ConnId>> {
        self.by_path
            .iter()
            .map(|(p, m)| {
                let mut v: Vec<ConnId> = m.keys().copied().collect();
                v.sort();
                (p.clone(), v)
            })
            .collect()
    }

    pub fn conns(&self) -> Vec<ConnId> {
        let mut v: Vec<ConnId> = self.by_conn.keys().copied().collect();
        v.sort();
        v
    }
}

#[derive(Default)]
pub struct Watches {
    pub data: Table,
    pub child: Table,
}

impl Watches {
    /// The deliveries one tree event causes, as `DataTree` triggers them.
    pub fn fire(&mut self, ev: &WatchEvent) -> Vec<ConnId> {
        let none = HashSet::new();
        let set = match ev.kind {
            EventType::NodeCreated | EventType::NodeDataChanged => self.data.trigger(&ev.path, ev.kind, &none),
            EventType::NodeChildrenChanged => self.child.trigger(&ev.path, ev.kind, &none),
            EventType::NodeDeleted => {
                let mut s = self.data.trigger(&ev.path, ev.kind, &none);
                let more = self.child.trigger(&ev.path, ev.kind, &s);
                s.extend(more);
                s
            }
        };
        let mut v: Vec<ConnId> = set.into_iter().collect();
        v.sort();
        v
    }

    pub fn drop_conn(&mut self, conn: ConnId) {
        self.data.drop_conn(conn);
        self.child.drop_conn(conn);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn ev(kind: EventType, path: &str) -> WatchEvent {
        WatchEvent { kind, path: path.into(), acl: None }
    }

    #[test]
    fn standard_watch_fires_once() {
        let mut w = Watches::default();
        w.data.add("/a", 1, Mode::Standard);
        assert_eq!(w.fire(&ev(EventType::NodeDataChanged, "/a")), vec![1]);
        assert!(w.fire(&ev(EventType::NodeDataChanged, "/a")).is_empty());
    }

    #[test]
    fn recursive_watch_sees_descendants_but_not_child_lists() {
        let mut w = Watches::default();
        w.data.add("/a", 7, Mode::PersistentRecursive);
        w.child.add("/a", 7, Mode::PersistentRecursive);
        assert_eq!(w.fire(&ev(EventType::NodeCreated, "/a/b/c")), vec![7]);
        assert!(w.fire(&ev(EventType::NodeChildrenChanged, "/a/b")).is_empty());
        assert!(w.fire(&ev(EventType::NodeChildrenChanged, "/a")).is_empty());
        assert_eq!(w.fire(&ev(EventType::NodeDataChanged, "/a")), vec![7]);
    }

    /// Java 3.8.0 keeps one mode per table: a later exists() on a recursively watched path
    /// makes the data table standard, while the child table still delivers NodeDeleted for
    /// descendants.
    #[test]
    fn standard_watch_overwrites_recursive_mode_in_one_table_only() {
        let mut w = Watches::default();
        w.data.add("/b", 3, Mode::PersistentRecursive);
        w.child.add("/b", 3, Mode::PersistentRecursive);
        w.data.add("/b", 3, Mode::Standard);
        assert!(w.fire(&ev(EventType::NodeCreated, "/b/x")).is_empty());
        assert_eq!(w.fire(&ev(EventType::NodeDeleted, "/b/x")), vec![3]);
    }

    #[test]
    fn delete_notifies_a_connection_once() {
        let mut w = Watches::default();
        w.data.add("/a", 1, Mode::Standard);
        w.child.add("/a", 1, Mode::Standard);
        assert_eq!(w.fire(&ev(EventType::NodeDeleted, "/a")), vec![1]);
        assert!(!w.child.has("/a", 1));
    }
}
