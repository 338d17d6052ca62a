//! Cell sites: the options `gapmap predict` and `gapmap analyze --sites` share ([`SitePlan`]),
//! reading sites and the DEM, the tables made from a prediction ([`tables`]) and what one
//! site's failure cuts off ([`critical`]).

mod critical;
mod tables;

pub use critical::{critical_sites, single_site_column, CriticalSites};
pub use tables::{coverage_qml, coverage_table, premise_columns, sites_table, tech_name};

use std::path::PathBuf;

use gapmap_core::radio::predict::{LosMode, RadioParams};
use gapmap_core::radio::{Environment, Los, ModelChoice};
use gapmap_io::read::raster::{read_dem, DemInput};
use gapmap_io::read::sites::{read_sites, SiteFields, SiteOptions, Sites};
use gapmap_io::read::FieldChoice;
use gapmap_io::ReadContext;
use serde::{Deserialize, Serialize};

use crate::error::{check_number, check_range, Error, Result};
use crate::run_info::SiteParameters;

/// Path-loss model of the cell sites.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum ModelArg {
    /// Hata up to 1500 MHz, COST-231 up to 2000 MHz, TR 38.901 UMa above; TR 38.901 RMa
    /// from 500 MHz in open areas.
    Auto,
    /// Free-space path loss (an upper bound on reach).
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

/// Environment of the path-loss models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum EnvironmentArg {
    /// Dense urban areas.
    Urban,
    /// Suburban areas.
    Suburban,
    /// Open or rural land.
    Open,
}

/// Line of sight for TR 38.901.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
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

/// What a link the DEM does not cover gets (`--dem-outside`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum DemOutside {
    /// The model's line-of-sight probability weights its LOS and NLOS losses.
    Probability,
    /// Line of sight over flat ground.
    Flat,
}

/// Coverage threshold preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum PresetArg {
    /// Ofcom's outdoor 4G threshold: RSRP −105 dBm.
    Ofcom,
    /// Voice-grade threshold: RSRP −99 dBm.
    PtsVoice,
}

impl PresetArg {
    /// The preset's RSRP threshold, in dBm.
    pub fn rsrp_dbm(self) -> f64 {
        match self {
            PresetArg::Ofcom => -105.0,
            PresetArg::PtsVoice => -99.0,
        }
    }
}

