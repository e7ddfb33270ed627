//! The deterministic simulator (placeholder header, completed below as modules land).

pub mod cli;
pub mod client;
pub mod cluster;
pub mod disk;
pub mod faults;
pub mod ghost;
pub mod history;
pub mod known;
mod members;
pub mod net;
pub mod oracle;
pub mod queue;
pub mod rng;
pub mod run;
pub mod scenarios;
pub mod script;
mod storage;
pub mod trace;
mod wire;
pub mod workload;
