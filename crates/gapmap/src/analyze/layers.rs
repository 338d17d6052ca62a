//! [`Layers`]: what an analysis reads, shared by its inputs and its results.

use gapmap_io::read::raster::DemInput;
use gapmap_io::read::sites::Sites;
use gapmap_io::read::{Backbone, Fibre, InputInfo, Mobile, Premises, Settlements};

use crate::policy::Policy;
use crate::population::PopulationSummary;

/// The population spread onto the premises: what run.json records, and the input's record.
pub type Population = (PopulationSummary, InputInfo);

/// The layers of an analysis, read, validated and reprojected into the working CRS: what the
/// kernels index and the outputs describe.
pub struct Layers {
    /// The premises, in input order.
    pub premises: Premises,
    /// The population spread onto the premises (with `--population`).
    pub population: Option<Population>,
    /// The settlement polygons.
    pub settlements: Settlements,
    /// The fibre (the features are let go once indexed unless resilience or the aid reach
    /// needs them).
    pub fibre: Option<Fibre>,
    /// The mobile coverage (its polygons are let go once indexed).
    pub mobile: Option<Mobile>,
    /// Backbone points (with `--backbone`).
    pub backbone: Option<Backbone>,
    /// Cell sites and their DEM (with `--sites`).
    pub sites: Option<(Sites, Option<DemInput>)>,
    /// The state-aid and goal settings, with the fixed and planned networks.
    pub policy: Policy,
}

impl Layers {
    /// Which measures the analysis had a layer for: fibre (`--fibre`), and mobile coverage
    /// (`--mobile`) or cell sites (`--sites`). Without one, no premise counts as having it,
    /// and the outputs say "not known" rather than 0.
    pub fn known(&self) -> super::summary::Known {
        super::summary::Known {
            fibre: self.fibre.is_some(),
            mobile: self.mobile.is_some() || self.sites.is_some(),
        }
    }
}
