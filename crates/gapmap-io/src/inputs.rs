//! The four inputs of an analysis, read, validated and reprojected into the working CRS.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use gapmap_core::fibre::FibreFeature;
use gapmap_core::geo::{Coord, Geometry, InteriorPoint, MultiLineString, MultiPoint, MultiPolygon};
use gapmap_core::mobile::{CoverageFeature, Tech, MAX_OPERATORS};
use gdal::vector::FieldValue;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{IoError, Result};
use crate::geom;
use crate::table;
use crate::vector::{
    extension, value_to_count, value_to_f64, value_to_string, GeometryLog, ReadContext, Validate,
    VectorLayer,
};

/// A field name, and whether the user chose it (an absent explicit field is an error; an absent
/// default has a documented fallback).
#[derive(Debug, Clone)]
pub struct FieldChoice {
    pub name: String,
    pub explicit: bool,
    /// The command-line flag that sets it, for messages.
    pub flag: &'static str,
}

impl FieldChoice {
    pub fn new(name: Option<&str>, default: &str, flag: &'static str) -> FieldChoice {
        FieldChoice {
            name: name.unwrap_or(default).to_string(),
            explicit: name.is_some(),
            flag,
        }
    }
}

/// A feature that was left out, and why.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Skipped {
    pub feature: String,
    pub reason: String,
}

/// What run.json records about one input.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputInfo {
    pub role: String,
    pub path: String,
    pub layer: Option<String>,
    pub driver: String,
    pub crs: String,
    pub crs_assumed: bool,
    /// Features read (after skipping).
    pub features: u64,
    pub sha256: Option<String>,
    /// Which field served which purpose; `null` when a default field was absent.
    pub fields: BTreeMap<String, Option<String>>,
    pub repaired: Vec<String>,
    pub skipped: Vec<Skipped>,
    /// Time spent reading this input, in seconds (inputs may be read side by side).
    pub read_seconds: f64,
}

impl InputInfo {
    pub(crate) fn for_layer(role: &str, layer: &VectorLayer) -> InputInfo {
        InputInfo {
            role: role.to_string(),
            path: layer.path.display().to_string(),
            layer: Some(layer.name.clone()),
            driver: layer.driver.clone(),
            crs: layer.crs.label().to_string(),
            crs_assumed: layer.crs_assumed,
            features: 0,
            sha256: None,
            fields: BTreeMap::new(),
            repaired: Vec::new(),
            skipped: Vec::new(),
            read_seconds: 0.0,
        }
    }
}

/// Hashes a file on another thread (reading is single-threaded, so this is nearly free).
pub(crate) enum Hashing {
    Running(std::thread::JoinHandle<Option<String>>),
    /// Already hashed, for another layer of the same file.
    Known(Option<String>),
}

impl Hashing {
    pub(crate) fn start(path: &Path) -> Hashing {
        let path = path.to_path_buf();
        Hashing::Running(std::thread::spawn(move || sha256_file(&path)))
    }

    /// Like [`Hashing::start`], unless one of `done` (inputs read before) is the same file:
    /// then its hash, without reading the file again.
    pub(crate) fn start_or_reuse(path: &Path, done: &[InputInfo]) -> Hashing {
        let shown = path.display().to_string();
        match done.iter().find(|i| i.path == shown) {
            Some(i) => Hashing::Known(i.sha256.clone()),
            None => Hashing::start(path),
        }
    }

    pub(crate) fn finish(self) -> Option<String> {
        match self {
            Hashing::Running(h) => h.join().ok().flatten(),
            Hashing::Known(h) => h,
        }
    }
}

/// SHA-256 of a file's bytes, or `None` for directories and unreadable files.
pub fn sha256_file(path: &Path) -> Option<String> {
    let mut f = std::fs::File::open(path).ok()?;
    if !f.metadata().ok()?.is_file() {
        return None;
    }
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Some(format!("{:x}", h.finalize()))
}

/// Premise identifiers, keeping the input's type.
#[derive(Debug, Clone, PartialEq)]
pub enum PremiseIds {
    Int(Vec<i64>),
    Str(Vec<String>),
}

