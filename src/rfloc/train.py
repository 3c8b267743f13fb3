"""Online SGD on the two-class task (SPEC §2), many runs advancing together in one compiled program.

Every step draws a fresh batch from ``config.data.sample`` and takes one optax step (plain SGD by default;
momentum SGD or Adam as ``config.optimizer``, their state carried through the scan) on the batch mean of
(ŷ − y)² (no ½). The whole training is one ``lax.scan`` (a few chunks when a progress bar is shown) that
advances S seeds × H grid settings together inside one jit-compiled call. Data-model parameters (ξ, gain, k,
J, P(y = 1)) are traced inputs like the learning rate, so a sweep over them shares that call: each step draws
one batch per (data setting, seed), shared by all settings with those data parameters and seed, and the
R = H·S parameter updates run either as a ``lax.map`` over runs (``vectorize="map"``, the default:
bit-identical to separate runs on CPU) or batched by ``vmap`` (``vectorize="vmap"``: for GPUs and large
sweeps); see :func:`train_many` for the trade-off. Results come back as :class:`TrainResult`, labelled by
:meth:`TrainResult.to_xarray` (dims setting, seed, time, neuron, input).

PRNG: seed → key(seed) → split into (init key, data key); step t (0-based) draws its batch with
fold_in(data key, t). So runs are reproducible bit for bit on CPU, and a run's data do not depend on the
other runs, on the grid, or on how the scan is chunked (progress bar). Runs with the same seed see the same
data stream and start from the same Xavier draw (scaled by each setting's init_scale).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import itertools
import math
import numbers
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
import optax
import xarray as xr

from rfloc import __version__, _checks, nn
from rfloc.data import DataModel, from_dict
from rfloc.nn import NetConfig
from rfloc.store import canonical_json

# Grid fields that are traced (per-run array inputs) inside one compiled call, besides the data model's
# continuous parameters (its pytree leaves, ``DataModel.PARAMS``); every other grid field is static and
# settings are grouped by it (one compiled call per distinct static configuration).
TRACED_FIELDS = ("lr", "init_scale", "bias_value")
_TRAIN_GRID_FIELDS = ("lr", "batch_size", "momentum")
OPTIMIZERS = ("sgd", "adam")
LAYOUTS = ("map", "vmap")  # the values of train_many(vectorize=)
DIMS = ("setting", "seed", "time", "neuron", "input")
_NET_GRID_FIELDS = ("activation", "bias", "train_bias", "bias_value", "init_scale")
# Fields that change array shapes (or the seed stream) cannot vary inside one result.
FIXED_FIELDS = ("steps", "eval_every", "seed", "data", "net", "width", "kind", "n", "dim", "optimizer")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """One training run: data model, network, learning rate, batch size, number of steps, the recording
    interval (weights and loss every eval_every steps, incl. step 0), the seed and the optimizer.

    steps must be a multiple of eval_every, so records fall at 0, eval_every, ..., steps.
    optimizer: "sgd" (w ← w − lr·g; with momentum μ > 0 the heavy ball v ← g + μv, w ← w − lr·v, optax's
    trace) or "adam" (optax defaults b1 = 0.9, b2 = 0.999, eps = 1e-8; momentum must stay 0).
    """

    data: DataModel
    """the two-class data model (SPEC §1)"""
    net: NetConfig = NetConfig()
    """the network (SPEC §2)"""
    lr: float = 0.05
    """learning rate"""
    batch_size: int = 100
    """fresh samples per step"""
    steps: int = 2000
    """optimizer steps"""
    eval_every: int = 10
    """record weights and loss every this many steps (must divide steps)"""
    seed: int = 0
    """first seed"""
    optimizer: Literal["sgd", "adam"] = "sgd"
    """optax optimizer: sgd (the paper's) or adam"""
    momentum: float = 0.0
    """heavy-ball momentum of sgd, in [0, 1)"""

    def __post_init__(self):
        _checks.instance("data", self.data, DataModel, "a rfloc.data model")
        _checks.instance("net", self.net, NetConfig, "a rfloc.nn.NetConfig")
        object.__setattr__(self, "lr", _checks.real("lr", self.lr, low=0.0, low_open=True))
        object.__setattr__(self, "batch_size", _checks.integer("batch_size", self.batch_size, minimum=1))
        object.__setattr__(self, "steps", _checks.integer("steps", self.steps, minimum=1))
        object.__setattr__(self, "eval_every", _checks.integer("eval_every", self.eval_every, minimum=1))
        object.__setattr__(self, "seed", _checks.integer("seed", self.seed, minimum=0, maximum=2**32 - 1))
        _checks.choice("optimizer", self.optimizer, OPTIMIZERS)
        momentum = _checks.real("momentum", self.momentum, low=0.0, high=1.0, high_open=True)
        object.__setattr__(self, "momentum", momentum)
        if self.optimizer != "sgd" and momentum:
            raise ValueError(
                f"momentum applies to optimizer='sgd' only, got {momentum} with {self.optimizer!r}"
            )
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

    def to_xarray(self) -> xr.Dataset:
        """The labelled form of this result (the schema every rfloc result file shares).

        Data: weights (setting, seed, time, neuron, input), loss (setting, seed, time), diverged and
        diverged_step (setting, seed). Coords: seed values; "setting" labels ("lr=0.05,gain=3", or "default");
        one coordinate per grid field along "setting" (float, nan where a setting lacks it; JSON text for
        non-numeric values); "step" (SGD step of each record) along "time"; "theory_time" = lr × step
        (setting, time). Attrs: config (canonical JSON of :meth:`config_dict`), rfloc_version, created (UTC).
        Metrics (IPR, peaks) are not included: compute them from "weights" with :mod:`rfloc.metrics`.
        """
        weights = np.asarray(self.weights)
        if weights.ndim != 5:
            raise ValueError(f"weights must be (setting, seed, time, neuron, input), got {weights.shape}")
        h, s, t, _, _ = weights.shape
        steps = np.asarray(self.steps)
        seeds = np.asarray(self.seeds, dtype=np.int64)
        settings = list(self.settings) if self.settings else [{}]
        if steps.shape != (t,) or seeds.shape != (s,) or len(settings) != h:
            raise ValueError(
                f"result is inconsistent: weights {weights.shape}, steps {steps.shape}, "
                f"{seeds.size} seeds, {len(settings)} settings"
            )
        coords = {
            "setting": [_setting_label(st) for st in settings],
            "seed": seeds,
            "step": ("time", steps.astype(np.int64)),
            "theory_time": (("setting", "time"), np.asarray(self.time, dtype=np.float64)),
        }
        for name in dict.fromkeys(k for st in settings for k in st):
            coords[name] = ("setting", _grid_coordinate([st.get(name) for st in settings]))
        ds = xr.Dataset(
            {
                "weights": (DIMS, weights),
                "loss": (DIMS[:3], np.asarray(self.loss)),
                "diverged": (DIMS[:2], np.asarray(self.diverged, dtype=bool)),
                "diverged_step": (DIMS[:2], np.asarray(self.diverged_step, dtype=np.int64)),
            },
            coords=coords,
            attrs={
                "config": canonical_json(self.config_dict()),
                "rfloc_version": __version__,
                "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            },
        )
        ds["weights"].attrs["long_name"] = "first-layer weights (receptive fields)"
        ds["loss"].attrs["long_name"] = "mean batch loss over the eval_every steps before each record"
        ds["diverged_step"].attrs["long_name"] = (
            "SGD step whose update made the parameters non-finite (-1: none)"
        )
        return ds


def _setting_label(setting: Mapping[str, Any]) -> str:
    # str(float) is the shortest round-trip repr, so distinct settings keep distinct labels (a unique index).
    return ",".join(f"{k}={v}" for k, v in setting.items()) or "default"


def _grid_coordinate(values: list) -> np.ndarray:
    """Numeric grid values as float64 (nan where a setting lacks the field), anything else (tuples, names)
    as its JSON text, so every coordinate is a plain netCDF array."""
    if all(v is None or (isinstance(v, numbers.Real) and not isinstance(v, bool)) for v in values):
        return np.asarray([np.nan if v is None else v for v in values], dtype=np.float64)
    return np.asarray(["" if v is None else v if isinstance(v, str) else canonical_json(v) for v in values])


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
        if name in FIXED_FIELDS:
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
            allowed = sorted({*_TRAIN_GRID_FIELDS, *_NET_GRID_FIELDS, *data_fields} - set(FIXED_FIELDS))
            raise ValueError(f"grid field {raw_name!r} is unknown; allowed: {allowed}")
    data = dataclasses.replace(config.data, **data_kw) if data_kw else config.data
    net = dataclasses.replace(config.net, **net_kw) if net_kw else config.net
    return dataclasses.replace(config, data=data, net=net, **train_kw)


@dataclasses.dataclass(frozen=True)
class _Static:
    """What the compiled program is specialized on (hashable); the traced fields are normalized away.

    data is the data model's pytree structure (its type and static fields; parameters are leaves)."""

    data: Any
    n_inputs: int
    net: NetConfig
    batch_size: int
    eval_every: int
    optimizer: str
    momentum: float
    vectorize: str

    @classmethod
    def of(cls, config: TrainConfig, vectorize: str = "map") -> _Static:
        net = dataclasses.replace(config.net, init_scale=1.0, bias_value=0.0)
        return cls(
            jax.tree.structure(config.data),
            config.data.n_inputs,
            net,
            config.batch_size,
            config.eval_every,
            config.optimizer,
            config.momentum,
            vectorize,
        )

    def optimizer_for(self, lr) -> optax.GradientTransformation:
        """The optax transformation at learning rate lr (may be traced). Its state never depends on lr
        (the rate enters only through the stateless final scaling), so one init serves every lr."""
        if self.optimizer == "adam":
            return optax.adam(lr)
        return optax.sgd(lr, momentum=self.momentum or None)

    def for_init(self) -> _Static:
        """The fields the initial state depends on (net, inputs, optimizer, layout): runs that differ only
        in their data model or batch share one compiled :func:`_init_runs`."""
        return dataclasses.replace(self, data=None, batch_size=0, eval_every=0)


# ---- the compiled program ------------------------------------------------------------------------------


def _keys(seed):
    init_key, data_key = jax.random.split(jax.random.key(seed))
    return init_key, data_key


def _init_one(static: _Static, seed, init_scale, bias_value):
    init_key, _ = _keys(seed)
    return nn.init_params(static.net, init_key, static.n_inputs, init_scale, bias_value)


def _all_finite(tree) -> jax.Array:
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(leaf)) for leaf in jax.tree.leaves(tree)]))


