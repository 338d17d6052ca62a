//! `gapmap report`: an analysis directory (and, when present, its `grid/` and `priorities/`)
//! as one self-contained `report.html` (inline SVG maps, tables; nothing fetched at view
//! time), `map.html` (the interactive map, its layers in [`map_page`]) and `map.png` (the gap
//! map, for slides), in English or Swedish. The sections read from the analysis' tables are in
//! [`tables`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::run_info::read_complete_analysis;
use gapmap_core::gaps::GapKind;
use gapmap_core::goals::{Base, Goal, Measure, Status};
use gapmap_core::summary::Tally;
use gapmap_io::read::analysis::read_csv_text;
use gapmap_io::write::map_html::map_html;
use gapmap_io::write::map_png::Decor;
use gapmap_io::write::report::{
    read_geojson_features, read_geojson_shapes, report_html, write_atomic, write_map_png, Frame,
    Map, MapFeature, Report, Table,
};
use gapmap_io::write::style;
use gapmap_io::Lang;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::progress;
use std::fmt::Write as _;

mod map_page;
mod tables;

use map_page::{
    fit_budget, html_layers, LayerSources, MAP_CORRIDORS, MAP_DATA_BUDGET_BYTES, MAP_PAGE_LIMIT_MB,
};
use tables::{methods_tables, mobile_tables, resilience_tables};

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
    /// Language of report.html, map.html, map.png and the summary: en or sv [default: the
    /// analysis' --lang].
    #[cfg_attr(
        feature = "clap",
        arg(long, value_name = "LANG", value_parser = crate::lang_parser())
    )]
    pub lang: Option<Lang>,
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

/// Whose goals the report shows, for titles and the subtitle: Sweden's national goals, the
/// EU's 2030 goals, or goals of several kinds (any `--goal`). `None` when none were measured.
fn goal_set_words(goals: &[Goal], lang: Lang) -> Option<(&'static str, &'static str)> {
    let all = |prefix: &str| goals.iter().all(|g| g.name.starts_with(prefix));
    if goals.is_empty() {
        None
    } else if all("se2025_") {
        Some(match lang {
            Lang::En => ("National goals", "the national goals"),
            Lang::Sv => ("Nationella mål", "de nationella målen"),
        })
    } else if all("eu2030_") {
        Some(match lang {
            Lang::En => ("EU goals for 2030", "the EU's goals for 2030"),
            Lang::Sv => ("EU:s mål för 2030", "EU:s mål för 2030"),
        })
    } else {
        Some(match lang {
            Lang::En => ("Goals", "the goals measured"),
            Lang::Sv => ("Mål", "de mål som mättes"),
        })
    }
}

/// A goal in words: `se2025_1gbps: 98 % of households + workplaces with fibre`.
fn goal_text(g: &Goal, lang: Lang) -> String {
    let base = match g.base {
        Base::People => lang.pick("households + workplaces", "hushåll och arbetsställen"),
        Base::Premises => lang.pick("premises", "adresser"),
    };
    let measure = match g.measure {
        Measure::Fibre => lang.pick("fibre (a gigabit network)", "fiber (ett gigabitnät)"),
        Measure::Mbps100 => lang.pick(
            "at least 100 Mbit/s (mobile may stand in, see run.json)",
            "minst 100 Mbit/s (mobilt kan räknas, se run.json)",
        ),
        Measure::Mobile4g => "4G",
        Measure::Mobile5g => "5G",
    };
    let target = lang.decimal(g.target_pct(), 0);
    match lang {
        Lang::En => format!("{}: {} % of {base} with {measure}", g.name, g.target_pct()),
        Lang::Sv => format!("{}: {target} % av {base} med {measure}", g.name),
    }
}

/// A goal's measure as a word of the target column (`fibre ≥ 98 %`).
fn measure_word(m: Measure, lang: Lang) -> &'static str {
    match (lang, m) {
        (Lang::Sv, Measure::Fibre) => "fiber",
        (Lang::Sv, Measure::Mbps100) => "100 Mbit/s",
        (Lang::Sv, Measure::Mobile4g) => "4G",
        (Lang::Sv, Measure::Mobile5g) => "5G",
        (Lang::En, m) => m.as_str(),
    }
}

