"""Natural images: random n×n patches (dim 2) or length-n row segments (dim 1) of greyscale photographs.

Every photograph ships inside an installed wheel, so nothing is fetched at run time: two from scikit-learn
(``china``, ``flower``) and nine from scikit-image (``camera``, ``moon``, ``brick``, ``grass``, ``gravel``,
``astronaut``, ``coffee``, ``chelsea``, ``rocket``); :func:`load_status` says which of them really load here
and :func:`available_images` lists those. Colour photographs become greyscale as the mean of their RGB
channels, scaled to [0, 1].

Whitening follows Olshausen & Field (1996): multiply the image's 2-D spectrum by
R(f) = f·exp(−(f/f₀)⁴), f = |(f_x, f_y)| in cycles/pixel, f₀ = 0.4 cycles/pixel (their 200 cycles/picture on
512-pixel images). The factor f flattens the ~1/f amplitude spectrum of natural scenes; the quartic roll-off
removes the noisy highest frequencies and the anisotropic corners of the sampling lattice. The image is
mirror-extended before the FFT, so the periodic wrap does not create artificial edges at its borders. Each
processed image is standardized to mean 0 and variance 1 over its pixels.

Two data models:
  NaturalImages  class y = patches of ``images[y]`` at every position, blurred by ``blur[y]``.
  ImagePatches   patches pooled over many images, drawn once into a fixed pool (so the law's covariance is
                 exact and cheap); class y is either that pool (blur ``blur[y]``) or its **Gaussian
                 surrogate** — a Gaussian with the pool's exact mean and covariance, the control and null.
"""

from __future__ import annotations

import dataclasses
from functools import cache

import jax
import jax.numpy as jnp
import numpy as np

from rfloc import _checks
from rfloc.data.base import DataModel, register
from rfloc.data.marginals import Marginal

SKLEARN_IMAGES = ("china", "flower")
SKIMAGE_IMAGES = ("camera", "moon", "brick", "grass", "gravel", "astronaut", "coffee", "chelsea", "rocket")
IMAGES = SKLEARN_IMAGES + SKIMAGE_IMAGES
F0 = 0.4


def _load(name: str) -> np.ndarray:
    if name in SKLEARN_IMAGES:
        from sklearn.datasets import load_sample_image

        raw = load_sample_image(f"{name}.jpg")
    elif name in SKIMAGE_IMAGES:
        import skimage.data

        raw = getattr(skimage.data, name)()
    else:
        raise ValueError(f"image must be one of {list(IMAGES)}, got {name!r}")
    raw = np.asarray(raw, dtype=np.float64)
    if raw.ndim == 3:
        raw = raw[..., :3].mean(axis=2)
    return raw / 255.0


@cache
def greyscale(name: str) -> np.ndarray:
    """(H, W) float64 greyscale in [0, 1] of a photograph shipped inside scikit-learn or scikit-image."""
    img = _load(name)
    img.setflags(write=False)
    return img


@cache
def load_status() -> dict[str, str | None]:
    """{name: None if the photograph loads from the installed wheels, else the error} for every candidate."""
    out = {}
    for name in IMAGES:
        try:
            greyscale(name)
            out[name] = None
        except Exception as err:  # a missing file makes scikit-image try (and fail) to download it
            out[name] = f"{type(err).__name__}: {err}"
    return out


def available_images() -> tuple[str, ...]:
    """Names of the photographs that load offline, in IMAGES order."""
    return tuple(name for name, err in load_status().items() if err is None)


def whitening_filter(f, f0: float = F0):
    """Olshausen–Field whitening filter R(f) = f·exp(−(f/f₀)⁴), f in cycles/pixel."""
    f = np.asarray(f, dtype=np.float64)
    return f * np.exp(-((f / f0) ** 4))


