"""Inputs in memory: GeoDataFrames, pyarrow and polars tables, GeoArrow metadata, and their
CRS; each gives the command line's results on the bundled region."""

from __future__ import annotations

import geopandas
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import gapmap
from conftest import BUNDLED, DATA, ROOT, assert_same_outputs, cli_error, run_cli


def _premises_gdf(crs="EPSG:3006"):
    df = pq.read_table(DATA / "premises.parquet").to_pandas()
    return geopandas.GeoDataFrame(
        df.drop(columns=["x", "y"]), geometry=geopandas.points_from_xy(df.x, df.y), crs="EPSG:3006"
    ).to_crs(crs)


@pytest.fixture(scope="module")
def layers():
    return dict(
        premises=_premises_gdf(),
        settlements=geopandas.read_file(DATA / "settlements.gpkg"),
        fibre=[
            geopandas.read_file(DATA / "fibre.gpkg", layer="routes"),
            geopandas.read_file(DATA / "fibre.gpkg", layer="nodes"),
        ],
        mobile=[geopandas.read_file(DATA / "mobile.geojson")],
        backbone=geopandas.read_file(DATA / "backbone.gpkg"),
    )


def _fields():
    return dict(settlement_id_field="tatortskod", settlement_name_field="tatort", progress=False)


def test_geodataframes_give_the_cli_outputs(cli, same_path, layers):
    run_cli(cli, "analyze", "--out", str(same_path.out))
    a = same_path.keep("cli")
    r = gapmap.analyze(**layers, **_fields())
    r.write(same_path.out)
    b = same_path.keep("gdf")
    assert_same_outputs(a, b, inputs_differ=True)
    # run.json says where the inputs came from.
    drivers = {i["role"]: i["driver"] for i in r.run_info["inputs"]}
    assert drivers["premises"] == "Arrow table in memory"


def test_arrow_and_polars_premises_give_the_cli_outputs(cli, same_path):
    run_cli(cli, "analyze", "--out", str(same_path.out))
    a = same_path.keep("cli")
    table = pq.read_table(DATA / "premises.parquet")
    kw = dict(BUNDLED)
    kw.pop("premises")
    for name, premises in [
        ("pyarrow", table.replace_schema_metadata({"crs": "EPSG:3006"})),
        ("polars", pl.read_parquet(DATA / "premises.parquet")),
    ]:
        extra = {} if name == "pyarrow" else {"assume_crs": "EPSG:3006"}
        gapmap.analyze(premises=premises, progress=False, **kw, **extra).write(same_path.out)
        b = same_path.keep(name)
        assert_same_outputs(a, b, inputs_differ=True)


def test_geoarrow_tables_carry_their_crs(layers):
    """A pyarrow table from GeoPandas (geoarrow.wkb, CRS in the extension metadata) is read as
    the GeoDataFrame it came from; so is a native GeoArrow point column."""
    sett = layers["settlements"]
    wkb = pa.table(sett.to_arrow(geometry_encoding="WKB", index=False))
    native = pa.table(layers["premises"].to_arrow(geometry_encoding="geoarrow", index=False))
    r1 = gapmap.analyze(premises=native, settlements=wkb, outputs=["tables"], **_fields())
    r2 = gapmap.analyze(premises=layers["premises"], settlements=sett, outputs=["tables"], **_fields())
    assert r1.settlements.equals(r2.settlements)
    assert r1.run_info["inputs"][0]["crs"] == r2.run_info["inputs"][0]["crs"]


def test_a_crs_is_carried_and_reprojected(layers):
    """Premises in WGS 84 are reprojected into the working CRS: the same settlement of every
    premise as from SWEREF 99 TM."""
    base = gapmap.analyze(premises=layers["premises"], settlements=layers["settlements"],
                          outputs=["tables", "premises"], **_fields())
    wgs = gapmap.analyze(premises=_premises_gdf("EPSG:4326"), settlements=layers["settlements"],
                         outputs=["tables", "premises"], **_fields())
    assert wgs.run_info["working_crs"] == base.run_info["working_crs"]
    a, b = base.premises.to_pandas(), wgs.premises.to_pandas()
    assert (a["settlement_id"] == b["settlement_id"]).all()
    assert (a["x"] - b["x"]).abs().max() < 1e-3
    assert base.settlements["premises"].tolist() == wgs.settlements["premises"].tolist()


