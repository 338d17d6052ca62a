//! run.json: what was run, on what, with which parameters, and how long each phase took.
//!
//! [`RunInfo`] is the typed contract between `gapmap analyze` and what reads an analysis
//! (`grid`, `prioritise`, `report`, `batch`, Python): it is written and read with `serde`, and
//! a run.json of another shape is an error naming the file ([`read_run_info`]). Its `plan` is
//! the [`AnalysisPlan`] the analysis ran, which can be read back and run again.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use gapmap_core::goals::{Base, Goal, Measure};
use gapmap_io::read::{InputInfo, TechValue};
use serde::{Deserialize, Serialize};

use crate::analyze::plan::AnalysisPlan;
use crate::error::{write_error, Error, Result};

/// The record of a run. `P` is the command's parameters ([`Parameters`] for `analyze`), `Q`
/// what its cell sites covered.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound(deserialize = "P: Deserialize<'de>, Q: Deserialize<'de>"))]
pub struct RunInfo<P = Parameters, Q = PredictionSummary> {
    pub tool: String,
    pub version: String,
    pub command: String,
    pub started_utc: String,
    /// The parameters as they took effect (defaults resolved).
    pub parameters: P,
    pub working_crs: String,
    pub inputs: Vec<InputInfo>,
    pub fibre_networks: Vec<String>,
    pub mobile_operators: Vec<String>,
    pub mobile_technologies: Vec<TechValue>,
    pub notices: Vec<String>,
    /// Sums over every settlement and the rural row, by count column.
    pub totals: BTreeMap<String, u64>,
    /// The fibre resilience analysis (with `--backbone`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resilience: Option<ResilienceSummary>,
    /// Predicted coverage from cell sites (with `--sites`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prediction: Option<Q>,
    pub timings_s: Vec<Phase>,
    /// Every file the run wrote, run.json last.
    pub outputs: Vec<String>,
    /// The plan that was run (`gapmap analyze --plan run.json` runs it again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<AnalysisPlan>,
}

/// The parameters of an analysis as they took effect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parameters {
    pub bundled_region: bool,
    pub crs: String,
    pub assume_crs: Option<String>,
    pub drop_distance_m: f64,
    pub gap_cluster_m: f64,
    pub gap_margin_m: f64,
    pub strict: bool,
    pub threads: usize,
    pub settlements_layer: Option<String>,
    pub fibre_layer: Vec<String>,
    pub mobile_layer: Vec<String>,
    pub settlement_id_field: String,
    pub settlement_name_field: String,
    pub fibre_network_field: String,
    pub mobile_operator_field: String,
    pub mobile_tech_field: String,
    pub out: String,
    pub overwrite: bool,
    pub gpkg: bool,
    pub map_simplify_m: f64,
    pub outputs: Vec<String>,
    pub resilience: ResilienceParameters,
    pub premises_layer: Option<String>,
    pub households_field: String,
    pub workplaces_field: String,
    pub premise_id_field: String,
    pub x_field: String,
    pub y_field: String,
    pub sites: Option<SiteParameters>,
    pub policy: PolicyParameters,
}

/// The resilience options as they took effect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResilienceParameters {
    pub backbone_layer: Option<String>,
    pub backbone_name_field: String,
    pub backbone_snap_m: f64,
    pub snap_m: f64,
    pub srlg_m: f64,
    pub fibre_srlg_field: Option<String>,
}

/// The cell-site options as they took effect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteParameters {
    pub sites_layer: Option<String>,
    pub model: String,
    pub environment: String,
    pub los: String,
    pub dem: Option<String>,
    pub threshold_preset: String,
    pub rsrp_threshold_4g_dbm: f64,
    pub rsrp_threshold_5g_dbm: f64,
    pub indoor_loss_db: f64,
    pub ue_height_m: f64,
    pub extrapolate: bool,
}

/// The state-aid and goal settings as they took effect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyParameters {
    pub aid_preset: String,
    pub aid_target_mbps: f64,
    pub aid_year: i32,
    pub aid_cell_m: f64,
    pub fixed: Vec<String>,
    pub fixed_speed_field: String,
    pub planned: Vec<String>,
    pub planned_year_field: String,
    pub mobile_stand_in: String,
    pub goals: Vec<GoalRecord>,
}

