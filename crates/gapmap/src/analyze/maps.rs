//! The map tables (gap clusters, settlements) and the outlines' simplification for the web
//! maps.

use std::borrow::Cow;

use gapmap_core::gaps::GapCluster;
use gapmap_core::geo::MultiPolygon;
use gapmap_io::read::{Premises, Settlements};
use gapmap_io::write::features::{Column, FeatureTable, GeomRef};
use gapmap_io::write::style::{Paint, SimpleStyle};
use gapmap_io::{write::style, write::tables};

use super::compute::Computed;

/// `full` with the `simplified` outlines, or `full` itself when there are none.
pub(super) fn web_copy<'t, 'a>(
    full: &'t FeatureTable<'a>,
    simplified: &'a [MultiPolygon<f64>],
) -> Cow<'t, FeatureTable<'a>> {
    if simplified.is_empty() {
        Cow::Borrowed(full)
    } else {
        Cow::Owned(FeatureTable {
            columns: full.columns.clone(),
            geometries: simplified.iter().map(GeomRef::MultiPolygon).collect(),
        })
    }
}

/// The first `n` values of a column.
pub(super) fn truncate<'a>(c: &Column<'a>, n: usize) -> Column<'a> {
    match c {
        Column::Int(v) => Column::Int(v[..n].to_vec()),
        Column::IntOpt(v) => Column::IntOpt(v[..n].to_vec()),
        Column::Float(v) => Column::Float(v[..n].to_vec()),
        Column::Text(v) => Column::Text(v[..n].to_vec()),
    }
}

/// The gap map: one feature per cluster, borrowing its outline.
pub(super) fn gap_table<'a>(
    premises: &Premises,
    settlements: &'a Settlements,
    r: &'a Computed,
    has_fibre: bool,
) -> FeatureTable<'a> {
    let n = r.clusters.len();
    let mut t = FeatureTable::of_areas(&r.outlines);
    let (mut hh, mut wp, mut nearest) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for c in &r.clusters {
        let (mut h, mut w, mut d) = (0i64, 0i64, f64::INFINITY);
        for &i in &c.premises {
            let i = i as usize;
            h += i64::from(premises.households[i]);
            w += i64::from(premises.workplaces[i]);
            if let Some(f) = &r.fibre {
                d = d.min(f[i].distance_m);
            }
        }
        hh.push(h);
        wp.push(w);
        nearest.push((has_fibre && d.is_finite()).then(|| (d * 10.0).round() / 10.0));
    }
    let text = |f: &dyn Fn(&GapCluster) -> &'a str| {
        Column::Text(
            r.clusters
                .iter()
                .map(|c| Some(Cow::Borrowed(f(c))))
                .collect(),
        )
    };
    t.push("gap_id", Column::Int((1..=n as i64).collect()));
    t.push("kind", text(&|c| c.kind.as_str()));
    t.push(
        "settlement_id",
        text(&|c| {
            c.settlement
                .map_or("", |s| settlements.ids[s as usize].as_str())
        }),
    );
    t.push(
        "settlement_name",
        text(&|c| {
            c.settlement
                .map_or("(rural)", |s| settlements.names[s as usize].as_str())
        }),
    );
    t.push(
        "premises",
        Column::Int(r.clusters.iter().map(|c| c.premises.len() as i64).collect()),
    );
    t.push("households", Column::Int(hh));
    t.push("workplaces", Column::Int(wp));
    t.push("nearest_fibre_m", Column::Float(nearest));
    SimpleStyle {
        fill: Some(Paint::Each(
            r.clusters.iter().map(|c| style::gap_fill(c.kind)).collect(),
        )),
        fill_opacity: Some(Paint::All(0.6)),
        stroke: Some(Paint::Each(
            r.clusters
                .iter()
                .map(|c| style::gap_stroke(c.kind))
                .collect(),
        )),
        stroke_width: Some(Paint::All(1)),
    }
    .push_to(&mut t, n);
    t
}

/// The settlement choropleth: every settlement with its metrics, coloured by fibre share.
pub(super) fn settlement_map_table<'a>(
    settlements: &'a Settlements,
    r: &Computed,
    goals: &[gapmap_core::goals::Goal],
    rule: gapmap_core::aid::AreaClassRule,
) -> FeatureTable<'a> {
    let n = settlements.areas.len();
    let mut t = FeatureTable::of_areas(&settlements.areas);
    for (name, col) in tables::settlement_columns(
        &settlements.ids,
        &settlements.names,
        &r.tallies,
        goals,
        rule,
    ) {
        t.push(&name, col);
    }
    // Without a fibre layer no share was measured: every settlement in the no-data grey.
    let fill = |i: usize| {
        style::share_fill(
            r.fibre
                .as_ref()
                .and_then(|_| tables::share(r.tallies[i].fibre_passed, r.tallies[i].premises)),
        )
    };
    SimpleStyle {
        fill: Some(Paint::Each((0..n).map(fill).collect())),
        fill_opacity: Some(Paint::All(0.7)),
        stroke: Some(Paint::All("#404040")),
        stroke_width: Some(Paint::All(1)),
    }
    .push_to(&mut t, n);
    t
}
