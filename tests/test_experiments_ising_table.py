"""ising_table: profiles of its config, and check() on synthetic agreement curves."""

import numpy as np
import pytest
import xarray as xr

from rfloc.experiments import ising_table

N, S = 40, 256


def _bumps(sites: np.ndarray) -> np.ndarray:
    """Downward Gaussian bumps (width 1.5 sites) centred at the given ring sites: (len(sites), N)."""
    d = (np.arange(N)[None] - sites[:, None] + N // 2) % N - N // 2
    return -np.exp(-(d**2) / (2 * 1.5**2))


def _curve(agree: int, control_agree: int) -> xr.Dataset:
    """One batch, S seeds; the predictor's peak is on the simulated site for `agree` seeds, 5 sites away
    otherwise (outside the ±1 tolerance); likewise the control."""
    sites = np.arange(S) % N
    sim = _bumps(sites)
    shifted = lambda k: np.where(np.arange(S) < k, sites, (sites + 5) % N)  # noqa: E731
    pred = _bumps(shifted(agree))
    ctrl = _bumps(shifted(control_agree))
    rf = lambda w: np.stack([np.full_like(w, 1e-3), w], axis=1)  # (S, T=2, N): w0, final  # noqa: E731
    return xr.Dataset(
        {
            "init_w": (("seed", "input"), np.full((S, N), 1e-3)),
            "sim_w": (("batch", "seed", "time", "input"), rf(sim)[None]),
            "control_w": (("batch", "seed", "input"), ctrl[None]),
            "pred_w": (("predictor", "seed", "time", "input"), rf(pred)[None]),
            "sim_ran": (("batch", "seed"), np.ones((1, S), bool)),
            "pred_ran": (("predictor", "seed"), np.ones((1, S), bool)),
        },
        coords={"batch": [1000], "predictor": ["cubic"], "seed": np.arange(S), "time": [0.0, 100.0]},
        attrs={"control": 1, "why": "synthetic"},
    )


def _verdict(claims, start: str) -> bool:
    (claim,) = [c for c in claims if c.name.startswith(start)]
    return claim.passed


def test_paper_count_verdict_follows_the_agreement_probability():
    # p̂ = 0.95: P(X >= 26 | 28, 0.95) = 0.85 -> plausible; p̂ = 0.5: ~1e-6 -> not.
    good, bad = ising_table.check(_curve(243, 250)), ising_table.check(_curve(128, 250))
    start = "Ising peak agreement (+-1 site), cubic"
    assert _verdict(good, start) and not _verdict(bad, start)
    # The same for the signed reading: the bumps point downwards, so argmax -w = argmax |w|.
    start = "Ising peak agreement (+-1 site, argmax -w), cubic"
    assert _verdict(good, start) and not _verdict(bad, start)


def test_control_claims_use_the_control():
    # Control c = 0.3: ceiling sqrt(2 x 0.36) ~ 0.85 < 0.93 -> no w0-only predictor reaches 26/28 plausibly.
    low_ceiling = ising_table.check(_curve(77, 77))
    assert not _verdict(low_ceiling, "[beyond the paper] SGD against SGD")
    high_ceiling = ising_table.check(_curve(128, 250))
    assert _verdict(high_ceiling, "[beyond the paper] SGD against SGD")
    # Predictor at 0.5 vs control at 0.98: the predictor misses more than SGD noise explains.
    assert not _verdict(high_ceiling, "[beyond the paper] cubic predictor's disagreement is SGD noise")
    assert _verdict(ising_table.check(_curve(250, 128)), "[beyond the paper] cubic predictor's disagreement")


def test_profiles():
    assert ising_table.config(True) == ising_table.config(profile="quick")
    assert ising_table.config(False)["profile"] == "default"
    paper = ising_table.config(profile="paper")
    assert paper["batches"] == [100, 250, 500, 1000, 2000, 5000, 10000] and set(paper["seeds"]) == {256}
    for profile in ising_table.PROFILES:
        cfg = ising_table.config(profile=profile)
        assert len(cfg["seeds"]) == len(cfg["batches"]) and cfg["why"]
        assert max(cfg["predictor_seeds"].values()) <= max(cfg["seeds"])
    with pytest.raises(ValueError, match="profile"):
        ising_table.config(profile="full")


def test_plot_writes_the_three_figures(tmp_path):
    files = ising_table.plot(_curve(243, 250), tmp_path)
    assert [f.name for f in files] == [
        "ising_table_agreement.png",
        "ising_table_overlays.png",
        "meanfield_ipr_over_time.png",
    ]
    assert all(f.stat().st_size > 0 for f in files)
