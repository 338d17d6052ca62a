//! Reading one PostgreSQL table over several connections at once.
//!
//! GDAL's PostgreSQL driver reads a table through one cursor, feature by feature: the client
//! parses a page of rows while the server waits, then the server makes the next page while the
//! client waits. Cut into ranges of heap pages (`ctid` ranges, which PostgreSQL 14 and later
//! scan directly, as DuckDB's PostgreSQL scanner does), the table is read by one connection per
//! range at once, and the ranges, taken in order, give the rows in the order of one sequential
//! scan: the order of the single cursor.
//!
//! The connections read one snapshot of the table, as `pg_dump --jobs` does: a first
//! connection opens a repeatable-read transaction and exports its snapshot
//! (`pg_export_snapshot`), and every range's connection imports it (`SET TRANSACTION
//! SNAPSHOT`) before its cursor; all of them are opened before any range is read, and a
//! connection or snapshot the server refuses leaves the table to one cursor. A row changed by another session while the ranges are read
//! is then seen by none or by all of them, as by one cursor, never twice or not at all.

use std::path::Path;

use gdal::vector::LayerAccess;
use gdal::Dataset;

use super::vector::{open_source, ReadContext, VectorLayer};
use crate::error::{IoError, Result};
use crate::gdal_errors::gdal_reason;
use crate::write::sql::{quote_ident, quote_literal};

/// Heap pages (8 KiB each by default) a range must have at least: below this, the connections
/// cost more than they save. 512 pages hold about 50,000 premise points.
pub(crate) const MIN_PAGES_PER_RANGE: i64 = 512;

/// One range of a table's heap pages: its attribute filter on `ctid`, and a connection of its
/// own, in a transaction that reads the snapshot every range reads.
pub(crate) struct Range {
    pub filter: String,
    pub connection: Dataset,
}

/// The table behind `layer` cut into up to `k` ranges of heap pages, in order (the first
/// from page 0, the last open-ended, so that they cover every row whatever the table holds by
/// the time they are read), each with a connection that has imported the snapshot they all
/// read. `None` when the layer is not worth cutting or cannot be: another driver, no FID
/// column (a feature's place in its range would not tell its place in the table), not an
/// ordinary table or materialised view, a server before PostgreSQL 14 (each range would scan
/// the whole table), fewer than [`MIN_PAGES_PER_RANGE`] pages per range, or a connection or
/// snapshot the server refuses (a connection limit, a standby server): the layer is then read
/// through one cursor.
pub(crate) fn heap_ranges(layer: &VectorLayer, k: usize) -> Option<Vec<Range>> {
    if k < 2 || layer.driver != "PostgreSQL" || layer.fid_column.is_none() {
        return None;
    }
    let exporter = connect(&layer.path)?;
    let filters = page_ranges(table_pages(&exporter, &layer.name)?, k)?;
    execute(&exporter, "BEGIN ISOLATION LEVEL REPEATABLE READ").ok()?;
    let mut rows = exporter
        .execute_sql(
            "SELECT pg_export_snapshot()",
            None,
            gdal::vector::sql::Dialect::DEFAULT,
        )
        .ok()??;
    let snapshot = rows.features().next()?.field_as_string(0).ok()??;
    drop(rows);
    // Imported while the exporting transaction is open; once imported, each transaction
    // keeps the snapshot, and the exporter can go.
    filters
        .into_iter()
        .map(|filter| {
            let connection = connect(&layer.path)?;
            execute(&connection, "BEGIN ISOLATION LEVEL REPEATABLE READ").ok()?;
            execute(
                &connection,
                &format!("SET TRANSACTION SNAPSHOT {}", quote_literal(&snapshot)),
            )
            .ok()?;
            Some(Range { filter, connection })
        })
        .collect()
}

/// Runs a statement that returns no rows on the connection `ds`.
fn execute(ds: &Dataset, sql: &str) -> std::result::Result<(), String> {
    ds.execute_sql(sql, None, gdal::vector::sql::Dialect::DEFAULT)
        .map(|_| ())
        .map_err(|e| gdal_reason(&e.to_string(), "PostgreSQL refused it"))
}

/// A connection of its own to the data source `path`.
fn connect(path: &Path) -> Option<Dataset> {
    open_source(path).ok().map(|(ds, _)| ds)
}

/// `pages` heap pages cut into up to `k` ranges of at least [`MIN_PAGES_PER_RANGE`] pages,
/// as `ctid` filters: the first from page 0, the last open-ended.
fn page_ranges(pages: i64, k: usize) -> Option<Vec<String>> {
    let k = (k as i64).min(pages / MIN_PAGES_PER_RANGE);
    if k < 2 {
        return None;
    }
    let at = |j: i64| pages * j / k;
    Some(
        (0..k)
            .map(|j| match j {
                0 => format!("ctid < '({},0)'::tid", at(1)),
                j if j == k - 1 => format!("ctid >= '({},0)'::tid", at(j)),
                j => format!(
                    "ctid >= '({},0)'::tid AND ctid < '({},0)'::tid",
                    at(j),
                    at(j + 1)
                ),
            })
            .collect(),
    )
}

