//! Inputs held in memory (a GeoDataFrame or an Arrow table handed over by Python), read by the
//! same readers as files.
//!
//! A plan names its inputs by path, and is recorded as such in run.json. An in-memory table
//! is given a path under GDAL's in-memory file system (`/vsimem/gapmap/...`) that lives as
//! long as its [`Registered`] handle:
//! - **premises** ([`register_table`]): the table itself, which the premise reader takes as it
//!   takes a Parquet table (x/y columns or WKB, ids, counts), without copying it;
//! - **every other layer** ([`register_layer`]): written as a GeoPackage into GDAL's memory
//!   file system, which the layer's own reader then opens, with the checks, repairs and
//!   reprojection it gives a file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use gapmap_core::geo::{Geometry, GeometryCollection};
use polars::prelude::DataFrame;

use crate::crs::Crs;
use crate::error::{IoError, Result};
use crate::write::features::{FeatureTable, GeomRef};
use crate::write::gpkg::{write_vector, OutLayer};

/// A table in memory with its geometry column and CRS.
#[derive(Debug, Clone)]
pub struct MemoryTable {
    /// The rows.
    pub frame: DataFrame,
    /// The WKB geometry column (`None`: points from x/y columns).
    pub geometry: Option<String>,
    /// The CRS (WKT, PROJJSON or `AUTH:CODE`); `None`: the plan's `assume_crs` applies.
    pub crs: Option<String>,
}

static TABLES: Mutex<Option<HashMap<PathBuf, Arc<MemoryTable>>>> = Mutex::new(None);
static NEXT: AtomicU64 = AtomicU64::new(1);

/// An in-memory input's path; the input is gone when this is dropped.
#[derive(Debug)]
pub struct Registered {
    path: PathBuf,
    layer_file: bool,
}

impl Registered {
    /// The path to give the plan.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        if self.layer_file {
            if let Some(p) = self
                .path
                .to_str()
                .and_then(|p| std::ffi::CString::new(p).ok())
            {
                // SAFETY: a NUL-terminated path; unlinking a missing file is harmless.
                unsafe { gdal_sys::VSIUnlink(p.as_ptr()) };
            }
        } else if let Ok(mut t) = TABLES.lock() {
            if let Some(t) = t.as_mut() {
                t.remove(&self.path);
            }
        }
    }
}

fn fresh_path(name: &str, ext: &str) -> PathBuf {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    // Only letters, digits, '-' and '_' in the name: it becomes part of a path.
    let clean: String = name
        .chars()
        .map(
            |c| match c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                true => c,
                false => '_',
            },
        )
        .collect();
    // Messages and run.json name the input by this path: say what it is.
    PathBuf::from(format!("/vsimem/gapmap/{n}/{clean}-in-memory.{ext}"))
}

/// Makes `table` readable as premises at the returned path (named after `name`, e.g.
/// `premises`).
pub fn register_table(name: &str, table: MemoryTable) -> Registered {
    let path = fresh_path(name, "arrow");
    if let Ok(mut t) = TABLES.lock() {
        t.get_or_insert_with(HashMap::new)
            .insert(path.clone(), Arc::new(table));
    }
    Registered {
        path,
        layer_file: false,
    }
}

/// The in-memory table at `path`, if it is one.
pub(crate) fn table(path: &Path) -> Option<Arc<MemoryTable>> {
    if !path.starts_with("/vsimem/gapmap") {
        return None;
    }
    TABLES.lock().ok()?.as_ref()?.get(path).cloned()
}

/// Writes `table` (with a WKB geometry column) as a GeoPackage layer named `name` in GDAL's
/// memory file system, for the layer readers; `what` names the table in errors.
pub fn register_layer(name: &str, table: &MemoryTable, what: &str) -> Result<Registered> {
    let bad = |message: String| IoError::Table {
        path: what.into(),
        message,
    };
    let Some(geom_col) = &table.geometry else {
        return Err(bad("no geometry column (WKB) to read".into()));
    };
    let crs = match &table.crs {
        Some(c) => Some(Crs::parse(c, &format!("{what}: its CRS"))?),
        None => None,
    };
    let mut attrs = table.frame.clone();
    let geoms = attrs
        .drop_in_place(geom_col)
        .map_err(|e| bad(format!("geometry column '{geom_col}': {e}")))?;
    let wkb = geoms
        .as_materialized_series()
        .binary()
        .map_err(|e| {
            bad(format!(
                "geometry column '{geom_col}' is not WKB (binary): {e}"
            ))
        })?
        .clone();
    let (columns, _) = crate::write::tables::columns_from_frame(&attrs)?;
    let mut geometries = Vec::with_capacity(wkb.len());
    for (i, v) in wkb.iter().enumerate() {
        let g = match v {
            Some(b) => {
                crate::geom::from_wkb(b).map_err(|m| bad(format!("row {i}: geometry: {m}")))?
            }
            None => None,
        };
        // A missing geometry becomes an empty one, which every reader skips with a notice.
        geometries.push(GeomRef::Owned(
            g.unwrap_or(Geometry::GeometryCollection(GeometryCollection::default())),
        ));
    }
    let features = FeatureTable {
        columns,
        geometries,
    };
    let path = fresh_path(name, "gpkg");
    let registered = Registered {
        path: path.clone(),
        layer_file: true,
    };
    write_vector(
        &path,
        "GPKG",
        crs.as_ref(),
        &[OutLayer {
            name,
            geometry_type: gdal_sys::OGRwkbGeometryType::wkbUnknown,
            table: &features,
            qml: None,
        }],
    )?;
    Ok(registered)
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::Column;

    #[test]
    fn a_registered_table_is_found_until_dropped() {
        let df = DataFrame::new(1, vec![Column::new("x".into(), &[1.0f64])]).unwrap();
        let r = register_table(
            "premises",
            MemoryTable {
                frame: df,
                geometry: None,
                crs: None,
            },
        );
        let p = r.path().to_path_buf();
        assert!(table(&p).is_some());
        drop(r);
        assert!(table(&p).is_none());
    }
}
