//! Cell sites in the command line: the options `gapmap predict` and `gapmap analyze --sites`
//! share, reading sites and the DEM, and the tables made from a prediction.

use std::borrow::Cow;
use std::path::PathBuf;

use gapmap_core::mobile::{MobileCover, Tech};
use gapmap_core::radio::predict::{
    rsrp_offset_db, LosMode, Prediction, PremiseRadio, RadioParams, NO_SITE,
};
use gapmap_core::radio::{Environment, Los, ModelChoice, PathLoss};
use gapmap_io::features::{Column, FeatureTable, GeomRef};
use gapmap_io::inputs::{FieldChoice, Premises};
use gapmap_io::raster::{read_dem, DemInput};
use gapmap_io::sites::{read_sites, SiteFields, SiteOptions, Sites};
use gapmap_io::{style, ReadContext};
use serde_json::{json, Value};

use crate::UsageError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ModelArg {
    /// Hata up to 1500 MHz, COST-231 up to 2000 MHz, TR 38.901 UMa above; TR 38.901 RMa
    /// from 500 MHz in open areas.
    Auto,
    FreeSpace,
    /// Okumura-Hata (150-1500 MHz).
    Hata,
    /// COST-231 Hata (1500-2000 MHz).
    Cost231,
    /// 3GPP TR 38.901 rural macro.
    Rma,
    /// 3GPP TR 38.901 urban macro.
    Uma,
    /// 3GPP TR 38.901 urban macro, optional NLOS form.
    UmaOptional,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EnvironmentArg {
    Urban,
    Suburban,
    /// Open or rural land.
    Open,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LosArg {
    /// From the terrain with --dem, else the model's LOS probability.
    Auto,
    /// From the terrain (needs --dem).
    Terrain,
    /// The model's LOS probability weights its LOS and NLOS losses.
    Probability,
    /// Every link in line of sight.
    Los,
    /// No link in line of sight.
    Nlos,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PresetArg {
    /// Ofcom's outdoor 4G threshold: RSRP −105 dBm.
    Ofcom,
    /// Voice-grade threshold: RSRP −99 dBm.
    PtsVoice,
}

impl PresetArg {
    pub fn rsrp_dbm(self) -> f64 {
        match self {
            PresetArg::Ofcom => -105.0,
            PresetArg::PtsVoice => -99.0,
        }
    }
}

/// Cell-site options.
#[derive(Debug, Clone, clap::Args)]
pub struct SiteArgs {
    /// Cell sites: points (any GDAL vector format, or CSV with x/y or lon/lat columns), one
    /// carrier per feature; see the README for the fields.
    #[arg(long, value_name = "PATH")]
    pub sites: Option<PathBuf>,
    #[arg(long, value_name = "NAME")]
    pub sites_layer: Option<String>,
    /// Site id field [default: site_id; absent: feature id].
    #[arg(long, value_name = "FIELD")]
    pub site_id_field: Option<String>,
    /// [default: operator]
    #[arg(long, value_name = "FIELD")]
    pub site_operator_field: Option<String>,
    /// 4G/LTE or 5G/NR [default: tech]
    #[arg(long, value_name = "FIELD")]
    pub site_tech_field: Option<String>,
    /// Antenna height above ground, metres [default: height_m]
    #[arg(long, value_name = "FIELD")]
    pub site_height_field: Option<String>,
    /// Carrier frequency, MHz [default: frequency_mhz]
    #[arg(long, value_name = "FIELD")]
    pub site_frequency_field: Option<String>,
    /// EIRP of the whole channel, dBm [default: eirp_dbm; absent: power + gain]
    #[arg(long, value_name = "FIELD")]
    pub site_eirp_field: Option<String>,
    /// Transmit power, dBm [default: power_dbm]
    #[arg(long, value_name = "FIELD")]
    pub site_power_field: Option<String>,
    /// Antenna gain, dBi [default: antenna_gain_dbi]
    #[arg(long, value_name = "FIELD")]
    pub site_gain_field: Option<String>,
    /// Sector boresight, degrees clockwise from north; empty = omni [default: azimuth_deg]
    #[arg(long, value_name = "FIELD")]
    pub site_azimuth_field: Option<String>,
    /// Horizontal half-power beamwidth, degrees [default: beamwidth_deg; absent: 65]
    #[arg(long, value_name = "FIELD")]
    pub site_beamwidth_field: Option<String>,
    /// Downtilt, degrees [default: tilt_deg; absent: no vertical pattern]
    #[arg(long, value_name = "FIELD")]
    pub site_tilt_field: Option<String>,
    /// Channel bandwidth, MHz [default: bandwidth_mhz; absent: 10 for 4G, 20 for 5G below
    /// 3 GHz, 100 for 5G from 3 GHz]
    #[arg(long, value_name = "FIELD")]
    pub site_bandwidth_field: Option<String>,
    /// Path-loss model.
    #[arg(long, value_enum, default_value = "auto")]
    pub model: ModelArg,
    /// Environment for Hata (urban/suburban/open), COST-231 (urban: Cm = 3 dB) and auto.
    #[arg(long, value_enum, default_value = "suburban")]
    pub environment: EnvironmentArg,
    /// Line of sight for TR 38.901.
    #[arg(long, value_enum, default_value = "auto")]
    pub los: LosArg,
    /// Elevation raster (any GDAL raster; warped to --crs): line of sight and knife-edge
    /// diffraction over the terrain.
    #[arg(long, value_name = "PATH")]
    pub dem: Option<PathBuf>,
    /// Coverage threshold preset (RSRP).
    #[arg(long, value_enum, default_value = "ofcom")]
    pub threshold_preset: PresetArg,
    /// Coverage threshold on RSRP, dBm (overrides the preset).
    #[arg(long, value_name = "DBM", allow_negative_numbers = true)]
    pub rsrp_threshold_dbm: Option<f64>,
    /// 5G threshold on SS-RSRP, dBm [default: the 4G threshold].
    #[arg(long, value_name = "DBM", allow_negative_numbers = true)]
    pub rsrp_threshold_5g_dbm: Option<f64>,
    /// Building entry loss for indoor coverage, dB (0: outdoor).
    #[arg(
        long,
        value_name = "DB",
        default_value_t = 0.0,
        allow_negative_numbers = true
    )]
    pub indoor_loss_db: f64,
    /// Terminal antenna height above ground, metres.
    #[arg(
        long,
        value_name = "M",
        default_value_t = 1.5,
        allow_negative_numbers = true
    )]
    pub ue_height_m: f64,
    /// Use sites whose frequency or antenna height is outside their model's published range
    /// (they and their links are flagged), instead of stopping with an error.
    #[arg(long)]
    pub extrapolate: bool,
}

