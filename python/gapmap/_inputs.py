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
    the geometry column's WKB)."""
    import pyarrow as pa

    fields, columns = [], []
    for field, column in zip(table.schema, table.columns):
        if isinstance(field.type, pa.ExtensionType):
            column = pa.chunked_array([c.storage for c in column.chunks], type=field.type.storage_type)
        fields.append(pa.field(field.name, column.type, field.nullable))
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))


def source(role: str, value: Any) -> Optional[Any]:
    """Registers ``value`` (a GeoDataFrame or an Arrow table) as the input ``role``; ``None`` for
    a path, which the Rust readers open as the CLI does."""
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
            crs = value.crs.to_wkt()
        geometry = value.geometry.name
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
    if geometry is None and native is not None:
        # GeoArrow's native encodings, as WKB through GeoPandas (vectorised in GEOS).
        gdf = geopandas.GeoDataFrame.from_arrow(table)
        if gdf.crs is not None:
            crs = gdf.crs.to_wkt()
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
