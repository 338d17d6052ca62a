//! Reading an analysis' inputs: settlements, premises, fibre and mobile (with cell sites and
//! policy layers) on four threads, each layer indexed as soon as it is in.

use std::path::Path;
use std::sync::Arc;

use gapmap_core::fibre::FibreIndex;
use gapmap_core::mobile::MobileIndex;
use gapmap_core::par::SpatialOrder;
use gapmap_core::polygon_index::PolygonIndex;
use gapmap_io::read::raster::DemInput;
use gapmap_io::read::sites::Sites;
use gapmap_io::read::{
    read_backbone, read_fibre, read_mobile, read_settlements, Backbone, BackboneOptions, Fibre,
    FibreOptions, FieldChoice, Mobile, MobileOptions, Premises, SettlementOptions, Settlements,
};
use gapmap_io::ReadContext;

pub use super::layers::{Layers, Population};
use super::plan::{AnalysisPlan, Checked, Output};
use super::{retire, RunMeta};
use crate::error::{panicked, Result};
use crate::policy::Policy;
use crate::progress::{self, Bar};
use gapmap_core::simplify::simplify_all_in_place;

/// The inputs read on the mobile thread: mobile polygons (with their index), cell sites with
/// their DEM, policy.
type OtherInputs = (
    Option<(Mobile, MobileIndex)>,
    Option<(Sites, Option<DemInput>)>,
    Policy,
);

/// An analysis' inputs, read, validated, reprojected into the working CRS and indexed.
///
/// [`super::compute`] consumes them: each index it holds alone is let go as soon as its
/// kernel is done. The layers and indexes are shared (`Arc`), so that a workload read once
/// serves several analyses ([`super::workload::WorkloadCache`]). To analyse a subset of the
/// premises against the same reference layers (a tile of a partitioned run), keep the
/// premises wanted with [`Inputs::retain_premises`].
pub struct Inputs {
    /// The plan they were read by (with the bundled region filled in).
    pub plan: AnalysisPlan,
    /// The plan's checked parameters and goals.
    pub checked: Checked,
    /// True when the bundled region is analysed.
    pub bundled: bool,
    /// The working CRS and how inputs without one are read.
    pub ctx: ReadContext,
    /// The layers read.
    pub layers: Arc<Layers>,
    /// The premises along a Hilbert curve: kernels visit them in this order, so that
    /// neighbouring queries share index nodes in cache.
    pub order: Arc<SpatialOrder>,
    /// The settlement polygons, indexed.
    pub settlement_index: Arc<PolygonIndex>,
    /// The fibre, indexed.
    pub fibre_index: Option<Arc<FibreIndex>>,
    /// The mobile polygons, indexed.
    pub mobile_index: Option<Arc<MobileIndex>>,
    /// The tolerance the outlines are simplified by as they are made (see [`early_simplify_m`]).
    pub early_simplify_m: Option<f64>,
    /// Per-premise results already known for these inputs (from a workload held), and whether
    /// the analysis should hand back the ones it computes.
    pub known: Known,
    /// When the run started, its phases so far and its notices.
    pub meta: RunMeta,
}

/// Per-premise results that depend only on the inputs as read, not on the analysis'
/// parameters: a workload held ([`super::workload::WorkloadCache`]) keeps them, and the next
/// analysis of it takes them instead of computing them again.
#[derive(Clone, Default)]
pub struct Known {
    /// The settlement of each premise (`None`: rural).
    pub settlement: Option<Arc<Vec<Option<u32>>>>,
    /// Each premise's cover by the mobile polygons (before cell sites count).
    pub mobile_polygons: Option<Arc<Vec<gapmap_core::mobile::MobileCover>>>,
    /// The fibre network of the resilience analysis (with `--backbone`).
    pub network: Option<Arc<crate::resilience::Network>>,
    /// Hand back what is not known yet, computed (in [`super::Results`]).
    pub remember: bool,
}

/// Without the GeoPackage, the full-resolution outlines serve only to make the web maps'
/// simplified copies. Each is then simplified in place and trimmed as soon as it is made (the
/// settlements once indexed, the gap and aid outlines as they are drawn): one small copy is
/// held, not a large one, and the map writers start at once.
pub fn early_simplify_m(plan: &AnalysisPlan) -> Option<f64> {
    (plan.wants(Output::Maps) && !plan.gpkg && plan.map_simplify_m > 0.0)
        .then_some(plan.map_simplify_m)
}

impl Inputs {
    /// Whether the layers fit together ([`super::check`]).
    pub fn plausibility(&self) -> super::check::Plausibility {
        super::check::check_inputs(
            &self.layers,
            self.settlement_index.extent(),
            self.checked.params.drop_distance_m,
            &self.ctx.target,
        )
    }

