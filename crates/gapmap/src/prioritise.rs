//! `gapmap prioritise`: candidate fibre projects from an analysis (its gap clusters, or SCB
//! grid cells), each costed (in SEK unless `--currency` says otherwise), and the projects a
//! budget should fund to connect the most households: ranked projects.csv/.parquet,
//! projects.geojson (+ .qml), priorities.json.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::run_info::read_complete_analysis;
use gapmap_core::cells;
use gapmap_core::fibre::FibreIndex;
use gapmap_core::gaps;
use gapmap_core::geo::{Coord, LineString, MultiPolygon};
use gapmap_core::prioritise::{self, Choice, CostModel, RoadGraph};
use gapmap_io::read::analysis::{read_analysed_premises, AnalysedPremises};
use gapmap_io::read::{read_fibre, FibreOptions, FieldChoice};
use gapmap_io::write::features::{Column, FeatureTable, GeomRef};
use gapmap_io::write::geojson::write_geojson;
use gapmap_io::write::postgis::DbTable;
use gapmap_io::write::staging::{check_output_dir, Staging};
use gapmap_io::write::style::{Paint, SimpleStyle};
use gapmap_io::Lang;
use gapmap_io::{write::tables, Crs, ReadContext};
use rayon::prelude::*;
use serde_json::json;

use crate::bundled;
use crate::error::{check_number, Error, Result};
use crate::progress;
use crate::run_info::utc_now;
use std::fmt::Write as _;

/// What a candidate project is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum CandidateArg {
    /// The gap clusters of the analysis (premises without fibre, clustered per settlement).
    Clusters,
    /// The premises without fibre in each SCB 250 m cell.
    #[cfg_attr(feature = "clap", value(name = "scb-250m"))]
    Scb250m,
    /// The premises without fibre in each SCB 1 km cell.
    #[cfg_attr(feature = "clap", value(name = "scb-1km"))]
    Scb1km,
}

/// `gapmap prioritise` options.
#[derive(Debug)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct PrioritisePlan {
    /// The analysis directory (what `gapmap analyze` wrote, with premises.parquet).
    #[cfg_attr(
        feature = "clap",
        arg(value_name = "ANALYSIS", default_value = "gapmap-out")
    )]
    pub analysis: PathBuf,
    /// The budget, in --currency (SEK by default).
    #[cfg_attr(
        feature = "clap",
        arg(long, value_name = "AMOUNT", visible_alias = "budget")
    )]
    pub budget_sek: f64,
    /// The currency of every cost (a code such as SEK, NOK, EUR): it labels the flags' amounts
    /// and names the cost columns (`cost_<code>`); nothing is converted.
    #[cfg_attr(
        feature = "clap",
        arg(long, value_name = "CODE", default_value = "SEK")
    )]
    pub currency: String,
    /// Output directory [default: ANALYSIS/priorities].
    #[cfg_attr(feature = "clap", arg(long, value_name = "DIR"))]
    pub out: Option<PathBuf>,
    /// Replace gapmap's files in an existing, non-empty output directory.
    #[cfg_attr(feature = "clap", arg(long))]
    pub overwrite: bool,
    /// The projects into PostGIS too, as the table `projects` (`--out-db`, `--db-schema`).
    #[cfg_attr(feature = "clap", command(flatten))]
    pub db: crate::database::DbPlan,
    /// Candidate projects.
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value = "clusters"))]
    pub candidates: CandidateArg,
    /// Trenching and cable cost per metre of route, in --currency.
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            value_name = "AMOUNT",
            default_value_t = 350.0,
            visible_alias = "trench-cost-per-m"
        )
    )]
    pub trench_sek_per_m: f64,
    /// Route length over straight-line length (>= 1).
    #[cfg_attr(feature = "clap", arg(long, value_name = "X", default_value_t = 1.3))]
    pub detour_factor: f64,
    /// Fixed cost per premise connected (drop, termination, installation), in --currency.
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            value_name = "AMOUNT",
            default_value_t = 15_000.0,
            visible_alias = "per-premise-cost"
        )
    )]
    pub per_premise_sek: f64,
    /// A road network (lines): feeders follow the shortest road path from the fibre when that
    /// is shorter than the straight route with the detour factor.
    #[cfg_attr(feature = "clap", arg(long, value_name = "PATH"))]
    pub roads: Option<PathBuf>,
    /// Layer of the roads file (needed when it has several).
    #[cfg_attr(feature = "clap", arg(long, value_name = "NAME"))]
    pub roads_layer: Option<String>,
    /// Road vertices closer than this, in metres, are one junction.
    #[cfg_attr(feature = "clap", arg(long, value_name = "M", default_value_t = 1.0))]
    pub road_snap_m: f64,
    /// The fibre for --roads [default: the fibre layers recorded in the analysis' run.json].
    #[cfg_attr(feature = "clap", arg(long, value_name = "PATH"))]
    pub fibre: Vec<PathBuf>,
    /// Layers read from each fibre file.
    #[cfg_attr(feature = "clap", arg(long, value_name = "NAME"))]
    pub fibre_layer: Vec<String>,
}

