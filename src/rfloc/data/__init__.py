"""Two-class data models on a ring (or torus): Gaussian GP, NLGP(g), Kur(k), Ising, elliptical,
and natural-image patches.

Every model is a frozen dataclass with ``sample(key, num) -> (x, y)``, ``class_covariance(label)``
and ``marginal``; see ``../shared/SPEC.md`` §1 for the laws. Models are JAX pytrees (shape fields
static, continuous parameters leaves): ``jax.vmap(f)(stack(models))`` compiles f once for a whole
sweep over ξ, gain, k, J, ν or P(y = 1); see `rfloc.data.base`.
"""

from rfloc.data.base import MODEL_NAMES, DataModel, sample_labels, stack, unstack
from rfloc.data.elliptical import Elliptical
from rfloc.data.gaussian import NLGP, GaussianGP, Kur
from rfloc.data.images import ImagePatches, NaturalImages
from rfloc.data.ising import Ising
from rfloc.data.marginals import Marginal
from rfloc.data.ring import ring_distance, ring_kernel

MODELS: dict[str, type[DataModel]] = {name: cls for cls, name in MODEL_NAMES.items()}


def from_dict(config: dict) -> DataModel:
    """Rebuild a model from ``DataModel.to_dict()`` output."""
    config = dict(config)
    name = config.pop("model", None)
    if name not in MODELS:
        raise ValueError(f"model must be one of {sorted(MODELS)}, got {name!r}")
    return MODELS[name](**config)


__all__ = [
    "NLGP",
    "MODELS",
    "DataModel",
    "Elliptical",
    "GaussianGP",
    "Ising",
    "Kur",
    "ImagePatches",
    "Marginal",
    "NaturalImages",
    "from_dict",
    "ring_distance",
    "ring_kernel",
    "sample_labels",
    "stack",
    "unstack",
]
