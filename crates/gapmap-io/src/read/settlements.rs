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
}

/// Reads settlement polygons; invalid ones are repaired (or, with `strict`, an error).
pub fn read_settlements(opts: &SettlementOptions, ctx: &ReadContext) -> Result<Settlements> {
    let (mut layer, mut info, mut log, mut skipped, clock) =
        open_layer(&opts.path, opts.layer.as_deref(), &SETTLEMENTS, ctx, &[])?;
    let mut notices = Vec::new();
    let id_src = id_source(&layer, &opts.id_field, &mut notices, "settlement")?;
    let name_idx = optional_field(&layer, &opts.name_field)?;
    if name_idx.is_none() {
        notices.push(format!(
            "{}: no field '{}', so settlement names are empty; choose a field with {}",
            opts.path.display(),
            opts.name_field.name,
            opts.name_field.flag
        ));
    }
    info.fields.insert(
        "id".into(),
        match id_src {
            IdSource::Field(..) => Some(opts.id_field.name.clone()),
            IdSource::Fid => layer.fid_column.clone(),
        },
    );
    info.fields.insert(
        "name".into(),
        name_idx.map(|_| opts.name_field.name.clone()),
    );
    let pop_idx = opts
        .population_field
        .as_ref()
        .map(|c| required_field(&layer, c))
        .transpose()?;
    if let Some(c) = &opts.population_field {
        info.fields
            .insert("population".into(), Some(c.name.clone()));
    }
    let (mut ids, mut names, mut areas) = (Vec::new(), Vec::new(), Vec::new());
    let mut population = Vec::new();
    layer.for_each(|f, i| {
        let id = match id_src {
            IdSource::Fid => f.fid().map_or(i as u64, |v| v).to_string(),
            IdSource::Field(idx, _) => match f.field(idx) {
                Some(v) => value_to_string(&v),
                None => {
                    return Err(f.field_error(
                        &feature_label(None, f.fid(), i),
                        &opts.id_field.name,
                        "the settlement id is empty".into(),
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
        if let (Some(k), Some(c)) = (pop_idx, &opts.population_field) {
            population.push(match f.field(k) {
                None => 0.0,
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
            path: opts.path.clone(),
            layer: layer.name.clone(),
            what: "the settlements".into(),
        });
    }
    let mut seen = HashSet::new();
    let dups: Vec<&String> = ids.iter().filter(|id| !seen.insert(*id)).collect();
    if !dups.is_empty() {
        notices.push(format!(
            "{}: {} settlement ids occur more than once (e.g. {}); their rows are kept apart",
            opts.path.display(),
            dups.len(),
            dups[0]
        ));
    }
    repaired_notice(&mut notices, &opts.path, &log);
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
