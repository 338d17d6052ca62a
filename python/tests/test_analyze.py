"""gapmap.analyze on the bundled region: the tables in memory and the files written are the
command line's."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas
import pandas as pd
import pyarrow.parquet as pq
import pytest

import gapmap
from conftest import assert_same_outputs, run_cli


@pytest.fixture(scope="module")
def bundled() -> gapmap.Result:
    return gapmap.analyze(progress=False)


@pytest.fixture(scope="module")
def cli_out(cli, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "out"
    run_cli(cli, "analyze", "--out", str(out))
    return out


def test_write_is_byte_identical_to_the_cli(cli, same_path, bundled):
    run_cli(cli, "analyze", "--out", str(same_path.out))
    a = same_path.keep("cli")
    files = bundled.write(same_path.out)
    assert sorted(f.name for f in files) == sorted(p.name for p in same_path.out.iterdir())
    b = same_path.keep("py")
    assert_same_outputs(a, b)


def test_settlements_are_settlements_csv(bundled, cli_out):
    got = bundled.settlements
    want = pq.read_table(cli_out / "settlements.parquet").to_pandas()
    pd.testing.assert_frame_equal(got, want)
    # And the CSV has the same columns and rows (its types are text's).
    csv = pd.read_csv(cli_out / "settlements.csv")
    assert list(csv.columns) == list(got.columns)
    assert len(csv) == len(got)
    assert (csv["premises"].to_numpy() == got["premises"].to_numpy()).all()
    assert list(got["settlement_id"].iloc[:-1]) == list(csv["settlement_id"].iloc[:-1])
    assert got["settlement_id"].iloc[-1] == ""  # the rural row (an empty field in the CSV)


def test_premises_are_premises_parquet(bundled, cli_out):
    got = bundled.premises
    want = pq.read_table(cli_out / "premises.parquet")
    assert got.num_rows == want.num_rows == 129_819
    pd.testing.assert_frame_equal(got.to_pandas(), want.to_pandas())


def test_gaps_are_a_geodataframe_in_the_working_crs(bundled, cli_out):
    gaps = bundled.gaps
    assert isinstance(gaps, geopandas.GeoDataFrame)
    assert gaps.crs.to_epsg() == 3006
    web = geopandas.read_file(cli_out / "gaps.geojson")
    assert len(gaps) == len(web) > 0
    assert list(gaps["gap_id"]) == list(web["gap_id"])
    assert list(gaps["households"]) == list(web["households"])
    # The web map is the same outlines simplified by 2 m, in WGS 84.
    assert gaps.to_crs(4326).total_bounds == pytest.approx(web.total_bounds, abs=1e-3)
    # Every gap premise lies in its cluster's outline.
    prem = bundled.premises.to_pandas()
    first = prem[prem["gap_id"] == 1]
    pts = geopandas.points_from_xy(first["x"], first["y"], crs=3006)
    assert gaps.loc[gaps["gap_id"] == 1].geometry.iloc[0].buffer(0.01).contains(pts).all()


def test_critical_links_and_aid_areas(bundled, cli_out):
    links = bundled.critical_links
    web = geopandas.read_file(cli_out / "critical_links.geojson")
    assert len(links) == len(web)
    assert list(links["premises_cut"]) == list(web["premises_cut"])
    aid = bundled.aid_areas
    assert len(aid) == len(geopandas.read_file(cli_out / "aid_areas.geojson"))


def test_without_backbone_there_are_no_critical_links():
    kw = dict(__import__("conftest").BUNDLED)
    kw.pop("backbone")
    r = gapmap.analyze(progress=False, outputs=["tables"], **kw)
    assert r.critical_links is None
    assert r.gaps is None  # no maps: no outlines were drawn
    assert len(r.settlements) == 115


def test_run_info_is_run_json(bundled, tmp_path):
    before = bundled.run_info
    assert before["command"] == "analyze"
    assert before["parameters"]["drop_distance_m"] == 50.0
    r = gapmap.analyze(progress=False, drop_distance_m=20.0, outputs=["tables"])
    r.write(tmp_path / "o")
    assert r.run_info == json.loads((tmp_path / "o" / "run.json").read_text())
    assert r.run_info["parameters"]["drop_distance_m"] == 20.0


def test_keywords_are_the_cli_flags():
    names = {k for k, _, _ in gapmap.keywords("analyze")}
    for k in ("drop_distance_m", "gap_cluster_m", "premises", "backbone", "sites", "aid_preset", "threads"):
        assert k in names
    defaults = {k: d for k, d, _ in gapmap.keywords("analyze")}
    assert defaults["drop_distance_m"] == "50"
    assert defaults["crs"] == "auto"
    assert defaults["overwrite"] == "false"


def test_every_keyword_is_its_flag_with_underscores():
    # The package's rule (its docstring): --goals is goals=, --goal is goal=, for every flag of
    # every subcommand.
    from gapmap import _gapmap

    for command in ("analyze", "check", "predict", "settlements", "grid", "prioritise", "report", "synth"):
        for keyword, _, _, _, flag, _ in _gapmap.keywords(command):
            if flag.startswith("--"):
                assert keyword == flag[2:].replace("-", "_"), (command, keyword, flag)


def test_goals_and_goal_keywords():
    r = gapmap.analyze(goals="eu2030", goal=["half:fibre:50"], outputs="tables", progress=False)
    names = [g["name"] for g in r.run_info["parameters"]["policy"]["goals"]]
    assert names == ["eu2030_gigabit", "eu2030_5g", "half"]


def test_write_refuses_a_full_directory_without_overwrite(bundled, tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "mine.txt").write_text("keep me")
    with pytest.raises(gapmap.InputError):
        bundled.write(tmp_path / "x")
    assert (tmp_path / "x" / "mine.txt").read_text() == "keep me"
