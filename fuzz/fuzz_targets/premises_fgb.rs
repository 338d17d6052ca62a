//! Premises from a FlatGeobuf file, read through GDAL's Arrow stream (`read::columnar`):
//! any bytes give premises or an error, never a panic.
#![no_main]

#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::premises("fgb", data));
