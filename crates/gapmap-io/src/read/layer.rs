//! What every layer reader shares: field choice, the record of an input (`InputInfo`, hashed
//! beside the read), feature labels for messages, notices, and the plan of layers to read.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use gapmap_core::geo::{Geometry, Rect};

use super::vector::{FeatureReader, GeometryLog, ReadContext, Validate, VectorLayer};
use crate::error::{IoError, Result};

/// A field name, and whether the user chose it (an absent explicit field is an error; an absent
/// default has a documented fallback).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChoice {
    /// The field's name.
    pub name: String,
    /// True when the user named it (an absent explicit field is an error).
    pub explicit: bool,
    /// The command-line flag that sets it, for messages.
    pub flag: &'static str,
}

impl FieldChoice {
    /// The field the user named with `flag`, or `default`.
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
    /// The feature (its id or position).
    pub feature: String,
    /// Why it was left out.
    pub reason: String,
}

/// What run.json records about one input.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputInfo {
    /// What the input is (`premises`, `fibre`, ...).
    pub role: String,
    /// The file.
    pub path: String,
    /// The layer read.
    pub layer: Option<String>,
    /// The GDAL driver (or `parquet`/`csv` for tables read with polars).
    pub driver: String,
    /// Its CRS.
    pub crs: String,
    /// True when its CRS is `--assume-crs`.
    pub crs_assumed: bool,
    /// Features read (after skipping).
    pub features: u64,
    /// SHA-256 of the file.
    pub sha256: Option<String>,
    /// Which field served which purpose; `null` when a default field was absent.
    pub fields: BTreeMap<String, Option<String>>,
    /// Features repaired by MakeValid.
    pub repaired: Vec<String>,
    /// Features left out, and why.
    pub skipped: Vec<Skipped>,
    /// Time spent reading this input, in seconds (inputs may be read side by side).
    pub read_seconds: f64,
    /// The attribute filter applied (`--*-where`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// True when the layer was read through GDAL's columnar Arrow stream (absent: feature by
    /// feature, or a table read with polars).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub columnar: bool,
    /// A PostgreSQL table read in this many ranges of heap pages at once, one connection each
    /// (absent: through one cursor).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connections: Option<u32>,
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
            filter: None,
            columnar: false,
            connections: None,
        }
    }
}

/// A file being hashed on a thread of its own. Dropped unfinished (a read that failed, a hash
/// started ahead that no reader took), it is stopped and joined: no thread outlives the read
/// that started it (LeakSanitizer found the 1 MiB buffer of one still running at exit).
pub(crate) struct HashTask {
    handle: Option<std::thread::JoinHandle<Option<String>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl HashTask {
    fn spawn(path: PathBuf) -> HashTask {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = std::sync::Arc::clone(&stop);
        let handle = std::thread::spawn(move || sha256_file_until(&path, &flag));
        HashTask {
            handle: Some(handle),
            stop,
        }
    }

    fn finish(mut self) -> Option<String> {
        self.handle.take()?.join().ok().flatten()
    }
}

impl Drop for HashTask {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
            let _ = h.join();
        }
    }
}

/// Hashes a file on another thread (reading is single-threaded, so this is nearly free).
pub(crate) enum Hashing {
    Running(HashTask),
    /// Already hashed, for another layer of the same file.
    Known(Option<String>),
}

/// What identifies a file's content for [`hash_ahead`]: its path, size and modification time.
type FileKey = (PathBuf, u64, Option<std::time::SystemTime>);

/// The key of the file at `path` (`None` for what is not a file: nothing to hash ahead).
fn file_key(path: &Path) -> Option<FileKey> {
    let m = std::fs::metadata(path).ok().filter(|m| m.is_file())?;
    Some((path.to_path_buf(), m.len(), m.modified().ok()))
}

/// Hashes started ahead of their readers ([`hash_ahead`]), by file.
static AHEAD: std::sync::Mutex<Vec<(FileKey, HashTask)>> = std::sync::Mutex::new(Vec::new());

/// Starts hashing `paths` now, each on its own thread, for the readers that open them later
/// (a reader takes the hash if the file's size and modification time are unchanged). What
/// runs before the readers (choosing the working CRS) then overlaps with the hashing.
pub fn hash_ahead(paths: &[&Path]) {
    let Ok(mut ahead) = AHEAD.lock() else {
        return;
    };
    for p in paths {
        let Some(key) = file_key(p) else {
            continue; // not there (its reader says so), or a directory
        };
        if ahead.iter().any(|(k, _)| *k == key) {
            continue;
        }
        let path = p.to_path_buf();
        ahead.push((key, HashTask::spawn(path)));
    }
}

/// Drops the hashes started ahead that no reader took (the end of a read).
pub fn forget_hashes_ahead() {
    if let Ok(mut ahead) = AHEAD.lock() {
        ahead.clear();
    }
}

