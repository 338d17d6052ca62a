"""Every other subcommand from Python: the same files as the command line, and results that
can be read back as tables."""

from __future__ import annotations

from pathlib import Path

import geopandas
import pandas as pd
import pytest

import gapmap
from conftest import DATA, assert_same_outputs, run_cli


@pytest.fixture(scope="module")
def analysis(cli, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("analysis") / "out"
    run_cli(cli, "analyze", "--out", str(out))
    return out


def _both(cli, same_path, command, cli_args, **kwargs):
    """Runs `command` by the CLI and by Python into the same path; compares; returns the
    Python run's Output."""
    run_cli(cli, command, *cli_args, "--out", str(same_path.out))
    a = same_path.keep("cli")
    result = getattr(gapmap, command)(out=same_path.out, progress=False, **kwargs)
    assert isinstance(result, gapmap.Output)
    assert result.out == same_path.out and result.files
    b = same_path.keep("py")
    assert_same_outputs(a, b)
    result.out = b
    return result


def test_grid(cli, same_path, analysis):
    g = _both(cli, same_path, "grid", [str(analysis), "--h3", "8"], analysis=str(analysis), h3=[8])
    t = g.table("scb_1km")
    assert t["premises"].sum() == 129_819
    assert isinstance(g.layer("h3_r8"), geopandas.GeoDataFrame)


def test_grid_of_a_result_in_memory(analysis):
    r = gapmap.analyze(progress=False)
    g = gapmap.grid(r, progress=False)  # written to a temporary directory first
    want = pd.read_parquet(analysis / "grid" / "scb_1km.parquet") if (analysis / "grid").exists() else None
    got = g.table("scb_1km")
    assert got["premises"].sum() == 129_819
    if want is not None:
        pd.testing.assert_frame_equal(got, want)


def test_prioritise(cli, same_path, analysis):
    p = _both(cli, same_path, "prioritise", [str(analysis), "--budget-sek", "50000000"],
              analysis=str(analysis), budget_sek=50_000_000)
    projects = p.table("projects")
    assert 0 < projects["cost_sek"].sum() <= 50_000_000 or "chosen" in projects.columns


def test_report(cli, same_path, analysis):
    r = _both(cli, same_path, "report", [str(analysis)], analysis=str(analysis))
    assert (r.out / "report.html").stat().st_size > 0


def test_report_in_swedish(cli, same_path, analysis):
    """`lang="sv"` is `--lang sv`: the same Swedish page as the command line's."""
    r = _both(cli, same_path, "report", [str(analysis), "--lang", "sv"], analysis=str(analysis), lang="sv")
    html = (r.out / "report.html").read_text(encoding="utf-8")
    assert '<html lang="sv">' in html and "Nationella mål: hela området" in html
    assert r.summary.startswith("skrev ")
    with pytest.raises(gapmap.InputError, match="sv"):
        gapmap.report(analysis=str(analysis), out=same_path.out / "x", lang="de", progress=False)


def test_predict(cli, same_path):
    p = _both(cli, same_path, "predict", [])
    assert len(p.layer("coverage")) > 0


def test_settlements(cli, same_path):
    s = _both(cli, same_path, "settlements", ["--from-premises", str(DATA / "premises.parquet")],
              from_premises=str(DATA / "premises.parquet"))
    assert "derived" in s.summary or s.files


def test_synth(cli, same_path):
    args = ["--settlements", str(DATA / "settlements.gpkg"), "--premises", "3000", "--seed", "3"]
    _both(cli, same_path, "synth", args, settlements=str(DATA / "settlements.gpkg"), premises=3000, seed=3)


def test_check():
    text = gapmap.check(progress=False)
    assert "premises" in text
    with pytest.raises(gapmap.InputError, match="both --premises and --settlements"):
        gapmap.check(premises=str(DATA / "premises.parquet"), progress=False)
