//! Predicted coverage from cell sites: the link budget, an R-tree of sites with a maximum
//! radius each, and the per-premise best server.
//!
//! Received power over the whole channel is `EIRP − path loss − pattern loss − terrain
//! diffraction − indoor loss`. Coverage thresholds are on RSRP, the power of one resource
//! element (15 kHz for LTE, 30 kHz for NR at 3.5 GHz): `RSRP = channel power − 10 log10(12 ·
//! N_RB)`, `N_RB` the resource blocks of the channel bandwidth (TS 36.101 Table 5.6-1, TS
//! 38.101-1 Table 5.3.2-1).
//!
//! Each site has a maximum radius from its link budget: beyond it even the least loss the site
//! could have (its model, never below free space, with no pattern or terrain loss; in line of
//! sight when terrain decides it) leaves RSRP below the threshold, so premises only see the
//! sites whose radius reaches them. Every loss term is non-decreasing in distance, which makes
//! the radius exact (tested against brute force). The best-server and per-operator values are
//! over the sites that can reach the threshold at the premise; a premise none can reach has
//! none.

use geo::Coord;
use rayon::prelude::*;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

use super::antenna::{bearing_deg, Sector};
use super::free_space;
use super::terrain::{analyse_path, Dem, ProfileScratch};
use super::{Link, Los, Model, PathLoss};
use crate::mobile::Tech;
use crate::par::Progress;

/// One cell site (one carrier: one operator, technology and frequency).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Site {
    /// Position, in the working CRS.
    pub xy: Coord<f64>,
    /// Interned operator id.
    pub operator: u32,
    /// 4G or 5G.
    pub tech: Tech,
    /// Antenna height above ground, metres.
    pub height_m: f64,
    /// Carrier frequency, MHz.
    pub frequency_mhz: f64,
    /// EIRP of the whole channel at boresight, dBm.
    pub eirp_dbm: f64,
    /// Channel bandwidth, MHz.
    pub bandwidth_mhz: f64,
    /// Antenna direction and pattern.
    pub sector: Sector,
    /// The path-loss model.
    pub model: Model,
}

/// LTE resource blocks per channel bandwidth (TS 36.101 Table 5.6-1).
const LTE_RB: [(f64, u32); 6] = [
    (1.4, 6),
    (3.0, 15),
    (5.0, 25),
    (10.0, 50),
    (15.0, 75),
    (20.0, 100),
];
/// NR resource blocks at 30 kHz subcarrier spacing, FR1 (TS 38.101-1 Table 5.3.2-1).
const NR_RB_30KHZ: [(f64, u32); 14] = [
    (5.0, 11),
    (10.0, 24),
    (15.0, 38),
    (20.0, 51),
    (25.0, 65),
    (30.0, 78),
    (40.0, 106),
    (50.0, 133),
    (60.0, 162),
    (70.0, 189),
    (80.0, 217),
    (90.0, 245),
    (100.0, 273),
    (200.0, 273 * 2),
];

/// Resource blocks of a channel: the standard table's value for a standard bandwidth, else
/// proportional to the bandwidth (90 % occupancy). `None` for other technologies.
pub fn resource_blocks(tech: Tech, bandwidth_mhz: f64) -> Option<u32> {
    let (table, scs_khz): (&[(f64, u32)], f64) = match tech {
        Tech::G4 => (&LTE_RB, 15.0),
        Tech::G5 => (&NR_RB_30KHZ, 30.0),
        Tech::Other => return None,
    };
    if let Some(&(_, rb)) = table
        .iter()
        .find(|(bw, _)| (bw - bandwidth_mhz).abs() < 1e-9)
    {
        return Some(rb);
    }
    Some(((0.9 * bandwidth_mhz * 1000.0 / (12.0 * scs_khz)).floor() as u32).max(1))
}

/// dB between whole-channel power and RSRP: `10 log10(12 · N_RB)`.
pub fn rsrp_offset_db(tech: Tech, bandwidth_mhz: f64) -> f64 {
    resource_blocks(tech, bandwidth_mhz).map_or(0.0, |rb| 10.0 * f64::from(12 * rb).log10())
}

/// Where line of sight comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LosMode {
    /// A fixed choice, or the model's LOS probability.
    Fixed(Los),
    /// From the DEM, per link; a link the DEM does not cover gets [`RadioParams::off_dem`].
    Terrain,
}

