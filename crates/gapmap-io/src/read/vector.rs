//! Reading vector layers with GDAL: open, choose the layer, resolve the CRS, and yield each
//! feature's geometry in the working CRS (validated, and repaired if it is an invalid polygon)
//! together with typed field access.

use std::ffi::CStr;
use std::path::{Path, PathBuf};

use gapmap_core::geo::{Coord, Geometry, MultiPolygon};
use gapmap_core::validity::surely_valid;
use gdal::cpl::CslStringList;
use gdal::vector::{Feature, FieldValue, LayerAccess, OwnedLayer};
use gdal::{Dataset, DatasetOptions, GdalOpenFlags};

use crate::crs::{Crs, Transform};
use crate::error::{IoError, Result};
use crate::gdal_errors::{
    clean_gdal_message, clear_gdal_message, gdal_reason, init_gdal, take_gdal_message,
};
use crate::geom;
use crate::read::columnar::{columnar_driver, Batch, Decoded, Stream};

/// Where inputs are read into and how.
#[derive(Debug, Clone)]
pub struct ReadContext {
    /// All geometry is reprojected into this CRS (projected, metres).
    pub target: Crs,
    /// Used for inputs that carry no CRS.
    pub assume_crs: Option<Crs>,
    /// Invalid polygons are an error instead of being repaired.
    pub strict: bool,
    /// Read through GDAL's columnar Arrow stream where it gives the same features (see
    /// `read::columnar`). Off by default: GDAL 3.6's streams crashed or hung on corrupt files
    /// that its per-feature readers report cleanly (RELIABILITY.md findings 6 and 7).
    pub columnar: bool,
}

/// Where a layer lies, in longitude and latitude, for choosing a working CRS before reading
/// (`--crs auto`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Whereabouts {
    /// The centre of the layer's extent (see [`VectorLayer::centre_in_target`]).
    pub centre: Option<Coord<f64>>,
    /// Points of features spread over the layer (see [`VectorLayer::sample_in_target`]):
    /// the extent alone cannot tell a country's data from its neighbours', as the centre of
    /// Sweden's extent lies in the Gulf of Bothnia and that of Norway's in Sweden.
    pub sample: Vec<Coord<f64>>,
}

/// How many features [`layer_whereabouts`] samples: enough for a majority, and about 7 ms
/// for SCB's national tätorter (GeoPackage).
pub const WHEREABOUTS_SAMPLE: usize = 64;

/// Where the layer `layer` of `path` lies in longitude and latitude, for choosing a working
/// CRS before reading. A layer without a CRS is read in `assume_crs`.
pub fn layer_whereabouts(
    path: &Path,
    layer: Option<&str>,
    layer_flag: &str,
    assume_crs: Option<&str>,
) -> Result<Whereabouts> {
    let mut ctx = ReadContext::new(Crs::wgs84());
    ctx.assume_crs = assume_crs
        .map(|c| Crs::parse(c, "--assume-crs"))
        .transpose()?;
    let mut l = VectorLayer::open(path, layer, layer_flag, &ctx)?;
    Ok(Whereabouts {
        centre: l.centre_in_target(),
        sample: l.sample_in_target(WHEREABOUTS_SAMPLE),
    })
}

/// A [`ReadContext`] that can be sent to another thread, where
/// [`PortableContext::context`] rebuilds it (GDAL's CRS objects must not cross threads).
#[derive(Debug, Clone)]
pub struct PortableContext {
    target: (String, String),
    assume_crs: Option<(String, String)>,
    strict: bool,
    columnar: bool,
}

impl ReadContext {
    /// Reading into `target`, with no assumed CRS, repairing invalid polygons.
    pub fn new(target: Crs) -> ReadContext {
        ReadContext {
            target,
            assume_crs: None,
            strict: false,
            columnar: false,
        }
    }

    /// The context of the command-line flags `--crs` (projected, in metres) and
    /// `--assume-crs`.
    pub fn from_flags(crs: &str, assume_crs: Option<&str>, strict: bool) -> Result<ReadContext> {
        let target = Crs::parse(crs, "--crs")?;
        target.require_projected_metres("--crs")?;
        Ok(ReadContext {
            target,
            assume_crs: assume_crs
                .map(|c| Crs::parse(c, "--assume-crs"))
                .transpose()?,
            strict,
            columnar: false,
        })
    }

    /// The context as text, to move to another thread.
    pub fn portable(&self) -> PortableContext {
        PortableContext {
            target: (self.target.wkt(), self.target.label().to_string()),
            assume_crs: self
                .assume_crs
                .as_ref()
                .map(|c| (c.wkt(), c.label().to_string())),
            strict: self.strict,
            columnar: self.columnar,
        }
    }
}

impl PortableContext {
    /// The context again, on this thread.
    pub fn context(&self) -> Result<ReadContext> {
        Ok(ReadContext {
            target: Crs::from_wkt_labelled(&self.target.0, &self.target.1)?,
            assume_crs: self
                .assume_crs
                .as_ref()
                .map(|(w, l)| Crs::from_wkt_labelled(w, l))
                .transpose()?,
            strict: self.strict,
            columnar: self.columnar,
        })
    }
}

/// The vector data source `path` (any name [`gdal_source`] takes) opened on a GDAL connection
/// of its own, and whether it is read as a CSV (whose header is checked first).
pub(crate) fn open_source(path: &Path) -> Result<(Dataset, bool)> {
    init_gdal();
    let source = gdal_source(path)?;
    let csv = matches!(extension(&source).as_str(), "csv" | "tsv");
    if csv && source == path {
        check_csv_header(path)?;
    }
    let options = DatasetOptions {
        open_flags: GdalOpenFlags::GDAL_OF_VECTOR,
        open_options: csv.then_some(&CSV_OPEN_OPTIONS[..]),
        ..Default::default()
    };
    clear_gdal_message();
    let ds = Dataset::open_ex(&source, options).map_err(|e| IoError::Open {
        path: path.to_path_buf(),
        message: gdal_reason(
            &e.to_string(),
            "GDAL recognises no vector format in it (empty, truncated, or not a vector file)",
        ),
    })?;
    Ok((ds, csv))
}

