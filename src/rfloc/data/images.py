"""Natural images: random n×n patches (dim 2) or length-n row segments (dim 1) of greyscale photographs.

The photographs ship inside scikit-learn (``china.jpg``, ``flower.jpg``), so nothing is fetched at run
time. Class y draws from image ``images[y]`` blurred by a Gaussian of width ``blur[y]`` pixels (a larger
blur = a longer correlation length, the analogue of ξ_y) and optionally whitened with the
Olshausen–Field filter |f|·exp(−(|f|/f₀)⁴), f₀ = 0.4 cycles/pixel. Each processed image is standardized
to mean 0 and variance 1 over its pixels. There is no closed form here: ``class_covariance`` is the
exact covariance of the patch law (an average over every patch position), computed on demand.
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

IMAGES = ("china", "flower")


@cache
def greyscale(name: str) -> np.ndarray:
    """(H, W) float64 greyscale in [0, 1] of a photograph shipped with scikit-learn."""
    from sklearn.datasets import load_sample_image

    return load_sample_image(f"{name}.jpg").astype(np.float64).mean(axis=2) / 255.0


def whiten(img: np.ndarray, f0: float = 0.4) -> np.ndarray:
    """Flatten the ~1/f amplitude spectrum of natural images: multiply by |f| e^{−(|f|/f₀)⁴} in Fourier
    space."""
    fy = np.fft.fftfreq(img.shape[0])[:, None]
    fx = np.fft.rfftfreq(img.shape[1])[None, :]
    f = np.sqrt(fx**2 + fy**2)
    return np.fft.irfft2(np.fft.rfft2(img) * f * np.exp(-((f / f0) ** 4)), s=img.shape)


def processed(name: str, blur: float, white: bool) -> np.ndarray:
    import scipy.ndimage

    img = greyscale(name)
    if blur > 0:
        img = scipy.ndimage.gaussian_filter(img, blur, mode="reflect")
    if white:
        img = whiten(img - img.mean())
    return (img - img.mean()) / img.std()


@register("images")
@dataclasses.dataclass(frozen=True)
class NaturalImages(DataModel):
    """Two-class natural-image data: class y = patches of ``images[y]`` with blur ``blur[y]``."""

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
        h, w = greyscale(imgs[0]).shape
        limit = min(h, w) if self.dim == 2 else w
        if self.n > limit:
            raise ValueError(f"n must be <= {limit} (the image size) for dim={self.dim}, got {self.n}")

    def _prepare(self):
        stack = np.stack([processed(i, b, self.whiten) for i, b in zip(self.images, self.blur, strict=True)])
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
