//! State-aid classes of the EU Broadband Guidelines.
//!
//! A premise (or area) is `white` where no fixed network reaches the target speed, `grey`
//! where exactly one does and `black` where two or more do. Networks planned within the
//! guidelines' horizon (3 years) count like built ones; which networks count is decided where
//! they are read and indexed, so here a premise is only its number of networks at the target.

use crate::num::floor_i64;

/// The target speed of the classification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AidPreset {
    /// Guidelines on State aid for broadband networks, 2023 (2023/C 36/01): gigabit, 1 Gbit/s
    /// download.
    Eu2023,
    /// Guidelines of 2013 (2013/C 25/01): next-generation access, 30 Mbit/s download.
    Eu2013Nga,
}

impl AidPreset {
    /// The preset's name, as parsed.
    pub fn as_str(self) -> &'static str {
        match self {
            AidPreset::Eu2023 => "eu-2023",
            AidPreset::Eu2013Nga => "eu-2013-nga",
        }
    }

    /// Download speed a network must offer to count, in Mbit/s. A fibre network offers 1 Gbit/s.
    pub fn target_mbps(self) -> f64 {
        match self {
            AidPreset::Eu2023 => 1000.0,
            AidPreset::Eu2013Nga => 30.0,
        }
    }
}

/// Years ahead within which a planned network counts as present (point 66 of the 2023
/// guidelines, and the 2013 guidelines' "in the near future").
pub const PLANNING_HORIZON_YEARS: i32 = 3;

/// Whether a network planned for `planned_year` counts in an assessment made in
/// `assessment_year`: planned no later than the horizon (networks due in past years count).
pub fn planned_counts(planned_year: i32, assessment_year: i32) -> bool {
    planned_year <= assessment_year.saturating_add(PLANNING_HORIZON_YEARS)
}

/// A state-aid class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AidClass {
    /// No fixed network at the target speed.
    White,
    /// One network at the target speed.
    Grey,
    /// Two or more networks at the target speed.
    Black,
}

impl AidClass {
    /// The class of a premise reached by `networks` distinct networks at the target speed.
    #[inline]
    pub fn of(networks: u32) -> AidClass {
        match networks {
            0 => AidClass::White,
            1 => AidClass::Grey,
            _ => AidClass::Black,
        }
    }

    /// The class as the tables write it: `white`, `grey` or `black`.
    pub fn as_str(self) -> &'static str {
        match self {
            AidClass::White => "white",
            AidClass::Grey => "grey",
            AidClass::Black => "black",
        }
    }
}

/// The state-aid class of an area, from the classes of its premises ([`AreaClassRule`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AreaClass {
    /// White by the rule.
    White,
    /// Grey by the rule.
    Grey,
    /// Black by the rule.
    Black,
    /// No class holds by the rule (under `majority`: none has more than half the premises).
    Mixed,
}

impl AreaClass {
    /// The class as the tables write it: `white`, `grey`, `black` or `mixed`.
    pub fn as_str(self) -> &'static str {
        match self {
            AreaClass::White => "white",
            AreaClass::Grey => "grey",
            AreaClass::Black => "black",
            AreaClass::Mixed => "mixed",
        }
    }
}

/// How an area's class follows from its premises' classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AreaClassRule {
    /// The class of more than half of the premises, else `mixed` (the default): a label
    /// never says more than the shares beside it.
    #[default]
    Majority,
    /// White when any premise is white (an area a tender may cover); otherwise the majority
    /// of grey and black, else `mixed`.
    AnyWhite,
}

impl AreaClassRule {
    /// The rule named `s` (`majority`, `any-white`).
    pub fn parse(s: &str) -> Option<AreaClassRule> {
        match s {
            "majority" => Some(AreaClassRule::Majority),
            "any-white" => Some(AreaClassRule::AnyWhite),
            _ => None,
        }
    }

    /// The rule's name, as `--area-class-rule` takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            AreaClassRule::Majority => "majority",
            AreaClassRule::AnyWhite => "any-white",
        }
    }

    /// The class of an area with `white`, `grey` and `black` premises; `None` for an area
    /// without premises.
    pub fn class(self, white: u64, grey: u64, black: u64) -> Option<AreaClass> {
        let total = white + grey + black;
        if total == 0 {
            return None;
        }
        let more_than_half = |n: u64| 2 * n > total;
        Some(match self {
            AreaClassRule::AnyWhite if white > 0 => AreaClass::White,
            _ if more_than_half(white) => AreaClass::White,
            _ if more_than_half(grey) => AreaClass::Grey,
            _ if more_than_half(black) => AreaClass::Black,
            _ => AreaClass::Mixed,
        })
    }
}