/// Refuses a CSV whose header names a column twice: GDAL 3.6's CSV driver crashes (a null
/// pointer, found by `scripts/fuzz`) when two columns each match its x or y names, and a
/// repeated name is a mistake in any case.
fn check_csv_header(path: &Path) -> Result<()> {
    use std::io::{BufRead, BufReader};
    let Ok(f) = std::fs::File::open(path) else {
        return Ok(()); // GDAL says what is wrong with it
    };
    let mut line = Vec::new();
    if BufReader::new(f).read_until(b'\n', &mut line).is_err() {
        return Ok(());
    }
    let header = String::from_utf8_lossy(&line);
    let sep = [',', ';', '\t']
        .into_iter()
        .find(|&c| header.contains(c))
        .unwrap_or(',');
    let mut seen: Vec<String> = Vec::new();
    for name in header.split(sep) {
        let name = name.trim().trim_matches('"').trim().to_lowercase();
        if name.is_empty() {
            continue;
        }
        if seen.contains(&name) {
            return Err(IoError::Invalid {
                path: path.to_path_buf(),
                layer: path
                    .file_stem()
                    .map_or(String::new(), |s| s.to_string_lossy().into_owned()),
                message: format!("the header names the column '{name}' twice; each column needs a name of its own"),
            });
        }
        seen.push(name);
    }
    Ok(())
}

/// Options that make GDAL's CSV driver find point geometry in x/y or lon/lat columns, or WKT
/// geometry in a `wkt`/`geometry` column.
const CSV_OPEN_OPTIONS: [&str; 6] = [
    "X_POSSIBLE_NAMES=x,lon,long,longitude,easting",
    "Y_POSSIBLE_NAMES=y,lat,latitude,northing",
    "GEOM_POSSIBLE_NAMES=wkt,geometry,geom,the_geom",
    "KEEP_GEOM_COLUMNS=NO",
    "AUTODETECT_TYPE=YES",
    // An empty cell is a missing value, not 0 (e.g. an omni site's empty azimuth).
    "EMPTY_STRING_AS_NULL=YES",
];

