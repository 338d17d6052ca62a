//! Premises from a csv file: any bytes give premises or an error, never a panic.
#![no_main]

use gapmap_io::read::{read_premises, PremiseOptions};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::quiet_caught_panics();
    let path = common::file("csv", data);
    let opts = PremiseOptions::from_flags(&path, None, None, None, None, "x", "y");
    let _ = read_premises(&opts, &common::context());
});
