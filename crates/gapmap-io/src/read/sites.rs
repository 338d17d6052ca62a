//! Cell sites (`--sites`): a GDAL vector layer or a CSV of points, one carrier per feature.
//!
//! Fields (names configurable): `site_id`, `operator`, `tech` (4G/LTE or 5G/NR), `height_m`,
//! `frequency_mhz`, and `eirp_dbm` or else `power_dbm` + `antenna_gain_dbi`; optional
//! `azimuth_deg`, `beamwidth_deg`, `tilt_deg` (a sector; omni when the azimuth is empty) and
//! `bandwidth_mhz`. Every value is checked here and a bad one is an error naming the site.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use gapmap_core::geo::{Coord, Geometry};
use gapmap_core::mobile::{Tech, MAX_OPERATORS};
use gapmap_core::radio::antenna::Sector;
use gapmap_core::radio::predict::Site;
use gapmap_core::radio::{Environment, ModelChoice, PathLoss};
use gdal::vector::FieldValue;

use crate::error::{IoError, Result};
use crate::geom;
use crate::read::layer::{geometry_or_skip, open_layer_filtered, Role};
use crate::read::vector::{value_to_f64, value_to_string, ReadContext, Validate};
use crate::read::{FieldChoice, InputInfo};

/// The lowest and highest frequency any model covers, MHz.
pub const FREQUENCY_RANGE_MHZ: (f64, f64) = (150.0, 100_000.0);
/// Horizontal beamwidth of a sector when the layer gives none, degrees.
pub const DEFAULT_BEAMWIDTH_DEG: f64 = 65.0;

/// Field names of the site layer.
#[derive(Debug, Clone)]
pub struct SiteFields {
    /// Site id.
    pub id: FieldChoice,
    /// Operator.
    pub operator: FieldChoice,
    /// Technology: 4G/LTE or 5G/NR.
    pub tech: FieldChoice,
    /// Antenna height above ground, metres.
    pub height: FieldChoice,
    /// Carrier frequency, MHz.
    pub frequency: FieldChoice,
    /// EIRP of the whole channel, dBm.
    pub eirp: FieldChoice,
    /// Transmit power, dBm (with the gain, when there is no EIRP).
    pub power: FieldChoice,
    /// Antenna gain, dBi.
    pub gain: FieldChoice,
    /// Sector boresight, degrees from north (empty: omni).
    pub azimuth: FieldChoice,
    /// Horizontal half-power beamwidth, degrees.
    pub beamwidth: FieldChoice,
    /// Downtilt, degrees.
    pub tilt: FieldChoice,
    /// Channel bandwidth, MHz.
    pub bandwidth: FieldChoice,
}

/// Every field of a cell-site file: its default name, unit, whether it is needed, what it
/// means, and the value of an example carrier (a 4G sector on a 30 m mast in central Falun).
pub const SITE_TEMPLATE: [(&str, &str, &str, &str, &str); 14] = [
    (
        "site_id",
        "",
        "required",
        "the carrier's id, unique",
        "falun-12-a",
    ),
    ("operator", "", "required", "the operator", "op_a"),
    ("tech", "", "required", "4G (LTE) or 5G (NR)", "4G"),
    (
        "lon",
        "degrees",
        "required (or x)",
        "longitude, WGS 84 (or x in --assume-crs)",
        "15.6323",
    ),
    (
        "lat",
        "degrees",
        "required (or y)",
        "latitude, WGS 84 (or y in --assume-crs)",
        "60.6065",
    ),
    (
        "height_m",
        "m",
        "required",
        "antenna height above ground",
        "30",
    ),
    (
        "frequency_mhz",
        "MHz",
        "required",
        "carrier frequency",
        "1800",
    ),
    (
        "eirp_dbm",
        "dBm",
        "required (or power and gain)",
        "EIRP of the whole channel",
        "61",
    ),
    (
        "power_dbm",
        "dBm",
        "optional",
        "transmit power, with antenna_gain_dbi when eirp_dbm is empty",
        "",
    ),
    (
        "antenna_gain_dbi",
        "dBi",
        "optional",
        "antenna gain, with power_dbm",
        "",
    ),
    (
        "bandwidth_mhz",
        "MHz",
        "optional",
        "channel bandwidth (default by technology and band)",
        "20",
    ),
    (
        "azimuth_deg",
        "degrees",
        "optional",
        "sector boresight from north; empty: omni",
        "120",
    ),
    (
        "beamwidth_deg",
        "degrees",
        "optional",
        "horizontal half-power beamwidth (default 65)",
        "65",
    ),
    (
        "tilt_deg",
        "degrees",
        "optional",
        "downtilt (default 0)",
        "4",
    ),
];

