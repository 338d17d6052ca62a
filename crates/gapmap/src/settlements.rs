//! `gapmap settlements --from-premises`: settlement polygons derived from premises the way
//! SCB delimits tätorter (premises no more than 200 m apart, at least 200 inhabitants), for
//! places where no settlement polygons exist. The output feeds `gapmap analyze --settlements`.

use std::borrow::Cow;
use std::path::PathBuf;
use std::time::Instant;

use gapmap_core::geo::Area;
use gapmap_core::settlement;
use gapmap_io::write::features::{Column, FeatureTable, GeomRef};
use gapmap_io::write::geojson::write_geojson;
use gapmap_io::write::gpkg::{write_gpkg, OutLayer, MULTI_POLYGON};
use gapmap_io::write::staging::{check_output_dir, Staging};
use gapmap_io::{write::tables, ReadContext};
use serde_json::json;

use crate::error::{check_number, Result};
use crate::premise_plan::PremisePlan;
use crate::progress;
use crate::run_info::utc_now;
use std::fmt::Write as _;

/// `gapmap settlements` options.
#[derive(Debug)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct SettlementsPlan {
    /// Premises (any GDAL vector format, or CSV/Parquet points) to derive settlements from.
    #[cfg_attr(feature = "clap", arg(long, value_name = "PATH"))]
    pub from_premises: PathBuf,
    /// How to read the premises.
    #[cfg_attr(feature = "clap", command(flatten))]
    pub premise: PremisePlan,
    /// Working CRS (projected, metres); `auto`: SWEREF 99 TM where the premises lie in Sweden,
    /// otherwise the WGS 84 / UTM zone of their centre.
    #[cfg_attr(
        feature = "clap",
        arg(long, value_name = "CRS", default_value = "auto")
    )]
    pub crs: String,
    /// CRS of inputs that do not declare one.
    #[cfg_attr(feature = "clap", arg(long, value_name = "CRS"))]
    pub assume_crs: Option<String>,
    /// Premises no more than this far apart, in metres, are one settlement (SCB: 200 m).
    #[cfg_attr(feature = "clap", arg(long, value_name = "M", default_value_t = 200.0))]
    pub link_m: f64,
    /// Smallest population of a settlement (SCB tätort: 200; småort: 50).
    #[cfg_attr(feature = "clap", arg(long, value_name = "N", default_value_t = 200.0))]
    pub min_population: f64,
    /// The outline extends this far beyond the outermost premises, in metres.
    #[cfg_attr(feature = "clap", arg(long, value_name = "M", default_value_t = 50.0))]
    pub margin_m: f64,
    /// Output directory.
    #[cfg_attr(
        feature = "clap",
        arg(long, value_name = "DIR", default_value = "gapmap-settlements")
    )]
    pub out: PathBuf,
    /// Replace gapmap's files in an existing, non-empty output directory.
    #[cfg_attr(feature = "clap", arg(long))]
    pub overwrite: bool,
}

