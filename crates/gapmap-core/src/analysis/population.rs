//! Population onto premises: each area's persons (a grid cell, a DeSO, any polygon with a
//! count) spread over the premises inside it, in whole numbers whose sum is the area's count.
//!
//! - A premise belongs to the first area (in input order) that covers it, boundary included,
//!   so areas that share an edge never count a premise twice.
//! - An area's persons go to its premises in proportion to their weights (equal, a building's
//!   footprint, or a field such as floors), rounded by the largest-remainder method: every
//!   premise gets the whole part of its quota, and the persons left over go one each to the
//!   largest fractional parts, ties to the premise read first. The arithmetic is exact
//!   (integers), so the result does not depend on the thread count or the order of the sums.
//! - Persons of an area with no premise of positive weight are not placed, and are reported
//!   ([`Spread::unplaced`]).

use geo::Coord;

use crate::par::map_chunked;
use crate::polygon_index::PolygonIndex;

/// Premise weights are fixed-point numbers with this many units per 1 (a square metre of
/// footprint, a floor): exact integer arithmetic, and resolution far below any real weight.
pub const WEIGHT_UNITS: f64 = 1_048_576.0;

/// The largest weight a premise may have (before scaling): 10^12, e.g. square metres.
pub const MAX_WEIGHT: f64 = 1e12;

/// A premise weight as whole weight units (`None`: not a finite number in `0..=MAX_WEIGHT`).
pub fn weight_units(w: f64) -> Option<u64> {
    (w.is_finite() && (0.0..=MAX_WEIGHT).contains(&w)).then(|| (w * WEIGHT_UNITS).round() as u64)
}

/// Splits `total` into `weights.len()` whole parts proportional to `weights`, by the
/// largest-remainder method, into `out`: the parts sum to `total` exactly. Ties in the
/// remainder go to the lower index. All weights zero: every part is zero, and the function
/// returns false (nothing placed).
pub fn largest_remainder(total: u32, weights: &[u64], out: &mut [u32]) -> bool {
    debug_assert_eq!(weights.len(), out.len());
    let sum: u128 = weights.iter().map(|&w| u128::from(w)).sum();
    if sum == 0 {
        out.iter_mut().for_each(|o| *o = 0);
        return total == 0;
    }
    let t = u128::from(total);
    let mut given: u128 = 0;
    // (remainder, index) of every premise with a fractional part.
    let mut rest: Vec<(u128, usize)> = Vec::new();
    for (i, (&w, o)) in weights.iter().zip(out.iter_mut()).enumerate() {
        let q = t * u128::from(w);
        let whole = q / sum;
        // whole <= total, which is a u32.
        *o = whole as u32;
        given += whole;
        let r = q % sum;
        if r > 0 {
            rest.push((r, i));
        }
    }
    // Sum of the fractional parts = total - given < number of premises with one.
    let left = (t - given) as usize;
    if left > 0 {
        rest.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for &(_, i) in &rest[..left] {
            out[i] += 1;
        }
    }
    true
}

/// Households of a premise with `persons` people: none when nobody lives there, else the
/// nearest whole number of `persons / persons_per_household`, and at least one.
pub fn households_of(persons: u32, persons_per_household: f64) -> u32 {
    if persons == 0 {
        return 0;
    }
    let h = (f64::from(persons) / persons_per_household).round();
    (h as u32).max(1)
}

/// The areas' persons spread over the premises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spread {
    /// Per premise (input order): its persons.
    pub persons: Vec<u32>,
    /// Per premise: the area it belongs to, if any.
    pub area: Vec<Option<u32>>,
    /// Per area: how many premises it holds.
    pub premises: Vec<u32>,
    /// The areas whose persons could not be placed (no premise, or none of positive
    /// weight), ascending.
    pub unplaced: Vec<u32>,
}

impl Spread {
    /// Persons placed on premises.
    pub fn placed_persons(&self) -> u64 {
        self.persons.iter().map(|&p| u64::from(p)).sum()
    }
    /// Premises outside every area.
    pub fn premises_outside(&self) -> usize {
        self.area.iter().filter(|a| a.is_none()).count()
    }
}