/// `text` with the passwords of database connection strings masked: `password=...` (a
/// libpq keyword, any case, its value quoted or up to the next space or quote) and the
/// password of a `postgresql://user:password@host` URI become `***`. Every message and
/// record that may hold a data source name passes through it.
pub fn mask_secrets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let lower = text.to_ascii_lowercase();
    let mut i = 0;
    while i < text.len() {
        let rest = &lower[i..];
        if rest.starts_with("password=") {
            let start = i + "password=".len();
            let bytes = text.as_bytes();
            let end = if bytes.get(start) == Some(&b'\'') {
                // A quoted value: up to the closing quote (backslash escapes skipped).
                let mut k = start + 1;
                while k < text.len() && bytes[k] != b'\'' {
                    k += if bytes[k] == b'\\' { 2 } else { 1 };
                }
                (k + 1).min(text.len())
            } else {
                let end = text[start..]
                    .find(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == ',')
                    .map_or(text.len(), |k| start + k);
                // "... password=pw: cannot be opened": the colon is the message's.
                if end > start + 1 && bytes[end - 1] == b':' && end < text.len() {
                    end - 1
                } else {
                    end
                }
            };
            out.push_str(&text[i..start]);
            out.push_str("***");
            i = end;
            continue;
        }
        if rest.starts_with("://") {
            // scheme://user:password@host
            let start = i + 3;
            let tail = &text[start..];
            let stop = tail
                .find(|c: char| c.is_whitespace() || c == '/' || c == '"')
                .unwrap_or(tail.len());
            if let Some(at) = tail[..stop].rfind('@') {
                if let Some(colon) = tail[..at].find(':') {
                    out.push_str(&text[i..start + colon + 1]);
                    out.push_str("***");
                    i = start + at;
                    continue;
                }
            }
        }
        let c = text[i..].chars().next().unwrap_or(' ');
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// True for a GDAL data source name that is no path on disk: a virtual file system path
/// (`/vsizip/...`, `/vsicurl/...`, `/vsis3/...`) or a driver prefix (`PG:dbname=gm`,
/// `GPKG:file.gpkg:layer`, `WFS:https://...`): two or more capitals, digits or underscores,
/// then a colon.
pub fn is_data_source_name(s: &str) -> bool {
    if s.starts_with("/vsi") {
        return true;
    }
    match s.split_once(':') {
        Some((prefix, _)) => {
            prefix.len() >= 2
                && prefix
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        }
        None => false,
    }
}

/// What GDAL opens for the input `path`: a data source name as it is; a file or directory
/// that exists as it is, except archives, which are opened through GDAL's virtual file
/// systems (`.zip` and `.tar`/`.tgz`/`.tar.gz` holding one vector file, `.gz` holding one
/// file). A plain path that does not exist is "no such file".
pub(crate) fn gdal_source(path: &Path) -> Result<PathBuf> {
    let text = path.to_string_lossy();
    if is_data_source_name(&text) {
        return Ok(path.to_path_buf());
    }
    if !path.exists() {
        return Err(IoError::NotFound {
            path: path.to_path_buf(),
        });
    }
    let lower = text.to_ascii_lowercase();
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    if path.is_file() {
        if lower.ends_with(".zip") {
            return archive_member(path, &format!("/vsizip/{}", abs.display()));
        }
        if lower.ends_with(".tar") || lower.ends_with(".tgz") || lower.ends_with(".tar.gz") {
            return archive_member(path, &format!("/vsitar/{}", abs.display()));
        }
        if lower.ends_with(".gz") {
            return Ok(PathBuf::from(format!("/vsigzip/{}", abs.display())));
        }
    }
    Ok(path.to_path_buf())
}

/// Extensions of the vector files an archive may hold (a shapefile counts by its `.shp`).
const VECTOR_EXTENSIONS: [&str; 13] = [
    "shp", "gpkg", "geojson", "json", "fgb", "csv", "gml", "kml", "sqlite", "tab", "mif", "gpx",
    "geojsonl",
];

/// The one vector file in the archive at `root` (a `/vsizip/` or `/vsitar/` path), as a path
/// GDAL opens; an archive with none, or with several, is an error listing what it holds.
fn archive_member(path: &Path, root: &str) -> Result<PathBuf> {
    let entries = gdal::vsi::read_dir(root, true).map_err(|e| IoError::Open {
        path: path.to_path_buf(),
        message: gdal_reason(&e.to_string(), "not a readable archive"),
    })?;
    let vector: Vec<&PathBuf> = entries
        .iter()
        .filter(|e| VECTOR_EXTENSIONS.contains(&extension(e).as_str()))
        .collect();
    let list = |v: &[&PathBuf]| {
        v.iter()
            .map(|e| e.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match vector.as_slice() {
        [one] => Ok(PathBuf::from(format!("{root}/{}", one.display()))),
        [] => Err(IoError::Open {
            path: path.to_path_buf(),
            message: format!(
                "the archive holds no vector file ({})",
                if entries.is_empty() {
                    "it is empty".to_string()
                } else {
                    list(&entries.iter().collect::<Vec<_>>())
                }
            ),
        }),
        several => Err(IoError::Open {
            path: path.to_path_buf(),
            message: format!(
                "the archive holds {} vector files: {}; name one as {root}/{}",
                several.len(),
                list(several),
                several[0].display()
            ),
        }),
    }
}

pub(crate) fn extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// One open layer, with everything needed to describe it in errors and in run.json.
pub(crate) struct VectorLayer {
    pub path: PathBuf,
    pub name: String,
    pub driver: String,
    pub crs: Crs,
    pub crs_assumed: bool,
    pub fields: Vec<String>,
    field_types: Vec<gdal_sys::OGRFieldType::Type>,
    /// Name of the FID column, when the format has one (e.g. `fid` in GeoPackage).
    pub fid_column: Option<String>,
    layer: OwnedLayer,
    transform: Transform,
    target: Crs,
    make_valid_options: CslStringList,
    /// Per field: whether it is read (`None`: every field is).
    kept: Option<Vec<bool>>,
    /// An attribute filter is set.
    filtered: bool,
    /// Read through the Arrow stream where possible ([`ReadContext::columnar`]).
    columnar: bool,
    /// The last [`VectorLayer::for_each`] read through the Arrow stream.
    pub read_columnar: bool,
}

/// How a feature's geometry is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Validate {
    /// Only that coordinates are finite.
    Coordinates,
    /// Also that polygons are valid (OGC), repairing them with MakeValid unless strict.
    Polygons,
}

/// What happened to the geometries of a layer while reading.
#[derive(Debug, Default)]
pub(crate) struct GeometryLog {
    /// Features whose polygons were repaired.
    pub repaired: Vec<String>,
    /// Features that were invalid under `--strict`.
    pub invalid: Vec<String>,
    /// Polygons not yet checked.
    pending: Vec<Pending>,
}

impl VectorLayer {
    /// Opens `path` and chooses `layer`, or the only layer. `layer_flag` names the command-line
    /// flag that chooses a layer, for the error message.
    pub fn open(
        path: &Path,
        layer: Option<&str>,
        layer_flag: &str,
        ctx: &ReadContext,
    ) -> Result<VectorLayer> {
        let (ds, csv) = open_source(path)?;
        VectorLayer::from_dataset(ds, path, layer, layer_flag, ctx, csv)
    }

    /// [`VectorLayer::open`] on the data source `ds`, opened from `path` (`csv`: as a CSV).
    pub(crate) fn from_dataset(
        ds: Dataset,
        path: &Path,
        layer: Option<&str>,
        layer_flag: &str,
        ctx: &ReadContext,
        csv: bool,
    ) -> Result<VectorLayer> {
        let names: Vec<String> = ds.layers().map(|l| l.name()).collect();
        let idx = match layer {
            Some(want) => {
                names
                    .iter()
                    .position(|n| n == want)
                    .ok_or_else(|| IoError::NoSuchLayer {
                        path: path.to_path_buf(),
                        layer: want.to_string(),
                        available: names.clone(),
                    })?
            }
            // Without a choice: the only layer, or else the only layer with geometry (a
            // GeoPackage's `layer_styles` table, where QGIS keeps styles, has none).
            None => {
                let spatial: Vec<usize> = ds
                    .layers()
                    .enumerate()
                    .filter(|(_, l)| l.defn().geom_fields().count() > 0)
                    .map(|(i, _)| i)
                    .collect();
                match (names.len(), spatial.as_slice()) {
                    (0, _) => {
                        return Err(IoError::NoLayers {
                            path: path.to_path_buf(),
                        })
                    }
                    (1, _) => 0,
                    (_, [only]) => *only,
                    _ => {
                        return Err(IoError::AmbiguousLayer {
                            path: path.to_path_buf(),
                            flag: layer_flag.to_string(),
                            available: names,
                        })
                    }
                }
            }
        };
        let driver = ds.driver().short_name();
        let name = names[idx].clone();
        let layer = ds.into_layer(idx).map_err(|e| IoError::Open {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        if layer.defn().geom_fields().count() == 0 {
            return Err(IoError::Invalid {
                path: path.to_path_buf(),
                layer: name,
                message: if csv {
                    "has no geometry: a CSV needs x/y (or lon/lat) columns or a WKT column named \
                     wkt or geometry"
                        .into()
                } else {
                    "has no geometry column".into()
                },
            });
        }
        let (crs, crs_assumed) = match layer.spatial_ref() {
            Some(srs) => (Crs::from_srs(srs), false),
            None => match &ctx.assume_crs {
                Some(c) => (c.clone(), true),
                None => {
                    return Err(IoError::NoCrs {
                        path: path.to_path_buf(),
                        layer: name,
                    })
                }
            },
        };
        let transform =
            Transform::new(&crs, &ctx.target).map_err(|message| IoError::Reproject {
                path: path.to_path_buf(),
                layer: name.clone(),
                from: crs.label().to_string(),
                to: ctx.target.label().to_string(),
                message,
            })?;
        let fields = layer.defn().fields().map(|f| f.name()).collect();
        let field_types = layer.defn().fields().map(|f| f.field_type()).collect();
        let fid_column = unsafe {
            let p = gdal_sys::OGR_L_GetFIDColumn(layer.c_layer());
            (!p.is_null())
                .then(|| CStr::from_ptr(p).to_string_lossy().into_owned())
                .filter(|s| !s.is_empty())
        };
        let mut make_valid_options = CslStringList::new();
        make_valid_options
            .set_name_value("METHOD", "STRUCTURE")
            .map_err(|e| IoError::Open {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
        Ok(VectorLayer {
            path: path.to_path_buf(),
            name,
            driver,
            crs,
            crs_assumed,
            fields,
            field_types,
            fid_column,
            layer,
            transform,
            target: ctx.target.clone(),
            make_valid_options,
            kept: None,
            filtered: false,
            columnar: ctx.columnar,
            read_columnar: false,
        })
    }

    /// The centre of the layer's extent in the CRS the layer is read into (`None` for an
    /// empty layer or one whose centre cannot be reprojected). Cheap where the format keeps
    /// its extent (GeoPackage, Shapefile); otherwise GDAL reads the layer once.
    pub fn centre_in_target(&self) -> Option<Coord<f64>> {
        let e = self.layer.get_extent().ok()?;
        let c = Coord {
            x: (e.MinX + e.MaxX) / 2.0,
            y: (e.MinY + e.MaxY) / 2.0,
        };
        if !(c.x.is_finite() && c.y.is_finite()) {
            return None;
        }
        self.transform.points(&[c]).ok()?.first().copied()
    }

    /// Up to `max` points spread over the layer's features, in the CRS the layer is read
    /// into: the centre of each sampled feature's envelope, for features at evenly spaced
    /// positions. Where the driver reads features by id (GeoPackage, Shapefile, FlatGeobuf,
    /// GeoJSON, PostGIS) only those features are read; otherwise the layer is read once.
    /// Features without geometry, and points that cannot be reprojected, are left out.
    pub fn sample_in_target(&mut self, max: usize) -> Vec<Coord<f64>> {
        let centres = self.sample_centres(max);
        self.layer.reset_feature_reading();
        centres
            .into_iter()
            .filter_map(|c| self.transform.points(&[c]).ok()?.first().copied())
            .filter(|c| c.x.is_finite() && c.y.is_finite())
            .collect()
    }

    /// The envelope centres of [`VectorLayer::sample_in_target`], in the layer's CRS.
    fn sample_centres(&mut self, max: usize) -> Vec<Coord<f64>> {
        fn centre(f: &Feature) -> Option<Coord<f64>> {
            let g = f.geometry()?;
            if g.is_empty() {
                return None;
            }
            let e = g.envelope();
            let c = Coord {
                x: (e.MinX + e.MaxX) / 2.0,
                y: (e.MinY + e.MaxY) / 2.0,
            };
            (c.x.is_finite() && c.y.is_finite()).then_some(c)
        }
        let n = self.layer.feature_count() as usize;
        let k = max.min(n);
        if k == 0 {
            return Vec::new();
        }
        self.layer.reset_feature_reading();
        let first = self.layer.features().next().and_then(|f| f.fid());
        if let (true, Some(first)) = (
            self.layer
                .has_capability(gdal::vector::LayerCaps::OLCRandomRead),
            first,
        ) {
            // Feature ids are mostly consecutive from the first one (GeoPackage from 1,
            // Shapefile and GeoJSON from 0); ids that are missing are skipped, and when too
            // many are, the layer is read through instead.
            let found: Vec<Coord<f64>> = (0..k)
                .filter_map(|i| {
                    let fid = first.checked_add((i * n / k) as u64)?;
                    centre(&self.layer.feature(fid)?)
                })
                .collect();
            if found.len() * 2 >= k {
                return found;
            }
        }
        self.layer.reset_feature_reading();
        self.layer
            .features()
            .enumerate()
            .filter(|(i, _)| (i * k) % n < k)
            .filter_map(|(_, f)| centre(&f))
            .collect()
    }

    /// Index of a field, or `None`.
    pub fn find_field(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f == name)
    }

    /// Index of a field that must exist.
    pub fn require_field(&self, name: &str, hint: &str) -> Result<usize> {
        self.find_field(name).ok_or_else(|| IoError::MissingField {
            path: self.path.clone(),
            layer: self.name.clone(),
            field: name.to_string(),
            available: self.fields.clone(),
            hint: hint.to_string(),
        })
    }

    /// Keeps only the features that `filter` (an OGR SQL `WHERE` expression, passed down to
    /// the data source: PostGIS and GeoPackage evaluate it themselves) selects. `flag` names the
    /// option for messages. A filter GDAL refuses, or one that selects nothing, is an error
    /// naming it.
    pub fn set_filter(&mut self, filter: &str, flag: &str) -> Result<()> {
        clear_gdal_message();
        let invalid = |said: String| IoError::Invalid {
            path: self.path.clone(),
            layer: self.name.clone(),
            message: format!("{flag} \"{filter}\" is not a filter GDAL can apply to it: {said}"),
        };
        self.layer.set_attribute_filter(filter).map_err(|e| {
            invalid(gdal_reason(
                &e.to_string(),
                "not a valid OGR SQL WHERE expression",
            ))
        })?;
        // Some drivers (GeoPackage) accept any filter and fail when it is evaluated: count
        // now, and take what GDAL said. A negative count is GDAL's failure.
        // SAFETY: the layer handle is valid for the life of `self.layer`.
        let count = unsafe { gdal_sys::OGR_L_GetFeatureCount(self.layer.c_layer(), 1) };
        if let Some(said) = take_gdal_message().filter(|_| count <= 0) {
            return Err(invalid(said));
        }
        if count <= 0 {
            // Only for the message: the layer's features without the filter.
            self.layer.clear_attribute_filter();
            let all = self.layer.feature_count();
            return Err(IoError::Invalid {
                path: self.path.clone(),
                layer: self.name.clone(),
                message: format!("{flag} \"{filter}\" selects none of its {all} features"),
            });
        }
        self.filtered = true;
        Ok(())
    }

    /// Keeps only the features of `filter`, one range of a table read in parts
    /// (`read::postgres`): unlike [`VectorLayer::set_filter`], a range that selects nothing is
    /// not an error, and the features are not counted first. `user_filter`: `filter` includes
    /// the role's `--*-where`, checked by `set_filter` on the whole layer.
    pub(crate) fn set_range_filter(&mut self, filter: &str, user_filter: bool) -> Result<()> {
        clear_gdal_message();
        self.layer
            .set_attribute_filter(filter)
            .map_err(|e| IoError::Invalid {
                path: self.path.clone(),
                layer: self.name.clone(),
                message: format!(
                    "cannot read the rows {filter}: {}",
                    gdal_reason(&e.to_string(), "GDAL refused the filter")
                ),
            })?;
        self.filtered = user_filter;
        Ok(())
    }

    /// The number of features (counted by the driver).
    pub fn feature_count(&self) -> u64 {
        self.layer.feature_count()
    }

    /// True when field `idx` holds integers.
    pub fn field_is_integer(&self, idx: usize) -> bool {
        use gdal_sys::OGRFieldType::{OFTInteger, OFTInteger64};
        self.field_types
            .get(idx)
            .is_some_and(|&t| t == OFTInteger || t == OFTInteger64)
    }

    /// True when `name` is the layer's FID column (so "field" values are the FIDs).
    pub fn is_fid_column(&self, name: &str) -> bool {
        self.fid_column
            .as_deref()
            .is_some_and(|f| f.eq_ignore_ascii_case(name))
    }

    /// Reads only the fields `used` (indexes of [`VectorLayer::fields`]) from here on: GDAL then
    /// neither fetches nor parses the others (for PostgreSQL, they leave the SELECT). A field
    /// not among them reads as unset, so a reader names every field it reads.
    /// With an attribute filter, every field is read: drivers that evaluate the filter
    /// themselves (GeoJSON, Shapefile) would see the fields it names as unset.
    pub fn read_only_fields(&mut self, used: &[usize]) -> Result<()> {
        if self.filtered {
            return Ok(());
        }
        let kept: Vec<bool> = (0..self.fields.len()).map(|k| used.contains(&k)).collect();
        let ignored: Vec<std::ffi::CString> = self
            .fields
            .iter()
            .zip(&kept)
            .filter(|(_, &k)| !k)
            .filter_map(|(n, _)| std::ffi::CString::new(n.as_str()).ok())
            .chain(std::ffi::CString::new("OGR_STYLE").ok())
            .collect();
        let mut ptrs: Vec<*const std::os::raw::c_char> =
            ignored.iter().map(|c| c.as_ptr()).collect();
        ptrs.push(std::ptr::null());
        // SAFETY: the layer handle is valid while `self.layer` lives; `ptrs` is a
        // null-terminated array of C strings that outlive the call (GDAL copies them).
        let rv = unsafe {
            gdal_sys::OGR_L_SetIgnoredFields(self.layer.c_layer(), ptrs.as_mut_ptr().cast())
        };
        if rv != gdal_sys::OGRErr::OGRERR_NONE {
            // A driver that cannot leave fields out reads them all: slower, never wrong.
            return Ok(());
        }
        self.kept = Some(kept);
        Ok(())
    }

    /// Calls `f` for each feature in order, with the position of the feature in the layer.
    /// Reads through GDAL's Arrow stream where it gives the same features
    /// ([`VectorLayer::reads_columnar`]), else feature by feature.
    pub fn for_each(
        &mut self,
        mut f: impl FnMut(&FeatureReader<'_>, usize) -> Result<()>,
    ) -> Result<()> {
        let stream = if self.reads_columnar() {
            Stream::open(
                &mut self.layer,
                &self.fields,
                self.kept.as_deref(),
                self.fid_column.as_deref(),
            )
        } else {
            None
        };
        self.read_columnar = stream.is_some();
        let VectorLayer {
            layer,
            path,
            name,
            transform,
            target,
            crs,
            driver,
            kept,
            ..
        } = self;
        let ctx = LayerCtx {
            path,
            layer: name,
            transform,
            target,
            source: crs,
            empty_is_error: driver.as_str() == "GeoJSON",
            kept: kept.as_deref(),
        };
        if let Some(mut stream) = stream {
            let mut i = 0;
            while let Some(batch) = stream.next_batch() {
                let batch = batch.map_err(|message| IoError::Invalid {
                    path: path.to_path_buf(),
                    layer: name.to_string(),
                    message: format!("GDAL could not read its features: {message}"),
                })?;
                for row in 0..batch.len {
                    let reader = FeatureReader {
                        src: Src::Row { batch: &batch, row },
                        ctx: &ctx,
                    };
                    f(&reader, i)?;
                    i += 1;
                }
            }
            return Ok(());
        }
        // Feature by feature through OGR_L_GetNextFeature, not the gdal crate's iterator: that
        // asks the driver for a feature count first, which for a filtered PostgreSQL layer is
        // a `count(*)` over the rows about to be read, and for a CSV a pass over the file.
        struct Rewind<'l>(&'l OwnedLayer);
        impl Drop for Rewind<'_> {
            fn drop(&mut self) {
                // SAFETY: the layer handle is valid while the layer lives (it outlives this).
                unsafe { gdal_sys::OGR_L_ResetReading(self.0.c_layer()) };
            }
        }
        layer.reset_feature_reading();
        let rewind = Rewind(layer);
        let defn = rewind.0.defn();
        for i in 0.. {
            // SAFETY: the layer handle is valid while `layer` lives; GDAL hands the feature
            // over, and `Feature` owns (and destroys) it.
            let c = unsafe { gdal_sys::OGR_L_GetNextFeature(rewind.0.c_layer()) };
            if c.is_null() {
                break;
            }
            // SAFETY: `c` is a feature of this layer, whose definition is `defn`.
            let feature = unsafe { Feature::from_c_feature(defn, c) };
            let reader = FeatureReader {
                src: Src::Ogr(&feature),
                ctx: &ctx,
            };
            f(&reader, i)?;
        }
        Ok(())
    }

    /// Whether [`VectorLayer::for_each`] tries GDAL's Arrow stream: a driver whose stream
    /// gives the same features (`read::columnar`), and columnar reading on.
    pub fn reads_columnar(&self) -> bool {
        self.columnar && columnar_driver(&self.driver)
    }

    /// Checks the queued polygons (OGC validity, GEOS through GDAL) in parallel, and repairs
    /// the invalid ones with MakeValid, or under `strict` records them in `log.invalid` (see
    /// [`VectorLayer::strict_error`]). `area_of` gives the caller's polygons by the slots they
    /// were queued under (checked where they are, not copied). Returns the repaired geometries
    /// with their slots.
    pub fn check_polygons<'a>(
        &self,
        log: &mut GeometryLog,
        strict: bool,
        area_of: impl Fn(usize) -> Option<&'a MultiPolygon<f64>> + Sync,
    ) -> Result<Vec<(usize, Geometry<f64>)>> {
        use rayon::prelude::*;
        let pending = std::mem::take(&mut log.pending);
        // A fast exact screen proves most polygons valid; GEOS decides the rest. Each GEOS
        // check makes its own GDAL geometry, so nothing is shared between threads.
        // The WKB of each invalid polygon (for the repair), `None` for the valid ones.
        let invalid: Vec<Option<Vec<u8>>> = pending
            .par_iter()
            .map(|p| {
                let area = area_of(p.slot)?;
                if surely_valid(&area.0) {
                    return None;
                }
                // A polygon read as one is checked (and repaired) as one.
                let wkb = match area.0.as_slice() {
                    [one] if !p.multi => geom::to_wkb(&Geometry::Polygon(one.clone())),
                    _ => geom::to_wkb(&Geometry::MultiPolygon(area.clone())),
                };
                let valid = gdal::vector::Geometry::from_wkb(&wkb).is_ok_and(|g| g.is_valid());
                (!valid).then_some(wkb)
            })
            .collect();
        let mut repaired = Vec::new();
        for (p, wkb) in pending.into_iter().zip(invalid) {
            let Some(wkb) = wkb else {
                continue;
            };
            if strict {
                log.invalid.push(p.label);
                continue;
            }
            let unrepairable = |message: String| IoError::Unrepairable {
                path: self.path.clone(),
                layer: self.name.clone(),
                feature: p.label.clone(),
                message,
            };
            let g = gdal::vector::Geometry::from_wkb(&wkb)
                .map_err(|e| unrepairable(clean_gdal_message(&e.to_string())))?;
            let fixed = g
                .make_valid(&self.make_valid_options)
                .map_err(|e| unrepairable(clean_gdal_message(&e.to_string())))?;
            let fixed = geom::from_gdal(&fixed)
                .map_err(unrepairable)?
                .unwrap_or_else(|| Geometry::MultiPolygon(MultiPolygon::new(vec![])));
            repaired.push((p.slot, fixed));
            log.repaired.push(p.label);
        }
        Ok(repaired)
    }

    /// Error for invalid polygons collected under `--strict`.
    pub fn strict_error(&self, log: &GeometryLog) -> Result<()> {
        match log.invalid.first() {
            None => Ok(()),
            Some(first) => Err(IoError::InvalidPolygons {
                path: self.path.clone(),
                layer: self.name.clone(),
                count: log.invalid.len(),
                first: first.clone(),
            }),
        }
    }
}

struct LayerCtx<'a> {
    path: &'a Path,
    layer: &'a str,
    transform: &'a Transform,
    target: &'a Crs,
    source: &'a Crs,
    /// An empty geometry is an error, not a skipped feature: in GeoJSON, GDAL reads a point
    /// whose coordinates are not numbers (`[NaN, 60.5]`) as an empty point, and says nothing.
    empty_is_error: bool,
    /// The fields read ([`VectorLayer::read_only_fields`]).
    kept: Option<&'a [bool]>,
}

impl LayerCtx<'_> {
    /// Why a geometry whose first coordinate is `first` could not be reprojected: GDAL says
    /// only "OGR_G_Transform returned error 6", so say why from the numbers themselves.
    fn not_reprojected(&self, first: Option<Coord<f64>>, e: &gdal::errors::GdalError) -> String {
        let why = first.map_or_else(
            || clean_gdal_message(&e.to_string()),
            |c| crate::crs::reprojection_problem(self.source.label(), c),
        );
        format!(
            "cannot be reprojected from {} to {}: {why}",
            self.source.label(),
            self.target.label(),
        )
    }

    /// The message for a coordinate that reprojection left without a finite position.
    fn non_finite_target(&self, c: Coord<f64>) -> String {
        format!(
            "coordinate ({}, {}) has no finite position in {}",
            c.x,
            c.y,
            self.target.label()
        )
    }
}

/// Access to one feature of a [`VectorLayer`].
pub(crate) struct FeatureReader<'a> {
    src: Src<'a>,
    ctx: &'a LayerCtx<'a>,
}

