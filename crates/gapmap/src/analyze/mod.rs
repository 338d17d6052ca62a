//! `gapmap analyze`: read, analyse, write.
//!
//! [`run`] is the whole command. Its steps are public so that a front end (Python) or a
//! partitioned run can take them one by one: [`AnalysisPlan::validate`] → [`read_inputs`] →
//! [`compute`] → [`Results::write`].

pub mod auto_crs;
pub mod check;
mod compute;
mod db;
mod frames;
mod layers;
mod maps;
pub mod plan;
mod read;
mod record;
mod replace;
pub mod summary;
pub mod tiles;
pub mod workload;
mod write;

use std::path::Path;
use std::time::Instant;

pub use compute::{compute, totals, Computed, Results};
pub use plan::{AnalysisPlan, Checked, Output};
pub use read::{early_simplify_m, read_inputs, read_layers, Inputs, Layers};
pub use replace::check_inputs_kept;
pub use workload::WorkloadCache;
pub use write::{check_out, output_files};

use crate::error::{Error, Result};
use crate::memory;
use crate::run_info::{utc_now, Phase};

/// When a run started, the phases it has been through, and what it told the user.
pub struct RunMeta {
    /// When the run started, `YYYY-MM-DDTHH:MM:SSZ`.
    pub started_utc: String,
    /// When the run started (for its wall time).
    pub t0: Instant,
    /// The phases so far.
    pub clock: Clock,
    /// Notices for run.json (each was also reported as it came).
    pub notices: Vec<String>,
    /// A partitioned run's tiles ([`tiles`]), for run.json.
    pub tiles: Option<tiles::TilesRecord>,
}

impl RunMeta {
    /// A run starting now.
    pub fn start() -> RunMeta {
        RunMeta {
            started_utc: utc_now(),
            t0: Instant::now(),
            clock: Clock::new(),
            notices: Vec::new(),
            tiles: None,
        }
    }
}

/// What [`run`] hands back: the results and where they went.
pub struct Analysis {
    /// The results.
    pub results: Results,
    /// The files written, at their final paths.
    pub written: Vec<std::path::PathBuf>,
}

impl Analysis {
    /// The end-of-run summary `gapmap analyze` prints: totals, the settlements with the most
    /// unserved premises, where the files went, and resilience (with `--backbone`).
    pub fn summary(&self) -> String {
        self.results.summary(self.written.len())
    }
}

impl Results {
    /// The end-of-run summary `gapmap analyze` prints, once `files` files were written.
    pub fn summary(&self, files: usize) -> String {
        let mut text = summary::summary(
            &self.layers.settlements,
            &self.computed.tallies,
            &self.totals(),
            self.layers.known(),
            files,
            &self.plan.out,
            self.meta.t0.elapsed().as_secs_f64(),
            self.plan.lang,
        );
        if let Some(o) = &self.resilience {
            text += &summary::resilience(o, &self.layers.settlements, self.plan.lang);
        }
        text
    }
}

/// `gapmap analyze`: checks the plan (with no inputs, the bundled region), reads, analyses and
/// writes every output the plan selects into `plan.out`.
pub fn run(plan: AnalysisPlan) -> Result<Analysis> {
    run_reading(plan, read_inputs)
}

/// [`run`] with the inputs taken from `cache` when it holds the workload `plan` reads (see
/// [`workload`]): a sweep's scenarios over one workload read it once. The outputs are those
/// of [`run`].
pub fn run_cached(plan: AnalysisPlan, cache: &mut WorkloadCache) -> Result<Analysis> {
    let analysis = run_reading(plan, |plan, checked, bundled, meta| {
        cache.inputs(plan, checked, bundled, meta)
    })?;
    cache.remember(&analysis.results)?;
    Ok(analysis)
}

/// [`run`], its inputs got by `read` ([`read_inputs`], or from a workload held).
fn run_reading(
    mut plan: AnalysisPlan,
    read: impl FnOnce(AnalysisPlan, Checked, bool, RunMeta) -> Result<Inputs>,
) -> Result<Analysis> {
    let (started_utc, t0) = (utc_now(), Instant::now());
    let (bundled, checked) = prepare(&mut plan)?;
    check_out(&plan.out, plan.overwrite)?;
    check_inputs_kept(&plan)?;
    // A database that cannot be written is found before the work, not after it.
    plan.db
        .check(db::COMMAND, &db::ALL_TABLES, plan.overwrite)?;
    // The phases are timed from when the pool is up; the total from the start.
    let meta = RunMeta {
        started_utc,
        t0,
        clock: Clock::new(),
        notices: Vec::new(),
        tiles: None,
    };
    let inputs = read(plan, checked, bundled, meta)?;
    let mut results = compute(inputs);
    let (out, overwrite) = (results.plan.out.clone(), results.plan.overwrite);
    let written = results.write(&out, overwrite)?;
    Ok(Analysis { results, written })
}