/// An input's role (`premises`, `fibre`, ...) as the reader's word.
fn role_word(role: &str, lang: Lang) -> String {
    let sv = match role {
        "premises" => "adresser",
        "settlements" => "orter",
        "fibre" => "fiber",
        "mobile" => "mobiltäckning",
        "backbone" => "stamnät",
        "sites" => "mobilmaster",
        "dem" => "höjdmodell",
        "population" => "befolkning",
        "planned" => "planerade nät",
        "roads" => "vägar",
        other => other,
    };
    lang.pick(role, sv).to_string()
}

/// What the report calls a settlement, in one language.
#[derive(Debug, Clone, Copy)]
struct Words {
    /// One settlement: "settlement", "tätort", "ort".
    one: &'static str,
    /// Several: "settlements", "tätorter", "orter".
    many: &'static str,
    /// In a legend: "settlement (tätort)", "tätort", "ort".
    legend: &'static str,
}

impl Words {
    fn of(run: &crate::run_info::RunInfo, lang: Lang) -> Words {
        let label = settlement_label(run);
        match (lang, label) {
            (Lang::En, _) => Words {
                one: "settlement",
                many: "settlements",
                legend: label,
            },
            (Lang::Sv, "settlement (tätort)") => Words {
                one: "tätort",
                many: "tätorter",
                legend: "tätort",
            },
            (Lang::Sv, "settlement (småort)") => Words {
                one: "småort",
                many: "småorter",
                legend: "småort",
            },
            (Lang::Sv, _) => Words {
                one: "ort",
                many: "orter",
                legend: "ort",
            },
        }
    }
}

/// What the legend calls a settlement: SCB's "tätort" only when the settlements are SCB's
/// tätorter (their id field is SCB's `tatortskod`, or the file or layer is named for them),
/// "småort" for SCB's småorter (`smaortskod`, or named for them).
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
    let source = source.as_deref().unwrap_or("");
    if is_scb_smaorter(id_field, source) {
        "settlement (småort)"
    } else if is_scb_tatorter(id_field, source) {
        "settlement (tätort)"
    } else {
        "settlement"
    }
}

