//! `gapmap synth`: seeded synthetic premises, fibre and mobile layers on real settlements and
//! a real population grid. This is how the bundled region in `data/` was made.

use std::borrow::Cow;
use std::path::PathBuf;

use anyhow::{Context, Result};
use gapmap_core::geo::{Coord, Geometry, Point};
use gapmap_core::polygon_index::PolygonIndex;
use gapmap_core::settlement;
use gapmap_core::synth::{self, PopCell};
use gapmap_io::geojson::{write_geojson, OutFeature};
use gapmap_io::inputs::{read_settlements, FieldChoice, SettlementOptions};
use gapmap_io::staging::Staging;
use gapmap_io::vector_out::{write_gpkg, OutLayer, LINE_STRING, POINT};
use gapmap_io::{table, tables, Crs, ReadContext};
use serde_json::{json, Map};

use crate::progress::Bar;

/// `gapmap synth` options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Real settlement polygons (e.g. SCB tätorter), any GDAL vector format.
    #[arg(long, value_name = "PATH")]
    pub settlements: PathBuf,
    #[arg(long, value_name = "NAME")]
    pub settlements_layer: Option<String>,
    /// Settlement id field; its leading digits (an SCB kommun code) name the municipal network.
    #[arg(long, value_name = "FIELD", default_value = "id")]
    pub settlement_id_field: String,
    /// Population grid: a CSV or Parquet table of cell centres and population.
    #[arg(long, value_name = "PATH")]
    pub popgrid: PathBuf,
    #[arg(long, value_name = "COLUMN", default_value = "x")]
    pub popgrid_x: String,
    #[arg(long, value_name = "COLUMN", default_value = "y")]
    pub popgrid_y: String,
    #[arg(long, value_name = "COLUMN", default_value = "population")]
    pub popgrid_population: String,
    /// CRS of the grid's coordinates (SCB's grids are SWEREF 99 TM).
    #[arg(long, value_name = "CRS", default_value = "EPSG:3006")]
    pub popgrid_crs: String,
    /// Side of a grid cell, in metres.
    #[arg(long, value_name = "M", default_value_t = 1000.0)]
    pub cell_m: f64,
    /// Inhabitants per premise.
    #[arg(long, value_name = "N", default_value_t = 2.2)]
    pub persons_per_premise: f64,
    /// Seed: the same seed gives the same files.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Output directory.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    #[arg(long)]
    pub overwrite: bool,
}

/// The municipal network owner of a settlement: the leading digits of its id (the kommun code
/// of an SCB tätortskod such as `2080TB103`), or the whole id.
fn network_group(id: &str) -> String {
    let digits: String = id.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() {
        id.to_string()
    } else {
        digits
    }
}

