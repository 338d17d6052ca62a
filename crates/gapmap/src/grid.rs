//! `gapmap grid`: an analysis' premises aggregated to SCB's national grid (250 m, 1 km),
//! to H3 cells and to region layers (kommuner, län), with the settlement table's metrics,
//! as styled GeoJSON, one styled GeoPackage and CSV/Parquet tables.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::run_info::read_complete_analysis;
use gapmap_core::aid::AreaClassRule;
use gapmap_core::cells::{self, Groups, H3Mode};
use gapmap_core::geo::{Coord, MultiPolygon};
use gapmap_core::goals::Goal;
use gapmap_core::par::SpatialOrder;
use gapmap_core::polygon_index::PolygonIndex;
use gapmap_core::settlement;
use gapmap_core::summary::{self, Tally};
use gapmap_io::crs::Transform;
use gapmap_io::read::analysis::{read_analysed_premises, AnalysedPremises};
use gapmap_io::read::{
    read_regions, read_settlements, FieldChoice, SettlementOptions, Settlements,
};
use gapmap_io::write::features::{Column, FeatureTable, GeomRef};
use gapmap_io::write::geojson::write_geojson;
use gapmap_io::write::gpkg::{write_gpkg, OutLayer, MULTI_POLYGON};
use gapmap_io::write::postgis::DbTable;
use gapmap_io::write::staging::{check_output_dir, Staging};
use gapmap_io::write::style::{Paint, SimpleStyle};
use gapmap_io::Lang;
use gapmap_io::{write::style, write::tables, Crs, ReadContext};
use serde_json::json;

use crate::bundled;
use crate::error::{check_number, Error, Result};
use crate::progress;
use crate::progress::Bar;
use crate::run_info::utc_now;
use std::fmt::Write as _;

/// H3 containment mode for settlements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum ModeArg {
    /// Every cell that meets a settlement, and the cell holding a settlement smaller than one.
    Covers,
    /// The same as `covers`: H3's "intersects boundary" mode also gives a settlement that lies
    /// inside one cell that cell, so the two cannot differ as their names say (kept for
    /// scripts that name it).
    Intersects,
    /// Every cell whose centre lies in a settlement.
    Centroid,
}

/// `gapmap grid` options.
#[derive(Debug)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct GridPlan {
    /// The analysis directory (what `gapmap analyze` wrote, with premises.parquet).
    #[cfg_attr(
        feature = "clap",
        arg(value_name = "ANALYSIS", default_value = "gapmap-out")
    )]
    pub analysis: PathBuf,
    /// Output directory [default: ANALYSIS/grid].
    #[cfg_attr(feature = "clap", arg(long, value_name = "DIR"))]
    pub out: Option<PathBuf>,
    /// Replace gapmap's files in an existing, non-empty output directory.
    #[cfg_attr(feature = "clap", arg(long))]
    pub overwrite: bool,
    /// The grid layers into PostGIS too, as tables `grid_<layer>` (`--out-db`, `--db-schema`).
    #[cfg_attr(feature = "clap", command(flatten))]
    pub db: crate::database::DbPlan,
    /// SCB grid cell sizes in metres, comma-separated (SCB publishes 250 m and 1 km; any
    /// multiple of 50 m aligns to the same national grid); `--scb ''` for none.
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            value_name = "M",
            value_delimiter = ',',
            default_value = "250,1000"
        )
    )]
    pub scb: Vec<String>,
    /// H3 resolutions (0-15), comma-separated, e.g. 7,8 (resolution 8 cells are about 0.7 km²).
    #[cfg_attr(feature = "clap", arg(long, value_name = "RES", value_delimiter = ','))]
    pub h3: Vec<u8>,
    /// Which H3 cells a settlement gets, besides those holding its premises.
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value = "covers"))]
    pub h3_mode: ModeArg,
    /// Settlement polygons for the H3 cover [default: ANALYSIS/settlements.geojson].
    #[cfg_attr(feature = "clap", arg(long, value_name = "PATH"))]
    pub settlements: Option<PathBuf>,
    /// Region layers (polygons), e.g. kommuner and län; repeatable. Default for an analysis of
    /// the bundled region: its kommuner and län.
    #[cfg_attr(feature = "clap", arg(long, value_name = "PATH"))]
    pub regions: Vec<PathBuf>,
    /// Id field of each --regions layer, comma-separated in the same order (one value applies
    /// to all) [default: id; else the feature id].
    #[cfg_attr(
        feature = "clap",
        arg(long, value_name = "FIELD", value_delimiter = ',')
    )]
    pub region_id_field: Vec<String>,
    /// Name field of each --regions layer, comma-separated in the same order [default: name].
    #[cfg_attr(
        feature = "clap",
        arg(long, value_name = "FIELD", value_delimiter = ',')
    )]
    pub region_name_field: Vec<String>,
    /// Write every metric column into the GeoJSON maps too (by default they carry the key
    /// columns; the CSV, Parquet and GeoPackage always have all).
    #[cfg_attr(feature = "clap", arg(long))]
    pub full_geojson: bool,
    /// Premises outside every region join the nearest region within this distance, in metres
    /// (generalised boundaries cut off coastal premises); 0 turns this off.
    #[cfg_attr(
        feature = "clap",
        arg(long, value_name = "M", default_value_t = 2000.0)
    )]
    pub region_snap_m: f64,
}

