//! `ruzk sim`: run seeds of the deterministic simulator from the command line, print one
//! line per seed, and for a failing seed the violations, the members' disks, and the one
//! command that replays it (with `--trace`, the whole event trace).

use super::cluster::{Config, ElectionKind, Sim};
use super::faults::Faults;
use super::run::Outcome;
use anyhow::{bail, Context};

/// Arguments of `ruzk sim`.
#[derive(clap::Args, Debug, Clone)]
pub struct SimArgs {
    /// Run this one seed.
    #[arg(long, conflicts_with = "seeds")]
    pub seed: Option<u64>,
    /// Run a range of seeds: `A..B` (B excluded) or `A..=B`.
    #[arg(long)]
    pub seeds: Option<String>,
    /// Voting members.
    #[arg(long, default_value_t = 3)]
    pub members: usize,
    /// Observers, in addition to the voting members.
    #[arg(long, default_value_t = 0)]
    pub observers: usize,
    /// Simulated clients.
    #[arg(long, default_value_t = 4)]
    pub clients: usize,
    /// Events in the fault phase (then everything heals and the end checks run).
    #[arg(long, default_value_t = 50_000)]
    pub steps: u64,
    /// Faults to inject: `all`, `none`, or a list of crash,partition,oneway,break,pause,votedrop,slowdisk.
    #[arg(long, default_value = "all")]
    pub faults: String,
    /// Who elects leaders: `fle` (FastLeaderElection) or `oracle`.
    #[arg(long, default_value = "fle")]
    pub election: String,
    /// Turn on a deliberate Zab bug (test switch): ack-before-durable, apply-uncommitted,
    /// commit-without-quorum.
    #[arg(long)]
    pub bug: Vec<String>,
    /// Print the whole event trace of each failing seed (of every seed with --seed).
    #[arg(long)]
    pub trace: bool,
    /// Keep going after a failing seed (a long run counts failures instead of stopping).
    #[arg(long)]
    pub keep_going: bool,
    /// Do not check this invariant (to see what else catches a bug); may repeat.
    #[arg(long)]
    pub disable: Vec<String>,
    /// Run a scripted Java sync-bug schedule instead of random seeds: 3911, 4643, 4646,
    /// 4685, 4785, 3642, 4925, 5094.
    #[arg(long)]
    pub scenario: Option<String>,
    /// With --scenario: emulate Java 3.8's learner ordering (ACK and currentEpoch before durable).
    #[arg(long)]
    pub java_ordering: bool,
}

impl SimArgs {
    fn seed_range(&self) -> anyhow::Result<(u64, u64)> {
        if let Some(s) = self.seed {
            return Ok((s, s + 1));
        }
        let Some(r) = &self.seeds else { return Ok((1, 2)) };
        let (a, b, inclusive) = if let Some((a, b)) = r.split_once("..=") {
            (a, b, true)
        } else if let Some((a, b)) = r.split_once("..") {
            (a, b, false)
        } else {
            bail!("--seeds takes A..B or A..=B, not {r:?}");
        };
        let a: u64 = a.trim().parse().with_context(|| format!("bad seed range start in {r:?}"))?;
        let b: u64 = b.trim().parse().with_context(|| format!("bad seed range end in {r:?}"))?;
        let end = if inclusive { b + 1 } else { b };
        if end <= a {
            bail!("the seed range {r:?} is empty");
        }
        Ok((a, end))
    }

