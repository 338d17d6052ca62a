//! Coordinate reference systems and reprojection, with GDAL's OSR.

use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};

use gapmap_core::geo::{Coord, LineString, MultiPolygon};
use gapmap_core::tmerc::{TmInverse, TmTiles, TransverseMercator};

use crate::error::{IoError, Result};

/// A coordinate reference system, always with x = easting/longitude, y = northing/latitude.
#[derive(Debug, Clone)]
pub struct Crs {
    srs: SpatialRef,
    label: String,
}

impl PartialEq for Crs {
    fn eq(&self, other: &Self) -> bool {
        self.srs == other.srs
    }
}

impl Crs {
    /// Parses anything GDAL's `SetFromUserInput` accepts: `EPSG:3006`, WKT, PROJJSON, PROJ
    /// strings. `context` names where the value came from, for the error message.
    pub fn parse(value: &str, context: &str) -> Result<Crs> {
        crate::gdal_errors::init_gdal();
        crate::gdal_errors::clear_gdal_message();
        let srs = SpatialRef::from_definition(value.trim()).map_err(|e| IoError::BadCrs {
            context: context.to_string(),
            value: value.to_string(),
            message: crate::gdal_errors::gdal_reason(
                &e.to_string(),
                "GDAL and PROJ do not know it",
            ),
        })?;
        let mut crs = Crs::from_srs(srs);
        // Keep a user's short AUTHORITY:CODE (e.g. OGC:CRS84) when GDAL names no authority.
        let v = value.trim();
        if !crs.label.contains(':')
            && v.len() < 40
            && v.contains(':')
            && !v.contains(char::is_whitespace)
            && !v.contains('{')
        {
            crs.label = v.to_string();
        }
        Ok(crs)
    }

    /// A CRS from its WKT, keeping `label` as its short name (for copies of a parsed CRS).
    pub fn from_wkt_labelled(wkt: &str, label: &str) -> Result<Crs> {
        let mut crs = Crs::parse(wkt, label)?;
        crs.label = label.to_string();
        Ok(crs)
    }

    /// WGS 84 longitude/latitude, as RFC 7946 GeoJSON uses.
    #[allow(
        clippy::expect_used,
        reason = "EPSG:4326 is in every PROJ database GDAL is built with"
    )]
    pub fn wgs84() -> Crs {
        Crs::parse("EPSG:4326", "WGS 84").expect("GDAL knows EPSG:4326")
    }

    pub(crate) fn from_srs(mut srs: SpatialRef) -> Crs {
        srs.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
        let label = match srs.authority() {
            Ok(a) if !a.is_empty() && a.contains(':') => a,
            _ => {
                let mut probe = srs.clone();
                match probe.auto_identify_epsg().ok().and(probe.auth_code().ok()) {
                    Some(code) => format!("EPSG:{code}"),
                    None => srs.name().unwrap_or_else(|| "unnamed CRS".to_string()),
                }
            }
        };
        Crs { srs, label }
    }

    /// A short name: `EPSG:3006` where an authority code is known, else the CRS name.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// WKT2 of the CRS.
    pub fn wkt(&self) -> String {
        self.srs.to_wkt().unwrap_or_default()
    }

    /// Where the CRS is meant to be used, as `(west, south, east, north)` in degrees of
    /// longitude and latitude (west > east when the area crosses the antimeridian); `None`
    /// when PROJ records none (a custom CRS).
    pub fn area_of_use(&self) -> Option<(f64, f64, f64, f64)> {
        let a = self.srs.area_of_use()?;
        Some((
            a.west_lon_degree,
            a.south_lat_degree,
            a.east_lon_degree,
            a.north_lat_degree,
        ))
    }

    pub(crate) fn srs(&self) -> &SpatialRef {
        &self.srs
    }

    /// The analyses measure distances in metres: the working CRS must be projected, in metres.
    pub fn require_projected_metres(&self, context: &str) -> Result<()> {
        let bad = |message: String| IoError::BadCrs {
            context: context.to_string(),
            value: self.label.clone(),
            message,
        };
        if !self.srs.is_projected() {
            return Err(bad(
                "it is not a projected CRS; distances need metres, e.g. EPSG:3006 (SWEREF 99 TM)"
                    .into(),
            ));
        }
        let unit = self.srs.linear_units();
        if (unit - 1.0).abs() > 1e-9 {
            return Err(bad(format!(
                "its unit is {} ({unit} m), not metres",
                self.srs.linear_units_name().unwrap_or_default()
            )));
        }
        Ok(())
    }
}

