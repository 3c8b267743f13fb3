import itertools

import jax
import numpy as np
import pytest

from rfloc import metrics

N = 12
I = np.arange(N)


def cosine(f, phase, amp=1.3, offset=0.4, n=N):
    return amp * np.cos(2 * np.pi * f * np.arange(n) / n + phase) + offset


def wrapped_diff(a, b):
    return np.angle(np.exp(1j * (np.asarray(a) - np.asarray(b))))


def test_ipr_bounds_on_known_vectors():
    np.testing.assert_allclose(metrics.ipr(np.eye(N)[3] * -2.5), 1.0, rtol=1e-6)
    np.testing.assert_allclose(metrics.ipr(np.full(N, 0.7)), 1.0 / N, rtol=1e-6)
    # m equal entries and N − m zeros: IPR = m·a⁴ / (m·a²)² = 1/m.
    np.testing.assert_allclose(metrics.ipr(np.r_[np.ones(3), np.zeros(N - 3)]), 1 / 3, rtol=1e-6)
    w = np.random.default_rng(0).normal(size=(50, N))
    v = np.asarray(metrics.ipr(w))
    assert np.all((v >= 1 / N - 1e-7) & (v <= 1 + 1e-7))


def test_ipr_preserves_float64():
    # w = (1, a, 0, ...): IPR = (1 + a⁴)/(1 + a²)² = 1 − 2a² + O(a⁴). With a = 1e-4 the 2e-8 deficit is
    # below float32 resolution (float32 returns 1.0) but resolved in float64 (O(a⁴) = 4e-16 dropped).
    a = 1e-4
    w = np.zeros((2, N))
    w[:, 0], w[:, 5] = 1.0, a
    v = metrics.ipr(w)
    assert isinstance(v, np.ndarray) and v.dtype == np.float64
    np.testing.assert_allclose(v, 1 - 2 * a**2, rtol=1e-14, atol=0)
    v32 = np.asarray(metrics.ipr(w.astype(np.float32)))
    assert v32.dtype == np.float32
    np.testing.assert_allclose(v32, v, rtol=1e-6)
    assert np.isnan(metrics.ipr(np.zeros((2, N)))).all()


@pytest.mark.parametrize(
    "name",
    [
        "ipr",
        "peak_index",
        "peak_index_signed",
        "circular_peak",
        "spatial_width",
        "fourier_power",
        "fourier_mode",
        "sinusoid_fit",
    ],
)
def test_numpy_and_jax_paths_agree(name):
    # One formula, two namespaces: float64 numpy (returned as float32) against float32 jit. They differ by
    # float32 round-off of N = 12 terms (a few ulps), so rtol 1e-5 (~80 ulps) separates round-off from a
    # wrong formula; integers (sites, frequencies) must match exactly, as must the JAX path's dtypes.
    w = np.random.default_rng(3).normal(size=(6, N)).astype(np.float32)
    w[1] = np.exp(-0.5 * (I - 4.3) ** 2)  # a bump
    if name.startswith(("fourier", "sinusoid")):
        w[2], w[3] = cosine(2, 0.3), 0.25  # a pure mode and a flat RF (circular peak/width undefined)
    if name.startswith("peak"):
        w[3, 5] = np.nan  # a diverged RF has no peak: -1 on both paths
    fn = getattr(metrics, name)
    host, dev = fn(w), fn(jax.numpy.asarray(w))
    assert jax.tree.structure(host) == jax.tree.structure(dev)
    for h, d in zip(jax.tree.leaves(host), jax.tree.leaves(dev), strict=True):
        d = np.asarray(d)
        assert isinstance(h, np.ndarray) and h.dtype == d.dtype and h.shape == d.shape
        if d.dtype.kind == "i":
            np.testing.assert_array_equal(h, d)
        else:
            np.testing.assert_allclose(h, d, rtol=1e-5, atol=1e-6)


def test_peaks():
    w = np.zeros(N)
    w[4], w[7] = 0.5, -0.9
    assert int(metrics.peak_index(w)) == 7
    assert int(metrics.peak_index_signed(w)) == 7
    w[2] = 1.2  # largest |w| is now positive; the signed (downward) peak stays at 7
    assert int(metrics.peak_index(w)) == 2 and int(metrics.peak_index_signed(w)) == 7
    w[0] = np.nan
    assert int(metrics.peak_index(w)) == -1 and int(metrics.peak_index_signed(w)) == -1


