"""The report: headline split by kind, thresholds beside claims, deviations table, quick label."""

from pathlib import Path

import pytest

from rfloc.experiments.claims import Claim, Deviation, deviations
from rfloc.experiments.runner import Outcome
from rfloc.report import QUICK_TAG, headline, write_report


def _outcome(name, claims, quick=False, devs=None):
    return Outcome(name, f"title {name}", "caption", [], claims, 1.0, False, {"quick": quick}, devs)


CLAIMS = [
    Claim("a", "paper claim one", "p", "m", True, "IPR > 0.1 (theory)"),
    Claim("a", "paper claim two", "p", "m", False, "IPR > 0.2 (control)"),
    Claim("b", "closed form holds", "p", "m", True, "within 4 SE", kind="sanity"),
    Claim("b", "beyond", "p", "m", False, "x", kind="extension"),
]


def test_headline_counts_each_kind_separately():
    lines = headline([_outcome("a", CLAIMS[:2]), _outcome("b", CLAIMS[2:])])
    assert lines == [
        "Paper claims: 1 of 2 reproduced.",
        "Data-model and sanity checks: 1 of 1 pass.",
        "rfloc's extensions (beyond the paper): 0 of 1 pass.",
    ]


def test_claim_kind_and_verdict_are_validated():
    with pytest.raises(ValueError, match="kind must be one of"):
        Claim("a", "n", "p", "m", True, kind="other")
    with pytest.raises(ValueError, match="passed must be a bool"):
        Claim("a", "n", "p", "m", 1)


def test_deviations_list_only_differing_settings_with_reasons():
    paper = {"batch": 10_000, "steps": 5000, "seeds": 1, "lr": 0.05}
    used = {"batch": 1000, "steps": 5000, "seeds": 4, "lr": 0.05}
    devs = deviations("x", paper, used, {"batch": "budget"})
    assert [(d.setting, d.paper, d.rfloc, d.reason) for d in devs] == [
        ("batch", "10000", "1000", "budget"),
        ("seeds", "1", "4", "no reason recorded"),
    ]
    assert deviations("x", {"xi": (1.0, 3.0)}, {"xi": [1.0, 3.0]}, {}) == []  # list == tuple
    assert deviations("x", {"n": 100}, {}, {})[0].rfloc == "(not run)"


@pytest.mark.parametrize("quick", [False, True])
def test_report_has_sections_thresholds_deviations_and_quick_title(tmp_path: Path, quick):
    dev = Deviation("a", "batch", "10000", "1000", "2-core budget")
    outs = [_outcome("a", CLAIMS[:2], quick=quick, devs=[dev]), _outcome("b", CLAIMS[2:], quick=quick)]
    md_path, html_path = write_report(outs, tmp_path, "T")
    md, page = md_path.read_text(), html_path.read_text()
    first = md.splitlines()[0]
    assert first == "# T" + (QUICK_TAG if quick else " [DEFAULT profile]")
    assert ("QUICK" in page.split("</title>")[0]) == quick
    for section in ("## Paper claims", "## Data-model and sanity checks", "## rfloc's extensions"):
        assert section in md
    # threshold written on the claim's own row
    assert "| a | paper claim two | p | m | FAIL | IPR > 0.2 (control) |" in md
    assert "## Deviations from the paper" in md and "| a | batch | 10000 | 1000 | 2-core budget |" in md
    assert "2-core budget" in page
    # b has no deviations hook: the report says so instead of implying it matches the paper
    assert "Not compared with the paper's settings (no declaration): b." in md
