//! A partitioned analysis: the premises split into square tiles that are analysed apart (on
//! other threads, processes or machines: `gapmap.distributed.analyze` runs them on Ray) and
//! merged into the results of one whole run, file for file.
//!
//! - **Tiles.** Squares of `tile_size_m` in the working CRS, on half-open intervals: the
//!   premise at (x, y) belongs to the tile (⌊x / s⌋, ⌊y / s⌋). Only tiles with premises exist;
//!   they are numbered in (row, column) order.
//! - **A tile's premises.** Its own, and its halo: every other premise within the gap cluster
//!   distance (plus one metre) of the tile's square, so that every link of a gap cluster that
//!   leaves the tile is seen from it.
//! - **What a tile computes** ([`TiledRun::run_tile`]), for its own and halo premises: every
//!   per-premise kernel (settlement, fibre reach, mobile cover, cell-site prediction, the
//!   state-aid outcome). The reference layers are the workload's, read and indexed once per
//!   process; each kernel looks only at the features within its reach of a premise (the
//!   settlement polygons that cover it, the fibre within the drop distance, the coverage
//!   that covers it, the sites whose links can reach it), so a premise's results do not
//!   depend on the tile that computes them. Then the tile's gap clusters, per settlement and
//!   gap kind, by single linkage over its own and halo premises: each one that holds an own
//!   premise is handed back. Then the tallies of its own premises per settlement.
//! - **The merge** ([`TiledRun::assemble`]). Per-premise results go to their premises. The
//!   clusters handed back are joined by a union-find over the premises: every link between two
//!   gap premises within the cluster distance has an end in some tile and the other end in
//!   that tile's own or halo premises, so the joined clusters are exactly the whole run's; they
//!   are numbered as a whole run numbers them (settlement, kind, smallest premise). The tallies
//!   are partial sums, added exactly. Outlines, gap ids, white areas, fibre resilience (a
//!   property of the whole graph) and the outputs follow as in a whole run.
//!
//! `crates/gapmap/tests/tiles.rs` holds the oracle: the files of a tiled run, on seeded random
//! workloads and the bundled region, at tile sizes down to below the cluster distance, are
//! those of the whole run.

mod part;

use std::collections::HashMap;
use std::time::Instant;

use gapmap_core::fibre;
use gapmap_core::gaps::{self, GapCluster, UnionFind};
use gapmap_core::geo::Coord;
use gapmap_core::mobile::{self, MobileCover};
use gapmap_core::par::SpatialOrder;
use gapmap_core::radio::predict::{predict_all, Prediction, SiteIndex, SitePrep};
use gapmap_core::settlement;
use gapmap_core::summary::{self, Tally};

pub use part::{TileInfo, TilePart, TilesRecord};

use super::compute::{
    finish, gap_kinds, per_area, with_predicted, Finished, PerPremise, WorkingCrs,
};
use super::plan::Output;
use super::{Inputs, Results};
use crate::error::{Error, Result};
use crate::policy::Reach;

/// The tile size of `gapmap.distributed.analyze` unless given, in metres.
pub const DEFAULT_TILE_SIZE_M: f64 = 50_000.0;

/// How far beyond the gap cluster distance a tile's halo reaches, in metres: a premise that
/// rounds into a tile from just outside its square still sees all its links.
const HALO_PAD_M: f64 = 1.0;

/// The most rings of neighbouring tiles a halo may span (tiles far smaller than the gap
/// cluster distance would make every tile look at thousands of others).
const MAX_HALO_RINGS: i64 = 16;

/// A tile: its column and row in the grid of squares of the tile size.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct TileKey {
    /// ⌊y / tile size⌋.
    pub row: i64,
    /// ⌊x / tile size⌋.
    pub col: i64,
}

impl std::fmt::Display for TileKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "tile (column {}, row {})", self.col, self.row)
    }
}

/// The premises split into tiles (see the module's documentation).
#[derive(Debug, Clone)]
pub struct Tiling {
    /// The side of a tile, in metres of the working CRS.
    pub tile_size_m: f64,
    /// How far around its square a tile's halo reaches, in metres.
    pub halo_m: f64,
    keys: Vec<TileKey>,
    own: Vec<Vec<u32>>,
    by_key: HashMap<TileKey, usize>,
}