/// A reprojection between two CRSs; the identity when they are the same.
pub struct Transform {
    ct: Option<CoordTransform>,
    /// A native inverse Transverse Mercator, used for a batch only when it agrees with PROJ at
    /// that batch's probe points (see [`Transform::coords`]), with its tile interpolants.
    tm: Option<std::sync::Mutex<TmTiles>>,
    /// Batches that took the native path (for tests and diagnostics).
    native_batches: std::sync::atomic::AtomicUsize,
}

/// Largest difference from PROJ, in degrees, at which the native inverse Transverse Mercator
/// is used: 1e-9° is about 0.1 mm, far below the 1e-7° that GeoJSON output keeps.
const NATIVE_TOLERANCE_DEG: f64 = 1e-9;

/// The native inverse of `from` when it is a Transverse Mercator in metres (latitude of origin
/// 0) and `to` is geographic in degrees; whether the datums agree is left to the probes.
fn native_inverse(from: &Crs, to: &Crs) -> Option<TmInverse> {
    let (f, t) = (from.srs(), to.srs());
    if !f.is_projected() || !t.is_geographic() || f.is_compound() || t.is_compound() {
        return None;
    }
    if (t.angular_units() - std::f64::consts::PI / 180.0).abs() > 1e-12
        || (f.linear_units() - 1.0).abs() > 1e-12
    {
        return None;
    }
    if f.get_attr_value("PROJECTION", 0).ok()?? != "Transverse_Mercator" {
        return None;
    }
    let parm = |name: &str| f.get_proj_param(name).ok().flatten();
    if parm("latitude_of_origin").unwrap_or(0.0) != 0.0 {
        return None;
    }
    let (a, b) = (f.semi_major().ok()?, f.semi_minor().ok()?);
    TmInverse::new(TransverseMercator {
        a_m: a,
        f: (a - b) / a,
        lon0_deg: parm("central_meridian")?,
        k0: parm("scale_factor")?,
        false_easting_m: parm("false_easting").unwrap_or(0.0),
        false_northing_m: parm("false_northing").unwrap_or(0.0),
    })
}

/// Coordinates per PROJ call (and per native-path check): large batches keep PROJ's per-call
/// overhead low.
const BATCH: usize = 1 << 16;

/// An error naming the first non-finite coordinate (its position plus `offset`), if any.
fn all_finite(
    mut coords: impl Iterator<Item = (f64, f64)>,
    offset: usize,
) -> std::result::Result<(), String> {
    match coords.position(|(x, y)| !x.is_finite() || !y.is_finite()) {
        Some(i) => Err(format!("coordinate {} has no finite result", offset + i)),
        None => Ok(()),
    }
}

impl Transform {
    /// The transform from `from` to `to`; an error names what PROJ could not do.
    pub fn new(from: &Crs, to: &Crs) -> std::result::Result<Transform, String> {
        if from == to {
            return Ok(Transform {
                ct: None,
                tm: None,
                native_batches: Default::default(),
            });
        }
        let ct = CoordTransform::new(from.srs(), to.srs()).map_err(|e| e.to_string())?;
        Ok(Transform {
            ct: Some(ct),
            tm: native_inverse(from, to).map(|t| std::sync::Mutex::new(TmTiles::new(t))),
            native_batches: Default::default(),
        })
    }

