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
const DERIVED: [(&str, &str); 5] = [
    ("grid", "grid.json"),
    ("priorities", "priorities.json"),
    ("report.html", ""),
    ("map.html", ""),
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

/// What the new analysis replaces in `out` besides the files it writes: the files of the
/// earlier analysis (`previous`, by its run.json) and what was made from it. Only gapmap's own
/// names are listed; a file gapmap does not write stays. The staging directory removes them
/// when it publishes (those it writes anew are replaced, not removed).
pub(super) fn stale(out: &Path, previous: &[String]) -> Vec<String> {
    let known: BTreeSet<&str> = output_files().collect();
    let mut stale: Vec<String> = previous
        .iter()
        .filter(|n| known.contains(n.as_str()))
        .cloned()
        .collect();
    for (name, record) in DERIVED {
        let p = out.join(name);
        // A folder only when it is gapmap's (its record is in it).
        if (record.is_empty() && p.is_file()) || (!record.is_empty() && p.join(record).exists()) {
            stale.push(name.to_string());
        }
    }
    stale
}
