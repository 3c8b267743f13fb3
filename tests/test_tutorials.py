"""The tutorials in docs/tutorials run end to end, and the docs render outputs from a complete run.

Each notebook is executed top to bottom in a fresh kernel with RFLOC_TUTORIAL_SMALL=1, which the notebook
reads in its first code cell to shrink its sample sizes; any exception in any cell fails the test. The
stored copy (what `mkdocs build` renders, written by `make tutorials`) must hold the outputs of one complete
top-to-bottom run without errors, so the site never shows a stale half-run notebook.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbclient
import nbformat
import pytest

TUTORIALS = sorted((Path(__file__).resolve().parents[1] / "docs" / "tutorials").glob("*.ipynb"))


def test_there_are_tutorials():
    assert TUTORIALS, "docs/tutorials/*.ipynb is empty"


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_stored_notebook_is_a_complete_run(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    counts = [c.get("execution_count") for c in code]
    assert counts == list(range(1, len(code) + 1)), (
        f"{path.name}: not one top-to-bottom run (execution counts {counts}); run `make tutorials`"
    )
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{path.name}: stored outputs contain an error: {errors[0].get('ename')}"
    assert "RFLOC_TUTORIAL_SMALL" in code[0].source, (
        f"{path.name}: first code cell must read RFLOC_TUTORIAL_SMALL"
    )


@pytest.mark.slow  # a fresh kernel, JAX import and compiles: tens of seconds per notebook
@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_runs_end_to_end(path, monkeypatch):
    nb = nbformat.read(path, as_version=4)
    # The kernel inherits this process's environment: small sizes, and this checkout's rfloc first.
    monkeypatch.setenv("RFLOC_TUTORIAL_SMALL", "1")
    src = str(Path(__file__).resolve().parents[1] / "src")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")])))
    # At small sizes XLA compilation dominates the run time; its cheaper optimization level halves it and
    # changes no Python code path (this test checks that every cell runs, not the numbers).
    fast = "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true"
    monkeypatch.setenv("XLA_FLAGS", " ".join(filter(None, [os.environ.get("XLA_FLAGS"), fast])))
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()  # raises CellExecutionError, naming the cell, on any exception
