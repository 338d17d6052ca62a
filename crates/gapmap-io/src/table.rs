//! The fast path for millions of premises: Parquet and CSV tables read with polars.
//!
//! A table has x/y coordinate columns (names configurable), or is GeoParquet with a WKB
//! geometry column. Its CRS comes from, in order: gapmap's `crs` key in the Parquet metadata,
//! GeoParquet's `geo` metadata, or `--assume-crs`.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use gapmap_core::geo::{Coord, Geometry, InteriorPoint};
use polars::prelude::*;

use crate::crs::{Crs, Transform};
use crate::error::{IoError, Result};
use crate::geom;
use crate::inputs::{
    count_notice, default_count_notice, InputInfo, PremiseIds, PremiseOptions, Premises, Skipped,
};
use crate::vector::{count_from_f64, ReadContext};

/// Parquet key-value metadata key under which gapmap records a table's CRS (e.g. `EPSG:3006`).
pub const CRS_METADATA_KEY: &str = "crs";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Parquet,
    Csv,
}

/// True when the CSV's header row has all of `columns`.
pub(crate) fn csv_has_columns(path: &Path, columns: &[&str]) -> bool {
    let Ok(f) = File::open(path) else {
        return false;
    };
    let mut line = String::new();
    if BufReader::new(f).read_line(&mut line).is_err() {
        return false;
    }
    let header: Vec<String> = line
        .trim_end_matches(['\r', '\n'])
        .trim_start_matches('\u{feff}')
        .split(',')
        .map(|s| s.trim().trim_matches('"').to_string())
        .collect();
    columns.iter().all(|c| header.iter().any(|h| h == c))
}

