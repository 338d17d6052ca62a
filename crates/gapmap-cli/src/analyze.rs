//! `gapmap analyze`: read, analyse, write.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Instant;

use anyhow::{Context, Result};
use gapmap_core::fibre::{self, FibreIndex, FibreReach};
use gapmap_core::gaps::{self, GapCluster, GapKind};
use gapmap_core::geo::{LineString, MultiPolygon};
use gapmap_core::mobile::{self, MobileCover, MobileIndex};
use gapmap_core::par::SpatialOrder;
use gapmap_core::polygon_index::PolygonIndex;
use gapmap_core::radio::predict::{predict_all, Prediction, PremiseRadio, SiteIndex};
use gapmap_core::settlement;
use gapmap_core::simplify::{simplify_multi_polygon, simplify_multi_polygon_in_place};
use gapmap_core::summary::{self, Tally};
use gapmap_core::Params;
use gapmap_io::features::{Column, FeatureTable, GeomRef};
use gapmap_io::geojson::write_geojson;
use gapmap_io::inputs::{
    read_backbone, read_fibre, read_mobile, read_premises, read_settlements, BackboneOptions,
    Fibre, FibreOptions, FieldChoice, Mobile, MobileOptions, Premises, SettlementOptions,
    Settlements,
};
use gapmap_io::raster::DemInput;
use gapmap_io::sites::Sites;
use gapmap_io::staging::{check_output_dir, Staging};
use gapmap_io::vector_out::MULTI_POLYGON;
use gapmap_io::vector_out::{write_gpkg, OutLayer};
use gapmap_io::{style, tables, Crs, ReadContext};
use rayon::prelude::*;
use serde_json::json;

use crate::policy::{self, Policy, PolicyArgs};
use crate::premise_args::PremiseFields;
use crate::progress::Bar;
use crate::radio::{self, SiteArgs};
use crate::resilience::{self as res, ResilienceArgs};
use crate::runinfo::{utc_now, Phase, RunInfo};
use crate::{bundled, memory, terminal, UsageError};

/// `gapmap analyze` options. With no input flags at all, runs on the bundled region.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Premises: points or building polygons (any GDAL vector format), or a Parquet/CSV table
    /// with x/y columns.
    #[arg(long, value_name = "PATH")]
    pub premises: Option<PathBuf>,
    #[command(flatten)]
    pub premise: PremiseFields,
    /// Settlement polygons, e.g. SCB tätorter.
    #[arg(long, value_name = "PATH")]
    pub settlements: Option<PathBuf>,
    #[arg(long, value_name = "NAME")]
    pub settlements_layer: Option<String>,
    /// Fibre network: lines (routes) and points (nodes). Repeat for several files.
    #[arg(long, value_name = "PATH")]
    pub fibre: Vec<PathBuf>,
    /// Layer(s) to read from each fibre file; repeat for several, e.g. lines and nodes.
    #[arg(long, value_name = "NAME")]
    pub fibre_layer: Vec<String>,
    /// Mobile coverage polygons, one (operator, technology) pair per feature. Repeatable.
    #[arg(long, value_name = "PATH")]
    pub mobile: Vec<PathBuf>,
    /// Layer(s) to read from each mobile file; repeatable.
    #[arg(long, value_name = "NAME")]
    pub mobile_layer: Vec<String>,
    /// Output directory.
    #[arg(long, value_name = "DIR", default_value = "gapmap-out")]
    pub out: PathBuf,
    /// Working CRS: projected, in metres. All inputs are reprojected into it.
    #[arg(long, value_name = "CRS", default_value = "EPSG:3006")]
    pub crs: String,
    /// CRS of inputs that carry none (CSV, Parquet without metadata, Shapefile without .prj).
    #[arg(long, value_name = "CRS")]
    pub assume_crs: Option<String>,
    /// A premise is fibre passed when fibre is at most this far away, in metres.
    #[arg(
        long,
        value_name = "M",
        default_value_t = 50.0,
        allow_negative_numbers = true
    )]
    pub drop_distance_m: f64,
    /// Gap premises within this distance of each other form one gap cluster, in metres.
    #[arg(
        long,
        value_name = "M",
        default_value_t = 200.0,
        allow_negative_numbers = true
    )]
    pub gap_cluster_m: f64,
    /// Gap polygons extend this far beyond their premises, in metres.
    #[arg(
        long,
        value_name = "M",
        default_value_t = 25.0,
        allow_negative_numbers = true
    )]
    pub gap_margin_m: f64,
    /// Replace gapmap's files in an existing, non-empty output directory.
    #[arg(long)]
    pub overwrite: bool,
    /// Make invalid polygons an error instead of repairing them.
    #[arg(long)]
    pub strict: bool,
    /// Settlement id field [default: id; absent: feature id].
    #[arg(long, value_name = "FIELD")]
    pub settlement_id_field: Option<String>,
    /// Settlement name field [default: name; absent: empty].
    #[arg(long, value_name = "FIELD")]
    pub settlement_name_field: Option<String>,
    /// Fibre field with the network (owner) [default: network; absent: one unknown network].
    #[arg(long, value_name = "FIELD")]
    pub fibre_network_field: Option<String>,
    /// Mobile field with the operator [default: operator].
    #[arg(long, value_name = "FIELD")]
    pub mobile_operator_field: Option<String>,
    /// Mobile field with the technology: 4G/LTE, 5G/NR, others kept but not counted
    /// [default: tech].
    #[arg(long, value_name = "FIELD")]
    pub mobile_tech_field: Option<String>,
    /// Worker threads [default: all cores].
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Simplify the outlines in settlements.geojson and gaps.geojson by this tolerance
    /// (Douglas-Peucker), in metres, to keep the web maps light; 0 keeps full resolution.
    /// Analyses and gapmap.gpkg always use full resolution.
    #[arg(long, value_name = "M", default_value_t = 2.0)]
    pub map_simplify_m: f64,
    /// Outputs to write, comma-separated (run.json is always written).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "tables,premises,maps"
    )]
    pub outputs: Vec<Output>,
    /// Also write gapmap.gpkg: the settlement and gap layers at full resolution, in the working
    /// CRS, with their QGIS styles (QGIS also styles the GeoJSON maps by their .qml files).
    #[arg(long)]
    pub gpkg: bool,
    #[command(flatten)]
    pub resilience: ResilienceArgs,
    #[command(flatten)]
    pub radio: SiteArgs,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

