//! `gapmap batch`: run `gapmap analyze` over workloads × parameter grids, into one tidy table.
//!
//! A TOML file names workloads (a `gapmap synth` directory, or explicit inputs) and a grid of
//! `analyze` options to sweep. Every scenario runs as its own `gapmap analyze` process, so its
//! wall time and peak memory per phase are its own, and a failing scenario (even a crash) is a
//! row in the table while the others still run.
//!
//! ```toml
//! outputs = ["tables"]          # what each scenario keeps besides run.json (default: tables)
//!
//! [defaults]                    # analyze options for every scenario
//! crs = "EPSG:3006"
//!
//! [[workload]]
//! name = "national_1m"
//! dir = "w1m"                   # a `gapmap synth --premises N` directory
//!
//! [[workload]]
//! name = "dalarna"
//! premises = "data/dalarna/premises.parquet"
//! settlements = "data/dalarna/settlements.gpkg"
//! settlement_id_field = "tatortskod"
//! fibre = ["data/dalarna/fibre.gpkg"]
//! fibre_layer = ["routes", "nodes"]
//! mobile = ["data/dalarna/mobile.geojson"]
//!
//! [grid]                        # every combination runs, for every workload
//! drop_distance_m = [20, 50, 100]
//! mobile = [["w1m/mobile.gpkg"], ["w1m/mobile-b.gpkg"]]
//! ```
//!
//! Keys are `analyze` flags without the leading dashes (`_` or `-`); arrays give repeatable flags
//! several values; `true` gives a switch. Paths are relative to the TOML file.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result};
use gapmap::batch::{sweep, Outcome, Scenario, Sweep};
use gapmap::progress::Bar;

/// `gapmap batch` options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The batch file (TOML): workloads and a parameter grid.
    #[arg(value_name = "BATCH.toml")]
    pub config: PathBuf,
    /// Output directory [default: the file's `out`, else `batch-out`].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[arg(long)]
    pub overwrite: bool,
    /// Only list the scenarios.
    #[arg(long)]
    pub dry_run: bool,
}

/// Runs scenario `s` as its own `gapmap analyze` process (its own wall time and peak memory;
/// a crash is a failed row, not the end of the batch).
fn run_scenario(exe: &Path, sweep: &Sweep, s: &Scenario) -> Outcome {
    let t0 = Instant::now();
    let args = match sweep.analyze_args(s) {
        Ok(a) => a,
        Err(e) => return Outcome::failed(e.to_string(), None, 0.0),
    };
    let res = Command::new(exe).arg("analyze").args(&args).output();
    let seconds = t0.elapsed().as_secs_f64();
    let out = match res {
        Ok(o) => o,
        Err(e) => return Outcome::failed(format!("cannot run gapmap analyze: {e}"), None, seconds),
    };
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let msg = stderr
            .lines()
            .rev()
            .find(|l| l.starts_with("error"))
            .map(str::to_string)
            .unwrap_or_else(|| format!("gapmap analyze ended with {}", out.status));
        return Outcome::failed(msg, None, seconds);
    }
    Outcome::read(&sweep.dir(s), seconds)
}

pub fn run(args: Args) -> Result<String> {
    if args.dry_run {
        return Ok(sweep::dry_run(&args.config, args.out.clone())?);
    }
    let sweep = Sweep::begin(&args.config, args.out.clone(), args.overwrite)?;
    let exe = std::env::current_exe().context("locating the gapmap executable")?;
    let bar = Bar::new(sweep.scenarios().len() as u64, "scenarios");
    let mut outcomes = Vec::new();
    for s in sweep.scenarios() {
        outcomes.push(run_scenario(&exe, &sweep, s));
        gapmap_core::par::Progress::advance(&bar, 1);
    }
    bar.finish();
    Ok(sweep.finish(&outcomes)?)
}
