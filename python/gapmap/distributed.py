"""gapmap beyond one process: analyses split into tiles, and batch sweeps, run on Ray.

``gapmap.distributed.analyze(..., tile_size_m=50_000)`` takes the keywords of
:func:`gapmap.analyze` and returns the same :class:`~gapmap.Result`, file for file, with the
premises split into square tiles that Ray actors compute (``gapmap::analyze::tiles``: halos,
gap clusters joined across tiles by a union-find, tallies as exact partial sums). There is one
actor per node; each reads and indexes the inputs once, from paths every node sees (a shared
file system, or GDAL's ``/vsis3/`` and ``/vsicurl/``), and computes the tiles it is given, one
at a time, on all the node's cores. The lead actor (on this machine's node when it is one of
the cluster's) keeps its own tiles' parts in memory; the others' come to it as bytes through
Ray's object store, never through this process. It merges them (per-premise results, gap
clusters, tallies; then outlines, white areas and fibre resilience, on the whole graph, as
one run does) and holds the results, which the :class:`~gapmap.Result` here fetches (tables
as Arrow) and writes through it. ``run.json``'s ``tiles`` says how many premises each tile
had, its halo, how long it took and on which node.

A tile whose actor dies is retried (Ray restarts the actor, which reads the inputs again); a
tile that fails for good is an :class:`~gapmap.Error` naming the tile and its cause, and
nothing is written.

``gapmap.distributed.batch("sweep.toml")`` reads the same batch file as ``gapmap batch`` and
writes the same output: ``scenarios/NAME/`` (each scenario's analysis) and ``batch.parquet`` /
``batch.csv``, the tidy table, equal to the command line's but for its timing columns. The
library stages the output, names each scenario's ``analyze`` flags and makes the table; Ray
only runs the scenarios, on actors.

There is one actor per node of the cluster, with all of the node's CPUs (an analysis runs
on every core of its machine). Each takes a contiguous run of the scenarios (file order: a
workload's scenarios are together) and holds the last workload it read: scenarios that differ only in what the
analysis does with the inputs (``drop_distance_m``, ``gap_cluster_m``, ``gap_margin_m``) read
their inputs once per actor. Their outputs are those of fresh runs.

Ray is optional (``pip install ./python[ray]``). ``address`` joins a running cluster (as
``ray.init(address=...)``); without it, and without a Ray already started in this process, a
local one is started for the sweep and stopped after it. On a cluster of several machines,
the inputs and the output directory must be on a file system every node sees, and every node
needs this package.

An actor that dies is restarted by Ray and its scenarios retried (``max_retries``); a scenario
that still fails is a ``failed`` row naming the cause, as in ``gapmap batch``. The output is published
only when every scenario has an outcome: an interrupted sweep leaves the earlier output as it
was.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Optional, Union

from . import Error, InputError, Output, Result, _gapmap, _notice, _table
from ._inputs import TABLE_KEYWORDS

__all__ = ["analyze", "batch"]

PathLike = Union[str, "os.PathLike[str]"]

# A test hook: with this set to a path that does not exist yet, the first scenario task to
# see it creates it and ends its worker process, as a machine failing mid-sweep would.
_CRASH_ONCE = "GAPMAP_TEST_RAY_CRASH_ONCE"


class TileWorker:
    """A Ray actor: reads an analysis' inputs once (``gapmap::analyze::tiles::TiledRun``) and
    computes the tiles it is given. The lead actor keeps its own tiles' parts in memory, merges
    every part into the results and then holds them for the driver's :class:`~gapmap.Result`."""

    def __init__(self, plan_json: str, bundled: bool, tile_size_m: float, cwd: str) -> None:
        if os.path.isdir(cwd):
            os.chdir(cwd)
        import ray

        self._where = ray.get_runtime_context().get_node_id()[:12]
        self._analysis: Any = None
        # A failed read is raised by the first call, as gapmap's own error (Ray would report
        # an actor that cannot be created only as dead).
        self._failed: Optional[BaseException] = None
        try:
            self._run = _gapmap.TiledAnalysis(plan_json, bundled, tile_size_m)
        except _gapmap.Error as e:
            self._failed = e

    def tiles(self) -> list[tuple[int, int, int]]:
        """Every tile, ``(column, row, premises)``: what this actor read, to compare."""
        if self._failed is not None:
            raise self._failed
        return self._run.tiles()

    def notices(self) -> list[str]:
        return self._run.notices()

    def start_network(self) -> None:
        """Starts building the fibre network of the resilience analysis beside the tiles (the
        lead, which merges): the merge then finds it built."""
        self._run.start_network()

    def _crash_once(self) -> None:
        marker = os.environ.get(_CRASH_ONCE)
        if marker and not os.path.exists(marker):
            Path(marker).write_text(str(os.getpid()))
            os._exit(1)

    def run(self, k: int) -> tuple[int, bytes]:
        """Tile ``k``'s part, as bytes (two returns: its premises, and the part)."""
        self._crash_once()
        part = self._run.run_tile(k, self._where)
        return k, part

    def keep(self, k: int) -> int:
        """Computes tile ``k`` and keeps its part here, for :meth:`assemble`."""
        self._crash_once()
        self._run.keep_tile(k, self._where)
        return k

    def assemble(self, *parts: bytes) -> list[str]:
        """Merges the parts of other actors' tiles with those kept here (a tile that has none,
        because this actor was restarted, is computed again); returns the run's notices."""
        self._analysis = self._run.assemble(list(parts))
        return json.loads(self._analysis.run_info())["notices"]

    def table(self, name: str) -> Any:
        capsule = getattr(self._analysis, name)()
        return None if capsule is None else _table(capsule)

    def crs(self) -> tuple[str, str]:
        return self._analysis.crs()

    def run_info(self) -> str:
        return self._analysis.run_info()

    def write(self, out: str, overwrite: bool) -> list[str]:
        return self._analysis.write(out, overwrite)

    def summary(self, files: int) -> str:
        return self._analysis.summary(files)

    def peak_rss_mib(self) -> float:
        return _peak_rss_mib()


