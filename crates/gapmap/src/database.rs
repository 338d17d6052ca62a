//! `--out-db` and `--db-schema`: results into PostGIS beside the files, for every command that
//! writes results (`analyze`, `grid`, `prioritise`, `predict`). The writing itself is
//! `gapmap_io::write::postgis`; this module holds the flags, the early check and the record.

use gapmap_io::write::postgis::{check_db_target, write_db, DbTable, DbTarget, DbWrite};
use gapmap_io::Crs;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The default schema.
pub const DEFAULT_SCHEMA: &str = "gapmap";

/// Where results go in a database, besides the files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct DbPlan {
    /// Also write the results into PostGIS: `PG:` and a libpq connection string, e.g.
    /// "PG:service=region" (a password belongs in ~/.pgpass, not here). Each output is a table
    /// with a primary key and a spatial index, QGIS styles go into public.layer_styles, and
    /// the tables are replaced all at once or not at all.
    #[cfg_attr(feature = "clap", arg(long, value_name = "PG:..."))]
    pub out_db: Option<String>,
    /// The schema --out-db writes into (made when missing).
    #[cfg_attr(
        feature = "clap",
        arg(long, value_name = "NAME", default_value = DEFAULT_SCHEMA)
    )]
    pub db_schema: String,
}

impl Default for DbPlan {
    fn default() -> DbPlan {
        DbPlan {
            out_db: None,
            db_schema: DEFAULT_SCHEMA.into(),
        }
    }
}

/// What was written into a database, for run.json.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DbRecord {
    /// The data source, any password masked.
    pub target: String,
    /// The schema.
    pub schema: String,
    /// The tables, schema-qualified (the run record last).
    pub tables: Vec<String>,
}

impl DbPlan {
    /// The target, checked (`None` without `--out-db`).
    pub fn target(&self) -> Result<Option<DbTarget>> {
        match &self.out_db {
            None if self.db_schema != DEFAULT_SCHEMA => Err(Error::usage(
                "--db-schema needs --out-db (the database to write into)",
            )),
            None => Ok(None),
            Some(dsn) => Ok(Some(DbTarget::new(dsn, &self.db_schema)?)),
        }
    }

    /// Before any work: the database can be reached, has PostGIS, and holds nothing the run
    /// of `command` (writing `tables`) may not replace.
    pub fn check(&self, command: &str, tables: &[&str], overwrite: bool) -> Result<()> {
        if let Some(t) = self.target()? {
            check_db_target(&t, command, tables, overwrite)?;
        }
        Ok(())
    }

    /// What run.json records of the tables `tables` a run of `command` writes.
    pub fn record(&self, command: &str, tables: &[&str]) -> Result<Option<DbRecord>> {
        Ok(self.target()?.map(|t| DbRecord {
            target: t.masked(),
            schema: t.schema.clone(),
            tables: tables
                .iter()
                .map(|n| n.to_string())
                .chain([gapmap_io::write::postgis::run_table(command)])
                .map(|n| format!("{}.{n}", t.schema))
                .collect(),
        }))
    }

    /// With `--out-db`: writes `tables` and the run record at `record` (the command's JSON
    /// record, already written into its staging directory) of `command`.
    pub fn write_with_record(
        &self,
        command: &str,
        crs: &Crs,
        tables: Vec<DbTable<'_>>,
        record: &std::path::Path,
        overwrite: bool,
    ) -> Result<()> {
        if self.out_db.is_none() {
            return Ok(());
        }
        let run_json =
            std::fs::read_to_string(record).map_err(|e| crate::error::write_error(record, e))?;
        self.write(command, crs, tables, run_json, overwrite, &[])?;
        Ok(())
    }

    /// Writes `tables` and the run record `run_json` of `command`; returns the notices.
    pub fn write(
        &self,
        command: &str,
        crs: &Crs,
        tables: Vec<DbTable<'_>>,
        run_json: String,
        overwrite: bool,
        derived: &[&str],
    ) -> Result<Vec<String>> {
        let Some(target) = self.target()? else {
            return Ok(Vec::new());
        };
        let t0 = std::time::Instant::now();
        let written = write_db(DbWrite {
            target: &target,
            command,
            crs,
            tables,
            run_json,
            overwrite,
            derived,
        })?;
        for n in &written.notices {
            crate::progress::notice(n);
        }
        crate::progress::notice(&format!(
            "wrote {} tables into schema {} of {} in {:.1} s",
            written.tables.len(),
            target.schema,
            target.masked(),
            t0.elapsed().as_secs_f64()
        ));
        Ok(written.notices)
    }
}
