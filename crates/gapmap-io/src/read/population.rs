//! Population areas: polygons or grid cells with a count of persons (SCB's 1 km or 250 m
//! grid, DeSO, HSY's 250 m grid), to spread onto the premises inside them.

use std::path::PathBuf;

use gapmap_core::geo::MultiPolygon;

use super::layer::*;
use super::settlements::{read_areas, AreaLayer};
use super::vector::ReadContext;
use crate::error::Result;

/// The population input.
const POPULATION: Role = Role {
    name: "population areas",
    layer_flag: "--population-layer",
    where_flag: "--population-where",
};

/// Population areas in the working CRS, in input order.
#[derive(Debug)]
pub struct PopulationAreas {
    /// Per area: its id (the id field, else the feature id).
    pub ids: Vec<String>,
    /// Per area: its outline.
    pub areas: Vec<MultiPolygon<f64>>,
    /// Per area: its persons.
    pub persons: Vec<u32>,
    /// The record of the input.
    pub info: InputInfo,
    /// What the user should know.
    pub notices: Vec<String>,
}

/// How to read population areas.
#[derive(Debug, Clone)]
pub struct PopulationOptions {
    /// The file (any GDAL vector source).
    pub path: PathBuf,
    /// Its layer (needed when it has several).
    pub layer: Option<String>,
    /// The field with each area's persons (whole numbers >= 0).
    pub field: FieldChoice,
    /// The id field (absent: feature ids).
    pub id_field: FieldChoice,
}

/// Reads population areas; invalid polygons are repaired (or, with `strict`, an error).
pub fn read_population(opts: &PopulationOptions, ctx: &ReadContext) -> Result<PopulationAreas> {
    let read = read_areas(
        &AreaLayer {
            path: &opts.path,
            layer: opts.layer.as_deref(),
            role: &POPULATION,
            what: "population area",
            id_field: &opts.id_field,
            name_field: None,
            count_field: Some(&opts.field),
            filter: None,
        },
        ctx,
    )?;
    Ok(PopulationAreas {
        ids: read.ids,
        areas: read.areas,
        // Whole numbers that fit a u32: `read_areas` checked each.
        persons: read.population.iter().map(|&p| p as u32).collect(),
        info: read.info,
        notices: read.notices,
    })
}