/// True for SCB's småorter: the id field `smaortskod`, or a source named for them.
fn is_scb_smaorter(id_field: Option<&str>, source: &str) -> bool {
    let s = source.to_lowercase();
    id_field.is_some_and(|f| f.eq_ignore_ascii_case("smaortskod"))
        || s.contains("smaort")
        || s.contains("småort")
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
    let lang = args.lang.unwrap_or(run.parameters.lang);
    let tr = |en: &'static str, sv: &'static str| lang.pick(en, sv).to_string();
    let pct = |v: f64| lang.percent(v);
    let words = Words::of(&run, lang);
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
            Some(match lang {
                Lang::En => format!(
                    "{}: {} premises, {} households",
                    style::gap_label(kind, lang),
                    p["premises"],
                    p["households"]
                ),
                Lang::Sv => format!(
                    "{}: {} adresser, {} hushåll",
                    style::gap_label(kind, lang),
                    p["premises"],
                    p["households"]
                ),
            }),
        )
    })?;
    let chosen: Vec<MapFeature> = if prio_dir.join("projects.geojson").exists() {
        read_geojson_features(&prio_dir.join("projects.geojson"), &|p| {
            (
                "#000000".into(),
                0.0,
                if p["chosen"] == 1 { "#006d2c" } else { "none" }.into(),
                if p["chosen"] == 1 { 1.6 } else { 0.0 },
                Some(match lang {
                    Lang::En => {
                        format!("project rank {}: {} households", p["rank"], p["households"])
                    }
                    Lang::Sv => format!("projekt nr {}: {} hushåll", p["rank"], p["households"]),
                }),
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
                style::gap_label(k, lang).to_string(),
            )
        })
        .collect();
    gap_legend.push(("#dfe4ea".into(), words.legend.into()));
    if !chosen.is_empty() {
        gap_legend.push((
            "#006d2c".into(),
            tr(
                "project chosen for the budget (outline)",
                "projekt valt inom budgeten (kontur)",
            ),
        ));
    }
    let gap_map = Map {
        title: tr("Where the gaps are", "Var luckorna finns"),
        caption: match lang {
            Lang::En => format!(
                "Gap areas: premises without fibre within the drop distance ({} m) or without 4G, clustered within {} m, over settlement outlines{}.",
                run.parameters.drop_distance_m,
                run.parameters.gap_cluster_m,
                if regions.is_empty() { "" } else { " and kommun boundaries" }
            ),
            Lang::Sv => format!(
                "Luckområden: adresser utan fiber inom anslutningsavståndet ({} m) eller utan 4G, grupperade inom {} m, över {}s gränser{}.",
                lang.decimal(run.parameters.drop_distance_m, 0),
                lang.decimal(run.parameters.gap_cluster_m, 0),
                words.many.to_owned() + "na",
                if regions.is_empty() { "" } else { " och kommungränser" }
            ),
        },
        layers: vec![regions.clone(), settlement_outlines.clone(), gaps, chosen],
        legend: gap_legend,
    };
    // The layers the analysis had: without one, its measure is not known (not 0).
    let (has_fibre, has_mobile) = (
        run.has_input(&["fibre"]),
        run.has_input(&["mobile", "sites"]),
    );
    let share_map = Map {
        title: match lang {
            Lang::En => "Fibre share per settlement".into(),
            Lang::Sv => format!("Andel med fiber per {}", words.one),
        },
        caption: match (lang, has_fibre) {
            (Lang::En, true) => {
                "Share of premises passed by fibre, per settlement; grey: no premises.".into()
            }
            (Lang::Sv, true) => format!(
                "Andel adresser med fiber i absoluta närheten, per {}; grå: inga adresser.",
                words.one
            ),
            (Lang::En, false) => {
                "Not known: the analysis had no fibre layer, so every settlement is grey.".into()
            }
            (Lang::Sv, false) => format!(
                "Okänt: analysen hade inget fiberlager, så varje {} är grå.",
                words.one
            ),
        },
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
                                "{}: {} {}",
                                p["settlement_name"].as_str().unwrap_or(""),
                                pct(p["share_fibre_passed"].as_f64().unwrap_or(f64::NAN)),
                                lang.pick("fibre passed", "med fiber i absoluta närheten")
                            )),
                        )
                    })
                })
                .collect(),
        ],
        legend: match has_fibre {
            true => style::SHARE_CLASSES
                .iter()
                .map(|c| {
                    (
                        c.2.to_string(),
                        format!(
                            "{} {}",
                            lang.pick("fibre passed", "fiber i absoluta närheten"),
                            c.3
                        ),
                    )
                })
                .chain(std::iter::once((
                    style::NO_DATA_FILL.to_string(),
                    tr("no premises", "inga adresser"),
                )))
                .collect(),
            false => vec![(
                style::NO_DATA_FILL.to_string(),
                tr(
                    "fibre not known (no fibre layer)",
                    "fiber okänd (inget fiberlager)",
                ),
            )],
        },
    };

    // Headline. Without a fibre layer, or without mobile coverage or cell sites, no premise
    // counts as having it: the headline says that the layer was missing instead of showing a
    // share of 0 as if it had been measured.
    let people = t("households") + t("workplaces");
    let headline = vec![
        (tr("premises", "adresser"), int(t("premises"))),
        (tr("households", "hushåll"), int(t("households"))),
        match has_fibre {
            true => (
                tr(
                    "households + workplaces with fibre",
                    "hushåll och arbetsställen med fiber i absoluta närheten",
                ),
                pct((t("households_fibre_passed") + t("workplaces_fibre_passed")) / people),
            ),
            false => (
                tr(
                    "households + workplaces with fibre: not known, the analysis had no fibre layer",
                    "hushåll och arbetsställen med fiber i absoluta närheten: okänt, analysen hade inget fiberlager",
                ),
                "–".to_string(),
            ),
        },
        match has_mobile {
            true => (
                tr("premises with 4G", "adresser med 4G"),
                pct(t("mobile_4g") / t("premises")),
            ),
            false => (
                tr(
                    "premises with 4G: not known, the analysis had no mobile coverage or cell sites",
                    "adresser med 4G: okänt, analysen hade ingen mobiltäckning och inga mobilmaster",
                ),
                "–".to_string(),
            ),
        },
        (
            match (has_fibre, has_mobile) {
                (true, true) => tr(
                    "unserved premises (no fibre, no 4G)",
                    "adresser utan fiber och utan 4G",
                ),
                (false, true) => tr(
                    "unserved premises (no fibre, no 4G; with no fibre layer, none counts as fibre passed)",
                    "adresser utan fiber och utan 4G (utan fiberlager räknas ingen adress som ansluten till fiber)",
                ),
                (true, false) => tr(
                    "unserved premises (no fibre, no 4G; with no mobile layer, none counts as having 4G)",
                    "adresser utan fiber och utan 4G (utan mobillager räknas ingen adress som täckt av 4G)",
                ),
                (false, false) => tr(
                    "unserved premises (no fibre, no 4G; with no fibre or mobile layer, every premise counts)",
                    "adresser utan fiber och utan 4G (utan fiber- och mobillager räknas varje adress)",
                ),
            },
            int(t("unserved")),
        ),
        (
            match run.has_input(&["fibre", "fixed", "planned"]) {
                true => tr(
                    "white premises (state aid)",
                    "adresser i vita områden (bredbandsstöd)",
                ),
                false => tr(
                    "white premises (state aid; with no fibre or other network layer, every premise counts)",
                    "adresser i vita områden (bredbandsstöd; utan fiber- eller annat nätlager räknas varje adress)",
                ),
            },
            int(t("aid_white")),
        ),
    ];

    // Goal attainment, whole area.
    let goals = run.goals()?;
    let goal_words = goal_set_words(&goals, lang);
    let goals_title = goal_words.map_or(lang.pick("Goals", "Mål"), |w| w.0);
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
                format!(
                    "{} ≥ {} %",
                    measure_word(g.measure, lang),
                    match lang {
                        Lang::En => g.target_pct().to_string(),
                        Lang::Sv => lang.decimal(g.target_pct(), 0),
                    }
                ),
                pct(s.share.unwrap_or(f64::NAN)),
                if s.met {
                    tr("yes", "ja")
                } else {
                    tr("no", "nej")
                },
                int(s.missing_premises as f64),
                int(s.missing_households as f64),
            ]
        })
        .collect();
    let goal_list = goals
        .iter()
        .map(|g| goal_text(g, lang))
        .collect::<Vec<_>>()
        .join("; ");
    let mut tables = vec![Table {
        title: format!(
            "{}: {}",
            goals_title,
            lang.pick("the whole area", "hela området")
        ),
        note: match (goals.is_empty(), lang) {
            (true, _) => tr(
                "The analysis measured no goals (--goals none, and no --goal).",
                "Analysen mätte inga mål (--goals none och inget --goal).",
            ),
            (false, Lang::En) => format!(
                "The goals the analysis measured: {goal_list}. Missing: premises and households that still need it to reach the target."
            ),
            (false, Lang::Sv) => format!(
                "Målen som analysen mätte: {goal_list}. Saknas: adresser och hushåll som fortfarande behöver det för att målet ska nås."
            ),
        },
        headers: match lang {
            Lang::En => [
                "goal",
                "target",
                "now",
                "met",
                "premises missing",
                "households missing",
            ],
            Lang::Sv => [
                "mål",
                "målnivå",
                "nu",
                "uppnått",
                "adresser saknas",
                "hushåll saknas",
            ],
        }
        .map(String::from)
        .to_vec(),
        rows: goal_rows,
        numeric: vec![false, false, true, false, true, true],
        code: vec![true],
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
        let mut headers = vec!["kommun".to_string(), tr("premises", "adresser")];
        for g in &goals {
            headers.push(format!("{} {}", g.name, lang.pick("now", "nu")));
            headers.push(match g.base {
                Base::People => tr("households missing", "hushåll saknas"),
                Base::Premises => tr("premises missing", "adresser saknas"),
            });
        }
        headers.push(tr("state-aid class", "stödklass"));
        let mut numeric = vec![false, true];
        numeric.extend(goals.iter().flat_map(|_| [true, true]));
        numeric.push(false);
        tables.push(Table {
            title: format!("{goals_title} per kommun"),
            note: match lang {
                Lang::En => format!(
                    "From grid/region_kommun.csv (gapmap grid); most households missing {g1} first."
                ),
                Lang::Sv => format!(
                    "Från grid/region_kommun.csv (gapmap grid); flest hushåll som saknar {g1} först."
                ),
            },
            headers,
            rows: rows
                .iter()
                .map(|r| {
                    let mut row = vec![k.s(r, "region_name").to_string(), int(k.f(r, "premises"))];
                    for g in &goals {
                        row.push(pct(k.f(r, &format!("goal_{}_share", g.name))));
                        row.push(int(k.f(r, &format!("goal_{}_{}", g.name, missing(g)))));
                    }
                    row.push(lang.aid_class(k.s(r, "aid_class")).to_string());
                    row
                })
                .collect(),
            numeric,
            code: Vec::new(),
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
            lang.aid_class(settlements.s(r, "aid_class")).to_string(),
        ]
    };
    let headers: Vec<String> = match lang {
        Lang::En => [
            "settlement",
            "premises",
            "households",
            "fibre passed",
            "households without fibre",
            "unserved premises",
            "state-aid class",
        ],
        Lang::Sv => [
            words.one,
            "adresser",
            "hushåll",
            "fiber i absoluta närheten",
            "hushåll utan fiber",
            "adresser utan fiber och 4G",
            "stödklass",
        ],
    }
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
        title: match lang {
            Lang::En => format!(
                "Top {}: settlements with the most households without fibre",
                args.top
            ),
            Lang::Sv => format!(
                "Topp {}: {} med flest hushåll utan fiber",
                args.top, words.many
            ),
        },
        note: String::new(),
        headers: headers.clone(),
        rows: by_missing
            .iter()
            .take(args.top)
            .map(|r| settlement_row(r))
            .collect(),
        numeric: numeric.clone(),
        code: Vec::new(),
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
        title: match lang {
            Lang::En => format!(
                "Top {}: settlements with the lowest fibre share (50 premises or more)",
                args.top
            ),
            Lang::Sv => format!(
                "Topp {}: {} med lägst andel fiber (minst 50 adresser)",
                args.top, words.many
            ),
        },
        note: String::new(),
        headers,
        rows: by_share
            .iter()
            .take(args.top)
            .map(|r| settlement_row(r))
            .collect(),
        numeric,
        code: Vec::new(),
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
        let budget = pj["parameters"][format!("budget_{cur}")]
            .as_f64()
            .unwrap_or(0.0)
            / 1e6;
        let method = pj["method"].as_str().unwrap_or("");
        let cost = pj[format!("cost_{cur}")].as_f64().unwrap_or(0.0) / 1e6;
        let households = int(pj["households_connected"].as_f64().unwrap_or(0.0));
        let bound = int(pj["upper_bound_households"].as_f64().unwrap_or(0.0).floor());
        let number = |v: &Value| match v.as_f64() {
            Some(x) => lang.decimal(x, if x.fract() == 0.0 { 0 } else { 2 }),
            None => v.to_string(),
        };
        tables.push(Table {
            title: match lang {
                Lang::En => format!("Projects chosen for a budget of {budget:.1} M{code}"),
                Lang::Sv => format!(
                    "Projekt valda för en budget på {} M{code}",
                    lang.decimal(budget, 1)
                ),
            },
            note: match lang {
                Lang::En => format!(
                    "{} of {} candidate projects ({method}): {households} households for {cost:.1} M{code}; no choice within the budget connects more than {bound} households. Cost model: {} {code} per metre of trench, detour {}, {} {code} per premise. The first {} in rank order:",
                    chosen.len(),
                    pj["candidates"],
                    pj["parameters"][format!("trench_{cur}_per_m")],
                    pj["parameters"]["detour_factor"],
                    pj["parameters"][format!("per_premise_{cur}")],
                    args.top
                ),
                Lang::Sv => format!(
                    "{} av {} tänkbara projekt ({}): {households} hushåll för {} M{code}; inget val inom budgeten ansluter fler än {bound} hushåll. Kostnadsmodell: {} {code} per meter schakt, omvägsfaktor {}, {} {code} per adress. De första {} i rangordning:",
                    chosen.len(),
                    pj["candidates"],
                    crate::prioritise::method_text(method, lang),
                    lang.decimal(cost, 1),
                    number(&pj["parameters"][format!("trench_{cur}_per_m")]),
                    number(&pj["parameters"]["detour_factor"]),
                    number(&pj["parameters"][format!("per_premise_{cur}")]),
                    args.top
                ),
            },
            headers: match lang {
                Lang::En => [
                    "rank".to_string(),
                    "project".into(),
                    "settlements".into(),
                    "kommun".into(),
                    "premises".into(),
                    "households".into(),
                    format!("cost (M{code})"),
                    format!("{code} per household"),
                ],
                Lang::Sv => [
                    "rang".to_string(),
                    "projekt".into(),
                    words.many.into(),
                    "kommun".into(),
                    "adresser".into(),
                    "hushåll".into(),
                    format!("kostnad (M{code})"),
                    format!("{code} per hushåll"),
                ],
            }
            .to_vec(),
            rows: chosen
                .iter()
                .take(args.top)
                .map(|r| {
                    vec![
                        p.s(r, "rank").to_string(),
                        project_name(p.s(r, "project"), lang),
                        place_names(p.s(r, "settlements"), &settlement_names, lang).0,
                        place_names(p.s(r, "settlements"), &settlement_names, lang).1,
                        int(p.f(r, "premises")),
                        int(p.f(r, "households")),
                        lang.decimal(p.f(r, &format!("cost_{cur}")) / 1e6, 2),
                        int(p.f(r, &format!("cost_per_household_{cur}"))),
                    ]
                })
                .collect(),
            numeric: vec![true, false, false, false, true, true, true, true],
            code: Vec::new(),
        });
    }
    resilience_tables(dir, &settlements, args.top, lang, words, &mut tables)?;
    mobile_tables(dir, &settlements, args.top, lang, words, &mut tables)?;
    methods_tables(&run, lang, &mut tables);
    let area = if run.parameters.bundled_region {
        tr(
            "Dalarnas län (the bundled region)",
            "Dalarnas län (den medföljande regionen)",
        )
    } else {
        run.inputs
            .iter()
            .find(|i| i.role == "settlements")
            .map(|i| i.path.as_str())
            .map_or(tr("the analysed area", "det analyserade området"), |p| {
                Path::new(p)
                    .file_stem()
                    .map_or(p.to_string(), |s| s.to_string_lossy().into_owned())
            })
    };
    let scb_settlements = settlement_label(&run) != "settlement";
    let report = Report {
        lang,
        title: args.title.clone().unwrap_or_else(|| match lang {
            Lang::En => format!("Connectivity gaps: {area}"),
            Lang::Sv => format!("Luckor i bredband och mobiltäckning: {area}"),
        }),
        subtitle: match lang {
            Lang::En => format!(
                "gapmap {} analysis of {} (working CRS {}); fibre, 4G/5G, state-aid classes{}.",
                run.version,
                run.started_utc,
                run.working_crs,
                goal_words.map_or(String::new(), |w| format!(" and {}", w.1))
            ),
            Lang::Sv => format!(
                "Analys med gapmap {} från {} (referenssystem {}): fiber, 4G/5G, stödklasser för bredbandsstöd{}.",
                run.version,
                run.started_utc,
                run.working_crs,
                goal_words.map_or(String::new(), |w| format!(" och {}", w.1))
            ),
        },
        headline,
        maps: {
            let mut maps = vec![gap_map.clone(), share_map];
            if let Some(m) = corridor_map(dir, &settlement_outlines, words, lang, args.top)? {
                maps.push(m);
            }
            maps
        },
        tables,
        footer: match lang {
            // SCB is named as the source only of SCB's own settlements (and the bundled
            // region's boundaries); any other settlements are the user's inputs.
            Lang::En => format!(
                "Made by gapmap {} from {} (run.json lists the inputs and parameters).{}",
                env!("CARGO_PKG_VERSION"),
                dir.display(),
                match (scb_settlements, run.parameters.bundled_region) {
                    (_, true) => " Settlement and boundary data: SCB (CC0).",
                    (true, false) => " Settlement data: SCB (CC0).",
                    (false, false) => "",
                }
            ),
            Lang::Sv => format!(
                "Skapad av gapmap {} från {} (run.json listar indata och parametrar).{}",
                env!("CARGO_PKG_VERSION"),
                dir.display(),
                match (scb_settlements, run.parameters.bundled_region) {
                    (_, true) => " Tätorter och gränser: SCB (CC0).",
                    (true, false) => " Orter: SCB (CC0).",
                    (false, false) => "",
                }
            ),
        },
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
            "{}: {} {}",
            gap_map.title,
            lang.pick("analysis of", "analys från"),
            run.started_utc.get(..10).unwrap_or(&run.started_utc)
        ),
        attribution: match (run.parameters.bundled_region, lang) {
            (true, Lang::En) => format!(
                "gapmap {}. Tätorter, kommuner, län and population grid: SCB (CC0); premises, fibre and mobile coverage: synthetic.",
                env!("CARGO_PKG_VERSION")
            ),
            (true, Lang::Sv) => format!(
                "gapmap {}. Tätorter, kommuner, län och befolkningsrutnät: SCB (CC0); adresser, fiber och mobiltäckning: syntetiska.",
                env!("CARGO_PKG_VERSION")
            ),
            (false, Lang::En) => format!(
                "gapmap {}. Data: the inputs listed in run.json.",
                env!("CARGO_PKG_VERSION")
            ),
            (false, Lang::Sv) => format!(
                "gapmap {}. Data: indata enligt run.json.",
                env!("CARGO_PKG_VERSION")
            ),
        },
    };
    write_map_png(&gap_map, &frame, &decor, &out.join("map.png"))?;
    let mut layers = html_layers(
        &LayerSources {
            dir,
            grid_dir: &grid_dir,
            prio_dir: &prio_dir,
            run: &run,
            priorities: priorities.as_ref(),
        },
        words,
        lang,
        &gap_map.legend,
    )?;
    let reduced = fit_budget(&mut layers, MAP_DATA_BUDGET_BYTES);
    let date = run.started_utc.get(..10).unwrap_or(&run.started_utc);
    // What the corridor and project layers hold, for those the page has.
    let has = |id: &str| layers.iter().any(|l| l.id == id);
    let mut parts: Vec<String> = Vec::new();
    if has("corridors") {
        parts.push(match lang {
            Lang::En => format!("corridors: the {MAP_CORRIDORS} that cut the most premises"),
            Lang::Sv => format!("korridorer: de {MAP_CORRIDORS} som skär av flest adresser"),
        });
    }
    if has("projects") {
        parts.push(
            lang.pick(
                "projects: those chosen for the budget",
                "projekt: de som valts inom budgeten",
            )
            .to_string(),
        );
    }
    let parts = match parts.is_empty() {
        true => String::new(),
        false => format!("; {}", parts.join("; ")),
    };
    let mut note = match lang {
        Lang::En => format!(
            "Analysis of {date} (gapmap {}). The layers are the analysis' web maps (simplified by {} m){parts}.",
            run.version, run.parameters.map_simplify_m,
        ),
        Lang::Sv => format!(
            "Analys från {date} (gapmap {}). Lagren är analysens webbkartor (förenklade med {} m){parts}.",
            run.version,
            lang.decimal(run.parameters.map_simplify_m, 0),
        ),
    };
    if !reduced.is_empty() {
        note += &match lang {
            Lang::En => format!(
                " To keep this file under {} MB, {} are drawn as points at the centre of their extent (their figures are whole; the full outlines are in the analysis' GeoJSON files).",
                MAP_PAGE_LIMIT_MB,
                reduced.join(", ")
            ),
            Lang::Sv => format!(
                " För att filen ska hålla sig under {} MB visas {} som punkter i mitten av sin utbredning (siffrorna är fullständiga; hela konturerna finns i analysens GeoJSON-filer).",
                MAP_PAGE_LIMIT_MB,
                reduced.join(", ")
            ),
        };
    }
    let html_map = map_html(&report.title, &note, &layers, lang);
    write_atomic(&out.join("map.html"), html_map.as_bytes())?;
    let _ = writeln!(
        summary,
        "{} {} ({} KiB), {} ({} KiB) {} {} {} {} s",
        lang.pick("wrote", "skrev"),
        out.join("report.html").display(),
        html.len() / 1024,
        out.join("map.html").display(),
        html_map.len() / 1024,
        lang.pick("and", "och"),
        out.join("map.png").display(),
        lang.pick("in", "på"),
        lang.decimal(t0.elapsed().as_secs_f64(), 1)
    );
    Ok(summary)
}

