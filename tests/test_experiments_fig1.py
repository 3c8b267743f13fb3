"""fig1: check() on synthetic 2-D RFs (flat, bump, cosine product, noisy cosine) and ICA filters."""

import numpy as np
import pytest
import xarray as xr

from rfloc import metrics
from rfloc.experiments import fig1

rng = np.random.default_rng(0)
N, K = 10, 20
r, c = np.divmod(np.arange(N * N), N)


def _ring(a, b, n):
    d = np.abs(a - b)
    return np.minimum(d, n - d)


def bumps(k, n=N, width=0.8):
    out = []
    for _ in range(k):
        r0, c0 = rng.integers(0, n, 2)
        rr, cc = np.divmod(np.arange(n * n), n)
        out.append(np.exp(-(_ring(rr, r0, n) ** 2 + _ring(cc, c0, n) ** 2) / (2 * width**2)))
    return np.stack(out)


def cosines(k, n=N, noise=0.0):
    rr, cc = np.divmod(np.arange(n * n), n)
    f = rng.integers(1, 3, (k, 2))
    ph = rng.uniform(0, 6, (k, 2))
    w = np.cos(2 * np.pi * f[:, :1] * rr / n + ph[:, :1]) * np.cos(2 * np.pi * f[:, 1:] * cc / n + ph[:, 1:])
    return w + noise * rng.standard_normal(w.shape)


def flat(k, n=N):
    return np.ones((k, n * n)) + 0.02 * rng.standard_normal((k, n * n))


def _ds(net, ica):
    """Network RFs `net` (K, N*N) against a noisy-cosine control; ICA filters `ica` for one 12x12 panel."""
    w = np.stack([net, cosines(K, noise=0.05)])
    ipr = np.asarray(metrics.ipr(w))[:, None]  # (data, step = 1, neuron)
    return xr.Dataset(
        {
            "ipr": (("data", "step", "neuron"), ipr),
            "diverged": ("data", [False, False]),
            "ica_ipr": (("panel", "component"), np.asarray(metrics.ipr(ica))[None]),
            "ica_converged": ("panel", [True]),
        },
        coords={
            "data": ["nlgp", "control"],
            "panel_n": ("panel", [12]),
            "panel_components": ("panel", [len(ica)]),
        },
        attrs={"ica_num": 1000},
    )


@pytest.mark.parametrize(
    "net, passed",
    [(bumps(K), True), (flat(K), False), (cosines(K), False), (cosines(K, noise=0.05), False)],
    ids=["bump", "flat", "cosine", "noisy-cosine"],
)
def test_network_claim_follows_the_shape(net, passed):
    claim = fig1.check(_ds(net, bumps(64, n=12)))[0]
    assert claim.passed is passed, claim.measured


@pytest.mark.parametrize(
    "filters, passed",
    [(bumps(64, n=12), True), (flat(64, n=12), False), (cosines(64, n=12, noise=0.05), False)],
    ids=["bump", "flat", "noisy-cosine"],
)
def test_ica_claim_follows_the_shape(filters, passed):
    claim = fig1.check(_ds(bumps(K), filters))[1]
    assert claim.passed is passed, claim.measured


def test_ica_threshold_is_three_times_a_cosine_product():
    # A product of two cosines on the torus has IPR (3/2)^2 / n^2 exactly (each factor 3/(2n)).
    n = 12
    rr, cc = np.divmod(np.arange(n * n), n)
    w = np.cos(2 * np.pi * 2 * rr / n + 0.3) * np.cos(2 * np.pi * cc / n + 1.0)
    assert float(metrics.ipr(w)) == pytest.approx(fig1.ica_threshold(n) / 3, rel=1e-5)


def test_deviations_list_every_reduction_with_a_reason():
    devs = {d.setting: d for d in fig1.deviations(fig1.config(False))}
    assert set(devs) == {"n", "batch", "steps", "ica.num"}
    assert all(d.reason != "no reason recorded" for d in devs.values())