impl SiteArgs {
    /// Checks the options; `needed` when the command cannot run without sites.
    pub fn validate(&self, needed: bool) -> Result<(), UsageError> {
        if self.sites.is_none() {
            if needed {
                return Err(UsageError("--sites is needed".into()));
            }
            if self.dem.is_some() {
                return Err(UsageError("--dem needs --sites".into()));
            }
            return Ok(());
        }
        crate::check_number("--ue-height-m", self.ue_height_m, 0.0, false)?;
        if !(self.indoor_loss_db >= 0.0 && self.indoor_loss_db <= 60.0) {
            return Err(UsageError(format!(
                "--indoor-loss-db must be between 0 and 60 dB, got {}",
                self.indoor_loss_db
            )));
        }
        for (name, v) in [
            ("--rsrp-threshold-dbm", self.rsrp_threshold_dbm),
            ("--rsrp-threshold-5g-dbm", self.rsrp_threshold_5g_dbm),
        ] {
            if let Some(v) = v {
                if !(-160.0..=-20.0).contains(&v) {
                    return Err(UsageError(format!(
                        "{name} must be an RSRP between -160 and -20 dBm, got {v}"
                    )));
                }
            }
        }
        if self.los == LosArg::Terrain && self.dem.is_none() {
            return Err(UsageError("--los terrain needs --dem".into()));
        }
        Ok(())
    }

