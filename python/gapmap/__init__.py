"""gapmap: broadband and mobile coverage gaps per premise and per settlement.

One function per subcommand of the ``gapmap`` command line. Every keyword is the flag's name
with underscores, with the flag's default (``drop_distance_m=50.0`` is ``--drop-distance-m 50``);
the keywords are parsed by the command line's own definitions, so names, defaults, ranges and
messages cannot drift apart.

>>> import gapmap
>>> r = gapmap.analyze()                 # no inputs: the bundled region, as the CLI
>>> r.settlements.head()                 # pandas: settlements.csv's columns and values
>>> r.gaps.plot(column="kind")           # GeoDataFrame in the working CRS
>>> r.write("out/")                      # exactly what ``gapmap analyze --out out/`` writes

Inputs are paths (read in Rust, exactly as the CLI reads them), GeoDataFrames, or any Arrow
table (``__arrow_c_stream__``: pyarrow, polars, DuckDB) with a WKB or GeoArrow geometry
column. Errors are :class:`InputError` where the CLI exits 2 and :class:`Error` otherwise, with
the CLI's message.
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any, Callable, Optional, Union

from . import _gapmap
from ._gapmap import Error, InputError
from ._inputs import TABLE_KEYWORDS, source
from ._progress import Progress

__version__ = _gapmap.__version__

__all__ = [
    "Error",
    "InputError",
    "Notice",
    "Result",
    "Output",
    "analyze",
    "check",
    "predict",
    "grid",
    "prioritise",
    "report",
    "settlements",
    "synth",
    "keywords",
]


class Notice(UserWarning):
    """What the command line prints as ``note: ...``: a default that applied, features repaired
    or skipped. Every notice is also recorded in run.json."""


def _notice(text: str) -> None:
    warnings.warn(text, Notice, stacklevel=3)


class _Stream:
    """An Arrow C stream capsule as an object pyarrow (and polars, DuckDB) can read."""

    def __init__(self, capsule: Any) -> None:
        self._capsule = capsule

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        if self._capsule is None:
            raise RuntimeError("an Arrow stream is read once")
        capsule, self._capsule = self._capsule, None
        return capsule


def _table(capsule: Any):
    """A pyarrow Table from an Arrow C stream capsule, or from a table already (the results
    of a tiled analysis come from a Ray actor as Arrow)."""
    import pyarrow as pa

    if isinstance(capsule, pa.Table):
        return capsule
    return pa.RecordBatchReader.from_stream(_Stream(capsule)).read_all()


def _crs_for_geopandas(label: str, wkt: str) -> str:
    # An authority code where gapmap has one (EPSG:3006), else the full WKT.
    head, _, code = label.partition(":")
    return label if head.isalpha() and code.isdigit() else wkt


def keywords(command: str) -> list[tuple[str, Optional[str], str]]:
    """``[(keyword, default, help)]`` of a subcommand: its flags, as the CLI's ``--help`` lists
    them (the default as the CLI spells it; ``None``: none)."""
    return [(k, d, h) for k, d, h, *_ in _gapmap.keywords(command)]


def _progress(progress: Any) -> Optional[Callable[..., None]]:
    if progress is False:
        return None
    if progress is None or progress is True:
        try:
            import tqdm  # noqa: F401
        except ImportError:
            return None
        return Progress()
    return Progress(progress)


class Result:
    """An analysis in memory: the tables ``gapmap analyze`` writes, without writing them.

    Attributes are computed on first use and kept.
    """

    def __init__(self, native: Any) -> None:
        self._native = native
        self._cache: dict[str, Any] = {}
        self.out: Optional[Path] = None

    def _get(self, name: str, make: Callable[[], Any]) -> Any:
        if name not in self._cache:
            self._cache[name] = make()
        return self._cache[name]

    @property
    def crs(self) -> str:
        """The working CRS: an authority code (``EPSG:3006``) or WKT."""
        label, wkt = self._native.crs()
        return _crs_for_geopandas(label, wkt)

    @property
    def settlements(self):
        """pandas DataFrame: settlements.csv's columns and values, the rural row last."""
        return self._get("settlements", lambda: _table(self._native.settlements()).to_pandas())

    @property
    def premises(self):
        """pyarrow Table: premises.parquet's columns and rows, in input order."""
        return self._get("premises", lambda: _table(self._native.premises()))

    def _geo(self, name: str, capsule: Any):
        if capsule is None:
            return None
        import geopandas
        import shapely

        t = _table(capsule)
        wkb = t.column("geometry").to_numpy(zero_copy_only=False)
        df = t.drop(["geometry"]).to_pandas()
        return geopandas.GeoDataFrame(df, geometry=shapely.from_wkb(wkb), crs=self.crs)

    @property
    def gaps(self):
        """GeoDataFrame of gap clusters in the working CRS (``r.gaps.to_crs(4326)`` is the web
        map); ``None`` when ``outputs`` leaves out the maps."""
        return self._get("gaps", lambda: self._geo("gaps", self._native.gaps()))

    @property
    def aid_areas(self):
        """GeoDataFrame of state-aid white areas, or ``None``."""
        return self._get("aid_areas", lambda: self._geo("aid_areas", self._native.aid_areas()))

    @property
    def critical_links(self):
        """GeoDataFrame of critical fibre corridors (with ``backbone``), or ``None``."""
        return self._get(
            "critical_links", lambda: self._geo("critical_links", self._native.critical_links())
        )

    @property
    def run_info(self) -> dict:
        """run.json's content: the one written by :meth:`write`, else the record so far."""
        return json.loads(self._native.run_info())

    def write(
        self, out: Union[str, os.PathLike], overwrite: bool = False, progress: Any = None
    ) -> list[Path]:
        """Writes exactly the files ``gapmap analyze --out OUT`` writes (all or nothing);
        returns their paths."""
        files = self._native.write(os.fspath(out), overwrite, _progress(progress), _notice)
        self.out = Path(out)
        return [Path(f) for f in files]

    def __repr__(self) -> str:
        return f"<gapmap.Result: {len(self.settlements) - 1} settlements, CRS {self.crs}>"