    /// The run's configuration for one seed.
    pub fn config(&self, seed: u64) -> anyhow::Result<Config> {
        let mut c = Config::new(seed, self.members);
        c.observers = self.observers;
        c.clients = self.clients;
        c.faults = Faults::parse(&self.faults).map_err(anyhow::Error::msg)?;
        c.election = match self.election.as_str() {
            "fle" => ElectionKind::Fle,
            "oracle" => ElectionKind::Oracle,
            other => bail!("--election is fle or oracle, not {other:?}"),
        };
        for d in &self.disable {
            match super::history::inv::ALL.iter().find(|n| **n == d.as_str()) {
                Some(n) => {
                    c.disabled.insert(n);
                }
                None => bail!("unknown invariant {d:?}; known: {}", super::history::inv::ALL.join(", ")),
            }
        }
        for b in &self.bug {
            match b.as_str() {
                "ack-before-durable" => c.bugs.ack_before_durable = true,
                "apply-uncommitted" => c.bugs.apply_uncommitted = true,
                "commit-without-quorum" => c.bugs.commit_without_quorum = true,
                other => bail!("unknown --bug {other:?}"),
            }
        }
        Ok(c)
    }

    /// The command that replays `seed` with these settings.
    pub fn replay_command(&self, seed: u64) -> String {
        let mut cmd = format!("ruzk sim --seed {seed} --members {} --steps {}", self.members, self.steps);
        if self.observers > 0 {
            cmd += &format!(" --observers {}", self.observers);
        }
        if self.clients != 4 {
            cmd += &format!(" --clients {}", self.clients);
        }
        if self.faults != "all" {
            cmd += &format!(" --faults {}", self.faults);
        }
        if self.election != "fle" {
            cmd += &format!(" --election {}", self.election);
        }
        for b in &self.bug {
            cmd += &format!(" --bug {b}");
        }
        for d in &self.disable {
            cmd += &format!(" --disable {d}");
        }
        cmd + " --trace"
    }
}

/// Totals over a range of seeds.
#[derive(Debug, Default)]
struct Totals {
    seeds: u64,
    failed: Vec<u64>,
    /// Failed seeds a known bug explains, by bug.
    known: std::collections::BTreeMap<&'static str, Vec<u64>>,
    events: u64,
    replies: u64,
    acked: u64,
    crashes: u64,
    partitions: u64,
    pauses: u64,
    breaks: u64,
    epochs: u64,
    virtual_ms: u64,
}

impl Totals {
    fn add(&mut self, o: &Outcome) {
        self.seeds += 1;
        if !o.passed() {
            self.failed.push(o.seed);
        }
        self.events += o.stats.events;
        self.replies += o.clients.replies;
        self.acked += o.acked_writes as u64;
        self.crashes += o.stats.crashes;
        self.partitions += o.stats.partitions;
        self.pauses += o.stats.pauses;
        self.breaks += o.stats.breaks;
        self.epochs += o.stats.epochs;
        self.virtual_ms += o.virtual_ms;
    }
}

pub fn run(args: SimArgs) -> anyhow::Result<()> {
    if let Some(name) = &args.scenario {
        return run_scenario(&args, name);
    }
    let (from, to) = args.seed_range()?;
    let mut totals = Totals::default();
    let started = std::time::Instant::now();
    for seed in from..to {
        let mut cfg = args.config(seed)?;
        cfg.keep_trace = args.trace;
        let (sim, o) = Sim::run(cfg, args.steps);
        println!("{}", o.summary());
        totals.add(&o);
        if let Some(bug) = super::known::classify(&sim, &o) {
            totals.known.entry(bug).or_default().push(seed);
        }
        if !o.passed() {
            report_failure(&args, &sim, &o);
            if !args.keep_going {
                break;
            }
        } else if args.trace && args.seed.is_some() {
            for l in sim.trace.lines() {
                println!("{l}");
            }
        }
    }
    if totals.seeds > 1 {
        println!(
            "{} seeds in {:.1}s: {} events, {:.0}s simulated, {} client replies, {} acknowledged writes, {} crashes, \
             {} partitions, {} pauses, {} link breaks, {} epochs; {} failed{}",
            totals.seeds,
            started.elapsed().as_secs_f64(),
            totals.events,
            totals.virtual_ms as f64 / 1000.0,
            totals.replies,
            totals.acked,
            totals.crashes,
            totals.partitions,
            totals.pauses,
            totals.breaks,
            totals.epochs,
            totals.failed.len(),
            if totals.failed.is_empty() {
                String::new()
            } else {
                format!(" (seeds {})", totals.failed.iter().map(u64::to_string).collect::<Vec<_>>().join(", "))
            }
        );
        for (bug, seeds) in &totals.known {
            println!(
                "  known Peer bug \"{bug}\": seeds {}",
                seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
            );
        }
    }
    if totals.failed.is_empty() {
        Ok(())
    } else {
        bail!("{} of {} seeds violated an invariant", totals.failed.len(), totals.seeds)
    }
}

