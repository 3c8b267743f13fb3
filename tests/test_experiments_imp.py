"""The imp experiment: its claims on synthetic results (no training), and a quick end-to-end run."""

import numpy as np
import pytest
import xarray as xr

from rfloc.experiments import imp

LABELS = ["nlgp_imp", "gauss_imp", "nlgp_random", "gauss_random", "kur5_imp", "kur30_imp"]
EXCESS = {"nlgp": -1.5, "gauss": 0.0, "kur5": 1.29, "kur30": -1.17}


def _block_masks(rng, shape, k, local, rounds, seeds, width):
    """Masks (S, R+1, K, M): dense at round 0, k survivors per neuron afterwards, placed as a contiguous
    run/square (local) or uniformly at random."""
    m = int(np.prod(shape))
    out = np.ones((seeds, rounds + 1, width, m))
    for s in range(seeds):
        for r in range(1, rounds + 1):
            for j in range(width):
                row = np.zeros(shape)
                if local:
                    start = rng.integers(0, shape[0], size=len(shape))
                    side = int(round(k ** (1 / len(shape))))
                    idx = tuple(np.arange(a, a + side) % shape[0] for a in start)
                    row[np.ix_(*idx)] = 1
                else:
                    row.reshape(-1)[rng.choice(m, k, replace=False)] = 1
                out[s, r, j] = row.reshape(-1)
    return out


def _synthetic(rng, shape, local_for, acc_drop=0.0, kurt_growth=0.5, seeds=4, rounds=2, width=6):
    """Fake `imp_many` output with local masks for the labels in `local_for`, random masks otherwise."""
    labels = LABELS if len(shape) == 1 else LABELS[:4]
    k = 4
    masks, settings = [], []
    for lab in labels:
        masks.append(_block_masks(rng, shape, k, lab in local_for, rounds, seeds, width))
        fam = lab.rsplit("_", 1)[0]
        settings.append(
            {
                "label": lab,
                "family": {"gauss": "gaussian"}.get(fam, "kur" if fam.startswith("kur") else fam),
                "excess": EXCESS[fam],
                "random": lab.endswith("random"),
            }
        )
    mask = np.stack(masks)
    h = len(labels)
    w = mask * rng.normal(size=mask.shape)
    acc = np.full((h, seeds, rounds + 1), 0.9) + 0.005 * rng.normal(size=(h, seeds, rounds + 1))
    acc[:, :, -1] -= acc_drop
    kurt = -(0.5 + kurt_growth * np.arange(rounds + 1))[None, None, :, None] * np.ones((h, seeds, 1, width))
    kurt = kurt + 0.02 * rng.normal(size=kurt.shape)
    for i, lab in enumerate(labels):
        if lab.startswith("gauss"):
            kurt[i] = 0.02 * rng.normal(size=kurt[i].shape)
    out = {
        "mask": mask,
        "W": w,
        "preact_kurtosis": kurt,
        "test_acc": acc,
        "test_loss": 1 - acc,
        "train_loss": 1 - acc,
    }
    sparsity = 1 - k / np.prod(shape) * np.r_[np.prod(shape) / k, np.ones(rounds)]
    return imp.geometry_dataset(out, settings, sparsity, shape)


def _dataset(local_for, **kw):
    rng = np.random.default_rng(0)
    return imp.combine(_synthetic(rng, (40,), local_for, **kw), _synthetic(rng, (8, 8), local_for, **kw), [])


def _verdicts(ds):
    return {c.name: c.passed for c in imp.check(ds)}


def test_local_versus_random_masks_give_opposite_verdicts():
    local = _verdicts(_dataset({"nlgp_imp", "kur30_imp"}))
    scattered = _verdicts(_dataset({"kur5_imp"}))
    for tag in ("ring", "torus"):
        name = f"[extension] IMP on NLGP yields local masks ({tag})"
        assert local[name] and not scattered[name]
        gauss = f"[extension] IMP on the Gaussian clone does not localize ({tag})"
        assert local[gauss]
    sign = "[extension] IMP localization follows the sign of the excess kurtosis (ring)"
    assert local[sign] and not scattered[sign]
    # A Gaussian clone as local as the NLGP fails the control claim.
    both = _verdicts(_dataset({"nlgp_imp", "gauss_imp"}))
    assert not both["[extension] IMP on the Gaussian clone does not localize (ring)"]


def test_accuracy_and_kurtosis_claims_respond_to_their_data():
    ok = _verdicts(_dataset({"nlgp_imp"}))
    bad = _verdicts(_dataset({"nlgp_imp"}, acc_drop=0.2, kurt_growth=-0.2))
    for tag in ("ring", "torus"):
        acc = f"[extension] accuracy at final sparsity near the dense net's ({tag})"
        kur = f"[extension] IMP raises the pre-activations' non-Gaussianity on NLGP ({tag})"
        assert ok[acc] and not bad[acc]
        assert ok[kur] and not bad[kur]


def test_config_profiles_and_reductions():
    quick, default, paper = imp.config(True), imp.config(False), imp.config(False, profile="paper")
    for cfg in (quick, default, paper):
        assert cfg["reductions"] and all(isinstance(r, str) for r in cfg["reductions"])
        # >= 95 % sparsity at the final round, from the schedule alone.
        rate, rounds = cfg["imp"]["rate"], cfg["imp"]["rounds"]
        assert 1 - (1 - rate) ** rounds >= 0.95
    assert len(default["kur_ks"]) >= 5
    assert paper["imp"]["rate"] == 0.3 and paper["ring"]["width"] > default["ring"]["width"]
    with pytest.raises(ValueError, match="profile"):
        imp.config(False, profile="huge")


@pytest.mark.slow
def test_quick_run_end_to_end(tmp_path):
    from rfloc.experiments.runner import run_experiment

    out = run_experiment("imp", tmp_path, quick=True)
    assert out.figures and all(p.exists() and p.stat().st_size > 0 for p in out.figures)
    assert len(out.claims) == 9 and len({c.name for c in out.claims}) == 9
    for c in out.claims:
        assert c.experiment == "imp" and "[extension]" in c.name and c.measured and c.criterion
    # Every run trained without diverging (quick's width-4 torus net once gave NaN weights at lr 5).
    (data,) = (tmp_path / "data").glob("*.nc")
    with xr.open_dataset(data) as ds:
        for tag in ("ring", "torus"):
            assert np.isfinite(ds[f"{tag}_W"].values).all(), tag