/// Link-budget parameters shared by all sites.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RadioParams {
    /// Terminal antenna height above ground, metres.
    pub ue_height_m: f64,
    /// Building entry loss subtracted for indoor coverage, dB (0 = outdoor).
    pub indoor_loss_db: f64,
    /// Coverage threshold on RSRP for 4G, dBm.
    pub threshold_4g_dbm: f64,
    /// Coverage threshold on SS-RSRP for 5G, dBm.
    pub threshold_5g_dbm: f64,
    /// Line of sight: from the terrain, or fixed.
    pub los: LosMode,
    /// With terrain, what a link the DEM does not cover gets: the model's LOS probability,
    /// or line of sight (flat ground).
    pub off_dem: Los,
}

impl RadioParams {
    /// The RSRP threshold for `tech`, dBm.
    pub fn threshold_dbm(&self, tech: Tech) -> f64 {
        match tech {
            Tech::G5 => self.threshold_5g_dbm,
            _ => self.threshold_4g_dbm,
        }
    }
}

/// One evaluated link.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinkBudget {
    /// Received reference-signal power, dBm.
    pub rsrp_dbm: f64,
    /// The link is outside the model's published range (distance, heights or frequency).
    pub extrapolated: bool,
    /// Whether the terrain decided the link.
    pub terrain: Terrain,
}

/// Whether the terrain decided a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Terrain {
    /// Line of sight is not from the terrain (fixed, or no DEM).
    NotUsed,
    /// The DEM covers the link: its line of sight and diffraction are from the terrain.
    Dem,
    /// Terrain was asked for, but the DEM does not cover the link: it got
    /// [`RadioParams::off_dem`].
    OffDem,
}

type SiteBox = GeomWithData<Rectangle<[f64; 2]>, u32>;

/// What indexing sites computes, owned: each site's radius and RSRP offset, and the R-tree of
/// their discs. Made once ([`SitePrep::new`]) and lent to any number of [`SiteIndex`] views
/// ([`SiteIndex::with_prep`]), e.g. one per tile of a partitioned run, so the radius of every
/// site is found once.
#[derive(Debug, Clone)]
pub struct SitePrep {
    /// Maximum radius per site, metres (0: the site reaches no one).
    radius_m: Vec<f64>,
    /// RSRP offset per site, dB.
    offset_db: Vec<f64>,
    tree: RTree<SiteBox>,
    /// The prediction's parameters.
    params: RadioParams,
}

impl SitePrep {
    /// Indexes `sites` under `params`.
    pub fn new(sites: &[Site], params: RadioParams) -> SitePrep {
        let radius_m: Vec<f64> = sites.par_iter().map(|s| max_radius_m(s, &params)).collect();
        let offset_db = sites
            .iter()
            .map(|s| rsrp_offset_db(s.tech, s.bandwidth_mhz))
            .collect();
        let boxes = sites
            .iter()
            .zip(&radius_m)
            .enumerate()
            .filter(|(_, (_, &r))| r > 0.0)
            .map(|(i, (s, &r))| {
                SiteBox::new(
                    Rectangle::from_corners([s.xy.x - r, s.xy.y - r], [s.xy.x + r, s.xy.y + r]),
                    i as u32,
                )
            })
            .collect();
        SitePrep {
            radius_m,
            offset_db,
            tree: RTree::bulk_load(boxes),
            params,
        }
    }

    /// The number of sites it was made for.
    pub fn len(&self) -> usize {
        self.radius_m.len()
    }

    /// True when it was made for no sites.
    pub fn is_empty(&self) -> bool {
        self.radius_m.is_empty()
    }
}

/// Sites indexed by their coverage discs: the sites, their [`SitePrep`] (owned or lent) and
/// the terrain.
#[derive(Debug)]
pub struct SiteIndex<'a> {
    /// The sites indexed.
    pub sites: &'a [Site],
    prep: std::borrow::Cow<'a, SitePrep>,
    dem: Option<&'a Dem>,
}

/// Per-link scratch space.
#[derive(Debug, Default, Clone)]
pub struct Scratch {
    candidates: Vec<u32>,
    profile: ProfileScratch,
}

