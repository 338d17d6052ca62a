"""Shared fixtures: the repository, the command line built from it, and comparison of output
directories as scripts/compare-builds compares them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import gapmap

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data" / "dalarna"
COMPARE = ROOT / "scripts" / "compare" / "outputs.py"

# What the bundled region is when its inputs are named one by one.
BUNDLED = dict(
    premises=str(DATA / "premises.parquet"),
    settlements=str(DATA / "settlements.gpkg"),
    fibre=[str(DATA / "fibre.gpkg")],
    fibre_layer=["routes", "nodes"],
    mobile=[str(DATA / "mobile.geojson")],
    backbone=str(DATA / "backbone.gpkg"),
    settlement_id_field="tatortskod",
    settlement_name_field="tatort",
)


@pytest.fixture(autouse=True)
def _quiet_notices():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gapmap.Notice)
        yield


@pytest.fixture(scope="session")
def cli() -> Path:
    """The `gapmap` binary of this checkout (release, as scripts/gapmap builds it)."""
    subprocess.run(
        ["cargo", "build", "--quiet", "--release", "-p", "gapmap-cli"], cwd=ROOT, check=True
    )
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / "release" / "gapmap"


def run_cli(cli: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    p = subprocess.run([str(cli), *args], cwd=ROOT, capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError(f"gapmap {' '.join(args)} exited {p.returncode}: {p.stderr}")
    return p


def cli_error(cli: Path, *args: str) -> tuple[int, str]:
    """The exit code and the message (after `error: `) of a failing CLI run."""
    p = run_cli(cli, *args, check=False)
    lines = [l for l in p.stderr.splitlines() if l.startswith("error: ")]
    assert lines, p.stderr
    return p.returncode, lines[-1][len("error: "):]


class SamePath:
    """Runs that write into one path, one after the other, each moved aside after: their
    outputs (run.json records the output directory) can then be compared byte for byte."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.out = tmp / "run" / "out"

    def keep(self, name: str) -> Path:
        dest = self.tmp / name
        shutil.move(str(self.out), dest)
        return dest


@pytest.fixture
def same_path(tmp_path: Path) -> SamePath:
    (tmp_path / "run").mkdir()
    return SamePath(tmp_path)


def _drop_keys(d: Path, keys: tuple[str, ...]) -> None:
    """Removes `keys` (paths like `plan/threads`) from d/run.json."""
    run = json.loads((d / "run.json").read_text())
    for k in keys:
        *parents, last = k.split("/")
        node = run
        for p in parents:
            node = node.get(p, {})
        node.pop(last, None)
    (d / "run.json").write_text(json.dumps(run, indent=2))


def assert_same_outputs(a: Path, b: Path, *, inputs_differ: bool = False, drop: tuple[str, ...] = ()) -> None:
    """Every file of `a` and `b` identical as scripts/compare-builds decides (timings and
    timestamps aside). `inputs_differ`: the inputs were handed over in memory on one side, so
    run.json's input records (path, driver, hash) and the plan's input paths may differ; every
    other file must still be identical byte for byte, and run.json in everything else."""
    if drop:
        _drop_keys(a, drop)
        _drop_keys(b, drop)
    if not inputs_differ:
        p = subprocess.run([sys.executable, str(COMPARE), str(a), str(b)], capture_output=True, text=True)
        assert p.returncode == 0, p.stdout + p.stderr
        return
    names_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    names_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert names_a == names_b
    for n in names_a:
        if n.name == "run.json":
            continue
        assert (a / n).read_bytes() == (b / n).read_bytes(), f"{n} differs"
    ra, rb = (json.loads((d / "run.json").read_text()) for d in (a, b))
    for r in (ra, rb):
        r.pop("inputs")
        r.pop("timings_s", None)
        r.pop("started_utc", None)
        r.pop("peak_rss_mib", None)
        for k in ("premises", "settlements", "fibre", "mobile", "fibre_layer", "assume_crs"):
            r["plan"].pop(k, None)
        r["plan"]["resilience"].pop("backbone", None)
        r.get("resilience", {}).pop("backbone", None)
        r["parameters"].pop("bundled_region", None)
        r["parameters"].pop("assume_crs", None)
        r["parameters"].pop("fibre_layer", None)
        r.pop("files", None)
    assert ra == rb
