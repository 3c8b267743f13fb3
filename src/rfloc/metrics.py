"""Localization metrics of receptive fields (SPEC §4).

Every function acts on the last axis of its input, so any leading dims (settings, seeds, time, neurons,
...) are handled at once: ``ipr(W)`` of weights (H, S, T, K, N) is (H, S, T, K). Positions live on the
ring of N sites (i and i + N are the same site).

Two paths, one formula: the per-RF metrics are written once against an array namespace ``xp``. A floating
numpy array (what experiments hold: results come back as numpy) is computed in float64 numpy and returned
in its own dtype, with no compiled program; anything else (JAX arrays, tracers, lists) runs the same formula
jit-compiled in float32 JAX. Why: every new input shape (and every eager jnp operation) compiles a program,
0.1-1.7 s each on 2 cores; the quick reproduction compiled about 50 for these metrics (~6 % of its compile
time).
"""

from __future__ import annotations

import functools
import numbers
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np


def _check_rf_shape(shape: tuple, name: str = "w") -> None:
    if len(shape) < 1 or shape[-1] < 1:
        raise ValueError(f"{name} must have at least one dim with >= 1 entries (inputs last), got {shape}")


def _rf(w, name: str = "w") -> jnp.ndarray:
    w = jnp.asarray(w)
    _check_rf_shape(w.shape, name)
    if not jnp.issubdtype(w.dtype, jnp.floating):
        w = w.astype(jnp.float32)
    return w


def _host(w) -> bool:
    """A floating numpy array: the metrics take the numpy path (module docstring)."""
    return isinstance(w, np.ndarray) and w.dtype.kind == "f"


def _on_host(fn, w, **kw):
    """fn(w64, np, **kw) for a floating numpy w, float results cast back to w's dtype, ints to int32."""
    _check_rf_shape(w.shape)
    with np.errstate(invalid="ignore", divide="ignore"):  # w = 0 gives nan, as on the JAX path
        out = fn(w.astype(np.float64, copy=False), np, **kw)

    def cast(v):
        v = np.asarray(v)
        return v.astype(w.dtype) if v.dtype.kind == "f" else v.astype(np.int32)

    return jax.tree.map(cast, out)


def _dual(fn):
    """The public metric of fn(w, xp): numpy path for floating numpy w, else fn jit-compiled with jnp."""
    jitted = jax.jit(lambda w: fn(_rf(w), jnp))

    @functools.wraps(fn)
    def metric(w):
        return _on_host(fn, w) if _host(w) else jitted(w)

    return metric


def _scaled(w, xp=jnp):
    """w / max|w| along the last axis: the metrics are scale-free, and this keeps w⁴ from overflowing
    float32 for the huge (still finite) weights of a run about to diverge."""
    top = xp.max(xp.abs(w), axis=-1, keepdims=True)
    return w / xp.where(top > 0, top, 1.0)


def _ring_size(n) -> None:
    # Only concrete sizes can be checked; a traced n (inside jit) is the caller's responsibility.
    if isinstance(n, numbers.Integral) and (isinstance(n, bool) or n < 1):
        raise ValueError(f"n must be a positive integer (number of ring sites), got {n!r}")


@_dual
def ipr(w, xp):
    """Inverse participation ratio Σw⁴ / (Σw²)² over the last axis, in [1/N, 1] (nan for w = 0).

    1 = a single active input, 1/N = weight spread uniformly. For a 2-D RF pass it flattened (n*n,).
    Dtype-preserving on numpy input (module docstring). Both paths divide by max|w| first, so huge (still
    finite) weights do not overflow.
    """
    w2 = _scaled(w, xp) ** 2
    return xp.sum(w2**2, axis=-1) / xp.sum(w2, axis=-1) ** 2


def _finite_argmax(score, w, xp):
    # argmax of NaN data returns an arbitrary site; a diverged RF has no peak, so say so with -1.
    idx = xp.argmax(score, axis=-1)
    return xp.where(xp.all(xp.isfinite(w), axis=-1), idx, -1)


@_dual
def peak_index(w, xp):
    """Site of the largest |w_i| over the last axis (int); -1 when w has a non-finite entry."""
    return _finite_argmax(xp.abs(w), w, xp)


@_dual
def peak_index_signed(w, xp):
    """argmax_i (−w_i): the authors' by-eye peak (the RFs of the paper point downwards); -1 if non-finite."""
    return _finite_argmax(-w, w, xp)


