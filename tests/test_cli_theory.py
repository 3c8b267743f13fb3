"""`rfloc theory` end to end on a tiny problem, and its printed table (the protocol: test_protocols.py)."""

import json
import types

import numpy as np
import pytest

from rfloc.cli import main
from rfloc.cli.theory import format_batch
from rfloc.protocols import Count


@pytest.mark.slow
def test_cli_theory_tiny_ising_run(tmp_path, capsys):
    rc = main(
        ["theory", "ising", "--n", "10", "--seeds", "2", "--steps", "20", "--batch-size", "40", "200",
         "--out", str(tmp_path), "--json"]
    )  # fmt: skip
    assert rc == 0
    printed = json.loads(capsys.readouterr().out)
    assert (tmp_path / "theory_ising_batch40.png").stat().st_size > 0
    assert (tmp_path / "theory_ising_batch200.png").stat().st_size > 0
    summary = json.loads((tmp_path / "theory_ising.json").read_text())
    assert summary == printed and "Clopper-Pearson" in summary["protocol"]
    assert [b["batch_size"] for b in summary["batches"]] == [40, 200]
    for b in summary["batches"]:
        for name in ("cubic", "exact", "meanfield"):
            exact, near = b["exact"][name], b["within1"][name]
            assert exact["n"] == 2 and 0 <= exact["k"] <= near["k"] <= 2  # ±1 includes the exact matches
            assert exact["low"] <= exact["k"] / 2 <= exact["high"]
        assert set(b["median_ipr"]) == {"simulated", "gaussian_control", "cubic", "exact", "meanfield"}


def test_format_batch_prints_counts_and_intervals():
    res = types.SimpleNamespace(
        batch_size=500, seeds=(0, 1), time=100.0, method="ode", diverged=0,
        sim_ipr=np.array([0.5, 0.7]), control_ipr=np.array([0.03, 0.03]),
        predicted={"exact": None}, pred_ipr={"exact": np.array([0.3, 0.4])},
        same_site={"exact": Count.of(np.array([True, False]))},
        within_one={"exact": Count.of(np.array([True, True]))},
        notes=["cubic skipped: kappa"],
    )  # fmt: skip
    text = format_batch(res)
    assert "1/2" in text and "2/2" in text and "26/28 inside" in text and "cubic skipped" in text


def test_cli_theory_bad_arguments(capsys):
    assert main(["theory", "--seeds", "0"]) == 2
    assert "seeds" in capsys.readouterr().err
    assert main(["theory", "kur", "--k", "2"]) == 2
    assert "k must" in capsys.readouterr().err
    assert main(["theory", "ising", "--gain", "3"]) == 2  # Ising has no gain
    assert "--gain" in capsys.readouterr().err


def test_cli_theory_accepts_every_data_model(capsys):
    from rfloc.data import MODELS

    assert main(["theory", "--help"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in MODELS)
    assert main(["theory", "nlgp", "--help"]) == 0
    nlgp = capsys.readouterr().out
    assert "--gain" in nlgp and "--xi" in nlgp