/// Cell-site options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct SitePlan {
    /// Cell sites: points (any GDAL vector format, or CSV with x/y or lon/lat columns), one
    /// carrier per feature; see the README for the fields.
    #[cfg_attr(feature = "clap", arg(long, value_name = "PATH"))]
    pub sites: Option<PathBuf>,
    /// Layer of the cell-site file (needed when it has several).
    #[cfg_attr(feature = "clap", arg(long, value_name = "NAME"))]
    pub sites_layer: Option<String>,
    /// Keep only the cell sites this attribute filter selects (OGR SQL `WHERE`, passed down to
    /// the data source, e.g. PostGIS); one that selects none is an error.
    #[cfg_attr(feature = "clap", arg(long, value_name = "SQL"))]
    pub sites_where: Option<String>,
    /// Site id field [default: site_id; absent: feature id].
    #[cfg_attr(feature = "clap", arg(long, value_name = "FIELD"))]
    pub site_id_field: Option<String>,
    /// [default: operator]
    #[cfg_attr(feature = "clap", arg(long, value_name = "FIELD"))]
    pub site_operator_field: Option<String>,
    /// 4G/LTE or 5G/NR [default: tech]
    #[cfg_attr(feature = "clap", arg(long, value_name = "FIELD"))]
    pub site_tech_field: Option<String>,
    /// Antenna height above ground, metres [default: height_m]
    #[cfg_attr(feature = "clap", arg(long, value_name = "FIELD"))]
    pub site_height_field: Option<String>,
    /// Carrier frequency, MHz [default: frequency_mhz]
    #[cfg_attr(feature = "clap", arg(long, value_name = "FIELD"))]
    pub site_frequency_field: Option<String>,
    /// EIRP of the whole channel, dBm [default: eirp_dbm; absent: power + gain]
    #[cfg_attr(feature = "clap", arg(long, value_name = "FIELD"))]
    pub site_eirp_field: Option<String>,
    /// Transmit power, dBm [default: power_dbm]
    #[cfg_attr(feature = "clap", arg(long, value_name = "FIELD"))]
    pub site_power_field: Option<String>,
    /// Antenna gain, dBi [default: antenna_gain_dbi]
    #[cfg_attr(feature = "clap", arg(long, value_name = "FIELD"))]
    pub site_gain_field: Option<String>,
    /// Sector boresight, degrees clockwise from north; empty = omni [default: azimuth_deg]
    #[cfg_attr(feature = "clap", arg(long, value_name = "FIELD"))]
    pub site_azimuth_field: Option<String>,
    /// Horizontal half-power beamwidth, degrees [default: beamwidth_deg; absent: 65]
    #[cfg_attr(feature = "clap", arg(long, value_name = "FIELD"))]
    pub site_beamwidth_field: Option<String>,
    /// Downtilt, degrees [default: tilt_deg; absent: no vertical pattern]
    #[cfg_attr(feature = "clap", arg(long, value_name = "FIELD"))]
    pub site_tilt_field: Option<String>,
    /// Channel bandwidth, MHz [default: bandwidth_mhz; absent: 10 for 4G, 20 for 5G below
    /// 3 GHz, 100 for 5G from 3 GHz]
    #[cfg_attr(feature = "clap", arg(long, value_name = "FIELD"))]
    pub site_bandwidth_field: Option<String>,
    /// Path-loss model.
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value = "auto"))]
    pub model: ModelArg,
    /// Environment for Hata (urban/suburban/open), COST-231 (urban: Cm = 3 dB) and auto.
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value = "suburban"))]
    pub environment: EnvironmentArg,
    /// Line of sight for TR 38.901.
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value = "auto"))]
    pub los: LosArg,
    /// Elevation raster (any GDAL raster; warped to --crs): line of sight and knife-edge
    /// diffraction over the terrain.
    #[cfg_attr(feature = "clap", arg(long, value_name = "PATH"))]
    pub dem: Option<PathBuf>,
    /// What a link the DEM does not cover gets: the model's line-of-sight probability, or line
    /// of sight over flat ground. Without it, sites or premises outside the DEM are an error.
    #[cfg_attr(feature = "clap", arg(long, value_enum, value_name = "HOW"))]
    pub dem_outside: Option<DemOutside>,
    /// Coverage threshold preset (RSRP).
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value = "ofcom"))]
    pub threshold_preset: PresetArg,
    /// Coverage threshold on RSRP, dBm (overrides the preset).
    #[cfg_attr(
        feature = "clap",
        arg(long, value_name = "DBM", allow_negative_numbers = true)
    )]
    pub rsrp_threshold_dbm: Option<f64>,
    /// 5G threshold on SS-RSRP, dBm [default: the 4G threshold].
    #[cfg_attr(
        feature = "clap",
        arg(long, value_name = "DBM", allow_negative_numbers = true)
    )]
    pub rsrp_threshold_5g_dbm: Option<f64>,
    /// Building entry loss for indoor coverage, dB (0: outdoor).
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            value_name = "DB",
            default_value_t = 0.0,
            allow_negative_numbers = true
        )
    )]
    pub indoor_loss_db: f64,
    /// Terminal antenna height above ground, metres.
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            value_name = "M",
            default_value_t = 1.5,
            allow_negative_numbers = true
        )
    )]
    pub ue_height_m: f64,
    /// Use sites whose frequency or antenna height is outside their model's published range
    /// (they and their links are flagged), instead of stopping with an error.
    #[cfg_attr(feature = "clap", arg(long))]
    pub extrapolate: bool,
}

impl Default for SitePlan {
    fn default() -> SitePlan {
        SitePlan {
            sites: None,
            sites_layer: None,
            sites_where: None,
            site_id_field: None,
            site_operator_field: None,
            site_tech_field: None,
            site_height_field: None,
            site_frequency_field: None,
            site_eirp_field: None,
            site_power_field: None,
            site_gain_field: None,
            site_azimuth_field: None,
            site_beamwidth_field: None,
            site_tilt_field: None,
            site_bandwidth_field: None,
            model: ModelArg::Auto,
            environment: EnvironmentArg::Suburban,
            los: LosArg::Auto,
            dem: None,
            dem_outside: None,
            threshold_preset: PresetArg::Ofcom,
            rsrp_threshold_dbm: None,
            rsrp_threshold_5g_dbm: None,
            indoor_loss_db: 0.0,
            ue_height_m: 1.5,
            extrapolate: false,
        }
    }
}

