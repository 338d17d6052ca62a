//! Elevation rasters (`--dem`), read with GDAL and warped into the working CRS.

use std::ffi::CString;
use std::path::Path;

use gapmap_core::radio::terrain::Dem;
use gdal::{Dataset, DatasetOptions, GdalOpenFlags};

use crate::crs::Crs;
use crate::error::{IoError, Result};
use crate::gdal_errors::{clean_gdal_message, init_gdal};
use crate::read::layer::Hashing;
use crate::read::InputInfo;

/// The largest DEM read into memory, in cells (2 GiB of f32).
pub const MAX_DEM_CELLS: usize = 1 << 29;

fn invalid(path: &Path, message: String) -> IoError {
    IoError::Invalid {
        path: path.to_path_buf(),
        layer: "band 1".into(),
        message,
    }
}

/// A DEM and what run.json records about it.
#[derive(Debug)]
pub struct DemInput {
    /// The elevation grid, in the working CRS.
    pub dem: Dem,
    /// The record of the input.
    pub info: InputInfo,
}

/// Reads band 1 of a raster as elevations in metres. A raster in another CRS is warped into
/// `target` (bilinear, through a GDAL warped VRT); no-data cells become NaN.
pub fn read_dem(path: &Path, target: &Crs, assume_crs: Option<&Crs>) -> Result<DemInput> {
    init_gdal();
    let started = std::time::Instant::now();
    if !path.exists() {
        return Err(IoError::NotFound {
            path: path.to_path_buf(),
        });
    }
    let hashing = Hashing::start(path);
    let ds = Dataset::open_ex(
        path,
        DatasetOptions {
            open_flags: GdalOpenFlags::GDAL_OF_RASTER,
            ..Default::default()
        },
    )
    .map_err(|e| IoError::Open {
        path: path.to_path_buf(),
        message: format!(
            "not a raster GDAL can read: {}",
            clean_gdal_message(&e.to_string())
        ),
    })?;
    if ds.raster_count() < 1 {
        return Err(invalid(path, "has no raster band".into()));
    }
    let (source, assumed) = match ds.spatial_ref() {
        Ok(srs) => (Crs::from_srs(srs), false),
        Err(_) => match assume_crs {
            Some(c) => (c.clone(), true),
            None => {
                return Err(IoError::NoCrs {
                    path: path.to_path_buf(),
                    layer: "band 1".into(),
                })
            }
        },
    };
    let warped;
    let (src, warped_note) = if source == *target {
        (&ds, false)
    } else {
        let src_wkt = CString::new(source.wkt()).map_err(|e| invalid(path, e.to_string()))?;
        let dst_wkt = CString::new(target.wkt()).map_err(|e| invalid(path, e.to_string()))?;
        // SAFETY: the dataset handle is valid for the call; the returned handle is owned by
        // the new `Dataset`, which closes it. The source stays open while `warped` lives.
        let h = unsafe {
            gdal_sys::GDALAutoCreateWarpedVRT(
                ds.c_dataset(),
                src_wkt.as_ptr(),
                dst_wkt.as_ptr(),
                gdal_sys::GDALResampleAlg::GRA_Bilinear,
                0.125,
                std::ptr::null(),
            )
        };
        if h.is_null() {
            return Err(IoError::Reproject {
                path: path.to_path_buf(),
                layer: "band 1".into(),
                from: source.label().to_string(),
                to: target.label().to_string(),
                message: "GDAL could not warp the raster".into(),
            });
        }
        warped = unsafe { Dataset::from_c_dataset(h) };
        (&warped, true)
    };
    let gt = src
        .geo_transform()
        .map_err(|e| invalid(path, format!("has no geotransform: {e}")))?;
    if gt[2] != 0.0 || gt[4] != 0.0 || gt[1] <= 0.0 || gt[5] >= 0.0 {
        return Err(invalid(
            path,
            format!("is not a north-up grid (geotransform {gt:?}); warp it first, e.g. gdalwarp -t_srs {}", target.label()),
        ));
    }
    let (cols, rows) = src.raster_size();
    if cols == 0 || rows == 0 || cols.saturating_mul(rows) > MAX_DEM_CELLS {
        return Err(invalid(
            path,
            format!(
                "{cols} x {rows} cells; expected 1 to {MAX_DEM_CELLS} cells (crop or resample it)"
            ),
        ));
    }
    let band = src
        .rasterband(1)
        .map_err(|e| invalid(path, e.to_string()))?;
    let nodata = band.no_data_value();
    let buf = band
        .read_as::<f32>((0, 0), (cols, rows), (cols, rows), None)
        .map_err(|e| {
            invalid(
                path,
                format!("cannot read: {}", clean_gdal_message(&e.to_string())),
            )
        })?;
    let mut z = buf.data().to_vec();
    let mut valid = 0usize;
    for v in &mut z {
        if nodata.is_some_and(|nd| f64::from(*v) == nd) || !v.is_finite() {
            *v = f32::NAN;
        } else {
            valid += 1;
        }
    }
    if valid == 0 {
        return Err(invalid(path, "has no cells with data".into()));
    }
    let mut fields = std::collections::BTreeMap::new();
    fields.insert("elevation".to_string(), Some("band 1".to_string()));
    let info = InputInfo {
        role: "dem".into(),
        path: path.display().to_string(),
        layer: None,
        driver: ds.driver().short_name(),
        crs: source.label().to_string(),
        crs_assumed: assumed,
        features: valid as u64,
        sha256: hashing.finish(),
        fields,
        repaired: if warped_note {
            vec![format!(
                "warped from {} to {} (bilinear)",
                source.label(),
                target.label()
            )]
        } else {
            Vec::new()
        },
        skipped: Vec::new(),
        read_seconds: started.elapsed().as_secs_f64(),
        filter: None,
        columnar: false,
        connections: None,
    };
    Ok(DemInput {
        dem: Dem {
            left: gt[0],
            top: gt[3],
            cell_w_m: gt[1],
            cell_h_m: -gt[5],
            cols,
            rows,
            z,
        },
        info,
    })
}
