//! Results into PostGIS (`--out-db PG:...`): each output a table with a primary key (`fid`)
//! and a spatial index, QGIS styles in `public.layer_styles`, all or nothing.
//!
//! A run writes its tables into a staging schema of its own (COPY, through GDAL's PostgreSQL
//! driver), then moves them into the target schema in one transaction, which also drops the
//! tables of the earlier run of the same command. A failure or a kill at any point before that
//! transaction commits leaves the earlier tables as they were; the next run drops the
//! leftover staging schema.
//!
//! Which tables gapmap may replace is recorded in the schema itself: each command writes a
//! `<command>_run` table (one row: the run record and the list of tables written). A table of
//! the target schema that no such record lists is never dropped: a run that would replace one
//! is refused, as is a run over an earlier one without `--overwrite`. A session advisory lock
//! on the schema keeps two runs from writing it at once.

use std::collections::BTreeSet;
use std::ops::Range;

use gdal::vector::sql::Dialect;
use gdal::vector::{LayerAccess, LayerOptions};
use gdal::{Dataset, DatasetOptions, GdalOpenFlags};

use crate::crs::Crs;
use crate::error::{IoError, Result};
use crate::gdal_errors::{clean_gdal_message, init_gdal};
use crate::read::mask_secrets;
use crate::write::features::{Column, FeatureTable, GeomRef};
use crate::write::gpkg::{create_fields, write_features};
pub use crate::write::sql::{quote_ident, quote_literal};

/// Where results go: a PostgreSQL data source (`PG:...`) and a schema in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbTarget {
    /// The GDAL data source name, `PG:` and a libpq connection string (`service=...`,
    /// `dbname=... host=...`; a password is better kept in `~/.pgpass`).
    pub dsn: String,
    /// The schema the tables go into (made when missing).
    pub schema: String,
}

impl DbTarget {
    /// A target, checked: the data source must be `PG:`, the schema a name PostgreSQL takes
    /// (1 to 63 bytes, no NUL; it is quoted everywhere, so any other character will do).
    pub fn new(dsn: &str, schema: &str) -> Result<DbTarget> {
        if !dsn.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("PG:")) {
            return Err(IoError::DbUsage {
                target: mask_secrets(dsn),
                message: "--out-db takes a PostgreSQL data source: PG: and a connection string, e.g. \"PG:service=region\" or \"PG:dbname=gis host=db.example.se\"".into(),
            });
        }
        if schema.is_empty() || schema.len() > 63 || schema.contains('\0') {
            return Err(IoError::DbUsage {
                target: mask_secrets(dsn),
                message: format!(
                    "--db-schema '{schema}' is not a PostgreSQL schema name (1 to 63 bytes)"
                ),
            });
        }
        Ok(DbTarget {
            dsn: dsn.to_string(),
            schema: schema.to_string(),
        })
    }

    /// The data source with any password masked, for messages and records.
    pub fn masked(&self) -> String {
        mask_secrets(&self.dsn)
    }
}

/// Rows of a table to write: typed columns and, per row, a geometry (or none).
#[derive(Debug, Default)]
pub struct DbChunk<'a> {
    /// Named columns, in order, each with one value per row.
    pub columns: Vec<(String, Column<'a>)>,
    /// One geometry per row (`None`: the row has none, e.g. the rural row of the settlement
    /// table). Empty for a table without geometry.
    pub geometries: Vec<Option<GeomRef<'a>>>,
}

/// Makes rows `range` of a table.
pub type ChunkFn<'a> = Box<dyn Fn(Range<usize>) -> Result<DbChunk<'a>> + 'a>;

/// One table to write.
pub struct DbTable<'a> {
    /// Its name in the schema.
    pub name: String,
    /// OGR geometry type (`wkbNone` for a table without geometry).
    pub geometry_type: gdal_sys::OGRwkbGeometryType::Type,
    /// Its number of rows.
    pub rows: usize,
    /// Its rows, made and written a chunk at a time (the premise table is large).
    pub chunk: ChunkFn<'a>,
    /// Columns written as integers 0/1 that are booleans (made `boolean` in the database).
    pub booleans: Vec<String>,
    /// Text columns holding JSON (made `jsonb`).
    pub json: Vec<String>,
    /// The QGIS style (QML), stored in `public.layer_styles` as the layer's default.
    pub qml: Option<String>,
}

