//! Premises: address points or buildings (a point on their surface), from any GDAL vector
//! source, or from a Parquet/CSV table through polars (the fast path).

use std::path::{Path, PathBuf};

use gapmap_core::geo::{Coord, Geometry, InteriorPoint, MultiPolygon};
use gdal::vector::FieldValue;

use super::layer::*;
use crate::error::{IoError, Result};
use crate::geom;
use polars::prelude::*;

use super::table::{bad_row, float_chunked, fmt_opt, open_table, retain_kept, table_err, Format};
use super::vector::{
    count_from_f64, extension, value_to_count, value_to_f64, value_to_string, GeometryLog,
    ReadContext, Validate, VectorLayer,
};
use crate::crs::{Crs, Transform};

/// The premises input.
const PREMISES: Role = Role {
    name: "premises",
    layer_flag: "--premises-layer",
    where_flag: "--premises-where",
};

/// Premise identifiers, keeping the input's type.
#[derive(Debug, Clone, PartialEq)]
pub enum PremiseIds {
    /// Whole-number ids.
    Int(Vec<i64>),
    /// Text ids.
    Str(Vec<String>),
}

impl PremiseIds {
    /// The number of ids.
    pub fn len(&self) -> usize {
        match self {
            PremiseIds::Int(v) => v.len(),
            PremiseIds::Str(v) => v.len(),
        }
    }
    /// Up to `n` ids that occur more than once, in ascending order (none: all are unique).
    /// Ids in ascending order, the common case, are proved unique in one pass.
    pub fn duplicates(&self, n: usize) -> Vec<String> {
        fn dups<T: Ord + Clone + Send + ToString>(v: &[T], n: usize) -> Vec<String> {
            if v.windows(2).all(|w| w[0] < w[1]) {
                return Vec::new();
            }
            let mut sorted = v.to_vec();
            rayon::slice::ParallelSliceMut::par_sort_unstable(&mut sorted[..]);
            let mut out: Vec<String> = sorted
                .windows(2)
                .filter(|w| w[0] == w[1])
                .map(|w| w[0].to_string())
                .collect();
            out.dedup();
            out.truncate(n);
            out
        }
        match self {
            PremiseIds::Int(v) => dups(v, n),
            PremiseIds::Str(v) => dups(v, n),
        }
    }

    /// True when there are none.
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
        if let Some(p) = &mut self.persons {
            retain_by_index(p, keep);
        }
        if let Some(w) = &mut self.weights {
            retain_by_index(w, keep);
        }
    }
}

/// How a population is spread over the premises (see [`PremiseOptions::weighting`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Weighting {
    /// No weights are read (no population layer).
    #[default]
    None,
    /// Buildings by their footprint area when every premise is a polygon, else equally.
    Footprint,
    /// By a numeric premise field (e.g. floors); values must be finite and >= 0.
    Field(FieldChoice),
}

/// Collects premise weights while a layer is read: a field's values, or building footprints
/// (given up, with a notice, as soon as a point premise shows that not every premise has one).
struct WeightCollector {
    mode: Weighting,
    values: Vec<f64>,
    /// Premises read without a footprint (points), under `Weighting::Footprint`.
    points: usize,
}

impl WeightCollector {
    fn new(mode: &Weighting) -> WeightCollector {
        WeightCollector {
            mode: mode.clone(),
            values: Vec::new(),
            points: 0,
        }
    }
    /// A premise's footprint (`None`: a point).
    fn footprint(&mut self, area_m2: Option<f64>) {
        if self.mode == Weighting::Footprint {
            match area_m2 {
                Some(a) => self.values.push(a),
                None => {
                    self.points += 1;
                    self.values.push(0.0);
                }
            }
        }
    }
    /// The weights and what they are, with a notice when footprints were given up.
    fn finish(
        self,
        n: usize,
        path: &Path,
        notices: &mut Vec<String>,
    ) -> (Option<Vec<f64>>, String) {
        match self.mode {
            Weighting::None => (None, "equal".into()),
            Weighting::Field(c) => (Some(self.values), format!("field {}", c.name)),
            Weighting::Footprint if self.points == 0 && n > 0 => {
                (Some(self.values), "footprint_m2".into())
            }
            Weighting::Footprint => {
                if self.points < n {
                    notices.push(format!(
                        "{}: {} of {n} premises are points without a footprint, so the population is spread equally over the premises of each area; set weights with --population-weight-field",
                        path.display(),
                        self.points
                    ));
                }
                (None, "equal".into())
            }
        }
    }
}

