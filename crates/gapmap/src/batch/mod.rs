//! The batch file of `gapmap batch` (TOML): workloads, defaults and the parameter grid,
//! expanded into scenarios, each the `analyze` flags of one run; [`Sweep`] stages a sweep's
//! output and makes its tidy table. Here, not in the command line, so that Python and
//! distributed sweeps read the same file the same way and write the same table.
//!
//! ```toml
//! out = "sweep"                     # optional
//! [defaults]                        # every scenario's options (analyze flags, as keys)
//! gap_cluster_m = 150
//! [[workload]]                      # a `gapmap synth` directory, or files as options
//! name = "se-1m"
//! dir = "w1m"
//! [grid]                            # the cartesian product of these values
//! drop_distance_m = [20, 50, 100]
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

pub mod sweep;
mod tidy;

pub use sweep::{Outcome, Sweep};

use crate::error::{Error, Result};

/// At most this many scenarios in one batch file: a grid that expands further is a mistake
/// (and would exhaust the memory before the first run).
pub const MAX_SCENARIOS: usize = 100_000;

/// A batch file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The output directory (`--out` overrides it).
    pub out: Option<PathBuf>,
    /// The outputs of each run (`tables` at least).
    #[serde(default)]
    pub outputs: Option<Vec<String>>,
    /// Options of every scenario.
    #[serde(default)]
    pub defaults: toml::Table,
    /// The workloads, each a name and its inputs (`dir`, or files as options).
    #[serde(rename = "workload", default)]
    pub workloads: Vec<toml::Table>,
    /// Keys with arrays of values: every combination is a scenario.
    #[serde(default)]
    pub grid: toml::Table,
}

impl Config {
    /// Parses the text of the batch file `path`; a file of another shape is an error naming
    /// it.
    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        toml::from_str(text).map_err(|e| Error::Usage(format!("{}: {e}", path.display())))
    }
}

/// Option keys that hold paths (resolved against the TOML file's folder).
const PATH_KEYS: [&str; 4] = ["premises", "settlements", "fibre", "mobile"];

/// One scenario: a workload with one value for every grid key.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Its number, from 1, in file order.
    pub index: usize,
    /// The workload's name.
    pub workload: String,
    /// Grid key → its value (a table column).
    pub params: Vec<(String, toml::Value)>,
    /// Every option of the run (defaults, workload, grid values).
    pub options: toml::Table,
}

impl Scenario {
    /// A directory name: its number, workload and grid values, in safe characters.
    pub fn name(&self) -> String {
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

/// A value as the text of a table cell or a name.
pub fn value_text(v: &toml::Value) -> String {
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
        .ok_or_else(|| Error::Usage("every [[workload]] needs a name".into()))?
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
pub fn scenarios(cfg: &Config, base: &Path) -> Result<Vec<Scenario>> {
    if cfg.workloads.is_empty() {
        return Err(Error::Usage("the batch file has no [[workload]]".into()));
    }
    let mut grid: Vec<(String, Vec<toml::Value>)> = Vec::new();
    for (k, v) in &cfg.grid {
        let values = match v {
            toml::Value::Array(a) if !a.is_empty() => a.clone(),
            _ => {
                return Err(Error::Usage(format!(
                    "[grid] {k} must be a non-empty array of values"
                )))
            }
        };
        let values = if PATH_KEYS.contains(&k.replace('-', "_").as_str()) {
            values.iter().map(|x| resolve(x, base)).collect()
        } else {
            values
        };
        grid.push((k.clone(), values));
    }
    let count = grid
        .iter()
        .try_fold(cfg.workloads.len(), |n, (_, v)| n.checked_mul(v.len()))
        .filter(|&n| n <= MAX_SCENARIOS);
    if count.is_none() {
        return Err(Error::Usage(format!(
            "the batch file's workloads and [grid] make more than {MAX_SCENARIOS} scenarios"
        )));
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

/// The `analyze` command-line arguments of a scenario's options (`--key value`; an array
/// repeats the flag, `true` is the bare flag).
pub fn analyze_args(options: &toml::Table) -> Result<Vec<String>> {
    let mut args = Vec::new();
    for (k, v) in options {
        if matches!(k.as_str(), "out" | "overwrite" | "outputs") {
            return Err(Error::Usage(format!(
                "'{k}' is set by gapmap batch, not in the batch file's options"
            )));
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
                    return Err(Error::Usage(format!(
                        "option {k}: unsupported value {other}"
                    )))
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
    fn a_grid_beyond_any_real_sweep_is_refused_before_it_is_expanded() {
        let keys: String = (0..12)
            .map(|k| format!("k{k} = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n"))
            .collect();
        let text = format!("[[workload]]\nname = \"a\"\n[grid]\n{keys}");
        let cfg = Config::parse(&text, Path::new("b.toml")).unwrap();
        let e = scenarios(&cfg, Path::new("/")).unwrap_err();
        assert!(e.to_string().contains("more than 100000 scenarios"), "{e}");
        assert!(e.is_bad_input());
        let e =
            Config::parse("[[workload]]\nname = 1\nbogus = [", Path::new("b.toml")).unwrap_err();
        assert!(e.to_string().starts_with("b.toml: "), "{e}");
    }

    #[test]
    fn reserved_keys_are_refused() {
        let mut t = toml::Table::new();
        t.insert("out".into(), "x".into());
        assert!(analyze_args(&t).is_err());
    }
}