impl Args {
    fn has_inputs(&self) -> bool {
        self.premises.is_some()
            || self.settlements.is_some()
            || !self.fibre.is_empty()
            || !self.mobile.is_empty()
            || self.radio.sites.is_some()
    }
}

/// The inputs read on the mobile thread: mobile polygons (with their index), cell sites with
/// their DEM, policy.
type OtherInputs = (
    Option<(Mobile, MobileIndex)>,
    Option<(Sites, Option<DemInput>)>,
    Policy,
);

/// Records the wall time and peak resident memory of each phase.
pub(crate) struct Clock {
    pub(crate) phases: Vec<Phase>,
    last: Instant,
    last_cpu_ticks: Option<u64>,
    peaks: memory::PhasePeaks,
}

impl Clock {
    pub(crate) fn new() -> Clock {
        Clock {
            phases: Vec::new(),
            last: Instant::now(),
            last_cpu_ticks: memory::cpu_ticks(),
            peaks: memory::PhasePeaks::start(),
        }
    }
    pub(crate) fn lap(&mut self, phase: &str) {
        let now = Instant::now();
        let cpu_ticks = memory::cpu_ticks();
        self.phases.push(Phase {
            phase: phase.to_string(),
            seconds: (now - self.last).as_secs_f64(),
            peak_rss_mib: self.peaks.lap().map(|b| b as f64 / (1u64 << 20) as f64),
            cpu_s: cpu_ticks
                .zip(self.last_cpu_ticks)
                .map(|(c, l)| memory::ticks_to_seconds(c.saturating_sub(l))),
        });
        self.last = now;
        self.last_cpu_ticks = cpu_ticks;
    }
    /// The whole run: total time and peak.
    pub(crate) fn total(&self, since: Instant) -> Phase {
        Phase {
            phase: "total".into(),
            seconds: since.elapsed().as_secs_f64(),
            peak_rss_mib: memory::peak_rss_bytes().map(|b| b as f64 / (1u64 << 20) as f64),
            // The whole process, reading the command line included.
            cpu_s: memory::cpu_seconds(),
        }
    }
}

/// The indexes the kernels query.
struct Indexes {
    /// The premises along a Hilbert curve: kernels visit them in this order, so that
    /// neighbouring queries share index nodes in cache.
    order: SpatialOrder,
    settlements: PolygonIndex,
    fibre: Option<FibreIndex>,
    mobile: Option<MobileIndex>,
}

/// Everything the analysis computed, per premise and per settlement.
struct Results {
    pub settlement: Vec<Option<u32>>,
    pub fibre: Option<Vec<FibreReach>>,
    pub mobile: Vec<MobileCover>,
    /// Coverage by the polygons alone, when cell sites also count (else empty).
    pub mobile_polygons: Vec<MobileCover>,
    pub gap_kind: Vec<Option<GapKind>>,
    pub clusters: Vec<GapCluster>,
    pub outlines: Vec<gapmap_core::geo::MultiPolygon<f64>>,
    pub gap_id: Vec<Option<u32>>,
    pub tallies: Vec<Tally>,
    pub outcomes: Vec<summary::Outcome>,
    pub aid_areas: Option<gapmap_core::aid::AidAreas>,
    /// Planned network features that count (within the horizon).
    pub planned_counted: usize,
}

pub fn run(mut args: Args) -> Result<()> {
    let started_utc = utc_now();
    let t0 = Instant::now();
    let bundled = !args.has_inputs();
    if bundled {
        let region = bundled::locate().map_err(UsageError)?;
        eprintln!(
            "note: no inputs given; analysing the bundled region in {}",
            region.dir.display()
        );
        args.premises = Some(region.premises);
        args.settlements = Some(region.settlements);
        args.fibre = vec![region.fibre];
        args.fibre_layer = region.fibre_layers;
        args.mobile = vec![region.mobile];
        if args.resilience.backbone.is_none() && region.backbone.exists() {
            args.resilience.backbone = Some(region.backbone);
        }
        args.settlement_id_field
            .get_or_insert(region.settlement_id_field.into());
        args.settlement_name_field
            .get_or_insert(region.settlement_name_field.into());
    }
    let (Some(premises_path), Some(settlements_path)) =
        (args.premises.clone(), args.settlements.clone())
    else {
        return Err(UsageError("both --premises and --settlements are needed (or no inputs at all, for the bundled region)".into()).into());
    };
    let params = Params {
        drop_distance_m: args.drop_distance_m,
        gap_cluster_m: args.gap_cluster_m,
        gap_margin_m: args.gap_margin_m,
    };
    params.validate().map_err(|e| match e {
        // Name the flag the user typed.
        gapmap_core::CoreError::InvalidParameter {
            name,
            expected,
            value,
        } => UsageError(format!(
            "--{} must be {expected}, got {value}",
            name.replace('_', "-")
        )),
        other => UsageError(other.to_string()),
    })?;
    args.resilience.validate(!args.fibre.is_empty())?;
    args.radio.validate(false)?;
    let goals = args.policy.validate()?;
    if !(args.map_simplify_m >= 0.0 && args.map_simplify_m.is_finite()) {
        return Err(UsageError("--map-simplify-m must be a finite number >= 0".into()).into());
    }
    if args.threads == Some(0) {
        return Err(UsageError("--threads must be at least 1".into()).into());
    }
    check_output_dir(&args.out, args.overwrite)?;
    let ctx = ReadContext::from_flags(&args.crs, args.assume_crs.as_deref(), args.strict)?;

    // The global pool, so that every parallel kernel (and index building) uses --threads.
    rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build_global()
        .context("cannot start worker threads")?;
    analyze(
        &args,
        bundled,
        &premises_path,
        &settlements_path,
        &ctx,
        params,
        goals,
        started_utc,
        t0,
    )
}

