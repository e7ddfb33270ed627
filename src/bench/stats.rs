//! Measurements of one bench run: per-connection HdrHistograms (merged at the end), error
//! counts by ZooKeeper error code, and the serialisable report printed as a table or JSON.

use super::workload::Kind;
use crate::jute::error_code;
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

/// Latencies are kept in microseconds, from 1 µs to 10 minutes, at 3 significant digits.
fn new_hist() -> Histogram<u64> {
    #[allow(clippy::expect_used)]
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("constant histogram bounds are valid")
}

/// What one connection measured.
pub struct ConnStats {
    pub hist: BTreeMap<Kind, Histogram<u64>>,
    /// (op kind, error code) → count; code 0 is counted too (successes).
    pub codes: BTreeMap<(Kind, i32), u64>,
    /// Every reply, warmup included.
    pub total: u64,
    pub notifications: u64,
}

impl Default for ConnStats {
    fn default() -> Self {
        Self::new()
    }
}

impl ConnStats {
    pub fn new() -> ConnStats {
        ConnStats { hist: BTreeMap::new(), codes: BTreeMap::new(), total: 0, notifications: 0 }
    }

    pub fn record(&mut self, kind: Kind, err: i32, latency: Duration) {
        let us = (latency.as_micros() as u64).max(1);
        let h = self.hist.entry(kind).or_insert_with(new_hist);
        h.saturating_record(us);
        *self.codes.entry((kind, err)).or_insert(0) += 1;
    }

    pub fn merge(&mut self, other: &ConnStats) {
        for (k, h) in &other.hist {
            let mine = self.hist.entry(*k).or_insert_with(new_hist);
            // Same bounds everywhere, so adding cannot fail; a failure would only lose samples.
            let _ = mine.add(h);
        }
        for (k, n) in &other.codes {
            *self.codes.entry(*k).or_insert(0) += n;
        }
        self.total += other.total;
        self.notifications += other.notifications;
    }

    /// Successful plus failed replies inside the measured window.
    pub fn recorded(&self) -> u64 {
        self.codes.values().sum()
    }

    pub fn errors(&self) -> u64 {
        self.codes.iter().filter(|((_, c), _)| *c != 0).map(|(_, n)| n).sum()
    }

    pub fn all_latencies(&self) -> Histogram<u64> {
        let mut all = new_hist();
        for h in self.hist.values() {
            let _ = all.add(h);
        }
        all
    }
}

/// Latency percentiles in milliseconds.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Latency {
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl Latency {
    pub fn of(h: &Histogram<u64>) -> Latency {
        if h.is_empty() {
            return Latency::default();
        }
        let ms = |us: u64| us as f64 / 1000.0;
        Latency {
            mean: h.mean() / 1000.0,
            p50: ms(h.value_at_quantile(0.50)),
            p90: ms(h.value_at_quantile(0.90)),
            p99: ms(h.value_at_quantile(0.99)),
            p999: ms(h.value_at_quantile(0.999)),
            max: ms(h.max()),
        }
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct OpReport {
    pub count: u64,
    pub errors: u64,
    pub ops_per_sec: f64,
    pub latency_ms: Latency,
}

/// One timed phase (zk-latencies, load, setup).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct PhaseReport {
    pub name: String,
    pub ops: u64,
    pub errors: u64,
    pub seconds: f64,
    pub ops_per_sec: f64,
    pub ms_per_op: f64,
    pub latency_ms: Latency,
    #[serde(default)]
    pub notifications: u64,
    /// "op:CODE_NAME" → count, failures only.
    #[serde(default)]
    pub errors_by_code: BTreeMap<String, u64>,
}

/// The report of one `ruzk bench` run.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Report {
    pub workload: String,
    pub server: String,
    pub conns: usize,
    pub inflight: usize,
    pub value_size: usize,
    pub keys: usize,
    pub target_rate: Option<f64>,
    /// Length of the measured window (after warmup).
    pub seconds: f64,
    /// Replies inside the measured window.
    pub ops: u64,
    /// Replies during the whole run, warmup included (for CPU time per op).
    pub ops_total: u64,
    pub ops_per_sec: f64,
    pub errors: u64,
    pub latency_ms: Latency,
    pub per_op: BTreeMap<String, OpReport>,
    /// "op:CODE_NAME" → count, failures only.
    pub errors_by_code: BTreeMap<String, u64>,
    pub phases: Vec<PhaseReport>,
}

impl Report {
    pub fn fill(&mut self, s: &ConnStats, seconds: f64) {
        let secs = seconds.max(1e-9);
        self.seconds = seconds;
        self.ops = s.recorded();
        self.ops_total = s.total;
        self.ops_per_sec = self.ops as f64 / secs;
        self.errors = s.errors();
        self.latency_ms = Latency::of(&s.all_latencies());
        for (k, h) in &s.hist {
            let count: u64 = s.codes.iter().filter(|((kk, _), _)| kk == k).map(|(_, n)| n).sum();
            let errors: u64 = s.codes.iter().filter(|((kk, c), _)| kk == k && *c != 0).map(|(_, n)| n).sum();
            self.per_op.insert(
                k.name().to_string(),
                OpReport { count, errors, ops_per_sec: count as f64 / secs, latency_ms: Latency::of(h) },
            );
        }
        self.errors_by_code = error_codes(s);
    }

