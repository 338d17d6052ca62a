//! Reading an analysis directory back (what `gapmap analyze` wrote): the per-premise outcomes
//! of `premises.parquet` and the parameters of `run.json`. `gapmap grid`, `prioritise` and
//! `report` start from here, so an analysis is run once and its results reused.

use std::fs::File;
use std::path::{Path, PathBuf};

use gapmap_core::geo::Coord;
use gapmap_core::summary::Outcome;
use polars::prelude::*;

use std::borrow::Cow;

use crate::error::{IoError, Result};
use crate::read::table::CRS_METADATA_KEY;
use crate::write::features::Column;

/// The per-premise results of an analysis, in the analysis' working CRS.
#[derive(Debug, Default)]
pub struct AnalysedPremises {
    /// The `premises.parquet` read.
    pub path: PathBuf,
    /// The working CRS (from the Parquet metadata).
    pub crs: String,
    /// Per premise: its settlement id (empty: rural).
    pub ids: Vec<String>,
    /// Per premise: its position, in the analysis' working CRS.
    pub xy: Vec<Coord<f64>>,
    /// Per premise: what it has.
    pub outcomes: Vec<Outcome>,
    /// Settlement id per premise (empty: rural).
    pub settlement_id: Vec<String>,
    /// Distance to the nearest fibre in metres (`None` without fibre).
    pub fibre_distance_m: Vec<Option<f64>>,
    /// Per premise: its gap cluster.
    pub gap_id: Vec<Option<u32>>,
    /// Gap kind per premise (`unserved`, `no_fibre`, `no_4g`).
    pub gap_kind: Vec<Option<String>>,
}

