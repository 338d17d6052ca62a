//! gapmap-io: readers and writers. GDAL for vector input, reprojection (OSR) and GeoPackage;
//! polars for tables; RFC 7946 GeoJSON. Inputs are validated and reprojected here, so the core
//! crate only ever sees valid, projected data.

#![allow(
    clippy::result_large_err,
    reason = "IoError carries file, layer, feature and field for its messages; errors are rare, so its size on the error path is not worth boxing"
)]

pub mod arrow;
pub mod crs;
pub mod error;
mod gdal_errors;
pub mod geom;
pub mod lang;
pub mod read;
pub mod write;

pub use crs::Crs;
pub use error::{IoError, Result};
pub use lang::Lang;
pub use read::vector::{PortableContext, ReadContext};
