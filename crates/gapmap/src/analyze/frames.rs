//! An analysis' results as tables in memory, for the Python package: the same columns and
//! values as the files [`Results::write`] makes, without writing them.

use gapmap_io::arrow::features_frame;
use gapmap_io::write::tables::DataFrame;

use super::compute::Results;
use super::write::Writer;
use crate::error::Result;
use crate::run_info::RunInfo;

impl Results {
    /// The settlement table: settlements.csv's columns and rows (the rural row last).
    pub fn settlement_frame(&self) -> Result<DataFrame> {
        Writer::new(self).settlement_frame()
    }

    /// The premise table: premises.parquet's columns and rows, in input order.
    pub fn premise_frame(&self) -> Result<DataFrame> {
        let w = Writer::new(self);
        let rows = w.premise_rows();
        let extra = w.premise_extra()?;
        Ok(w.premise_frame(&rows, extra.as_ref(), 0..rows.xy.len())?)
    }

    /// The gap clusters (the gaps layer of gapmap.gpkg: full-resolution outlines in the working
    /// CRS as WKB in `geometry`); `None` when no outlines were drawn (`outputs` without maps).
    pub fn gap_frame(&self) -> Result<Option<DataFrame>> {
        if self.computed.outlines.len() != self.computed.clusters.len() {
            return Ok(None);
        }
        Ok(Some(features_frame(Writer::new(self).gaps())?))
    }

    /// The state-aid white areas (the aid_areas layer of gapmap.gpkg); `None` when they were
    /// not drawn.
    pub fn aid_area_frame(&self) -> Result<Option<DataFrame>> {
        if self.computed.aid_areas.is_none() {
            return Ok(None);
        }
        Ok(Some(features_frame(Writer::new(self).aid_areas())?))
    }

    /// The critical corridors (critical_links.geojson's rows, in the working CRS); `None`
    /// without `backbone`.
    pub fn critical_link_frame(&self) -> Result<Option<DataFrame>> {
        match &Writer::new(self).critical {
            Some(t) => Ok(Some(features_frame(t)?)),
            None => Ok(None),
        }
    }

    /// The run record as run.json has it, with the files written so far (none before
    /// [`Results::write`]).
    pub fn run_info(&self) -> RunInfo {
        super::record::run_info(self, Vec::new(), Vec::new(), None)
    }
}
