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
    NotFound { path: PathBuf },

    #[error("{path}: cannot be opened as a vector data source: {message}")]
    Open { path: PathBuf, message: String },

    #[error("{path}: has no layer named '{layer}'; layers: {}", list(.available))]
    NoSuchLayer {
        path: PathBuf,
        layer: String,
        available: Vec<String>,
    },

    #[error("{path}: has {} layers; choose one with {flag}: {}", .available.len(), list(.available))]
    AmbiguousLayer {
        path: PathBuf,
        flag: String,
        available: Vec<String>,
    },

    #[error("{path}: has no vector layers")]
    NoLayers { path: PathBuf },

    #[error("{path} (layer '{layer}'): has no field '{field}'{hint}; fields: {}", list(.available))]
    MissingField {
        path: PathBuf,
        layer: String,
        field: String,
        available: Vec<String>,
        /// Extra guidance, e.g. which flag sets the field name.
        hint: String,
    },

    #[error(
        "{path} (layer '{layer}'), feature {feature}: geometry is {found}; expected {expected}"
    )]
    GeometryType {
        path: PathBuf,
        layer: String,
        feature: String,
        expected: String,
        found: String,
    },

    #[error("{path} (layer '{layer}'): {what} layer has no features")]
    Empty {
        path: PathBuf,
        layer: String,
        what: String,
    },

    #[error("{path} (layer '{layer}'), feature {feature}: {message}")]
    BadCoordinates {
        path: PathBuf,
        layer: String,
        feature: String,
        message: String,
    },

    #[error(
        "{path} (layer '{layer}'): {count} invalid polygon(s), e.g. feature {first}; \
         --strict forbids repairing them (without --strict they are repaired with GDAL MakeValid)"
    )]
    InvalidPolygons {
        path: PathBuf,
        layer: String,
        count: usize,
        first: String,
    },

    #[error("{path} (layer '{layer}'), feature {feature}: invalid polygon that GDAL MakeValid could not repair: {message}")]
    Unrepairable {
        path: PathBuf,
        layer: String,
        feature: String,
        message: String,
    },

    #[error(
        "{path} (layer '{layer}'): has no coordinate reference system; \
         give the one it is in with --assume-crs (e.g. --assume-crs EPSG:3006)"
    )]
    NoCrs { path: PathBuf, layer: String },

    #[error("{context}: '{value}' is not a usable coordinate reference system: {message}")]
    BadCrs {
        context: String,
        value: String,
        message: String,
    },

    #[error("{path} (layer '{layer}'): cannot reproject from {from} to {to}: {message}")]
    Reproject {
        path: PathBuf,
        layer: String,
        from: String,
        to: String,
        message: String,
    },

    #[error("{path} (layer '{layer}'), feature {feature}, field '{field}': {message}")]
    FieldValue {
        path: PathBuf,
        layer: String,
        feature: String,
        field: String,
        message: String,
    },

    #[error("{path} (layer '{layer}'): {message}")]
    Invalid {
        path: PathBuf,
        layer: String,
        message: String,
    },

    #[error("{path}: cannot read table: {message}")]
    Table { path: PathBuf, message: String },

    #[error("{path}: output directory exists and is not empty; pass --overwrite to replace gapmap's files in it")]
    OutputExists { path: PathBuf },

    #[error("{path}: exists and is not a directory")]
    OutputNotDir { path: PathBuf },

    #[error("{path}: cannot write: {message}")]
    Write { path: PathBuf, message: String },

    #[error("{0}")]
    Core(#[from] gapmap_core::CoreError),
}

impl IoError {
    /// True when the error is the user's input or usage (exit code 2), false for failures of
    /// the machine or of gapmap itself (exit code 1).
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, IoError::Write { .. })
    }
}

/// Short alias.
pub type Result<T, E = IoError> = std::result::Result<T, E>;