def whiten(img: np.ndarray, f0: float = F0) -> np.ndarray:
    """Multiply the spectrum of the mirror-extended image (2H, 2W) by R(f) and crop back to (H, W)."""
    h, w = img.shape
    ext = np.pad(img, ((0, h), (0, w)), mode="symmetric")
    fy = np.fft.fftfreq(2 * h)[:, None]
    fx = np.fft.rfftfreq(2 * w)[None, :]
    filt = whitening_filter(np.sqrt(fx**2 + fy**2), f0)
    return np.fft.irfft2(np.fft.rfft2(ext) * filt, s=ext.shape)[:h, :w]


@cache
def _processed(name: str, blur: float, white: bool, f0: float) -> np.ndarray:
    import scipy.ndimage

    img = greyscale(name)
    if blur > 0:
        img = scipy.ndimage.gaussian_filter(img, blur, mode="reflect")
    if white:
        img = whiten(img - img.mean(), f0)
    out = (img - img.mean()) / img.std()
    out.setflags(write=False)
    return out


def processed(name: str, blur: float = 0.0, white: bool = True, f0: float = F0) -> np.ndarray:
    """(H, W) float64: greyscale ``name`` blurred by a Gaussian of ``blur`` pixels, whitened if ``white``,
    then standardized to mean 0, variance 1 (cached, read-only)."""
    return _processed(name, float(blur), bool(white), float(f0))


