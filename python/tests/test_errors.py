"""Bad input: gapmap.InputError with the command line's message where it exits 2; Python's
TypeError for a keyword that does not exist."""

from __future__ import annotations

import pytest

import gapmap
from conftest import DATA, cli_error


def _same_as_cli(cli, cli_args, **kwargs):
    code, message = cli_error(cli, *cli_args)
    assert code == 2
    with pytest.raises(gapmap.InputError) as e:
        gapmap.analyze(progress=False, **kwargs)
    assert str(e.value) == message
    assert isinstance(e.value, gapmap.Error)  # every gapmap error can be caught as one


def test_a_missing_file(cli, tmp_path):
    missing = str(tmp_path / "nope.gpkg")
    _same_as_cli(
        cli,
        ["analyze", "--premises", missing, "--settlements", str(DATA / "settlements.gpkg"), "--out", str(tmp_path / "o")],
        premises=missing,
        settlements=str(DATA / "settlements.gpkg"),
    )


def test_a_value_out_of_range(cli, tmp_path):
    _same_as_cli(cli, ["analyze", "--drop-distance-m", "-1", "--out", str(tmp_path / "o")], drop_distance_m=-1)


def test_a_value_clap_refuses(cli, tmp_path):
    code, message = cli_error(cli, "analyze", "--drop-distance-m", "far", "--out", str(tmp_path / "o"))
    assert code == 2
    with pytest.raises(gapmap.InputError) as e:
        gapmap.analyze(drop_distance_m="far")
    assert str(e.value) == message


def test_a_missing_field(cli, tmp_path):
    _same_as_cli(
        cli,
        ["analyze", "--settlement-id-field", "nope", "--out", str(tmp_path / "o")],
        settlement_id_field="nope",
    )


def test_an_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError, match="unexpected keyword argument 'drop_distance'"):
        gapmap.analyze(drop_distance=50)


def test_a_value_of_the_wrong_type_is_a_type_error():
    with pytest.raises(TypeError, match="keyword value"):
        gapmap.analyze(drop_distance_m={"a": 1})


def test_a_switch_takes_a_bool():
    with pytest.raises(TypeError, match="switch"):
        gapmap.analyze(gpkg="yes")
