//! The WKB decoder (GeoParquet premises, every geometry GDAL hands over): any bytes give a
//! geometry or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = gapmap_io::geom::from_wkb(data);
});
