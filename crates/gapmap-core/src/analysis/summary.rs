//! Per-settlement tallies of premise outcomes.

use std::ops::AddAssign;

use rayon::prelude::*;

use crate::aid::AidClass;
use crate::fibre::FibreReach;
use crate::mobile::MobileCover;

/// What mobile coverage stands in for a fixed connection of at least 100 Mbit/s (the
/// national goal's second tier).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MobileStandIn {
    /// Mobile never counts.
    None,
    /// 5G of any operator counts.
    #[default]
    Any5g,
    /// 4G of at least two operators, or 5G of any, counts.
    FourG2PlusOr5g,
    /// 4G of any operator counts.
    Any4g,
}

impl MobileStandIn {
    /// Whether this coverage stands in for 100 Mbit/s.
    #[inline]
    pub fn applies(self, mobile: &MobileCover) -> bool {
        match self {
            MobileStandIn::None => false,
            MobileStandIn::Any5g => mobile.count_5g() >= 1,
            MobileStandIn::FourG2PlusOr5g => mobile.count_5g() >= 1 || mobile.count_4g() >= 2,
            MobileStandIn::Any4g => mobile.count_4g() >= 1 || mobile.count_5g() >= 1,
        }
    }

    /// The kind as the tables write it.
    pub fn as_str(self) -> &'static str {
        match self {
            MobileStandIn::None => "none",
            MobileStandIn::Any5g => "5g",
            MobileStandIn::FourG2PlusOr5g => "4g-2plus-or-5g",
            MobileStandIn::Any4g => "4g",
        }
    }
}

/// How premise outcomes are judged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rules {
    /// A premise is fibre passed when fibre is at most this far, in metres.
    pub drop_distance_m: f64,
    /// When mobile coverage counts as 100 Mbit/s.
    pub stand_in: MobileStandIn,
}

/// What one premise has: the input of every tally (settlements, grid cells, regions).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Households at the premise.
    pub households: u32,
    /// Workplaces at the premise.
    pub workplaces: u32,
    /// Fibre within the drop distance.
    pub fibre_passed: bool,
    /// Distinct fibre networks within the drop distance.
    pub fibre_networks: u16,
    /// Distinct fixed networks at the state-aid target speed (built or planned in time).
    pub aid_networks: u16,
    /// Operators with 4G at the premise.
    pub mobile_4g_operators: u8,
    /// Operators with 5G at the premise.
    pub mobile_5g_operators: u8,
    /// At least 100 Mbit/s: fibre, another fixed network that fast, or the mobile stand-in.
    pub at_100_mbps: bool,
}

impl Outcome {
    /// The outcome of a premise. `aid_networks` is `None` when only the fibre layer decides the
    /// class (then it is the fibre networks in reach); `fast_fixed` says whether another fixed
    /// network of at least 100 Mbit/s reaches the premise.
    #[inline]
    pub fn new(
        households: u32,
        workplaces: u32,
        fibre: &FibreReach,
        mobile: &MobileCover,
        aid_networks: Option<u32>,
        fast_fixed: bool,
        rules: &Rules,
    ) -> Outcome {
        let passed = fibre.passed(rules.drop_distance_m);
        let fibre_networks = if passed { fibre.networks } else { 0 };
        Outcome {
            households,
            workplaces,
            fibre_passed: passed,
            fibre_networks: fibre_networks.min(u16::MAX as u32) as u16,
            aid_networks: aid_networks.unwrap_or(fibre_networks).min(u16::MAX as u32) as u16,
            mobile_4g_operators: mobile.count_4g() as u8,
            mobile_5g_operators: mobile.count_5g() as u8,
            at_100_mbps: passed || fast_fixed || rules.stand_in.applies(mobile),
        }
    }

    /// Not fibre passed and no operator's 4G.
    #[inline]
    pub fn unserved(&self) -> bool {
        !self.fibre_passed && self.mobile_4g_operators == 0
    }

    /// The state-aid class.
    #[inline]
    pub fn aid_class(&self) -> AidClass {
        AidClass::of(u32::from(self.aid_networks))
    }
}