def _block_sums(img: np.ndarray, block: int) -> np.ndarray:
    """(B, 4): Σx, Σx², Σx³, Σx⁴ over each non-overlapping block × block tile (the ragged border dropped)."""
    h, w = (img.shape[0] // block) * block, (img.shape[1] // block) * block
    tiles = (
        img[:h, :w].reshape(h // block, block, w // block, block).swapaxes(1, 2).reshape(-1, block * block)
    )
    return np.stack([(tiles**p).sum(axis=1) for p in (1, 2, 3, 4)], axis=1)


def _kurtosis_from_sums(s: np.ndarray, count) -> np.ndarray:
    """Excess kurtosis m₄/m₂² − 3 about the sample mean, from power sums s (..., 4) of `count` values."""
    m1, r2, r3, r4 = (s[..., p] / count for p in range(4))
    m2 = r2 - m1**2
    m4 = r4 - 4 * m1 * r3 + 6 * m1**2 * r2 - 3 * m1**4
    return m4 / m2**2 - 3.0


def kurtosis_bootstrap(
    names, blur: float = 0.0, f0: float = F0, block: int = 32, n_boot: int = 1000, level: float = 0.95, seed=0
) -> dict[str, tuple[float, float, float]]:
    """Excess kurtosis of the whitened pixels of each image and of all of them pooled, with a percentile
    block-bootstrap interval: {name: (estimate, low, high)}, pooled under "pooled".

    Neighbouring whitened pixels are not independent (edges are runs of large values), so the bootstrap
    resamples non-overlapping block × block tiles, not pixels; the pooled resample is stratified by image
    (each image keeps its number of tiles).
    """
    names = tuple(names)
    if not names:
        raise ValueError("names must hold at least one image")
    block = _checks.integer("block", block, minimum=2)
    n_boot = _checks.integer("n_boot", n_boot, minimum=10)
    _checks.real("level", level, low=0.0, high=1.0, low_open=True, high_open=True)
    rng = np.random.default_rng(seed)
    q = [(1 - level) / 2, (1 + level) / 2]
    out, boot_total, full_total, count = {}, 0.0, 0.0, 0
    for name in names:
        sums = _block_sums(processed(name, blur, True, f0), block)
        nb = len(sums)
        # multinomial counts of each tile in each resample: (n_boot, nb) @ (nb, 4) gives the resampled sums
        counts = rng.multinomial(nb, np.full(nb, 1.0 / nb), size=n_boot).astype(np.float64)
        boot = counts @ sums
        px = nb * block * block
        est = float(_kurtosis_from_sums(sums.sum(0), px))
        lo, hi = np.quantile(_kurtosis_from_sums(boot, px), q)
        out[name] = (est, float(lo), float(hi))
        boot_total = boot_total + boot
        full_total = full_total + sums.sum(0)
        count += px
    lo, hi = np.quantile(_kurtosis_from_sums(boot_total, count), q)
    out["pooled"] = (float(_kurtosis_from_sums(full_total, count)), float(lo), float(hi))
    return out


def gaussian_surrogate(key, mean, cov, num: int) -> jax.Array:
    """num draws (num, N) float32 of N(mean, cov): the Gaussian with a patch law's exact first two moments
    (negative round-off eigenvalues of cov clipped to 0)."""
    root = _psd_root(np.asarray(cov, np.float64))
    eps = jax.random.normal(key, (num, root.shape[0]), jnp.float32)
    return np.asarray(mean, np.float32) + eps @ np.asarray(root.T, np.float32)


def _psd_root(cov: np.ndarray) -> np.ndarray:
    """L with L Lᵀ = cov (symmetric root via eigh)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        lam, u = np.linalg.eigh(0.5 * (cov + cov.T))
        return (u * np.sqrt(np.clip(lam, 0.0, None))) @ u.T


def _moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (N,) and covariance (N, N) of the rows of x, float64."""
    from threadpoolctl import threadpool_limits

    # One BLAS thread: on the 2-core machine multi-threaded OpenBLAS spin-waits (measured ~5x slower here).
    with threadpool_limits(1):
        x = np.asarray(x, np.float64)
        mean = x.mean(axis=0)
        d = x - mean
        return mean, d.T @ d / len(x)


def _crop(img: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    top, left = (img.shape[0] - shape[0]) // 2, (img.shape[1] - shape[1]) // 2
    return img[top : top + shape[0], left : left + shape[1]]


@register("images")
@dataclasses.dataclass(frozen=True)
class NaturalImages(DataModel):
    """Two-class natural-image data: class y = patches of ``images[y]`` with blur ``blur[y]`` (uniform over
    positions; two images of different sizes are centre-cropped to their common size)."""

    n: int = 16
    dim: int = 2
    images: tuple[str, str] = ("china", "flower")
    blur: tuple[float, float] = (0.0, 0.0)
    whiten: bool = False

    def _validate(self):
        imgs = tuple(self.images) if not isinstance(self.images, str) else (self.images, self.images)
        if len(imgs) != 2:
            raise ValueError(f"images must be a pair (class 0, class 1) from {list(IMAGES)}, got {imgs!r}")
        for i, name in enumerate(imgs):
            _checks.choice(f"images[{i}]", name, IMAGES)
        self._set("images", imgs)
        self._set("blur", _checks.pair("blur", self.blur, low=0.0))
        if not isinstance(self.whiten, bool):
            raise ValueError(f"whiten must be a bool, got {self.whiten!r}")
        h, w = self._common_shape()
        limit = min(h, w) if self.dim == 2 else w
        if self.n > limit:
            raise ValueError(f"n must be <= {limit} (the image size) for dim={self.dim}, got {self.n}")

    def _common_shape(self) -> tuple[int, int]:
        shapes = [greyscale(name).shape for name in self.images]
        return min(s[0] for s in shapes), min(s[1] for s in shapes)

    BUFFERS = ("_pixels",)

    def _prepare(self):
        shape = self._common_shape()
        stack = np.stack(
            [_crop(processed(i, b, self.whiten), shape) for i, b in zip(self.images, self.blur, strict=True)]
        )
        self._set("_pixels", stack.astype(np.float32))

    def _window(self) -> tuple[int, int]:
        return (self.n, self.n) if self.dim == 2 else (1, self.n)

    def _sample_x(self, key, y):
        stack = jnp.asarray(self._pixels)
        wh, ww = self._window()
        key_r, key_c = jax.random.split(key)
        rows = jax.random.randint(key_r, y.shape, 0, stack.shape[1] - wh + 1)
        cols = jax.random.randint(key_c, y.shape, 0, stack.shape[2] - ww + 1)

        def patch(label, r, c):
            return jax.lax.dynamic_slice(stack, (label, r, c), (1, wh, ww)).reshape(-1)

        return jax.vmap(patch)(y, rows, cols)

    def patches(self, label: int, stride: int = 1) -> np.ndarray:
        """Every patch of class `label` (positions on a grid of the given stride), float64 (P, n**dim)."""
        from numpy.lib.stride_tricks import sliding_window_view

        img = self._pixels[self.covariance_check_label(label)].astype(np.float64)
        win = sliding_window_view(img, self._window())[::stride, ::stride]
        return win.reshape(-1, self.n_inputs)

    def class_covariance(self, label: int) -> np.ndarray:
        """Exact covariance of the patch law: the average over all patch positions (chunked)."""
        x = self.patches(label)
        mean = x.mean(axis=0)
        second = sum(c.T @ c for c in np.array_split(x, max(1, len(x) // 20_000)))
        return second / len(x) - np.outer(mean, mean)

    @property
    def marginal(self) -> Marginal:
        """The pooled pixel law of the two processed images (empirical: no closed form)."""
        px = self._pixels.astype(np.float64).ravel()
        var = px.var()
        return Marginal(
            f"images({'+'.join(self.images)})",
            kurtosis=float(((px - px.mean()) ** 4).mean() / var**2),
            mean_abs=float(np.abs(px).mean()),
            variance=float(var),
        )


def pool_positions(names, window: tuple[int, int], num: int, seed: int) -> np.ndarray:
    """(num, 3) int: (image index, row, col) of num patch positions drawn uniformly over every position of
    every image (an image is chosen in proportion to its number of positions)."""
    sizes = np.array([greyscale(name).shape for name in names])
    counts = (sizes[:, 0] - window[0] + 1) * (sizes[:, 1] - window[1] + 1)
    rng = np.random.default_rng(seed)
    img = rng.choice(len(names), size=num, p=counts / counts.sum())
    rows = rng.integers(0, sizes[img, 0] - window[0] + 1)
    cols = rng.integers(0, sizes[img, 1] - window[1] + 1)
    return np.stack([img, rows, cols], axis=1)


def extract(names, positions: np.ndarray, window: tuple[int, int], blur: float, white: bool, f0: float):
    """Patches (P, wh·ww) float64 of the processed images at positions (P, 3) from :func:`pool_positions`."""
    out = np.empty((len(positions), window[0] * window[1]))
    dr, dc = np.meshgrid(np.arange(window[0]), np.arange(window[1]), indexing="ij")
    for i, name in enumerate(names):
        sel = positions[:, 0] == i
        if sel.any():
            img = processed(name, blur, white, f0)
            r = positions[sel, 1][:, None] + dr.ravel()
            c = positions[sel, 2][:, None] + dc.ravel()
            out[sel] = img[r, c]
    return out


@cache
def _pool(names, window, num, seed, blur, white, f0):
    """(patches (num, N) read-only, (mean, covariance), covariance root float32), shared by every model
    with the same pool (e.g. a task and its Gaussian control)."""
    pos = pool_positions(names, window, num, seed)
    x = extract(names, pos, window, blur, white, f0)
    x.setflags(write=False)
    mean, cov = _moments(x)
    return x, (mean, cov), _psd_root(cov).astype(np.float32)


@register("image_patches")
@dataclasses.dataclass(frozen=True)
class ImagePatches(DataModel):
    """Patches pooled over several photographs; class y = the pool blurred by ``blur[y]``, or, where
    ``gaussian[y]``, the Gaussian surrogate of that pool (same mean and covariance, exactly).

    The patch law is uniform over a fixed pool of ``pool`` positions drawn once (seed ``pool_seed``) over
    every position of every image; both classes use the same positions. images=() means every photograph
    that loads offline (:func:`available_images`).
    """

    n: int = 12
    dim: int = 2
    images: tuple[str, ...] = ()
    blur: tuple[float, float] = (0.0, 0.0)
    gaussian: tuple[bool, bool] = (False, False)
    whiten: bool = True
    f0: float = F0
    pool: int = 100_000
    pool_seed: int = 0

    def _validate(self):
        imgs = (self.images,) if isinstance(self.images, str) else tuple(self.images)
        imgs = imgs or available_images()
        for i, name in enumerate(imgs):
            _checks.choice(f"images[{i}]", name, IMAGES)
        self._set("images", imgs)
        self._set("blur", _checks.pair("blur", self.blur, low=0.0))
        gauss = tuple(self.gaussian) if not isinstance(self.gaussian, bool) else (self.gaussian,) * 2
        if len(gauss) != 2 or not all(isinstance(g, bool) for g in gauss):
            raise ValueError(f"gaussian must be a pair of bools (class 0, class 1), got {self.gaussian!r}")
        self._set("gaussian", gauss)
        if not isinstance(self.whiten, bool):
            raise ValueError(f"whiten must be a bool, got {self.whiten!r}")
        self._set("f0", _checks.real("f0", self.f0, low=0.0, high=0.5 * np.sqrt(2), low_open=True))
        shapes = np.array([greyscale(name).shape for name in imgs])
        limit = int(shapes.min()) if self.dim == 2 else int(shapes[:, 1].min())
        if self.n > limit:
            raise ValueError(f"n must be <= {limit} (the smallest image) for dim={self.dim}, got {self.n}")
        _checks.integer("pool", self.pool, minimum=self.n_inputs + 1)
        _checks.integer("pool_seed", self.pool_seed, minimum=0)

    def _window(self) -> tuple[int, int]:
        return (self.n, self.n) if self.dim == 2 else (1, self.n)

    BUFFERS = ("_pools", "_roots", "_means")

    def _prepare(self):
        pools = [
            _pool(self.images, self._window(), self.pool, self.pool_seed, b, self.whiten, self.f0)
            for b in self.blur
        ]
        self._set("_pools", tuple(p[0] for p in pools))
        self._set("_moments", tuple(p[1] for p in pools))
        self._set("_roots", tuple(p[2] for p in pools))
        self._set("_means", tuple(p[1][0].astype(np.float32) for p in pools))

    def _class_x(self, key, label: int, num: int):
        if self.gaussian[label]:
            eps = jax.random.normal(key, (num, self.n_inputs), jnp.float32)
            return jnp.asarray(self._means[label]) + eps @ jnp.asarray(self._roots[label]).T
        rows = jax.random.randint(key, (num,), 0, self.pool)
        return jnp.asarray(self._pools[label], jnp.float32)[rows]

    def _sample_x(self, key, y):
        k0, k1 = jax.random.split(key)
        x0, x1 = self._class_x(k0, 0, y.shape[0]), self._class_x(k1, 1, y.shape[0])
        return jnp.where(y[:, None] == 1, x1, x0)

    def patches(self, label: int) -> np.ndarray:
        """Natural pool of class `label` (pool, n**dim) float64 (read-only), whatever ``gaussian`` says."""
        return self._pools[self.covariance_check_label(label)]

    def class_covariance(self, label: int) -> np.ndarray:
        """Exact covariance of class `label`: that of its pool (the surrogate shares it by construction)."""
        return self._moments[self.covariance_check_label(label)][1].copy()

    @property
    def marginal(self) -> Marginal:
        """Empirical pixel law of class 1 (its pool, or the Gaussian surrogate's law: kurtosis 3)."""
        x = self._pools[1]
        var = float(x.var())
        kurt = 3.0 if self.gaussian[1] else float(((x - x.mean()) ** 4).mean() / var**2)
        mean_abs = np.sqrt(2 * var / np.pi) if self.gaussian[1] else float(np.abs(x).mean())
        return Marginal("image_patches", kurtosis=kurt, mean_abs=float(mean_abs), variance=var)