# Runs are laid out flat: run r = (setting h, seed index s), hp leaves (R,), seed_index (R,).
# vectorize="map": each run's arithmetic is done by lax.map over runs with *unbatched* shapes. Measured with
# jax 0.10 on CPU: under vmap a run's weights differed from the same run alone by ~1 ulp after one step,
# because XLA picks its batched-dot and reduce kernels (hence summation orders) from the batch shape, and
# simplifies size-1 batch axes into other fusions (hence other FMA contractions). The lax.map body is one
# fixed-shape program whatever R is (R >= 2: a trip count of 1 would be inlined into a different fusion),
# which makes train_many bit-identical to separate runs; it also keeps BLAS kernels and was faster than the
# vmapped version on this CPU. vectorize="vmap" batches the runs instead (one wide kernel per step: what a
# GPU wants). The data sampler draws one batch per (data setting, seed) pair: "vmap" batches the pairs;
# "map" loops over them with a fori_loop whose trip count is a traced argument: XLA cannot see it, so one
# pair compiles the same unbatched loop body as 80 pairs (a static trip count of 1 would be inlined into
# other fusions; vmapping the sampler over seeds, with traced constants, gave other bits for 1 seed than
# for 2) and nothing is sampled twice; the pair and data-setting axes are padded to 2 rows for the same
# reason (a size-1 dynamic index is simplified away). The data
# parameters are always traced, also for a single setting, so a run does not depend on its grid; their
# derived constants (kernel roots, Z(g), s_k, Ising thresholds) are then float32 jnp values computed in
# the program, not float64 host constants rounded to float32 (the two agree to float32 round-off).


