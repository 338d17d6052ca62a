//! Errors of the I/O layer. Every variant names the file, and where it applies the layer,
//! feature and field, and says what was expected; where there is a choice it lists what exists.

use std::path::PathBuf;

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "(none)".to_string()
    } else {
        items.join(", ")
    }
}

/// Errors reading inputs and writing outputs.
#[derive(Debug, thiserror::Error)]
pub enum IoError {
    #[error("{path}: no such file or directory")]
    /// An input that does not exist.
    NotFound {
        /// The file.
        path: PathBuf,
    },

    #[error("{path}: cannot be opened as a vector data source: {message}")]
    /// A file GDAL cannot open as vector data.
    Open {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },

    #[error("{path}: has no layer named '{layer}'; layers: {}", list(.available))]
    /// A layer that is not in the file.
    NoSuchLayer {
        /// The file.
        path: PathBuf,
        /// The layer.
        layer: String,
        /// What there is to choose from.
        available: Vec<String>,
    },

    #[error("{path}: has {} layers; choose one with {flag}: {}", .available.len(), list(.available))]
    /// A file of several layers, none chosen.
    AmbiguousLayer {
        /// The file.
        path: PathBuf,
        /// The flag that chooses.
        flag: String,
        /// What there is to choose from.
        available: Vec<String>,
    },

    #[error("{path}: has no vector layers")]
    /// A file without vector layers.
    NoLayers {
        /// The file.
        path: PathBuf,
    },

    #[error("{path} (layer '{layer}'): has no field '{field}'{hint}; fields: {}", list(.available))]
    /// A field that is not in the layer.
    MissingField {
        /// The file.
        path: PathBuf,
        /// The layer.
        layer: String,
        /// The field.
        field: String,
        /// What there is to choose from.
        available: Vec<String>,
        /// Extra guidance, e.g. which flag sets the field name.
        hint: String,
    },

    /// Several fields that are not in the layer, all named at once.
    #[error("{path} (layer '{layer}'): lacks {} fields: {}; fields: {}", .fields.len(), .fields.join(", "), list(.available))]
    MissingFields {
        /// The file.
        path: PathBuf,
        /// The layer.
        layer: String,
        /// Each missing field, with what it is for and the flag that names it.
        fields: Vec<String>,
        /// What there is to choose from.
        available: Vec<String>,
    },

