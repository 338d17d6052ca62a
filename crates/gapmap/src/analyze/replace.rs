//! What `--overwrite` replaces in an output directory: every file of the earlier analysis that
//! the new one does not write (its maps, tables, premise table), and what was made from it
//! (`grid/`, `priorities/`, the report), which would contradict the new results. An input of
//! the analysis among them is refused before anything is read.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::plan::AnalysisPlan;
use super::write::output_files;
use crate::error::{Error, Result};

/// Folders and files in an analysis directory that later subcommands make from it.
const DERIVED: [(&str, &str); 4] = [
    ("grid", "grid.json"),
    ("priorities", "priorities.json"),
    ("report.html", ""),
    ("map.png", ""),
];

/// Everything `--overwrite` may replace or remove in `out`.
fn replaceable(out: &Path) -> Vec<PathBuf> {
    output_files()
        .chain(["run.json"])
        .chain(DERIVED.iter().map(|(name, _)| *name))
        .map(|name| out.join(name))
        .collect()
}

/// Refuses (exit 2) a plan whose `--overwrite` would replace one of its own inputs.
pub fn check_inputs_kept(plan: &AnalysisPlan) -> Result<()> {
    if !plan.overwrite || !plan.out.exists() {
        return Ok(());
    }
    let Ok(out) = plan.out.canonicalize() else {
        return Ok(());
    };
    let replaced = replaceable(&out);
    for input in plan.input_paths() {
        let Ok(p) = input.canonicalize() else {
            continue; // not there: its reader says so
        };
        if replaced.iter().any(|r| p == *r || p.starts_with(r)) {
            return Err(Error::Usage(format!(
                "{}: is an input of this analysis, and --overwrite would replace it in {}; write the analysis to another directory",
                input.display(),
                plan.out.display()
            )));
        }
    }
    Ok(())
}

/// The files the analysis in `out` wrote, by its run.json (none when there is no run record
/// of gapmap analyze there).
pub(super) fn previous_outputs(out: &Path) -> Vec<String> {
    crate::run_info::read_run_info(out).map_or_else(|_| Vec::new(), |r| r.outputs)
}

/// Removes from `out` the files of the earlier analysis (`previous`) that this one did not
/// write (`written`), and what was made from the earlier one. Only gapmap's own names are
/// touched; a file gapmap does not write stays.
pub(super) fn remove_stale(out: &Path, previous: &[String], written: &[PathBuf]) {
    let now: BTreeSet<PathBuf> = written.iter().cloned().collect();
    let known: BTreeSet<String> = output_files().map(String::from).collect();
    for name in previous.iter().filter(|n| known.contains(n.as_str())) {
        let p = out.join(name);
        if !now.contains(&p) {
            let _ = std::fs::remove_file(&p);
        }
    }
    for (name, record) in DERIVED {
        let p = out.join(name);
        if record.is_empty() {
            let _ = std::fs::remove_file(&p);
        } else if p.join(record).exists() {
            let _ = std::fs::remove_dir_all(&p);
        }
    }
}