/// A premise weight from a field's value: finite, >= 0 and at most 10^12.
fn weight_value(v: f64) -> std::result::Result<f64, String> {
    if v.is_finite() && (0.0..=1e12).contains(&v) {
        Ok(v)
    } else {
        Err(format!(
            "{v} is not a weight (a number from 0 to 10^12, e.g. floors or square metres)"
        ))
    }
}

/// Premises in the working CRS.
#[derive(Debug)]
pub struct Premises {
    /// Their ids, as the input has them.
    pub ids: PremiseIds,
    /// Their positions (a building: a point on its surface).
    pub xy: Vec<Coord<f64>>,
    /// Households per premise.
    pub households: Vec<u32>,
    /// Workplaces per premise.
    pub workplaces: Vec<u32>,
    /// Persons per premise, when a population layer was spread onto them (set by the
    /// pipeline, not the reader).
    pub persons: Option<Vec<u32>>,
    /// Weights for spreading a population (with [`PremiseOptions::weighting`]): a field's
    /// values, or every premise's building footprint in square metres. `None`: equal.
    pub weights: Option<Vec<f64>>,
    /// What `weights` are: `equal`, `footprint_m2` or `field <name>`.
    pub weighted_by: String,
    /// The record of the input.
    pub info: InputInfo,
    /// What the user should know.
    pub notices: Vec<String>,
}

/// How to read premises.
#[derive(Debug, Clone)]
pub struct PremiseOptions {
    /// The file.
    pub path: PathBuf,
    /// Its layer (needed when it has several).
    pub layer: Option<String>,
    /// The id field.
    pub id_field: FieldChoice,
    /// The households field.
    pub households_field: FieldChoice,
    /// The workplaces field.
    pub workplaces_field: FieldChoice,
    /// Coordinate columns of Parquet and CSV tables.
    pub x_field: String,
    /// y column of a table.
    pub y_field: String,
    /// Whether, and by what, to read weights for spreading a population.
    pub weighting: Weighting,
    /// An attribute filter (OGR SQL `WHERE`, passed down to the data source): only the
    /// premises it selects are read. Parquet tables, read by polars, take none.
    pub filter: Option<String>,
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
            weighting: Weighting::None,
            filter: None,
        }
    }
}

/// Reads premises (see [`PremiseOptions`]).
pub fn read_premises(opts: &PremiseOptions, ctx: &ReadContext) -> Result<Premises> {
    let in_memory = super::memory::table(&opts.path).is_some();
    let premises = match extension(&opts.path).as_str() {
        _ if in_memory && opts.filter.is_some() => Err(IoError::Table {
            path: opts.path.clone(),
            message: "premises_where filters GDAL sources, not tables in memory; select the rows before handing the table over".into(),
        }),
        _ if in_memory => read_premises_table(opts, ctx, Format::Memory),
        "parquet" | "pq" if opts.filter.is_some() => Err(IoError::Table {
            path: opts.path.clone(),
            message: "--premises-where filters GDAL sources (GeoPackage, PostGIS, CSV, ...), not Parquet tables; select the rows before, e.g. with DuckDB or polars".into(),
        }),
        "parquet" | "pq" => read_premises_table(opts, ctx, Format::Parquet),
        // A filtered CSV goes through GDAL, which evaluates the filter.
        "csv"
            if opts.filter.is_none()
                && super::table::csv_has_columns(&opts.path, &[&opts.x_field, &opts.y_field]) =>
        {
            read_premises_table(opts, ctx, Format::Csv)
        }
        _ => read_premises_vector(opts, ctx),
    }?;
    let dups = premises.ids.duplicates(3);
    if !dups.is_empty() {
        return Err(IoError::Invalid {
            path: opts.path.clone(),
            layer: premises.info.layer.clone().unwrap_or_default(),
            message: format!(
                "premise ids must be unique, but {} occur more than once (field '{}'); choose another with {}",
                dups.iter().map(|d| format!("'{d}'")).collect::<Vec<_>>().join(", "),
                opts.id_field.name,
                opts.id_field.flag
            ),
        });
    }
    Ok(premises)
}

