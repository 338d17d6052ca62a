//! The `gapmap` command line. Each subcommand lives in its own module; this file only parses
//! arguments, dispatches, and maps errors to exit codes (2: bad input or usage, 1: other).

// `IoError` carries file, layer, feature and field for its messages; errors are rare, so its
// size on the error path is not worth boxing.
#![allow(clippy::result_large_err)]

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
mod bundled;
mod grid;
mod memory;
mod policy;
mod predict;
mod premise_args;
mod prioritise;
mod progress;
mod radio;
mod report;
mod resilience;
mod runinfo;
mod settlements;
mod synth;
mod terminal;

/// Broadband and mobile coverage gaps per premise and per settlement.
#[derive(Debug, Parser)]
#[command(name = "gapmap", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once per process: the size difference between subcommands does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Fibre and mobile coverage per premise and per settlement: tables, gap map, run record.
    Analyze(analyze::Args),
    /// Seeded synthetic premises, fibre and mobile layers on real settlements and population.
    Synth(synth::Args),
    /// Run analyze over workloads × parameter grids into one tidy table.
    Batch(batch::Args),
    /// Predicted mobile coverage from cell sites: coverage polygons, best server per premise.
    Predict(predict::Args),
    /// An analysis aggregated to SCB grid squares, H3 cells and regions (kommun, län).
    Grid(grid::Args),
    /// Candidate fibre projects costed in SEK, and the ones a budget should fund.
    Prioritise(prioritise::Args),
    /// An analysis as one self-contained report.html (maps, tables) and map.png.
    Report(report::Args),
    /// Settlement polygons derived from premises the way SCB delimits tätorter.
    Settlements(settlements::Args),
}

/// A usage error found after parsing (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Checks a numeric flag: finite and at least `min` (`inclusive`) or above it.
pub fn check_number(
    flag: &str,
    v: f64,
    min: f64,
    inclusive: bool,
) -> std::result::Result<(), UsageError> {
    let ok = v.is_finite() && if inclusive { v >= min } else { v > min };
    if ok {
        Ok(())
    } else {
        Err(UsageError(format!(
            "{flag} must be a finite number {} {min}, got {v}",
            if inclusive { ">=" } else { ">" }
        )))
    }
}

fn exit_code(e: &anyhow::Error) -> u8 {
    if let Some(io) = e.downcast_ref::<gapmap_io::IoError>() {
        return if io.is_bad_input() { 2 } else { 1 };
    }
    if e.downcast_ref::<UsageError>().is_some()
        || e.downcast_ref::<gapmap_core::CoreError>().is_some()
    {
        return 2;
    }
    1
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
    let result = match cli.command {
        Command::Analyze(args) => analyze::run(args),
        Command::Synth(args) => synth::run(args),
        Command::Batch(args) => batch::run(args),
        Command::Predict(args) => predict::run(args),
        Command::Grid(args) => grid::run(args),
        Command::Prioritise(args) => prioritise::run(args),
        Command::Report(args) => report::run(args),
        Command::Settlements(args) => settlements::run(args),
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
            eprintln!("error: {e:#}");
            ExitCode::from(exit_code(&e))
        }
    }
}
