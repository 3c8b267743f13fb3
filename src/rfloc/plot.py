"""Plotting helpers shared by the experiments and the CLI (matplotlib; never shows a window).

Each helper draws on an Axes it is given and returns it, so panels compose into any figure layout;
`save_figure` writes a PNG and closes the figure. The Agg backend is selected on import only when no
backend was chosen yet (a notebook's inline backend is left alone).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import matplotlib
import numpy as np

if os.environ.get("MPLBACKEND") is None and matplotlib.rcParams._get_backend_or_none() is None:
    matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.cm import ScalarMappable  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.colors import Normalize  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

DPI = 120


def _vector(name: str, w) -> np.ndarray:
    w = np.asarray(w, dtype=np.float64)
    if w.ndim != 1 or w.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {w.shape}")
    return w


def _side(n_inputs: int, n: int | None) -> int:
    n = int(round(np.sqrt(n_inputs))) if n is None else n
    if n < 1 or n * n != n_inputs:
        raise ValueError(f"n must satisfy n*n = number of inputs ({n_inputs}), got n = {n}")
    return n


def time_mappable(steps, cmap: str = "viridis") -> ScalarMappable:
    """ScalarMappable mapping training time (steps) to colour, for a shared colorbar across panels."""
    steps = _vector("steps", steps)
    hi = steps.max() if steps.max() > steps.min() else steps.min() + 1
    return ScalarMappable(norm=Normalize(steps.min(), hi), cmap=cmap)


def plot_rf_evolution(
    ax: Axes,
    weights,
    steps,
    cmap: str = "viridis",
    colorbar: bool = True,
    label: str = "SGD step",
    max_lines: int = 64,
) -> Axes:
    """RF w_i against input i, one line per record, colour = training time (the paper's Fig 3).

    weights (T, N), steps (T,) (any time unit: SGD steps or lr × steps). At most `max_lines` evenly spaced
    records are drawn (always the first and last); colorbar=True adds a colorbar labelled `label`. For a
    shared colorbar use `time_mappable(steps, cmap)`.
    """
    weights = np.asarray(weights, dtype=np.float64)
    steps = _vector("steps", steps)
    if weights.ndim != 2 or weights.shape[0] != steps.size:
        raise ValueError(f"weights must be (T, N) with T = len(steps) = {steps.size}, got {weights.shape}")
    if max_lines < 2:
        raise ValueError(f"max_lines must be >= 2, got {max_lines}")
    keep = np.unique(np.linspace(0, steps.size - 1, min(max_lines, steps.size)).round().astype(int))
    sm = time_mappable(steps, cmap)
    i = np.arange(weights.shape[1])
    segments = np.stack([np.broadcast_to(i, (keep.size, i.size)), weights[keep]], axis=-1)
    ax.add_collection(LineCollection(segments, colors=sm.to_rgba(steps[keep]), linewidths=1.0))
    ax.autoscale_view()
    ax.axhline(0.0, color="0.7", lw=0.5, zorder=0)
    ax.set_xlabel("input i")
    ax.set_ylabel("$w_i$")
    if colorbar:
        ax.figure.colorbar(sm, ax=ax, label=label)
    return ax


def plot_rf(ax: Axes, w, label: str | None = None, **kw) -> Axes:
    """One 1-D RF w (N,) against input index; extra keywords go to `Axes.plot`."""
    w = _vector("w", w)
    ax.plot(np.arange(w.size), w, label=label, **kw)
    ax.axhline(0.0, color="0.7", lw=0.5, zorder=0)
    ax.set_xlabel("input i")
    ax.set_ylabel("$w_i$")
    if label is not None:
        ax.legend(fontsize="small")
    return ax


def plot_rf_2d(ax: Axes, w, n: int | None = None, cmap: str = "RdBu_r", **kw) -> Axes:
    """A 2-D RF w (n*n,) (row-major) as an image, colour range symmetric about 0."""
    w = _vector("w", w)
    n = _side(w.size, n)
    vmax = float(np.nanmax(np.abs(w))) if np.any(np.isfinite(w)) else 1.0
    ax.imshow(w.reshape(n, n), cmap=cmap, vmin=-vmax, vmax=vmax, interpolation="nearest", **kw)
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def rf_mosaic(W, n: int | None = None, ncols: int | None = None, gap: int = 1) -> np.ndarray:
    """2-D RFs W (K, n*n) (row-major) tiled into one image (rows·(n + gap) − gap, ncols·(n + gap) − gap):
    each RF divided by its max |w| (so in [−1, 1], as `plot_rf_2d` scales each), NaN between the tiles and
    in unused cells. ncols defaults to ⌈√K⌉."""
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2 or W.shape[0] == 0:
        raise ValueError(f"W must be (K, n*n) with K >= 1, got shape {W.shape}")
    n = _side(W.shape[1], n)
    k = W.shape[0]
    ncols = int(np.ceil(np.sqrt(k))) if ncols is None else int(ncols)
    if ncols < 1 or gap < 0:
        raise ValueError(f"ncols must be >= 1 and gap >= 0, got ncols = {ncols}, gap = {gap}")
    nrows = -(-k // ncols)
    scale = np.nanmax(np.abs(W), axis=1, initial=0.0, where=np.isfinite(W))
    tiles = W / np.where(scale > 0, scale, 1.0)[:, None]
    side = n + gap
    cells = np.full((nrows * ncols, side, side), np.nan)
    cells[:k, :n, :n] = tiles.reshape(k, n, n)
    image = cells.reshape(nrows, ncols, side, side).transpose(0, 2, 1, 3).reshape(nrows * side, ncols * side)
    return image[: nrows * side - gap, : ncols * side - gap]


def plot_rf_mosaic(
    ax: Axes, W, n: int | None = None, ncols: int | None = None, gap: int = 1, cmap: str = "RdBu_r"
) -> Axes:
    """Many 2-D RFs W (K, n*n) as one image of tiles (:func:`rf_mosaic`), each on its own symmetric colour
    range like `plot_rf_2d`; one image instead of K Axes draws many RFs an order of magnitude faster."""
    ax.imshow(rf_mosaic(W, n, ncols, gap), cmap=cmap, vmin=-1, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ax.spines.values():
        side.set_visible(False)
    return ax


def plot_rf_grid(fig: Figure, W, n: int | None = None, ncols: int | None = None) -> np.ndarray:
    """Many neurons' RFs W (K, N) in a grid of panels on `fig`: images of n×n when n is given (2-D data),
    else line plots. Returns the (rows, cols) array of Axes (unused panels hidden)."""
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2 or W.shape[0] == 0:
        raise ValueError(f"W must be (K, N) with K >= 1, got shape {W.shape}")
    k = W.shape[0]
    if n is not None:
        _side(W.shape[1], n)
    ncols = int(np.ceil(np.sqrt(k))) if ncols is None else ncols
    if ncols < 1:
        raise ValueError(f"ncols must be >= 1, got {ncols}")
    nrows = -(-k // ncols)
    axes = np.atleast_2d(fig.subplots(nrows, ncols, squeeze=False))
    for j, ax in enumerate(axes.flat):
        if j >= k:
            ax.set_visible(False)
        elif n is not None:
            plot_rf_2d(ax, W[j], n)
        else:
            plot_rf(ax, W[j], lw=1.0)
            ax.set_xlabel("")
            ax.set_ylabel("")
            ax.tick_params(labelsize="x-small")
    return axes


def plot_sinusoid_fit(ax: Axes, w, fit=None, **kw) -> Axes:
    """RF w (N,) as points with its best-fit sinusoid A cos(2πf·i/N + θ) + c in red; `fit` is a
    `metrics.SinusoidFit` for this w (computed when None). The legend gives f and R²."""
    from rfloc import metrics

    w = _vector("w", w)
    fit = metrics.sinusoid_fit(w) if fit is None else fit
    fine = np.linspace(0, w.size - 1, 20 * w.size)
    curve = np.asarray(metrics.sinusoid(fit, w.size, fine))
    ax.plot(np.arange(w.size), w, "o-", ms=3, lw=0.8, color=kw.pop("color", "k"), label="RF", **kw)
    f, r2 = int(np.asarray(fit.frequency)), float(np.asarray(fit.r2))
    ax.plot(fine, curve, color="red", lw=1.2, label=f"sinusoid f={f}, $R^2$={r2:.3f}")
    ax.set_xlabel("input i")
    ax.set_ylabel("$w_i$")
    ax.legend(fontsize="small")
    return ax


def plot_marginal(ax: Axes, x, bins: int | Sequence[float] = 100, **kw) -> Axes:
    """Histogram (density) of samples x of any shape, e.g. a data model's single-input marginal."""
    x = np.asarray(x, dtype=np.float64).ravel()
    if x.size == 0:
        raise ValueError("x must hold at least one sample")
    ax.hist(x[np.isfinite(x)], bins=bins, density=True, color=kw.pop("color", "0.4"), **kw)
    ax.set_xlabel("$x_i$")
    ax.set_ylabel("density")
    return ax


def plot_covariance(ax: Axes, C, cmap: str = "viridis", colorbar: bool = False, **kw) -> Axes:
    """A covariance matrix C (N, N) as an image (colorbar=True adds one)."""
    C = np.asarray(C, dtype=np.float64)
    if C.ndim != 2 or C.shape[0] != C.shape[1]:
        raise ValueError(f"C must be a square matrix, got shape {C.shape}")
    im = ax.imshow(C, cmap=cmap, interpolation="nearest", **kw)
    ax.set_xlabel("input j")
    ax.set_ylabel("input i")
    if colorbar:
        ax.figure.colorbar(im, ax=ax)
    return ax


def save_figure(fig: Figure, path: str | os.PathLike) -> Path:
    """Write `fig` at dpi 120 with a tight bbox, as PNG (".png" is appended to a path without suffix;
    another suffix such as .pdf picks that format), creating parent folders, then close it.
    Returns the path written."""
    path = Path(path)
    if path.suffix == "":
        path = path.with_suffix(".png")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fig.savefig(path, dpi=DPI, bbox_inches="tight")
    finally:
        plt.close(fig)
    return path
