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