impl Tiling {
    /// The tiles of the premises at `xy` (in the working CRS), with halos of `cluster_m` (the gap
    /// cluster distance). A tile size that is not a positive number of metres, or so small
    /// against the cluster distance that a halo would span more than 16 rings of tiles, is an
    /// error naming `--tile-size-m`.
    pub fn new(xy: &[Coord<f64>], tile_size_m: f64, cluster_m: f64) -> Result<Tiling> {
        let halo_m = cluster_m + HALO_PAD_M;
        if !(tile_size_m.is_finite() && tile_size_m >= 1.0) {
            return Err(Error::Usage(format!(
                "--tile-size-m must be at least 1 metre, got {tile_size_m}"
            )));
        }
        if (halo_m / tile_size_m).ceil() > MAX_HALO_RINGS as f64 {
            return Err(Error::Usage(format!(
                "--tile-size-m {tile_size_m} is too small for the gap cluster distance ({cluster_m} m): \
                 a tile must be at least 1/{MAX_HALO_RINGS} of it, {} m",
                halo_m / MAX_HALO_RINGS as f64
            )));
        }
        if u32::try_from(xy.len()).is_err() {
            return Err(Error::Usage(format!(
                "{} premises are more than a partitioned run can number (at most {})",
                xy.len(),
                u32::MAX
            )));
        }
        let mut by_key: HashMap<TileKey, usize> = HashMap::new();
        let mut keys: Vec<TileKey> = Vec::new();
        let mut own: Vec<Vec<u32>> = Vec::new();
        for (i, &p) in xy.iter().enumerate() {
            let key = key_of(p, tile_size_m);
            let k = *by_key.entry(key).or_insert_with(|| {
                keys.push(key);
                own.push(Vec::new());
                keys.len() - 1
            });
            own[k].push(i as u32);
        }
        // Numbered in (row, column) order.
        let mut order: Vec<usize> = (0..keys.len()).collect();
        order.sort_unstable_by_key(|&k| keys[k]);
        let keys: Vec<TileKey> = order.iter().map(|&k| keys[k]).collect();
        let mut own_sorted: Vec<Vec<u32>> = Vec::with_capacity(own.len());
        for &k in &order {
            own_sorted.push(std::mem::take(&mut own[k]));
        }
        let by_key = keys.iter().enumerate().map(|(k, &key)| (key, k)).collect();
        Ok(Tiling {
            tile_size_m,
            halo_m,
            keys,
            own: own_sorted,
            by_key,
        })
    }

    /// How many tiles hold premises.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when there are no premises.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key of tile `k`.
    pub fn key(&self, k: usize) -> TileKey {
        self.keys[k]
    }

    /// The number of the tile `key`, if it holds premises.
    pub fn index(&self, key: TileKey) -> Option<usize> {
        self.by_key.get(&key).copied()
    }

    /// The premises tile `k` owns, ascending.
    pub fn own(&self, k: usize) -> &[u32] {
        &self.own[k]
    }

    /// The halo of tile `k` (see the module's documentation), ascending.
    pub fn halo(&self, k: usize, xy: &[Coord<f64>]) -> Vec<u32> {
        let key = self.keys[k];
        let s = self.tile_size_m;
        let (x0, y0) = (
            key.col as f64 * s - self.halo_m,
            key.row as f64 * s - self.halo_m,
        );
        let (x1, y1) = (
            key.col.saturating_add(1) as f64 * s + self.halo_m,
            key.row.saturating_add(1) as f64 * s + self.halo_m,
        );
        let rings = (self.halo_m / s).ceil() as i64;
        let mut halo = Vec::new();
        // Saturating: a key at the end of the i64 range (coordinates beyond ±2^63 tiles) has
        // no neighbours past it.
        for row in key.row.saturating_sub(rings)..=key.row.saturating_add(rings) {
            for col in key.col.saturating_sub(rings)..=key.col.saturating_add(rings) {
                let other = TileKey { row, col };
                if other == key {
                    continue;
                }
                let Some(&j) = self.by_key.get(&other) else {
                    continue;
                };
                halo.extend(self.own[j].iter().copied().filter(|&i| {
                    let p = xy[i as usize];
                    p.x >= x0 && p.x <= x1 && p.y >= y0 && p.y <= y1
                }));
            }
        }
        halo.sort_unstable();
        halo
    }
}