/// The heap pages of table `name` (GDAL names a table outside `public` as `schema.table`) on
/// the connection `ds`, when it is an ordinary table or a materialised view on PostgreSQL 14
/// or later. Any failure is `None`: the layer is then read through one cursor, as before.
fn table_pages(ds: &Dataset, name: &str) -> Option<i64> {
    let table = match name.split_once('.') {
        Some((schema, table)) => format!("{}.{}", quote_ident(schema), quote_ident(table)),
        None => quote_ident(name),
    };
    let sql = format!(
        "SELECT c.relkind::text AS kind, \
         (pg_relation_size(c.oid) / current_setting('block_size')::bigint)::bigint AS pages, \
         current_setting('server_version_num')::int AS version \
         FROM pg_class c WHERE c.oid = to_regclass({})",
        quote_literal(&table)
    );
    let mut rows = ds
        .execute_sql(&sql, None, gdal::vector::sql::Dialect::DEFAULT)
        .ok()??;
    let row = rows.features().next()?;
    let kind = row.field_as_string(0).ok()??;
    let pages = row.field_as_integer64(1).ok()??;
    let version = row.field_as_integer(2).ok()??;
    (matches!(kind.as_str(), "r" | "m") && version >= 140_000).then_some(pages)
}

/// Reads each of `ranges` of layer `name` of `path` (a layer [`heap_ranges`] cut) with
/// `read`, every range on a thread and its own connection at once, keeping only the rows
/// `filter` (the role's `--*-where`) selects. What `read` gave, in the ranges' order; an error
/// is the first in that order, the one a single cursor would have met first.
pub(crate) fn read_ranges<T: Send>(
    ranges: Vec<Range>,
    path: &Path,
    name: &str,
    layer_flag: &str,
    filter: Option<&str>,
    ctx: &ReadContext,
    read: impl Fn(&mut VectorLayer) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    // GDAL's CRS objects stay on their thread: each range's thread makes its own context.
    let portable = ctx.portable();
    let (portable, read) = (&portable, &read);
    let parts: Vec<Result<T>> = std::thread::scope(|s| {
        let reads: Vec<_> = ranges
            .into_iter()
            .map(|range| {
                s.spawn(move || -> Result<T> {
                    let ctx = portable.context()?;
                    let mut part = open_range(range, path, name, layer_flag, filter, &ctx)?;
                    read(&mut part)
                })
            })
            .collect();
        reads
            .into_iter()
            .map(|r| {
                r.join().unwrap_or_else(|_| {
                    Err(IoError::Invalid {
                        path: path.to_path_buf(),
                        layer: name.to_string(),
                        message: "reading a range of its rows failed unexpectedly".into(),
                    })
                })
            })
            .collect()
    });
    parts.into_iter().collect()
}

/// Layer `name` of `path` on the connection of `range`, keeping only the rows of the range
/// among those `filter` selects.
fn open_range(
    range: Range,
    path: &Path,
    name: &str,
    layer_flag: &str,
    filter: Option<&str>,
    ctx: &ReadContext,
) -> Result<VectorLayer> {
    let Range {
        filter: rows,
        connection,
    } = range;
    let mut part = VectorLayer::from_dataset(connection, path, Some(name), layer_flag, ctx, false)?;
    match filter {
        Some(f) => part.set_range_filter(&format!("({f}) AND {rows}"), true)?,
        None => part.set_range_filter(&rows, false)?,
    }
    Ok(part)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_start_at_page_0_meet_and_leave_the_end_open() {
        assert_eq!(
            page_ranges(2048, 2).unwrap(),
            ["ctid < '(1024,0)'::tid", "ctid >= '(1024,0)'::tid"]
        );
        assert_eq!(
            page_ranges(5000, 3).unwrap(),
            [
                "ctid < '(1666,0)'::tid",
                "ctid >= '(1666,0)'::tid AND ctid < '(3333,0)'::tid",
                "ctid >= '(3333,0)'::tid",
            ]
        );
    }

    #[test]
    fn small_tables_are_not_cut() {
        assert_eq!(page_ranges(1023, 2), None);
        assert_eq!(page_ranges(100_000, 1), None);
        assert_eq!(page_ranges(0, 8), None);
        // As many ranges as the pages allow.
        assert_eq!(
            page_ranges(3 * MIN_PAGES_PER_RANGE, 8).map(|r| r.len()),
            Some(3)
        );
    }
}
