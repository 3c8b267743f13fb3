"""Online SGD on the two-class task (SPEC §2), many runs advancing together in one compiled program.

Every step draws a fresh batch from ``config.data.sample`` and takes one optax SGD step on the batch mean
of (ŷ − y)² (no ½). The whole training is one ``lax.scan`` (a few chunks when a progress bar is shown) that
advances S seeds × H grid settings together inside one jit-compiled call: the data sampler is vmapped over
the S seeds (one batch per seed and step, shared by all settings of that seed) and the R = H·S parameter
updates run as a ``lax.map`` over runs inside each step (why not vmap: see the note above ``_init_runs``).

PRNG: seed → key(seed) → split into (init key, data key); step t (0-based) draws its batch with
fold_in(data key, t). So runs are reproducible bit for bit on CPU, and a run's data do not depend on the
other runs, on the grid, or on how the scan is chunked (progress bar). Runs with the same seed see the same
data stream and start from the same Xavier draw (scaled by each setting's init_scale).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import numbers
import sys
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from rfloc import nn
from rfloc._checks import integer
from rfloc.data import DataModel, from_dict
from rfloc.nn import NetConfig

# Grid fields that are traced (per-run array inputs) inside one compiled call; every other grid field is
# static and settings are grouped by it (one compiled call per distinct static configuration).
TRACED_FIELDS = ("lr", "init_scale", "bias_value")
_TRAIN_GRID_FIELDS = ("lr", "batch_size")
_NET_GRID_FIELDS = ("activation", "bias", "train_bias", "bias_value", "init_scale")
# Fields that change array shapes (or the seed stream) cannot vary inside one result.
_FIXED_FIELDS = ("steps", "eval_every", "seed", "data", "net", "width", "kind", "n", "dim")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """One training run: data model, network, SGD learning rate, batch size, number of SGD steps, the
    recording interval (weights and loss every eval_every steps, incl. step 0) and the seed.

    steps must be a multiple of eval_every, so records fall at 0, eval_every, ..., steps.
    """

    data: DataModel
    net: NetConfig = NetConfig()
    lr: float = 0.05
    batch_size: int = 100
    steps: int = 2000
    eval_every: int = 10
    seed: int = 0

    def __post_init__(self):
        if not isinstance(self.data, DataModel):
            raise ValueError(f"data must be a rfloc.data model, got {type(self.data).__name__}")
        if not isinstance(self.net, NetConfig):
            raise ValueError(f"net must be a rfloc.nn.NetConfig, got {type(self.net).__name__}")
        lr = self.lr
        if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not math.isfinite(lr) or lr <= 0:
            raise ValueError(f"lr must be a finite real number > 0, got {lr!r}")
        object.__setattr__(self, "lr", float(lr))
        object.__setattr__(self, "batch_size", integer("batch_size", self.batch_size, minimum=1))
        object.__setattr__(self, "steps", integer("steps", self.steps, minimum=1))
        object.__setattr__(self, "eval_every", integer("eval_every", self.eval_every, minimum=1))
        object.__setattr__(self, "seed", integer("seed", self.seed, minimum=0))
        if self.seed >= 2**32:
            raise ValueError(f"seed must be < 2**32, got {self.seed}")
        if self.steps % self.eval_every:
            raise ValueError(
                f"eval_every must divide steps (records at 0, eval_every, ..., steps), "
                f"got steps={self.steps}, eval_every={self.eval_every}"
            )

    @property
    def num_records(self) -> int:
        """T = steps // eval_every + 1 (time 0 is the initialization)."""
        return self.steps // self.eval_every + 1

    def to_dict(self) -> dict:
        """JSON-ready: {"data": data.to_dict(), "net": {...}, "lr", "batch_size", ...}."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["data"] = self.data.to_dict()
        out["net"] = self.net.to_dict()
        return out

    @classmethod
    def from_dict(cls, config: Mapping) -> TrainConfig:
        """Inverse of :meth:`to_dict` (data and net given as dicts)."""
        config = dict(config)
        if "data" not in config:
            raise ValueError("config must name a data model under 'data'")
        data = config.pop("data")
        net = config.pop("net", {})
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(config) - known
        if unknown:
            raise ValueError(f"unknown training fields {sorted(unknown)}; allowed: {sorted(known)}")
        data = data if isinstance(data, DataModel) else from_dict(data)
        net = net if isinstance(net, NetConfig) else NetConfig(**net)
        return cls(data=data, net=net, **config)


@dataclasses.dataclass
class TrainResult:
    """Recorded trajectories of H grid settings × S seeds (axis order: setting, seed, time, neuron, input).

    weights (H, S, T, K, N) float32 first-layer weights, time 0 = init; steps (T,) SGD step of each record;
    loss (H, S, T): mean batch loss over the eval_every steps before each record (nan at time 0 and after a
    divergence); diverged (H, S) bool; diverged_step (H, S) the SGD step whose update made the parameters
    non-finite (-1 if none) — a diverged run keeps its last finite parameters from then on;
    final_params: every parameter of the last state, each with leading (H, S) axes.
    """

    weights: np.ndarray
    steps: np.ndarray
    loss: np.ndarray
    diverged: np.ndarray
    diverged_step: np.ndarray
    seeds: tuple[int, ...]
    settings: list[dict]
    config: TrainConfig
    final_params: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    grid: Any = None

    @property
    def init_weights(self) -> np.ndarray:
        """(H, S, K, N) weights at time 0."""
        return self.weights[..., 0, :, :]

    @property
    def final_weights(self) -> np.ndarray:
        """(H, S, K, N) weights at the last record."""
        return self.weights[..., -1, :, :]

    @property
    def time(self) -> np.ndarray:
        """(H, T) theory time lr × steps of each record, per setting."""
        lrs = np.array([s.get("lr", self.config.lr) for s in self.settings], dtype=np.float64)
        return lrs[:, None] * self.steps[None, :]

    def setting_config(self, h: int) -> TrainConfig:
        """The full TrainConfig of grid setting h (seed = config.seed)."""
        return _resolve(self.config, self.settings[h])

    def config_dict(self) -> dict:
        """JSON-ready description: training config, seeds, the grid and its expanded settings."""
        return run_config_dict(self.config, self.seeds, self.grid)


def run_config_dict(config: TrainConfig, seeds: Sequence[int], grid=None) -> dict:
    """What :meth:`TrainResult.config_dict` of ``train_many(config, seeds, grid)`` will be, known before
    training (a cache key)."""
    out = config.to_dict()
    out["seeds"] = [int(s) for s in seeds]
    out["grid"] = _jsonable(grid if grid is None or isinstance(grid, Mapping) else list(grid))
    out["settings"] = _jsonable(expand_grid(grid))
    return out


def _jsonable(obj):
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


# ---- grids -------------------------------------------------------------------------------------------


def expand_grid(grid: Mapping[str, Sequence] | Sequence[Mapping] | None) -> list[dict]:
    """Settings of a grid: a dict of value lists gives their Cartesian product (last key fastest);
    a list of dicts is taken as the explicit settings; None gives one empty setting."""
    if grid is None:
        return [{}]
    if isinstance(grid, Mapping):
        names = list(grid)
        values = []
        for name in names:
            vals = grid[name]
            if isinstance(vals, (str, bytes)) or not isinstance(vals, Sequence | np.ndarray):
                vals = [vals]
            vals = [v.item() if isinstance(v, np.generic) else v for v in vals]
            if not vals:
                raise ValueError(f"grid[{name!r}] must hold at least one value")
            values.append(vals)
        return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values)]
    settings = [dict(s) for s in grid]
    if not settings:
        raise ValueError("grid must hold at least one setting")
    return settings


def _resolve(config: TrainConfig, setting: Mapping) -> TrainConfig:
    """config with the setting's fields replaced (validated by the dataclasses' own checks)."""
    train_kw, net_kw, data_kw = {}, {}, {}
    data_fields = {f.name for f in dataclasses.fields(config.data)}
    for raw_name, value in setting.items():
        name = raw_name.split(".", 1)[-1]
        if name in _FIXED_FIELDS:
            raise ValueError(
                f"grid cannot vary {raw_name!r} (it changes array shapes or the seed stream); "
                "use separate calls (or seeds=... for seeds)"
            )
        if name in _TRAIN_GRID_FIELDS:
            train_kw[name] = value
        elif name in _NET_GRID_FIELDS:
            net_kw[name] = value
        elif name in data_fields:
            data_kw[name] = value
        else:
            allowed = sorted({*_TRAIN_GRID_FIELDS, *_NET_GRID_FIELDS, *data_fields} - set(_FIXED_FIELDS))
            raise ValueError(f"grid field {raw_name!r} is unknown; allowed: {allowed}")
    data = dataclasses.replace(config.data, **data_kw) if data_kw else config.data
    net = dataclasses.replace(config.net, **net_kw) if net_kw else config.net
    return dataclasses.replace(config, data=data, net=net, **train_kw)


@dataclasses.dataclass(frozen=True)
class _Static:
    """What the compiled program is specialized on (hashable); the traced fields are normalized away."""

    data: DataModel
    net: NetConfig
    batch_size: int
    eval_every: int
    data_stream: int = 0

    @classmethod
    def of(cls, config: TrainConfig) -> _Static:
        net = dataclasses.replace(config.net, init_scale=1.0, bias_value=0.0)
        return cls(config.data, net, config.batch_size, config.eval_every)


# ---- the compiled program ------------------------------------------------------------------------------


def _keys(seed):
    init_key, data_key = jax.random.split(jax.random.key(seed))
    return init_key, data_key


def _init_one(static: _Static, seed, init_scale, bias_value):
    init_key, _ = _keys(seed)
    return nn.init_params(static.net, init_key, static.data.n_inputs, init_scale, bias_value)


def _all_finite(tree) -> jax.Array:
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(leaf)) for leaf in jax.tree.leaves(tree)]))


# Runs are laid out flat: run r = (setting h, seed index s), hp leaves (R,), seed_index (R,). Each run's
# arithmetic is done by lax.map over runs with *unbatched* shapes, not by vmap. Measured with jax 0.10 on
# CPU: under vmap a run's weights differed from the same run alone by ~1 ulp after one step, because XLA
# picks its batched-dot and reduce kernels (hence summation orders) from the batch shape, and simplifies
# size-1 batch axes into other fusions (hence other FMA contractions). The lax.map body is one fixed-shape
# program whatever R is (R >= 2: a trip count of 1 would be inlined into a different fusion), which makes
# train_many bit-identical to separate runs; it also keeps BLAS kernels and was faster than the vmapped
# version here. Only the data sampler (row-wise and shape-stable: checked) is vmapped, over the S distinct
# seeds, and its batch is shared by all settings of a seed.


@partial(jax.jit, static_argnums=0)
def _init_runs(static: _Static, seeds, seed_index, hp):
    def one(args):
        seed, init_scale, bias_value = args
        return _init_one(static, seed, init_scale, bias_value)

    params = jax.lax.map(one, (seeds[seed_index], hp["init_scale"], hp["bias_value"]))
    num_runs = seed_index.shape[0]
    return {
        "params": params,
        "diverged": jnp.zeros((num_runs,), bool),
        "diverged_step": jnp.full((num_runs,), -1, jnp.int32),
    }


@partial(jax.jit, static_argnums=(0, 1))
def _advance(static: _Static, num_records: int, seeds, seed_index, hp, state, step0):
    """Advance all runs by num_records × eval_every SGD steps from SGD step step0; returns the new state
    and the records (W (R, T', K, N), mean window loss (R, T'))."""
    data_keys = jax.vmap(lambda s: _keys(s)[1])(seeds)
    if static.data_stream:  # another stream from the same w0 (stream 0 keeps its keys bit for bit)
        data_keys = jax.vmap(lambda k: jax.random.fold_in(k, static.data_stream))(data_keys)
    grad_fn = jax.value_and_grad(partial(nn.mse_loss, static.net))

    def update(params, diverged, div_step, lr, x, y, step):
        loss, grads = grad_fn(params, x, y)
        opt = optax.sgd(lr)
        updates, _ = opt.update(grads, opt.init(params), params)
        new = optax.apply_updates(params, updates)
        bad = ~_all_finite(new)
        div_step = jnp.where(bad & ~diverged, step + 1, div_step)
        diverged = diverged | bad
        # A diverged run freezes at its last finite parameters; the others are untouched (exact select).
        params = jax.tree.map(lambda n, o: jnp.where(diverged, o, n), new, params)
        return params, diverged, div_step, jnp.where(diverged, jnp.nan, loss)

    def sgd_step(carry, step):
        params, diverged, div_step = carry
        sample = lambda key: static.data.sample(jax.random.fold_in(key, step), static.batch_size)  # noqa: E731
        x, y = jax.vmap(sample)(data_keys)  # (S, B, N), (S, B): one fresh batch per seed
        y = y.astype(jnp.float32)

        def one(args):
            p, d, ds, lr, s = args
            return update(p, d, ds, lr, x[s], y[s], step)

        params, diverged, div_step, loss = jax.lax.map(
            one, (params, diverged, div_step, hp["lr"], seed_index)
        )
        return (params, diverged, div_step), loss

    def window(carry, start):
        steps = start + jnp.arange(static.eval_every, dtype=jnp.int32)
        carry, losses = jax.lax.scan(sgd_step, carry, steps)
        return carry, (carry[0]["W"], jnp.mean(losses, axis=0))

    starts = step0 + static.eval_every * jnp.arange(num_records, dtype=jnp.int32)
    carry = (state["params"], state["diverged"], state["diverged_step"])
    (params, diverged, div_step), (w, loss) = jax.lax.scan(window, carry, starts)
    state = {"params": params, "diverged": diverged, "diverged_step": div_step}
    return state, (jnp.moveaxis(w, 0, 1), jnp.moveaxis(loss, 0, 1))


def _use_progress(progress: bool | None) -> bool:
    if progress is None:
        return sys.stderr.isatty()
    return bool(progress)


def _run_group(static: _Static, steps: int, seeds, seed_index, hp, state, bar) -> tuple:
    """Run one compiled group to the end; records chunked (for the progress bar) or in one scan."""
    total = steps // static.eval_every
    chunk = total if bar is None else max(1, math.ceil(total / 20))
    done, weights, losses = 0, [], []
    while done < total:
        size = min(chunk, total - done)
        state, (w, loss) = _advance(
            static, size, seeds, seed_index, hp, state, jnp.int32(done * static.eval_every)
        )
        weights.append(w)
        losses.append(loss)
        done += size
        if bar is not None:
            jax.block_until_ready(w)
            bar.update(size * static.eval_every)
    return state, weights, losses


def train_many(
    config: TrainConfig,
    seeds: Sequence[int] | int | None = None,
    grid: Mapping[str, Sequence] | Sequence[Mapping] | None = None,
    progress: bool | None = None,
    data_stream: int = 0,
) -> TrainResult:
    """S seeds × H grid settings of ``config``, advanced together; weights come back as (H, S, T, K, N).

    seeds: a list of seeds, or an int S for config.seed, ..., config.seed + S − 1 (default: config.seed).
    grid: {field: values} (Cartesian product, last key fastest) or an explicit list of {field: value}
    settings. Fields: lr, init_scale, bias_value — traced (per-run array inputs), so all settings that
    differ only in them share one compiled call; batch_size, activation, bias, train_bias and any
    data-model field (gain, k, xi, J, class_proportion, ...) — static: data models are hashable
    dataclasses whose parameters (and precomputed kernel roots, quadrature constants such as s_k) are
    baked into their samplers, so settings are grouped by their static part, one compiled call per group,
    each over all of its traced settings × seeds. steps, eval_every, width, kind, n, dim cannot vary.

    A run's result does not depend on which other runs share its call (bit-identical to a separate run on
    CPU; tested): every run's update is the same fixed-shape program inside a lax.map over runs.
    progress: tqdm bar on stderr (None: only when stderr is a TTY); it splits the scan into ~20 chunks.
    data_stream: 0 (default) draws each seed's own data; k > 0 draws an independent stream,
    fold_in(data key, k), from the same initial weights (an SGD-against-SGD control). Not recorded in
    the result's config: the caller keeps it.
    """
    if seeds is None:
        seeds = [config.seed]
    elif isinstance(seeds, numbers.Integral) and not isinstance(seeds, bool):
        seeds = list(range(config.seed, config.seed + integer("seeds", seeds, minimum=1)))
    seeds = tuple(integer("seed", s, minimum=0) for s in seeds)
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    if max(seeds) >= 2**32:
        raise ValueError(f"seeds must be < 2**32, got {max(seeds)}")
    data_stream = integer("data_stream", data_stream, minimum=0)
    settings = expand_grid(grid)
    configs = [_resolve(config, s) for s in settings]  # validates every setting before any compute

    groups: dict[_Static, list[int]] = {}
    for h, cfg in enumerate(configs):
        groups.setdefault(dataclasses.replace(_Static.of(cfg), data_stream=data_stream), []).append(h)

    num_h, num_s, num_t = len(settings), len(seeds), config.num_records
    k, n = config.net.width, config.data.n_inputs
    weights = np.empty((num_h, num_s, num_t, k, n), np.float32)
    loss = np.empty((num_h, num_s, num_t), np.float32)
    diverged = np.empty((num_h, num_s), bool)
    diverged_step = np.empty((num_h, num_s), np.int64)
    final_params: dict[str, np.ndarray] = {}
    seed_arr = jnp.asarray(np.array(seeds, dtype=np.uint32))

    bar = None
    if _use_progress(progress):
        from tqdm.auto import tqdm

        bar = tqdm(total=config.steps * len(groups), desc="SGD steps", unit="step", file=sys.stderr)
    try:
        for static, idx in groups.items():
            # flat runs r = (h, s), setting-major; a lone run is doubled (see the note above _init_runs)
            runs = [(h, s) for h in idx for s in range(num_s)]
            runs += runs[:1] * (len(runs) < 2)
            seed_index = jnp.asarray([s for _, s in runs], jnp.int32)
            hp = {
                "lr": jnp.asarray([configs[h].lr for h, _ in runs], jnp.float32),
                "init_scale": jnp.asarray([configs[h].net.init_scale for h, _ in runs], jnp.float32),
                "bias_value": jnp.asarray([configs[h].net.bias_value for h, _ in runs], jnp.float32),
            }
            init_state = _init_runs(static, seed_arr, seed_index, hp)
            state, ws, ls = _run_group(static, config.steps, seed_arr, seed_index, hp, init_state, bar)
            shape = (len(idx), num_s)

            def take(a, shape=shape):  # drop the padding copy, unflatten (R, ...) -> (H_g, S, ...)
                a = np.asarray(a)
                return a[: shape[0] * shape[1]].reshape(*shape, *a.shape[1:])

            weights[idx, :, 0] = take(init_state["params"]["W"])
            weights[idx, :, 1:] = take(np.concatenate([np.asarray(w) for w in ws], axis=1))
            loss[idx, :, 0] = np.nan
            loss[idx, :, 1:] = take(np.concatenate([np.asarray(v) for v in ls], axis=1))
            diverged[idx] = take(state["diverged"])
            diverged_step[idx] = take(state["diverged_step"])
            for name, value in state["params"].items():
                value = take(value)
                if name not in final_params:
                    final_params[name] = np.empty((num_h, num_s, *value.shape[2:]), value.dtype)
                final_params[name][idx] = value
    finally:
        if bar is not None:
            bar.close()

    return TrainResult(
        weights=weights,
        steps=np.arange(num_t, dtype=np.int64) * config.eval_every,
        loss=loss,
        diverged=diverged,
        diverged_step=diverged_step,
        seeds=seeds,
        settings=settings,
        config=config,
        final_params=final_params,
        grid=grid if grid is None or isinstance(grid, Mapping) else list(grid),
    )


def train(config: TrainConfig, progress: bool | None = None) -> TrainResult:
    """One run of ``config`` (seed config.seed); arrays keep their (H, S) = (1, 1) leading axes.

    Runs the same compiled program as :func:`train_many`, so it equals the matching run of any batch.
    """
    return train_many(config, seeds=[config.seed], grid=None, progress=progress)
