//! Reading a layer through GDAL's columnar Arrow stream (`OGR_L_GetArrowStream`, RFC 86,
//! GDAL 3.6 and later): features come in batches of columns, with no OGR feature object per
//! feature crossing into Rust, and each batch's WKB is decoded into `geo` in parallel.
//!
//! **Off by default** ([`crate::ReadContext::columnar`]): on GDAL 3.6 the fuzz targets found
//! the FlatGeobuf stream giving WKB offsets past their buffer and the GeoPackage stream
//! hanging on a malformed file, where the per-feature readers report both in milliseconds
//! (RELIABILITY.md findings 6 and 7). The path stays, tested equal to the per-feature one,
//! for a GDAL whose streams pass the fuzz targets.
//!
//! On GDAL 3.6 GDAL hands over a GeoPackage's features about four times faster this way when
//! they are many and small (1 M points: 0.10 s against 0.44 s for the bare loop; 170 k fibre
//! lines: 0.03 s against 0.11 s), and no faster for a few large polygons (the 2,017 tätorter:
//! 0.05–0.08 s against 0.02–0.05 s). Reading 1 M premises from a GeoPackage takes 0.50–0.54 s
//! instead of 0.78–0.81 s (BENCHMARKS.md). It gives the same
//! features, values and geometries as the per-feature path ([`super::vector`]); a layer read
//! into another CRS is reprojected geometry by geometry through the same PROJ transformation
//! OGR uses there (z = 0), on the reader's thread. The per-feature path is kept where the
//! stream could differ:
//! - drivers not in [`COLUMNAR_DRIVERS`]: FlatGeobuf, whose stream in GDAL 3.6 gave, for a
//!   corrupt file the fuzzer made, a WKB array whose offsets point past its buffer (a
//!   segfault; its per-feature reader reports the file as it should); GeoJSON, whose typed empty geometries the
//!   per-feature path must tell apart from nulls; CSV; PostgreSQL, whose stream in GDAL 3.6
//!   is no faster (1 M premises: 1.65–1.71 s against 1.54–1.67 s feature by feature); and the rest (FileGDB among them), not yet fuzzed;
//! - a read field whose Arrow type could change its value (GDAL exports a `Float32`
//!   subtype as 32-bit floats, where the per-feature path reads the stored double; dates,
//!   lists, binary), and a layer whose FID or geometry column cannot be found.

use gapmap_core::geo::{Coord, Geometry};
use gdal::vector::{FieldValue, LayerAccess};
use polars_arrow::array::{
    Array, BinaryArray, BooleanArray, PrimitiveArray, StructArray, Utf8Array,
};
use polars_arrow::datatypes::ArrowDataType;
use polars_arrow::ffi::{ArrowArrayStream, ArrowArrayStreamReader};
use rayon::prelude::*;

use crate::geom;

/// Drivers read through the Arrow stream.
pub(crate) const COLUMNAR_DRIVERS: [&str; 2] = ["GPKG", "ESRI Shapefile"];

/// Features per batch.
const BATCH: &str = "MAX_FEATURES_IN_BATCH=65536";

/// An open stream, and where its columns are.
pub(crate) struct Stream {
    reader: ArrowArrayStreamReader<Box<ArrowArrayStream>>,
    /// The column of the FID.
    fid: usize,
    /// The column of the geometry (WKB).
    geometry: usize,
    /// Per OGR field index: its column (`None` for a field not read).
    fields: Vec<Option<usize>>,
    /// The number of columns of the schema.
    width: usize,
}

/// One feature's geometry, decoded from its WKB.
#[derive(Debug)]
pub(crate) enum Decoded {
    /// Null or empty.
    None,
    /// Coordinates all finite.
    Geometry(Geometry<f64>),
    /// WKB the decoder cannot read (curves are retried through OGR).
    Unreadable(String),
    /// A coordinate that is not finite.
    NonFinite(Coord<f64>),
    /// Handed to the caller already.
    Taken,
}

/// The WKB of `row` (`None` for null).
fn wkb(col: &dyn Array, row: usize) -> Option<&[u8]> {
    if col.is_null(row) {
        return None;
    }
    if let Some(b) = col.as_any().downcast_ref::<BinaryArray<i32>>() {
        return Some(b.value(row));
    }
    col.as_any()
        .downcast_ref::<BinaryArray<i64>>()
        .map(|b| b.value(row))
}

