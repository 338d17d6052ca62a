//! `gapmap analyze --out-db`: the tables an analysis writes into PostGIS, made from the same
//! tables as its files.

use gapmap_core::geo::{Geometry, Point};
use gapmap_io::write::features::GeomRef;
use gapmap_io::write::gpkg::{MULTI_POLYGON, POINT};
use gapmap_io::write::postgis::{DbChunk, DbTable};
use gapmap_io::write::{style, tables};

use super::compute::Results;
use super::plan::Output;
use super::write::Writer;
use crate::error::Result;

/// The command's name in the database (its record is `analyze_run`).
pub(super) const COMMAND: &str = "analyze";

/// Every table an analysis can write (for the check before the run).
pub(super) const ALL_TABLES: [&str; 6] = [
    "settlements",
    "premises",
    "gaps",
    "aid_areas",
    "critical_links",
    "critical_units",
];

/// Commands whose tables are made from an analysis, and are dropped with its old tables.
pub(super) const DERIVED: [&str; 2] = ["grid", "prioritise"];

/// The tables the analysis `r` writes, in order: the settlement table with the settlements'
/// full-resolution outlines (with tables or maps), the premises as points, the gap clusters
/// and aid areas (with maps), and the critical corridors and units (with `--backbone`).
pub(super) fn table_names(r: &Results) -> Vec<&'static str> {
    let maps = r.plan.wants(Output::Maps);
    let critical = r.resilience.is_some() && r.layers.fibre.is_some();
    let mut names = Vec::new();
    if maps || r.plan.wants(Output::Tables) {
        names.push("settlements");
    }
    if r.plan.wants(Output::Premises) {
        names.push("premises");
    }
    if maps {
        names.push("gaps");
        if r.computed.aid_areas.is_some() {
            names.push("aid_areas");
        }
    }
    if critical {
        names.push("critical_links");
        if r.plan.resilience.critical_units {
            names.push("critical_units");
        }
    }
    names
}

/// Writes the tables of `r` and its run record `run_json` into the plan's database.
pub(super) fn write(r: &Results, run_json: String) -> Result<Vec<String>> {
    let w = Writer::new(r);
    let crs = w.own_crs()?;
    let names = table_names(r);
    let settlement_frame = match names.contains(&"settlements") {
        true => Some(w.settlement_frame()?),
        false => None,
    };
    let premise_rows = w.premise_rows();
    let premise_extra = match names.contains(&"premises") {
        true => w.premise_extra()?,
        false => None,
    };
    let lines = gapmap_io::write::gpkg::MULTI_LINE_STRING;
    let mut out = Vec::new();
    for name in names {
        let table = match name {
            "settlements" => {
                let Some(frame) = &settlement_frame else {
                    continue;
                };
                let (columns, booleans) = tables::columns_from_frame(frame)?;
                let areas = &r.layers.settlements.areas;
                let rows = columns.first().map_or(0, |c| c.1.len());
                DbTable {
                    name: name.into(),
                    geometry_type: MULTI_POLYGON,
                    rows,
                    chunk: Box::new(move |range| {
                        Ok(DbChunk {
                            columns: columns
                                .iter()
                                .map(|(n, c)| {
                                    (
                                        n.clone(),
                                        gapmap_io::write::postgis::slice_column(c, range.clone()),
                                    )
                                })
                                .collect(),
                            // The rural row, last, has no outline.
                            geometries: range
                                .map(|k| areas.get(k).map(GeomRef::MultiPolygon))
                                .collect(),
                        })
                    }),
                    booleans,
                    json: Vec::new(),
                    qml: Some(style::settlements_qml(
                        w.r.plan.lang,
                        w.r.layers.known().fibre,
                    )),
                }
            }
            "premises" => {
                let (rows, extra, w) = (&premise_rows, premise_extra.as_ref(), &w);
                // The boolean columns, from the first rows.
                let (_, booleans) = tables::columns_from_frame(&w.premise_frame(
                    rows,
                    extra,
                    0..rows.xy.len().min(1),
                )?)?;
                DbTable {
                    name: name.into(),
                    geometry_type: POINT,
                    rows: rows.xy.len(),
                    chunk: Box::new(move |range| {
                        let frame = w.premise_frame(rows, extra, range.clone())?;
                        let (mut columns, _) = tables::columns_from_frame(&frame)?;
                        // The point is the geometry.
                        columns.retain(|(n, _)| n != "x" && n != "y");
                        Ok(DbChunk {
                            columns,
                            geometries: rows.xy[range]
                                .iter()
                                .map(|&c| Some(GeomRef::Owned(Geometry::Point(Point(c)))))
                                .collect(),
                        })
                    }),
                    booleans,
                    json: Vec::new(),
                    qml: None,
                }
            }
            "gaps" => DbTable::of_features(
                name,
                MULTI_POLYGON,
                w.gaps(),
                Some(style::gaps_qml(w.r.plan.lang)),
            ),
            "aid_areas" => DbTable::of_features(
                name,
                MULTI_POLYGON,
                w.aid_areas(),
                Some(style::aid_qml(w.r.plan.lang)),
            ),
            "critical_links" => match &w.critical {
                Some(t) => DbTable::of_features(
                    name,
                    lines,
                    t,
                    Some(style::critical_links_qml(w.r.plan.lang)),
                ),
                None => continue,
            },
            "critical_units" => match &w.critical_units {
                Some(t) => DbTable::of_features(name, lines, t, None),
                None => continue,
            },
            _ => continue,
        };
        out.push(table);
    }
    r.plan
        .db
        .write(COMMAND, &crs, out, run_json, r.plan.overwrite, &DERIVED)
}
