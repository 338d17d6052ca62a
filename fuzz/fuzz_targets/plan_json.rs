//! Analysis plans (`gapmap analyze --plan`, Python keywords) and run records (`run.json`, read
//! back by grid, prioritise, report and batch): any text parses or is an error; a plan that
//! parses validates or is an error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(plan) = serde_json::from_str::<gapmap::AnalysisPlan>(text) {
        let _ = plan.validate();
        let _ = serde_json::to_string(&plan);
    }
    if let Ok(run) = serde_json::from_str::<gapmap::run_info::RunInfo>(text) {
        let _ = run.goals();
    }
});
