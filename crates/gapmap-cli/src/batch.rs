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

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result};
use gapmap_io::features::Column;
use gapmap_io::staging::{check_output_dir, Staging};
use gapmap_io::tables;
use serde::Deserialize;

use crate::progress::Bar;
use crate::UsageError;

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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    out: Option<PathBuf>,
    #[serde(default)]
    outputs: Option<Vec<String>>,
    #[serde(default)]
    defaults: toml::Table,
    #[serde(rename = "workload", default)]
    workloads: Vec<toml::Table>,
    #[serde(default)]
    grid: toml::Table,
}

/// Option keys that hold paths (resolved against the TOML file's folder).
const PATH_KEYS: [&str; 4] = ["premises", "settlements", "fibre", "mobile"];

/// One scenario: a workload with one value for every grid key.
#[derive(Debug, Clone)]
struct Scenario {
    index: usize,
    workload: String,
    /// Grid key → its value (a table column).
    params: Vec<(String, toml::Value)>,
    options: toml::Table,
}

impl Scenario {
    fn name(&self) -> String {
        let mut s = format!("{:03}-{}", self.index, self.workload);
        for (k, v) in &self.params {
            s.push_str(&format!("-{k}={}", value_text(v)));
        }
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-=._".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .take(120)
            .collect()
    }
}

fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Array(a) => a.iter().map(value_text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

fn resolve(v: &toml::Value, base: &Path) -> toml::Value {
    match v {
        toml::Value::String(s) => toml::Value::String(base.join(s).display().to_string()),
        toml::Value::Array(a) => toml::Value::Array(a.iter().map(|x| resolve(x, base)).collect()),
        other => other.clone(),
    }
}

/// A workload's options: a `dir` expands into the files `gapmap synth` writes.
fn workload_options(w: &toml::Table, base: &Path) -> Result<(String, toml::Table)> {
    let name = w
        .get("name")
        .and_then(|v| v.as_str())
        .ok_or_else(|| UsageError("every [[workload]] needs a name".into()))?
        .to_string();
    let mut opts = toml::Table::new();
    if let Some(dir) = w.get("dir").and_then(|v| v.as_str()) {
        let dir = base.join(dir);
        let mobile = ["mobile.gpkg", "mobile.geojson"]
            .iter()
            .map(|m| dir.join(m))
            .find(|p| p.exists());
        let s = |p: PathBuf| toml::Value::String(p.display().to_string());
        opts.insert("premises".into(), s(dir.join("premises.parquet")));
        opts.insert("settlements".into(), s(dir.join("settlements.gpkg")));
        opts.insert(
            "fibre".into(),
            toml::Value::Array(vec![s(dir.join("fibre.gpkg"))]),
        );
        opts.insert(
            "fibre_layer".into(),
            toml::Value::Array(vec!["routes".into(), "nodes".into()]),
        );
        if let Some(m) = mobile {
            opts.insert("mobile".into(), toml::Value::Array(vec![s(m)]));
        }
    }
    for (k, v) in w {
        if k == "name" || k == "dir" {
            continue;
        }
        let v = if PATH_KEYS.contains(&k.replace('-', "_").as_str()) {
            resolve(v, base)
        } else {
            v.clone()
        };
        opts.insert(k.clone(), v);
    }
    Ok((name, opts))
}

/// Workloads × the cartesian product of the grid, in file order.
fn scenarios(cfg: &Config, base: &Path) -> Result<Vec<Scenario>> {
    if cfg.workloads.is_empty() {
        return Err(UsageError("the batch file has no [[workload]]".into()).into());
    }
    let mut grid: Vec<(String, Vec<toml::Value>)> = Vec::new();
    for (k, v) in &cfg.grid {
        let values = match v {
            toml::Value::Array(a) if !a.is_empty() => a.clone(),
            _ => {
                return Err(
                    UsageError(format!("[grid] {k} must be a non-empty array of values")).into(),
                )
            }
        };
        let values = if PATH_KEYS.contains(&k.replace('-', "_").as_str()) {
            values.iter().map(|x| resolve(x, base)).collect()
        } else {
            values
        };
        grid.push((k.clone(), values));
    }
    let mut combos: Vec<Vec<(String, toml::Value)>> = vec![vec![]];
    for (k, values) in &grid {
        combos = combos
            .into_iter()
            .flat_map(|c| {
                values.iter().map(move |v| {
                    let mut c = c.clone();
                    c.push((k.clone(), v.clone()));
                    c
                })
            })
            .collect();
    }
    let mut out = Vec::new();
    for w in &cfg.workloads {
        let (name, wopts) = workload_options(w, base)?;
        for combo in &combos {
            let mut options = toml::Table::new();
            for (k, v) in cfg.defaults.iter() {
                let v = if PATH_KEYS.contains(&k.replace('-', "_").as_str()) {
                    resolve(v, base)
                } else {
                    v.clone()
                };
                options.insert(k.clone(), v);
            }
            options.extend(wopts.clone());
            for (k, v) in combo {
                options.insert(k.clone(), v.clone());
            }
            out.push(Scenario {
                index: out.len() + 1,
                workload: name.clone(),
                params: combo.clone(),
                options,
            });
        }
    }
    Ok(out)
}

/// The `analyze` command-line arguments of a scenario's options.
fn analyze_args(options: &toml::Table) -> Result<Vec<String>> {
    let mut args = Vec::new();
    for (k, v) in options {
        if matches!(k.as_str(), "out" | "overwrite" | "outputs") {
            return Err(UsageError(format!(
                "'{k}' is set by gapmap batch, not in the batch file's options"
            ))
            .into());
        }
        let flag = format!("--{}", k.replace('_', "-"));
        let mut push = |v: &toml::Value| -> Result<()> {
            match v {
                toml::Value::Boolean(true) => args.push(flag.clone()),
                toml::Value::Boolean(false) => {}
                toml::Value::String(s) => args.extend([flag.clone(), s.clone()]),
                toml::Value::Integer(i) => args.extend([flag.clone(), i.to_string()]),
                toml::Value::Float(f) => args.extend([flag.clone(), f.to_string()]),
                other => {
                    return Err(UsageError(format!("option {k}: unsupported value {other}")).into())
                }
            }
            Ok(())
        };
        match v {
            toml::Value::Array(a) => a.iter().try_for_each(&mut push)?,
            v => push(v)?,
        }
    }
    Ok(args)
}

/// What one scenario produced.
struct Outcome {
    ok: bool,
    error: Option<String>,
    run: Option<serde_json::Value>,
    table: Vec<(String, Column<'static>)>,
    seconds: f64,
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
        Err(e) => {
            return Outcome {
                ok: false,
                error: Some(e.to_string()),
                run: None,
                table: vec![],
                seconds: 0.0,
            }
        }
    };
    let res = cmd.args(&args).output();
    let seconds = t0.elapsed().as_secs_f64();
    let out = match res {
        Ok(o) => o,
        Err(e) => {
            return Outcome {
                ok: false,
                error: Some(format!("cannot run gapmap analyze: {e}")),
                run: None,
                table: vec![],
                seconds,
            }
        }
    };
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let msg = stderr
            .lines()
            .rev()
            .find(|l| l.starts_with("error"))
            .map(str::to_string)
            .unwrap_or_else(|| format!("gapmap analyze ended with {}", out.status));
        return Outcome {
            ok: false,
            error: Some(msg),
            run: None,
            table: vec![],
            seconds,
        };
    }
    let run = std::fs::read_to_string(dir.join("run.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    match tables::read_csv_columns(&dir.join("settlements.csv")) {
        Ok(table) => Outcome {
            ok: true,
            error: None,
            run,
            table,
            seconds,
        },
        Err(e) => Outcome {
            ok: false,
            error: Some(e.to_string()),
            run,
            table: vec![],
            seconds,
        },
    }
}

/// One cell of the tidy table.
#[derive(Debug, Clone)]
enum Cell {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
}

/// A table built row by row; columns appear as first seen, earlier rows are null there.
#[derive(Default)]
struct Tidy {
    names: Vec<String>,
    cols: Vec<Vec<Cell>>,
    rows: usize,
}

impl Tidy {
    fn set(&mut self, name: &str, v: Cell) {
        let k = match self.names.iter().position(|n| n == name) {
            Some(k) => k,
            None => {
                self.names.push(name.to_string());
                self.cols.push(vec![Cell::Null; self.rows]);
                self.names.len() - 1
            }
        };
        self.cols[k].push(v);
    }
    fn end_row(&mut self) {
        self.rows += 1;
        for c in &mut self.cols {
            c.resize(self.rows, Cell::Null);
        }
    }
    /// Typed columns: integers where every value is one (nullable), reals where all are
    /// numbers, text otherwise.
    fn columns(self) -> Vec<(String, Column<'static>)> {
        self.names
            .into_iter()
            .zip(self.cols)
            .map(|(name, cells)| {
                let all =
                    |f: fn(&Cell) -> bool| cells.iter().all(|c| matches!(c, Cell::Null) || f(c));
                let col = if all(|c| matches!(c, Cell::Int(_))) {
                    Column::IntOpt(
                        cells
                            .iter()
                            .map(|c| if let Cell::Int(i) = c { Some(*i) } else { None })
                            .collect(),
                    )
                } else if all(|c| matches!(c, Cell::Int(_) | Cell::Float(_))) {
                    Column::Float(
                        cells
                            .iter()
                            .map(|c| match c {
                                Cell::Int(i) => Some(*i as f64),
                                Cell::Float(f) => Some(*f),
                                _ => None,
                            })
                            .collect(),
                    )
                } else {
                    Column::Text(
                        cells
                            .iter()
                            .map(|c| match c {
                                Cell::Null => None,
                                Cell::Int(i) => Some(Cow::Owned(i.to_string())),
                                Cell::Float(f) => Some(Cow::Owned(f.to_string())),
                                Cell::Text(t) => Some(Cow::Owned(t.clone())),
                            })
                            .collect(),
                    )
                };
                (name, col)
            })
            .collect()
    }
}

pub fn run(args: Args) -> Result<()> {
    if !args.config.exists() {
        return Err(gapmap_io::IoError::NotFound {
            path: args.config.clone(),
        }
        .into());
    }
    let text = std::fs::read_to_string(&args.config)
        .with_context(|| format!("reading {}", args.config.display()))?;
    let cfg: Config =
        toml::from_str(&text).map_err(|e| UsageError(format!("{}: {e}", args.config.display())))?;
    let base = args
        .config
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let scenarios = scenarios(&cfg, &base)?;
    let outputs = cfg.outputs.clone().unwrap_or_else(|| vec!["tables".into()]);
    if !outputs.iter().any(|o| o == "tables") {
        return Err(UsageError(
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
            println!(
                "{}: gapmap analyze {}",
                s.name(),
                analyze_args(&s.options)?.join(" ")
            );
        }
        return Ok(());
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
        .flat_map(|r| r["timings_s"].as_array().cloned().unwrap_or_default())
        .filter_map(|p| p["phase"].as_str().map(str::to_string))
        .fold(Vec::new(), |mut v, p| {
            if !v.contains(&p) {
                v.push(p);
            }
            v
        });
    let mut t = Tidy::default();
    for (s, o) in scenarios.iter().zip(&outcomes) {
        let n = if o.ok {
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
                Cell::Text(if o.ok { "ok" } else { "failed" }.into()),
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
            let timings = o
                .run
                .as_ref()
                .and_then(|r| r["timings_s"].as_array().cloned())
                .unwrap_or_default();
            for ph in &phases {
                let p = timings.iter().find(|p| p["phase"] == ph.as_str());
                let num = |k: &str| {
                    p.and_then(|p| p[k].as_f64())
                        .map_or(Cell::Null, Cell::Float)
                };
                t.set(&format!("{ph}_s"), num("seconds"));
                t.set(&format!("{ph}_peak_rss_mib"), num("peak_rss_mib"));
                t.set(&format!("{ph}_cpu_s"), num("cpu_s"));
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

    println!();
    println!(
        "{:<60} {:>8} {:>10} {:>12}",
        "scenario", "status", "total s", "peak MiB"
    );
    for (s, o) in scenarios.iter().zip(&outcomes) {
        let total = o
            .run
            .as_ref()
            .and_then(|r| r["timings_s"].as_array().and_then(|a| a.last().cloned()));
        let secs = total
            .as_ref()
            .and_then(|p| p["seconds"].as_f64())
            .map_or("-".into(), |v| format!("{v:.2}"));
        let peak = total
            .as_ref()
            .and_then(|p| p["peak_rss_mib"].as_f64())
            .map_or("-".into(), |v| format!("{v:.0}"));
        println!(
            "{:<60} {:>8} {:>10} {:>12}",
            s.name(),
            if o.ok { "ok" } else { "FAILED" },
            secs,
            peak
        );
        if let Some(e) = &o.error {
            println!("    {e}");
        }
    }
    let failed = outcomes.iter().filter(|o| !o.ok).count();
    println!(
        "\n{} scenarios ({} failed); {} rows in {}/batch.parquet and batch.csv ({} files)",
        scenarios.len(),
        failed,
        rows,
        out.display(),
        written.len()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_expands_to_every_combination() {
        let cfg: Config = toml::from_str(
            r#"
            [[workload]]
            name = "a"
            premises = "p.parquet"
            [[workload]]
            name = "b"
            premises = "q.parquet"
            [grid]
            drop_distance_m = [20, 50]
            mobile = [["m1.gpkg"], ["m2.gpkg", "m3.gpkg"]]
            "#,
        )
        .unwrap();
        let s = scenarios(&cfg, Path::new("/base")).unwrap();
        assert_eq!(s.len(), 2 * 2 * 2);
        assert_eq!(s[0].workload, "a");
        assert_eq!(s[7].workload, "b");
        let args = analyze_args(&s[3].options).unwrap();
        assert!(
            args.windows(2)
                .any(|w| w[0] == "--premises" && w[1] == "/base/p.parquet"),
            "{args:?}"
        );
        assert!(
            args.windows(2)
                .any(|w| w[0] == "--drop-distance-m" && w[1] == "50"),
            "{args:?}"
        );
        assert_eq!(
            args.iter().filter(|a| *a == "--mobile").count(),
            2,
            "{args:?}"
        );
        assert!(
            s[3].name().starts_with("004-a-drop_distance_m=50-mobile="),
            "{}",
            s[3].name()
        );
    }

    #[test]
    fn reserved_keys_are_refused() {
        let mut t = toml::Table::new();
        t.insert("out".into(), "x".into());
        assert!(analyze_args(&t).is_err());
    }
}
