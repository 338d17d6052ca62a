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
use gapmap_io::Lang;
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
    let share_map = Map {
        title: match lang {
            Lang::En => "Fibre share per settlement".into(),
            Lang::Sv => format!("Andel med fiber per {}", words.one),
        },
        caption: match lang {
            Lang::En => {
                "Share of premises passed by fibre, per settlement; grey: no premises.".into()
            }
            Lang::Sv => format!(
                "Andel adresser med fiber i absoluta närheten, per {}; grå: inga adresser.",
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
        legend: style::SHARE_CLASSES
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
    };

    // Headline.
    let people = t("households") + t("workplaces");
    let headline = vec![
        (tr("premises", "adresser"), int(t("premises"))),
        (tr("households", "hushåll"), int(t("households"))),
        (
            tr(
                "households + workplaces with fibre",
                "hushåll och arbetsställen med fiber i absoluta närheten",
            ),
            pct((t("households_fibre_passed") + t("workplaces_fibre_passed")) / people),
        ),
        (
            tr("premises with 4G", "adresser med 4G"),
            pct(t("mobile_4g") / t("premises")),
        ),
        (
            tr(
                "unserved premises (no fibre, no 4G)",
                "adresser utan fiber och utan 4G",
            ),
            int(t("unserved")),
        ),
        (
            tr(
                "white premises (state aid)",
                "adresser i vita områden (bredbandsstöd)",
            ),
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
        title: tr("National goals: the whole area", "Nationella mål: hela området"),
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
            title: tr("National goals per kommun", "Nationella mål per kommun"),
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
    let report = Report {
        lang,
        title: args.title.clone().unwrap_or_else(|| match lang {
            Lang::En => format!("Connectivity gaps: {area}"),
            Lang::Sv => format!("Luckor i bredband och mobiltäckning: {area}"),
        }),
        subtitle: match lang {
            Lang::En => format!(
                "gapmap {} analysis of {} (working CRS {}); fibre, 4G/5G, state-aid classes and the national goals.",
                run.version,
                run.started_utc,
                run.working_crs
            ),
            Lang::Sv => format!(
                "Analys med gapmap {} från {} (referenssystem {}): fiber, 4G/5G, stödklasser för bredbandsstöd och de nationella målen.",
                run.version,
                run.started_utc,
                run.working_crs
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
            Lang::En => format!(
                "Made by gapmap {} from {} (run.json lists the inputs and parameters). Settlement and boundary data: SCB (CC0).",
                env!("CARGO_PKG_VERSION"),
                dir.display()
            ),
            Lang::Sv => format!(
                "Skapad av gapmap {} från {} (run.json listar indata och parametrar). Tätorter och gränser: SCB (CC0).",
                env!("CARGO_PKG_VERSION"),
                dir.display()
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
    let mut note = match lang {
        Lang::En => format!(
            "Analysis of {date} (gapmap {}). The layers are the analysis' web maps (simplified by {} m); corridors: the {} that cut the most premises; projects: those chosen for the budget.",
            run.version,
            run.parameters.map_simplify_m,
            MAP_CORRIDORS
        ),
        Lang::Sv => format!(
            "Analys från {date} (gapmap {}). Lagren är analysens webbkartor (förenklade med {} m); korridorer: de {} som skär av flest adresser; projekt: de som valts inom budgeten.",
            run.version,
            lang.decimal(run.parameters.map_simplify_m, 0),
            MAP_CORRIDORS
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

/// Draws the largest polygon layers as points, in that order (predicted coverage, white
/// areas, gap clusters, settlements), until the data fit `budget` bytes; returns the names of
/// those reduced.
fn fit_budget(layers: &mut [HtmlLayer], budget: usize) -> Vec<String> {
    let mut total: usize = layers.iter().map(data_bytes).sum();
    let mut reduced = Vec::new();
    for id in ["coverage", "aid_areas", "gaps", "settlements"] {
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

/// Where the layers of `map.html` come from: the analysis, its `grid/` and `priorities/` (or
/// directories that do not exist), its run record and prioritise's.
struct LayerSources<'a> {
    dir: &'a Path,
    grid_dir: &'a Path,
    prio_dir: &'a Path,
    run: &'a crate::run_info::RunInfo,
    priorities: Option<&'a Value>,
}

/// The directory of `gapmap predict` whose coverage the analysis read as its mobile input
/// (`--mobile pred/coverage.gpkg`), when there is one, with that run's working CRS.
fn predict_dir(run: &crate::run_info::RunInfo) -> Option<(PathBuf, String)> {
    run.inputs
        .iter()
        .filter(|i| i.role == "mobile")
        .filter_map(|i| Path::new(&i.path).parent().map(Path::to_path_buf))
        .find_map(|d| {
            let text = std::fs::read_to_string(d.join("run.json")).ok()?;
            let v: Value = serde_json::from_str(&text).ok()?;
            let crs = v["working_crs"].as_str()?.to_string();
            (v["command"] == "predict" && d.join("coverage.geojson").exists()).then_some((d, crs))
        })
}

/// A transform from the working CRS `label` (run.json's `working_crs`) to WGS 84.
fn to_wgs84(label: &str) -> Result<gapmap_io::crs::Transform> {
    let bad = |message: String| Error::Analysis {
        path: PathBuf::from("run.json"),
        message: format!("working CRS {label}: {message}"),
    };
    let from = gapmap_io::Crs::parse(label, "the analysis' working CRS")?;
    gapmap_io::crs::Transform::new(&from, &gapmap_io::Crs::wgs84()).map_err(bad)
}

/// Cell sites of a `critical_sites.csv` (of `analyze --sites`, or of the `predict` whose
/// coverage the analysis read), x/y in `crs`, as points coloured by how many premises have
/// 4G from that site alone.
fn sites_layer(path: &Path, crs: &str, lang: Lang) -> Result<Option<HtmlLayer>> {
    if !path.exists() {
        return Ok(None);
    }
    let c = Rows::read(path)?;
    let (mut xs, mut ys): (Vec<f64>, Vec<f64>) =
        c.rows.iter().map(|r| (c.f(r, "x"), c.f(r, "y"))).unzip();
    to_wgs84(crs)?
        .coords(&mut xs, &mut ys)
        .map_err(|message| Error::Analysis {
            path: path.to_path_buf(),
            message,
        })?;
    let number = |v: f64| {
        if v.is_finite() && v.fract() == 0.0 {
            Value::from(v as i64)
        } else {
            Value::Null
        }
    };
    let features: Vec<Value> = c
        .rows
        .iter()
        .zip(xs.iter().zip(&ys))
        .map(|(r, (&x, &y))| {
            let cut = c.f(r, "premises_cut").max(0.0);
            let (colour, class) = match cut as u64 {
                0 => ("#969696", 0),
                n => {
                    let colour = style::critical_stroke(n).0;
                    let class = style::CRITICAL_CLASSES
                        .iter()
                        .position(|k| k.2 == colour)
                        .unwrap_or(0);
                    (colour, class + 1)
                }
            };
            serde_json::json!({
                "type": "Feature",
                "properties": {
                    "site_id": c.s(r, "site_id"),
                    "operator": c.s(r, "operator"),
                    "premises_cut": number(c.f(r, "premises_cut")),
                    "households_cut": number(c.f(r, "households_cut")),
                    "workplaces_cut": number(c.f(r, "workplaces_cut")),
                    "main_settlement": c.s(r, "main_settlement"),
                    "fill": colour, "fill-opacity": 0.9, "stroke": colour,
                    "stroke-width": 1, "radius": 2 + class,
                },
                "geometry": {"type": "Point", "coordinates": [x, y]},
            })
        })
        .collect();
    let mut data = serde_json::json!({"type": "FeatureCollection", "features": features});
    gapmap_io::write::map_html::round_coordinates(&mut data);
    let labels: [(&str, &str); 5] = [
        (
            "no premise has 4G from it alone",
            "ingen adress har 4G enbart från den",
        ),
        (
            "1–9 premises have 4G from it alone",
            "1–9 adresser har 4G enbart från den",
        ),
        (
            "10–99 premises have 4G from it alone",
            "10–99 adresser har 4G enbart från den",
        ),
        (
            "100–999 premises have 4G from it alone",
            "100–999 adresser har 4G enbart från den",
        ),
        (
            "1,000 or more premises have 4G from it alone",
            "1\u{a0}000 eller fler adresser har 4G enbart från den",
        ),
    ];
    let colours: Vec<&str> = std::iter::once("#969696")
        .chain(style::CRITICAL_CLASSES.iter().map(|k| k.2))
        .collect();
    let field = |k: &str, en: &str, sv: &str| (k.to_string(), lang.pick(en, sv).to_string());
    Ok(Some(HtmlLayer {
        id: "sites".into(),
        name: lang.pick("Cell sites (4G)", "Mobilmaster (4G)").into(),
        data,
        visible: false,
        legend: colours
            .into_iter()
            .zip(labels)
            .rev()
            .map(|(c, (en, sv))| (c.to_string(), lang.pick(en, sv).to_string()))
            .collect(),
        title_field: "site_id".into(),
        fields: vec![
            field("operator", "operator", "operatör"),
            field(
                "premises_cut",
                "premises with 4G from it alone",
                "adresser med 4G enbart från den",
            ),
            field(
                "households_cut",
                "households with 4G from it alone",
                "hushåll med 4G enbart från den",
            ),
            field(
                "workplaces_cut",
                "workplaces with 4G from it alone",
                "arbetsställen med 4G enbart från den",
            ),
            field("main_settlement", "main settlement", "mest berörda ort"),
        ],
        outline: false,
    }))
}

/// The roads `prioritise --roads` routed feeders along (priorities.json's `roads`), read
/// again, simplified by `tolerance_m` and drawn as thin grey lines; `None` without roads, or
/// (with a notice) when the file is not found from here.
fn roads_layer(
    priorities: Option<&Value>,
    crs: &str,
    tolerance_m: f64,
    lang: Lang,
) -> Result<Option<HtmlLayer>> {
    use gapmap_core::geo::Simplify as _;
    let Some(path) = priorities.and_then(|p| p["parameters"]["roads"].as_str()) else {
        return Ok(None);
    };
    let layer = priorities.and_then(|p| p["parameters"]["roads_layer"].as_str());
    if !Path::new(path).exists() && !gapmap_io::read::is_data_source_name(path) {
        progress::notice(&format!(
            "the roads of prioritise ({path}) are not found from here; map.html is made without them"
        ));
        return Ok(None);
    }
    let working = gapmap_io::Crs::parse(crs, "the analysis' working CRS")?;
    let mut lines = crate::prioritise::read_roads(
        Path::new(path),
        layer,
        &gapmap_io::ReadContext::new(working),
    )?;
    for l in &mut lines {
        *l = l.simplify(tolerance_m);
    }
    let t = to_wgs84(crs)?;
    for l in &mut lines {
        t.coords_in_place(&mut l.0)
            .map_err(|message| Error::Analysis {
                path: PathBuf::from(path),
                message,
            })?;
    }
    let features: Vec<Value> = lines
        .iter()
        .map(|l| {
            serde_json::json!({
                "type": "Feature",
                "properties": {"stroke": "#6b6b6b", "stroke-width": 1, "stroke-opacity": 0.7},
                "geometry": {"type": "LineString",
                    "coordinates": l.0.iter().map(|c| [c.x, c.y]).collect::<Vec<_>>()},
            })
        })
        .collect();
    let mut data = serde_json::json!({"type": "FeatureCollection", "features": features});
    gapmap_io::write::map_html::round_coordinates(&mut data);
    Ok(Some(HtmlLayer {
        id: "roads".into(),
        name: lang
            .pick("Roads (prioritise --roads)", "Vägar (prioritise --roads)")
            .into(),
        data,
        visible: false,
        legend: vec![(
            "#6b6b6b".into(),
            lang.pick(
                "road the feeders may follow",
                "väg som matarledningarna kan följa",
            )
            .into(),
        )],
        title_field: String::new(),
        fields: Vec::new(),
        outline: false,
    }))
}

/// The layers of `map.html`, bottom to top: län and kommun boundaries (after `grid`),
/// predicted coverage (when the mobile input came from `gapmap predict`), settlements by
/// fibre share, white aid areas, gap clusters, roads (after `prioritise --roads`), critical
/// corridors (with `--backbone`), cell sites (with `--sites`, or predict's) and chosen
/// projects (after `prioritise`).
fn html_layers(
    src: &LayerSources<'_>,
    words: Words,
    lang: Lang,
    gap_legend: &[(String, String)],
) -> Result<Vec<HtmlLayer>> {
    let (dir, grid_dir, prio_dir) = (src.dir, src.grid_dir, src.prio_dir);
    let predicted = predict_dir(src.run);
    let all = |_: &Value| true;
    // (field, English label, Swedish label): the panel's rows.
    let fields =
        |f: &[(&'static str, &'static str, &'static str)]| -> Vec<(&'static str, &'static str)> {
            f.iter()
                .map(|&(k, en, sv)| (k, lang.pick(en, sv)))
                .collect()
        };
    let region_fields = fields(&[
        ("premises", "premises", "adresser"),
        ("households", "households", "hushåll"),
        (
            "share_fibre_passed",
            "fibre passed",
            "fiber i absoluta närheten",
        ),
        ("share_mobile_4g", "4G", "4G"),
        (
            "unserved",
            "unserved premises",
            "adresser utan fiber och 4G",
        ),
        ("aid_class", "state-aid class", "stödklass"),
    ]);
    let settlement_fields = fields(&[
        ("settlement_id", "id", "id"),
        ("premises", "premises", "adresser"),
        ("households", "households", "hushåll"),
        ("workplaces", "workplaces", "arbetsställen"),
        (
            "fibre_passed",
            "premises fibre passed",
            "adresser med fiber i absoluta närheten",
        ),
        (
            "share_fibre_passed",
            "fibre passed",
            "andel med fiber i absoluta närheten",
        ),
        (
            "households_fibre_passed",
            "households fibre passed",
            "hushåll med fiber i absoluta närheten",
        ),
        ("mobile_4g", "premises with 4G", "adresser med 4G"),
        ("share_mobile_4g", "4G", "andel med 4G"),
        (
            "mobile_4g_single_operator",
            "4G from one operator only",
            "4G från endast en operatör",
        ),
        ("share_mobile_5g", "5G", "andel med 5G"),
        (
            "unserved",
            "unserved premises",
            "adresser utan fiber och 4G",
        ),
        ("aid_white", "white premises", "adresser i vita områden"),
        ("aid_class", "state-aid class", "stödklass"),
        (
            "fibre_redundancy_class",
            "fibre redundancy",
            "redundans i fibernätet",
        ),
    ]);
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
        vec![(
            "#5b6770".into(),
            lang.pick("län boundary", "länsgräns").into(),
        )],
        "region_name",
        &region_fields,
        &all,
    )?);
    push(html_layer(
        &grid_dir.join("region_kommun.geojson"),
        "kommun",
        "Kommuner",
        true,
        vec![(
            "#5b6770".into(),
            lang.pick("kommun boundary", "kommungräns").into(),
        )],
        "region_name",
        &region_fields,
        &all,
    )?);
    if let Some((pred, _)) = &predicted {
        let coverage = html_layer(
            &pred.join("coverage.geojson"),
            "coverage",
            lang.pick("Predicted coverage", "Beräknad täckning"),
            false,
            Vec::new(),
            "layer_name",
            &fields(&[
                ("operator", "operator", "operatör"),
                ("tech", "technology", "teknik"),
                ("area_km2", "area (km²)", "yta (km²)"),
            ]),
            &all,
        )?;
        // The legend: each operator and technology in its colour.
        push(coverage.map(|mut l| {
            let mut legend: Vec<(String, String)> = Vec::new();
            for f in l.data["features"].as_array().into_iter().flatten() {
                let p = &f["properties"];
                let item = (
                    p["fill"].as_str().unwrap_or("#999999").to_string(),
                    p["layer_name"].as_str().unwrap_or("").to_string(),
                );
                if !legend.contains(&item) {
                    legend.push(item);
                }
            }
            l.legend = legend;
            l
        }));
    }
    push(html_layer(
        &dir.join("settlements.geojson"),
        "settlements",
        &match lang {
            Lang::En => format!("{} by fibre share", capitalised(words.legend)),
            Lang::Sv => format!("{} efter andel med fiber", capitalised(words.many)),
        },
        true,
        style::SHARE_CLASSES
            .iter()
            .map(|c| (c.2.to_string(), c.3.to_string()))
            .collect(),
        "settlement_name",
        &settlement_fields,
        &all,
    )?);
    push(html_layer(
        &dir.join("aid_areas.geojson"),
        "aid_areas",
        lang.pick("White areas (state aid)", "Vita områden (bredbandsstöd)"),
        false,
        vec![(
            "#ffffff".into(),
            lang.pick(
                "white area: no network at the aid target",
                "vitt område: inget nät med stödets målhastighet",
            )
            .into(),
        )],
        "aid_area_id",
        &fields(&[
            ("premises", "premises", "adresser"),
            ("households", "households", "hushåll"),
            ("workplaces", "workplaces", "arbetsställen"),
            ("settlements", "settlements", words.many),
            ("area_km2", "area (km²)", "yta (km²)"),
        ]),
        &all,
    )?);
    push(html_layer(
        &dir.join("gaps.geojson"),
        "gaps",
        lang.pick("Gap clusters", "Luckområden"),
        true,
        gap_legend
            .iter()
            .filter(|(c, _)| c != "#dfe4ea" && c != "#006d2c")
            .cloned()
            .collect(),
        "kind",
        &fields(&[
            ("gap_id", "gap", "lucka"),
            ("settlement_name", "settlement", words.one),
            ("premises", "premises", "adresser"),
            ("households", "households", "hushåll"),
            ("workplaces", "workplaces", "arbetsställen"),
            ("nearest_fibre_m", "nearest fibre (m)", "närmaste fiber (m)"),
        ]),
        &all,
    )?);
    push(roads_layer(
        src.priorities,
        &src.run.working_crs,
        src.run.parameters.map_simplify_m.max(5.0),
        lang,
    )?);
    push(html_layer(
        &dir.join("critical_links.geojson"),
        "corridors",
        lang.pick("Critical fibre corridors", "Kritiska fiberkorridorer"),
        true,
        style::CRITICAL_CLASSES
            .iter()
            .rev()
            .map(|c| (c.2.to_string(), lang.pick(c.4 .0, c.4 .1).to_string()))
            .collect(),
        "rank",
        &fields(&[
            ("networks", "network", "nät"),
            ("links", "links", "länkar"),
            ("length_m", "length (m)", "längd (m)"),
            ("premises_cut", "premises cut", "adresser avskurna"),
            ("households_cut", "households cut", "hushåll avskurna"),
            ("settlements_cut", "settlements cut", "avskurna orter"),
            (
                "settlements_affected",
                "settlements affected",
                "berörda orter",
            ),
            (
                "settlement_names",
                "settlements cut (names)",
                "avskurna orter (namn)",
            ),
        ]),
        &|p| {
            p["rank"]
                .as_u64()
                .is_some_and(|r| r as usize <= MAP_CORRIDORS)
        },
    )?);
    // Cell sites: the analysis' own (--sites), else those of the predict it read.
    let own = dir.join("critical_sites.csv");
    push(match (&predicted, own.exists()) {
        (Some((pred, crs)), false) => sites_layer(&pred.join("critical_sites.csv"), crs, lang)?,
        _ => sites_layer(&own, &src.run.working_crs, lang)?,
    });
    let mut projects = html_layer(
        &prio_dir.join("projects.geojson"),
        "projects",
        lang.pick(
            "Projects chosen for the budget",
            "Projekt valda inom budgeten",
        ),
        true,
        vec![(
            "#006d2c".into(),
            lang.pick("chosen project", "valt projekt").into(),
        )],
        "project",
        &fields(&[
            ("rank", "rank", "rang"),
            ("settlements", "settlements", words.many),
            ("premises", "premises", "adresser"),
            ("households", "households", "hushåll"),
        ]),
        &|p| p["chosen"] == 1,
    )?;
    if let Some(features) = projects
        .as_mut()
        .and_then(|l| l.data["features"].as_array_mut())
    {
        for f in features {
            if let Some(name) = f["properties"]["project"].as_str() {
                f["properties"]["project"] = Value::from(project_name(name, lang));
            }
        }
    }
    push(projects);
    Ok(layers)
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

/// The fibre resilience section (with `--backbone`): settlements by class, and the top
/// corridors whose single failure cuts the most premises off the backbone.
fn resilience_tables(
    dir: &Path,
    s: &Rows,
    top: usize,
    lang: Lang,
    words: Words,
    tables: &mut Vec<Table>,
) -> Result<()> {
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
            lang.redundancy_class(class).to_string(),
            int(these.len() as f64),
            int(sum("premises")),
            int(sum("premises_redundant_fibre_path")),
            int(sum("premises_single_fibre_path")),
            int(sum("premises_no_fibre_path")),
        ]);
    }
    tables.push(Table {
        title: match lang {
            Lang::En => "Fibre resilience: settlements by class".into(),
            Lang::Sv => format!("Redundans i fibernätet: {} per klass", words.many),
        },
        note: match lang {
            Lang::En => "A settlement is redundant when at least --redundant-share of its fibre premises have two disjoint paths to the backbone, single when they have one, none when none has a path. The premise columns count each settlement's fibre premises by their own paths.".into(),
            Lang::Sv => format!(
                "En {0} är redundant när minst --redundant-share av dess fiberadresser har två skilda vägar till stamnätet, en väg när de har en, ingen väg när ingen har någon väg. Adresskolumnerna räknar varje {0}s fiberadresser efter deras egna vägar.",
                words.one
            ),
        },
        headers: match lang {
            Lang::En => [
                "class",
                "settlements",
                "premises",
                "fibre premises, two paths",
                "one path",
                "no path",
            ],
            Lang::Sv => [
                "klass",
                words.many,
                "adresser",
                "fiberadresser, två vägar",
                "en väg",
                "ingen väg",
            ],
        }
        .map(String::from)
        .to_vec(),
        rows,
        numeric: vec![false, true, true, true, true, true],
        code: Vec::new(),
    });
    let c = Rows::read(&path)?;
    tables.push(Table {
        title: match lang {
            Lang::En => format!("Top {top}: critical corridors"),
            Lang::Sv => format!("Topp {top}: kritiska korridorer"),
        },
        note: lang.pick(
            "Each row is a corridor: fibre links in series whose single failure (a cut anywhere along it) cuts the same premises off the backbone, ranked by premises cut. Settlements cut: all their fibre premises lose the backbone; affected: at least one does.",
            "Varje rad är en korridor: fiberlänkar i serie där ett enda avbrott (var som helst längs den) skär av samma adresser från stamnätet, ordnade efter avskurna adresser. Avskurna orter: alla deras fiberadresser förlorar stamnätet; berörda: minst en gör det.",
        ).into(),
        headers: match lang {
            Lang::En => [
                "rank",
                "network",
                "links",
                "length (m)",
                "premises cut",
                "households cut",
                "settlements cut",
                "settlements affected",
                "settlements cut (names)",
            ],
            Lang::Sv => [
                "rang",
                "nät",
                "länkar",
                "längd (m)",
                "adresser avskurna",
                "hushåll avskurna",
                "avskurna orter",
                "berörda orter",
                "avskurna orter (namn)",
            ],
        }
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
        code: Vec::new(),
    });
    Ok(())
}

/// The mobile section: settlements that depend on one operator for 4G, and (with cell sites)
/// the sites whose single failure leaves the most premises without 4G.
fn mobile_tables(
    dir: &Path,
    s: &Rows,
    top: usize,
    lang: Lang,
    words: Words,
    tables: &mut Vec<Table>,
) -> Result<()> {
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
        title: match lang {
            Lang::En => format!("Top {top}: settlements that depend on one operator for 4G"),
            Lang::Sv => format!(
                "Topp {top}: {} som är beroende av en enda operatör för 4G",
                words.many
            ),
        },
        note: lang.pick(
            "Premises with 4G from exactly one operator: a fault or a closure of that operator's site leaves them without mobile broadband.",
            "Adresser med 4G från exakt en operatör: ett fel eller en nedläggning av operatörens mast lämnar dem utan mobilt bredband.",
        ).into(),
        headers: match lang {
            Lang::En => [
                "settlement",
                "premises",
                "4G, one operator",
                "share of premises",
                "4G, two or more",
                "no 4G",
            ],
            Lang::Sv => [
                words.one,
                "adresser",
                "4G, en operatör",
                "andel av adresserna",
                "4G, två eller fler",
                "utan 4G",
            ],
        }
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
                    lang.percent(s.f(r, "mobile_4g_single_operator") / n),
                    int(s.f(r, "mobile_4g_2plus_operators")),
                    int(n - s.f(r, "mobile_4g")),
                ]
            })
            .collect(),
        numeric: vec![false, true, true, true, true, true],
        code: Vec::new(),
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
            title: match lang {
                Lang::En => format!("Top {top}: critical cell sites"),
                Lang::Sv => format!("Topp {top}: kritiska mobilmaster"),
            },
            note: lang
                .pick(
                    "Sites whose single failure leaves premises without 4G (from critical_sites.csv).",
                    "Master där ett enda avbrott lämnar adresser utan 4G (från critical_sites.csv).",
                )
                .into(),
            headers: cols.iter().map(|k| site_column(k, lang)).collect(),
            rows: c
                .rows
                .iter()
                .take(top)
                .map(|r| cols.iter().map(|k| c.s(r, k).to_string()).collect())
                .collect(),
            numeric: cols.iter().map(|_| false).collect(),
            code: Vec::new(),
        });
    }
    Ok(())
}

/// A project's name in `lang`: prioritise names a gap cluster's project `gap N` (other
/// candidates by their cell's id, in no language).
fn project_name(name: &str, lang: Lang) -> String {
    match (lang, name.strip_prefix("gap ")) {
        (Lang::Sv, Some(n)) => format!("lucka {n}"),
        _ => name.to_string(),
    }
}

/// A column of critical_sites.csv as a table header; a column it does not know as it is.
fn site_column(column: &str, lang: Lang) -> String {
    let (en, sv) = match column {
        "rank" => ("rank", "rang"),
        "site_id" => ("site", "mast"),
        "operator" => ("operator", "operatör"),
        "premises_cut" => ("premises without 4G", "adresser utan 4G"),
        "households_cut" => ("households without 4G", "hushåll utan 4G"),
        "workplaces_cut" => ("workplaces without 4G", "arbetsställen utan 4G"),
        "settlements_cut" => ("settlements affected", "berörda orter"),
        "main_settlement" => ("main settlement", "mest berörda ort"),
        other => (other, other),
    };
    lang.pick(en, sv).to_string()
}

/// The methods section: every input with its SHA-256, every parameter, and what the
/// measures mean.
fn methods_tables(run: &crate::run_info::RunInfo, lang: Lang, tables: &mut Vec<Table>) {
    tables.push(Table {
        title: lang.pick("Methods: inputs", "Metod: indata").into(),
        note: lang
            .pick(
                "Each input as the analysis read it (run.json has the fields used, repairs and skips).",
                "Varje indatafil som analysen läste den (run.json anger använda fält, reparationer och överhoppade objekt).",
            )
            .into(),
        headers: match lang {
            Lang::En => [
                "role", "source", "layer", "driver", "CRS", "features", "SHA-256",
            ],
            Lang::Sv => [
                "roll",
                "källa",
                "lager",
                "drivrutin",
                "referenssystem",
                "objekt",
                "SHA-256",
            ],
        }
        .map(String::from)
        .to_vec(),
        rows: run
            .inputs
            .iter()
            .map(|i| {
                vec![
                    role_word(&i.role, lang),
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
        // Paths, layers, drivers, CRS and digests are the machine's names, in no language.
        code: vec![false, true, true, true, true, false, true],
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
        title: lang.pick("Methods: parameters", "Metod: parametrar").into(),
        note: match lang {
            Lang::En => format!("As run by gapmap {} (run.json's parameters).", run.version),
            Lang::Sv => format!(
                "Som gapmap {} körde analysen (parametrarna i run.json).",
                run.version
            ),
        },
        headers: vec![
            lang.pick("parameter", "parameter").into(),
            lang.pick("value", "värde").into(),
        ],
        rows,
        numeric: vec![false, false],
        // Names and values as run.json has them.
        code: vec![true, true],
    });
    let defs: [(&str, &str, &str, &str); 9] = [
        (
            "fibre passed",
            "a premise with fibre (a route or node) within the drop distance",
            "fiber i absoluta närheten",
            "en adress med fiber (en sträcka eller nod) inom anslutningsavståndet",
        ),
        (
            "4G, 5G",
            "a premise inside an operator's coverage polygon of that technology (or predicted by cell sites)",
            "4G, 5G",
            "en adress inom en operatörs täckningsområde för tekniken (eller beräknad från mobilmaster)",
        ),
        (
            "unserved",
            "neither fibre passed nor 4G",
            "utan fiber och 4G",
            "varken fiber i absoluta närheten eller 4G",
        ),
        (
            "gap cluster",
            "premises of one gap kind in one settlement, each within the gap cluster distance of another",
            "luckområde",
            "adresser med samma slags lucka i samma ort, var och en inom klusteravståndet från en annan",
        ),
        (
            "state-aid class",
            "white: no network at the target speed, nor one planned within three years; grey: one; black: two or more. An area's class: that of more than half its premises, else mixed (the area class rule)",
            "stödklass",
            "vit: inget nät med målhastigheten och inget planerat inom tre år; grå: ett; svart: två eller fler. Ett områdes klass: den som mer än hälften av dess adresser har, annars blandad (regeln för områdesklass)",
        ),
        (
            "households without fibre",
            "households of the premises that are not fibre passed",
            "hushåll utan fiber",
            "hushåll på adresser som inte har fiber i absoluta närheten",
        ),
        (
            "national goals",
            "the share of households and workplaces (or premises) with the measure, against the goal's target",
            "nationella mål",
            "andelen hushåll och arbetsställen (eller adresser) som har det som mäts, mot målets nivå",
        ),
        (
            "critical corridor",
            "links in series whose single failure cuts the same premises off every backbone point",
            "kritisk korridor",
            "länkar i serie där ett enda avbrott skär av samma adresser från alla anslutningspunkter i stamnätet",
        ),
        (
            "one operator for 4G",
            "premises where exactly one operator provides 4G",
            "en operatör för 4G",
            "adresser där exakt en operatör ger 4G",
        ),
    ];
    let mut rows: Vec<Vec<String>> = defs
        .iter()
        .map(|&(a, b, c, d)| vec![lang.pick(a, c).to_string(), lang.pick(b, d).to_string()])
        .collect();
    if lang == Lang::Sv {
        rows.insert(
            0,
            vec![
                "adress".into(),
                "en adresspunkt eller byggnad i indata, med sina hushåll och arbetsställen".into(),
            ],
        );
    }
    tables.push(Table {
        title: lang.pick("Methods: definitions", "Metod: definitioner").into(),
        note: lang
            .pick(
                "The README's \"What the numbers mean\" defines every column of the tables.",
                "README (på engelska) definierar varje kolumn i tabellerna, i avsnittet om vad siffrorna betyder.",
            )
            .into(),
        headers: match lang {
            Lang::En => vec!["measure".into(), "definition".into()],
            Lang::Sv => vec!["mått".into(), "definition".into()],
        },
        rows,
        numeric: vec![false, false],
        code: Vec::new(),
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
        assert!(super::is_scb_smaorter(None, "smaorter_2020.gpkg"));
        assert!(super::is_scb_smaorter(Some("SMAORTSKOD"), "x.gpkg"));
        assert!(!super::is_scb_smaorter(
            Some("tatortskod"),
            "tatorter_2023.gpkg"
        ));
    }
}