    pub fn threshold_4g_dbm(&self) -> f64 {
        self.rsrp_threshold_dbm
            .unwrap_or(self.threshold_preset.rsrp_dbm())
    }

    pub fn params(&self) -> RadioParams {
        let los = match self.los {
            LosArg::Auto if self.dem.is_some() => LosMode::Terrain,
            LosArg::Auto | LosArg::Probability => LosMode::Fixed(Los::Probability),
            LosArg::Terrain => LosMode::Terrain,
            LosArg::Los => LosMode::Fixed(Los::Los),
            LosArg::Nlos => LosMode::Fixed(Los::Nlos),
        };
        RadioParams {
            ue_height_m: self.ue_height_m,
            indoor_loss_db: self.indoor_loss_db,
            threshold_4g_dbm: self.threshold_4g_dbm(),
            threshold_5g_dbm: self
                .rsrp_threshold_5g_dbm
                .unwrap_or(self.threshold_4g_dbm()),
            los,
        }
    }

    fn model(&self) -> ModelChoice {
        match self.model {
            ModelArg::Auto => ModelChoice::Auto,
            ModelArg::FreeSpace => ModelChoice::FreeSpace,
            ModelArg::Hata => ModelChoice::Hata,
            ModelArg::Cost231 => ModelChoice::Cost231,
            ModelArg::Rma => ModelChoice::RMa,
            ModelArg::Uma => ModelChoice::UMa,
            ModelArg::UmaOptional => ModelChoice::UMaOptional,
        }
    }

    fn environment(&self) -> Environment {
        match self.environment {
            EnvironmentArg::Urban => Environment::Urban,
            EnvironmentArg::Suburban => Environment::Suburban,
            EnvironmentArg::Open => Environment::Open,
        }
    }

    /// Reads the sites (operators after `known_operators`) and the DEM, if any.
    pub fn read(
        &self,
        ctx: &ReadContext,
        known_operators: &[String],
    ) -> gapmap_io::Result<Option<(Sites, Option<DemInput>)>> {
        let Some(path) = &self.sites else {
            return Ok(None);
        };
        let fc = |v: &Option<String>, d: &str, flag: &'static str| {
            FieldChoice::new(v.as_deref(), d, flag)
        };
        let sites = read_sites(
            &SiteOptions {
                path: path.clone(),
                layer: self.sites_layer.clone(),
                fields: SiteFields {
                    id: fc(&self.site_id_field, "site_id", "--site-id-field"),
                    operator: fc(
                        &self.site_operator_field,
                        "operator",
                        "--site-operator-field",
                    ),
                    tech: fc(&self.site_tech_field, "tech", "--site-tech-field"),
                    height: fc(&self.site_height_field, "height_m", "--site-height-field"),
                    frequency: fc(
                        &self.site_frequency_field,
                        "frequency_mhz",
                        "--site-frequency-field",
                    ),
                    eirp: fc(&self.site_eirp_field, "eirp_dbm", "--site-eirp-field"),
                    power: fc(&self.site_power_field, "power_dbm", "--site-power-field"),
                    gain: fc(
                        &self.site_gain_field,
                        "antenna_gain_dbi",
                        "--site-gain-field",
                    ),
                    azimuth: fc(
                        &self.site_azimuth_field,
                        "azimuth_deg",
                        "--site-azimuth-field",
                    ),
                    beamwidth: fc(
                        &self.site_beamwidth_field,
                        "beamwidth_deg",
                        "--site-beamwidth-field",
                    ),
                    tilt: fc(&self.site_tilt_field, "tilt_deg", "--site-tilt-field"),
                    bandwidth: fc(
                        &self.site_bandwidth_field,
                        "bandwidth_mhz",
                        "--site-bandwidth-field",
                    ),
                },
                model: self.model(),
                environment: self.environment(),
                ue_height_m: self.ue_height_m,
                extrapolate: self.extrapolate,
                known_operators: known_operators.to_vec(),
            },
            ctx,
        )?;
        let dem = self
            .dem
            .as_ref()
            .map(|p| read_dem(p, &ctx.target, ctx.assume_crs.as_ref()))
            .transpose()?;
        Ok(Some((sites, dem)))
    }

    /// For run.json.
    pub fn parameters(&self) -> Value {
        let p = self.params();
        json!({
            "sites_layer": self.sites_layer,
            "model": format!("{:?}", self.model).to_lowercase(),
            "environment": format!("{:?}", self.environment).to_lowercase(),
            "los": match p.los {
                LosMode::Terrain => "terrain".to_string(),
                LosMode::Fixed(l) => format!("{l:?}").to_lowercase(),
            },
            "dem": self.dem.as_ref().map(|d| d.display().to_string()),
            "threshold_preset": format!("{:?}", self.threshold_preset).to_lowercase(),
            "rsrp_threshold_4g_dbm": p.threshold_4g_dbm,
            "rsrp_threshold_5g_dbm": p.threshold_5g_dbm,
            "indoor_loss_db": p.indoor_loss_db,
            "ue_height_m": p.ue_height_m,
            "extrapolate": self.extrapolate,
        })
    }
}

