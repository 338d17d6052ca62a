"""The quickstart notebook runs from top to bottom (nbclient), so that it cannot rot."""

from __future__ import annotations

import nbformat
from nbclient import NotebookClient

from conftest import ROOT


def test_quickstart_notebook_runs(tmp_path):
    nb = nbformat.read(ROOT / "examples" / "quickstart.ipynb", as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    # It drew both figures and printed the chosen projects.
    assert (tmp_path / "gaps.png").stat().st_size > 10_000
    assert (tmp_path / "sweep.png").stat().st_size > 5_000
    text = "".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", "")) for o in outputs)
    assert "projects" in text.lower() or "budget" in text.lower()
