"""Tables in memory as gapmap inputs: GeoDataFrames and Arrow tables handed to Rust through
the Arrow C stream interface, with no per-row Python work."""

from __future__ import annotations

import json
import os
from typing import Any, Optional

from . import _gapmap

_ANALYSIS_LAYERS = frozenset(
    ["premises", "settlements", "fibre", "mobile", "backbone", "sites", "population", "fixed", "planned"]
)

#: Per subcommand, the keywords that take a layer: a path, a GeoDataFrame or an Arrow table.
TABLE_KEYWORDS = {
    "analyze": _ANALYSIS_LAYERS,
    "check": _ANALYSIS_LAYERS,
    "predict": frozenset(["sites", "premises", "population"]),
    "settlements": frozenset(["from_premises"]),
    "synth": frozenset(["settlements", "land"]),
    "grid": frozenset(["settlements", "regions"]),
    "prioritise": frozenset(["roads", "fibre"]),
    "report": frozenset(),
}

_WKB_EXTENSIONS = {"geoarrow.wkb", "ogc.wkb"}
_GEOARROW_NATIVE = {
    "geoarrow.point",
    "geoarrow.linestring",
    "geoarrow.polygon",
    "geoarrow.multipoint",
    "geoarrow.multilinestring",
    "geoarrow.multipolygon",
    "geoarrow.geometry",
    "geoarrow.wkt",
}
_GEOMETRY_NAMES = ("geometry", "geom", "wkb_geometry", "the_geom")


def _pyproj_crs(crs: Any) -> str:
    """A pyproj CRS as gapmap reads it: its authority code when it is exactly that (so the
    working CRS is recognised as the same, with no transformation), else its WKT."""
    auth = crs.to_authority(min_confidence=100)
    return f"{auth[0]}:{auth[1]}" if auth else crs.to_wkt()


def _is_path(v: Any) -> bool:
    return isinstance(v, (str, bytes, os.PathLike))


def _crs_text(crs: Any) -> Optional[str]:
    """A CRS from metadata (PROJJSON object, or text) as text OSR reads."""
    if crs is None:
        return None
    if isinstance(crs, (dict, list)):
        return json.dumps(crs)
    return str(crs)


def _geoarrow_field(field: Any) -> tuple[Optional[str], Optional[str]]:
    """(extension name, CRS) of a field, from pyarrow's type or the field's metadata."""
    import pyarrow as pa

    name = meta = None
    if isinstance(field.type, pa.ExtensionType):
        name = field.type.extension_name
        try:
            meta = field.type.__arrow_ext_serialize__().decode()
        except Exception:  # an extension type gapmap does not know: no CRS from it
            meta = None
    elif field.metadata:
        raw = field.metadata.get(b"ARROW:extension:name")
        name = raw.decode() if raw else None
        m = field.metadata.get(b"ARROW:extension:metadata")
        meta = m.decode() if m else None
    crs = None
    if meta:
        try:
            crs = _crs_text(json.loads(meta).get("crs"))
        except (ValueError, AttributeError):
            crs = None
    return name, crs


def _plain(table: Any) -> Any:
    """The table with extension types as their storage and no field metadata (gapmap reads
    the geometry column's WKB); dictionary (pandas category) columns as their values, and
    dates, times and decimals as text, as GDAL reads them from a file (gapmap's tables take
    numbers and text)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    fields, columns = [], []
    for field, column in zip(table.schema, table.columns):
        if isinstance(field.type, pa.ExtensionType):
            column = pa.chunked_array([c.storage for c in column.chunks], type=field.type.storage_type)
        if pa.types.is_dictionary(column.type):
            column = pc.cast(column, column.type.value_type)
        if pa.types.is_temporal(column.type) or pa.types.is_decimal(column.type):
            column = pc.cast(column, pa.string())
        fields.append(pa.field(field.name, column.type, field.nullable))
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))


def _points_as_xy(table: Any, column: str, xy: tuple[str, str]) -> Optional[Any]:
    """A GeoArrow point column (interleaved or separated, 2D, no nulls) as the premise reader's
    x/y columns, without copying through WKB; ``None`` when the column is anything else."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    field = table.schema.field(column)
    name, _ = _geoarrow_field(field)
    if name != "geoarrow.point":
        return None
    col = table.column(column)
    if isinstance(field.type, pa.ExtensionType):
        col = pa.chunked_array([c.storage for c in col.chunks], type=field.type.storage_type)
    if col.null_count:
        return None
    t = col.type
    if pa.types.is_fixed_size_list(t) and t.list_size == 2:
        flat = pc.list_flatten(col).to_numpy(zero_copy_only=False).reshape(-1, 2)
        x, y = np.ascontiguousarray(flat[:, 0]), np.ascontiguousarray(flat[:, 1])
    elif pa.types.is_struct(t) and [t.field(i).name for i in range(t.num_fields)] == ["x", "y"]:
        x = pc.struct_field(col, "x").to_numpy()
        y = pc.struct_field(col, "y").to_numpy()
    else:
        return None
    rest = table.drop([c for c in (column, *xy) if c in table.column_names])
    return rest.append_column(xy[0], pa.array(x)).append_column(xy[1], pa.array(y))