/// Spreads `persons` (per area of `areas`) over the premises at `xy` by `weights` (per
/// premise, in weight units; see [`weight_units`]). Runs on the current rayon pool; the
/// result is the same at any thread count.
pub fn spread(areas: &PolygonIndex, persons: &[u32], xy: &[Coord<f64>], weights: &[u64]) -> Spread {
    debug_assert_eq!(xy.len(), weights.len());
    let n_areas = persons.len();
    let area: Vec<Option<u32>> = map_chunked(xy, &(), Vec::new, |scratch, &p| {
        areas.first_covering(p, scratch)
    });
    // The premises of each area, in input order (a counting sort).
    let mut start = vec![0usize; n_areas + 1];
    for a in area.iter().flatten() {
        start[*a as usize + 1] += 1;
    }
    for k in 0..n_areas {
        start[k + 1] += start[k];
    }
    let mut members = vec![0usize; start[n_areas]];
    let mut next = start.clone();
    for (i, a) in area.iter().enumerate() {
        if let Some(a) = a {
            members[next[*a as usize]] = i;
            next[*a as usize] += 1;
        }
    }
    let mut out = vec![0u32; xy.len()];
    let mut unplaced = Vec::new();
    let mut w = Vec::new();
    let mut part = Vec::new();
    for k in 0..n_areas {
        let m = &members[start[k]..start[k + 1]];
        w.clear();
        w.extend(m.iter().map(|&i| weights[i]));
        part.clear();
        part.resize(m.len(), 0);
        if !largest_remainder(persons[k], &w, &mut part) {
            unplaced.push(k as u32);
        }
        for (&i, &p) in m.iter().zip(&part) {
            out[i] = p;
        }
    }
    Spread {
        persons: out,
        area,
        premises: (0..n_areas)
            .map(|k| (start[k + 1] - start[k]) as u32)
            .collect(),
        unplaced,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn largest_remainder_by_hand() {
        // 10 persons over weights 1, 1, 1: quotas 3.33 each; the one left goes to the first.
        let mut out = [0; 3];
        assert!(largest_remainder(10, &[1, 1, 1], &mut out));
        assert_eq!(out, [4, 3, 3]);
        // 7 persons over 1, 2, 4 (floors): 1, 2, 4 exactly.
        assert!(largest_remainder(7, &[1, 2, 4], &mut out));
        assert_eq!(out, [1, 2, 4]);
        // 5 over 100, 250, 150 m²: quotas 1.0, 2.5, 1.5; remainders tie at 0.5: lower index.
        assert!(largest_remainder(5, &[100, 250, 150], &mut out));
        assert_eq!(out, [1, 3, 1]);
        // 2 persons over 3 equal premises: two get one, the third none.
        assert!(largest_remainder(2, &[5, 5, 5], &mut out));
        assert_eq!(out, [1, 1, 0]);
        // A premise of weight 0 gets nobody, even with persons left over.
        assert!(largest_remainder(3, &[0, 1, 1], &mut out));
        assert_eq!(out, [0, 2, 1]);
        // Nowhere to go.
        assert!(!largest_remainder(3, &[0, 0, 0], &mut out));
        assert_eq!(out, [0, 0, 0]);
        assert!(largest_remainder(0, &[0, 0, 0], &mut out));
        assert!(largest_remainder(0, &[], &mut []));
        assert!(!largest_remainder(1, &[], &mut []));
    }

    #[test]
    fn largest_remainder_is_exact_for_huge_values() {
        let w = [u64::MAX / 3, u64::MAX / 3, 1, u64::MAX / 3];
        let mut out = [0; 4];
        assert!(largest_remainder(u32::MAX, &w, &mut out));
        assert_eq!(
            out.iter().map(|&v| u64::from(v)).sum::<u64>(),
            u64::from(u32::MAX)
        );
        assert_eq!(out[2], 0);
    }

    #[test]
    fn households_by_hand() {
        assert_eq!(households_of(0, 2.1), 0);
        assert_eq!(households_of(1, 2.1), 1);
        assert_eq!(households_of(3, 2.1), 1);
        assert_eq!(households_of(4, 2.1), 2);
        assert_eq!(households_of(60, 2.1), 29);
        assert_eq!(households_of(7, 1.0), 7);
    }

    #[test]
    fn weights_are_checked_and_scaled() {
        assert_eq!(weight_units(1.0), Some(1 << 20));
        assert_eq!(weight_units(0.0), Some(0));
        assert_eq!(weight_units(-1.0), None);
        assert_eq!(weight_units(f64::NAN), None);
        assert_eq!(weight_units(2e12), None);
    }
}
