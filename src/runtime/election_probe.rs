//! `ruzk election-probe`: a TEST TOOL, not a server. It plays one member of an ensemble in Fast
//! Leader Election only (the connection manager plus the election state machine, no Zab and no
//! client port), prints every decision as a JSON line on stdout, keeps answering notifications
//! the way Java's receive thread does after a decision, and exits on SIGTERM or Ctrl-C. The
//! election compatibility tests (`compat-tests/election/`) run it next to real Java servers.

use super::qcm::{self, QcmConfig};
use crate::config::{Config, PeerType, Props};
use crate::quorum::election::{Election, ElectionOutput, ElectionSettings, Notification};
use crate::quorum::verifier::QuorumVerifier;
use crate::types::{ServerId, Zxid};
use anyhow::Context;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct ElectionProbeArgs {
    /// zoo.cfg of the member to play (its myid decides which one)
    pub config: PathBuf,
    /// Java system properties, as `-Dname=value`
    #[arg(short = 'D', value_name = "NAME=VALUE")]
    pub props: Vec<String>,
    /// Last logged zxid to vote with (decimal or 0x-hex); default: from the data directory, 0 when empty
    #[arg(long)]
    pub zxid: Option<String>,
    /// Current epoch to vote with; default: dataDir/currentEpoch, else the zxid's epoch
    #[arg(long)]
    pub epoch: Option<i64>,
    /// After a decision, raise the vote's peerEpoch to this, as Zab's `updateElectionVote` would
    #[arg(long)]
    pub epoch_after_decision: Option<i64>,
    /// Also print every notification sent and received as JSON lines
    #[arg(long)]
    pub trace: bool,
}

pub fn run(a: ElectionProbeArgs) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("RUZK_LOG").unwrap_or_else(|_| "info".into()))
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    let props = Props::from_args_and_env(
        &a.props,
        std::env::var("SERVER_JVMFLAGS").ok().as_deref(),
        std::env::var("JVMFLAGS").ok().as_deref(),
    );
    let config = Config::load(&a.config, &props)?;
    if !config.is_distributed() {
        anyhow::bail!("{} describes no ensemble: nothing to elect", a.config.display());
    }
    let my_id = config.server_id.context("no myid")?;
    let zxid = match &a.zxid {
        Some(s) => parse_long(s).with_context(|| format!("bad --zxid {s}"))?,
        None => last_zxid_on_disk(&config)?,
    };
    let epoch = match a.epoch {
        Some(e) => e,
        None => crate::storage::epoch::read_epoch(&config.data_dir.join("version-2"), "currentEpoch")
            .ok()
            .flatten()
            .unwrap_or(zxid >> 32),
    };
    let verifier = QuorumVerifier::from_config(&config).map_err(|e| anyhow::anyhow!("{e}"))?;
    let settings = ElectionSettings::from_props(&config.props);
    let participant = config.peer_type == PeerType::Participant;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().worker_threads(2).build()?;
    rt.block_on(async move {
        let qcm_cfg = QcmConfig::from_config(&config).await?;
        let (qcm, mut inbound) = qcm::start(qcm_cfg).await?;
        let mut election = Election::new(ServerId(my_id), verifier, participant, settings);
        let t0 = Instant::now();
        let now = || t0.elapsed().as_millis() as u64;
        let mut out = Printer { my_id, t0, trace: a.trace };
        election.start(now(), Zxid(zxid), epoch);
        let shutdown = super::shutdown_signal();
        tokio::pin!(shutdown);
        loop {
            while let Some(o) = election.poll_output() {
                match o {
                    ElectionOutput::Send { to, notification } => {
                        out.notification("send", to, &notification);
                        qcm.send(to, &notification);
                    }
                    ElectionOutput::Decided { leader, state, vote } => {
                        out.line(&serde_json::json!({
                            "event": "decided",
                            "state": state.java_name(),
                            "leader": leader.0,
                            "zxid": format!("0x{:x}", vote.zxid.0),
                            "round": vote.election_epoch,
                            "peer_epoch": vote.peer_epoch,
                        }));
                        if let Some(e) = a.epoch_after_decision {
                            election.update_vote_epoch(e);
                        }
                    }
                }
            }
            let deadline = election.poll_timeout().map(|t| t0 + Duration::from_millis(t));
            let timer = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = &mut shutdown => break,
                msg = inbound.recv() => match msg {
                    Some((from, n)) => {
                        out.notification("recv", from, &n);
                        election.handle(now(), from, n);
                    }
                    None => break,
                },
                () = timer => election.handle_timeout(now()),
            }
        }
        qcm.shutdown();
        out.line(&serde_json::json!({"event": "exit"}));
        Ok(())
    })
}

struct Printer {
    my_id: i64,
    t0: Instant,
    trace: bool,
}

impl Printer {
    fn line(&mut self, v: &serde_json::Value) {
        let mut v = v.clone();
        if let Some(m) = v.as_object_mut() {
            m.insert("myid".into(), self.my_id.into());
            m.insert("elapsed_ms".into(), (self.t0.elapsed().as_millis() as u64).into());
        }
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{v}");
        let _ = stdout.flush();
    }

    fn notification(&mut self, event: &str, peer: ServerId, n: &Notification) {
        if self.trace {
            self.line(&serde_json::json!({
                "event": event,
                "peer": peer.0,
                "state": n.state.java_name(),
                "leader": n.leader.0,
                "zxid": format!("0x{:x}", n.zxid.0),
                "round": n.election_epoch,
                "peer_epoch": n.peer_epoch,
                "version": n.version,
            }));
        }
    }
}

fn parse_long(s: &str) -> Option<i64> {
    match s.strip_prefix("0x") {
        Some(h) => i64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

/// `getLastLoggedZxid` of the data directory: the newest snapshot plus the logged txns after
/// it, read only (0 for a fresh directory).
fn last_zxid_on_disk(c: &Config) -> anyhow::Result<i64> {
    let snap = c.data_dir.join("version-2");
    let log = c.data_log_dir.join("version-2");
    if !snap.is_dir() && !log.is_dir() {
        return Ok(0);
    }
    let restored = crate::storage::restore::restore(&snap, &log)?;
    Ok(restored.last_zxid())
}