impl PremiseIds {
    pub fn len(&self) -> usize {
        match self {
            PremiseIds::Int(v) => v.len(),
            PremiseIds::Str(v) => v.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The id of premise `i` as text.
    pub fn display(&self, i: usize) -> String {
        match self {
            PremiseIds::Int(v) => v[i].to_string(),
            PremiseIds::Str(v) => v[i].clone(),
        }
    }
}

/// Keeps the items `i` of `v` for which `keep(i)` holds, in order.
fn retain_by_index<T>(v: &mut Vec<T>, keep: &impl Fn(usize) -> bool) {
    let mut i = 0;
    v.retain(|_| {
        i += 1;
        keep(i - 1)
    });
}

impl Premises {
    /// Keeps the premises `i` (in input order) for which `keep(i)` holds: a subset analysed
    /// against the same reference layers, e.g. one tile of a partitioned run.
    pub fn retain(&mut self, keep: &impl Fn(usize) -> bool) {
        match &mut self.ids {
            PremiseIds::Int(v) => retain_by_index(v, keep),
            PremiseIds::Str(v) => retain_by_index(v, keep),
        }
        retain_by_index(&mut self.xy, keep);
        retain_by_index(&mut self.households, keep);
        retain_by_index(&mut self.workplaces, keep);
    }
}

/// Premises in the working CRS.
#[derive(Debug)]
pub struct Premises {
    pub ids: PremiseIds,
    pub xy: Vec<Coord<f64>>,
    pub households: Vec<u32>,
    pub workplaces: Vec<u32>,
    pub info: InputInfo,
    pub notices: Vec<String>,
}

/// How to read premises.
#[derive(Debug, Clone)]
pub struct PremiseOptions {
    pub path: PathBuf,
    pub layer: Option<String>,
    pub id_field: FieldChoice,
    pub households_field: FieldChoice,
    pub workplaces_field: FieldChoice,
    /// Coordinate columns of Parquet and CSV tables.
    pub x_field: String,
    pub y_field: String,
}

/// Reads premises: Parquet, or CSV with the x/y columns, through polars (the fast path);
/// anything else, including CSV with WKT, through GDAL. Buildings count at a point on their
/// surface.
impl PremiseOptions {
    /// Options from the command line's premise flags (`None`: the default field, which may be
    /// absent).
    pub fn from_flags(
        path: &Path,
        layer: Option<String>,
        id_field: Option<&str>,
        households_field: Option<&str>,
        workplaces_field: Option<&str>,
        x_field: &str,
        y_field: &str,
    ) -> PremiseOptions {
        PremiseOptions {
            path: path.to_path_buf(),
            layer,
            id_field: FieldChoice::new(id_field, "id", "--premise-id-field"),
            households_field: FieldChoice::new(
                households_field,
                "households",
                "--households-field",
            ),
            workplaces_field: FieldChoice::new(
                workplaces_field,
                "workplaces",
                "--workplaces-field",
            ),
            x_field: x_field.to_string(),
            y_field: y_field.to_string(),
        }
    }
}

pub fn read_premises(opts: &PremiseOptions, ctx: &ReadContext) -> Result<Premises> {
    match extension(&opts.path).as_str() {
        "parquet" | "pq" => table::read_premises(opts, ctx, table::Format::Parquet),
        "csv" if table::csv_has_columns(&opts.path, &[&opts.x_field, &opts.y_field]) => {
            table::read_premises(opts, ctx, table::Format::Csv)
        }
        _ => read_premises_vector(opts, ctx),
    }
}

/// Where ids come from.
enum IdSource {
    Field(usize, bool),
    Fid,
}

fn id_source(
    layer: &VectorLayer,
    choice: &FieldChoice,
    notices: &mut Vec<String>,
    what: &str,
) -> Result<IdSource> {
    if layer.is_fid_column(&choice.name) {
        return Ok(IdSource::Fid);
    }
    match layer.find_field(&choice.name) {
        Some(i) => Ok(IdSource::Field(i, layer.field_is_integer(i))),
        None if choice.explicit => Err(layer_missing(layer, choice)),
        None => {
            notices.push(format!(
                "{}: no field '{}', so {what} ids are feature ids (FIDs); choose a field with {}",
                layer.path.display(),
                choice.name,
                choice.flag
            ));
            Ok(IdSource::Fid)
        }
    }
}

fn layer_missing(layer: &VectorLayer, choice: &FieldChoice) -> IoError {
    IoError::MissingField {
        path: layer.path.clone(),
        layer: layer.name.clone(),
        field: choice.name.clone(),
        available: layer.fields.clone(),
        hint: format!(" (named by {})", choice.flag),
    }
}

/// A field that may be absent when it is the default: `Ok(None)` then.
fn optional_field(layer: &VectorLayer, choice: &FieldChoice) -> Result<Option<usize>> {
    match layer.find_field(&choice.name) {
        Some(i) => Ok(Some(i)),
        None if choice.explicit => Err(layer_missing(layer, choice)),
        None => Ok(None),
    }
}

/// A field that must exist, default or not.
fn required_field(layer: &VectorLayer, choice: &FieldChoice) -> Result<usize> {
    layer.require_field(
        &choice.name,
        &format!(" (set the field name with {})", choice.flag),
    )
}

fn feature_label(id: Option<&str>, fid: Option<u64>, index: usize) -> FeatureLabel<'_> {
    FeatureLabel { id, fid, index }
}

/// How errors name a feature: its id, else its feature id, else its position. Formatted only
/// when an error or a log needs it, not for every feature read.
#[derive(Debug, Clone, Copy)]
struct FeatureLabel<'a> {
    id: Option<&'a str>,
    fid: Option<u64>,
    index: usize,
}

