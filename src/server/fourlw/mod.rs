//! Four-letter words (`ruok`, `srvr`, `mntr`, ...): recognising the command int, the
//! whitelist, and rendering Java 3.8.0's exact reply text from a plain snapshot of the server
//! ([`FourLwInfo`]). Pure: no I/O, no clock; the core fills the snapshot, the runtime writes the
//! returned text and closes the socket (`NIOServerCnxn.checkFourLetterWord`).
//!
//! Java classes: `server/command/FourLetterCommands`, `StatCommand` (+`ServerStats.toString`),
//! `MonitorCommand` (+`ZooKeeperServer.dumpMonitorValues`, `DefaultMetricsProvider.dump`),
//! `ConfCommand` (+`ZooKeeperServer/QuorumZooKeeperServer.dumpConf`), `ConsCommand`
//! (+`ServerCnxn.dumpConnectionInfo`), `EnvCommand`, `WatchCommand` (+`WatchManager`),
//! `DumpCommand` (+`SessionTrackerImpl`, `ExpiryQueue.dump`, `DataTree.dumpEphemerals`),
//! `DirsCommand`, `IsroCommand`, `DigestCommand`, trace-mask and reset commands.
//! Sample replies captured from Java 3.8.0 live in `tests/data/4lw/`; the tests rebuild them.
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

mod from_server;
mod info;
mod java_fmt;
mod mntr;
mod render;

pub use info::*;
pub use java_fmt::java_double;

use crate::config::Config;
use crate::config::FourLetterWhitelist;
use mntr::render_mntr;
use render::{render_conf, render_connection, render_dump, render_envi, render_stat, render_wchs, watches_by_path};
use std::fmt::Write as _;

/// `AbstractFourLetterCommand.ZK_NOT_SERVING`.
pub const ZK_NOT_SERVING: &str = "This ZooKeeper instance is not currently serving requests";

/// A four-letter word. The `i32` is the first 4 bytes of a fresh connection, big-endian.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FourLw {
    /// `conf`: configuration.
    Conf,
    /// `cons`: connections with session details.
    Cons,
    /// `crst`: reset connection statistics.
    Crst,
    /// `dirs`: data and log directory sizes.
    Dirs,
    /// `dump`: session expiry sets, ephemerals, connection expiry sets.
    Dump,
    /// `envi`: environment.
    Envi,
    /// `gtmk`: get the trace mask.
    Gtmk,
    /// `ruok`: liveness.
    Ruok,
    /// `stmk`: set the trace mask (8 more bytes follow on the socket: the mask, a big-endian long).
    Stmk,
    /// `srst`: reset server statistics.
    Srst,
    /// `srvr`: server summary (`zkServer.sh status` reads its `Mode:` line).
    Srvr,
    /// `stat`: `srvr` plus brief connections.
    Stat,
    /// `wchc`: data watches by session.
    Wchc,
    /// `wchp`: data watches by path.
    Wchp,
    /// `wchs`: data watch summary.
    Wchs,
    /// `mntr`: `zk_<key>\t<value>` metrics.
    Mntr,
    /// `isro`: `rw`, `ro`, or `null`.
    Isro,
    /// `hash`: the tree digest log.
    Hash,
    /// Telnet's interrupt sequence (0xfff4fffd); Java just closes the connection.
    TelnetClose,
}

const ALL: [FourLw; 19] = [
    FourLw::Conf,
    FourLw::Cons,
    FourLw::Crst,
    FourLw::Dirs,
    FourLw::Dump,
    FourLw::Envi,
    FourLw::Gtmk,
    FourLw::Ruok,
    FourLw::Stmk,
    FourLw::Srst,
    FourLw::Srvr,
    FourLw::Stat,
    FourLw::Wchc,
    FourLw::Wchp,
    FourLw::Wchs,
    FourLw::Mntr,
    FourLw::Isro,
    FourLw::Hash,
    FourLw::TelnetClose,
];

impl FourLw {
    /// The name Java uses in the whitelist and in log lines (`"telnet close"` for telnet's ^C).
    pub fn name(self) -> &'static str {
        match self {
            FourLw::Conf => "conf",
            FourLw::Cons => "cons",
            FourLw::Crst => "crst",
            FourLw::Dirs => "dirs",
            FourLw::Dump => "dump",
            FourLw::Envi => "envi",
            FourLw::Gtmk => "gtmk",
            FourLw::Ruok => "ruok",
            FourLw::Stmk => "stmk",
            FourLw::Srst => "srst",
            FourLw::Srvr => "srvr",
            FourLw::Stat => "stat",
            FourLw::Wchc => "wchc",
            FourLw::Wchp => "wchp",
            FourLw::Wchs => "wchs",
            FourLw::Mntr => "mntr",
            FourLw::Isro => "isro",
            FourLw::Hash => "hash",
            FourLw::TelnetClose => "telnet close",
        }
    }

    /// The int a client sends (the 4 ASCII bytes read as a big-endian i32).
    pub fn code(self) -> i32 {
        match self {
            FourLw::TelnetClose => 0xfff4fffd_u32 as i32,
            other => {
                let mut b = [0u8; 4];
                for (dst, src) in b.iter_mut().zip(other.name().bytes()) {
                    *dst = src;
                }
                i32::from_be_bytes(b)
            }
        }
    }
}

