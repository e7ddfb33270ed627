//! `ruzk txnlog|snapshot|purge`: operator tools over the on-disk formats.

use clap::{Args, Subcommand};

#[derive(Subcommand)]
pub enum TxnlogCmd {
    /// Print a txn log file.
    Dump { file: std::path::PathBuf },
}

#[derive(Subcommand)]
pub enum SnapshotCmd {
    /// Print a snapshot file.
    Dump { file: std::path::PathBuf },
}

#[derive(Args)]
pub struct PurgeArgs {
    /// dataLogDir (or dataDir)
    pub dir: std::path::PathBuf,
}

pub fn run_txnlog(_c: TxnlogCmd) -> anyhow::Result<()> {
    anyhow::bail!("not implemented yet")
}
pub fn run_snapshot(_c: SnapshotCmd) -> anyhow::Result<()> {
    anyhow::bail!("not implemented yet")
}
pub fn run_purge(_a: PurgeArgs) -> anyhow::Result<()> {
    anyhow::bail!("not implemented yet")
}