/// Decodes one WKB value as the per-feature path would read it.
pub(crate) fn decode(wkb: Option<&[u8]>) -> Decoded {
    let Some(bytes) = wkb else {
        return Decoded::None;
    };
    let g = match geom::from_wkb(bytes) {
        Ok(Some(g)) => g,
        Ok(None) => return Decoded::None,
        Err(m) => {
            // Curves: linearised by OGR, as the per-feature path does.
            match gdal::vector::Geometry::from_wkb(bytes)
                .ok()
                .map(|g| geom::from_gdal(&g))
            {
                Some(Ok(Some(g))) => g,
                Some(Ok(None)) => return Decoded::None,
                _ => return Decoded::Unreadable(m),
            }
        }
    };
    // GDAL writes an empty point as (NaN, NaN), and reads it back as empty.
    if let Geometry::Point(p) = &g {
        if p.x().is_nan() && p.y().is_nan() {
            return Decoded::None;
        }
    }
    match geom::first_non_finite(&g) {
        Some(c) => Decoded::NonFinite(c),
        None => Decoded::Geometry(g),
    }
}

/// Whether the stream reads this Arrow type exactly as the per-feature path reads the field.
fn exact(dtype: &ArrowDataType) -> bool {
    matches!(
        dtype.to_storage(),
        ArrowDataType::Int32
            | ArrowDataType::Int64
            | ArrowDataType::Float64
            | ArrowDataType::Boolean
            | ArrowDataType::Utf8
            | ArrowDataType::LargeUtf8
    )
}

impl Stream {
    /// Opens the stream of `layer` (its filter and ignored fields apply), or `None` when the
    /// layer must be read feature by feature (see the module's documentation).
    pub(crate) fn open(
        layer: &mut gdal::vector::OwnedLayer,
        fields: &[String],
        kept: Option<&[bool]>,
        fid_column: Option<&str>,
    ) -> Option<Stream> {
        // polars-arrow panics on a schema whose names are not UTF-8 (fuzzing found a
        // FlatGeobuf with such a field name): those layers are read feature by feature.
        if !names_are_utf8(layer) {
            return None;
        }
        let mut options = gdal::cpl::CslStringList::new();
        options.add_string("INCLUDE_FID=YES").ok()?;
        options.add_string(BATCH).ok()?;
        let mut stream = Box::new(ArrowArrayStream::empty());
        // SAFETY: `stream` is a valid, empty ArrowArrayStream for GDAL to fill in (the C struct
        // of both sides is the Arrow C stream interface).
        unsafe {
            layer
                .read_arrow_stream((&mut *stream as *mut ArrowArrayStream).cast(), &options)
                .ok()?;
        }
        // SAFETY: GDAL filled in the stream per the Arrow C stream interface. A panic in the
        // import (a schema polars-arrow does not expect) falls back to the per-feature path.
        let reader = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe {
            ArrowArrayStreamReader::try_new(stream)
        }))
        .ok()?
        .ok()?;
        let ArrowDataType::Struct(columns) = reader.field().dtype.to_storage() else {
            return None;
        };
        let position = |name: &str| columns.iter().position(|c| c.name.as_str() == name);
        let fid = position(fid_column.unwrap_or("OGC_FID")).or_else(|| position("OGC_FID"))?;
        // FIDs are 64-bit integers in GDAL's stream; anything else is read feature by feature.
        if columns[fid].dtype.to_storage() != &ArrowDataType::Int64 {
            return None;
        }
        let geometry = columns.iter().position(
            |c| matches!(&c.dtype, ArrowDataType::Extension(e) if e.name.as_str() == "ogc.wkb"),
        )?;
        let mut map = Vec::with_capacity(fields.len());
        for (k, name) in fields.iter().enumerate() {
            let read = kept.is_none_or(|kept| kept.get(k) == Some(&true));
            if !read {
                map.push(None);
                continue;
            }
            let col = position(name)?;
            if !exact(&columns[col].dtype) {
                return None;
            }
            map.push(Some(col));
        }
        let width = columns.len();
        Some(Stream {
            reader,
            fid,
            geometry,
            fields: map,
            width,
        })
    }

    /// The next batch, its geometries decoded in parallel; `Err` with GDAL's message.
    pub(crate) fn next_batch(&mut self) -> Option<Result<Batch, String>> {
        // SAFETY: the stream is GDAL's, per the Arrow C stream interface; the arrays it gives
        // are dropped before the stream (each batch is dropped before the next is asked for,
        // and the stream with `self`).
        let next = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe {
            self.reader.next()
        }));
        let array = match next {
            Err(_) => return Some(Err("its Arrow batch could not be imported".into())),
            Ok(None) => return None,
            Ok(Some(Err(e))) => return Some(Err(e.to_string())),
            Ok(Some(Ok(a))) => a,
        };
        let Some(s) = array.as_any().downcast_ref::<StructArray>() else {
            return Some(Err(
                "GDAL's Arrow stream gave a batch that is not a table".into()
            ));
        };
        let columns: Vec<Box<dyn Array>> = s.values().to_vec();
        if columns.len() != self.width {
            return Some(Err(format!(
                "GDAL's Arrow stream gave a batch of {} columns where its schema has {}",
                columns.len(),
                self.width
            )));
        }
        let len = s.len();
        let geometries: Vec<std::cell::RefCell<Decoded>> = {
            let g = columns[self.geometry].as_ref();
            (0..len)
                .into_par_iter()
                .map(|r| decode(wkb(g, r)))
                .collect::<Vec<_>>()
                .into_iter()
                .map(std::cell::RefCell::new)
                .collect()
        };
        Some(Ok(Batch {
            columns,
            fid: self.fid,
            geometry: self.geometry,
            fields: self.fields.clone(),
            geometries,
            len,
        }))
    }
}