impl Hashing {
    pub(crate) fn start(path: &Path) -> Hashing {
        if let Some(key) = file_key(path) {
            if let Ok(mut ahead) = AHEAD.lock() {
                if let Some(i) = ahead.iter().position(|(k, _)| *k == key) {
                    return Hashing::Running(ahead.swap_remove(i).1);
                }
            }
        }
        Hashing::Running(HashTask::spawn(path.to_path_buf()))
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
            Hashing::Running(h) => h.finish(),
            Hashing::Known(h) => h,
        }
    }
}

/// SHA-256 of a file's bytes, or `None` for directories and unreadable files.
pub fn sha256_file(path: &Path) -> Option<String> {
    sha256_file_until(path, &std::sync::atomic::AtomicBool::new(false))
}

/// [`sha256_file`], `None` too when `stop` is set before it is done.
fn sha256_file_until(path: &Path, stop: &std::sync::atomic::AtomicBool) -> Option<String> {
    if !std::fs::metadata(path).ok()?.is_file() {
        return None;
    }
    crate::write::output::digest_file_until(path, stop)
        .ok()
        .flatten()
        .map(|(_, sha)| sha)
}

pub(crate) fn layer_missing(layer: &VectorLayer, choice: &FieldChoice) -> IoError {
    IoError::MissingField {
        path: layer.path.clone(),
        layer: layer.name.clone(),
        field: choice.name.clone(),
        available: layer.fields.clone(),
        hint: format!(" (named by {})", choice.flag),
    }
}

/// A field that may be absent when it is the default: `Ok(None)` then.
pub(crate) fn optional_field(layer: &VectorLayer, choice: &FieldChoice) -> Result<Option<usize>> {
    match layer.find_field(&choice.name) {
        Some(i) => Ok(Some(i)),
        None if choice.explicit => Err(layer_missing(layer, choice)),
        None => Ok(None),
    }
}

/// A field that must exist, default or not.
pub(crate) fn required_field(layer: &VectorLayer, choice: &FieldChoice) -> Result<usize> {
    layer.require_field(
        &choice.name,
        &format!(" (set the field name with {})", choice.flag),
    )
}

pub(crate) fn feature_label(id: Option<&str>, fid: Option<u64>, index: usize) -> FeatureLabel<'_> {
    FeatureLabel { id, fid, index }
}

/// How errors name a feature: its id, else its feature id, else its position. Formatted only
/// when an error or a log needs it, not for every feature read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FeatureLabel<'a> {
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

pub(crate) fn repaired_notice(notices: &mut Vec<String>, path: &Path, log: &GeometryLog) {
    if !log.repaired.is_empty() {
        notices.push(format!(
            "{}: repaired {} invalid polygon(s) with GDAL MakeValid: {}",
            path.display(),
            log.repaired.len(),
            abbreviate(&log.repaired, 10)
        ));
    }
}

pub(crate) fn abbreviate(items: &[String], n: usize) -> String {
    let mut s = items.iter().take(n).cloned().collect::<Vec<_>>().join(", ");
    if items.len() > n {
        s.push_str(&format!(" and {} more (see run.json)", items.len() - n));
    }
    s
}

/// Interns strings in first-seen order.
#[derive(Debug, Default)]
pub(crate) struct Interner {
    ids: HashMap<String, u32>,
    pub(crate) names: Vec<String>,
}

