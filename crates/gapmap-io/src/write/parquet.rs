//! Parquet writing with the encodings chosen per column type, and pages encoded and compressed
//! on the worker pool.
//!
//! polars' own writer tries a dictionary for every column: it estimates the number of distinct
//! values of each floating-point column (to give up on it) and hashes every string to build
//! its dictionary. A profile of the 1 M-premise table showed that work at 40 % of the write.
//! Here:
//!
//! * floating-point columns are written plain (measurements rarely repeat);
//! * 64-bit integer columns whose values never decrease (ids in order) are delta-encoded;
//! * text columns whose rows share a few distinct values are dictionary-encoded from their
//!   views: `gapmap`'s coded text columns give every row of one value the same 16-byte view, so
//!   grouping the views finds the dictionary without hashing any text;
//! * all other columns keep polars' choice (a dictionary for integers when their range is
//!   small, plain otherwise).
//!
//! The file's schema, values, statistics and metadata are what polars writes; only the pages'
//! encodings may differ, which every Parquet reader handles.

use super::output::OutputFile;
use std::io::{BufWriter, Write};
use std::path::Path;

use polars::prelude::{CompatLevel, DataFrame, PolarsError, SchemaExt};
use polars_arrow::array::{Array, ArrayRef, DictionaryArray, PrimitiveArray, Utf8ViewArray};
use polars_arrow::datatypes::{ArrowDataType, ArrowSchema, IntegerType};
use polars_parquet::write::{
    array_to_columns, compress, get_dtype_encoding, schema_to_metadata_key, to_parquet_schema,
    CompressedPage, CompressionOptions, DynIter, DynStreamingIterator, Encoding, FileWriter,
    KeyValue, ParquetType, StatisticsOptions, Version, WriteOptions,
};
use rayon::prelude::*;

/// Rows per row group, about: a table is cut into `rows / ROW_GROUP_ROWS` groups of equal
/// size, as polars does. Half polars' default (512²) and near DuckDB's (122,880): one group of
/// the premise table is then about 15 MB while it is encoded, not 36 MB, and files are 0.3 %
/// larger.
const ROW_GROUP_ROWS: usize = 1 << 17;
/// A text column is dictionary-encoded from its views when a row group has at most this many
/// distinct views, and at most one per `MIN_ROWS_PER_VALUE` rows.
const MAX_DICTIONARY_VALUES: usize = 1 << 16;
const MIN_ROWS_PER_VALUE: usize = 4;

/// Writes a table of `n` rows as zstd-compressed Parquet with `metadata` (key, value) pairs
/// after the Arrow schema. `group(offset, len)` builds it one row group at a time (all with the
/// same schema), so that a table built on request is never held whole; the first group gives
/// the schema (an empty table asks for `group(0, 0)`). Errors are messages for the caller to
/// wrap with the path.
pub(crate) fn write_groups(
    n: usize,
    path: &Path,
    metadata: &[(String, String)],
    group: impl FnMut(usize, usize) -> Result<DataFrame, String>,
) -> Result<(), String> {
    let mut file = OutputFile::create(path).map_err(|e| e.to_string())?;
    match write_groups_to(n, &mut file, metadata, group) {
        // An I/O error underneath (a full disk) is reported as itself, not as the encoder's
        // "Invalid thrift: transport error".
        Err(m) => Err(file.failure_message().map_or(m, str::to_string)),
        Ok(()) => file.finish().map_err(|e| match e {
            crate::error::IoError::Write { message, .. } => message,
            e => e.to_string(),
        }),
    }
}

