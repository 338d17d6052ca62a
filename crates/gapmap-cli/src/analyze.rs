//! `gapmap analyze`: the library's analysis, then the summary on the terminal.

use anyhow::Result;

/// Runs the analysis of `plan` and prints the summary.
pub fn run(plan: gapmap::AnalysisPlan) -> Result<()> {
    let analysis = gapmap::analyze::run(plan)?;
    let r = &analysis.results;
    crate::terminal::print_summary(
        &r.settlements,
        &r.computed.tallies,
        &r.totals(),
        analysis.written.len(),
        &r.plan.out,
        r.meta.t0.elapsed().as_secs_f64(),
    );
    if let Some(o) = &r.resilience {
        crate::terminal::print_resilience(o, &r.settlements);
    }
    // The process exits next (`analyze` runs once per process; `batch` starts one per
    // scenario): leave the large buffers to the OS rather than free them one by one, which
    // takes about 0.1 s at a million premises.
    std::mem::forget(analysis);
    Ok(())
}