/// `FourLetterCommands.isKnown` + `getCommandString`: a connection's first 4 bytes, read as the
/// frame length, name a command.
pub fn command_from_int(i: i32) -> Option<FourLw> {
    ALL.iter().copied().find(|c| c.code() == i)
}

/// `FourLetterCommands.isEnabled`.
pub fn is_allowed(cmd: FourLw, whitelist: &FourLetterWhitelist) -> bool {
    whitelist.allows(cmd.name())
}

/// Whether the runtime must read 8 more bytes (the new trace mask, a big-endian i64) before
/// answering: only for `stmk`, and only when it is whitelisted (Java never reads them otherwise).
pub fn needs_mask_bytes(cmd: FourLw, whitelist: &FourLetterWhitelist) -> bool {
    cmd == FourLw::Stmk && is_allowed(cmd, whitelist)
}

/// The reply Java sends for a command outside the whitelist (the command is not run).
pub fn not_in_whitelist_text(cmd: FourLw) -> String {
    format!("{} is not executed because it is not in the whitelist.\n", cmd.name())
}

/// What the caller must do besides sending the text. Java performs these only when the
/// command is whitelisted, and `crst`/`srst` only while the server is serving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SideEffect {
    /// `crst`: `ServerCnxn.resetStats` on every connection (recved/sent 0, lop `NA`,
    /// lcxid/lzxid -1, latencies cleared).
    ResetConnectionStats,
    /// `srst`: `ServerStats.reset` (latency, packet counters, response sizes, all metrics),
    /// and the leader's proposal size stats.
    ResetServerStats,
    /// `stmk`: store the 8-byte mask that followed the command (render with it as `trace_mask`).
    SetTraceMask,
    /// Telnet ^C: close the connection without a reply.
    Close,
}

/// The side effect of running `cmd` now, if any (see [`SideEffect`]).
pub fn side_effect(cmd: FourLw, info: &FourLwInfo, config: &Config) -> Option<SideEffect> {
    if !is_allowed(cmd, &config.four_letter_whitelist) {
        return None;
    }
    match cmd {
        FourLw::Crst if info.serving => Some(SideEffect::ResetConnectionStats),
        FourLw::Srst if info.serving => Some(SideEffect::ResetServerStats),
        FourLw::Stmk => Some(SideEffect::SetTraceMask),
        FourLw::TelnetClose => Some(SideEffect::Close),
        _ => None,
    }
}

/// The complete reply to `cmd`: the whitelist text if the command is not allowed, the
/// not-serving text where Java checks, else the command's output. Telnet ^C renders as "".
pub fn render(cmd: FourLw, info: &FourLwInfo, config: &Config) -> String {
    if !is_allowed(cmd, &config.four_letter_whitelist) {
        return not_in_whitelist_text(cmd);
    }
    let mut o = String::new();
    let needs_serving =
        !matches!(cmd, FourLw::Ruok | FourLw::Envi | FourLw::Gtmk | FourLw::Stmk | FourLw::Isro | FourLw::TelnetClose);
    if needs_serving && !info.serving {
        o.push_str(ZK_NOT_SERVING);
        // DigestCommand uses print, every other command println.
        if cmd != FourLw::Hash {
            o.push('\n');
        }
        return o;
    }
    match cmd {
        FourLw::Ruok => o.push_str("imok"),
        FourLw::Gtmk | FourLw::Stmk => o.push_str(&info.trace_mask.to_string()),
        FourLw::Isro => o.push_str(if !info.serving {
            "null"
        } else if info.read_only {
            "ro"
        } else {
            "rw"
        }),
        FourLw::Envi => render_envi(&mut o, info),
        FourLw::Srvr | FourLw::Stat => render_stat(&mut o, info, cmd == FourLw::Stat),
        FourLw::Cons => {
            for c in &info.connections {
                render_connection(&mut o, c, false);
                o.push('\n');
            }
            o.push('\n');
        }
        FourLw::Conf => render_conf(&mut o, info, config),
        FourLw::Mntr => render_mntr(&mut o, info),
        FourLw::Wchs => render_wchs(&mut o, info),
        FourLw::Wchc => {
            for (sid, paths) in &info.data_watches {
                let _ = writeln!(o, "0x{sid:x}");
                for p in paths {
                    let _ = writeln!(o, "\t{p}");
                }
            }
            o.push('\n');
        }
        FourLw::Wchp => {
            for (path, sids) in watches_by_path(&info.data_watches) {
                let _ = writeln!(o, "{path}");
                for sid in sids {
                    let _ = writeln!(o, "\t0x{sid:x}");
                }
            }
            o.push('\n');
        }
        FourLw::Dump => render_dump(&mut o, info),
        FourLw::Dirs => {
            let _ = writeln!(o, "datadir_size: {}", info.data_dir_size);
            let _ = writeln!(o, "logdir_size: {}", info.log_dir_size);
        }
        FourLw::Crst => o.push_str("Connection stats reset.\n"),
        FourLw::Srst => o.push_str("Server stats reset.\n"),
        FourLw::Hash => {
            for (zxid, digest) in &info.digest_log {
                let _ = writeln!(o, "{zxid:x}: {digest}");
            }
        }
        FourLw::TelnetClose => {}
    }
    o
}

#[cfg(test)]
mod tests;
