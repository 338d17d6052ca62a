//! Settlement polygons (e.g. SCB tätorter), validated and repaired.

use std::collections::HashSet;
use std::path::PathBuf;

use gapmap_core::geo::MultiPolygon;

use super::layer::*;
use super::vector::{value_to_count, value_to_string, ReadContext, Validate};
use crate::error::{IoError, Result};
use crate::geom;

/// The settlements input.
const SETTLEMENTS: Role = Role {
    name: "settlements",
    layer_flag: "--settlements-layer",
    where_flag: "--settlements-where",
};

/// Settlement polygons in the working CRS, in input order.
#[derive(Debug)]
pub struct Settlements {
    /// Per settlement: its id.
    pub ids: Vec<String>,
    /// Per settlement: its name.
    pub names: Vec<String>,
    /// Per settlement: its area.
    pub areas: Vec<MultiPolygon<f64>>,
    /// Values of `SettlementOptions::population_field`, when asked for (else empty).
    pub population: Vec<f64>,
    /// The record of the input.
    pub info: InputInfo,
    /// What the user should know.
    pub notices: Vec<String>,
}

/// How to read settlement polygons.
#[derive(Debug, Clone)]
pub struct SettlementOptions {
    /// The file.
    pub path: PathBuf,
    /// Its layer (needed when it has several).
    pub layer: Option<String>,
    /// The id field.
    pub id_field: FieldChoice,
    /// The name field.
    pub name_field: FieldChoice,
    /// A numeric field to read as well (e.g. population); it must exist.
    pub population_field: Option<FieldChoice>,
    /// An attribute filter (OGR SQL `WHERE`, passed down to the data source): only the
    /// features it selects are read.
    pub filter: Option<String>,
}

/// The regions of `gapmap grid` (`--regions`, one layer per file).
const REGIONS: Role = Role {
    name: "regions",
    layer_flag: "a --regions file of that layer alone",
    where_flag: "--regions",
};

/// Reads region polygons for `gapmap grid` as [`read_settlements`] reads settlements, with
/// messages that speak of regions and their flags.
pub fn read_regions(opts: &SettlementOptions, ctx: &ReadContext) -> Result<Settlements> {
    read_named_areas(opts, &REGIONS, "region", ctx)
}

/// Reads settlement polygons; invalid ones are repaired (or, with `strict`, an error).
pub fn read_settlements(opts: &SettlementOptions, ctx: &ReadContext) -> Result<Settlements> {
    read_named_areas(opts, &SETTLEMENTS, "settlement", ctx)
}

/// Areas with ids and names, of `role`; `what` is one of them in messages.
fn read_named_areas(
    opts: &SettlementOptions,
    role: &Role<'_>,
    what: &str,
    ctx: &ReadContext,
) -> Result<Settlements> {
    read_areas(
        &AreaLayer {
            path: &opts.path,
            layer: opts.layer.as_deref(),
            role,
            what,
            id_field: &opts.id_field,
            name_field: Some(&opts.name_field),
            count_field: opts.population_field.as_ref(),
            filter: opts.filter.as_deref(),
        },
        ctx,
    )
}

/// A layer of areas to read: settlements, or population areas.
pub(crate) struct AreaLayer<'a> {
    pub(crate) path: &'a std::path::Path,
    pub(crate) layer: Option<&'a str>,
    pub(crate) role: &'a Role<'a>,
    /// One area, in messages ("settlement").
    pub(crate) what: &'a str,
    pub(crate) id_field: &'a FieldChoice,
    /// A field with the areas' names (absent: empty names, with a notice).
    pub(crate) name_field: Option<&'a FieldChoice>,
    /// A count field that must exist (whole numbers >= 0; empty values count 0).
    pub(crate) count_field: Option<&'a FieldChoice>,
    /// An attribute filter.
    pub(crate) filter: Option<&'a str>,
}