fn read_premises_vector(opts: &PremiseOptions, ctx: &ReadContext) -> Result<Premises> {
    let (mut layer, mut info, _log, skipped, clock) = open_layer_filtered(
        &opts.path,
        opts.layer.as_deref(),
        opts.filter.as_deref(),
        &PREMISES,
        ctx,
        &[],
    )?;
    let mut notices = Vec::new();
    let id_src = id_source(&layer, &opts.id_field, &mut notices, "premise")?;
    let hh = optional_field(&layer, &opts.households_field)?;
    let wp = optional_field(&layer, &opts.workplaces_field)?;
    let weight_idx = match &opts.weighting {
        Weighting::Field(c) => Some((required_field(&layer, c)?, c.name.clone())),
        _ => None,
    };
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

    // Only these fields are fetched (address tables often have dozens).
    let used: Vec<usize> = [
        match id_src {
            IdSource::Field(k, _) => Some(k),
            IdSource::Fid => None,
        },
        hh,
        wp,
        weight_idx.as_ref().map(|(k, _)| *k),
    ]
    .into_iter()
    .flatten()
    .collect();
    layer.read_only_fields(&used)?;
    let int_ids = matches!(id_src, IdSource::Fid | IdSource::Field(_, true));
    let fields = PremiseFields {
        opts,
        id_src,
        hh,
        wp,
        weight_idx,
        int_ids,
    };
    let mut got = Collected::new(&opts.weighting, skipped);
    match super::postgres::heap_ranges(&layer, rayon::current_num_threads()) {
        // A large PostgreSQL table: its ranges read at once, one connection each.
        Some(ranges) => {
            info.connections = Some(ranges.len() as u32);
            let parts = super::postgres::read_ranges(
                ranges,
                &opts.path,
                &layer.name,
                PREMISES.layer_flag,
                opts.filter.as_deref(),
                ctx,
                |part| {
                    part.read_only_fields(&used)?;
                    let mut got = Collected::new(&opts.weighting, Vec::new());
                    collect_premises(part, &fields, &mut got)?;
                    Ok(got)
                },
            )?;
            for part in parts {
                got.append(part);
            }
        }
        None => collect_premises(&mut layer, &fields, &mut got)?,
    }
    let Collected {
        ids_int,
        ids_str,
        xy,
        households,
        workplaces,
        hh_nulls,
        wp_nulls,
        weights,
        skipped,
    } = got;
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
    let (weights, weighted_by) = weights.finish(xy.len(), &opts.path, &mut notices);
    info.columnar = layer.read_columnar;
    clock.finish(&mut info, xy.len(), skipped);
    Ok(Premises {
        ids: if int_ids {
            PremiseIds::Int(ids_int)
        } else {
            PremiseIds::Str(ids_str)
        },
        xy,
        households,
        workplaces,
        persons: None,
        weights,
        weighted_by,
        info,
        notices,
    })
}

/// What the per-feature premise reader takes from each feature of a layer.
struct PremiseFields<'a> {
    opts: &'a PremiseOptions,
    id_src: IdSource,
    hh: Option<usize>,
    wp: Option<usize>,
    weight_idx: Option<(usize, String)>,
    /// Ids are whole numbers (`Collected::ids_int`), else text.
    int_ids: bool,
}

/// Premises read from a layer, or from one range of its rows.
struct Collected {
    ids_int: Vec<i64>,
    ids_str: Vec<String>,
    xy: Vec<Coord<f64>>,
    households: Vec<u32>,
    workplaces: Vec<u32>,
    hh_nulls: usize,
    wp_nulls: usize,
    weights: WeightCollector,
    skipped: Vec<Skipped>,
}

impl Collected {
    fn new(weighting: &Weighting, skipped: Vec<Skipped>) -> Collected {
        Collected {
            ids_int: Vec::new(),
            ids_str: Vec::new(),
            xy: Vec::new(),
            households: Vec::new(),
            workplaces: Vec::new(),
            hh_nulls: 0,
            wp_nulls: 0,
            weights: WeightCollector::new(weighting),
            skipped,
        }
    }

    /// `next`'s premises after these.
    fn append(&mut self, next: Collected) {
        if self.xy.is_empty() && self.ids_int.is_empty() && self.ids_str.is_empty() {
            // The first part: taken as it is, not copied.
            let skipped = std::mem::take(&mut self.skipped);
            *self = next;
            self.skipped.splice(0..0, skipped);
            return;
        }
        self.ids_int.extend(next.ids_int);
        self.ids_str.extend(next.ids_str);
        self.xy.extend(next.xy);
        self.households.extend(next.households);
        self.workplaces.extend(next.workplaces);
        self.hh_nulls += next.hh_nulls;
        self.wp_nulls += next.wp_nulls;
        self.weights.values.extend(next.weights.values);
        self.weights.points += next.weights.points;
        self.skipped.extend(next.skipped);
    }
}

