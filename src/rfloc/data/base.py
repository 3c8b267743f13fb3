"""What every data model shares: two classes, labels, validation, and the sampling entry point."""

from __future__ import annotations

import dataclasses
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from rfloc import _checks
from rfloc.data.marginals import Marginal


def sample_labels(key: jax.Array, num: int, proportion: float, balanced: bool) -> jax.Array:
    """Labels y ∈ {0, 1} with P(y = 1) = proportion, int32 (num,).

    balanced=True gives exactly round(proportion·num) ones in random order (less noise vs theory).
    """
    if balanced:
        ones = jnp.arange(num) < round(proportion * num)
        return jax.random.permutation(key, ones).astype(jnp.int32)
    return jax.random.bernoulli(key, proportion, (num,)).astype(jnp.int32)


@partial(jax.jit, static_argnums=(0, 2))
def _sample(model: DataModel, key: jax.Array, num: int):
    key_y, key_x = jax.random.split(key)
    y = sample_labels(key_y, num, model.class_proportion, model.balanced)
    return model._sample_x(key_x, y).astype(jnp.float32), y


@dataclasses.dataclass(frozen=True)
class DataModel:
    """Base of the two-class data models on a ring of n sites (or an n×n torus when dim = 2).

    Subclasses are frozen, hashable dataclasses; derived arrays (kernel factorizations) are built once
    at construction and kept outside the dataclass fields, so equal configs share compiled samplers.
    """

    n: int = 40
    class_proportion: float = 0.5
    dim: int = 1
    balanced: bool = False

    _dims_allowed = (1, 2)

    def __post_init__(self):
        _checks.integer("n", self.n, minimum=2)
        _checks.real("class_proportion", self.class_proportion, low=0.0, high=1.0)
        if self.dim not in self._dims_allowed or isinstance(self.dim, bool):
            raise ValueError(
                f"dim must be one of {self._dims_allowed} for {type(self).__name__}, got {self.dim!r}"
            )
        if not isinstance(self.balanced, bool):
            raise ValueError(f"balanced must be a bool, got {self.balanced!r}")
        self._validate()
        self._prepare()

    # -- subclass hooks -------------------------------------------------------------------------
    def _validate(self) -> None:
        """Check model-specific fields (normalize them with _set)."""

    def _prepare(self) -> None:
        """Precompute kernel factorizations (numpy, once)."""

    def _sample_x(self, key: jax.Array, y: jax.Array) -> jax.Array:
        raise NotImplementedError

    def class_covariance(self, label: int) -> np.ndarray:
        """Exact covariance of x given y = label, float64 (n_inputs, n_inputs)."""
        raise NotImplementedError

    @property
    def marginal(self) -> Marginal:
        raise NotImplementedError

    # -- shared API -----------------------------------------------------------------------------
    def _set(self, name: str, value) -> None:
        object.__setattr__(self, name, value)

    @property
    def n_inputs(self) -> int:
        """Length of one flattened input, n**dim."""
        return self.n**self.dim

    @property
    def shape(self) -> tuple[int, ...]:
        """Spatial shape of one input: (n,) or (n, n); samples are flattened row-major."""
        return (self.n,) * self.dim

    def sample(self, key: jax.Array, num: int) -> tuple[jax.Array, jax.Array]:
        """Draw num labelled inputs: x float32 (num, n**dim), y int32 (num,) in {0, 1}.

        Pure and deterministic in key; jit-able (num static) and vmap-able over keys.
        """
        num = _checks.integer("num", num, minimum=1)
        return _sample(self, key, num)

    def covariance_check_label(self, label) -> int:
        if label not in (0, 1) or isinstance(label, bool):
            raise ValueError(f"label must be 0 or 1, got {label!r}")
        return int(label)

    def to_dict(self) -> dict:
        """JSON-ready config: the model's name and every field."""
        out = {"model": MODEL_NAMES[type(self)]}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            out[f.name] = list(v) if isinstance(v, tuple) else v
        return out


MODEL_NAMES: dict[type, str] = {}


def register(name: str):
    def deco(cls):
        MODEL_NAMES[cls] = name
        return cls

    return deco
