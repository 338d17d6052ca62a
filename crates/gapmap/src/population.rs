//! Population onto premises (`--population`): each area's persons spread over the premises
//! inside it ([`gapmap_core::population`]), and the premises' households made from them.

use std::path::PathBuf;

use gapmap_core::polygon_index::PolygonIndex;
use gapmap_core::population::{households_of, spread, weight_units};
use gapmap_io::read::{read_population, FieldChoice, InputInfo, PopulationOptions, Premises};
use gapmap_io::ReadContext;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How many areas whose persons could not be placed run.json lists by name (the largest).
pub const UNPLACED_LISTED: usize = 50;

/// What a population layer gave the premises: run.json's `population`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PopulationSummary {
    /// The population file.
    pub path: String,
    /// Its count field.
    pub field: String,
    /// How each area's persons were shared among its premises: `equal`, `footprint_m2` or
    /// `field <name>`.
    pub weighted_by: String,
    /// Households of a premise: its persons / this, rounded, at least 1 where anyone lives.
    pub persons_per_household: f64,
    /// Population areas read.
    pub areas: usize,
    /// Persons in them.
    pub persons: u64,
    /// Persons placed on premises (= `persons` - `unplaced_persons`).
    pub placed_persons: u64,
    /// Areas whose persons could not be placed: no premise inside, or none of positive weight.
    pub unplaced_areas: usize,
    /// The persons of those areas.
    pub unplaced_persons: u64,
    /// The largest of them (up to [`UNPLACED_LISTED`]), by persons, then id.
    pub unplaced: Vec<UnplacedArea>,
    /// Premises inside a population area.
    pub premises_in_areas: usize,
    /// Premises outside every population area: they get no persons and no households.
    pub premises_outside: usize,
    /// Premises with at least one person.
    pub premises_with_persons: usize,
    /// Households of all premises, made from the persons.
    pub households: u64,
}

/// A population area whose persons are not on any premise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnplacedArea {
    /// Its id.
    pub id: String,
    /// Its persons.
    pub persons: u32,
    /// Its premises (all of weight 0 when there are any).
    pub premises: u32,
}

/// A population layer to spread onto premises.
#[derive(Debug, Clone)]
pub struct PopulationInput {
    /// The file (any GDAL vector source with polygons).
    pub path: PathBuf,
    /// Its layer.
    pub layer: Option<String>,
    /// The count field.
    pub field: FieldChoice,
    /// The id field.
    pub id_field: FieldChoice,
    /// Persons per household.
    pub persons_per_household: f64,
}

/// Reads the population layer and spreads it onto `premises` (read with weights, see
/// [`gapmap_io::read::Weighting`]): sets their `persons` and replaces their `households`.
/// Returns the record for run.json and the input's record; notices go to `notices`.
pub fn apply(
    input: &PopulationInput,
    premises: &mut Premises,
    ctx: &ReadContext,
    notices: &mut Vec<String>,
) -> Result<(PopulationSummary, InputInfo)> {
    let areas = read_population(
        &PopulationOptions {
            path: input.path.clone(),
            layer: input.layer.clone(),
            field: input.field.clone(),
            id_field: input.id_field.clone(),
        },
        ctx,
    )?;
    notices.extend(areas.notices.iter().cloned());
    let weights: Vec<u64> = match &premises.weights {
        None => vec![1; premises.xy.len()],
        Some(w) => w
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                weight_units(v).ok_or_else(|| {
                    Error::Internal(format!(
                        "premise {} has weight {v}, which the reader should have refused",
                        premises.ids.display(i)
                    ))
                })
            })
            .collect::<Result<_>>()?,
    };
    let index = PolygonIndex::new(&areas.areas);
    let s = spread(&index, &areas.persons, &premises.xy, &weights);
    // Areas that hold no premise at all lie elsewhere (or in another CRS than they say):
    // every household would be zero. That is an error, not a result.
    if s.premises_outside() == premises.xy.len() && !premises.xy.is_empty() {
        return Err(Error::Usage(format!(
            "{}: its {} population areas cover none of the {} premises: they lie elsewhere, or their CRS ({}) is not what the file says",
            input.path.display(),
            areas.persons.len(),
            premises.xy.len(),
            areas.info.crs
        )));
    }
    let total: u64 = areas.persons.iter().map(|&p| u64::from(p)).sum();
    let placed = s.placed_persons();
    let mut unplaced: Vec<UnplacedArea> = s
        .unplaced
        .iter()
        .map(|&k| UnplacedArea {
            id: areas.ids[k as usize].clone(),
            persons: areas.persons[k as usize],
            premises: s.premises[k as usize],
        })
        .collect();
    let unplaced_persons: u64 = unplaced.iter().map(|u| u64::from(u.persons)).sum();
    if placed + unplaced_persons != total {
        return Err(Error::Internal(format!(
            "population: {placed} persons placed and {unplaced_persons} not, of {total}"
        )));
    }
    unplaced.sort_by(|a, b| b.persons.cmp(&a.persons).then_with(|| a.id.cmp(&b.id)));
    let unplaced_areas = unplaced.len();
    unplaced.truncate(UNPLACED_LISTED);
    let households: Vec<u32> = s
        .persons
        .iter()
        .map(|&p| households_of(p, input.persons_per_household))
        .collect();
    let summary = PopulationSummary {
        path: input.path.display().to_string(),
        field: input.field.name.clone(),
        weighted_by: premises.weighted_by.clone(),
        persons_per_household: input.persons_per_household,
        areas: areas.persons.len(),
        persons: total,
        placed_persons: placed,
        unplaced_areas,
        unplaced_persons,
        unplaced,
        premises_in_areas: premises.xy.len() - s.premises_outside(),
        premises_outside: s.premises_outside(),
        premises_with_persons: s.persons.iter().filter(|&&p| p > 0).count(),
        households: households.iter().map(|&h| u64::from(h)).sum(),
    };
    if unplaced_areas > 0 {
        let first = &summary.unplaced[0];
        notices.push(format!(
            "{}: {unplaced_persons} of {total} persons are in {unplaced_areas} areas without a premise to place them on (the largest: '{}', {} persons); they are counted in run.json's population, not in any table",
            input.path.display(),
            first.id,
            first.persons
        ));
    }
    if summary.premises_outside > 0 {
        notices.push(format!(
            "{}: {} of {} premises lie outside every population area, so they have no persons and no households",
            input.path.display(),
            summary.premises_outside,
            premises.xy.len()
        ));
    }
    premises.households = households;
    premises.persons = Some(s.persons);
    premises.weights = None;
    Ok((summary, areas.info))
}
