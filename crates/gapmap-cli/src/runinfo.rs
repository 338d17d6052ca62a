//! run.json: what was run, on what, with which parameters, and how long each phase took.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use gapmap_io::inputs::{InputInfo, TechValue};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct RunInfo {
    pub tool: &'static str,
    pub version: &'static str,
    pub command: &'static str,
    pub started_utc: String,
    pub parameters: serde_json::Value,
    pub working_crs: String,
    pub inputs: Vec<InputInfo>,
    pub fibre_networks: Vec<String>,
    pub mobile_operators: Vec<String>,
    pub mobile_technologies: Vec<TechValue>,
    pub notices: Vec<String>,
    pub totals: BTreeMap<String, u64>,
    /// The fibre resilience analysis (with `--backbone`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resilience: Option<serde_json::Value>,
    /// Predicted coverage from cell sites (with `--sites`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prediction: Option<serde_json::Value>,
    pub timings_s: Vec<Phase>,
    pub outputs: Vec<String>,
}

#[derive(Debug, Serialize, Clone)]
pub struct Phase {
    pub phase: String,
    pub seconds: f64,
    /// Peak resident memory during the phase, in MiB (Linux only).
    pub peak_rss_mib: Option<f64>,
    /// CPU time of the process during the phase, user and system over all threads, in seconds
    /// (Linux only; 10 ms resolution). Above `seconds` when the phase ran on several cores.
    pub cpu_s: Option<f64>,
}

/// Now as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_format() {
        let s = super::utc_now();
        assert_eq!(s.len(), 20);
        assert!(s.starts_with("20") && s.ends_with('Z'));
    }
}
