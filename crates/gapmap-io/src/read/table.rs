//! The fast path for millions of premises: Parquet and CSV tables read with polars.
//!
//! A table has x/y coordinate columns (names configurable), or is GeoParquet with a WKB
//! geometry column. Its CRS comes from, in order: gapmap's `crs` key in the Parquet metadata,
//! GeoParquet's `geo` metadata, or `--assume-crs`.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use gapmap_core::geo::Coord;
use polars::prelude::*;

use crate::crs::{Crs, Transform};
use crate::error::{IoError, Result};
use crate::read::vector::ReadContext;

/// Parquet key-value metadata key under which gapmap records a table's CRS (e.g. `EPSG:3006`).
pub const CRS_METADATA_KEY: &str = "crs";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Parquet,
    Csv,
    /// A table handed over in memory (`read::memory`).
    Memory,
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

pub(crate) fn table_err(path: &Path, e: impl std::fmt::Display) -> IoError {
    IoError::Table {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// The table's CRS, from its metadata, and a WKB geometry column if it is GeoParquet.
pub(crate) struct ParquetGeo {
    pub(crate) crs: Option<String>,
    pub(crate) wkb_column: Option<String>,
}

pub(crate) fn parquet_geo(path: &Path, reader: &mut ParquetReader<File>) -> Result<ParquetGeo> {
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
/// Runs `f`, which hands a file to polars: a panic inside polars (polars-parquet 0.55 panics
/// on some corrupt Parquet footers, "thrift bool field", as fuzzing found) becomes an error
/// naming the file, never a crash.
pub(crate) fn guarded<T>(path: &Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(table_err(
            path,
            "not a readable table: its structure is corrupt (the Parquet or CSV reader gave up)",
        ))
    })
}

/// Uncompressed size above which a Parquet page is taken for corrupt (polars would allocate
/// it before finding out).
const MAX_PAGE_BYTES: usize = 1 << 30;

/// Checks every data page header of a Parquet file before polars decodes it: a page claiming
/// more values than its row group has rows (in a column that is not nested), or more than
/// 1 GiB uncompressed, is corrupt. polars-parquet 0.55 trusts both and allocates them, and a
/// corrupt header (fuzzing found one claiming 2^61 values) aborts the process on the failed
/// allocation, which no error handling can catch. Reads only the headers (the file is mapped).
pub(crate) fn check_parquet_pages(path: &Path) -> Result<()> {
    use polars_parquet::parquet::page::CompressedPage;
    use polars_parquet::parquet::read::{get_page_iterator, read_metadata};
    let corrupt = |what: String| {
        table_err(
            path,
            format!("not a readable table: its structure is corrupt ({what})"),
        )
    };
    let file = File::open(path).map_err(|e| table_err(path, e))?;
    // SAFETY: the map is only read; a file changed underneath gives wrong bytes, which the
    // checks below and polars' own reader report as corruption, not undefined behaviour of
    // ours (the same assumption polars' memory-mapped reader makes).
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| table_err(path, e))?;
    // The footer first: polars reserves what its lists claim (RELIABILITY.md, findings 4, 8).
    super::parquet_footer::check_footer(&map).map_err(corrupt)?;
    let bytes = polars_buffer::Buffer::from_owner(map);
    let mut cursor = std::io::Cursor::new(bytes.clone());
    let meta = read_metadata(&mut cursor).map_err(|e| corrupt(e.to_string()))?;
    // The table's height is what its row groups claim: polars takes it from them, and a
    // column it need not decode (all of one value) stands for that many rows unread, until
    // gapmap allocates a flag per row (finding 11: 118 G rows in a file of 1 KB). The row
    // groups must add up to the file's own count, and each flat column's pages to its group.
    let claimed: u64 = meta.row_groups.iter().map(|g| g.num_rows() as u64).sum();
    if claimed != meta.num_rows as u64 {
        return Err(corrupt(format!(
            "its row groups claim {claimed} rows, the file {}",
            meta.num_rows
        )));
    }
    for (g, group) in meta.row_groups.iter().enumerate() {
        for chunk in group.parquet_columns() {
            let flat = chunk.descriptor().descriptor.max_rep_level == 0;
            let mut values: u64 = 0;
            let pages = get_page_iterator(
                chunk,
                std::io::Cursor::new(bytes.clone()),
                Vec::new(),
                MAX_PAGE_BYTES,
            )
            .map_err(|e| corrupt(e.to_string()))?;
            for page in pages {
                let page = page.map_err(|e| corrupt(e.to_string()))?;
                if let CompressedPage::Data(d) = &page {
                    let column = chunk.descriptor().path_in_schema.join(".");
                    if flat && d.num_values() > group.num_rows() {
                        return Err(corrupt(format!(
                            "a page of column {column} in row group {g} claims {} values, in a row group of {} rows",
                            d.num_values(),
                            group.num_rows()
                        )));
                    }
                    if d.uncompressed_size() > MAX_PAGE_BYTES {
                        return Err(corrupt(format!(
                            "a page of column {column} in row group {g} claims {} bytes uncompressed",
                            d.uncompressed_size()
                        )));
                    }
                    values += d.num_values() as u64;
                }
            }
            if flat && values != group.num_rows() as u64 {
                return Err(corrupt(format!(
                    "column {} in row group {g} holds {values} values, in a row group that claims {} rows",
                    chunk.descriptor().path_in_schema.join("."),
                    group.num_rows()
                )));
            }
        }
    }
    Ok(())
}

