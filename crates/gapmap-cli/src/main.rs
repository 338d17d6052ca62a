//! The `gapmap` command line: a thin front end on the `gapmap` library. Each subcommand's flags
//! are its library plan (clap derives on the plans); this file parses, dispatches, prints what
//! the library hands back, and maps errors to exit codes (2: bad input or usage, 1: other).

#![allow(
    clippy::result_large_err,
    reason = "IoError carries file, layer, feature and field for its messages; errors are rare, so its size on the error path is not worth boxing"
)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc: the analyses allocate many small, short-lived buffers (hulls, outlines, output
/// text) from several threads, which it serves faster than the system allocator. Built with
/// `no_thp`: with transparent huge pages, the kernel spent a quarter of the run zeroing 2 MiB
/// pages that were then barely used (seen with perf, `clear_page_erms`).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod analyze;
mod batch;
mod progress;

/// Broadband and mobile coverage gaps per premise and per settlement.
#[derive(Debug, Parser)]
#[command(name = "gapmap", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[allow(
    clippy::large_enum_variant,
    reason = "parsed once per process: the size difference between subcommands does not matter"
)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Fibre and mobile coverage per premise and per settlement: tables, gap map, run record.
    Analyze(analyze::Args),
    /// Whether the inputs of an analysis fit together: each layer's CRS, features and extent
    /// (also in lon/lat), and the share of the premises it reaches (the flags of analyze).
    Check(gapmap::AnalysisPlan),
    /// Seeded synthetic premises, fibre and mobile layers on real settlements and population.
    Synth(gapmap::synth::SynthPlan),
    /// Run analyze over workloads × parameter grids into one tidy table.
    Batch(batch::Args),
    /// Predicted mobile coverage from cell sites: coverage polygons, best server per premise.
    Predict(gapmap::predict::PredictPlan),
    /// An analysis aggregated to SCB grid squares, H3 cells and regions (kommun, län).
    Grid(gapmap::grid::GridPlan),
    /// Candidate fibre projects costed in SEK, and the ones a budget should fund.
    Prioritise(gapmap::prioritise::PrioritisePlan),
    /// An analysis as report.html (maps, tables), map.html (interactive, offline) and map.png.
    Report(gapmap::report::ReportPlan),
    /// Settlement polygons derived from premises the way SCB delimits tätorter.
    Settlements(gapmap::settlements::SettlementsPlan),
}

/// Exit code of an error: 2 for the user's input or usage, 1 for the rest.
fn exit_code(e: &anyhow::Error) -> u8 {
    match e.downcast_ref::<gapmap::Error>() {
        Some(e) if e.is_bad_input() => 2,
        Some(_) => 1,
        None => 1,
    }
}

/// Writes `text` to stdout. A closed stdout (`gapmap ... | head -1`) is no failure: the files
/// are complete by now, and only the reader has gone (as ripgrep does).
pub fn emit(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::anyhow!("cannot write to standard output: {e}"))
        }
        _ => Ok(()),
    }
}

/// Prints a subcommand's summary (stdout).
fn print_summary(text: gapmap::Result<String>) -> anyhow::Result<()> {
    emit(&text?)
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    gapmap::progress::set_reporter(Some(std::sync::Arc::new(progress::Terminal)));
    let result = match cli.command {
        Command::Analyze(args) => analyze::run(args),
        Command::Check(plan) => print_summary(gapmap::analyze::run_check(plan)),
        Command::Synth(plan) => print_summary(gapmap::synth::run(plan)),
        Command::Batch(args) => batch::run(args).and_then(|t| emit(&t)),
        Command::Predict(plan) => print_summary(gapmap::predict::run(plan)),
        Command::Grid(plan) => print_summary(gapmap::grid::run(plan)),
        Command::Prioritise(plan) => print_summary(gapmap::prioritise::run(plan)),
        Command::Report(plan) => print_summary(gapmap::report::run(plan)),
        Command::Settlements(plan) => print_summary(gapmap::settlements::run(plan)),
    };
    match result {
        Ok(()) => {
            // Every output is written, renamed into place and reported, and the subcommand has
            // dropped what it owns. What is left are the exit handlers and static destructors
            // of GDAL's 114 shared libraries and the allocator's cleanup: skip them (10-20 ms
            // at the end of a run) and let the OS reclaim the process at once.
            use std::io::Write;
            let _ = std::io::stdout().flush();
            let _ = std::io::stderr().flush();
            // SAFETY: `_exit` ends the process without running exit handlers; nothing that
            // still needs flushing or closing is alive at this point.
            unsafe { libc::_exit(0) }
        }
        Err(e) => {
            // Not eprintln!: a closed stderr must not panic either.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "error: {}",
                gapmap_io::read::mask_secrets(&format!("{e:#}"))
            );
            ExitCode::from(exit_code(&e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Command {
        Cli::try_parse_from(std::iter::once("gapmap").chain(args.iter().copied()))
            .unwrap()
            .command
    }

    /// The flags' defaults (clap) and the plans' defaults (serde, Python) are one set.
    #[test]
    fn flag_defaults_are_the_plan_defaults() {
        let Command::Analyze(a) = parse(&["analyze"]) else {
            panic!("not analyze")
        };
        assert_eq!(a.flags, gapmap::AnalysisPlan::default());
        assert!(a.plan.is_none());
        let Command::Analyze(a) = parse(&["analyze", "--drop-distance-m", "20"]) else {
            panic!("not analyze")
        };
        assert_eq!(a.flags.drop_distance_m, 20.0);
        assert_ne!(a.flags, gapmap::AnalysisPlan::default());
    }
}
