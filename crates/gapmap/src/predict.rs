//! `gapmap predict`: predicted mobile coverage from cell sites: coverage polygons per operator
//! and technology (for `analyze --mobile`), and with `--premises` the best server and
//! per-operator RSRP of every premise, and what each site's failure cuts off.

use std::path::PathBuf;
use std::time::Instant;

use gapmap_core::radio::grid::{coverage_layers, rows_to_visit};
use gapmap_core::radio::predict::{predict_all, SiteIndex};
use gapmap_io::read::PremiseIds;
use gapmap_io::write::features::Column;
use gapmap_io::write::features::GeomRef;
use gapmap_io::write::geojson::write_geojson;
use gapmap_io::write::gpkg::{write_gpkg, OutLayer, MULTI_POLYGON, POINT};
use gapmap_io::write::postgis::DbTable;

/// The tables `--out-db` writes.
const DB_TABLES: [&str; 2] = ["predicted_coverage", "predicted_sites"];
use gapmap_io::write::staging::{check_output_dir, Staging};
use gapmap_io::{write::tables, ReadContext};
use serde_json::json;

use crate::analyze::Clock;
use crate::bundled;
use crate::error::{Error, Result};
use crate::premise_plan::PremisePlan;
use crate::progress;
use crate::progress::Bar;
use crate::radio::{self, SitePlan};
use crate::run_info::{utc_now, RunInfo};
use std::fmt::Write as _;

/// `gapmap predict` options.
#[derive(Debug)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct PredictPlan {
    /// Cell-site options (with `--sites`).
    #[cfg_attr(feature = "clap", command(flatten))]
    pub radio: SitePlan,
    /// Premises to predict at (points or buildings, or a Parquet/CSV table with x/y columns).
    /// With neither --sites nor --premises, the bundled region's sites and premises.
    #[cfg_attr(feature = "clap", arg(long, value_name = "PATH"))]
    pub premises: Option<PathBuf>,
    /// How to read the premises.
    #[cfg_attr(feature = "clap", command(flatten))]
    pub premise: PremisePlan,
    /// Cell size of the coverage grid, metres (cells are aligned to multiples of it).
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            value_name = "M",
            default_value_t = 50.0,
            allow_negative_numbers = true
        )
    )]
    pub grid_m: f64,
    /// Output directory.
    #[cfg_attr(
        feature = "clap",
        arg(long, value_name = "DIR", default_value = "gapmap-predict")
    )]
    pub out: PathBuf,
    /// Working CRS: projected, in metres; `auto`: SWEREF 99 TM where the sites lie in Sweden,
    /// otherwise the WGS 84 / UTM zone of their centre.
    #[cfg_attr(
        feature = "clap",
        arg(long, value_name = "CRS", default_value = "auto")
    )]
    pub crs: String,
    /// CRS of inputs that carry none.
    #[cfg_attr(feature = "clap", arg(long, value_name = "CRS"))]
    pub assume_crs: Option<String>,
    /// Replace gapmap's files in an existing, non-empty output directory.
    #[cfg_attr(feature = "clap", arg(long))]
    pub overwrite: bool,
    /// The coverage and the sites into PostGIS too, as tables `predicted_coverage` and
    /// `predicted_sites` (`--out-db`, `--db-schema`).
    #[cfg_attr(feature = "clap", command(flatten))]
    pub db: crate::database::DbPlan,
    /// Worker threads [default: all cores].
    #[cfg_attr(feature = "clap", arg(long, value_name = "N"))]
    pub threads: Option<usize>,
    /// Write a cell-site CSV with every field and an example row to FILE, list the fields
    /// with their units, and stop (nothing is predicted).
    #[cfg_attr(feature = "clap", arg(long, value_name = "FILE"))]
    pub sites_template: Option<PathBuf>,
}