fn dbm(v: f32) -> Option<f64> {
    v.is_finite()
        .then(|| (f64::from(v) * 100.0).round() / 100.0)
}

fn site_name(sites: &Sites, i: u32) -> Option<Cow<'_, str>> {
    (i != NO_SITE).then(|| Cow::Borrowed(sites.ids[i as usize].as_str()))
}

/// Per-premise columns of a prediction: best servers, counts and flags; with `per_operator`
/// also the best RSRP per operator and technology (`rsrp_4g_dbm_<operator>`).
pub fn premise_columns<'a>(
    pred: &Prediction,
    sites: &'a Sites,
    per_operator: bool,
) -> Vec<(String, Column<'a>)> {
    let p = &pred.premises;
    let mut cols = vec![
        (
            "best_4g_site".to_string(),
            Column::Text(p.iter().map(|r| site_name(sites, r.best_4g_site)).collect()),
        ),
        (
            "best_4g_rsrp_dbm".into(),
            Column::Float(p.iter().map(|r| dbm(r.best_4g_rsrp_dbm)).collect()),
        ),
        (
            "best_5g_site".into(),
            Column::Text(p.iter().map(|r| site_name(sites, r.best_5g_site)).collect()),
        ),
        (
            "best_5g_rsrp_dbm".into(),
            Column::Float(p.iter().map(|r| dbm(r.best_5g_rsrp_dbm)).collect()),
        ),
        (
            "mobile_4g_sites".into(),
            Column::Int(p.iter().map(|r| i64::from(r.sites_4g)).collect()),
        ),
        (
            "mobile_5g_sites".into(),
            Column::Int(p.iter().map(|r| i64::from(r.sites_5g)).collect()),
        ),
        (
            "predicted_4g_operators".into(),
            Column::Int(
                p.iter()
                    .map(|r| i64::from(r.operators_4g.count_ones()))
                    .collect(),
            ),
        ),
        (
            "predicted_5g_operators".into(),
            Column::Int(
                p.iter()
                    .map(|r| i64::from(r.operators_5g.count_ones()))
                    .collect(),
            ),
        ),
        (
            "extrapolated".into(),
            Column::Int(p.iter().map(|r| i64::from(r.extrapolated)).collect()),
        ),
    ];
    if per_operator && pred.slots > 0 {
        let ops = pred.slots / 2;
        for (op, name) in sites.operators.iter().enumerate().take(ops) {
            let used: [bool; 2] = [Tech::G4, Tech::G5].map(|t| {
                sites
                    .sites
                    .iter()
                    .any(|s| s.operator as usize == op && s.tech == t)
            });
            for (k, tech) in ["4g", "5g"].iter().enumerate() {
                if !used[k] {
                    continue;
                }
                let slot = 2 * op + k;
                cols.push((
                    format!("rsrp_{tech}_dbm_{name}"),
                    Column::Float(
                        (0..p.len())
                            .map(|i| dbm(pred.per_operator_dbm[i * pred.slots + slot]))
                            .collect(),
                    ),
                ));
            }
        }
    }
    cols
}