impl std::fmt::Display for FeatureLabel<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.id, self.fid) {
            (Some(id), _) => write!(f, "'{id}'"),
            (None, Some(fid)) => write!(f, "fid {fid}"),
            (None, None) => write!(f, "#{}", self.index),
        }
    }
}

pub(crate) fn count_notice(
    notices: &mut Vec<String>,
    path: &Path,
    field: &str,
    nulls: usize,
    what: &str,
) {
    if nulls > 0 {
        notices.push(format!(
            "{}: {nulls} premises have no value in '{field}'; counted as 0 {what}",
            path.display()
        ));
    }
}

pub(crate) fn default_count_notice(
    notices: &mut Vec<String>,
    path: &Path,
    choice: &FieldChoice,
    fallback: &str,
) {
    notices.push(format!(
        "{}: no field '{}', so each premise counts {fallback}; choose a field with {}",
        path.display(),
        choice.name,
        choice.flag
    ));
}

fn read_premises_vector(opts: &PremiseOptions, ctx: &ReadContext) -> Result<Premises> {
    let started = std::time::Instant::now();
    let hashing = Hashing::start(&opts.path);
    let mut layer = VectorLayer::open(&opts.path, opts.layer.as_deref(), "--premises-layer", ctx)?;
    let mut notices = Vec::new();
    let mut info = InputInfo::for_layer("premises", &layer);
    let id_src = id_source(&layer, &opts.id_field, &mut notices, "premise")?;
    let hh = optional_field(&layer, &opts.households_field)?;
    let wp = optional_field(&layer, &opts.workplaces_field)?;
    if hh.is_none() {
        default_count_notice(
            &mut notices,
            &opts.path,
            &opts.households_field,
            "1 household",
        );
    }
    if wp.is_none() {
        default_count_notice(
            &mut notices,
            &opts.path,
            &opts.workplaces_field,
            "0 workplaces",
        );
    }
    info.fields.insert(
        "id".into(),
        match id_src {
            IdSource::Field(..) => Some(opts.id_field.name.clone()),
            IdSource::Fid => layer.fid_column.clone(),
        },
    );
    info.fields.insert(
        "households".into(),
        hh.map(|_| opts.households_field.name.clone()),
    );
    info.fields.insert(
        "workplaces".into(),
        wp.map(|_| opts.workplaces_field.name.clone()),
    );

    let int_ids = matches!(id_src, IdSource::Fid | IdSource::Field(_, true));
    let (mut ids_int, mut ids_str) = (Vec::new(), Vec::new());
    let (mut xy, mut households, mut workplaces) = (Vec::new(), Vec::new(), Vec::new());
    let (mut hh_nulls, mut wp_nulls) = (0usize, 0usize);
    let mut log = GeometryLog::default();
    let mut skipped = Vec::new();
    let id_field_name = opts.id_field.name.clone();
    layer.for_each(|f, i| {
        let (id_int, id_str) = match id_src {
            IdSource::Fid => (Some(f.fid().map_or(i as i64, |v| v as i64)), None),
            IdSource::Field(idx, is_int) => match f.field(idx) {
                None => {
                    return Err(f.field_error(
                        &feature_label(None, f.fid(), i),
                        &id_field_name,
                        "the premise id is empty".into(),
                    ))
                }
                Some(FieldValue::IntegerValue(v)) if is_int => (Some(v as i64), None),
                Some(FieldValue::Integer64Value(v)) if is_int => (Some(v), None),
                Some(v) => (None, Some(value_to_string(&v))),
            },
        };
        let id_text = id_int.map(|v| v.to_string()).or(id_str.clone());
        let label = feature_label(id_text.as_deref(), f.fid(), i);
        let Some(g) = f.geometry(&label, Validate::Coordinates, &mut log, 0)? else {
            skipped.push(Skipped {
                feature: label.to_string(),
                reason: "no geometry".into(),
            });
            return Ok(());
        };
        let p = match &g {
            Geometry::Point(p) => p.0,
            Geometry::MultiPoint(m) if m.0.len() == 1 => m.0[0].0,
            Geometry::Polygon(_) | Geometry::MultiPolygon(_) => match g.interior_point() {
                Some(p) => p.0,
                None => {
                    skipped.push(Skipped {
                        feature: label.to_string(),
                        reason: "polygon without area".into(),
                    });
                    return Ok(());
                }
            },
            other => {
                let found = match other {
                    Geometry::MultiPoint(m) => format!("MultiPoint with {} points", m.0.len()),
                    g => geom::type_name(g).to_string(),
                };
                return Err(f.type_error(
                    &label,
                    "Point, or Polygon/MultiPolygon (a building)",
                    &found,
                ));
            }
        };
        let count = |idx: Option<usize>,
                     choice: &FieldChoice,
                     fallback: u32,
                     nulls: &mut usize|
         -> Result<u32> {
            match idx {
                None => Ok(fallback),
                Some(idx) => match f.field(idx) {
                    None => {
                        *nulls += 1;
                        Ok(0)
                    }
                    Some(v) => {
                        value_to_count(&v).map_err(|m| f.field_error(&label, &choice.name, m))
                    }
                },
            }
        };
        let h = count(hh, &opts.households_field, 1, &mut hh_nulls)?;
        let w = count(wp, &opts.workplaces_field, 0, &mut wp_nulls)?;
        if int_ids {
            ids_int.push(id_int.unwrap_or(i as i64));
        } else {
            ids_str.push(id_text.unwrap_or_default());
        }
        xy.push(p);
        households.push(h);
        workplaces.push(w);
        Ok(())
    })?;
    if xy.is_empty() {
        return Err(IoError::Empty {
            path: opts.path.clone(),
            layer: layer.name.clone(),
            what: "the premises".into(),
        });
    }
    count_notice(
        &mut notices,
        &opts.path,
        &opts.households_field.name,
        hh_nulls,
        "households",
    );
    count_notice(
        &mut notices,
        &opts.path,
        &opts.workplaces_field.name,
        wp_nulls,
        "workplaces",
    );
    if !skipped.is_empty() {
        notices.push(format!(
            "{}: skipped {} premises without a usable geometry",
            opts.path.display(),
            skipped.len()
        ));
    }
    info.features = xy.len() as u64;
    info.sha256 = hashing.finish();
    info.read_seconds = started.elapsed().as_secs_f64();
    info.skipped = skipped;
    Ok(Premises {
        ids: if int_ids {
            PremiseIds::Int(ids_int)
        } else {
            PremiseIds::Str(ids_str)
        },
        xy,
        households,
        workplaces,
        info,
        notices,
    })
}

