"""What every data model shares: two classes, labels, validation, the pytree layout and sampling.

A data model is a JAX pytree. Its shape fields (n, dim, balanced, the radial law, ...) are static
auxiliary data; its continuous parameters (``PARAMS``: class_proportion, ξ, gain, k, J, ν) are leaves.
So a model can be an argument of ``jax.jit``/``jax.vmap``, and a stack of models (``stack``: every leaf
with a leading axis B) is vmapped with one compiled program for all B parameter values.

Three ways a model's parameters can be held, and how each samples:
- Python numbers (what the constructor gives): derived constants (kernel roots, Z(g), s_k, flip
  tables) are computed once on the host in float64; ``sample`` compiles one program per model (the
  model is a static, hashable jit argument). This is the reproducible default.
- tracers (inside jit/vmap, e.g. ``jax.vmap(f)(stack(models))`` or ``replace(model, gain=tracer)``):
  the derived constants are computed in jnp from the traced parameters inside the caller's program.
- concrete 0-d arrays (e.g. ``jax.tree.map(jnp.asarray, model)``): ``sample`` jits with the model as
  a pytree argument, one program for every parameter value of that structure.
"""

from __future__ import annotations

import copy
import dataclasses
import numbers
from collections.abc import Callable, Sequence
from functools import partial
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from rfloc import _checks
from rfloc.data.marginals import Marginal


def sample_labels(key: jax.Array, num: int, proportion, balanced: bool) -> jax.Array:
    """Labels y ∈ {0, 1} with P(y = 1) = proportion, int32 (num,).

    balanced=True gives exactly round(proportion·num) ones in random order (less noise vs theory).
    proportion may be traced.
    """
    if balanced:
        count = round(proportion * num) if is_number(proportion) else jnp.round(proportion * num)
        ones = jnp.arange(num) < count
        return jax.random.permutation(key, ones).astype(jnp.int32)
    return jax.random.bernoulli(key, proportion, (num,)).astype(jnp.int32)


