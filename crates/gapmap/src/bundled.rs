//! The bundled region in `data/`, used when `gapmap analyze` or `gapmap predict` is given no
//! inputs.

use std::path::PathBuf;

/// Directory of the bundled region, relative to the repository root.
pub const REGION_DIR: &str = "data/dalarna";

/// Files and field names of the bundled region.
pub struct Region {
    /// The directory of the bundled region.
    pub dir: PathBuf,
    /// Premises.
    pub premises: PathBuf,
    /// Settlement polygons.
    pub settlements: PathBuf,
    /// The fibre network.
    pub fibre: PathBuf,
    /// Mobile coverage polygons (paths), one (operator, technology) pair per feature.
    pub mobile: PathBuf,
    /// Backbone points (the resilience analysis runs when the file is there).
    pub backbone: PathBuf,
    /// Cell sites (for `gapmap predict`).
    pub sites: PathBuf,
    /// Layers of the fibre file.
    pub fibre_layers: Vec<String>,
    /// Region layers for `gapmap grid`: (path, id field, name field): kommuner and the län.
    pub regions: Vec<(PathBuf, &'static str, &'static str)>,
    /// Settlement id field.
    pub settlement_id_field: &'static str,
    /// Settlement name field.
    pub settlement_name_field: &'static str,
}

/// Finds the bundled region: `$GAPMAP_DATA` if set (an error if it holds no region), else
/// `./data/dalarna`, else the source tree this binary was built from.
pub fn locate() -> Result<Region, String> {
    let region = |dir: PathBuf| Region {
        premises: dir.join("premises.parquet"),
        settlements: dir.join("settlements.gpkg"),
        fibre: dir.join("fibre.gpkg"),
        mobile: dir.join("mobile.geojson"),
        backbone: dir.join("backbone.gpkg"),
        sites: dir.join("sites.gpkg"),
        fibre_layers: vec!["routes".into(), "nodes".into()],
        regions: vec![
            (dir.join("kommun.geojson"), "kommun_kod", "kommun"),
            (dir.join("lan.geojson"), "lan_kod", "lan"),
        ],
        settlement_id_field: "tatortskod",
        settlement_name_field: "tatort",
        dir,
    };
    if let Some(dir) = std::env::var_os("GAPMAP_DATA").map(PathBuf::from) {
        return if dir.join("premises.parquet").exists() {
            Ok(region(dir))
        } else {
            Err(format!(
                "GAPMAP_DATA={} holds no bundled region (no premises.parquet there)",
                dir.display()
            ))
        };
    }
    [PathBuf::from(REGION_DIR), PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join(REGION_DIR)]
        .into_iter()
        .find(|d| d.join("premises.parquet").exists())
        .map(region)
        .ok_or_else(|| {
            format!(
                "no inputs given and the bundled region ({REGION_DIR}) was not found; run from the repository root, set GAPMAP_DATA, or pass --premises and --settlements"
            )
        })
}
