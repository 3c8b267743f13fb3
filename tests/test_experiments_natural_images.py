"""natural_images experiment: configuration profiles and verdicts on synthetic filters."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rfloc.experiments import natural_images as E
from rfloc.metrics import _gabor_model

N = 12
UNITS = 10  # 6 learners x 2 sources x 10 units = 120 filters: one compiled Gabor-fit batch (128)


def test_profiles():
    quick, default, paper = E.config(True), E.config(False), E.config(False, profile="paper")
    assert default["pool"] >= 100_000 and paper["pool"] >= 100_000
    assert min(c["sparse"]["atoms"] for c in (quick, default, paper)) >= 100
    assert 20 <= default["nets"]["width"] <= 100 and paper["nets"]["width"] == 100
    assert (
        paper["reductions"] == []
        and default["reductions"]
        and quick["sparse"]["num"] < default["sparse"]["num"]
    )
    assert "natural_images" in __import__("rfloc.experiments", fromlist=["ORDER"]).ORDER
    with pytest.raises(ValueError, match="^profile "):
        E.config(False, profile="huge")


def _gabors(rng, count):
    su = rng.uniform(1.5, 2.5, count)
    phase = rng.uniform(-np.pi, np.pi, count)
    p = np.stack(
        [
            rng.uniform(4, 7, count),
            rng.uniform(4, 7, count),
            rng.uniform(0, np.pi, count),
            np.log(su),
            np.log(rng.uniform(1.5, 2.5, count)),
            rng.uniform(0.15, 0.3, count),
            np.cos(phase),
            -np.sin(phase),
        ],
        1,
    )
    clean = np.asarray(jax.vmap(lambda q: _gabor_model(q, N))(jnp.asarray(p, jnp.float32)))
    return clean + 0.05 * rng.standard_normal(clean.shape)


def _dataset(natural, surrogate, nets_natural, kurtosis):
    rng = np.random.default_rng(0)
    noise = lambda: rng.standard_normal((UNITS, N * N))  # noqa: E731
    filters = {}
    for m in E.METHODS[:2]:
        filters[(m, "natural")], filters[(m, "surrogate")] = natural(rng, UNITS), surrogate(rng, UNITS)
    for m in E.METHODS[2:]:
        filters[(m, "natural")], filters[(m, "surrogate")] = nets_natural(rng, UNITS), noise()
    laws = {"blur 0": {"china": kurtosis, "pooled": kurtosis}}
    extra = {"diverged": (("learner", "source"), np.zeros((len(E.METHODS), 2), bool))}
    return E.assemble(filters, N, laws, extra)


def test_check_gives_opposite_verdicts_on_gabors_and_noise():
    def noise(rng, k):
        return rng.standard_normal((k, N * N))

    good = E.check(_dataset(_gabors, noise, noise, (10.0, 8.0, 12.0)))
    bad = E.check(_dataset(noise, _gabors, _gabors, (-1.0, -1.2, -0.8)))
    verdict = lambda claims: {c.name.split(":")[0]: c.passed for c in claims}  # noqa: E731
    g, b = verdict(good), verdict(bad)
    # Gabors from "natural" data beat a noise control; noise against a Gabor control does not
    for m in ("sparse coding", "FastICA"):
        key = f"[rfloc extension] {m}"
        assert g[key] and not b[key]
    # positive kurtosis predicts no localization: noise-like nets agree (PASS); with negative kurtosis the
    # theory predicts localization, and localized nets against a noise control agree too; swap them and
    # both disagree
    nets = [k for k in g if k.startswith("[rfloc extension] net")]
    assert len(nets) == 4 and all(g[k] for k in nets) and all(b[k] for k in nets)
    swapped = verdict(E.check(_dataset(_gabors, noise, _gabors, (10.0, 8.0, 12.0))))
    assert not any(swapped[k] for k in nets)