fn run_scenario(args: &SimArgs, name: &str) -> anyhow::Result<()> {
    let Some(f) = super::scenarios::by_name(name) else {
        bail!("unknown scenario {name:?}; known: {}", super::scenarios::NAMES.join(", "));
    };
    let bugs = if args.java_ordering { super::scenarios::java_ordering() } else { Default::default() };
    let (sim, o) = f(bugs).map_err(|why| anyhow::anyhow!("ZOOKEEPER-{name}: the script could not proceed: {why}"))?;
    println!("ZOOKEEPER-{name}{}: {}", if args.java_ordering { " (Java ordering)" } else { "" }, o.summary());
    for v in &o.violations {
        println!("  VIOLATION {v}");
    }
    if args.trace {
        for l in sim.trace.lines() {
            println!("{l}");
        }
    }
    if o.passed() {
        Ok(())
    } else {
        bail!("ZOOKEEPER-{name}: {} violations", o.violations.len())
    }
}

fn report_failure(args: &SimArgs, sim: &Sim, o: &Outcome) {
    for v in &o.violations {
        println!("  VIOLATION {v}");
    }
    if let Some(bug) = super::known::classify(sim, o) {
        println!("  looks like a known Peer bug: {bug}");
    }
    println!("  members: {}", sim.roles());
    let epochs: Vec<String> = sim.ghost.epochs().iter().map(|(e, i)| format!("{e}:m{}@{}", i.leader, i.base)).collect();
    println!("  epochs (epoch:leader@base): {}", epochs.join(" "));
    if args.trace {
        if let Some(d) = sim.ghost.first_divergence(true) {
            println!("  first divergence from the history: {d}");
        }
    }
    for m in 0..sim.members.len() {
        println!("  {}", sim.describe_disk(m));
        println!("    {}", sim.diagnose_disk(m));
    }
    if args.trace {
        println!("  trace:");
        for l in sim.trace.lines() {
            println!("{l}");
        }
    } else {
        println!("  last events:");
        for l in sim.trace.lines().iter().rev().take(40).rev() {
            println!("{l}");
        }
    }
    println!("  replay: {}", args.replay_command(o.seed));
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        a: SimArgs,
    }

    fn parse(args: &[&str]) -> SimArgs {
        Cli::parse_from(std::iter::once("sim").chain(args.iter().copied())).a
    }

    #[test]
    fn seed_ranges_and_the_replay_command() {
        assert_eq!(parse(&["--seeds", "3..7"]).seed_range().ok(), Some((3, 7)));
        assert_eq!(parse(&["--seeds", "3..=7"]).seed_range().ok(), Some((3, 8)));
        assert_eq!(parse(&["--seed", "9"]).seed_range().ok(), Some((9, 10)));
        assert!(parse(&["--seeds", "7..3"]).seed_range().is_err());
        let a = parse(&["--seeds", "1..5", "--members", "5", "--faults", "crash,pause", "--bug", "ack-before-durable"]);
        assert_eq!(
            a.replay_command(4),
            "ruzk sim --seed 4 --members 5 --steps 50000 --faults crash,pause --bug ack-before-durable --trace"
        );
        let c = a.config(4).ok();
        assert!(c.is_some_and(|c| c.bugs.ack_before_durable && c.voters == 5 && !c.faults.partition));
        assert!(parse(&["--election", "raft"]).config(1).is_err());
    }
}