class Output:
    """What a subcommand wrote: its directory, files and summary; tables read on demand."""

    def __init__(self, command: str, summary: str, out: Optional[Path], keep: Any = None) -> None:
        self.command = command
        self.summary = summary
        self.out = out
        self._keep = keep  # a temporary analysis directory, kept while this lives

    @property
    def files(self) -> list[Path]:
        if self.out is None or not self.out.is_dir():
            return []
        return sorted(p for p in self.out.rglob("*") if p.is_file())

    def table(self, name: str):
        """``NAME.parquet`` in the output directory as a pandas DataFrame."""
        import pyarrow.parquet as pq

        return pq.read_table(self._path(name, ".parquet")).to_pandas()

    def layer(self, name: str):
        """``NAME.geojson`` in the output directory as a GeoDataFrame (WGS 84)."""
        import geopandas

        return geopandas.read_file(self._path(name, ".geojson"))

    def _path(self, name: str, ext: str) -> Path:
        if self.out is None:
            raise Error(f"{self.command} wrote no directory")
        p = self.out / (name if name.endswith(ext) else name + ext)
        if not p.exists():
            have = sorted(f.name for f in self.files if f.suffix == ext)
            raise InputError(f"{p}: no such output; {self.command} wrote {', '.join(have) or 'none'}")
        return p

    def __repr__(self) -> str:
        return f"<gapmap.Output of {self.command}: {self.out}>"

    def __str__(self) -> str:
        return self.summary


