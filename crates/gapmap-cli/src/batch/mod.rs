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
use gapmap_io::write::features::Column;
use gapmap_io::write::staging::{check_output_dir, Staging};
use gapmap_io::write::tables;

use std::fmt::Write as _;

use gapmap::progress::Bar;
use gapmap::run_info::{read_run_info, RunInfo};
use gapmap::Error;
use gapmap_io::read::analysis::read_csv_columns;

mod tidy;

use gapmap::batch::{analyze_args, scenarios, value_text, Config, Scenario};
use tidy::{Cell, Tidy};

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

/// What one scenario produced.
struct Outcome {
    /// Why it failed (`None`: it ran).
    error: Option<String>,
    run: Option<RunInfo>,
    table: Vec<(String, Column<'static>)>,
    seconds: f64,
}

impl Outcome {
    /// A scenario that failed with `error` after `seconds`.
    fn failed(error: String, run: Option<RunInfo>, seconds: f64) -> Outcome {
        Outcome {
            error: Some(error),
            run,
            table: vec![],
            seconds,
        }
    }

    fn ok(&self) -> bool {
        self.error.is_none()
    }
}

fn run_scenario(exe: &Path, s: &Scenario, dir: &Path, outputs: &str) -> Outcome {
    let t0 = Instant::now();
    let mut cmd = Command::new(exe);
    cmd.arg("analyze")
        .arg("--out")
        .arg(dir)
        .arg("--overwrite")
        .arg("--outputs")
        .arg(outputs);
    let args = match analyze_args(&s.options) {
        Ok(a) => a,
        Err(e) => return Outcome::failed(e.to_string(), None, 0.0),
    };
    let res = cmd.args(&args).output();
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
    let run = match read_run_info(dir) {
        Ok(r) => r,
        Err(e) => return Outcome::failed(e.to_string(), None, seconds),
    };
    match read_csv_columns(&dir.join("settlements.csv")) {
        Ok(table) => Outcome {
            error: None,
            run: Some(run),
            table,
            seconds,
        },
        Err(e) => Outcome::failed(e.to_string(), Some(run), seconds),
    }
}

pub fn run(args: Args) -> Result<String> {
    let mut report = String::new();
    if !args.config.exists() {
        return Err(gapmap_io::IoError::NotFound {
            path: args.config.clone(),
        }
        .into());
    }
    let text = std::fs::read_to_string(&args.config)
        .with_context(|| format!("reading {}", args.config.display()))?;
    let cfg = Config::parse(&text, &args.config)?;
    let base = args
        .config
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let scenarios = scenarios(&cfg, &base)?;
    let outputs = cfg.outputs.clone().unwrap_or_else(|| vec!["tables".into()]);
    if !outputs.iter().any(|o| o == "tables") {
        return Err(Error::Usage(
            "a batch needs the tables output (outputs = [\"tables\", ...])".into(),
        )
        .into());
    }
    let outputs = outputs.join(",");
    let out = args
        .out
        .clone()
        .or_else(|| cfg.out.as_ref().map(|o| base.join(o)))
        .unwrap_or_else(|| PathBuf::from("batch-out"));
    if args.dry_run {
        for s in &scenarios {
            let _ = writeln!(
                report,
                "{}: gapmap analyze {}",
                s.name(),
                analyze_args(&s.options)?.join(" ")
            );
        }
        return Ok(report);
    }
    check_output_dir(&out, args.overwrite)?;
    let exe = std::env::current_exe().context("locating the gapmap executable")?;
    let mut staging = Staging::begin(&out, args.overwrite)?;
    let scen_root = staging.file("scenarios");
    std::fs::create_dir_all(&scen_root).context("creating the scenarios folder")?;

    let bar = Bar::new(scenarios.len() as u64, "scenarios");
    let mut outcomes = Vec::new();
    for s in &scenarios {
        let dir = scen_root.join(s.name());
        let o = run_scenario(&exe, s, &dir, &outputs);
        gapmap_core::par::Progress::advance(&bar, 1);
        outcomes.push(o);
    }
    bar.finish();

    // The tidy table: one row per scenario × settlement (a single row for a failed scenario).
    let phases: Vec<String> = outcomes
        .iter()
        .filter_map(|o| o.run.as_ref())
        .flat_map(|r| r.timings_s.iter().map(|p| p.phase.clone()))
        .fold(Vec::new(), |mut v, p| {
            if !v.contains(&p) {
                v.push(p);
            }
            v
        });
    let mut t = Tidy::default();
    for (s, o) in scenarios.iter().zip(&outcomes) {
        let n = if o.ok() {
            o.table.first().map_or(0, |c| c.1.len())
        } else {
            1
        };
        for i in 0..n {
            t.set("scenario", Cell::Int(s.index as i64));
            t.set("scenario_name", Cell::Text(s.name()));
            t.set("workload", Cell::Text(s.workload.clone()));
            t.set(
                "status",
                Cell::Text(if o.ok() { "ok" } else { "failed" }.into()),
            );
            t.set("error", o.error.clone().map_or(Cell::Null, Cell::Text));
            for (k, v) in &s.params {
                t.set(
                    k,
                    match v {
                        toml::Value::Integer(i) => Cell::Int(*i),
                        toml::Value::Float(f) => Cell::Float(*f),
                        other => Cell::Text(value_text(other)),
                    },
                );
            }
            for (name, col) in &o.table {
                let cell = match col {
                    Column::Int(v) => Cell::Int(v[i]),
                    Column::IntOpt(v) => v[i].map_or(Cell::Null, Cell::Int),
                    Column::Float(v) => v[i].map_or(Cell::Null, Cell::Float),
                    Column::Text(v) => v[i]
                        .as_ref()
                        .map_or(Cell::Null, |c| Cell::Text(c.to_string())),
                };
                t.set(name, cell);
            }
            let timings = o.run.as_ref().map_or(&[][..], |r| &r.timings_s[..]);
            for ph in &phases {
                let p = timings.iter().find(|p| &p.phase == ph);
                let cell = |v: Option<f64>| v.map_or(Cell::Null, Cell::Float);
                t.set(&format!("{ph}_s"), cell(p.map(|p| p.seconds)));
                t.set(
                    &format!("{ph}_peak_rss_mib"),
                    cell(p.and_then(|p| p.peak_rss_mib)),
                );
                t.set(&format!("{ph}_cpu_s"), cell(p.and_then(|p| p.cpu_s)));
            }
            t.set("process_s", Cell::Float(o.seconds));
            t.end_row();
        }
    }
    let rows = t.rows;
    let columns = t.columns();
    let mut df = tables::frame_from_columns(&columns)?;
    tables::write_parquet(&mut df, &staging.file("batch.parquet"), None)?;
    tables::write_csv(&mut df, &staging.file("batch.csv"))?;
    let written = staging.commit()?;

    let _ = writeln!(report);
    let _ = writeln!(
        report,
        "{:<60} {:>8} {:>10} {:>12}",
        "scenario", "status", "total s", "peak MiB"
    );
    for (s, o) in scenarios.iter().zip(&outcomes) {
        let total = o.run.as_ref().and_then(|r| r.timings_s.last());
        let secs = total.map_or("-".into(), |p| format!("{:.2}", p.seconds));
        let peak = total
            .and_then(|p| p.peak_rss_mib)
            .map_or("-".into(), |v| format!("{v:.0}"));
        let _ = writeln!(
            report,
            "{:<60} {:>8} {:>10} {:>12}",
            s.name(),
            if o.ok() { "ok" } else { "FAILED" },
            secs,
            peak
        );
        if let Some(e) = &o.error {
            let _ = writeln!(report, "    {e}");
        }
    }
    let failed = outcomes.iter().filter(|o| !o.ok()).count();
    let _ = writeln!(
        report,
        "\n{} scenarios ({} failed); {} rows in {}/batch.parquet and batch.csv ({} files)",
        scenarios.len(),
        failed,
        rows,
        out.display(),
        written.len()
    );
    Ok(report)
}
