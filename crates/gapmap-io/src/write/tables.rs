//! Tabular outputs with polars: the per-settlement table (CSV and Parquet) and the per-premise
//! table (Parquet).

use crate::write::output::OutputFile;
use std::path::Path;

use gapmap_core::aid::{AidClass, AreaClassRule};
use gapmap_core::fibre::FibreReach;
use gapmap_core::gaps::GapKind;
use gapmap_core::geo::Coord;
use gapmap_core::goals::Goal;
use gapmap_core::mobile::MobileCover;
use gapmap_core::summary::{Outcome, Tally};
use std::borrow::Cow;

use crate::write::features::Column as FColumn;
/// The table type of the tabular writers (polars'), for callers that make a table and write it
/// in more than one form.
pub use polars::prelude::DataFrame;
use polars::prelude::*;

use crate::error::{IoError, Result};
use crate::read::table::CRS_METADATA_KEY;
use crate::read::PremiseIds;

fn werr(path: &Path, e: impl std::fmt::Display) -> IoError {
    IoError::Write {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Reads one count of a tally.
pub type TallyGetter = fn(&Tally) -> u64;

/// Count columns of the settlement table, in order, with their accessor.
pub const COUNT_COLUMNS: [(&str, TallyGetter); 28] = [
    ("premises", |t| t.premises),
    ("households", |t| t.households),
    ("workplaces", |t| t.workplaces),
    ("fibre_passed", |t| t.fibre_passed),
    ("fibre_2plus_networks", |t| t.fibre_2plus_networks),
    ("mobile_4g", |t| t.mobile_4g),
    ("mobile_4g_2plus_operators", |t| t.mobile_4g_2plus_operators),
    ("mobile_4g_single_operator", |t| t.mobile_4g_single_operator),
    ("mobile_5g", |t| t.mobile_5g),
    ("unserved", |t| t.unserved),
    ("households_fibre_passed", |t| t.households_fibre_passed),
    ("workplaces_fibre_passed", |t| t.workplaces_fibre_passed),
    ("households_unserved", |t| t.households_unserved),
    ("gap_clusters", |t| t.gap_clusters),
    ("unserved_clusters", |t| t.unserved_clusters),
    ("households_mobile_4g", |t| t.households_mobile_4g),
    ("workplaces_mobile_4g", |t| t.workplaces_mobile_4g),
    ("households_mobile_5g", |t| t.households_mobile_5g),
    ("workplaces_mobile_5g", |t| t.workplaces_mobile_5g),
    ("at_100_mbps", |t| t.at_100_mbps),
    ("households_100_mbps", |t| t.households_100_mbps),
    ("workplaces_100_mbps", |t| t.workplaces_100_mbps),
    ("aid_white", |t| t.aid_white),
    ("aid_grey", |t| t.aid_grey),
    ("aid_black", |t| t.aid_black),
    ("households_aid_white", |t| t.households_aid_white),
    ("households_aid_grey", |t| t.households_aid_grey),
    ("households_aid_black", |t| t.households_aid_black),
];

/// `share_*` columns: a premise count divided by the settlement's premises.
pub const SHARE_COLUMNS: [(&str, TallyGetter); 10] = [
    ("share_fibre_passed", |t| t.fibre_passed),
    ("share_fibre_2plus_networks", |t| t.fibre_2plus_networks),
    ("share_mobile_4g", |t| t.mobile_4g),
    ("share_mobile_4g_2plus_operators", |t| {
        t.mobile_4g_2plus_operators
    }),
    ("share_mobile_5g", |t| t.mobile_5g),
    ("share_unserved", |t| t.unserved),
    ("share_at_100_mbps", |t| t.at_100_mbps),
    ("share_aid_white", |t| t.aid_white),
    ("share_aid_grey", |t| t.aid_grey),
    ("share_aid_black", |t| t.aid_black),
];

/// `part / premises`, or `None` when there are no premises.
pub fn share(part: u64, premises: u64) -> Option<f64> {
    (premises > 0).then(|| part as f64 / premises as f64)
}

/// The metric columns of any area table (settlements, grid cells, regions), one value per
/// tally: the counts, the shares of premises, the area's state-aid class and, per goal, its
/// share, whether it is met and the premises and households still missing.
pub fn metric_columns(
    tallies: &[Tally],
    goals: &[Goal],
    rule: AreaClassRule,
) -> Vec<(String, FColumn<'static>)> {
    let mut cols = Vec::new();
    for (name, get) in COUNT_COLUMNS.iter() {
        cols.push((
            name.to_string(),
            FColumn::Int(tallies.iter().map(|t| get(t) as i64).collect()),
        ));
    }
    for (name, get) in SHARE_COLUMNS.iter() {
        cols.push((
            name.to_string(),
            FColumn::Float(tallies.iter().map(|t| share(get(t), t.premises)).collect()),
        ));
    }
    cols.push((
        "aid_class".to_string(),
        FColumn::Text(
            tallies
                .iter()
                .map(|t| {
                    rule.class(t.aid_white, t.aid_grey, t.aid_black)
                        .map(|c| Cow::Borrowed(c.as_str()))
                })
                .collect(),
        ),
    ));
    for g in goals {
        let st: Vec<_> = tallies.iter().map(|t| g.status(t)).collect();
        let p = format!("goal_{}", g.name);
        cols.push((
            format!("{p}_share"),
            FColumn::Float(st.iter().map(|s| s.share).collect()),
        ));
        cols.push((
            format!("{p}_met"),
            FColumn::Int(st.iter().map(|s| i64::from(s.met)).collect()),
        ));
        cols.push((
            format!("{p}_missing_premises"),
            FColumn::Int(st.iter().map(|s| s.missing_premises as i64).collect()),
        ));
        cols.push((
            format!("{p}_missing_households"),
            FColumn::Int(st.iter().map(|s| s.missing_households as i64).collect()),
        ));
    }
    cols
}

/// One row per settlement plus the rural row (empty id), with [`metric_columns`].
///
/// `tallies` has one more entry than `ids`: the rural area.
pub fn settlements_frame(
    ids: &[String],
    names: &[String],
    tallies: &[Tally],
    goals: &[Goal],
    rule: AreaClassRule,
) -> Result<DataFrame> {
    // The settlements' columns with the rural row's values appended.
    fn text<'a>(v: &'a [String], rural: &'static str) -> FColumn<'a> {
        FColumn::Text(
            v.iter()
                .map(|s| Some(Cow::Borrowed(s.as_str())))
                .chain(std::iter::once(Some(Cow::Borrowed(rural))))
                .collect(),
        )
    }
    let mut cols = vec![
        ("settlement_id".to_string(), text(ids, "")),
        ("settlement_name".to_string(), text(names, "(rural)")),
    ];
    cols.extend(metric_columns(tallies, goals, rule));
    frame_from_columns(&cols).map_err(|e| IoError::Write {
        path: "settlements".into(),
        message: e.to_string(),
    })
}

/// The settlement table's columns for the map layers: one value per settlement (no rural row).
pub fn settlement_columns<'a>(
    ids: &'a [String],
    names: &'a [String],
    tallies: &[Tally],
    goals: &[Goal],
    rule: AreaClassRule,
) -> Vec<(String, FColumn<'a>)> {
    let n = ids.len();
    let text = |v: &'a [String]| {
        FColumn::Text(v.iter().map(|s| Some(Cow::Borrowed(s.as_str()))).collect())
    };
    let mut cols = vec![
        ("settlement_id".to_string(), text(ids)),
        ("settlement_name".to_string(), text(names)),
    ];
    cols.extend(metric_columns(&tallies[..n], goals, rule));
    cols
}

