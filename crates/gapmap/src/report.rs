//! `gapmap report`: an analysis directory (and, when present, its `grid/` and `priorities/`)
//! as one self-contained `report.html` (inline SVG maps, tables; nothing fetched at view
//! time) and `map.png` (the gap map, for slides).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::run_info::read_complete_analysis;
use gapmap_core::gaps::GapKind;
use gapmap_core::goals::{Base, Goal, Measure, Status};
use gapmap_core::summary::Tally;
use gapmap_io::read::analysis::read_csv_text;
use gapmap_io::write::map_html::{map_html, HtmlLayer};
use gapmap_io::write::map_png::Decor;
use gapmap_io::write::report::{
    read_geojson_features, read_geojson_shapes, report_html, write_atomic, write_map_png, Frame,
    Map, MapFeature, Report, Table,
};
use gapmap_io::write::style;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::progress;
use std::fmt::Write as _;

/// `gapmap report` options.
#[derive(Debug)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct ReportPlan {
    /// The analysis directory (what `gapmap analyze` wrote); `grid/` and `priorities/` in it
    /// are included when present.
    #[cfg_attr(
        feature = "clap",
        arg(value_name = "ANALYSIS", default_value = "gapmap-out")
    )]
    pub analysis: PathBuf,
    /// Where to write report.html, map.html and map.png [default: ANALYSIS].
    #[cfg_attr(feature = "clap", arg(long, value_name = "DIR"))]
    pub out: Option<PathBuf>,
    /// Width of the maps in the page, in pixels.
    #[cfg_attr(feature = "clap", arg(long, value_name = "PX", default_value_t = 640))]
    pub map_width_px: u32,
    /// Width of map.png, in pixels.
    #[cfg_attr(feature = "clap", arg(long, value_name = "PX", default_value_t = 1600))]
    pub png_width_px: u32,
    /// Rows in each top list.
    #[cfg_attr(feature = "clap", arg(long, value_name = "N", default_value_t = 20))]
    pub top: usize,
    /// The report's title [default: "Connectivity gaps: " and the area's name].
    #[cfg_attr(feature = "clap", arg(long, value_name = "TEXT"))]
    pub title: Option<String>,
}

/// A CSV table read back, with column lookup by name.
struct Rows {
    index: HashMap<String, usize>,
    rows: Vec<Vec<Option<String>>>,
}

impl Rows {
    fn read(path: &Path) -> Result<Rows> {
        let (h, rows) = read_csv_text(path)?;
        Ok(Rows {
            index: h.into_iter().enumerate().map(|(i, k)| (k, i)).collect(),
            rows,
        })
    }
    fn s<'a>(&self, row: &'a [Option<String>], col: &str) -> &'a str {
        self.index
            .get(col)
            .and_then(|&i| row[i].as_deref())
            .unwrap_or("")
    }
    fn f(&self, row: &[Option<String>], col: &str) -> f64 {
        self.s(row, col).parse().unwrap_or(f64::NAN)
    }
}

/// A goal in words: `se2025_1gbps: 98 % of households + workplaces with fibre`.
fn goal_text(g: &Goal) -> String {
    let base = match g.base {
        Base::People => "households + workplaces",
        Base::Premises => "premises",
    };
    let measure = match g.measure {
        Measure::Fibre => "fibre (a gigabit network)",
        Measure::Mbps100 => "at least 100 Mbit/s (mobile may stand in, see run.json)",
        Measure::Mobile4g => "4G",
        Measure::Mobile5g => "5G",
    };
    format!("{}: {} % of {base} with {measure}", g.name, g.target_pct())
}

/// What the legend calls a settlement: SCB's "tätort" only when the settlements are SCB's
/// tätorter (their id field is SCB's `tatortskod`, or the file or layer is named for them).
fn settlement_label(run: &crate::run_info::RunInfo) -> &'static str {
    let id_field = run
        .plan
        .as_ref()
        .and_then(|p| p.settlement_id_field.as_deref());
    let source = run
        .inputs
        .iter()
        .find(|i| i.role == "settlements")
        .map(|i| format!("{} {}", i.path, i.layer.as_deref().unwrap_or("")));
    if is_scb_tatorter(id_field, source.as_deref().unwrap_or("")) {
        "settlement (tätort)"
    } else {
        "settlement"
    }
}

/// True for SCB's tätorter: the id field `tatortskod`, or a source named for them.
fn is_scb_tatorter(id_field: Option<&str>, source: &str) -> bool {
    id_field.is_some_and(|f| f.eq_ignore_ascii_case("tatortskod"))
        || source.to_lowercase().contains("tatort")
        || source.to_lowercase().contains("tätort")
}

fn int(v: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    let s = format!("{:.0}", v.abs());
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push('\u{202f}');
        }
        out.push(ch);
    }
    if v < 0.0 {
        format!("−{out}")
    } else {
        out
    }
}

fn pct(v: f64) -> String {
    if v.is_finite() {
        format!("{:.1} %", v * 100.0)
    } else {
        "–".into()
    }
}