/// Counts for one settlement (or the rural area). All counts are premises unless the name says
/// households or workplaces.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Premises.
    pub premises: u64,
    /// Households.
    pub households: u64,
    /// Workplaces.
    pub workplaces: u64,
    /// Premises with fibre within the drop distance.
    pub fibre_passed: u64,
    /// Premises with two or more fibre networks within the drop distance.
    pub fibre_2plus_networks: u64,
    /// Premises with 4G of any operator.
    pub mobile_4g: u64,
    /// Premises with 4G of two or more operators.
    pub mobile_4g_2plus_operators: u64,
    /// Premises with 4G of exactly one operator: one operator's fault takes all their 4G.
    pub mobile_4g_single_operator: u64,
    /// Premises with 5G of any operator.
    pub mobile_5g: u64,
    /// Premises with neither fibre nor 4G.
    pub unserved: u64,
    /// Households at fibre-passed premises.
    pub households_fibre_passed: u64,
    /// Workplaces at fibre-passed premises.
    pub workplaces_fibre_passed: u64,
    /// Households at unserved premises.
    pub households_unserved: u64,
    /// Gap clusters in the settlement (filled in after clustering; not a premise count).
    pub gap_clusters: u64,
    /// Unserved gap clusters in the settlement.
    pub unserved_clusters: u64,
    /// Households with 4G.
    pub households_mobile_4g: u64,
    /// Workplaces with 4G.
    pub workplaces_mobile_4g: u64,
    /// Households with 5G.
    pub households_mobile_5g: u64,
    /// Workplaces with 5G.
    pub workplaces_mobile_5g: u64,
    /// Premises with at least 100 Mbit/s (fibre, other fixed, or the mobile stand-in).
    pub at_100_mbps: u64,
    /// Households with at least 100 Mbit/s.
    pub households_100_mbps: u64,
    /// Workplaces with at least 100 Mbit/s.
    pub workplaces_100_mbps: u64,
    /// Premises per state-aid class.
    pub aid_white: u64,
    /// Premises of state-aid class grey.
    pub aid_grey: u64,
    /// Premises of state-aid class black.
    pub aid_black: u64,
    /// Households of state-aid class white.
    pub households_aid_white: u64,
    /// Households of state-aid class grey.
    pub households_aid_grey: u64,
    /// Households of state-aid class black.
    pub households_aid_black: u64,
}

impl Tally {
    /// How many counts a tally has.
    pub const LEN: usize = 28;

    /// Every count, in declaration order (to move a tally between processes).
    pub fn to_array(&self) -> [u64; Tally::LEN] {
        [
            self.premises,
            self.households,
            self.workplaces,
            self.fibre_passed,
            self.fibre_2plus_networks,
            self.mobile_4g,
            self.mobile_4g_2plus_operators,
            self.mobile_4g_single_operator,
            self.mobile_5g,
            self.unserved,
            self.households_fibre_passed,
            self.workplaces_fibre_passed,
            self.households_unserved,
            self.gap_clusters,
            self.unserved_clusters,
            self.households_mobile_4g,
            self.workplaces_mobile_4g,
            self.households_mobile_5g,
            self.workplaces_mobile_5g,
            self.at_100_mbps,
            self.households_100_mbps,
            self.workplaces_100_mbps,
            self.aid_white,
            self.aid_grey,
            self.aid_black,
            self.households_aid_white,
            self.households_aid_grey,
            self.households_aid_black,
        ]
    }

    /// The tally of [`Tally::to_array`]'s counts.
    pub fn from_array(a: [u64; Tally::LEN]) -> Tally {
        let [premises, households, workplaces, fibre_passed, fibre_2plus_networks, mobile_4g, mobile_4g_2plus_operators, mobile_4g_single_operator, mobile_5g, unserved, households_fibre_passed, workplaces_fibre_passed, households_unserved, gap_clusters, unserved_clusters, households_mobile_4g, workplaces_mobile_4g, households_mobile_5g, workplaces_mobile_5g, at_100_mbps, households_100_mbps, workplaces_100_mbps, aid_white, aid_grey, aid_black, households_aid_white, households_aid_grey, households_aid_black] =
            a;
        Tally {
            premises,
            households,
            workplaces,
            fibre_passed,
            fibre_2plus_networks,
            mobile_4g,
            mobile_4g_2plus_operators,
            mobile_4g_single_operator,
            mobile_5g,
            unserved,
            households_fibre_passed,
            workplaces_fibre_passed,
            households_unserved,
            gap_clusters,
            unserved_clusters,
            households_mobile_4g,
            workplaces_mobile_4g,
            households_mobile_5g,
            workplaces_mobile_5g,
            at_100_mbps,
            households_100_mbps,
            workplaces_100_mbps,
            aid_white,
            aid_grey,
            aid_black,
            households_aid_white,
            households_aid_grey,
            households_aid_black,
        }
    }
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
        self.households_mobile_4g += o.households_mobile_4g;
        self.workplaces_mobile_4g += o.workplaces_mobile_4g;
        self.households_mobile_5g += o.households_mobile_5g;
        self.workplaces_mobile_5g += o.workplaces_mobile_5g;
        self.at_100_mbps += o.at_100_mbps;
        self.households_100_mbps += o.households_100_mbps;
        self.workplaces_100_mbps += o.workplaces_100_mbps;
        self.aid_white += o.aid_white;
        self.aid_grey += o.aid_grey;
        self.aid_black += o.aid_black;
        self.households_aid_white += o.households_aid_white;
        self.households_aid_grey += o.households_aid_grey;
        self.households_aid_black += o.households_aid_black;
    }
}

/// Whether a premise is unserved: not fibre passed and no operator's 4G.
#[inline]
pub fn is_unserved(fibre: &FibreReach, mobile: &MobileCover, drop_distance_m: f64) -> bool {
    !fibre.passed(drop_distance_m) && mobile.count_4g() == 0
}

