"""The per-settlement metrics of `gapmap analyze`, computed by its peers, and a harness that runs
gapmap, GeoPandas and DuckDB on one workload and compares them.

    python peers.py geopandas WORKLOAD OUT.csv   # one pipeline
    python peers.py duckdb WORKLOAD OUT.csv
    python peers.py compare WORKLOAD --gapmap PATH [--baseline PATH] [--tools LIST] [--threads N] [--repeat N]

WORKLOAD is a directory written by `gapmap synth --premises N`: premises.parquet (id, x, y,
households, workplaces; EPSG:3006), settlements.gpkg (id, name), fibre.gpkg (layers routes and
nodes, field network) and mobile.gpkg (operator, tech). All three tools compute, per settlement
(first covering settlement in input order, boundary included; rural otherwise):
premises, households, workplaces, fibre_passed (a fibre feature within 50 m),
fibre_2plus_networks, mobile_4g, mobile_4g_2plus_operators, mobile_5g and unserved.

The GeoPandas pipeline is written as a skilled user would: vectorised Shapely 2 (STRtree bulk
queries with `intersects` and `dwithin` predicates, prepared geometries with `intersects_xy`, which
unlike `contains_xy` counts the boundary, as the definition requires). The DuckDB pipeline is
spatial SQL whose joins DuckDB plans as R-tree spatial joins.
"""

import glob
import os
import resource
import subprocess
import sys
import time

COLUMNS = [
    "premises",
    "households",
    "workplaces",
    "fibre_passed",
    "fibre_2plus_networks",
    "mobile_4g",
    "mobile_4g_2plus_operators",
    "mobile_5g",
    "unserved",
]
DROP_M = 50.0
TECH = {"4g": "4G", "lte": "4G", "5g": "5G", "nr": "5G"}


def geopandas_pipeline(w, out):
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import pyarrow.parquet as pq
    import shapely

    prem = pq.read_table(f"{w}/premises.parquet", columns=["x", "y", "households", "workplaces"]).to_pandas()
    x, y = prem["x"].to_numpy(), prem["y"].to_numpy()
    n = len(prem)
    pts = shapely.points(x, y)
    sett = gpd.read_file(f"{w}/settlements.gpkg", engine="pyogrio", columns=["id"])
    # Polygons are exploded into parts and queried against a tree of the points: STRtree
    # prepares its input geometries, so each part is prepared once and tests points fast.
    ptree = shapely.STRtree(pts)

    # Settlement: the first covering settlement in input order.
    sparts = sett.geometry.explode(index_parts=False)
    part_i, pi = ptree.query(sparts.values, predicate="intersects")
    si = sparts.index.to_numpy()[part_i]
    settlement = np.full(n, -1, dtype=np.int64)
    first = pd.Series(si).groupby(pi).min()
    settlement[first.index.to_numpy()] = first.to_numpy()

    # Fibre: distinct networks within the drop distance (short lines: the tree holds them).
    fib = pd.concat(
        [
            gpd.read_file(f"{w}/fibre.gpkg", layer="routes", engine="pyogrio", columns=["network"]),
            gpd.read_file(f"{w}/fibre.gpkg", layer="nodes", engine="pyogrio", columns=["network"]),
        ],
        ignore_index=True,
    )
    ftree = shapely.STRtree(fib.geometry.values)
    pi, fi = ftree.query(pts, predicate="dwithin", distance=DROP_M)
    nets = pd.DataFrame({"p": pi, "net": fib["network"].to_numpy()[fi]}).groupby("p")["net"].nunique()
    networks = np.zeros(n, dtype=np.int64)
    networks[nets.index.to_numpy()] = nets.to_numpy()

    # Mobile: distinct operators covering each premise, per technology.
    mob = gpd.read_file(f"{w}/mobile.gpkg", engine="pyogrio")
    mob["cls"] = mob["tech"].str.strip().str.lower().map(TECH)
    mparts = mob[mob["cls"].notna()].explode(index_parts=False)
    part_i, pi = ptree.query(mparts.geometry.values, predicate="intersects")
    hits = pd.DataFrame({"p": pi, "op": mparts["operator"].to_numpy()[part_i], "cls": mparts["cls"].to_numpy()[part_i]})
    ops = {}
    for cls in ("4G", "5G"):
        c = hits[hits["cls"] == cls].groupby("p")["op"].nunique()
        ops[cls] = np.zeros(n, dtype=np.int64)
        ops[cls][c.index.to_numpy()] = c.to_numpy()

    passed = networks >= 1
    df = pd.DataFrame(
        {
            "s": settlement,
            "premises": 1,
            "households": prem["households"].to_numpy(),
            "workplaces": prem["workplaces"].to_numpy(),
            "fibre_passed": passed,
            "fibre_2plus_networks": networks >= 2,
            "mobile_4g": ops["4G"] >= 1,
            "mobile_4g_2plus_operators": ops["4G"] >= 2,
            "mobile_5g": ops["5G"] >= 1,
            "unserved": ~passed & (ops["4G"] == 0),
        }
    )
    agg = df.groupby("s")[COLUMNS].sum()
    rows = pd.DataFrame({"s": np.arange(-1, len(sett))}).merge(agg, left_on="s", right_index=True, how="left").fillna(0)
    rows["settlement_id"] = ["" if s < 0 else sett["id"].iloc[s] for s in rows["s"]]
    rows[["settlement_id"] + COLUMNS].astype({c: "int64" for c in COLUMNS}).to_csv(out, index=False)