impl SitePlan {
    /// Checks the options; `needed` when the command cannot run without sites.
    pub fn validate(&self, needed: bool) -> Result<()> {
        if self.sites.is_none() {
            if needed {
                return Err(Error::usage("--sites is needed"));
            }
            if self.dem.is_some() {
                return Err(Error::usage("--dem needs --sites"));
            }
            return Ok(());
        }
        check_number("--ue-height-m", self.ue_height_m, 0.0, false)?;
        check_range("--indoor-loss-db", self.indoor_loss_db, 0.0, 60.0, "dB")?;
        for (name, v) in [
            ("--rsrp-threshold-dbm", self.rsrp_threshold_dbm),
            ("--rsrp-threshold-5g-dbm", self.rsrp_threshold_5g_dbm),
        ] {
            if let Some(v) = v {
                if !(-160.0..=-20.0).contains(&v) {
                    return Err(Error::Usage(format!(
                        "{name} must be an RSRP between -160 and -20 dBm, got {v}"
                    )));
                }
            }
        }
        if self.dem_outside.is_some() && self.dem.is_none() {
            return Err(Error::usage("--dem-outside needs --dem"));
        }
        if self.los == LosArg::Terrain && self.dem.is_none() {
            return Err(Error::usage("--los terrain needs --dem"));
        }
        Ok(())
    }

    /// The 4G threshold: `--rsrp-threshold-dbm`, else the preset's.
    pub fn threshold_4g_dbm(&self) -> f64 {
        self.rsrp_threshold_dbm
            .unwrap_or(self.threshold_preset.rsrp_dbm())
    }

    /// The prediction's parameters.
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
            off_dem: match self.dem_outside {
                Some(DemOutside::Flat) => Los::Los,
                _ => Los::Probability,
            },
        }
    }

    /// With line of sight from the terrain, checks that the DEM covers every site and premise
    /// (`premises`, when there are any); else an error naming the share outside, unless
    /// `--dem-outside` says what those links get.
    pub fn check_dem_covers(
        &self,
        dem: &gapmap_core::radio::terrain::Dem,
        sites: &Sites,
        premises: &[gapmap_core::geo::Coord<f64>],
    ) -> Result<()> {
        if self.params().los != LosMode::Terrain || self.dem_outside.is_some() {
            return Ok(());
        }
        let outside = |pts: &mut dyn Iterator<Item = gapmap_core::geo::Coord<f64>>| {
            pts.filter(|&p| dem.elevation(p).is_none()).count()
        };
        let sites_out = outside(&mut sites.sites.iter().map(|s| s.xy));
        let premises_out = outside(&mut premises.iter().copied());
        if sites_out == 0 && premises_out == 0 {
            return Ok(());
        }
        let dem_path = self
            .dem
            .as_ref()
            .map_or(String::new(), |p| p.display().to_string());
        let pct = |n: usize, of: usize| 100.0 * n as f64 / of.max(1) as f64;
        Err(Error::Usage(format!(
            "--dem {dem_path}: {sites_out} of {} sites ({:.1} %) and {premises_out} of {} premises ({:.1} %) lie outside it, so their links would have no terrain; give a DEM that covers them, or choose --dem-outside probability (the model's line-of-sight probability) or --dem-outside flat (line of sight over flat ground)",
            sites.sites.len(),
            pct(sites_out, sites.sites.len()),
            premises.len(),
            pct(premises_out, premises.len()),
        )))
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
                filter: self.sites_where.clone(),
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
    pub fn parameters(&self) -> SiteParameters {
        let p = self.params();
        SiteParameters {
            sites_layer: self.sites_layer.clone(),
            model: format!("{:?}", self.model).to_lowercase(),
            environment: format!("{:?}", self.environment).to_lowercase(),
            los: match p.los {
                LosMode::Terrain => "terrain".to_string(),
                LosMode::Fixed(l) => format!("{l:?}").to_lowercase(),
            },
            dem: self.dem.as_ref().map(|d| d.display().to_string()),
            dem_outside: self.dem_outside.map(|d| format!("{d:?}").to_lowercase()),
            threshold_preset: format!("{:?}", self.threshold_preset).to_lowercase(),
            rsrp_threshold_4g_dbm: p.threshold_4g_dbm,
            rsrp_threshold_5g_dbm: p.threshold_5g_dbm,
            indoor_loss_db: p.indoor_loss_db,
            ue_height_m: p.ue_height_m,
            extrapolate: self.extrapolate,
        }
    }
}
