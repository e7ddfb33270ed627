//! ruzk: Apache ZooKeeper in Rust, wire- and disk-compatible with Java ZooKeeper 3.8/3.9.
//!
//! Layout (lower layers never depend on higher ones):
//! - `types`: typed ids (zxid, session id, server id), declared once.
//! - `jute`: the wire format and every record (no I/O).
//! - `config`: `zoo.cfg`, `myid` and `-D` properties, parsed as Java's `QuorumPeerConfig`.
//! - `tree`: the replicated data tree; `apply(txn)` is deterministic (no clock, no I/O).
//! - `server`: the request pipeline as a sans-I/O state machine: sessions, prep
//!   (request → txn), apply, replies, watches, four-letter words. Time comes in as an argument.
//! - `storage`: Java's txn-log and snapshot formats, restore.
//! - `quorum`: the ensemble (FastLeaderElection, Zab) as sans-I/O state machines.
//! - `runtime`: the only async/I/O code: listener, connection tasks, the core task, disk thread.
//! - `bench`: the load generator.

pub mod bench;
pub mod config;
#[doc(hidden)]
pub mod fuzzing;
pub mod jute;
pub mod quorum;
pub mod runtime;
pub mod server;
pub mod sim;
pub mod storage;
pub mod tree;
pub mod types;

/// What `srvr`/`stat` report as the version; scripts parse the `, built on` part.
pub const VERSION_STRING: &str = concat!("3.8.0-ruzk-", env!("CARGO_PKG_VERSION"), ", built on 2026-11-25 00:00 UTC");