def _over_runs(static: _Static, fn, args):
    """fn applied to every run of the flat run axis (leading axis of each leaf of args)."""
    if static.vectorize == "vmap":
        return jax.vmap(fn)(args)
    return jax.lax.map(fn, args)


@partial(jax.jit, static_argnums=0)
def _init_runs(static: _Static, seeds, seed_index, hp):
    def one(args):
        seed, init_scale, bias_value = args
        params = _init_one(static, seed, init_scale, bias_value)
        return params, static.optimizer_for(1.0).init(params)

    params, opt_state = _over_runs(static, one, (seeds[seed_index], hp["init_scale"], hp["bias_value"]))
    num_runs = seed_index.shape[0]
    return {
        "params": params,
        "opt_state": opt_state,
        "diverged": jnp.zeros((num_runs,), bool),
        "diverged_step": jnp.full((num_runs,), -1, jnp.int32),
    }


# Padding unit of the run and seed axes of _init_runs.
_INIT_ROWS = 32


def _init_state(static: _Static, seeds: np.ndarray, seed_index: np.ndarray, hp: dict) -> dict:
    """_init_runs with its seed and run axes padded to a multiple of _INIT_ROWS rows (copies of row 0,
    dropped after). A run's initial state depends only on its own seed and scales, so every group of up to
    32 runs of one net and layout shares one compiled program (the quick reproduction compiled three for
    its single-neuron groups of 1, 4 and 16 runs)."""

    def pad(a):
        extra = -a.shape[0] % _INIT_ROWS
        return np.concatenate([a, np.repeat(a[:1], extra, axis=0)])

    state = _init_runs(static, pad(seeds), pad(seed_index), {k: pad(v) for k, v in hp.items()})
    num, device = seed_index.shape[0], jax.devices()[0]
    # sliced on the host (a device slice compiles a program per shape), put back committed to the device
    # like _advance's outputs, so the first chunk's call matches the later ones (no second program)
    return jax.tree.map(lambda a: jax.device_put(np.asarray(a)[:num], device), state)


