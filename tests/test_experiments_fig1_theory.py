"""fig1_theory: configs, validation, and the claim logic on synthetic results."""

import numpy as np
import pytest
import xarray as xr

from rfloc.experiments import fig1_theory


def test_profiles_and_reductions():
    quick, default, paper = (
        fig1_theory.config(True),
        fig1_theory.config(False),
        fig1_theory.config(False, "paper"),
    )
    assert quick["n"] < default["n"] == 20 < paper["n"] == 30
    assert paper["batch"] == 10_000 and paper["steps"] == 10_000
    for cfg in (quick, default, paper):
        assert cfg["seeds"] >= 16 and isinstance(cfg["reductions"], list) and cfg["reductions"]
    assert len(default["reductions"]) > len(paper["reductions"])
    with pytest.raises(ValueError, match="profile"):
        fig1_theory.config(False, "huge")


def _synthetic(sim_ipr_nlgp, pred_ipr_nlgp, peak_dist):
    s = len(sim_ipr_nlgp)
    ipr = lambda nl: np.stack([np.tile(np.asarray(nl)[:, None], 2), np.full((s, 2), 0.01)])  # noqa: E731
    return xr.Dataset(
        {
            "sim_ipr": (("data", "seed", "step"), ipr(sim_ipr_nlgp)),
            "pred_ipr": (("data", "seed", "step"), ipr(pred_ipr_nlgp)),
            "peak_dist": (("data", "seed"), np.stack([peak_dist, np.zeros(s)])),
            "corr": (("data", "seed"), np.ones((2, s))),
            "diverged": (("data", "seed"), np.zeros((2, s), bool)),
        },
        coords={"data": ["nlgp", "control"]},
    )


def test_claim_counts_seeds_with_both_localized_and_close_peaks():
    # Control level 2 × 0.01 = 0.02. 13 of 16 agreeing seeds: CP lower bound 0.54 > 0.5 -> PASS; 12: 0.48.
    s = 16
    sim, pred, dist = np.full(s, 0.2), np.full(s, 0.2), np.zeros(s)
    dist[:3] = 2  # three seeds with peaks too far apart
    assert fig1_theory.check(_synthetic(sim, pred, dist))[0].passed
    pred[3] = 0.015  # a fourth seed whose prediction is below the control level
    claim = fig1_theory.check(_synthetic(sim, pred, dist))[0]
    assert not claim.passed and "12/16" in claim.measured
