"""The peak-agreement protocol: its counting and intervals, predictor selection, and reuse of given runs."""

import dataclasses

import numpy as np
import pytest
import scipy.stats

from rfloc.data import Ising, Kur
from rfloc.nn import NetConfig
from rfloc.protocols import (
    PREDICTORS,
    Count,
    Rate,
    Setting,
    agreement,
    agreement_curve,
    binomial_interval,
    draw_probability,
    peak_agreement,
    peak_counts,
)
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


def test_draw_probability_is_the_binomial_tail():
    # P(X >= k | n, p) = binom.sf(k - 1, n, p); the implementation uses the incomplete-beta identity instead.
    p = np.linspace(0, 1, 41)
    for k, n in [(26, 28), (1, 5), (5, 5), (0, 7)]:
        np.testing.assert_allclose(draw_probability(p, k, n), scipy.stats.binom.sf(k - 1, n, p), atol=1e-12)
    with pytest.raises(ValueError, match="p must"):
        draw_probability(1.2)
    with pytest.raises(ValueError, match="k"):
        draw_probability(0.5, 29, 28)


def test_rate_judges_the_paper_count_as_a_draw():
    high = Rate.of(np.arange(256) < 243)  # p̂ = 0.95
    low = Rate.of(np.arange(256) < 128)  # p̂ = 0.5
    assert high.plausible and not low.plausible
    # P(>=26/28) increases with p, so the interval's ends bracket it.
    for r in (high, low):
        assert r.draw_low <= r.draw <= r.draw_high
        assert r.draw == pytest.approx(scipy.stats.binom.sf(25, 28, r.p))
        assert (r.low, r.high) == binomial_interval(r.k, r.n)


def test_signed_reading_differs_from_abs():
    w = np.zeros((1, 10))
    w[0, 2], w[0, 7] = 1.0, -0.5  # |w| peaks at 2, -w peaks at 7
    other = np.zeros((1, 10))
    other[0, 7] = -1.0
    assert agreement(w, other, tol=0, reading="signed").k == 1
    assert agreement(w, other, tol=0, reading="abs").k == 0
    with pytest.raises(ValueError, match="reading"):
        agreement(w, other, tol=0, reading="max")


def test_sgd_control_same_w0_independent_data():
    model = Ising(n=10)
    config = TrainConfig(
        data=model, net=NetConfig(init_scale=0.1), lr=0.05, batch_size=20, steps=4, eval_every=2
    )
    first = train_many(config, seeds=[0, 1], progress=False)
    again = train_many(config, seeds=[0, 1], data_stream=1, progress=False)
    np.testing.assert_array_equal(first.init_weights, again.init_weights)
    # Same w0 and a deterministic update: different weights after the first step mean different batches.
    assert not np.any(np.all(first.weights[:, :, 1] == again.weights[:, :, 1], axis=-1))
    setting = Setting(
        model, first.init_weights[0, :, 0], 0.05, 4, 20, (0, 1), "ode", 2048, 0.1, (0, 0.1, 0.2)
    )
    np.testing.assert_array_equal(PREDICTORS["sgd"].fn(setting), again.weights[0, :, :, 0])
    with pytest.raises(ValueError, match="data_stream"):
        train_many(config, seeds=[0], data_stream=-1)


def test_agreement_curve_pads_runs_not_made():
    model = Ising(n=10)
    # The settings of the control test above, so the compiled training programs are shared.
    ds = agreement_curve(model, [20], [2], {"cubic": 1}, steps=4, eval_every=2, init_scale=0.1)
    assert ds.sim_w.shape == (1, 2, 3, 10) and ds.pred_w.shape == (1, 2, 3, 10)
    np.testing.assert_array_equal(ds.pred_ran.values, [[True, False]])
    assert np.isnan(ds.pred_w.values[0, 1]).all() and np.isfinite(ds.control_w.values).all()
    np.testing.assert_array_equal(ds.sim_w.values[0, :, 0], ds.init_w.values)
    np.testing.assert_allclose(ds.pred_w.values[0, 0, 0], ds.init_w.values[0], rtol=1e-6)
    assert not np.array_equal(ds.control_w.values, ds.sim_w.values[:, :, -1])
    with pytest.raises(ValueError, match="predictor_seeds"):
        agreement_curve(model, [20], [2], {"cubic": 3}, steps=4)
