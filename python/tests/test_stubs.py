"""The type stubs are generated from the command line's flags and kept current."""

from __future__ import annotations

import ast

import gapmap
from gapmap import _stubs
from conftest import ROOT


def test_stubs_are_current():
    committed = (ROOT / "python" / "gapmap" / "__init__.pyi").read_text()
    assert committed == _stubs.generate(), "run scripts/python-stubs"
    ast.parse(committed)


def test_every_function_has_every_flag():
    tree = ast.parse((ROOT / "python" / "gapmap" / "__init__.pyi").read_text())
    funcs = {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef)}
    for command, _, _ in _stubs.COMMANDS:
        names = {a.arg for a in funcs[command].args.kwonlyargs} | {a.arg for a in funcs[command].args.args}
        flags = {k for k, _, _ in gapmap.keywords(command)}
        assert flags <= names, (command, flags - names)
        assert callable(getattr(gapmap, command))
