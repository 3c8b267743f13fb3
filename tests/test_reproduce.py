"""`rfloc reproduce`: the report is produced with a complete claims table; finished work is cached."""

import html
import re

import pytest

from rfloc import experiments
from rfloc.cli import main
from rfloc.experiments.runner import run_experiment


@pytest.mark.slow
def test_quick_reproduction_writes_complete_report(tmp_path):
    assert main(["reproduce", "--quick", "--out", str(tmp_path)]) == 0
    md = (tmp_path / "report.md").read_text()
    page = (tmp_path / "report.html").read_text()
    rows = [line for line in md.splitlines() if re.match(r"^\| \w+ \| .* \| (PASS|FAIL) \|", line)]
    names = experiments.available()
    for name in names:
        mod = experiments.get(name)
        assert any(r.startswith(f"| {mod.NAME} |") for r in rows), f"no claim from {name} in the report"
        assert mod.TITLE in md and html.escape(mod.TITLE) in page
    assert "Paper claims: " in md and "reproduced." in md and "## Deviations from the paper" in md
    assert "QUICK" in md.splitlines()[0]
    assert page.count("data:image/png;base64,") >= len(names)  # figures embedded: self-contained
    for link in re.findall(r"!\[.*?\]\((.*?)\)", md):
        assert (tmp_path / link).stat().st_size > 0
    assert "## Environment" in md and "jax" in md


def test_cached_result_is_loaded_not_recomputed(tmp_path):
    first = run_experiment("fig2", tmp_path, quick=True)
    stored = sorted((tmp_path / "data").glob("*.nc"))
    again = run_experiment("fig2", tmp_path, quick=True)
    assert not first.cached and again.cached
    assert sorted((tmp_path / "data").glob("*.nc")) == stored
    assert [c.measured for c in again.claims] == [c.measured for c in first.claims]


def test_list_and_unknown_experiment(capsys, tmp_path):
    assert main(["reproduce", "--list"]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in experiments.available())
    assert main(["reproduce", "fig99", "--out", str(tmp_path)]) == 2
    assert "experiment must be one of" in capsys.readouterr().err
    assert not (tmp_path / "data").exists()  # failed before any compute
