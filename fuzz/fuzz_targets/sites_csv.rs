//! Cell sites from a CSV file: any bytes give sites or an error naming the site, never a panic.
#![no_main]

use gapmap_core::radio::{Environment, ModelChoice};
use gapmap_io::read::sites::{read_sites, SiteFields, SiteOptions};
use gapmap_io::read::FieldChoice;
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let path = common::file("csv", data);
    let f = |n: &str, flag: &'static str| FieldChoice::new(None, n, flag);
    let opts = SiteOptions {
        path,
        layer: None,
        fields: SiteFields {
            id: f("site_id", "--site-id-field"),
            operator: f("operator", "--site-operator-field"),
            tech: f("tech", "--site-tech-field"),
            height: f("height_m", "--site-height-field"),
            frequency: f("frequency_mhz", "--site-frequency-field"),
            eirp: f("eirp_dbm", "--site-eirp-field"),
            power: f("power_dbm", "--site-power-field"),
            gain: f("antenna_gain_dbi", "--site-gain-field"),
            azimuth: f("azimuth_deg", "--site-azimuth-field"),
            beamwidth: f("beamwidth_deg", "--site-beamwidth-field"),
            tilt: f("tilt_deg", "--site-tilt-field"),
            bandwidth: f("bandwidth_mhz", "--site-bandwidth-field"),
        },
        model: ModelChoice::Auto,
        environment: Environment::Suburban,
        ue_height_m: 1.5,
        extrapolate: false,
        known_operators: Vec::new(),
    };
    let _ = read_sites(&opts, &common::context());
});
