"""Natural-image patches: shipped images, unit variance, exact patch-law covariance, class definitions."""

import re

import jax
import numpy as np
import pytest

from conftest import assert_within_se, empirical_covariance
from rfloc.data import NaturalImages, from_dict


def test_patches_shape_and_unit_variance():
    model = NaturalImages(n=8)
    x, y = model.sample(jax.random.key(0), 50_000)
    assert x.shape == (50_000, 64) and model.shape == (8, 8)
    # Each processed image is standardized over its pixels; patches cover all but a thin border.
    assert abs(float(np.asarray(x, np.float64).var()) - 1.0) < 0.05
    rows = NaturalImages(n=40, dim=1).sample(jax.random.key(1), 7)[0]
    assert rows.shape == (7, 40)


def test_class_covariance_is_the_patch_law():
    # Patches are drawn uniformly over positions, so the empirical covariance converges to the average
    # over all positions; the SE comes from the sample itself.
    model = NaturalImages(n=5, blur=(0.0, 3.0))
    for label in (0, 1):
        x, y = model.sample(jax.random.key(2 + label), 100_000)
        xl = np.asarray(x, np.float64)[np.asarray(y) == label]
        mean = xl.mean(0)
        cov, se = empirical_covariance(xl - mean)
        assert_within_se(cov, model.class_covariance(label), se, what=f"class {label}")


def test_blur_lengthens_and_whitening_shortens_correlations():
    sharp = NaturalImages(n=6, blur=(0.0, 4.0)).class_covariance(0)
    blurred = NaturalImages(n=6, blur=(0.0, 4.0)).class_covariance(1)
    white = NaturalImages(n=6, whiten=True).class_covariance(0)
    # correlation of horizontally adjacent pixels (inputs 0 and 1 of a row-major 6×6 patch)
    assert blurred[0, 1] > sharp[0, 1] > white[0, 1]
    assert abs(white[0, 2]) < 0.3


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"images": ("china", "mona")}, "images[1]"),
        ({"blur": (-1.0, 0.0)}, "blur[0]"),
        ({"n": 500}, "n"),
        ({"whiten": "yes"}, "whiten"),
    ],
)
def test_invalid(kwargs, name):
    with pytest.raises(ValueError, match="^" + re.escape(name) + " "):
        NaturalImages(**kwargs)


def test_round_trip_and_marginal():
    model = NaturalImages(n=8, blur=(1.0, 2.0))
    assert from_dict(model.to_dict()) == model
    assert model.marginal.kurtosis > 1.0 and model.marginal.transform is None


# ---- photographs, whitening, kurtosis, pooled patches and their Gaussian surrogate ----------------------


def test_every_shipped_photograph_loads_offline(monkeypatch):
    import socket

    from rfloc.data import images

    def no_network(*args, **kwargs):
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    images.greyscale.cache_clear()
    images.load_status.cache_clear()
    status = images.load_status()
    assert set(status) == set(images.IMAGES)
    assert {k: v for k, v in status.items() if v is not None} == {}
    for name in images.available_images():
        img = images.greyscale(name)
        assert img.ndim == 2 and min(img.shape) >= 300 and 0 <= img.min() and img.max() <= 1


def test_whitening_multiplies_by_the_filter():
    from rfloc.data.images import whiten, whitening_filter

    # A cosine sampled at half-pixel offsets with f = k/(2H) is exactly periodic under the mirror
    # extension, so whitening must multiply it by R(f) = f exp(−(f/f₀)⁴), to round-off.
    h, w, k = 64, 48, 20
    f = k / (2 * h)
    rows = np.arange(h)[:, None] + 0.5
    img = np.cos(2 * np.pi * f * rows) * np.ones((1, w))
    np.testing.assert_allclose(whiten(img), whitening_filter(f) * img, atol=1e-12)
    # R peaks at f₀/√2 (dR/df = e^{−(f/f₀)⁴}(1 − 4f⁴/f₀⁴)) and vanishes at f = 0
    grid = np.linspace(0, 0.7, 7001)
    assert abs(grid[np.argmax(whitening_filter(grid))] - 0.4 / 2**0.5) < 1e-4 and whitening_filter(0.0) == 0