def is_number(value) -> bool:
    """A plain Python real (the host-side, float64 parameter representation)."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.generic))


def _body(model: DataModel, key: jax.Array, num: int):
    key_y, key_x = jax.random.split(key)
    y = sample_labels(key_y, num, model.class_proportion, model.balanced)
    return model._sample_x(key_x, y).astype(jnp.float32), y


def _buffered_body(model: DataModel, buffers: dict, key: jax.Array, num: int):
    return _body(model.with_buffers(buffers), key, num)


_sample_static = jax.jit(_buffered_body, static_argnums=(0, 3))
_sample_pytree = jax.jit(_buffered_body, static_argnums=3)


# -- parameter validation that lets traced and stacked values through -------------------------------


def checked(name: str, value, check: Callable) -> object:
    """Validate one continuous parameter with ``check(name, float) -> float``.

    Tracers pass unchecked (their values are unknown); a concrete array of ndim ≥ 1 (a stack of models)
    is checked entrywise and kept as float64 numpy; anything else must be a real number.
    """
    if isinstance(value, jax.core.Tracer):
        return value
    if isinstance(value, (jax.Array, np.ndarray, np.generic)) and not isinstance(value, np.bool_):
        arr = np.asarray(value)
        if arr.dtype.kind not in "iuf":
            raise ValueError(f"{name} must be a real number, got {value!r}")
        if arr.ndim == 0:
            return check(name, arr.item())
        for v in arr.ravel():
            check(name, float(v))
        return arr.astype(np.float64)
    return check(name, value)


def checked_pair(name: str, value, **bounds) -> tuple:
    """A per-class pair (class 0, class 1) of parameters, each validated by :func:`checked` (tracers pass,
    stacks are checked entrywise); a single value stands for both classes (:func:`rfloc._checks.pair`)."""
    check = partial(_checks.real, **bounds)
    return _checks.pair(name, value, check=lambda entry, v: checked(entry, v, check))


class _Carry:
    """Host state built from static fields only (e.g. image pixels), carried through flatten/unflatten.

    It compares equal to every _Carry: the static fields next to it in the aux data already decide it.
    """

    def __init__(self, state: dict):
        self.state = state

    def __eq__(self, other):
        return isinstance(other, _Carry)

    def __hash__(self):
        return 0


@dataclasses.dataclass(frozen=True)
class DataModel:
    """Base of the two-class data models on a ring of n sites (or an n×n torus when dim = 2).

    Subclasses are frozen dataclasses and pytrees (leaves: ``PARAMS``). With Python-number parameters
    they are hashable, and derived arrays (kernel factorizations) are built once on the host and kept
    outside the dataclass fields, so equal configs share compiled samplers. Large ones that the sampler
    reads (``BUFFERS``) enter compiled programs as arguments, never as embedded constants.
    """

    n: int = 40
    class_proportion: float = 0.5
    dim: int = 1
    balanced: bool = False

    PARAMS: ClassVar[tuple[str, ...]] = ("class_proportion",)
    # Host arrays built by _prepare that the sampler reads (image pixels, patch pools). Compiled programs
    # take them as arguments (see `buffers`): closed over, an array is embedded in the program as a
    # constant, and a 58 MB patch pool cost ~1 s of compile per program (0.15 s as an argument).
    BUFFERS: ClassVar[tuple[str, ...]] = ()
    _dims_allowed: ClassVar[tuple[int, ...]] = (1, 2)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        jax.tree_util.register_pytree_with_keys(
            cls, cls._tree_flatten_with_keys, cls._tree_unflatten, cls._tree_flatten
        )

    def __post_init__(self):
        _checks.integer("n", self.n, minimum=2)
        self._set(
            "class_proportion",
            checked("class_proportion", self.class_proportion, partial(_checks.real, low=0.0, high=1.0)),
        )
        if self.dim not in self._dims_allowed or isinstance(self.dim, bool):
            raise ValueError(
                f"dim must be one of {self._dims_allowed} for {type(self).__name__}, got {self.dim!r}"
            )
        if not isinstance(self.balanced, bool):
            raise ValueError(f"balanced must be a bool, got {self.balanced!r}")
        self._validate()
        before = set(vars(self))
        self._prepare()
        self._set("_carried", tuple(sorted(set(vars(self)) - before)))

    # -- subclass hooks -------------------------------------------------------------------------
    def _validate(self) -> None:
        """Check model-specific fields (normalize them with _set; parameters through `checked`)."""

    def _prepare(self) -> None:
        """Host precomputation that depends on static fields only (carried through pytree ops)."""

    def _sample_x(self, key: jax.Array, y: jax.Array) -> jax.Array:
        raise NotImplementedError

    def class_covariance(self, label: int):
        """Exact covariance of x given y = label, (n_inputs, n_inputs): float64 numpy for a host model,
        a float32 jax array for a traced one."""
        raise NotImplementedError

    @property
    def marginal(self) -> Marginal:
        raise NotImplementedError

    # -- pytree layout --------------------------------------------------------------------------
    @classmethod
    def _static_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls) if f.name not in cls.PARAMS)

    def _aux(self):
        carried = {name: getattr(self, name) for name in getattr(self, "_carried", ())}
        return tuple(getattr(self, name) for name in self._static_names()), _Carry(carried)

    def _tree_flatten(self):
        return tuple(getattr(self, name) for name in self.PARAMS), self._aux()

    def _tree_flatten_with_keys(self):
        children = tuple((jax.tree_util.GetAttrKey(name), getattr(self, name)) for name in self.PARAMS)
        return children, self._aux()

    @classmethod
    def _tree_unflatten(cls, aux, children):
        # JAX unflattens with tracers and placeholders, so this bypasses __init__ and its validation.
        static, carry = aux
        obj = object.__new__(cls)
        for name, value in zip(cls._static_names(), static, strict=True):
            object.__setattr__(obj, name, value)
        for name, value in zip(cls.PARAMS, children, strict=True):
            object.__setattr__(obj, name, value)
        for name, value in carry.state.items():
            object.__setattr__(obj, name, value)
        object.__setattr__(obj, "_carried", tuple(carry.state))
        return obj

    def buffers(self) -> dict:
        """The arrays the sampler reads (``BUFFERS``), by attribute name, on the default device: pass them
        into a compiled program as an argument and give them back to the model there with
        :meth:`with_buffers`. Copied to the device once per model: host arrays passed to a compiled program
        are copied at every call (a 2 × 58 MB patch pool made each `sample` call ~55 ms)."""
        cached = vars(self).get("_device_buffers")
        if cached is None:
            cached = jax.device_put({name: getattr(self, name) for name in self.BUFFERS})
            self._set("_device_buffers", cached)
        return cached

    def with_buffers(self, buffers: dict) -> DataModel:
        """This model reading ``buffers`` (e.g. the traced arguments of a compiled program) instead of its
        own; the same model when there are none."""
        if not buffers:
            return self
        obj = copy.copy(self)
        for name, value in buffers.items():
            object.__setattr__(obj, name, value)
        return obj

    @property
    def params(self) -> dict:
        """The continuous parameters (the pytree leaves), by field name."""
        return {name: getattr(self, name) for name in self.PARAMS}

    @property
    def on_host(self) -> bool:
        """True when every parameter is a Python number (hashable; float64 host constants)."""
        return all(is_number(v) for v in jax.tree.leaves(self.params))

    @property
    def xp(self):
        """Array namespace for derived quantities: numpy (float64) on the host, else jax.numpy."""
        return np if self.on_host else jnp

    def _derived(self, name: str, build: Callable):
        """build(xp) once per host model (cached on the instance), or every call when traced."""
        if not self.on_host:
            return build(jnp)
        cache = self.__dict__.setdefault("_derived_cache", {})
        if name not in cache:
            cache[name] = build(np)
        return cache[name]

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

        Pure and deterministic in key; jit-able (num static) and vmap-able over keys and over a stack
        of models (`stack`).
        """
        num = _checks.integer("num", num, minimum=1)
        if self.on_host:
            return _sample_static(self, self.buffers(), key, num)
        leaves = jax.tree.leaves(self.params)
        if any(isinstance(v, jax.core.Tracer) for v in leaves):
            return _body(self, key, num)
        if any(np.ndim(v) > 0 for v in leaves):
            raise ValueError(
                "this model holds a stack of parameters (leading axis); sample it under jax.vmap, "
                "e.g. jax.vmap(lambda m: m.sample(key, num))(stacked)"
            )
        return _sample_pytree(self, self.buffers(), key, num)

    def covariance_check_label(self, label) -> int:
        if label not in (0, 1) or isinstance(label, bool):
            raise ValueError(f"label must be 0 or 1, got {label!r}")
        return int(label)

    def pair_value(self, pair: tuple, label):
        """pair[label] for a Python label, or the traced selection jnp.stack(pair)[label]."""
        if isinstance(label, int):
            return pair[label]
        return jnp.stack([jnp.asarray(v) for v in pair])[label]

    def to_dict(self) -> dict:
        """JSON-ready config: the model's name and every field (stacked parameters become lists)."""
        out = {"model": MODEL_NAMES[type(self)]}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, tuple):
                v = [np.asarray(e).tolist() if not is_number(e) else e for e in v]
            elif not is_number(v) and isinstance(v, (np.ndarray, jax.Array)):
                v = np.asarray(v).tolist()
            out[f.name] = v
        return out