fn link(site: &Site, d2d_m: f64, params: &RadioParams, los: Los) -> Link {
    Link {
        d2d_m,
        h_bs_m: site.height_m,
        h_ut_m: params.ue_height_m,
        frequency_mhz: site.frequency_mhz,
        los,
    }
}

/// The line-of-sight state that bounds a site's loss from below at every distance, for the
/// radius: the fixed choice itself when the loss is then non-decreasing in distance (LOS, NLOS,
/// and the LOS probability for terminals up to 13 m, whose UMa probability falls with
/// distance), else line of sight (terrain decides per link, and UMa's probability for high
/// terminals is not monotone).
fn bounding_los(params: &RadioParams) -> Los {
    match params.los {
        LosMode::Fixed(Los::Probability) if params.ue_height_m > 13.0 => Los::Los,
        LosMode::Fixed(l) => l,
        LosMode::Terrain => Los::Los,
    }
}

/// RSRP at 2D distance `d` with no pattern or terrain loss, in the bounding line-of-sight
/// state: the most the site can deliver there.
fn best_case_rsrp_dbm(site: &Site, offset_db: f64, params: &RadioParams, d: f64) -> f64 {
    site.eirp_dbm
        - offset_db
        - params.indoor_loss_db
        - site
            .model
            .loss_at_least_free_space_db(&link(site, d, params, bounding_los(params)))
}

