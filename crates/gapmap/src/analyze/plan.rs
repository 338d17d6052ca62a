//! [`AnalysisPlan`]: every parameter of an analysis, typed, `serde` both ways, validated in
//! one place.

use std::path::{Path, PathBuf};

use gapmap_core::goals::Goal;
use gapmap_core::Params;
use gapmap_io::Lang;
use serde::{Deserialize, Serialize};

use crate::error::{check_at_most, check_number, check_threads, Error, Result};
use crate::policy::PolicyPlan;
use crate::premise_plan::PremisePlan;
use crate::radio::SitePlan;
use crate::resilience::ResiliencePlan;

/// Every parameter of an analysis: the flags of `gapmap analyze`, the keywords of
/// `gapmap.analyze()`, and the `plan` recorded in run.json. With no inputs at all, the
/// bundled region is analysed ([`AnalysisPlan::use_bundled_region`]).
///
/// Field names are the flags' names with underscores; units are in the names. Absent fields
/// of a serialized plan take their defaults ([`Default`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct AnalysisPlan {
    /// Premises: points or building polygons (any GDAL vector format), or a Parquet/CSV table
    /// with x/y columns.
    #[cfg_attr(feature = "clap", arg(long, value_name = "PATH"))]
    pub premises: Option<PathBuf>,
    /// How to read the premises.
    #[cfg_attr(feature = "clap", command(flatten))]
    pub premise: PremisePlan,
    /// Settlement polygons, e.g. SCB tätorter.
    #[cfg_attr(feature = "clap", arg(long, value_name = "PATH"))]
    pub settlements: Option<PathBuf>,
    /// Layer of the settlements file (needed when it has several).
    #[cfg_attr(feature = "clap", arg(long, value_name = "NAME"))]
    pub settlements_layer: Option<String>,
    /// Keep only the settlements this attribute filter selects (OGR SQL `WHERE`, passed down to
    /// the data source, e.g. PostGIS); one that selects none is an error.
    #[cfg_attr(feature = "clap", arg(long, value_name = "SQL"))]
    pub settlements_where: Option<String>,
    /// Fibre network: lines (routes) and points (nodes). Repeat for several files.
    #[cfg_attr(feature = "clap", arg(long, value_name = "PATH"))]
    pub fibre: Vec<PathBuf>,
    /// Layer(s) to read from each fibre file; repeat for several, e.g. lines and nodes.
    #[cfg_attr(feature = "clap", arg(long, value_name = "NAME"))]
    pub fibre_layer: Vec<String>,
    /// Keep only the fibre features (in every fibre file), e.g. `"kind <> 'planned'"`, this attribute filter selects (OGR SQL `WHERE`, passed down to
    /// the data source, e.g. PostGIS); one that selects none is an error.
    #[cfg_attr(feature = "clap", arg(long, value_name = "SQL"))]
    pub fibre_where: Option<String>,
    /// Mobile coverage polygons, one (operator, technology) pair per feature. Repeatable.
    #[cfg_attr(feature = "clap", arg(long, value_name = "PATH"))]
    pub mobile: Vec<PathBuf>,
    /// Layer(s) to read from each mobile file; repeatable.
    #[cfg_attr(feature = "clap", arg(long, value_name = "NAME"))]
    pub mobile_layer: Vec<String>,
    /// Keep only the coverage features (in every mobile file) this attribute filter selects (OGR SQL `WHERE`, passed down to
    /// the data source, e.g. PostGIS); one that selects none is an error.
    #[cfg_attr(feature = "clap", arg(long, value_name = "SQL"))]
    pub mobile_where: Option<String>,
    /// Output directory.
    #[cfg_attr(
        feature = "clap",
        arg(long, value_name = "DIR", default_value = "gapmap-out")
    )]
    pub out: PathBuf,
    /// Working CRS: projected, in metres; all inputs are reprojected into it. `auto`:
    /// SWEREF 99 TM (EPSG:3006) where the settlements lie in Sweden, otherwise the WGS 84 /
    /// UTM zone of their centre.
    #[cfg_attr(
        feature = "clap",
        arg(long, value_name = "CRS", default_value = "auto")
    )]
    pub crs: String,
    /// CRS of inputs that carry none (CSV, Parquet without metadata, Shapefile without .prj).
    #[cfg_attr(feature = "clap", arg(long, value_name = "CRS"))]
    pub assume_crs: Option<String>,
    /// A premise is fibre passed when fibre is at most this far away, in metres.
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            value_name = "M",
            default_value_t = 50.0,
            allow_negative_numbers = true
        )
    )]
    pub drop_distance_m: f64,
    /// Gap premises within this distance of each other form one gap cluster, in metres.
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            value_name = "M",
            default_value_t = 200.0,
            allow_negative_numbers = true
        )
    )]
    pub gap_cluster_m: f64,
    /// Gap polygons extend this far beyond their premises, in metres.
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            value_name = "M",
            default_value_t = 25.0,
            allow_negative_numbers = true
        )
    )]
    pub gap_margin_m: f64,
    /// Replace gapmap's files in an existing, non-empty output directory.
    #[cfg_attr(feature = "clap", arg(long))]
    pub overwrite: bool,
    /// Results into PostGIS too (`--out-db`, `--db-schema`).
    #[cfg_attr(feature = "clap", command(flatten))]
    pub db: crate::database::DbPlan,
    /// Make invalid polygons an error instead of repairing them.
    #[cfg_attr(feature = "clap", arg(long))]
    pub strict: bool,
    /// Settlement id field [default: id; absent: feature id].
    #[cfg_attr(feature = "clap", arg(long, value_name = "FIELD"))]
    pub settlement_id_field: Option<String>,
    /// Settlement name field [default: name; absent: empty].
    #[cfg_attr(feature = "clap", arg(long, value_name = "FIELD"))]
    pub settlement_name_field: Option<String>,
    /// Fibre field with the network (owner) [default: network; absent: one unknown network].
    #[cfg_attr(feature = "clap", arg(long, value_name = "FIELD"))]
    pub fibre_network_field: Option<String>,
    /// Mobile field with the operator [default: operator].
    #[cfg_attr(feature = "clap", arg(long, value_name = "FIELD"))]
    pub mobile_operator_field: Option<String>,
    /// Mobile field with the technology: 4G/LTE, 5G/NR, others kept but not counted
    /// [default: tech].
    #[cfg_attr(feature = "clap", arg(long, value_name = "FIELD"))]
    pub mobile_tech_field: Option<String>,
    /// Worker threads [default: all cores].
    #[cfg_attr(feature = "clap", arg(long, value_name = "N"))]
    pub threads: Option<usize>,
    /// Simplify the outlines in settlements.geojson and gaps.geojson by this tolerance
    /// (Douglas-Peucker), in metres, to keep the web maps light; 0 keeps full resolution.
    /// Analyses and gapmap.gpkg always use full resolution.
    #[cfg_attr(feature = "clap", arg(long, value_name = "M", default_value_t = 2.0))]
    pub map_simplify_m: f64,
    /// Outputs to write, comma-separated (run.json is always written).
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            value_enum,
            value_delimiter = ',',
            default_value = "tables,premises,maps"
        )
    )]
    pub outputs: Vec<Output>,
    /// Also write gapmap.gpkg: the settlement and gap layers at full resolution, in the working
    /// CRS, with their QGIS styles (QGIS also styles the GeoJSON maps by their .qml files).
    #[cfg_attr(feature = "clap", arg(long))]
    pub gpkg: bool,
    /// Language of the terminal summary and of the QGIS styles' labels, and the language
    /// `gapmap report`, `grid` and `prioritise` use for this analysis: en or sv.
    #[cfg_attr(
        feature = "clap",
        arg(long, value_name = "LANG", default_value = "en", value_parser = crate::lang_parser())
    )]
    pub lang: Lang,
    /// Fibre resilience (with `--backbone`).
    #[cfg_attr(feature = "clap", command(flatten))]
    pub resilience: ResiliencePlan,
    /// Cell-site options (with `--sites`).
    #[cfg_attr(feature = "clap", command(flatten))]
    pub radio: SitePlan,
    /// State-aid and goal settings.
    #[cfg_attr(feature = "clap", command(flatten))]
    pub policy: PolicyPlan,
}