def duckdb_pipeline(w, out):
    import duckdb

    con = duckdb.connect()
    ext = glob.glob(os.path.join(os.path.dirname(__import__("duckdb_extension_spatial").__file__), "extensions", "*", "spatial.duckdb_extension"))
    con.execute(f"LOAD '{ext[0]}'")
    tech = "CASE lower(trim(tech)) WHEN '4g' THEN '4G' WHEN 'lte' THEN '4G' WHEN '5g' THEN '5G' WHEN 'nr' THEN '5G' END"
    con.execute(
        f"""
        CREATE TABLE p AS SELECT row_number() OVER () - 1 AS pid, households, workplaces, ST_Point(x, y) AS geom
            FROM read_parquet('{w}/premises.parquet');
        CREATE TABLE s AS SELECT row_number() OVER () - 1 AS sidx, id, geom FROM ST_Read('{w}/settlements.gpkg');
        CREATE TABLE sp AS SELECT sidx, UNNEST(ST_Dump(geom)).geom AS geom FROM s;
        CREATE TABLE f AS
            SELECT network, geom FROM ST_Read('{w}/fibre.gpkg', layer = 'routes')
            UNION ALL SELECT network, geom FROM ST_Read('{w}/fibre.gpkg', layer = 'nodes');
        CREATE TABLE m AS SELECT operator, cls, UNNEST(ST_Dump(geom)).geom AS geom
            FROM (SELECT operator, {tech} AS cls, geom FROM ST_Read('{w}/mobile.gpkg')) WHERE cls IS NOT NULL;
        CREATE TABLE ps AS SELECT p.pid, min(sp.sidx) AS sidx FROM p JOIN sp ON ST_Intersects(sp.geom, p.geom) GROUP BY p.pid;
        CREATE TABLE pf AS SELECT p.pid, count(DISTINCT f.network) AS nets FROM p JOIN f ON ST_DWithin(p.geom, f.geom, {DROP_M}) GROUP BY p.pid;
        CREATE TABLE pm AS SELECT p.pid,
                count(DISTINCT CASE WHEN m.cls = '4G' THEN m.operator END) AS ops4,
                count(DISTINCT CASE WHEN m.cls = '5G' THEN m.operator END) AS ops5
            FROM p JOIN m ON ST_Intersects(m.geom, p.geom) GROUP BY p.pid;
        CREATE TABLE per AS SELECT coalesce(ps.sidx, -1) AS sidx, p.households, p.workplaces,
                coalesce(pf.nets, 0) AS nets, coalesce(pm.ops4, 0) AS ops4, coalesce(pm.ops5, 0) AS ops5
            FROM p LEFT JOIN ps USING (pid) LEFT JOIN pf USING (pid) LEFT JOIN pm USING (pid);
        CREATE TABLE agg AS SELECT sidx, count(*) AS premises, sum(households) AS households, sum(workplaces) AS workplaces,
                count(*) FILTER (nets >= 1) AS fibre_passed, count(*) FILTER (nets >= 2) AS fibre_2plus_networks,
                count(*) FILTER (ops4 >= 1) AS mobile_4g, count(*) FILTER (ops4 >= 2) AS mobile_4g_2plus_operators,
                count(*) FILTER (ops5 >= 1) AS mobile_5g, count(*) FILTER (nets = 0 AND ops4 = 0) AS unserved
            FROM per GROUP BY sidx;
        """
    )
    cols = ", ".join(f"coalesce(a.{c}, 0)::BIGINT AS {c}" for c in COLUMNS)
    con.execute(
        f"""
        COPY (
            SELECT coalesce(s.id, '') AS settlement_id, {cols}
            FROM (SELECT -1 AS sidx, NULL AS id UNION ALL SELECT sidx, id FROM s) s
            LEFT JOIN agg a USING (sidx) ORDER BY s.sidx
        ) TO '{out}' (HEADER, DELIMITER ',')
        """
    )


