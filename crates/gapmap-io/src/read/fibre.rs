//! Fibre routes (lines) and nodes (points), with their network (owner), shared-risk group,
//! and for other fixed and planned networks their speed or year.

use std::path::PathBuf;

use gapmap_core::fibre::FibreFeature;
use gapmap_core::geo::{Geometry, MultiLineString, MultiPoint, Rect};
use gdal::vector::FieldValue;

use super::layer::*;
use super::vector::{value_to_f64, value_to_string, ReadContext, Validate};
use crate::error::Result;
use crate::geom;

/// Fibre lines and points in the working CRS.
#[derive(Debug, Default)]
pub struct Fibre {
    /// The features, in input order.
    pub features: Vec<FibreFeature>,
    /// Network names by interned id.
    pub networks: Vec<String>,
    /// Shared-risk values by interned id (empty without `srlg_field`).
    pub srlgs: Vec<String>,
    /// Per feature: download speed in Mbit/s (empty without `speed_field`).
    pub speeds_mbps: Vec<f64>,
    /// Per feature: year (empty without `year_field`).
    pub years: Vec<i32>,
    /// The record of each layer read.
    pub infos: Vec<InputInfo>,
    /// What the user should know.
    pub notices: Vec<String>,
    /// The box around every feature, in the working CRS (`None`: no features).
    pub extent: Option<Rect<f64>>,
}

/// How to read fibre-like layers (fibre, other fixed networks, planned networks).
#[derive(Debug, Clone)]
pub struct FibreOptions {
    /// The files.
    pub paths: Vec<PathBuf>,
    /// The layers read from each file (none: its only layer).
    pub layers: Vec<String>,
    /// The network (owner) field.
    pub network_field: FieldChoice,
    /// Shared-risk field (e.g. a trench or duct id), always explicit: a layer without it is
    /// an error; a feature with no value is its own risk.
    pub srlg_field: Option<FieldChoice>,
    /// Download speed field in Mbit/s (other fixed networks); when given, every feature must
    /// have a number >= 0.
    pub speed_field: Option<FieldChoice>,
    /// Year field (planned networks); when given, every feature must have a whole year.
    pub year_field: Option<FieldChoice>,
    /// What the layer is, for run.json and messages: `fibre`, `fixed` or `planned`.
    pub role: &'static str,
    /// The flag that chooses its layer, for messages.
    pub layer_flag: &'static str,
    /// An attribute filter (OGR SQL `WHERE`) for every layer read (`--fibre-where`).
    pub filter: Option<String>,
}

impl FibreOptions {
    /// What these layers are, for run.json and messages.
    pub(crate) fn role(&self) -> Role<'static> {
        Role {
            name: self.role,
            layer_flag: self.layer_flag,
            where_flag: match self.role {
                "fibre" => "--fibre-where",
                "fixed" => "--fixed-where",
                "planned" => "--planned-where",
                _ => "--where",
            },
        }
    }

    /// Options for the built fibre layers: network (owner) and optional shared-risk fields.
    pub fn fibre(
        paths: Vec<PathBuf>,
        layers: Vec<String>,
        network_field: FieldChoice,
        srlg_field: Option<FieldChoice>,
    ) -> FibreOptions {
        FibreOptions {
            paths,
            layers,
            network_field,
            srlg_field,
            speed_field: None,
            year_field: None,
            role: "fibre",
            layer_flag: "--fibre-layer",
            filter: None,
        }
    }
}

/// The network value of fibre features without one.
pub const UNKNOWN_NETWORK: &str = "(unknown)";

