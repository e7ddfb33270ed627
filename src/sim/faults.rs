//! Random faults: which kinds a run may inject, and the injector that draws one every few
//! hundred milliseconds of virtual time while the chaos phase lasts. Every fault undoes
//! itself later (restart, heal, resume), so the cluster keeps moving between failures;
//! the final heal undoes whatever is left.

use super::cluster::{Event, Sim};
use crate::sim_trace;

/// The kinds of fault a run injects (`--faults crash,partition,...`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Faults {
    /// Kill a member (its disk loses unsynced bytes), restart it later.
    pub crash: bool,
    /// Split the members into two groups, heal later.
    pub partition: bool,
    /// Block one direction between two members.
    pub one_way: bool,
    /// Break one learner↔leader connection (both ends told).
    pub link_break: bool,
    /// SIGSTOP a member for a while (sometimes past every timeout).
    pub pause: bool,
    /// Drop election messages (per mille of them).
    pub vote_drop: bool,
    /// Make one member's fsyncs slow for a while.
    pub slow_disk: bool,
}

impl Faults {
    pub const NAMES: &'static [&'static str] =
        &["crash", "partition", "oneway", "break", "pause", "votedrop", "slowdisk"];

    pub fn all() -> Faults {
        Faults {
            crash: true,
            partition: true,
            one_way: true,
            link_break: true,
            pause: true,
            vote_drop: true,
            slow_disk: true,
        }
    }

    pub fn none() -> Faults {
        Faults {
            crash: false,
            partition: false,
            one_way: false,
            link_break: false,
            pause: false,
            vote_drop: false,
            slow_disk: false,
        }
    }

    /// `all`, `none`, or a comma-separated list of [`Faults::NAMES`].
    pub fn parse(s: &str) -> Result<Faults, String> {
        match s.trim() {
            "all" => return Ok(Faults::all()),
            "none" | "" => return Ok(Faults::none()),
            _ => {}
        }
        let mut f = Faults::none();
        for name in s.split(',').map(str::trim) {
            match name {
                "crash" => f.crash = true,
                "partition" => f.partition = true,
                "oneway" => f.one_way = true,
                "break" => f.link_break = true,
                "pause" => f.pause = true,
                "votedrop" => f.vote_drop = true,
                "slowdisk" => f.slow_disk = true,
                other => {
                    return Err(format!("unknown fault {other:?}; known: all, none, {}", Faults::NAMES.join(", ")))
                }
            }
        }
        Ok(f)
    }

    pub fn describe(&self) -> String {
        let on =
            [self.crash, self.partition, self.one_way, self.link_break, self.pause, self.vote_drop, self.slow_disk];
        let names: Vec<&str> = Faults::NAMES.iter().zip(on).filter(|(_, on)| *on).map(|(n, _)| *n).collect();
        if names.is_empty() {
            "none".into()
        } else {
            names.join(",")
        }
    }
}

impl Sim {
    /// Starts injecting random faults, the first one soon.
    pub fn start_faults(&mut self) {
        self.faults_on = true;
        if self.cfg.faults.vote_drop {
            self.vote_drop_per_mille = 50;
        }
        let at = self.now + self.rng_fault.range(300, 1500);
        self.schedule(at, Event::Fault);
    }

    /// Stops injecting; faults already scheduled to undo themselves still do.
    pub fn stop_faults(&mut self) {
        self.faults_on = false;
        self.vote_drop_per_mille = 0;
    }

    pub(super) fn random_fault(&mut self) {
        if !self.faults_on {
            return;
        }
        let f = self.cfg.faults;
        let weights = [
            if f.crash { 25 } else { 0 },
            if f.partition { 15 } else { 0 },
            if f.one_way { 8 } else { 0 },
            if f.link_break { 15 } else { 0 },
            if f.pause { 12 } else { 0 },
            if f.slow_disk { 10 } else { 0 },
        ];
        match self.rng_fault.weighted(&weights) {
            Some(0) => self.random_crash(),
            Some(1) => self.random_partition(),
            Some(2) => self.random_one_way(),
            Some(3) => self.random_break(),
            Some(4) => self.random_pause(),
            Some(5) => self.random_slow_disk(),
            _ => {}
        }
        let at = self.now + self.rng_fault.range(200, 3000);
        self.schedule(at, Event::Fault);
    }

    fn random_member(&mut self, pred: impl Fn(&super::cluster::Member) -> bool) -> Option<usize> {
        let candidates: Vec<usize> = (0..self.members.len()).filter(|m| pred(&self.members[*m])).collect();
        self.rng_fault.pick(&candidates).copied()
    }