/// `gapmap report`: report.html, map.html and map.png of an analysis; returns the terminal summary.
pub fn run(args: ReportPlan) -> Result<String> {
    let mut summary = String::new();
    let t0 = Instant::now();
    if args.map_width_px < 200 || args.png_width_px < 200 || args.png_width_px > 8000 {
        return Err(Error::Usage(
            "--map-width-px and --png-width-px must be between 200 and 8000".into(),
        ));
    }
    let dir = &args.analysis;
    let out = args.out.clone().unwrap_or_else(|| dir.clone());
    let run = read_complete_analysis(dir)?;
    let t = |k: &str| run.totals.get(k).map_or(f64::NAN, |&v| v as f64);
    let settlements = Rows::read(&dir.join("settlements.csv"))?;
    // grid/ and priorities/ count only when they were made from this analysis (a rerun of
    // analyze with --overwrite leaves them behind).
    let current = |sub: &str, record: &str| -> Option<PathBuf> {
        let d = dir.join(sub);
        let text = std::fs::read_to_string(d.join(record)).ok()?;
        let v: Value = serde_json::from_str(&text).ok()?;
        if v["analysis_started_utc"] == run.started_utc.as_str() {
            Some(d)
        } else {
            progress::notice(&format!(
                "{} is from an earlier analysis; run `gapmap {}` again to include it",
                d.display(),
                v["command"].as_str().unwrap_or(sub)
            ));
            None
        }
    };
    let none = dir.join(".no-such-dir");
    let grid_dir = current("grid", "grid.json").unwrap_or_else(|| none.clone());
    let prio_dir = current("priorities", "priorities.json").unwrap_or_else(|| none.clone());
    let kommun = grid_dir
        .join("region_kommun.csv")
        .exists()
        .then(|| Rows::read(&grid_dir.join("region_kommun.csv")))
        .transpose()?;
    let projects = prio_dir
        .join("projects.csv")
        .exists()
        .then(|| Rows::read(&prio_dir.join("projects.csv")))
        .transpose()?;
    // Settlement ids to (name, kommun name): projects list settlements by id; an SCB tätort
    // id begins with its kommun's code, named by grid/region_kommun.csv when grid has run.
    let kommun_names: HashMap<String, String> = kommun
        .as_ref()
        .map(|k| {
            k.rows
                .iter()
                .map(|r| {
                    (
                        k.s(r, "region_id").to_string(),
                        k.s(r, "region_name").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let settlement_names: HashMap<String, (String, String)> = settlements
        .rows
        .iter()
        .map(|r| {
            let id = settlements.s(r, "settlement_id").to_string();
            let code: String = id.chars().take(4).collect();
            let kommun = match code.len() == 4 && code.chars().all(|c| c.is_ascii_digit()) {
                true => kommun_names.get(&code).cloned().unwrap_or(code),
                false => String::new(),
            };
            (
                id,
                (settlements.s(r, "settlement_name").to_string(), kommun),
            )
        })
        .collect();
    let priorities: Option<Value> = std::fs::read_to_string(prio_dir.join("priorities.json"))
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok());

    // Map layers.
    let outline = |fill: &str, stroke: &str, w: f64| {
        let (fill, stroke) = (fill.to_string(), stroke.to_string());
        move |p: &Value| -> (String, f64, String, f64, Option<String>) {
            let name = p["region_name"]
                .as_str()
                .or(p["settlement_name"].as_str())
                .map(str::to_string);
            (fill.clone(), 1.0, stroke.clone(), w, name)
        }
    };
    let regions: Vec<MapFeature> = if grid_dir.join("region_kommun.geojson").exists() {
        read_geojson_features(
            &grid_dir.join("region_kommun.geojson"),
            &outline("#ffffff", "#8a96a3", 0.8),
        )?
    } else {
        Vec::new()
    };
    // Settlements are drawn twice, as outlines and as the choropleth: read once.
    let settlement_shapes = read_geojson_shapes(&dir.join("settlements.geojson"))?;
    let outline_style = outline("#dfe4ea", "#5b6770", 0.5);
    let settlement_outlines: Vec<MapFeature> = settlement_shapes
        .iter()
        .map(|s| s.styled(&outline_style))
        .collect();
    let gaps = read_geojson_features(&dir.join("gaps.geojson"), &|p| {
        let kind = GapKind::ALL
            .into_iter()
            .find(|k| p["kind"].as_str() == Some(k.as_str()))
            .unwrap_or(GapKind::Unserved);
        (
            style::gap_fill(kind).to_string(),
            0.85,
            style::gap_stroke(kind).to_string(),
            0.4,
            Some(format!(
                "{}: {} premises, {} households",
                style::gap_label(kind),
                p["premises"],
                p["households"]
            )),
        )
    })?;
    let chosen: Vec<MapFeature> = if prio_dir.join("projects.geojson").exists() {
        read_geojson_features(&prio_dir.join("projects.geojson"), &|p| {
            (
                "#000000".into(),
                0.0,
                if p["chosen"] == 1 { "#006d2c" } else { "none" }.into(),
                if p["chosen"] == 1 { 1.6 } else { 0.0 },
                Some(format!(
                    "project rank {}: {} households",
                    p["rank"], p["households"]
                )),
            )
        })?
        .into_iter()
        .filter(|f| f.stroke != "none")
        .collect()
    } else {
        Vec::new()
    };
    let mut gap_legend: Vec<(String, String)> = GapKind::ALL
        .iter()
        .map(|&k| {
            (
                style::gap_fill(k).to_string(),
                style::gap_label(k).to_string(),
            )
        })
        .collect();
    gap_legend.push(("#dfe4ea".into(), settlement_label(&run).into()));
    if !chosen.is_empty() {
        gap_legend.push((
            "#006d2c".into(),
            "project chosen for the budget (outline)".into(),
        ));
    }
    let gap_map = Map {
        title: "Where the gaps are".into(),
        caption: format!(
            "Gap areas: premises without fibre within the drop distance ({} m) or without 4G, clustered within {} m, over settlement outlines{}.",
            run.parameters.drop_distance_m,
            run.parameters.gap_cluster_m,
            if regions.is_empty() { "" } else { " and kommun boundaries" }
        ),
        layers: vec![regions.clone(), settlement_outlines.clone(), gaps, chosen],
        legend: gap_legend,
    };
    let share_map = Map {
        title: "Fibre share per settlement".into(),
        caption: "Share of premises passed by fibre, per settlement; grey: no premises.".into(),
        layers: vec![
            regions,
            settlement_shapes
                .iter()
                .map(|s| {
                    s.styled(&|p| {
                        (
                            p["fill"]
                                .as_str()
                                .unwrap_or(style::NO_DATA_FILL)
                                .to_string(),
                            1.0,
                            "#404040".into(),
                            0.4,
                            Some(format!(
                                "{}: {} fibre passed",
                                p["settlement_name"].as_str().unwrap_or(""),
                                pct(p["share_fibre_passed"].as_f64().unwrap_or(f64::NAN))
                            )),
                        )
                    })
                })
                .collect(),
        ],
        legend: style::SHARE_CLASSES
            .iter()
            .map(|c| (c.2.to_string(), format!("fibre passed {}", c.3)))
            .chain(std::iter::once((
                style::NO_DATA_FILL.to_string(),
                "no premises".into(),
            )))
            .collect(),
    };

    // Headline.
    let people = t("households") + t("workplaces");
    let headline = vec![
        ("premises".to_string(), int(t("premises"))),
        ("households".to_string(), int(t("households"))),
        (
            "households + workplaces with fibre".to_string(),
            pct((t("households_fibre_passed") + t("workplaces_fibre_passed")) / people),
        ),
        (
            "premises with 4G".to_string(),
            pct(t("mobile_4g") / t("premises")),
        ),
        (
            "unserved premises (no fibre, no 4G)".to_string(),
            int(t("unserved")),
        ),
        (
            "white premises (state aid)".to_string(),
            int(t("aid_white")),
        ),
    ];

    // Goal attainment, whole area.
    let goals = run.goals()?;
    let tally = |get: &dyn Fn(&str) -> f64| Tally {
        premises: get("premises") as u64,
        households: get("households") as u64,
        workplaces: get("workplaces") as u64,
        fibre_passed: get("fibre_passed") as u64,
        households_fibre_passed: get("households_fibre_passed") as u64,
        workplaces_fibre_passed: get("workplaces_fibre_passed") as u64,
        at_100_mbps: get("at_100_mbps") as u64,
        households_100_mbps: get("households_100_mbps") as u64,
        workplaces_100_mbps: get("workplaces_100_mbps") as u64,
        mobile_4g: get("mobile_4g") as u64,
        households_mobile_4g: get("households_mobile_4g") as u64,
        workplaces_mobile_4g: get("workplaces_mobile_4g") as u64,
        mobile_5g: get("mobile_5g") as u64,
        households_mobile_5g: get("households_mobile_5g") as u64,
        workplaces_mobile_5g: get("workplaces_mobile_5g") as u64,
        ..Tally::default()
    };
    let whole = tally(&|k| t(k).max(0.0));
    let goal_rows: Vec<Vec<String>> = goals
        .iter()
        .map(|g| {
            let s: Status = g.status(&whole);
            vec![
                g.name.clone(),
                format!("{} ≥ {} %", g.measure.as_str(), g.target_pct()),
                pct(s.share.unwrap_or(f64::NAN)),
                if s.met { "yes" } else { "no" }.into(),
                int(s.missing_premises as f64),
                int(s.missing_households as f64),
            ]
        })
        .collect();
    let mut tables = vec![Table {
        title: "National goals: the whole area".into(),
        note: if goals.is_empty() {
            "The analysis measured no goals (--goals none, and no --goal).".into()
        } else {
            format!(
                "The goals the analysis measured: {}. Missing: premises and households that still need it to reach the target.",
                goals.iter().map(goal_text).collect::<Vec<_>>().join("; ")
            )
        },
        headers: [
            "goal",
            "target",
            "now",
            "met",
            "premises missing",
            "households missing",
        ]
        .map(String::from)
        .to_vec(),
        rows: goal_rows,
        numeric: vec![false, false, true, false, true, true],
    }];
    if let Some(k) = &kommun {
        let g1 = goals.first().map(|g| g.name.clone()).unwrap_or_default();
        let mut rows: Vec<&Vec<Option<String>>> = k.rows.iter().collect();
        rows.sort_by(|a, b| {
            k.f(b, &format!("goal_{g1}_missing_households"))
                .total_cmp(&k.f(a, &format!("goal_{g1}_missing_households")))
        });
        // Per goal: its share now, and what is still missing in the goal's own unit.
        let missing = |g: &Goal| match g.base {
            Base::People => "missing_households",
            Base::Premises => "missing_premises",
        };
        let mut headers = vec!["kommun".to_string(), "premises".to_string()];
        for g in &goals {
            headers.push(format!("{} now", g.name));
            headers.push(match g.base {
                Base::People => "households missing".to_string(),
                Base::Premises => "premises missing".to_string(),
            });
        }
        headers.push("state-aid class".into());
        let mut numeric = vec![false, true];
        numeric.extend(goals.iter().flat_map(|_| [true, true]));
        numeric.push(false);
        tables.push(Table {
            title: "National goals per kommun".into(),
            note: format!(
                "From grid/region_kommun.csv (gapmap grid); most households missing {g1} first."
            ),
            headers,
            rows: rows
                .iter()
                .map(|r| {
                    let mut row = vec![k.s(r, "region_name").to_string(), int(k.f(r, "premises"))];
                    for g in &goals {
                        row.push(pct(k.f(r, &format!("goal_{}_share", g.name))));
                        row.push(int(k.f(r, &format!("goal_{}_{}", g.name, missing(g)))));
                    }
                    row.push(k.s(r, "aid_class").to_string());
                    row
                })
                .collect(),
            numeric,
        });
    }
    // Top lists of settlements (the rural row has an empty id).
    let named: Vec<&Vec<Option<String>>> = settlements
        .rows
        .iter()
        .filter(|r| !settlements.s(r, "settlement_id").is_empty())
        .collect();
    let without = |r: &Vec<Option<String>>| {
        settlements.f(r, "households") - settlements.f(r, "households_fibre_passed")
    };
    let settlement_row = |r: &Vec<Option<String>>| {
        vec![
            settlements.s(r, "settlement_name").to_string(),
            int(settlements.f(r, "premises")),
            int(settlements.f(r, "households")),
            pct(settlements.f(r, "share_fibre_passed")),
            int(without(r)),
            int(settlements.f(r, "unserved")),
            settlements.s(r, "aid_class").to_string(),
        ]
    };
    let headers: Vec<String> = [
        "settlement",
        "premises",
        "households",
        "fibre passed",
        "households without fibre",
        "unserved premises",
        "state-aid class",
    ]
    .map(String::from)
    .to_vec();
    let numeric = vec![false, true, true, true, true, true, false];
    // Only settlements that have households without fibre: no rows of zeros to fill the list.
    let mut by_missing: Vec<&Vec<Option<String>>> = named
        .iter()
        .copied()
        .filter(|r| settlements.f(r, "premises") > 0.0 && without(r) > 0.0)
        .collect();
    by_missing.sort_by(|a, b| without(b).total_cmp(&without(a)));
    tables.push(Table {
        title: format!(
            "Top {}: settlements with the most households without fibre",
            args.top
        ),
        note: String::new(),
        headers: headers.clone(),
        rows: by_missing
            .iter()
            .take(args.top)
            .map(|r| settlement_row(r))
            .collect(),
        numeric: numeric.clone(),
    });
    let mut by_share: Vec<&Vec<Option<String>>> = named
        .iter()
        .copied()
        .filter(|r| settlements.f(r, "premises") >= 50.0)
        .collect();
    by_share.sort_by(|a, b| {
        settlements
            .f(a, "share_fibre_passed")
            .total_cmp(&settlements.f(b, "share_fibre_passed"))
    });
    tables.push(Table {
        title: format!(
            "Top {}: settlements with the lowest fibre share (50 premises or more)",
            args.top
        ),
        note: String::new(),
        headers,
        rows: by_share
            .iter()
            .take(args.top)
            .map(|r| settlement_row(r))
            .collect(),
        numeric,
    });
    if let (Some(p), Some(pj)) = (&projects, &priorities) {
        let chosen: Vec<&Vec<Option<String>>> =
            p.rows.iter().filter(|r| p.s(r, "chosen") == "1").collect();
        // The currency the costs are in (SEK before --currency existed).
        let code = pj["parameters"]["currency"]
            .as_str()
            .unwrap_or("SEK")
            .to_string();
        let cur = code.to_lowercase();
        tables.push(Table {
            title: format!(
                "Projects chosen for a budget of {:.1} M{code}",
                pj["parameters"][format!("budget_{cur}")]
                    .as_f64()
                    .unwrap_or(0.0)
                    / 1e6
            ),
            note: format!(
                "{} of {} candidate projects ({}): {} households for {:.1} M{code}; no choice within the budget connects more than {} households. Cost model: {} {code} per metre of trench, detour {}, {} {code} per premise. The first {} in rank order:",
                chosen.len(),
                pj["candidates"],
                pj["method"].as_str().unwrap_or(""),
                int(pj["households_connected"].as_f64().unwrap_or(0.0)),
                pj[format!("cost_{cur}")].as_f64().unwrap_or(0.0) / 1e6,
                int(pj["upper_bound_households"].as_f64().unwrap_or(0.0).floor()),
                pj["parameters"][format!("trench_{cur}_per_m")],
                pj["parameters"]["detour_factor"],
                pj["parameters"][format!("per_premise_{cur}")],
                args.top
            ),
            headers: [
                "rank".to_string(),
                "project".into(),
                "settlements".into(),
                "kommun".into(),
                "premises".into(),
                "households".into(),
                format!("cost (M{code})"),
                format!("{code} per household"),
            ]
            .to_vec(),
            rows: chosen
                .iter()
                .take(args.top)
                .map(|r| {
                    vec![
                        p.s(r, "rank").to_string(),
                        p.s(r, "project").to_string(),
                        place_names(p.s(r, "settlements"), &settlement_names).0,
                        place_names(p.s(r, "settlements"), &settlement_names).1,
                        int(p.f(r, "premises")),
                        int(p.f(r, "households")),
                        format!("{:.2}", p.f(r, &format!("cost_{cur}")) / 1e6),
                        int(p.f(r, &format!("cost_per_household_{cur}"))),
                    ]
                })
                .collect(),
            numeric: vec![true, false, false, false, true, true, true, true],
        });
    }
    resilience_tables(dir, &settlements, args.top, &mut tables)?;
    mobile_tables(dir, &settlements, args.top, &mut tables)?;
    methods_tables(&run, &mut tables);
    let area = if run.parameters.bundled_region {
        "Dalarnas län (the bundled region)".to_string()
    } else {
        run.inputs
            .iter()
            .find(|i| i.role == "settlements")
            .map(|i| i.path.as_str())
            .map_or("the analysed area".into(), |p| {
                Path::new(p)
                    .file_stem()
                    .map_or(p.to_string(), |s| s.to_string_lossy().into_owned())
            })
    };
    let report = Report {
        title: args
            .title
            .clone()
            .unwrap_or_else(|| format!("Connectivity gaps: {area}")),
        subtitle: format!(
            "gapmap {} analysis of {} (working CRS {}); fibre, 4G/5G, state-aid classes and the national goals.",
            run.version,
            run.started_utc,
            run.working_crs
        ),
        headline,
        maps: {
            let mut maps = vec![gap_map.clone(), share_map];
            if let Some(m) = corridor_map(dir, &settlement_outlines, &run, args.top)? {
                maps.push(m);
            }
            maps
        },
        tables,
        footer: format!(
            "Made by gapmap {} from {} (run.json lists the inputs and parameters). Settlement and boundary data: SCB (CC0).",
            env!("CARGO_PKG_VERSION"),
            dir.display()
        ),
    };
    std::fs::create_dir_all(&out).map_err(|e| gapmap_io::IoError::Write {
        path: out.clone(),
        message: e.to_string(),
    })?;
    let html = report_html(&report, f64::from(args.map_width_px));
    write_atomic(&out.join("report.html"), html.as_bytes())?;
    let frame = Frame::fit(&gap_map, f64::from(args.png_width_px));
    // map.png stands on its own (a slide): title, what it shows and when, and whose data.
    let decor = Decor {
        title: report.title.clone(),
        subtitle: format!(
            "{}: analysis of {}",
            gap_map.title,
            run.started_utc.get(..10).unwrap_or(&run.started_utc)
        ),
        attribution: if run.parameters.bundled_region {
            format!(
                "gapmap {}. Tätorter, kommuner, län and population grid: SCB (CC0); premises, fibre and mobile coverage: synthetic.",
                env!("CARGO_PKG_VERSION")
            )
        } else {
            format!(
                "gapmap {}. Data: the inputs listed in run.json.",
                env!("CARGO_PKG_VERSION")
            )
        },
    };
    write_map_png(&gap_map, &frame, &decor, &out.join("map.png"))?;
    let mut layers = html_layers(dir, &grid_dir, &prio_dir, &run, &gap_map.legend)?;
    let reduced = fit_budget(&mut layers, MAP_DATA_BUDGET_BYTES);
    let mut note = format!(
        "Analysis of {} (gapmap {}). The layers are the analysis' web maps (simplified by {} m); corridors: the {} that cut the most premises; projects: those chosen for the budget.",
        run.started_utc.get(..10).unwrap_or(&run.started_utc),
        run.version,
        run.parameters.map_simplify_m,
        MAP_CORRIDORS
    );
    if !reduced.is_empty() {
        note += &format!(
            " To keep this file under {} MB, {} are drawn as points at the centre of their extent (their figures are whole; the full outlines are in the analysis' GeoJSON files).",
            MAP_PAGE_LIMIT_MB,
            reduced.join(", ")
        );
    }
    let html_map = map_html(&report.title, &note, &layers);
    write_atomic(&out.join("map.html"), html_map.as_bytes())?;
    let _ = writeln!(
        summary,
        "wrote {} ({} KiB), {} ({} KiB) and {} in {:.1} s",
        out.join("report.html").display(),
        html.len() / 1024,
        out.join("map.html").display(),
        html_map.len() / 1024,
        out.join("map.png").display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(summary)
}

/// `map.html` may take at most this many megabytes (a national analysis is reduced to fit).
const MAP_PAGE_LIMIT_MB: usize = 60;
/// The data's share of that: the rest is Leaflet (0.15 MB), the page and headroom.
const MAP_DATA_BUDGET_BYTES: usize = 55_000_000;

/// Serialized size of a layer's data.
fn data_bytes(l: &HtmlLayer) -> usize {
    serde_json::to_string(&l.data).map_or(0, |t| t.len())
}

/// Replaces every polygon or line of `data` by a point at the centre of its extent.
fn as_points(data: &mut Value) {
    let Some(features) = data["features"].as_array_mut() else {
        return;
    };
    for f in features {
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        fn visit(v: &Value, f: &mut dyn FnMut(f64, f64)) {
            match v.as_array() {
                Some(a) if a.len() >= 2 && a[0].is_number() && a[1].is_number() => {
                    f(a[0].as_f64().unwrap_or(0.0), a[1].as_f64().unwrap_or(0.0));
                }
                Some(a) => a.iter().for_each(|x| visit(x, f)),
                None => {}
            }
        }
        visit(&f["geometry"]["coordinates"], &mut |x, y| {
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y);
            y1 = y1.max(y);
        });
        if x0 <= x1 {
            let c = [
                ((x0 + x1) / 2.0 * 1e5).round() / 1e5,
                ((y0 + y1) / 2.0 * 1e5).round() / 1e5,
            ];
            f["geometry"] = serde_json::json!({"type": "Point", "coordinates": c});
        }
    }
}

/// Draws the largest polygon layers as points, in that order (white areas, gap clusters,
/// settlements), until the data fit `budget` bytes; returns the names of those reduced.
fn fit_budget(layers: &mut [HtmlLayer], budget: usize) -> Vec<String> {
    let mut total: usize = layers.iter().map(data_bytes).sum();
    let mut reduced = Vec::new();
    for id in ["aid_areas", "gaps", "settlements"] {
        if total <= budget {
            break;
        }
        if let Some(l) = layers.iter_mut().find(|l| l.id == id) {
            let before = data_bytes(l);
            as_points(&mut l.data);
            total = total - before + data_bytes(l);
            reduced.push(l.name.to_lowercase());
        }
    }
    reduced
}

/// `text` with its first letter upper-case.
fn capitalised(text: &str) -> String {
    let mut c = text.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// How many corridors `map.html` draws (the ones that cut the most premises).
const MAP_CORRIDORS: usize = 300;

/// A GeoJSON layer of the analysis for `map.html`: the features `keep` accepts, with only the
/// properties its panel and style need, coordinates rounded to about a metre.
#[allow(
    clippy::too_many_arguments,
    reason = "one layer's settings, each named"
)]
fn html_layer(
    path: &Path,
    id: &str,
    name: &str,
    visible: bool,
    legend: Vec<(String, String)>,
    title: &str,
    fields: &[(&str, &str)],
    keep: &dyn Fn(&Value) -> bool,
) -> Result<Option<HtmlLayer>> {
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(path).map_err(|e| Error::Analysis {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let mut v: Value = serde_json::from_str(&text).map_err(|e| Error::Analysis {
        path: path.to_path_buf(),
        message: format!("not GeoJSON: {e}"),
    })?;
    let style_keys = [
        "fill",
        "fill-opacity",
        "stroke",
        "stroke-width",
        "stroke-opacity",
    ];
    let features: Vec<Value> = v["features"]
        .as_array_mut()
        .map(std::mem::take)
        .unwrap_or_default()
        .into_iter()
        .filter(|f| keep(&f["properties"]))
        .map(|mut f| {
            if let Some(p) = f["properties"].as_object_mut() {
                p.retain(|k, _| {
                    k == title
                        || style_keys.contains(&k.as_str())
                        || fields.iter().any(|(f, _)| f == k)
                });
            }
            f
        })
        .collect();
    let mut data = serde_json::json!({"type": "FeatureCollection", "features": features});
    gapmap_io::write::map_html::round_coordinates(&mut data);
    Ok(Some(HtmlLayer {
        id: id.into(),
        name: name.into(),
        data,
        visible,
        legend,
        title_field: title.into(),
        fields: fields
            .iter()
            .map(|(k, l)| (k.to_string(), l.to_string()))
            .collect(),
        outline: id == "lan" || id == "kommun",
    }))
}

/// The layers of `map.html`, bottom to top: län and kommun boundaries (after `grid`),
/// settlements by fibre share, white aid areas, gap clusters, critical corridors (with
/// `--backbone`) and chosen projects (after `prioritise`).
fn html_layers(
    dir: &Path,
    grid_dir: &Path,
    prio_dir: &Path,
    run: &crate::run_info::RunInfo,
    gap_legend: &[(String, String)],
) -> Result<Vec<HtmlLayer>> {
    let all = |_: &Value| true;
    let region_fields: &[(&str, &str)] = &[
        ("premises", "premises"),
        ("households", "households"),
        ("share_fibre_passed", "fibre passed"),
        ("share_mobile_4g", "4G"),
        ("unserved", "unserved premises"),
        ("aid_class", "state-aid class"),
    ];
    let settlement_fields: &[(&str, &str)] = &[
        ("settlement_id", "id"),
        ("premises", "premises"),
        ("households", "households"),
        ("workplaces", "workplaces"),
        ("fibre_passed", "premises fibre passed"),
        ("share_fibre_passed", "fibre passed"),
        ("households_fibre_passed", "households fibre passed"),
        ("mobile_4g", "premises with 4G"),
        ("share_mobile_4g", "4G"),
        ("mobile_4g_single_operator", "4G from one operator only"),
        ("share_mobile_5g", "5G"),
        ("unserved", "unserved premises"),
        ("aid_white", "white premises"),
        ("aid_class", "state-aid class"),
        ("fibre_redundancy_class", "fibre redundancy"),
    ];
    let mut layers = Vec::new();
    let mut push = |l: Option<HtmlLayer>| {
        if let Some(l) = l {
            layers.push(l);
        }
    };
    push(html_layer(
        &grid_dir.join("region_lan.geojson"),
        "lan",
        "Län",
        true,
        vec![],
        "region_name",
        region_fields,
        &all,
    )?);
    push(html_layer(
        &grid_dir.join("region_kommun.geojson"),
        "kommun",
        "Kommuner",
        true,
        vec![],
        "region_name",
        region_fields,
        &all,
    )?);
    let label = settlement_label(run);
    push(html_layer(
        &dir.join("settlements.geojson"),
        "settlements",
        &format!("{} by fibre share", capitalised(label)),
        true,
        style::SHARE_CLASSES
            .iter()
            .map(|c| (c.2.to_string(), c.3.to_string()))
            .collect(),
        "settlement_name",
        settlement_fields,
        &all,
    )?);
    push(html_layer(
        &dir.join("aid_areas.geojson"),
        "aid_areas",
        "White areas (state aid)",
        false,
        vec![(
            "#ffffff".into(),
            "white area: no network at the aid target".into(),
        )],
        "aid_area_id",
        &[
            ("premises", "premises"),
            ("households", "households"),
            ("workplaces", "workplaces"),
            ("settlements", "settlements"),
            ("area_km2", "area (km²)"),
        ],
        &all,
    )?);
    push(html_layer(
        &dir.join("gaps.geojson"),
        "gaps",
        "Gap clusters",
        true,
        gap_legend
            .iter()
            .filter(|(c, _)| c != "#dfe4ea" && c != "#006d2c")
            .cloned()
            .collect(),
        "kind",
        &[
            ("gap_id", "gap"),
            ("settlement_name", "settlement"),
            ("premises", "premises"),
            ("households", "households"),
            ("workplaces", "workplaces"),
            ("nearest_fibre_m", "nearest fibre (m)"),
        ],
        &all,
    )?);
    push(html_layer(
        &dir.join("critical_links.geojson"),
        "corridors",
        "Critical fibre corridors",
        true,
        style::CRITICAL_CLASSES
            .iter()
            .rev()
            .map(|c| (c.2.to_string(), c.4.to_string()))
            .collect(),
        "rank",
        &[
            ("networks", "network"),
            ("links", "links"),
            ("length_m", "length (m)"),
            ("premises_cut", "premises cut"),
            ("households_cut", "households cut"),
            ("settlements_cut", "settlements cut"),
            ("settlements_affected", "settlements affected"),
            ("settlement_names", "settlements cut (names)"),
        ],
        &|p| {
            p["rank"]
                .as_u64()
                .is_some_and(|r| r as usize <= MAP_CORRIDORS)
        },
    )?);
    push(html_layer(
        &prio_dir.join("projects.geojson"),
        "projects",
        "Projects chosen for the budget",
        true,
        vec![("#006d2c".into(), "chosen project".into())],
        "project",
        &[
            ("rank", "rank"),
            ("settlements", "settlements"),
            ("premises", "premises"),
            ("households", "households"),
        ],
        &|p| p["chosen"] == 1,
    )?);
    Ok(layers)
}

/// The top corridors (with `--backbone`) over the settlement outlines, drawn as
/// critical_links.geojson draws them: darker and wider with more premises cut.
fn corridor_map(
    dir: &Path,
    outlines: &[MapFeature],
    run: &crate::run_info::RunInfo,
    top: usize,
) -> Result<Option<Map>> {
    let path = dir.join("critical_links.geojson");
    if !path.exists() {
        return Ok(None);
    }
    let lines: Vec<MapFeature> = read_geojson_features(&path, &|p| {
        let shown = p["rank"].as_u64().is_some_and(|r| r as usize <= top);
        (
            "none".into(),
            0.0,
            match shown {
                true => p["stroke"].as_str().unwrap_or("#67000d").to_string(),
                false => "none".into(),
            },
            p["stroke-width"].as_f64().unwrap_or(2.0).min(6.0),
            Some(format!(
                "corridor rank {}: {} premises cut",
                p["rank"], p["premises_cut"]
            )),
        )
    })?
    .into_iter()
    .filter(|f| f.stroke != "none")
    .collect();
    let mut legend: Vec<(String, String)> = style::CRITICAL_CLASSES
        .iter()
        .rev()
        .map(|c| (c.2.to_string(), c.4.to_string()))
        .collect();
    legend.push(("#dfe4ea".into(), settlement_label(run).into()));
    Ok(Some(Map {
        title: format!("The top {top} critical fibre corridors"),
        caption: "Corridors whose single failure cuts the most premises off the backbone (critical_links.geojson; the tables below list them).".into(),
        layers: vec![outlines.to_vec(), lines],
        legend,
    }))
}

/// A project's settlements (ids separated by `;`) as (names, kommuner), each listed once;
/// "rural" for a project outside every settlement.
fn place_names(ids: &str, names: &HashMap<String, (String, String)>) -> (String, String) {
    let mut places: Vec<String> = Vec::new();
    let mut kommuner: Vec<String> = Vec::new();
    for id in ids.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let (name, kommun) = names
            .get(id)
            .cloned()
            .unwrap_or_else(|| (id.to_string(), String::new()));
        if !places.contains(&name) {
            places.push(name);
        }
        if !kommun.is_empty() && !kommuner.contains(&kommun) {
            kommuner.push(kommun);
        }
    }
    if places.is_empty() {
        places.push("rural".into());
    }
    (places.join(", "), kommuner.join(", "))
}

/// The fibre resilience section (with `--backbone`): settlements by class, and the top
/// corridors whose single failure cuts the most premises off the backbone.
fn resilience_tables(dir: &Path, s: &Rows, top: usize, tables: &mut Vec<Table>) -> Result<()> {
    let path = dir.join("critical_links.csv");
    if !path.exists() {
        return Ok(());
    }
    let named: Vec<&Vec<Option<String>>> = s
        .rows
        .iter()
        .filter(|r| !s.s(r, "settlement_id").is_empty())
        .collect();
    let mut rows = Vec::new();
    for class in ["redundant", "single", "none"] {
        let these: Vec<_> = named
            .iter()
            .filter(|r| s.s(r, "fibre_redundancy_class") == class)
            .collect();
        let sum = |col: &str| these.iter().map(|r| s.f(r, col).max(0.0)).sum::<f64>();
        rows.push(vec![
            class.to_string(),
            int(these.len() as f64),
            int(sum("premises")),
            int(sum("premises_redundant_fibre_path")),
            int(sum("premises_single_fibre_path")),
            int(sum("premises_no_fibre_path")),
        ]);
    }
    tables.push(Table {
        title: "Fibre resilience: settlements by class".into(),
        note: "A settlement is redundant when at least --redundant-share of its fibre premises have two disjoint paths to the backbone, single when they have one, none when none has a path. The premise columns count each settlement's fibre premises by their own paths.".into(),
        headers: [
            "class",
            "settlements",
            "premises",
            "fibre premises, two paths",
            "one path",
            "no path",
        ]
        .map(String::from)
        .to_vec(),
        rows,
        numeric: vec![false, true, true, true, true, true],
    });
    let c = Rows::read(&path)?;
    tables.push(Table {
        title: format!("Top {top}: critical corridors"),
        note: "Each row is a corridor: fibre links in series whose single failure (a cut anywhere along it) cuts the same premises off the backbone, ranked by premises cut. Settlements cut: all their fibre premises lose the backbone; affected: at least one does.".into(),
        headers: [
            "rank",
            "network",
            "links",
            "length (m)",
            "premises cut",
            "households cut",
            "settlements cut",
            "settlements affected",
            "settlements cut (names)",
        ]
        .map(String::from)
        .to_vec(),
        rows: c
            .rows
            .iter()
            .take(top)
            .map(|r| {
                vec![
                    c.s(r, "rank").to_string(),
                    c.s(r, "networks").to_string(),
                    int(c.f(r, "links")),
                    int(c.f(r, "length_m")),
                    int(c.f(r, "premises_cut")),
                    int(c.f(r, "households_cut")),
                    int(c.f(r, "settlements_cut")),
                    int(c.f(r, "settlements_affected")),
                    c.s(r, "settlement_names").replace(';', ", "),
                ]
            })
            .collect(),
        numeric: vec![true, false, true, true, true, true, true, true, false],
    });
    Ok(())
}

/// The mobile section: settlements that depend on one operator for 4G, and (with cell sites)
/// the sites whose single failure leaves the most premises without 4G.
fn mobile_tables(dir: &Path, s: &Rows, top: usize, tables: &mut Vec<Table>) -> Result<()> {
    let mut named: Vec<&Vec<Option<String>>> = s
        .rows
        .iter()
        .filter(|r| {
            !s.s(r, "settlement_id").is_empty() && s.f(r, "mobile_4g_single_operator") > 0.0
        })
        .collect();
    named.sort_by(|a, b| {
        s.f(b, "mobile_4g_single_operator")
            .total_cmp(&s.f(a, "mobile_4g_single_operator"))
    });
    tables.push(Table {
        title: format!("Top {top}: settlements that depend on one operator for 4G"),
        note: "Premises with 4G from exactly one operator: a fault or a closure of that operator's site leaves them without mobile broadband.".into(),
        headers: [
            "settlement",
            "premises",
            "4G, one operator",
            "share of premises",
            "4G, two or more",
            "no 4G",
        ]
        .map(String::from)
        .to_vec(),
        rows: named
            .iter()
            .take(top)
            .map(|r| {
                let n = s.f(r, "premises");
                vec![
                    s.s(r, "settlement_name").to_string(),
                    int(n),
                    int(s.f(r, "mobile_4g_single_operator")),
                    pct(s.f(r, "mobile_4g_single_operator") / n),
                    int(s.f(r, "mobile_4g_2plus_operators")),
                    int(n - s.f(r, "mobile_4g")),
                ]
            })
            .collect(),
        numeric: vec![false, true, true, true, true, true],
    });
    let sites = dir.join("critical_sites.csv");
    if sites.exists() {
        let c = Rows::read(&sites)?;
        let cols: Vec<String> = {
            let mut v: Vec<(&String, &usize)> = c.index.iter().collect();
            v.sort_by_key(|(_, &i)| i);
            v.into_iter().map(|(k, _)| k.clone()).collect()
        };
        tables.push(Table {
            title: format!("Top {top}: critical cell sites"),
            note:
                "Sites whose single failure leaves premises without 4G (from critical_sites.csv)."
                    .into(),
            headers: cols.clone(),
            rows: c
                .rows
                .iter()
                .take(top)
                .map(|r| cols.iter().map(|k| c.s(r, k).to_string()).collect())
                .collect(),
            numeric: cols.iter().map(|_| false).collect(),
        });
    }
    Ok(())
}

/// The methods section: every input with its SHA-256, every parameter, and what the
/// measures mean.
fn methods_tables(run: &crate::run_info::RunInfo, tables: &mut Vec<Table>) {
    tables.push(Table {
        title: "Methods: inputs".into(),
        note:
            "Each input as the analysis read it (run.json has the fields used, repairs and skips)."
                .into(),
        headers: [
            "role", "source", "layer", "driver", "CRS", "features", "SHA-256",
        ]
        .map(String::from)
        .to_vec(),
        rows: run
            .inputs
            .iter()
            .map(|i| {
                vec![
                    i.role.clone(),
                    i.path.clone(),
                    i.layer.clone().unwrap_or_default(),
                    i.driver.clone(),
                    i.crs.clone(),
                    int(i.features as f64),
                    i.sha256.clone().unwrap_or_else(|| "–".into()),
                ]
            })
            .collect(),
        numeric: vec![false, false, false, false, false, true, false],
    });
    let params = serde_json::to_value(&run.parameters).unwrap_or(Value::Null);
    let rows: Vec<Vec<String>> = params
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| {
                    let text = match v {
                        Value::String(s) => s.clone(),
                        Value::Null => "–".into(),
                        other => other.to_string(),
                    };
                    vec![k.clone(), text]
                })
                .collect()
        })
        .unwrap_or_default();
    tables.push(Table {
        title: "Methods: parameters".into(),
        note: format!("As run by gapmap {} (run.json's parameters).", run.version),
        headers: vec!["parameter".into(), "value".into()],
        rows,
        numeric: vec![false, false],
    });
    let defs: [(&str, &str); 9] = [
        ("fibre passed", "a premise with fibre (a route or node) within the drop distance"),
        ("4G, 5G", "a premise inside an operator's coverage polygon of that technology (or predicted by cell sites)"),
        ("unserved", "neither fibre passed nor 4G"),
        ("gap cluster", "premises of one gap kind in one settlement, each within the gap cluster distance of another"),
        ("state-aid class", "white: no network at the target speed, nor one planned within three years; grey: one; black: two or more. An area's class: that of more than half its premises, else mixed (the area class rule)"),
        ("households without fibre", "households of the premises that are not fibre passed"),
        ("national goals", "the share of households and workplaces (or premises) with the measure, against the goal's target"),
        ("critical corridor", "links in series whose single failure cuts the same premises off every backbone point"),
        ("one operator for 4G", "premises where exactly one operator provides 4G"),
    ];
    tables.push(Table {
        title: "Methods: definitions".into(),
        note: "The README's \"What the numbers mean\" defines every column of the tables.".into(),
        headers: vec!["measure".into(), "definition".into()],
        rows: defs
            .iter()
            .map(|(a, b)| vec![a.to_string(), b.to_string()])
            .collect(),
        numeric: vec![false, false],
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_map_over_its_budget_draws_polygons_as_points() {
        use super::*;
        let poly = |x: f64| {
            serde_json::json!({"type":"Feature","properties":{"n":1},"geometry":{"type":"MultiPolygon",
            "coordinates":[[[[x,60.0],[x+0.2,60.0],[x+0.2,60.4],[x,60.0]]]]}})
        };
        let layer = |id: &str, n: usize| HtmlLayer {
            id: id.into(),
            name: format!("Layer {id}"),
            data: serde_json::json!({"type":"FeatureCollection","features":(0..n).map(|k| poly(k as f64)).collect::<Vec<_>>()}),
            visible: true,
            legend: vec![],
            title_field: "n".into(),
            fields: vec![],
            outline: false,
        };
        let mut layers = vec![
            layer("settlements", 50),
            layer("gaps", 50),
            layer("aid_areas", 50),
        ];
        let total: usize = layers.iter().map(data_bytes).sum();
        // Within the budget: nothing changes.
        assert!(fit_budget(&mut layers, total).is_empty());
        // Just over it: the white areas first, and only they.
        let reduced = fit_budget(&mut layers, total - 10);
        assert_eq!(reduced, vec!["layer aid_areas".to_string()]);
        let aid = &layers[2].data["features"][0]["geometry"];
        assert_eq!(aid["type"], "Point");
        assert_eq!(aid["coordinates"], serde_json::json!([0.1, 60.2]));
        assert_eq!(
            layers[1].data["features"][0]["geometry"]["type"],
            "MultiPolygon"
        );
        let now: usize = layers.iter().map(data_bytes).sum();
        assert!(now < total);
    }

    #[test]
    fn tatort_only_for_scb_tatorter() {
        use super::is_scb_tatorter as scb;
        assert!(scb(Some("tatortskod"), "data/dalarna/settlements.gpkg"));
        assert!(scb(None, "tatorter_2023_sweden.gpkg"));
        assert!(!scb(Some("id"), "n50_tettsteder.gpkg"));
        assert!(!scb(None, "settlements.gpkg derived"));
    }
}