fn table_err(path: &Path, e: impl std::fmt::Display) -> IoError {
    IoError::Table {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// The table's CRS, from its metadata, and a WKB geometry column if it is GeoParquet.
struct ParquetGeo {
    crs: Option<String>,
    wkb_column: Option<String>,
}

fn parquet_geo(path: &Path, reader: &mut ParquetReader<File>) -> Result<ParquetGeo> {
    let md = reader.get_metadata().map_err(|e| table_err(path, e))?;
    let mut out = ParquetGeo {
        crs: None,
        wkb_column: None,
    };
    let Some(kvs) = md.key_value_metadata().as_ref() else {
        return Ok(out);
    };
    for kv in kvs {
        match (kv.key.as_str(), kv.value.as_deref()) {
            (CRS_METADATA_KEY, Some(v)) => out.crs = Some(v.to_string()),
            ("geo", Some(v)) if out.wkb_column.is_none() => {
                let geo: serde_json::Value = serde_json::from_str(v)
                    .map_err(|e| table_err(path, format!("bad GeoParquet 'geo' metadata: {e}")))?;
                let primary = geo["primary_column"]
                    .as_str()
                    .unwrap_or("geometry")
                    .to_string();
                let col = &geo["columns"][&primary];
                if col["encoding"]
                    .as_str()
                    .is_some_and(|e| e.eq_ignore_ascii_case("WKB"))
                {
                    if out.crs.is_none() {
                        // GeoParquet: a missing crs means OGC:CRS84 (lon/lat).
                        out.crs = Some(match &col["crs"] {
                            serde_json::Value::Null => "OGC:CRS84".to_string(),
                            c => c.to_string(),
                        });
                    }
                    out.wkb_column = Some(primary);
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// Reads a Parquet or CSV table, with the CRS and geometry column its Parquet metadata names.
/// Returns the frame, that metadata, and a name for the table in messages (the file stem).
fn open_table(path: &Path, format: Format) -> Result<(DataFrame, ParquetGeo, String)> {
    if !path.exists() {
        return Err(IoError::NotFound {
            path: path.to_path_buf(),
        });
    }
    let name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("")
        .to_string();
    match format {
        Format::Parquet => {
            let f = File::open(path).map_err(|e| table_err(path, e))?;
            let mut reader = ParquetReader::new(f);
            let geo = parquet_geo(path, &mut reader)?;
            let df = reader.finish().map_err(|e| table_err(path, e))?;
            Ok((df, geo, name))
        }
        Format::Csv => {
            let df = CsvReadOptions::default()
                .with_has_header(true)
                .with_infer_schema_length(Some(10_000))
                .try_into_reader_with_file_path(Some(path.to_path_buf()))
                .map_err(|e| table_err(path, e))?
                .finish()
                .map_err(|e| table_err(path, e))?;
            let geo = ParquetGeo {
                crs: None,
                wkb_column: None,
            };
            Ok((df, geo, name))
        }
    }
}

pub(crate) fn read_premises(
    opts: &PremiseOptions,
    ctx: &ReadContext,
    format: Format,
) -> Result<Premises> {
    let path = opts.path.as_path();
    let started = std::time::Instant::now();
    let hashing = crate::inputs::Hashing::start(path);
    let (df, geo, layer) = open_table(path, format)?;
    let columns: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let missing = |field: &str, hint: &str| IoError::MissingField {
        path: path.to_path_buf(),
        layer: layer.clone(),
        field: field.to_string(),
        available: columns.clone(),
        hint: hint.to_string(),
    };
    let has = |c: &str| columns.iter().any(|x| x == c);

    let (crs, crs_assumed) = match (&geo.crs, &ctx.assume_crs) {
        (Some(v), _) => (
            Crs::parse(
                v,
                &format!("{}: CRS in the Parquet metadata", path.display()),
            )?,
            false,
        ),
        (None, Some(c)) => (c.clone(), true),
        (None, None) => {
            return Err(IoError::NoCrs {
                path: path.to_path_buf(),
                layer: layer.clone(),
            })
        }
    };

    let n = df.height();
    let mut notices = Vec::new();
    let mut skipped = Vec::new();
    // Coordinates: x/y columns, else GeoParquet WKB. One point per row; a row without
    // geometry (GeoParquet null) has `keep[i] == false` and a placeholder point. Null or
    // non-finite coordinates are errors that name the row.
    let mut keep: Vec<bool> = vec![true; n];
    let not_finite = |i: usize, x: Option<f64>, y: Option<f64>| {
        bad_row(
            path,
            &layer,
            i,
            format!(
                "coordinate ({}, {}) is not a finite number",
                fmt_opt(x),
                fmt_opt(y)
            ),
        )
    };
    let mut xy: Vec<Coord<f64>> = if has(&opts.x_field) && has(&opts.y_field) {
        let xs = float_chunked(&df, &opts.x_field, path)?;
        let ys = float_chunked(&df, &opts.y_field, path)?;
        let mut xy = Vec::with_capacity(n);
        for (i, (x, y)) in xs.iter().zip(ys.iter()).enumerate() {
            match (x, y) {
                (Some(x), Some(y)) if x.is_finite() && y.is_finite() => xy.push(Coord { x, y }),
                (x, y) => return Err(not_finite(i, x, y)),
            }
        }
        xy
    } else if let Some(col) = geo.wkb_column.as_ref().filter(|c| has(c)) {
        let s = df
            .column(col)
            .map_err(|e| table_err(path, e))?
            .as_materialized_series()
            .clone();
        let bin = s
            .binary()
            .map_err(|e| table_err(path, format!("geometry column '{col}': {e}")))?;
        let mut xy = Vec::with_capacity(n);
        for (i, v) in bin.iter().enumerate() {
            let g = match v {
                None => None,
                Some(b) => geom::from_wkb(b)
                    .map_err(|m| bad_row(path, &layer, i, format!("geometry: {m}")))?,
            };
            let p = match g {
                None => {
                    keep[i] = false;
                    skipped.push(Skipped {
                        feature: format!("row {i}"),
                        reason: "no geometry".into(),
                    });
                    Coord { x: 0.0, y: 0.0 }
                }
                Some(Geometry::Point(p)) => p.0,
                Some(g @ (Geometry::Polygon(_) | Geometry::MultiPolygon(_))) => {
                    match g.interior_point() {
                        Some(p) => p.0,
                        None => {
                            keep[i] = false;
                            skipped.push(Skipped {
                                feature: format!("row {i}"),
                                reason: "polygon without area".into(),
                            });
                            Coord { x: 0.0, y: 0.0 }
                        }
                    }
                }
                Some(g) => {
                    return Err(IoError::GeometryType {
                        path: path.to_path_buf(),
                        layer: layer.clone(),
                        feature: format!("row {i}"),
                        expected: "Point, or Polygon/MultiPolygon (a building)".into(),
                        found: geom::type_name(&g).into(),
                    })
                }
            };
            if keep[i] && !(p.x.is_finite() && p.y.is_finite()) {
                return Err(not_finite(i, Some(p.x), Some(p.y)));
            }
            xy.push(p);
        }
        xy
    } else {
        let which = if has(&opts.x_field) {
            &opts.y_field
        } else {
            &opts.x_field
        };
        return Err(missing(
            which,
            " (premise coordinates; set the columns with --x-field and --y-field)",
        ));
    };

    let transform = Transform::new(&crs, &ctx.target).map_err(|message| IoError::Reproject {
        path: path.to_path_buf(),
        layer: layer.clone(),
        from: crs.label().to_string(),
        to: ctx.target.label().to_string(),
        message,
    })?;
    transform
        .coords_in_place(&mut xy)
        .map_err(|message| IoError::Reproject {
            path: path.to_path_buf(),
            layer: layer.clone(),
            from: crs.label().to_string(),
            to: ctx.target.label().to_string(),
            message,
        })?;

    let mut info = InputInfo {
        role: "premises".into(),
        path: path.display().to_string(),
        layer: None,
        driver: match format {
            Format::Parquet => "Parquet (polars)".into(),
            Format::Csv => "CSV (polars)".into(),
        },
        crs: crs.label().to_string(),
        crs_assumed,
        features: 0,
        sha256: None,
        fields: Default::default(),
        repaired: vec![],
        skipped: vec![],
        read_seconds: 0.0,
    };

    // Ids: the id column keeps its type; without one, the row number.
    let ids = if has(&opts.id_field.name) {
        info.fields
            .insert("id".into(), Some(opts.id_field.name.clone()));
        let s = df
            .column(&opts.id_field.name)
            .map_err(|e| table_err(path, e))?
            .as_materialized_series()
            .clone();
        if s.null_count() > 0 {
            let i = s
                .is_null()
                .iter()
                .position(|v| v == Some(true))
                .unwrap_or(0);
            return Err(bad_row(
                path,
                &layer,
                i,
                format!("the premise id in '{}' is empty", opts.id_field.name),
            ));
        }
        if s.dtype().is_integer() {
            let s = s.cast(&DataType::Int64).map_err(|e| table_err(path, e))?;
            PremiseIds::Int(
                s.i64()
                    .map_err(|e| table_err(path, e))?
                    .into_no_null_iter()
                    .collect(),
            )
        } else {
            let s = s.cast(&DataType::String).map_err(|e| table_err(path, e))?;
            PremiseIds::Str(
                s.str()
                    .map_err(|e| table_err(path, e))?
                    .iter()
                    .map(|v| v.unwrap_or_default().to_string())
                    .collect(),
            )
        }
    } else if opts.id_field.explicit {
        return Err(missing(
            &opts.id_field.name,
            &format!(" (named by {})", opts.id_field.flag),
        ));
    } else {
        notices.push(format!(
            "{}: no column '{}', so premise ids are row numbers from 0; choose a column with {}",
            path.display(),
            opts.id_field.name,
            opts.id_field.flag
        ));
        info.fields.insert("id".into(), None);
        PremiseIds::Int((0..n as i64).collect())
    };

    let mut counts = |choice: &crate::inputs::FieldChoice,
                      fallback: u32,
                      what: &str,
                      key: &str|
     -> Result<Vec<u32>> {
        if !has(&choice.name) {
            if choice.explicit {
                return Err(missing(
                    &choice.name,
                    &format!(" (named by {})", choice.flag),
                ));
            }
            default_count_notice(&mut notices, path, choice, &format!("{fallback} {what}"));
            info.fields.insert(key.into(), None);
            return Ok(vec![fallback; n]);
        }
        info.fields.insert(key.into(), Some(choice.name.clone()));
        let vals = float_chunked(&df, &choice.name, path)?;
        let mut nulls = 0;
        let mut out = Vec::with_capacity(n);
        for (i, v) in vals.iter().enumerate() {
            out.push(match v {
                None => {
                    nulls += 1;
                    0
                }
                Some(v) => count_from_f64(v).map_err(|m| IoError::FieldValue {
                    path: path.to_path_buf(),
                    layer: layer.clone(),
                    feature: format!("row {i}"),
                    field: choice.name.clone(),
                    message: m,
                })?,
            });
        }
        count_notice(&mut notices, path, &choice.name, nulls, what);
        Ok(out)
    };
    let mut households = counts(&opts.households_field, 1, "household", "households")?;
    let mut workplaces = counts(&opts.workplaces_field, 0, "workplaces", "workplaces")?;
    // Every column is taken: the frame's memory serves what follows.
    drop(df);

    // Drop rows without geometry (GeoParquet nulls), keeping everything aligned.
    let mut ids = ids;
    if !skipped.is_empty() {
        retain_kept(&mut xy, &keep);
        retain_kept(&mut households, &keep);
        retain_kept(&mut workplaces, &keep);
        match &mut ids {
            PremiseIds::Int(v) => retain_kept(v, &keep),
            PremiseIds::Str(v) => retain_kept(v, &keep),
        }
    }
    if xy.is_empty() {
        return Err(IoError::Empty {
            path: path.to_path_buf(),
            layer,
            what: "the premises".into(),
        });
    }
    info.features = xy.len() as u64;
    info.skipped = skipped;
    info.sha256 = hashing.finish();
    info.read_seconds = started.elapsed().as_secs_f64();
    Ok(Premises {
        ids,
        xy,
        households,
        workplaces,
        info,
        notices,
    })
}

/// Keeps the rows of `v` whose `keep` flag is set (`keep` has a flag per row).
fn retain_kept<T>(v: &mut Vec<T>, keep: &[bool]) {
    let mut flags = keep.iter();
    v.retain(|_| flags.next().copied().unwrap_or(false));
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map_or("null".to_string(), |v| v.to_string())
}

fn bad_row(path: &Path, layer: &str, row: usize, message: String) -> IoError {
    IoError::BadCoordinates {
        path: path.to_path_buf(),
        layer: layer.to_string(),
        feature: format!("row {row}"),
        message,
    }
}

/// A numeric column as `f64` values (`None` for nulls). Text that is not a number is an error.
fn float_column(df: &DataFrame, name: &str, path: &Path) -> Result<Vec<Option<f64>>> {
    Ok(float_chunked(df, name, path)?.iter().collect())
}

/// A numeric (or numeric text) column as 64-bit floats, nulls kept.
fn float_chunked(df: &DataFrame, name: &str, path: &Path) -> Result<Float64Chunked> {
    let s = df
        .column(name)
        .map_err(|e| table_err(path, e))?
        .as_materialized_series()
        .clone();
    if !(s.dtype().is_primitive_numeric()
        || s.dtype() == &DataType::String
        || s.dtype() == &DataType::Null)
    {
        return Err(table_err(
            path,
            format!("column '{name}' has type {}, expected numbers", s.dtype()),
        ));
    }
    let cast = s.strict_cast(&DataType::Float64).map_err(|_| {
        table_err(
            path,
            format!("column '{name}' has values that are not numbers"),
        )
    })?;
    Ok(cast.f64().map_err(|e| table_err(path, e))?.clone())
}

/// Reads `(x, y, value)` rows of a Parquet or CSV table, e.g. a population grid, reprojecting
/// the points from `crs` (or the table's own CRS metadata) to `ctx.target`.
pub fn read_point_values(
    path: &Path,
    x: &str,
    y: &str,
    value: &str,
    crs: &Crs,
    ctx: &ReadContext,
) -> Result<Vec<(Coord<f64>, f64)>> {
    let format = if crate::vector::extension(path) == "parquet" {
        Format::Parquet
    } else {
        Format::Csv
    };
    let (df, geo, layer) = open_table(path, format)?;
    let meta_crs = geo.crs;
    let columns: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    for c in [x, y, value] {
        if !columns.iter().any(|k| k == c) {
            return Err(IoError::MissingField {
                path: path.to_path_buf(),
                layer: layer.clone(),
                field: c.to_string(),
                available: columns,
                hint: String::new(),
            });
        }
    }
    let crs = match meta_crs {
        Some(v) => Crs::parse(
            &v,
            &format!("{}: CRS in the Parquet metadata", path.display()),
        )?,
        None => crs.clone(),
    };
    let (xs, ys, vs) = (
        float_column(&df, x, path)?,
        float_column(&df, y, path)?,
        float_column(&df, value, path)?,
    );
    let mut px = Vec::with_capacity(xs.len());
    let mut py = Vec::with_capacity(xs.len());
    let mut val = Vec::with_capacity(xs.len());
    for i in 0..xs.len() {
        match (xs[i], ys[i], vs[i]) {
            (Some(a), Some(b), Some(v)) if a.is_finite() && b.is_finite() && v.is_finite() => {
                px.push(a);
                py.push(b);
                val.push(v);
            }
            _ => {
                return Err(bad_row(
                    path,
                    &layer,
                    i,
                    format!("'{x}', '{y}' and '{value}' must be finite numbers"),
                ))
            }
        }
    }
    let t = Transform::new(&crs, &ctx.target).map_err(|m| table_err(path, m))?;
    t.coords(&mut px, &mut py).map_err(|m| table_err(path, m))?;
    Ok((0..px.len())
        .map(|i| (Coord { x: px[i], y: py[i] }, val[i]))
        .collect())
}
