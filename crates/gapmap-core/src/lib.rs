//! gapmap-core: the geometry and analyses of gapmap, with no I/O.
//!
//! All coordinates are metres in one projected CRS; the I/O crate reprojects and validates
//! before anything reaches this crate. Each analysis is a module of pure per-premise kernels
//! over shared read-only indexes; [`par::map_chunked`] drives them with rayon and keeps input
//! order, so results are identical at any thread count.
//!
//! | module | what |
//! |---|---|
//! | [`prepared`] | exact point-in-area test, O(1) expected per point for any polygon size |
//! | [`polygon_index`] | R-tree over prepared polygon parts: "which features cover this point" |
//! | [`settlement`] | premise → first covering settlement |
//! | [`fibre`] | distance to fibre, networks within the drop distance |
//! | [`mobile`] | 4G/5G operators covering a premise |
//! | [`gaps`] | gap kinds, single-linkage clusters, cluster outlines |
//! | [`hull`] | concave hulls of point clusters (gap outlines), geo's algorithm on squared distances |
//! | [`simplify`] | Douglas–Peucker for map display |
//! | [`summary`] | per-settlement tallies |
//! | [`rng`] | stable seeded RNG for synthetic data and tests |
//! | [`synth`] | seeded synthetic premises, fibre and mobile layers |
//! | [`radio`] | path-loss models, antenna patterns, terrain, predicted coverage from cell sites |
//! | [`polygonize`] | raster cells (as runs) to polygons |
//! | [`validity`] | exact fast proof of OGC polygon validity (GEOS decides the rest) |
//! | [`num`] | min/max of numbers that are not NaN, floor and round to integers without libm |

pub mod aid;
pub mod box_grid;
pub mod cells;
pub mod fibre;
pub mod gaps;
pub mod goals;
pub mod hull;
pub mod mobile;
pub mod network;
pub mod num;
pub mod par;
pub mod polygon_index;
pub mod polygonize;
pub mod prepared;
pub mod prioritise;
pub mod radio;
pub mod resilience;
pub mod rng;
pub mod settlement;
pub mod simplify;
pub mod summary;
pub mod synth;
pub mod tmerc;
pub mod validity;

pub use geo;

/// Errors from core analyses. Input validation happens in the I/O crate; these guard the
/// invariants the analyses rely on.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CoreError {
    #[error(
        "operator id {operator} is out of range: at most {max} distinct operators are supported"
    )]
    TooManyOperators { operator: u32, max: usize },
    #[error("parameter {name} must be {expected}, got {value}")]
    InvalidParameter {
        name: &'static str,
        expected: &'static str,
        value: f64,
    },
}

/// Analysis parameters, in metres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// A premise is fibre passed when its distance to fibre is at most this.
    pub drop_distance_m: f64,
    /// Gap premises within this distance of each other are one cluster.
    pub gap_cluster_m: f64,
    /// Gap outlines extend this far beyond their premises.
    pub gap_margin_m: f64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            drop_distance_m: 50.0,
            gap_cluster_m: 200.0,
            gap_margin_m: 25.0,
        }
    }
}

impl Params {
    /// Checks that every distance is finite and in range.
    pub fn validate(&self) -> Result<(), CoreError> {
        let check = |name, value: f64, positive: bool| {
            let ok = value.is_finite() && if positive { value > 0.0 } else { value >= 0.0 };
            if ok {
                Ok(())
            } else {
                Err(CoreError::InvalidParameter {
                    name,
                    expected: if positive {
                        "a finite number > 0"
                    } else {
                        "a finite number >= 0"
                    },
                    value,
                })
            }
        };
        check("drop_distance_m", self.drop_distance_m, false)?;
        check("gap_cluster_m", self.gap_cluster_m, true)?;
        check("gap_margin_m", self.gap_margin_m, true)?;
        Ok(())
    }
}