def test_kurtosis_from_block_sums_is_the_sample_kurtosis():
    from rfloc.data.images import _block_sums, _kurtosis_from_sums
    from rfloc.metrics import excess_kurtosis

    x = np.random.default_rng(0).standard_t(5, (64, 96)) + 0.3
    sums = _block_sums(x, 16)
    got = _kurtosis_from_sums(sums.sum(0), x.size)
    # excess_kurtosis runs in float32: relative round-off ~1e-6 on moments of order 10
    assert abs(got - float(excess_kurtosis(x.ravel()))) < 1e-3


def test_whitened_photograph_kurtosis_interval():
    from rfloc.data.images import kurtosis_bootstrap

    out = kurtosis_bootstrap(["china"], n_boot=200)
    est, lo, hi = out["china"]
    assert out["pooled"] == pytest.approx(out["china"], rel=0.2)
    # whitened natural images are sparse (heavy-tailed): excess kurtosis well above 0
    assert 0 < lo <= est <= hi


def test_pooled_patches_and_gaussian_surrogate():
    from rfloc.data import ImagePatches

    model = ImagePatches(n=4, images=("camera", "china"), gaussian=(True, False), pool=20_000)
    assert model.n_inputs == 16 and model.images == ("camera", "china")
    x, y = model.sample(jax.random.key(0), 100_000)
    x, y = np.asarray(x, np.float64), np.asarray(y)
    for label in (0, 1):
        xl = x[y == label]
        mean = xl.mean(0)
        cov, se = empirical_covariance(xl - mean)
        assert_within_se(cov, model.class_covariance(label), se, what=f"class {label}")
    # the surrogate is Gaussian (excess kurtosis 0 within 6 SE ≈ 6·sqrt(24/n)); natural pixels are not
    x0 = x[y == 0].ravel()
    k0 = ((x0 - x0.mean()) ** 4).mean() / x0.var() ** 2 - 3
    assert abs(k0) < 6 * np.sqrt(24 / len(x0))
    assert model.marginal.excess_kurtosis > 1.0
    assert from_dict(model.to_dict()) == model


def test_natural_images_of_different_sizes_are_cropped():
    model = NaturalImages(n=8, images=("camera", "rocket"))
    assert model._pixels.shape == (2, 427, 512)
    assert model.sample(jax.random.key(0), 10)[0].shape == (10, 64)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"images": ("china", "lena")}, "images[1]"),
        ({"gaussian": (True,)}, "gaussian"),
        ({"pool": 10}, "pool"),
        ({"f0": 0.0}, "f0"),
        ({"n": 400}, "n"),
    ],
)
def test_image_patches_invalid(kwargs, name):
    from rfloc.data import ImagePatches

    with pytest.raises(ValueError, match="^" + re.escape(name) + " "):
        ImagePatches(**{"pool": 1000, **kwargs})


def test_pixels_and_pools_are_program_arguments_not_constants(monkeypatch):
    """The image arrays (BUFFERS) enter the sampler's and the trainer's compiled programs as arguments: a
    closed-over array is embedded as a constant (the program text then holds its bytes)."""
    from rfloc import train
    from rfloc.data import ImagePatches, base
    from rfloc.nn import NetConfig

    model = ImagePatches(n=4, images=("camera", "china"), pool=20_000)
    pool_bytes = sum(p.nbytes for p in model._pools)
    key = jax.random.key(0)
    program = base._sample_static.lower(model, model.buffers(), key, 8).as_text()
    assert len(program) < pool_bytes / 10
    images = NaturalImages(n=4, images=("camera", "china"))
    program = base._sample_static.lower(images, images.buffers(), key, 8).as_text()
    assert len(program) < images._pixels.nbytes / 10
    x, _ = model.sample(key, 8)  # the buffers read are the model's own: same draw as without them
    x_own, _ = base._body(model, key, 8)
    np.testing.assert_array_equal(np.asarray(x), np.asarray(x_own))

    calls = []
    advance = train._advance
    monkeypatch.setattr(train, "_advance", lambda *a: calls.append(a) or advance(*a))
    config = train.TrainConfig(
        data=model, net=NetConfig(kind="simplenet", width=2), steps=2, eval_every=1, batch_size=4
    )
    train.train_many(config, seeds=[0], progress=False)
    assert len(advance.lower(*calls[0]).as_text()) < pool_bytes / 10
