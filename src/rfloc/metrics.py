"""Localization metrics of receptive fields (SPEC §4).

Every function is pure `jax.numpy` (the array-only ones jit-compiled) and acts on the last axis of its
input, so any leading dims (settings, seeds, time, neurons, ...) are handled at once: ``ipr(W)`` of
weights (H, S, T, K, N) is (H, S, T, K). Positions live on the ring of N sites (i and i + N are the
same site).
"""

from __future__ import annotations

import numbers
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp


def _rf(w, name: str = "w") -> jnp.ndarray:
    w = jnp.asarray(w)
    if w.ndim < 1 or w.shape[-1] < 1:
        raise ValueError(f"{name} must have at least one dim with >= 1 entries (inputs last), got {w.shape}")
    if not jnp.issubdtype(w.dtype, jnp.floating):
        w = w.astype(jnp.float32)
    return w


def _scaled(w) -> jnp.ndarray:
    """w / max|w| along the last axis: the metrics are scale-free, and this keeps w⁴ from overflowing
    float32 for the huge (still finite) weights of a run about to diverge."""
    w = _rf(w)
    top = jnp.max(jnp.abs(w), axis=-1, keepdims=True)
    return w / jnp.where(top > 0, top, 1.0)


def _ring_size(n) -> None:
    # Only concrete sizes can be checked; a traced n (inside jit) is the caller's responsibility.
    if isinstance(n, numbers.Integral) and (isinstance(n, bool) or n < 1):
        raise ValueError(f"n must be a positive integer (number of ring sites), got {n!r}")


@jax.jit
def ipr(w) -> jnp.ndarray:
    """Inverse participation ratio Σw⁴ / (Σw²)² over the last axis, in [1/N, 1] (nan for w = 0).

    1 = a single active input, 1/N = weight spread uniformly. For a 2-D RF pass it flattened (n*n,).
    """
    w2 = _scaled(w) ** 2
    return jnp.sum(w2**2, axis=-1) / jnp.sum(w2, axis=-1) ** 2


def _finite_argmax(score, w) -> jnp.ndarray:
    # argmax of NaN data returns an arbitrary site; a diverged RF has no peak, so say so with -1.
    idx = jnp.argmax(score, axis=-1)
    return jnp.where(jnp.all(jnp.isfinite(w), axis=-1), idx, -1)


@jax.jit
def peak_index(w) -> jnp.ndarray:
    """Site of the largest |w_i| over the last axis (int); -1 when w has a non-finite entry."""
    w = _rf(w)
    return _finite_argmax(jnp.abs(w), w)


@jax.jit
def peak_index_signed(w) -> jnp.ndarray:
    """argmax_i (−w_i): the authors' by-eye peak (the RFs of the paper point downwards); -1 if non-finite."""
    w = _rf(w)
    return _finite_argmax(-w, w)


