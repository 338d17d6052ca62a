//! Backbone points: where the fibre network reaches the wider internet.

use std::path::PathBuf;

use gapmap_core::geo::{Coord, Geometry};

use super::layer::*;
use super::vector::{value_to_string, ReadContext, Validate};
use crate::error::{IoError, Result};
use crate::geom;

/// The backbone input.
const BACKBONE: Role = Role {
    name: "backbone",
    layer_flag: "--backbone-layer",
    where_flag: "--backbone-where",
};

/// Backbone points: where the fibre network reaches the wider internet.
#[derive(Debug, Clone, Default)]
pub struct Backbone {
    /// A label per point (its name field, else its feature id) and its position.
    pub points: Vec<(String, Coord<f64>)>,
    /// The record of the input.
    pub info: Option<InputInfo>,
    /// What the user should know.
    pub notices: Vec<String>,
}

/// How to read backbone points.
#[derive(Debug, Clone)]
pub struct BackboneOptions {
    /// The file.
    pub path: PathBuf,
    /// Its layer (needed when it has several).
    pub layer: Option<String>,
    /// The name field.
    pub name_field: FieldChoice,
}

/// Reads backbone points (Point or MultiPoint features).
pub fn read_backbone(opts: &BackboneOptions, ctx: &ReadContext) -> Result<Backbone> {
    let (mut layer, mut info, mut log, mut skipped, clock) =
        open_layer(&opts.path, opts.layer.as_deref(), &BACKBONE, ctx, &[])?;
    let name_idx = optional_field(&layer, &opts.name_field)?;
    info.fields.insert(
        "name".into(),
        name_idx.map(|_| opts.name_field.name.clone()),
    );
    let mut out = Backbone::default();
    layer.for_each(|f, i| {
        let fid_label = feature_label(None, f.fid(), i);
        let Some(g) = geometry_or_skip(
            f,
            &fid_label,
            Validate::Coordinates,
            &mut log,
            0,
            &mut skipped,
        )?
        else {
            return Ok(());
        };
        let name = match name_idx.map(|k| f.field(k)) {
            Some(Some(v)) => value_to_string(&v),
            _ => fid_label.to_string(),
        };
        let pts: Vec<Coord<f64>> = match g {
            Geometry::Point(p) => vec![p.0],
            Geometry::MultiPoint(m) => m.0.iter().map(|p| p.0).collect(),
            other => {
                return Err(f.type_error(
                    &fid_label,
                    "Point (backbone points)",
                    geom::type_name(&other),
                ))
            }
        };
        for (k, c) in pts.into_iter().enumerate() {
            let label = if k == 0 {
                name.clone()
            } else {
                format!("{name}#{k}")
            };
            out.points.push((label, c));
        }
        Ok(())
    })?;
    if out.points.is_empty() {
        return Err(IoError::Empty {
            path: opts.path.clone(),
            layer: layer.name.clone(),
            what: "the backbone points".into(),
        });
    }
    info.columnar = layer.read_columnar;
    clock.finish(&mut info, out.points.len(), skipped);
    out.info = Some(info);
    Ok(out)
}