    fn random_crash(&mut self) {
        // Keep at most a minority of voters plus one down, so quorums come and go.
        let down = self.members.iter().filter(|m| !m.is_up()).count();
        if down > self.cfg.voters / 2 {
            return;
        }
        let Some(m) = self.random_member(|m| m.is_up()) else { return };
        self.crash(m);
        let at = self.now + self.rng_fault.latency(200, 4000);
        self.schedule(at, Event::Restart { m });
    }

    fn random_partition(&mut self) {
        let n = self.members.len();
        let mut order: Vec<usize> = (0..n).collect();
        self.rng_fault.shuffle(&mut order);
        let cut = self.rng_fault.range(1, (n - 1).max(1) as u64) as usize;
        let (a, b) = order.split_at(cut.min(n));
        self.partitions.heal();
        self.partitions.split(&[a.to_vec(), b.to_vec()]);
        self.after_partition_change("partition");
    }

    fn random_one_way(&mut self) {
        let n = self.members.len() as u64;
        let a = self.rng_fault.below(n) as usize;
        let b = (a + 1 + self.rng_fault.below(n.saturating_sub(1).max(1)) as usize) % n as usize;
        self.partitions.block(a, b);
        self.after_partition_change("one-way block");
    }

    fn after_partition_change(&mut self, what: &str) {
        self.stats.partitions += 1;
        self.partition_generation += 1;
        sim_trace!(self.trace, self.now, "PARTITION ({what}): blocked {}", self.partitions.describe());
        let generation = self.partition_generation;
        let at = self.now + self.rng_fault.latency(300, 6000);
        self.schedule(at, Event::Heal { generation });
    }

    fn random_break(&mut self) {
        let links = self.open_links();
        let Some(id) = self.rng_fault.pick(&links).copied() else { return };
        self.stats.breaks += 1;
        self.break_link(id);
    }

    fn random_pause(&mut self) {
        let Some(m) = self.random_member(|m| m.is_live()) else { return };
        self.pause(m);
        // Mostly short stalls; sometimes past syncLimit, initLimit and session timeouts.
        let ms = self.rng_fault.latency(100, 3000);
        self.resume_later(m, ms);
    }

    fn random_slow_disk(&mut self) {
        let Some(m) = self.random_member(|m| m.is_up()) else { return };
        self.stats.slow_disks += 1;
        let until = self.now + self.rng_fault.range(500, 5000);
        let extra = self.rng_fault.range(50, 1500);
        self.members[m].slow_disk = Some((until, extra));
        sim_trace!(self.trace, self.now, "SLOW DISK m{m}: fsync +{extra} ms until {until} ms");
    }

    /// Removes every partition; held connection data moves again.
    pub fn heal(&mut self) {
        if !self.partitions.is_healed() {
            sim_trace!(self.trace, self.now, "HEAL partitions");
        }
        self.partitions.heal();
        self.partition_generation += 1;
        self.reconnect_all();
    }

    /// Splits the members into groups (scripted scenarios).
    pub fn partition(&mut self, groups: &[Vec<usize>]) {
        self.partitions.heal();
        self.partitions.split(groups);
        self.partition_generation += 1;
        self.stats.partitions += 1;
        sim_trace!(self.trace, self.now, "PARTITION {:?}: blocked {}", groups, self.partitions.describe());
    }

    /// Cuts one member off from all others (scripted scenarios).
    pub fn isolate(&mut self, m: usize) {
        let n = self.members.len();
        self.partitions.isolate(m, n);
        self.partition_generation += 1;
        self.stats.partitions += 1;
        sim_trace!(self.trace, self.now, "ISOLATE m{m}: blocked {}", self.partitions.describe());
    }

    /// Makes a member's fsyncs slow from now until `until_ms` (scripted scenarios).
    pub fn slow_disk(&mut self, m: usize, until_ms: u64, extra_ms: u64) {
        self.members[m].slow_disk = Some((until_ms, extra_ms));
        sim_trace!(self.trace, self.now, "SLOW DISK m{m}: fsync +{extra_ms} ms until {until_ms} ms");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_lists_parse_and_print_back() {
        assert_eq!(Faults::parse("all"), Ok(Faults::all()));
        assert_eq!(Faults::parse("none"), Ok(Faults::none()));
        let f = Faults::parse("crash, pause").unwrap_or(Faults::all());
        assert_eq!(f.describe(), "crash,pause");
        assert!(Faults::parse("meteor").is_err());
        assert_eq!(Faults::all().describe(), Faults::NAMES.join(","));
    }
}
