"""phase_diagram's verdicts on synthetic data (no training): agreeing data pass, disagreeing data fail."""

import numpy as np
import pytest
import xarray as xr

from rfloc.experiments import phase_diagram as pd


def _synthetic(agree: bool, points: int = 30) -> xr.Dataset:
    rng = np.random.default_rng(0)
    excess = np.linspace(-1.5, 1.5, points)
    loc = excess < 0
    # Predictions localize at negative excess kurtosis; the disagreeing simulation localizes at positive.
    sim_loc = loc if agree else ~loc
    sim = np.where(sim_loc, 0.5, 0.03)[:, None] + 0.01 * rng.random((points, 8))
    pred = np.where(loc, 0.5, 0.03)[:, None] + 0.01 * rng.random((points, 8))
    return xr.Dataset(
        {
            "family": ("point", ["nlgp"] * points),
            "parameter": ("point", np.arange(points, dtype=float)),
            "xi_ratio": ("point", np.ones(points)),
            "excess_kurtosis": ("point", excess),
            "sim_ipr": (("point", "seed"), sim),
            "pred_exact": (("point", "init"), pred),
            "pred_cubic": (("point", "init"), pred),
            "pred_mc": (("point", "mc_init"), pred[:, :2]),
        },
        attrs={"threshold": 0.1},
    )


def test_check_opposite_verdicts_for_agreeing_and_disagreeing_data():
    good = pd.check(_synthetic(True))
    bad = pd.check(_synthetic(False))
    assert len(good) == len(bad) == 4
    assert all(c.passed for c in good)
    assert not any(c.passed for c in bad)
    assert all("rfloc's extension" in c.name for c in good)


def test_clopper_pearson_closed_forms():
    # k = n: the lower bound solves x^n = α/2 (Beta(n, 1) has cdf x^n); k = 0 mirrors it.
    lo, hi = pd.clopper_pearson(30, 30)
    assert hi == 1.0 and lo == pytest.approx(0.025 ** (1 / 30), rel=1e-9)
    lo, hi = pd.clopper_pearson(0, 10)
    assert lo == 0.0 and hi == pytest.approx(1 - 0.025 ** (1 / 10), rel=1e-9)


def test_config_profiles_list_reductions():
    default, paper, quick = pd.config(False), pd.config(False, profile="paper"), pd.config(True)
    assert paper["reductions"] == [] and default["reductions"] and quick["reductions"]
    assert paper["train"] == {"seeds": 8, "batch": 10_000, "steps": 2000} and paper["lr"] == 0.05
    g = paper["grid"]
    assert len(g["ratios"]) * (len(g["gains"]) + len(g["ks"])) >= 1000
    v = paper["validation"]
    assert len(v["ratios"]) * (len(v["gains"]) + len(v["ks"])) >= 30
    with pytest.raises(ValueError, match="profile"):
        pd.config(False, profile="huge")
