//! Premises from a geojson file: any bytes give premises or an error, never a panic.
#![no_main]

use gapmap_io::read::{read_premises, PremiseOptions};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let path = common::file("geojson", data);
    let opts = PremiseOptions::from_flags(&path, None, None, None, None, "x", "y");
    let _ = read_premises(&opts, &common::context());
});