class _RemoteAnalysis:
    """The results of a tiled analysis, held by its lead Ray actor: what :class:`~gapmap.Result`
    asks of its native results, fetched from the actor (tables as Arrow)."""

    def __init__(self, ray: Any, actor: Any) -> None:
        self._ray = ray
        self._actor = actor

    def _call(self, method: str, *args: Any) -> Any:
        try:
            return self._ray.get(getattr(self._actor, method).remote(*args))
        except Exception as e:
            raise Error(f"the Ray actor that holds these results cannot answer: {_cause(e)}") from None

    def settlements(self) -> Any:
        return self._call("table", "settlements")

    def premises(self) -> Any:
        return self._call("table", "premises")

    def gaps(self) -> Any:
        return self._call("table", "gaps")

    def aid_areas(self) -> Any:
        return self._call("table", "aid_areas")

    def critical_links(self) -> Any:
        return self._call("table", "critical_links")

    def crs(self) -> tuple[str, str]:
        return self._call("crs")

    def run_info(self) -> str:
        return self._call("run_info")

    def write(self, out: str, overwrite: bool, progress: Any = None, notice: Any = None) -> list[str]:
        # Written by the actor, on its node: `out` must be a path it sees too.
        return self._call("write", os.path.abspath(out), overwrite)

    def summary(self, files: int) -> str:
        return self._call("summary", files)

    def peak_rss_mib(self) -> float:
        return self._call("peak_rss_mib")


def analyze(
    *,
    tile_size_m: float = 50_000.0,
    address: Optional[str] = None,
    max_retries: int = 3,
    progress: Any = None,
    **kwargs: Any,
) -> Result:
    """:func:`gapmap.analyze` with its premises split into tiles of ``tile_size_m`` metres (in
    the working CRS) that Ray actors compute; returns the same :class:`~gapmap.Result`, whose
    files are those of :func:`gapmap.analyze` (``run.json`` adds the tiles). Inputs must be
    paths every node of the cluster can read, not tables in memory; so must ``out``.

    The results stay in the lead actor (on this machine's node when it is one of the
    cluster's); the Result fetches its tables from there, so Ray stays up while it is used.
    ``address``: the Ray cluster to use (``"auto"``, ``"ray://host:10001"``); without it, and
    without a Ray already started in this process, a local one is started (and stopped when
    this process ends). ``max_retries``: how often a tile whose actor died is tried again.
    """
    ray = _ray()
    for k in TABLE_KEYWORDS.get("analyze", frozenset()):
        v = kwargs.get(k)
        for item in v if isinstance(v, (list, tuple)) else [v]:
            if item is not None and not isinstance(item, (str, os.PathLike)):
                raise InputError(
                    f"{k}: gapmap.distributed.analyze reads inputs from paths every node of the "
                    f"cluster sees, not from a {type(item).__name__} in memory; write it to a file "
                    "(e.g. GeoParquet or GeoPackage) first"
                )
    plan_json, bundled = _gapmap.TiledAnalysis.plan(kwargs)
    result = _analyze(ray, plan_json, bundled, tile_size_m, address, max_retries, progress)
    if kwargs.get("out") is not None:
        result.write(kwargs["out"], overwrite=bool(kwargs.get("overwrite", False)), progress=progress)
        result.ray_peak_rss_mib[:2] = [_peak_rss_mib(), result._native.peak_rss_mib()]
    return result