    /// Keeps only the premises for which `keep(i)` is true (by their index in input order), and
    /// orders them anew. The reference layers and their indexes are kept as they are. Inputs
    /// whose layers are shared (a workload held for other analyses) are not changed: an error.
    pub fn retain_premises(&mut self, keep: impl Fn(usize) -> bool) -> Result<()> {
        let layers = Arc::get_mut(&mut self.layers).ok_or_else(|| {
            crate::Error::Internal("the premises of shared inputs cannot be changed".into())
        })?;
        layers.premises.retain(&keep);
        self.order = Arc::new(SpatialOrder::new(&layers.premises.xy));
        Ok(())
    }
}

/// Reads every input of `plan` (which must have passed [`AnalysisPlan::validate`], giving
/// `checked`), and checks that they fit together ([`super::check`]): layers that do not
/// overlap are an error, one that misses most premises a notice. `meta` is the run's start.
pub fn read_inputs(
    plan: AnalysisPlan,
    checked: Checked,
    bundled: bool,
    meta: RunMeta,
) -> Result<Inputs> {
    checked_inputs(read_layers(plan, checked, bundled, meta)?)
}

/// What [`read_inputs`] does after reading: the DEM must cover the sites and premises, and the
/// layers must fit together (notices for those that fit badly).
pub(crate) fn checked_inputs(mut inputs: Inputs) -> Result<Inputs> {
    if let Some((sites, Some(dem))) = &inputs.layers.sites {
        inputs
            .plan
            .radio
            .check_dem_covers(&dem.dem, sites, &inputs.layers.premises.xy)?;
    }
    let p = inputs.plausibility();
    if let Some(problem) = p.problem {
        return Err(crate::Error::Usage(problem));
    }
    for n in p.notices {
        progress::notice(&n);
        inputs.meta.notices.push(n);
    }
    Ok(inputs)
}

/// The working CRS of `plan`: `--crs`, or with `--crs auto` the one chosen from where the
/// settlements lie (see [`super::auto_crs`]), which the run log and run.json then record.
fn working_crs(plan: &AnalysisPlan, settlements: &Path, meta: &mut RunMeta) -> Result<String> {
    let (crs, notice) = super::auto_crs::resolve(
        &plan.crs,
        settlements,
        plan.settlements_layer.as_deref(),
        "--settlements-layer",
        plan.assume_crs.as_deref(),
        None,
    )?;
    // Printed with the readers' notices.
    meta.notices.extend(notice);
    Ok(crs)
}

/// Reads every input of `plan` as [`read_inputs`] does, without checking that they fit
/// together.
pub fn read_layers(
    plan: AnalysisPlan,
    checked: Checked,
    bundled: bool,
    mut meta: RunMeta,
) -> Result<Inputs> {
    let (Some(premises_path), Some(settlements_path)) =
        (plan.premises.as_deref(), plan.settlements.as_deref())
    else {
        return Err(crate::Error::usage(
            "both --premises and --settlements are needed (or no inputs at all, for the bundled region)",
        ));
    };
    // The inputs' SHA-256 (for run.json) starts now, beside the choice of the working CRS.
    gapmap_io::read::layer::hash_ahead(&plan.input_paths());
    let crs = working_crs(&plan, settlements_path, &mut meta);
    let crs = match crs {
        Ok(c) => c,
        Err(e) => {
            gapmap_io::read::layer::forget_hashes_ahead();
            return Err(e);
        }
    };
    let ctx = ReadContext::from_flags(&crs, plan.assume_crs.as_deref(), plan.strict)?;
    let goals = checked.goals.clone();
    let early_simplify_m = early_simplify_m(&plan);
    let clock = &mut meta.clock;
    let read = read_all(
        &plan,
        premises_path,
        settlements_path,
        &ctx,
        goals,
        early_simplify_m,
    );
    // Hashes started ahead for files no reader opened (a failed read) are let go.
    gapmap_io::read::layer::forget_hashes_ahead();
    let ((settlements, settlement_index), premises, fibre, mobile, backbone_in, sites_in, policy) =
        read?;
    let (premises, population, order) = premises;
    let (mobile_in, mobile_index) = mobile.unzip();
    let (fibre_in, fibre_index) = fibre.unzip();
    clock.lap("read");
    let notices = &mut meta.notices;
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
    for n in notices.iter() {
        progress::notice(n);
    }
    Ok(Inputs {
        plan,
        checked,
        bundled,
        ctx,
        layers: Arc::new(Layers {
            premises,
            population,
            settlements,
            fibre: fibre_in,
            mobile: mobile_in,
            backbone: backbone_in,
            sites: sites_in,
            policy,
        }),
        order: Arc::new(order),
        settlement_index: Arc::new(settlement_index),
        fibre_index: fibre_index.map(Arc::new),
        mobile_index: mobile_index.map(Arc::new),
        early_simplify_m,
        known: Known::default(),
        meta,
    })
}

