//! The analyses, each a module of pure per-premise kernels over shared read-only indexes:
//! settlement, fibre, mobile, gaps, tallies ([`summary`]), state aid and goals, grid cells,
//! the fibre network graph and its resilience, and project prioritisation.

pub mod aid;
pub mod cells;
pub mod fibre;
pub mod gaps;
pub mod goals;
pub mod mobile;
pub mod network;
pub mod population;
pub mod prioritise;
pub mod resilience;
pub mod settlement;
pub mod splice;
pub mod summary;