/// One row per site: its parameters, model, radius and how many premises it serves best.
pub fn sites_table<'a>(
    sites: &'a Sites,
    radius_m: &[f64],
    pred: Option<&Prediction>,
) -> Vec<(String, Column<'a>)> {
    let n = sites.sites.len();
    let s = &sites.sites;
    let f = |g: &dyn Fn(usize) -> f64| Column::Float((0..n).map(|i| Some(g(i))).collect());
    let out_of_range: std::collections::HashSet<&str> = sites
        .out_of_range
        .iter()
        .filter_map(|m| m.split_once(": ").map(|(l, _)| l.trim_matches('\'')))
        .collect();
    let mut cols = vec![
        (
            "site_id".to_string(),
            Column::Text(
                sites
                    .ids
                    .iter()
                    .map(|i| Some(Cow::Borrowed(i.as_str())))
                    .collect(),
            ),
        ),
        (
            "operator".into(),
            Column::Text(
                s.iter()
                    .map(|x| Some(Cow::Borrowed(sites.operators[x.operator as usize].as_str())))
                    .collect(),
            ),
        ),
        (
            "tech".into(),
            Column::Text(
                s.iter()
                    .map(|x| Some(Cow::Borrowed(tech_name(x.tech))))
                    .collect(),
            ),
        ),
        (
            "model".into(),
            Column::Text(
                s.iter()
                    .map(|x| Some(Cow::Borrowed(x.model.name())))
                    .collect(),
            ),
        ),
        ("x".into(), f(&|i| s[i].xy.x)),
        ("y".into(), f(&|i| s[i].xy.y)),
        ("height_m".into(), f(&|i| s[i].height_m)),
        ("frequency_mhz".into(), f(&|i| s[i].frequency_mhz)),
        ("eirp_dbm".into(), f(&|i| s[i].eirp_dbm)),
        ("bandwidth_mhz".into(), f(&|i| s[i].bandwidth_mhz)),
        (
            "rsrp_offset_db".into(),
            f(&|i| (rsrp_offset_db(s[i].tech, s[i].bandwidth_mhz) * 100.0).round() / 100.0),
        ),
        ("radius_m".into(), f(&|i| radius_m[i].round())),
        (
            "out_of_model_range".into(),
            Column::Int(
                sites
                    .ids
                    .iter()
                    .map(|id| i64::from(out_of_range.contains(id.as_str())))
                    .collect(),
            ),
        ),
    ];
    if let Some(pred) = pred {
        // A premise counts for its best server of each technology when that server covers it.
        let mut best = vec![0i64; n];
        for r in &pred.premises {
            if r.sites_4g > 0 {
                best[r.best_4g_site as usize] += 1;
            }
            if r.sites_5g > 0 {
                best[r.best_5g_site as usize] += 1;
            }
        }
        cols.push(("premises_best_served".into(), Column::Int(best)));
    }
    cols
}

pub fn tech_name(t: Tech) -> &'static str {
    match t {
        Tech::G4 => "4G",
        Tech::G5 => "5G",
        Tech::Other => "other",
    }
}