/// Where a feature comes from.
enum Src<'a> {
    /// An OGR feature (the per-feature path).
    Ogr(&'a Feature<'a>),
    /// A row of a batch of GDAL's Arrow stream.
    Row { batch: &'a Batch, row: usize },
}

impl FeatureReader<'_> {
    pub fn fid(&self) -> Option<u64> {
        match &self.src {
            Src::Ogr(feature) => feature.fid(),
            Src::Row { batch, row } => batch.fid(*row),
        }
    }

    /// A field value, or `None` when null or unset.
    pub fn field(&self, idx: usize) -> Option<FieldValue> {
        debug_assert!(
            self.ctx.kept.is_none_or(|k| k.get(idx) == Some(&true)),
            "field {idx} was left out by read_only_fields"
        );
        let feature = match &self.src {
            Src::Ogr(feature) => feature,
            Src::Row { batch, row } => return batch.field(idx, *row),
        };
        // gdal's `Feature::field` checks for null but not for unset, and reads an unset number
        // as 0 (GDAL's CSV driver leaves empty cells unset).
        // SAFETY: the feature handle is valid while `feature` lives; `idx` is a field index of
        // its layer.
        let set =
            unsafe { gdal_sys::OGR_F_IsFieldSetAndNotNull(feature.c_feature(), idx as i32) != 0 };
        if !set {
            return None;
        }
        feature.field(idx).ok().flatten()
    }

    /// An error about this feature's field value.
    pub fn field_error(
        &self,
        label: &dyn std::fmt::Display,
        field: &str,
        message: String,
    ) -> IoError {
        IoError::FieldValue {
            path: self.ctx.path.to_path_buf(),
            layer: self.ctx.layer.to_string(),
            feature: label.to_string(),
            field: field.to_string(),
            message,
        }
    }

    /// An error about this feature's geometry type.
    pub fn type_error(
        &self,
        label: &dyn std::fmt::Display,
        expected: &str,
        found: &str,
    ) -> IoError {
        IoError::GeometryType {
            path: self.ctx.path.to_path_buf(),
            layer: self.ctx.layer.to_string(),
            feature: label.to_string(),
            expected: expected.to_string(),
            found: found.to_string(),
        }
    }

    /// The geometry in the working CRS, or `None` when null or empty.
    ///
    /// `label` names the feature in errors and logs. Coordinates must be finite. With
    /// `Validate::Polygons`, polygonal geometries are queued in `log` for
    /// [`VectorLayer::check_polygons`], under `slot`: the caller's index for this feature's
    /// geometry, which the caller must keep there as a multipolygon (a polygon wrapped as one)
    /// for the check, and which the check may hand back repaired.
    pub fn geometry(
        &self,
        label: &dyn std::fmt::Display,
        validate: Validate,
        log: &mut GeometryLog,
        slot: usize,
    ) -> Result<Option<Geometry<f64>>> {
        let bad = |message: String| IoError::BadCoordinates {
            path: self.ctx.path.to_path_buf(),
            layer: self.ctx.layer.to_string(),
            feature: label.to_string(),
            message,
        };
        let out = match &self.src {
            Src::Ogr(feature) => match feature.geometry() {
                None => return Ok(None),
                Some(g) => self.ogr_geometry(g, &bad)?,
            },
            Src::Row { batch, row } => match batch.take_geometry(*row) {
                Decoded::None | Decoded::Taken => return Ok(None),
                Decoded::Geometry(g) => Some(self.reproject(g, &bad)?),
                Decoded::Unreadable(m) => return Err(bad(format!("unreadable geometry: {m}"))),
                Decoded::NonFinite(c) => return Err(bad(non_finite_source(c))),
            },
        };
        if validate == Validate::Polygons {
            if let Some(g @ (Geometry::Polygon(_) | Geometry::MultiPolygon(_))) = &out {
                log.pending.push(Pending {
                    slot,
                    label: label.to_string(),
                    multi: matches!(g, Geometry::MultiPolygon(_)),
                });
            }
        }
        Ok(out)
    }

    /// A decoded geometry (coordinates finite) in the working CRS: every coordinate through
    /// the same PROJ transformation, with z = 0, as OGR's `OGR_G_Transform` does it on the
    /// per-feature path (so both paths give the same numbers); the same errors.
    fn reproject(
        &self,
        mut g: Geometry<f64>,
        bad: &dyn Fn(String) -> IoError,
    ) -> Result<Geometry<f64>> {
        let Some(ct) = self.ctx.transform.gdal() else {
            return Ok(g);
        };
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        geom::visit_coords(&g, &mut |c| {
            xs.push(c.x);
            ys.push(c.y);
        });
        let first = xs.first().zip(ys.first()).map(|(&x, &y)| Coord { x, y });
        let mut zs = vec![0.0; xs.len()];
        ct.transform_coords(&mut xs, &mut ys, &mut zs)
            .map_err(|e| bad(self.ctx.not_reprojected(first, &e)))?;
        let mut k = 0;
        geom::visit_coords_mut(&mut g, &mut |c| {
            // The same visit, so the same count.
            if let (Some(&x), Some(&y)) = (xs.get(k), ys.get(k)) {
                (c.x, c.y) = (x, y);
            }
            k += 1;
        });
        if let Some(c) = geom::first_non_finite(&g) {
            return Err(bad(self.ctx.non_finite_target(c)));
        }
        Ok(g)
    }

    /// An OGR feature's geometry in the working CRS (`None` when empty), its coordinates
    /// checked before and after reprojection.
    fn ogr_geometry(
        &self,
        g: &gdal::vector::Geometry,
        bad: &dyn Fn(String) -> IoError,
    ) -> Result<Option<Geometry<f64>>> {
        if g.is_empty() {
            // GDAL gives `"geometry": null` as an empty geometry without a type: no place.
            if self.ctx.empty_is_error && !g.geometry_name().is_empty() {
                return Err(bad(format!(
                    "{} without coordinates that could be read: coordinates must be numbers (not NaN or text); a feature without a place has \"geometry\": null",
                    g.geometry_name()
                )));
            }
            return Ok(None);
        }
        // Check the source coordinates first, so NaN input is reported as such.
        let src = geom::from_gdal(g).map_err(|m| bad(format!("unreadable geometry: {m}")))?;
        if let Some(c) = src.as_ref().and_then(geom::first_non_finite) {
            return Err(bad(non_finite_source(c)));
        }
        let out = match self.ctx.transform.gdal() {
            None => src,
            Some(ct) => {
                let mut g = g.clone();
                g.transform_inplace(ct).map_err(|e| {
                    bad(self
                        .ctx
                        .not_reprojected(src.as_ref().and_then(geom::first_coord), &e))
                })?;
                geom::from_gdal(&g).map_err(|m| bad(format!("unreadable geometry: {m}")))?
            }
        };
        if let Some(c) = out.as_ref().and_then(geom::first_non_finite) {
            return Err(bad(self.ctx.non_finite_target(c)));
        }
        Ok(out)
    }
}

