"""`python -m gapmap` (and the `gapmap` command the package installs): the command line from
the package, with the binary's outputs, summary, notes and exit codes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from conftest import DATA, ROOT, assert_same_outputs, run_cli


def py_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gapmap", *args], cwd=ROOT, capture_output=True, text=True)


def _mask(text: str) -> str:
    return re.sub(r"\d+(\.\d+)? s\b", "T s", text)


def test_analyze_writes_and_prints_what_the_binary_does(cli, same_path):
    a = run_cli(cli, "analyze", "--out", str(same_path.out))
    kept_a = same_path.keep("cli")
    b = py_cli("analyze", "--out", str(same_path.out))
    assert b.returncode == 0, b.stderr
    kept_b = same_path.keep("py")
    assert_same_outputs(kept_a, kept_b)
    assert _mask(a.stdout) == _mask(b.stdout)
    assert "premises" in b.stdout
    # The notes are the binary's `note:` lines.
    assert [l for l in a.stderr.splitlines() if l.startswith("note:")] == [
        l for l in b.stderr.splitlines() if l.startswith("note:")
    ]


def test_bad_input_is_exit_2_with_the_binarys_message(cli, tmp_path):
    args = ["analyze", "--premises", str(tmp_path / "none.gpkg"), "--settlements", str(DATA / "settlements.gpkg"),
            "--out", str(tmp_path / "o")]
    a, b = run_cli(cli, *args, check=False), py_cli(*args)
    assert a.returncode == b.returncode == 2
    assert a.stderr.splitlines()[-1] == b.stderr.splitlines()[-1]
    assert b.stderr.splitlines()[-1].startswith("error: ")


def test_usage_errors_help_and_version(cli):
    a, b = run_cli(cli, "analyze", "--drop-distance-m", "x", check=False), py_cli("analyze", "--drop-distance-m", "x")
    assert a.returncode == b.returncode == 2
    assert a.stderr == b.stderr
    h = py_cli("analyze", "--help")
    assert h.returncode == 0 and "Usage: gapmap analyze" in h.stdout
    assert "--drop-distance-m" in h.stdout
    assert py_cli("--version").stdout.strip().startswith("gapmap ")
    assert py_cli("nope").returncode == 2


def test_a_closed_stdout_is_no_failure(tmp_path):
    p = subprocess.run(
        f"{sys.executable} -m gapmap analyze --out {tmp_path / 'o'} | true; echo ${{PIPESTATUS[0]}}",
        shell=True, executable="/bin/bash", cwd=ROOT, capture_output=True, text=True,
    )
    assert p.stdout.strip() == "0", p.stderr
    assert "Traceback" not in p.stderr
    assert (tmp_path / "o" / "run.json").exists()


def test_batch_dry_run_and_bad_files_as_the_binary(cli, tmp_path):
    """``python -m gapmap batch``: the same scenario list as the binary's ``--dry-run``, and
    the same exit code and message for a batch file gapmap cannot use."""
    cfg = tmp_path / "sweep.toml"
    cfg.write_text(
        f'[[workload]]\nname = "dalarna"\npremises = "{DATA / "premises.parquet"}"\n'
        f'settlements = "{DATA / "settlements.gpkg"}"\n\n[grid]\ndrop_distance_m = [20, 50]\n'
    )
    a, b = run_cli(cli, "batch", str(cfg), "--dry-run"), py_cli("batch", str(cfg), "--dry-run")
    assert b.returncode == 0, b.stderr
    assert a.stdout == b.stdout and a.stdout.count("gapmap analyze") == 2
    bad = tmp_path / "bad.toml"
    bad.write_text("[grid]\ndrop_distance_m = 20\n")
    a, b = run_cli(cli, "batch", str(bad), check=False), py_cli("batch", str(bad))
    assert a.returncode == b.returncode == 2
    assert a.stderr.splitlines()[-1] == b.stderr.splitlines()[-1]
