//! A workload read once and analysed many times: what a sweep's worker keeps between the
//! scenarios that read the same inputs the same way (`gapmap.distributed.batch`, whose Ray
//! actors each hold one). A scenario that differs only in what the analysis does with the
//! inputs (drop distance, gap clustering, where its files go) takes the layers and indexes
//! held; any other difference reads its inputs anew.
//!
//! An analysis of a held workload is the analysis of a fresh read: the same layers, the same
//! notices in the same order (the readers' are replayed, the plausibility check runs again
//! with the scenario's drop distance), the same files. Only its timings differ: its `read`
//! phase is the moment it took to take the workload, and its `settlements` and `mobile`
//! phases take the premises' settlements and polygon cover that the first analysis of the
//! workload computed (they depend on the inputs alone).

use std::sync::Arc;

use super::plan::{AnalysisPlan, Checked};
use super::read::{checked_inputs, read_layers, Inputs, Known, Layers};
use super::RunMeta;
use crate::error::{Error, Result};
use crate::progress;
use gapmap_core::fibre::FibreIndex;
use gapmap_core::mobile::MobileIndex;
use gapmap_core::par::SpatialOrder;
use gapmap_core::polygon_index::PolygonIndex;
use gapmap_io::PortableContext;

/// Plan fields that only the analysis uses, not the reading: scenarios that differ in them
/// share a workload. Every other field (paths, layers, fields, filters, CRS, outputs, the
/// policy and the goals, cell-site and backbone options) is part of the key.
const ANALYSIS_ONLY: [&str; 7] = [
    "drop_distance_m",
    "gap_cluster_m",
    "gap_margin_m",
    "out",
    "overwrite",
    "threads",
    "lang",
];

/// What decides how `plan`'s inputs are read: the plan as JSON without its analysis-only
/// fields (and the database it writes to).
pub fn read_key(plan: &AnalysisPlan) -> Result<String> {
    let mut v = serde_json::to_value(plan)
        .map_err(|e| Error::Internal(format!("an analysis plan as JSON: {e}")))?;
    if let Some(o) = v.as_object_mut() {
        for k in ANALYSIS_ONLY {
            o.remove(k);
        }
        o.remove("db");
    }
    Ok(v.to_string())
}

/// A workload held: the layers and indexes as read, and what reading them told the user.
struct Held {
    key: String,
    bundled: bool,
    /// The read context as text: GDAL's CRS objects stay on the thread that made them, and a
    /// held workload may serve analyses on other threads.
    ctx: PortableContext,
    layers: Arc<Layers>,
    order: Arc<SpatialOrder>,
    settlement_index: Arc<PolygonIndex>,
    fibre_index: Option<Arc<FibreIndex>>,
    mobile_index: Option<Arc<MobileIndex>>,
    early_simplify_m: Option<f64>,
    /// The notices of the read (the working CRS, the readers), in order.
    notices: Vec<String>,
    /// The per-premise results that depend only on the inputs, once an analysis made them.
    known: Known,
}

impl WorkloadCache {
    /// Keeps what the analysis `r` of the workload held computed that depends only on its
    /// inputs (the premises' settlements and mobile cover), for the next analysis of it.
    pub(crate) fn remember(&mut self, r: &super::Results) -> Result<()> {
        let key = read_key(&r.plan)?;
        if let Some(h) = self.held.as_mut().filter(|h| h.key == key) {
            if h.known.settlement.is_none() && r.known.settlement.is_some() {
                h.known = Known {
                    remember: false,
                    ..r.known.clone()
                };
            }
        }
        Ok(())
    }
}

/// At most one workload, held between analyses (see the module's documentation).
#[derive(Default)]
pub struct WorkloadCache {
    held: Option<Held>,
    reads: usize,
}

impl WorkloadCache {
    /// An empty cache.
    pub fn new() -> WorkloadCache {
        WorkloadCache::default()
    }

    /// How many times inputs were read (not taken from the workload held).
    pub fn reads(&self) -> usize {
        self.reads
    }

    /// The inputs of `plan`, as [`super::read_inputs`] reads them: taken from the workload held
    /// when it was read by a plan with the same [`read_key`], else read (and then held, in
    /// place of the one held before).
    pub fn inputs(
        &mut self,
        plan: AnalysisPlan,
        checked: Checked,
        bundled: bool,
        mut meta: RunMeta,
    ) -> Result<Inputs> {
        let key = read_key(&plan)?;
        match self.held.as_ref().filter(|h| h.key == key) {
            Some(h) => {
                for n in &h.notices {
                    progress::notice(n);
                }
                meta.notices.extend(h.notices.iter().cloned());
                meta.clock.lap("read");
                checked_inputs(Inputs {
                    plan,
                    checked,
                    bundled: h.bundled,
                    ctx: h.ctx.context()?,
                    layers: Arc::clone(&h.layers),
                    order: Arc::clone(&h.order),
                    settlement_index: Arc::clone(&h.settlement_index),
                    fibre_index: h.fibre_index.clone(),
                    mobile_index: h.mobile_index.clone(),
                    early_simplify_m: h.early_simplify_m,
                    known: Known {
                        remember: h.known.settlement.is_none(),
                        ..h.known.clone()
                    },
                    meta,
                })
            }
            None => {
                // The workload held before is let go first: two are never in memory at once.
                self.held = None;
                let mut inputs = read_layers(plan, checked, bundled, meta)?;
                inputs.known.remember = true;
                self.reads += 1;
                self.held = Some(Held {
                    key,
                    bundled: inputs.bundled,
                    ctx: inputs.ctx.portable(),
                    layers: Arc::clone(&inputs.layers),
                    order: Arc::clone(&inputs.order),
                    settlement_index: Arc::clone(&inputs.settlement_index),
                    fibre_index: inputs.fibre_index.clone(),
                    mobile_index: inputs.mobile_index.clone(),
                    early_simplify_m: inputs.early_simplify_m,
                    notices: inputs.meta.notices.clone(),
                    known: Known::default(),
                });
                checked_inputs(inputs)
            }
        }
    }
}