/// One premise's outcome as a one-premise tally.
#[inline]
pub fn premise_tally(o: &Outcome) -> Tally {
    let passed = o.fibre_passed;
    let unserved = o.unserved();
    let (h, w) = (u64::from(o.households), u64::from(o.workplaces));
    let if_ = |c: bool, v: u64| if c { v } else { 0 };
    let (m4, m5, fast) = (
        o.mobile_4g_operators >= 1,
        o.mobile_5g_operators >= 1,
        o.at_100_mbps,
    );
    let class = o.aid_class();
    Tally {
        premises: 1,
        households: h,
        workplaces: w,
        fibre_passed: passed as u64,
        fibre_2plus_networks: (passed && o.fibre_networks >= 2) as u64,
        mobile_4g: m4 as u64,
        mobile_4g_2plus_operators: (o.mobile_4g_operators >= 2) as u64,
        mobile_4g_single_operator: (o.mobile_4g_operators == 1) as u64,
        mobile_5g: m5 as u64,
        unserved: unserved as u64,
        households_fibre_passed: if_(passed, h),
        workplaces_fibre_passed: if_(passed, w),
        households_unserved: if_(unserved, h),
        gap_clusters: 0,
        unserved_clusters: 0,
        households_mobile_4g: if_(m4, h),
        workplaces_mobile_4g: if_(m4, w),
        households_mobile_5g: if_(m5, h),
        workplaces_mobile_5g: if_(m5, w),
        at_100_mbps: fast as u64,
        households_100_mbps: if_(fast, h),
        workplaces_100_mbps: if_(fast, w),
        aid_white: (class == AidClass::White) as u64,
        aid_grey: (class == AidClass::Grey) as u64,
        aid_black: (class == AidClass::Black) as u64,
        households_aid_white: if_(class == AidClass::White, h),
        households_aid_grey: if_(class == AidClass::Grey, h),
        households_aid_black: if_(class == AidClass::Black, h),
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

/// Tallies per group (settlement, grid cell, region). The result has `num_groups + 1`
/// entries; the last collects premises in no group (for settlements: rural).
pub fn tally(num_groups: usize, group: &[Option<u32>], outcomes: &[Outcome]) -> Vec<Tally> {
    debug_assert_eq!(group.len(), outcomes.len());
    let rest = num_groups;
    (0..group.len())
        .into_par_iter()
        .with_min_len(4096)
        .fold(
            || vec![Tally::default(); num_groups + 1],
            |mut acc, i| {
                let s = group[i].map_or(rest, |s| s as usize);
                acc[s] += premise_tally(&outcomes[i]);
                acc
            },
        )
        .reduce(
            || vec![Tally::default(); num_groups + 1],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    *x += y;
                }
                a
            },
        )
}

/// The outcome of every premise (in parallel, in input order). `aid_networks` and
/// `fast_fixed` are per premise when other fixed or planned networks were given.
pub fn outcomes(
    households: &[u32],
    workplaces: &[u32],
    fibre: Option<&[FibreReach]>,
    mobile: &[MobileCover],
    aid_networks: Option<&[u32]>,
    fast_fixed: Option<&[bool]>,
    rules: &Rules,
) -> Vec<Outcome> {
    (0..households.len())
        .into_par_iter()
        .with_min_len(4096)
        .map(|i| {
            Outcome::new(
                households[i],
                workplaces[i],
                fibre.map_or(&FibreReach::NONE, |f| &f[i]),
                &mobile[i],
                aid_networks.map(|a| a[i]),
                fast_fixed.is_some_and(|f| f[i]),
                rules,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tally_survives_its_array() {
        let mut a = [0u64; Tally::LEN];
        for (k, v) in a.iter_mut().enumerate() {
            *v = 1000 + k as u64;
        }
        let t = Tally::from_array(a);
        assert_eq!(t.to_array(), a);
        assert_eq!((t.premises, t.households_aid_black), (1000, 1027));
        assert_eq!(t.unserved, 1009);
    }

    #[test]
    fn mobile_stand_in_rules() {
        let cover = |ops_4g: u64, ops_5g: u64| MobileCover {
            operators_4g: ops_4g,
            operators_5g: ops_5g,
        };
        let rules = [
            MobileStandIn::None,
            MobileStandIn::Any5g,
            MobileStandIn::FourG2PlusOr5g,
            MobileStandIn::Any4g,
        ];
        // (4G operator bits, 5G operator bits) -> whether each rule applies, in `rules` order.
        for (m, want) in [
            (cover(0, 0), [false, false, false, false]),
            (cover(0b1, 0), [false, false, false, true]),
            (cover(0b11, 0), [false, false, true, true]),
            (cover(0, 0b1), [false, true, true, true]),
        ] {
            let got: Vec<bool> = rules.iter().map(|r| r.applies(&m)).collect();
            assert_eq!(got, want, "{m:?}");
        }
    }
}