impl<'a> DbTable<'a> {
    /// A table of the rows of `table`, every one with its geometry.
    pub fn of_features(
        name: &str,
        geometry_type: gdal_sys::OGRwkbGeometryType::Type,
        table: &'a FeatureTable<'a>,
        qml: Option<String>,
    ) -> DbTable<'a> {
        DbTable {
            name: name.to_string(),
            geometry_type,
            rows: table.len(),
            chunk: Box::new(move |r: Range<usize>| {
                Ok(DbChunk {
                    columns: table
                        .columns
                        .iter()
                        .map(|(n, c)| (n.clone(), slice_column(c, r.clone())))
                        .collect(),
                    geometries: table.geometries[r].iter().cloned().map(Some).collect(),
                })
            }),
            booleans: Vec::new(),
            json: Vec::new(),
            qml,
        }
    }
}

/// Rows `r` of a column.
pub fn slice_column<'a>(c: &Column<'a>, r: Range<usize>) -> Column<'a> {
    match c {
        Column::Int(v) => Column::Int(v[r].to_vec()),
        Column::IntOpt(v) => Column::IntOpt(v[r].to_vec()),
        Column::Float(v) => Column::Float(v[r].to_vec()),
        Column::Text(v) => Column::Text(v[r].to_vec()),
    }
}

/// What a command writes into the database.
pub struct DbWrite<'w, 't> {
    /// Where.
    pub target: &'w DbTarget,
    /// The command (`analyze`, `grid`...): its record is the table `<command>_run`.
    pub command: &'w str,
    /// The CRS of the geometries.
    pub crs: &'w Crs,
    /// The tables, in order.
    pub tables: Vec<DbTable<'t>>,
    /// The run record (run.json), kept in `<command>_run`.
    pub run_json: String,
    /// Replace the tables of an earlier run of the command.
    pub overwrite: bool,
    /// Commands whose tables are made from this one's (`grid` and `prioritise` from
    /// `analyze`): their tables, which the new results would contradict, are dropped too.
    pub derived: &'w [&'w str],
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbWritten {
    /// The tables, schema-qualified, in the order written (the run record last).
    pub tables: Vec<String>,
    /// What the user should know (e.g. styles that could not be stored).
    pub notices: Vec<String>,
}

/// The name of a command's record table.
pub fn run_table(command: &str) -> String {
    format!("{command}_run")
}

/// An open connection to the target.
struct Conn<'t> {
    ds: Dataset,
    target: &'t DbTarget,
}