/// Reads fibre routes (lines) and nodes (points), each with its network (owner).
pub fn read_fibre(opts: &FibreOptions, ctx: &ReadContext) -> Result<Fibre> {
    let mut out = Fibre::default();
    let mut networks = Interner::default();
    let mut srlgs = Interner::default();
    for (path, layer_name) in layer_plan(&opts.paths, &opts.layers) {
        let (mut layer, mut info, mut log, mut skipped, clock) = open_layer_filtered(
            path,
            layer_name,
            opts.filter.as_deref(),
            &opts.role(),
            ctx,
            &out.infos,
        )?;
        let net_idx = optional_field(&layer, &opts.network_field)?;
        if net_idx.is_none() {
            out.notices.push(format!(
                "{}: no field '{}', so all its fibre is one network '{UNKNOWN_NETWORK}'; choose a field with {}",
                path.display(),
                opts.network_field.name,
                opts.network_field.flag
            ));
        }
        info.fields.insert(
            "network".into(),
            net_idx.map(|_| opts.network_field.name.clone()),
        );
        let srlg_idx = match &opts.srlg_field {
            Some(choice) => {
                info.fields.insert("srlg".into(), Some(choice.name.clone()));
                Some(required_field(&layer, choice)?)
            }
            None => None,
        };
        let speed_idx = match &opts.speed_field {
            Some(choice) => {
                info.fields
                    .insert("speed".into(), Some(choice.name.clone()));
                Some(required_field(&layer, choice)?)
            }
            None => None,
        };
        let year_idx = match &opts.year_field {
            Some(choice) => {
                info.fields.insert("year".into(), Some(choice.name.clone()));
                Some(required_field(&layer, choice)?)
            }
            None => None,
        };
        let mut null_networks = 0usize;
        let before = out.features.len();
        layer.for_each(|f, i| {
            let label = feature_label(None, f.fid(), i);
            let Some(g) =
                geometry_or_skip(f, &label, Validate::Coordinates, &mut log, 0, &mut skipped)?
            else {
                return Ok(());
            };
            let mut feat = FibreFeature::default();
            let found = geom::type_name(&g);
            if !collect_linear(g, &mut feat.lines, &mut feat.points) {
                return Err(f.type_error(
                    &label,
                    "LineString or Point (fibre routes and nodes)",
                    found,
                ));
            }
            let net = match net_idx.map(|k| f.field(k)) {
                None => UNKNOWN_NETWORK.to_string(),
                Some(None) => {
                    null_networks += 1;
                    UNKNOWN_NETWORK.to_string()
                }
                // The text as read (no copy), or a number's text.
                Some(Some(FieldValue::StringValue(v))) => v,
                Some(Some(v)) => value_to_string(&v),
            };
            feat.network = networks.get(&net);
            if let Some(Some(v)) = srlg_idx.map(|k| f.field(k)) {
                let v = value_to_string(&v);
                if !v.is_empty() {
                    feat.srlg = Some(srlgs.get(&v));
                }
            }
            if let (Some(k), Some(c)) = (speed_idx, &opts.speed_field) {
                let v = f
                    .field(k)
                    .ok_or_else(|| "no value; expected a speed in Mbit/s".to_string())
                    .and_then(|v| value_to_f64(&v))
                    .and_then(|v| {
                        if v.is_finite() && v >= 0.0 {
                            Ok(v)
                        } else {
                            Err(format!("{v} is not a speed >= 0 in Mbit/s"))
                        }
                    })
                    .map_err(|m| f.field_error(&label, &c.name, m))?;
                out.speeds_mbps.push(v);
            }
            if let (Some(k), Some(c)) = (year_idx, &opts.year_field) {
                let v = f
                    .field(k)
                    .ok_or_else(|| "no value; expected a year".to_string())
                    .and_then(|v| value_to_f64(&v))
                    .and_then(|v| {
                        if v.fract() == 0.0 && (1900.0..=2200.0).contains(&v) {
                            Ok(v as i32)
                        } else {
                            Err(format!("{v} is not a year (a whole number 1900-2200)"))
                        }
                    })
                    .map_err(|m| f.field_error(&label, &c.name, m))?;
                out.years.push(v);
            }
            out.features.push(feat);
            Ok(())
        })?;
        if null_networks > 0 {
            out.notices.push(format!(
                "{}: {null_networks} fibre features have no '{}' value; they count as network '{UNKNOWN_NETWORK}'",
                path.display(),
                opts.network_field.name
            ));
        }
        info.columnar = layer.read_columnar;
        clock.finish(&mut info, out.features.len() - before, skipped);
        if info.features == 0 {
            out.notices.push(format!(
                "{}: the {} layer '{}' has no features",
                path.display(),
                opts.role,
                layer.name
            ));
        }
        out.infos.push(info);
    }
    out.extent = extent(out.features.iter().flat_map(|f| {
        let lines = f.lines.0.iter().flat_map(|l| l.0.iter().copied());
        lines.chain(f.points.0.iter().map(|p| p.0))
    }));
    out.networks = networks.names;
    out.srlgs = srlgs.names;
    Ok(out)
}

/// Moves lines and points of `g` into the outputs; false if `g` has any other kind of part.
fn collect_linear(
    g: Geometry<f64>,
    lines: &mut MultiLineString<f64>,
    points: &mut MultiPoint<f64>,
) -> bool {
    match g {
        Geometry::LineString(l) => lines.0.push(l),
        Geometry::MultiLineString(m) => lines.0.extend(m.0),
        Geometry::Line(l) => lines.0.push(l.into()),
        Geometry::Point(p) => points.0.push(p),
        Geometry::MultiPoint(m) => points.0.extend(m.0),
        Geometry::GeometryCollection(c) => {
            for g in c.0 {
                if !collect_linear(g, lines, points) {
                    return false;
                }
            }
        }
        _ => return false,
    }
    true
}