/// A candidate before costing: kind, key, premises, and its area if it has a fixed one.
type Candidate = (&'static str, String, Vec<u32>, Option<MultiPolygon<f64>>);

/// One candidate project.
struct Project {
    kind: &'static str,
    key: String,
    premises: Vec<u32>,
    settlements: String,
    households: u64,
    workplaces: u64,
    feeder_m: f64,
    internal_m: f64,
    cost_sek: f64,
    area: MultiPolygon<f64>,
}

/// `gapmap prioritise`: candidate projects costed, and the ones a budget funds; returns the terminal summary.
pub fn run(args: PrioritisePlan) -> Result<String> {
    let mut summary = String::new();
    let t0 = Instant::now();
    let started_utc = utc_now();
    for (flag, v, min) in [
        ("--budget-sek", args.budget_sek, 0.0),
        ("--trench-sek-per-m", args.trench_sek_per_m, 0.0),
        ("--per-premise-sek", args.per_premise_sek, 0.0),
        ("--detour-factor", args.detour_factor, 1.0),
        ("--road-snap-m", args.road_snap_m, 0.0),
    ] {
        check_number(flag, v, min, true)?;
    }
    // A currency code labels the amounts and names the cost columns.
    let cur = args.currency.trim().to_lowercase();
    if !(cur.len() == 3 && cur.chars().all(|c| c.is_ascii_alphabetic())) {
        return Err(Error::Usage(format!(
            "--currency must be a three-letter currency code such as SEK, NOK or EUR, got '{}'",
            args.currency
        )));
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| args.analysis.join("priorities"));
    check_output_dir(&out, args.overwrite)?;
    args.db.check("prioritise", &["projects"], args.overwrite)?;
    let run = read_complete_analysis(&args.analysis)?;
    let premises = read_analysed_premises(&args.analysis)?;
    let crs = Crs::parse(&premises.crs, "the CRS of premises.parquet")?;
    let model = CostModel {
        trench_sek_per_m: args.trench_sek_per_m,
        detour_factor: args.detour_factor,
        per_premise_sek: args.per_premise_sek,
    };

    // Feeder per premise: straight with detour, or along the roads.
    let direct: Vec<f64> = premises
        .fibre_distance_m
        .iter()
        .map(|d| d.unwrap_or(f64::INFINITY))
        .collect();
    let mut notices = Vec::new();
    let feeder: Vec<f64> = match &args.roads {
        None => direct.iter().map(|d| d * args.detour_factor).collect(),
        Some(path) => road_feeders(&args, path, &run, &premises, &crs, &direct, &mut notices)?,
    };

    // Candidates: premises without fibre, grouped.
    let unconnected: Vec<bool> = premises.outcomes.iter().map(|o| !o.fibre_passed).collect();
    let groups: Vec<Candidate> = match args.candidates {
        CandidateArg::Clusters => {
            let mut by: std::collections::BTreeMap<u32, Vec<u32>> = Default::default();
            for (i, g) in premises.gap_id.iter().enumerate() {
                if let (Some(g), true) = (g, unconnected[i]) {
                    by.entry(*g).or_default().push(i as u32);
                }
            }
            by.into_iter()
                .map(|(g, m)| ("cluster", format!("gap {g}"), m, None))
                .collect()
        }
        CandidateArg::Scb250m | CandidateArg::Scb1km => {
            let size = if args.candidates == CandidateArg::Scb250m {
                250
            } else {
                1000
            };
            // SCB's grid in SWEREF 99 TM; in another working CRS, that CRS's own grid.
            let scb = crate::grid::is_scb_grid(&crs);
            let keys: Vec<Option<(i64, i64)>> = premises
                .xy
                .iter()
                .zip(&unconnected)
                .map(|(&p, &u)| u.then(|| cells::scb_corner(p, size)))
                .collect();
            let g = cells::group(&keys);
            let mut members = vec![Vec::new(); g.keys.len()];
            for (i, k) in g.of.iter().enumerate() {
                if let Some(k) = k {
                    members[*k as usize].push(i as u32);
                }
            }
            let kind = if scb { "scb cell" } else { "grid cell" };
            g.keys
                .iter()
                .zip(members)
                .map(|(&(e, n), m)| {
                    let sq = cells::scb_square(e, n, size);
                    (kind, crate::grid::square_id(scb, e, n), m, Some(sq))
                })
                .collect()
        }
    };
    let mut projects: Vec<Project> = groups
        .into_par_iter()
        .map(|(kind, key, members, area)| {
            let pts: Vec<Coord<f64>> = members.iter().map(|&i| premises.xy[i as usize]).collect();
            let feeder_m = members
                .iter()
                .map(|&i| feeder[i as usize])
                .fold(f64::INFINITY, f64::min);
            let internal_m = prioritise::mst_length_m(&pts) * model.detour_factor;
            let mut sett: Vec<&str> = members
                .iter()
                .map(|&i| premises.settlement_id[i as usize].as_str())
                .filter(|s| !s.is_empty())
                .collect();
            sett.sort_unstable();
            sett.dedup();
            Project {
                kind,
                key,
                settlements: sett.join(";"),
                households: members
                    .iter()
                    .map(|&i| u64::from(premises.outcomes[i as usize].households))
                    .sum(),
                workplaces: members
                    .iter()
                    .map(|&i| u64::from(premises.outcomes[i as usize].workplaces))
                    .sum(),
                feeder_m,
                internal_m,
                cost_sek: model.cost_sek(feeder_m + internal_m, members.len()),
                area: area.unwrap_or_else(|| gaps::outline(&pts, 25.0, 200.0)),
                premises: members,
            }
        })
        .collect();
    // Projects with no fibre anywhere to connect to cannot be costed.
    let before = projects.len();
    projects.retain(|p| p.cost_sek.is_finite());
    if projects.len() < before {
        notices.push(format!(
            "{} candidate projects have no fibre to connect to (no fibre layer in the analysis) and are left out",
            before - projects.len()
        ));
    }
    let hh: Vec<u64> = projects.iter().map(|p| p.households).collect();
    let costs: Vec<f64> = projects.iter().map(|p| p.cost_sek).collect();
    let choice = prioritise::choose(&hh, &costs, args.budget_sek);

    let mut staging = Staging::begin(&out, args.overwrite)?;
    let table = project_columns(&projects, &choice, &cur);
    let mut df = tables::frame_from_columns(&table)?;
    tables::write_csv(&mut df, &staging.file("projects.csv"))?;
    tables::write_parquet(&mut df, &staging.file("projects.parquet"), None)?;
    let ft = project_features(&projects, &choice, &table);
    write_geojson(&staging.file("projects.geojson"), "projects", &crs, &ft)?;
    {
        let path = staging.file("projects.qml");
        std::fs::write(&path, projects_qml(run.parameters.lang))
            .map_err(|e| crate::error::write_error(path, e))?;
    }
    let premises_connected: usize = (0..projects.len())
        .filter(|&i| choice.chosen[i])
        .map(|i| projects[i].premises.len())
        .sum();
    let record = json!({
        "tool": "gapmap",
        "version": env!("CARGO_PKG_VERSION"),
        "command": "prioritise",
        "started_utc": started_utc,
        "analysis": args.analysis.display().to_string(),
        "analysis_started_utc": run.started_utc,
        "working_crs": crs.label(),
        "parameters": {
            "currency": cur.to_uppercase(),
            format!("budget_{cur}"): args.budget_sek,
            "candidates": format!("{:?}", args.candidates).to_lowercase(),
            format!("trench_{cur}_per_m"): args.trench_sek_per_m,
            "detour_factor": args.detour_factor,
            format!("per_premise_{cur}"): args.per_premise_sek,
            "roads": args.roads.as_ref().map(|p| p.display().to_string()),
            "roads_layer": args.roads_layer,
            "road_snap_m": args.road_snap_m,
        },
        "candidates": projects.len(),
        "chosen": choice.chosen.iter().filter(|c| **c).count(),
        "households_connected": choice.households,
        "premises_connected": premises_connected,
        format!("cost_{cur}"): choice.cost_sek,
        "method": choice.method.as_str(),
        "upper_bound_households": choice.upper_bound_households,
        "households_without_fibre": projects.iter().map(|p| p.households).sum::<u64>(),
        "notices": notices,
        "seconds": t0.elapsed().as_secs_f64(),
        "outputs": ["projects.csv", "projects.parquet", "projects.geojson", "projects.qml", "priorities.json"],
    });
    let mut record = record;
    if let Some(db) = args.db.record("prioritise", &["projects"])? {
        record["database"] = json!(db);
    }
    let record_path = staging.file("priorities.json");
    crate::run_info::write_json(&record, &record_path)?;
    args.db.write_with_record(
        "prioritise",
        &crs,
        vec![DbTable::of_features(
            "projects",
            gapmap_io::write::gpkg::MULTI_POLYGON,
            &ft,
            Some(projects_qml(run.parameters.lang)),
        )],
        &record_path,
        args.overwrite,
    )?;
    staging.commit()?;
    for n in &notices {
        progress::notice(n);
    }
    let lang = run.parameters.lang;
    let (chosen, code) = (
        choice.chosen.iter().filter(|c| **c).count(),
        cur.to_uppercase(),
    );
    let method = method_text(choice.method.as_str(), lang);
    let _ = match lang {
        Lang::En => writeln!(summary,
            "{chosen} of {} candidate projects chosen ({method}): {} households ({premises_connected} premises) for {:.1} M{code} of {:.1} M{code}\nno choice within the budget connects more than {:.0} households; wrote 5 files to {} in {:.1} s",
            projects.len(),
            choice.households,
            choice.cost_sek / 1e6,
            args.budget_sek / 1e6,
            choice.upper_bound_households.floor(),
            out.display(),
            t0.elapsed().as_secs_f64()
        ),
        Lang::Sv => writeln!(summary,
            "{chosen} av {} tänkbara projekt valda ({method}): {} hushåll ({premises_connected} adresser) för {} M{code} av {} M{code}\ninget val inom budgeten ansluter fler än {:.0} hushåll; skrev 5 filer till {} på {} s",
            projects.len(),
            choice.households,
            lang.decimal(choice.cost_sek / 1e6, 1),
            lang.decimal(args.budget_sek / 1e6, 1),
            choice.upper_bound_households.floor(),
            out.display(),
            lang.decimal(t0.elapsed().as_secs_f64(), 1)
        ),
    };
    Ok(summary)
}

/// How the projects were chosen (`priorities.json`'s `method`), in `lang`.
pub(crate) fn method_text(method: &str, lang: Lang) -> &str {
    match (lang, method) {
        (Lang::Sv, "greedy by households per unit of cost") => {
            "girigt urval efter hushåll per kostnad"
        }
        (Lang::Sv, "single best project") => "det enskilt bästa projektet",
        _ => method,
    }
}

/// The lines of `--roads` (its `--roads-layer`), in `ctx`'s CRS: what prioritise routes
/// feeders along, and what map.html draws.
pub(crate) fn read_roads(
    path: &Path,
    layer: Option<&str>,
    ctx: &ReadContext,
) -> Result<Vec<LineString<f64>>> {
    let roads = read_fibre(
        &FibreOptions {
            role: "roads",
            layer_flag: "--roads-layer",
            filter: None,
            ..FibreOptions::fibre(
                vec![path.to_path_buf()],
                layer.map(str::to_string).into_iter().collect(),
                FieldChoice::new(None, "network", "--roads"),
                None,
            )
        },
        ctx,
    )?;
    Ok(roads
        .features
        .iter()
        .flat_map(|f| f.lines.0.iter().cloned())
        .collect())
}

/// Feeder lengths along the roads (see [`prioritise::road_feeders_m`]).
fn road_feeders(
    args: &PrioritisePlan,
    roads_path: &Path,
    run: &crate::run_info::RunInfo,
    premises: &AnalysedPremises,
    crs: &Crs,
    direct: &[f64],
    notices: &mut Vec<String>,
) -> Result<Vec<f64>> {
    let ctx = ReadContext::new(crs.clone());
    let lines = read_roads(roads_path, args.roads_layer.as_deref(), &ctx)?;
    // The fibre: as given, or as the analysis read it.
    let (paths, layers) = if args.fibre.is_empty() {
        let mut paths = Vec::new();
        let mut layers = Vec::new();
        for i in &run.inputs {
            if i.role == "fibre" {
                let mut p = PathBuf::from(&i.path);
                if !p.exists() && run.parameters.bundled_region {
                    if let Ok(r) = bundled::locate() {
                        p = r.fibre;
                    }
                }
                if !paths.contains(&p) {
                    paths.push(p);
                }
                if let Some(l) = i.layer.as_deref() {
                    if !layers.iter().any(|x: &String| x == l) {
                        layers.push(l.to_string());
                    }
                }
            }
        }
        if paths.is_empty() {
            return Err(Error::Usage(
                "--roads needs the fibre: the analysis had no fibre layer; give --fibre".into(),
            ));
        }
        (paths, layers)
    } else {
        (args.fibre.clone(), args.fibre_layer.clone())
    };
    let fibre = read_fibre(
        &FibreOptions::fibre(
            paths,
            layers,
            FieldChoice::new(None, "network", "--fibre"),
            None,
        ),
        &ctx,
    )?;
    let graph = RoadGraph::new(&lines, args.road_snap_m, 50.0);
    let index = FibreIndex::new(&fibre.features);
    let vertex_fibre_m: Vec<f64> = graph
        .vertices
        .par_iter()
        .map_init(Vec::new, |scratch, &v| {
            index.reach(v, 0.0, scratch).distance_m
        })
        .collect();
    notices.push(format!(
        "roads: {} lines, {} graph vertices",
        lines.len(),
        graph.vertices.len()
    ));
    Ok(prioritise::road_feeders_m(
        &graph,
        &vertex_fibre_m,
        &premises.xy,
        direct,
        args.detour_factor,
    ))
}

fn project_columns(
    projects: &[Project],
    choice: &Choice,
    cur: &str,
) -> Vec<(String, Column<'static>)> {
    let n = projects.len();
    let mut rank = vec![0i64; n];
    for (r, &i) in choice.ranking.iter().enumerate() {
        rank[i] = r as i64 + 1;
    }
    // Rows in rank order.
    let order = &choice.ranking;
    // The running total of the chosen costs, in whole units as the costs beside it are: the
    // first chosen project's total is its cost, and no total shows a fraction the costs hide.
    let mut cumulative = Vec::with_capacity(n);
    let mut cum = 0.0;
    for &i in order {
        if choice.chosen[i] {
            cum += projects[i].cost_sek;
        }
        cumulative.push(Some(cum.round()));
    }
    let text = |f: &dyn Fn(&Project) -> String| {
        Column::Text(
            order
                .iter()
                .map(|&i| Some(Cow::Owned(f(&projects[i]))))
                .collect(),
        )
    };
    let int =
        |f: &dyn Fn(&Project) -> i64| Column::Int(order.iter().map(|&i| f(&projects[i])).collect());
    let float = |f: &dyn Fn(&Project) -> f64| {
        Column::Float(order.iter().map(|&i| Some(f(&projects[i]))).collect())
    };
    vec![
        (
            "rank".into(),
            Column::Int(order.iter().map(|&i| rank[i]).collect()),
        ),
        ("project".into(), text(&|p| p.key.clone())),
        ("kind".into(), text(&|p| p.kind.to_string())),
        ("settlements".into(), text(&|p| p.settlements.clone())),
        ("premises".into(), int(&|p| p.premises.len() as i64)),
        ("households".into(), int(&|p| p.households as i64)),
        ("workplaces".into(), int(&|p| p.workplaces as i64)),
        (
            "feeder_m".into(),
            float(&|p| (p.feeder_m * 10.0).round() / 10.0),
        ),
        (
            "internal_m".into(),
            float(&|p| (p.internal_m * 10.0).round() / 10.0),
        ),
        (format!("cost_{cur}"), float(&|p| p.cost_sek.round())),
        (
            format!("cost_per_household_{cur}"),
            Column::Float(
                order
                    .iter()
                    .map(|&i| {
                        let p = &projects[i];
                        (p.households > 0).then(|| (p.cost_sek / p.households as f64).round())
                    })
                    .collect(),
            ),
        ),
        (
            "chosen".into(),
            Column::Int(order.iter().map(|&i| i64::from(choice.chosen[i])).collect()),
        ),
        (format!("cumulative_cost_{cur}"), Column::Float(cumulative)),
    ]
}

/// Fill colour: chosen projects from dark (first ranked) to light green; others grey.
fn project_fill(rank: usize, n: usize, chosen: bool) -> &'static str {
    const GREENS: [&str; 5] = ["#006d2c", "#31a354", "#74c476", "#a1d99b", "#c7e9c0"];
    if !chosen {
        return "#bdbdbd";
    }
    GREENS[(rank * GREENS.len() / n.max(1)).min(GREENS.len() - 1)]
}