/// The tile of the point `p`.
fn key_of(p: Coord<f64>, tile_size_m: f64) -> TileKey {
    // `as` saturates: coordinates are finite (the readers refuse others).
    TileKey {
        row: (p.y / tile_size_m).floor() as i64,
        col: (p.x / tile_size_m).floor() as i64,
    }
}

/// An analysis run tile by tile: its inputs, read and indexed once in this process, and its
/// tiling. Every process that computes tiles holds one; the one that merges them
/// ([`TiledRun::assemble`]) hands back the [`Results`] of the whole run.
pub struct TiledRun {
    inputs: TileInputs,
    tiling: Tiling,
    /// The networks at the state-aid target per premise (with other fixed or planned networks):
    /// one index over the policy layers, so it is found once for every premise.
    reach: Reach,
    /// The cell sites' radii and R-tree (with `--sites`), found once for every tile.
    site_prep: Option<SitePrep>,
    /// The fibre network of the resilience analysis being built beside the tiles
    /// ([`TiledRun::start_network`]), for the merge.
    network: std::sync::Mutex<Option<NetworkBuild>>,
}

/// The fibre network of the resilience analysis, built on a thread of its own.
type NetworkBuild = std::thread::JoinHandle<Option<crate::resilience::Network>>;

/// [`Inputs`] but for the read context, whose GDAL objects stay on the thread that made them:
/// a tiled run serves its tiles from any thread.
struct TileInputs {
    plan: super::AnalysisPlan,
    checked: super::Checked,
    bundled: bool,
    crs: WorkingCrs,
    layers: std::sync::Arc<super::Layers>,
    order: std::sync::Arc<SpatialOrder>,
    settlement_index: std::sync::Arc<gapmap_core::polygon_index::PolygonIndex>,
    fibre_index: Option<std::sync::Arc<gapmap_core::fibre::FibreIndex>>,
    mobile_index: Option<std::sync::Arc<gapmap_core::mobile::MobileIndex>>,
    early_simplify_m: Option<f64>,
    known: super::read::Known,
    meta: super::RunMeta,
}