/// White areas a tender could cover: the grid cells of `cell_m` metres (aligned to whole
/// multiples, like SCB's grid in SWEREF 99 TM) that hold white premises, merged where cells
/// touch (at an edge or a corner).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AidAreas {
    /// Premise indices per area, ascending; areas ordered by their smallest premise.
    pub members: Vec<Vec<u32>>,
    /// Each area's cells as one polygon per edge-connected part.
    pub outlines: Vec<geo::MultiPolygon<f64>>,
    /// Cells per area.
    pub cells: Vec<u64>,
}

/// Merges the premises for which `white(i)` holds into [`AidAreas`].
pub fn white_areas(
    xy: &[geo::Coord<f64>],
    white: impl Fn(usize) -> bool + Sync,
    cell_m: f64,
) -> AidAreas {
    use crate::gaps::UnionFind;
    use crate::polygonize::{polygonize, runs_of, RunRaster};
    use rayon::prelude::*;
    let cell = |p: geo::Coord<f64>| (floor_i64(p.y / cell_m), floor_i64(p.x / cell_m));
    let whites: Vec<u32> = (0..xy.len() as u32)
        .into_par_iter()
        .filter(|&i| white(i as usize))
        .collect();
    let mut cells: Vec<(i64, i64)> = whites.par_iter().map(|&i| cell(xy[i as usize])).collect();
    cells.par_sort_unstable();
    cells.dedup();
    // Union touching cells. `cells` is sorted by (row, column): the right neighbour is the next
    // cell, and the three neighbours in the row above start at a cursor that only moves forward.
    let mut uf = UnionFind::new(cells.len());
    let mut up = 0;
    for (a, &(r, c)) in cells.iter().enumerate() {
        if cells.get(a + 1) == Some(&(r, c + 1)) {
            uf.union(a as u32, (a + 1) as u32);
        }
        while up < cells.len() && cells[up] < (r + 1, c - 1) {
            up += 1;
        }
        let mut b = up;
        while b < cells.len() && cells[b].0 == r + 1 && cells[b].1 <= c + 1 {
            uf.union(a as u32, b as u32);
            b += 1;
        }
    }
    // Components in order of their smallest premise.
    let roots: Vec<u32> = (0..cells.len() as u32).map(|a| uf.find(a)).collect();
    #[allow(
        clippy::expect_used,
        reason = "`cells` lists the cell of every white premise"
    )]
    let cell_of: Vec<u32> = whites
        .par_iter()
        .map(|&i| {
            cells
                .binary_search(&cell(xy[i as usize]))
                .expect("every white premise's cell is listed") as u32
        })
        .collect();
    let mut component_of_root = vec![u32::MAX; cells.len()];
    let mut members: Vec<Vec<u32>> = Vec::new();
    for (&i, &a) in whites.iter().zip(&cell_of) {
        let k = &mut component_of_root[roots[a as usize] as usize];
        if *k == u32::MAX {
            *k = members.len() as u32;
            members.push(Vec::new());
        }
        members[*k as usize].push(i);
    }
    let mut component_cells: Vec<Vec<(i64, i64)>> = vec![Vec::new(); members.len()];
    for (a, &rc) in cells.iter().enumerate() {
        component_cells[component_of_root[roots[a] as usize] as usize].push(rc);
    }
    let outlines: Vec<geo::MultiPolygon<f64>> = component_cells
        .par_iter()
        .map(|cs| {
            // `cells` is sorted by (row, col), so each component's cells are too.
            let row0 = cs[0].0;
            let rows_n = (cs[cs.len() - 1].0 - row0 + 1) as usize;
            let mut rows = vec![Vec::new(); rows_n];
            let mut k = 0;
            while k < cs.len() {
                let r = cs[k].0;
                let start = k;
                while k < cs.len() && cs[k].0 == r {
                    k += 1;
                }
                rows[(r - row0) as usize] = runs_of(cs[start..k].iter().map(|&(_, c)| c));
            }
            polygonize(&RunRaster { cell_m, row0, rows })
        })
        .collect();
    AidAreas {
        cells: component_cells.iter().map(|c| c.len() as u64).collect(),
        members,
        outlines,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_by_network_count() {
        assert_eq!(AidClass::of(0), AidClass::White);
        assert_eq!(AidClass::of(1), AidClass::Grey);
        assert_eq!(AidClass::of(2), AidClass::Black);
        assert_eq!(AidClass::of(7), AidClass::Black);
    }

    #[test]
    fn an_area_is_the_class_of_more_than_half_its_premises_else_mixed() {
        let m = AreaClassRule::Majority;
        assert_eq!(m.class(0, 0, 0), None);
        assert_eq!(m.class(5, 1, 1), Some(AreaClass::White));
        assert_eq!(m.class(1, 5, 1), Some(AreaClass::Grey));
        assert_eq!(m.class(1, 1, 5), Some(AreaClass::Black));
        // Exactly half is not more than half.
        assert_eq!(m.class(3, 3, 0), Some(AreaClass::Mixed));
        assert_eq!(m.class(2, 2, 2), Some(AreaClass::Mixed));
        // Orsa kommun in the bundled region's first release: white was the plurality, 41 %.
        assert_eq!(m.class(1026, 870, 577), Some(AreaClass::Mixed));
        let w = AreaClassRule::AnyWhite;
        assert_eq!(w.class(1, 100, 0), Some(AreaClass::White));
        assert_eq!(w.class(0, 3, 1), Some(AreaClass::Grey));
        assert_eq!(w.class(0, 2, 2), Some(AreaClass::Mixed));
        for r in [m, w] {
            assert_eq!(AreaClassRule::parse(r.as_str()), Some(r));
        }
        assert_eq!(AreaClassRule::parse("plurality"), None);
    }

    /// The label never contradicts the shares: under `majority`, a class's label means more
    /// than half of the premises, and `mixed` means no class has more than half.
    #[test]
    fn majority_labels_agree_with_the_shares_everywhere() {
        for w in 0..12u64 {
            for g in 0..12u64 {
                for b in 0..12u64 {
                    let t = w + g + b;
                    let c = AreaClassRule::Majority.class(w, g, b);
                    let share = |n: u64| n as f64 / t as f64;
                    match c {
                        None => assert_eq!(t, 0),
                        Some(AreaClass::White) => assert!(share(w) > 0.5),
                        Some(AreaClass::Grey) => assert!(share(g) > 0.5),
                        Some(AreaClass::Black) => assert!(share(b) > 0.5),
                        Some(AreaClass::Mixed) => {
                            assert!(share(w) <= 0.5 && share(g) <= 0.5 && share(b) <= 0.5)
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn presets_and_horizon() {
        assert_eq!(AidPreset::Eu2023.target_mbps(), 1000.0);
        assert_eq!(AidPreset::Eu2013Nga.target_mbps(), 30.0);
        assert!(planned_counts(2029, 2026));
        assert!(!planned_counts(2030, 2026));
        assert!(planned_counts(2020, 2026));
    }

    #[test]
    fn white_areas_merge_touching_cells_and_cover_their_premises() {
        use geo::{Area, Contains, Coord};
        let c = |x: f64, y: f64| Coord { x, y };
        // Cells of 100 m: (0,0) and (1,1) touch at a corner (one area); (5,0) is apart; the
        // premise at (350,50) is not white.
        let xy = [
            c(50.0, 50.0),
            c(150.0, 150.0),
            c(520.0, 40.0),
            c(350.0, 50.0),
            c(60.0, 70.0),
        ];
        let a = white_areas(&xy, |i| i != 3, 100.0);
        assert_eq!(a.members, vec![vec![0, 1, 4], vec![2]]);
        assert_eq!(a.cells, vec![2, 1]);
        assert!((a.outlines[0].unsigned_area() - 20_000.0).abs() < 1e-6);
        for (k, m) in a.members.iter().enumerate() {
            for &i in m {
                assert!(a.outlines[k].contains(&xy[i as usize]));
            }
        }
        assert!(!a.outlines[0].contains(&xy[3]) && !a.outlines[1].contains(&xy[3]));
    }
}
