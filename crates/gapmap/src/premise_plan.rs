//! The premise-layer flags shared by `analyze`, `predict` and `settlements`, and the population
//! spread onto the premises (`--population`).

use std::path::{Path, PathBuf};

use gapmap_io::read::{read_premises, FieldChoice, InputInfo, PremiseOptions, Premises, Weighting};
use gapmap_io::ReadContext;

use crate::error::{check_number, Error, Result};
use crate::population::{apply, PopulationInput, PopulationSummary};
use serde::{Deserialize, Serialize};

/// How to read the premises: layer and field names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct PremisePlan {
    /// Layer of the premises file (needed when it has several).
    #[cfg_attr(feature = "clap", arg(long, value_name = "NAME"))]
    pub premises_layer: Option<String>,
    /// Keep only the premises this attribute filter selects (OGR SQL `WHERE`, passed down to
    /// the data source, e.g. PostGIS; not for Parquet); one that selects none is an error.
    #[cfg_attr(feature = "clap", arg(long, value_name = "SQL"))]
    pub premises_where: Option<String>,
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
    /// Population areas (polygons or grid cells with a count of persons, any GDAL vector
    /// format, e.g. SCB's 1 km grid): each area's persons are spread over the premises inside
    /// it, and each premise's households are made from its persons.
    #[cfg_attr(feature = "clap", arg(long, value_name = "PATH"))]
    pub population: Option<PathBuf>,
    /// Layer of the population file (needed when it has several).
    #[cfg_attr(feature = "clap", arg(long, value_name = "NAME"))]
    pub population_layer: Option<String>,
    /// Population field with each area's persons (whole numbers) [default: population].
    #[cfg_attr(feature = "clap", arg(long, value_name = "FIELD"))]
    pub population_field: Option<String>,
    /// Population area id field, for reports [default: id; absent: feature id].
    #[cfg_attr(feature = "clap", arg(long, value_name = "FIELD"))]
    pub population_id_field: Option<String>,
    /// Premise field to share an area's persons by (e.g. floors or dwellings) [default:
    /// building footprint area when every premise is a polygon, else equal shares].
    #[cfg_attr(feature = "clap", arg(long, value_name = "FIELD"))]
    pub population_weight_field: Option<String>,
    /// Persons per household: a premise's households are its persons / this, rounded, and at
    /// least 1 where anyone lives (Sweden 2023: about 2.1). `settlements` also counts a
    /// settlement's people as households x this when there is no `--population`.
    #[cfg_attr(feature = "clap", arg(long, value_name = "X", default_value_t = 2.1))]
    pub persons_per_household: f64,
}

impl Default for PremisePlan {
    fn default() -> PremisePlan {
        PremisePlan {
            premises_layer: None,
            premises_where: None,
            households_field: None,
            workplaces_field: None,
            premise_id_field: None,
            x_field: "x".into(),
            y_field: "y".into(),
            population: None,
            population_layer: None,
            population_field: None,
            population_id_field: None,
            population_weight_field: None,
            persons_per_household: 2.1,
        }
    }
}

impl PremisePlan {
    /// The reader's options for the premises at `path`.
    pub fn options(&self, path: &Path) -> PremiseOptions {
        let mut o = PremiseOptions::from_flags(
            path,
            self.premises_layer.clone(),
            self.premise_id_field.as_deref(),
            self.households_field.as_deref(),
            self.workplaces_field.as_deref(),
            &self.x_field,
            &self.y_field,
        );
        o.filter = self.premises_where.clone();
        if self.population.is_some() {
            o.weighting = match &self.population_weight_field {
                Some(f) => {
                    Weighting::Field(FieldChoice::new(Some(f), f, "--population-weight-field"))
                }
                None => Weighting::Footprint,
            };
        }
        o
    }

    /// Checks the premise flags that go together.
    pub fn validate(&self) -> Result<()> {
        check_number(
            "--persons-per-household",
            self.persons_per_household,
            0.0,
            false,
        )?;
        if self.population.is_none() {
            for (flag, set) in [
                ("--population-layer", self.population_layer.is_some()),
                ("--population-field", self.population_field.is_some()),
                ("--population-id-field", self.population_id_field.is_some()),
                (
                    "--population-weight-field",
                    self.population_weight_field.is_some(),
                ),
            ] {
                if set {
                    return Err(Error::Usage(format!(
                        "{flag} needs --population (the population areas to spread)"
                    )));
                }
            }
        } else if self.households_field.is_some() {
            return Err(Error::Usage(
                "--households-field and --population both give the premises' households; use one"
                    .into(),
            ));
        }
        Ok(())
    }

    /// The population layer to spread onto the premises, with `--population`.
    pub fn population_input(&self) -> Option<PopulationInput> {
        self.population.as_ref().map(|path| PopulationInput {
            path: path.clone(),
            layer: self.population_layer.clone(),
            field: FieldChoice::new(
                self.population_field.as_deref(),
                "population",
                "--population-field",
            ),
            id_field: FieldChoice::new(
                self.population_id_field.as_deref(),
                "id",
                "--population-id-field",
            ),
            persons_per_household: self.persons_per_household,
        })
    }

    /// Reads the premises at `path` and, with `--population`, spreads the population onto
    /// them (their notices include the population's). Returns the population's record and
    /// its input record too.
    pub fn read(
        &self,
        path: &Path,
        ctx: &ReadContext,
    ) -> Result<(Premises, Option<(PopulationSummary, InputInfo)>)> {
        let mut premises = read_premises(&self.options(path), ctx)?;
        let population = match self.population_input() {
            Some(input) => {
                let mut notices = Vec::new();
                let r = apply(&input, &mut premises, ctx, &mut notices)?;
                premises.notices.extend(notices);
                Some(r)
            }
            None => None,
        };
        Ok((premises, population))
    }
}
