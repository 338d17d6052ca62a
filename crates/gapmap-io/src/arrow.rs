//! Arrow tables in and out of gapmap through the Arrow C stream interface: what pyarrow,
//! polars, DuckDB and GeoPandas hand over (`__arrow_c_stream__`), and what gapmap hands back.
//!
//! Tables cross as [`ArrowArrayStream`]s of record batches (struct arrays), imported into and
//! exported from polars [`DataFrame`]s without copying the buffers. Geometries cross as WKB
//! columns ([`features_frame`]).

use polars::prelude::{
    BinaryChunked, Column as PColumn, CompatLevel, DataFrame, IntoColumn, SchemaExt, Series,
};
use polars_arrow::array::{Array, StructArray};
use polars_arrow::datatypes::{ArrowDataType, Field};
pub use polars_arrow::ffi::ArrowArrayStream;
use polars_arrow::ffi::{export_iterator, ArrowArrayStreamReader};

use crate::error::{IoError, Result};
use crate::write::features::{Column, FeatureTable};

fn table_error(what: &str, message: impl std::fmt::Display) -> IoError {
    IoError::Table {
        path: what.into(),
        message: message.to_string(),
    }
}

/// Reads every batch of `stream` (a table: batches of struct arrays) into a data frame. `what`
/// names the table in errors (e.g. `premises (pyarrow table)`).
///
/// # Safety
/// `stream` must hold a stream that fulfils the Arrow C stream interface (as one taken from a
/// producer's `__arrow_c_stream__` does); it is released when read.
pub unsafe fn import_stream(stream: Box<ArrowArrayStream>, what: &str) -> Result<DataFrame> {
    // SAFETY: the caller guarantees the stream is valid.
    let mut reader = unsafe { ArrowArrayStreamReader::try_new(stream) }
        .map_err(|e| table_error(what, format!("not an Arrow stream: {e}")))?;
    let fields = match reader.field().dtype() {
        ArrowDataType::Struct(fields) => fields.clone(),
        other => {
            return Err(table_error(
                what,
                format!("an Arrow table has a struct schema, this stream has {other:?}"),
            ))
        }
    };
    for f in &fields {
        if let ArrowDataType::Extension(ext) = f.dtype() {
            return Err(table_error(
                what,
                format!(
                    "column '{}' has the Arrow extension type '{}'; gapmap reads its storage (WKB as binary)",
                    f.name, ext.name
                ),
            ));
        }
    }
    let mut chunks: Vec<Vec<Box<dyn Array>>> = vec![Vec::new(); fields.len()];
    // SAFETY: the reader checked the stream; each batch is imported by polars-arrow's FFI.
    while let Some(batch) = unsafe { reader.next() } {
        let batch = batch.map_err(|e| table_error(what, e))?;
        let Some(s) = batch.as_any().downcast_ref::<StructArray>() else {
            return Err(table_error(what, "a batch is not a struct array"));
        };
        if s.null_count() > 0 {
            return Err(table_error(what, "a batch has null rows"));
        }
        for (k, values) in s.values().iter().enumerate() {
            if let Some(c) = chunks.get_mut(k) {
                c.push(values.clone());
            }
        }
    }
    let mut columns = Vec::with_capacity(fields.len());
    let mut height = 0;
    for (field, arrays) in fields.iter().zip(chunks) {
        let s = if arrays.is_empty() {
            Series::new_empty(
                field.name.clone(),
                &polars::prelude::DataType::from_arrow_field(field),
            )
        } else {
            Series::try_from((field.name.clone(), arrays))
                .map_err(|e| table_error(what, format!("column '{}': {e}", field.name)))?
        };
        height = s.len();
        columns.push(s.into_column());
    }
    DataFrame::new(height, columns).map_err(|e| table_error(what, e))
}

