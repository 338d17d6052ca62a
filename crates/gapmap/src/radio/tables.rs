//! The tables of a prediction: per premise, per site, and the coverage map.

use std::borrow::Cow;

use gapmap_core::mobile::Tech;
use gapmap_core::radio::predict::{rsrp_offset_db, Prediction, NO_SITE};
use gapmap_core::radio::PathLoss;
use gapmap_io::read::sites::Sites;
use gapmap_io::write::features::{Column, FeatureTable, GeomRef};
use gapmap_io::write::style;
use gapmap_io::write::style::{Paint, SimpleStyle};

fn dbm(v: f32) -> Option<f64> {
    v.is_finite()
        .then(|| (f64::from(v) * 100.0).round() / 100.0)
}

fn site_name(sites: &Sites, i: u32) -> Option<Cow<'_, str>> {
    (i != NO_SITE).then(|| Cow::Borrowed(sites.ids[i as usize].as_str()))
}

/// Per-premise columns of a prediction: best servers, counts and flags; with `per_operator`
/// also the best RSRP per operator and technology (`rsrp_4g_dbm_<operator>`).
pub fn premise_columns<'a>(
    pred: &Prediction,
    sites: &'a Sites,
    per_operator: bool,
) -> Vec<(String, Column<'a>)> {
    let p = &pred.premises;
    let mut cols = vec![
        (
            "best_4g_site".to_string(),
            Column::Text(p.iter().map(|r| site_name(sites, r.best_4g_site)).collect()),
        ),
        (
            "best_4g_rsrp_dbm".into(),
            Column::Float(p.iter().map(|r| dbm(r.best_4g_rsrp_dbm)).collect()),
        ),
        (
            "best_5g_site".into(),
            Column::Text(p.iter().map(|r| site_name(sites, r.best_5g_site)).collect()),
        ),
        (
            "best_5g_rsrp_dbm".into(),
            Column::Float(p.iter().map(|r| dbm(r.best_5g_rsrp_dbm)).collect()),
        ),
        (
            "mobile_4g_sites".into(),
            Column::Int(p.iter().map(|r| i64::from(r.sites_4g)).collect()),
        ),
        (
            "mobile_5g_sites".into(),
            Column::Int(p.iter().map(|r| i64::from(r.sites_5g)).collect()),
        ),
        (
            "predicted_4g_operators".into(),
            Column::Int(
                p.iter()
                    .map(|r| i64::from(r.operators_4g.count_ones()))
                    .collect(),
            ),
        ),
        (
            "predicted_5g_operators".into(),
            Column::Int(
                p.iter()
                    .map(|r| i64::from(r.operators_5g.count_ones()))
                    .collect(),
            ),
        ),
        (
            "extrapolated".into(),
            Column::Int(p.iter().map(|r| i64::from(r.extrapolated)).collect()),
        ),
        (
            "terrain".into(),
            Column::Text(
                p.iter()
                    .map(|r| r.terrain().map(std::borrow::Cow::Borrowed))
                    .collect(),
            ),
        ),
    ];
    if per_operator && pred.slots > 0 {
        let ops = pred.slots / 2;
        for (op, name) in sites.operators.iter().enumerate().take(ops) {
            let used: [bool; 2] = [Tech::G4, Tech::G5].map(|t| {
                sites
                    .sites
                    .iter()
                    .any(|s| s.operator as usize == op && s.tech == t)
            });
            for (k, tech) in ["4g", "5g"].iter().enumerate() {
                if !used[k] {
                    continue;
                }
                let slot = 2 * op + k;
                cols.push((
                    format!("rsrp_{tech}_dbm_{name}"),
                    Column::Float(
                        (0..p.len())
                            .map(|i| dbm(pred.per_operator_dbm[i * pred.slots + slot]))
                            .collect(),
                    ),
                ));
            }
        }
    }
    cols
}