    /// PROJ only, never the native fast path (for tests and comparisons).
    pub fn proj_only(mut self) -> Transform {
        self.tm = None;
        self
    }

    /// True when the two CRS are the same (nothing to do).
    pub fn is_identity(&self) -> bool {
        self.ct.is_none()
    }

    /// Whether batches may take the native inverse Transverse Mercator (each batch still has to
    /// agree with PROJ at its probe points).
    pub fn has_native_path(&self) -> bool {
        self.tm.is_some()
    }

    /// How many batches so far took the native path.
    pub fn native_batches(&self) -> usize {
        self.native_batches
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(crate) fn gdal(&self) -> Option<&CoordTransform> {
        self.ct.as_ref()
    }

    /// Transforms one batch with the native inverse if it agrees with PROJ at nine probe
    /// points spanning the batch's bounding box (its corners, edge midpoints and centre, where
    /// the series' error is largest at the corners); returns false, changing nothing, if not.
    fn native_batch(
        &self,
        tiles: &mut TmTiles,
        ct: &CoordTransform,
        xs: &mut [f64],
        ys: &mut [f64],
    ) -> bool {
        let (mut x0, mut y0, mut x1, mut y1) = (
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        );
        for (&x, &y) in xs.iter().zip(ys.iter()) {
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y);
            y1 = y1.max(y);
        }
        if !(x0.is_finite() && y0.is_finite() && x1.is_finite() && y1.is_finite()) {
            return false;
        }
        let (xm, ym) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
        let mut px = [x0, xm, x1, x0, xm, x1, x0, xm, x1];
        let mut py = [y0, y0, y0, ym, ym, ym, y1, y1, y1];
        let (qx, qy) = (px, py);
        if ct.transform_coords(&mut px, &mut py, &mut []).is_err() {
            return false;
        }
        let tm = tiles.inverse();
        for k in 0..9 {
            let (lon, lat) = tm.lon_lat_deg(qx[k], qy[k]);
            if !((lon - px[k]).abs() <= NATIVE_TOLERANCE_DEG
                && (lat - py[k]).abs() <= NATIVE_TOLERANCE_DEG)
            {
                return false;
            }
        }
        tiles.lon_lat_deg_in_place(xs, ys);
        self.native_batches
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        true
    }

    /// Transforms coordinates in place. Fails if any result is not finite.
    ///
    /// From a Transverse Mercator CRS to longitude/latitude (SWEREF 99 TM and its local zones,
    /// UTM) most batches take a native inverse, several times faster than PROJ here; a batch
    /// takes it only if it agrees with PROJ within 1e-9° at nine probe points over its extent,
    /// so a datum shift or an extent far from the central meridian falls back to PROJ. Within
    /// the native path, points dense enough on 16 km tiles evaluate each tile's checked
    /// polynomial interpolant of the series ([`TmTiles`], within 1e-11° of the series).
    pub fn coords(&self, xs: &mut [f64], ys: &mut [f64]) -> std::result::Result<(), String> {
        self.project(xs, ys)?;
        all_finite(xs.iter().zip(ys.iter()).map(|(&x, &y)| (x, y)), 0)
    }