pub(crate) fn open_table(path: &Path, format: Format) -> Result<(DataFrame, ParquetGeo, String)> {
    if format == Format::Memory {
        let t = super::memory::table(path).ok_or_else(|| IoError::NotFound {
            path: path.to_path_buf(),
        })?;
        let geo = ParquetGeo {
            crs: t.crs.clone(),
            wkb_column: t.geometry.clone(),
        };
        return Ok((t.frame.clone(), geo, "table".into()));
    }
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
            guarded(path, || {
                check_parquet_pages(path)?;
                let mut reader = ParquetReader::new(f);
                let geo = parquet_geo(path, &mut reader)?;
                let df = reader.finish().map_err(|e| table_err(path, e))?;
                Ok((df, geo, name))
            })
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
        Format::Memory => Err(IoError::NotFound {
            path: path.to_path_buf(),
        }),
    }
}

/// Keeps the rows of `v` whose `keep` flag is set (`keep` has a flag per row).
pub(crate) fn retain_kept<T>(v: &mut Vec<T>, keep: &[bool]) {
    let mut flags = keep.iter();
    v.retain(|_| flags.next().copied().unwrap_or(false));
}

pub(crate) fn fmt_opt(v: Option<f64>) -> String {
    v.map_or("null".to_string(), |v| v.to_string())
}

pub(crate) fn bad_row(path: &Path, layer: &str, row: usize, message: String) -> IoError {
    IoError::BadCoordinates {
        path: path.to_path_buf(),
        layer: layer.to_string(),
        feature: format!("row {row}"),
        message,
    }
}

/// A numeric column as `f64` values (`None` for nulls). Text that is not a number is an error.
pub(crate) fn float_column(df: &DataFrame, name: &str, path: &Path) -> Result<Vec<Option<f64>>> {
    Ok(float_chunked(df, name, path)?.iter().collect())
}

/// A numeric (or numeric text) column as 64-bit floats, nulls kept.
pub(crate) fn float_chunked(df: &DataFrame, name: &str, path: &Path) -> Result<Float64Chunked> {
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
        // Name the first value that is not a number, and its row (from 0, as the other
        // messages about table rows do).
        let first = s.str().ok().and_then(|t| {
            t.iter().enumerate().find_map(|(i, v)| {
                v.filter(|v| v.trim().parse::<f64>().is_err())
                    .map(|v| (i, v))
            })
        });
        let example = first.map_or(String::new(), |(i, v)| format!(", e.g. row {i}: '{v}'"));
        table_err(
            path,
            format!("column '{name}' has values that are not numbers{example}"),
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
    let format = if super::vector::extension(path) == "parquet" {
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
