//! Vector output through GDAL: GeoPackage for QGIS (several layers in one file, with their QGIS
//! styles in the `layer_styles` table so that they draw right on opening), and any other OGR
//! driver (Shapefile, FlatGeobuf, GeoJSON...), which the tests use to make fixtures.

use std::path::Path;

use gdal::vector::{Feature, FieldDefn, LayerAccess, LayerOptions};
use gdal::DriverManager;
use gdal_sys::OGRFieldType;

use crate::crs::Crs;
use crate::error::{IoError, Result};
use crate::gdal_errors::{clean_gdal_message, init_gdal};
use crate::write::features::{Column, FeatureTable, GeomRef};
use crate::write::sql::quote_literal;

/// OGR geometry types of output layers.
pub const MULTI_POLYGON: gdal_sys::OGRwkbGeometryType::Type =
    gdal_sys::OGRwkbGeometryType::wkbMultiPolygon;
/// OGR line strings.
pub const LINE_STRING: gdal_sys::OGRwkbGeometryType::Type =
    gdal_sys::OGRwkbGeometryType::wkbLineString;
/// OGR multi line strings.
pub const MULTI_LINE_STRING: gdal_sys::OGRwkbGeometryType::Type =
    gdal_sys::OGRwkbGeometryType::wkbMultiLineString;
/// An OGR geometry type.
pub type GeometryType = gdal_sys::OGRwkbGeometryType::Type;
/// OGR points.
pub const POINT: gdal_sys::OGRwkbGeometryType::Type = gdal_sys::OGRwkbGeometryType::wkbPoint;

/// One layer to write.
pub struct OutLayer<'a> {
    /// The layer's name.
    pub name: &'a str,
    /// OGR geometry type of the layer, e.g. `wkbMultiPolygon`.
    pub geometry_type: gdal_sys::OGRwkbGeometryType::Type,
    /// Its rows.
    pub table: &'a FeatureTable<'a>,
    /// QGIS style (QML) stored as the layer's default style.
    pub qml: Option<String>,
}

/// Writes `layers` to a new GeoPackage at `path`, with their QGIS styles.
pub fn write_gpkg(path: &Path, crs: &Crs, layers: &[OutLayer<'_>]) -> Result<()> {
    write_vector(path, "GPKG", Some(crs), layers)
}

/// Writes `layers` with the OGR driver `driver` (e.g. `GPKG`, `ESRI Shapefile`, `FlatGeobuf`).
/// `crs: None` writes no CRS. QGIS styles are stored for GeoPackage only.
pub fn write_vector(
    path: &Path,
    driver: &str,
    crs: Option<&Crs>,
    layers: &[OutLayer<'_>],
) -> Result<()> {
    init_gdal();
    let werr = |m: String| IoError::Write {
        path: path.to_path_buf(),
        message: clean_gdal_message(&m),
    };
    let gpkg = driver == "GPKG";
    let driver = DriverManager::get_driver_by_name(driver).map_err(|e| werr(e.to_string()))?;
    let mut ds = driver
        .create_vector_only(path)
        .map_err(|e| werr(e.to_string()))?;
    let mut styles = Vec::new();
    for spec in layers {
        if gpkg {
            // One transaction per layer: GeoPackage writes are much faster that way.
            let mut txn = ds.start_transaction().map_err(|e| werr(e.to_string()))?;
            write_layer(&mut txn, crs, spec).map_err(werr)?;
            txn.commit().map_err(|e| werr(e.to_string()))?;
        } else {
            write_layer(&mut ds, crs, spec).map_err(werr)?;
        }
        if let Some(q) = spec.qml.as_ref().filter(|_| gpkg) {
            styles.push((spec.name, q.clone()));
        }
    }
    if !styles.is_empty() {
        // The table QGIS reads default styles from (see QgsOgrProviderUtils::loadStyle).
        let sql = |s: &str| {
            ds.execute_sql(s, None, gdal::vector::sql::Dialect::DEFAULT)
                .map(|_| ())
                .map_err(|e| werr(e.to_string()))
        };
        sql("CREATE TABLE layer_styles (id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256), \
             f_table_schema TEXT(256), f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30), \
             styleQML TEXT, styleSLD TEXT, useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30), \
             update_time DATETIME DEFAULT CURRENT_TIMESTAMP)")?;
        for (name, q) in styles {
            sql(&format!(
                "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName, \
                 styleQML, styleSLD, useAsDefault, description, owner) VALUES ('', '', {n}, 'geom', {n}, {q}, '', 1, \
                 'gapmap default style', '')",
                n = quote_literal(name),
                q = quote_literal(&q)
            ))?;
        }
    }
    Ok(())
}

fn write_layer(
    ds: &mut gdal::Dataset,
    crs: Option<&Crs>,
    spec: &OutLayer<'_>,
) -> std::result::Result<(), String> {
    let layer = ds
        .create_layer(LayerOptions {
            name: spec.name,
            srs: crs.map(|c| c.srs()),
            ty: spec.geometry_type,
            options: None,
        })
        .map_err(|e| e.to_string())?;
    create_fields(&layer, &spec.table.columns)?;
    let geometries = &spec.table.geometries;
    write_features(&layer, &spec.table.columns, geometries.len(), |i| {
        geometries.get(i)
    })
}

/// Adds a field to `layer` for each of `columns`.
pub(crate) fn create_fields(
    layer: &gdal::vector::Layer<'_>,
    columns: &[(String, Column<'_>)],
) -> std::result::Result<(), String> {
    for (name, col) in columns {
        let t = match col {
            Column::Int(_) | Column::IntOpt(_) => OGRFieldType::OFTInteger64,
            Column::Float(_) => OGRFieldType::OFTReal,
            Column::Text(_) => OGRFieldType::OFTString,
        };
        FieldDefn::new(name, t)
            .and_then(|d| d.add_to_layer(layer))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Writes rows `0..n` of `columns` (whose fields [`create_fields`] made) as features of
/// `layer`, each with `geometry(i)` (none: a feature without geometry).
pub(crate) fn write_features<'g>(
    layer: &gdal::vector::Layer<'_>,
    columns: &[(String, Column<'_>)],
    n: usize,
    geometry: impl Fn(usize) -> Option<&'g GeomRef<'g>>,
) -> std::result::Result<(), String> {
    let e = |e: gdal::errors::GdalError| e.to_string();
    for i in 0..n {
        let mut feat = Feature::new(layer.defn()).map_err(e)?;
        for (k, (_, col)) in columns.iter().enumerate() {
            match col {
                Column::Int(v) => feat.set_field_integer64(k, v[i]),
                Column::IntOpt(v) => match v[i] {
                    Some(x) => feat.set_field_integer64(k, x),
                    None => feat.set_field_null(k),
                },
                Column::Float(v) => match v[i] {
                    Some(x) if x.is_finite() => feat.set_field_double(k, x),
                    _ => feat.set_field_null(k),
                },
                Column::Text(v) => match &v[i] {
                    Some(s) => feat.set_field_string(k, s),
                    None => feat.set_field_null(k),
                },
            }
            .map_err(e)?;
        }
        if let Some(g) = geometry(i) {
            feat.set_geometry(gdal::vector::Geometry::from_wkb(&g.wkb()).map_err(e)?)
                .map_err(e)?;
        }
        feat.create(layer).map_err(e)?;
    }
    Ok(())
}
