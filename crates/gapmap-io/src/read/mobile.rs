//! Mobile coverage polygons, one (operator, technology) pair per feature.

use std::collections::BTreeMap;
use std::path::PathBuf;

use gapmap_core::geo::MultiPolygon;
use gapmap_core::geo::Rect;
use gapmap_core::mobile::{CoverageFeature, Tech, MAX_OPERATORS};
use serde::{Deserialize, Serialize};

use super::layer::*;
use super::vector::{value_to_string, ReadContext, Validate};
use crate::error::{IoError, Result};
use crate::geom;

/// The mobile input.
const MOBILE: Role = Role {
    name: "mobile",
    layer_flag: "--mobile-layer",
    where_flag: "--mobile-where",
};

/// One technology value found in the mobile layers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TechValue {
    /// The value as written.
    pub value: String,
    /// `4G`, `5G`, or `other` (kept and reported, counts as neither).
    pub counts_as: String,
    /// Features with this value.
    pub features: u64,
}

/// Mobile coverage polygons in the working CRS.
#[derive(Debug, Default)]
pub struct Mobile {
    /// The coverage features (let go once indexed).
    pub features: Vec<CoverageFeature>,
    /// Operator names by interned id.
    pub operators: Vec<String>,
    /// Every technology value found, and what it counts as.
    pub tech_values: Vec<TechValue>,
    /// The record of each layer read.
    pub infos: Vec<InputInfo>,
    /// What the user should know.
    pub notices: Vec<String>,
    /// The box around every feature, in the working CRS (`None`: no features).
    pub extent: Option<Rect<f64>>,
}

/// How to read mobile coverage.
#[derive(Debug, Clone)]
pub struct MobileOptions {
    /// The files.
    pub paths: Vec<PathBuf>,
    /// The layers read from each file (none: its only layer).
    pub layers: Vec<String>,
    /// The operator field.
    pub operator_field: FieldChoice,
    /// The technology field.
    pub tech_field: FieldChoice,
    /// An attribute filter (OGR SQL `WHERE`, passed down to the data source): only the
    /// features it selects are read.
    pub filter: Option<String>,
}

/// Reads coverage polygons, each of one (operator, technology) pair.
pub fn read_mobile(opts: &MobileOptions, ctx: &ReadContext) -> Result<Mobile> {
    let mut out = Mobile::default();
    let mut operators = Interner::default();
    let mut techs: BTreeMap<String, (Tech, u64)> = BTreeMap::new();
    for (path, layer_name) in layer_plan(&opts.paths, &opts.layers) {
        let (mut layer, mut info, mut log, mut skipped, clock) = open_layer_filtered(
            path,
            layer_name,
            opts.filter.as_deref(),
            &MOBILE,
            ctx,
            &out.infos,
        )?;
        if layer.feature_count() == 0 {
            // An empty layer (a GeoJSON with no features has no fields either): said as such,
            // not as a missing field.
            out.notices.push(format!(
                "{}: the mobile layer '{}' has no features",
                path.display(),
                layer.name
            ));
            clock.finish(&mut info, 0, skipped);
            out.infos.push(info);
            continue;
        }
        let op_idx = required_field(&layer, &opts.operator_field)?;
        let tech_idx = required_field(&layer, &opts.tech_field)?;
        info.fields
            .insert("operator".into(), Some(opts.operator_field.name.clone()));
        info.fields
            .insert("tech".into(), Some(opts.tech_field.name.clone()));
        let before = out.features.len();
        layer.for_each(|f, i| {
            let label = feature_label(None, f.fid(), i);
            let text = |idx: usize, choice: &FieldChoice, what: &str| -> Result<String> {
                match f.field(idx).map(|v| value_to_string(&v)) {
                    Some(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
                    _ => Err(f.field_error(&label, &choice.name, format!("missing {what}"))),
                }
            };
            let operator = text(op_idx, &opts.operator_field, "operator")?;
            let tech_raw = text(tech_idx, &opts.tech_field, "technology")?;
            let Some(g) = geometry_or_skip(
                f,
                &label,
                Validate::Polygons,
                &mut log,
                out.features.len(),
                &mut skipped,
            )?
            else {
                return Ok(());
            };
            let found = geom::type_name(&g);
            let Some(area) = area_of(g) else {
                return Err(f.type_error(&label, "Polygon or MultiPolygon (coverage area)", found));
            };
            let tech = Tech::classify(&tech_raw);
            techs.entry(tech_raw).or_insert((tech, 0)).1 += 1;
            out.features.push(CoverageFeature {
                area,
                operator: operators.get(&operator),
                tech,
            });
            Ok(())
        })?;
        let features = &out.features;
        let repaired =
            layer.check_polygons(&mut log, ctx.strict, |k| features.get(k).map(|f| &f.area))?;
        for (slot, g) in repaired {
            out.features[slot].area = geom::polygonal(g)
                .0
                .unwrap_or_else(|| MultiPolygon::new(vec![]));
        }
        layer.strict_error(&log)?;
        if operators.names.len() > MAX_OPERATORS {
            return Err(IoError::Invalid {
                path: path.to_path_buf(),
                layer: layer.name.clone(),
                message: format!(
                    "field '{}' has {} distinct operators; at most {MAX_OPERATORS} are supported (is {} right?)",
                    opts.operator_field.name,
                    operators.names.len(),
                    opts.operator_field.flag
                ),
            });
        }
        repaired_notice(&mut out.notices, path, &log);
        info.columnar = layer.read_columnar;
        clock.finish(&mut info, out.features.len() - before, skipped);
        info.repaired = log.repaired;
        out.infos.push(info);
    }
    for (value, (tech, n)) in techs {
        let counts_as = match tech {
            Tech::G4 => "4G",
            Tech::G5 => "5G",
            Tech::Other => {
                out.notices.push(format!(
                    "mobile: technology '{value}' ({n} features) is neither 4G/LTE nor 5G/NR; it is kept in run.json but counts as neither"
                ));
                "other"
            }
        };
        out.tech_values.push(TechValue {
            value,
            counts_as: counts_as.into(),
            features: n,
        });
    }
    out.operators = operators.names;
    out.extent = extent(
        out.features
            .iter()
            .flat_map(|f| f.area.0.iter().flat_map(|p| p.exterior().0.iter().copied())),
    );
    Ok(out)
}
