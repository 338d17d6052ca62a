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
use gapmap_io::write::output::FileDigest;
use serde::{Deserialize, Serialize};

use crate::analyze::plan::AnalysisPlan;
use crate::error::{write_error, Error, Result};

/// The record of a run. `P` is the command's parameters ([`Parameters`] for `analyze`), `Q`
/// what its cell sites covered.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound(deserialize = "P: Deserialize<'de>, Q: Deserialize<'de>"))]
pub struct RunInfo<P = Parameters, Q = PredictionSummary> {
    /// Always `gapmap`.
    pub tool: String,
    /// gapmap's version.
    pub version: String,
    /// The subcommand.
    pub command: String,
    /// When the run started, `YYYY-MM-DDTHH:MM:SSZ`.
    pub started_utc: String,
    /// The parameters as they took effect (defaults resolved).
    pub parameters: P,
    /// The working CRS all inputs were reprojected into.
    pub working_crs: String,
    /// Every input read.
    pub inputs: Vec<InputInfo>,
    /// The fibre networks, in the order of their ids.
    pub fibre_networks: Vec<String>,
    /// The mobile operators, in the order of their bits.
    pub mobile_operators: Vec<String>,
    /// Every technology value in the mobile layers, and what it counts as.
    pub mobile_technologies: Vec<TechValue>,
    /// What the user was told.
    pub notices: Vec<String>,
    /// Sums over every settlement and the rural row, by count column.
    pub totals: BTreeMap<String, u64>,
    /// The fibre resilience analysis (with `--backbone`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resilience: Option<ResilienceSummary>,
    /// Predicted coverage from cell sites (with `--sites`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prediction: Option<Q>,
    /// The population spread onto the premises (with `--population`), with every person
    /// that could not be placed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub population: Option<crate::population::PopulationSummary>,
    /// The tables written into a database (with `--out-db`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<crate::database::DbRecord>,
    /// Wall time, CPU time and peak memory of each phase, then the total.
    pub timings_s: Vec<Phase>,
    /// A partitioned run's tiles: how much work each had and how long it took.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tiles: Option<crate::analyze::tiles::TilesRecord>,
    /// Every file the run wrote, run.json last.
    pub outputs: Vec<String>,
    /// Every file the run wrote but run.json, with its size and SHA-256: the readers of the
    /// analysis check them, so that files of two runs are never read as one analysis.
    #[serde(default)]
    pub files: Vec<FileDigest>,
    /// The plan that was run (`gapmap analyze --plan run.json` runs it again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<AnalysisPlan>,
}

/// The parameters of an analysis as they took effect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parameters {
    /// True when the bundled region was analysed.
    pub bundled_region: bool,
    /// The working CRS.
    pub crs: String,
    /// CRS of inputs that carry none.
    pub assume_crs: Option<String>,
    /// A premise is fibre passed when fibre is at most this far, in metres.
    pub drop_distance_m: f64,
    /// Gap premises within this distance of each other form one cluster, in metres.
    pub gap_cluster_m: f64,
    /// Gap polygons extend this far beyond their premises, in metres.
    pub gap_margin_m: f64,
    /// Invalid polygons are an error instead of being repaired.
    pub strict: bool,
    /// Worker threads.
    pub threads: usize,
    /// Layer of the settlements file (needed when it has several).
    pub settlements_layer: Option<String>,
    /// Layers read from each fibre file.
    pub fibre_layer: Vec<String>,
    /// Layers read from each mobile file.
    pub mobile_layer: Vec<String>,
    /// Settlement id field.
    pub settlement_id_field: String,
    /// Settlement name field.
    pub settlement_name_field: String,
    /// Fibre field with the network.
    pub fibre_network_field: String,
    /// Mobile field with the operator.
    pub mobile_operator_field: String,
    /// Mobile field with the technology.
    pub mobile_tech_field: String,
    /// Output directory.
    pub out: String,
    /// Replace gapmap's files in an existing, non-empty output directory.
    pub overwrite: bool,
    /// Also write gapmap.gpkg.
    pub gpkg: bool,
    /// Douglas-Peucker tolerance of the web maps, in metres.
    pub map_simplify_m: f64,
    /// Language of the summary, the QGIS styles' labels and (by default) the report.
    #[serde(default)]
    pub lang: gapmap_io::Lang,
    /// The outputs written.
    pub outputs: Vec<String>,
    /// Fibre resilience (with `--backbone`).
    pub resilience: ResilienceParameters,
    /// Layer of the premises file (needed when it has several).
    pub premises_layer: Option<String>,
    /// Premise field with the number of households.
    pub households_field: String,
    /// Premise field with the number of workplaces.
    pub workplaces_field: String,
    /// Premise id field.
    pub premise_id_field: String,
    /// x (easting or longitude) column of Parquet/CSV premise tables.
    pub x_field: String,
    /// y (northing or latitude) column of Parquet/CSV premise tables.
    pub y_field: String,
    /// Cell sites (a path).
    pub sites: Option<SiteParameters>,
    /// State-aid and goal settings.
    pub policy: PolicyParameters,
}