def test_a_table_without_a_crs_needs_assume_crs(cli):
    table = pq.read_table(DATA / "premises.parquet")  # pyarrow drops the file's CRS metadata
    kw = dict(BUNDLED)
    kw.pop("premises")
    with pytest.raises(gapmap.InputError, match="no coordinate reference system"):
        gapmap.analyze(premises=table, progress=False, **kw)
    r = gapmap.analyze(premises=table, assume_crs="EPSG:3006", progress=False, outputs=["tables"], **kw)
    assert r.run_info["inputs"][1]["crs_assumed"] is True


def test_a_layer_without_geometry_is_an_input_error():
    with pytest.raises(gapmap.InputError, match="no geometry column"):
        gapmap.analyze(premises=str(DATA / "premises.parquet"), settlements=pa.table({"a": [1]}))


def test_not_a_table_is_a_type_error():
    with pytest.raises(TypeError, match="expected a path, a GeoDataFrame or an Arrow table"):
        gapmap.analyze(premises={"x": [1.0]}, settlements=str(DATA / "settlements.gpkg"))


def test_bad_wkb_names_the_row():
    t = pa.table({"id": [1, 2], "geometry": pa.array([b"\x01\x01\x00\x00\x00", b"junk"], pa.binary())})
    with pytest.raises(gapmap.InputError, match="row 0"):
        gapmap.analyze(premises=t, settlements=str(DATA / "settlements.gpkg"), assume_crs="EPSG:3006")


def test_geoparquet_metadata_carries_the_geometry_column_and_crs(tmp_path, layers):
    """A pyarrow table read from GeoParquet keeps the `geo` metadata: its primary column and
    CRS are used."""
    path = tmp_path / "settlements.parquet"
    layers["settlements"].to_crs(4326).to_parquet(path)
    table = pq.read_table(path)
    assert b"geo" in table.schema.metadata
    r = gapmap.analyze(premises=layers["premises"], settlements=table, outputs=["tables"], **_fields())
    base = gapmap.analyze(premises=layers["premises"], settlements=layers["settlements"],
                          outputs=["tables"], **_fields())
    assert r.settlements["premises"].tolist() == base.settlements["premises"].tolist()


def test_a_duckdb_relation(layers):
    duckdb = pytest.importorskip("duckdb")
    rel = duckdb.sql(f"SELECT * FROM read_parquet('{DATA / 'premises.parquet'}')")
    r = gapmap.analyze(premises=rel, settlements=layers["settlements"], assume_crs="EPSG:3006",
                       outputs=["tables"], **_fields())
    base = gapmap.analyze(premises=layers["premises"], settlements=layers["settlements"],
                          outputs=["tables"], **_fields())
    assert r.settlements.equals(base.settlements)


def test_real_scb_tatorter_with_dates_and_categories(layers):
    """SCB's own tätorter file (a `validfrom` timestamp) as a GeoDataFrame, with a category
    column besides: dates and categories cross as text, and the settlements are those of the
    file read by path."""
    path = ROOT.parent / "shared" / "data" / "scb-tatorter-2023-national" / "tatorter_2023_dalarna_sweref99tm.geojson"
    if not path.exists():
        pytest.skip(f"{path} is not on this machine")
    sett = geopandas.read_file(path)
    assert any(str(t).startswith("datetime") for t in sett.dtypes)
    sett["lan"] = sett["tatortskod"].str[:2].astype("category")
    kw = dict(premises=layers["premises"], outputs=["tables"], progress=False,
              settlement_id_field="tatortskod", settlement_name_field="tatort")
    a = gapmap.analyze(settlements=sett, **kw).settlements
    b = gapmap.analyze(settlements=str(path), **kw).settlements
    assert a.equals(b)
    assert len(a) == len(sett) + 1
