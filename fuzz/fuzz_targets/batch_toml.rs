//! Batch files (`gapmap batch`): any text parses or is an error; a file that parses expands
//! into scenarios (at most `MAX_SCENARIOS`) or is an error, and every scenario's options turn
//! into `analyze` flags or an error.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(cfg) = gapmap::batch::Config::parse(text, Path::new("batch.toml")) else {
        return;
    };
    // Expanding never touches the file system beyond checking for a mobile layer.
    if let Ok(scenarios) = gapmap::batch::scenarios(&cfg, Path::new("/nonexistent")) {
        assert!(scenarios.len() <= gapmap::batch::MAX_SCENARIOS);
        for s in scenarios.iter().take(64) {
            let _ = s.name();
            let _ = gapmap::batch::analyze_args(&s.options);
        }
    }
});
