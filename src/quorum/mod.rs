//! The ensemble: Fast Leader Election and Zab, sans-I/O.
//!
//! Everything here is a plain state machine driven from outside (the tokio runtime in
//! production, the deterministic simulator in tests): messages, ticks and "durable up to
//! zxid" come in as inputs, and messages, log appends, truncations, epoch writes and
//! snapshot requests go out as outputs. No clock, no socket, no file, no randomness.
//!
//! - [`io`]: the boundary — every input and output of one member.
//! - [`peer`]: one member (`QuorumPeer`): server core + election + its current role.
//! - [`leader`], [`learner`]: the two sides of Zab (discovery, sync, broadcast).
//! - [`sync`]: the committed log and the DIFF/TRUNC/SNAP decision.
//! - [`packet`], [`snap`]: the learner↔leader wire and the SNAP body.
//! - [`election`]: FastLeaderElection and its notification wire format.
//! - [`verifier`]: who votes and what a quorum is (majority and hierarchical).

pub mod election;
pub mod io;
pub mod leader;
pub mod learner;
pub mod packet;
pub mod peer;
pub mod snap;
pub mod sync;
pub mod verifier;

#[cfg(test)]
mod tests;
