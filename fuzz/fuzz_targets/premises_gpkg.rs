//! Premises from a GeoPackage file: any bytes give premises or an error, never a panic or a hang.
//! Read as gapmap reads it (feature by feature: GDAL 3.6's Arrow stream for this driver failed
//! this target, RELIABILITY.md findings 6 and 7).
#![no_main]

#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::premises("gpkg", data));