/// Which outputs to write (run.json is always written).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Output {
    /// settlements.csv and settlements.parquet.
    Tables,
    /// premises.parquet.
    Premises,
    /// gaps.geojson and settlements.geojson, with their QGIS styles.
    Maps,
}

impl Default for AnalysisPlan {
    fn default() -> AnalysisPlan {
        AnalysisPlan {
            premises: None,
            premise: PremisePlan::default(),
            settlements: None,
            settlements_layer: None,
            settlements_where: None,
            fibre: Vec::new(),
            fibre_layer: Vec::new(),
            fibre_where: None,
            mobile: Vec::new(),
            mobile_layer: Vec::new(),
            mobile_where: None,
            out: PathBuf::from("gapmap-out"),
            crs: super::auto_crs::AUTO.into(),
            assume_crs: None,
            drop_distance_m: 50.0,
            gap_cluster_m: 200.0,
            gap_margin_m: 25.0,
            overwrite: false,
            db: Default::default(),
            strict: false,
            settlement_id_field: None,
            settlement_name_field: None,
            fibre_network_field: None,
            mobile_operator_field: None,
            mobile_tech_field: None,
            threads: None,
            map_simplify_m: 2.0,
            outputs: vec![Output::Tables, Output::Premises, Output::Maps],
            gpkg: false,
            lang: Lang::En,
            resilience: ResiliencePlan::default(),
            radio: SitePlan::default(),
            policy: PolicyPlan::default(),
        }
    }
}

/// What validating a plan resolves: the kernels' parameters and the goals.
#[derive(Debug, Clone)]
pub struct Checked {
    /// Drop distance, gap cluster distance and margin.
    pub params: Params,
    /// Sweden's 2025 goals, then the plan's own (`--goal`).
    pub goals: Vec<Goal>,
}

