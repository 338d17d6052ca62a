//! Readers: every input of an analysis, read, validated and reprojected into the working CRS.
//! One file per input; [`layer`] is what their readers share.

pub mod analysis;
pub mod backbone;
mod columnar;
pub mod fibre;
pub mod layer;
pub mod memory;
pub mod mobile;
mod parquet_footer;
pub mod population;
mod postgres;
pub mod premises;
pub mod raster;
pub mod settlements;
pub mod sites;
pub mod table;
pub mod vector;

pub use backbone::{read_backbone, Backbone, BackboneOptions};
pub use fibre::{read_fibre, Fibre, FibreOptions, UNKNOWN_NETWORK};
pub use layer::{extent, sha256_file, FieldChoice, InputInfo, Skipped};
pub use mobile::{read_mobile, Mobile, MobileOptions, TechValue};
pub use population::{read_population, PopulationAreas, PopulationOptions};
pub use premises::{
    read_premises, table_whereabouts, PremiseIds, PremiseOptions, Premises, Weighting,
};
pub use settlements::{read_regions, read_settlements, SettlementOptions, Settlements};
pub use vector::{is_data_source_name, mask_secrets};