pub fn run(args: Args) -> Result<()> {
    if !(args.cell_m > 0.0 && args.persons_per_premise > 0.0) {
        return Err(
            crate::UsageError("--cell-m and --persons-per-premise must be > 0".into()).into(),
        );
    }
    gapmap_io::staging::check_output_dir(&args.out, args.overwrite)?;
    let target = Crs::parse("EPSG:3006", "synth")?;
    let ctx = ReadContext {
        target: target.clone(),
        assume_crs: None,
        strict: false,
    };
    let settlements = read_settlements(
        &SettlementOptions {
            path: args.settlements.clone(),
            layer: args.settlements_layer.clone(),
            id_field: FieldChoice::new(
                Some(&args.settlement_id_field),
                "id",
                "--settlement-id-field",
            ),
            name_field: FieldChoice::new(None, "name", "--settlement-name-field"),
        },
        &ctx,
    )?;
    let grid_crs = Crs::parse(&args.popgrid_crs, "--popgrid-crs")?;
    let cells: Vec<PopCell> = table::read_point_values(
        &args.popgrid,
        &args.popgrid_x,
        &args.popgrid_y,
        &args.popgrid_population,
        &grid_crs,
        &ctx,
    )?
    .into_iter()
    .map(|(centre, population)| PopCell { centre, population })
    .collect();
    let index = PolygonIndex::new(&settlements.areas);
    let premises = synth::premises_from_grid(
        &cells,
        args.cell_m,
        args.persons_per_premise,
        &index,
        args.seed,
    );
    let xy: Vec<Coord<f64>> = premises.iter().map(|p| p.xy).collect();
    let bar = Bar::new(xy.len() as u64, "settlements");
    let assigned = settlement::assign(&index, &xy, &bar);
    bar.finish();
    let groups: Vec<String> = settlements.ids.iter().map(|id| network_group(id)).collect();
    let (routes, nodes) = synth::fibre(&xy, &assigned, &groups, args.seed);
    let coverage = synth::mobile(&xy, &assigned, settlements.ids.len(), args.seed);

    let mut staging = Staging::begin(&args.out, args.overwrite)?;
    let ids: Vec<i64> = (1..=premises.len() as i64).collect();
    let hh: Vec<u32> = premises.iter().map(|p| p.households).collect();
    let wp: Vec<u32> = premises.iter().map(|p| p.workplaces).collect();
    let mut df = tables::premise_input_frame(&ids, &xy, &hh, &wp)?;
    tables::write_parquet(
        &mut df,
        &staging.file("premises.parquet"),
        Some(target.label()),
    )?;

    let route_features: Vec<OutFeature<'_>> = routes
        .iter()
        .map(|r| {
            let mut p = Map::new();
            p.insert("network".into(), json!(r.network));
            p.insert("kind".into(), json!(r.kind));
            OutFeature {
                properties: p,
                geometry: Cow::Owned(Geometry::LineString(r.line.clone())),
            }
        })
        .collect();
    let node_features: Vec<OutFeature<'_>> = nodes
        .iter()
        .map(|n| {
            let mut p = Map::new();
            p.insert("network".into(), json!(n.network));
            p.insert("kind".into(), json!("central_office"));
            OutFeature {
                properties: p,
                geometry: Cow::Owned(Geometry::Point(Point(n.xy))),
            }
        })
        .collect();
    write_gpkg(
        &staging.file("fibre.gpkg"),
        &target,
        &[
            OutLayer {
                name: "routes",
                geometry_type: LINE_STRING,
                features: &route_features,
                qml: None,
            },
            OutLayer {
                name: "nodes",
                geometry_type: POINT,
                features: &node_features,
                qml: None,
            },
        ],
    )?;
    let cov_features: Vec<OutFeature<'_>> = coverage
        .iter()
        .map(|c| {
            let mut p = Map::new();
            p.insert("operator".into(), json!(c.operator));
            p.insert("tech".into(), json!(c.tech));
            OutFeature {
                properties: p,
                geometry: Cow::Owned(Geometry::MultiPolygon(c.area.clone())),
            }
        })
        .collect();
    write_geojson(
        &staging.file("mobile.geojson"),
        "mobile",
        &target,
        &cov_features,
    )?;
    let summary = json!({
        "tool": "gapmap synth",
        "version": env!("CARGO_PKG_VERSION"),
        "seed": args.seed,
        "settlements": args.settlements.display().to_string(),
        "popgrid": args.popgrid.display().to_string(),
        "cell_m": args.cell_m,
        "persons_per_premise": args.persons_per_premise,
        "grid_cells": cells.len(),
        "population": cells.iter().map(|c| c.population).sum::<f64>(),
        "premises": premises.len(),
        "households": hh.iter().map(|&h| u64::from(h)).sum::<u64>(),
        "workplaces": wp.iter().map(|&w| u64::from(w)).sum::<u64>(),
        "premises_in_settlements": assigned.iter().filter(|s| s.is_some()).count(),
        "fibre_routes": routes.len(),
        "fibre_nodes": nodes.len(),
        "coverage_layers": coverage.iter().map(|c| format!("{} {}", c.operator, c.tech)).collect::<Vec<_>>(),
    });
    std::fs::write(
        staging.file("synth.json"),
        serde_json::to_string_pretty(&summary)? + "\n",
    )
    .context("synth.json")?;
    let files = staging.commit()?;
    println!("{}", serde_json::to_string_pretty(&summary)?);
    println!("Wrote {} files to {}", files.len(), args.out.display());
    Ok(())
}
