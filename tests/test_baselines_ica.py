"""FastICA baseline: recovery of a known mixing, the model wrapper, and input validation."""

import jax
import numpy as np
import pytest

from rfloc.baselines import fit_ica, ica
from rfloc.data import Kur


def _laplace_mixture(n, num, mixing, seed=0):
    """num samples of x = A s, s i.i.d. unit-variance Laplace (excess kurtosis 3: far from Gaussian)."""
    rng = np.random.default_rng(seed)
    s = rng.laplace(scale=1 / np.sqrt(2), size=(num, n))
    return s @ mixing.T


def _abs_corr(a, b):
    """|cosine| between the rows of a and the rows of b (the filters carry no mean: sources are centred)."""
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return np.abs(a @ b.T)


def test_recovers_orthogonal_mixing():
    n, num = 6, 20_000
    q, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(n, n)))
    res = ica(_laplace_mixture(n, num, q), n_components=n)
    # Filters are rows of A⁻¹ = Aᵀ up to sign, scale and order. FastICA's angular error is O(1/√num)
    # (≈0.01 rad here for Laplace sources), so 0.95 (an 18° error) fails only if the wrong rows were found.
    corr = _abs_corr(res.filters, q.T)
    best = corr.argmax(axis=1)
    assert sorted(best) == list(range(n)), "filters must match distinct rows of the inverse mixing"
    assert np.all(corr.max(axis=1) > 0.95)
    # Basis functions (mixing columns) are the columns of A, matched the same way.
    assert np.all(_abs_corr(res.mixing.T, q.T)[np.arange(n), best] > 0.95)
    assert res.converged and res.filters.shape == (n, n) and res.mixing.shape == (n, n)


def test_unmixed_sparse_sources_give_one_hot_filters():
    # A = I: every filter is ∝ a unit vector, whose IPR Σw⁴/(Σw²)² is 1; the O(1/√num) leakage into the
    # other inputs lowers it by O(1/num) only, so > 0.95 is loose.
    n = 5
    res = ica(_laplace_mixture(n, 20_000, np.eye(n), seed=2), n_components=n)
    assert np.all(res.ipr > 0.95)


def test_fit_ica_on_a_data_model():
    model = Kur(n=12, k=3.0)
    res = fit_ica(model, num=4000, n_components=4, key=jax.random.key(0))
    assert res.filters.shape == (4, 12) and res.mixing.shape == (12, 4) and res.ipr.shape == (4,)
    # mixing is the pseudo-inverse of the (full row rank) filters: filters @ mixing = I_C.
    np.testing.assert_allclose(res.filters @ res.mixing, np.eye(4), atol=1e-8)
    assert np.all((res.ipr >= 1 / 12 - 1e-12) & (res.ipr <= 1 + 1e-12))
    # Same key and random_state: the same filters (the pipeline is deterministic).
    again = fit_ica(model, num=4000, n_components=4, key=jax.random.key(0))
    np.testing.assert_array_equal(res.filters, again.filters)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"x": np.zeros(10)}, "x must be"),
        ({"x": np.zeros((3, 5))}, "x must be"),
        ({"x": np.full((20, 2), np.nan)}, "finite"),
        ({"n_components": 0}, "n_components"),
        ({"n_components": 4}, "n_components"),
        ({"whiten": "pca"}, "whiten"),
        ({"max_iter": 0}, "max_iter"),
        ({"tol": 0.0}, "tol"),
        ({"random_state": -1}, "random_state"),
    ],
)
def test_ica_rejects_bad_input(kwargs, match):
    args = {"x": np.random.default_rng(0).normal(size=(50, 3)), "n_components": 2, **kwargs}
    with pytest.raises(ValueError, match=match):
        ica(**args)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"model": np.zeros((10, 3))}, "model"),
        ({"num": 12}, "num"),
        ({"n_components": 13}, "n_components"),
        ({"whiten": False}, "whiten"),
    ],
)
def test_fit_ica_rejects_bad_input(kwargs, match):
    args = {"model": Kur(n=12, k=3.0), "num": 100, "n_components": 2, "key": jax.random.key(0), **kwargs}
    with pytest.raises(ValueError, match=match):
        fit_ica(**args)


def test_fits_in_parallel_equal_sequential_fits():
    """Side-by-side fits (threads, one BLAS thread each) give the sequential results bit for bit."""
    from functools import partial

    from rfloc.baselines import fit_in_parallel, sparse_coding

    n = 8
    q, _ = np.linalg.qr(np.random.default_rng(2).normal(size=(n, n)))
    xs = [_laplace_mixture(n, 4000, q, seed=s) for s in range(3)]
    calls = [partial(ica, x, n_components=n) for x in xs] + [partial(sparse_coding, xs[0], 6, 0.5)]
    together = fit_in_parallel(calls)
    for call, got in zip(calls, together, strict=True):
        alone = call()
        for field in ("filters", "dictionary"):
            if hasattr(alone, field):
                np.testing.assert_array_equal(getattr(got, field), getattr(alone, field))


def test_nonconvergence_warning_stays_silent_when_fits_run_in_threads():
    """A short fit that ends first must not restore the caller's filters while a longer one still runs
    (warning filters are process-wide): no fit in fit_in_parallel warns, and each reports converged=False."""
    import warnings
    from functools import partial

    from rfloc.baselines import fit_in_parallel

    n = 8
    q, _ = np.linalg.qr(np.random.default_rng(2).normal(size=(n, n)))
    x = _laplace_mixture(n, 4000, q, seed=0)
    short = partial(ica, x[:500], n_components=n, max_iter=1, tol=1e-12)
    long = partial(ica, np.tile(x, (25, 1)), n_components=n, max_iter=5, tol=1e-12)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = fit_in_parallel([short, long])
    assert [r.converged for r in results] == [False, False]
    assert not [w for w in caught if "did not converge" in str(w.message)]
