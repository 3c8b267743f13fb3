"""Every invalid parameter fails at construction with a message naming it and its range."""

import math

import jax
import pytest

from rfloc.data import NLGP, Elliptical, GaussianGP, Ising, Kur, from_dict

CASES = [
    (lambda: GaussianGP(xi=(0.0, 3.0)), "xi[0]"),
    (lambda: GaussianGP(xi=(1.0, -2.0)), "xi[1]"),
    (lambda: GaussianGP(xi=(1.0, 2.0, 3.0)), "xi"),
    (lambda: NLGP(gain=0.0), "gain"),
    (lambda: NLGP(gain=-1.0), "gain"),
    (lambda: NLGP(gain=math.nan), "gain"),
    (lambda: Kur(k=2.0), "k"),
    (lambda: Ising(J=(0.3, math.inf)), "J[1]"),
    (lambda: Ising(J=(math.nan, 0.3)), "J[0]"),
    (lambda: Ising(dim=2), "dim"),
    (lambda: GaussianGP(n=1), "n"),
    (lambda: GaussianGP(n=40.0), "n"),
    (lambda: GaussianGP(n=True), "n"),
    (lambda: GaussianGP(class_proportion=1.5), "class_proportion"),
    (lambda: GaussianGP(class_proportion=-0.1), "class_proportion"),
    (lambda: GaussianGP(dim=3), "dim"),
    (lambda: GaussianGP(balanced=1), "balanced"),
    (lambda: NLGP(gain="3"), "gain"),
    (lambda: Elliptical(radial="cauchy"), "radial"),
    (lambda: Elliptical(radial="t", nu=2.0), "nu"),
    (lambda: from_dict({"model": "potts"}), "model"),
]


@pytest.mark.parametrize(("make", "name"), CASES)
def test_invalid_parameter_is_named(make, name):
    with pytest.raises(ValueError, match=rf"^{__import__('re').escape(name)} "):
        make()


@pytest.mark.parametrize("num", [0, -5, 2.5])
def test_invalid_num(num):
    with pytest.raises(ValueError, match="^num "):
        GaussianGP().sample(jax.random.key(0), num)


def test_invalid_label():
    with pytest.raises(ValueError, match="^label "):
        GaussianGP().class_covariance(2)


def test_kurtosis_needing_code_sees_infinite_kappa():
    # Kur(k ≤ 4) samples fine but its kurtosis is infinite: consumers must refuse it (theory does).
    model = Kur(k=4.0)
    assert math.isinf(model.marginal.kurtosis)
    assert model.sample(jax.random.key(0), 10)[0].shape == (10, 40)