/// The largest 2D distance at which `site` can reach the threshold, metres; 0 when it cannot
/// even at 1 m.
pub fn max_radius_m(site: &Site, params: &RadioParams) -> f64 {
    let offset = rsrp_offset_db(site.tech, site.bandwidth_mhz);
    let threshold = params.threshold_dbm(site.tech);
    let ok = |d: f64| best_case_rsrp_dbm(site, offset, params, d) >= threshold;
    if !ok(1.0) {
        return 0.0;
    }
    // Free space bounds every model from below, so its distance bounds the radius from above.
    let margin = site.eirp_dbm - offset - params.indoor_loss_db - threshold;
    let mut hi = free_space::distance_for_loss_m(margin, site.frequency_mhz).max(2.0) * 1.001
        + site.height_m;
    if ok(hi) {
        return hi;
    }
    let mut lo = 1.0;
    while hi - lo > 1e-3 * lo.max(1.0) {
        let mid = 0.5 * (lo + hi);
        if ok(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi
}

impl<'a> SiteIndex<'a> {
    /// Indexes `sites` under `params`, with terrain from `dem` when given.
    pub fn new(sites: &'a [Site], params: RadioParams, dem: Option<&'a Dem>) -> SiteIndex<'a> {
        SiteIndex {
            sites,
            prep: std::borrow::Cow::Owned(SitePrep::new(sites, params)),
            dem,
        }
    }

    /// The index of `sites` from `prep`, which [`SitePrep::new`] made for the same sites
    /// (the same slice, or an equal one), with terrain from `dem` when given: what
    /// [`SiteIndex::new`] gives, without finding the radii again. `None` when `prep` was
    /// made for another number of sites.
    pub fn with_prep(
        sites: &'a [Site],
        prep: &'a SitePrep,
        dem: Option<&'a Dem>,
    ) -> Option<SiteIndex<'a>> {
        (prep.len() == sites.len()).then_some(SiteIndex {
            sites,
            prep: std::borrow::Cow::Borrowed(prep),
            dem,
        })
    }

    /// The index with every site's radius infinite, so that [`SiteIndex::budget`] evaluates
    /// any site at any distance: the brute force that oracles and benchmarks compare with.
    /// (Its R-tree still holds the finite discs: use it through `budget`, not
    /// [`predict_all`].)
    pub fn without_radius_cut(mut self) -> SiteIndex<'a> {
        self.prep
            .to_mut()
            .radius_m
            .iter_mut()
            .for_each(|r| *r = f64::INFINITY);
        self
    }

    /// Maximum radius per site, metres (0: the site reaches no one).
    pub fn radius_m(&self) -> &[f64] {
        &self.prep.radius_m
    }

    /// The prediction's parameters.
    pub fn params(&self) -> &RadioParams {
        &self.prep.params
    }

    /// The link budget from site `i` to a terminal at `p`, or `None` when the link cannot
    /// reach the threshold: beyond the site's radius, or, with terrain, short of it even in
    /// line of sight over bare ground.
    pub fn budget(
        &self,
        i: u32,
        p: Coord<f64>,
        scratch: &mut ProfileScratch,
    ) -> Option<LinkBudget> {
        let site = &self.sites[i as usize];
        let (dx, dy) = (p.x - site.xy.x, p.y - site.xy.y);
        let d2d = dx.hypot(dy);
        if d2d > self.prep.radius_m[i as usize] {
            return None;
        }
        let params = &self.prep.params;
        let pattern_db = if site.sector.is_omni() {
            0.0
        } else {
            let depression = (site.height_m - params.ue_height_m)
                .atan2(d2d.max(1e-9))
                .to_degrees();
            site.sector.loss_db(bearing_deg(site.xy, p), depression)
        };
        let base_dbm =
            site.eirp_dbm - self.prep.offset_db[i as usize] - params.indoor_loss_db - pattern_db;
        let mut terrain_db = 0.0;
        let mut terrain = Terrain::NotUsed;
        let los = match (params.los, self.dem) {
            (LosMode::Fixed(l), _) => l,
            (LosMode::Terrain, Some(dem)) => {
                // Terrain only adds loss (diffraction, or NLOS instead of LOS): a link that
                // misses the threshold in line of sight without it cannot reach it, like a
                // link beyond the radius, and its profile is not drawn.
                let los_dbm = base_dbm
                    - site
                        .model
                        .loss_at_least_free_space_db(&link(site, d2d, params, Los::Los));
                if los_dbm < params.threshold_dbm(site.tech) {
                    return None;
                }
                match analyse_path(
                    dem,
                    site.xy,
                    site.height_m,
                    p,
                    params.ue_height_m,
                    site.frequency_mhz,
                    scratch,
                ) {
                    Some(t) => {
                        terrain_db = t.diffraction_db;
                        terrain = Terrain::Dem;
                        if t.los {
                            Los::Los
                        } else {
                            Los::Nlos
                        }
                    }
                    None => {
                        terrain = Terrain::OffDem;
                        params.off_dem
                    }
                }
            }
            (LosMode::Terrain, None) => Los::Probability,
        };
        let l = link(site, d2d, params, los);
        let path_db = site.model.loss_at_least_free_space_db(&l);
        let extrapolated = match site.model {
            Model::RMa(m) => !m.in_range(&l),
            m => !m.validity().contains(&l),
        };
        Some(LinkBudget {
            rsrp_dbm: base_dbm - path_db - terrain_db,
            extrapolated,
            terrain,
        })
    }

    /// Calls `f(site, budget)` for every site whose radius reaches `p`, in site order.
    pub fn for_each_link(
        &self,
        p: Coord<f64>,
        scratch: &mut Scratch,
        mut f: impl FnMut(u32, LinkBudget),
    ) {
        scratch.candidates.clear();
        scratch.candidates.extend(
            self.prep
                .tree
                .locate_all_at_point(&[p.x, p.y])
                .map(|b| b.data),
        );
        scratch.candidates.sort_unstable();
        for k in 0..scratch.candidates.len() {
            let i = scratch.candidates[k];
            if let Some(b) = self.budget(i, p, &mut scratch.profile) {
                f(i, b);
            }
        }
    }

    /// Sites whose disc meets the envelope, unsorted.
    pub fn sites_in(&self, env: AABB<[f64; 2]>) -> impl Iterator<Item = u32> + '_ {
        self.prep
            .tree
            .locate_in_envelope_intersecting(&env)
            .map(|b| b.data)
    }
}

/// Sentinel for "no site".
pub const NO_SITE: u32 = u32::MAX;

/// What the sites deliver at one premise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PremiseRadio {
    /// Best 4G server and its RSRP (dBm), over the sites whose link can reach the threshold
    /// (see [`SiteIndex::budget`]); the best is below the threshold only where terrain or the
    /// antenna pattern took the signal under it.
    pub best_4g_site: u32,
    /// RSRP of the best 4G server, dBm (not finite without one).
    pub best_4g_rsrp_dbm: f32,
    /// Best 5G server ([`NO_SITE`] without one).
    pub best_5g_site: u32,
    /// SS-RSRP of the best 5G server, dBm (not finite without one).
    pub best_5g_rsrp_dbm: f32,
    /// Sites at or above the threshold.
    pub sites_4g: u16,
    /// 5G sites at or above the threshold.
    pub sites_5g: u16,
    /// Operators with a site at or above the threshold, as bit sets.
    pub operators_4g: u64,
    /// Operators with a 5G site at or above the threshold, as a bit set.
    pub operators_5g: u64,
    /// The one 4G site covering the premise, when exactly one does.
    pub only_4g_site: u32,
    /// A covering or best-server link is outside its model's published range.
    pub extrapolated: bool,
    /// Links to the premise (of sites that could reach the threshold there) that the DEM
    /// decided.
    pub links_on_dem: u16,
    /// Links to the premise that terrain was asked for but the DEM does not cover.
    pub links_off_dem: u16,
}