def peak_index_2d(w, n: int) -> tuple[jnp.ndarray, jnp.ndarray]:
    """(row, col) of the largest |w| of a 2-D RF flattened row-major to (..., n*n); (-1, -1) if non-finite."""
    _ring_size(n)
    if _host(w):  # keep numpy input on the numpy path of peak_index
        _check_rf_shape(w.shape)
    else:
        w = _rf(w)
    if w.shape[-1] != n * n:
        raise ValueError(f"w must have n*n = {n * n} inputs on its last axis for n = {n}, got {w.shape[-1]}")
    idx = peak_index(w)
    xp = _namespace(idx)
    return xp.where(idx < 0, -1, idx // n), xp.where(idx < 0, -1, idx % n)


def _resultant(w, xp):
    """Weighted resultant Σ w_i² e^{2πi·i/N} / Σ w_i² as (cos part, sin part)."""
    w2 = _scaled(w, xp) ** 2
    n = w2.shape[-1]
    angle = 2 * np.pi * xp.arange(n, dtype=w2.dtype) / n
    total = xp.sum(w2, axis=-1)
    return xp.sum(w2 * xp.cos(angle), axis=-1) / total, xp.sum(w2 * xp.sin(angle), axis=-1) / total


@_dual
def circular_peak(w, xp):
    """Sub-grid peak: circular mean position of the weights w_i² on the ring, a float in [0, N).

    Position = N/(2π) · arg Σ w_i² e^{2πi·i/N}; a bump centred on site 0 gives ≈0 (not N/2 as a plain mean).
    """
    n = w.shape[-1]
    c, s = _resultant(w, xp)
    pos = xp.mod(xp.arctan2(s, c) * n / (2 * np.pi), n)
    # mod can round a tiny negative angle up to exactly n; that site is 0.
    return xp.where(pos >= n, 0.0, pos)


@_dual
def spatial_width(w, xp):
    """Circular standard deviation of the weights w_i² on the ring, in sites.

    width = N/(2π) · sqrt(−2 ln R), R = |Σ w_i² e^{2πi·i/N}| / Σ w_i² the resultant length; 0 for a one-hot
    RF, ≈σ for a narrow Gaussian bump of w² with standard deviation σ ≪ N, and inf for weight spread evenly
    (R = 0), e.g. a constant RF or a pure sinusoid.
    """
    w2 = _scaled(w, xp) ** 2
    n = w2.shape[-1]
    c, s = _resultant(w, xp)
    # 1 − R = Σ p_i (1 − cos(θ_i − μ)) = Σ p_i · 2 sin²((θ_i − μ)/2) about the mean direction μ: no
    # cancellation in 1 − R for narrow RFs (float32 would floor the width at ~N·1e-4 sites otherwise).
    angle = 2 * np.pi * xp.arange(n, dtype=w2.dtype) / n
    mu = xp.arctan2(s, c)[..., None]
    one_minus_r = xp.sum(w2 * 2 * xp.sin((angle - mu) / 2) ** 2, axis=-1) / xp.sum(w2, axis=-1)
    return n / (2 * np.pi) * xp.sqrt(-2 * xp.log1p(-xp.minimum(one_minus_r, 1.0)))


def _namespace(*arrays):
    """numpy when every argument is a numpy array or a Python/numpy number, else jax.numpy."""
    host = all(isinstance(a, (np.ndarray, np.generic, numbers.Number)) for a in arrays)
    return np if host else jnp


def ring_distance(i, j, n: int):
    """Distance min(d, n − d), d = |i − j| mod n, between positions on a ring of n sites (ints or floats)."""
    _ring_size(n)
    xp = _namespace(i, j)
    d = xp.mod(xp.abs(xp.asarray(i) - xp.asarray(j)), n)
    return xp.minimum(d, n - d)


def peaks_agree(p, q, n: int, tol: float = 1):
    """True where peaks p and q lie within ±tol sites on the ring of n (tol = 0: exact match).

    A missing peak (-1, from a diverged run) agrees with nothing.
    """
    if not isinstance(tol, numbers.Real) or isinstance(tol, bool) or tol < 0:
        raise ValueError(f"tol must be a real number >= 0 (sites), got {tol!r}")
    xp = _namespace(p, q)
    p, q = xp.asarray(p), xp.asarray(q)
    return (ring_distance(p, q, n) <= tol) & (p >= 0) & (q >= 0)


class SinusoidFit(NamedTuple):
    """Best least-squares fit A cos(2πf·i/N + θ) + c of an RF; every field has the RF's leading shape."""

    frequency: jnp.ndarray  # int, in 0..N//2
    phase: jnp.ndarray  # θ in (−π, π]
    amplitude: jnp.ndarray  # A >= 0
    offset: jnp.ndarray  # c = mean of w
    r2: jnp.ndarray  # 1 − SS_res/SS_tot of the chosen fit


def _sinusoid_fit(w, xp, eps) -> SinusoidFit:
    n = w.shape[-1]
    top = xp.max(xp.abs(w), axis=-1)
    top = xp.where(top > 0, top, 1.0)
    ws = w / top[..., None]  # fit the scale-free shape (no overflow of |X|²), rescale A and c at the end
    x = xp.fft.rfft(ws, axis=-1)  # (..., N//2 + 1): X_0 .. X_{N//2}
    f = xp.arange(n // 2 + 1)
    scale = xp.where((2 * f == n) | (f == 0), 1.0, 2.0).astype(w.dtype)
    explained = xp.where(f == 0, 0.0, scale * xp.abs(x) ** 2 / n)
    offset = xp.mean(ws, axis=-1)
    ss_tot = xp.sum((ws - offset[..., None]) ** 2, axis=-1)
    # "Constant" up to round-off of the mean: deviations of a few ulps (of the input's dtype) of max|w| are
    # no signal to fit.
    flat = ss_tot <= n * (16 * eps) ** 2
    r2_all = explained / xp.where(flat, 1.0, ss_tot)[..., None]
    best = xp.argmax(r2_all, axis=-1)
    xb = xp.take_along_axis(x, best[..., None], axis=-1)[..., 0]
    r2 = xp.take_along_axis(r2_all, best[..., None], axis=-1)[..., 0]
    return SinusoidFit(
        frequency=xp.where(flat, 0, best),
        phase=xp.where(flat, 0.0, xp.angle(xb)).astype(w.dtype),
        amplitude=xp.where(flat, 0.0, scale[best] * xp.abs(xb) / n * top).astype(w.dtype),
        offset=offset * top,
        r2=xp.where(flat, 1.0, r2).astype(w.dtype),
    )


@jax.jit
def _sinusoid_fit_jax(w) -> SinusoidFit:
    w = _rf(w)
    return _sinusoid_fit(w, jnp, jnp.finfo(w.dtype).eps)


def sinusoid_fit(w) -> SinusoidFit:
    """Fit A cos(2πf·i/N + θ) + c by least squares for every integer frequency f, keep the best R².

    cos, sin and 1 are orthogonal on the N-point grid, so with X_f = Σ w_i e^{−2πif·i/N} the fit at
    0 < f < N/2 is A e^{iθ} = 2X_f/N and explains 2|X_f|²/N of the variance; at the Nyquist f = N/2 the
    sin column vanishes, A e^{iθ} = X_f/N (θ ∈ {0, π}) explains |X_f|²/N. f = 0 explains nothing beyond c,
    so it is reported only for a constant RF, which c fits exactly (R² = 1, sklearn's convention).
    """
    if _host(w):
        return _on_host(_sinusoid_fit, w, eps=np.finfo(w.dtype).eps)
    return _sinusoid_fit_jax(w)


def sinusoid(fit: SinusoidFit, n: int, positions=None):
    """Evaluate a fit on the ring of n sites: A cos(2πf·i/n + θ) + c at `positions` (default 0..n−1).

    Output (..., P) with leading dims those of the fit; positions may be fractional for a smooth curve.
    """
    _ring_size(n)
    xp = _namespace(*fit[:4], *(() if positions is None else (positions,)))
    i = xp.arange(n) if positions is None else xp.asarray(positions)
    f, th, a, c = (xp.asarray(v)[..., None] for v in (fit.frequency, fit.phase, fit.amplitude, fit.offset))
    return a * xp.cos(2 * np.pi * f * i / n + th) + c


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


# ---- 2-D Gabor fit ----------------------------------------------------------------------------------------


class GaborFit(NamedTuple):
    """Least-squares 2-D Gabor fit of n×n RFs; every field has the RFs' leading shape.

    Model: A·exp(−u²/(2σ_u²) − v²/(2σ_v²))·cos(2πf·u + φ), with u = (x − x₀)cos θ + (y − y₀)sin θ along the
    carrier's wave vector and v across it; x = column, y = row index (pixels, 0-based).
    """

    r2: jnp.ndarray  # 1 − SS_res / Σ(w − mean w)²
    x0: jnp.ndarray  # envelope centre, column (pixels)
    y0: jnp.ndarray  # envelope centre, row (pixels)
    theta: jnp.ndarray  # orientation of the wave vector in [0, π), from the column axis towards the row axis
    sigma_u: jnp.ndarray  # envelope s.d. along the wave vector (pixels)
    sigma_v: jnp.ndarray  # envelope s.d. across it (pixels)
    frequency: jnp.ndarray  # cycles/pixel, in [0, 1/2]
    phase: jnp.ndarray  # φ in (−π, π]
    amplitude: jnp.ndarray  # A >= 0, in the units of w

    @property
    def width(self) -> jnp.ndarray:
        """Envelope width sqrt(σ_u σ_v) (pixels): the s.d. of the isotropic envelope of the same area."""
        return jnp.sqrt(self.sigma_u * self.sigma_v)


# Envelope s.d. bounds (pixels). Below half a pixel the "Gabor" is one pixel; above n/2 its envelope no
# longer fits in the patch and a plane wave would pass for a Gabor, so the fit may not use it.
GABOR_SIGMA_MIN = 0.5


def _gabor_sigma_max(n: int) -> float:
    return n / 2


def _gabor_grid(n: int) -> tuple[jnp.ndarray, jnp.ndarray]:
    """Pixel coordinates (x, y), each (n*n,) row-major: x = column, y = row."""
    y, x = jnp.meshgrid(jnp.arange(n, dtype=jnp.float32), jnp.arange(n, dtype=jnp.float32), indexing="ij")
    return x.ravel(), y.ravel()


def _gabor_model(p, n: int) -> jnp.ndarray:
    """Gabor (n*n,) from p = (x₀, y₀, θ, log σ_u, log σ_v, f, a, b): envelope × (a cos 2πfu + b sin 2πfu)."""
    x, y = _gabor_grid(n)
    x0, y0, th, lsu, lsv, f, a, b = (p[i] for i in range(8))
    dx, dy = x - x0, y - y0
    u = dx * jnp.cos(th) + dy * jnp.sin(th)
    v = -dx * jnp.sin(th) + dy * jnp.cos(th)
    env = jnp.exp(-0.5 * (u**2 * jnp.exp(-2 * lsu) + v**2 * jnp.exp(-2 * lsv)))
    return env * (a * jnp.cos(2 * jnp.pi * f * u) + b * jnp.sin(2 * jnp.pi * f * u))


def _gabor_project(p, n: int):
    lo = jnp.array(
        [-0.5, -0.5, -jnp.inf, jnp.log(GABOR_SIGMA_MIN), jnp.log(GABOR_SIGMA_MIN), 0.0, -jnp.inf, -jnp.inf]
    )
    hi = jnp.array(
        [n - 0.5, n - 0.5, jnp.inf, jnp.log(_gabor_sigma_max(n)), jnp.log(_gabor_sigma_max(n)), 0.5]
    )
    hi = jnp.concatenate([hi, jnp.array([jnp.inf, jnp.inf])])
    return jnp.clip(p, lo, hi)


def _gabor_init(w, n: int):
    """Grid search: for every (x₀, y₀, θ, σ, f) on a coarse grid the best (a, b) is a 2-column linear least
    squares. Returns, for each grid frequency, the template explaining most of ‖w‖²: p (F, S, 8) — one start
    per frequency, because a Gabor with few cycles under its envelope has near-equivalent fits at other
    frequencies, and LM started from the best one alone can stay in the wrong basin."""
    xs = jnp.linspace(1.0, n - 2.0, 6)
    th = jnp.arange(8) * jnp.pi / 8
    sig = jnp.array([1.0, 2.0, 3.5]) * n / 12
    fr = jnp.array([0.05, 0.1, 0.17, 0.25, 0.35])
    # frequency first so that templates group by frequency: (S, M/S, 5)
    g = jnp.stack(jnp.meshgrid(fr, xs, xs, th, jnp.log(sig), indexing="ij"), -1).reshape(len(fr), -1, 5)
    g = g[..., jnp.array([1, 2, 3, 4, 0])]  # (x₀, y₀, θ, log σ, f)
    ones, zeros = jnp.ones(g.shape[:-1] + (1,)), jnp.zeros(g.shape[:-1] + (1,))
    # isotropic envelope at init: log σ_u = log σ_v
    pc = jnp.concatenate([g[..., :4], g[..., 3:4], g[..., 4:5], ones, zeros], -1)
    ps = pc.at[..., 6].set(0.0).at[..., 7].set(1.0)
    model = jax.vmap(jax.vmap(lambda p: _gabor_model(p, n)))
    tc, ts = model(pc), model(ps)  # (S, M/S, n*n)
    cc, ss, cs = jnp.sum(tc * tc, -1), jnp.sum(ts * ts, -1), jnp.sum(tc * ts, -1)
    det = cc * ss - cs**2
    proj_c = jnp.einsum("fi,smi->fsm", w, tc)
    proj_s = jnp.einsum("fi,smi->fsm", w, ts)
    explained = (ss * proj_c**2 - 2 * cs * proj_c * proj_s + cc * proj_s**2) / det
    best = jnp.argmax(explained, axis=-1)  # (F, S)
    take = lambda a: jnp.take_along_axis(a, best[..., None], axis=-1)[..., 0]  # noqa: E731
    pcb, psb = take(proj_c), take(proj_s)
    ssb, ccb, csb, detb = (jnp.broadcast_to(v, explained.shape) for v in (ss, cc, cs, det))
    ssb, ccb, csb, detb = take(ssb), take(ccb), take(csb), take(detb)
    a = (ssb * pcb - csb * psb) / detb
    b = (ccb * psb - csb * pcb) / detb
    start = pc[jnp.arange(len(fr))[None, :], best]  # (F, S, 8)
    return start.at[..., 6].set(a).at[..., 7].set(b)


def _gabor_lm(p, w, n: int, iters: int):
    """Levenberg–Marquardt on ‖model(p) − w‖², steps projected onto the bounds; fixed iteration count."""

    def res(q):
        return _gabor_model(q, n) - w

    def body(_, carry):
        q, lam, cost = carry
        r = res(q)
        jac = jax.jacfwd(res)(q)
        hess = jac.T @ jac
        # damped normal equations, SPD: a Cholesky solve (compiles much faster than a batched LU)
        chol = jnp.linalg.cholesky(hess + lam * jnp.diag(jnp.diag(hess) + 1e-9))
        step = jax.scipy.linalg.cho_solve((chol, True), -(jac.T @ r))
        q_new = _gabor_project(q + step, n)
        c_new = jnp.sum(res(q_new) ** 2)
        ok = c_new < cost
        return jnp.where(ok, q_new, q), jnp.where(ok, lam * 0.3, lam * 10.0), jnp.where(ok, c_new, cost)

    p = _gabor_project(p, n)
    q, _, _ = jax.lax.fori_loop(0, iters, body, (p, jnp.float32(1e-2), jnp.sum(res(p) ** 2)))
    return q


@partial(jax.jit, static_argnames=("n", "iters"))
def _gabor_fit_flat(w, n: int, iters: int):
    top = jnp.max(jnp.abs(w), axis=-1, keepdims=True)
    ws = w / jnp.where(top > 0, top, 1.0)
    starts = _gabor_init(ws, n)  # (F, S, 8)
    runs = jax.vmap(jax.vmap(lambda q, v: _gabor_lm(q, v, n, iters), in_axes=(0, None)))(starts, ws)
    costs = jnp.sum((jax.vmap(jax.vmap(lambda q: _gabor_model(q, n)))(runs) - ws[:, None]) ** 2, -1)
    p = runs[jnp.arange(len(ws)), jnp.argmin(costs, axis=1)]
    fitted = jax.vmap(lambda q: _gabor_model(q, n))(p)
    ss_tot = jnp.sum((ws - ws.mean(-1, keepdims=True)) ** 2, -1)
    r2 = 1 - jnp.sum((fitted - ws) ** 2, -1) / ss_tot
    # θ and θ + π describe the same Gabor with the sine part negated: fold θ into [0, π)
    turns = jnp.floor(p[:, 2] / jnp.pi)
    theta = p[:, 2] - turns * jnp.pi
    a, b = p[:, 6], jnp.where(jnp.mod(turns, 2) == 1, -p[:, 7], p[:, 7])
    return r2, p[:, 0], p[:, 1], theta, jnp.exp(p[:, 3]), jnp.exp(p[:, 4]), p[:, 5], a, b, top[:, 0]


def gabor_fit(w, n: int, iters: int = 40) -> GaborFit:
    """Least-squares 2-D Gabor fit (see :class:`GaborFit`) of RFs w (..., n*n) flattened row-major.

    A coarse grid search (the carrier's amplitude and phase solved in closed form for each template) picks
    one start per grid frequency; `iters` Levenberg–Marquardt steps refine all 8 parameters jointly from
    each, batched over RFs, and the best fit is kept.
    Bounds: σ in [0.5, n/2] pixels, f in [0, 1/2], centre inside the patch.
    """
    _ring_size(n)
    iters = int(iters)
    if iters < 0:
        raise ValueError(f"iters must be an integer >= 0, got {iters}")
    w = np.asarray(w)
    if w.ndim < 1 or w.shape[-1] != n * n:
        raise ValueError(f"w must have n*n = {n * n} inputs on its last axis for n = {n}, got {w.shape}")
    lead = w.shape[:-1]
    flat = w.reshape(-1, n * n).astype(np.float32)
    count = flat.shape[0]
    # pad the batch to a multiple of 128 RFs: one compiled program serves every batch size up to it
    padded = np.zeros((max(128, -(-count // 128) * 128), n * n), np.float32)
    padded[:count] = flat
    padded[count:, 0] = 1.0
    r2, x0, y0, th, su, sv, f, a, b, top = (np.asarray(v)[:count] for v in _gabor_fit_flat(padded, n, iters))
    out = GaborFit(
        r2=r2,
        x0=x0,
        y0=y0,
        theta=th,
        sigma_u=su,
        sigma_v=sv,
        frequency=f,
        phase=np.arctan2(-b, a),
        amplitude=np.sqrt(a**2 + b**2) * top,
    )
    return GaborFit(*(v.reshape(lead) for v in out))


def gabor(fit: GaborFit, n: int) -> jnp.ndarray:
    """Evaluate Gabors (..., n*n) row-major from a :class:`GaborFit` (r2 ignored)."""
    _ring_size(n)
    a = fit.amplitude * jnp.cos(fit.phase)
    b = -fit.amplitude * jnp.sin(fit.phase)
    p = jnp.stack(
        [fit.x0, fit.y0, fit.theta, jnp.log(fit.sigma_u), jnp.log(fit.sigma_v), fit.frequency, a, b], -1
    ).astype(jnp.float32)
    lead = p.shape[:-1]
    out = jax.vmap(lambda q: _gabor_model(q, n))(p.reshape(-1, 8))
    return out.reshape(*lead, n * n)


# -- Fourier-mode share of a ring RF (SPEC §4) ----------------------------------------------------------
class FourierMode(NamedTuple):
    """Dominant ring frequency of an RF and its share of ‖w‖²; fields have the RF's leading shape."""

    frequency: jnp.ndarray  # int in 0..N//2; 0 is the constant (flat) mode
    share: jnp.ndarray  # in [0, 1]: power of that frequency / ‖w‖²


def _fourier_power(w, xp):
    """Share of ‖w‖² in each ring frequency f = 0..N//2 (..., N//2 + 1); the shares sum to 1.

    Parseval: ‖w‖² = (|X_0|² + 2Σ_{0<f<N/2}|X_f|² + |X_{N/2}|²)/N with X = DFT(w); f and N − f are one
    frequency (a real cosine or sine), and f = 0 (the mean) counts like any other, so a flat RF has share 1
    at f = 0 — a fit that removes the mean first cannot see it.
    """
    w = _scaled(w, xp)
    n = w.shape[-1]
    f = xp.arange(n // 2 + 1)
    weight = xp.where((f == 0) | (2 * f == n), 1.0, 2.0).astype(w.dtype)
    power = weight * xp.abs(xp.fft.rfft(w, axis=-1)) ** 2
    return power / xp.sum(power, axis=-1, keepdims=True)


fourier_power = _dual(_fourier_power)


@_dual
def fourier_mode(w, xp) -> FourierMode:
    """The frequency f (0 included) holding the largest share of ‖w‖², and that share.

    A pure cosine of frequency f (or a constant, f = 0) has share 1; a one-hot RF spreads ‖w‖² evenly,
    2/N per frequency 0 < f < N/2.
    """
    power = _fourier_power(w, xp)
    best = xp.argmax(power, axis=-1)
    return FourierMode(best, xp.take_along_axis(power, best[..., None], axis=-1)[..., 0])
