//! `gapmap synth`: seeded synthetic workloads on real settlements.
//!
//! Two ways to make premises:
//! - `--premises N`: a national workload, N premises split between settlements in proportion to
//!   their population, and rural villages; the settlements are written too, reprojected to
//!   EPSG:3006. This is what researchers benchmark with.
//! - `--popgrid PATH`: premises from a real population grid; this is how the bundled region in
//!   `data/` was made.
//!
//! Either way, fibre and mobile layers are modelled on the premises. The same seed gives the
//! same files.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use gapmap_core::geo::{Coord, Geometry, Point};
use gapmap_core::par::SpatialOrder;
use gapmap_core::polygon_index::PolygonIndex;
use gapmap_core::settlement;
use gapmap_core::synth::{self, Detail, PopCell, SynthPremise, OPERATORS};
use gapmap_io::read::{read_settlements, FieldChoice, SettlementOptions};
use gapmap_io::write::features::{Column, FeatureTable, GeomRef};
use gapmap_io::write::geojson::write_geojson;
use gapmap_io::write::gpkg::{
    write_gpkg, write_vector, OutLayer, LINE_STRING, MULTI_POLYGON, POINT,
};
use gapmap_io::write::staging::Staging;
use gapmap_io::{read::table, write::tables, Crs, ReadContext};
use serde_json::json;

use crate::error::{Error, Result};
use crate::progress::Bar;
use std::fmt::Write as _;

/// Formats for the mobile coverage layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum MobileFormat {
    /// `mobile.gpkg`, in EPSG:3006.
    Gpkg,
    /// `mobile.geojson`, in WGS 84 (RFC 7946).
    Geojson,
}

/// `gapmap synth` options.
#[derive(Debug)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
#[cfg_attr(feature = "clap", command(group = clap::ArgGroup::new("source").required(true).args(["premises", "popgrid"])))]
pub struct SynthPlan {
    /// Real settlement polygons, e.g. SCB tätorter (any GDAL vector format).
    #[cfg_attr(feature = "clap", arg(long, value_name = "PATH"))]
    pub settlements: PathBuf,
    /// Layer of the settlements file (needed when it has several).
    #[cfg_attr(feature = "clap", arg(long, value_name = "NAME"))]
    pub settlements_layer: Option<String>,
    /// Settlement id field; its leading digits (an SCB kommun code) name the municipal network.
    #[cfg_attr(
        feature = "clap",
        arg(long, value_name = "FIELD", default_value = "tatortskod")
    )]
    pub settlement_id_field: String,
    #[cfg_attr(
        feature = "clap",
        arg(long, value_name = "FIELD", default_value = "tatort")
    )]
    /// Settlement name field.
    pub settlement_name_field: String,
    /// Settlement population field, used with --premises.
    #[cfg_attr(
        feature = "clap",
        arg(long, value_name = "FIELD", default_value = "bef")
    )]
    pub settlement_population_field: String,
    /// Make this many premises: (1 - rural share) in settlements by population, the rest in
    /// rural villages.
    #[cfg_attr(feature = "clap", arg(long, value_name = "N"))]
    pub premises: Option<u64>,
    /// Share of --premises in rural villages.
    #[cfg_attr(
        feature = "clap",
        arg(long, value_name = "SHARE", default_value_t = 0.15)
    )]
    pub rural_share: f64,
    /// Land polygons (e.g. län boundaries): rural villages are placed on land only.
    #[cfg_attr(feature = "clap", arg(long, value_name = "PATH"))]
    pub land: Option<PathBuf>,
    /// Layer of the land file (needed when it has several).
    #[cfg_attr(feature = "clap", arg(long, value_name = "NAME"))]
    pub land_layer: Option<String>,
    /// Make premises from a population grid instead: a CSV or Parquet table of cell centres
    /// and population.
    #[cfg_attr(feature = "clap", arg(long, value_name = "PATH"))]
    pub popgrid: Option<PathBuf>,
    #[cfg_attr(
        feature = "clap",
        arg(long, value_name = "COLUMN", default_value = "x")
    )]
    /// x column of the population grid.
    pub popgrid_x: String,
    #[cfg_attr(
        feature = "clap",
        arg(long, value_name = "COLUMN", default_value = "y")
    )]
    /// y column of the population grid.
    pub popgrid_y: String,
    #[cfg_attr(
        feature = "clap",
        arg(long, value_name = "COLUMN", default_value = "population")
    )]
    /// Population column of the population grid.
    pub popgrid_population: String,
    /// CRS of the grid's coordinates (SCB's grids are SWEREF 99 TM).
    #[cfg_attr(
        feature = "clap",
        arg(long, value_name = "CRS", default_value = "EPSG:3006")
    )]
    pub popgrid_crs: String,
    /// Side of a grid cell, in metres.
    #[cfg_attr(
        feature = "clap",
        arg(long, value_name = "M", default_value_t = 1000.0)
    )]
    pub cell_m: f64,
    /// Inhabitants per premise (with --popgrid).
    #[cfg_attr(feature = "clap", arg(long, value_name = "N", default_value_t = 2.2))]
    pub persons_per_premise: f64,
    /// Mobile operators to model (1 to 4).
    #[cfg_attr(feature = "clap", arg(long, value_name = "N", default_value_t = 4))]
    pub operators: usize,
    /// Format of the mobile coverage layer.
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value_t = MobileFormat::Gpkg))]
    pub mobile_format: MobileFormat,
    /// Also write the premises as a GeoPackage (premises.gpkg).
    #[cfg_attr(feature = "clap", arg(long))]
    pub premises_gpkg: bool,
    /// Seed: the same seed gives the same files.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 7))]
    pub seed: u64,
    /// Output directory.
    #[cfg_attr(feature = "clap", arg(long, value_name = "DIR"))]
    pub out: PathBuf,
    /// Replace gapmap's files in an existing, non-empty output directory.
    #[cfg_attr(feature = "clap", arg(long))]
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