/// `gapmap predict`: predicted coverage from cell sites; returns the terminal summary.
pub fn run(mut args: PredictPlan) -> Result<String> {
    if let Some(path) = &args.sites_template {
        return sites_template(path, args.overwrite);
    }
    let mut summary = String::new();
    let started_utc = utc_now();
    let t0 = Instant::now();
    let bundled = args.radio.sites.is_none() && args.premises.is_none();
    if bundled {
        let region = bundled::locate().map_err(Error::Usage)?;
        progress::notice(&format!(
            "no inputs given; predicting for the bundled region in {}",
            region.dir.display()
        ));
        args.radio.sites = Some(region.sites);
        args.premises = Some(region.premises);
    }
    args.radio.validate(true)?;
    if !(args.grid_m >= 1.0 && args.grid_m <= 10_000.0) {
        return Err(Error::Usage(format!(
            "--grid-m must be between 1 and 10000 metres, got {}",
            args.grid_m
        )));
    }
    check_output_dir(&args.out, args.overwrite)?;
    args.db.check("predict", &DB_TABLES, args.overwrite)?;
    let sites_path = args.radio.sites.clone().unwrap_or_default();
    let (crs, crs_notice) = crate::analyze::auto_crs::resolve(
        &args.crs,
        &sites_path,
        args.radio.sites_layer.as_deref(),
        "--sites-layer",
        args.assume_crs.as_deref(),
        None,
    )?;
    if let Some(n) = &crs_notice {
        progress::notice(n);
    }
    let ctx = ReadContext::from_flags(&crs, args.assume_crs.as_deref(), false)?;
    crate::threads::init_global(args.threads)?;
    let mut clock = Clock::new();

    // Read.
    let spin = Bar::spinner("reading sites");
    let (sites, dem) = args
        .radio
        .read(&ctx, &[])?
        .ok_or_else(|| Error::usage("--sites is needed"))?;
    args.premise.validate()?;
    let (premises, population) = match &args.premises {
        Some(p) => {
            let (premises, population) = args.premise.read(p, &ctx)?;
            (Some(premises), population)
        }
        None => (None, None),
    };
    spin.finish();
    if let Some(d) = &dem {
        let xy = premises.as_ref().map_or(&[][..], |p| &p.xy[..]);
        args.radio.check_dem_covers(&d.dem, &sites, xy)?;
    }
    clock.lap("read");
    let mut notices: Vec<String> = sites.notices.clone();
    if let Some(p) = &premises {
        notices.extend(p.notices.iter().cloned());
    }
    for n in &notices {
        progress::notice(n);
    }

    // Predict.
    let params = args.radio.params();
    let index = SiteIndex::new(&sites.sites, params, dem.as_ref().map(|d| &d.dem));
    let silent: Vec<&str> = sites
        .ids
        .iter()
        .zip(index.radius_m())
        .filter(|(_, &r)| r == 0.0)
        .map(|(id, _)| id.as_str())
        .collect();
    if !silent.is_empty() {
        let n = format!(
            "{} sites reach the threshold nowhere (their EIRP is too low), e.g. '{}'",
            silent.len(),
            silent[0]
        );
        progress::notice(&n);
        notices.push(n);
    }
    clock.lap("index");
    let prediction = premises.as_ref().map(|p| {
        let bar = Bar::new(p.xy.len() as u64, "premises");
        let r = predict_all(&index, &p.xy, sites.operators.len(), &bar);
        bar.finish();
        r
    });
    clock.lap("premises");
    let bar = Bar::new(rows_to_visit(&index, args.grid_m), "coverage grid");
    let layers = coverage_layers(&index, args.grid_m, &bar);
    bar.finish();
    clock.lap("coverage");

    // Write.
    let mut staging = Staging::begin(&args.out, args.overwrite)?;
    let mut outputs: Vec<String> = Vec::new();
    let coverage = radio::coverage_table(&layers, &sites.operators, args.grid_m);
    let qml = radio::coverage_qml(&layers, &sites.operators);
    {
        let path = staging.file("coverage.qml");
        std::fs::write(&path, &qml).map_err(|e| crate::error::write_error(path, e))?;
    }
    write_geojson(
        &staging.file("coverage.geojson"),
        "coverage",
        &ctx.target,
        &coverage,
    )?;
    write_gpkg(
        &staging.file("coverage.gpkg"),
        &ctx.target,
        &[OutLayer {
            name: "coverage",
            geometry_type: MULTI_POLYGON,
            table: &coverage,
            qml: Some(qml.clone()),
        }],
    )?;
    outputs.extend(["coverage.geojson", "coverage.qml", "coverage.gpkg"].map(String::from));
    let mut df = tables::frame_from_columns(&radio::sites_table(
        &sites,
        index.radius_m(),
        prediction.as_ref(),
    ))?;
    tables::write_csv(&mut df, &staging.file("sites.csv"))?;
    outputs.push("sites.csv".into());
    let mut critical_summary = None;
    if let (Some(p), Some(pred)) = (&premises, &prediction) {
        let mut cols: Vec<(String, Column<'_>)> = vec![
            (
                "premise_id".into(),
                match &p.ids {
                    PremiseIds::Int(v) => Column::Int(v.clone()),
                    PremiseIds::Str(v) => {
                        Column::Text(v.iter().map(|s| Some(s.as_str().into())).collect())
                    }
                },
            ),
            (
                "x".into(),
                Column::Float(p.xy.iter().map(|c| Some(c.x)).collect()),
            ),
            (
                "y".into(),
                Column::Float(p.xy.iter().map(|c| Some(c.y)).collect()),
            ),
            (
                "households".into(),
                Column::Int(p.households.iter().map(|&h| i64::from(h)).collect()),
            ),
        ];
        cols.extend(radio::premise_columns(pred, &sites, true));
        let mut df = tables::frame_from_columns(&cols)?;
        tables::write_csv(&mut df, &staging.file("premise_prediction.csv"))?;
        tables::write_parquet(
            &mut df,
            &staging.file("premise_prediction.parquet"),
            Some(ctx.target.label()),
        )?;
        let crit = radio::critical_sites(&pred.premises, &sites, p, None, None);
        let mut cdf = tables::frame_from_columns(&crit.table(&sites, None))?;
        tables::write_csv(&mut cdf, &staging.file("critical_sites.csv"))?;
        tables::write_parquet(&mut cdf, &staging.file("critical_sites.parquet"), None)?;
        outputs.extend(
            [
                "premise_prediction.csv",
                "premise_prediction.parquet",
                "critical_sites.csv",
                "critical_sites.parquet",
            ]
            .map(String::from),
        );
        let covered4 = pred.premises.iter().filter(|r| r.sites_4g > 0).count();
        let covered5 = pred.premises.iter().filter(|r| r.sites_5g > 0).count();
        let single = pred.premises.iter().filter(|r| r.sites_4g == 1).count();
        let extrapolated = pred.premises.iter().filter(|r| r.extrapolated).count();
        critical_summary = Some(json!({
            "premises": p.xy.len(),
            "premises_4g": covered4,
            "premises_5g": covered5,
            "premises_single_4g_site": single,
            "premises_extrapolated": extrapolated,
            "worst_site": crit.ranked.first().map(|&i| json!({
                "site_id": sites.ids[i as usize],
                "premises_cut": crit.premises_cut[i as usize],
            })),
        }));
    }
    clock.lap("write");
    let mut timings = clock.phases.clone();
    timings.push(clock.total(t0));
    let mut inputs = vec![sites.info.clone()];
    if let Some(d) = &dem {
        inputs.push(d.info.clone());
    }
    if let Some(p) = &premises {
        inputs.push(p.info.clone());
    }
    if let Some((_, info)) = &population {
        inputs.push(info.clone());
    }
    let mut totals = std::collections::BTreeMap::new();
    totals.insert("sites".to_string(), sites.sites.len() as u64);
    totals.insert("coverage_layers".to_string(), layers.len() as u64);
    let mut parameters = serde_json::to_value(args.radio.parameters())
        .map_err(|e| Error::Internal(e.to_string()))?;
    parameters["bundled_region"] = json!(bundled);
    parameters["grid_m"] = json!(args.grid_m);
    parameters["crs"] = json!(ctx.target.label());
    parameters["threads"] = json!(rayon::current_num_threads());
    parameters["out"] = json!(args.out.display().to_string());
    let run: RunInfo<serde_json::Value, serde_json::Value> = RunInfo {
        tool: "gapmap".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        command: "predict".into(),
        started_utc,
        parameters,
        working_crs: ctx.target.label().to_string(),
        inputs,
        fibre_networks: Vec::new(),
        mobile_operators: sites.operators.clone(),
        mobile_technologies: Vec::new(),
        notices,
        totals,
        resilience: None,
        prediction: critical_summary.clone(),
        population: population.map(|(p, _)| p),
        database: args.db.record("predict", &DB_TABLES)?,
        timings_s: timings,
        tiles: None,
        outputs: outputs
            .iter()
            .cloned()
            .chain(["run.json".to_string()])
            .collect(),
        files: staging.digests(&[])?,
        plan: None,
    };
    let record_path = staging.file("run.json");
    crate::run_info::write_json(&run, &record_path)?;
    if args.db.out_db.is_some() {
        let (columns, _) = tables::columns_from_frame(&df)?;
        let site_table = gapmap_io::write::features::FeatureTable {
            columns,
            geometries: sites
                .sites
                .iter()
                .map(|s| GeomRef::Owned(gapmap_core::geo::Geometry::Point(s.xy.into())))
                .collect(),
        };
        args.db.write_with_record(
            "predict",
            &ctx.target,
            vec![
                DbTable::of_features(DB_TABLES[0], MULTI_POLYGON, &coverage, Some(qml.clone())),
                DbTable::of_features(DB_TABLES[1], POINT, &site_table, None),
            ],
            &record_path,
            args.overwrite,
        )?;
    }
    let written = staging.commit()?;

    let _ = writeln!(
        summary,
        "\n{} sites of {} operators; coverage on a {} m grid:",
        sites.sites.len(),
        sites.operators.len(),
        args.grid_m
    );
    for l in &layers {
        let _ = writeln!(
            summary,
            "  {:<24} {:>12.1} km²",
            format!(
                "{} {}",
                sites.operators[l.operator as usize],
                radio::tech_name(l.tech)
            ),
            l.cells as f64 * args.grid_m * args.grid_m / 1e6
        );
    }
    if let Some(s) = &critical_summary {
        let n = s["premises"].as_u64().unwrap_or(0).max(1) as f64;
        let pct = |k: &str| 100.0 * s[k].as_u64().unwrap_or(0) as f64 / n;
        let _ = writeln!(
            summary,
            "Premises: {:.1} % with 4G, {:.1} % with 5G, {:.1} % on a single 4G site.",
            pct("premises_4g"),
            pct("premises_5g"),
            pct("premises_single_4g_site")
        );
    }
    let _ = writeln!(
        summary,
        "Wrote {} files to {} in {:.2} s.",
        written.len(),
        args.out.display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(summary)
}

/// `--sites-template FILE`: the template, and the fields as a table for the terminal.
fn sites_template(path: &std::path::Path, overwrite: bool) -> Result<String> {
    use gapmap_io::read::sites::{write_site_template, SITE_TEMPLATE};
    if path.exists() && !overwrite {
        return Err(Error::Usage(format!(
            "{}: exists; give --overwrite to replace it",
            path.display()
        )));
    }
    write_site_template(path)?;
    let mut s = format!(
        "Wrote {}: one example carrier; fill in a row per carrier (read it with --sites {} --assume-crs EPSG:4326).\n\n",
        path.display(),
        path.display()
    );
    let _ = writeln!(s, "{:<17} {:<8} {:<29} meaning", "field", "unit", "needed");
    for (field, unit, needed, meaning, _) in SITE_TEMPLATE {
        let _ = writeln!(s, "{field:<17} {unit:<8} {needed:<29} {meaning}");
    }
    let _ = writeln!(
        s,
        "\nAnother field name: --site-<field>-field (e.g. --site-height-field hojd). A mast below 30 m gets TR 38.901 with --model auto."
    );
    Ok(s)
}
