"""fig5_networks and fig5_ica: check() on synthetic RFs (flat, bump, sinusoid, noisy sinusoid) and the
Gaussian-control threshold; the quick end-to-end runs are in test_experiments_many_neurons.py."""

import numpy as np
import pytest
import xarray as xr

from rfloc.experiments import fig5_ica
from rfloc.experiments import fig5_networks as nets
from rfloc.experiments.claims import LOCALIZED_IPR, clopper_pearson

N, T = 100, 3
rng = np.random.default_rng(0)
i = np.arange(N)


def bumps(k, width=2.0):
    centres = rng.integers(0, N, k)
    d = np.minimum(np.abs(i - centres[:, None]), N - np.abs(i - centres[:, None]))
    return np.exp(-(d**2) / (2 * width**2))


def sines(k, noise=0.0):
    f = rng.integers(1, 6, k)[:, None]
    w = np.cos(2 * np.pi * f * i / N + rng.uniform(0, 2 * np.pi, (k, 1)))
    return w + noise * rng.standard_normal((k, N))


def flat(k):
    return np.ones((k, N)) + 0.02 * rng.standard_normal((k, N))


def _run(final, control="ctrl"):
    w = np.repeat(final[None], T, axis=0)  # (T, K, N): constant in time
    return (w, np.arange(T) * 100, False, control)


def _claims(**cases):
    k = next(iter(cases.values())).shape[0]
    runs = {name: _run(w) for name, w in cases.items()}
    runs["ctrl"] = _run(sines(k, noise=0.1), control="")  # SGD noise on the control as on the runs
    return {c.name.split(": ")[0]: c for c in nets.check(nets.summarize(runs))}


@pytest.mark.parametrize(
    "make, localized",
    [(bumps, True), (sines, False), (flat, False), (lambda k: sines(k, noise=0.1), False)],
    ids=["bump", "sinusoid", "flat", "noisy-sinusoid"],
)
def test_network_verdicts_follow_the_shape_not_the_label(make, localized):
    claims = _claims(kur6=make(100), kur5=make(100))
    assert claims["network on Kur(6), K=100 ReLU"].passed is localized  # expected: localized
    assert claims["network on Kur(5), K=100 ReLU"].passed is (not localized)  # expected: not localized


def test_localized_is_defined_by_the_control_and_counted_with_an_interval():
    w = np.concatenate([bumps(65), sines(35)])
    ds = nets.summarize({"kur6": _run(w), "ctrl": _run(sines(100, noise=0.05), control="")})
    k, total, bar = nets.localized_fraction(ds, "kur6")
    assert (k, total) == (65, 100)
    assert bar == pytest.approx(float(ds.ipr.sel(case="ctrl").isel(step=-1).max()))
    lo, hi = clopper_pearson(65, 100)
    (claim, *_) = nets.check(ds)
    assert f"65/100 neurons localized ({lo:.2f}-{hi:.2f})" in claim.measured
    assert claim.passed  # interval (0.55, 0.74) lies above 1/2
    # 55/100: the interval straddles 1/2, so neither "localized" nor "not localized" passes.
    mixed = np.concatenate([bumps(55), sines(45)])
    ds = nets.summarize({"kur6": _run(mixed), "ctrl": _run(sines(100, noise=0.05), control="")})
    assert not nets.check(ds)[0].passed


def test_clopper_pearson_matches_the_beta_quantiles():
    from scipy.stats import beta

    lo, hi = clopper_pearson(7, 20)
    assert lo == pytest.approx(beta.ppf(0.025, 7, 14)) and hi == pytest.approx(beta.ppf(0.975, 8, 13))
    assert clopper_pearson(0, 10)[0] == 0.0 and clopper_pearson(10, 10)[1] == 1.0


def test_k5_k6_contrast_reports_an_honest_failure():
    claims = _claims(kur6=sines(100), kur5=bumps(100))
    contrast = claims["Kur(6) localizes more neurons than Kur(5) (sign change of excess kurtosis)"]
    assert not contrast.passed and "0/100 at k=6 vs 100/100 at k=5" in contrast.measured
    assert _claims(kur6=bumps(100), kur5=sines(100))[contrast.name].passed


def _ica_ds(filters_by_k, components=40):
    ks = list(filters_by_k)
    f = np.stack([filters_by_k[k] for k in ks])[None]  # (1, K, C, 40)
    from rfloc import metrics

    ipr = np.asarray(metrics.ipr(f))
    return xr.Dataset(
        {
            "filters": (("components", "k", "filter", "input"), f),
            "ipr": (("components", "k", "filter"), ipr),
            "converged": (("components", "k"), np.ones((1, len(ks)), bool)),
            "ceiling": ("components", [1.0]),
        },
        coords={"components": [components], "k": ks},
        attrs={"num": 1000},
    )


def _ica_shapes(kind, c=40, n=40):
    j = np.arange(n)
    if kind == "onehot":
        return np.eye(n)[:c] + 0.02 * rng.standard_normal((c, n))
    if kind == "sine":
        return np.cos(2 * np.pi * rng.integers(1, 8, (c, 1)) * j / n + rng.uniform(0, 6, (c, 1)))
    return np.ones((c, n))  # flat


@pytest.mark.parametrize(
    "k3, k30, passed",
    [("onehot", "sine", (True, True)), ("sine", "onehot", (False, False)), ("flat", "flat", (False, True))],
)
def test_ica_verdicts_on_synthetic_filters(k3, k30, passed):
    claims = fig5_ica.check(_ica_ds({3.0: _ica_shapes(k3), 30.0: _ica_shapes(k30)}))
    assert tuple(c.passed for c in claims) == passed
    assert all(str(LOCALIZED_IPR) in c.criterion for c in claims)


def test_ica_pca_ceiling_limits_ten_components():
    # Ten PCs cannot hold a localized vector: the ceiling sits far below a one-hot's IPR of 1 but above
    # the threshold, so only C = 40 can test "not localized"; 40 PCs span everything (ceiling 1).
    c10 = fig5_ica.pca_ceiling(10)
    assert 0.1 < c10 < 0.3
    assert fig5_ica.pca_ceiling(40) == pytest.approx(1.0, abs=1e-4)


def test_deviations_are_empty_at_paper_settings_and_listed_for_quick():
    assert nets.deviations(nets.config(False, profile="paper")) == []
    assert [d.setting for d in nets.deviations(nets.config(False))] == [
        "batch.relu100",
        "batch.sigmoid100_bias-1",
    ]
    assert fig5_ica.deviations(fig5_ica.config(False)) == []
    assert {d.setting for d in nets.deviations(nets.config(True))} == {"steps"} | {
        f"batch.{k}" for k in nets.config(True)["batch"]
    }
    assert [d.setting for d in fig5_ica.deviations(fig5_ica.config(True))] == ["num"]