/// The resilience options as they took effect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResilienceParameters {
    /// Layer of the backbone file (needed when it has several).
    pub backbone_layer: Option<String>,
    /// Name field of the backbone points.
    pub backbone_name_field: String,
    /// Backbone points attach to the nearest fibre vertex within this distance, in metres.
    pub backbone_snap_m: f64,
    /// Fibre vertices closer than this, in metres, are one node.
    pub snap_m: f64,
    /// Links this close (metres) for more than half their length share a risk.
    pub srlg_m: f64,
    /// Shared-risk field of the fibre.
    pub fibre_srlg_field: Option<String>,
    /// The share of its fibre premises with two paths that makes a settlement redundant.
    #[serde(default = "nine_tenths")]
    pub redundant_share: f64,
    /// critical_units.* was written too.
    #[serde(default)]
    pub critical_units: bool,
    /// The share of its first unit's cut that a bridge must cut to join a corridor.
    #[serde(default = "nine_tenths")]
    pub corridor_share: f64,
}

/// The redundant share of a run.json that records none.
fn nine_tenths() -> f64 {
    0.9
}

/// The cell-site options as they took effect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteParameters {
    /// Layer of the cell-site file (needed when it has several).
    pub sites_layer: Option<String>,
    /// The path-loss model.
    pub model: String,
    /// The environment of the path-loss model.
    pub environment: String,
    /// Line of sight.
    pub los: String,
    /// The elevation raster (a path).
    pub dem: Option<String>,
    /// What links off the DEM get (`--dem-outside`), when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dem_outside: Option<String>,
    /// Coverage threshold preset.
    pub threshold_preset: String,
    /// The 4G coverage threshold on RSRP, in dBm.
    pub rsrp_threshold_4g_dbm: f64,
    /// The 5G coverage threshold on SS-RSRP, in dBm.
    pub rsrp_threshold_5g_dbm: f64,
    /// Building entry loss, in dB.
    pub indoor_loss_db: f64,
    /// Terminal antenna height above ground, in metres.
    pub ue_height_m: f64,
    /// Sites outside their model's range are used (and flagged).
    pub extrapolate: bool,
}

/// The state-aid and goal settings as they took effect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyParameters {
    /// The state-aid target-speed preset.
    pub aid_preset: String,
    /// The state-aid target speed, in Mbit/s.
    pub aid_target_mbps: f64,
    /// The year of the state-aid assessment.
    pub aid_year: i32,
    /// Grid cell size of the white areas, in metres.
    pub aid_cell_m: f64,
    /// Other fixed networks (paths).
    pub fixed: Vec<String>,
    /// Speed field of the other fixed networks.
    pub fixed_speed_field: String,
    /// Planned fibre networks (paths).
    pub planned: Vec<String>,
    /// Year field of the planned networks.
    pub planned_year_field: String,
    /// When mobile coverage counts as 100 Mbit/s.
    pub mobile_stand_in: String,
    /// How an area's state-aid class follows from its premises (`majority`, `any-white`).
    #[serde(default = "majority")]
    pub area_class_rule: String,
    /// The goals measured.
    pub goals: Vec<GoalRecord>,
}