impl TiledRun {
    /// The tiled run of `inputs` ([`super::read_inputs`]) with tiles of `tile_size_m`.
    pub fn new(inputs: Inputs, tile_size_m: f64) -> Result<TiledRun> {
        let layers = &inputs.layers;
        let params = inputs.checked.params;
        let tiling = Tiling::new(&layers.premises.xy, tile_size_m, params.gap_cluster_m)?;
        let reach = layers.policy.reach(
            layers.fibre.as_ref(),
            &layers.premises.xy,
            params.drop_distance_m,
            &inputs.order,
        );
        let site_prep = layers
            .sites
            .as_ref()
            .map(|(sites, _)| SitePrep::new(&sites.sites, inputs.plan.radio.params()));
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
            meta,
        } = inputs;
        Ok(TiledRun {
            inputs: TileInputs {
                plan,
                checked,
                bundled,
                crs: WorkingCrs::of(&ctx),
                layers,
                order,
                settlement_index,
                fibre_index,
                mobile_index,
                early_simplify_m,
                known,
                meta,
            },
            tiling,
            reach,
            site_prep,
            network: std::sync::Mutex::new(None),
        })
    }

    /// Starts building the fibre network of the resilience analysis (with `--backbone`) on a
    /// thread of its own, beside the tiles: it depends on the inputs alone, and the merge
    /// ([`TiledRun::finish_merge`]) then finds it built. The process that merges calls it
    /// (on Ray, the lead actor, which then computes fewer tiles while the others compute more);
    /// without it, the merge builds the network itself. Calling it again does nothing.
    pub fn start_network(&self) -> Result<()> {
        let layers = &self.inputs.layers;
        if layers.backbone.is_none()
            || layers.fibre.is_none()
            || self.inputs.known.network.is_some()
        {
            return Ok(());
        }
        let mut slot = self
            .network
            .lock()
            .map_err(|_| Error::Internal("the network build's lock was poisoned".into()))?;
        if slot.is_none() {
            let layers = std::sync::Arc::clone(layers);
            let plan = self.inputs.plan.resilience.clone();
            let build = std::thread::Builder::new()
                .name("gapmap-network".into())
                .spawn(move || match (&layers.fibre, &layers.backbone) {
                    (Some(f), Some(bb)) => Some(crate::resilience::network(f, bb, &plan)),
                    _ => None,
                })
                .map_err(|e| Error::Internal(format!("cannot start a thread: {e}")))?;
            *slot = Some(build);
        }
        Ok(())
    }

    /// The tiles.
    pub fn tiling(&self) -> &Tiling {
        &self.tiling
    }

    /// The notices of the read (the working CRS, the readers'), in order.
    pub fn notices(&self) -> &[String] {
        &self.inputs.meta.notices
    }

    /// Computes tile `k` (see the module's documentation). Its kernels run on the current
    /// thread pool.
    pub fn run_tile(&self, k: usize) -> Result<TilePart> {
        if k >= self.tiling.len() {
            return Err(Error::Usage(format!(
                "tile {k} does not exist: the run has {} tiles",
                self.tiling.len()
            )));
        }
        let t0 = Instant::now();
        let inputs = &self.inputs;
        let layers = &inputs.layers;
        let premises = &layers.premises;
        let params = inputs.checked.params;
        let own = self.tiling.own(k);
        let halo = self.tiling.halo(k, &premises.xy);
        // Own and halo premises, ascending, and which are own.
        let mut members: Vec<(u32, bool)> = own
            .iter()
            .map(|&i| (i, true))
            .chain(halo.iter().map(|&i| (i, false)))
            .collect();
        members.sort_unstable();
        let global: Vec<u32> = members.iter().map(|m| m.0).collect();
        let is_own: Vec<bool> = members.iter().map(|m| m.1).collect();
        let xy = at(&premises.xy, &global);
        let order = SpatialOrder::new(&xy);

        let settlement = settlement::assign(&inputs.settlement_index, &xy, &order, &());
        let fibre = inputs
            .fibre_index
            .as_ref()
            .map(|idx| fibre::reach_all(idx, &xy, params.drop_distance_m, &order, &()));
        let by_polygons = match &inputs.mobile_index {
            Some(idx) => mobile::cover_all(idx, &xy, &order, &()),
            None => vec![MobileCover::default(); xy.len()],
        };
        let radio = match (&layers.sites, &self.site_prep) {
            (Some((sites, dem)), Some(prep)) => {
                let dem = dem.as_ref().map(|d| &d.dem);
                let index = SiteIndex::with_prep(&sites.sites, prep, dem).ok_or_else(|| {
                    Error::Internal(format!(
                        "{}: the cell-site index was made for {} sites, not {}",
                        self.tiling.key(k),
                        prep.len(),
                        sites.sites.len()
                    ))
                })?;
                Some(predict_all(&index, &xy, 0, &()).premises)
            }
            _ => None,
        };
        let (mobile, mobile_polygons) = with_predicted(by_polygons, radio.as_deref());
        let aid = self.reach.aid_networks.as_deref().map(|v| at(v, &global));
        let fast = self.reach.fast_fixed.as_deref().map(|v| at(v, &global));
        let rules = summary::Rules {
            drop_distance_m: params.drop_distance_m,
            stand_in: layers.policy.stand_in,
        };
        let outcomes = summary::outcomes(
            &at(&premises.households, &global),
            &at(&premises.workplaces, &global),
            fibre.as_deref(),
            &mobile,
            aid.as_deref(),
            fast.as_deref(),
            &rules,
        );
        let kinds = gap_kinds(&outcomes);
        let clusters: Vec<Vec<u32>> = gaps::cluster(&xy, &kinds, &settlement, params.gap_cluster_m)
            .into_iter()
            .filter(|c| c.premises.iter().any(|&l| is_own[l as usize]))
            .map(|c| c.premises.iter().map(|&l| global[l as usize]).collect())
            .collect();

        // The tile's own premises.
        let settlement = keep_own(&settlement, &is_own);
        let outcomes = keep_own(&outcomes, &is_own);
        let tallies = summary::tally(layers.settlements.areas.len(), &settlement, &outcomes);
        Ok(TilePart {
            key: self.tiling.key(k),
            own: own.to_vec(),
            settlement,
            fibre: fibre.as_deref().map(|f| keep_own(f, &is_own)),
            mobile: keep_own(&mobile, &is_own),
            mobile_polygons: keep_own(&mobile_polygons, &is_own),
            radio: radio.as_deref().map(|r| keep_own(r, &is_own)),
            outcomes,
            tallies,
            clusters,
            info: TileInfo {
                key: self.tiling.key(k),
                premises: own.len() as u64,
                halo_premises: halo.len() as u64,
                seconds: t0.elapsed().as_secs_f64(),
                worker: String::new(),
            },
        })
    }

    /// The results of the whole run from the parts of every tile (in any order): exactly those
    /// of [`super::compute`] on the same inputs. A tile missing, given twice, or a part that
    /// does not fit the tiling is an error naming the tile.
    pub fn assemble(self, parts: Vec<TilePart>) -> Result<Results> {
        let mut merger = self.merger();
        for p in parts {
            merger.add(&self, p)?;
        }
        self.finish_merge(merger)
    }

    /// An empty [`Merger`] for this run's parts.
    pub fn merger(&self) -> Merger {
        let layers = &self.inputs.layers;
        let n = layers.premises.xy.len();
        let has_sites = layers.sites.is_some();
        Merger {
            seen: vec![false; self.tiling.len()],
            settlement: vec![None; n],
            fibre: layers
                .fibre
                .is_some()
                .then(|| vec![gapmap_core::fibre::FibreReach::NONE; n]),
            mobile: vec![MobileCover::default(); n],
            mobile_polygons: if has_sites {
                vec![MobileCover::default(); n]
            } else {
                Vec::new()
            },
            radio: has_sites.then(|| vec![gapmap_core::radio::predict::PremiseRadio::NONE; n]),
            outcomes: vec![summary::Outcome::default(); n],
            tallies: vec![Tally::default(); layers.settlements.areas.len() + 1],
            handed_back: Vec::new(),
            infos: Vec::new(),
        }
    }

    /// The results of the whole run from `merger`, which every tile's part went into: exactly
    /// those of [`super::compute`] on the same inputs. A tile missing is an error naming it.
    pub fn finish_merge(self, merger: Merger) -> Result<Results> {
        if let Some(k) = merger.seen.iter().position(|s| !s) {
            return Err(part_error(self.tiling.key(k), "it is missing"));
        }
        let TiledRun {
            mut inputs,
            tiling,
            reach,
            site_prep,
            network,
        } = self;
        drop(site_prep);
        let built = network
            .into_inner()
            .map_err(|_| Error::Internal("the network build's lock was poisoned".into()))?;
        if let Some(build) = built {
            let network = build
                .join()
                .map_err(|_| Error::Internal("building the fibre network failed".into()))?;
            inputs.known.network = network.map(std::sync::Arc::new);
        }
        let TileInputs {
            plan,
            checked,
            bundled,
            crs,
            layers,
            order,
            settlement_index,
            fibre_index,
            mobile_index,
            early_simplify_m,
            known,
            mut meta,
        } = inputs;
        meta.clock.lap("tiles");
        let resilience_on = layers.backbone.is_some() && layers.fibre.is_some();
        // What only the tiles needed goes before the merged results grow.
        drop((fibre_index, mobile_index));
        let (settlement_index, order) = match resilience_on {
            true => (Some(settlement_index), Some(order)),
            false => (None, None),
        };
        let Merger {
            settlement,
            fibre,
            mobile,
            mobile_polygons,
            radio,
            outcomes,
            tallies,
            handed_back,
            mut infos,
            ..
        } = merger;
        infos.sort_by_key(|i| i.key);
        let gap_kind = gap_kinds(&outcomes);
        let clusters = join_clusters(&handed_back, &gap_kind, &settlement)?;
        drop(handed_back);

        let with_outlines = plan.wants(Output::Maps) || plan.gpkg;
        let params = checked.params;
        let computed = per_area(
            &layers,
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
            |_, _| tallies,
            params,
            with_outlines.then_some(early_simplify_m),
            &mut meta.clock,
        );
        meta.tiles = Some(part::TilesRecord {
            tile_size_m: tiling.tile_size_m,
            halo_m: tiling.halo_m,
            tiles: infos,
        });
        Ok(finish(
            Finished {
                plan,
                checked,
                bundled,
                crs,
                layers,
                site_prediction: radio.map(|premises| Prediction {
                    premises,
                    per_operator_dbm: Vec::new(),
                    slots: 0,
                }),
                computed,
                kept_settlement_index: settlement_index,
                kept_order: order,
                early_simplify_m,
                known,
            },
            meta,
        ))
    }
}

