//! Per-settlement tallies of premise outcomes.

use std::ops::AddAssign;

use rayon::prelude::*;

use crate::fibre::FibreReach;
use crate::mobile::MobileCover;

/// Counts for one settlement (or the rural area). All counts are premises unless the name says
/// households or workplaces.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub premises: u64,
    pub households: u64,
    pub workplaces: u64,
    pub fibre_passed: u64,
    pub fibre_2plus_networks: u64,
    pub mobile_4g: u64,
    pub mobile_4g_2plus_operators: u64,
    /// Premises with 4G of exactly one operator: one operator's fault takes all their 4G.
    pub mobile_4g_single_operator: u64,
    pub mobile_5g: u64,
    pub unserved: u64,
    pub households_fibre_passed: u64,
    pub workplaces_fibre_passed: u64,
    pub households_unserved: u64,
    /// Gap clusters in the settlement (filled in after clustering; not a premise count).
    pub gap_clusters: u64,
    /// Unserved gap clusters in the settlement.
    pub unserved_clusters: u64,
}

impl AddAssign for Tally {
    fn add_assign(&mut self, o: Tally) {
        self.premises += o.premises;
        self.households += o.households;
        self.workplaces += o.workplaces;
        self.fibre_passed += o.fibre_passed;
        self.fibre_2plus_networks += o.fibre_2plus_networks;
        self.mobile_4g += o.mobile_4g;
        self.mobile_4g_2plus_operators += o.mobile_4g_2plus_operators;
        self.mobile_4g_single_operator += o.mobile_4g_single_operator;
        self.mobile_5g += o.mobile_5g;
        self.unserved += o.unserved;
        self.households_fibre_passed += o.households_fibre_passed;
        self.workplaces_fibre_passed += o.workplaces_fibre_passed;
        self.households_unserved += o.households_unserved;
        self.gap_clusters += o.gap_clusters;
        self.unserved_clusters += o.unserved_clusters;
    }
}

/// Whether a premise is unserved: not fibre passed and no operator's 4G.
#[inline]
pub fn is_unserved(fibre: &FibreReach, mobile: &MobileCover, drop_distance_m: f64) -> bool {
    !fibre.passed(drop_distance_m) && mobile.count_4g() == 0
}

/// The outcome of one premise, as a one-premise tally.
#[inline]
pub fn premise_tally(
    households: u32,
    workplaces: u32,
    fibre: &FibreReach,
    mobile: &MobileCover,
    drop_distance_m: f64,
) -> Tally {
    let passed = fibre.passed(drop_distance_m);
    let unserved = is_unserved(fibre, mobile, drop_distance_m);
    let (h, w) = (u64::from(households), u64::from(workplaces));
    Tally {
        premises: 1,
        households: h,
        workplaces: w,
        fibre_passed: passed as u64,
        fibre_2plus_networks: (passed && fibre.networks >= 2) as u64,
        mobile_4g: (mobile.count_4g() >= 1) as u64,
        mobile_4g_2plus_operators: (mobile.count_4g() >= 2) as u64,
        mobile_4g_single_operator: (mobile.count_4g() == 1) as u64,
        mobile_5g: (mobile.count_5g() >= 1) as u64,
        unserved: unserved as u64,
        households_fibre_passed: if passed { h } else { 0 },
        workplaces_fibre_passed: if passed { w } else { 0 },
        households_unserved: if unserved { h } else { 0 },
        gap_clusters: 0,
        unserved_clusters: 0,
    }
}

/// Adds the number of gap clusters (and unserved ones) to each settlement's tally; `tallies`
/// has the rural row last, as [`tally`] returns it.
pub fn count_clusters(tallies: &mut [Tally], clusters: &[crate::gaps::GapCluster]) {
    let rural = tallies.len() - 1;
    for c in clusters {
        let t = &mut tallies[c.settlement.map_or(rural, |s| s as usize)];
        t.gap_clusters += 1;
        t.unserved_clusters += u64::from(c.kind == crate::gaps::GapKind::Unserved);
    }
}

/// Tallies per settlement. The result has `num_settlements + 1` entries; the last is rural.
/// All input slices are per premise and of equal length.
pub fn tally(
    num_settlements: usize,
    settlement: &[Option<u32>],
    households: &[u32],
    workplaces: &[u32],
    fibre: &[FibreReach],
    mobile: &[MobileCover],
    drop_distance_m: f64,
) -> Vec<Tally> {
    let rural = num_settlements;
    (0..settlement.len())
        .into_par_iter()
        .with_min_len(4096)
        .fold(
            || vec![Tally::default(); num_settlements + 1],
            |mut acc, i| {
                let s = settlement[i].map_or(rural, |s| s as usize);
                acc[s] += premise_tally(
                    households[i],
                    workplaces[i],
                    &fibre[i],
                    &mobile[i],
                    drop_distance_m,
                );
                acc
            },
        )
        .reduce(
            || vec![Tally::default(); num_settlements + 1],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    *x += y;
                }
                a
            },
        )
}
