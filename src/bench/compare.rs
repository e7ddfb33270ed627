//! `ruzk bench compare`.
use clap::Args;

#[derive(Args, Clone, Debug)]
pub struct CompareArgs {
    #[arg(long)]
    pub quick: bool,
}

pub fn run(_a: CompareArgs) -> anyhow::Result<()> {
    anyhow::bail!("todo")
}