def _analyze(
    ray: Any,
    plan_json: str,
    bundled: bool,
    tile_size_m: float,
    address: Optional[str],
    max_retries: int,
    progress: Any,
) -> Result:
    """The tiled analysis of a plan (``TiledAnalysis.plan``), its tiles on Ray actors."""
    if isinstance(tile_size_m, bool) or not (isinstance(tile_size_m, (int, float)) and tile_size_m >= 1):
        raise InputError(f"tile_size_m must be at least 1 metre, got {tile_size_m!r}")
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    worker = ray.remote(max_restarts=max_retries, max_task_retries=max_retries)(TileWorker)
    cwd = os.getcwd()
    here = ray.get_runtime_context().get_node_id()
    nodes = _one_per_node(ray)
    # The lead (which merges and holds the results) is on this machine when it can be.
    nodes.sort(key=lambda n: n[0] != here)
    # The actors reserve no CPUs, though each computes on every core of its node: the lead
    # lives on with the results, and a reservation held by a Result would stop the next run
    # from starting. They are placed one per node by node affinity instead.
    actors = [
        worker.options(num_cpus=0, scheduling_strategy=s).remote(plan_json, bundled, float(tile_size_m), cwd)
        for _, _, s in nodes
    ]
    lead = actors[0]
    try:
        tiles = None
        for a in actors:
            try:
                theirs = ray.get(a.tiles.remote())
            except Exception as e:  # the actor could not read the inputs
                raise _error(e, "a Ray worker could not read the inputs") from None
            if tiles is not None and theirs != tiles:
                raise Error(
                    "two Ray workers read different premises (are the inputs on a file system "
                    "every node sees?); nothing was written"
                )
            tiles = theirs
        read_notices = ray.get(lead.notices.remote())
        for n in read_notices:
            _notice(n)
        # With a backbone, the lead builds the fibre network while the tiles are computed (it
        # depends on the inputs alone), and so takes fewer tiles while the others take more.
        ray.get(lead.start_network.remote())
        parts = _run_tiles(ray, actors, tiles or [], progress)
        try:
            notices = ray.get(lead.assemble.remote(*parts))
        except Exception as e:
            raise _error(e, "merging the tiles failed") from None
        for n in notices[len(read_notices):]:
            _notice(n)
        peaks = [_peak_rss_mib()] + ray.get([a.peak_rss_mib.remote() for a in actors])
    except BaseException:
        for a in actors:
            ray.kill(a)
        raise
    for a in actors[1:]:
        ray.kill(a)
    result = Result(_RemoteAnalysis(ray, lead))
    # Peak resident memory (MiB) of this process and of each actor, the lead first: when the
    # tiles were merged (and, with `out`, once the files were written).
    result.ray_peak_rss_mib = peaks
    return result


def _run_tiles(ray: Any, actors: list[Any], tiles: list[tuple[int, int, int]], progress: Any) -> list[Any]:
    """Computes every tile: each actor has at most two queued, and gets the next when one comes
    back (so a fast node does more). The lead (``actors[0]``) keeps its parts; the others'
    come back as object references, passed on to the lead without passing through here."""
    todo = list(range(len(tiles)))
    todo.reverse()
    pending: dict[Any, tuple[int, int]] = {}
    parts: list[Any] = []

    def give(a: int) -> None:
        if todo:
            k = todo.pop()
            if a == 0:
                pending[actors[0].keep.remote(k)] = (k, a)
            else:
                done, part = actors[a].run.options(num_returns=2).remote(k)
                parts.append(part)
                pending[done] = (k, a)

    for a in range(len(actors)):
        give(a)
        give(a)
    bar = _bar(len(tiles), progress is not False, "tiles", "tile")
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        for ref in ready:
            k, a = pending.pop(ref)
            try:
                ray.get(ref)
            except Exception as e:  # the tile failed for good (its actor died each try)
                col, row, _ = tiles[k]
                raise _error(e, f"tile (column {col}, row {row}) failed on Ray") from None
            if bar is not None:
                bar.update(1)
            give(a)
    if bar is not None:
        bar.close()
    return parts


def _error(e: BaseException, what: str) -> BaseException:
    """gapmap's own error when a Ray task raised one (an :class:`~gapmap.InputError` stays
    one, with its message), else an :class:`~gapmap.Error` saying ``what`` failed and why."""
    cause = getattr(e, "cause", None)
    if isinstance(cause, _gapmap.Error):
        return type(cause)(f"{cause}; nothing was written")
    return Error(f"{what}: {_cause(e)}; nothing was written")