/// One row per site: its parameters, model, radius and how many premises it serves best.
pub fn sites_table<'a>(
    sites: &'a Sites,
    radius_m: &[f64],
    pred: Option<&Prediction>,
) -> Vec<(String, Column<'a>)> {
    let n = sites.sites.len();
    let s = &sites.sites;
    let f = |g: &dyn Fn(usize) -> f64| Column::Float((0..n).map(|i| Some(g(i))).collect());
    let out_of_range: std::collections::HashSet<&str> = sites
        .out_of_range
        .iter()
        .filter_map(|m| m.split_once(": ").map(|(l, _)| l.trim_matches('\'')))
        .collect();
    let mut cols = vec![
        (
            "site_id".to_string(),
            Column::Text(
                sites
                    .ids
                    .iter()
                    .map(|i| Some(Cow::Borrowed(i.as_str())))
                    .collect(),
            ),
        ),
        (
            "operator".into(),
            Column::Text(
                s.iter()
                    .map(|x| Some(Cow::Borrowed(sites.operators[x.operator as usize].as_str())))
                    .collect(),
            ),
        ),
        (
            "tech".into(),
            Column::Text(
                s.iter()
                    .map(|x| Some(Cow::Borrowed(tech_name(x.tech))))
                    .collect(),
            ),
        ),
        (
            "model".into(),
            Column::Text(
                s.iter()
                    .map(|x| Some(Cow::Borrowed(x.model.name())))
                    .collect(),
            ),
        ),
        ("x".into(), f(&|i| s[i].xy.x)),
        ("y".into(), f(&|i| s[i].xy.y)),
        ("height_m".into(), f(&|i| s[i].height_m)),
        ("frequency_mhz".into(), f(&|i| s[i].frequency_mhz)),
        ("eirp_dbm".into(), f(&|i| s[i].eirp_dbm)),
        ("bandwidth_mhz".into(), f(&|i| s[i].bandwidth_mhz)),
        (
            "rsrp_offset_db".into(),
            f(&|i| (rsrp_offset_db(s[i].tech, s[i].bandwidth_mhz) * 100.0).round() / 100.0),
        ),
        ("radius_m".into(), f(&|i| radius_m[i].round())),
        (
            "out_of_model_range".into(),
            Column::Int(
                sites
                    .ids
                    .iter()
                    .map(|id| i64::from(out_of_range.contains(id.as_str())))
                    .collect(),
            ),
        ),
    ];
    if let Some(pred) = pred {
        // A premise counts for its best server of each technology when that server covers it.
        let mut best = vec![0i64; n];
        for r in &pred.premises {
            if r.sites_4g > 0 {
                best[r.best_4g_site as usize] += 1;
            }
            if r.sites_5g > 0 {
                best[r.best_5g_site as usize] += 1;
            }
        }
        cols.push(("premises_best_served".into(), Column::Int(best)));
    }
    cols
}

/// A technology's name in the tables: `4G` or `5G`.
pub fn tech_name(t: Tech) -> &'static str {
    match t {
        Tech::G4 => "4G",
        Tech::G5 => "5G",
        Tech::Other => "other",
    }
}

/// The coverage map: one feature per (operator, technology), styled by operator.
pub fn coverage_table<'a>(
    layers: &'a [gapmap_core::radio::grid::CoverageLayer],
    operators: &'a [String],
    cell_m: f64,
) -> FeatureTable<'a> {
    let mut t = FeatureTable {
        columns: Vec::new(),
        geometries: layers
            .iter()
            .map(|l| GeomRef::MultiPolygon(&l.area))
            .collect(),
    };
    let text = |f: &dyn Fn(&gapmap_core::radio::grid::CoverageLayer) -> Cow<'a, str>| {
        Column::Text(layers.iter().map(|l| Some(f(l))).collect())
    };
    t.push(
        "operator",
        text(&|l| Cow::Borrowed(operators[l.operator as usize].as_str())),
    );
    t.push("tech", text(&|l| Cow::Borrowed(tech_name(l.tech))));
    t.push(
        "layer_name",
        text(&|l| {
            Cow::Owned(format!(
                "{} {}",
                operators[l.operator as usize],
                tech_name(l.tech)
            ))
        }),
    );
    t.push(
        "cells",
        Column::Int(layers.iter().map(|l| l.cells as i64).collect()),
    );
    t.push(
        "area_km2",
        Column::Float(
            layers
                .iter()
                .map(|l| Some((l.cells as f64 * cell_m * cell_m / 1e6 * 1000.0).round() / 1000.0))
                .collect(),
        ),
    );
    let colours: Vec<&str> = layers
        .iter()
        .map(|l| style::operator_fill(l.operator))
        .collect();
    SimpleStyle {
        fill: Some(Paint::Each(colours.clone())),
        fill_opacity: Some(Paint::Each(
            layers
                .iter()
                .map(|l| if l.tech == Tech::G5 { 0.5 } else { 0.3 })
                .collect(),
        )),
        stroke: Some(Paint::Each(colours)),
        stroke_width: Some(Paint::All(1)),
    }
    .push_to(&mut t, layers.len());
    t
}

/// The QGIS style of a coverage table.
pub fn coverage_qml(
    layers: &[gapmap_core::radio::grid::CoverageLayer],
    operators: &[String],
) -> String {
    let names: Vec<(String, u32)> = layers
        .iter()
        .map(|l| {
            (
                format!("{} {}", operators[l.operator as usize], tech_name(l.tech)),
                l.operator,
            )
        })
        .collect();
    style::coverage_qml(&names)
}