/// Writes `path`, a cell-site CSV with every field (in [`SITE_TEMPLATE`]'s order) and one
/// example row that `gapmap predict --sites` reads (with `--assume-crs EPSG:4326`).
pub fn write_site_template(path: &Path) -> Result<()> {
    let quote = |v: &str| {
        if v.contains([',', '"']) {
            format!("\"{}\"", v.replace('"', "\"\""))
        } else {
            v.to_string()
        }
    };
    let header: Vec<String> = SITE_TEMPLATE.iter().map(|t| quote(t.0)).collect();
    let example: Vec<String> = SITE_TEMPLATE.iter().map(|t| quote(t.4)).collect();
    let text = format!("{}\n{}\n", header.join(","), example.join(","));
    std::fs::write(path, text).map_err(|e| IoError::Write {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

impl Default for SiteFields {
    /// The default field names, each set by its `--site-*-field` flag.
    fn default() -> SiteFields {
        let f = |n: &str, flag: &'static str| FieldChoice::new(None, n, flag);
        SiteFields {
            id: f("site_id", "--site-id-field"),
            operator: f("operator", "--site-operator-field"),
            tech: f("tech", "--site-tech-field"),
            height: f("height_m", "--site-height-field"),
            frequency: f("frequency_mhz", "--site-frequency-field"),
            eirp: f("eirp_dbm", "--site-eirp-field"),
            power: f("power_dbm", "--site-power-field"),
            gain: f("antenna_gain_dbi", "--site-gain-field"),
            azimuth: f("azimuth_deg", "--site-azimuth-field"),
            beamwidth: f("beamwidth_deg", "--site-beamwidth-field"),
            tilt: f("tilt_deg", "--site-tilt-field"),
            bandwidth: f("bandwidth_mhz", "--site-bandwidth-field"),
        }
    }
}

/// How to read cell sites.
#[derive(Debug, Clone)]
pub struct SiteOptions {
    /// The file.
    pub path: PathBuf,
    /// Its layer (needed when it has several).
    pub layer: Option<String>,
    /// The field of each site parameter.
    pub fields: SiteFields,
    /// The path-loss model (auto: by frequency and environment).
    pub model: ModelChoice,
    /// The environment.
    pub environment: Environment,
    /// Terminal height, metres: checked against each site's model.
    pub ue_height_m: f64,
    /// Allow sites outside their model's published range (flagged in the outputs).
    pub extrapolate: bool,
    /// Operators already known (e.g. from coverage polygons): their ids are kept.
    pub known_operators: Vec<String>,
    /// An attribute filter (OGR SQL `WHERE`, passed down to the data source): only the
    /// features it selects are read.
    pub filter: Option<String>,
}

/// The sites, in the working CRS.
#[derive(Debug, Clone)]
pub struct Sites {
    /// Per site: its id.
    pub ids: Vec<String>,
    /// The sites, in input order.
    pub sites: Vec<Site>,
    /// Operator names by id: the known operators first, then new ones in order of appearance.
    pub operators: Vec<String>,
    /// Sites whose frequency or antenna height is outside their model's range (with
    /// `extrapolate`).
    pub out_of_range: Vec<String>,
    /// The record of the input.
    pub info: InputInfo,
    /// What the user should know.
    pub notices: Vec<String>,
}

/// Default bandwidth when the layer gives none: 10 MHz for LTE; for NR 100 MHz from 3 GHz
/// (band n78) and 20 MHz below.
pub fn default_bandwidth_mhz(tech: Tech, frequency_mhz: f64) -> f64 {
    match tech {
        Tech::G5 if frequency_mhz >= 3000.0 => 100.0,
        Tech::G5 => 20.0,
        _ => 10.0,
    }
}

/// A finite number from a field value.
fn finite_f64(v: &FieldValue) -> std::result::Result<f64, String> {
    let x = value_to_f64(v)?;
    if x.is_finite() {
        Ok(x)
    } else {
        Err(format!("{x} is not a finite number"))
    }
}

/// The cell-site input.
const SITES: Role = Role {
    name: "sites",
    layer_flag: "--sites-layer",
    where_flag: "--sites-where",
};

/// Reads and checks the sites.
pub fn read_sites(opts: &SiteOptions, ctx: &ReadContext) -> Result<Sites> {
    let (mut layer, mut info, mut log, mut skipped, clock) = open_layer_filtered(
        &opts.path,
        opts.layer.as_deref(),
        opts.filter.as_deref(),
        &SITES,
        ctx,
        &[],
    )?;
    let f = &opts.fields;
    // Every field is looked up before any is reported: all that are missing go in one error.
    let mut lacking: Vec<String> = Vec::new();
    let mut field = |c: &FieldChoice, what: &str, needed: bool| -> Option<usize> {
        let found = layer.find_field(&c.name);
        if found.is_none() && (needed || c.explicit) {
            let what = if needed { what } else { "named explicitly" };
            lacking.push(format!(
                "'{}' ({what}; set the field name with {})",
                c.name, c.flag
            ));
        }
        found
    };
    let id_idx = field(&f.id, "", false);
    let op = field(&f.operator, "every site needs an operator", true);
    let tech = field(&f.tech, "every site needs a technology, 4G or 5G", true);
    let height = field(&f.height, "antenna height above ground, metres", true);
    let freq = field(&f.frequency, "carrier frequency, MHz", true);
    let eirp_idx = field(&f.eirp, "", false);
    // With an EIRP field, power + gain may still stand in where a site's EIRP is empty (the
    // template has all three columns).
    let (power_idx, gain_idx) = if eirp_idx.is_some() {
        (field(&f.power, "", false), field(&f.gain, "", false))
    } else {
        let why = format!(
            "there is no '{}' field, so the EIRP must come from '{}' + '{}'",
            f.eirp.name, f.power.name, f.gain.name
        );
        (field(&f.power, &why, true), field(&f.gain, &why, true))
    };
    let az_idx = field(&f.azimuth, "", false);
    let bw_idx = field(&f.beamwidth, "", false);
    let tilt_idx = field(&f.tilt, "", false);
    let band_idx = field(&f.bandwidth, "", false);
    let (Some(op_idx), Some(tech_idx), Some(height_idx), Some(freq_idx), true) =
        (op, tech, height, freq, lacking.is_empty())
    else {
        return Err(IoError::MissingFields {
            path: layer.path.clone(),
            layer: layer.name.clone(),
            fields: lacking,
            available: layer.fields.clone(),
        });
    };
    let mut notices = Vec::new();
    if id_idx.is_none() {
        notices.push(format!(
            "{}: no field '{}', so sites are named by feature id; choose a field with {}",
            opts.path.display(),
            f.id.name,
            f.id.flag
        ));
    }
    for (purpose, idx, c) in [
        ("id", id_idx, &f.id),
        ("operator", Some(op_idx), &f.operator),
        ("tech", Some(tech_idx), &f.tech),
        ("height_m", Some(height_idx), &f.height),
        ("frequency_mhz", Some(freq_idx), &f.frequency),
        ("eirp_dbm", eirp_idx, &f.eirp),
        ("power_dbm", power_idx, &f.power),
        ("antenna_gain_dbi", gain_idx, &f.gain),
        ("azimuth_deg", az_idx, &f.azimuth),
        ("beamwidth_deg", bw_idx, &f.beamwidth),
        ("tilt_deg", tilt_idx, &f.tilt),
        ("bandwidth_mhz", band_idx, &f.bandwidth),
    ] {
        info.fields
            .insert(purpose.into(), idx.map(|_| c.name.clone()));
    }

    let mut operators: HashMap<String, u32> = opts
        .known_operators
        .iter()
        .enumerate()
        .map(|(i, n)| (n.clone(), i as u32))
        .collect();
    let mut operator_names = opts.known_operators.clone();
    let mut out = Sites {
        ids: Vec::new(),
        sites: Vec::new(),
        operators: Vec::new(),
        out_of_range: Vec::new(),
        info: info.clone(),
        notices: Vec::new(),
    };
    let mut seen_ids: HashMap<String, usize> = HashMap::new();
    layer.for_each(|feat, i| {
        let fid_label = match feat.fid() {
            Some(fid) => format!("fid {fid}"),
            None => format!("#{i}"),
        };
        let id = match id_idx.map(|k| feat.field(k)) {
            Some(Some(v)) => value_to_string(&v),
            Some(None) => {
                return Err(feat.field_error(&fid_label, &f.id.name, "the site id is empty".into()))
            }
            None => fid_label.clone(),
        };
        let label = format!("'{id}'");
        let Some(g) =
            geometry_or_skip(feat, &label, Validate::Coordinates, &mut log, 0, &mut skipped)?
        else {
            return Ok(());
        };
        let xy: Coord<f64> = match g {
            Geometry::Point(p) => p.0,
            Geometry::MultiPoint(m) if m.0.len() == 1 => m.0[0].0,
            other => {
                return Err(feat.type_error(&label, "Point (the mast)", geom::type_name(&other)))
            }
        };
        if let Some(first) = seen_ids.insert(id.clone(), i) {
            return Err(feat.field_error(
                &label,
                &f.id.name,
                format!("the site id is used twice (also by feature #{first}); site ids must be unique"),
            ));
        }
        let bad = |field: &FieldChoice, m: String| feat.field_error(&label, &field.name, m);
        let number = |idx: usize, field: &FieldChoice| -> Result<Option<f64>> {
            match feat.field(idx) {
                None => Ok(None),
                Some(FieldValue::StringValue(s)) if s.trim().is_empty() => Ok(None),
                Some(v) => finite_f64(&v).map(Some).map_err(|m| bad(field, m)),
            }
        };
        let need = |idx: usize, field: &FieldChoice, what: &str| -> Result<f64> {
            number(idx, field)?.ok_or_else(|| bad(field, format!("is empty; expected {what}")))
        };
        let operator = match feat.field(op_idx).map(|v| value_to_string(&v)) {
            Some(s) if !s.trim().is_empty() => s.trim().to_string(),
            _ => return Err(bad(&f.operator, "the operator is missing; every site needs one".into())),
        };
        let tech_text = feat.field(tech_idx).map(|v| value_to_string(&v)).unwrap_or_default();
        let tech = Tech::classify(&tech_text);
        if tech == Tech::Other {
            return Err(bad(
                &f.tech,
                format!("'{tech_text}' is not a technology gapmap predicts; expected 4G/LTE or 5G/NR"),
            ));
        }
        let height_m = need(height_idx, &f.height, "the antenna height above ground in metres")?;
        if height_m <= 0.0 {
            return Err(bad(&f.height, format!("{height_m} m; the antenna height must be above 0 m")));
        }
        let frequency_mhz = need(freq_idx, &f.frequency, "the carrier frequency in MHz")?;
        let (lo, hi) = FREQUENCY_RANGE_MHZ;
        if !(lo..=hi).contains(&frequency_mhz) {
            return Err(bad(
                &f.frequency,
                format!("{frequency_mhz} MHz is outside every model's range ({lo}-{hi} MHz)"),
            ));
        }
        // The site's own EIRP; where it is empty (or there is no EIRP field), power + gain.
        let eirp = match eirp_idx {
            Some(k) => number(k, &f.eirp)?,
            None => None,
        };
        let from_eirp = eirp.is_some();
        let eirp_dbm = match (eirp, power_idx, gain_idx) {
            (Some(e), _, _) => e,
            (None, Some(p), Some(g)) => {
                let what = match eirp_idx {
                    Some(_) => format!(
                        "the transmit power in dBm, as '{}' is empty (with '{}')",
                        f.eirp.name, f.gain.name
                    ),
                    None => "the transmit power in dBm".to_string(),
                };
                need(p, &f.power, &what)?
                    + need(g, &f.gain, "the antenna gain in dBi, with the transmit power")?
            }
            _ => {
                let lacking: Vec<String> = [(&f.power, power_idx), (&f.gain, gain_idx)]
                    .iter()
                    .filter(|(_, i)| i.is_none())
                    .map(|(c, _)| format!("'{}'", c.name))
                    .collect();
                return Err(bad(
                    &f.eirp,
                    format!(
                        "is empty; expected the EIRP in dBm, or '{}' + '{}' in its place (the layer has no field {})",
                        f.power.name,
                        f.gain.name,
                        lacking.join(" or ")
                    ),
                ));
            }
        };
        if !(-30.0..=100.0).contains(&eirp_dbm) {
            return Err(bad(
                if from_eirp { &f.eirp } else { &f.power },
                format!("EIRP {eirp_dbm} dBm is implausible; expected -30 to 100 dBm (a macro site is about 60 dBm)"),
            ));
        }
        let azimuth_deg = match az_idx {
            Some(k) => number(k, &f.azimuth)?,
            None => None,
        };
        if let Some(a) = azimuth_deg {
            if !(-360.0..=360.0).contains(&a) {
                return Err(bad(&f.azimuth, format!("{a}°; expected degrees clockwise from north, 0-360")));
            }
        }
        let beamwidth_deg = match bw_idx {
            Some(k) => number(k, &f.beamwidth)?,
            None => None,
        }
        .unwrap_or(DEFAULT_BEAMWIDTH_DEG);
        if !(beamwidth_deg > 0.0 && beamwidth_deg <= 360.0) {
            return Err(bad(&f.beamwidth, format!("{beamwidth_deg}°; expected a beamwidth above 0 and at most 360")));
        }
        let tilt_deg = match tilt_idx {
            Some(k) => number(k, &f.tilt)?,
            None => None,
        };
        if let Some(t) = tilt_deg {
            if !(-90.0..=90.0).contains(&t) {
                return Err(bad(&f.tilt, format!("{t}°; expected a downtilt between -90 and 90")));
            }
        }
        let bandwidth_mhz = match band_idx {
            Some(k) => number(k, &f.bandwidth)?,
            None => None,
        }
        .unwrap_or_else(|| default_bandwidth_mhz(tech, frequency_mhz));
        if !(bandwidth_mhz > 0.0 && bandwidth_mhz <= 400.0) {
            return Err(bad(&f.bandwidth, format!("{bandwidth_mhz} MHz; expected a channel bandwidth above 0 and at most 400 MHz")));
        }
        let model = opts
            .model
            .resolve_at(frequency_mhz, height_m, opts.environment);
        if let Some((param, value, (lo, hi))) =
            model.validity().site_violation(frequency_mhz, height_m, opts.ue_height_m)
        {
            let what = match param {
                "frequency_mhz" => format!("frequency {value} MHz"),
                "height_m" => format!("antenna height {value} m"),
                _ => format!("terminal height {value} m (--ue-height-m)"),
            };
            if !opts.extrapolate {
                let field = match param {
                    "frequency_mhz" => &f.frequency,
                    _ => &f.height,
                };
                return Err(bad(
                    field,
                    format!(
                        "{what} is outside the {} model's range ({lo}-{hi}); choose another --model, or pass --extrapolate to use the formula anyway (such sites are flagged)",
                        model.name()
                    ),
                ));
            }
            out.out_of_range.push(format!("{label}: {what} outside {} ({lo}-{hi})", model.name()));
        }
        let next = operator_names.len() as u32;
        let op = *operators.entry(operator.clone()).or_insert_with(|| {
            operator_names.push(operator.clone());
            next
        });
        if op as usize >= MAX_OPERATORS {
            return Err(bad(
                &f.operator,
                format!("more than {MAX_OPERATORS} distinct operators"),
            ));
        }
        out.ids.push(id);
        out.sites.push(Site {
            xy,
            operator: op,
            tech,
            height_m,
            frequency_mhz,
            eirp_dbm,
            bandwidth_mhz,
            sector: Sector {
                azimuth_deg: azimuth_deg.map(|a| a.rem_euclid(360.0)),
                beamwidth_deg,
                tilt_deg,
            },
            model,
        });
        Ok(())
    })?;
    if out.sites.is_empty() {
        return Err(IoError::Empty {
            path: opts.path.clone(),
            layer: layer.name.clone(),
            what: "the sites".into(),
        });
    }
    if !out.out_of_range.is_empty() {
        notices.push(format!(
            "{}: {} sites are outside their model's published range and are extrapolated (--extrapolate), e.g. {}",
            opts.path.display(),
            out.out_of_range.len(),
            out.out_of_range[0]
        ));
    }
    if !skipped.is_empty() {
        notices.push(format!(
            "{}: skipped {} sites without a geometry",
            opts.path.display(),
            skipped.len()
        ));
    }
    out.operators = operator_names;
    out.info.columnar = layer.read_columnar;
    clock.finish(&mut out.info, out.sites.len(), skipped);
    out.notices = notices;
    Ok(out)
}
