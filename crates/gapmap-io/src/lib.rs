//! gapmap-io: readers and writers. GDAL for vector input, reprojection (OSR) and GeoPackage;
//! polars for tables; RFC 7946 GeoJSON. Inputs are validated and reprojected here, so the core
//! crate only ever sees valid, projected data.

// `IoError` carries file, layer, feature and field for its messages; errors are rare, so its
// size on the error path is not worth boxing.
#![allow(clippy::result_large_err)]

pub mod analysis;
pub mod crs;
pub mod error;
pub mod features;
pub mod geojson;
pub mod geom;
pub mod inputs;
mod parquet_writer;
pub mod raster;
pub mod report;
pub mod sites;
pub mod staging;
pub mod style;
pub mod table;
pub mod tables;
pub mod vector;
pub mod vector_out;

pub use crs::Crs;
pub use error::{IoError, Result};
pub use vector::{PortableContext, ReadContext};
