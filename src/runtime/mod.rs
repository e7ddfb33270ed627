//! The only async and I/O code: listener, connection tasks, the core task, the disk thread.

use clap::Args;

#[derive(Args)]
pub struct ServerArgs {
    /// zoo.cfg; without it a standalone server on 127.0.0.1:2181 with a temp data dir
    pub config: Option<std::path::PathBuf>,
    /// Java system properties, as `-Dname=value`
    #[arg(short = 'D', value_name = "NAME=VALUE")]
    pub props: Vec<String>,
}

pub fn run_server(_a: ServerArgs) -> anyhow::Result<()> {
    anyhow::bail!("not implemented yet")
}
