//! Cell sites from a CSV file: any bytes give sites or an error naming the site, never a panic.
#![no_main]

use gapmap_core::radio::{Environment, ModelChoice};
use gapmap_io::read::sites::{read_sites, SiteFields, SiteOptions};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let path = common::file("csv", data);
    let opts = SiteOptions {
        path,
        layer: None,
        fields: SiteFields::default(),
        model: ModelChoice::Auto,
        environment: Environment::Suburban,
        ue_height_m: 1.5,
        extrapolate: false,
        known_operators: Vec::new(),
        filter: None,
    };
    let _ = common::with_context(|ctx| read_sites(&opts, ctx));
});