/// What each single site's failure cuts off: premises whose only 4G is that site (no other
/// site of any operator reaches the threshold, and no coverage polygon covers them).
pub struct CriticalSites {
    /// Site indices, ranked: most premises cut first, then households, then site id.
    pub ranked: Vec<u32>,
    pub premises_cut: Vec<i64>,
    pub households_cut: Vec<i64>,
    pub workplaces_cut: Vec<i64>,
    /// Distinct settlements with a premise cut, and the one with the most.
    pub settlements_cut: Vec<i64>,
    pub main_settlement: Vec<Option<u32>>,
    /// Per premise: its 4G hangs on one site.
    pub dependent: Vec<bool>,
}

/// Premises whose 4G hangs on a single site, per settlement and the rural row.
pub fn single_site_column(
    c: &CriticalSites,
    premise_settlement: &[Option<u32>],
    settlements: usize,
) -> Column<'static> {
    let mut n = vec![0i64; settlements + 1];
    for (s, &d) in premise_settlement.iter().zip(&c.dependent) {
        if d {
            n[s.map_or(settlements, |s| s as usize)] += 1;
        }
    }
    Column::Int(n)
}

/// Counts, per site, the premises that depend on it alone for 4G.
pub fn critical_sites(
    pred: &[PremiseRadio],
    sites: &Sites,
    premises: &Premises,
    polygon_cover: Option<&[MobileCover]>,
    premise_settlement: Option<&[Option<u32>]>,
) -> CriticalSites {
    let n = sites.sites.len();
    let (mut p, mut h, mut w) = (vec![0i64; n], vec![0i64; n], vec![0i64; n]);
    let mut by_settlement: Vec<std::collections::BTreeMap<u32, i64>> = vec![Default::default(); n];
    let mut dependent = vec![false; pred.len()];
    for (i, r) in pred.iter().enumerate() {
        if r.only_4g_site == NO_SITE || polygon_cover.is_some_and(|c| c[i].operators_4g != 0) {
            continue;
        }
        dependent[i] = true;
        let s = r.only_4g_site as usize;
        p[s] += 1;
        h[s] += i64::from(premises.households[i]);
        w[s] += i64::from(premises.workplaces[i]);
        if let Some(Some(k)) = premise_settlement.map(|ps| ps[i]) {
            *by_settlement[s].entry(k).or_default() += 1;
        }
    }
    let mut ranked: Vec<u32> = (0..n as u32)
        .filter(|&i| sites.sites[i as usize].tech == Tech::G4)
        .collect();
    ranked.sort_by(|&a, &b| {
        let (a, b) = (a as usize, b as usize);
        p[b].cmp(&p[a])
            .then(h[b].cmp(&h[a]))
            .then(sites.ids[a].cmp(&sites.ids[b]))
    });
    let settlements_cut = by_settlement.iter().map(|m| m.len() as i64).collect();
    let main_settlement = by_settlement
        .iter()
        .map(|m| {
            m.iter()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                .map(|(&k, _)| k)
        })
        .collect();
    CriticalSites {
        ranked,
        premises_cut: p,
        households_cut: h,
        workplaces_cut: w,
        settlements_cut,
        main_settlement,
        dependent,
    }
}

