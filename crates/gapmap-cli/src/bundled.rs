//! The bundled region in `data/`, used when `gapmap analyze` is given no inputs.

use std::path::PathBuf;

/// Directory of the bundled region, relative to the repository root.
pub const REGION_DIR: &str = "data/dalarna";

/// Files and field names of the bundled region.
pub struct Region {
    pub dir: PathBuf,
    pub premises: PathBuf,
    pub settlements: PathBuf,
    pub fibre: PathBuf,
    pub mobile: PathBuf,
    pub fibre_layers: Vec<String>,
    pub settlement_id_field: &'static str,
    pub settlement_name_field: &'static str,
}

/// Finds the bundled region: `$GAPMAP_DATA`, then `./data/dalarna`, then the source tree this
/// binary was built from.
pub fn locate() -> Option<Region> {
    let candidates = [
        std::env::var_os("GAPMAP_DATA").map(PathBuf::from),
        Some(PathBuf::from(REGION_DIR)),
        Some(PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join(REGION_DIR)),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|d| d.join("premises.parquet").exists())
        .map(|dir| Region {
            premises: dir.join("premises.parquet"),
            settlements: dir.join("settlements.gpkg"),
            fibre: dir.join("fibre.gpkg"),
            mobile: dir.join("mobile.geojson"),
            fibre_layers: vec!["routes".into(), "nodes".into()],
            settlement_id_field: "tatortskod",
            settlement_name_field: "tatort",
            dir,
        })
}
