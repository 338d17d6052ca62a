//! Whether an analysis' inputs fit together, checked before any analysis (and shown by
//! `gapmap check`): where each layer lies, in the working CRS and in longitude/latitude, and
//! how much of the premises each reference layer reaches.
//!
//! A silently wrong answer is worse than an error. Premises that overlap no settlement, no
//! fibre or no coverage at all (their boxes more than 20 km apart) are an error naming both
//! layers and their extents, with the likely cause; premises that all lie within 180 m of the
//! CRS origin are longitude/latitude given a projected CRS. A layer that misses most premises is a notice with the share.

use std::fmt::Write as _;

use gapmap_core::geo::{Coord, Intersects, Rect};
use gapmap_io::crs::Transform;
use gapmap_io::read::extent;
use gapmap_io::Crs;
use rayon::prelude::*;

use super::layers::Layers;

/// Where one input lies.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerExtent {
    /// What the input is (`premises`, `settlements`, `fibre`, `mobile`, `backbone`).
    pub role: String,
    /// The file (and layer).
    pub source: String,
    /// Its CRS as read.
    pub crs: String,
    /// Features read.
    pub features: u64,
    /// The box around it in the working CRS (`None`: no features).
    pub extent: Option<Rect<f64>>,
    /// The centre of that box in longitude/latitude (WGS 84), when it can be reprojected. (A
    /// box's corners reprojected would make a wider box, which could seem to hold a layer
    /// that the check, working in the projected box, found far away.)
    pub centre_lonlat: Option<Coord<f64>>,
    /// The share of the premises within its reach (its box grown by how far the analysis
    /// looks: the drop distance for fibre); `None` for the premises themselves.
    pub premises_share: Option<f64>,
}

/// What the check found: every layer, and what the user should know.
#[derive(Debug, Clone, PartialEq)]
pub struct Plausibility {
    /// The premises first, then the reference layers.
    pub layers: Vec<LayerExtent>,
    /// Layers that reach less than half of the premises.
    pub notices: Vec<String>,
    /// Why the inputs cannot be analysed together (`None`: they can).
    pub problem: Option<String>,
}

/// A reference layer reaching less than this share of the premises is a notice.
const MOST: f64 = 0.5;

/// Layers whose boxes are farther apart than this, in metres, do not overlap at all: closer,
/// they may be neighbours (a fibre route beside a village); farther, they are in different
/// places (another region, swapped axes, a wrong CRS), which is an error.
const APART_M: f64 = 20_000.0;

/// The box of `r` grown by `m` metres on every side.
fn grown(r: Rect<f64>, m: f64) -> Rect<f64> {
    Rect::new(
        Coord {
            x: r.min().x - m,
            y: r.min().y - m,
        },
        Coord {
            x: r.max().x + m,
            y: r.max().y + m,
        },
    )
}

fn contains(r: &Rect<f64>, c: Coord<f64>) -> bool {
    c.x >= r.min().x && c.x <= r.max().x && c.y >= r.min().y && c.y <= r.max().y
}

/// The centre of `r` in longitude/latitude.
fn centre_lonlat(r: Rect<f64>, t: &Transform) -> Option<Coord<f64>> {
    t.points(&[r.center()]).ok()?.first().copied()
}

/// Where a layer lies, for messages: `around 14.63° E, 60.48° N, a box of 3 × 2 km in the
/// working CRS`.
fn where_text(l: &LayerExtent) -> String {
    let Some(e) = l.extent else {
        return "nowhere (no features)".into();
    };
    let size = format!("{:.0} × {:.0} km", e.width() / 1000.0, e.height() / 1000.0);
    match l.centre_lonlat {
        Some(c) => format!(
            "around {:.2}° {}, {:.2}° {} (a box of {size} in the working CRS)",
            c.x.abs(),
            if c.x < 0.0 { "W" } else { "E" },
            c.y.abs(),
            if c.y < 0.0 { "S" } else { "N" },
        ),
        None => format!(
            "within x {:.0}–{:.0}, y {:.0}–{:.0} of the working CRS",
            e.min().x,
            e.max().x,
            e.min().y,
            e.max().y
        ),
    }
}