/// `df` as an Arrow C stream (strings and binary as large types, which every consumer reads).
pub fn export_frame(df: &DataFrame, what: &str) -> Result<ArrowArrayStream> {
    let mut df = df.clone();
    df.align_chunks_par();
    let compat = CompatLevel::oldest();
    let schema = df.schema().to_arrow(compat);
    let fields: Vec<Field> = schema.iter_values().cloned().collect();
    let dtype = ArrowDataType::Struct(fields);
    let mut batches: Vec<polars::prelude::PolarsResult<Box<dyn Array>>> = Vec::new();
    for batch in df.iter_chunks(compat, true) {
        let len = batch.len();
        let arrays = batch.into_arrays();
        let s = StructArray::try_new(dtype.clone(), len, arrays, None)
            .map_err(|e| table_error(what, e))?;
        batches.push(Ok(s.boxed()));
    }
    Ok(export_iterator(
        Box::new(batches.into_iter()),
        Field::new("".into(), dtype, false),
    ))
}

/// `table` as a data frame: its columns, then its geometries as ISO WKB in a column named
/// `geometry` (in the writer's CRS; the caller says which).
pub fn features_frame(table: &FeatureTable<'_>) -> Result<DataFrame> {
    let mut columns: Vec<PColumn> = table
        .columns
        .iter()
        .map(|(name, c)| match c {
            Column::Int(v) => PColumn::new(name.into(), v.as_slice()),
            Column::IntOpt(v) => PColumn::new(name.into(), v.as_slice()),
            Column::Float(v) => PColumn::new(name.into(), v.as_slice()),
            Column::Text(v) => PColumn::new(
                name.into(),
                v.iter()
                    .map(|s| s.as_deref())
                    .collect::<Vec<Option<&str>>>(),
            ),
        })
        .collect();
    let wkb: Vec<Vec<u8>> = {
        use rayon::prelude::*;
        table.geometries.par_iter().map(|g| g.wkb()).collect()
    };
    let geometry: BinaryChunked = wkb.iter().map(|w| Some(w.as_slice())).collect();
    let geometry = geometry.with_name("geometry".into());
    columns.push(geometry.into_column());
    DataFrame::new(table.geometries.len(), columns).map_err(|e| table_error("features", e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::write::features::GeomRef;
    use gapmap_core::geo::{Geometry, Point};

    #[test]
    fn a_frame_goes_out_and_back_unchanged() {
        let df = DataFrame::new(
            3,
            vec![
                PColumn::new("id".into(), &[1i64, 2, 3]),
                PColumn::new("name".into(), &[Some("a"), None, Some("c")]),
                PColumn::new("share".into(), &[0.5f64, f64::NAN, 1.0]),
                PColumn::new("ok".into(), &[true, false, true]),
            ],
        )
        .unwrap();
        let stream = export_frame(&df, "t").unwrap();
        let back = unsafe { import_stream(Box::new(stream), "t") }.unwrap();
        assert_eq!(back.shape(), (3, 4));
        // Strings come back as they went (large types become polars' own).
        assert!(back.equals_missing(&df), "{back:?} vs {df:?}");
    }

    #[test]
    fn an_empty_frame_keeps_its_schema() {
        let df = DataFrame::new(0, vec![PColumn::new("id".into(), Vec::<i64>::new())]).unwrap();
        let back =
            unsafe { import_stream(Box::new(export_frame(&df, "t").unwrap()), "t") }.unwrap();
        assert_eq!(back.shape(), (0, 1));
        assert_eq!(back.get_column_names()[0].as_str(), "id");
    }

    #[test]
    fn features_carry_wkb_that_reads_back() {
        let g = Geometry::Point(Point::new(1.5, -2.0));
        let t = FeatureTable {
            columns: vec![("k".into(), Column::Int(vec![7]))],
            geometries: vec![GeomRef::Owned(g.clone())],
        };
        let df = features_frame(&t).unwrap();
        let bin = df.column("geometry").unwrap().binary().unwrap().clone();
        let back = crate::geom::from_wkb(bin.get(0).unwrap()).unwrap().unwrap();
        assert_eq!(back, g);
    }
}