impl<'t> Conn<'t> {
    /// Connects, in update mode, and checks that PostGIS is there.
    fn open(target: &'t DbTarget) -> Result<Conn<'t>> {
        init_gdal();
        let ds = Dataset::open_ex(
            &target.dsn,
            DatasetOptions {
                open_flags: GdalOpenFlags::GDAL_OF_VECTOR | GdalOpenFlags::GDAL_OF_UPDATE,
                allowed_drivers: Some(&["PostgreSQL"]),
                ..Default::default()
            },
        )
        .map_err(|e| IoError::DbOpen {
            target: target.masked(),
            message: reason(&e.to_string()),
        })?;
        let c = Conn { ds, target };
        let postgis = c
            .query("SELECT count(*) FROM pg_extension WHERE extname = 'postgis'")
            .map_err(|e| c.open_error(e))?;
        if postgis.first().and_then(|r| r.first()).map(String::as_str) != Some("1") {
            return Err(c.open_error(
                "PostGIS is not installed in this database (CREATE EXTENSION postgis)".into(),
            ));
        }
        Ok(c)
    }

    fn open_error(&self, message: String) -> IoError {
        open_error(self.target, message)
    }

    /// Runs a statement that returns no rows.
    fn exec(&self, sql: &str) -> std::result::Result<(), String> {
        self.ds
            .execute_sql(sql, None, Dialect::DEFAULT)
            .map(|_| ())
            .map_err(|e| reason(&e.to_string()))
    }

    /// Runs a query; every value as text (`""` for null).
    fn query(&self, sql: &str) -> std::result::Result<Vec<Vec<String>>, String> {
        let rs = self
            .ds
            .execute_sql(sql, None, Dialect::DEFAULT)
            .map_err(|e| reason(&e.to_string()))?;
        let Some(mut rs) = rs else {
            return Ok(Vec::new());
        };
        let n = rs.defn().fields().count();
        let mut rows = Vec::new();
        for f in rs.features() {
            rows.push(
                (0..n)
                    .map(|k| f.field_as_string(k).ok().flatten().unwrap_or_default())
                    .collect(),
            );
        }
        Ok(rows)
    }

    /// The tables of `schema`.
    fn tables_of(&self, schema: &str) -> std::result::Result<BTreeSet<String>, String> {
        Ok(self
            .query(&format!(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = {}",
                quote_literal(schema)
            ))?
            .into_iter()
            .filter_map(|r| r.into_iter().next())
            .collect())
    }

    /// The tables the record of `command` in the target schema lists (with the record),
    /// or `None` when there is no record.
    fn recorded(
        &self,
        existing: &BTreeSet<String>,
        command: &str,
    ) -> std::result::Result<Option<BTreeSet<String>>, String> {
        let record = run_table(command);
        if !existing.contains(&record) {
            return Ok(None);
        }
        let rows = self.query(&format!(
            "SELECT tables FROM {}.{}",
            quote_ident(&self.target.schema),
            quote_ident(&record)
        ))?;
        let mut listed: BTreeSet<String> = rows
            .iter()
            .flat_map(|r| r.iter())
            .flat_map(|t| t.split(','))
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect();
        listed.insert(record);
        Ok(Some(listed))
    }
}

fn open_error(target: &DbTarget, message: String) -> IoError {
    IoError::DbOpen {
        target: target.masked(),
        message,
    }
}

fn write_error(target: &DbTarget, message: String) -> IoError {
    IoError::DbWrite {
        target: target.masked(),
        schema: target.schema.clone(),
        message: mask_secrets(&message),
    }
}

/// GDAL's message, cleaned (on one line, without libpq's "PQconnectdb failed."), masked;
/// never empty.
fn reason(message: &str) -> String {
    let m = clean_gdal_message(message);
    let lines: Vec<&str> = m
        .trim()
        .trim_matches('\'')
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && *l != "PQconnectdb failed.")
        .collect();
    if lines.is_empty() {
        "GDAL gave no reason".into()
    } else {
        mask_secrets(&lines.join("; ").replace("  ", " "))
    }
}

/// What the tables of a run would replace: `Ok(tables to drop)`, or the refusal.
fn plan_replacement(
    c: &Conn<'_>,
    command: &str,
    overwrite: bool,
    derived: &[&str],
    names: &[String],
) -> Result<BTreeSet<String>> {
    let target = c.target;
    let schema = &target.schema;
    let existing = c.tables_of(schema).map_err(|m| c.open_error(m))?;
    let mut drop = BTreeSet::new();
    match c.recorded(&existing, command).map_err(|m| c.open_error(m))? {
        Some(_) if !overwrite => {
            return Err(IoError::DbExists {
                target: target.masked(),
                schema: schema.clone(),
                message: format!(
                    "holds the results of an earlier gapmap {} (table {}); pass --overwrite to replace them",
                    command,
                    run_table(command)
                ),
            })
        }
        Some(listed) => drop.extend(listed),
        None => {}
    }
    for d in derived {
        if let Some(listed) = c.recorded(&existing, d).map_err(|m| c.open_error(m))? {
            drop.extend(listed);
        }
    }
    for n in names {
        if existing.contains(n) && !drop.contains(n) {
            return Err(IoError::DbExists {
                target: target.masked(),
                schema: schema.clone(),
                message: format!(
                    "has a table {n} that gapmap did not write (no gapmap run record lists it); gapmap never replaces it: drop or rename it, or choose another --db-schema"
                ),
            });
        }
    }
    Ok(drop.intersection(&existing).cloned().collect())
}