/// The values of `v` at the indices `at`.
fn at<T: Copy>(v: &[T], at: &[u32]) -> Vec<T> {
    at.iter().map(|&i| v[i as usize]).collect()
}

/// The values of `v` at the premises that are `own` (`v` empty: none).
fn keep_own<T: Copy>(v: &[T], own: &[bool]) -> Vec<T> {
    v.iter()
        .zip(own)
        .filter(|(_, &o)| o)
        .map(|(x, _)| *x)
        .collect()
}

/// The parts of a tiled run's tiles, merged as they come ([`Merger::add`]): each part is let go
/// once its columns are in, so that the parts and the merged columns are never all in memory.
pub struct Merger {
    seen: Vec<bool>,
    settlement: Vec<Option<u32>>,
    fibre: Option<Vec<gapmap_core::fibre::FibreReach>>,
    mobile: Vec<MobileCover>,
    mobile_polygons: Vec<MobileCover>,
    radio: Option<Vec<gapmap_core::radio::predict::PremiseRadio>>,
    outcomes: Vec<summary::Outcome>,
    tallies: Vec<Tally>,
    handed_back: Vec<(TileKey, Vec<Vec<u32>>)>,
    infos: Vec<TileInfo>,
}

impl Merger {
    /// Whether the part of tile `key` is in.
    pub fn has(&self, run: &TiledRun, key: TileKey) -> bool {
        run.tiling.index(key).is_some_and(|k| self.seen[k])
    }