/// Checks the inputs (see the module). Never fails itself: a problem is in the result.
/// `settlements_extent` is the box around the settlements (their index has it);
/// `drop_distance_m` is how far fibre reaches.
pub fn check_inputs(
    layers: &Layers,
    settlements_extent: Option<Rect<f64>>,
    drop_distance_m: f64,
    target: &Crs,
) -> Plausibility {
    let to_wgs84 = Transform::new(target, &Crs::wgs84()).ok();
    let centre =
        |e: Option<Rect<f64>>| e.and_then(|e| to_wgs84.as_ref().and_then(|t| centre_lonlat(e, t)));
    let xy = &layers.premises.xy;
    // Each layer, and how far it reaches beyond its box (`None`: not a reference layer).
    let mut found: Vec<(LayerExtent, Option<f64>)> = Vec::new();
    let mut push = |role: &str,
                    info: Option<&gapmap_io::read::InputInfo>,
                    features: u64,
                    e: Option<Rect<f64>>,
                    reach_m: Option<f64>| {
        let source = info.map_or(String::new(), |i| match &i.layer {
            Some(l) => format!("{} (layer '{l}')", i.path),
            None => i.path.clone(),
        });
        let l = LayerExtent {
            role: role.into(),
            source,
            crs: info.map_or(String::new(), |i| i.crs.clone()),
            features,
            extent: e,
            centre_lonlat: centre(e),
            premises_share: reach_m.map(|_| 0.0),
        };
        found.push((l, reach_m));
    };
    let premises_extent = extent(xy.iter().copied());
    push(
        "premises",
        Some(&layers.premises.info),
        xy.len() as u64,
        premises_extent,
        None,
    );
    let s = &layers.settlements;
    let s_extent = settlements_extent;
    push(
        "settlements",
        Some(&s.info),
        s.areas.len() as u64,
        s_extent,
        Some(0.0),
    );
    if let Some(f) = &layers.fibre {
        let n = f.infos.iter().map(|i| i.features).sum();
        // Fibre reaches a premise within the drop distance.
        push("fibre", f.infos.first(), n, f.extent, Some(drop_distance_m));
    }
    if let Some(m) = &layers.mobile {
        let n = m.infos.iter().map(|i| i.features).sum();
        push("mobile", m.infos.first(), n, m.extent, Some(0.0));
    }
    if let Some(b) = &layers.backbone {
        let e = extent(b.points.iter().map(|p| p.1));
        push("backbone", b.info.as_ref(), b.points.len() as u64, e, None);
    }
    // The share of the premises within each layer's reach: one pass over them, on the pool.
    let reach: Vec<Option<Rect<f64>>> = found
        .iter()
        .map(|(l, m)| l.extent.zip(*m).map(|(e, m)| grown(e, m)))
        .collect();
    if !xy.is_empty() {
        let counts = xy
            .par_chunks(1 << 16)
            .map(|chunk| {
                reach
                    .iter()
                    .map(|r| r.map_or(0, |r| chunk.iter().filter(|&&c| contains(&r, c)).count()))
                    .collect::<Vec<usize>>()
            })
            .reduce(
                || vec![0; reach.len()],
                |a, b| a.iter().zip(&b).map(|(x, y)| x + y).collect(),
            );
        for ((l, _), n) in found.iter_mut().zip(counts) {
            if let Some(share) = &mut l.premises_share {
                *share = n as f64 / xy.len() as f64;
            }
        }
    }
    let out: Vec<LayerExtent> = found.into_iter().map(|(l, _)| l).collect();
    let mut p = Plausibility {
        notices: Vec::new(),
        problem: problem(&out, premises_extent, target, to_wgs84.as_ref()),
        layers: out,
    };
    for l in p.layers.iter().skip(1) {
        if let Some(share) = l.premises_share.filter(|&s| s < MOST) {
            p.notices.push(format!(
                "{}: the {} layer reaches only {:.1} % of the premises (by its extent); the rest lie beyond it",
                l.source,
                l.role,
                100.0 * share
            ));
        }
    }
    p
}