fn err(path: &Path, message: impl Into<String>) -> IoError {
    IoError::Table {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

fn series(df: &DataFrame, path: &Path, name: &str, to: &DataType) -> Result<Series> {
    let c = df.column(name).map_err(|_| {
        err(
            path,
            format!(
                "has no column '{name}'; expected the premises.parquet of `gapmap analyze` \
                 (run analyze with --outputs including premises)"
            ),
        )
    })?;
    c.as_materialized_series()
        .strict_cast(to)
        .map_err(|e| err(path, format!("column '{name}': {e}")))
}

/// Reads `DIR/premises.parquet` of an analysis.
pub fn read_analysed_premises(dir: &Path) -> Result<AnalysedPremises> {
    let path = dir.join("premises.parquet");
    super::table::guarded(&path, || read_premises_parquet(dir))
}

fn read_premises_parquet(dir: &Path) -> Result<AnalysedPremises> {
    let path = dir.join("premises.parquet");
    if !path.exists() {
        return Err(IoError::NotFound { path });
    }
    super::table::check_parquet_pages(&path)?;
    let f = File::open(&path).map_err(|e| err(&path, e.to_string()))?;
    let mut reader = ParquetReader::new(f);
    let md = reader
        .get_metadata()
        .map_err(|e| err(&path, e.to_string()))?;
    let crs = md
        .key_value_metadata()
        .as_ref()
        .and_then(|kvs| {
            kvs.iter()
                .find(|kv| kv.key == CRS_METADATA_KEY)
                .and_then(|kv| kv.value.clone())
        })
        .ok_or_else(|| {
            err(
                &path,
                format!("has no '{CRS_METADATA_KEY}' metadata; expected the premises.parquet of `gapmap analyze`"),
            )
        })?;
    let df = reader.finish().map_err(|e| err(&path, e.to_string()))?;
    let p = path.as_path();
    let f64s = |n: &str| -> Result<Vec<Option<f64>>> {
        Ok(series(&df, p, n, &DataType::Float64)?
            .f64()
            .map_err(|e| err(p, e.to_string()))?
            .iter()
            .collect())
    };
    let u32s = |n: &str| -> Result<Vec<Option<u32>>> {
        Ok(series(&df, p, n, &DataType::UInt32)?
            .u32()
            .map_err(|e| err(p, e.to_string()))?
            .iter()
            .collect())
    };
    let bools = |n: &str| -> Result<Vec<Option<bool>>> {
        Ok(series(&df, p, n, &DataType::Boolean)?
            .bool()
            .map_err(|e| err(p, e.to_string()))?
            .iter()
            .collect())
    };
    let strs = |n: &str| -> Result<Vec<Option<String>>> {
        Ok(series(&df, p, n, &DataType::String)?
            .str()
            .map_err(|e| err(p, e.to_string()))?
            .iter()
            .map(|s| s.map(str::to_string))
            .collect())
    };
    let (x, y) = (f64s("x")?, f64s("y")?);
    let n = x.len();
    let mut xy = Vec::with_capacity(n);
    for (i, (x, y)) in x.iter().zip(&y).enumerate() {
        match (x, y) {
            (Some(x), Some(y)) if x.is_finite() && y.is_finite() => xy.push(Coord { x: *x, y: *y }),
            _ => return Err(err(p, format!("row {i}: x or y is missing"))),
        }
    }
    let (hh, wp) = (u32s("households")?, u32s("workplaces")?);
    let (fnet, anet) = (u32s("fibre_networks")?, u32s("aid_networks")?);
    let (m4, m5) = (u32s("mobile_4g_operators")?, u32s("mobile_5g_operators")?);
    let passed = bools("fibre_passed")?;
    let fast = bools("at_100_mbps")?;
    let outcomes = (0..n)
        .map(|i| Outcome {
            households: hh[i].unwrap_or(0),
            workplaces: wp[i].unwrap_or(0),
            fibre_passed: passed[i].unwrap_or(false),
            fibre_networks: fnet[i].unwrap_or(0).min(u16::MAX as u32) as u16,
            aid_networks: anet[i].unwrap_or(0).min(u16::MAX as u32) as u16,
            mobile_4g_operators: m4[i].unwrap_or(0).min(255) as u8,
            mobile_5g_operators: m5[i].unwrap_or(0).min(255) as u8,
            at_100_mbps: fast[i].unwrap_or(false),
        })
        .collect();
    Ok(AnalysedPremises {
        path: path.clone(),
        crs,
        ids: strs("premise_id")?
            .into_iter()
            .map(Option::unwrap_or_default)
            .collect(),
        xy,
        outcomes,
        settlement_id: strs("settlement_id")?
            .into_iter()
            .map(Option::unwrap_or_default)
            .collect(),
        fibre_distance_m: f64s("fibre_distance_m")?,
        gap_id: u32s("gap_id")?,
        gap_kind: strs("gap_kind")?,
    })
}

/// Reads `DIR/run.json`.
pub fn read_run_json(dir: &Path) -> Result<serde_json::Value> {
    let path = dir.join("run.json");
    let text =
        std::fs::read_to_string(&path).map_err(|_| IoError::NotFound { path: path.clone() })?;
    serde_json::from_str(&text).map_err(|e| err(&path, format!("not JSON: {e}")))
}

/// A table as text: header, and rows with `None` for empty cells.
pub type TextTable = (Vec<String>, Vec<Vec<Option<String>>>);

/// A CSV table as text: its header and rows (`None` for empty cells). For reading gapmap's
/// own tables back (settlements.csv, projects.csv, grid tables).
pub fn read_csv_text(path: &Path) -> Result<TextTable> {
    if !path.exists() {
        return Err(IoError::NotFound {
            path: path.to_path_buf(),
        });
    }
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .map_err(|e| err(path, e.to_string()))?
        .finish()
        .map_err(|e| err(path, e.to_string()))?;
    let headers: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let cols: Vec<Vec<Option<String>>> = df
        .columns()
        .iter()
        .map(|c| {
            let s = c
                .as_materialized_series()
                .cast(&DataType::String)
                .map_err(|e| err(path, e.to_string()))?;
            Ok(s.str()
                .map_err(|e| err(path, e.to_string()))?
                .iter()
                .map(|v| v.filter(|v| !v.is_empty()).map(str::to_string))
                .collect())
        })
        .collect::<Result<_>>()?;
    let n = df.height();
    let rows = (0..n)
        .map(|i| cols.iter().map(|c| c[i].clone()).collect())
        .collect();
    Ok((headers, rows))
}

/// Reads a CSV table (e.g. a run's settlements.csv) into typed columns: integers, reals
/// (nulls kept) and text.
pub fn read_csv_columns(path: &Path) -> Result<Vec<(String, Column<'static>)>> {
    let rerr = |e: PolarsError| IoError::Table {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .map_err(rerr)?
        .finish()
        .map_err(rerr)?;
    let mut out = Vec::new();
    for c in df.columns() {
        let s = c.as_materialized_series();
        let col = if s.dtype().is_integer() && s.null_count() == 0 {
            Column::Int(
                s.cast(&DataType::Int64)
                    .map_err(rerr)?
                    .i64()
                    .map_err(rerr)?
                    .into_no_null_iter()
                    .collect(),
            )
        } else if s.dtype().is_primitive_numeric() || s.dtype() == &DataType::Null {
            Column::Float(
                s.cast(&DataType::Float64)
                    .map_err(rerr)?
                    .f64()
                    .map_err(rerr)?
                    .iter()
                    .collect(),
            )
        } else {
            let t = s.cast(&DataType::String).map_err(rerr)?;
            Column::Text(
                t.str()
                    .map_err(rerr)?
                    .iter()
                    .map(|v| v.map(|v| Cow::Owned(v.to_string())))
                    .collect(),
            )
        };
        out.push((c.name().to_string(), col));
    }
    Ok(out)
}