/// What `analyze` and `check` do first: the bundled region when no input is named, the plan
/// checked, the worker pool sized. Returns whether the region is the bundled one.
fn prepare(plan: &mut AnalysisPlan) -> Result<(bool, Checked)> {
    let bundled = plan.use_bundled_region()?;
    let checked = plan.validate()?;
    crate::threads::init_global(plan.threads)?;
    Ok((bundled, checked))
}

/// `gapmap check`: reads the inputs of `plan` as `gapmap analyze` would and returns the check
/// as a table; inputs that do not fit together are an error (exit 2) after the table.
pub fn run_check(mut plan: AnalysisPlan) -> Result<String> {
    let (bundled, checked) = prepare(&mut plan)?;
    let inputs = read_layers(plan, checked, bundled, RunMeta::start())?;
    let p = inputs.plausibility();
    let text = check::table(&p, &inputs.ctx.target);
    match p.problem {
        Some(_) => Err(Error::Usage(format!(
            "the inputs do not fit together:\n{text}"
        ))),
        None => Ok(text),
    }
}

impl Results {
    /// Writes every output the plan selects, and run.json, into `out` (all or nothing: a
    /// staging directory renamed into place). `overwrite` replaces gapmap's files in a
    /// directory that is not empty, and removes those of the earlier analysis that this one
    /// does not write, with what was made from it (`grid/`, `priorities/`, the report).
    /// Returns the files written.
    pub fn write(&mut self, out: &Path, overwrite: bool) -> Result<Vec<std::path::PathBuf>> {
        self.plan.out = out.to_path_buf();
        self.plan.overwrite = overwrite;
        check_inputs_kept(&self.plan)?;
        let mut staging = gapmap_io::write::staging::Staging::begin(out, overwrite)?;
        let previous = replace::previous_outputs(out);
        let outputs = write::write_outputs(self, &mut staging)?;
        let files = staging.digests(&[])?;
        self.meta.clock.lap("write");
        let database = self.plan.db.record(db::COMMAND, &db::table_names(self))?;
        let run = record::run_info(self, outputs, files, database);
        let run_path = staging.file("run.json");
        crate::run_info::write_run_info(&run, &run_path)?;
        gapmap_io::write::staging::check_interrupt()?;
        if self.plan.db.out_db.is_some() {
            // The database first: when it fails, the files are not published either.
            let run_json = std::fs::read_to_string(&run_path)
                .map_err(|e| crate::error::write_error(run_path.clone(), e))?;
            db::write(self, run_json)?;
        }
        let stale = replace::stale(out, &previous);
        Ok(staging.commit_replacing(&stale)?)
    }
}

/// Frees `x` on the worker pool, beside the work that follows: an index holds many
/// allocations, and freeing them one by one on this thread would hold up the next kernel.
pub(crate) fn retire<T: Send + 'static>(x: T) {
    rayon::spawn(move || drop(x));
}

/// [`retire`] for what may be shared: freed when this was its last holder, else only let go
/// (a workload held for other analyses keeps it).
pub(crate) fn retire_shared<T: Send + Sync + 'static>(x: std::sync::Arc<T>) {
    if let Ok(x) = std::sync::Arc::try_unwrap(x) {
        retire(x);
    }
}

/// Records the wall time and peak resident memory of each phase.
pub struct Clock {
    /// The phases so far.
    pub phases: Vec<Phase>,
    last: Instant,
    last_cpu_ticks: Option<u64>,
    peaks: memory::PhasePeaks,
}

impl Default for Clock {
    fn default() -> Clock {
        Clock::new()
    }
}

impl Clock {
    /// Starts timing now.
    pub fn new() -> Clock {
        Clock {
            phases: Vec::new(),
            last: Instant::now(),
            last_cpu_ticks: memory::cpu_ticks(),
            peaks: memory::PhasePeaks::start(),
        }
    }
    /// Ends the phase named `phase`: the time since the last lap.
    pub fn lap(&mut self, phase: &str) {
        let now = Instant::now();
        let cpu_ticks = memory::cpu_ticks();
        self.phases.push(Phase {
            phase: phase.to_string(),
            seconds: (now - self.last).as_secs_f64(),
            peak_rss_mib: self.peaks.lap().map(|b| b as f64 / (1u64 << 20) as f64),
            cpu_s: cpu_ticks
                .zip(self.last_cpu_ticks)
                .map(|(c, l)| memory::ticks_to_seconds(c.saturating_sub(l))),
        });
        self.last = now;
        self.last_cpu_ticks = cpu_ticks;
    }
    /// The whole run: total time and peak.
    pub fn total(&self, since: Instant) -> Phase {
        Phase {
            phase: "total".into(),
            seconds: since.elapsed().as_secs_f64(),
            peak_rss_mib: memory::peak_rss_bytes().map(|b| b as f64 / (1u64 << 20) as f64),
            // The whole process, reading the command line included.
            cpu_s: memory::cpu_seconds(),
        }
    }
}