/// [`write_groups`] into `file`.
fn write_groups_to(
    n: usize,
    file: &mut OutputFile,
    metadata: &[(String, String)],
    mut group: impl FnMut(usize, usize) -> Result<DataFrame, String>,
) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| e.to_string();
    // Equal row groups of about ROW_GROUP_ROWS rows; an empty frame has none (as with polars).
    let group_rows = n.div_ceil((n / ROW_GROUP_ROWS).max(1)).max(1);
    let mut next = Some(group(0, group_rows.min(n))?);
    let schema: ArrowSchema = next
        .as_ref()
        .map(|g| g.schema().to_arrow(CompatLevel::newest()))
        .unwrap_or_default();
    let parquet_schema = to_parquet_schema(&schema).map_err(|e| err(&e))?;
    let options = WriteOptions {
        statistics: StatisticsOptions::default(),
        compression: CompressionOptions::Zstd(None),
        version: Version::V1,
        data_page_size: None,
    };
    let fields: Vec<ParquetType> = parquet_schema.fields().to_vec();
    let mut writer = FileWriter::new_with_parquet_schema(
        BufWriter::new(file),
        schema.clone(),
        parquet_schema,
        options,
    );
    let mut offset = 0;
    while offset < n {
        let len = group_rows.min(n - offset);
        let frame = match next.take() {
            Some(f) => f,
            None => group(offset, len)?,
        };
        if frame.height() != len {
            return Err(format!(
                "row group at row {offset}: {} rows for {len}",
                frame.height()
            ));
        }
        let arrays: Vec<ArrayRef> = frame
            .iter_chunks(CompatLevel::newest(), false)
            .next()
            .map(|batch| batch.into_arrays())
            .unwrap_or_default();
        if arrays.len() != fields.len() {
            return Err(format!(
                "row group at row {offset}: {} columns for {} fields",
                arrays.len(),
                fields.len()
            ));
        }
        // Encode and compress every column's pages on the pool, then write them in order.
        let columns: Vec<Vec<Vec<CompressedPage>>> = arrays
            .par_iter()
            .zip(fields.par_iter())
            .map(|(array, field)| column_pages(array, field, options))
            .collect::<Result<_, String>>()?;
        drop((arrays, frame));
        let row_group = DynIter::new(columns.iter().flatten().map(|pages| {
            Ok(DynStreamingIterator::new(
                polars_parquet::write::fallible_streaming_iterator::convert(
                    pages.iter().map(Ok::<_, PolarsError>),
                ),
            ))
        }));
        writer.write(len as u64, row_group).map_err(|e| err(&e))?;
        offset += len;
    }
    let mut kv = vec![schema_to_metadata_key(&schema)];
    kv.extend(metadata.iter().map(|(k, v)| KeyValue {
        key: k.clone(),
        value: Some(v.clone()),
    }));
    writer.end(Some(kv)).map_err(|e| err(&e))?;
    writer.into_inner().flush().map_err(|e| err(&e))?;
    Ok(())
}

/// The compressed pages of one column of a row group (one list per Parquet leaf column).
fn column_pages(
    array: &ArrayRef,
    field: &ParquetType,
    options: WriteOptions,
) -> Result<Vec<Vec<CompressedPage>>, String> {
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let mut encodings = get_dtype_encoding(array.dtype());
    let dictionary;
    let array: &dyn Array = match array.dtype() {
        ArrowDataType::Float32 | ArrowDataType::Float64 => {
            encodings = vec![Encoding::Plain];
            array.as_ref()
        }
        // Ids in order (premise ids, mostly): their deltas pack into a few bits, where a
        // dictionary of distinct ids is never worth it and plain values leave zstd the work.
        ArrowDataType::Int64 if non_decreasing(array) => {
            encodings = vec![Encoding::DeltaBinaryPacked];
            array.as_ref()
        }
        ArrowDataType::Utf8View => match dictionary_from_views(array) {
            Some(d) => {
                dictionary = d;
                &dictionary
            }
            None => array.as_ref(),
        },
        _ => array.as_ref(),
    };
    let leaves =
        array_to_columns(array, field.clone(), options, &encodings).map_err(|e| err(&e))?;
    leaves
        .into_iter()
        .map(|pages| {
            pages
                .map(|page| {
                    let page = page.map_err(|e| err(&e))?;
                    compress(page, Vec::new(), options.compression).map_err(|e| err(&e))
                })
                .collect()
        })
        .collect()
}

/// True when `array` is an `i64` column without nulls whose values never decrease.
fn non_decreasing(array: &ArrayRef) -> bool {
    array
        .as_any()
        .downcast_ref::<PrimitiveArray<i64>>()
        .is_some_and(|a| a.null_count() == 0 && a.values().windows(2).all(|w| w[0] <= w[1]))
}

