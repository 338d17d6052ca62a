"""Batch sweeps on Ray (gapmap.distributed.batch, python -m gapmap batch --engine ray): the
tidy table equals the one `gapmap batch` writes, timing columns aside, with Ray on one node,
on a two-node cluster on loopback, and when a worker dies mid-sweep."""

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
