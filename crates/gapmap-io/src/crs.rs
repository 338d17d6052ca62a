//! Coordinate reference systems and reprojection, with GDAL's OSR.

use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};

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
        let srs = SpatialRef::from_definition(value.trim()).map_err(|e| IoError::BadCrs {
            context: context.to_string(),
            value: value.to_string(),
            message: e.to_string(),
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
}

impl Transform {
    pub fn new(from: &Crs, to: &Crs) -> std::result::Result<Transform, String> {
        if from == to {
            return Ok(Transform { ct: None });
        }
        let ct = CoordTransform::new(from.srs(), to.srs()).map_err(|e| e.to_string())?;
        Ok(Transform { ct: Some(ct) })
    }

    pub fn is_identity(&self) -> bool {
        self.ct.is_none()
    }

    pub(crate) fn gdal(&self) -> Option<&CoordTransform> {
        self.ct.as_ref()
    }

    /// Transforms coordinates in place. Fails if any result is not finite.
    pub fn coords(&self, xs: &mut [f64], ys: &mut [f64]) -> std::result::Result<(), String> {
        if let Some(ct) = &self.ct {
            // Large batches in slices keep PROJ's per-call overhead low.
            for (cx, cy) in xs.chunks_mut(1 << 16).zip(ys.chunks_mut(1 << 16)) {
                ct.transform_coords(cx, cy, &mut [])
                    .map_err(|e| e.to_string())?;
            }
        }
        if let Some(i) = xs
            .iter()
            .zip(ys.iter())
            .position(|(x, y)| !x.is_finite() || !y.is_finite())
        {
            return Err(format!("coordinate {i} has no finite result"));
        }
        Ok(())
    }
}