def peak_index_2d(w, n: int) -> tuple[jnp.ndarray, jnp.ndarray]:
    """(row, col) of the largest |w| of a 2-D RF flattened row-major to (..., n*n); (-1, -1) if non-finite."""
    _ring_size(n)
    w = _rf(w)
    if w.shape[-1] != n * n:
        raise ValueError(f"w must have n*n = {n * n} inputs on its last axis for n = {n}, got {w.shape[-1]}")
    idx = peak_index(w)
    return jnp.where(idx < 0, -1, idx // n), jnp.where(idx < 0, -1, idx % n)


def _resultant(w):
    """Weighted resultant Σ w_i² e^{2πi·i/N} / Σ w_i² as (cos part, sin part, Σw²)."""
    w2 = _scaled(w) ** 2
    n = w2.shape[-1]
    angle = 2 * jnp.pi * jnp.arange(n, dtype=w2.dtype) / n
    total = jnp.sum(w2, axis=-1)
    return jnp.sum(w2 * jnp.cos(angle), axis=-1) / total, jnp.sum(w2 * jnp.sin(angle), axis=-1) / total


@jax.jit
def circular_peak(w) -> jnp.ndarray:
    """Sub-grid peak: circular mean position of the weights w_i² on the ring, a float in [0, N).

    Position = N/(2π) · arg Σ w_i² e^{2πi·i/N}; a bump centred on site 0 gives ≈0 (not N/2 as a plain mean).
    """
    n = jnp.asarray(w).shape[-1]
    c, s = _resultant(w)
    pos = jnp.mod(jnp.arctan2(s, c) * n / (2 * jnp.pi), n)
    # mod can round a tiny negative angle up to exactly n; that site is 0.
    return jnp.where(pos >= n, 0.0, pos)


@jax.jit
def spatial_width(w) -> jnp.ndarray:
    """Circular standard deviation of the weights w_i² on the ring, in sites.

    width = N/(2π) · sqrt(−2 ln R), R = |Σ w_i² e^{2πi·i/N}| / Σ w_i² the resultant length; 0 for a one-hot
    RF, ≈σ for a narrow Gaussian bump of w² with standard deviation σ ≪ N, and inf for weight spread evenly
    (R = 0), e.g. a constant RF or a pure sinusoid.
    """
    w2 = _scaled(w) ** 2
    n = w2.shape[-1]
    c, s = _resultant(w)
    # 1 − R = Σ p_i (1 − cos(θ_i − μ)) = Σ p_i · 2 sin²((θ_i − μ)/2) about the mean direction μ: no
    # cancellation in 1 − R for narrow RFs (float32 would floor the width at ~N·1e-4 sites otherwise).
    angle = 2 * jnp.pi * jnp.arange(n, dtype=w2.dtype) / n
    mu = jnp.arctan2(s, c)[..., None]
    one_minus_r = jnp.sum(w2 * 2 * jnp.sin((angle - mu) / 2) ** 2, axis=-1) / jnp.sum(w2, axis=-1)
    return n / (2 * jnp.pi) * jnp.sqrt(-2 * jnp.log1p(-jnp.minimum(one_minus_r, 1.0)))


def ring_distance(i, j, n: int) -> jnp.ndarray:
    """Distance min(d, n − d), d = |i − j| mod n, between positions on a ring of n sites (ints or floats)."""
    _ring_size(n)
    d = jnp.mod(jnp.abs(jnp.asarray(i) - jnp.asarray(j)), n)
    return jnp.minimum(d, n - d)


def peaks_agree(p, q, n: int, tol: float = 1) -> jnp.ndarray:
    """True where peaks p and q lie within ±tol sites on the ring of n (tol = 0: exact match).

    A missing peak (-1, from a diverged run) agrees with nothing.
    """
    if not isinstance(tol, numbers.Real) or isinstance(tol, bool) or tol < 0:
        raise ValueError(f"tol must be a real number >= 0 (sites), got {tol!r}")
    p, q = jnp.asarray(p), jnp.asarray(q)
    return (ring_distance(p, q, n) <= tol) & (p >= 0) & (q >= 0)


class SinusoidFit(NamedTuple):
    """Best least-squares fit A cos(2πf·i/N + θ) + c of an RF; every field has the RF's leading shape."""

    frequency: jnp.ndarray  # int, in 0..N//2
    phase: jnp.ndarray  # θ in (−π, π]
    amplitude: jnp.ndarray  # A >= 0
    offset: jnp.ndarray  # c = mean of w
    r2: jnp.ndarray  # 1 − SS_res/SS_tot of the chosen fit


@jax.jit
def sinusoid_fit(w) -> SinusoidFit:
    """Fit A cos(2πf·i/N + θ) + c by least squares for every integer frequency f, keep the best R².

    cos, sin and 1 are orthogonal on the N-point grid, so with X_f = Σ w_i e^{−2πif·i/N} the fit at
    0 < f < N/2 is A e^{iθ} = 2X_f/N and explains 2|X_f|²/N of the variance; at the Nyquist f = N/2 the
    sin column vanishes, A e^{iθ} = X_f/N (θ ∈ {0, π}) explains |X_f|²/N. f = 0 explains nothing beyond c,
    so it is reported only for a constant RF, which c fits exactly (R² = 1, sklearn's convention).
    """
    w = _rf(w)
    n = w.shape[-1]
    top = jnp.max(jnp.abs(w), axis=-1)
    top = jnp.where(top > 0, top, 1.0)
    ws = w / top[..., None]  # fit the scale-free shape (no overflow of |X|²), rescale A and c at the end
    x = jnp.fft.rfft(ws, axis=-1)  # (..., N//2 + 1): X_0 .. X_{N//2}
    f = jnp.arange(n // 2 + 1)
    scale = jnp.where((2 * f == n) | (f == 0), 1.0, 2.0).astype(w.dtype)
    explained = jnp.where(f == 0, 0.0, scale * jnp.abs(x) ** 2 / n)
    offset = jnp.mean(ws, axis=-1)
    ss_tot = jnp.sum((ws - offset[..., None]) ** 2, axis=-1)
    # "Constant" up to round-off of the mean: deviations of a few ulps of max|w| are no signal to fit.
    flat = ss_tot <= n * (16 * jnp.finfo(w.dtype).eps) ** 2
    r2_all = explained / jnp.where(flat, 1.0, ss_tot)[..., None]
    best = jnp.argmax(r2_all, axis=-1)
    xb = jnp.take_along_axis(x, best[..., None], axis=-1)[..., 0]
    r2 = jnp.take_along_axis(r2_all, best[..., None], axis=-1)[..., 0]
    return SinusoidFit(
        frequency=jnp.where(flat, 0, best),
        phase=jnp.where(flat, 0.0, jnp.angle(xb)).astype(w.dtype),
        amplitude=jnp.where(flat, 0.0, scale[best] * jnp.abs(xb) / n * top).astype(w.dtype),
        offset=offset * top,
        r2=jnp.where(flat, 1.0, r2).astype(w.dtype),
    )


def sinusoid(fit: SinusoidFit, n: int, positions=None) -> jnp.ndarray:
    """Evaluate a fit on the ring of n sites: A cos(2πf·i/n + θ) + c at `positions` (default 0..n−1).

    Output (..., P) with leading dims those of the fit; positions may be fractional for a smooth curve.
    """
    _ring_size(n)
    i = jnp.arange(n) if positions is None else jnp.asarray(positions)
    f, th, a, c = (jnp.asarray(v)[..., None] for v in (fit.frequency, fit.phase, fit.amplitude, fit.offset))
    return a * jnp.cos(2 * jnp.pi * f * i / n + th) + c


@partial(jax.jit, static_argnames="axis")
def excess_kurtosis(x, axis: int = 0) -> jnp.ndarray:
    """Sample excess kurtosis m₄/m₂² − 3 along `axis` (plug-in moments about the sample mean).

    0 for a Gaussian, −2 for a symmetric binary (±1) variable; its standard error is ≈ sqrt(24/n)
    for Gaussian data of n samples.
    """
    x = jnp.asarray(x)
    if x.ndim == 0 or x.shape[axis] < 2:
        raise ValueError(f"x must have >= 2 samples along axis {axis}, got shape {x.shape}")
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(jnp.float32)
    d = x - jnp.mean(x, axis=axis, keepdims=True)
    m2 = jnp.mean(d**2, axis=axis)
    return jnp.mean(d**4, axis=axis) / m2**2 - 3.0


# -- Fourier-mode share of a ring RF (SPEC §4) ----------------------------------------------------------
class FourierMode(NamedTuple):
    """Dominant ring frequency of an RF and its share of ‖w‖²; fields have the RF's leading shape."""

    frequency: jnp.ndarray  # int in 0..N//2; 0 is the constant (flat) mode
    share: jnp.ndarray  # in [0, 1]: power of that frequency / ‖w‖²


@jax.jit
def fourier_power(w) -> jnp.ndarray:
    """Share of ‖w‖² in each ring frequency f = 0..N//2 (..., N//2 + 1); the shares sum to 1.

    Parseval: ‖w‖² = (|X_0|² + 2Σ_{0<f<N/2}|X_f|² + |X_{N/2}|²)/N with X = DFT(w); f and N − f are one
    frequency (a real cosine or sine), and f = 0 (the mean) counts like any other, so a flat RF has share 1
    at f = 0 — a fit that removes the mean first cannot see it.
    """
    w = _scaled(w)
    n = w.shape[-1]
    f = jnp.arange(n // 2 + 1)
    weight = jnp.where((f == 0) | (2 * f == n), 1.0, 2.0).astype(w.dtype)
    power = weight * jnp.abs(jnp.fft.rfft(w, axis=-1)) ** 2
    return power / jnp.sum(power, axis=-1, keepdims=True)


@jax.jit
def fourier_mode(w) -> FourierMode:
    """The frequency f (0 included) holding the largest share of ‖w‖², and that share.

    A pure cosine of frequency f (or a constant, f = 0) has share 1; a one-hot RF spreads ‖w‖² evenly,
    2/N per frequency 0 < f < N/2.
    """
    power = fourier_power(w)
    best = jnp.argmax(power, axis=-1)
    return FourierMode(best, jnp.take_along_axis(power, best[..., None], axis=-1)[..., 0])