#[allow(clippy::too_many_arguments)]
fn analyze(
    args: &Args,
    bundled: bool,
    premises_path: &std::path::Path,
    settlements_path: &std::path::Path,
    ctx: &ReadContext,
    params: Params,
    goals: Vec<gapmap_core::goals::Goal>,
    started_utc: String,
    t0: Instant,
) -> Result<()> {
    let mut clock = Clock::new();
    // Read: settlements on this thread, premises on a second, fibre on a third and mobile (with
    // cell sites and policy layers) on a fourth. Each layer's index is built as soon as the
    // layer is in, while the others are still being read: "read" includes the indexes.
    // GDAL reads a layer on one thread, but several files at once; its CRS objects stay on
    // their own thread. The premises (Parquet, mostly) read while the settlement outlines are
    // validated on the worker pool.
    let portable = ctx.portable();
    // The fibre geometry is needed past its index only to trace paths to the backbone and to
    // merge the fixed and planned networks into the state-aid reach.
    let fibre_geometry_needed = args.resilience.backbone.is_some()
        || !args.policy.fixed.is_empty()
        || !args.policy.planned.is_empty();
    // Without the GeoPackage, the full-resolution outlines serve only to make the web maps'
    // simplified copies. Each is simplified in place and trimmed as soon as it is made (the
    // settlements once indexed, the gap and aid outlines as they are drawn): one small copy is
    // held, not a large one, and the map writers start at once.
    let early_simplify_m =
        (args.outputs.contains(&Output::Maps) && !args.gpkg && args.map_simplify_m > 0.0)
            .then_some(args.map_simplify_m);
    let spin = Bar::spinner("reading inputs".into());
    let ((settlements, settlement_index), premises, fibre, mobile, backbone_in, sites_in, policy) =
        std::thread::scope(|scope| -> Result<_> {
            let fibre_reader = scope.spawn(|| -> Result<Option<(Fibre, FibreIndex)>> {
                let ctx = portable.context()?;
                let fibre = (!args.fibre.is_empty())
                    .then(|| {
                        read_fibre(
                            &FibreOptions::fibre(
                                args.fibre.clone(),
                                args.fibre_layer.clone(),
                                FieldChoice::new(
                                    args.fibre_network_field.as_deref(),
                                    "network",
                                    "--fibre-network-field",
                                ),
                                args.resilience
                                    .fibre_srlg_field
                                    .as_deref()
                                    .map(|f| FieldChoice::new(Some(f), f, "--fibre-srlg-field")),
                            ),
                            &ctx,
                        )
                    })
                    .transpose()?;
                // Indexed here (rstar's bulk load is sequential) while the pool validates
                // and indexes the other layers. The index holds its own copy of the lines: the
                // features are let go unless something later reads them, so that the memory
                // serves the kernels' results instead of fresh pages.
                Ok(fibre.map(|mut f| {
                    let index = FibreIndex::new(&f.features);
                    if !fibre_geometry_needed {
                        retire(std::mem::take(&mut f.features));
                    }
                    (f, index)
                }))
            });
            let other = scope.spawn(|| -> Result<OtherInputs> {
                let ctx = portable.context()?;
                let mut mobile = (!args.mobile.is_empty())
                    .then(|| {
                        read_mobile(
                            &MobileOptions {
                                paths: args.mobile.clone(),
                                layers: args.mobile_layer.clone(),
                                operator_field: FieldChoice::new(
                                    args.mobile_operator_field.as_deref(),
                                    "operator",
                                    "--mobile-operator-field",
                                ),
                                tech_field: FieldChoice::new(
                                    args.mobile_tech_field.as_deref(),
                                    "tech",
                                    "--mobile-tech-field",
                                ),
                            },
                            &ctx,
                        )
                    })
                    .transpose()?;
                // Indexed here, on the pool, while the fibre is still being read. The index
                // holds its own copy of the polygons; nothing later reads the features'.
                let mobile_index = mobile
                    .as_mut()
                    .map(|m| {
                        let index = MobileIndex::new(&m.features);
                        retire(std::mem::take(&mut m.features));
                        index
                    })
                    .transpose()?;
                let known: Vec<String> = mobile
                    .as_ref()
                    .map(|m| m.operators.clone())
                    .unwrap_or_default();
                let sites = args.radio.read(&ctx, &known)?;
                let policy = args
                    .policy
                    .read(&ctx, args.fibre_network_field.as_deref(), goals)?;
                Ok((mobile.zip(mobile_index), sites, policy))
            });
            let (premise_options, portable) = (args.premise.options(premises_path), &portable);
            // The premises' order for the kernels is made here too, beside the other readers.
            let premise_reader = scope.spawn(move || -> Result<_> {
                let ctx = portable.context()?;
                let premises = read_premises(&premise_options, &ctx)?;
                let order = SpatialOrder::new(&premises.xy);
                Ok((premises, order))
            });
            let mut settlements = read_settlements(
                &SettlementOptions {
                    path: settlements_path.to_path_buf(),
                    layer: args.settlements_layer.clone(),
                    id_field: FieldChoice::new(
                        args.settlement_id_field.as_deref(),
                        "id",
                        "--settlement-id-field",
                    ),
                    name_field: FieldChoice::new(
                        args.settlement_name_field.as_deref(),
                        "name",
                        "--settlement-name-field",
                    ),
                    population_field: None,
                },
                ctx,
            )?;
            // Indexed on the pool while the other inputs are still being read.
            let settlement_index = PolygonIndex::new(&settlements.areas);
            if let Some(tolerance_m) = early_simplify_m {
                simplify_all_in_place(&mut settlements.areas, tolerance_m);
            }
            let premises = premise_reader
                .join()
                .map_err(|_| anyhow::anyhow!("the premise reader thread panicked"))??;
            let backbone = args
                .resilience
                .backbone
                .as_ref()
                .map(|path| {
                    read_backbone(
                        &BackboneOptions {
                            path: path.clone(),
                            layer: args.resilience.backbone_layer.clone(),
                            name_field: FieldChoice::new(
                                args.resilience.backbone_name_field.as_deref(),
                                "name",
                                "--backbone-name-field",
                            ),
                        },
                        ctx,
                    )
                })
                .transpose()?;
            let fibre = fibre_reader
                .join()
                .map_err(|_| anyhow::anyhow!("the fibre reader thread panicked"))??;
            let (mobile, sites, policy) = other
                .join()
                .map_err(|_| anyhow::anyhow!("the input reader thread panicked"))??;
            Ok((
                (settlements, settlement_index),
                premises,
                fibre,
                mobile,
                backbone,
                sites,
                policy,
            ))
        })?;
    spin.finish();
    let (premises, order) = premises;
    let (mobile_in, mobile_index) = mobile.unzip();
    let (fibre_in, fibre_index) = fibre.unzip();
    clock.lap("read");
    let mut notices: Vec<String> = Vec::new();
    notices.extend(settlements.notices.iter().cloned());
    notices.extend(premises.notices.iter().cloned());
    if let Some(f) = &fibre_in {
        notices.extend(f.notices.iter().cloned());
    } else {
        notices.push("no fibre layer (--fibre): no premise counts as fibre passed".into());
    }
    if let Some(m) = &mobile_in {
        notices.extend(m.notices.iter().cloned());
    } else if sites_in.is_none() {
        notices.push("no mobile layer (--mobile) and no cell sites (--sites): no premise counts as covered by 4G or 5G".into());
    }
    if let Some((s, _)) = &sites_in {
        notices.extend(s.notices.iter().cloned());
    }
    for extra in [&policy.fixed, &policy.planned].into_iter().flatten() {
        notices.extend(extra.notices.iter().cloned());
    }
    for n in &notices {
        eprintln!("note: {n}");
    }

    // Predicted coverage from cell sites (with --sites).
    let site_prediction = sites_in.as_ref().map(|(sites, dem)| {
        let index = SiteIndex::new(
            &sites.sites,
            args.radio.params(),
            dem.as_ref().map(|d| &d.dem),
        );
        let bar = Bar::new(premises.xy.len() as u64, "cell sites");
        let p = predict_all(&index, &premises.xy, 0, &bar);
        bar.finish();
        p
    });
    if site_prediction.is_some() {
        clock.lap("sites");
    }

    // Analyse.
    let indexes = Indexes {
        order,
        settlements: settlement_index,
        fibre: fibre_index,
        mobile: mobile_index,
    };
    let resilience_on = backbone_in.is_some() && fibre_in.is_some();
    let (results, kept_settlement_index) = compute(
        &premises,
        &settlements,
        indexes,
        resilience_on,
        fibre_in.as_ref(),
        &policy,
        site_prediction.as_ref().map(|p| p.premises.as_slice()),
        params,
        // Outlines are drawn only for the map outputs.
        args.outputs.contains(&Output::Maps) || args.gpkg,
        early_simplify_m,
        &mut clock,
    );

    if let Some(p) = &policy.planned {
        let n = format!(
            "planned networks: {} of {} features are due by {} (--aid-year {} + 3) and count for the state-aid class",
            results.planned_counted,
            p.features.len(),
            policy.aid_year + gapmap_core::aid::PLANNING_HORIZON_YEARS,
            policy.aid_year
        );
        eprintln!("note: {n}");
        notices.push(n);
    }

    // Resilience (with --backbone).
    let resilience = match (&backbone_in, &fibre_in, &kept_settlement_index) {
        (Some(bb), Some(f), Some(settlement_index)) => {
            let spin = Bar::spinner("fibre resilience".into());
            let o = res::run(
                f,
                bb,
                settlement_index,
                &premises,
                &results.settlement,
                params.drop_distance_m,
                &args.resilience,
            );
            spin.finish();
            clock.lap("resilience");
            if !o.unattached.is_empty() {
                let n = format!(
                    "backbone: {} of {} points are farther than --backbone-snap-m ({} m) from any fibre and attach to nothing: {}",
                    o.unattached.len(),
                    bb.points.len(),
                    args.resilience.backbone_snap_m,
                    o.unattached.iter().take(10).cloned().collect::<Vec<_>>().join(", ")
                );
                eprintln!("note: {n}");
                notices.push(n);
            }
            Some(o)
        }
        _ => None,
    };

    let mut staging = Staging::begin(&args.out, args.overwrite)?;
    let cell_sites = match (&sites_in, &site_prediction) {
        (Some((s, _)), Some(p)) => Some((s, p)),
        _ => None,
    };
    let crs_label = ctx.target.label().to_string();
    let premises_path = staging.file("premises.parquet");
    let outputs = std::thread::scope(|scope| -> Result<Vec<String>> {
        // The settlement index, kept for resilience, is not needed past this point. Freeing
        // it runs beside the first outputs rather than before them.
        scope.spawn(move || drop(kept_settlement_index));
        // The premise table on its own thread from here on: it is the longest single output,
        // and it needs none of the outlines simplified next.
        let premises_job = args.outputs.contains(&Output::Premises).then(|| {
            let rows = tables::PremiseRows {
                ids: &premises.ids,
                xy: &premises.xy,
                settlement_ids: &settlements.ids,
                settlement: &results.settlement,
                households: &premises.households,
                workplaces: &premises.workplaces,
                fibre: results.fibre.as_deref(),
                mobile: &results.mobile,
                gap_kind: &results.gap_kind,
                gap_id: &results.gap_id,
                outcomes: &results.outcomes,
                fibre_redundancy: resilience
                    .as_ref()
                    .map(|o| o.result.premise_class.as_slice()),
            };
            let (path, crs_label) = (&premises_path, &crs_label);
            scope.spawn(move || write_premise_table(&rows, cell_sites, path, crs_label))
        });
        // The tolerance still to apply when writing the web maps (none if the outlines were
        // simplified as they were made).
        let map_simplify_m = if early_simplify_m.is_some() {
            0.0
        } else {
            args.map_simplify_m
        };
        let outputs = write_outputs(
            &mut staging,
            &premises,
            &settlements,
            &results,
            fibre_in.as_ref(),
            resilience.as_ref(),
            cell_sites,
            mobile_in.is_some(),
            &policy,
            &ctx.target,
            map_simplify_m,
            args,
        )?;
        if let Some(job) = premises_job {
            job.join()
                .map_err(|_| anyhow::anyhow!("the premise table writer panicked"))??;
        }
        Ok(outputs)
    })?;
    clock.lap("write");

    let totals = totals(&results);
    let mut inputs = vec![settlements.info.clone(), premises.info.clone()];
    if let Some(f) = &fibre_in {
        inputs.extend(f.infos.iter().cloned());
    }
    if let Some(m) = &mobile_in {
        inputs.extend(m.infos.iter().cloned());
    }
    if let Some(info) = backbone_in.as_ref().and_then(|b| b.info.clone()) {
        inputs.push(info);
    }
    if let Some((s, dem)) = &sites_in {
        inputs.push(s.info.clone());
        if let Some(d) = dem {
            inputs.push(d.info.clone());
        }
    }
    for extra in [&policy.fixed, &policy.planned].into_iter().flatten() {
        inputs.extend(extra.infos.iter().cloned());
    }
    let mut timings = clock.phases.clone();
    timings.push(clock.total(t0));
    let run = RunInfo {
        tool: "gapmap",
        version: env!("CARGO_PKG_VERSION"),
        command: "analyze",
        started_utc,
        parameters: json!({
            "bundled_region": bundled,
            "crs": ctx.target.label(),
            "assume_crs": ctx.assume_crs.as_ref().map(|c| c.label().to_string()),
            "drop_distance_m": params.drop_distance_m,
            "gap_cluster_m": params.gap_cluster_m,
            "gap_margin_m": params.gap_margin_m,
            "strict": args.strict,
            "threads": rayon::current_num_threads(),
            "settlements_layer": args.settlements_layer,
            "fibre_layer": args.fibre_layer,
            "mobile_layer": args.mobile_layer,
            "settlement_id_field": args.settlement_id_field.as_deref().unwrap_or("id"),
            "settlement_name_field": args.settlement_name_field.as_deref().unwrap_or("name"),
            "fibre_network_field": args.fibre_network_field.as_deref().unwrap_or("network"),
            "mobile_operator_field": args.mobile_operator_field.as_deref().unwrap_or("operator"),
            "mobile_tech_field": args.mobile_tech_field.as_deref().unwrap_or("tech"),
            "out": args.out.display().to_string(),
            "overwrite": args.overwrite,
            "gpkg": args.gpkg,
            "map_simplify_m": args.map_simplify_m,
            "outputs": args.outputs.iter().map(|o| format!("{o:?}").to_lowercase()).collect::<Vec<_>>(),
            "resilience": args.resilience.parameters(),
            "premises_layer": args.premise.premises_layer,
            "households_field": args.premise.households_field.as_deref().unwrap_or("households"),
            "workplaces_field": args.premise.workplaces_field.as_deref().unwrap_or("workplaces"),
            "premise_id_field": args.premise.premise_id_field.as_deref().unwrap_or("id"),
            "x_field": args.premise.x_field,
            "y_field": args.premise.y_field,
            "sites": args.radio.sites.as_ref().map(|_| args.radio.parameters()),
            "policy": policy.parameters(&args.policy),
        }),
        working_crs: ctx.target.label().to_string(),
        inputs,
        fibre_networks: fibre_in
            .as_ref()
            .map(|f| f.networks.clone())
            .unwrap_or_default(),
        mobile_operators: match (&sites_in, &mobile_in) {
            (Some((s, _)), _) => s.operators.clone(),
            (None, Some(m)) => m.operators.clone(),
            (None, None) => Vec::new(),
        },
        mobile_technologies: mobile_in
            .as_ref()
            .map(|m| m.tech_values.clone())
            .unwrap_or_default(),
        notices,
        totals: totals.clone(),
        resilience: resilience
            .as_ref()
            .zip(args.resilience.backbone.as_ref())
            .map(|(o, p)| o.summary(p)),
        prediction: site_prediction.as_ref().map(|p| {
            let count =
                |f: &dyn Fn(&PremiseRadio) -> bool| p.premises.iter().filter(|r| f(r)).count();
            json!({
                "sites": sites_in.as_ref().map_or(0, |s| s.0.sites.len()),
                "premises_4g_by_sites": count(&|r| r.sites_4g > 0),
                "premises_5g_by_sites": count(&|r| r.sites_5g > 0),
                "premises_single_4g_site": count(&|r| r.sites_4g == 1),
                "premises_extrapolated": count(&|r| r.extrapolated),
            })
        }),
        timings_s: timings,
        outputs: outputs
            .iter()
            .chain(std::iter::once(&"run.json".to_string()))
            .cloned()
            .collect(),
    };
    let run_path = staging.file("run.json");
    let text = serde_json::to_string_pretty(&run).context("run.json")? + "\n";
    std::fs::write(&run_path, text).map_err(|e| gapmap_io::IoError::Write {
        path: run_path,
        message: e.to_string(),
    })?;
    let written = staging.commit()?;

    terminal::print_summary(
        &settlements,
        &results.tallies,
        &totals,
        written.len(),
        &args.out,
        t0.elapsed().as_secs_f64(),
    );
    if let Some(o) = &resilience {
        res::print_summary(o, &settlements);
    }
    // The process exits next (`analyze` runs once per process; `batch` starts one per
    // scenario): leave the large buffers to the OS rather than free them one by one, which
    // takes about 0.1 s at a million premises.
    std::mem::forget((premises, settlements, results, fibre_in, mobile_in));
    Ok(())
}

