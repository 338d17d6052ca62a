//! The analyses: every per-premise and per-area result of an analysis.

use std::collections::BTreeMap;
use std::sync::Arc;

use gapmap_core::fibre::{self, FibreIndex, FibreReach};
use gapmap_core::gaps::{self, GapCluster, GapKind};
use gapmap_core::geo::MultiPolygon;
use gapmap_core::mobile::{self, MobileCover, MobileIndex};
use gapmap_core::par::SpatialOrder;
use gapmap_core::polygon_index::PolygonIndex;
use gapmap_core::radio::predict::{predict_all, Prediction, PremiseRadio, SiteIndex};
use gapmap_core::settlement;
use gapmap_core::summary::{self, Tally};
use gapmap_core::Params;
use gapmap_io::read::sites::Sites;
use gapmap_io::{write::tables, Crs, IoError, ReadContext};

use super::plan::{AnalysisPlan, Checked, Output};
use super::read::{Inputs, Known, Layers};
use super::{retire_shared, Clock, RunMeta};
use crate::progress::{self, Bar};
use crate::resilience as res;
use gapmap_core::simplify::{simplify_all_in_place, simplify_and_trim};

/// Per premise (in input order) and per settlement, what the kernels computed.
pub struct Computed {
    /// The settlement of each premise (`None`: rural).
    pub settlement: Vec<Option<u32>>,
    /// Fibre distance and networks in reach (`None` without fibre).
    pub fibre: Option<Vec<FibreReach>>,
    /// Per premise: the operators with 4G and with 5G there.
    pub mobile: Vec<MobileCover>,
    /// Coverage by the polygons alone, when cell sites also count (else empty).
    pub mobile_polygons: Vec<MobileCover>,
    /// Per premise: its gap kind, if any.
    pub gap_kind: Vec<Option<GapKind>>,
    /// The gap clusters.
    pub clusters: Vec<GapCluster>,
    /// One outline per cluster (none when no map is written).
    pub outlines: Vec<MultiPolygon<f64>>,
    /// The gap cluster of each premise, numbered from 1.
    pub gap_id: Vec<Option<u32>>,
    /// One tally per settlement, then the rural row: integer sums that merge exactly
    /// (`Tally: AddAssign`), so that the tallies of disjoint sets of premises add up to the
    /// tallies of their union.
    pub tallies: Vec<Tally>,
    /// Per premise: what it has (fibre, networks, mobile, 100 Mbit/s, aid class).
    pub outcomes: Vec<summary::Outcome>,
    /// White areas for a tender (drawn only for the map outputs).
    pub aid_areas: Option<gapmap_core::aid::AidAreas>,
    /// Planned network features that count (within the horizon).
    pub planned_counted: usize,
}

/// The working CRS as text: GDAL and PROJ objects are not shared between threads, so each
/// writer parses it ([`WorkingCrs::parse`]).
#[derive(Debug, Clone, PartialEq)]
pub struct WorkingCrs {
    pub wkt: String,
    pub label: String,
    /// The CRS assumed for inputs without one (`--assume-crs`).
    pub assumed: Option<String>,
}

impl WorkingCrs {
    pub(crate) fn of(ctx: &ReadContext) -> WorkingCrs {
        WorkingCrs {
            wkt: ctx.target.wkt(),
            label: ctx.target.label().to_string(),
            assumed: ctx.assume_crs.as_ref().map(|c| c.label().to_string()),
        }
    }

    /// The CRS itself, for this thread.
    pub fn parse(&self) -> Result<Crs, IoError> {
        Crs::parse(&self.wkt, &self.label)
    }
}

/// An analysis: its inputs (what the outputs still need of them) and every result.
pub struct Results {
    /// The plan that was run.
    pub plan: AnalysisPlan,
    /// The plan's checked parameters and goals.
    pub checked: Checked,
    /// True when the bundled region is analysed.
    pub bundled: bool,
    /// The working CRS.
    pub crs: WorkingCrs,
    /// The layers analysed (what the outputs still need of them; shared with a workload held
    /// for other analyses, when there is one).
    pub layers: Arc<Layers>,
    /// Predicted coverage at the premises (with `--sites`).
    pub site_prediction: Option<Prediction>,
    /// Per premise and per area, what the kernels computed.
    pub computed: Computed,
    /// Fibre resilience (with `--backbone`).
    pub resilience: Option<res::Outcome>,
    /// The settlement index, kept for resilience until the outputs are written.
    pub(crate) kept_settlement_index: Option<Arc<PolygonIndex>>,
    /// The tolerance the outlines were simplified by as they were made.
    pub(crate) early_simplify_m: Option<f64>,
    /// The per-premise results that depend only on the inputs, when the inputs asked for them
    /// ([`Known::remember`]) or brought them.
    pub(crate) known: Known,
    /// When the run started, its phases and notices.
    pub meta: RunMeta,
}

