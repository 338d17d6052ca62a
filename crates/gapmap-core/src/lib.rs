//! gapmap-core: the geometry and analyses of gapmap, with no I/O.
//!
//! All coordinates are metres in one projected CRS; the I/O crate reprojects and validates
//! before anything reaches this crate. Each analysis is a module of pure per-premise kernels
//! over shared read-only indexes; [`par::map_chunked`] drives them with rayon and keeps input
//! order, so results are identical at any thread count.
//!
//! The modules are grouped in four folders, and each is also at the crate root
//! (`gapmap_core::fibre`):
//!
//! | folder | modules |
//! |---|---|
//! | [`index`] | [`prepared`] (exact point-in-area, O(1) expected per point), [`polygon_index`] (features by point), [`box_grid`] (boxes by grid cell) |
//! | [`analysis`] | [`settlement`], [`fibre`], [`mobile`], [`gaps`], [`summary`] (tallies), [`aid`], [`goals`], [`cells`] (SCB squares, H3), [`network`] and [`resilience`] (the fibre graph and what one failure cuts), [`prioritise`] |
//! | [`geometry`] | [`hull`], [`simplify`], [`validity`], [`polygonize`], [`tmerc`], [`num`] |
//! | [`radio`] | path loss, antennas, terrain, predicted coverage from cell sites |
//! | [`synthetic`] | [`synth`] (workloads), [`rng`] (stable seeded numbers), [`synthetic::fixtures`] (test geometry) |
//!
//! [`par`] runs kernels over premises in parallel, in a cache-friendly order, keeping input
//! order.

pub mod analysis;
pub mod geometry;
pub mod index;
pub mod par;
pub mod radio;
pub mod synthetic;

// Every module also at the crate root, where it has always been (`gapmap_core::fibre`).
pub use analysis::{
    aid, cells, fibre, gaps, goals, mobile, network, population, prioritise, resilience,
    settlement, splice, summary,
};
pub use geometry::{hull, num, polygonize, simplify, tmerc, validity};
pub use index::{box_grid, polygon_index, prepared};
pub use synthetic::{rng, synth};

pub use geo;

/// Errors from core analyses. Input validation happens in the I/O crate; these guard the
/// invariants the analyses rely on.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CoreError {
    #[error(
        "operator id {operator} is out of range: at most {max} distinct operators are supported"
    )]
    /// An operator id beyond the bit sets' width.
    TooManyOperators {
        /// The operator id.
        operator: u32,
        /// How many operators fit.
        max: usize,
    },
    /// A parameter out of its range.
    #[error("parameter {name} must be {expected}, got {value}")]
    InvalidParameter {
        /// The parameter's name.
        name: &'static str,
        /// What it must be.
        expected: &'static str,
        /// What it was.
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