/// Settlement polygons in the working CRS, in input order.
#[derive(Debug)]
pub struct Settlements {
    pub ids: Vec<String>,
    pub names: Vec<String>,
    pub areas: Vec<MultiPolygon<f64>>,
    /// Values of `SettlementOptions::population_field`, when asked for (else empty).
    pub population: Vec<f64>,
    pub info: InputInfo,
    pub notices: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct SettlementOptions {
    pub path: PathBuf,
    pub layer: Option<String>,
    pub id_field: FieldChoice,
    pub name_field: FieldChoice,
    /// A numeric field to read as well (e.g. population); it must exist.
    pub population_field: Option<FieldChoice>,
}

/// Reads settlement polygons; invalid ones are repaired (or, with `strict`, an error).
pub fn read_settlements(opts: &SettlementOptions, ctx: &ReadContext) -> Result<Settlements> {
    let started = std::time::Instant::now();
    let hashing = Hashing::start(&opts.path);
    let mut layer = VectorLayer::open(
        &opts.path,
        opts.layer.as_deref(),
        "--settlements-layer",
        ctx,
    )?;
    let mut notices = Vec::new();
    let mut info = InputInfo::for_layer("settlements", &layer);
    let id_src = id_source(&layer, &opts.id_field, &mut notices, "settlement")?;
    let name_idx = optional_field(&layer, &opts.name_field)?;
    if name_idx.is_none() {
        notices.push(format!(
            "{}: no field '{}', so settlement names are empty; choose a field with {}",
            opts.path.display(),
            opts.name_field.name,
            opts.name_field.flag
        ));
    }
    info.fields.insert(
        "id".into(),
        match id_src {
            IdSource::Field(..) => Some(opts.id_field.name.clone()),
            IdSource::Fid => layer.fid_column.clone(),
        },
    );
    info.fields.insert(
        "name".into(),
        name_idx.map(|_| opts.name_field.name.clone()),
    );
    let pop_idx = opts
        .population_field
        .as_ref()
        .map(|c| required_field(&layer, c))
        .transpose()?;
    if let Some(c) = &opts.population_field {
        info.fields
            .insert("population".into(), Some(c.name.clone()));
    }
    let (mut ids, mut names, mut areas) = (Vec::new(), Vec::new(), Vec::new());
    let mut population = Vec::new();
    let mut log = GeometryLog::default();
    let mut skipped = Vec::new();
    layer.for_each(|f, i| {
        let id = match id_src {
            IdSource::Fid => f.fid().map_or(i as u64, |v| v).to_string(),
            IdSource::Field(idx, _) => match f.field(idx) {
                Some(v) => value_to_string(&v),
                None => {
                    return Err(f.field_error(
                        &feature_label(None, f.fid(), i),
                        &opts.id_field.name,
                        "the settlement id is empty".into(),
                    ))
                }
            },
        };
        let label = feature_label(Some(&id), f.fid(), i);
        let Some(g) = f.geometry(&label, Validate::Polygons, &mut log, areas.len())? else {
            skipped.push(Skipped {
                feature: label.to_string(),
                reason: "no geometry".into(),
            });
            return Ok(());
        };
        let found = geom::type_name(&g);
        let mp = match g {
            Geometry::Polygon(p) => MultiPolygon::new(vec![p]),
            Geometry::MultiPolygon(mp) => mp,
            g @ Geometry::GeometryCollection(_) => match geom::polygonal(g).0 {
                Some(mp) => mp,
                None => return Err(f.type_error(&label, "Polygon or MultiPolygon", found)),
            },
            _ => return Err(f.type_error(&label, "Polygon or MultiPolygon", found)),
        };
        if let (Some(k), Some(c)) = (pop_idx, &opts.population_field) {
            population.push(match f.field(k) {
                None => 0.0,
                Some(v) => {
                    f64::from(value_to_count(&v).map_err(|m| f.field_error(&label, &c.name, m))?)
                }
            });
        }
        ids.push(id);
        names.push(
            name_idx
                .and_then(|k| f.field(k))
                .map(|v| value_to_string(&v))
                .unwrap_or_default(),
        );
        areas.push(mp);
        Ok(())
    })?;
    let repaired = layer.check_polygons(&mut log, ctx.strict, |k| areas.get(k))?;
    for (slot, g) in repaired {
        areas[slot] = geom::polygonal(g)
            .0
            .unwrap_or_else(|| MultiPolygon::new(vec![]));
    }
    layer.strict_error(&log)?;
    if areas.is_empty() {
        return Err(IoError::Empty {
            path: opts.path.clone(),
            layer: layer.name.clone(),
            what: "the settlements".into(),
        });
    }
    let mut seen = HashSet::new();
    let dups: Vec<&String> = ids.iter().filter(|id| !seen.insert(*id)).collect();
    if !dups.is_empty() {
        notices.push(format!(
            "{}: {} settlement ids occur more than once (e.g. {}); their rows are kept apart",
            opts.path.display(),
            dups.len(),
            dups[0]
        ));
    }
    repaired_notice(&mut notices, &opts.path, &log);
    info.features = areas.len() as u64;
    info.sha256 = hashing.finish();
    info.read_seconds = started.elapsed().as_secs_f64();
    info.repaired = log.repaired;
    info.skipped = skipped;
    Ok(Settlements {
        ids,
        names,
        areas,
        population,
        info,
        notices,
    })
}

fn repaired_notice(notices: &mut Vec<String>, path: &Path, log: &GeometryLog) {
    if !log.repaired.is_empty() {
        notices.push(format!(
            "{}: repaired {} invalid polygon(s) with GDAL MakeValid: {}",
            path.display(),
            log.repaired.len(),
            abbreviate(&log.repaired, 10)
        ));
    }
}

fn abbreviate(items: &[String], n: usize) -> String {
    let mut s = items.iter().take(n).cloned().collect::<Vec<_>>().join(", ");
    if items.len() > n {
        s.push_str(&format!(" and {} more (see run.json)", items.len() - n));
    }
    s
}

/// Interns strings in first-seen order.
#[derive(Debug, Default)]
struct Interner {
    ids: HashMap<String, u32>,
    names: Vec<String>,
}

impl Interner {
    fn get(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.ids.get(s) {
            return i;
        }
        let i = self.names.len() as u32;
        self.ids.insert(s.to_string(), i);
        self.names.push(s.to_string());
        i
    }
}

/// Layers to read from a list of paths: each named layer from every path, or the only layer.
fn layer_plan<'a>(paths: &'a [PathBuf], layers: &'a [String]) -> Vec<(&'a Path, Option<&'a str>)> {
    let mut plan = Vec::new();
    for p in paths {
        if layers.is_empty() {
            plan.push((p.as_path(), None));
        } else {
            plan.extend(layers.iter().map(|l| (p.as_path(), Some(l.as_str()))));
        }
    }
    plan
}