/// One aggregation layer, ready to write.
struct Layer {
    name: String,
    /// Geometries in the working CRS.
    areas: Vec<MultiPolygon<f64>>,
    columns: Vec<(String, Column<'static>)>,
    premises_outside: u64,
    /// Premises outside every region that joined the nearest one (--region-snap-m).
    premises_snapped: usize,
}

/// `gapmap grid`: an analysis aggregated to grid squares, H3 cells and regions; returns the terminal summary.
pub fn run(args: GridPlan) -> Result<String> {
    let mut summary = String::new();
    let t0 = Instant::now();
    let started_utc = utc_now();
    let mut sizes = Vec::new();
    for s in args.scb.iter().filter(|s| !s.trim().is_empty()) {
        match s.trim().parse::<u32>() {
            Ok(m) if m >= 50 && m.is_multiple_of(50) => sizes.push(m),
            _ => {
                return Err(Error::Usage(format!(
                    "--scb: '{s}' is not a cell size in metres (a multiple of 50, e.g. 250 or 1000)"
                )))
            }
        }
    }
    sizes.sort_unstable();
    sizes.dedup();
    check_number("--region-snap-m", args.region_snap_m, 0.0, true)?;
    let mut resolutions = Vec::new();
    for &r in &args.h3 {
        resolutions.push((
            r,
            cells::h3_resolution(r)
                .ok_or_else(|| Error::Usage(format!("--h3: {r} is not an H3 resolution (0-15)")))?,
        ));
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| args.analysis.join("grid"));
    check_output_dir(&out, args.overwrite)?;
    args.db.check("grid", &[], args.overwrite)?;

    let run = read_complete_analysis(&args.analysis)?;
    let goals = run.goals()?;
    let rule = run.area_class_rule()?;
    let premises = read_analysed_premises(&args.analysis)?;
    let crs = Crs::parse(&premises.crs, "the CRS of premises.parquet")?;
    let bundled_region = run.parameters.bundled_region;
    let mut region_inputs: Vec<(PathBuf, Option<String>, Option<String>)> = Vec::new();
    if args.regions.is_empty() && bundled_region {
        if let Ok(r) = bundled::locate() {
            for (p, id, name) in r.regions {
                region_inputs.push((p, Some(id.into()), Some(name.into())));
            }
        }
    }
    let pick = |v: &[String], i: usize| -> Option<String> {
        match v.len() {
            0 => None,
            1 => Some(v[0].clone()),
            _ => v.get(i).cloned(),
        }
    };
    if args.region_id_field.len() > 1 && args.region_id_field.len() != args.regions.len() {
        return Err(Error::Usage(format!(
            "--region-id-field has {} values for {} --regions layers; give one, or one per layer",
            args.region_id_field.len(),
            args.regions.len()
        )));
    }
    for (i, p) in args.regions.iter().enumerate() {
        region_inputs.push((
            p.clone(),
            pick(&args.region_id_field, i),
            pick(&args.region_name_field, i),
        ));
    }

    // Each premise's gap id when the gap is unserved, for the unserved-cluster counts.
    let unserved_gap: Vec<Option<u32>> = premises
        .gap_id
        .iter()
        .zip(&premises.gap_kind)
        .map(|(g, k)| g.filter(|_| k.as_deref() == Some("unserved")))
        .collect();
    let mut layers: Vec<Layer> = Vec::new();
    // Squares on the working CRS's grid: SCB's national grid (ids `rutid`) when the analysis
    // is in SWEREF 99 TM; otherwise named by size and CRS (SCB's names and ids mean nothing on
    // a UTM grid in Norway).
    if !sizes.is_empty() {
        let scb = is_scb_grid(&crs);
        let crs_tag: String = crs
            .label()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_lowercase();
        for &size in &sizes {
            let groups = cells::scb_cells(&premises.xy, size);
            let areas: Vec<MultiPolygon<f64>> = groups
                .keys
                .iter()
                .map(|&(e, n)| cells::scb_square(e, n, size))
                .collect();
            let mut columns: Vec<(String, Column<'static>)> = vec![
                (
                    "cell_id".into(),
                    Column::Text(
                        groups
                            .keys
                            .iter()
                            .map(|&(e, n)| Some(Cow::Owned(square_id(scb, e, n))))
                            .collect(),
                    ),
                ),
                (
                    "size_m".into(),
                    Column::Int(vec![i64::from(size); groups.keys.len()]),
                ),
            ];
            let (mut metric, outside) = metrics(
                &groups.of,
                groups.keys.len(),
                &premises,
                &unserved_gap,
                &goals,
                rule,
            );
            columns.append(&mut metric);
            layers.push(Layer {
                name: if scb {
                    format!("scb_{}", size_name(size))
                } else {
                    format!("grid_{}_{crs_tag}", size_name(size))
                },
                areas,
                columns,
                premises_outside: outside,
                premises_snapped: 0,
            });
        }
    }
    // H3 cells: the cells of the premises and the cells covering each settlement.
    let mut h3_settlements: Option<String> = None;
    if !resolutions.is_empty() {
        let wgs84 = Crs::wgs84();
        let lonlat = reproject_premises(&premises.xy, &crs, &wgs84)?;
        let (settlements, spath) = cover_outlines(&args, &run, &wgs84)?;
        h3_settlements = Some(spath.display().to_string());
        let to_working = Transform::new(&wgs84, &crs).map_err(Error::Internal)?;
        let mode = match args.h3_mode {
            ModeArg::Covers => H3Mode::Covers,
            ModeArg::Intersects => H3Mode::Covers,
            ModeArg::Centroid => H3Mode::Centroid,
        };
        for &(r, res) in &resolutions {
            let of_premise = cells::h3_cells(&lonlat, res);
            let cover = cells::h3_cover(&settlements.areas, res, mode);
            let mut all: Vec<Option<u64>> = of_premise.clone();
            all.extend(cover.iter().flatten().map(|&c| Some(c)));
            let groups: Groups<u64> = cells::group(&all);
            let n = groups.keys.len();
            let premise_group = groups.of[..premises.xy.len()].to_vec();
            // Settlements per cell.
            let mut in_cell: Vec<Vec<u32>> = vec![Vec::new(); n];
            for (s, cs) in cover.iter().enumerate() {
                for c in cs {
                    let Ok(k) = groups.keys.binary_search(c) else {
                        continue; // every cell of a cover is a key of the groups
                    };
                    in_cell[k].push(s as u32);
                }
            }
            let areas: Vec<MultiPolygon<f64>> = groups
                .keys
                .iter()
                .map(|&c| MultiPolygon::new(cells::h3_boundary(c).into_iter().collect::<Vec<_>>()))
                .collect();
            let areas = reproject_cells(&areas, &to_working)?;
            let mut columns: Vec<(String, Column<'static>)> = vec![
                (
                    "cell_id".into(),
                    Column::Text(
                        groups
                            .keys
                            .iter()
                            .map(|&c| Some(Cow::Owned(cells::h3_name(c))))
                            .collect(),
                    ),
                ),
                ("resolution".into(), Column::Int(vec![i64::from(r); n])),
                (
                    "settlements".into(),
                    Column::Text(
                        in_cell
                            .iter()
                            .map(|ss| {
                                Some(Cow::Owned(
                                    ss.iter()
                                        .map(|&s| settlements.ids[s as usize].as_str())
                                        .collect::<Vec<_>>()
                                        .join(";"),
                                ))
                            })
                            .collect(),
                    ),
                ),
            ];
            let (mut metric, outside) =
                metrics(&premise_group, n, &premises, &unserved_gap, &goals, rule);
            columns.append(&mut metric);
            let uncovered = cover.iter().filter(|c| c.is_empty()).count();
            if uncovered > 0 {
                progress::notice(&format!(
                    "H3 resolution {r}: {uncovered} settlements have no cell in --h3-mode {:?}",
                    args.h3_mode
                ));
            }
            layers.push(Layer {
                name: format!("h3_r{r}"),
                areas,
                columns,
                premises_outside: outside,
                premises_snapped: 0,
            });
        }
    }
    // Regions.
    let ctx = ReadContext::new(crs.clone());
    let order = SpatialOrder::new(&premises.xy);
    for (path, id_field, name_field) in &region_inputs {
        let regions = read_regions(
            &SettlementOptions {
                path: path.clone(),
                layer: None,
                id_field: FieldChoice::new(id_field.as_deref(), "id", "--region-id-field"),
                name_field: FieldChoice::new(name_field.as_deref(), "name", "--region-name-field"),
                population_field: None,
                filter: None,
            },
            &ctx,
        )?;
        for n in &regions.notices {
            progress::notice(n);
        }
        let index = PolygonIndex::new(&regions.areas);
        let bar = Bar::new(premises.xy.len() as u64, "regions");
        let mut of = settlement::assign(&index, &premises.xy, &order, &bar);
        bar.finish();
        let snapped = settlement::snap_to_nearest(
            &index,
            &regions.areas,
            &premises.xy,
            &mut of,
            args.region_snap_m,
        );
        let n = regions.ids.len();
        let text =
            |v: &[String]| Column::Text(v.iter().map(|s| Some(Cow::Owned(s.clone()))).collect());
        let mut columns = vec![
            ("region_id".to_string(), text(&regions.ids)),
            ("region_name".to_string(), text(&regions.names)),
        ];
        let (mut metric, outside) = metrics(&of, n, &premises, &unserved_gap, &goals, rule);
        columns.append(&mut metric);
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("regions")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect::<String>();
        let mut name = format!("region_{stem}");
        while layers.iter().any(|l| l.name == name) {
            name.push('_');
        }
        layers.push(Layer {
            name,
            areas: regions.areas,
            columns,
            premises_outside: outside,
            premises_snapped: snapped,
        });
    }
    if layers.is_empty() {
        return Err(Error::Usage(
            "nothing to aggregate to: give --scb sizes, --h3 resolutions or --regions".into(),
        ));
    }

    // Write.
    let mut staging = Staging::begin(&out, args.overwrite)?;
    let mut written = Vec::new();
    // Without a fibre layer in the analysis, no area's fibre share was measured.
    let fibre_known = run.has_input(&["fibre"]);
    let tables_ft: Vec<FeatureTable<'_>> = layers
        .iter()
        .map(|l| feature_table(l, true, fibre_known))
        .collect();
    let web_ft: Vec<FeatureTable<'_>> = layers
        .iter()
        .map(|l| feature_table(l, args.full_geojson, fibre_known))
        .collect();
    let qml = style::settlements_qml(run.parameters.lang, fibre_known);
    let out_layers: Vec<OutLayer<'_>> = layers
        .iter()
        .zip(&tables_ft)
        .map(|(l, t)| OutLayer {
            name: &l.name,
            geometry_type: MULTI_POLYGON,
            table: t,
            qml: Some(qml.clone()),
        })
        .collect();
    let gpkg_path = staging.file("grid.gpkg");
    let paths: Vec<[PathBuf; 4]> = layers
        .iter()
        .map(|l| {
            ["geojson", "qml", "csv", "parquet"].map(|e| staging.file(&format!("{}.{e}", l.name)))
        })
        .collect();
    // The GeoPackage on its own thread (GDAL parses its own CRS there), the rest here.
    let (crs_wkt, crs_label) = (crs.wkt(), crs.label().to_string());
    std::thread::scope(|scope| -> Result<()> {
        let gpkg = scope.spawn(|| -> Result<()> {
            let own = Crs::parse(&crs_wkt, &crs_label)?;
            write_gpkg(&gpkg_path, &own, &out_layers)?;
            Ok(())
        });
        for ((layer, table), [geojson, qml_path, csv, parquet]) in
            layers.iter().zip(&web_ft).zip(&paths)
        {
            write_geojson(geojson, &layer.name, &crs, table)?;
            std::fs::write(qml_path, &qml).map_err(|e| crate::error::write_error(qml_path, e))?;
            let mut df = tables::frame_from_columns(&layer.columns)?;
            tables::write_csv(&mut df, csv)?;
            tables::write_parquet(&mut df, parquet, None)?;
            written.extend(
                ["geojson", "qml", "csv", "parquet"].map(|e| format!("{}.{e}", layer.name)),
            );
        }
        gpkg.join()
            .map_err(|_| crate::error::panicked("the GeoPackage writer"))??;
        Ok(())
    })?;
    written.push("grid.gpkg".into());
    let record = json!({
        "tool": "gapmap",
        "version": env!("CARGO_PKG_VERSION"),
        "command": "grid",
        "started_utc": started_utc,
        "analysis": args.analysis.display().to_string(),
        "analysis_started_utc": run.started_utc,
        "working_crs": crs.label(),
        "parameters": {
            "scb_m": sizes,
            "h3": args.h3,
            "h3_mode": format!("{:?}", args.h3_mode).to_lowercase(),
            "h3_settlements": h3_settlements,
            "region_snap_m": args.region_snap_m,
            "regions": region_inputs.iter().map(|(p, i, n)| json!({
                "path": p.display().to_string(), "id_field": i, "name_field": n,
            })).collect::<Vec<_>>(),
            "goals": goals.iter().map(|g| g.name.clone()).collect::<Vec<_>>(),
        },
        "layers": layers.iter().map(|l| json!({
            "name": l.name,
            "areas": l.areas.len(),
            "premises_outside": l.premises_outside,
            "premises_snapped": l.premises_snapped,
        })).collect::<Vec<_>>(),
        "seconds": t0.elapsed().as_secs_f64(),
        "outputs": written.iter().chain(std::iter::once(&"grid.json".to_string())).collect::<Vec<_>>(),
    });
    let db_names: Vec<String> = layers.iter().map(|l| format!("grid_{}", l.name)).collect();
    let mut record = record;
    if let Some(db) = args.db.record(
        "grid",
        &db_names.iter().map(String::as_str).collect::<Vec<_>>(),
    )? {
        record["database"] = json!(db);
    }
    let record_path = staging.file("grid.json");
    crate::run_info::write_json(&record, &record_path)?;
    let db_tables = db_names
        .iter()
        .zip(&tables_ft)
        .map(|(n, t)| DbTable::of_features(n, MULTI_POLYGON, t, Some(qml.clone())))
        .collect();
    args.db
        .write_with_record("grid", &crs, db_tables, &record_path, args.overwrite)?;
    staging.commit()?;
    let lang = run.parameters.lang;
    for l in &layers {
        let mut extra = Vec::new();
        if l.premises_snapped > 0 {
            extra.push(match lang {
                Lang::En => format!(
                    "{} premises outside joined the nearest within --region-snap-m",
                    l.premises_snapped
                ),
                Lang::Sv => format!(
                    "{} adresser utanför fördes till närmaste område inom --region-snap-m",
                    l.premises_snapped
                ),
            });
        }
        if l.premises_outside > 0 {
            extra.push(match lang {
                Lang::En => format!("{} premises outside every area", l.premises_outside),
                Lang::Sv => format!("{} adresser utanför alla områden", l.premises_outside),
            });
        }
        let _ = writeln!(
            summary,
            "{:<18} {:>7} {}{}",
            l.name,
            l.areas.len(),
            lang.pick("areas", "områden"),
            if extra.is_empty() {
                String::new()
            } else {
                format!(" ({})", extra.join("; "))
            }
        );
    }
    let _ = match lang {
        Lang::En => writeln!(
            summary,
            "wrote {} files to {} in {:.1} s",
            written.len() + 1,
            out.display(),
            t0.elapsed().as_secs_f64()
        ),
        Lang::Sv => writeln!(
            summary,
            "skrev {} filer till {} på {} s",
            written.len() + 1,
            out.display(),
            lang.decimal(t0.elapsed().as_secs_f64(), 1)
        ),
    };
    Ok(summary)
}

/// `250m`, `1km`, `5km`.
fn size_name(m: u32) -> String {
    if m.is_multiple_of(1000) {
        format!("{}km", m / 1000)
    } else {
        format!("{m}m")
    }
}

/// True when the squares of an analysis in `crs` are SCB's national grid: in SWEREF 99 TM.
pub(crate) fn is_scb_grid(crs: &Crs) -> bool {
    crs.label() == "EPSG:3006"
}

/// The id of the grid square with south-west corner (`e`, `n`): SCB's `rutid` on SCB's grid,
/// `E<e>N<n>` on any other ([`is_scb_grid`]).
pub(crate) fn square_id(scb: bool, e: i64, n: i64) -> String {
    if scb {
        cells::scb_id(e, n)
    } else {
        format!("E{e}N{n}")
    }
}

/// The settlement outlines for the H3 cover, at full resolution as every analysis uses them:
/// `--settlements` when given; else the analysis' own settlement input (from its run.json's
/// plan), when it is still there unchanged (its SHA-256 as run.json records it); else, with a
/// notice, the analysis' `settlements.geojson`, whose outlines are simplified for the web map
/// (a settlement reaching a few metres into a cell may then miss it).
fn cover_outlines(
    args: &GridPlan,
    run: &crate::run_info::RunInfo,
    wgs84: &Crs,
) -> Result<(Settlements, PathBuf)> {
    let read = |path: &Path,
                layer: Option<String>,
                id: Option<&str>,
                name: Option<&str>,
                ctx: &ReadContext| {
        read_settlements(
            &SettlementOptions {
                path: path.to_path_buf(),
                layer,
                id_field: FieldChoice::new(id, "id", "--settlements (id field)"),
                name_field: FieldChoice::new(name, "settlement_name", "--settlements (name field)"),
                population_field: None,
                filter: None,
            },
            ctx,
        )
    };
    if let Some(p) = &args.settlements {
        let s = read(p, None, None, None, &ReadContext::new(wgs84.clone()))?;
        return Ok((s, p.clone()));
    }
    // The analysis' input, unchanged.
    let input = run.plan.as_ref().and_then(|plan| {
        let path = plan.settlements.clone()?;
        let recorded = run
            .inputs
            .iter()
            .find(|i| i.role == "settlements")?
            .sha256
            .clone()?;
        (gapmap_io::read::sha256_file(&path)? == recorded).then_some((path, plan))
    });
    if let Some((path, plan)) = input {
        let mut ctx = ReadContext::new(wgs84.clone());
        ctx.assume_crs = plan
            .assume_crs
            .as_deref()
            .map(|c| Crs::parse(c, "--assume-crs"))
            .transpose()?;
        let s = read(
            &path,
            plan.settlements_layer.clone(),
            plan.settlement_id_field.as_deref(),
            plan.settlement_name_field.as_deref(),
            &ctx,
        )?;
        return Ok((s, path));
    }
    let path = args.analysis.join("settlements.geojson");
    progress::notice(&format!(
        "H3 cover: the analysis' settlement input is not where run.json says, or has changed; using {}, whose outlines are simplified for the web map (give --settlements for full resolution)",
        path.display()
    ));
    let s = read(
        &path,
        None,
        Some("settlement_id"),
        None,
        &ReadContext::new(wgs84.clone()),
    )?;
    Ok((s, path))
}

/// The metric columns of `num_groups` areas, and the premises in none. `unserved_gap` is
/// each premise's gap id when its gap is unserved.
fn metrics(
    of: &[Option<u32>],
    num_groups: usize,
    premises: &AnalysedPremises,
    unserved_gap: &[Option<u32>],
    goals: &[Goal],
    rule: AreaClassRule,
) -> (Vec<(String, Column<'static>)>, u64) {
    let mut tallies: Vec<Tally> = summary::tally(num_groups, of, &premises.outcomes);
    let clusters = cells::distinct_per_group(of, &premises.gap_id, num_groups);
    let unserved = cells::distinct_per_group(of, unserved_gap, num_groups);
    for (t, (c, u)) in tallies.iter_mut().zip(clusters.iter().zip(&unserved)) {
        t.gap_clusters = *c;
        t.unserved_clusters = *u;
    }
    let outside = tallies[num_groups].premises;
    (
        tables::metric_columns(&tallies[..num_groups], goals, rule),
        outside,
    )
}

/// The premises in another CRS.
fn reproject_premises(xy: &[Coord<f64>], from: &Crs, to: &Crs) -> Result<Vec<Coord<f64>>> {
    Transform::new(from, to)
        .and_then(|t| t.points(xy))
        .map_err(|m| Error::Internal(format!("cannot reproject the premises: {m}")))
}

/// Cell polygons in another CRS.
fn reproject_cells(areas: &[MultiPolygon<f64>], t: &Transform) -> Result<Vec<MultiPolygon<f64>>> {
    t.multi_polygons(areas)
        .map_err(|m| Error::Internal(format!("cannot reproject the cells: {m}")))
}

/// Whether a column is one of the key columns of the web maps.
fn key_column(name: &str) -> bool {
    const KEYS: [&str; 20] = [
        "cell_id",
        "size_m",
        "resolution",
        "settlements",
        "region_id",
        "region_name",
        "premises",
        "households",
        "workplaces",
        "fibre_passed",
        "share_fibre_passed",
        "mobile_4g",
        "share_mobile_4g",
        "mobile_5g",
        "unserved",
        "share_unserved",
        "aid_class",
        "aid_white",
        "households_aid_white",
        "share_at_100_mbps",
    ];
    KEYS.contains(&name)
        || (name.starts_with("goal_")
            && (name.ends_with("_share") || name.ends_with("_missing_households")))
}

/// The feature table of a layer, with simplestyle colours by fibre share (grey when the
/// analysis had no fibre layer: `fibre_known` false); `all` columns, or only the key ones.
fn feature_table(l: &Layer, all: bool, fibre_known: bool) -> FeatureTable<'_> {
    let mut t = FeatureTable {
        columns: l
            .columns
            .iter()
            .filter(|(k, _)| all || key_column(k))
            .cloned()
            .collect(),
        geometries: l.areas.iter().map(GeomRef::MultiPolygon).collect(),
    };
    let shares = match l.columns.iter().find(|(k, _)| k == "share_fibre_passed") {
        Some((_, Column::Float(v))) if fibre_known => v.clone(),
        _ => vec![None; l.areas.len()],
    };
    SimpleStyle {
        fill: Some(Paint::Each(
            shares.iter().map(|s| style::share_fill(*s)).collect(),
        )),
        fill_opacity: Some(Paint::All(0.7)),
        stroke: Some(Paint::All("#636363")),
        stroke_width: Some(Paint::All(0.5)),
    }
    .push_to(&mut t, l.areas.len());
    t
}