def _gdf_points_as_xy(gdf: Any, xy: tuple[str, str]) -> Optional[Any]:
    """A GeoDataFrame of points (none missing or empty) as a table with x/y columns: two
    vectorised GEOS calls, where encoding a million points as WKB takes 0.4 s and as GeoArrow
    0.25 s. ``None`` when any geometry is not a point."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import shapely

    geoms = np.asarray(gdf.geometry.values)
    if not (shapely.get_type_id(geoms) == 0).all():
        return None
    coords = shapely.get_coordinates(geoms)
    if len(coords) != len(geoms):  # empty points have no coordinates
        return None
    attrs = pd.DataFrame(gdf.drop(columns=[c for c in (gdf.geometry.name, *xy) if c in gdf.columns]))
    table = pa.Table.from_pandas(attrs, preserve_index=False)
    return table.append_column(xy[0], pa.array(coords[:, 0])).append_column(
        xy[1], pa.array(np.ascontiguousarray(coords[:, 1]))
    )


def source(role: str, value: Any, xy: tuple[str, str] = ("x", "y")) -> Optional[Any]:
    """Registers ``value`` (a GeoDataFrame or an Arrow table) as the input ``role``; ``None`` for
    a path, which the Rust readers open as the CLI does. ``xy``: the premise reader's coordinate
    columns (``x_field``, ``y_field``), which point premises are handed over as."""
    if _is_path(value) or isinstance(value, (int, float)):
        return None
    import pyarrow as pa

    crs: Optional[str] = None
    geometry: Optional[str] = None
    try:
        import geopandas
    except ImportError:  # pragma: no cover - a dependency
        geopandas = None
    if geopandas is not None and isinstance(value, geopandas.GeoDataFrame):
        if value.crs is not None:
            crs = _pyproj_crs(value.crs)
        geometry = value.geometry.name
        if role == "premises":
            points = _gdf_points_as_xy(value, xy)
            if points is not None:
                return _gapmap.register(role, _plain(points).__arrow_c_stream__(), None, crs)
        table = pa.table(value.to_arrow(geometry_encoding="WKB", index=False))
        return _gapmap.register(role, _plain(table).__arrow_c_stream__(), geometry, crs)
    if not hasattr(value, "__arrow_c_stream__"):
        raise TypeError(
            f"{role}=: expected a path, a GeoDataFrame or an Arrow table (an object with "
            f"__arrow_c_stream__), not {type(value).__name__}"
        )
    table = pa.RecordBatchReader.from_stream(value).read_all()
    # The geometry column: a GeoArrow extension, the GeoParquet metadata's primary column, or
    # a binary column with a usual name.
    geo_meta = (table.schema.metadata or {}).get(b"geo")
    native = None
    for field in table.schema:
        ext, ext_crs = _geoarrow_field(field)
        if ext in _WKB_EXTENSIONS:
            geometry, crs = field.name, ext_crs
            break
        if ext in _GEOARROW_NATIVE:
            native, crs = field.name, ext_crs
    if geometry is None and geo_meta:
        try:
            g = json.loads(geo_meta)
            primary = g.get("primary_column")
            if primary in table.column_names:
                geometry = primary
                crs = crs or _crs_text(g.get("columns", {}).get(primary, {}).get("crs"))
                if g.get("columns", {}).get(primary, {}).get("encoding", "WKB").upper() != "WKB":
                    native, geometry = primary, None
        except ValueError:
            pass
    if geometry is None and native is not None and role == "premises":
        points = _points_as_xy(table, native, xy)
        if points is not None:
            return _gapmap.register(role, _plain(points).__arrow_c_stream__(), None, crs)
    if geometry is None and native is not None:
        # GeoArrow's native encodings, as WKB through GeoPandas (vectorised in GEOS).
        gdf = geopandas.GeoDataFrame.from_arrow(table)
        if gdf.crs is not None:
            crs = _pyproj_crs(gdf.crs)
        geometry = gdf.geometry.name
        table = pa.table(gdf.to_arrow(geometry_encoding="WKB", index=False))
    if geometry is None:
        for name in _GEOMETRY_NAMES:
            if name not in table.column_names:
                continue
            t = table.schema.field(name).type
            if pa.types.is_binary(t) or pa.types.is_large_binary(t) or str(t) == "binary_view":
                geometry = name
                break
    if crs is None and table.schema.metadata and b"crs" in table.schema.metadata:
        crs = table.schema.metadata[b"crs"].decode()  # gapmap's own Parquet tables
    if geometry is None and role != "premises":
        raise _gapmap.InputError(
            f"{role}: the table has no geometry column (GeoArrow, GeoParquet metadata, or a WKB "
            f"column named one of {', '.join(_GEOMETRY_NAMES)}); columns: {', '.join(table.column_names)}"
        )
    return _gapmap.register(role, _plain(table).__arrow_c_stream__(), geometry, crs)