def _sample_all(static: _Static, data_leaves, pairs, num_pairs, stream, buffers, step):
    """x (P, B, N) float32 and y (P, B): step's batch for each (data setting, seed) pair p.

    data_leaves: the data settings' parameter leaves, each with a leading axis; pairs: (seed (P,) uint32,
    data setting (P,) int32) of each pair; num_pairs: how many pairs to sample (traced, ≤ P); stream: the
    data stream (traced int32, see train_many's data_stream); buffers: the data model's host arrays
    (DataModel.buffers, the same for every setting of a group), arguments rather than embedded constants.
    """

    def one(seed, d):
        model = jax.tree.unflatten(static.data, [leaf[d] for leaf in data_leaves]).with_buffers(buffers)
        # Stream k > 0 folds k into the seed's data key; stream 0 keeps it bit for bit. Traced, so the
        # SGD-vs-SGD control (stream 1) reuses the compiled program of stream 0.
        # (A select of the raw key bits, not a lax.cond: no control flow inside the step.)
        own = _keys(seed)[1]
        bits = jnp.where(
            stream > 0, jax.random.key_data(jax.random.fold_in(own, stream)), jax.random.key_data(own)
        )
        data_key = jax.random.wrap_key_data(bits, impl=jax.random.key_impl(own))
        key = jax.random.fold_in(data_key, step)
        return model.sample(key, static.batch_size)

    if static.vectorize == "vmap":
        return jax.vmap(one)(*pairs)
    num = pairs[0].shape[0]
    out = (
        jnp.zeros((num, static.batch_size, static.n_inputs), jnp.float32),
        jnp.zeros((num, static.batch_size), jnp.int32),
    )

    def body(p, out):
        x, y = one(pairs[0][p], pairs[1][p])
        return out[0].at[p].set(x), out[1].at[p].set(y)

    return jax.lax.fori_loop(0, num_pairs, body, out)