/// What [`read_all`] reads.
type AllInputs = (
    (Settlements, PolygonIndex),
    (Premises, Option<Population>, SpatialOrder),
    Option<(Fibre, FibreIndex)>,
    Option<(Mobile, MobileIndex)>,
    Option<Backbone>,
    Option<(Sites, Option<DemInput>)>,
    Policy,
);

/// Reads the layers on four threads and indexes each as soon as it is in.
fn read_all(
    plan: &AnalysisPlan,
    premises_path: &Path,
    settlements_path: &Path,
    ctx: &ReadContext,
    goals: Vec<gapmap_core::goals::Goal>,
    early_simplify_m: Option<f64>,
) -> Result<AllInputs> {
    // Read: settlements on this thread, premises on a second, fibre on a third and mobile (with
    // cell sites and policy layers) on a fourth. Each layer's index is built as soon as the
    // layer is in, while the others are still being read: "read" includes the indexes.
    // GDAL reads a layer on one thread, but several files at once; its CRS objects stay on
    // their own thread. The premises (Parquet, mostly) read while the settlement outlines are
    // validated on the worker pool.
    let portable = ctx.portable();
    // The fibre geometry is needed past its index only to trace paths to the backbone and to
    // merge the fixed and planned networks into the state-aid reach.
    let fibre_geometry_needed = plan.resilience.backbone.is_some()
        || !plan.policy.fixed.is_empty()
        || !plan.policy.planned.is_empty();
    let spin = Bar::spinner("reading inputs");
    let all = std::thread::scope(|scope| -> Result<AllInputs> {
        let fibre_reader = scope.spawn(|| -> Result<Option<(Fibre, FibreIndex)>> {
            let ctx = portable.context()?;
            let fibre = (!plan.fibre.is_empty())
                .then(|| {
                    read_fibre(
                        &FibreOptions {
                            filter: plan.fibre_where.clone(),
                            ..FibreOptions::fibre(
                                plan.fibre.clone(),
                                plan.fibre_layer.clone(),
                                FieldChoice::new(
                                    plan.fibre_network_field.as_deref(),
                                    "network",
                                    "--fibre-network-field",
                                ),
                                plan.resilience
                                    .fibre_srlg_field
                                    .as_deref()
                                    .map(|f| FieldChoice::new(Some(f), f, "--fibre-srlg-field")),
                            )
                        },
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
            let mut mobile = (!plan.mobile.is_empty())
                .then(|| {
                    read_mobile(
                        &MobileOptions {
                            paths: plan.mobile.clone(),
                            layers: plan.mobile_layer.clone(),
                            operator_field: FieldChoice::new(
                                plan.mobile_operator_field.as_deref(),
                                "operator",
                                "--mobile-operator-field",
                            ),
                            tech_field: FieldChoice::new(
                                plan.mobile_tech_field.as_deref(),
                                "tech",
                                "--mobile-tech-field",
                            ),
                            filter: plan.mobile_where.clone(),
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
            let sites = plan.radio.read(&ctx, &known)?;
            let policy = plan
                .policy
                .read(&ctx, plan.fibre_network_field.as_deref(), goals)?;
            Ok((mobile.zip(mobile_index), sites, policy))
        });
        let (premise_plan, portable) = (&plan.premise, &portable);
        // The premises' order for the kernels is made here too, beside the other readers,
        // after the population (when there is one) has been spread onto them.
        let premise_reader = scope.spawn(move || -> Result<_> {
            let ctx = portable.context()?;
            let (premises, population) = premise_plan.read(premises_path, &ctx)?;
            let order = SpatialOrder::new(&premises.xy);
            Ok((premises, population, order))
        });
        let mut settlements = read_settlements(
            &SettlementOptions {
                path: settlements_path.to_path_buf(),
                layer: plan.settlements_layer.clone(),
                id_field: FieldChoice::new(
                    plan.settlement_id_field.as_deref(),
                    "id",
                    "--settlement-id-field",
                ),
                name_field: FieldChoice::new(
                    plan.settlement_name_field.as_deref(),
                    "name",
                    "--settlement-name-field",
                ),
                population_field: None,
                filter: plan.settlements_where.clone(),
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
            .map_err(|_| panicked("the premise reader thread"))??;
        let backbone = plan
            .resilience
            .backbone
            .as_ref()
            .map(|path| {
                read_backbone(
                    &BackboneOptions {
                        path: path.clone(),
                        layer: plan.resilience.backbone_layer.clone(),
                        name_field: FieldChoice::new(
                            plan.resilience.backbone_name_field.as_deref(),
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
            .map_err(|_| panicked("the fibre reader thread"))??;
        let (mobile, sites, policy) = other
            .join()
            .map_err(|_| panicked("the input reader thread"))??;
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
    Ok(all)
}
