//! Writers: every output file, all or nothing through a staging directory ([`staging`]).

pub mod features;
pub mod geojson;
pub mod gpkg;
pub mod map_html;
pub mod map_png;
pub mod output;
mod parquet;
pub mod postgis;
pub mod report;
pub mod sql;
pub mod staging;
pub mod style;
pub mod tables;