@partial(jax.jit, static_argnums=(0, 1))
def _advance(static: _Static, num_records: int, hp, data, state, step0):
    """Advance all runs by num_records × eval_every steps from step step0; returns the new state and the
    records (W (R, T', K, N), mean window loss (R, T')). data: (data leaves, pairs, number of pairs, stream,
    buffers) as :func:`_sample_all` takes them; hp["pair"] (R,) names each run's (data setting, seed) pair."""

    grad_fn = jax.value_and_grad(partial(nn.mse_loss, static.net))

    def update(run, lr, x, y, step):
        params, opt_state, diverged, div_step = run
        loss, grads = grad_fn(params, x, y)
        updates, new_opt_state = static.optimizer_for(lr).update(grads, opt_state, params)
        new = optax.apply_updates(params, updates)
        bad = ~_all_finite(new)
        div_step = jnp.where(bad & ~diverged, step + 1, div_step)
        diverged = diverged | bad
        # A diverged run freezes at its last finite parameters (and optimizer state); the others are
        # untouched (exact select).
        keep = partial(jax.tree.map, lambda n, o: jnp.where(diverged, o, n))
        run = (keep(new, params), keep(new_opt_state, opt_state), diverged, div_step)
        return run, jnp.where(diverged, jnp.nan, loss)

    def sgd_step(runs, step):
        x, y = _sample_all(static, *data, step)  # (P, B, N), (P, B): one fresh batch per pair
        y = y.astype(jnp.float32)

        def one(args):
            run, lr, p = args
            return update(run, lr, x[p], y[p], step)

        return _over_runs(static, one, (runs, hp["lr"], hp["pair"]))

    def window(runs, start):
        steps = start + jnp.arange(static.eval_every, dtype=jnp.int32)
        runs, losses = jax.lax.scan(sgd_step, runs, steps)
        return runs, (runs[0]["W"], jnp.mean(losses, axis=0))

    starts = step0 + static.eval_every * jnp.arange(num_records, dtype=jnp.int32)
    runs = (state["params"], state["opt_state"], state["diverged"], state["diverged_step"])
    (params, opt_state, diverged, div_step), (w, loss) = jax.lax.scan(window, runs, starts)
    state = {"params": params, "opt_state": opt_state, "diverged": diverged, "diverged_step": div_step}
    return state, (jnp.moveaxis(w, 0, 1), jnp.moveaxis(loss, 0, 1))


def _equal_chunk(total: int, most: int) -> int:
    """The largest divisor of total that is at most ``most`` (≥ 1)."""
    return max(d for d in range(1, max(1, most) + 1) if total % d == 0)


def _run_group(static: _Static, steps: int, hp, data, state, bar) -> tuple:
    """Run one compiled group to the end; records chunked (for the progress bar) or in one scan."""
    total = steps // static.eval_every
    # ~20 equal chunks: the chunk's record count is static, so equal chunks compile one program, where a
    # shorter last chunk would compile a second one (~2 s each on 2 cores).
    chunk = total if bar.disable else _equal_chunk(total, math.ceil(total / 20))
    weights, losses = [], []
    for done in range(0, total, chunk):
        state, (w, loss) = _advance(static, chunk, hp, data, state, np.int32(done * static.eval_every))
        weights.append(w)
        losses.append(loss)
        if not bar.disable:
            jax.block_until_ready(w)
            bar.update(chunk * static.eval_every)
    return state, weights, losses