impl PremiseRadio {
    /// No site reaches the premise.
    pub const NONE: PremiseRadio = PremiseRadio {
        best_4g_site: NO_SITE,
        best_4g_rsrp_dbm: f32::NEG_INFINITY,
        best_5g_site: NO_SITE,
        best_5g_rsrp_dbm: f32::NEG_INFINITY,
        sites_4g: 0,
        sites_5g: 0,
        operators_4g: 0,
        operators_5g: 0,
        only_4g_site: NO_SITE,
        extrapolated: false,
        links_on_dem: 0,
        links_off_dem: 0,
    };

    /// Whether terrain decided the premise's links: `None` when it was not asked for (or no
    /// site reaches the premise), else `dem` (every link on the DEM), `off_dem` (none) or
    /// `partly_off_dem`.
    pub fn terrain(&self) -> Option<&'static str> {
        match (self.links_on_dem, self.links_off_dem) {
            (0, 0) => None,
            (_, 0) => Some("dem"),
            (0, _) => Some("off_dem"),
            _ => Some("partly_off_dem"),
        }
    }
}

/// Predicts one premise. `per_operator`, when not empty, receives the best RSRP per (operator,
/// technology) at `2 · operator + (tech == 5G)`.
pub fn predict_premise(
    index: &SiteIndex,
    p: Coord<f64>,
    scratch: &mut Scratch,
    per_operator: &mut [f32],
) -> PremiseRadio {
    let mut r = PremiseRadio::NONE;
    let (mut best4_extra, mut best5_extra) = (false, false);
    let mut covering_extrapolated = false;
    let params = *index.params();
    index.for_each_link(p, scratch, |i, b| {
        let site = &index.sites[i as usize];
        let rsrp = b.rsrp_dbm as f32;
        let covered = b.rsrp_dbm >= params.threshold_dbm(site.tech);
        let five = site.tech == Tech::G5;
        if covered {
            covering_extrapolated |= b.extrapolated;
        }
        match b.terrain {
            Terrain::Dem => r.links_on_dem = r.links_on_dem.saturating_add(1),
            Terrain::OffDem => r.links_off_dem = r.links_off_dem.saturating_add(1),
            Terrain::NotUsed => {}
        }
        let bit = 1u64 << site.operator;
        if five {
            if rsrp > r.best_5g_rsrp_dbm {
                (r.best_5g_site, r.best_5g_rsrp_dbm, best5_extra) = (i, rsrp, b.extrapolated);
            }
            if covered {
                r.sites_5g += 1;
                r.operators_5g |= bit;
            }
        } else {
            if rsrp > r.best_4g_rsrp_dbm {
                (r.best_4g_site, r.best_4g_rsrp_dbm, best4_extra) = (i, rsrp, b.extrapolated);
            }
            if covered {
                r.sites_4g = r.sites_4g.saturating_add(1);
                r.operators_4g |= bit;
                r.only_4g_site = if r.sites_4g == 1 { i } else { NO_SITE };
            }
        }
        if !per_operator.is_empty() {
            let slot = 2 * site.operator as usize + usize::from(five);
            if rsrp > per_operator[slot] {
                per_operator[slot] = rsrp;
            }
        }
    });
    r.extrapolated = covering_extrapolated || best4_extra || best5_extra;
    r
}

/// Predictions for many premises, in input order.
#[derive(Debug, Clone)]
pub struct Prediction {
    /// Per premise, in input order.
    pub premises: Vec<PremiseRadio>,
    /// `slots` values per premise (see [`predict_premise`]); empty unless asked for.
    pub per_operator_dbm: Vec<f32>,
    /// Values per premise in `per_operator_dbm`.
    pub slots: usize,
}

/// Premises per parallel task.
const BATCH: usize = 1024;

