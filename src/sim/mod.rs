//! The deterministic simulator (placeholder header, completed below as modules land).

pub mod disk;
pub mod queue;
pub mod rng;
