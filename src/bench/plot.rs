//! `ruzk bench plot`: draws plot.svg from results.json.
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Clone, Debug)]
pub struct PlotArgs {
    /// results.json written by `ruzk bench compare`
    pub results: PathBuf,
}

pub fn run(_a: PlotArgs) -> anyhow::Result<()> {
    anyhow::bail!("todo")
}
