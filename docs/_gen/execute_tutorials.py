"""Execute the tutorial notebooks in place at full size, so the docs render fresh outputs and figures.

Usage: python docs/_gen/execute_tutorials.py [NOTEBOOK ...]   (default: every docs/tutorials/*.ipynb)

The docs build renders the outputs stored in each notebook and never executes it, so it stays fast and
deterministic; run this (`make tutorials`) after changing a tutorial or an API it uses, and commit the result.
The test suite (tests/test_tutorials.py) executes every tutorial at small sizes on each run.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

TUTORIALS = Path(__file__).resolve().parents[1] / "tutorials"


def execute(path: Path, timeout: int = 1200) -> float:
    """Run every cell of the notebook at ``path`` top to bottom, write the outputs back; return seconds."""
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    elapsed = time.perf_counter() - start
    nbformat.write(nb, path)
    return elapsed


def main(argv: list[str]) -> None:
    os.environ.pop("RFLOC_TUTORIAL_SMALL", None)  # the rendered docs show the full-size run
    paths = [Path(p) for p in argv] or sorted(TUTORIALS.glob("*.ipynb"))
    for path in paths:
        print(f"{path.name}: {execute(path):.1f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
