"""gapmap beyond one process: batch sweeps whose scenarios run on Ray.

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

from . import InputError, Output, _gapmap

__all__ = ["batch"]

PathLike = Union[str, "os.PathLike[str]"]

# A test hook: with this set to a path that does not exist yet, the first scenario task to
# see it creates it and ends its worker process, as a machine failing mid-sweep would.
_CRASH_ONCE = "GAPMAP_TEST_RAY_CRASH_ONCE"


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
    try:
        import ray
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise InputError("gapmap.distributed needs Ray: pip install 'gapmap[ray]' (or ray)") from e
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
        bar = _bar(len(scenarios), progress)
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


def _bar(total: int, progress: bool):
    if not progress:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc="scenarios", unit="scenario")
