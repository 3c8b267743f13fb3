"""Which PRNG implementation rfloc's samplers use, per device, chosen by measurement.

JAX offers ``threefry2x32`` (the default: counter-based, splittable, identical streams on every
backend), ``rbg`` and ``unsafe_rbg`` (XLA's RngBitGenerator; streams differ across backends and
``unsafe_rbg`` has weaker split/fold_in guarantees). The samplers use whatever key they are given; this
module records the measured choice. Warm samples/s on this project's 2-core CPU, shared with other
jobs (load 11-17 during every run, so absolute numbers are 2-5× below an idle machine; compare rows),
N = 40, 10⁴ samples per call, best of 30 (prototype script) or of 3 (`rfloc bench data --quick`):

    PRNG            raw uint32 words   Ising (new)   Ising (old float scan)   NLGP(g=3)   Kur(k=5)
    threefry2x32    1.3e8 /s           2.0e6-2.7e6   1.0e6-1.6e6              2.7e5       1.0e5
    rbg             5.6e6 /s           1.6e5-2.0e5   1.3e5                    4.7e4       7.9e4
    unsafe_rbg      7.8e6 /s           1.4e5-2.7e5   1.1e5                    4.2e4       6.7e4

On this CPU threefry2x32 is 5-20× faster than the RBG variants (XLA's CPU RngBitGenerator is slow), so
the default stays threefry2x32 there. No GPU was available to measure; JAX's default is kept there too
until ``rfloc bench data`` says otherwise on that device.
"""

from __future__ import annotations

import jax

IMPLS = ("threefry2x32", "rbg", "unsafe_rbg")

# platform -> implementation; platforms not listed use JAX's default.
CHOICE = {"cpu": "threefry2x32"}


def impl_for(platform: str | None = None) -> str:
    """The PRNG implementation rfloc uses on a platform ("cpu", "gpu", "tpu"; default: JAX's backend)."""
    platform = platform or jax.default_backend()
    return CHOICE.get(platform, jax.config.jax_default_prng_impl)


def key(seed: int, platform: str | None = None) -> jax.Array:
    """A typed PRNG key of the implementation chosen for the platform."""
    return jax.random.key(seed, impl=impl_for(platform))
