//! `gapmap analyze`: the library's analysis, then the summary on the terminal.

use std::path::PathBuf;

use anyhow::Result;
use gapmap::AnalysisPlan;

/// `gapmap analyze` options: the analysis plan's flags, or a recorded plan.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Run the plan in FILE (an analysis' run.json, or a plan as JSON) instead of the analysis
    /// flags; only --out, --overwrite and --threads may be given with it.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    #[command(flatten)]
    pub flags: AnalysisPlan,
}

/// The plan to run: the flags, or the recorded plan with the output and threads of the flags.
fn plan(args: Args) -> Result<AnalysisPlan> {
    let Some(path) = args.plan else {
        return Ok(args.flags);
    };
    let flags = args.flags;
    let as_default = AnalysisPlan {
        out: flags.out.clone(),
        overwrite: flags.overwrite,
        threads: flags.threads,
        ..AnalysisPlan::default()
    };
    if flags != as_default {
        return Err(gapmap::Error::usage(
            "--plan takes the analysis from its file: only --out, --overwrite and --threads may be given with it",
        )
        .into());
    }
    Ok(AnalysisPlan {
        out: flags.out,
        overwrite: flags.overwrite,
        threads: flags.threads,
        ..AnalysisPlan::from_file(&path)?
    })
}

/// Runs the analysis and prints the summary.
pub fn run(args: Args) -> Result<()> {
    let analysis = gapmap::analyze::run(plan(args)?)?;
    let text = analysis.summary();
    // The process exits next (`analyze` runs once per process; `batch` starts one per
    // scenario): leave the large buffers to the OS rather than free them one by one, which
    // takes about 0.1 s at a million premises.
    std::mem::forget(analysis);
    crate::emit(&text)
}