fn project_features<'a>(
    projects: &'a [Project],
    choice: &Choice,
    columns: &[(String, Column<'static>)],
) -> FeatureTable<'a> {
    let order = &choice.ranking;
    let mut t = FeatureTable {
        columns: columns.to_vec(),
        geometries: order
            .iter()
            .map(|&i| GeomRef::MultiPolygon(&projects[i].area))
            .collect(),
    };
    let n = order.len();
    SimpleStyle::<i64> {
        fill: Some(Paint::Each(
            order
                .iter()
                .enumerate()
                .map(|(r, &i)| project_fill(r, n, choice.chosen[i]))
                .collect(),
        )),
        fill_opacity: Some(Paint::All(0.75)),
        stroke: Some(Paint::All("#252525")),
        stroke_width: None,
    }
    .push_to(&mut t, n);
    t
}

/// QGIS style: chosen projects green, the rest grey, labelled in `lang`.
fn projects_qml(lang: gapmap_io::Lang) -> String {
    format!(
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n<qgis version=\"3.22.0\" styleCategories=\"Symbology\">\n  <renderer-v2 type=\"categorizedSymbol\" attr=\"chosen\" forceraster=\"0\" symbollevels=\"0\" enableorderby=\"0\">\n    <categories>\n      <category value=\"1\" symbol=\"0\" label=\"{}\" render=\"true\"/>\n      <category value=\"0\" symbol=\"1\" label=\"{}\" render=\"true\"/>\n    </categories>\n    <symbols>\n{}{}    </symbols>\n  </renderer-v2>\n</qgis>\n",
        lang.pick("chosen", "vald"),
        lang.pick("not chosen", "inte vald"),
        gapmap_io::write::style::fill_symbol_xml(0, "#31a354", "#252525"),
        gapmap_io::write::style::fill_symbol_xml(1, "#bdbdbd", "#737373"),
    )
}