/// Checks, before any work, that `w` could be written: the database can be reached, has
/// PostGIS, and holds no table the run may not replace.
pub fn check_db_target(
    target: &DbTarget,
    command: &str,
    tables: &[&str],
    overwrite: bool,
) -> Result<()> {
    let c = Conn::open(target)?;
    let names: Vec<String> = tables
        .iter()
        .map(|t| t.to_string())
        .chain([run_table(command)])
        .collect();
    plan_replacement(&c, command, overwrite, &[], &names).map(|_| ())
}

/// A pause after each table staged, from `GAPMAP_TEST_DB_PAUSE_MS`: a fault injection hook
/// that widens the window in which the kill test (crates/gapmap-cli/tests/postgis.rs) stops a
/// run mid-write. Unset, there is none.
fn test_pause() {
    if let Some(pause) = crate::write::staging::env_pause("GAPMAP_TEST_DB_PAUSE_MS") {
        std::thread::sleep(pause);
    }
}

/// Rows per chunk of a large table.
const CHUNK_ROWS: usize = 65_536;

/// The staging schema of a run of `command` into `schema` (63 bytes at most).
fn staging_schema(command: &str, schema: &str) -> String {
    // FNV-1a of the schema name: distinct schemas get distinct staging schemas.
    let h = schema.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("gapmap_staging_{command}_{h:016x}")
}

/// Writes the tables of `w` into the target (see the module's documentation).
pub fn write_db(w: DbWrite<'_, '_>) -> Result<DbWritten> {
    let target = w.target;
    let mut c = Conn::open(target)?;
    let schema = target.schema.clone();
    let werr = |m: String| write_error(target, m);
    // One run at a time per schema; the lock goes with the session (and with a killed run).
    let lock = format!(
        "SELECT pg_try_advisory_lock(hashtext({}))",
        quote_literal(&format!("gapmap schema {schema}"))
    );
    let got = c.query(&lock).map_err(werr)?;
    if got.first().and_then(|r| r.first()).map(String::as_str) != Some("1") {
        return Err(werr(
            "another gapmap run is writing into this schema; try again when it is done".into(),
        ));
    }
    let record = run_table(w.command);
    let mut names: Vec<String> = w.tables.iter().map(|t| t.name.clone()).collect();
    names.push(record);
    let drop = plan_replacement(&c, w.command, w.overwrite, w.derived, &names)?;

    // Stage: a leftover of a killed run goes first.
    let staging = staging_schema(w.command, &schema);
    let (qs, qt) = (quote_ident(&staging), quote_ident(&schema));
    c.exec(&format!("DROP SCHEMA IF EXISTS {qs} CASCADE"))
        .map_err(werr)?;
    c.exec(&format!("CREATE SCHEMA {qs}")).map_err(werr)?;
    gdal::config::set_thread_local_config_option("PG_USE_COPY", "YES")
        .map_err(|e| werr(e.to_string()))?;
    let record_table = run_record_table(&w.run_json, &names);
    for t in &w.tables {
        stage_table(&mut c, &staging, w.crs, t)
            .map_err(|m| werr(format!("table {}: {m}", t.name)))?;
        test_pause();
    }
    stage_table(&mut c, &staging, w.crs, &record_table)
        .map_err(|m| werr(format!("table {}: {m}", record_table.name)))?;

    // QGIS styles: the table QGIS keeps them in, made when missing (a user who may not create
    // tables in `public` gets the layers without styles, and is told).
    let mut notices = Vec::new();
    let styled: Vec<&DbTable<'_>> = w.tables.iter().filter(|t| t.qml.is_some()).collect();
    let styles = !styled.is_empty()
        && match c.exec(LAYER_STYLES) {
            Ok(()) => true,
            Err(m) => {
                notices.push(format!(
                    "QGIS styles not stored: public.layer_styles cannot be made ({m}); the tables are written without them"
                ));
                false
            }
        };

    // Swap, in one transaction.
    let txn =
        c.ds.start_transaction()
            .map_err(|e| werr(reason(&e.to_string())))?;
    let exec = |sql: &str| {
        txn.execute_sql(sql, None, Dialect::DEFAULT)
            .map(|_| ())
            .map_err(|e| werr(reason(&e.to_string())))
    };
    exec(&format!("CREATE SCHEMA IF NOT EXISTS {qt}"))?;
    for t in &drop {
        exec(&format!("DROP TABLE IF EXISTS {qt}.{}", quote_ident(t)))?;
    }
    for n in &names {
        exec(&format!(
            "ALTER TABLE {qs}.{} SET SCHEMA {qt}",
            quote_ident(n)
        ))?;
    }
    if styles {
        let gone: Vec<String> = drop
            .iter()
            .chain(&names)
            .map(|n| quote_literal(n))
            .collect();
        exec(&format!(
            "DELETE FROM public.layer_styles WHERE f_table_catalog = current_database() AND f_table_schema = {} AND f_table_name IN ({})",
            quote_literal(&schema),
            gone.join(", ")
        ))?;
        for t in &styled {
            let qml = t.qml.as_deref().unwrap_or_default();
            exec(&format!(
                "INSERT INTO public.layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, stylename, styleqml, stylesld, useasdefault, description, owner, type) \
                 VALUES (current_database(), {}, {}, 'geom', {}, XMLPARSE(DOCUMENT {}), NULL, true, 'gapmap default style', current_user, {})",
                quote_literal(&schema),
                quote_literal(&t.name),
                quote_literal(&t.name),
                quote_literal(qml),
                quote_literal(style_type(t.geometry_type)),
            ))?;
        }
    }
    exec(&format!("DROP SCHEMA {qs}"))?;
    txn.commit().map_err(|e| werr(reason(&e.to_string())))?;
    Ok(DbWritten {
        tables: names.iter().map(|n| format!("{schema}.{n}")).collect(),
        notices,
    })
}

