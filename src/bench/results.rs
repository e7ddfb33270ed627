//! The schema of a compare run's `results.json`: what `compare` writes and `plot` reads.
//! Its own file so that the two meet here instead of importing each other.

use super::stats::Report;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Sizes after applying --quick and the overrides.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Sizes {
    pub duration: f64,
    pub warmup: f64,
    pub conns: usize,
    pub inflight: usize,
    pub keys: usize,
    pub load: u64,
    pub zkl_count: u64,
    pub rate_fraction: f64,
    pub java_heap: String,
    /// Leader failovers timed in the ensemble phase (absent in results from before it).
    #[serde(default)]
    pub failovers: usize,
}

/// What was measured on one server.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ServerResult {
    /// The exact server command line.
    pub command: String,
    /// First line of the `srvr` four-letter word, if the server answers it.
    pub version: Option<String>,
    /// Bench reports by run name.
    pub runs: BTreeMap<String, Report>,
    /// The exact `ruzk bench` command line of each run.
    pub run_commands: BTreeMap<String, String>,
    /// Server CPU time (user + system) per op, in microseconds, by run name.
    pub cpu_us_per_op: BTreeMap<String, f64>,
    /// Scalar measurements (seconds, MB, bytes) by name.
    pub values: BTreeMap<String, f64>,
    /// Everything that went wrong, in order.
    pub errors: Vec<String>,
}

/// One line of the comparison table.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Row {
    pub metric: String,
    pub unit: String,
    pub java: Option<f64>,
    pub ruzk: Option<f64>,
    /// ruzk / java.
    pub ratio: Option<f64>,
    /// "higher" or "lower" is better.
    pub better: String,
    /// The ratio ruzk must reach: at least this when higher is better, at most when lower.
    pub target: f64,
    pub met: Option<bool>,
}

impl Row {
    pub fn new(
        metric: &str,
        unit: &str,
        better_higher: bool,
        target: f64,
        java: Option<f64>,
        ruzk: Option<f64>,
    ) -> Row {
        let ratio = match (java, ruzk) {
            (Some(j), Some(r)) if j > 0.0 => Some(r / j),
            _ => None,
        };
        let met = ratio.map(|x| if better_higher { x >= target } else { x <= target });
        Row {
            metric: metric.to_string(),
            unit: unit.to_string(),
            java,
            ruzk,
            ratio,
            better: if better_higher { "higher" } else { "lower" }.to_string(),
            target,
            met,
        }
    }

    pub fn target_text(&self) -> String {
        let op = if self.better == "higher" { "≥" } else { "≤" };
        format!("{op} {:.2}× Java", self.target)
    }
}

/// The whole results.json.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Results {
    pub date: String,
    pub quick: bool,
    pub command: String,
    pub git_commit: String,
    pub machine: BTreeMap<String, String>,
    pub sizes: Option<Sizes>,
    pub zoo_cfg: String,
    pub fixed_rate: Option<f64>,
    pub rows: Vec<Row>,
    pub servers: BTreeMap<String, ServerResult>,
}
