//! Reading from a real PostgreSQL + PostGIS (Debian's `postgresql` and `postgis`, installed by
//! `scripts/ensure-deps --browser`): a throwaway cluster on a socket in a temporary directory,
//! the bundled region's premises, settlements and fibre loaded into it with `psql`, and the
//! analysis read from `PG:` must give the same settlement table as the file run. A wrong
//! password is exit 2 with the password masked.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or benchmark fails by panicking"
)]

mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use gapmap_core::geo::{Coord, LineString, MultiPolygon};
use gapmap_io::read::{
    read_fibre, read_premises, read_settlements, FibreOptions, FieldChoice, PremiseOptions,
    SettlementOptions,
};
use gapmap_io::ReadContext;

/// A PostgreSQL cluster of its own, stopped when dropped.
struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn as_postgres(cmd: &Path) -> Command {
    // PostgreSQL refuses to run as root: then as the `postgres` user.
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(cmd);
        c
    } else {
        Command::new(cmd)
    }
}

impl Cluster {
    fn start() -> Cluster {
        // A PostgreSQL version with PostGIS (Debian's layout).
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL is installed (scripts/ensure-deps --browser installs it)")
            .map(|e| e.unwrap().path())
            .find(|v| {
                let version = v.file_name().unwrap().to_string_lossy().into_owned();
                v.join("bin/initdb").exists()
                    && Path::new(&format!(
                        "/usr/share/postgresql/{version}/extension/postgis.control"
                    ))
                    .exists()
            })
            .expect("a PostgreSQL with PostGIS under /usr/lib/postgresql")
            .join("bin");
        let dir = tempfile::tempdir().unwrap();
        if is_root() {
            let ok = Command::new("chown")
                .args(["postgres"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(ok.success());
        }
        let data = dir.path().join("data");
        let o = as_postgres(&bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args(["-A", "trust", "-U", "postgres"])
            .output()
            .unwrap();
        assert!(o.status.success(), "initdb: {}", stderr(&o));
        let o = as_postgres(&bin.join("pg_ctl"))
            .arg("-D")
            .arg(&data)
            .arg("-o")
            .arg(format!(
                "-k {} -c listen_addresses='' -c fsync=off",
                dir.path().display()
            ))
            .arg("-l")
            .arg(dir.path().join("log"))
            .args(["-w", "start"])
            .output()
            .unwrap();
        assert!(o.status.success(), "pg_ctl start: {}", stderr(&o));
        let c = Cluster { dir, bin };
        c.psql("postgres", "CREATE DATABASE gm");
        c.psql("gm", "CREATE EXTENSION postgis");
        c
    }

    fn psql(&self, db: &str, sql: &str) -> String {
        let o = Command::new(self.bin.join("psql"))
            .args([
                "-X",
                "-q",
                "-t",
                "-A",
                "-v",
                "ON_ERROR_STOP=1",
                "-U",
                "postgres",
            ])
            .arg("-h")
            .arg(self.dir.path())
            .arg("-d")
            .arg(db)
            .arg("-c")
            .arg(sql)
            .output()
            .unwrap();
        assert!(o.status.success(), "psql {sql}: {}", stderr(&o));
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    }

    /// Loads `csv` (a header, then rows whose last column is WKT in EPSG:3006) as `table`, in
    /// the file's order (its `fid` primary key), with a spatial index.
    fn load(&self, table: &str, columns: &str, csv: &str, geometry: &str) {
        let path = self.dir.path().join(format!("{table}.csv"));
        std::fs::write(&path, csv).unwrap();
        let names: Vec<&str> = columns
            .split(',')
            .map(|c| c.split_whitespace().next().unwrap())
            .collect();
        let names = names.join(", ");
        self.psql(
            "gm",
            &format!("CREATE TABLE {table}_in (ord serial, {columns}, wkt text)"),
        );
        self.psql(
            "gm",
            &format!(
                "\\copy {table}_in ({names}, wkt) FROM '{}' WITH (FORMAT csv, HEADER true)",
                path.display()
            ),
        );
        self.psql(
            "gm",
            &format!(
                "CREATE TABLE {table} AS SELECT ord AS fid, {names}, \
                 ST_GeomFromText(wkt, 3006)::geometry({geometry}, 3006) AS geom \
                 FROM {table}_in ORDER BY ord; \
                 ALTER TABLE {table} ADD PRIMARY KEY (fid); \
                 CREATE INDEX ON {table} USING gist (geom); \
                 DROP TABLE {table}_in"
            ),
        );
    }

    fn dsn(&self, extra: &str) -> String {
        format!(
            "PG:dbname=gm host={} user=postgres{extra}",
            self.dir.path().display()
        )
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = as_postgres(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

fn ring_wkt(out: &mut String, ring: &LineString<f64>) {
    out.push('(');
    for (k, c) in ring.0.iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        // Display of f64 round-trips exactly.
        let _ = write!(out, "{} {}", c.x, c.y);
    }
    out.push(')');
}

fn multipolygon_wkt(m: &MultiPolygon<f64>) -> String {
    let mut s = String::from("MULTIPOLYGON(");
    for (k, p) in m.0.iter().enumerate() {
        if k > 0 {
            s.push(',');
        }
        s.push('(');
        ring_wkt(&mut s, p.exterior());
        for r in p.interiors() {
            s.push(',');
            ring_wkt(&mut s, r);
        }
        s.push(')');
    }
    s.push(')');
    s
}

fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

#[test]
fn an_analysis_read_from_postgis_equals_the_file_run() {
    let d = repo().join("data/dalarna");
    let ctx = ReadContext::from_flags("EPSG:3006", None, false).unwrap();
    let cluster = Cluster::start();

    // Premises, settlements (SCB's, full resolution, in SWEREF 99 TM) and both fibre layers.
    let premises = read_premises(
        &PremiseOptions::from_flags(
            &d.join("premises.parquet"),
            None,
            None,
            None,
            None,
            "x",
            "y",
        ),
        &ctx,
    )
    .unwrap();
    let mut csv = String::from("id,households,workplaces,wkt\n");
    for i in 0..premises.xy.len() {
        let c: Coord<f64> = premises.xy[i];
        let _ = writeln!(
            csv,
            "{},{},{},POINT({} {})",
            premises.ids.display(i),
            premises.households[i],
            premises.workplaces[i],
            c.x,
            c.y
        );
    }
    cluster.load(
        "premises",
        "id bigint PRIMARY KEY, households integer, workplaces integer",
        &csv,
        "Point",
    );
    let settlements = read_settlements(
        &SettlementOptions {
            path: d.join("settlements.gpkg"),
            layer: None,
            id_field: FieldChoice::new(Some("tatortskod"), "id", "--settlement-id-field"),
            name_field: FieldChoice::new(Some("tatort"), "name", "--settlement-name-field"),
            population_field: None,
            filter: None,
        },
        &ctx,
    )
    .unwrap();
    let mut csv = String::from("tatortskod,tatort,wkt\n");
    for (k, a) in settlements.areas.iter().enumerate() {
        let _ = writeln!(
            csv,
            "{},{},{}",
            quoted(&settlements.ids[k]),
            quoted(&settlements.names[k]),
            quoted(&multipolygon_wkt(a))
        );
    }
    cluster.load(
        "tatorter",
        "tatortskod text, tatort text",
        &csv,
        "MultiPolygon",
    );
    for (layer, geometry) in [("routes", "MultiLineString"), ("nodes", "MultiPoint")] {
        let f = read_fibre(
            &FibreOptions::fibre(
                vec![d.join("fibre.gpkg")],
                vec![layer.into()],
                FieldChoice::new(None, "network", "--fibre-network-field"),
                None,
            ),
            &ctx,
        )
        .unwrap();
        let mut csv = String::from("network,wkt\n");
        for feat in &f.features {
            let wkt = if layer == "routes" {
                let mut s = String::from("MULTILINESTRING(");
                for (k, l) in feat.lines.0.iter().enumerate() {
                    if k > 0 {
                        s.push(',');
                    }
                    ring_wkt(&mut s, l);
                }
                s + ")"
            } else {
                let pts: Vec<String> = feat
                    .points
                    .0
                    .iter()
                    .map(|p| format!("({} {})", p.x(), p.y()))
                    .collect();
                format!("MULTIPOINT({})", pts.join(","))
            };
            let _ = writeln!(
                csv,
                "{},{}",
                quoted(&f.networks[feat.network as usize]),
                quoted(&wkt)
            );
        }
        cluster.load(layer, "network text", &csv, geometry);
    }
    assert_eq!(
        cluster.psql("gm", "SELECT count(*), sum(households) FROM premises"),
        format!(
            "{}|{}",
            premises.xy.len(),
            premises
                .households
                .iter()
                .map(|&h| u64::from(h))
                .sum::<u64>()
        )
    );

    // The same analysis from the files and from PostGIS.
    let tmp = tempfile::tempdir().unwrap();
    let run = |out: &str, premises: &str, settlements: &str, fibre: &str, extra: &[&str]| {
        let mut a: Vec<String> = vec![
            "analyze".into(),
            "--premises".into(),
            premises.into(),
            "--settlements".into(),
            settlements.into(),
            "--settlement-id-field".into(),
            "tatortskod".into(),
            "--settlement-name-field".into(),
            "tatort".into(),
            "--fibre".into(),
            fibre.into(),
            "--fibre-layer".into(),
            "routes".into(),
            "--fibre-layer".into(),
            "nodes".into(),
            "--outputs".into(),
            "tables".into(),
            "--out".into(),
            tmp.path().join(out).display().to_string(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        ok(&a);
        std::fs::read_to_string(tmp.path().join(out).join("settlements.csv")).unwrap()
    };
    let files = run(
        "files",
        d.join("premises.parquet").to_str().unwrap(),
        d.join("settlements.gpkg").to_str().unwrap(),
        d.join("fibre.gpkg").to_str().unwrap(),
        &[],
    );
    let dsn = cluster.dsn("");
    let db = run(
        "db",
        &dsn,
        &dsn,
        &dsn,
        &[
            "--premises-layer",
            "premises",
            "--settlements-layer",
            "tatorter",
        ],
    );
    let differ: Vec<(&str, &str)> = files
        .lines()
        .zip(db.lines())
        .filter(|(a, b)| a != b)
        .take(3)
        .collect();
    assert!(
        differ.is_empty() && files.lines().count() == db.lines().count(),
        "settlements.csv from PostGIS differs from the file run (file, then PostGIS): {differ:#?}"
    );
    let record = json(&tmp.path().join("db/run.json"));
    let inputs = record["inputs"].as_array().unwrap();
    assert!(inputs
        .iter()
        .any(|i| i["driver"] == "PostgreSQL" && i["layer"] == "premises"));

    // A filter is evaluated by the server.
    let falun = run(
        "falun",
        &dsn,
        &dsn,
        &dsn,
        &[
            "--premises-layer",
            "premises",
            "--settlements-layer",
            "tatorter",
            "--settlements-where",
            "tatortskod LIKE '2080%'",
        ],
    );
    assert_eq!(
        falun.lines().count(),
        1 + 16 + 1,
        "header, Falun's 16 tätorter, rural"
    );

    // A wrong password (the cluster asks for none over the socket, so a wrong user stands in
    // for the refusal) is exit 2, and the password never shows.
    let bad = cluster
        .dsn(" password=s3cr3t")
        .replace("user=postgres", "user=nobody_here");
    let o = common::run(&[
        "analyze",
        "--premises",
        &bad,
        "--premises-layer",
        "premises",
        "--settlements",
        d.join("settlements.gpkg").to_str().unwrap(),
        "--out",
        tmp.path().join("bad").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!stderr(&o).contains("s3cr3t"), "{}", stderr(&o));
    assert!(stderr(&o).contains("nobody_here"), "{}", stderr(&o));
}
