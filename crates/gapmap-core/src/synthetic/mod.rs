//! Seeded synthetic data: the workloads `gapmap synth` makes ([`synth`]), the stable random
//! numbers they and the tests draw from ([`rng`]), and test geometry ([`fixtures`]).

pub mod fixtures;
pub mod rng;
pub mod synth;