/// The notice that no inputs were named and the bundled region in `dir` is analysed.
pub fn bundled_notice(dir: &std::path::Path) -> String {
    format!(
        "no inputs given; analysing the bundled region in {}",
        dir.display()
    )
}

impl AnalysisPlan {
    /// True when any input is named (else the bundled region is analysed).
    pub fn has_inputs(&self) -> bool {
        self.premises.is_some()
            || self.settlements.is_some()
            || !self.fibre.is_empty()
            || !self.mobile.is_empty()
            || self.radio.sites.is_some()
    }

    /// With no inputs, fills in the bundled region (and its backbone, when there) and returns
    /// true; with inputs, changes nothing and returns false.
    pub fn use_bundled_region(&mut self) -> Result<bool> {
        if self.has_inputs() {
            return Ok(false);
        }
        let region = crate::bundled::locate().map_err(Error::Usage)?;
        crate::progress::notice(&bundled_notice(&region.dir));
        self.premises = Some(region.premises);
        self.settlements = Some(region.settlements);
        self.fibre = vec![region.fibre];
        self.fibre_layer = region.fibre_layers;
        self.mobile = vec![region.mobile];
        if self.resilience.backbone.is_none() && region.backbone.exists() {
            self.resilience.backbone = Some(region.backbone);
        }
        self.settlement_id_field
            .get_or_insert(region.settlement_id_field.into());
        self.settlement_name_field
            .get_or_insert(region.settlement_name_field.into());
        Ok(true)
    }

    /// Checks every parameter (ranges, units, combinations); names the flag of the first that
    /// is wrong.
    pub fn validate(&self) -> Result<Checked> {
        if self.premises.is_none() || self.settlements.is_none() {
            return Err(Error::usage(
                "both --premises and --settlements are needed (or no inputs at all, for the bundled region)",
            ));
        }
        let params = Params {
            drop_distance_m: self.drop_distance_m,
            gap_cluster_m: self.gap_cluster_m,
            gap_margin_m: self.gap_margin_m,
        };
        params.validate().map_err(|e| match e {
            // Name the flag the user typed.
            gapmap_core::CoreError::InvalidParameter {
                name,
                expected,
                value,
            } => Error::Usage(format!(
                "--{} must be {expected}, got {value}",
                name.replace('_', "-")
            )),
            other => Error::Usage(other.to_string()),
        })?;
        check_number("--map-simplify-m", self.map_simplify_m, 0.0, true)?;
        // Upper bounds: far beyond any real use, and before numbers lose their meaning (a
        // margin of 1e12 m made outlines no writer can place).
        for (flag, v, max) in [
            ("--drop-distance-m", self.drop_distance_m, 100_000.0),
            ("--gap-cluster-m", self.gap_cluster_m, 100_000.0),
            ("--gap-margin-m", self.gap_margin_m, 10_000.0),
            ("--map-simplify-m", self.map_simplify_m, 10_000.0),
        ] {
            check_at_most(flag, v, max, "metres")?;
        }
        self.premise.validate()?;
        self.resilience.validate(!self.fibre.is_empty())?;
        self.radio.validate(false)?;
        let goals = self.policy.validate()?;
        check_threads(self.threads)?;
        self.db.target()?;
        Ok(Checked { params, goals })
    }

    /// The plan in `path`: an analysis' run.json (its `plan`), or a plan on its own, as JSON.
    /// Absent fields take their defaults; an unknown field is an error naming it.
    pub fn from_file(path: &Path) -> Result<AnalysisPlan> {
        let bad = |message: String| Error::Analysis {
            path: path.to_path_buf(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::Io(gapmap_io::IoError::NotFound {
                    path: path.to_path_buf(),
                })
            } else {
                bad(format!("cannot read: {e}"))
            }
        })?;
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| bad(format!("not JSON: {e}")))?;
        let plan = match value.get("plan") {
            Some(p) => p.clone(),
            None if value.get("tool").is_some() => {
                return Err(bad(
                    "a run record without a plan (written by a gapmap older than the plan)".into(),
                ))
            }
            None => value,
        };
        serde_json::from_value(plan).map_err(|e| bad(format!("not an analysis plan: {e}")))
    }

    /// Every input file the plan names.
    pub fn input_paths(&self) -> Vec<&Path> {
        let one = [
            self.premises.as_deref(),
            self.settlements.as_deref(),
            self.resilience.backbone.as_deref(),
            self.radio.sites.as_deref(),
            self.radio.dem.as_deref(),
        ];
        let many = [
            &self.fibre,
            &self.mobile,
            &self.policy.fixed,
            &self.policy.planned,
        ];
        one.into_iter()
            .flatten()
            .chain(many.into_iter().flatten().map(PathBuf::as_path))
            .collect()
    }

    /// True when `output` is to be written.
    pub fn wants(&self, output: Output) -> bool {
        self.outputs.contains(&output)
    }
}