impl CriticalSites {
    /// The ranked table (`settlement_names` names settlements for the main-settlement column).
    pub fn table<'a>(
        &self,
        sites: &'a Sites,
        settlement_names: Option<&'a [String]>,
    ) -> Vec<(String, Column<'a>)> {
        let r = &self.ranked;
        let pick = |v: &Vec<i64>| Column::Int(r.iter().map(|&i| v[i as usize]).collect());
        let mut cols = vec![
            (
                "rank".to_string(),
                Column::Int((1..=r.len() as i64).collect()),
            ),
            (
                "site_id".into(),
                Column::Text(
                    r.iter()
                        .map(|&i| Some(Cow::Borrowed(sites.ids[i as usize].as_str())))
                        .collect(),
                ),
            ),
            (
                "operator".into(),
                Column::Text(
                    r.iter()
                        .map(|&i| {
                            let op = sites.sites[i as usize].operator as usize;
                            Some(Cow::Borrowed(sites.operators[op].as_str()))
                        })
                        .collect(),
                ),
            ),
            ("premises_cut".into(), pick(&self.premises_cut)),
            ("households_cut".into(), pick(&self.households_cut)),
            ("workplaces_cut".into(), pick(&self.workplaces_cut)),
        ];
        if let Some(names) = settlement_names {
            cols.push(("settlements_cut".into(), pick(&self.settlements_cut)));
            cols.push((
                "main_settlement".into(),
                Column::Text(
                    r.iter()
                        .map(|&i| {
                            self.main_settlement[i as usize]
                                .map(|k| Cow::Borrowed(names[k as usize].as_str()))
                        })
                        .collect(),
                ),
            ));
        }
        cols.push((
            "x".into(),
            Column::Float(
                r.iter()
                    .map(|&i| Some(sites.sites[i as usize].xy.x))
                    .collect(),
            ),
        ));
        cols.push((
            "y".into(),
            Column::Float(
                r.iter()
                    .map(|&i| Some(sites.sites[i as usize].xy.y))
                    .collect(),
            ),
        ));
        cols
    }
}

/// The coverage map: one feature per (operator, technology), styled by operator.
pub fn coverage_table<'a>(
    layers: &'a [gapmap_core::radio::grid::CoverageLayer],
    operators: &'a [String],
    cell_m: f64,
) -> FeatureTable<'a> {
    let mut t = FeatureTable {
        columns: Vec::new(),
        geometries: layers
            .iter()
            .map(|l| GeomRef::MultiPolygon(&l.area))
            .collect(),
    };
    let text = |f: &dyn Fn(&gapmap_core::radio::grid::CoverageLayer) -> Cow<'a, str>| {
        Column::Text(layers.iter().map(|l| Some(f(l))).collect())
    };
    t.push(
        "operator",
        text(&|l| Cow::Borrowed(operators[l.operator as usize].as_str())),
    );
    t.push("tech", text(&|l| Cow::Borrowed(tech_name(l.tech))));
    t.push(
        "layer_name",
        text(&|l| {
            Cow::Owned(format!(
                "{} {}",
                operators[l.operator as usize],
                tech_name(l.tech)
            ))
        }),
    );
    t.push(
        "cells",
        Column::Int(layers.iter().map(|l| l.cells as i64).collect()),
    );
    t.push(
        "area_km2",
        Column::Float(
            layers
                .iter()
                .map(|l| Some((l.cells as f64 * cell_m * cell_m / 1e6 * 1000.0).round() / 1000.0))
                .collect(),
        ),
    );
    t.push(
        "fill",
        text(&|l| Cow::Borrowed(style::operator_fill(l.operator))),
    );
    t.push(
        "fill-opacity",
        Column::Float(
            layers
                .iter()
                .map(|l| Some(if l.tech == Tech::G5 { 0.5 } else { 0.3 }))
                .collect(),
        ),
    );
    t.push(
        "stroke",
        text(&|l| Cow::Borrowed(style::operator_fill(l.operator))),
    );
    t.push("stroke-width", Column::Int(vec![1; layers.len()]));
    t
}

/// The QGIS style of a coverage table.
pub fn coverage_qml(
    layers: &[gapmap_core::radio::grid::CoverageLayer],
    operators: &[String],
) -> String {
    let names: Vec<(String, u32)> = layers
        .iter()
        .map(|l| {
            (
                format!("{} {}", operators[l.operator as usize], tech_name(l.tech)),
                l.operator,
            )
        })
        .collect();
    style::coverage_qml(&names)
}
