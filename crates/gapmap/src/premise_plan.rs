//! The premise-layer flags shared by `analyze`, `predict` and `settlements`.

use std::path::Path;

use gapmap_io::read::PremiseOptions;
use serde::{Deserialize, Serialize};

/// How to read the premises: layer and field names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct PremisePlan {
    /// Layer of the premises file (needed when it has several).
    #[cfg_attr(feature = "clap", arg(long, value_name = "NAME"))]
    pub premises_layer: Option<String>,
    /// Premise field with the number of households [default: households; absent: 1 each].
    #[cfg_attr(feature = "clap", arg(long, value_name = "FIELD"))]
    pub households_field: Option<String>,
    /// Premise field with the number of workplaces [default: workplaces; absent: 0 each].
    #[cfg_attr(feature = "clap", arg(long, value_name = "FIELD"))]
    pub workplaces_field: Option<String>,
    /// Premise id field [default: id; absent: feature id or row number].
    #[cfg_attr(feature = "clap", arg(long, value_name = "FIELD"))]
    pub premise_id_field: Option<String>,
    /// x (easting or longitude) column of Parquet/CSV premise tables.
    #[cfg_attr(
        feature = "clap",
        arg(long, value_name = "COLUMN", default_value = "x")
    )]
    pub x_field: String,
    /// y (northing or latitude) column of Parquet/CSV premise tables.
    #[cfg_attr(
        feature = "clap",
        arg(long, value_name = "COLUMN", default_value = "y")
    )]
    pub y_field: String,
}

impl Default for PremisePlan {
    fn default() -> PremisePlan {
        PremisePlan {
            premises_layer: None,
            households_field: None,
            workplaces_field: None,
            premise_id_field: None,
            x_field: "x".into(),
            y_field: "y".into(),
        }
    }
}

impl PremisePlan {
    /// The reader's options for the premises at `path`.
    pub fn options(&self, path: &Path) -> PremiseOptions {
        PremiseOptions::from_flags(
            path,
            self.premises_layer.clone(),
            self.premise_id_field.as_deref(),
            self.households_field.as_deref(),
            self.workplaces_field.as_deref(),
            &self.x_field,
            &self.y_field,
        )
    }
}
