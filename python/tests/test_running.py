"""How a run behaves from Python: thread counts, progress, notices, the GIL and Ctrl-C."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import warnings

import pytest

import gapmap
from conftest import ROOT, assert_same_outputs


def test_results_do_not_depend_on_the_thread_count(same_path):
    """threads= as --threads, each in a process of its own (the worker pool is per process)."""
    for n in (1, 2):
        code = f"import gapmap; gapmap.analyze(threads={n}, progress=False).write({str(same_path.out)!r})"
        subprocess.run([sys.executable, "-W", "ignore", "-c", code], cwd=ROOT, check=True)
        same_path.keep(f"t{n}")
    t1, t2 = same_path.tmp / "t1", same_path.tmp / "t2"
    plan = [json.loads((d / "run.json").read_text())["plan"]["threads"] for d in (t1, t2)]
    assert plan == [1, 2]
    # run.json records the thread count (and, through it, each file's digest is unchanged).
    assert_same_outputs(t1, t2, drop=("plan/threads", "parameters/threads"))


def test_threads_in_one_process_give_the_same_tables():
    a = gapmap.analyze(threads=1, outputs=["tables"], progress=False).settlements
    b = gapmap.analyze(threads=2, outputs=["tables"], progress=False).settlements
    assert a.equals(b)


def test_progress_reports_phases():
    seen = []
    gapmap.analyze(outputs=["tables"], progress=lambda label, done, total: seen.append((label, done, total)))
    labels = {s[0] for s in seen}
    assert labels, "no progress reported"
    assert all(total is None or 0 <= done <= total for _, done, total in seen)
    # Every bar ends full.
    last = {}
    for label, done, total in seen:
        last[label] = (done, total)
    assert all(t is None or d == t for d, t in last.values()), last


def test_notices_are_warnings():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", gapmap.Notice)
        gapmap.analyze(outputs=["tables"], progress=False)
    texts = [str(w.message) for w in caught if issubclass(w.category, gapmap.Notice)]
    assert any("bundled region" in t for t in texts), texts


def test_the_gil_is_released_while_gapmap_runs():
    ticks = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.01)

    t = threading.Thread(target=tick)
    t.start()
    started = time.monotonic()
    gapmap.analyze(progress=False)
    took = time.monotonic() - started
    stop.set()
    t.join()
    during = [x for x in ticks if started < x < started + took]
    # A thread kept out by the GIL would not tick at all while gapmap computes.
    assert len(during) >= 0.5 * took / 0.01 * 0.5, (len(during), took)


def _interrupt_after(seconds: float) -> threading.Timer:
    import _thread

    t = threading.Timer(seconds, _thread.interrupt_main)
    t.start()
    return t


def test_ctrl_c_interrupts_a_run_at_once():
    _interrupt_after(0.2)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        gapmap.analyze(progress=False)
    assert time.monotonic() - started < 0.6


def test_an_interrupted_write_publishes_nothing(tmp_path, monkeypatch):
    r = gapmap.analyze(progress=False)
    out = tmp_path / "out"
    # The run pauses just before it would publish (a test hook), and Ctrl-C comes during the
    # write: the interrupt must stop the publication. (A Ctrl-C that comes after the files are
    # published leaves the complete new set: all or nothing either way.)
    monkeypatch.setenv("GAPMAP_TEST_COMMIT_PAUSE_MS", "800")
    _interrupt_after(0.1)
    with pytest.raises(KeyboardInterrupt):
        r.write(out)
    monkeypatch.delenv("GAPMAP_TEST_COMMIT_PAUSE_MS")
    # The next run waits for the interrupted one to end.
    gapmap.analyze(outputs=["tables"], progress=False)
    assert not (out / "run.json").exists()
    assert not out.exists() or not any(out.iterdir()), list(out.iterdir())
    # And the results can still be written.
    r.write(out)
    assert (out / "run.json").exists()
