//! `ruzk bench plot`: draws plot.svg from a compare run's results.json. Two panels:
//! absolute throughput (Java and ruzk bars per workload) and, for every metric, how much
//! better or worse ruzk is, on a log2 scale centred on parity. Uses plotters' SVG backend
//! without font features, so it builds without system font libraries.

use super::results::{Results, Row};
use anyhow::Context;
use clap::Args;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

#[derive(Args, Clone, Debug)]
pub struct PlotArgs {
    /// results.json written by `ruzk bench compare`
    pub results: PathBuf,
    /// Output file (default: plot.svg beside results.json)
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(a: PlotArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&a.results).with_context(|| format!("reading {}", a.results.display()))?;
    let res: Results = serde_json::from_str(&text).context("parsing results.json")?;
    let out = a.out.unwrap_or_else(|| a.results.with_file_name("plot.svg"));
    draw(&res, &out)?;
    println!("{}", out.display());
    Ok(())
}

const W: i32 = 1100;
const LABEL_W: i32 = 430;
const JAVA: RGBColor = RGBColor(120, 120, 120);
const RUZK: RGBColor = RGBColor(222, 110, 30);
const GOOD: RGBColor = RGBColor(60, 150, 60);
const BAD: RGBColor = RGBColor(200, 50, 50);

/// "How many times better" for ruzk: the ratio, inverted where lower is better.
pub fn advantage(r: &Row) -> Option<f64> {
    let x = r.ratio.filter(|x| x.is_finite() && *x > 0.0)?;
    Some(if r.better == "higher" { x } else { 1.0 / x })
}

pub fn draw(res: &Results, out: &Path) -> anyhow::Result<()> {
    let tput: Vec<&Row> = res.rows.iter().filter(|r| r.unit == "ops/s").collect();
    let h1 = 60 + tput.len() as i32 * 44;
    let h2 = 70 + res.rows.len() as i32 * 22;
    let h = h1 + h2 + 30;
    let root = SVGBackend::new(out, (W as u32, h as u32)).into_drawing_area();
    let e = |e: DrawingAreaErrorKind<_>| anyhow::anyhow!("drawing {}: {e:?}", out.display());
    root.fill(&WHITE).map_err(e)?;
    let font = |size: i32| ("sans-serif", size * 5 / 4).into_font();
    let title = format!("ruzk vs Java ZooKeeper 3.8.0 — {}{}", res.date, if res.quick { " (quick mode)" } else { "" });
    root.draw(&Text::new(title, (10, 8), font(18))).map_err(e)?;

    // Panel 1: absolute throughput.
    let max = tput.iter().flat_map(|r| [r.java, r.ruzk]).flatten().fold(1.0f64, f64::max);
    let bar_w = (W - LABEL_W - 120) as f64;
    root.draw(&Text::new("throughput, ops/s (grey: Java, orange: ruzk)", (10, 36), font(14))).map_err(e)?;
    for (i, r) in tput.iter().enumerate() {
        let y = 60 + i as i32 * 44;
        root.draw(&Text::new(r.metric.clone(), (10, y + 10), font(12))).map_err(e)?;
        for (j, (v, c)) in [(r.java, JAVA), (r.ruzk, RUZK)].into_iter().enumerate() {
            let yy = y + j as i32 * 18;
            let len = v.map_or(0, |v| (v / max * bar_w) as i32);
            root.draw(&Rectangle::new([(LABEL_W, yy), (LABEL_W + len.max(1), yy + 15)], c.filled())).map_err(e)?;
            let label = v.map_or("n/a".to_string(), |v| format!("{v:.0}"));
            root.draw(&Text::new(label, (LABEL_W + len + 6, yy + 2), font(11))).map_err(e)?;
        }
    }

    // Panel 2: advantage per metric, log2 scale, clipped at 16x either way.
    let y0 = h1 + 10;
    root.draw(&Text::new(
        "ruzk relative to Java on every metric (right of the line = ruzk better; log scale, ×16 max)",
        (10, y0),
        font(14),
    ))
    .map_err(e)?;
    let centre = LABEL_W + (W - LABEL_W - 60) / 2;
    let half = ((W - LABEL_W - 60) / 2) as f64;
    let top = y0 + 30;
    for (i, r) in res.rows.iter().enumerate() {
        let y = top + i as i32 * 22;
        root.draw(&Text::new(r.metric.clone(), (10, y + 2), font(11))).map_err(e)?;
        match advantage(r) {
            Some(a) => {
                let len = (a.log2().clamp(-4.0, 4.0) / 4.0 * half) as i32;
                let (x0, x1) = if len >= 0 { (centre, centre + len.max(1)) } else { (centre + len, centre) };
                let c = if r.met == Some(false) { BAD } else { GOOD };
                root.draw(&Rectangle::new([(x0, y), (x1, y + 16)], c.filled())).map_err(e)?;
                let tx = if len >= 0 { x1 + 4 } else { (x0 - 50).max(LABEL_W) };
                root.draw(&Text::new(format!("{a:.2}×"), (tx, y + 2), font(11))).map_err(e)?;
            }
            None => {
                root.draw(&Text::new("n/a", (centre + 4, y + 2), font(11))).map_err(e)?;
            }
        }
    }
    let bottom = top + res.rows.len() as i32 * 22;
    root.draw(&PathElement::new(vec![(centre, top - 4), (centre, bottom)], BLACK.stroke_width(1))).map_err(e)?;
    root.present().map_err(e)?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn row(better: &str, ratio: Option<f64>) -> Row {
        Row {
            metric: "m".into(),
            unit: "ops/s".into(),
            java: Some(1.0),
            ruzk: ratio,
            ratio,
            better: better.into(),
            target: 1.0,
            met: ratio.map(|x| x >= 1.0),
        }
    }

    #[test]
    fn advantage_inverts_lower_is_better() {
        assert_eq!(advantage(&row("higher", Some(2.0))), Some(2.0));
        assert_eq!(advantage(&row("lower", Some(4.0))), Some(0.25));
        assert_eq!(advantage(&row("lower", None)), None);
    }

    #[test]
    fn draws_an_svg_with_every_metric() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let out = dir.path().join("p.svg");
        let mut res = Results { date: "today".into(), ..Results::default() };
        res.rows =
            vec![row("higher", Some(1.5)), Row { metric: "latency".into(), unit: "ms".into(), ..row("lower", None) }];
        draw(&res, &out).unwrap_or_else(|e| panic!("{e}"));
        let svg = std::fs::read_to_string(&out).unwrap_or_else(|e| panic!("{e}"));
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("1.50×"));
        assert!(svg.contains("latency"));
    }
}
