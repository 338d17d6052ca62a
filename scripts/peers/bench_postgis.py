"""Reading premises from PostGIS against a GeoPackage, and writing them with --out-db.

Run by scripts/bench-postgis, which says what it measures. Needs Debian's PostgreSQL and
PostGIS (scripts/ensure-deps --browser installs them) and pyogrio (the peers venv).
"""

import argparse
import glob
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import geopandas as gpd
import pyarrow.parquet as pq


def postgres_bin():
    """The bin directory of a PostgreSQL that has PostGIS (Debian's layout)."""
    for version in sorted(os.listdir("/usr/lib/postgresql"), reverse=True):
        if os.path.exists(f"/usr/share/postgresql/{version}/extension/postgis.control"):
            return f"/usr/lib/postgresql/{version}/bin"
    sys.exit("bench-postgis: no PostgreSQL with PostGIS under /usr/lib/postgresql")


def as_postgres(cmd):
    """Root cannot run PostgreSQL: its tools then run as the postgres user."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--"] + cmd
    return cmd


class Cluster:
    def __init__(self, root):
        self.bin = postgres_bin()
        self.dir = root
        if os.geteuid() == 0:
            shutil.chown(root, "postgres")
        data = os.path.join(root, "data")
        subprocess.run(
            as_postgres([f"{self.bin}/initdb", "-D", data, "-A", "trust", "-U", "postgres"]),
            check=True,
            capture_output=True,
        )
        subprocess.run(
            as_postgres(
                [
                    f"{self.bin}/pg_ctl",
                    "-D",
                    data,
                    "-o",
                    f"-k {root} -c listen_addresses='' -c fsync=off",
                    "-l",
                    os.path.join(root, "log"),
                    "-w",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )
        self.psql("postgres", "CREATE DATABASE gm")
        self.psql("gm", "CREATE EXTENSION postgis")

    def psql(self, db, sql):
        out = subprocess.run(
            [f"{self.bin}/psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1",
             "-U", "postgres", "-h", self.dir, "-d", db, "-c", sql],
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip()

    def dsn(self):
        return f"PG:dbname=gm host={self.dir} user=postgres"

    def stop(self):
        subprocess.run(
            as_postgres([f"{self.bin}/pg_ctl", "-D", os.path.join(self.dir, "data"),
                         "-m", "fast", "stop"]),
            capture_output=True,
        )


def premise_read_seconds(out):
    with open(os.path.join(out, "run.json")) as f:
        record = json.load(f)
    (premises,) = [i for i in record["inputs"] if i["role"] == "premises"]
    return premises["read_seconds"], premises.get("connections")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("workload")
    ap.add_argument("--gapmap", required=True)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--write", type=int, default=1)
    ap.add_argument("--threads", type=int)
    a = ap.parse_args()
    settlements = os.path.join(a.workload, "settlements.gpkg")
    table = pq.read_table(os.path.join(a.workload, "premises.parquet"))
    n = table.num_rows
    threads = ["--threads", str(a.threads)] if a.threads else []

    root = tempfile.mkdtemp(prefix="gapmap-bench-postgis-")
    os.chmod(root, 0o755)
    cluster = None
    try:
        t = time.perf_counter()
        os.makedirs(os.path.join(root, "pg"))
        cluster = Cluster(os.path.join(root, "pg"))
        # PostGIS: the premises by COPY, in the file's order, as ogr2ogr would lay them out.
        csv = os.path.join(root, "premises.csv")
        table.select(["id", "households", "workplaces", "x", "y"]).to_pandas().to_csv(
            csv, index=False
        )
        os.chmod(root, 0o755)
        os.chmod(csv, 0o644)
        cluster.psql(
            "gm",
            "CREATE TABLE premises_in (ord serial, id bigint, households integer, "
            "workplaces integer, x double precision, y double precision)",
        )
        cluster.psql(
            "gm",
            f"\\copy premises_in (id, households, workplaces, x, y) FROM '{csv}' "
            "WITH (FORMAT csv, HEADER true)",
        )
        cluster.psql(
            "gm",
            "CREATE TABLE premises AS SELECT ord AS fid, id, households, workplaces, "
            "ST_SetSRID(ST_MakePoint(x, y), 3006)::geometry(Point, 3006) AS geom "
            "FROM premises_in ORDER BY ord; ALTER TABLE premises ADD PRIMARY KEY (fid); "
            "CREATE INDEX ON premises USING gist (geom); DROP TABLE premises_in",
        )
        cluster.psql("gm", "VACUUM ANALYZE premises")
        # GeoPackage: the same premises, written by pyogrio.
        gpkg = os.path.join(root, "premises.gpkg")
        df = table.select(["id", "households", "workplaces"]).to_pandas()
        xy = table.select(["x", "y"]).to_pandas()
        gpd.GeoDataFrame(
            df, geometry=gpd.points_from_xy(xy.x, xy.y), crs="EPSG:3006"
        ).to_file(gpkg, layer="premises", engine="pyogrio")
        print(f"loaded {n:,} premises into PostGIS and a GeoPackage in "
              f"{time.perf_counter() - t:.1f} s", flush=True)

        def read(src):
            out = os.path.join(root, "out-" + src)
            shutil.rmtree(out, ignore_errors=True)
            premises = gpkg if src == "gpkg" else cluster.dsn()
            subprocess.run(
                [a.gapmap, "analyze", "--premises", premises, "--premises-layer", "premises",
                 "--settlements", settlements, "--outputs", "tables", "--out", out] + threads,
                check=True,
                capture_output=True,
            )
            return premise_read_seconds(out)

        rows = []
        print("round  GeoPackage read  PostGIS read  ratio  connections")
        for r in range(a.rounds):
            g, _ = read("gpkg")
            p, connections = read("pg")
            rows.append((g, p))
            print(f"{r + 1:>5}  {g:>13.3f} s  {p:>10.3f} s  {p / g:>5.2f}  "
                  f"{connections or 1}", flush=True)
        gs, ps = [g for g, _ in rows], [p for _, p in rows]
        print(f"median GeoPackage {statistics.median(gs):.3f} s, PostGIS "
              f"{statistics.median(ps):.3f} s; median of the ratios "
              f"{statistics.median(p / g for g, p in rows):.2f}, ratio of the medians "
              f"{statistics.median(ps) / statistics.median(gs):.2f}")

        for w in range(a.write):
            out = os.path.join(root, "out-db")
            shutil.rmtree(out, ignore_errors=True)
            o = subprocess.run(
                [a.gapmap, "analyze", "--premises", gpkg, "--premises-layer", "premises",
                 "--settlements", settlements, "--outputs", "premises", "--out", out,
                 "--out-db", cluster.dsn(), "--overwrite"] + threads,
                capture_output=True,
                text=True,
            )
            if o.returncode != 0:
                sys.exit(f"bench-postgis: --out-db failed (exit {o.returncode}):\n{o.stderr}")
            said = re.search(r"wrote (\d+) tables? into schema .* in ([0-9.]+) s",
                             o.stdout + o.stderr)
            if said is None:
                sys.exit("bench-postgis: --out-db said nothing of its tables:\n"
                         + o.stdout + o.stderr)
            print(f"--out-db of {n:,} premises: {said.group(1)} tables in "
                  f"{said.group(2)} s", flush=True)
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