def test_peak_index_2d():
    n = 5
    img = np.zeros((n, n))
    img[3, 1] = -4.0
    row, col = metrics.peak_index_2d(img.ravel(), n)
    assert (int(row), int(col)) == (3, 1)
    assert isinstance(row, np.ndarray)  # numpy in, numpy path (no compiled program)
    row, col = metrics.peak_index_2d(jax.numpy.asarray(img.ravel()), n)
    assert (int(row), int(col)) == (3, 1)
    with pytest.raises(ValueError, match="n\\*n"):
        metrics.peak_index_2d(img.ravel(), 4)


def test_ring_distance_and_agreement_wrap():
    assert int(metrics.ring_distance(0, N - 1, N)) == 1
    assert int(metrics.ring_distance(2, 2 + N // 2, N)) == N // 2
    np.testing.assert_allclose(metrics.ring_distance(0.25, N - 0.25, N), 0.5)
    assert bool(metrics.peaks_agree(0, N - 1, N))
    assert not bool(metrics.peaks_agree(0, 2, N))
    assert bool(metrics.peaks_agree(0, 2, N, tol=2))
    assert not bool(metrics.peaks_agree(3, N - 1, N, tol=0)) and bool(metrics.peaks_agree(3, 3, N, tol=0))
    assert not bool(metrics.peaks_agree(-1, 0, N))  # a diverged run has no peak
    with pytest.raises(ValueError, match="tol"):
        metrics.peaks_agree(0, 1, N, tol=-1)
    with pytest.raises(ValueError, match="n must"):
        metrics.ring_distance(0, 1, 0)


def test_circular_peak_and_width_of_bump_at_origin():
    # w = exp(−d²/(4σ²)) so that w² is a Gaussian bump of standard deviation σ centred on site 0.
    n, sigma = 40, 1.5
    d = np.minimum(np.arange(n), n - np.arange(n))
    w = np.exp(-(d**2) / (4 * sigma**2))
    pos = float(metrics.circular_peak(w))
    assert min(pos, n - pos) < 1e-4  # ≈0 (or ≈n, the same site), not ≈n/2
    np.testing.assert_allclose(float(metrics.circular_peak(np.roll(w, 7))), 7.0, atol=1e-4)
    # For σ ≪ n the circular SD of a wrapped normal equals σ (R = exp(−θσ²/2) exactly).
    np.testing.assert_allclose(float(metrics.spatial_width(w)), sigma, rtol=1e-3)
    assert float(metrics.spatial_width(np.eye(n)[5])) < 1e-5
    assert np.isinf(float(metrics.spatial_width(np.ones(n))))


@pytest.mark.parametrize(("f", "phase"), [(1, 0.3), (3, -2.0), (5, 3.0), (N // 2, 0.0), (N // 2, np.pi)])
def test_sinusoid_fit_recovers_pure_cosine(f, phase):
    amp, offset = 1.3, 0.4
    fit = metrics.sinusoid_fit(cosine(f, phase, amp, offset))
    assert int(fit.frequency) == f
    np.testing.assert_allclose(float(fit.r2), 1.0, atol=1e-5)
    np.testing.assert_allclose(float(fit.amplitude), amp, atol=1e-5)
    np.testing.assert_allclose(float(fit.offset), offset, atol=1e-5)
    assert abs(wrapped_diff(float(fit.phase), phase)) < 1e-5
    np.testing.assert_allclose(metrics.sinusoid(fit, N), cosine(f, phase, amp, offset), atol=1e-5)


def test_sinusoid_fit_noisy_and_constant():
    rng = np.random.default_rng(1)
    w = cosine(2, 0.5) + 0.3 * rng.normal(size=N)
    fit = metrics.sinusoid_fit(w)
    assert int(fit.frequency) == 2
    assert 0.0 < float(fit.r2) < 1.0 - 1e-3
    # R² is that of the least-squares fit on [cos, sin, 1] at the chosen f (an independent lstsq).
    phi = 2 * np.pi * 2 * I / N
    X = np.stack([np.cos(phi), np.sin(phi), np.ones(N)], axis=1)
    coef, res, *_ = np.linalg.lstsq(X, w, rcond=None)
    np.testing.assert_allclose(float(fit.r2), 1 - res[0] / np.sum((w - w.mean()) ** 2), rtol=1e-5)
    for value in (2.0, 0.7, -3e-20):  # 0.7 is inexact in binary: its float32 mean differs by round-off
        flat = metrics.sinusoid_fit(np.full(N, value, dtype=np.float32))
        assert int(flat.frequency) == 0 and float(flat.r2) == 1.0 and float(flat.amplitude) == 0.0
        np.testing.assert_allclose(float(flat.offset), value, rtol=1e-6)


def test_metrics_are_scale_free_and_survive_huge_weights():
    # Runs about to diverge have finite weights ~1e25 whose 4th powers overflow float32.
    w = np.random.default_rng(4).normal(size=N).astype(np.float32)
    big = w * np.float32(1e25)
    for fn in (
        metrics.ipr,
        metrics.circular_peak,
        metrics.spatial_width,
        lambda v: metrics.sinusoid_fit(v).r2,
    ):
        np.testing.assert_allclose(fn(big), fn(w), rtol=1e-5)
    np.testing.assert_allclose(
        metrics.sinusoid_fit(big).amplitude, 1e25 * metrics.sinusoid_fit(w).amplitude, rtol=1e-5
    )


def test_vectorized_over_leading_dims_equals_loop():
    w = np.random.default_rng(2).normal(size=(2, 3, 4, N)).astype(np.float32)
    funcs = {
        "ipr": metrics.ipr,
        "peak": metrics.peak_index,
        "signed": metrics.peak_index_signed,
        "circ": metrics.circular_peak,
        "width": metrics.spatial_width,
        "fit_f": lambda v: metrics.sinusoid_fit(v).frequency,
        "fit_r2": lambda v: metrics.sinusoid_fit(v).r2,
        "fit_phase": lambda v: metrics.sinusoid_fit(v).phase,
    }
    for name, fn in funcs.items():
        whole = np.asarray(jax.jit(fn)(w))
        assert whole.shape == w.shape[:-1], name
        for idx in itertools.product(*map(range, w.shape[:-1])):
            np.testing.assert_allclose(whole[idx], np.asarray(fn(w[idx])), rtol=1e-5, atol=1e-6, err_msg=name)


def test_excess_kurtosis():
    n = 200_000
    z = np.random.default_rng(3).normal(size=(n, 3))
    k = np.asarray(metrics.excess_kurtosis(z, axis=0))
    assert k.shape == (3,)
    # Sample excess kurtosis of Gaussian data has standard error ≈ sqrt(24/n); allow 5 SE.
    assert np.all(np.abs(k) < 5 * np.sqrt(24 / n))
    # A symmetric ±1 variable has m₄ = m₂² = 1 exactly: excess kurtosis −2.
    np.testing.assert_allclose(metrics.excess_kurtosis(np.tile([1.0, -1.0], 50)), -2.0, rtol=1e-6)
    # float32 sums of 2·10⁵ terms: the two layouts agree to round-off, not bit for bit.
    np.testing.assert_allclose(metrics.excess_kurtosis(z.T, axis=1), k, atol=1e-5)
    with pytest.raises(ValueError, match="samples"):
        metrics.excess_kurtosis(np.ones(1))


def test_fourier_mode_share_counts_the_flat_mode_and_sums_to_one():
    import numpy as np

    from rfloc.metrics import fourier_mode, fourier_power

    n = 40
    i = np.arange(n)
    flat = np.full(n, -0.3)
    cosine = np.cos(2 * np.pi * 3 * i / n + 0.7)
    onehot = np.eye(n)[5]
    nyquist = np.cos(np.pi * i)
    for w, f, share in ((flat, 0, 1.0), (cosine, 3, 1.0), (nyquist, n // 2, 1.0)):
        mode = fourier_mode(w)
        assert int(mode.frequency) == f and float(mode.share) == pytest.approx(share, rel=1e-5)
    # one-hot: every 0 < f < N/2 holds 2/N (a tie; which one wins is round-off)
    mode = fourier_mode(onehot)
    assert 0 < int(mode.frequency) < n // 2 and float(mode.share) == pytest.approx(2 / n, rel=1e-4)
    # Parseval: the shares of any RF sum to 1; a flat RF plus a 5% ripple keeps ~all of |w|^2 at f = 0.
    rng = np.random.default_rng(0)
    w = rng.standard_normal((3, n))
    np.testing.assert_allclose(np.asarray(fourier_power(w)).sum(-1), 1.0, rtol=1e-5)
    ripple = flat * (1 + 0.05 * rng.standard_normal(n))
    assert int(fourier_mode(ripple).frequency) == 0 and float(fourier_mode(ripple).share) > 0.99
