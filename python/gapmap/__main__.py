"""``python -m gapmap`` (and the ``gapmap`` command the package installs): the command line,
from the Python package. The same subcommands, flags, outputs, summaries, notes and exit codes
as the ``gapmap`` binary (2: bad input or usage, 1: other failures), except ``analyze --plan``.
``batch`` runs each scenario as a ``python -m gapmap analyze`` process, as the binary runs a
``gapmap analyze`` per scenario, or, with ``--engine ray [--ray-address ADDR]``, on Ray actors
(:func:`gapmap.distributed.batch`); the tidy table is the same. ``analyze --engine ray
[--ray-address ADDR] [--tile-size-m N]`` runs the analysis with its premises split into tiles
that Ray actors compute (:func:`gapmap.distributed.analyze`); the files are the same."""

from __future__ import annotations

import os
import sys
from typing import Optional


def _write(stream, text: str) -> None:
    """Writes to stdout or stderr; a reader that went away (``| head``) is no failure."""
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError:
        # Python would complain again when it flushes at exit: point the stream at nothing.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())


def _failure(e: BaseException) -> int:
    """Writes a failure as the binary does (``error: ...``) and returns its exit code: 2 for
    bad input or usage, 130 for Ctrl-C, 1 otherwise."""
    from . import _gapmap

    if isinstance(e, KeyboardInterrupt):
        _write(sys.stderr, "error: interrupted; no output was published\n")
        return 130
    _write(sys.stderr, f"error: {e}\n")
    return 2 if isinstance(e, _gapmap.InputError) else 1


def _analyze_process(args: list[str]) -> tuple[Optional[str], float]:
    """One scenario as its own ``python -m gapmap analyze`` process: ``(error or None,
    seconds)``, the error as the binary's batch words it."""
    import subprocess
    import time

    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "gapmap", "analyze", *args], capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if p.returncode == 0:
        return None, seconds
    line = next((l for l in reversed(p.stderr.splitlines()) if l.startswith("error")), None)
    return line or f"gapmap analyze ended with exit code {p.returncode}", seconds


def _batch(args: list[str]) -> int:
    """``batch BATCH.toml [--out DIR] [--overwrite] [--dry-run] [--engine local|ray]
    [--ray-address ADDR]``."""
    import argparse

    from . import _gapmap

    p = argparse.ArgumentParser(
        prog="gapmap batch",
        description="Run gapmap analyze over workloads x a parameter grid, into one tidy table.",
    )
    p.add_argument("config", metavar="BATCH.toml", help="the batch file (TOML): workloads and a parameter grid")
    p.add_argument("--out", metavar="DIR", help="output directory [default: the file's out, else batch-out]")
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--dry-run", action="store_true", help="only list the scenarios")
    p.add_argument("--engine", choices=["local", "ray"], default="local",
                   help="local: a process per scenario, one after another; ray: on Ray, one actor per node, each reading a workload once")
    p.add_argument("--ray-address", metavar="ADDR", help="the Ray cluster (with --engine ray) [default: a local one]")
    ns = p.parse_args(args)  # a usage error exits 2, as clap's do
    if ns.ray_address and ns.engine != "ray":
        _write(sys.stderr, "error: --ray-address needs --engine ray\n")
        return 2
    try:
        if ns.dry_run:
            _write(sys.stdout, _gapmap.batch_dry_run(ns.config, ns.out))
            return 0
        if ns.engine == "ray":
            from . import distributed

            out = distributed.batch(ns.config, out=ns.out, overwrite=ns.overwrite,
                                    address=ns.ray_address, progress=sys.stderr.isatty())
            summary = out.summary
        else:
            sweep = _gapmap.BatchSweep(ns.config, ns.out, ns.overwrite)
            outcomes = [_analyze_process(a) for _, _, _, a in sweep.scenarios()]
            summary = sweep.finish(outcomes)
    except (_gapmap.Error, KeyboardInterrupt) as e:
        return _failure(e)
    _write(sys.stdout, summary)
    return 0


def _analyze_on_ray(args: list[str]) -> int:
    """``analyze FLAGS... --engine local|ray [--ray-address ADDR] [--tile-size-m N]``: with
    ``ray``, :func:`gapmap.distributed.analyze`; the summary, files and exit codes are the
    binary's."""
    import json

    from . import _gapmap, _notice

    engine, address, tile_size_m, rest = "local", None, None, []
    it = iter(args)
    for a in it:
        flag, eq, value = a.partition("=")
        if flag in ("--engine", "--ray-address", "--tile-size-m"):
            if not eq:
                value = next(it, None)
                if value is None:
                    _write(sys.stderr, f"error: {flag} needs a value\n")
                    return 2
            if flag == "--engine":
                engine = value
            elif flag == "--ray-address":
                address = value
            else:
                tile_size_m = value
        else:
            rest.append(a)
    if engine not in ("local", "ray"):
        _write(sys.stderr, f"error: --engine must be local or ray, got '{engine}'\n")
        return 2
    if engine == "local":
        if address is not None or tile_size_m is not None:
            _write(sys.stderr, "error: --ray-address and --tile-size-m need --engine ray\n")
            return 2
        return main(["analyze", *rest])
    try:
        size = float(tile_size_m) if tile_size_m is not None else 50_000.0
    except ValueError:
        _write(sys.stderr, f"error: --tile-size-m must be a number of metres, got '{tile_size_m}'\n")
        return 2
    try:
        import warnings

        from . import Notice, distributed

        def note(message, category, *_args, **_kw):
            if issubclass(category, Notice):
                _write(sys.stderr, f"note: {message}\n")

        warnings.showwarning = note
        plan_json, bundled = _gapmap.TiledAnalysis.plan_args(rest)
        plan = json.loads(plan_json)
        r = distributed._analyze(distributed._ray(), plan_json, bundled, size, address, 3, sys.stderr.isatty())
        files = r.write(plan["out"], overwrite=bool(plan.get("overwrite")), progress=sys.stderr.isatty())
        summary = r._native.summary(len(files))
    except (_gapmap.Error, KeyboardInterrupt) as e:
        return _failure(e)
    _write(sys.stdout, summary)
    return 0


def main(argv: Optional[list[str]] = None) -> int:
    from . import _gapmap
    from ._progress import Progress

    args = sys.argv[1:] if argv is None else list(argv)
    if args[:1] == ["batch"]:
        return _batch(args[1:])
    if args[:1] == ["analyze"] and any(a.split("=")[0] in ("--engine", "--ray-address", "--tile-size-m") for a in args):
        return _analyze_on_ray(args[1:])
    progress = None
    if sys.stderr.isatty():
        try:
            import tqdm  # noqa: F401

            progress = Progress()
        except ImportError:
            progress = None

    def note(text: str) -> None:
        _write(sys.stderr, f"note: {text}\n")

    try:
        code, out, err = _gapmap.main(args, progress, note)
    except (_gapmap.Error, KeyboardInterrupt) as e:
        return _failure(e)
    if out:
        _write(sys.stdout, out)
    if err:
        _write(sys.stderr, err)
    return code


if __name__ == "__main__":
    sys.exit(main())