/// `gapmap synth`: seeded synthetic workloads; returns the terminal summary.
pub fn run(args: SynthPlan) -> Result<String> {
    let mut report = String::new();
    if !(args.cell_m > 0.0 && args.persons_per_premise > 0.0) {
        return Err(Error::Usage(
            "--cell-m and --persons-per-premise must be > 0".into(),
        ));
    }
    if !(0.0..=1.0).contains(&args.rural_share) {
        return Err(Error::Usage("--rural-share must be between 0 and 1".into()));
    }
    if !(1..=OPERATORS.len()).contains(&args.operators) {
        return Err(Error::Usage(format!(
            "--operators must be 1 to {}",
            OPERATORS.len()
        )));
    }
    gapmap_io::write::staging::check_output_dir(&args.out, args.overwrite)?;
    let target = Crs::parse("EPSG:3006", "synth")?;
    let ctx = ReadContext::new(target.clone());
    let national = args.premises.is_some();
    let spin = Bar::spinner(&format!("reading {}", args.settlements.display()));
    let settlements = read_settlements(
        &SettlementOptions {
            path: args.settlements.clone(),
            layer: args.settlements_layer.clone(),
            id_field: FieldChoice::new(
                Some(&args.settlement_id_field),
                "id",
                "--settlement-id-field",
            ),
            name_field: FieldChoice::new(
                None,
                &args.settlement_name_field,
                "--settlement-name-field",
            ),
            population_field: national.then(|| {
                FieldChoice::new(
                    Some(&args.settlement_population_field),
                    "bef",
                    "--settlement-population-field",
                )
            }),
            filter: None,
        },
        &ctx,
    )?;
    spin.finish();
    let index = PolygonIndex::new(&settlements.areas);
    let spin = Bar::spinner("making premises");
    let premises: Vec<SynthPremise> = match (args.premises, &args.popgrid) {
        (Some(n), _) => {
            let land = match &args.land {
                Some(path) => {
                    let l = read_settlements(
                        &SettlementOptions {
                            path: path.clone(),
                            layer: args.land_layer.clone(),
                            id_field: FieldChoice::new(None, "id", "--land-layer"),
                            name_field: FieldChoice::new(None, "name", "--land-layer"),
                            population_field: None,
                            filter: None,
                        },
                        &ctx,
                    )?;
                    Some(PolygonIndex::new(&l.areas))
                }
                None => None,
            };
            synth::premises_national(
                &index,
                &settlements.areas,
                &settlements.population,
                n,
                args.rural_share,
                land.as_ref(),
                args.seed,
            )
        }
        (None, Some(grid)) => {
            let grid_crs = Crs::parse(&args.popgrid_crs, "--popgrid-crs")?;
            let cells: Vec<PopCell> = table::read_point_values(
                grid,
                &args.popgrid_x,
                &args.popgrid_y,
                &args.popgrid_population,
                &grid_crs,
                &ctx,
            )?
            .into_iter()
            .map(|(centre, population)| PopCell { centre, population })
            .collect();
            synth::premises_from_grid(
                &cells,
                args.cell_m,
                args.persons_per_premise,
                &index,
                args.seed,
            )
        }
        (None, None) => unreachable!("clap requires --premises or --popgrid"),
    };
    spin.finish();
    let xy: Vec<Coord<f64>> = premises.iter().map(|p| p.xy).collect();
    let bar = Bar::new(xy.len() as u64, "settlements");
    let assigned = settlement::assign(&index, &xy, &SpatialOrder::new(&xy), &bar);
    bar.finish();
    let groups: Vec<String> = settlements.ids.iter().map(|id| network_group(id)).collect();
    let spin = Bar::spinner("modelling fibre");
    let detail = if national {
        Detail::NATIONAL
    } else {
        Detail::REGION
    };
    let (mut routes, nodes, offices) =
        synth::fibre_with_hubs(&xy, &assigned, &groups, detail, args.seed);
    let mut sizes = vec![0usize; settlements.ids.len()];
    for s in assigned.iter().flatten() {
        sizes[*s as usize] += 1;
    }
    let (trunk_routes, backbone) = synth::trunks(&offices, &sizes);
    let trunk_count = trunk_routes.len();
    routes.extend(trunk_routes);
    spin.finish();
    let spin = Bar::spinner("modelling mobile coverage");
    let coverage = synth::mobile(
        &xy,
        &assigned,
        settlements.ids.len(),
        args.operators,
        detail,
        args.seed,
    );
    let cell_sites = synth::sites(
        &xy,
        &assigned,
        settlements.ids.len(),
        args.operators,
        args.seed,
    );
    spin.finish();

    let spin = Bar::spinner(&format!("writing {}", args.out.display()));
    let mut staging = Staging::begin(&args.out, args.overwrite)?;
    let mut files = Vec::new();
    let ids: Vec<i64> = (1..=premises.len() as i64).collect();
    let hh: Vec<u32> = premises.iter().map(|p| p.households).collect();
    let wp: Vec<u32> = premises.iter().map(|p| p.workplaces).collect();
    let mut df = tables::premise_input_frame(&ids, &xy, &hh, &wp)?;
    tables::write_parquet(
        &mut df,
        &staging.file("premises.parquet"),
        Some(target.label()),
    )?;
    files.push("premises.parquet");
    if args.premises_gpkg {
        let points: Vec<Geometry<f64>> = xy.iter().map(|&c| Geometry::Point(Point(c))).collect();
        let mut t = FeatureTable {
            columns: Vec::new(),
            geometries: points.iter().map(GeomRef::Geometry).collect(),
        };
        t.push("id", Column::Int(ids.clone()));
        t.push(
            "households",
            Column::Int(hh.iter().map(|&h| i64::from(h)).collect()),
        );
        t.push(
            "workplaces",
            Column::Int(wp.iter().map(|&w| i64::from(w)).collect()),
        );
        write_vector(
            &staging.file("premises.gpkg"),
            "GPKG",
            Some(&target),
            &[OutLayer {
                name: "premises",
                geometry_type: POINT,
                table: &t,
                qml: None,
            }],
        )?;
        files.push("premises.gpkg");
    }
    let text = |v: Vec<&str>| {
        Column::Text(
            v.into_iter()
                .map(|s| Some(Cow::Owned(s.to_string())))
                .collect(),
        )
    };
    if national {
        let mut t = FeatureTable::of_areas(&settlements.areas);
        t.push(
            "id",
            text(settlements.ids.iter().map(String::as_str).collect()),
        );
        t.push(
            "name",
            text(settlements.names.iter().map(String::as_str).collect()),
        );
        t.push(
            "population",
            Column::Int(settlements.population.iter().map(|&p| p as i64).collect()),
        );
        write_vector(
            &staging.file("settlements.gpkg"),
            "GPKG",
            Some(&target),
            &[OutLayer {
                name: "settlements",
                geometry_type: MULTI_POLYGON,
                table: &t,
                qml: None,
            }],
        )?;
        files.push("settlements.gpkg");
    }
    let lines: Vec<Geometry<f64>> = routes
        .iter()
        .map(|r| Geometry::LineString(r.line.clone()))
        .collect();
    let mut route_table = FeatureTable {
        columns: Vec::new(),
        geometries: lines.iter().map(GeomRef::Geometry).collect(),
    };
    route_table.push(
        "network",
        text(routes.iter().map(|r| r.network.as_str()).collect()),
    );
    route_table.push("kind", text(routes.iter().map(|r| r.kind).collect()));
    let points: Vec<Geometry<f64>> = nodes.iter().map(|n| Geometry::Point(Point(n.xy))).collect();
    let mut node_table = FeatureTable {
        columns: Vec::new(),
        geometries: points.iter().map(GeomRef::Geometry).collect(),
    };
    node_table.push(
        "network",
        text(nodes.iter().map(|n| n.network.as_str()).collect()),
    );
    node_table.push("kind", text(vec!["central_office"; nodes.len()]));
    write_gpkg(
        &staging.file("fibre.gpkg"),
        &target,
        &[
            OutLayer {
                name: "routes",
                geometry_type: LINE_STRING,
                table: &route_table,
                qml: None,
            },
            OutLayer {
                name: "nodes",
                geometry_type: POINT,
                table: &node_table,
                qml: None,
            },
        ],
    )?;
    files.push("fibre.gpkg");
    let bb_points: Vec<Geometry<f64>> = backbone
        .iter()
        .map(|b| Geometry::Point(Point(b.1)))
        .collect();
    let mut bb_table = FeatureTable {
        columns: Vec::new(),
        geometries: bb_points.iter().map(GeomRef::Geometry).collect(),
    };
    bb_table.push(
        "name",
        text(
            backbone
                .iter()
                .map(|b| settlements.names[b.0].as_str())
                .collect(),
        ),
    );
    write_gpkg(
        &staging.file("backbone.gpkg"),
        &target,
        &[OutLayer {
            name: "backbone",
            geometry_type: POINT,
            table: &bb_table,
            qml: None,
        }],
    )?;
    files.push("backbone.gpkg");
    let site_points: Vec<Geometry<f64>> = cell_sites
        .iter()
        .map(|s| Geometry::Point(Point(s.xy)))
        .collect();
    let mut site_table = FeatureTable {
        columns: Vec::new(),
        geometries: site_points.iter().map(GeomRef::Geometry).collect(),
    };
    site_table.push(
        "site_id",
        text(cell_sites.iter().map(|s| s.id.as_str()).collect()),
    );
    site_table.push(
        "operator",
        text(cell_sites.iter().map(|s| s.operator).collect()),
    );
    site_table.push("tech", text(cell_sites.iter().map(|s| s.tech).collect()));
    let num = |f: &dyn Fn(&synth::SynthSite) -> Option<f64>| {
        Column::Float(cell_sites.iter().map(f).collect())
    };
    site_table.push("height_m", num(&|s| Some(s.height_m)));
    site_table.push("frequency_mhz", num(&|s| Some(s.frequency_mhz)));
    site_table.push("eirp_dbm", num(&|s| Some(s.eirp_dbm)));
    site_table.push("bandwidth_mhz", num(&|s| Some(s.bandwidth_mhz)));
    site_table.push("azimuth_deg", num(&|s| s.azimuth_deg));
    site_table.push(
        "beamwidth_deg",
        num(&|s| s.azimuth_deg.map(|_| s.beamwidth_deg)),
    );
    site_table.push("tilt_deg", num(&|s| s.tilt_deg));
    write_gpkg(
        &staging.file("sites.gpkg"),
        &target,
        &[OutLayer {
            name: "sites",
            geometry_type: POINT,
            table: &site_table,
            qml: None,
        }],
    )?;
    files.push("sites.gpkg");
    let mut cov_table = FeatureTable {
        columns: Vec::new(),
        geometries: coverage
            .iter()
            .map(|c| GeomRef::MultiPolygon(&c.area))
            .collect(),
    };
    cov_table.push(
        "operator",
        text(coverage.iter().map(|c| c.operator.as_str()).collect()),
    );
    cov_table.push(
        "tech",
        text(coverage.iter().map(|c| c.tech.as_str()).collect()),
    );
    let mobile_file = match args.mobile_format {
        MobileFormat::Gpkg => {
            write_gpkg(
                &staging.file("mobile.gpkg"),
                &target,
                &[OutLayer {
                    name: "mobile",
                    geometry_type: MULTI_POLYGON,
                    table: &cov_table,
                    qml: None,
                }],
            )?;
            "mobile.gpkg"
        }
        MobileFormat::Geojson => {
            write_geojson(
                &staging.file("mobile.geojson"),
                "mobile",
                &target,
                &cov_table,
            )?;
            "mobile.geojson"
        }
    };
    files.push(mobile_file);
    let vertices = |g: &gapmap_core::geo::MultiPolygon<f64>| -> usize {
        g.0.iter()
            .map(|p| p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>())
            .sum()
    };
    let settlements_file = if national {
        staging.dir().join("settlements.gpkg")
    } else {
        args.settlements.clone()
    };
    let mut summary = json!({
        "tool": "gapmap synth",
        "version": env!("CARGO_PKG_VERSION"),
        "seed": args.seed,
        "settlements": args.settlements.display().to_string(),
        "mode": if national { "national" } else { "popgrid" },
        "premises": premises.len(),
        "households": hh.iter().map(|&h| u64::from(h)).sum::<u64>(),
        "workplaces": wp.iter().map(|&w| u64::from(w)).sum::<u64>(),
        "premises_in_settlements": assigned.iter().filter(|s| s.is_some()).count(),
        "fibre_routes": routes.len(),
        "fibre_nodes": nodes.len(),
        "fibre_trunks": trunk_count,
        "backbone_points": backbone.len(),
        "cell_sites": cell_sites.len(),
        "coverage_layers": coverage.iter().map(|c| format!("{} {}", c.operator, c.tech)).collect::<Vec<_>>(),
        "coverage_vertices": coverage.iter().map(|c| vertices(&c.area)).collect::<Vec<_>>(),
        "analyze": analyze_command(&args.out, &settlements_file, mobile_file, national),
    });
    if let Some(grid) = &args.popgrid {
        summary["popgrid"] = json!(grid.display().to_string());
        summary["cell_m"] = json!(args.cell_m);
        summary["persons_per_premise"] = json!(args.persons_per_premise);
    } else {
        summary["rural_share"] = json!(args.rural_share);
        summary["land"] = json!(args.land.as_ref().map(|p| p.display().to_string()));
    }
    crate::run_info::write_json(&summary, &staging.file("synth.json"))?;
    files.push("synth.json");
    let written = staging.commit()?;
    spin.finish();
    let _ = writeln!(
        report,
        "{}",
        serde_json::to_string_pretty(&summary).map_err(|e| Error::Internal(e.to_string()))?
    );
    let _ = writeln!(
        report,
        "Wrote {} files to {}",
        written.len(),
        args.out.display()
    );
    Ok(report)
}

/// The command that analyses a workload.
fn analyze_command(out: &Path, settlements: &Path, mobile_file: &str, national: bool) -> String {
    let d = out.display();
    let ids = if national {
        String::new()
    } else {
        " --settlement-id-field tatortskod --settlement-name-field tatort".into()
    };
    format!(
        "gapmap analyze --premises {d}/premises.parquet --settlements {}{ids} --fibre {d}/fibre.gpkg --fibre-layer routes --fibre-layer nodes --mobile {d}/{mobile_file} --backbone {d}/backbone.gpkg --out OUT",
        settlements.display()
    )
}