/// One goal as run.json records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoalRecord {
    /// The goal's name.
    pub name: String,
    /// What the goal measures: fibre, 100mbps, 4g or 5g.
    pub measure: String,
    /// The target share, in per cent.
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
    /// Backbone points (with `--backbone`).
    pub backbone: String,
    /// Backbone points.
    pub backbone_points: usize,
    /// Backbone points that attached to no fibre.
    pub backbone_points_unattached: Vec<String>,
    /// Junctions of the graph.
    pub junctions: usize,
    /// Links between junctions.
    pub links: usize,
    /// Risk units: what one event cuts together.
    pub risk_units: usize,
    /// Risk units of more than one link.
    pub risk_units_of_several_links: usize,
    /// Premises that hang on a fibre link.
    pub premises_on_fibre_links: usize,
    /// Settlements by redundancy class, by their fibre premises (`--redundant-share`).
    pub settlements_by_class: ClassCounts,
    /// Settlements by the redundancy class of their core junctions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub core_settlements_by_class: Option<ClassCounts>,
    /// Risk units whose failure cuts premises or settlements off.
    pub critical_units: usize,
    /// Corridors of those units (the rows of critical_links.*).
    #[serde(default)]
    pub corridors: usize,
    /// Line ends spliced into another line's interior (T-junctions within `snap_m`).
    #[serde(default)]
    pub ends_spliced: usize,
    /// Points where lines cross with no common vertex, left unconnected.
    #[serde(default)]
    pub crossings_unconnected: usize,
    /// Connected pieces of the network.
    #[serde(default)]
    pub pieces: usize,
    /// Pieces with no backbone point.
    #[serde(default)]
    pub pieces_without_backbone: usize,
    /// Premises that hang on a piece with no backbone point.
    #[serde(default)]
    pub premises_on_pieces_without_backbone: usize,
}

/// Settlements by redundancy class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassCounts {
    /// Settlements with no path to the backbone.
    pub none: usize,
    /// Settlements on a single path.
    pub single: usize,
    /// Redundant settlements.
    pub redundant: usize,
}

/// What the cell sites covered, in run.json (with `--sites`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PredictionSummary {
    /// Cell sites modelled.
    pub sites: usize,
    /// Premises with predicted 4G.
    pub premises_4g_by_sites: usize,
    /// Premises with predicted 5G.
    pub premises_5g_by_sites: usize,
    /// Premises whose 4G hangs on a single site.
    pub premises_single_4g_site: usize,
    /// Premises served by a site outside its model's range.
    pub premises_extrapolated: usize,
}

/// The area-class rule of a run.json that records none.
fn majority() -> String {
    "majority".into()
}

impl<P, Q> RunInfo<P, Q> {
    /// Whether the run read an input of one of `roles` (`fibre`, `mobile`, `sites`, ...): a
    /// measure whose layer was missing is not known, not 0.
    pub fn has_input(&self, roles: &[&str]) -> bool {
        self.inputs.iter().any(|i| roles.contains(&i.role.as_str()))
    }
}

impl RunInfo<Parameters> {
    /// How the analysis labelled areas.
    pub fn area_class_rule(&self) -> Result<gapmap_core::aid::AreaClassRule> {
        let r = &self.parameters.policy.area_class_rule;
        gapmap_core::aid::AreaClassRule::parse(r).ok_or_else(|| Error::Analysis {
            path: "run.json".into(),
            message: format!("area_class_rule '{r}' is not one gapmap writes"),
        })
    }

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
    /// The phase's name.
    pub phase: String,
    /// Wall time, in seconds.
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
    // A run killed while it published its files: finish what it began (see
    // `gapmap_io::write::staging`). When that fails (a read-only directory), the check of the
    // files against run.json says what is wrong.
    let _ = gapmap_io::write::staging::recover(dir);
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

/// Reads `DIR/run.json` ([`read_run_info`]) and checks that every file it lists is there, with
/// the size and SHA-256 it records: an analysis whose files were removed, changed, only partly
/// copied or mixed with another run's is an error naming the files, rather than a report or
/// grid made from it.
pub fn read_complete_analysis(dir: &Path) -> Result<RunInfo> {
    let run = read_run_info(dir)?;
    let mut problems: Vec<String> = run
        .outputs
        .iter()
        .filter(|f| *f != "run.json" && !run.files.iter().any(|d| d.name == **f))
        .filter(|f| !dir.join(f).exists())
        .map(|f| format!("{f} is missing"))
        .collect();
    problems.extend(gapmap_io::write::output::verify(dir, &run.files));
    if !problems.is_empty() {
        const SHOWN: usize = 5;
        let more = problems.len().saturating_sub(SHOWN);
        problems.truncate(SHOWN);
        return Err(Error::Analysis {
            path: dir.join("run.json"),
            message: format!(
                "the analysis is not the one this run.json records: {}{}; run gapmap analyze again",
                problems.join("; "),
                if more > 0 {
                    format!(" (and {more} more)")
                } else {
                    String::new()
                }
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
    // No password of a database connection string reaches a record.
    let text = gapmap_io::read::mask_secrets(
        &(serde_json::to_string_pretty(value).map_err(|e| write_error(path, e))? + "\n"),
    );
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