    #[error(
        "{path} (layer '{layer}'), feature {feature}: geometry is {found}; expected {expected}"
    )]
    /// A feature of the wrong geometry type.
    GeometryType {
        /// The file.
        path: PathBuf,
        /// The layer.
        layer: String,
        /// The feature (its id, or its position).
        feature: String,
        /// What was expected.
        expected: String,
        /// What was found.
        found: String,
    },

    #[error("{path} (layer '{layer}'): {what} layer has no features")]
    /// A layer without features where some are needed.
    Empty {
        /// The file.
        path: PathBuf,
        /// The layer.
        layer: String,
        /// What the layer holds.
        what: String,
    },

    #[error("{path} (layer '{layer}'), feature {feature}: {message}")]
    /// Coordinates that are not finite or not in the CRS.
    BadCoordinates {
        /// The file.
        path: PathBuf,
        /// The layer.
        layer: String,
        /// The feature (its id, or its position).
        feature: String,
        /// What went wrong.
        message: String,
    },

    #[error(
        "{path} (layer '{layer}'): {count} invalid polygon(s), e.g. feature {first}; \
         --strict forbids repairing them (without --strict they are repaired with GDAL MakeValid)"
    )]
    /// Invalid polygons under `--strict`.
    InvalidPolygons {
        /// The file.
        path: PathBuf,
        /// The layer.
        layer: String,
        /// How many.
        count: usize,
        /// The first of them.
        first: String,
    },

    #[error("{path} (layer '{layer}'), feature {feature}: invalid polygon that GDAL MakeValid could not repair: {message}")]
    /// An invalid polygon MakeValid could not repair.
    Unrepairable {
        /// The file.
        path: PathBuf,
        /// The layer.
        layer: String,
        /// The feature (its id, or its position).
        feature: String,
        /// What went wrong.
        message: String,
    },

    #[error(
        "{path} (layer '{layer}'): has no coordinate reference system; \
         give the one it is in with --assume-crs (e.g. --assume-crs EPSG:3006)"
    )]
    /// A layer without a CRS, and no `--assume-crs`.
    NoCrs {
        /// The file.
        path: PathBuf,
        /// The layer.
        layer: String,
    },

    #[error("{context}: '{value}' is not a usable coordinate reference system: {message}")]
    /// A CRS that cannot be used.
    BadCrs {
        /// Where the CRS was given.
        context: String,
        /// The CRS as given.
        value: String,
        /// What went wrong.
        message: String,
    },

    #[error("{path} (layer '{layer}'): cannot reproject from {from} to {to}: {message}")]
    /// Coordinates that cannot be reprojected.
    Reproject {
        /// The file.
        path: PathBuf,
        /// The layer.
        layer: String,
        /// The layer's CRS.
        from: String,
        /// The working CRS.
        to: String,
        /// What went wrong.
        message: String,
    },

    #[error("{path} (layer '{layer}'), feature {feature}, field '{field}': {message}")]
    /// A field value that is not what the field holds.
    FieldValue {
        /// The file.
        path: PathBuf,
        /// The layer.
        layer: String,
        /// The feature (its id, or its position).
        feature: String,
        /// The field.
        field: String,
        /// What went wrong.
        message: String,
    },

    #[error("{path} (layer '{layer}'): {message}")]
    /// A layer that breaks a rule of its input.
    Invalid {
        /// The file.
        path: PathBuf,
        /// The layer.
        layer: String,
        /// What went wrong.
        message: String,
    },

    #[error("interrupted: the run was stopped before its outputs were published; the earlier ones are as they were")]
    /// The run was interrupted ([`crate::write::staging::interrupt`]) before it published.
    Interrupted,

    #[error("{path}: cannot read table: {message}")]
    /// A table polars cannot read.
    Table {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },

    #[error("{path}: output directory exists and is not empty; pass --overwrite to replace gapmap's files in it")]
    /// A non-empty output directory, without `--overwrite`.
    OutputExists {
        /// The file.
        path: PathBuf,
    },

    #[error("{path}: exists and is not a directory")]
    /// An output path that is not a directory.
    OutputNotDir {
        /// The file.
        path: PathBuf,
    },

    #[error("{path}: cannot write: {message}")]
    /// A failure to write an output.
    Write {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },

    #[error("{target}: {message}")]
    /// `--out-db` or `--db-schema` that cannot name a PostgreSQL target.
    DbUsage {
        /// The data source (password masked).
        target: String,
        /// What is wrong.
        message: String,
    },

    #[error("{target}: cannot write results there: {message}")]
    /// A database that cannot be reached, refuses the login, or has no PostGIS.
    DbOpen {
        /// The data source (password masked).
        target: String,
        /// What went wrong.
        message: String,
    },

    #[error("{target}: schema {schema} {message}")]
    /// A schema holding tables the run may not replace.
    DbExists {
        /// The data source (password masked).
        target: String,
        /// The schema.
        schema: String,
        /// What is there.
        message: String,
    },

    #[error(
        "{target}: cannot write into schema {schema}: {message}; its earlier tables are unchanged"
    )]
    /// A failure while writing results into a database (nothing of the run is published).
    DbWrite {
        /// The data source (password masked).
        target: String,
        /// The schema.
        schema: String,
        /// What went wrong.
        message: String,
    },

    #[error("{0}")]
    /// A core analysis refused its input.
    Core(#[from] gapmap_core::CoreError),
}

impl IoError {
    /// True when the error is the user's input or usage (exit code 2), false for failures of
    /// the machine or of gapmap itself (exit code 1).
    pub fn is_bad_input(&self) -> bool {
        !matches!(
            self,
            IoError::Write { .. } | IoError::DbWrite { .. } | IoError::Interrupted
        )
    }
}

/// Short alias.
pub type Result<T, E = IoError> = std::result::Result<T, E>;