/// Runs the kernels: settlement, fibre, mobile, gaps, tallies.
///
/// Each index is let go ([`retire`]) as soon as its kernel is done, so that the later
/// kernels' results and outlines reuse its memory rather than fresh pages (peak RSS is also
/// time: every fresh page is a page fault). The settlement index is handed back when
/// `keep_settlement_index` is set (resilience needs it).
#[allow(clippy::too_many_arguments)]
fn compute(
    premises: &Premises,
    settlements: &Settlements,
    idx: Indexes,
    keep_settlement_index: bool,
    fibre_in: Option<&Fibre>,
    policy: &Policy,
    sites: Option<&[PremiseRadio]>,
    params: Params,
    with_outlines: bool,
    simplify_m: Option<f64>,
    clock: &mut Clock,
) -> (Results, Option<PolygonIndex>) {
    let Indexes {
        order,
        settlements: settlement_index,
        fibre: fibre_index,
        mobile: mobile_index,
    } = idx;
    let n = premises.xy.len() as u64;
    let bar = Bar::new(n, "settlements");
    let order = &order;
    let settlement = settlement::assign(&settlement_index, &premises.xy, order, &bar);
    bar.finish();
    let kept_settlement_index = if keep_settlement_index {
        Some(settlement_index)
    } else {
        retire(settlement_index);
        None
    };
    clock.lap("settlements");

    let fibre = fibre_index.map(|idx| {
        let bar = Bar::new(n, "fibre");
        let r = fibre::reach_all(&idx, &premises.xy, params.drop_distance_m, order, &bar);
        bar.finish();
        retire(idx);
        r
    });
    clock.lap("fibre");

    let mobile = match mobile_index {
        Some(idx) => {
            let bar = Bar::new(n, "mobile");
            let r = mobile::cover_all(&idx, &premises.xy, order, &bar);
            bar.finish();
            retire(idx);
            r
        }
        None => vec![MobileCover::default(); premises.xy.len()],
    };
    // Operators covering by prediction count like operators covering by polygon.
    let mut mobile = mobile;
    let mut mobile_polygons = Vec::new();
    if let Some(sites) = sites {
        mobile_polygons = mobile.clone();
        for (m, r) in mobile.iter_mut().zip(sites) {
            m.operators_4g |= r.operators_4g;
            m.operators_5g |= r.operators_5g;
        }
    }
    clock.lap("mobile");

    // What each premise has: fibre, the networks at the state-aid target, 100 Mbit/s.
    let reach = policy.reach(fibre_in, &premises.xy, params.drop_distance_m, order);
    let rules = summary::Rules {
        drop_distance_m: params.drop_distance_m,
        stand_in: policy.stand_in,
    };
    let outcomes = summary::outcomes(
        &premises.households,
        &premises.workplaces,
        fibre.as_deref(),
        &mobile,
        reach.aid_networks.as_deref(),
        reach.fast_fixed.as_deref(),
        &rules,
    );
    clock.lap("aid");

    let gap_kind: Vec<Option<GapKind>> = outcomes
        .iter()
        .map(|o| GapKind::of(o.fibre_passed, o.mobile_4g_operators > 0))
        .collect();
    let clusters = gaps::cluster(&premises.xy, &gap_kind, &settlement, params.gap_cluster_m);
    let bar = Bar::new(
        if with_outlines {
            clusters.len() as u64
        } else {
            0
        },
        "gap outlines",
    );
    // Largest clusters first, so that no large one is left to run alone at the end.
    let outlines: Vec<_> = gapmap_core::par::map_largest_first(
        &clusters[..if with_outlines { clusters.len() } else { 0 }],
        |c| c.premises.len(),
        |c| {
            let pts: Vec<_> = c
                .premises
                .iter()
                .map(|&i| premises.xy[i as usize])
                .collect();
            let mut o = gaps::outline(&pts, params.gap_margin_m, params.gap_cluster_m);
            if let Some(tolerance_m) = simplify_m {
                simplify_and_trim(&mut o, tolerance_m);
            }
            gapmap_core::par::Progress::advance(&bar, 1);
            o
        },
    );
    bar.finish();
    let mut gap_id = vec![None; premises.xy.len()];
    for (k, c) in clusters.iter().enumerate() {
        for &i in &c.premises {
            gap_id[i as usize] = Some(k as u32 + 1);
        }
    }
    clock.lap("gaps");

    let mut tallies = summary::tally(settlements.areas.len(), &settlement, &outcomes);
    summary::count_clusters(&mut tallies, &clusters);
    clock.lap("tally");
    // White areas for a tender (drawn only for the map outputs, like the gap outlines).
    let aid_areas = with_outlines.then(|| {
        let mut a = policy::aid_areas(&premises.xy, &outcomes, policy.aid_cell_m);
        if let Some(tolerance_m) = simplify_m {
            simplify_all_in_place(&mut a.outlines, tolerance_m);
        }
        clock.lap("aid areas");
        a
    });
    let results = Results {
        settlement,
        fibre,
        mobile,
        mobile_polygons,
        gap_kind,
        clusters,
        outlines,
        gap_id,
        tallies,
        outcomes,
        aid_areas,
        planned_counted: reach.planned_counted,
    };
    (results, kept_settlement_index)
}