/// Why the layers cannot be analysed together, if they cannot.
fn problem(
    layers: &[LayerExtent],
    premises: Option<Rect<f64>>,
    target: &Crs,
    to_wgs84: Option<&Transform>,
) -> Option<String> {
    let prem = &layers[0];
    let e = premises?;
    // Longitude/latitude read as metres: every premise within 180 m of the origin.
    if e.min().x >= -180.0 && e.max().x <= 180.0 && e.min().y >= -90.0 && e.max().y <= 90.0 {
        return Some(format!(
            "{}: every premise lies within 180 m of the origin of {} (x {:.4}–{:.4}, y {:.4}–{:.4}): these look like longitude and latitude read as metres; give the CRS they are in (e.g. --assume-crs EPSG:4326), not a projected one",
            prem.source,
            target.label(),
            e.min().x,
            e.max().x,
            e.min().y,
            e.max().y
        ));
    }
    for l in layers.iter().skip(1) {
        let (Some(share), Some(le)) = (l.premises_share, l.extent) else {
            continue;
        };
        if share == 0.0 && !grown(e, APART_M).intersects(&le) {
            return Some(format!(
                "{} (premises) and {} ({}) do not overlap: the premises lie {}, the {} {}. Likely causes: x and y (or latitude and longitude) swapped, a wrong --assume-crs, or a layer from another region",
                prem.source,
                l.source,
                l.role,
                where_text(prem),
                l.role,
                where_text(l)
            ));
        }
    }
    outside_area_of_use(prem, e, target, to_wgs84?)
}

/// An error when the working CRS is not meant for where the premises lie: their box, in
/// longitude/latitude, misses the CRS's area of use entirely (a CRS of another country or
/// UTM zone distorts distances there, so every distance threshold would mean another
/// distance). `t` reprojects from the working CRS to WGS 84.
fn outside_area_of_use(
    prem: &LayerExtent,
    e: Rect<f64>,
    target: &Crs,
    t: &Transform,
) -> Option<String> {
    let (west, south, east, north) = target.area_of_use()?;
    if west > east {
        return None; // across the antimeridian: not judged
    }
    let (lo, hi) = (e.min(), e.max());
    let corners = [
        lo,
        hi,
        Coord { x: lo.x, y: hi.y },
        Coord { x: hi.x, y: lo.y },
        e.center(),
    ];
    let ll = t.points(&corners).ok()?;
    let b = extent(
        ll.iter()
            .copied()
            .filter(|c| c.x.is_finite() && c.y.is_finite()),
    )?;
    let area = Rect::new(Coord { x: west, y: south }, Coord { x: east, y: north });
    if area.intersects(&b) {
        return None;
    }
    Some(format!(
        "--crs {}: it is meant for {:.2}°–{:.2}° E, {:.2}°–{:.2}° N, but {} (premises) lie {}; distances there would be distorted. Choose a CRS for where the data are, or --crs auto",
        target.label(),
        west,
        east,
        south,
        north,
        prem.source,
        where_text(prem)
    ))
}

/// The check as a table, for `gapmap check`.
pub fn table(p: &Plausibility, target: &Crs) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Working CRS: {}", target.label());
    let _ = writeln!(
        s,
        "{:<12} {:>10}  {:<14} {:<70} {:>9}  source",
        "input", "features", "CRS", "where", "premises"
    );
    for l in &p.layers {
        let share = l
            .premises_share
            .map_or("-".into(), |v| format!("{:.1} %", 100.0 * v));
        let _ = writeln!(
            s,
            "{:<12} {:>10}  {:<14} {:<70} {:>9}  {}",
            l.role,
            l.features,
            l.crs,
            where_text(l),
            share,
            l.source
        );
    }
    for n in &p.notices {
        let _ = writeln!(s, "note: {n}");
    }
    match &p.problem {
        Some(m) => {
            let _ = writeln!(s, "problem: {m}");
        }
        None => {
            let _ = writeln!(s, "The inputs fit together.");
        }
    }
    s
}