def _peak_rss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _one_per_node(ray: Any) -> list[tuple[Optional[str], float, Any]]:
    """``(node, CPUs, scheduling strategy)`` of one actor per live node, with all its CPUs:
    an actor runs a tile on every core of its machine."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    nodes = [(x["NodeID"], x["Resources"].get("CPU", 0)) for x in ray.nodes() if x.get("Alive")]
    nodes = [(i, c) for i, c in nodes if c >= 1]
    if not nodes:
        return [(None, 1, "DEFAULT")]
    return [(i, c, NodeAffinitySchedulingStrategy(i, soft=False)) for i, c in nodes]


def _ray() -> Any:
    try:
        import ray
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise InputError("gapmap.distributed needs Ray: pip install 'gapmap[ray]' (or ray)") from e
    return ray


class ScenarioRunner:
    """A Ray actor: runs scenarios one after another in its process, holding the last
    workload it read (``gapmap::analyze::run_cached``)."""

    def run(self, args: list[str], cwd: str) -> tuple[Optional[str], float, int]:
        """Runs one scenario, ``gapmap analyze ARGS``, from ``cwd`` (the sweep's working
        directory, where the batch file's relative paths hold); returns ``(error or None,
        seconds, reads so far)``, the error as ``gapmap batch`` words it (``error: ...``)."""
        marker = os.environ.get(_CRASH_ONCE)
        if marker and not os.path.exists(marker):
            Path(marker).write_text(str(os.getpid()))
            os._exit(1)
        if os.path.isdir(cwd):
            os.chdir(cwd)
        t0 = time.perf_counter()
        try:
            _, reads = _gapmap.analyze_held(args)
        except _gapmap.Error as e:
            return f"error: {e}", time.perf_counter() - t0, -1
        return None, time.perf_counter() - t0, reads


def batch(
    config: PathLike,
    *,
    out: Optional[PathLike] = None,
    overwrite: bool = False,
    address: Optional[str] = None,
    max_retries: int = 3,
    progress: bool = True,
) -> Output:
    """Runs the batch file ``config`` with its scenarios on Ray actors; returns an
    :class:`~gapmap.Output` whose ``table("batch")`` is the tidy table, and whose ``reads``
    says how many times the actors read inputs.

    ``out`` overrides the file's ``out`` (default ``batch-out``); an existing non-empty one needs
    ``overwrite``. ``address``: the Ray cluster to use (``"auto"``, ``"ray://host:10001"``).
    """
    ray = _ray()
    sweep = _gapmap.BatchSweep(str(config), None if out is None else str(out), overwrite)
    where = Path(sweep.out)
    scenarios = sweep.scenarios()
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    try:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        runner = ray.remote(max_restarts=max_retries, max_task_retries=max_retries)(ScenarioRunner)
        # One actor per node, with all of its CPUs: an analysis runs on every core of its
        # machine, so two on one node would only take turns (and hold two workloads).
        nodes = [(x["NodeID"], x["Resources"].get("CPU", 0)) for x in ray.nodes() if x.get("Alive")]
        nodes = [(i, c) for i, c in nodes if c >= 1][: max(len(scenarios), 1)] or [(None, 1)]
        actors = [
            runner.options(
                num_cpus=c,
                scheduling_strategy=NodeAffinitySchedulingStrategy(i, soft=False) if i else "DEFAULT",
            ).remote()
            for i, c in nodes
        ]
        n = len(actors)
        cwd = os.getcwd()
        # Contiguous runs of scenarios, so that an actor meets each workload once.
        actor_of = [k * n // len(scenarios) for k in range(len(scenarios))]
        pending = {actors[actor_of[k]].run.remote(args, cwd): k for k, (_, _, _, args) in enumerate(scenarios)}
        outcomes: list[Any] = [None] * len(scenarios)
        bar = _bar(len(scenarios), progress, "scenarios", "scenario")
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                k = pending.pop(ref)
                try:
                    outcomes[k] = ray.get(ref)
                except Exception as e:  # the scenario failed for good (its actor died each try)
                    outcomes[k] = (f"error: scenario {scenarios[k][1]} failed on Ray: {_cause(e)}", 0.0, -1)
                if bar is not None:
                    bar.update(1)
        if bar is not None:
            bar.close()
    finally:
        if started:
            ray.shutdown()
    summary = sweep.finish([(e, float(s)) for e, s, _ in outcomes])
    result = Output("batch", summary, where)
    # How many times the actors read inputs: each reports its own count so far, and the last
    # one it reported is its total (an actor restarted after a failure counts again from 0).
    result.reads = sum(
        max([0] + [o[2] for k, o in enumerate(outcomes) if actor_of[k] == a]) for a in range(n)
    )
    return result


def _cause(e: BaseException) -> str:
    """The first line of a Ray error: what failed, without Ray's traceback."""
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


def _bar(total: int, progress: bool, desc: str, unit: str):
    if not progress:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=desc, unit=unit)