/// Reads a layer of areas (polygons in the working CRS, in input order; invalid ones are
/// repaired, or with `strict` an error), their ids, names and counts.
pub(crate) fn read_areas(opts: &AreaLayer<'_>, ctx: &ReadContext) -> Result<Settlements> {
    let (mut layer, mut info, mut log, mut skipped, clock) =
        open_layer_filtered(opts.path, opts.layer, opts.filter, opts.role, ctx, &[])?;
    let mut notices = Vec::new();
    let id_src = id_source(&layer, opts.id_field, &mut notices, opts.what)?;
    let name_idx = match opts.name_field {
        Some(c) => {
            let k = optional_field(&layer, c)?;
            if k.is_none() {
                notices.push(format!(
                    "{}: no field '{}', so {} names are empty; choose a field with {}",
                    opts.path.display(),
                    c.name,
                    opts.what,
                    c.flag
                ));
            }
            info.fields.insert("name".into(), k.map(|_| c.name.clone()));
            k
        }
        None => None,
    };
    info.fields.insert(
        "id".into(),
        match id_src {
            IdSource::Field(..) => Some(opts.id_field.name.clone()),
            IdSource::Fid => layer.fid_column.clone(),
        },
    );
    let pop_idx = opts
        .count_field
        .map(|c| required_field(&layer, c))
        .transpose()?;
    if let Some(c) = opts.count_field {
        info.fields
            .insert("population".into(), Some(c.name.clone()));
    }
    let (mut ids, mut names, mut areas) = (Vec::new(), Vec::new(), Vec::new());
    let mut population = Vec::new();
    let mut empty_counts = 0usize;
    layer.for_each(|f, i| {
        let id = match id_src {
            IdSource::Fid => f.fid().map_or(i as u64, |v| v).to_string(),
            IdSource::Field(idx, _) => match f.field(idx) {
                Some(v) => value_to_string(&v),
                None => {
                    return Err(f.field_error(
                        &feature_label(None, f.fid(), i),
                        &opts.id_field.name,
                        format!("the {} id is empty", opts.what),
                    ))
                }
            },
        };
        let label = feature_label(Some(&id), f.fid(), i);
        let Some(g) = geometry_or_skip(
            f,
            &label,
            Validate::Polygons,
            &mut log,
            areas.len(),
            &mut skipped,
        )?
        else {
            return Ok(());
        };
        let found = geom::type_name(&g);
        let Some(mp) = area_of(g) else {
            return Err(f.type_error(&label, "Polygon or MultiPolygon", found));
        };
        if let (Some(k), Some(c)) = (pop_idx, opts.count_field) {
            population.push(match f.field(k) {
                None => {
                    empty_counts += 1;
                    0.0
                }
                Some(v) => {
                    f64::from(value_to_count(&v).map_err(|m| f.field_error(&label, &c.name, m))?)
                }
            });
        }
        ids.push(id);
        names.push(
            name_idx
                .and_then(|k| f.field(k))
                .map(|v| value_to_string(&v))
                .unwrap_or_default(),
        );
        areas.push(mp);
        Ok(())
    })?;
    let repaired = layer.check_polygons(&mut log, ctx.strict, |k| areas.get(k))?;
    for (slot, g) in repaired {
        areas[slot] = geom::polygonal(g)
            .0
            .unwrap_or_else(|| MultiPolygon::new(vec![]));
    }
    layer.strict_error(&log)?;
    if areas.is_empty() {
        return Err(IoError::Empty {
            path: opts.path.to_path_buf(),
            layer: layer.name.clone(),
            what: format!("the {}", opts.role.name),
        });
    }
    if let (Some(c), true) = (opts.count_field, empty_counts > 0) {
        notices.push(format!(
            "{}: {empty_counts} {} have no value in '{}'; they count 0",
            opts.path.display(),
            opts.role.name,
            c.name
        ));
    }
    let mut seen = HashSet::new();
    let dups: Vec<&String> = ids.iter().filter(|id| !seen.insert(*id)).collect();
    if !dups.is_empty() {
        notices.push(format!(
            "{}: {} {} ids occur more than once (e.g. {}); their rows are kept apart",
            opts.path.display(),
            dups.len(),
            opts.what,
            dups[0]
        ));
    }
    repaired_notice(&mut notices, opts.path, &log);
    info.columnar = layer.read_columnar;
    clock.finish(&mut info, areas.len(), skipped);
    info.repaired = log.repaired;
    Ok(Settlements {
        ids,
        names,
        areas,
        population,
        info,
        notices,
    })
}
