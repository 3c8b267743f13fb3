"""fig4_kurtosis: check() on synthetic RFs (flat, bump, sinusoid, noisy sinusoid) and the theory window."""

import numpy as np
import pytest

from rfloc.experiments import fig4_kurtosis as ex

N, S = 40, 4
rng = np.random.default_rng(0)
i = np.arange(N)
EXCESS = [-2.0, -1.44, -1.17, -0.93, -0.08, 0.37, 1.29, 4.05]


def bump(width=0.5):
    c = rng.integers(0, N)
    d = np.minimum(np.abs(i - c), N - np.abs(i - c))
    return np.exp(-(d**2) / (2 * width**2))


def sine(noise=0.0):
    return np.cos(2 * np.pi * rng.integers(1, 5) * i / N + rng.uniform(0, 6)) + noise * rng.standard_normal(N)


def flat():
    return np.ones(N) + 0.02 * rng.standard_normal(N)


def _ds(neg, pos, ode_neg=None, ode_pos=None):
    """Points with excess < 0 get RFs from `neg`, the others from `pos`; the ODE the same unless given."""
    rows = []
    for e in EXCESS:
        make, make_ode = (neg, ode_neg or neg) if e < 0 else (pos, ode_pos or pos)
        w = np.stack([make() for _ in range(S)])
        rows.append(("kur", 0.0, e, w, np.stack([make_ode() for _ in range(S)]), w))
    return ex.summarize(rows)


def _verdicts(ds):
    return [c.passed for c in ex.check(ds)]


def test_localized_negative_and_sinusoidal_positive_pass_every_claim():
    assert _verdicts(_ds(bump, sine)) == [True, True, True, True]
    assert _verdicts(_ds(bump, lambda: sine(noise=0.1))) == [True, True, True, True]


def test_a_bump_at_positive_excess_fails_the_low_ipr_claim():
    verdicts = _verdicts(_ds(bump, bump))
    assert verdicts[1] is False


@pytest.mark.parametrize("shape", [flat, sine, lambda: sine(noise=0.1)], ids=["flat", "sinusoid", "noisy"])
def test_delocalized_rfs_at_negative_excess_fail_the_high_ipr_claim(shape):
    assert _verdicts(_ds(shape, sine))[0] is False


def test_theory_disagreeing_with_sgd_fails_the_extension_claim_and_names_the_points():
    ds = _ds(bump, sine, ode_neg=sine)
    claim = ex.check(ds)[3]
    assert claim.kind == "extension" and not claim.passed and "parted: kur" in claim.measured


def test_theory_window_brackets_the_ode_crossing_and_zero():
    # ODE localizes only at excess <= -0.93: its crossing lies in (-0.93, -0.08); window = grid points
    # bracketing [crossing, 0] = [-0.93, 0.37].
    rows = []
    for e in EXCESS:
        w = np.stack([bump() if e <= -0.93 else sine() for _ in range(S)])
        rows.append(("kur", 0.0, e, w, w, w))
    assert ex.theory_window(ex.summarize(rows)) == (-0.93, 0.37)


def test_deviations_name_the_reduced_batch():
    devs = {d.setting: d for d in ex.deviations(ex.config(False))}
    assert set(devs) == {"batch", "seeds"} and devs["batch"].paper == "10000"
    assert "budget" in devs["batch"].reason
    cfg = ex.config(False)
    kur_excess = [ex.Kur(n=40, k=k).marginal.excess_kurtosis for k in cfg["ks"]]
    assert sum(e > 0 for e in kur_excess) >= 3 and cfg["seeds"] >= 4