/// QGIS's table of layer styles (as QGIS makes it; see QgsPostgresProviderConnection).
const LAYER_STYLES: &str = "CREATE TABLE IF NOT EXISTS public.layer_styles (\
    id SERIAL PRIMARY KEY, f_table_catalog varchar, f_table_schema varchar, f_table_name varchar, \
    f_geometry_column varchar, stylename text, styleqml xml, stylesld xml, useasdefault boolean, \
    description text, owner varchar(63) DEFAULT CURRENT_USER, ui xml, \
    update_time timestamp DEFAULT CURRENT_TIMESTAMP, type varchar)";

/// The geometry kind QGIS records with a style.
fn style_type(t: gdal_sys::OGRwkbGeometryType::Type) -> &'static str {
    // SAFETY: a type code in, a type code out.
    match unsafe { gdal_sys::OGR_GT_Flatten(t) } {
        gdal_sys::OGRwkbGeometryType::wkbPoint | gdal_sys::OGRwkbGeometryType::wkbMultiPoint => {
            "Point"
        }
        gdal_sys::OGRwkbGeometryType::wkbLineString
        | gdal_sys::OGRwkbGeometryType::wkbMultiLineString => "Line",
        _ => "Polygon",
    }
}

/// The run record as a table: one row with the command's record and the tables written.
fn run_record_table(run_json: &str, names: &[String]) -> DbTable<'static> {
    let tables = names.join(",");
    let run_json = run_json.to_string();
    DbTable {
        name: names.last().cloned().unwrap_or_default(),
        geometry_type: gdal_sys::OGRwkbGeometryType::wkbNone,
        rows: 1,
        chunk: Box::new(move |_| {
            Ok(DbChunk {
                columns: vec![
                    (
                        "gapmap_version".into(),
                        Column::Text(vec![Some(env!("CARGO_PKG_VERSION").into())]),
                    ),
                    (
                        "tables".into(),
                        Column::Text(vec![Some(tables.clone().into())]),
                    ),
                    (
                        "run".into(),
                        Column::Text(vec![Some(run_json.clone().into())]),
                    ),
                ],
                geometries: Vec::new(),
            })
        }),
        booleans: Vec::new(),
        json: vec!["run".into()],
        qml: None,
    }
}