impl Results {
    /// The cell sites with their prediction, when sites were modelled.
    pub fn cell_sites(&self) -> Option<(&Sites, &Prediction)> {
        match (&self.layers.sites, &self.site_prediction) {
            (Some((s, _)), Some(p)) => Some((s, p)),
            _ => None,
        }
    }

    /// The totals over every settlement and the rural row, by count column.
    pub fn totals(&self) -> BTreeMap<String, u64> {
        totals(&self.computed.tallies)
    }
}

/// Every analysis of `inputs`: cell-site prediction, the kernels (settlement, fibre, mobile,
/// state aid, gaps, tallies, aid areas) and fibre resilience. Consumes the inputs: each index
/// is let go as soon as its kernel is done.
pub fn compute(inputs: Inputs) -> Results {
    let Inputs {
        plan,
        checked,
        bundled,
        ctx,
        layers,
        order,
        settlement_index,
        fibre_index,
        mobile_index,
        early_simplify_m,
        known,
        mut meta,
    } = inputs;
    let params = checked.params;
    let clock = &mut meta.clock;
    let premises = &layers.premises;
    // Predicted coverage from cell sites (with --sites).
    let site_prediction = layers.sites.as_ref().map(|(sites, dem)| {
        let index = SiteIndex::new(
            &sites.sites,
            plan.radio.params(),
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

    let indexes = Indexes {
        order,
        settlements: settlement_index,
        fibre: fibre_index,
        mobile: mobile_index,
    };
    let resilience_on = layers.backbone.is_some() && layers.fibre.is_some();
    let (computed, kept_settlement_index, kept_order, known) = kernels(
        &layers,
        indexes,
        known,
        resilience_on,
        site_prediction.as_ref().map(|p| p.premises.as_slice()),
        params,
        // Outlines are drawn only for the map outputs.
        plan.wants(Output::Maps) || plan.gpkg,
        early_simplify_m,
        clock,
    );

    finish(
        Finished {
            plan,
            checked,
            bundled,
            crs: WorkingCrs::of(&ctx),
            layers,
            site_prediction,
            computed,
            kept_settlement_index,
            kept_order,
            early_simplify_m,
            known,
        },
        meta,
    )
}

/// What the kernels made, whole or merged from tiles, before resilience.
pub(crate) struct Finished {
    pub plan: AnalysisPlan,
    pub checked: Checked,
    pub bundled: bool,
    pub crs: WorkingCrs,
    pub layers: Arc<Layers>,
    pub site_prediction: Option<Prediction>,
    pub computed: Computed,
    pub kept_settlement_index: Option<Arc<PolygonIndex>>,
    pub kept_order: Option<Arc<SpatialOrder>>,
    pub early_simplify_m: Option<f64>,
    pub known: Known,
}

/// The rest of an analysis once the per-premise and per-area results are in: the notice of the
/// planned networks that count, and fibre resilience (with `--backbone`).
pub(crate) fn finish(f: Finished, mut meta: RunMeta) -> Results {
    let Finished {
        plan,
        checked,
        bundled,
        crs,
        layers,
        site_prediction,
        computed,
        kept_settlement_index,
        kept_order,
        early_simplify_m,
        mut known,
    } = f;
    let params = checked.params;
    let clock = &mut meta.clock;
    let premises = &layers.premises;
    let notices = &mut meta.notices;
    let policy = &layers.policy;
    if let Some(p) = &policy.planned {
        let n = format!(
            "planned networks: {} of {} features are due by {} (--aid-year {} + 3) and count for the state-aid class",
            computed.planned_counted,
            p.features.len(),
            policy.aid_year + gapmap_core::aid::PLANNING_HORIZON_YEARS,
            policy.aid_year
        );
        progress::notice(&n);
        notices.push(n);
    }

    // Resilience (with --backbone).
    let resilience = match (
        &layers.backbone,
        &layers.fibre,
        &kept_settlement_index,
        &kept_order,
    ) {
        (Some(bb), Some(f), Some(settlement_index), Some(order)) => {
            let spin = Bar::spinner("fibre resilience");
            // The network of a workload held, or built (and kept when the workload is held).
            let network = known
                .network
                .clone()
                .unwrap_or_else(|| Arc::new(res::network(f, bb, &plan.resilience)));
            if known.remember {
                known.network = Some(Arc::clone(&network));
            }
            let o = res::run(
                &network,
                settlement_index,
                res::PremiseView {
                    premises,
                    order,
                    settlement: &computed.settlement,
                    fibre: computed.fibre.as_deref(),
                },
                params.drop_distance_m,
                &plan.resilience,
            );
            spin.finish();
            clock.lap("resilience");
            for n in o.notices() {
                progress::notice(&n);
                notices.push(n);
            }
            if !o.unattached.is_empty() {
                let n = format!(
                    "backbone: {} of {} points are farther than --backbone-snap-m ({} m) from any fibre and attach to nothing: {}",
                    o.unattached.len(),
                    bb.points.len(),
                    plan.resilience.backbone_snap_m,
                    o.unattached.iter().take(10).cloned().collect::<Vec<_>>().join(", ")
                );
                progress::notice(&n);
                notices.push(n);
            }
            Some(o)
        }
        _ => None,
    };
    Results {
        plan,
        checked,
        bundled,
        crs,
        layers,
        site_prediction,
        computed,
        resilience,
        kept_settlement_index,
        early_simplify_m,
        known,
        meta,
    }
}

/// The indexes the kernels query.
struct Indexes {
    order: Arc<SpatialOrder>,
    settlements: Arc<PolygonIndex>,
    fibre: Option<Arc<FibreIndex>>,
    mobile: Option<Arc<MobileIndex>>,
}

/// Runs the kernels: settlement, fibre, mobile, gaps, tallies.
///
/// Each index is let go ([`retire_shared`]) as soon as its kernel is done, so that the later
/// kernels' results and outlines reuse its memory rather than fresh pages (peak RSS is also
/// time: every fresh page is a page fault). The settlement index is handed back when
/// `keep_settlement_index` is set (resilience needs it), and so is the premises' order.
#[allow(clippy::too_many_arguments, reason = "the kernels' inputs, each named")]
fn kernels(
    layers: &Layers,
    idx: Indexes,
    known: Known,
    keep_settlement_index: bool,
    sites: Option<&[PremiseRadio]>,
    params: Params,
    with_outlines: bool,
    simplify_m: Option<f64>,
    clock: &mut Clock,
) -> (
    Computed,
    Option<Arc<PolygonIndex>>,
    Option<Arc<SpatialOrder>>,
    Known,
) {
    let Indexes {
        order,
        settlements: settlement_index,
        fibre: fibre_index,
        mobile: mobile_index,
    } = idx;
    let (premises, settlements, policy) = (&layers.premises, &layers.settlements, &layers.policy);
    let fibre_in = layers.fibre.as_ref();
    let n = premises.xy.len() as u64;
    let order_owned = order;
    let order = &order_owned;
    let settlement = match &known.settlement {
        Some(s) => s.as_ref().clone(),
        None => {
            let bar = Bar::new(n, "settlements");
            let s = settlement::assign(&settlement_index, &premises.xy, order, &bar);
            bar.finish();
            s
        }
    };
    let kept_settlement_index = if keep_settlement_index {
        Some(settlement_index)
    } else {
        retire_shared(settlement_index);
        None
    };
    clock.lap("settlements");

    let fibre = fibre_index.map(|idx| {
        let bar = Bar::new(n, "fibre");
        let r = fibre::reach_all(&idx, &premises.xy, params.drop_distance_m, order, &bar);
        bar.finish();
        retire_shared(idx);
        r
    });
    clock.lap("fibre");

    let mobile = match (&known.mobile_polygons, mobile_index) {
        (Some(m), idx) => {
            if let Some(idx) = idx {
                retire_shared(idx);
            }
            m.as_ref().clone()
        }
        (None, Some(idx)) => {
            let bar = Bar::new(n, "mobile");
            let r = mobile::cover_all(&idx, &premises.xy, order, &bar);
            bar.finish();
            retire_shared(idx);
            r
        }
        (None, None) => vec![MobileCover::default(); premises.xy.len()],
    };
    // What a workload held keeps for the next analysis of it.
    let known = match known.remember {
        true => Known {
            settlement: Some(
                known
                    .settlement
                    .unwrap_or_else(|| Arc::new(settlement.clone())),
            ),
            mobile_polygons: Some(
                known
                    .mobile_polygons
                    .unwrap_or_else(|| Arc::new(mobile.clone())),
            ),
            network: known.network,
            remember: true,
        },
        false => known,
    };
    let (mobile, mobile_polygons) = with_predicted(mobile, sites);
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

    let gap_kind = gap_kinds(&outcomes);
    let clusters = gaps::cluster(&premises.xy, &gap_kind, &settlement, params.gap_cluster_m);
    let results = per_area(
        layers,
        PerPremise {
            settlement,
            fibre,
            mobile,
            mobile_polygons,
            outcomes,
            planned_counted: reach.planned_counted,
        },
        gap_kind,
        clusters,
        |settlement, outcomes| summary::tally(settlements.areas.len(), settlement, outcomes),
        params,
        with_outlines.then_some(simplify_m),
        clock,
    );
    let kept_order = kept_settlement_index.is_some().then_some(order_owned);
    (results, kept_settlement_index, kept_order, known)
}

/// What each premise has, as the kernels found it (whole or per tile).
pub(crate) struct PerPremise {
    pub settlement: Vec<Option<u32>>,
    pub fibre: Option<Vec<FibreReach>>,
    pub mobile: Vec<MobileCover>,
    pub mobile_polygons: Vec<MobileCover>,
    pub outcomes: Vec<summary::Outcome>,
    pub planned_counted: usize,
}

/// Each premise's cover: by the polygons, and, with cell sites (`predicted`, per premise),
/// with the operators covering by prediction added, which count like operators covering by
/// polygon. Returns `(cover, cover by the polygons alone)`; the latter is empty without sites.
pub(crate) fn with_predicted(
    by_polygons: Vec<MobileCover>,
    predicted: Option<&[PremiseRadio]>,
) -> (Vec<MobileCover>, Vec<MobileCover>) {
    let Some(predicted) = predicted else {
        return (by_polygons, Vec::new());
    };
    let mut cover = by_polygons.clone();
    for (m, r) in cover.iter_mut().zip(predicted) {
        m.operators_4g |= r.operators_4g;
        m.operators_5g |= r.operators_5g;
    }
    (cover, by_polygons)
}

/// The gap kind of every premise.
pub(crate) fn gap_kinds(outcomes: &[summary::Outcome]) -> Vec<Option<GapKind>> {
    outcomes
        .iter()
        .map(|o| GapKind::of(o.fibre_passed, o.mobile_4g_operators > 0))
        .collect()
}

/// The per-area results from the per-premise ones and the gap clusters: the clusters'
/// outlines (with `outlines`: `Some(simplify tolerance)`), each premise's cluster, the
/// tallies (`tally` gives the premise counts; the cluster counts are added here) and the
/// white areas for a tender (with outlines).
#[allow(clippy::too_many_arguments, reason = "the per-area inputs, each named")]
pub(crate) fn per_area(
    layers: &Layers,
    per: PerPremise,
    gap_kind: Vec<Option<GapKind>>,
    clusters: Vec<GapCluster>,
    tally: impl FnOnce(&[Option<u32>], &[summary::Outcome]) -> Vec<Tally>,
    params: Params,
    outlines: Option<Option<f64>>,
    clock: &mut Clock,
) -> Computed {
    let premises = &layers.premises;
    let with_outlines = outlines.is_some();
    let simplify_m = outlines.flatten();
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

    let mut tallies = tally(&per.settlement, &per.outcomes);
    summary::count_clusters(&mut tallies, &clusters);
    clock.lap("tally");
    // White areas for a tender (drawn only for the map outputs, like the gap outlines).
    let aid_areas = with_outlines.then(|| {
        let mut a = crate::policy::aid_areas(&premises.xy, &per.outcomes, layers.policy.aid_cell_m);
        if let Some(tolerance_m) = simplify_m {
            simplify_all_in_place(&mut a.outlines, tolerance_m);
        }
        clock.lap("aid areas");
        a
    });
    Computed {
        settlement: per.settlement,
        fibre: per.fibre,
        mobile: per.mobile,
        mobile_polygons: per.mobile_polygons,
        gap_kind,
        clusters,
        outlines,
        gap_id,
        tallies,
        outcomes: per.outcomes,
        aid_areas,
        planned_counted: per.planned_counted,
    }
}

/// The sums of `tallies` by count column.
pub fn totals(tallies: &[Tally]) -> BTreeMap<String, u64> {
    let mut t = Tally::default();
    for x in tallies {
        t += *x;
    }
    let mut m = BTreeMap::new();
    for (name, get) in tables::COUNT_COLUMNS.iter() {
        m.insert(name.to_string(), get(&t));
    }
    m
}