    /// [`Transform::coords`] without the check that the results are finite.
    fn project(&self, xs: &mut [f64], ys: &mut [f64]) -> std::result::Result<(), String> {
        if let Some(ct) = &self.ct {
            // Large batches in slices keep PROJ's per-call overhead low.
            for (cx, cy) in xs.chunks_mut(BATCH).zip(ys.chunks_mut(BATCH)) {
                if let Some(tm) = &self.tm {
                    let mut tiles = tm.lock().unwrap_or_else(|e| e.into_inner());
                    if self.native_batch(&mut tiles, ct, cx, cy) {
                        continue;
                    }
                }
                ct.transform_coords(cx, cy, &mut [])
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }

    /// [`Transform::coords`] for points, in place, a batch at a time (no copy of the whole
    /// slice is made): the same batches as `coords`, so the same results. Fails if any result
    /// is not finite, naming its position.
    pub fn coords_in_place(&self, points: &mut [Coord<f64>]) -> std::result::Result<(), String> {
        if self.is_identity() {
            return all_finite(points.iter().map(|p| (p.x, p.y)), 0);
        }
        let (mut xs, mut ys) = (Vec::with_capacity(BATCH), Vec::with_capacity(BATCH));
        for (b, batch) in points.chunks_mut(BATCH).enumerate() {
            xs.clear();
            ys.clear();
            xs.extend(batch.iter().map(|p| p.x));
            ys.extend(batch.iter().map(|p| p.y));
            self.project(&mut xs, &mut ys)?;
            all_finite(xs.iter().zip(&ys).map(|(&x, &y)| (x, y)), b * BATCH)?;
            for ((p, &x), &y) in batch.iter_mut().zip(&xs).zip(&ys) {
                *p = Coord { x, y };
            }
        }
        Ok(())
    }

    /// `points` transformed (a copy when this is the identity).
    pub fn points(&self, points: &[Coord<f64>]) -> std::result::Result<Vec<Coord<f64>>, String> {
        if self.is_identity() {
            return Ok(points.to_vec());
        }
        let (mut xs, mut ys): (Vec<f64>, Vec<f64>) = points.iter().map(|c| (c.x, c.y)).unzip();
        self.coords(&mut xs, &mut ys)?;
        Ok(xs
            .into_iter()
            .zip(ys)
            .map(|(x, y)| Coord { x, y })
            .collect())
    }

    /// `areas` with every ring's vertices transformed (a copy when this is the identity).
    pub fn multi_polygons(
        &self,
        areas: &[MultiPolygon<f64>],
    ) -> std::result::Result<Vec<MultiPolygon<f64>>, String> {
        let mut out = areas.to_vec();
        if self.is_identity() {
            return Ok(out);
        }
        let (mut xs, mut ys) = (Vec::new(), Vec::new());
        for p in out.iter().flat_map(|a| &a.0) {
            for r in std::iter::once(p.exterior()).chain(p.interiors()) {
                xs.extend(r.0.iter().map(|c| c.x));
                ys.extend(r.0.iter().map(|c| c.y));
            }
        }
        self.coords(&mut xs, &mut ys)?;
        let mut k = 0;
        let mut set = |ring: &mut LineString<f64>| {
            for c in ring.0.iter_mut() {
                *c = Coord { x: xs[k], y: ys[k] };
                k += 1;
            }
        };
        for p in out.iter_mut().flat_map(|a| &mut a.0) {
            p.exterior_mut(&mut set);
            p.interiors_mut(|rs| rs.iter_mut().for_each(&mut set));
        }
        Ok(out)
    }
}

/// Why coordinates like `c` cannot be reprojected from `from` (a CRS label), in words a user
/// can act on: lon/lat-sized numbers under a projected CRS, metres under a geographic one, or
/// a place outside the CRS's area.
pub fn reprojection_problem(from: &str, c: gapmap_core::geo::Coord<f64>) -> String {
    let lonlat_sized = c.x.abs() <= 180.0 && c.y.abs() <= 90.0;
    if lonlat_sized {
        format!(
            "the coordinates (e.g. x {}, y {}) cannot be placed in {from}; if they are longitude and latitude, give --assume-crs EPSG:4326 (or the file's own CRS)",
            c.x, c.y
        )
    } else {
        format!(
            "the coordinates (e.g. x {}, y {}) are outside the range of {from}: they look like metres of a projected CRS, not longitude and latitude; give the CRS they are in (--assume-crs, or the file's .prj)",
            c.x, c.y
        )
    }
}
