//! gapmap as a library: the one analysis pipeline behind the `gapmap` command line, the Python
//! package and distributed runs.
//!
//! Each subcommand is a typed plan and a function that carries it out:
//!
//! | plan | function | what |
//! |---|---|---|
//! | [`AnalysisPlan`] | [`analyze::run`], or [`analyze::read_inputs`] → [`analyze::compute`] → [`analyze::Results::write`] | fibre, mobile, gaps, aid classes, resilience per premise and per settlement |
//! | [`predict::PredictPlan`] | [`predict::run`] | predicted coverage from cell sites |
//! | [`grid::GridPlan`] | [`grid::run`] | an analysis aggregated to grid squares, H3 cells and regions |
//! | [`prioritise::PrioritisePlan`] | [`prioritise::run`] | candidate projects costed, and the ones a budget funds |
//! | [`report::ReportPlan`] | [`report::run`] | report.html, map.html and map.png |
//! | [`settlements::SettlementsPlan`] | [`settlements::run`] | settlements derived from premises |
//! | [`synth::SynthPlan`] | [`synth::run`] | seeded synthetic workloads |
//!
//! Plans are `serde` both ways (an analysis' plan is recorded in its `run.json`, see
//! [`run_info::RunInfo`], and can be run again) and, with the `clap` feature, are the command
//! line's flags. Errors are [`Error`]; [`Error::is_bad_input`] tells the user's mistakes from
//! the machine's. Progress and notices go to the [`progress::Reporter`] the front end sets.
//!
//! ```no_run
//! # fn main() -> gapmap::Result<()> {
//! let mut plan = gapmap::AnalysisPlan { drop_distance_m: 100.0, ..Default::default() };
//! plan.use_bundled_region()?; // or set premises, settlements, fibre, ...
//! let checked = plan.validate()?; // every range and combination, flags named
//! let inputs = gapmap::analyze::read_inputs(plan, checked, true, gapmap::analyze::RunMeta::start())?;
//! let mut results = gapmap::analyze::compute(inputs); // per premise (input order) and per area
//! results.write(std::path::Path::new("out"), false)?; // exactly what `gapmap analyze` writes
//! # Ok(())
//! # }
//! ```

#![allow(
    clippy::result_large_err,
    reason = "IoError carries file, layer, feature and field for its messages; errors are rare, so its size on the error path is not worth boxing"
)]

pub mod analyze;
pub mod batch;
pub mod bundled;
pub mod database;
pub mod error;
pub mod grid;
pub mod memory;
pub mod policy;
pub mod population;
pub mod predict;
pub mod premise_plan;
pub mod prioritise;
pub mod progress;
pub mod radio;
pub mod report;
pub mod resilience;
pub mod run_info;
pub mod settlements;
pub mod synth;
pub mod threads;

pub use analyze::AnalysisPlan;
pub use error::{Error, Result};

/// The parser of `--lang`: one of [`gapmap_io::Lang::CODES`], named in `--help`.
#[cfg(feature = "clap")]
pub(crate) fn lang_parser() -> impl clap::builder::TypedValueParser<Value = gapmap_io::Lang> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(gapmap_io::Lang::CODES)
        .map(|code| gapmap_io::Lang::from_code(&code).unwrap_or_default())
}