/// The column as a dictionary over its distinct views, when it has few: rows of one coded
/// value share one view, so the views are grouped without reading the text. `None` when the
/// views are too many to be worth a dictionary (polars then decides).
fn dictionary_from_views(array: &ArrayRef) -> Option<DictionaryArray<u32>> {
    let strings = array.as_any().downcast_ref::<Utf8ViewArray>()?;
    let n = strings.len();
    let views = strings.views();
    let limit = MAX_DICTIONARY_VALUES.min(n / MIN_ROWS_PER_VALUE + 1);
    // Distinct views in first-seen order; an open-addressing table keyed by the view, hashed
    // by a folded multiply of its two halves and indexed by the top bits.
    let table_bits = (limit * 2).next_power_of_two().max(16).trailing_zeros();
    let mut table: Vec<u32> = vec![u32::MAX; 1 << table_bits];
    let mask = table.len() - 1;
    let hash = |bits: u128| -> usize {
        let p = u128::from((bits as u64) ^ 0x243f_6a88_85a3_08d3)
            * u128::from(((bits >> 64) as u64) ^ 0x1319_8a2e_0370_7344);
        let h = ((p as u64) ^ ((p >> 64) as u64)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        (h >> (64 - table_bits)) as usize
    };
    let mut distinct: Vec<u32> = Vec::new(); // a row holding each distinct view
    let mut keys: Vec<u32> = Vec::with_capacity(n);
    let validity = strings.validity();
    for (row, view) in views.iter().enumerate() {
        if validity.is_some_and(|v| !v.get_bit(row)) {
            keys.push(0);
            continue;
        }
        let bits = view.as_u128();
        let mut i = hash(bits);
        let key = loop {
            let slot = &mut table[i];
            if *slot == u32::MAX {
                if distinct.len() >= limit {
                    return None;
                }
                *slot = distinct.len() as u32;
                distinct.push(row as u32);
                break *slot;
            }
            if views[distinct[*slot as usize] as usize].as_u128() == bits {
                break *slot;
            }
            i = (i + 1) & mask;
        };
        keys.push(key);
    }
    // Two different views may still hold the same text (a text column not built from codes):
    // the dictionary then lists it twice, which Parquet allows, and every row reads back right.
    let texts: Vec<&str> = distinct
        .iter()
        .map(|&r| strings.value(r as usize))
        .collect();
    let values = Utf8ViewArray::from_slice_values(&texts).boxed();
    let keys = PrimitiveArray::<u32>::from_vec(keys).with_validity(validity.cloned());
    DictionaryArray::try_new(
        ArrowDataType::Dictionary(
            IntegerType::UInt32,
            Box::new(ArrowDataType::Utf8View),
            false,
        ),
        keys,
        values,
    )
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(d: &DictionaryArray<u32>) -> Vec<Option<String>> {
        let values = d.values().as_any().downcast_ref::<Utf8ViewArray>().unwrap();
        (0..d.len())
            .map(|i| {
                d.keys()
                    .is_valid(i)
                    .then(|| values.value(d.keys().value(i) as usize).to_string())
            })
            .collect()
    }

    #[test]
    fn a_full_disk_is_named_not_the_encoders_thrift_error() {
        // /dev/full fails every write with ENOSPC, as a full disk does.
        if !Path::new("/dev/full").exists() {
            return;
        }
        let df = polars::df!("x" => (0..1000).collect::<Vec<i64>>()).unwrap();
        let e = write_groups(df.height(), Path::new("/dev/full"), &[], |o, l| {
            Ok(df.slice(o as i64, l))
        })
        .unwrap_err();
        assert!(e.contains("No space left on device"), "{e}");
        assert!(!e.contains("thrift"), "{e}");
    }

    #[test]
    fn dictionary_rows_read_as_before() {
        // Short texts share views; a long text's rows may not (each copy has its own offset).
        let long = "a text longer than the twelve inline bytes";
        let rows: Vec<Option<&str>> = (0..400)
            .map(|i| match i % 5 {
                0 => None,
                1 => Some("no_fibre"),
                2 => Some(long),
                3 => Some(""),
                _ => Some("unserved"),
            })
            .collect();
        let array: ArrayRef =
            polars_arrow::array::MutableBinaryViewArray::<str>::from_iter(rows.iter().copied())
                .freeze()
                .boxed();
        let d = dictionary_from_views(&array).expect("few values");
        let want: Vec<Option<String>> = rows.iter().map(|r| r.map(str::to_string)).collect();
        assert_eq!(decode(&d), want);
        assert!(d.values().len() >= 4);
    }

    #[test]
    fn ids_in_order_are_recognised() {
        let arr = |v: Vec<i64>| -> ArrayRef { PrimitiveArray::<i64>::from_vec(v).boxed() };
        assert!(non_decreasing(&arr(vec![])));
        assert!(non_decreasing(&arr(vec![-3, -3, 0, 7, 7, 1 << 40])));
        assert!(!non_decreasing(&arr(vec![1, 2, 1])));
        let with_null: ArrayRef = PrimitiveArray::<i64>::from(vec![Some(1), None, Some(3)]).boxed();
        assert!(!non_decreasing(&with_null));
        let other: ArrayRef = PrimitiveArray::<u32>::from_vec(vec![1, 2]).boxed();
        assert!(!non_decreasing(&other));
    }

    #[test]
    fn many_distinct_texts_get_no_dictionary() {
        let rows: Vec<String> = (0..1000).map(|i| format!("{i}")).collect();
        let array: ArrayRef = Utf8ViewArray::from_slice_values(&rows).boxed();
        assert!(dictionary_from_views(&array).is_none());
    }
}
