"""The peak-agreement protocol: its counting and intervals, predictor selection, and reuse of given runs."""

import dataclasses

import numpy as np
import pytest
import scipy.stats

from rfloc.data import Ising, Kur
from rfloc.nn import NetConfig
from rfloc.protocols import PREDICTORS, Count, Setting, binomial_interval, peak_agreement, peak_counts
from rfloc.train import TrainConfig, train_many


def test_clopper_pearson_matches_beta_quantiles():
    # Exact interval: [Beta⁻¹(α/2; k, n−k+1), Beta⁻¹(1−α/2; k+1, n−k)], with the conventions at k = 0, n.
    for k, n in [(26, 28), (13, 28), (1, 5)]:
        lo, hi = binomial_interval(k, n)
        assert lo == pytest.approx(scipy.stats.beta.ppf(0.025, k, n - k + 1), rel=1e-6)
        assert hi == pytest.approx(scipy.stats.beta.ppf(0.975, k + 1, n - k), rel=1e-6)
    assert binomial_interval(0, 28)[0] == 0.0 and binomial_interval(28, 28)[1] == 1.0
    assert Count.of(np.array([True] * 26 + [False] * 2)).paper_inside
    assert not Count.of(np.array([True] * 10 + [False] * 18)).paper_inside
    with pytest.raises(ValueError, match="k"):
        binomial_interval(29, 28)


def test_peak_counts_use_ring_distance():
    n = 10
    sim = np.zeros((3, n))
    sim[:, 0] = 1.0  # every simulated peak at site 0
    pred = np.zeros((2, 3, n))
    pred[0, [0, 1, 2], [0, 1, 9]] = 1.0  # same site, +1, −1 (wraps around the ring)
    pred[1, [0, 1, 2], [2, 5, 8]] = 1.0  # two sites away or more
    np.testing.assert_array_equal(peak_counts(sim, pred, tol=1), [3, 0])
    np.testing.assert_array_equal(peak_counts(sim, pred, tol=0), [1, 0])
    np.testing.assert_array_equal(peak_counts(sim, pred, tol=2), [3, 2])  # sites 2 and 8 are two steps from 0


def test_cubic_predictor_refuses_infinite_kurtosis_before_compute():
    # peak_agreement turns this ValueError into a note ("cubic skipped: ...") and keeps the other predictors.
    setting = Setting(Kur(n=10, k=4.0), np.ones((2, 10), np.float32), 0.05, 10, 100, (0, 1), "ode", 2048)
    with pytest.raises(ValueError, match="kappa"):
        PREDICTORS["cubic"].fn(setting)


def test_given_runs_are_reused_and_checked():
    model = Ising(n=10)
    lr, steps = 0.05, 20
    config = TrainConfig(data=model, net=NetConfig(init_scale=0.001), lr=lr, batch_size=50, steps=steps)
    runs = train_many(config, seeds=[0, 1])
    kwargs = dict(seeds=2, batch_sizes=[50], lr=lr, steps=steps, predictors=["quartic"])
    with pytest.raises(ValueError, match="predictors"):
        peak_agreement(model, **kwargs)
    kwargs["predictors"] = ["exact"]
    other = dataclasses.replace(runs, config=dataclasses.replace(config, lr=0.04))
    with pytest.raises(ValueError, match="train_results"):  # before any compute
        peak_agreement(model, train_results={50: other}, **kwargs)
    (res,) = peak_agreement(model, train_results={50: runs}, **kwargs)
    np.testing.assert_array_equal(res.simulated, runs.final_weights[0, :, 0, :])
    assert set(res.predicted) == {"exact"} and res.same_site["exact"].n == 2