def train_many(
    config: TrainConfig,
    seeds: Sequence[int] | int | None = None,
    grid: Mapping[str, Sequence] | Sequence[Mapping] | None = None,
    progress: bool | None = None,
    vectorize: str = "map",
    data_stream: int = 0,
) -> TrainResult:
    """S seeds × H grid settings of ``config``, advanced together; weights come back as (H, S, T, K, N).

    seeds: a list of seeds, or an int S for config.seed, ..., config.seed + S − 1 (default: config.seed).
    grid: {field: values} (Cartesian product, last key fastest) or an explicit list of {field: value}
    settings. A field is named bare ("gain") or by its section ("data.gain", "net.init_scale", "train.lr").
    Traced fields (per-run array inputs; settings that differ only in them share one compiled call): lr,
    init_scale, bias_value and the data model's continuous parameters (its pytree leaves: xi, gain, k, J,
    class_proportion, ...; their derived constants are computed in float32 inside the program). Static
    fields: batch_size, momentum, activation, bias, train_bias and the data model's other fields (balanced,
    radial law, ...): settings are grouped by their static part (incl. ``jax.tree.structure(data)``), one
    compiled call per group, each over all of its traced settings × seeds. steps, eval_every, width, kind,
    n, dim, optimizer cannot vary.

    vectorize: how the R = H·S runs share a step.
      "map"  (default) lax.map over runs: every run's update is the same fixed-shape program, so a run's
             result does not depend on which other runs share its call — bit-identical to a separate run on
             CPU (tested). Runs are executed one after another inside each step: on a CPU that costs
             nothing (BLAS kernels stay busy; it was the faster layout here), on a GPU it leaves most of the
             device idle.
      "vmap" the runs are batched into one wide kernel per step: the layout a GPU (or a large sweep of
             small runs) wants. XLA picks batched kernels and fusions from the batch shape, so results
             agree with "map" to float32 round-off (~1 ulp per step), not bit for bit, and change with R.
    ``rfloc bench train`` measures both on the machine at hand.
    progress: tqdm.auto bar over SGD steps (None: tqdm decides — shown on a terminal and in notebooks,
    hidden when stderr is redirected); a shown bar splits the scan into ~20 chunks (same results).
    data_stream: 0 (default) draws each seed's own data; k > 0 draws an independent stream,
    fold_in(data key, k), from the same initial weights (an SGD-against-SGD control). Not recorded in
    the result's config: the caller keeps it.
    """
    seeds = (config.seed,) if seeds is None else _checks.seeds(seeds, first=config.seed)
    _checks.choice("vectorize", vectorize, LAYOUTS)
    data_stream = _checks.integer("data_stream", data_stream, minimum=0)
    settings = expand_grid(grid)
    configs = [_resolve(config, s) for s in settings]  # validates every setting before any compute

    groups: dict[_Static, list[int]] = {}
    for h, cfg in enumerate(configs):
        groups.setdefault(_Static.of(cfg, vectorize), []).append(h)

    num_h, num_s, num_t = len(settings), len(seeds), config.num_records
    k, n = config.net.width, config.data.n_inputs
    weights = np.empty((num_h, num_s, num_t, k, n), np.float32)
    loss = np.empty((num_h, num_s, num_t), np.float32)
    diverged = np.empty((num_h, num_s), bool)
    diverged_step = np.empty((num_h, num_s), np.int64)
    final_params: dict[str, np.ndarray] = {}
    seed_arr = np.array(seeds, dtype=np.uint32)

    from tqdm.auto import tqdm

    disable = None if progress is None else not progress
    with tqdm(total=config.steps * len(groups), desc="SGD steps", unit="step", disable=disable) as bar:
        for static, idx in groups.items():
            # flat runs r = (h, s), setting-major; for "map" a lone run is doubled (see the note above
            # _over_runs)
            runs = [(h, s) for h in idx for s in range(num_s)]
            if vectorize == "map":
                runs += runs[:1] * (len(runs) < 2)
            seed_index = np.asarray([s for _, s in runs], np.int32)
            # distinct data settings of the group (their leaves); pairs p = (data setting, seed) each draw
            # one batch per step, shared by the runs with that data setting and seed
            data_ids: dict[tuple, int] = {}
            for h in idx:
                data_ids.setdefault(tuple(jax.tree.leaves(configs[h].data)), len(data_ids))
            pairs = [(d, s) for d in range(len(data_ids)) for s in range(num_s)]
            pair_of = {pair: p for p, pair in enumerate(pairs)}
            # "map": at least 2 rows per axis (see the note above _over_runs: a size-1 axis would be
            # simplified away); only the first len(pairs) pairs are sampled
            rows = list(data_ids) + list(data_ids)[:1] * (len(data_ids) < 2)
            pairs += pairs[:1] * (vectorize == "map" and len(pairs) < 2)
            data = (
                [(np.array(col, np.float32)) for col in zip(*rows, strict=True)],
                (
                    (np.array([seeds[s] for _, s in pairs], np.uint32)),
                    np.asarray([d for d, _ in pairs], np.int32),
                ),
                np.int32(len(pair_of)),
                np.int32(data_stream),
                configs[idx[0]].data.buffers(),  # on the device; equal static fields: equal buffers
            )
            hp = {
                "pair": np.asarray(
                    [pair_of[data_ids[tuple(jax.tree.leaves(configs[h].data))], s] for h, s in runs],
                    np.int32,
                ),
                "lr": np.asarray([configs[h].lr for h, _ in runs], np.float32),
                "init_scale": np.asarray([configs[h].net.init_scale for h, _ in runs], np.float32),
                "bias_value": np.asarray([configs[h].net.bias_value for h, _ in runs], np.float32),
            }
            init_state = _init_state(static.for_init(), seed_arr, seed_index, hp)
            state, ws, ls = _run_group(static, config.steps, hp, data, init_state, bar)
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