    /// Puts the part `p` of a tile of `run` in. A part of no tile of the run, one given twice,
    /// or one that does not fit its tile is an error naming the tile.
    pub fn add(&mut self, run: &TiledRun, mut p: TilePart) -> Result<()> {
        let tiling = &run.tiling;
        let layers = &run.inputs.layers;
        let k = tiling
            .index(p.key)
            .ok_or_else(|| part_error(p.key, "it is not a tile of this run"))?;
        if self.seen[k] {
            return Err(part_error(p.key, "it came twice"));
        }
        p.check(
            tiling.own(k),
            layers.fibre.is_some(),
            layers.sites.is_some(),
            self.tallies.len(),
            self.outcomes.len(),
        )?;
        self.seen[k] = true;
        for (j, &i) in p.own.iter().enumerate() {
            let i = i as usize;
            self.settlement[i] = p.settlement[j];
            self.mobile[i] = p.mobile[j];
            self.outcomes[i] = p.outcomes[j];
            if let (Some(all), Some(part)) = (self.fibre.as_mut(), p.fibre.as_ref()) {
                all[i] = part[j];
            }
            if let (Some(all), Some(part)) = (self.radio.as_mut(), p.radio.as_ref()) {
                all[i] = part[j];
            }
            if !self.mobile_polygons.is_empty() {
                self.mobile_polygons[i] = p.mobile_polygons[j];
            }
        }
        for (t, pt) in self.tallies.iter_mut().zip(&p.tallies) {
            *t += *pt;
        }
        self.handed_back
            .push((p.key, std::mem::take(&mut p.clusters)));
        self.infos.push(p.info);
        Ok(())
    }
}

/// A tiled run serves its tiles from any thread.
const _: fn() = || {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<TiledRun>();
};

/// A part that does not fit the run.
fn part_error(key: TileKey, why: &str) -> Error {
    Error::Internal(format!(
        "the part of {key} cannot be merged: {why}; nothing was written"
    ))
}