/// `df` with `extra` columns appended (each as long as `df`).
pub fn with_columns(
    df: DataFrame,
    extra: &[(String, crate::write::features::Column<'_>)],
) -> Result<DataFrame> {
    hstack(df, &frame_from_columns(extra)?)
}

/// Per-premise outcomes for the premise table.
pub struct PremiseRows<'a> {
    /// Premise ids.
    pub ids: &'a PremiseIds,
    /// Positions, in the working CRS.
    pub xy: &'a [Coord<f64>],
    /// Settlement ids.
    pub settlement_ids: &'a [String],
    /// Per premise: its settlement.
    pub settlement: &'a [Option<u32>],
    /// Households per premise.
    pub households: &'a [u32],
    /// Workplaces per premise.
    pub workplaces: &'a [u32],
    /// Persons per premise, when a population was spread onto them (column `persons`,
    /// after `workplaces`).
    pub persons: Option<&'a [u32]>,
    /// `None` when no fibre layer was given (distances are then null).
    pub fibre: Option<&'a [FibreReach]>,
    /// Per premise: 4G and 5G operators.
    pub mobile: &'a [MobileCover],
    /// Each premise's outcome (fibre passed, aid networks, 100 Mbit/s).
    pub outcomes: &'a [Outcome],
    /// Per premise: its gap kind.
    pub gap_kind: &'a [Option<GapKind>],
    /// Per premise: its gap cluster.
    pub gap_id: &'a [Option<u32>],
    /// With the resilience analysis: each premise's class (`None` when on no fibre link).
    pub fibre_redundancy: Option<&'a [Option<gapmap_core::resilience::RedundancyClass>]>,
}

/// One row per premise of `rows`: `premise_id, x, y, settlement_id, fibre_distance_m,
/// fibre_networks, mobile_4g_operators, mobile_5g_operators, unserved`, then `fibre_passed,
/// households, workplaces, [persons,] gap_kind, gap_id, aid_networks, aid_class, at_100_mbps`.
pub fn premises_frame(r: &PremiseRows<'_>, rows: std::ops::Range<usize>) -> Result<DataFrame> {
    let n = rows.len();
    let xy = &r.xy[rows.clone()];
    let settlement = &r.settlement[rows.clone()];
    let fibre = r.fibre.map(|f| &f[rows.clone()]);
    let mobile = &r.mobile[rows.clone()];
    let outcomes = &r.outcomes[rows.clone()];
    let households = &r.households[rows.clone()];
    let workplaces = &r.workplaces[rows.clone()];
    let gap_kind = &r.gap_kind[rows.clone()];
    let gap_id = &r.gap_id[rows.clone()];
    let redundancy = r.fibre_redundancy.map(|c| &c[rows.clone()]);
    let none = FibreReach::NONE;
    let fib = |i: usize| fibre.map_or(&none, |f| &f[i]);
    let id_col = match r.ids {
        PremiseIds::Int(v) => Column::new("premise_id".into(), &v[rows.clone()]),
        PremiseIds::Str(v) => Column::new("premise_id".into(), &v[rows.clone()]),
    };
    let mut cols = vec![
        id_col,
        Column::new("x".into(), xy.iter().map(|c| c.x).collect::<Vec<f64>>()),
        Column::new("y".into(), xy.iter().map(|c| c.y).collect::<Vec<f64>>()),
        coded_text_column(
            "settlement_id",
            &r.settlement_ids
                .iter()
                .map(String::as_str)
                .chain([""])
                .collect::<Vec<&str>>(),
            settlement
                .iter()
                .map(|s| Some(s.unwrap_or(r.settlement_ids.len() as u32))),
        )?,
        Column::new(
            "fibre_distance_m".into(),
            (0..n)
                .map(|i| Some(fib(i).distance_m).filter(|d| d.is_finite()))
                .collect::<Vec<Option<f64>>>(),
        ),
        Column::new(
            "fibre_networks".into(),
            (0..n).map(|i| fib(i).networks).collect::<Vec<u32>>(),
        ),
        Column::new(
            "mobile_4g_operators".into(),
            mobile.iter().map(|m| m.count_4g()).collect::<Vec<u32>>(),
        ),
        Column::new(
            "mobile_5g_operators".into(),
            mobile.iter().map(|m| m.count_5g()).collect::<Vec<u32>>(),
        ),
        Column::new(
            "unserved".into(),
            (0..n)
                .map(|i| outcomes[i].unserved())
                .collect::<Vec<bool>>(),
        ),
        Column::new(
            "fibre_passed".into(),
            (0..n)
                .map(|i| outcomes[i].fibre_passed)
                .collect::<Vec<bool>>(),
        ),
        Column::new("households".into(), households),
        Column::new("workplaces".into(), workplaces),
    ];
    if let Some(p) = r.persons {
        cols.push(Column::new("persons".into(), &p[rows.clone()]));
    }
    cols.extend([
        coded_text_column(
            "gap_kind",
            &GAP_KINDS.map(GapKind::as_str),
            gap_kind.iter().map(|k| k.map(|k| code_of(&GAP_KINDS, &k))),
        )?,
        Column::new("gap_id".into(), gap_id),
        Column::new(
            "aid_networks".into(),
            outcomes
                .iter()
                .map(|o| u32::from(o.aid_networks))
                .collect::<Vec<u32>>(),
        ),
        coded_text_column(
            "aid_class",
            &AID_CLASSES.map(AidClass::as_str),
            outcomes
                .iter()
                .map(|o| Some(code_of(&AID_CLASSES, &o.aid_class()))),
        )?,
        Column::new(
            "at_100_mbps".into(),
            outcomes
                .iter()
                .map(|o| o.at_100_mbps)
                .collect::<Vec<bool>>(),
        ),
    ]);
    if let Some(classes) = redundancy {
        cols.push(Column::new(
            "fibre_redundancy_class".into(),
            classes
                .iter()
                .map(|c| c.map(|c| c.as_str()))
                .collect::<Vec<Option<&str>>>(),
        ));
    }
    DataFrame::new(n, cols).map_err(|e| IoError::Write {
        path: "premises".into(),
        message: e.to_string(),
    })
}

/// Every gap kind and every state-aid class: the distinct values of their text columns.
const GAP_KINDS: [GapKind; 3] = [GapKind::Unserved, GapKind::NoFibre, GapKind::No4g];
const AID_CLASSES: [AidClass; 3] = [AidClass::White, AidClass::Grey, AidClass::Black];

/// The position of `v` in `all`, as a code for [`coded_text_column`] (one past the end when
/// missing, which that function reports as an error).
fn code_of<T: PartialEq>(all: &[T], v: &T) -> u32 {
    all.iter().position(|x| x == v).unwrap_or(all.len()) as u32
}

/// A text column whose rows take their values from a few distinct strings: row `i` is
/// `distinct[code_i]`, or null. Built as Arrow's Utf8View directly: each row is a 16-byte
/// view, and the distinct strings longer than a view are stored once, in one shared buffer,
/// not once per row.
fn coded_text_column(
    name: &str,
    distinct: &[&str],
    codes: impl ExactSizeIterator<Item = Option<u32>>,
) -> Result<Column> {
    use polars_arrow::array::{Utf8ViewArray, View};
    use polars_arrow::bitmap::MutableBitmap;
    use polars_buffer::Buffer;
    let err = |message: String| IoError::Write {
        path: name.into(),
        message,
    };
    let mut shared: Vec<u8> = Vec::new();
    let mut views_of: Vec<View> = Vec::with_capacity(distinct.len());
    for s in distinct {
        let offset = u32::try_from(shared.len()).map_err(|e| err(e.to_string()))?;
        let view = View::new_from_bytes(s.as_bytes(), 0, offset);
        if s.len() > View::MAX_INLINE_SIZE as usize {
            shared.extend_from_slice(s.as_bytes());
        }
        views_of.push(view);
    }
    let n = codes.len();
    let mut views = Vec::with_capacity(n);
    let mut validity = MutableBitmap::with_capacity(n);
    for code in codes {
        match code {
            Some(c) => {
                let v = views_of.get(c as usize).ok_or_else(|| {
                    err(format!("code {c} outside the {} values", distinct.len()))
                })?;
                views.push(*v);
                validity.push(true);
            }
            None => {
                views.push(View::default());
                validity.push(false);
            }
        }
    }
    let validity = (validity.unset_bits() > 0).then(|| validity.into());
    let buffers: Buffer<Buffer<u8>> = if shared.is_empty() {
        Buffer::new()
    } else {
        vec![Buffer::from(shared)].into()
    };
    // Check the distinct values' views once (UTF-8, bounds in `shared`), rather than every
    // row's copy of them, which `try_new` would re-validate one by one.
    Utf8ViewArray::try_new(
        polars_arrow::datatypes::ArrowDataType::Utf8View,
        views_of.clone().into(),
        buffers.clone(),
        None,
    )
    .map_err(|e| err(e.to_string()))?;
    // SAFETY: every view is a copy of one of `views_of`, checked just above against the same
    // buffers, or the default (empty, inline) view of a null row; `validity`, when present,
    // has one bit per view.
    let array = unsafe {
        Utf8ViewArray::new_unchecked_unknown_md(
            polars_arrow::datatypes::ArrowDataType::Utf8View,
            views.into(),
            buffers,
            validity,
            None,
        )
    };
    Ok(StringChunked::with_chunk(name.into(), array).into_column())
}

/// Writes CSV with a header.
pub fn write_csv(df: &mut DataFrame, path: &Path) -> Result<()> {
    let mut f = OutputFile::create(path)?;
    CsvWriter::new(&mut f)
        .include_header(true)
        .finish(df)
        .map_err(|e| f.error_for(e))?;
    f.finish()
}

/// Writes Parquet (zstd); `crs` is recorded under the `crs` metadata key when given, so that
/// gapmap can read the file back as premises.
pub fn write_parquet(df: &mut DataFrame, path: &Path, crs: Option<&str>) -> Result<()> {
    let df = &*df;
    write_parquet_groups(df.height(), path, crs, |offset, len| {
        Ok(df.slice(offset as i64, len))
    })
}

/// Like [`write_parquet`] for a table of `n` rows built one row group at a time by
/// `group(offset, len)` (see [`premises_frame`]), so that the whole table is never in memory.
pub fn write_parquet_groups(
    n: usize,
    path: &Path,
    crs: Option<&str>,
    mut group: impl FnMut(usize, usize) -> Result<DataFrame>,
) -> Result<()> {
    let metadata: Vec<(String, String)> = crs
        .map(|c| (CRS_METADATA_KEY.to_string(), c.to_string()))
        .into_iter()
        .collect();
    // An error building a group is returned as it is, with its own context.
    let mut failed: Option<IoError> = None;
    let written = crate::write::parquet::write_groups(n, path, &metadata, |offset, len| {
        group(offset, len)
            .map(|mut df| {
                df.rechunk_mut();
                df
            })
            .map_err(|e| {
                let m = e.to_string();
                failed = Some(e);
                m
            })
    });
    match (written, failed) {
        (Ok(()), _) => Ok(()),
        (Err(_), Some(e)) => Err(e),
        (Err(m), None) => Err(werr(path, m)),
    }
}

/// `df` with the columns of `more` (same height) appended.
pub fn hstack(df: DataFrame, more: &DataFrame) -> Result<DataFrame> {
    df.hstack(more.columns()).map_err(|e| IoError::Write {
        path: "table".into(),
        message: e.to_string(),
    })
}

/// A premise input table: `id, x, y, households, workplaces` (what `gapmap synth` writes and
/// `gapmap analyze` reads).
pub fn premise_input_frame(
    ids: &[i64],
    xy: &[Coord<f64>],
    households: &[u32],
    workplaces: &[u32],
) -> Result<DataFrame> {
    let cols = vec![
        Column::new("id".into(), ids),
        Column::new("x".into(), xy.iter().map(|c| c.x).collect::<Vec<f64>>()),
        Column::new("y".into(), xy.iter().map(|c| c.y).collect::<Vec<f64>>()),
        Column::new("households".into(), households),
        Column::new("workplaces".into(), workplaces),
    ];
    DataFrame::new(xy.len(), cols).map_err(|e| IoError::Write {
        path: "premises".into(),
        message: e.to_string(),
    })
}

/// A table from typed columns of equal length.
pub fn frame_from_columns(
    columns: &[(String, crate::write::features::Column<'_>)],
) -> Result<DataFrame> {
    use crate::write::features::Column as C;
    let n = columns.first().map_or(0, |c| c.1.len());
    let cols: Vec<Column> = columns
        .iter()
        .map(|(name, c)| match c {
            C::Int(v) => Column::new(name.into(), v.as_slice()),
            C::IntOpt(v) => Column::new(name.into(), v.as_slice()),
            C::Float(v) => Column::new(name.into(), v.as_slice()),
            C::Text(v) => Column::new(
                name.into(),
                v.iter()
                    .map(|s| s.as_deref())
                    .collect::<Vec<Option<&str>>>(),
            ),
        })
        .collect();
    DataFrame::new(n, cols).map_err(|e| IoError::Write {
        path: "table".into(),
        message: e.to_string(),
    })
}

/// Typed columns with their names.
pub type NamedColumns = Vec<(String, FColumn<'static>)>;

/// The columns of a table as typed columns for the database writer: integers (and booleans,
/// as 0/1, whose names are returned too) as `Int`/`IntOpt`, reals as `Float`, anything else as
/// text, nulls kept.
pub fn columns_from_frame(df: &DataFrame) -> Result<(NamedColumns, Vec<String>)> {
    let err = |name: &str, e: PolarsError| IoError::Write {
        path: name.into(),
        message: e.to_string(),
    };
    let mut columns = Vec::with_capacity(df.width());
    let mut booleans = Vec::new();
    for c in df.columns() {
        let name = c.name().to_string();
        let s = c.as_materialized_series();
        let dtype = s.dtype();
        let column = if dtype.is_bool() || dtype.is_integer() {
            if dtype.is_bool() {
                booleans.push(name.clone());
            }
            let cast = s.cast(&DataType::Int64).map_err(|e| err(&name, e))?;
            let v = cast.i64().map_err(|e| err(&name, e))?;
            if v.null_count() == 0 {
                FColumn::Int(v.into_no_null_iter().collect())
            } else {
                FColumn::IntOpt(v.iter().collect())
            }
        } else if dtype.is_float() {
            let cast = s.cast(&DataType::Float64).map_err(|e| err(&name, e))?;
            FColumn::Float(cast.f64().map_err(|e| err(&name, e))?.iter().collect())
        } else {
            let cast = s.cast(&DataType::String).map_err(|e| err(&name, e))?;
            FColumn::Text(
                cast.str()
                    .map_err(|e| err(&name, e))?
                    .iter()
                    .map(|v| v.map(|t| Cow::Owned(t.to_string())))
                    .collect(),
            )
        };
        columns.push((name, column));
    }
    Ok((columns, booleans))
}
