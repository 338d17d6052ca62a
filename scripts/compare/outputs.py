#!/usr/bin/env python3
"""Compares two trees of gapmap outputs file by file (scripts/compare-builds).

Every file must be byte-identical, except:
- JSON run records (run.json, grid.json, priorities.json, synth.json, batch records): compared
  parsed, without what measures the run rather than its results: timings (`timings_s`,
  `seconds`, `read_seconds`, `wall_s`...), start times, an input's `columnar` (the path it was
  read by), and a `plan` key present on one side only
  (the plan that run.json records since the library refactor), a key that is null on one
  side and absent on the other (an optional setting the older build did not have), and the size and SHA-256 that
  `files` records for a GeoPackage (they hash its write timestamps; its tables are compared
  below);
- GeoPackages: compared table by table through SQLite, without the `last_change` and
  `update_time` timestamps;
- report.html and the .stdout captures: compared with timestamps and durations masked;
- batch tables (batch.csv/.parquet): compared without their timing columns.
Prints what differs; exits 1 if anything does.
"""
import json
import re
import sqlite3
import sys
from pathlib import Path

TIME_KEYS = {"timings_s", "seconds", "read_seconds", "started_utc", "analysis_started_utc",
             "wall_s", "cpu_s", "peak_rss_mib", "elapsed_s",
             # How an input was read (GDAL's Arrow stream or feature by feature), not what.
             "columnar"}
STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
DURATION = re.compile(r"\b\d+(\.\d+)? ?(s|ms|min)\b")
TMPDIR = re.compile(r"/tmp/[^\s\"']*?/(old|new)/")
STAGING = re.compile(r"\.gapmap-staging-\w+")
BATCH_ROW = re.compile(r"^(\S+\s+(ok|failed))\s+.*$", re.M)


def strip(v, other):
    if isinstance(v, dict):
        out = {}
        gpkg_digest = str(v.get("name", "")).endswith(".gpkg") and "sha256" in v
        for k, x in v.items():
            if k in TIME_KEYS or (gpkg_digest and k in ("sha256", "bytes")):
                continue
            if k == "plan" and not (isinstance(other, dict) and "plan" in other):
                continue
            # A new optional key, null, that the other build does not write yet.
            if x is None and isinstance(other, dict) and k not in other:
                continue
            out[k] = strip(x, other.get(k) if isinstance(other, dict) else None)
        return out
    if isinstance(v, list):
        o = other if isinstance(other, list) else [None] * len(v)
        return [strip(x, o[i] if i < len(o) else None) for i, x in enumerate(v)]
    if isinstance(v, str):
        return STAGING.sub(".gapmap-staging-X", TMPDIR.sub("/tmp/X/", v))
    return v


def compare_json(a, b):
    ja, jb = json.loads(a.read_text()), json.loads(b.read_text())
    ja, jb = strip(ja, jb), strip(jb, ja)
    if "plan" in ja and "plan" in jb:
        pass
    return ja == jb


def gpkg_rows(path):
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    out = {}
    for (name,) in con.execute("select name from sqlite_master where type='table' order by name"):
        cols = [r[1] for r in con.execute(f'pragma table_info("{name}")')]
        keep = [c for c in cols if c not in ("last_change", "update_time")]
        sel = ", ".join(f'"{c}"' for c in keep)
        out[name] = (keep, con.execute(f'select {sel} from "{name}" order by rowid').fetchall())
    con.close()
    return out


def masked(path):
    text = path.read_text(errors="replace")
    if path.name == "batch.stdout":
        # One row per scenario: its wall time and peak memory.
        text = BATCH_ROW.sub(r"\1 <measured>", text)
    return DURATION.sub("<t>", STAMP.sub("<stamp>", TMPDIR.sub("/tmp/X/", text)))


def timing_column(name):
    """A column of the batch table that measures the run: a phase's `_s`, `_cpu_s` or
    `_peak_rss_mib`."""
    return name.endswith(("_s", "_peak_rss_mib", "_cpu_s")) or "seconds" in name


def batch_table(path):
    import csv
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        return rows
    head = rows[0]
    keep = [i for i, h in enumerate(head) if not timing_column(h)]
    return [[TMPDIR.sub("/tmp/X/", r[i]) for i in keep] for r in rows]


def same(a, b):
    if a.read_bytes() == b.read_bytes():
        return True
    name = a.name
    if name.endswith(".json"):
        return compare_json(a, b)
    if name.endswith(".gpkg"):
        return gpkg_rows(a) == gpkg_rows(b)
    if name.endswith(".html") or name.endswith(".stdout") or name.endswith(".log"):
        return masked(a) == masked(b)
    if name == "batch.csv":
        return batch_table(a) == batch_table(b)
    if name == "batch.parquet":
        try:
            import pyarrow.parquet as pq
        except ImportError:
            return None
        ta, tb = pq.read_table(a), pq.read_table(b)
        drop = [c for c in ta.column_names if timing_column(c)]
        return ta.drop(drop).equals(tb.drop([c for c in drop if c in tb.column_names]))
    return False


def main():
    old, new = Path(sys.argv[1]), Path(sys.argv[2])
    files_old = {p.relative_to(old) for p in old.rglob("*") if p.is_file()}
    files_new = {p.relative_to(new) for p in new.rglob("*") if p.is_file()}
    bad = 0
    for p in sorted(files_old ^ files_new):
        print(f"only in {'old' if p in files_old else 'new'}: {p}")
        bad += 1
    checked = unchecked = 0
    for p in sorted(files_old & files_new):
        if p.name == "stderr.log":
            continue
        r = same(old / p, new / p)
        if r is None:
            unchecked += 1
            print(f"not compared (pyarrow missing): {p}")
        elif r:
            checked += 1
        else:
            bad += 1
            print(f"differs: {p}")
    print(f"{checked} files identical, {bad} differ, {unchecked} not compared")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