/// Writes `t` into the staging schema.
fn stage_table(
    c: &mut Conn<'_>,
    staging: &str,
    crs: &Crs,
    t: &DbTable<'_>,
) -> std::result::Result<(), String> {
    let spatial = t.geometry_type != gdal_sys::OGRwkbGeometryType::wkbNone;
    let schema_opt = format!("SCHEMA={staging}");
    let mut options = vec![
        schema_opt.as_str(),
        "FID=fid",
        "LAUNDER=NO",
        "PRECISION=NO",
        "DESCRIPTION=written by gapmap",
    ];
    if spatial {
        // The spatial index is built after the rows are in: one bulk build, not a GiST
        // insertion per row (4x slower for a million points).
        options.extend(["GEOMETRY_NAME=geom", "SPATIAL_INDEX=NONE"]);
    }
    let srs = crs.srs();
    let layer =
        c.ds.create_layer(LayerOptions {
            name: &t.name,
            srs: spatial.then_some(srs),
            ty: t.geometry_type,
            options: Some(&options),
        })
        .map_err(|e| reason(&e.to_string()))?;
    let mut start = 0;
    let mut fields_made = false;
    while start < t.rows || (!fields_made && t.rows == 0) {
        let end = (start + CHUNK_ROWS).min(t.rows);
        let chunk = (t.chunk)(start..end).map_err(|e| e.to_string())?;
        if !fields_made {
            create_fields(&layer, &chunk.columns).map_err(|m| reason(&m))?;
            fields_made = true;
        }
        write_features(&layer, &chunk.columns, end - start, |i| {
            chunk.geometries.get(i).and_then(Option::as_ref)
        })
        .map_err(|m| reason(&m))?;
        start = end;
        if t.rows == 0 {
            break;
        }
    }
    // Ends the COPY of this table.
    c.ds.flush_cache().map_err(|e| reason(&e.to_string()))?;
    if spatial {
        c.exec(&format!(
            "CREATE INDEX {} ON {}.{} USING GIST (geom)",
            quote_ident(&format!("{}_geom_geom_idx", t.name)),
            quote_ident(staging),
            quote_ident(&t.name)
        ))?;
    }
    for (cols, ty, using) in [
        (&t.booleans, "boolean", "::integer::boolean"),
        (&t.json, "jsonb", "::jsonb"),
    ] {
        for col in cols {
            c.exec(&format!(
                "ALTER TABLE {}.{} ALTER COLUMN {q} TYPE {ty} USING {q}{using}",
                quote_ident(staging),
                quote_ident(&t.name),
                q = quote_ident(col)
            ))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_must_be_postgresql_and_its_schema_a_name() {
        assert!(DbTarget::new("PG:dbname=gm", "gapmap").is_ok());
        assert!(DbTarget::new("pg:service=x", "Region Dalarna").is_ok());
        let e = DbTarget::new("out.gpkg", "gapmap").unwrap_err();
        assert!(e.to_string().contains("PG:"), "{e}");
        assert!(e.is_bad_input());
        let e = DbTarget::new("PG:dbname=gm password=hemligt", "").unwrap_err();
        assert!(!e.to_string().contains("hemligt"), "{e}");
        assert!(DbTarget::new("PG:dbname=gm", &"x".repeat(64)).is_err());
    }

    #[test]
    fn staging_schemas_are_short_and_distinct() {
        let a = staging_schema("prioritise", &"s".repeat(63));
        assert!(a.len() <= 63, "{a}");
        assert_ne!(
            staging_schema("analyze", "a"),
            staging_schema("analyze", "b")
        );
        assert_ne!(staging_schema("analyze", "a"), staging_schema("grid", "a"));
    }
}
