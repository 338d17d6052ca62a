//! Helpers shared by the CLI test files that include this module.
#![allow(dead_code, reason = "each test file uses some of the helpers")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or benchmark fails by panicking"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use polars::prelude::*;

pub fn gapmap() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gapmap"));
    c.env_remove("GAPMAP_DATA");
    c
}

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

pub fn run<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    gapmap().args(args).output().expect("run gapmap")
}

/// Runs gapmap and asserts that it succeeded.
pub fn ok<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    let o = run(args);
    assert!(
        o.status.success(),
        "gapmap {:?} failed: {}",
        args.iter()
            .map(|a| a.as_ref().to_string_lossy())
            .collect::<Vec<_>>(),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn read_csv(path: &Path) -> DataFrame {
    CsvReadOptions::default()
        .with_has_header(true)
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .unwrap()
        .finish()
        .unwrap()
}

pub fn read_parquet(path: &Path) -> DataFrame {
    ParquetReader::new(std::fs::File::open(path).unwrap())
        .finish()
        .unwrap()
}

/// A column cast to `dtype`.
fn cast(df: &DataFrame, name: &str, dtype: &DataType) -> Series {
    df.column(name)
        .unwrap_or_else(|_| panic!("no column {name}"))
        .as_materialized_series()
        .cast(dtype)
        .unwrap()
}

/// A column as whole numbers (nulls as -1).
pub fn ints(df: &DataFrame, name: &str) -> Vec<i64> {
    cast(df, name, &DataType::Int64)
        .i64()
        .unwrap()
        .iter()
        .map(|v| v.unwrap_or(-1))
        .collect()
}

pub fn floats(df: &DataFrame, name: &str) -> Vec<Option<f64>> {
    cast(df, name, &DataType::Float64)
        .f64()
        .unwrap()
        .iter()
        .collect()
}

pub fn strs(df: &DataFrame, name: &str) -> Vec<String> {
    cast(df, name, &DataType::String)
        .str()
        .unwrap()
        .iter()
        .map(|v| v.unwrap_or("").to_string())
        .collect()
}

/// A column as text, `None` for nulls.
pub fn opt_strs(df: &DataFrame, name: &str) -> Vec<Option<String>> {
    cast(df, name, &DataType::String)
        .str()
        .unwrap()
        .iter()
        .map(|v| v.map(str::to_string))
        .collect()
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write_file(dir: &Path, name: &str, text: String) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

pub fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

pub const X0: f64 = 500_000.0;
pub const Y0: f64 = 6_700_000.0;

/// A GeoJSON FeatureCollection in EPSG:3006 from (properties JSON, geometry JSON) pairs;
/// coordinates in the geometry are offsets from (X0, Y0), written as `[dx,dy]`.
pub fn geojson_3006(features: &[(&str, String)]) -> String {
    let feats: Vec<String> = features
        .iter()
        .map(|(props, geom)| {
            format!(r#"{{"type":"Feature","properties":{{{props}}},"geometry":{geom}}}"#)
        })
        .collect();
    format!(
        r#"{{"type":"FeatureCollection","crs":{{"type":"name","properties":{{"name":"urn:ogc:def:crs:EPSG::3006"}}}},"features":[{}]}}"#,
        feats.join(",")
    )
}

pub fn pt(x: f64, y: f64) -> String {
    format!(
        r#"{{"type":"Point","coordinates":[{},{}]}}"#,
        X0 + x,
        Y0 + y
    )
}

pub fn line(coords: &[(f64, f64)]) -> String {
    let c: Vec<String> = coords
        .iter()
        .map(|(x, y)| format!("[{},{}]", X0 + x, Y0 + y))
        .collect();
    format!(r#"{{"type":"LineString","coordinates":[{}]}}"#, c.join(","))
}

pub fn square(x: f64, y: f64, s: f64) -> String {
    let (a, b, c, d) = (X0 + x, Y0 + y, X0 + x + s, Y0 + y + s);
    format!(
        r#"{{"type":"Polygon","coordinates":[[[{a},{b}],[{c},{b}],[{c},{d}],[{a},{d}],[{a},{b}]]]}}"#
    )
}

/// The layers of a map.html (`gapmap report`): its inline data, parsed.
pub fn map_layers(map_html: &Path) -> Vec<serde_json::Value> {
    let html = std::fs::read_to_string(map_html).unwrap();
    let start = html
        .find(r#"<script type="application/json" id="data">"#)
        .unwrap();
    let body = &html[start..];
    let body = &body[body.find('>').unwrap() + 1..body.find("</script>").unwrap()];
    serde_json::from_str::<serde_json::Value>(body)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}
