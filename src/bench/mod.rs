//! `ruzk bench`: a pipelined load generator speaking the client protocol.

use clap::Args;

#[derive(Args)]
pub struct BenchArgs {
    /// host:port of the server
    #[arg(long, default_value = "127.0.0.1:2181")]
    pub server: String,
}

pub fn run(_a: BenchArgs) -> anyhow::Result<()> {
    anyhow::bail!("not implemented yet")
}