/// Frees `x` on the worker pool, beside the work that follows: an index holds many
/// allocations, and freeing them one by one on this thread would hold up the next kernel.
fn retire<T: Send + 'static>(x: T) {
    rayon::spawn(move || drop(x));
}

fn totals(r: &Results) -> BTreeMap<String, u64> {
    let mut t = Tally::default();
    for x in &r.tallies {
        t += *x;
    }
    let mut m = BTreeMap::new();
    for (name, get) in tables::COUNT_COLUMNS.iter() {
        m.insert(name.to_string(), get(&t));
    }
    m
}

/// Which outputs to write (run.json is always written).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// settlements.csv and settlements.parquet.
    Tables,
    /// premises.parquet.
    Premises,
    /// gaps.geojson and settlements.geojson, with their QGIS styles.
    Maps,
}

/// Writes the chosen outputs into the staging directory; returns the file names. The map files
/// are written on their own threads, beside the tables.
#[allow(clippy::too_many_arguments)]
fn write_outputs(
    staging: &mut Staging,
    premises: &Premises,
    settlements: &Settlements,
    r: &Results,
    fibre: Option<&Fibre>,
    resilience: Option<&res::Outcome>,
    cell_sites: Option<(&Sites, &Prediction)>,
    has_polygons: bool,
    policy: &Policy,
    crs: &Crs,
    map_simplify_m: f64,
    args: &Args,
) -> Result<Vec<String>> {
    let has_fibre = fibre.is_some();
    // Resilience columns of the settlement table (rural row last), and the critical units.
    let mut extra: Vec<(String, Column<'static>)> = resilience
        .map(|o| o.settlement_columns(&r.settlement))
        .unwrap_or_default();
    // Cell sites: what one site's failure cuts off, per site and per settlement.
    let critical_sites = cell_sites.map(|(s, p)| {
        radio::critical_sites(
            &p.premises,
            s,
            premises,
            has_polygons.then_some(r.mobile_polygons.as_slice()),
            Some(&r.settlement),
        )
    });
    if let Some(c) = &critical_sites {
        extra.push((
            "premises_single_4g_site".into(),
            radio::single_site_column(c, &r.settlement, settlements.ids.len()),
        ));
    }
    let critical = match (resilience, fibre) {
        (Some(o), Some(f)) => Some(o.critical_table(f, settlements)),
        _ => None,
    };
    let want = |o: Output| args.outputs.contains(&o);
    let (tables_on, premises_on, maps_on, gpkg) = (
        want(Output::Tables),
        want(Output::Premises),
        want(Output::Maps),
        args.gpkg,
    );
    let mut names: Vec<String> = Vec::new();
    if maps_on {
        std::fs::write(staging.file("gaps.qml"), style::gaps_qml()).context("gaps.qml")?;
        std::fs::write(staging.file("settlements.qml"), style::settlements_qml())
            .context("settlements.qml")?;
        std::fs::write(staging.file("aid_areas.qml"), style::aid_qml()).context("aid_areas.qml")?;
        names.extend(
            [
                "gaps.geojson",
                "gaps.qml",
                "settlements.geojson",
                "settlements.qml",
                "aid_areas.geojson",
                "aid_areas.qml",
            ]
            .map(String::from),
        );
    }
    if tables_on {
        names.extend(["settlements.csv", "settlements.parquet"].map(String::from));
        if critical.is_some() {
            names.extend(["critical_links.csv", "critical_links.parquet"].map(String::from));
        }
        if critical_sites.is_some() {
            names.extend(["critical_sites.csv", "critical_sites.parquet"].map(String::from));
        }
    }
    if maps_on && critical.is_some() {
        std::fs::write(
            staging.file("critical_links.qml"),
            style::critical_links_qml(),
        )
        .context("critical_links.qml")?;
        names.extend(["critical_links.geojson", "critical_links.qml"].map(String::from));
    }
    if premises_on {
        names.push("premises.parquet".into());
    }
    if gpkg {
        names.push("gapmap.gpkg".into());
    }
    let aid_path = staging.file("aid_areas.geojson");
    let (gaps_path, smap_path, gpkg_path) = (
        staging.file("gaps.geojson"),
        staging.file("settlements.geojson"),
        staging.file("gapmap.gpkg"),
    );
    let (scsv, sparquet) = (
        staging.file("settlements.csv"),
        staging.file("settlements.parquet"),
    );
    let (sites_csv, sites_parquet) = (
        staging.file("critical_sites.csv"),
        staging.file("critical_sites.parquet"),
    );
    let (crit_csv, crit_parquet, staging_critical) = (
        staging.file("critical_links.csv"),
        staging.file("critical_links.parquet"),
        staging.file("critical_links.geojson"),
    );
    // GDAL and PROJ objects are not shared between threads: each writer parses the CRS itself.
    let crs_def = crs.wkt();
    let crs_label = crs.label().to_string();
    let own_crs = || Crs::parse(&crs_def, &crs_label);
    // The map tables (gap outlines exist only when maps or the GeoPackage are wanted), each
    // built when its writer is about to start: the gap map, the longest, first. They are kept
    // here (not on the stack of the scope below) because the GeoPackage writer reads all three.
    let mapping = maps_on || gpkg;
    let (gaps_cell, aid_cell, smap_cell) = (OnceLock::new(), OnceLock::new(), OnceLock::new());
    // The web maps' copies of the outlines are simplified by their writers; the GeoPackage
    // keeps full resolution.
    let tolerance_m = if maps_on { map_simplify_m } else { 0.0 };
    let write_map = |path: &'_ std::path::Path,
                     name: &'static str,
                     table: &FeatureTable<'_>,
                     outlines: &[MultiPolygon<f64>]|
     -> Result<(), gapmap_io::IoError> {
        let simplified = simplify_all(outlines, tolerance_m);
        write_geojson(path, name, &own_crs()?, &web_copy(table, &simplified))
    };
    std::thread::scope(|scope| -> Result<()> {
        let gaps: &FeatureTable = gaps_cell.get_or_init(|| {
            if mapping {
                gap_table(premises, settlements, r, has_fibre)
            } else {
                FeatureTable::default()
            }
        });
        let gaps_job =
            maps_on.then(|| scope.spawn(|| write_map(&gaps_path, "gaps", gaps, &r.outlines)));
        let aid_areas: &FeatureTable = aid_cell.get_or_init(|| match (&r.aid_areas, mapping) {
            (Some(a), true) => policy::aid_area_table(a, &r.outcomes, &r.settlement, settlements),
            _ => FeatureTable::default(),
        });
        let aid_outlines = r.aid_areas.as_ref().map_or(&[][..], |a| &a.outlines[..]);
        let aid_job = maps_on
            .then(|| scope.spawn(|| write_map(&aid_path, "aid_areas", aid_areas, aid_outlines)));
        let smap: &FeatureTable = smap_cell.get_or_init(|| {
            if mapping {
                let mut t = settlement_map_table(settlements, r, &policy.goals);
                let n = settlements.areas.len();
                for (name, col) in &extra {
                    t.push(name, truncate(col, n));
                }
                t
            } else {
                FeatureTable::default()
            }
        });
        let smap_job = maps_on.then(|| {
            scope.spawn(|| write_map(&smap_path, "settlements", smap, &settlements.areas))
        });
        let critical_job = critical.as_ref().filter(|_| maps_on).map(|t| {
            let (path, own_crs) = (&staging_critical, &own_crs);
            scope.spawn(move || write_geojson(path, "critical_links", &own_crs()?, t))
        });
        let gpkg_job = gpkg.then(|| {
            scope.spawn(|| {
                write_gpkg(
                    &gpkg_path,
                    &own_crs()?,
                    &[
                        OutLayer {
                            name: "settlements",
                            geometry_type: MULTI_POLYGON,
                            table: smap,
                            qml: Some(style::settlements_qml()),
                        },
                        OutLayer {
                            name: "gaps",
                            geometry_type: MULTI_POLYGON,
                            table: gaps,
                            qml: Some(style::gaps_qml()),
                        },
                        OutLayer {
                            name: "aid_areas",
                            geometry_type: MULTI_POLYGON,
                            table: aid_areas,
                            qml: Some(style::aid_qml()),
                        },
                    ],
                )
            })
        });
        // The tables, on this thread.
        if tables_on {
            let mut df = tables::settlements_frame(
                &settlements.ids,
                &settlements.names,
                &r.tallies,
                &policy.goals,
            )?;
            if !extra.is_empty() {
                df = tables::with_columns(df, &extra)?;
            }
            tables::write_csv(&mut df, &scsv)?;
            tables::write_parquet(&mut df, &sparquet, None)?;
            if let Some(t) = &critical {
                res::write_critical_tables(t, &crit_csv, &crit_parquet)?;
            }
            if let (Some(c), Some((s, _))) = (&critical_sites, cell_sites) {
                let mut df = tables::frame_from_columns(&c.table(s, Some(&settlements.names)))?;
                tables::write_csv(&mut df, &sites_csv)?;
                tables::write_parquet(&mut df, &sites_parquet, None)?;
            }
        }
        for job in [gaps_job, smap_job, aid_job, gpkg_job, critical_job]
            .into_iter()
            .flatten()
        {
            job.join()
                .map_err(|_| anyhow::anyhow!("an output writer panicked"))??;
        }
        Ok(())
    })?;
    Ok(names)
}

/// Writes `premises.parquet`: one row per premise, with the cell-site columns when sites were
/// modelled.
fn write_premise_table(
    rows: &tables::PremiseRows<'_>,
    cell_sites: Option<(&Sites, &Prediction)>,
    path: &std::path::Path,
    crs_label: &str,
) -> std::result::Result<(), gapmap_io::IoError> {
    let extra = match cell_sites {
        Some((s, p)) => {
            let cols: Vec<_> = radio::premise_columns(p, s, false)
                .into_iter()
                .filter(|(k, _)| !k.starts_with("predicted_"))
                .collect();
            Some(tables::frame_from_columns(&cols)?)
        }
        None => None,
    };
    // Built and written one row group at a time: the table is the largest output, and whole
    // it would be held beside the maps being written.
    tables::write_parquet_groups(rows.xy.len(), path, Some(crs_label), |offset, len| {
        let group = tables::premises_frame(rows, offset..offset + len)?;
        match &extra {
            Some(more) => tables::hstack(group, &more.slice(offset as i64, len)),
            None => Ok(group),
        }
    })
}

/// `areas` simplified at `tolerance_m`; empty when the tolerance is 0 (nothing to simplify).
fn simplify_all(areas: &[MultiPolygon<f64>], tolerance_m: f64) -> Vec<MultiPolygon<f64>> {
    if tolerance_m > 0.0 {
        areas
            .par_iter()
            .map(|a| simplify_multi_polygon(a, tolerance_m))
            .collect()
    } else {
        Vec::new()
    }
}

/// `areas` simplified in place at `tolerance_m` and trimmed ([`simplify_and_trim`]), on the
/// pool.
fn simplify_all_in_place(areas: &mut [MultiPolygon<f64>], tolerance_m: f64) {
    areas
        .par_iter_mut()
        .for_each(|a| simplify_and_trim(a, tolerance_m));
}

/// `area` simplified in place at `tolerance_m`, each ring then reallocated to its new length
/// when that frees much (the memory serves what follows, rather than fresh pages).
fn simplify_and_trim(area: &mut MultiPolygon<f64>, tolerance_m: f64) {
    simplify_multi_polygon_in_place(area, tolerance_m);
    let trim = |r: &mut LineString<f64>| {
        if r.0.capacity() > 2 * r.0.len() + 16 {
            r.0.shrink_to_fit();
        }
    };
    for p in &mut area.0 {
        p.exterior_mut(trim);
        p.interiors_mut(|rs| rs.iter_mut().for_each(trim));
    }
}

/// `full` with the `simplified` outlines, or `full` itself when there are none.
fn web_copy<'t, 'a>(
    full: &'t FeatureTable<'a>,
    simplified: &'a [MultiPolygon<f64>],
) -> Cow<'t, FeatureTable<'a>> {
    if simplified.is_empty() {
        Cow::Borrowed(full)
    } else {
        Cow::Owned(FeatureTable {
            columns: full.columns.clone(),
            geometries: simplified.iter().map(GeomRef::MultiPolygon).collect(),
        })
    }
}

/// The first `n` values of a column.
fn truncate<'a>(c: &Column<'a>, n: usize) -> Column<'a> {
    match c {
        Column::Int(v) => Column::Int(v[..n].to_vec()),
        Column::IntOpt(v) => Column::IntOpt(v[..n].to_vec()),
        Column::Float(v) => Column::Float(v[..n].to_vec()),
        Column::Text(v) => Column::Text(v[..n].to_vec()),
    }
}