/// One goal as run.json records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoalRecord {
    pub name: String,
    pub measure: String,
    pub target_pct: f64,
    /// `households+workplaces` or `premises`.
    pub base: String,
}

impl GoalRecord {
    /// The record of `g`.
    pub fn of(g: &Goal) -> GoalRecord {
        GoalRecord {
            name: g.name.clone(),
            measure: g.measure.as_str().to_string(),
            target_pct: g.target_pct(),
            base: match g.base {
                Base::People => "households+workplaces",
                Base::Premises => "premises",
            }
            .to_string(),
        }
    }

    /// The goal recorded; `None` when a value is not one gapmap writes.
    pub fn goal(&self) -> Option<Goal> {
        Some(Goal {
            name: self.name.clone(),
            measure: Measure::parse(&self.measure)?,
            base: match self.base.as_str() {
                "premises" => Base::Premises,
                "households+workplaces" => Base::People,
                _ => return None,
            },
            target_ppm: gapmap_core::goals::ppm_of_percent(self.target_pct)?,
        })
    }
}

/// What the fibre resilience analysis found, in run.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResilienceSummary {
    pub backbone: String,
    pub backbone_points: usize,
    pub backbone_points_unattached: Vec<String>,
    pub junctions: usize,
    pub links: usize,
    pub risk_units: usize,
    pub risk_units_of_several_links: usize,
    pub premises_on_fibre_links: usize,
    pub settlements_by_class: ClassCounts,
    pub critical_units: usize,
}

/// Settlements by redundancy class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassCounts {
    pub none: usize,
    pub single: usize,
    pub redundant: usize,
}

/// What the cell sites covered, in run.json (with `--sites`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PredictionSummary {
    pub sites: usize,
    pub premises_4g_by_sites: usize,
    pub premises_5g_by_sites: usize,
    pub premises_single_4g_site: usize,
    pub premises_extrapolated: usize,
}

impl RunInfo<Parameters> {
    /// The goals the analysis measured.
    pub fn goals(&self) -> Result<Vec<Goal>> {
        self.parameters
            .policy
            .goals
            .iter()
            .map(|g| {
                g.goal().ok_or_else(|| Error::Analysis {
                    path: "run.json".into(),
                    message: format!("goal '{}' is not one gapmap writes", g.name),
                })
            })
            .collect()
    }
}

/// One phase of a run: wall time, peak memory and CPU time.
#[derive(Debug, Serialize, Deserialize, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    pub phase: String,
    pub seconds: f64,
    /// Peak resident memory during the phase, in MiB (Linux only).
    pub peak_rss_mib: Option<f64>,
    /// CPU time of the process during the phase, user and system over all threads, in seconds
    /// (Linux only; 10 ms resolution). Above `seconds` when the phase ran on several cores.
    pub cpu_s: Option<f64>,
}

/// Reads `DIR/run.json` of an analysis. A missing file, or one of another shape or command,
/// is an error naming it.
pub fn read_run_info(dir: &Path) -> Result<RunInfo> {
    let path = dir.join("run.json");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::Analysis {
        path: path.clone(),
        message: format!(
            "cannot read the analysis' run record ({e}); is {} a directory written by gapmap analyze?",
            dir.display()
        ),
    })?;
    let run: RunInfo = serde_json::from_str(&text).map_err(|e| Error::Analysis {
        path: path.clone(),
        message: format!("not a run record of gapmap analyze: {e}"),
    })?;
    if run.tool != "gapmap" || run.command != "analyze" {
        return Err(Error::Analysis {
            path,
            message: format!(
                "written by '{} {}', not by gapmap analyze",
                run.tool, run.command
            ),
        });
    }
    Ok(run)
}

/// Writes `run` as `path` (pretty JSON, newline-terminated).
pub fn write_run_info<P: Serialize, Q: Serialize>(run: &RunInfo<P, Q>, path: &Path) -> Result<()> {
    write_json(run, path)
}

/// Writes any run record as `path` (pretty JSON, newline-terminated).
pub fn write_json<T: Serialize + ?Sized>(value: &T, path: &Path) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| write_error(path, e))? + "\n";
    std::fs::write(path, text).map_err(|e| write_error(path, e))
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