/// Fibre lines and points in the working CRS.
#[derive(Debug, Default)]
pub struct Fibre {
    pub features: Vec<FibreFeature>,
    /// Network names by interned id.
    pub networks: Vec<String>,
    /// Shared-risk values by interned id (empty without `srlg_field`).
    pub srlgs: Vec<String>,
    /// Per feature: download speed in Mbit/s (empty without `speed_field`).
    pub speeds_mbps: Vec<f64>,
    /// Per feature: year (empty without `year_field`).
    pub years: Vec<i32>,
    pub infos: Vec<InputInfo>,
    pub notices: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct FibreOptions {
    pub paths: Vec<PathBuf>,
    pub layers: Vec<String>,
    pub network_field: FieldChoice,
    /// Shared-risk field (e.g. a trench or duct id), always explicit: a layer without it is
    /// an error; a feature with no value is its own risk.
    pub srlg_field: Option<FieldChoice>,
    /// Download speed field in Mbit/s (other fixed networks); when given, every feature must
    /// have a number >= 0.
    pub speed_field: Option<FieldChoice>,
    /// Year field (planned networks); when given, every feature must have a whole year.
    pub year_field: Option<FieldChoice>,
    /// What the layer is, for run.json and messages: `fibre`, `fixed` or `planned`.
    pub role: &'static str,
    /// The flag that chooses its layer, for messages.
    pub layer_flag: &'static str,
}

impl FibreOptions {
    /// Options for the built fibre layers: network (owner) and optional shared-risk fields.
    pub fn fibre(
        paths: Vec<PathBuf>,
        layers: Vec<String>,
        network_field: FieldChoice,
        srlg_field: Option<FieldChoice>,
    ) -> FibreOptions {
        FibreOptions {
            paths,
            layers,
            network_field,
            srlg_field,
            speed_field: None,
            year_field: None,
            role: "fibre",
            layer_flag: "--fibre-layer",
        }
    }
}

/// The network value of fibre features without one.
pub const UNKNOWN_NETWORK: &str = "(unknown)";

/// Reads fibre routes (lines) and nodes (points), each with its network (owner).
pub fn read_fibre(opts: &FibreOptions, ctx: &ReadContext) -> Result<Fibre> {
    let mut out = Fibre::default();
    let mut networks = Interner::default();
    let mut srlgs = Interner::default();
    for (path, layer_name) in layer_plan(&opts.paths, &opts.layers) {
        let started = std::time::Instant::now();
        let hashing = Hashing::start_or_reuse(path, &out.infos);
        let mut layer = VectorLayer::open(path, layer_name, opts.layer_flag, ctx)?;
        let mut info = InputInfo::for_layer(opts.role, &layer);
        let net_idx = optional_field(&layer, &opts.network_field)?;
        if net_idx.is_none() {
            out.notices.push(format!(
                "{}: no field '{}', so all its fibre is one network '{UNKNOWN_NETWORK}'; choose a field with {}",
                path.display(),
                opts.network_field.name,
                opts.network_field.flag
            ));
        }
        info.fields.insert(
            "network".into(),
            net_idx.map(|_| opts.network_field.name.clone()),
        );
        let srlg_idx = match &opts.srlg_field {
            Some(choice) => {
                info.fields.insert("srlg".into(), Some(choice.name.clone()));
                Some(required_field(&layer, choice)?)
            }
            None => None,
        };
        let speed_idx = match &opts.speed_field {
            Some(choice) => {
                info.fields
                    .insert("speed".into(), Some(choice.name.clone()));
                Some(required_field(&layer, choice)?)
            }
            None => None,
        };
        let year_idx = match &opts.year_field {
            Some(choice) => {
                info.fields.insert("year".into(), Some(choice.name.clone()));
                Some(required_field(&layer, choice)?)
            }
            None => None,
        };
        let mut log = GeometryLog::default();
        let mut null_networks = 0usize;
        let mut skipped = Vec::new();
        let before = out.features.len();
        layer.for_each(|f, i| {
            let label = feature_label(None, f.fid(), i);
            let Some(g) = f.geometry(&label, Validate::Coordinates, &mut log, 0)? else {
                skipped.push(Skipped {
                    feature: label.to_string(),
                    reason: "no geometry".into(),
                });
                return Ok(());
            };
            let mut feat = FibreFeature::default();
            let found = geom::type_name(&g);
            if !collect_linear(g, &mut feat.lines, &mut feat.points) {
                return Err(f.type_error(
                    &label,
                    "LineString or Point (fibre routes and nodes)",
                    found,
                ));
            }
            let net = match net_idx.map(|k| f.field(k)) {
                None => UNKNOWN_NETWORK.to_string(),
                Some(None) => {
                    null_networks += 1;
                    UNKNOWN_NETWORK.to_string()
                }
                // The text as read (no copy), or a number's text.
                Some(Some(FieldValue::StringValue(v))) => v,
                Some(Some(v)) => value_to_string(&v),
            };
            feat.network = networks.get(&net);
            if let Some(Some(v)) = srlg_idx.map(|k| f.field(k)) {
                let v = value_to_string(&v);
                if !v.is_empty() {
                    feat.srlg = Some(srlgs.get(&v));
                }
            }
            if let (Some(k), Some(c)) = (speed_idx, &opts.speed_field) {
                let v = f
                    .field(k)
                    .ok_or_else(|| "no value; expected a speed in Mbit/s".to_string())
                    .and_then(|v| value_to_f64(&v))
                    .and_then(|v| {
                        if v.is_finite() && v >= 0.0 {
                            Ok(v)
                        } else {
                            Err(format!("{v} is not a speed >= 0 in Mbit/s"))
                        }
                    })
                    .map_err(|m| f.field_error(&label, &c.name, m))?;
                out.speeds_mbps.push(v);
            }
            if let (Some(k), Some(c)) = (year_idx, &opts.year_field) {
                let v = f
                    .field(k)
                    .ok_or_else(|| "no value; expected a year".to_string())
                    .and_then(|v| value_to_f64(&v))
                    .and_then(|v| {
                        if v.fract() == 0.0 && (1900.0..=2200.0).contains(&v) {
                            Ok(v as i32)
                        } else {
                            Err(format!("{v} is not a year (a whole number 1900-2200)"))
                        }
                    })
                    .map_err(|m| f.field_error(&label, &c.name, m))?;
                out.years.push(v);
            }
            out.features.push(feat);
            Ok(())
        })?;
        if null_networks > 0 {
            out.notices.push(format!(
                "{}: {null_networks} fibre features have no '{}' value; they count as network '{UNKNOWN_NETWORK}'",
                path.display(),
                opts.network_field.name
            ));
        }
        info.features = (out.features.len() - before) as u64;
        info.sha256 = hashing.finish();
        info.read_seconds = started.elapsed().as_secs_f64();
        if info.features == 0 {
            out.notices.push(format!(
                "{}: the {} layer '{}' has no features",
                path.display(),
                opts.role,
                layer.name
            ));
        }
        info.skipped = skipped;
        out.infos.push(info);
    }
    out.networks = networks.names;
    out.srlgs = srlgs.names;
    Ok(out)
}

/// Moves lines and points of `g` into the outputs; false if `g` has any other kind of part.
fn collect_linear(
    g: Geometry<f64>,
    lines: &mut MultiLineString<f64>,
    points: &mut MultiPoint<f64>,
) -> bool {
    match g {
        Geometry::LineString(l) => lines.0.push(l),
        Geometry::MultiLineString(m) => lines.0.extend(m.0),
        Geometry::Line(l) => lines.0.push(l.into()),
        Geometry::Point(p) => points.0.push(p),
        Geometry::MultiPoint(m) => points.0.extend(m.0),
        Geometry::GeometryCollection(c) => {
            for g in c.0 {
                if !collect_linear(g, lines, points) {
                    return false;
                }
            }
        }
        _ => return false,
    }
    true
}

/// One technology value found in the mobile layers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TechValue {
    pub value: String,
    /// `4G`, `5G`, or `other` (kept and reported, counts as neither).
    pub counts_as: String,
    pub features: u64,
}