/// One batch of features.
pub(crate) struct Batch {
    columns: Vec<Box<dyn Array>>,
    fid: usize,
    geometry: usize,
    fields: Vec<Option<usize>>,
    geometries: Vec<std::cell::RefCell<Decoded>>,
    /// Its number of features.
    pub(crate) len: usize,
}

impl Batch {
    /// The FID of `row`.
    pub(crate) fn fid(&self, row: usize) -> Option<u64> {
        let c = self.columns[self.fid].as_ref();
        if c.is_null(row) {
            return None;
        }
        c.as_any()
            .downcast_ref::<PrimitiveArray<i64>>()
            .and_then(|a| u64::try_from(a.value(row)).ok())
    }

    /// Field `idx` (an OGR field index) of `row`, as the per-feature path gives it: `None`
    /// when null.
    pub(crate) fn field(&self, idx: usize, row: usize) -> Option<FieldValue> {
        let col = self.columns[(*self.fields.get(idx)?)?].as_ref();
        if col.is_null(row) {
            return None;
        }
        let any = col.as_any();
        match col.dtype().to_storage() {
            ArrowDataType::Int32 => any
                .downcast_ref::<PrimitiveArray<i32>>()
                .map(|a| FieldValue::IntegerValue(a.value(row))),
            ArrowDataType::Int64 => any
                .downcast_ref::<PrimitiveArray<i64>>()
                .map(|a| FieldValue::Integer64Value(a.value(row))),
            ArrowDataType::Float64 => any
                .downcast_ref::<PrimitiveArray<f64>>()
                .map(|a| FieldValue::RealValue(a.value(row))),
            ArrowDataType::Boolean => any
                .downcast_ref::<BooleanArray>()
                .map(|a| FieldValue::IntegerValue(i32::from(a.value(row)))),
            ArrowDataType::Utf8 => any
                .downcast_ref::<Utf8Array<i32>>()
                .map(|a| FieldValue::StringValue(a.value(row).to_string())),
            ArrowDataType::LargeUtf8 => any
                .downcast_ref::<Utf8Array<i64>>()
                .map(|a| FieldValue::StringValue(a.value(row).to_string())),
            _ => None,
        }
    }

    /// The decoded geometry of `row`, handed over once (a second call decodes it again).
    pub(crate) fn take_geometry(&self, row: usize) -> Decoded {
        let taken = std::mem::replace(&mut *self.geometries[row].borrow_mut(), Decoded::Taken);
        match taken {
            Decoded::Taken => decode(wkb(self.columns[self.geometry].as_ref(), row)),
            other => other,
        }
    }
}

/// Whether every name GDAL puts in the layer's Arrow schema (fields, geometry, FID) is UTF-8.
fn names_are_utf8(layer: &gdal::vector::OwnedLayer) -> bool {
    let utf8 = |p: *const std::os::raw::c_char| {
        // SAFETY: GDAL's names are NUL-terminated strings owned by the layer definition.
        p.is_null() || unsafe { std::ffi::CStr::from_ptr(p) }.to_str().is_ok()
    };
    // SAFETY: the layer handle is valid while `layer` lives; the definition and its field
    // definitions belong to it, and the indexes are within their counts.
    unsafe {
        let h = layer.c_layer();
        let defn = gdal_sys::OGR_L_GetLayerDefn(h);
        if defn.is_null() || !utf8(gdal_sys::OGR_L_GetFIDColumn(h)) {
            return false;
        }
        (0..gdal_sys::OGR_FD_GetFieldCount(defn)).all(|k| {
            utf8(gdal_sys::OGR_Fld_GetNameRef(gdal_sys::OGR_FD_GetFieldDefn(
                defn, k,
            )))
        }) && (0..gdal_sys::OGR_FD_GetGeomFieldCount(defn)).all(|k| {
            utf8(gdal_sys::OGR_GFld_GetNameRef(
                gdal_sys::OGR_FD_GetGeomFieldDefn(defn, k),
            ))
        })
    }
}

/// Whether `driver` is read through the stream.
pub(crate) fn columnar_driver(driver: &str) -> bool {
    COLUMNAR_DRIVERS.contains(&driver)
}