/// The top corridors (with `--backbone`) over the settlement outlines, drawn as
/// critical_links.geojson draws them: darker and wider with more premises cut.
fn corridor_map(
    dir: &Path,
    outlines: &[MapFeature],
    words: Words,
    lang: Lang,
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
            Some(match lang {
                Lang::En => format!(
                    "corridor rank {}: {} premises cut",
                    p["rank"], p["premises_cut"]
                ),
                Lang::Sv => format!(
                    "korridor nr {}: {} adresser avskurna",
                    p["rank"], p["premises_cut"]
                ),
            }),
        )
    })?
    .into_iter()
    .filter(|f| f.stroke != "none")
    .collect();
    let mut legend: Vec<(String, String)> = style::CRITICAL_CLASSES
        .iter()
        .rev()
        .map(|c| (c.2.to_string(), lang.pick(c.4 .0, c.4 .1).to_string()))
        .collect();
    legend.push(("#dfe4ea".into(), words.legend.into()));
    Ok(Some(Map {
        title: match lang {
            Lang::En => format!("The top {top} critical fibre corridors"),
            Lang::Sv => format!("De {top} mest kritiska fiberkorridorerna"),
        },
        caption: lang.pick(
            "Corridors whose single failure cuts the most premises off the backbone (critical_links.geojson; the tables below list them).",
            "Korridorer där ett enda avbrott skär av flest adresser från stamnätet (critical_links.geojson; tabellerna nedan listar dem).",
        ).into(),
        layers: vec![outlines.to_vec(), lines],
        legend,
    }))
}