/// The gap clusters of the whole run from those the tiles handed back (see the module's
/// documentation), numbered as [`gaps::cluster`] numbers them.
fn join_clusters(
    parts: &[(TileKey, Vec<Vec<u32>>)],
    gap_kind: &[Option<gaps::GapKind>],
    settlement: &[Option<u32>],
) -> Result<Vec<GapCluster>> {
    let n = gap_kind.len();
    let group = |i: u32| (settlement[i as usize], gap_kind[i as usize]);
    let mut uf = UnionFind::new(n);
    let mut handed_back = vec![false; n];
    for (key, clusters) in parts {
        for c in clusters {
            let Some(&first) = c.first() else {
                return Err(part_error(*key, "it holds an empty gap cluster"));
            };
            if gap_kind[first as usize].is_none() {
                return Err(part_error(
                    *key,
                    "a gap cluster holds a premise without a gap",
                ));
            }
            for &i in &c[1..] {
                if group(i) != group(first) {
                    return Err(part_error(
                        *key,
                        "a gap cluster spans settlements or gap kinds",
                    ));
                }
                uf.union(first, i);
            }
            for &i in c {
                handed_back[i as usize] = true;
            }
        }
    }
    if let Some(i) = (0..n).find(|&i| gap_kind[i].is_some() && !handed_back[i]) {
        return Err(Error::Internal(format!(
            "premise {i} has a gap but no tile handed back its gap cluster; nothing was written"
        )));
    }
    let mut cluster_of_root = vec![u32::MAX; n];
    let mut clusters: Vec<GapCluster> = Vec::new();
    for i in 0..n as u32 {
        let Some(kind) = gap_kind[i as usize] else {
            continue;
        };
        let root = uf.find(i) as usize;
        if cluster_of_root[root] == u32::MAX {
            cluster_of_root[root] = clusters.len() as u32;
            clusters.push(GapCluster {
                kind,
                settlement: settlement[i as usize],
                premises: Vec::new(),
            });
        }
        clusters[cluster_of_root[root] as usize].premises.push(i);
    }
    // Settlement (rural last), kind, smallest premise: as a whole run orders them.
    clusters.sort_unstable_by_key(|c| {
        (
            c.settlement.unwrap_or(u32::MAX),
            c.kind,
            c.premises.first().copied(),
        )
    });
    Ok(clusters)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(x: f64, y: f64) -> Coord<f64> {
        Coord { x, y }
    }

    #[test]
    fn tiles_are_half_open_and_halos_reach_the_cluster_distance() {
        // Tiles of 100 m, halos of 30 m (+1 m).
        let xy = [
            at(0.0, 0.0),      // tile (0, 0), its corner
            at(99.999, 50.0),  // tile (0, 0)
            at(100.0, 50.0),   // tile (1, 0): the edge belongs to the next tile
            at(130.5, 50.0),   // tile (1, 0), 30.5 m from tile (0, 0): in its halo
            at(131.5, 50.0),   // 31.5 m away: not
            at(-0.5, -0.5),    // tile (-1, -1)
            at(f64::MAX, 0.0), // far beyond any i64 tile: saturates, still a tile
        ];
        let t = Tiling::new(&xy, 100.0, 30.0).unwrap_or_else(|e| panic!("{e}"));
        let keys: Vec<(i64, i64)> = (0..t.len()).map(|k| (t.key(k).col, t.key(k).row)).collect();
        assert_eq!(keys, [(-1, -1), (0, 0), (1, 0), (i64::MAX, 0)]);
        let k0 = t.index(TileKey { row: 0, col: 0 }).unwrap_or(usize::MAX);
        assert_eq!(t.own(k0), [0, 1]);
        assert_eq!(t.halo(k0, &xy), [2, 3, 5]);
        let k1 = t.index(TileKey { row: 0, col: 1 }).unwrap_or(usize::MAX);
        assert_eq!(t.own(k1), [2, 3, 4]);
        assert_eq!(t.halo(k1, &xy), [1]);
        assert!(t.halo(t.len() - 1, &xy).is_empty());
        // Tiles smaller than the halo: it spans rings of tiles.
        let t = Tiling::new(&xy, 10.0, 30.0).unwrap_or_else(|e| panic!("{e}"));
        let k = t.index(TileKey { row: 5, col: 10 }).unwrap_or(usize::MAX);
        assert_eq!(t.halo(k, &xy), [1, 3, 4]);
        for bad in [0.5, f64::NAN, f64::INFINITY, 1.0] {
            let e = Tiling::new(&xy, bad, 30.0).map(|_| ()).unwrap_err();
            assert!(e.to_string().contains("--tile-size-m"), "{bad}: {e}");
        }
    }
}
