#!/usr/bin/env python3
"""scripts/bench-python: the Python package against the CLI (see that script)."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
COMPARE = HERE.parent.parent / "compare" / "outputs.py"


def inputs(w: str) -> dict:
    return dict(
        premises=f"{w}/premises.parquet",
        settlements=f"{w}/settlements.gpkg",
        fibre=[f"{w}/fibre.gpkg"],
        fibre_layer=["routes", "nodes"],
        mobile=[f"{w}/mobile.gpkg"],
    )


def cli_args(w: str, out: str) -> list[str]:
    i = inputs(w)
    return ["analyze", "--premises", i["premises"], "--settlements", i["settlements"],
            "--fibre", i["fibre"][0], "--fibre-layer", "routes", "--fibre-layer", "nodes",
            "--mobile", i["mobile"][0], "--out", out]


def run_child(cmd: list[str]) -> tuple[float, float, str]:
    """Runs `cmd`; returns its wall seconds, its peak RSS in MiB, and its stdout."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    out = p.stdout.read() if p.stdout else ""
    err = p.stderr.read() if p.stderr else ""
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({p.returncode}): {err}")
    return wall, usage.ru_maxrss / 1024, out


def child_python(w: str, out: str) -> None:
    """In a fresh process: gapmap.analyze from paths, timed around the call; prints JSON."""
    import warnings

    import gapmap

    warnings.simplefilter("ignore", gapmap.Notice)
    t0 = time.perf_counter()
    gapmap.analyze(**inputs(w), out=out, progress=False)
    print(json.dumps({"call_s": time.perf_counter() - t0}))


def child_handover(w: str, out: str, rounds: int) -> None:
    """In one process: from the path and from a GeoDataFrame of the premises, interleaved."""
    import warnings

    import geopandas
    import pyarrow.parquet as pq

    import gapmap

    warnings.simplefilter("ignore", gapmap.Notice)
    df = pq.read_table(f"{w}/premises.parquet").to_pandas()
    gdf = geopandas.GeoDataFrame(df.drop(columns=["x", "y"]),
                                 geometry=geopandas.points_from_xy(df["x"], df["y"]), crs="EPSG:3006")
    times = {"path": [], "gdf": []}
    for k in range(rounds):
        for how in ("path", "gdf"):
            kw = inputs(w)
            if how == "gdf":
                kw["premises"] = gdf
            t0 = time.perf_counter()
            r = gapmap.analyze(**kw, outputs=["tables"], progress=False)
            times[how].append(time.perf_counter() - t0)
            if k == 0:
                r.write(f"{out}-{how}")
            del r
    print(json.dumps(times))


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        kind, w, out = sys.argv[2], sys.argv[3], sys.argv[4]
        if kind == "python":
            child_python(w, out)
        else:
            child_handover(w, out, int(sys.argv[5]))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("workload")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--gapmap", required=True)
    a = ap.parse_args()
    w = os.path.abspath(a.workload)
    tmp = tempfile.mkdtemp(prefix="gapmap-bench-python-")
    walls = {"cli": [], "python": [], "python_call": []}
    rss = {"cli": [], "python": []}
    for k in range(a.rounds):
        wall, peak, _ = run_child([a.gapmap, *cli_args(w, f"{tmp}/cli-{k}")])
        walls["cli"].append(wall)
        rss["cli"].append(peak)
        wall, peak, out = run_child([sys.executable, str(HERE), "--child", "python", w, f"{tmp}/python-{k}"])
        walls["python"].append(wall)
        walls["python_call"].append(json.loads(out.strip().splitlines()[-1])["call_s"])
        rss["python"].append(peak)
        print(f"round {k + 1}: cli {walls['cli'][-1]:.2f} s, python call {walls['python_call'][-1]:.2f} s "
              f"(process {walls['python'][-1]:.2f} s)", flush=True)
    # The outputs of both are the same files (run.json aside, which records the output path).
    for name in ("settlements.csv", "premises.parquet", "gaps.geojson"):
        if Path(f"{tmp}/cli-0/{name}").read_bytes() != Path(f"{tmp}/python-0/{name}").read_bytes():
            raise SystemExit(f"{name} differs between the CLI and the Python package")
    _, hand_rss, out = run_child([sys.executable, str(HERE), "--child", "handover", w, f"{tmp}/h", str(a.rounds)])
    hand = json.loads(out.strip().splitlines()[-1])
    for name in ("settlements.csv", "settlements.parquet"):
        if Path(f"{tmp}/h-path/{name}").read_bytes() != Path(f"{tmp}/h-gdf/{name}").read_bytes():
            raise SystemExit(f"{name} differs between premises from the path and from a GeoDataFrame")
    med = statistics.median
    print()
    print(f"workload: {w}, {a.rounds} rounds, interleaved")
    print(f"{'':34} {'median':>8} {'min':>7} {'max':>7}")
    for label, v in [("CLI wall (s)", walls["cli"]), ("gapmap.analyze call (s)", walls["python_call"]),
                     ("python process wall (s)", walls["python"])]:
        print(f"{label:34} {med(v):8.2f} {min(v):7.2f} {max(v):7.2f}")
    ratios = [p / c for p, c in zip(walls["python_call"], walls["cli"])]
    print(f"{'call / CLI (per round)':34} {med(ratios):8.3f} {min(ratios):7.3f} {max(ratios):7.3f}")
    print(f"{'CLI peak RSS (MiB)':34} {med(rss['cli']):8.0f} {min(rss['cli']):7.0f} {max(rss['cli']):7.0f}")
    print(f"{'python peak RSS (MiB)':34} {med(rss['python']):8.0f} {min(rss['python']):7.0f} {max(rss['python']):7.0f}")
    print(f"{'python RSS / CLI RSS':34} {med(rss['python']) / med(rss['cli']):8.3f}")
    diffs = [g - p for g, p in zip(hand["gdf"], hand["path"])]
    print(f"{'tables only, premises path (s)':34} {med(hand['path']):8.2f} {min(hand['path']):7.2f} {max(hand['path']):7.2f}")
    print(f"{'tables only, premises gdf (s)':34} {med(hand['gdf']):8.2f} {min(hand['gdf']):7.2f} {max(hand['gdf']):7.2f}")
    print(f"{'GeoDataFrame hand-over (s)':34} {med(diffs):8.2f} {min(diffs):7.2f} {max(diffs):7.2f}")
    print(f"(hand-over process peak RSS {hand_rss:.0f} MiB, GeoDataFrame included)")


if __name__ == "__main__":
    main()