/// A project's settlements (ids separated by `;`) as (names, kommuner), each listed once;
/// "rural" for a project outside every settlement.
fn place_names(
    ids: &str,
    names: &HashMap<String, (String, String)>,
    lang: Lang,
) -> (String, String) {
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
        places.push(lang.pick("rural", "landsbygd").into());
    }
    (places.join(", "), kommuner.join(", "))
}

/// A project's name in `lang`: prioritise names a gap cluster's project `gap N` (other
/// candidates by their cell's id, in no language).
fn project_name(name: &str, lang: Lang) -> String {
    match (lang, name.strip_prefix("gap ")) {
        (Lang::Sv, Some(n)) => format!("lucka {n}"),
        _ => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tatort_only_for_scb_tatorter() {
        use super::is_scb_tatorter as scb;
        assert!(scb(Some("tatortskod"), "data/dalarna/settlements.gpkg"));
        assert!(scb(None, "tatorter_2023_sweden.gpkg"));
        assert!(!scb(Some("id"), "n50_tettsteder.gpkg"));
        assert!(!scb(None, "settlements.gpkg derived"));
        assert!(super::is_scb_smaorter(None, "smaorter_2020.gpkg"));
        assert!(super::is_scb_smaorter(Some("SMAORTSKOD"), "x.gpkg"));
        assert!(!super::is_scb_smaorter(
            Some("tatortskod"),
            "tatorter_2023.gpkg"
        ));
    }
}