/// Mobile coverage polygons in the working CRS.
#[derive(Debug, Default)]
pub struct Mobile {
    pub features: Vec<CoverageFeature>,
    /// Operator names by interned id.
    pub operators: Vec<String>,
    pub tech_values: Vec<TechValue>,
    pub infos: Vec<InputInfo>,
    pub notices: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct MobileOptions {
    pub paths: Vec<PathBuf>,
    pub layers: Vec<String>,
    pub operator_field: FieldChoice,
    pub tech_field: FieldChoice,
}

/// Reads coverage polygons, each of one (operator, technology) pair.
pub fn read_mobile(opts: &MobileOptions, ctx: &ReadContext) -> Result<Mobile> {
    let mut out = Mobile::default();
    let mut operators = Interner::default();
    let mut techs: BTreeMap<String, (Tech, u64)> = BTreeMap::new();
    for (path, layer_name) in layer_plan(&opts.paths, &opts.layers) {
        let started = std::time::Instant::now();
        let hashing = Hashing::start_or_reuse(path, &out.infos);
        let mut layer = VectorLayer::open(path, layer_name, "--mobile-layer", ctx)?;
        let mut info = InputInfo::for_layer("mobile", &layer);
        let op_idx = required_field(&layer, &opts.operator_field)?;
        let tech_idx = required_field(&layer, &opts.tech_field)?;
        info.fields
            .insert("operator".into(), Some(opts.operator_field.name.clone()));
        info.fields
            .insert("tech".into(), Some(opts.tech_field.name.clone()));
        let mut log = GeometryLog::default();
        let mut skipped = Vec::new();
        let before = out.features.len();
        layer.for_each(|f, i| {
            let label = feature_label(None, f.fid(), i);
            let text = |idx: usize, choice: &FieldChoice, what: &str| -> Result<String> {
                match f.field(idx).map(|v| value_to_string(&v)) {
                    Some(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
                    _ => Err(f.field_error(&label, &choice.name, format!("missing {what}"))),
                }
            };
            let operator = text(op_idx, &opts.operator_field, "operator")?;
            let tech_raw = text(tech_idx, &opts.tech_field, "technology")?;
            let Some(g) = f.geometry(&label, Validate::Polygons, &mut log, out.features.len())?
            else {
                skipped.push(Skipped {
                    feature: label.to_string(),
                    reason: "no geometry".into(),
                });
                return Ok(());
            };
            let found = geom::type_name(&g);
            let area = match g {
                Geometry::Polygon(p) => MultiPolygon::new(vec![p]),
                Geometry::MultiPolygon(mp) => mp,
                g @ Geometry::GeometryCollection(_) => match geom::polygonal(g).0 {
                    Some(mp) => mp,
                    None => {
                        return Err(f.type_error(
                            &label,
                            "Polygon or MultiPolygon (coverage area)",
                            found,
                        ))
                    }
                },
                _ => {
                    return Err(f.type_error(
                        &label,
                        "Polygon or MultiPolygon (coverage area)",
                        found,
                    ))
                }
            };
            let tech = Tech::classify(&tech_raw);
            techs.entry(tech_raw).or_insert((tech, 0)).1 += 1;
            out.features.push(CoverageFeature {
                area,
                operator: operators.get(&operator),
                tech,
            });
            Ok(())
        })?;
        let features = &out.features;
        let repaired =
            layer.check_polygons(&mut log, ctx.strict, |k| features.get(k).map(|f| &f.area))?;
        for (slot, g) in repaired {
            out.features[slot].area = geom::polygonal(g)
                .0
                .unwrap_or_else(|| MultiPolygon::new(vec![]));
        }
        layer.strict_error(&log)?;
        if operators.names.len() > MAX_OPERATORS {
            return Err(IoError::Invalid {
                path: path.to_path_buf(),
                layer: layer.name.clone(),
                message: format!(
                    "field '{}' has {} distinct operators; at most {MAX_OPERATORS} are supported (is {} right?)",
                    opts.operator_field.name,
                    operators.names.len(),
                    opts.operator_field.flag
                ),
            });
        }
        repaired_notice(&mut out.notices, path, &log);
        info.features = (out.features.len() - before) as u64;
        info.sha256 = hashing.finish();
        info.read_seconds = started.elapsed().as_secs_f64();
        info.repaired = log.repaired;
        info.skipped = skipped;
        out.infos.push(info);
    }
    for (value, (tech, n)) in techs {
        let counts_as = match tech {
            Tech::G4 => "4G",
            Tech::G5 => "5G",
            Tech::Other => {
                out.notices.push(format!(
                    "mobile: technology '{value}' ({n} features) is neither 4G/LTE nor 5G/NR; it is kept in run.json but counts as neither"
                ));
                "other"
            }
        };
        out.tech_values.push(TechValue {
            value,
            counts_as: counts_as.into(),
            features: n,
        });
    }
    out.operators = operators.names;
    Ok(out)
}

/// Backbone points: where the fibre network reaches the wider internet.
#[derive(Debug, Clone, Default)]
pub struct Backbone {
    /// A label per point (its name field, else its feature id) and its position.
    pub points: Vec<(String, Coord<f64>)>,
    pub info: Option<InputInfo>,
    pub notices: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct BackboneOptions {
    pub path: PathBuf,
    pub layer: Option<String>,
    pub name_field: FieldChoice,
}

/// Reads backbone points (Point or MultiPoint features).
pub fn read_backbone(opts: &BackboneOptions, ctx: &ReadContext) -> Result<Backbone> {
    let started = std::time::Instant::now();
    let hashing = Hashing::start(&opts.path);
    let mut layer = VectorLayer::open(&opts.path, opts.layer.as_deref(), "--backbone-layer", ctx)?;
    let mut info = InputInfo::for_layer("backbone", &layer);
    let name_idx = optional_field(&layer, &opts.name_field)?;
    info.fields.insert(
        "name".into(),
        name_idx.map(|_| opts.name_field.name.clone()),
    );
    let mut out = Backbone::default();
    let mut log = GeometryLog::default();
    let mut skipped = Vec::new();
    layer.for_each(|f, i| {
        let fid_label = feature_label(None, f.fid(), i);
        let Some(g) = f.geometry(&fid_label, Validate::Coordinates, &mut log, 0)? else {
            skipped.push(Skipped {
                feature: fid_label.to_string(),
                reason: "no geometry".into(),
            });
            return Ok(());
        };
        let name = match name_idx.map(|k| f.field(k)) {
            Some(Some(v)) => value_to_string(&v),
            _ => fid_label.to_string(),
        };
        let pts: Vec<Coord<f64>> = match g {
            Geometry::Point(p) => vec![p.0],
            Geometry::MultiPoint(m) => m.0.iter().map(|p| p.0).collect(),
            other => {
                return Err(f.type_error(
                    &fid_label,
                    "Point (backbone points)",
                    geom::type_name(&other),
                ))
            }
        };
        for (k, c) in pts.into_iter().enumerate() {
            let label = if k == 0 {
                name.clone()
            } else {
                format!("{name}#{k}")
            };
            out.points.push((label, c));
        }
        Ok(())
    })?;
    if out.points.is_empty() {
        return Err(IoError::Empty {
            path: opts.path.clone(),
            layer: layer.name.clone(),
            what: "the backbone points".into(),
        });
    }
    info.features = out.points.len() as u64;
    info.sha256 = hashing.finish();
    info.read_seconds = started.elapsed().as_secs_f64();
    info.skipped = skipped;
    out.info = Some(info);
    Ok(out)
}