def run_measured(cmd, env=None):
    """Runs `cmd`; returns (wall seconds, peak RSS in MiB, exit code)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode(errors="replace")
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.stderr.write(err)
    return wall, usage.ru_maxrss / 1024.0, code


def read_table(path):
    import csv

    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {r["settlement_id"]: tuple(int(float(r[c])) for c in COLUMNS) for r in rows}


def compare(w, gapmap, threads, repeat, baseline=None, tools=None):
    import tempfile

    tmp = tempfile.mkdtemp(prefix="gapmap-peers-")
    me = os.path.abspath(__file__)
    env = dict(os.environ)
    if threads:
        for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "RAYON_NUM_THREADS", "POLARS_MAX_THREADS"):
            env[k] = str(threads)
    def analyze(exe, name):
        return lambda k: [exe, "analyze", "--premises", f"{w}/premises.parquet", "--settlements", f"{w}/settlements.gpkg",
                          "--fibre", f"{w}/fibre.gpkg", "--fibre-layer", "routes", "--fibre-layer", "nodes",
                          "--mobile", f"{w}/mobile.gpkg", "--out", f"{tmp}/{name}-{k}"] + (["--threads", str(threads)] if threads else [])

    runs = {
        "gapmap": analyze(gapmap, "gapmap"),
        # Another build of gapmap (the previous commit), interleaved with this one: a
        # refactor's speed and memory against the code it replaces.
        "baseline": analyze(baseline, "baseline") if baseline else None,
        "geopandas": lambda k: [sys.executable, me, "geopandas", w, f"{tmp}/geopandas-{k}.csv"],
        "duckdb": lambda k: [sys.executable, me, "duckdb", w, f"{tmp}/duckdb-{k}.csv"],
    }
    runs = {n: r for n, r in runs.items() if r is not None and (n == "gapmap" or not tools or n in tools)}
    # Interleaved (gapmap, geopandas, duckdb, gapmap, ...), so that drift in the machine's speed
    # affects every tool alike.
    walls = {name: [] for name in runs}
    rsss = {name: [] for name in runs}
    for k in range(repeat):
        for name, cmd in runs.items():
            wall, rss, code = run_measured(cmd(k), env)
            if code != 0:
                print(f"{name} failed (exit {code})")
                return 1
            walls[name].append(wall)
            rsss[name].append(rss)
    median = lambda v: sorted(v)[len(v) // 2]
    results = {name: (median(walls[name]), min(walls[name]), max(rsss[name])) for name in runs}
    tables = {
        name: read_table(f"{tmp}/{name}-0/settlements.csv" if name in ("gapmap", "baseline") else f"{tmp}/{name}-0.csv")
        for name in runs
    }
    base = tables["gapmap"]
    print(f"workload: {w}  ({sum(v[0] for v in base.values()):,} premises, {len(base) - 1:,} settlements)")
    print(f"{'tool':<10} {'median s':>8} {'best s':>7} {'peak RSS MiB':>13}  {'vs gapmap':>9}  table")
    ok = True
    for name, (wall, best, rss) in results.items():
        t = tables[name]
        same = t == base
        if not same:
            ok = False
            diff = [k for k in base if t.get(k) != base[k]]
            extra = [k for k in t if k not in base]
            detail = f"DIFFERS in {len(diff) + len(extra)} rows, e.g. {(diff + extra)[:3]}"
            for k in (diff + extra)[:3]:
                detail += f"\n    {k!r}: gapmap {base.get(k)} vs {name} {t.get(k)}"
        else:
            detail = "identical"
        ratio = wall / results["gapmap"][0]
        print(f"{name:<10} {wall:>8.2f} {best:>7.2f} {rss:>13.0f}  {ratio:>8.1f}x  {detail}")
    print(f"({repeat} interleaved runs each; 'vs gapmap' compares medians; peak RSS is the largest of the runs; "
          f"threads: {threads or 'all'}; outputs in {tmp})")
    return 0 if ok else 1


def main():
    mode = sys.argv[1]
    if mode == "geopandas":
        geopandas_pipeline(sys.argv[2], sys.argv[3])
    elif mode == "duckdb":
        duckdb_pipeline(sys.argv[2], sys.argv[3])
    elif mode == "compare":
        import argparse

        ap = argparse.ArgumentParser()
        ap.add_argument("mode")
        ap.add_argument("workload")
        ap.add_argument("--gapmap", required=True)
        ap.add_argument("--threads", type=int, default=0)
        ap.add_argument("--repeat", type=int, default=1)
        ap.add_argument("--baseline", help="another gapmap binary to run interleaved (e.g. the previous commit's)")
        ap.add_argument("--tools", help="comma-separated: which of baseline,geopandas,duckdb run beside gapmap (default: all)")
        a = ap.parse_args()
        tools = set(a.tools.split(",")) if a.tools else None
        sys.exit(compare(os.path.abspath(a.workload), a.gapmap, a.threads, a.repeat, a.baseline, tools))
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
