//! `map.html`'s layers: what of the analysis (and of `grid/`, `priorities/`, a `predict`
//! directory, prioritise's roads) each layer draws, its legend and panel fields in the page's
//! language, and the budget a national analysis is reduced to.

use std::path::{Path, PathBuf};

use gapmap_core::geo::Simplify as _;
use gapmap_io::write::map_html::HtmlLayer;
use gapmap_io::write::style;
use gapmap_io::Lang;
use serde_json::Value;

use super::{project_name, Rows, Words};
use crate::error::{Error, Result};
use crate::progress;

/// `map.html` may take at most this many megabytes (a national analysis is reduced to fit).
pub(super) const MAP_PAGE_LIMIT_MB: usize = 60;
/// The data's share of that: the rest is Leaflet (0.15 MB), the page and headroom.
pub(super) const MAP_DATA_BUDGET_BYTES: usize = 55_000_000;

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
pub(super) fn fit_budget(layers: &mut [HtmlLayer], budget: usize) -> Vec<String> {
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
pub(super) const MAP_CORRIDORS: usize = 300;

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
pub(super) struct LayerSources<'a> {
    pub(super) dir: &'a Path,
    pub(super) grid_dir: &'a Path,
    pub(super) prio_dir: &'a Path,
    pub(super) run: &'a crate::run_info::RunInfo,
    pub(super) priorities: Option<&'a Value>,
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
pub(super) fn html_layers(
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
    // Without a fibre layer the analysis measured no share: its settlements are grey.
    let fibre_known = src.run.has_input(&["fibre"]);
    push(html_layer(
        &dir.join("settlements.geojson"),
        "settlements",
        &match lang {
            Lang::En => format!("{} by fibre share", capitalised(words.legend)),
            Lang::Sv => format!("{} efter andel med fiber", capitalised(words.many)),
        },
        true,
        match fibre_known {
            true => style::SHARE_CLASSES
                .iter()
                .map(|c| (c.2.to_string(), c.3.to_string()))
                .collect(),
            false => vec![(
                style::NO_DATA_FILL.to_string(),
                lang.pick(
                    "fibre not known (no fibre layer)",
                    "fiber okänd (inget fiberlager)",
                )
                .to_string(),
            )],
        },
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
}