/// Reads the premises of `layer` into `into`, feature by feature, in the layer's order.
fn collect_premises(
    layer: &mut VectorLayer,
    fields: &PremiseFields<'_>,
    into: &mut Collected,
) -> Result<()> {
    let PremiseFields {
        opts,
        ref id_src,
        hh,
        wp,
        ref weight_idx,
        int_ids,
    } = *fields;
    let mut log = GeometryLog::default();
    layer.for_each(|f, i| {
        let (id_int, id_str) = match *id_src {
            IdSource::Fid => (Some(f.fid().map_or(i as i64, |v| v as i64)), None),
            IdSource::Field(idx, is_int) => match f.field(idx) {
                None => {
                    return Err(f.field_error(
                        &feature_label(None, f.fid(), i),
                        &opts.id_field.name,
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
        let Some(g) = geometry_or_skip(
            f,
            &label,
            Validate::Coordinates,
            &mut log,
            0,
            &mut into.skipped,
        )?
        else {
            return Ok(());
        };
        let p = match premise_place(&g) {
            Ok(Some(p)) => p,
            Ok(None) => {
                into.skipped.push(Skipped {
                    feature: label.to_string(),
                    reason: NO_AREA.into(),
                });
                return Ok(());
            }
            Err(found) => return Err(f.type_error(&label, PREMISE_GEOMETRY, &found)),
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
        let h = count(hh, &opts.households_field, 1, &mut into.hh_nulls)?;
        let w = count(wp, &opts.workplaces_field, 0, &mut into.wp_nulls)?;
        if let Some((k, name)) = weight_idx {
            let v = match f.field(*k) {
                None => Err("the weight is empty".to_string()),
                Some(v) => value_to_f64(&v).and_then(weight_value),
            }
            .map_err(|m| f.field_error(&label, name, m))?;
            into.weights.values.push(v);
        } else {
            into.weights.footprint(footprint_m2(&g));
        }
        if int_ids {
            into.ids_int.push(id_int.unwrap_or(i as i64));
        } else {
            into.ids_str.push(id_text.unwrap_or_default());
        }
        into.xy.push(p);
        into.households.push(h);
        into.workplaces.push(w);
        Ok(())
    })
}

/// Where a Parquet premise table lies in longitude/latitude (its CRS from its metadata, else
/// `assume_crs`), for choosing a working CRS (`--crs auto`): the centre of its extent and up to
/// [`super::vector::WHEREABOUTS_SAMPLE`] premises spread over the table. `None` for other
/// formats, which [`super::vector::layer_whereabouts`] answers.
pub fn table_whereabouts(
    path: &Path,
    x_field: &str,
    y_field: &str,
    assume_crs: Option<&str>,
) -> Result<Option<super::vector::Whereabouts>> {
    let format = match extension(path).as_str() {
        _ if super::memory::table(path).is_some() => Format::Memory,
        "parquet" | "pq" => Format::Parquet,
        _ => return Ok(None),
    };
    let mut ctx = ReadContext::new(Crs::wgs84());
    ctx.assume_crs = assume_crs
        .map(|c| Crs::parse(c, "--assume-crs"))
        .transpose()?;
    let opts = PremiseOptions::from_flags(path, None, None, None, None, x_field, y_field);
    let p = read_premises_table(&opts, &ctx, format)?;
    let n = p.xy.len();
    let k = super::vector::WHEREABOUTS_SAMPLE.min(n);
    Ok(Some(super::vector::Whereabouts {
        centre: extent(p.xy.iter().copied()).map(|r| r.center()),
        sample: (0..k).map(|i| p.xy[i * n / k]).collect(),
    }))
}

/// What premises may be.
const PREMISE_GEOMETRY: &str = "Point, or Polygon/MultiPolygon (a building)";
/// Why a building is skipped.
const NO_AREA: &str = "polygon without area";

/// A building's footprint in square metres (working CRS); `None` for a point.
fn footprint_m2(g: &Geometry<f64>) -> Option<f64> {
    use gapmap_core::geo::Area;
    match g {
        Geometry::Polygon(_) | Geometry::MultiPolygon(_) => Some(g.unsigned_area()),
        _ => None,
    }
}

/// Where a premise counts, for every reader: a point where it is, a building at a point on its
/// surface (`Ok(None)`: a polygon without area, skipped). Any other geometry is an error
/// naming what it is (`Err`).
fn premise_place(g: &Geometry<f64>) -> std::result::Result<Option<Coord<f64>>, String> {
    match g {
        Geometry::Point(p) => Ok(Some(p.0)),
        Geometry::MultiPoint(m) if m.0.len() == 1 => Ok(Some(m.0[0].0)),
        Geometry::Polygon(_) | Geometry::MultiPolygon(_) => Ok(g.interior_point().map(|p| p.0)),
        Geometry::MultiPoint(m) => Err(format!("MultiPoint with {} points", m.0.len())),
        other => Err(geom::type_name(other).to_string()),
    }
}

/// Premises from a Parquet or CSV table, through polars.
pub(crate) fn read_premises_table(
    opts: &PremiseOptions,
    ctx: &ReadContext,
    format: Format,
) -> Result<Premises> {
    let path = opts.path.as_path();
    let started = std::time::Instant::now();
    let hashing = Hashing::start(path);
    let (df, geo, layer) = open_table(path, format)?;
    let columns: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let missing = |field: &str, hint: &str| IoError::MissingField {
        path: path.to_path_buf(),
        layer: layer.clone(),
        field: field.to_string(),
        available: columns.clone(),
        hint: hint.to_string(),
    };
    let has = |c: &str| columns.iter().any(|x| x == c);

    let (crs, crs_assumed) = match (&geo.crs, &ctx.assume_crs) {
        (Some(v), _) => (
            Crs::parse(
                v,
                &format!("{}: CRS in the Parquet metadata", path.display()),
            )?,
            false,
        ),
        (None, Some(c)) => (c.clone(), true),
        (None, None) => {
            return Err(IoError::NoCrs {
                path: path.to_path_buf(),
                layer: layer.clone(),
            })
        }
    };

    let n = df.height();
    let mut notices = Vec::new();
    let mut skipped = Vec::new();
    // Coordinates: x/y columns, else GeoParquet WKB. One point per row; a row without
    // geometry (GeoParquet null) has `keep[i] == false` and a placeholder point. Null or
    // non-finite coordinates are errors that name the row.
    let mut keep: Vec<bool> = vec![true; n];
    // Building footprints (source CRS), measured once reprojected; `None`: a point.
    let footprint_mode = opts.weighting == Weighting::Footprint;
    let mut footprints: Vec<Option<MultiPolygon<f64>>> = Vec::new();
    let not_finite = |i: usize, x: Option<f64>, y: Option<f64>| {
        bad_row(
            path,
            &layer,
            i,
            format!(
                "coordinate ({}, {}) is not a finite number",
                fmt_opt(x),
                fmt_opt(y)
            ),
        )
    };
    let mut xy: Vec<Coord<f64>> = if has(&opts.x_field) && has(&opts.y_field) {
        let xs = float_chunked(&df, &opts.x_field, path)?;
        let ys = float_chunked(&df, &opts.y_field, path)?;
        let mut xy = Vec::with_capacity(n);
        for (i, (x, y)) in xs.iter().zip(ys.iter()).enumerate() {
            match (x, y) {
                (Some(x), Some(y)) if x.is_finite() && y.is_finite() => xy.push(Coord { x, y }),
                (x, y) => return Err(not_finite(i, x, y)),
            }
        }
        xy
    } else if let Some(col) = geo.wkb_column.as_ref().filter(|c| has(c)) {
        let s = df
            .column(col)
            .map_err(|e| table_err(path, e))?
            .as_materialized_series()
            .clone();
        let bin = s
            .binary()
            .map_err(|e| table_err(path, format!("geometry column '{col}': {e}")))?;
        let mut xy = Vec::with_capacity(n);
        for (i, v) in bin.iter().enumerate() {
            let g = match v {
                None => None,
                Some(b) => geom::from_wkb(b)
                    .map_err(|m| bad_row(path, &layer, i, format!("geometry: {m}")))?,
            };
            // Kept, skipped for a reason, or not a premise's geometry.
            let place = match g {
                None => {
                    if footprint_mode {
                        footprints.push(None);
                    }
                    Ok(Err("no geometry"))
                }
                Some(g) => {
                    let place = premise_place(&g).map(|p| p.ok_or(NO_AREA));
                    if footprint_mode {
                        footprints.push(match g {
                            Geometry::Polygon(p) => Some(MultiPolygon::new(vec![p])),
                            Geometry::MultiPolygon(m) => Some(m),
                            _ => None,
                        });
                    }
                    place
                }
            };
            let p = match place {
                Ok(Ok(p)) => p,
                Ok(Err(reason)) => {
                    keep[i] = false;
                    skipped.push(Skipped {
                        feature: format!("row {i}"),
                        reason: reason.into(),
                    });
                    Coord { x: 0.0, y: 0.0 }
                }
                Err(found) => {
                    return Err(IoError::GeometryType {
                        path: path.to_path_buf(),
                        layer: layer.clone(),
                        feature: format!("row {i}"),
                        expected: PREMISE_GEOMETRY.into(),
                        found,
                    })
                }
            };
            if keep[i] && !(p.x.is_finite() && p.y.is_finite()) {
                return Err(not_finite(i, Some(p.x), Some(p.y)));
            }
            xy.push(p);
        }
        xy
    } else {
        let which = if has(&opts.x_field) {
            &opts.y_field
        } else {
            &opts.x_field
        };
        return Err(missing(
            which,
            " (premise coordinates; set the columns with --x-field and --y-field)",
        ));
    };

    let first = xy.first().copied();
    let reproject_err = |message: String| IoError::Reproject {
        path: path.to_path_buf(),
        layer: layer.clone(),
        from: crs.label().to_string(),
        to: ctx.target.label().to_string(),
        // PROJ's own words say little ("Invalid coordinate range"): say why from the numbers.
        message: match first {
            Some(c) if message.contains("Invalid coordinate") => {
                crate::crs::reprojection_problem(crs.label(), c)
            }
            _ => message,
        },
    };
    let transform = Transform::new(&crs, &ctx.target).map_err(&reproject_err)?;
    transform.coords_in_place(&mut xy).map_err(&reproject_err)?;
    // Footprints in square metres of the working CRS (points: `None`).
    let mut footprint_m2: Vec<Option<f64>> = Vec::new();
    if footprint_mode && footprints.is_empty() {
        // x/y columns: points.
        footprint_m2 = vec![None; xy.len()];
    } else if footprint_mode {
        use gapmap_core::geo::Area;
        let polys: Vec<MultiPolygon<f64>> = footprints.iter().flatten().cloned().collect();
        let mut areas = transform
            .multi_polygons(&polys)
            .map_err(&reproject_err)?
            .into_iter()
            .map(|m| m.unsigned_area());
        footprint_m2 = footprints
            .iter()
            .map(|f| f.as_ref().and_then(|_| areas.next()))
            .collect();
    }

    let mut info = InputInfo {
        role: "premises".into(),
        path: path.display().to_string(),
        layer: None,
        driver: match format {
            Format::Parquet => "Parquet (polars)".into(),
            Format::Csv => "CSV (polars)".into(),
            Format::Memory => "Arrow table in memory".into(),
        },
        crs: crs.label().to_string(),
        crs_assumed,
        features: 0,
        sha256: None,
        fields: Default::default(),
        repaired: vec![],
        skipped: vec![],
        read_seconds: 0.0,
        filter: None,
        columnar: false,
        connections: None,
    };

    // Ids: the id column keeps its type; without one, the row number.
    let ids = if has(&opts.id_field.name) {
        info.fields
            .insert("id".into(), Some(opts.id_field.name.clone()));
        let s = df
            .column(&opts.id_field.name)
            .map_err(|e| table_err(path, e))?
            .as_materialized_series()
            .clone();
        if s.null_count() > 0 {
            let i = s
                .is_null()
                .iter()
                .position(|v| v == Some(true))
                .unwrap_or(0);
            return Err(bad_row(
                path,
                &layer,
                i,
                format!("the premise id in '{}' is empty", opts.id_field.name),
            ));
        }
        if s.dtype().is_integer() {
            let s = s.cast(&DataType::Int64).map_err(|e| table_err(path, e))?;
            PremiseIds::Int(
                s.i64()
                    .map_err(|e| table_err(path, e))?
                    .into_no_null_iter()
                    .collect(),
            )
        } else {
            let s = s.cast(&DataType::String).map_err(|e| table_err(path, e))?;
            PremiseIds::Str(
                s.str()
                    .map_err(|e| table_err(path, e))?
                    .iter()
                    .map(|v| v.unwrap_or_default().to_string())
                    .collect(),
            )
        }
    } else if opts.id_field.explicit {
        return Err(missing(
            &opts.id_field.name,
            &format!(" (named by {})", opts.id_field.flag),
        ));
    } else {
        notices.push(format!(
            "{}: no column '{}', so premise ids are row numbers from 0; choose a column with {}",
            path.display(),
            opts.id_field.name,
            opts.id_field.flag
        ));
        info.fields.insert("id".into(), None);
        PremiseIds::Int((0..n as i64).collect())
    };

    let mut counts = |choice: &crate::read::FieldChoice,
                      fallback: u32,
                      what: &str,
                      key: &str|
     -> Result<Vec<u32>> {
        if !has(&choice.name) {
            if choice.explicit {
                return Err(missing(
                    &choice.name,
                    &format!(" (named by {})", choice.flag),
                ));
            }
            default_count_notice(&mut notices, path, choice, &format!("{fallback} {what}"));
            info.fields.insert(key.into(), None);
            return Ok(vec![fallback; n]);
        }
        info.fields.insert(key.into(), Some(choice.name.clone()));
        let vals = float_chunked(&df, &choice.name, path)?;
        let mut nulls = 0;
        let mut out = Vec::with_capacity(n);
        for (i, v) in vals.iter().enumerate() {
            out.push(match v {
                None => {
                    nulls += 1;
                    0
                }
                Some(v) => count_from_f64(v).map_err(|m| IoError::FieldValue {
                    path: path.to_path_buf(),
                    layer: layer.clone(),
                    feature: format!("row {i}"),
                    field: choice.name.clone(),
                    message: m,
                })?,
            });
        }
        count_notice(&mut notices, path, &choice.name, nulls, what);
        Ok(out)
    };
    let mut households = counts(&opts.households_field, 1, "household", "households")?;
    let mut workplaces = counts(&opts.workplaces_field, 0, "workplaces", "workplaces")?;
    let mut weights = WeightCollector::new(&opts.weighting);
    match &opts.weighting {
        Weighting::None => {}
        Weighting::Footprint => footprint_m2.iter().for_each(|&a| weights.footprint(a)),
        Weighting::Field(c) => {
            if !has(&c.name) {
                return Err(missing(&c.name, &format!(" (named by {})", c.flag)));
            }
            for (i, v) in float_chunked(&df, &c.name, path)?.iter().enumerate() {
                let v = v
                    .ok_or_else(|| "the weight is empty".to_string())
                    .and_then(weight_value)
                    .map_err(|m| IoError::FieldValue {
                        path: path.to_path_buf(),
                        layer: layer.clone(),
                        feature: format!("row {i}"),
                        field: c.name.clone(),
                        message: m,
                    })?;
                weights.values.push(v);
            }
        }
    }
    // Every column is taken: the frame's memory serves what follows.
    drop(df);

    // Drop rows without geometry (GeoParquet nulls), keeping everything aligned.
    let mut ids = ids;
    if !skipped.is_empty() {
        retain_kept(&mut xy, &keep);
        retain_kept(&mut households, &keep);
        retain_kept(&mut workplaces, &keep);
        if !weights.values.is_empty() {
            retain_kept(&mut weights.values, &keep);
        }
        match &mut ids {
            PremiseIds::Int(v) => retain_kept(v, &keep),
            PremiseIds::Str(v) => retain_kept(v, &keep),
        }
    }
    if xy.is_empty() {
        return Err(IoError::Empty {
            path: path.to_path_buf(),
            layer,
            what: "the premises".into(),
        });
    }
    // Skipped rows (no geometry) are not premises: only kept rows count as points.
    if footprint_mode {
        weights.points = footprint_m2
            .iter()
            .zip(&keep)
            .filter(|(a, &k)| k && a.is_none())
            .count();
    }
    let (weights, weighted_by) = weights.finish(xy.len(), path, &mut notices);
    info.features = xy.len() as u64;
    info.skipped = skipped;
    info.sha256 = hashing.finish();
    info.read_seconds = started.elapsed().as_secs_f64();
    Ok(Premises {
        ids,
        xy,
        households,
        workplaces,
        persons: None,
        weights,
        weighted_by,
        info,
        notices,
    })
}