/// The message for a coordinate of the input that is not finite.
fn non_finite_source(c: Coord<f64>) -> String {
    format!(
        "coordinate ({}, {}) is not finite; coordinates must be numbers",
        c.x, c.y
    )
}

/// A polygonal geometry waiting for its validity check: the caller keeps it (as a
/// multipolygon) under `slot`.
#[derive(Debug)]
pub(crate) struct Pending {
    slot: usize,
    label: String,
    /// Read as a MultiPolygon (else a Polygon).
    multi: bool,
}

/// A field value as text (integers without decimals, integral reals without `.0`).
pub(crate) fn value_to_string(v: &FieldValue) -> String {
    match v {
        FieldValue::StringValue(s) => s.clone(),
        FieldValue::IntegerValue(i) => i.to_string(),
        FieldValue::Integer64Value(i) => i.to_string(),
        FieldValue::RealValue(r) => {
            if r.fract() == 0.0 && r.abs() < 1e15 {
                format!("{}", *r as i64)
            } else {
                r.to_string()
            }
        }
        FieldValue::DateValue(d) => d.to_string(),
        FieldValue::DateTimeValue(d) => d.to_rfc3339(),
        FieldValue::IntegerListValue(v) => format!("{v:?}"),
        FieldValue::Integer64ListValue(v) => format!("{v:?}"),
        FieldValue::StringListValue(v) => format!("{v:?}"),
        FieldValue::RealListValue(v) => format!("{v:?}"),
    }
}

