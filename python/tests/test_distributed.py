"""gapmap on Ray.

Tiled analyses (gapmap.distributed.analyze, python -m gapmap analyze --engine ray): every file
is the file of one run (run.json's timings and tiles aside), on the bundled region, on a
synthetic workload and with tiles smaller than the gap cluster distance, with Ray on one node,
on a two-node cluster on loopback, and when a worker dies mid-run.

Batch sweeps (gapmap.distributed.batch, python -m gapmap batch --engine ray): the tidy table
equals the one `gapmap batch` writes, timing columns aside, in the same three settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import BUNDLED, ROOT, assert_same_outputs, run_cli

ray = pytest.importorskip("ray")

import gapmap  # noqa: E402
import gapmap.distributed  # noqa: E402

# Timing columns: each scenario's own wall time, CPU time and peak memory per phase.
TIMING = ("_s", "_peak_rss_mib", "_cpu_s")


def _sweep(tmp: Path) -> Path:
    """A batch file: the bundled region's inputs, a failing workload and a grid of two drop
    distances (four scenarios, two of them failing)."""
    lines = ["[defaults]", 'settlement_id_field = "tatortskod"', 'settlement_name_field = "tatort"', ""]
    lines += ["[[workload]]", 'name = "dalarna"']
    for k in ("premises", "settlements"):
        lines.append(f'{k} = "{BUNDLED[k]}"')
    lines.append(f'fibre = ["{BUNDLED["fibre"][0]}"]')
    lines.append('fibre_layer = ["routes", "nodes"]')
    lines.append(f'mobile = ["{BUNDLED["mobile"][0]}"]')
    lines += ["", "[[workload]]", 'name = "broken"', f'premises = "{tmp}/nope.parquet"',
              f'settlements = "{BUNDLED["settlements"]}"', "", "[grid]", "drop_distance_m = [30, 60]"]
    path = tmp / "sweep.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _table(out: Path) -> pd.DataFrame:
    t = pd.read_parquet(out / "batch.parquet")
    return t[[c for c in t.columns if not c.endswith(TIMING)]]


@pytest.fixture(scope="module")
def reference(cli, tmp_path_factory) -> tuple[Path, Path]:
    """The sweep file and what `gapmap batch` (the binary) makes of it."""
    tmp = tmp_path_factory.mktemp("sweep")
    cfg = _sweep(tmp)
    run_cli(cli, "batch", str(cfg), "--out", str(tmp / "cli"))
    return cfg, tmp / "cli"


def _same_as_cli(out: Path, cli_out: Path) -> None:
    got, want = _table(out), _table(cli_out)
    assert len(want) == 2 * 115 + 2 and (want["status"] == "failed").sum() == 2
    pd.testing.assert_frame_equal(got, want)
    # Every scenario's analysis: the same files, equal as scripts/compare-builds compares them
    # (but where each was staged: its run.json's out).
    names = sorted(d.name for d in (cli_out / "scenarios").iterdir())
    assert names == sorted(d.name for d in (out / "scenarios").iterdir()) and len(names) >= 2
    for name in names:
        a, b = cli_out / "scenarios" / name, out / "scenarios" / name
        if (a / "run.json").exists():
            assert_same_outputs(a, b, drop=("plan/out", "parameters/out"))
        else:
            assert not any(b.iterdir())


@pytest.fixture
def one_node():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_a_sweep_on_ray_writes_the_table_gapmap_batch_writes(reference, tmp_path, one_node):
    cfg, cli_out = reference
    out = gapmap.distributed.batch(cfg, out=tmp_path / "ray", progress=False)
    assert isinstance(out, gapmap.Output) and out.out == tmp_path / "ray"
    assert "4 scenarios (2 failed)" in out.summary
    # One actor (one node): both scenarios of the bundled region from one read; the two of
    # the broken workload failed reading theirs.
    assert out.reads == 1
    _same_as_cli(out.out, cli_out)
    assert out.table("batch")["error"].dropna().str.contains("nope.parquet").all()


def test_a_sweep_survives_a_worker_that_dies(reference, tmp_path):
    cfg, cli_out = reference
    marker = tmp_path / "crashed"
    os.environ["GAPMAP_TEST_RAY_CRASH_ONCE"] = str(marker)
    try:
        # Workers started now inherit the hook: the first task ends its worker, Ray retries.
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        out = gapmap.distributed.batch(cfg, out=tmp_path / "ray", progress=False)
    finally:
        ray.shutdown()
        del os.environ["GAPMAP_TEST_RAY_CRASH_ONCE"]
    assert marker.exists(), "no worker was ended: the test did not test a failure"
    _same_as_cli(out.out, cli_out)


def test_a_sweep_on_a_two_node_cluster(reference, tmp_path):
    from ray.cluster_utils import Cluster

    cfg, cli_out = reference
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    try:
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        out = gapmap.distributed.batch(cfg, out=tmp_path / "ray", address=cluster.address, progress=False)
        assert not ray.is_initialized()  # the sweep let go of the cluster it joined
        # An actor per node: each read the workload its half of the scenarios needed.
        assert out.reads == 1, "the second node's scenarios (the broken workload) read nothing"
    finally:
        cluster.shutdown()
    _same_as_cli(out.out, cli_out)


def test_python_m_gapmap_batch_with_either_engine(reference, tmp_path):
    cfg, cli_out = reference
    for engine in ("local", "ray"):
        out = tmp_path / engine
        p = subprocess.run(
            [sys.executable, "-m", "gapmap", "batch", str(cfg), "--out", str(out), "--engine", engine],
            cwd=ROOT, capture_output=True, text=True,
        )
        assert p.returncode == 0, p.stderr
        assert "4 scenarios (2 failed)" in p.stdout
        _same_as_cli(out, cli_out)
    # Usage errors exit 2, as the binary's do; a published output is not written over.
    p = subprocess.run([sys.executable, "-m", "gapmap", "batch", str(cfg), "--engine", "spark"],
                       capture_output=True, text=True)
    assert p.returncode == 2 and "spark" in p.stderr
    p = subprocess.run([sys.executable, "-m", "gapmap", "batch", str(cfg), "--out", str(tmp_path / "ray"),
                        "--engine", "ray"], capture_output=True, text=True)
    assert p.returncode == 2 and "overwrite" in p.stderr, p.stderr


# What a tiled run's run.json adds to one run's, and what differs by where it was written.
TILED = ("plan/out", "parameters/out", "tiles")


@pytest.fixture(scope="module")
def whole(tmp_path_factory) -> Path:
    """The bundled region (with its backbone: fibre resilience) analysed in one process."""
    out = tmp_path_factory.mktemp("whole") / "out"
    gapmap.analyze(out=out, gpkg=True, progress=False)
    return out


def _tiles(out: Path) -> list[dict]:
    import json

    return json.loads((out / "run.json").read_text())["tiles"]["tiles"]


def test_a_tiled_analysis_on_ray_writes_the_files_of_one_run(whole, tmp_path, one_node):
    r = gapmap.distributed.analyze(tile_size_m=20_000, gpkg=True, out=tmp_path / "tiled", progress=False)
    assert isinstance(r, gapmap.Result) and r.out == tmp_path / "tiled"
    tiles = _tiles(r.out)
    assert len(tiles) > 10 and all(t["worker"] and t["seconds"] >= 0 for t in tiles)
    assert sum(t["premises"] for t in tiles) == len(r.premises)
    assert sum(t["halo_premises"] for t in tiles) > 0
    # The Result in memory is the one gapmap.analyze returns.
    one = gapmap.analyze(gpkg=True, progress=False)
    pd.testing.assert_frame_equal(r.settlements, one.settlements)
    assert r.critical_links is not None and len(r.critical_links) == len(one.critical_links)
    assert_same_outputs(whole, r.out, drop=TILED)


def test_tiles_smaller_than_the_gap_cluster_distance(tmp_path, one_node):
    # 400 m tiles and 600 m gap clusters: every halo spans two rings of tiles, and clusters
    # cross tiles everywhere (joined by the union-find).
    kw = dict(BUNDLED, gap_cluster_m=600, outputs=["tables", "maps"], progress=False)
    gapmap.analyze(out=tmp_path / "whole", **kw)
    r = gapmap.distributed.analyze(tile_size_m=400, out=tmp_path / "tiled", **kw)
    tiles = _tiles(r.out)
    assert len(tiles) > 500 and sum(t["halo_premises"] for t in tiles) > sum(t["premises"] for t in tiles) / 4
    assert_same_outputs(tmp_path / "whole", r.out, drop=TILED)


def test_a_synthetic_workload_on_ray(tmp_path, one_node):
    w = tmp_path / "w"
    gapmap.synth(settlements=BUNDLED["settlements"], premises=60_000, seed=11, out=w, progress=False)
    kw = dict(premises=w / "premises.parquet", settlements=w / "settlements.gpkg", fibre=[w / "fibre.gpkg"],
              fibre_layer=["routes", "nodes"], mobile=[w / "mobile.gpkg"], progress=False)
    gapmap.analyze(out=tmp_path / "whole", **kw)
    r = gapmap.distributed.analyze(tile_size_m=10_000, out=tmp_path / "tiled", **kw)
    assert len(_tiles(r.out)) > 20
    assert_same_outputs(tmp_path / "whole", r.out, drop=TILED)


def test_a_tiled_analysis_on_a_two_node_cluster(whole, tmp_path):
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    try:
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        r = gapmap.distributed.analyze(tile_size_m=10_000, gpkg=True, out=tmp_path / "tiled",
                                       address=cluster.address, progress=False)
        # The results stay in the lead actor, on this process's node, while Ray is up.
        assert len(r.settlements) > 100 and len(r.ray_peak_rss_mib) == 3
    finally:
        ray.shutdown()
        cluster.shutdown()
    # Both nodes computed tiles.
    assert len({t["worker"] for t in _tiles(r.out)}) == 2
    assert_same_outputs(whole, r.out, drop=TILED)


def test_a_tiled_analysis_survives_a_worker_that_dies_or_writes_nothing(whole, tmp_path):
    marker = tmp_path / "crashed"
    os.environ["GAPMAP_TEST_RAY_CRASH_ONCE"] = str(marker)
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        r = gapmap.distributed.analyze(tile_size_m=20_000, gpkg=True, out=tmp_path / "tiled", progress=False)
        assert marker.exists(), "no worker was ended: the test did not test a failure"
        assert_same_outputs(whole, r.out, drop=TILED)
        # Without retries, the tile whose worker died is an error naming it, and nothing is
        # written.
        marker.unlink()
        with pytest.raises(gapmap.Error, match=r"tile \(column -?\d+, row \d+\) failed on Ray.*nothing was written"):
            gapmap.distributed.analyze(tile_size_m=20_000, out=tmp_path / "never", max_retries=0, progress=False)
        assert not (tmp_path / "never").exists()
    finally:
        ray.shutdown()
        del os.environ["GAPMAP_TEST_RAY_CRASH_ONCE"]


def test_tiled_analysis_refuses_what_it_cannot_run(tmp_path, one_node):
    import pyarrow as pa

    table = pa.table({"x": [500_000.0], "y": [6_700_000.0]})
    with pytest.raises(gapmap.InputError, match="premises: .*paths every node"):
        gapmap.distributed.analyze(premises=table, settlements=BUNDLED["settlements"], progress=False)
    with pytest.raises(gapmap.InputError, match="tile_size_m"):
        gapmap.distributed.analyze(tile_size_m=0, progress=False)
    with pytest.raises(gapmap.InputError, match="--tile-size-m"):
        gapmap.distributed.analyze(tile_size_m=2, progress=False)
    with pytest.raises(gapmap.InputError, match="nope.parquet"):
        gapmap.distributed.analyze(premises=tmp_path / "nope.parquet", settlements=BUNDLED["settlements"],
                                   progress=False)


def test_python_m_gapmap_analyze_with_the_ray_engine(cli, tmp_path):
    # The binary, from the same directory: the bundled region is found by the same path.
    run_cli(cli, "analyze", "--gpkg", "--out", str(tmp_path / "binary"))
    out = tmp_path / "ray"
    p = subprocess.run(
        [sys.executable, "-m", "gapmap", "analyze", "--gpkg", "--out", str(out), "--engine", "ray",
         "--tile-size-m", "25000"],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert p.returncode == 0, p.stderr
    assert "fibre passed" in p.stdout and f"Wrote {len(list(out.iterdir()))} files to" in p.stdout, p.stdout
    assert len(_tiles(out)) > 5
    assert_same_outputs(tmp_path / "binary", out, drop=TILED)
    # Usage errors exit 2, as the binary's do; nothing is written.
    for extra, words in ((["--engine", "spark"], "spark"), (["--engine", "ray", "--tile-size-m", "x"], "tile-size-m"),
                         (["--engine", "ray", "--drop-distance-m", "-1"], "drop-distance-m"),
                         (["--ray-address", "auto"], "--engine ray")):
        p = subprocess.run([sys.executable, "-m", "gapmap", "analyze", "--out", str(tmp_path / "bad"), *extra],
                           cwd=ROOT, capture_output=True, text=True)
        assert p.returncode == 2 and words in p.stderr, (extra, p.stderr)
        assert not (tmp_path / "bad").exists()
