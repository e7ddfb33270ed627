//! The ensemble: Fast Leader Election and Zab, sans-I/O.
//!
//! Everything here is a plain state machine driven from outside (the tokio runtime in
//! production, the deterministic simulator in tests): messages, ticks and "durable up to
//! zxid" come in as inputs, and messages, log appends, truncations, epoch writes and
//! snapshot requests go out as outputs. No clock, no socket, no file, no randomness.
//!
//! - [`packet`]: the learner↔leader wire (`QuorumPacket`, `LearnerInfo`, the SNAP body).
//! - [`election`]: FastLeaderElection and its notification wire format.
//! - [`verifier`]: who votes and what a quorum is (majority and hierarchical).

pub mod election;
pub mod packet;
pub mod verifier;
