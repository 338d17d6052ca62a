//! A sweep under way: the batch file read, its output directory staged, each scenario's
//! directory and `analyze` flags; and, when every scenario has run, the tidy table
//! (`batch.parquet`, `batch.csv`) published with the scenarios' directories.
//!
//! The one path of `gapmap batch` (a process per scenario), `python -m gapmap batch` and
//! `gapmap.distributed.batch` (Ray tasks): whoever runs the scenarios, the table is made here,
//! so it is the same table.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use gapmap_io::read::analysis::read_csv_columns;
use gapmap_io::write::features::Column;
use gapmap_io::write::staging::{check_output_dir, Staging};
use gapmap_io::write::tables;

use super::tidy::{Cell, Tidy};
use super::{analyze_args, scenarios, value_text, Config, Scenario};
use crate::error::{Error, Result};
use crate::run_info::{read_run_info, write_run_info, RunInfo};

/// What one scenario produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Why it failed (`None`: it ran).
    pub error: Option<String>,
    /// Its run.json.
    pub run: Option<RunInfo>,
    /// Its settlement table (settlements.csv).
    pub table: Vec<(String, Column<'static>)>,
    /// Its wall time as the runner saw it (a process, a call or a task), in seconds.
    pub seconds: f64,
}

impl Outcome {
    /// A scenario that failed with `error` after `seconds`.
    pub fn failed(error: String, run: Option<RunInfo>, seconds: f64) -> Outcome {
        Outcome {
            error: Some(error),
            run,
            table: vec![],
            seconds,
        }
    }

    /// What a scenario that ran into `dir` left there: its run.json and settlements.csv.
    pub fn read(dir: &Path, seconds: f64) -> Outcome {
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

    /// True when the scenario ran.
    pub fn ok(&self) -> bool {
        self.error.is_none()
    }
}

/// The batch file at `path` read: its scenarios, the outputs each keeps (comma-separated, as
/// `--outputs` takes them) and the output directory (`out`, else the file's, else
/// `batch-out`).
pub fn plan(path: &Path, out: Option<PathBuf>) -> Result<(Vec<Scenario>, String, PathBuf)> {
    if !path.exists() {
        return Err(gapmap_io::IoError::NotFound {
            path: path.to_path_buf(),
        }
        .into());
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Usage(format!("{}: cannot be read: {e}", path.display())))?;
    let cfg = Config::parse(&text, path)?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let scenarios = scenarios(&cfg, &base)?;
    let outputs = cfg.outputs.clone().unwrap_or_else(|| vec!["tables".into()]);
    if !outputs.iter().any(|o| o == "tables") {
        return Err(Error::Usage(
            "a batch needs the tables output (outputs = [\"tables\", ...])".into(),
        ));
    }
    let out = out
        .or_else(|| cfg.out.as_ref().map(|o| base.join(o)))
        .unwrap_or_else(|| PathBuf::from("batch-out"));
    Ok((scenarios, outputs.join(","), out))
}

/// `--dry-run`: each scenario and the `analyze` flags it would run with.
pub fn dry_run(path: &Path, out: Option<PathBuf>) -> Result<String> {
    let (scenarios, _, _) = plan(path, out)?;
    let mut report = String::new();
    for s in &scenarios {
        let _ = writeln!(
            report,
            "{}: gapmap analyze {}",
            s.name(),
            analyze_args(&s.options)?.join(" ")
        );
    }
    Ok(report)
}

/// A sweep under way: its scenarios each have a directory in the staged output.
#[derive(Debug)]
pub struct Sweep {
    scenarios: Vec<Scenario>,
    outputs: String,
    out: PathBuf,
    staging: Staging,
    root: PathBuf,
}

impl Sweep {
    /// Reads the batch file at `path` and stages its output directory (`out`, else the
    /// file's `out`, else `batch-out`; an existing non-empty one needs `overwrite`).
    pub fn begin(path: &Path, out: Option<PathBuf>, overwrite: bool) -> Result<Sweep> {
        let (scenarios, outputs, out) = plan(path, out)?;
        check_output_dir(&out, overwrite)?;
        let mut staging = Staging::begin(&out, overwrite)?;
        let root = staging.file("scenarios");
        std::fs::create_dir_all(&root).map_err(|e| crate::error::write_error(&root, e))?;
        Ok(Sweep {
            scenarios,
            outputs,
            out,
            staging,
            root,
        })
    }

    /// The output directory (published by [`Sweep::finish`]).
    pub fn out(&self) -> &Path {
        &self.out
    }

    /// The scenarios, in file order.
    pub fn scenarios(&self) -> &[Scenario] {
        &self.scenarios
    }

    /// Where scenario `s` writes its analysis (in the staged output).
    pub fn dir(&self, s: &Scenario) -> PathBuf {
        self.root.join(s.name())
    }

    /// The flags of `gapmap analyze` that run scenario `s` into [`Sweep::dir`].
    pub fn analyze_args(&self, s: &Scenario) -> Result<Vec<String>> {
        let mut args = vec![
            "--out".to_string(),
            self.dir(s).display().to_string(),
            "--overwrite".into(),
            "--outputs".into(),
            self.outputs.clone(),
        ];
        args.extend(analyze_args(&s.options)?);
        Ok(args)
    }

    /// Writes the tidy table of `outcomes` (one per scenario, in order), publishes the output
    /// directory and returns the summary: a row per scenario with its status, time and peak
    /// memory.
    pub fn finish(mut self, outcomes: &[Outcome]) -> Result<String> {
        if outcomes.len() != self.scenarios.len() {
            return Err(Error::Internal(format!(
                "{} outcomes for {} scenarios",
                outcomes.len(),
                self.scenarios.len()
            )));
        }
        // Each scenario ran into the staged output; its run.json names where it is published.
        for s in &self.scenarios {
            let dir = self.dir(s);
            if dir.join("run.json").exists() {
                let mut run = read_run_info(&dir)?;
                let published = self.out.join("scenarios").join(s.name());
                run.parameters.out = published.display().to_string();
                if let Some(plan) = run.plan.as_mut() {
                    plan.out = published;
                }
                write_run_info(&run, &dir.join("run.json"))?;
            }
        }
        let (columns, rows) = tidy(&self.scenarios, outcomes);
        let mut df = tables::frame_from_columns(&columns)?;
        tables::write_parquet(&mut df, &self.staging.file("batch.parquet"), None)?;
        tables::write_csv(&mut df, &self.staging.file("batch.csv"))?;
        let written = self.staging.commit()?;
        let mut report = String::new();
        let _ = writeln!(report);
        let _ = writeln!(
            report,
            "{:<60} {:>8} {:>10} {:>12}",
            "scenario", "status", "total s", "peak MiB"
        );
        for (s, o) in self.scenarios.iter().zip(outcomes) {
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
            self.scenarios.len(),
            failed,
            rows,
            self.out.display(),
            written.len()
        );
        Ok(report)
    }
}

/// The tidy table: one row per scenario × settlement (a single row for a failed scenario),
/// then the phases' times and peak memory; and its row count.
fn tidy(scenarios: &[Scenario], outcomes: &[Outcome]) -> (Vec<(String, Column<'static>)>, usize) {
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
    for (s, o) in scenarios.iter().zip(outcomes) {
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
    (t.columns(), rows)
}