/// `gapmap settlements`: settlements derived from premises; returns the terminal summary.
pub fn run(args: SettlementsPlan) -> Result<String> {
    let mut summary = String::new();
    let t0 = Instant::now();
    let started_utc = utc_now();
    for (flag, v, positive) in [
        ("--link-m", args.link_m, true),
        ("--min-population", args.min_population, false),
        ("--margin-m", args.margin_m, true),
    ] {
        check_number(flag, v, 0.0, !positive)?;
    }
    check_output_dir(&args.out, args.overwrite)?;
    let (crs, notice) = crate::analyze::auto_crs::resolve(
        &args.crs,
        &args.from_premises,
        args.premise.premises_layer.as_deref(),
        "--premises-layer",
        args.assume_crs.as_deref(),
        Some((args.premise.x_field.as_str(), args.premise.y_field.as_str())),
    )?;
    if let Some(n) = &notice {
        progress::notice(n);
    }
    let ctx = ReadContext::from_flags(&crs, args.assume_crs.as_deref(), false)?;
    let target = &ctx.target;
    args.premise.validate()?;
    let (premises, spread) = args.premise.read(&args.from_premises, &ctx)?;
    for n in &premises.notices {
        progress::notice(n);
    }
    // People: the persons spread from `--population`, else households x persons per household.
    let population: Vec<f64> = match &premises.persons {
        Some(persons) => persons.iter().map(|&p| f64::from(p)).collect(),
        None => premises
            .households
            .iter()
            .map(|&h| f64::from(h) * args.premise.persons_per_household)
            .collect(),
    };
    let derived = settlement::derive(
        &premises.xy,
        &population,
        args.link_m,
        args.min_population,
        args.margin_m,
    );

    let n = derived.len();
    let sum = |f: &dyn Fn(usize) -> u64| -> Vec<i64> {
        derived
            .iter()
            .map(|d| d.premises.iter().map(|&i| f(i as usize)).sum::<u64>() as i64)
            .collect()
    };
    let ids: Vec<String> = (1..=n).map(|k| format!("D{k:05}")).collect();
    let columns: Vec<(String, Column<'static>)> = vec![
        (
            "id".into(),
            Column::Text(ids.iter().map(|s| Some(Cow::Owned(s.clone()))).collect()),
        ),
        (
            "name".into(),
            Column::Text(
                ids.iter()
                    .map(|s| Some(Cow::Owned(format!("derived {s}"))))
                    .collect(),
            ),
        ),
        (
            "premises".into(),
            Column::Int(derived.iter().map(|d| d.premises.len() as i64).collect()),
        ),
        (
            "households".into(),
            Column::Int(sum(&|i| u64::from(premises.households[i]))),
        ),
        (
            "workplaces".into(),
            Column::Int(sum(&|i| u64::from(premises.workplaces[i]))),
        ),
        (
            "population".into(),
            Column::Int(
                derived
                    .iter()
                    .map(|d| d.population.round() as i64)
                    .collect(),
            ),
        ),
        (
            "area_km2".into(),
            Column::Float(
                derived
                    .iter()
                    .map(|d| Some(d.area.unsigned_area() / 1e6))
                    .collect(),
            ),
        ),
    ];
    let table = FeatureTable {
        columns: columns.clone(),
        geometries: derived
            .iter()
            .map(|d| GeomRef::MultiPolygon(&d.area))
            .collect(),
    };
    let in_settlements: usize = derived.iter().map(|d| d.premises.len()).sum();
    let mut staging = Staging::begin(&args.out, args.overwrite)?;
    write_gpkg(
        &staging.file("settlements.gpkg"),
        target,
        &[OutLayer {
            name: "settlements",
            geometry_type: MULTI_POLYGON,
            table: &table,
            qml: None,
        }],
    )?;
    write_geojson(
        &staging.file("settlements.geojson"),
        "settlements",
        target,
        &table,
    )?;
    let mut df = tables::frame_from_columns(&columns)?;
    tables::write_csv(&mut df, &staging.file("settlements.csv"))?;
    let record = json!({
        "tool": "gapmap",
        "version": env!("CARGO_PKG_VERSION"),
        "command": "settlements",
        "started_utc": started_utc,
        "working_crs": target.label(),
        "inputs": std::iter::once(&premises.info)
            .chain(spread.as_ref().map(|(_, info)| info))
            .collect::<Vec<_>>(),
        "population": spread.as_ref().map(|(p, _)| p),
        "parameters": {
            "link_m": args.link_m,
            "min_population": args.min_population,
            "persons_per_household": args.premise.persons_per_household,
            "margin_m": args.margin_m,
        },
        "settlements": n,
        "premises": premises.xy.len(),
        "premises_in_settlements": in_settlements,
        "seconds": t0.elapsed().as_secs_f64(),
        "outputs": ["settlements.gpkg", "settlements.geojson", "settlements.csv", "run.json"],
    });
    crate::run_info::write_json(&record, &staging.file("run.json"))?;
    staging.commit()?;
    let _ = writeln!(summary,
        "{n} settlements (at least {} people, premises within {} m) hold {in_settlements} of {} premises; wrote {} in {:.1} s",
        args.min_population,
        args.link_m,
        premises.xy.len(),
        args.out.display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(summary)
}
