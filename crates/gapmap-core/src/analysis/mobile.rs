//! Mobile coverage: which operators cover a premise with 4G and with 5G.
//!
//! A premise is covered for (operator, technology) when a coverage polygon of that pair covers
//! it (boundary included). Technology values are classified by [`Tech::classify`].

use geo::{Coord, MultiPolygon};

use crate::par::{map_points, Progress, SpatialOrder};
use crate::polygon_index::PolygonIndex;
use crate::CoreError;

/// The most distinct operators a coverage layer may have (operators are bits of a `u64`).
pub const MAX_OPERATORS: usize = 64;

/// Mobile technology generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tech {
    /// `4G` or `LTE`.
    G4,
    /// `5G` or `NR`.
    G5,
    /// Anything else: kept and reported, but counts as neither.
    Other,
}

impl Tech {
    /// Case-insensitive: `4G`/`LTE` → 4G, `5G`/`NR` → 5G, anything else → Other.
    pub fn classify(value: &str) -> Tech {
        let v = value.trim();
        if v.eq_ignore_ascii_case("4g") || v.eq_ignore_ascii_case("lte") {
            Tech::G4
        } else if v.eq_ignore_ascii_case("5g") || v.eq_ignore_ascii_case("nr") {
            Tech::G5
        } else {
            Tech::Other
        }
    }
}

/// One coverage polygon of one (operator, technology) pair.
#[derive(Debug, Clone)]
pub struct CoverageFeature {
    /// The area covered, in the working CRS.
    pub area: MultiPolygon<f64>,
    /// Interned operator id, below [`MAX_OPERATORS`].
    pub operator: u32,
    /// The technology.
    pub tech: Tech,
}

/// The operators covering one premise, as bit sets over operator ids.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MobileCover {
    /// Operators with 4G here, as a bit set of operator ids.
    pub operators_4g: u64,
    /// Operators with 5G here, as a bit set of operator ids.
    pub operators_5g: u64,
}

impl MobileCover {
    /// Number of operators with 4G here.
    #[inline]
    pub fn count_4g(&self) -> u32 {
        self.operators_4g.count_ones()
    }
    /// Number of operators with 5G here.
    #[inline]
    pub fn count_5g(&self) -> u32 {
        self.operators_5g.count_ones()
    }
}

/// 4G and 5G coverage polygons, indexed.
#[derive(Debug)]
pub struct MobileIndex {
    index: PolygonIndex,
    /// (operator, tech) of each indexed feature.
    pair: Vec<(u32, Tech)>,
}

impl MobileIndex {
    /// Indexes the 4G and 5G features; `Other` features are not needed for coverage.
    pub fn new(features: &[CoverageFeature]) -> Result<Self, CoreError> {
        let mut pair = Vec::new();
        for f in features {
            if f.operator as usize >= MAX_OPERATORS {
                return Err(CoreError::TooManyOperators {
                    operator: f.operator,
                    max: MAX_OPERATORS,
                });
            }
            if f.tech != Tech::Other {
                pair.push((f.operator, f.tech));
            }
        }
        let areas = features.iter().filter(|f| f.tech != Tech::Other);
        Ok(MobileIndex {
            index: PolygonIndex::from_features(areas.map(|f| &f.area)),
            pair,
        })
    }

    /// The operators covering `p`. `scratch` is reused between calls.
    pub fn cover(&self, p: Coord<f64>, scratch: &mut Vec<u32>) -> MobileCover {
        let mut c = MobileCover::default();
        self.index.candidate_parts(p, scratch);
        for &part in scratch.iter() {
            let (op, tech) = self.pair[self.index.part_feature(part) as usize];
            let set = match tech {
                Tech::G4 => &mut c.operators_4g,
                Tech::G5 => &mut c.operators_5g,
                Tech::Other => continue,
            };
            let bit = 1u64 << op;
            if *set & bit == 0 && self.index.locate_in_part(part, p).is_covered() {
                *set |= bit;
            }
        }
        c
    }
}

/// Mobile coverage of every premise, in premise order.
/// `order` is the order to visit premises in ([`SpatialOrder::new`] for speed); results are in
/// premise order either way.
pub fn cover_all(
    mobile: &MobileIndex,
    premises: &[Coord<f64>],
    order: &SpatialOrder,
    progress: &dyn Progress,
) -> Vec<MobileCover> {
    map_points(premises, order, progress, Vec::new, |scratch, p| {
        mobile.cover(p, scratch)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{coord, polygon};

    #[test]
    fn classify_is_case_insensitive() {
        assert_eq!(Tech::classify("LTE"), Tech::G4);
        assert_eq!(Tech::classify(" 4g "), Tech::G4);
        assert_eq!(Tech::classify("Nr"), Tech::G5);
        assert_eq!(Tech::classify("5G"), Tech::G5);
        assert_eq!(Tech::classify("3G"), Tech::Other);
        assert_eq!(Tech::classify("5G NSA"), Tech::Other);
    }

    #[test]
    fn cover_sets_operator_bits() {
        let sq = |x0: f64| {
            MultiPolygon::new(vec![
                polygon![(x: x0, y: 0.), (x: x0 + 10., y: 0.), (x: x0 + 10., y: 10.), (x: x0, y: 10.)],
            ])
        };
        let f = vec![
            CoverageFeature {
                area: sq(0.),
                operator: 0,
                tech: Tech::G4,
            },
            CoverageFeature {
                area: sq(5.),
                operator: 2,
                tech: Tech::G4,
            },
            CoverageFeature {
                area: sq(0.),
                operator: 1,
                tech: Tech::Other,
            },
            CoverageFeature {
                area: sq(8.),
                operator: 2,
                tech: Tech::G5,
            },
        ];
        let idx = MobileIndex::new(&f).unwrap();
        let mut s = Vec::new();
        let c = idx.cover(coord! {x: 9., y: 5.}, &mut s);
        assert_eq!(c.operators_4g, 0b101);
        assert_eq!(c.operators_5g, 0b100);
        let c = idx.cover(coord! {x: 1., y: 5.}, &mut s);
        assert_eq!((c.count_4g(), c.count_5g()), (1, 0));
        assert!(MobileIndex::new(&[CoverageFeature {
            area: sq(0.),
            operator: 64,
            tech: Tech::G4
        }])
        .is_err());
    }
}