/// Predicts every premise in parallel (results in input order, independent of the thread
/// count). With `operators > 0`, also the best RSRP per (operator, technology).
pub fn predict_all(
    index: &SiteIndex,
    premises: &[Coord<f64>],
    operators: usize,
    progress: &dyn Progress,
) -> Prediction {
    let slots = 2 * operators;
    let mut out = vec![PremiseRadio::NONE; premises.len()];
    let mut per = vec![f32::NEG_INFINITY; premises.len() * slots];
    let run = |k: usize, chunk: &mut [PremiseRadio], per: &mut [f32]| {
        let mut scratch = Scratch::default();
        for (j, r) in chunk.iter_mut().enumerate() {
            let p = premises[k * BATCH + j];
            let slice = if slots > 0 {
                &mut per[j * slots..(j + 1) * slots]
            } else {
                &mut []
            };
            *r = predict_premise(index, p, &mut scratch, slice);
        }
        progress.advance(chunk.len() as u64);
    };
    if slots == 0 {
        out.par_chunks_mut(BATCH)
            .enumerate()
            .for_each(|(k, c)| run(k, c, &mut []));
    } else {
        out.par_chunks_mut(BATCH)
            .zip(per.par_chunks_mut(BATCH * slots))
            .enumerate()
            .for_each(|(k, (c, p))| run(k, c, p));
    }
    Prediction {
        premises: out,
        per_operator_dbm: per,
        slots,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::radio::{Environment, ModelChoice};
    use crate::rng::SplitMix64;
    use geo::coord;

    pub(crate) fn params() -> RadioParams {
        RadioParams {
            ue_height_m: 1.5,
            indoor_loss_db: 0.0,
            threshold_4g_dbm: -105.0,
            threshold_5g_dbm: -105.0,
            los: LosMode::Fixed(Los::Probability),
            off_dem: Los::Probability,
        }
    }

    fn site(x: f64, y: f64, op: u32, model: ModelChoice, f: f64) -> Site {
        Site {
            xy: coord! {x: x, y: y},
            operator: op,
            tech: Tech::G4,
            height_m: 30.0,
            frequency_mhz: f,
            eirp_dbm: 60.0,
            bandwidth_mhz: 10.0,
            sector: Sector {
                azimuth_deg: None,
                beamwidth_deg: 65.0,
                tilt_deg: None,
            },
            model: model.resolve(f, Environment::Suburban),
        }
    }

    #[test]
    fn rsrp_offsets() {
        // 20 MHz LTE: 100 RB, 1200 subcarriers: 30.8 dB.
        assert!((rsrp_offset_db(Tech::G4, 20.0) - 30.792).abs() < 1e-3);
        assert_eq!(resource_blocks(Tech::G4, 10.0), Some(50));
        assert_eq!(resource_blocks(Tech::G5, 100.0), Some(273));
        assert_eq!(resource_blocks(Tech::G5, 35.0), Some(87));
    }

    #[test]
    fn radius_is_where_the_best_case_meets_the_threshold() {
        let p = params();
        for (model, f) in [
            (ModelChoice::Hata, 800.0),
            (ModelChoice::Cost231, 1800.0),
            (ModelChoice::RMa, 800.0),
            (ModelChoice::UMa, 3500.0),
            (ModelChoice::FreeSpace, 2600.0),
        ] {
            let s = site(0.0, 0.0, 0, model, f);
            let r = max_radius_m(&s, &p);
            let off = rsrp_offset_db(s.tech, s.bandwidth_mhz);
            assert!(r > 0.0);
            assert!(best_case_rsrp_dbm(&s, off, &p, r * 0.999) >= p.threshold_4g_dbm);
            assert!(
                best_case_rsrp_dbm(&s, off, &p, r * 1.001) < p.threshold_4g_dbm
                    || model == ModelChoice::FreeSpace
            );
        }
    }

    #[test]
    fn nothing_is_covered_beyond_the_radius() {
        // Brute force over random sites and points: coverage never lies beyond the radius.
        let mut rng = SplitMix64::new(3);
        let mut sites = Vec::new();
        for k in 0..40 {
            let model = [ModelChoice::Hata, ModelChoice::RMa, ModelChoice::UMa][k % 3];
            let mut s = site(
                rng.range(0.0, 20_000.0),
                rng.range(0.0, 20_000.0),
                (k % 4) as u32,
                model,
                [800.0, 900.0, 2600.0][k % 3],
            );
            s.sector.azimuth_deg = (k % 2 == 0).then(|| rng.range(0.0, 360.0));
            s.eirp_dbm = rng.range(40.0, 65.0);
            sites.push(s);
        }
        let p = params();
        let index = SiteIndex::new(&sites, p, None);
        let mut ps = ProfileScratch::default();
        for _ in 0..3000 {
            let q = coord! {x: rng.range(-5000.0, 25_000.0), y: rng.range(-5000.0, 25_000.0)};
            for (i, s) in sites.iter().enumerate() {
                let d = (q.x - s.xy.x).hypot(q.y - s.xy.y);
                // Evaluate the budget without the radius cut-off.
                let big = SiteIndex::new(std::slice::from_ref(s), p, None).without_radius_cut();
                let b = big.budget(0, q, &mut ps).unwrap();
                if b.rsrp_dbm >= p.threshold_4g_dbm {
                    assert!(
                        d <= index.radius_m()[i],
                        "site {i} covers at {d} m beyond {}",
                        index.radius_m()[i]
                    );
                }
            }
        }
    }

    #[test]
    fn received_power_falls_with_distance() {
        let p = params();
        for model in [
            ModelChoice::Hata,
            ModelChoice::Cost231,
            ModelChoice::RMa,
            ModelChoice::UMa,
            ModelChoice::FreeSpace,
        ] {
            let mut s = site(0.0, 0.0, 0, model, 1800.0);
            s.sector = Sector {
                azimuth_deg: Some(45.0),
                beamwidth_deg: 65.0,
                tilt_deg: Some(4.0),
            };
            let idx = SiteIndex::new(std::slice::from_ref(&s), p, None).without_radius_cut();
            let mut ps = ProfileScratch::default();
            let mut last = f64::INFINITY;
            // Along boresight, beyond the tilt's main lobe (the vertical pattern gains as the
            // depression angle nears the tilt: 30 m mast, 4°: from about 400 m).
            for k in 0..300 {
                let d = 450.0 + k as f64 * 50.0;
                let q = coord! {x: d * 0.5f64.sqrt(), y: d * 0.5f64.sqrt()};
                let r = idx.budget(0, q, &mut ps).unwrap().rsrp_dbm;
                assert!(r <= last + 1e-9, "{model:?} at {d} m");
                last = r;
            }
        }
    }

    #[test]
    fn boresight_beats_back() {
        let p = params();
        let mut s = site(0.0, 0.0, 0, ModelChoice::Hata, 800.0);
        s.sector.azimuth_deg = Some(90.0);
        let idx = SiteIndex::new(std::slice::from_ref(&s), p, None).without_radius_cut();
        let mut ps = ProfileScratch::default();
        for d in [100.0, 1000.0, 5000.0] {
            let front = idx
                .budget(0, coord! {x: d, y: 0.0}, &mut ps)
                .unwrap()
                .rsrp_dbm;
            let back = idx
                .budget(0, coord! {x: -d, y: 0.0}, &mut ps)
                .unwrap()
                .rsrp_dbm;
            assert!((front - back - 20.0).abs() < 1e-9);
        }
    }

    #[test]
    fn a_lent_prep_predicts_what_a_new_index_predicts() {
        let mut rng = SplitMix64::new(5);
        let p = params();
        let sites: Vec<Site> = (0..40)
            .map(|k| {
                site(
                    rng.range(0.0, 20_000.0),
                    rng.range(0.0, 20_000.0),
                    k % 3,
                    [ModelChoice::Hata, ModelChoice::UMa][k as usize % 2],
                    [800.0, 2600.0][k as usize % 2],
                )
            })
            .collect();
        let pts: Vec<_> = (0..3000)
            .map(|_| coord! {x: rng.range(0.0, 20_000.0), y: rng.range(0.0, 20_000.0)})
            .collect();
        let prep = SitePrep::new(&sites, p);
        let own = predict_all(&SiteIndex::new(&sites, p, None), &pts, 3, &());
        // Lent to two views over parts of the premises, as tiles use it.
        let (a, b) = pts.split_at(1234);
        let lent = |pts: &[Coord<f64>]| {
            let index = SiteIndex::with_prep(&sites, &prep, None).unwrap();
            assert_eq!(index.radius_m(), SiteIndex::new(&sites, p, None).radius_m());
            predict_all(&index, pts, 3, &())
        };
        let (pa, pb) = (lent(a), lent(b));
        let joined: Vec<PremiseRadio> = pa.premises.iter().chain(&pb.premises).copied().collect();
        assert_eq!(joined, own.premises);
        assert!(
            own.premises.iter().any(|r| r.sites_4g > 0),
            "nothing covered"
        );
        // A prep made for other sites is refused.
        assert!(SiteIndex::with_prep(&sites[..39], &prep, None).is_none());
    }

    #[test]
    fn adding_a_site_never_removes_coverage() {
        let mut rng = SplitMix64::new(11);
        let p = params();
        let mut sites: Vec<Site> = (0..10)
            .map(|k| {
                site(
                    rng.range(0.0, 10_000.0),
                    rng.range(0.0, 10_000.0),
                    k % 3,
                    ModelChoice::Hata,
                    800.0,
                )
            })
            .collect();
        let pts: Vec<_> = (0..2000)
            .map(|_| coord! {x: rng.range(0.0, 10_000.0), y: rng.range(0.0, 10_000.0)})
            .collect();
        let before = predict_all(&SiteIndex::new(&sites, p, None), &pts, 3, &());
        sites.push(site(5000.0, 5000.0, 1, ModelChoice::UMa, 2600.0));
        let after = predict_all(&SiteIndex::new(&sites, p, None), &pts, 3, &());
        let mut gained = 0;
        for (a, b) in before.premises.iter().zip(&after.premises) {
            assert_eq!(a.operators_4g & !b.operators_4g, 0);
            assert!(b.sites_4g >= a.sites_4g);
            assert!(b.best_4g_rsrp_dbm >= a.best_4g_rsrp_dbm);
            gained += usize::from(b.sites_4g > a.sites_4g);
        }
        assert!(gained > 0);
        for (a, b) in before.per_operator_dbm.iter().zip(&after.per_operator_dbm) {
            assert!(b >= a);
        }
    }

    #[test]
    fn predictions_match_brute_force_and_do_not_depend_on_threads() {
        let mut rng = SplitMix64::new(5);
        let p = params();
        let sites: Vec<Site> = (0..60)
            .map(|k| {
                let mut s = site(
                    rng.range(0.0, 30_000.0),
                    rng.range(0.0, 30_000.0),
                    k % 4,
                    ModelChoice::Auto,
                    [800.0, 1800.0, 2600.0][k as usize % 3],
                );
                s.tech = if k % 5 == 0 { Tech::G5 } else { Tech::G4 };
                s.sector.azimuth_deg = (k % 3 != 0).then(|| rng.range(0.0, 360.0));
                s
            })
            .collect();
        let pts: Vec<_> = (0..5000)
            .map(|_| coord! {x: rng.range(0.0, 30_000.0), y: rng.range(0.0, 30_000.0)})
            .collect();
        let index = SiteIndex::new(&sites, p, None);
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let a = one.install(|| predict_all(&index, &pts, 4, &()));
        let b = predict_all(&index, &pts, 4, &());
        assert_eq!(a.premises, b.premises);
        assert_eq!(a.per_operator_dbm, b.per_operator_dbm);
        // Brute force: every site, no index, no radius.
        let unbounded = SiteIndex::new(&sites, p, None).without_radius_cut();
        let mut ps = ProfileScratch::default();
        for (k, q) in pts.iter().enumerate() {
            let (mut ops4, mut n4, mut best) = (0u64, 0u16, f32::NEG_INFINITY);
            for (i, s) in sites.iter().enumerate() {
                let r = unbounded.budget(i as u32, *q, &mut ps).unwrap().rsrp_dbm;
                if s.tech == Tech::G4 {
                    if r >= p.threshold_4g_dbm {
                        ops4 |= 1 << s.operator;
                        n4 += 1;
                    }
                    if r >= p.threshold_4g_dbm {
                        best = best.max(r as f32);
                    }
                }
            }
            let got = a.premises[k];
            assert_eq!((got.operators_4g, got.sites_4g), (ops4, n4), "premise {k}");
            if best.is_finite() {
                assert_eq!(got.best_4g_rsrp_dbm, best);
            }
        }
    }
}