def _with_sources(command: str, kwargs: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
    """Paths stay paths; tables in memory are registered and replaced by their paths."""
    out: dict[str, Any] = {}
    sources: list[Any] = []
    layers = TABLE_KEYWORDS.get(command, frozenset())
    for k, v in kwargs.items():
        if k in layers and v is not None:
            many = isinstance(v, (list, tuple))
            items = list(v) if many else [v]
            paths = []
            xy = (kwargs.get("x_field") or "x", kwargs.get("y_field") or "y")
            for i, item in enumerate(items):
                s = source(k if not many else f"{k}_{i}", item, xy)
                if s is None:
                    paths.append(item)
                else:
                    sources.append(s)
                    paths.append(s.path)
            out[k] = paths if many else paths[0]
        else:
            out[k] = v
    return out, sources


def analyze(*, progress: Any = None, **kwargs: Any) -> Result:
    """``gapmap analyze`` in memory: every flag as a keyword (see :func:`keywords`); with no
    inputs, the bundled region. Returns a :class:`Result`; :meth:`Result.write` writes the
    files (``out=`` writes them at once, as the CLI does, with ``out_db=`` into PostGIS too). ``progress``: ``None`` (tqdm when installed), ``False``, or a callable
    ``(label, done, total)``."""
    kw, sources = _with_sources("analyze", kwargs)
    native = _gapmap.analyze(kw, _progress(progress), _notice)
    # The results hold what they need of the inputs: the in-memory sources can go.
    del sources
    result = Result(native)
    if kwargs.get("out") is not None:
        # As the CLI: the files go to `out` (and to `out_db`, when given) at once.
        result.write(kwargs["out"], overwrite=bool(kwargs.get("overwrite", False)), progress=progress)
    return result


def _analysis_dir(analysis: Any, holder: list[Any]) -> str:
    """A directory holding the analysis: its path, or where a :class:`Result` was (or is now)
    written."""
    if isinstance(analysis, Result):
        if analysis.out is None:
            tmp = tempfile.TemporaryDirectory(prefix="gapmap-analysis-")
            holder.append(tmp)
            analysis.write(Path(tmp.name) / "analysis", progress=False)
        return os.fspath(analysis.out)
    return os.fspath(analysis)


def _default(command: str, keyword: str) -> Optional[str]:
    return next((d for k, d, _ in keywords(command) if k == keyword), None)


def _command(
    command: str, progress: Any, kwargs: dict[str, Any], default_out: Optional[Path], keep: Any = None
) -> Output:
    kw, sources = _with_sources(command, kwargs)
    summary = _gapmap.run(command, kw, _progress(progress), _notice)
    del sources
    out = kwargs.get("out")
    if out is None and default_out is None:
        d = _default(command, "out")
        default_out = Path(d) if d is not None else None
    return Output(command, summary, Path(out) if out is not None else default_out, keep)


def check(*, progress: Any = None, **kwargs: Any) -> str:
    """``gapmap check``: whether the inputs of an analysis fit together (the keywords of
    :func:`analyze`); returns the table, raises :class:`InputError` when they do not fit."""
    kw, sources = _with_sources("check", kwargs)
    return _gapmap.run("check", kw, _progress(progress), _notice)


def synth(*, progress: Any = None, **kwargs: Any) -> Output:
    """``gapmap synth``: seeded synthetic workloads (national premises, fibre, mobile)."""
    return _command("synth", progress, kwargs, None)


def predict(*, progress: Any = None, **kwargs: Any) -> Output:
    """``gapmap predict``: predicted coverage from cell sites."""
    return _command("predict", progress, kwargs, None)


def settlements(*, progress: Any = None, **kwargs: Any) -> Output:
    """``gapmap settlements``: settlement polygons derived from premises."""
    return _command("settlements", progress, kwargs, None)


def grid(analysis: Any = "gapmap-out", *, progress: Any = None, **kwargs: Any) -> Output:
    """``gapmap grid``: an analysis (a :class:`Result` or its directory) aggregated to grid
    squares, H3 cells and regions."""
    holder: list[Any] = []
    d = _analysis_dir(analysis, holder)
    return _command("grid", progress, {"analysis": d, **kwargs}, Path(d) / "grid", holder)


def prioritise(analysis: Any = "gapmap-out", *, progress: Any = None, **kwargs: Any) -> Output:
    """``gapmap prioritise``: candidate projects costed, and the ones the budget funds."""
    holder: list[Any] = []
    d = _analysis_dir(analysis, holder)
    return _command("prioritise", progress, {"analysis": d, **kwargs}, Path(d) / "priorities", holder)


def report(analysis: Any = "gapmap-out", *, progress: Any = None, **kwargs: Any) -> Output:
    """``gapmap report``: report.html, map.html (interactive, offline) and map.png of an analysis."""
    holder: list[Any] = []
    d = _analysis_dir(analysis, holder)
    return _command("report", progress, {"analysis": d, **kwargs}, Path(d), holder)
