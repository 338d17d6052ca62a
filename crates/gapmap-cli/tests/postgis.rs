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
            // Every statement logged with its backend's pid, for the tests that check what
            // gapmap asked of the server.
            .arg(format!(
                "-k {} -c listen_addresses='' -c fsync=off -c log_statement=all \
                 -c log_line_prefix='%p '",
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

/// Copies layer 0 of `src` into the cluster as table `name`, as ogr2ogr would: every field,
/// the geometry as it is (in its own CRS), in the file's order.
fn copy_layer(cluster: &Cluster, src: &Path, name: &str) {
    use gdal::vector::{Feature, FieldDefn, LayerAccess, LayerOptions};
    let src = gdal::Dataset::open(src).unwrap();
    let mut layer = src.layer(0).unwrap();
    let mut dst = gdal::Dataset::open_ex(
        cluster.dsn(""),
        gdal::DatasetOptions {
            open_flags: gdal::GdalOpenFlags::GDAL_OF_VECTOR | gdal::GdalOpenFlags::GDAL_OF_UPDATE,
            ..Default::default()
        },
    )
    .unwrap();
    let srs = layer.spatial_ref();
    let out = dst
        .create_layer(LayerOptions {
            name,
            srs: srs.as_ref(),
            // Any geometry: mobile coverage mixes polygons and multipolygons.
            ty: gdal::vector::OGRwkbGeometryType::wkbUnknown,
            options: Some(&["GEOMETRY_NAME=geom", "FID=fid"]),
        })
        .unwrap();
    let fields: Vec<(String, u32)> = layer
        .defn()
        .fields()
        .map(|f| (f.name(), f.field_type()))
        .collect();
    for (n, t) in &fields {
        FieldDefn::new(n, *t).unwrap().add_to_layer(&out).unwrap();
    }
    for f in layer.features() {
        let mut nf = Feature::new(out.defn()).unwrap();
        for k in 0..fields.len() {
            if let Some(v) = f.field(k).unwrap() {
                nf.set_field(k, &v).unwrap();
            }
        }
        if let Some(g) = f.geometry() {
            nf.set_geometry(g.clone()).unwrap();
        }
        nf.create(&out).unwrap();
    }
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
    // Mobile coverage (GeoJSON, in WGS 84) and the backbone points, as ogr2ogr loads them.
    // Cell sites and SCB's population grid too: every input kind of an analysis.
    copy_layer(&cluster, &d.join("mobile.geojson"), "mobile");
    copy_layer(&cluster, &d.join("backbone.gpkg"), "backbone");
    copy_layer(&cluster, &d.join("sites.gpkg"), "sites");
    copy_layer(&cluster, &d.join("population_1km.gpkg"), "befolkning");
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
        let dir = tmp.path().join(out);
        let text = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_default();
        text("settlements.csv") + &text("critical_links.csv") + &text("critical_sites.csv")
    };
    let files = run(
        "files",
        d.join("premises.parquet").to_str().unwrap(),
        d.join("settlements.gpkg").to_str().unwrap(),
        d.join("fibre.gpkg").to_str().unwrap(),
        &[
            "--mobile",
            d.join("mobile.geojson").to_str().unwrap(),
            "--backbone",
            d.join("backbone.gpkg").to_str().unwrap(),
            "--sites",
            d.join("sites.gpkg").to_str().unwrap(),
            "--population",
            d.join("population_1km.gpkg").to_str().unwrap(),
            "--population-field",
            "befolkning_2025",
            "--population-id-field",
            "rutid",
        ],
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
            "--mobile",
            &dsn,
            "--mobile-layer",
            "mobile",
            "--backbone",
            &dsn,
            "--backbone-layer",
            "backbone",
            "--sites",
            &dsn,
            "--sites-layer",
            "sites",
            "--population",
            &dsn,
            "--population-layer",
            "befolkning",
            "--population-field",
            "befolkning_2025",
            "--population-id-field",
            "rutid",
        ],
    );
    assert!(
        files.contains("premises_cut") || files.contains("units"),
        "the file run has no critical links: {}",
        &files[..files.len().min(300)]
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
    for layer in [
        "premises",
        "tatorter",
        "routes",
        "nodes",
        "mobile",
        "backbone",
        "sites",
        "befolkning",
    ] {
        assert!(
            inputs
                .iter()
                .any(|i| i["driver"] == "PostgreSQL" && i["layer"] == layer),
            "{layer} was not read from PostGIS: {inputs:?}"
        );
    }

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

/// A large table is read in ranges of heap pages over several connections at once
/// (`read::postgres`), and gives what one cursor gives: the same premises in the same order
/// (that of a sequential scan, here not the order of the ids), with and without a filter, and
/// the same first error.
#[test]
fn a_large_table_read_in_ranges_equals_one_cursor() {
    let d = repo().join("data/dalarna");
    let cluster = Cluster::start();
    // 200,000 premises over the bundled region, stored in a random order (about 1,500 heap
    // pages: three ranges of at least 512).
    let make = |table: &str, order: &str| {
        cluster.psql(
            "gm",
            &format!(
                "SELECT setseed(0.25); \
                 CREATE TABLE {table} AS SELECT g AS fid, \
                 CASE WHEN g IN (17, 190001) THEN NULL ELSE 1000000 + g END::bigint AS id, \
                 (g % 4)::int AS households, (g % 3)::int AS workplaces, \
                 ST_SetSRID(ST_MakePoint(360000 + random() * 220000, \
                 6645000 + random() * 240000), 3006)::geometry(Point, 3006) AS geom \
                 FROM generate_series(1, 200000) g ORDER BY {order}; \
                 ALTER TABLE {table} ADD PRIMARY KEY (fid)"
            ),
        );
        cluster.psql("gm", &format!("VACUUM ANALYZE {table}"));
    };
    // Without the two premises lacking an id, in a random order ...
    make("shuffled", "random()");
    cluster.psql("gm", "DELETE FROM shuffled WHERE id IS NULL");
    // ... and with them: one on the first page, one on the last.
    make(
        "holes",
        "CASE g WHEN 17 THEN 0 WHEN 190001 THEN 2 ELSE 1 END, random()",
    );
    let pages: i64 = cluster
        .psql(
            "gm",
            "SELECT pg_relation_size('shuffled') / current_setting('block_size')::int",
        )
        .parse()
        .unwrap();
    assert!(pages >= 3 * 512, "{pages} pages: too few for three ranges");

    let tmp = tempfile::tempdir().unwrap();
    let dsn = cluster.dsn("");
    let run = |source: &str, out: &str, table: &str, threads: &str, extra: &[&str]| {
        let mut a: Vec<String> = [
            "analyze",
            "--premises",
            source,
            "--premises-layer",
            table,
            "--settlements",
            d.join("settlements.gpkg").to_str().unwrap(),
            "--threads",
            threads,
            "--outputs",
            "premises,tables,maps",
            "--out",
            tmp.path().join(out).to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.extend(extra.iter().map(|s| s.to_string()));
        run(&a)
    };
    let connections = |out: &str| {
        let record = json(&tmp.path().join(out).join("run.json"));
        record["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["role"] == "premises")
            .unwrap()["connections"]
            .clone()
    };
    let same_files = |a: &str, b: &str| {
        for f in [
            "premises.parquet",
            "settlements.csv",
            "settlements.parquet",
            "gaps.geojson",
        ] {
            let (x, y) = (
                std::fs::read(tmp.path().join(a).join(f)).unwrap(),
                std::fs::read(tmp.path().join(b).join(f)).unwrap(),
            );
            assert!(x == y, "{f} of {a} and {b} differ");
        }
    };
    for (name, filter) in [("all", None), ("filtered", Some("households > 0"))] {
        let extra: Vec<&str> = filter.map_or(vec![], |f| vec!["--premises-where", f]);
        let (one, ranges) = (format!("{name}-1"), format!("{name}-3"));
        let o = run(&dsn, &one, "shuffled", "1", &extra);
        assert!(o.status.success(), "{}", stderr(&o));
        let o = run(&dsn, &ranges, "shuffled", "3", &extra);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(connections(&one), serde_json::Value::Null, "{name}");
        assert_eq!(connections(&ranges), 3, "{name}");
        same_files(&one, &ranges);
    }
    // A role allowed two connections (the layer's and the exporter's): the ranges' are
    // refused, and the table is read through one cursor, as with one thread.
    cluster.psql(
        "gm",
        "CREATE ROLE reader LOGIN CONNECTION LIMIT 2; GRANT SELECT ON shuffled TO reader",
    );
    let limited = dsn.replace("user=postgres", "user=reader");
    let o = run(&limited, "limited", "shuffled", "3", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains("ERROR"), "{}", stderr(&o));
    assert_eq!(connections("limited"), serde_json::Value::Null);
    same_files("all-1", "limited");

    // Every range's connection read in the snapshot one connection exported, imported at the
    // start of the transaction its cursor ran in (the server's log of statements).
    let log = std::fs::read_to_string(cluster.dir.path().join("log")).unwrap();
    assert!(
        log.contains("too many connections for role \"reader\""),
        "the limited role's ranges were not refused"
    );
    let mut by_pid: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for line in log.lines() {
        if let Some((pid, rest)) = line.split_once(' ') {
            if let Some(at) = rest
                .find("statement: ")
                .map(|k| k + 11)
                .or_else(|| rest.find("execute <unnamed>: ").map(|k| k + 19))
            {
                by_pid.entry(pid).or_default().push(&rest[at..]);
            }
        }
    }
    let exported = by_pid
        .values()
        .filter(|s| s.iter().any(|q| q.contains("pg_export_snapshot()")))
        .count();
    assert!(exported > 0, "no snapshot was exported");
    let mut ranged = 0;
    for (pid, statements) in &by_pid {
        for (k, q) in statements.iter().enumerate() {
            if !(q.starts_with("DECLARE") && q.contains("ctid")) {
                continue;
            }
            ranged += 1;
            let begin = statements[..k]
                .iter()
                .rposition(|q| *q == "BEGIN ISOLATION LEVEL REPEATABLE READ")
                .unwrap_or_else(|| panic!("{pid}: a range read outside a transaction"));
            let between = &statements[begin + 1..k];
            assert!(
                between
                    .first()
                    .is_some_and(|q| q.starts_with("SET TRANSACTION SNAPSHOT '")),
                "{pid}: the snapshot was not imported first: {between:?}"
            );
            assert!(
                !between.iter().any(|q| q.starts_with("COMMIT")),
                "{pid}: its transaction ended before the cursor: {between:?}"
            );
        }
    }
    // Two runs of three ranges (with and without a filter), and the run with errors.
    assert!(ranged >= 6, "{ranged} range cursors in the log");

    // The premises in the order of the table's rows, which is not that of their ids.
    let ids = read_parquet(&tmp.path().join("all-3/premises.parquet"));
    let ids: Vec<i64> = ids
        .column("premise_id")
        .unwrap()
        .i64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    let heap: Vec<i64> = cluster
        .psql("gm", "SELECT id FROM shuffled")
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    assert_eq!(ids.len(), 199_998);
    assert!(ids == heap, "the premises are not in the table's order");
    assert!(
        ids.windows(2).any(|w| w[0] > w[1]),
        "the table is not shuffled"
    );

    // Two premises without an id, in the first and the last range: both reads name the first.
    let one = run(&dsn, "holes-1", "holes", "1", &[]);
    let ranges = run(&dsn, "holes-3", "holes", "3", &[]);
    assert_eq!(one.status.code(), Some(2), "{}", stderr(&one));
    assert_eq!(ranges.status.code(), Some(2), "{}", stderr(&ranges));
    assert!(stderr(&one).contains("fid 17"), "{}", stderr(&one));
    assert_eq!(stderr(&one), stderr(&ranges));
}

/// Sums of the settlement table's count columns, by the CSV.
fn csv_sums(path: &Path, columns: &[&str]) -> Vec<i64> {
    let df = read_csv(path);
    columns
        .iter()
        .map(|c| ints(&df, c).iter().sum::<i64>())
        .collect()
}

#[test]
fn out_db_writes_tables_that_add_up_to_the_files_all_or_nothing() {
    let cluster = Cluster::start();
    let dsn = cluster.dsn(" password=s3cr3t");
    let tmp = tempfile::tempdir().unwrap();
    let out = |name: &str| tmp.path().join(name).display().to_string();
    let counts = [
        "premises",
        "households",
        "fibre_passed",
        "unserved",
        "aid_white",
    ];

    // The bundled region (with --backbone: critical corridors) into PostGIS and into files.
    let o = ok(&["analyze", "--out", &out("a"), "--out-db", &dsn]);
    assert!(!stderr(&o).contains("s3cr3t"), "{}", stderr(&o));
    let want = csv_sums(&tmp.path().join("a/settlements.csv"), &counts);
    let sums = |schema: &str| {
        cluster.psql(
            "gm",
            &format!(
                "SELECT count(*), {} FROM {schema}.settlements",
                counts.map(|c| format!("sum({c})")).join(", ")
            ),
        )
    };
    let rows = read_csv(&tmp.path().join("a/settlements.csv")).height();
    let expected = format!(
        "{rows}|{}",
        want.iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join("|")
    );
    assert_eq!(sums("gapmap"), expected);
    // Every premise, as a point, with the same households and unserved premises.
    assert_eq!(
        cluster.psql(
            "gm",
            "SELECT count(*), sum(households), count(*) FILTER (WHERE unserved), \
             count(*) FILTER (WHERE ST_GeometryType(geom) = 'ST_Point' AND ST_SRID(geom) = 3006) \
             FROM gapmap.premises"
        ),
        format!("{}|{}|{}|{}", want[0], want[1], want[3], want[0])
    );
    // The gap clusters and corridors of the maps, one row each.
    let features = |file: &str| {
        json(&tmp.path().join("a").join(file))["features"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(
        cluster.psql("gm", "SELECT count(*) FROM gapmap.gaps"),
        features("gaps.geojson").to_string()
    );
    assert_eq!(
        cluster.psql("gm", "SELECT count(*) FROM gapmap.critical_links"),
        features("critical_links.geojson").to_string()
    );
    // Primary keys and spatial indexes; styles where QGIS looks for them; the run record.
    let indexes = cluster.psql(
        "gm",
        "SELECT string_agg(indexdef, E'\\n' ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'gapmap'",
    );
    for t in [
        "settlements",
        "premises",
        "gaps",
        "aid_areas",
        "critical_links",
    ] {
        assert!(
            indexes.contains(&format!("ON gapmap.{t} USING gist (geom)")),
            "{t}: {indexes}"
        );
        assert!(
            indexes.contains(&format!("{t}_pkey ON gapmap.{t} USING btree (fid)")),
            "{t}: {indexes}"
        );
    }
    assert_eq!(
        cluster.psql(
            "gm",
            "SELECT string_agg(f_table_name, ',' ORDER BY f_table_name) FROM public.layer_styles \
             WHERE f_table_schema = 'gapmap' AND useasdefault AND f_table_catalog = 'gm' \
             AND xpath_exists('/qgis/renderer-v2', styleqml)"
        ),
        "aid_areas,critical_links,gaps,settlements"
    );
    let record = cluster.psql("gm", "SELECT run::text FROM gapmap.analyze_run");
    assert!(!record.contains("s3cr3t"), "{record}");
    let record: serde_json::Value = serde_json::from_str(&record).unwrap();
    assert_eq!(record, json(&tmp.path().join("a/run.json")));
    assert_eq!(
        record["database"]["tables"].as_array().unwrap().len(),
        6,
        "{}",
        record["database"]
    );

    // A second run over the first needs --overwrite, and names the flag.
    let o = common::run(&["analyze", "--out", &out("b"), "--out-db", &dsn]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--overwrite"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("s3cr3t"), "{}", stderr(&o));

    // A grid made from the analysis goes with it when the analysis is replaced.
    ok(&["grid", &out("a"), "--scb", "1000", "--out-db", &dsn]);
    assert_eq!(
        cluster.psql("gm", "SELECT sum(premises) FROM gapmap.grid_scb_1km"),
        want[0].to_string()
    );
    let grid_cells = cluster.psql("gm", "SELECT count(*) FROM gapmap.grid_scb_1km");
    assert_ne!(grid_cells, "0");

    // A run killed while it writes (paused after each table it stages) leaves the earlier
    // tables as they were, grid included.
    let mut child = gapmap()
        .args([
            "analyze",
            "--out",
            &out("c"),
            "--out-db",
            &dsn,
            "--overwrite",
            "--drop-distance-m",
            "5",
        ])
        .env("GAPMAP_TEST_DB_PAUSE_MS", "60000")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let staged =
        "SELECT count(*) FROM information_schema.tables WHERE table_schema LIKE 'gapmap_staging_%'";
    let t0 = std::time::Instant::now();
    while cluster.psql("gm", staged) == "0" {
        assert!(
            t0.elapsed().as_secs() < 120,
            "the run staged no table in 2 minutes"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(sums("gapmap"), expected, "the earlier tables changed");
    assert_eq!(
        cluster.psql("gm", "SELECT count(*) FROM gapmap.grid_scb_1km"),
        grid_cells
    );
    let kept: serde_json::Value =
        serde_json::from_str(&cluster.psql("gm", "SELECT run::text FROM gapmap.analyze_run"))
            .unwrap();
    assert_eq!(kept, record, "the earlier run record changed");
    assert!(!tmp.path().join("c/run.json").exists());

    // The next run finishes the replacement: other numbers, no staging left, no grid.
    ok(&[
        "analyze",
        "--out",
        &out("c"),
        "--out-db",
        &dsn,
        "--overwrite",
        "--drop-distance-m",
        "5",
    ]);
    let fewer = csv_sums(&tmp.path().join("c/settlements.csv"), &counts);
    assert!(fewer[2] < want[2], "{fewer:?} {want:?}");
    assert_eq!(
        sums("gapmap"),
        format!(
            "{rows}|{}",
            fewer
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join("|")
        )
    );
    assert_eq!(cluster.psql("gm", staged), "0");
    assert_eq!(
        cluster.psql(
            "gm",
            "SELECT string_agg(table_name::text, ',' ORDER BY table_name) FROM information_schema.tables WHERE table_schema = 'gapmap'"
        ),
        "aid_areas,analyze_run,critical_links,gaps,premises,settlements"
    );

    // A table gapmap did not write is never replaced.
    cluster.psql("gm", "CREATE SCHEMA \"Mina data\"; CREATE TABLE \"Mina data\".premises (a int); INSERT INTO \"Mina data\".premises VALUES (7)");
    let o = common::run(&[
        "analyze",
        "--out",
        &out("d"),
        "--out-db",
        &dsn,
        "--db-schema",
        "Mina data",
        "--overwrite",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("has a table premises that gapmap did not write"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        cluster.psql("gm", "SELECT a FROM \"Mina data\".premises"),
        "7"
    );
    assert!(!tmp.path().join("d/run.json").exists());
}