impl Interner {
    pub(crate) fn get(&mut self, s: &str) -> u32 {
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
pub(crate) fn layer_plan<'a>(
    paths: &'a [PathBuf],
    layers: &'a [String],
) -> Vec<(&'a Path, Option<&'a str>)> {
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

/// Where ids come from.
pub(crate) enum IdSource {
    Field(usize, bool),
    Fid,
}

pub(crate) fn id_source(
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

/// When a layer read started, and its file's hash being made.
pub(crate) struct ReadClock {
    started: std::time::Instant,
    hashing: Hashing,
}

/// What an input is: its role in run.json and the flag that chooses its layer.
pub(crate) struct Role<'a> {
    pub(crate) name: &'a str,
    pub(crate) layer_flag: &'a str,
    /// The option that filters its features (`--premises-where`).
    pub(crate) where_flag: &'a str,
}

/// A layer read's parts, for a reader to fill: the layer, its record, the geometry log, the
/// skip list and the clock that completes the record ([`ReadClock::finish`]).
pub(crate) type Parts = (VectorLayer, InputInfo, GeometryLog, Vec<Skipped>, ReadClock);

/// The start of every layer read: layer `name` (or the only one; the role's flag chooses
/// among several) of `path` opened, its record begun, and the file hashed beside the read.
/// `earlier` are the inputs read before: a file among them is not hashed again.
pub(crate) fn open_layer(
    path: &Path,
    name: Option<&str>,
    role: &Role<'_>,
    ctx: &ReadContext,
    earlier: &[InputInfo],
) -> Result<Parts> {
    open_layer_filtered(path, name, None, role, ctx, earlier)
}

/// [`open_layer`], keeping only the features `filter` (the role's `--*-where`) selects.
pub(crate) fn open_layer_filtered(
    path: &Path,
    name: Option<&str>,
    filter: Option<&str>,
    role: &Role<'_>,
    ctx: &ReadContext,
    earlier: &[InputInfo],
) -> Result<Parts> {
    let started = std::time::Instant::now();
    let hashing = Hashing::start_or_reuse(path, earlier);
    let mut layer = VectorLayer::open(path, name, role.layer_flag, ctx)?;
    if let Some(f) = filter {
        layer.set_filter(f, role.where_flag)?;
    }
    let mut info = InputInfo::for_layer(role.name, &layer);
    info.filter = filter.map(str::to_string);
    let clock = ReadClock { started, hashing };
    Ok((layer, info, GeometryLog::default(), Vec::new(), clock))
}

impl ReadClock {
    /// Completes `info`: `features` read, what was `skipped`, the file's hash and the time
    /// taken.
    pub(crate) fn finish(self, info: &mut InputInfo, features: usize, skipped: Vec<Skipped>) {
        info.features = features as u64;
        info.skipped = skipped;
        info.sha256 = self.hashing.finish();
        info.read_seconds = self.started.elapsed().as_secs_f64();
    }
}

/// The geometry of feature `label` (validated as `validate`; `index` is its place among the
/// features kept), or `None` when it has none: then it is recorded in `skipped`.
pub(crate) fn geometry_or_skip(
    f: &FeatureReader<'_>,
    label: &dyn std::fmt::Display,
    validate: Validate,
    log: &mut GeometryLog,
    index: usize,
    skipped: &mut Vec<Skipped>,
) -> Result<Option<Geometry<f64>>> {
    let g = f.geometry(label, validate, log, index)?;
    if g.is_none() {
        skipped.push(Skipped {
            feature: label.to_string(),
            reason: "no geometry".into(),
        });
    }
    Ok(g)
}

/// The area of a polygonal feature: a Polygon, a MultiPolygon, or the polygons of a
/// GeometryCollection; `None` for anything else.
pub(crate) fn area_of(g: Geometry<f64>) -> Option<gapmap_core::geo::MultiPolygon<f64>> {
    match g {
        Geometry::Polygon(p) => Some(gapmap_core::geo::MultiPolygon::new(vec![p])),
        Geometry::MultiPolygon(mp) => Some(mp),
        g @ Geometry::GeometryCollection(_) => crate::geom::polygonal(g).0,
        _ => None,
    }
}

/// The box around `coords` (`None` when there are none).
pub fn extent(coords: impl Iterator<Item = gapmap_core::geo::Coord<f64>>) -> Option<Rect<f64>> {
    let mut it = coords;
    let first = it.next()?;
    let (mut lo, mut hi) = (first, first);
    for c in it {
        lo.x = lo.x.min(c.x);
        lo.y = lo.y.min(c.y);
        hi.x = hi.x.max(c.x);
        hi.y = hi.y.max(c.y);
    }
    Some(Rect::new(lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_started_ahead_is_taken_only_for_the_same_content() {
        let tmp = tempfile::tempdir().unwrap();
        let a = tmp.path().join("a.txt");
        std::fs::write(&a, "abc").unwrap();
        hash_ahead(&[a.as_path()]);
        // sha256("abc"), the FIPS 180-2 example: the reader takes the hash started ahead.
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(Hashing::start(&a).finish().as_deref(), Some(abc));
        // Changed after it was started (another size): hashed anew, not taken.
        hash_ahead(&[a.as_path()]);
        std::fs::write(&a, "abcd").unwrap();
        let h = Hashing::start(&a).finish().unwrap();
        assert_ne!(h, abc);
        assert_eq!(Some(h), sha256_file(&a));
        forget_hashes_ahead();
    }

    #[test]
    fn a_hash_dropped_unfinished_stops_and_is_joined() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.bin");
        std::fs::write(&big, vec![7u8; 64 << 20]).unwrap();
        // Finished, it is the file's hash.
        let t = HashTask::spawn(big.clone());
        assert_eq!(t.finish(), sha256_file(&big));
        // Dropped at once, it stops after at most one MiB: its thread is gone when the drop
        // returns (the flag it shares is then held by this task alone).
        let t = HashTask::spawn(big.clone());
        let stop = std::sync::Arc::clone(&t.stop);
        drop(t);
        assert!(stop.load(std::sync::atomic::Ordering::Relaxed));
        assert_eq!(
            std::sync::Arc::strong_count(&stop),
            1,
            "the hashing thread still runs"
        );
        assert_eq!(
            sha256_file_until(&big, &std::sync::atomic::AtomicBool::new(true)),
            None
        );
    }
}