def train(config: TrainConfig, progress: bool | None = None, vectorize: str = "map") -> TrainResult:
    """One run of ``config`` (seed config.seed); arrays keep their (H, S) = (1, 1) leading axes.

    Runs the same compiled program as :func:`train_many`, so it equals the matching run of any batch.
    """
    return train_many(config, seeds=[config.seed], grid=None, progress=progress, vectorize=vectorize)


def read_toml(path) -> tuple[TrainConfig, int | tuple[int, ...] | None, dict | None]:
    """(config, seeds, grid) from a TOML file with tables [data] (model = name, then its fields), [net]
    and [train] (TrainConfig fields, plus seeds = a count or a list and grid = {field = [values]}).

    Every value goes through :meth:`TrainConfig.from_dict`, so the file is validated like any config.
    """
    import tomllib
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"config file {path} does not exist")
    with open(path, "rb") as fh:
        tables = tomllib.load(fh)
    unknown = set(tables) - {"data", "net", "train"}
    if unknown:
        raise ValueError(f"config tables must be [data], [net], [train]; unknown: {sorted(unknown)}")
    train = dict(tables.get("train", {}))
    seeds = train.pop("seeds", None)
    grid = train.pop("grid", None) or None
    data = {"model": "ising", **tables.get("data", {})}
    config = TrainConfig.from_dict({"data": data, "net": tables.get("net", {}), **train})
    return config, (tuple(seeds) if isinstance(seeds, list) else seeds), grid