    /// The human-readable table.
    pub fn table(&self) -> String {
        let mut t = String::new();
        let _ = writeln!(
            t,
            "workload {}  server {}  conns {} x inflight {}  value {} B  keys {}{}",
            self.workload,
            self.server,
            self.conns,
            self.inflight,
            self.value_size,
            self.keys,
            self.target_rate.map(|r| format!("  target rate {r:.0}/s")).unwrap_or_default()
        );
        if self.ops > 0 {
            let _ = writeln!(
                t,
                "{:<10} {:>10} {:>11} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>7}",
                "op", "count", "ops/s", "mean", "p50", "p90", "p99", "p99.9", "max(ms)", "errors"
            );
            let row = |t: &mut String, name: &str, count: u64, rate: f64, l: &Latency, errs: u64| {
                let _ = writeln!(
                    t,
                    "{:<10} {:>10} {:>11.1} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>9.3} {:>7}",
                    name, count, rate, l.mean, l.p50, l.p90, l.p99, l.p999, l.max, errs
                );
            };
            for (name, o) in &self.per_op {
                row(&mut t, name, o.count, o.ops_per_sec, &o.latency_ms, o.errors);
            }
            row(&mut t, "TOTAL", self.ops, self.ops_per_sec, &self.latency_ms, self.errors);
            let _ = writeln!(t, "measured {:.2} s (after warmup)", self.seconds);
        }
        if !self.phases.is_empty() {
            let _ = writeln!(
                t,
                "{:<22} {:>9} {:>9} {:>10} {:>11} {:>8} {:>8} {:>7}",
                "phase", "ops", "ms", "ms/op", "ops/s", "p99", "notif", "errors"
            );
            for p in &self.phases {
                let _ = writeln!(
                    t,
                    "{:<22} {:>9} {:>9.0} {:>10.4} {:>11.1} {:>8.3} {:>8} {:>7}",
                    p.name,
                    p.ops,
                    p.seconds * 1000.0,
                    p.ms_per_op,
                    p.ops_per_sec,
                    p.latency_ms.p99,
                    p.notifications,
                    p.errors
                );
            }
        }
        for (k, n) in &self.errors_by_code {
            let _ = writeln!(t, "error {k}: {n}");
        }
        for p in &self.phases {
            for (k, n) in &p.errors_by_code {
                let _ = writeln!(t, "error in {} {k}: {n}", p.name);
            }
        }
        t
    }
}

impl PhaseReport {
    pub fn from_stats(name: &str, s: &ConnStats, seconds: f64) -> PhaseReport {
        let ops = s.recorded();
        PhaseReport {
            name: name.to_string(),
            ops,
            errors: s.errors(),
            seconds,
            ops_per_sec: ops as f64 / seconds.max(1e-9),
            ms_per_op: if ops == 0 { 0.0 } else { seconds * 1000.0 / ops as f64 },
            latency_ms: Latency::of(&s.all_latencies()),
            notifications: s.notifications,
            errors_by_code: error_codes(s),
        }
    }
}

/// The error code recorded for a reply that does not say what it should. Not a ZooKeeper
/// code; chosen far from them.
pub const BAD_REPLY: i32 = -100_000;

/// Failures by "op:CODE_NAME".
fn error_codes(s: &ConnStats) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for ((k, c), n) in &s.codes {
        if *c != 0 {
            *m.entry(format!("{}:{}", k.name(), code_name(*c))).or_insert(0) += n;
        }
    }
    m
}

/// `KeeperException.Code` names, for the error table.
pub fn code_name(code: i32) -> String {
    match error_code::java_name(code) {
        Some(n) => n.to_string(),
        None if code == BAD_REPLY => "BADREPLY(client check: wrong getData length)".to_string(),
        None => code.to_string(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn merged_stats_give_percentiles_and_error_names() {
        let mut a = ConnStats::new();
        for i in 1..=99u64 {
            a.record(Kind::Get, 0, Duration::from_micros(i * 10));
        }
        let mut b = ConnStats::new();
        b.record(Kind::Set, -101, Duration::from_millis(50));
        b.total = 7;
        a.total = 99;
        a.merge(&b);
        let mut r = Report::default();
        r.fill(&a, 2.0);
        assert_eq!(r.ops, 100);
        assert_eq!(r.ops_total, 106);
        assert_eq!(r.errors, 1);
        assert!((r.ops_per_sec - 50.0).abs() < 1e-9);
        assert_eq!(r.errors_by_code.get("set:NONODE"), Some(&1));
        assert!((r.latency_ms.max - 50.0).abs() < 0.1, "{:?}", r.latency_ms);
        assert!((r.latency_ms.p50 - 0.5).abs() < 0.01, "{:?}", r.latency_ms);
        assert_eq!(r.per_op["get"].count, 99);
        assert!(r.table().contains("set:NONODE: 1"));
    }

    #[test]
    fn unknown_codes_print_as_numbers() {
        assert_eq!(code_name(-110), "NODEEXISTS");
        assert_eq!(code_name(-999), "-999");
    }
}
