//! The deterministic simulator (placeholder header, completed below as modules land).

pub mod client;
pub mod disk;
pub mod ghost;
pub mod history;
pub mod net;
pub mod oracle;
pub mod queue;
pub mod rng;
pub mod trace;
pub mod workload;