/// The gap map: one feature per cluster, borrowing its outline.
fn gap_table<'a>(
    premises: &Premises,
    settlements: &'a Settlements,
    r: &'a Results,
    has_fibre: bool,
) -> FeatureTable<'a> {
    let n = r.clusters.len();
    let mut t = FeatureTable {
        columns: Vec::new(),
        geometries: r.outlines.iter().map(GeomRef::MultiPolygon).collect(),
    };
    let (mut hh, mut wp, mut nearest) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for c in &r.clusters {
        let (mut h, mut w, mut d) = (0i64, 0i64, f64::INFINITY);
        for &i in &c.premises {
            let i = i as usize;
            h += i64::from(premises.households[i]);
            w += i64::from(premises.workplaces[i]);
            if let Some(f) = &r.fibre {
                d = d.min(f[i].distance_m);
            }
        }
        hh.push(h);
        wp.push(w);
        nearest.push((has_fibre && d.is_finite()).then(|| (d * 10.0).round() / 10.0));
    }
    let text = |f: &dyn Fn(&GapCluster) -> &'a str| {
        Column::Text(
            r.clusters
                .iter()
                .map(|c| Some(Cow::Borrowed(f(c))))
                .collect(),
        )
    };
    t.push("gap_id", Column::Int((1..=n as i64).collect()));
    t.push("kind", text(&|c| c.kind.as_str()));
    t.push(
        "settlement_id",
        text(&|c| {
            c.settlement
                .map_or("", |s| settlements.ids[s as usize].as_str())
        }),
    );
    t.push(
        "settlement_name",
        text(&|c| {
            c.settlement
                .map_or("(rural)", |s| settlements.names[s as usize].as_str())
        }),
    );
    t.push(
        "premises",
        Column::Int(r.clusters.iter().map(|c| c.premises.len() as i64).collect()),
    );
    t.push("households", Column::Int(hh));
    t.push("workplaces", Column::Int(wp));
    t.push("nearest_fibre_m", Column::Float(nearest));
    t.push("fill", text(&|c| style::gap_fill(c.kind)));
    t.push("fill-opacity", Column::Float(vec![Some(0.6); n]));
    t.push("stroke", text(&|c| style::gap_stroke(c.kind)));
    t.push("stroke-width", Column::Int(vec![1; n]));
    t
}

/// The settlement choropleth: every settlement with its metrics, coloured by fibre share.
fn settlement_map_table<'a>(
    settlements: &'a Settlements,
    r: &Results,
    goals: &[gapmap_core::goals::Goal],
) -> FeatureTable<'a> {
    let n = settlements.areas.len();
    let mut t = FeatureTable {
        columns: Vec::new(),
        geometries: settlements
            .areas
            .iter()
            .map(GeomRef::MultiPolygon)
            .collect(),
    };
    for (name, col) in
        tables::settlement_columns(&settlements.ids, &settlements.names, &r.tallies, goals)
    {
        t.push(&name, col);
    }
    let fill = |i: usize| {
        style::share_fill(tables::share(
            r.tallies[i].fibre_passed,
            r.tallies[i].premises,
        ))
    };
    t.push(
        "fill",
        Column::Text((0..n).map(|i| Some(Cow::Borrowed(fill(i)))).collect()),
    );
    t.push("fill-opacity", Column::Float(vec![Some(0.7); n]));
    t.push(
        "stroke",
        Column::Text(vec![Some(Cow::Borrowed("#404040")); n]),
    );
    t.push("stroke-width", Column::Int(vec![1; n]));
    t
}