/// A field value as a number (integers, reals, or text that parses as one).
pub(crate) fn value_to_f64(v: &FieldValue) -> std::result::Result<f64, String> {
    match v {
        FieldValue::IntegerValue(i) => Ok(*i as f64),
        FieldValue::Integer64Value(i) => Ok(*i as f64),
        FieldValue::RealValue(r) => Ok(*r),
        FieldValue::StringValue(s) => s
            .trim()
            .parse::<f64>()
            .map_err(|_| format!("'{s}' is not a number")),
        other => Err(format!("{} is not a number", value_to_string(other))),
    }
}

/// A field value as a non-negative whole count.
pub(crate) fn value_to_count(v: &FieldValue) -> std::result::Result<u32, String> {
    count_from_f64(value_to_f64(v)?)
}

/// Checks that a number is a whole count that fits in `u32`.
pub(crate) fn count_from_f64(v: f64) -> std::result::Result<u32, String> {
    if !v.is_finite() || v < 0.0 || v.fract() != 0.0 || v > u32::MAX as f64 {
        Err(format!("{v} is not a whole number >= 0"))
    } else {
        Ok(v as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_masked_and_nothing_else() {
        for (given, want) in [
            (
                "PG:dbname=gm password=s3cr3t host=db",
                "PG:dbname=gm password=*** host=db",
            ),
            (
                "PG:dbname=gm PASSWORD='a b\\'c' user=x",
                "PG:dbname=gm PASSWORD=*** user=x",
            ),
            (
                "error: PG:host=h password=pw: cannot be opened",
                "error: PG:host=h password=***: cannot be opened",
            ),
            (
                "\"premises\": \"PG:password=x dbname=gm\"",
                "\"premises\": \"PG:password=*** dbname=gm\"",
            ),
            (
                "postgresql://anna:hemligt@db.region.se:5432/gis",
                "postgresql://anna:***@db.region.se:5432/gis",
            ),
            ("postgresql://anna@db/gis", "postgresql://anna@db/gis"),
            (
                "data/dalarna/premises.parquet",
                "data/dalarna/premises.parquet",
            ),
            ("PG:dbname=gm service=region", "PG:dbname=gm service=region"),
            ("åäö password=ö", "åäö password=***"),
        ] {
            assert_eq!(mask_secrets(given), want, "{given}");
        }
    }

    #[test]
    fn lines_read_from_gdals_arrays_equal_the_wkb_reading() {
        for wkt in [
            "LINESTRING (1 2, 3.5 -4, 1e6 6.7e6)",
            "LINESTRING Z (1 2 3, 4 5 6)",
            "LINESTRING M (1 2 3, 4 5 6, 7 8 9)",
            "LINESTRING ZM (1 2 3 4, 5 6 7 8)",
            "LINESTRING (0.1 0.2)",
            "LINESTRING EMPTY",
        ] {
            let g = gdal::vector::Geometry::from_wkt(wkt).unwrap();
            let fast = geom::from_gdal(&g).unwrap();
            let via_wkb = geom::from_wkb(&g.iso_wkb().unwrap()).unwrap();
            assert_eq!(fast, via_wkb, "{wkt}");
            if wkt.ends_with("EMPTY") {
                assert_eq!(fast, None, "{wkt}");
            } else {
                assert!(matches!(fast, Some(Geometry::LineString(_))), "{wkt}");
            }
        }
    }
}
