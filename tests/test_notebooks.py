"""Tier 5: the example notebooks run top to bottom without errors."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import ROOT

NOTEBOOKS = sorted((ROOT / "examples").glob("*.ipynb"))


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path):
    # Run as shipped, with the notebook's own seeds: the test is that the documented cells run,
    # so SIMCORE_TEST_SEED does not reach them.
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"
    ]
    assert not errors
    # Figures are shown as pictures, not as their text repr.
    assert any("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    # The last cell is the strategy comparison table: weekly counts lower out-of-stock.
    html = nb.cells[-1].outputs[0]["data"]["text/plain"]
    assert "difference" in html


def test_there_is_a_notebook():
    assert NOTEBOOKS
