//! gapmap-io: readers and writers. GDAL for vector input, reprojection (OSR) and GeoPackage;
//! polars for tables; RFC 7946 GeoJSON. Inputs are validated and reprojected here, so the core
//! crate only ever sees valid, projected data.

pub mod crs;
pub mod error;
pub mod geojson;
pub mod geom;
pub mod gpkg;
pub mod inputs;
pub mod staging;
pub mod style;
pub mod table;
pub mod tables;
pub mod vector;

pub use crs::Crs;
pub use error::{IoError, Result};
pub use vector::ReadContext;
