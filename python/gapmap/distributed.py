"""gapmap beyond one process: analyses split into tiles, and batch sweeps, run on Ray.

``gapmap.distributed.analyze(..., tile_size_m=50_000)`` takes the keywords of
:func:`gapmap.analyze` and returns the same :class:`~gapmap.Result`, file for file, with the
premises split into square tiles that Ray actors compute (``gapmap::analyze::tiles``: halos,
gap clusters joined across tiles by a union-find, tallies as exact partial sums). There is one
actor per node, with all of the node's CPUs; each reads and indexes the inputs once, from
paths every node sees (a shared file system, or GDAL's ``/vsis3/`` and ``/vsicurl/``), and
computes the tiles it is given, one at a time, on all its cores. This process reads the
inputs too (it holds the results, as :func:`gapmap.analyze` does) and merges the tiles' parts:
per-premise results, gap clusters, tallies; then outlines, white areas and fibre resilience
(the whole graph) follow as in one run. ``run.json``'s ``tiles`` says how many premises each
tile had, its halo, how long it took and on which node.

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

import os
import time
from pathlib import Path
from typing import Any, Optional, Union

from . import Error, InputError, Output, Result, _gapmap, _notice, _progress
from ._inputs import TABLE_KEYWORDS

__all__ = ["analyze", "batch"]

PathLike = Union[str, "os.PathLike[str]"]

# A test hook: with this set to a path that does not exist yet, the first scenario task to
# see it creates it and ends its worker process, as a machine failing mid-sweep would.
_CRASH_ONCE = "GAPMAP_TEST_RAY_CRASH_ONCE"


class TileWorker:
    """A Ray actor: reads an analysis' inputs once (``gapmap::analyze::tiles::TiledRun``) and
    computes the tiles it is given."""

    def __init__(self, plan_json: str, bundled: bool, tile_size_m: float, cwd: str) -> None:
        if os.path.isdir(cwd):
            os.chdir(cwd)
        import ray

        self._where = ray.get_runtime_context().get_node_id()[:12]
        self._run = _gapmap.TiledAnalysis(plan_json, bundled, tile_size_m)

    def tiles(self) -> list[tuple[int, int, int]]:
        """Every tile, ``(column, row, premises)``: what this actor read, to compare."""
        return self._run.tiles()

    def run(self, k: int) -> bytes:
        """Tile ``k``'s part, as bytes."""
        marker = os.environ.get(_CRASH_ONCE)
        if marker and not os.path.exists(marker):
            Path(marker).write_text(str(os.getpid()))
            os._exit(1)
        return self._run.run_tile(k, self._where)


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
    paths every node of the cluster can read, not tables in memory.

    ``address``: the Ray cluster to use (``"auto"``, ``"ray://host:10001"``); without it, and
    without a Ray already started in this process, a local one is started and stopped after.
    ``max_retries``: how often a tile whose actor died is tried again.
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
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    actors: list[Any] = []
    try:
        worker = ray.remote(max_restarts=max_retries, max_task_retries=max_retries)(TileWorker)
        cwd = os.getcwd()
        # The actors read their inputs while this process reads its own.
        actors = [
            worker.options(num_cpus=c, scheduling_strategy=s).remote(plan_json, bundled, float(tile_size_m), cwd)
            for c, s in _one_per_node(ray)
        ]
        native = _gapmap.TiledAnalysis(plan_json, bundled, float(tile_size_m), _progress(progress), _notice)
        tiles = native.tiles()
        for a in actors:
            try:
                theirs = ray.get(a.tiles.remote())
            except Exception as e:  # the actor could not read the inputs
                raise Error(f"a Ray worker could not read the inputs: {_cause(e)}; nothing was written") from None
            if theirs != tiles:
                raise Error(
                    "a Ray worker read other premises than this process (are the inputs on a file "
                    "system every node sees?); nothing was written"
                )
        parts = _run_tiles(ray, actors, tiles, progress)
        analysis = native.assemble(parts, _progress(progress), _notice)
    finally:
        for a in actors:
            ray.kill(a)
        if started:
            ray.shutdown()
    return Result(analysis)


def _run_tiles(ray: Any, actors: list[Any], tiles: list[tuple[int, int, int]], progress: Any) -> list[bytes]:
    """Every tile's part: each actor has at most two tiles queued, and gets the next when one
    comes back (so a fast node does more)."""
    parts: list[Optional[bytes]] = [None] * len(tiles)
    todo = list(range(len(tiles)))
    todo.reverse()
    pending: dict[Any, tuple[int, int]] = {}

    def give(a: int) -> None:
        if todo:
            k = todo.pop()
            pending[actors[a].run.remote(k)] = (k, a)

    for a in range(len(actors)):
        give(a)
        give(a)
    bar = _bar(len(tiles), progress is not False, "tiles", "tile")
    while pending:
        done, _ = ray.wait(list(pending), num_returns=1)
        for ref in done:
            k, a = pending.pop(ref)
            try:
                parts[k] = ray.get(ref)
            except Exception as e:  # the tile failed for good (its actor died each try)
                col, row, _ = tiles[k]
                for r in pending:
                    ray.cancel(r, force=False)
                raise Error(
                    f"tile (column {col}, row {row}) failed on Ray: {_cause(e)}; nothing was written"
                ) from None
            if bar is not None:
                bar.update(1)
            give(a)
    if bar is not None:
        bar.close()
    return [p for p in parts if p is not None]


def _one_per_node(ray: Any) -> list[tuple[float, Any]]:
    """``(CPUs, scheduling strategy)`` of one actor per live node, with all its CPUs: an
    actor runs a tile on every core of its machine."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    nodes = [(x["NodeID"], x["Resources"].get("CPU", 0)) for x in ray.nodes() if x.get("Alive")]
    nodes = [(i, c) for i, c in nodes if c >= 1]
    if not nodes:
        return [(1, "DEFAULT")]
    return [(c, NodeAffinitySchedulingStrategy(i, soft=False)) for i, c in nodes]


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