MODEL_NAMES: dict[type, str] = {}


def register(name: str):
    def deco(cls):
        MODEL_NAMES[cls] = name
        return cls

    return deco


# -- stacks of models: one compiled program over many parameter values -----------------------------


def stack(models: Sequence[DataModel]) -> DataModel:
    """One model whose parameter leaves carry a leading axis B = len(models) (float64 numpy).

    All models must share their type and static fields (n, dim, balanced, radial law, ...): then
    ``jax.vmap(f)(stack(models))`` runs f once compiled for all B parameter values.
    """
    models = list(models)
    if not models:
        raise ValueError("models must hold at least one data model")
    first = models[0]
    treedef = jax.tree.structure(first)
    for i, m in enumerate(models[1:], start=1):
        if type(m) is not type(first):
            raise ValueError(f"models[{i}] is a {type(m).__name__}, models[0] a {type(first).__name__}")
        if jax.tree.structure(m) != treedef:
            diff = [
                f"{name}: {a!r} vs {b!r}"
                for name, a, b in zip(first._static_names(), first._aux()[0], m._aux()[0], strict=True)
                if a != b
            ]
            raise ValueError(f"models[{i}] differs from models[0] in static fields ({'; '.join(diff)})")
    columns = zip(*(jax.tree.leaves(m) for m in models), strict=True)
    return jax.tree.unflatten(
        treedef, [np.stack([np.asarray(v, np.float64) for v in col]) for col in columns]
    )


def unstack(stacked: DataModel) -> list[DataModel]:
    """The host models (Python-number parameters) of a stack built by `stack`."""
    leaves, treedef = jax.tree.flatten(stacked)
    sizes = {np.shape(v)[0] if np.ndim(v) else None for v in leaves}
    if len(sizes) != 1 or None in sizes:
        raise ValueError(f"not a stack of models: parameter shapes {[np.shape(v) for v in leaves]}")
    (size,) = sizes
    return [jax.tree.unflatten(treedef, [float(np.asarray(v)[b]) for v in leaves]) for b in range(size)]
