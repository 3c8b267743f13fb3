"""Protocols that compare trained networks with the theory: train, predict from the same w₀, count, bound.

This module sits above :mod:`rfloc.train` and :mod:`rfloc.theory` (which never import each other) and below
the experiments and the command line, which call it.

Peak agreement — the protocol behind the paper's "26/28" table (SPEC §5), which the paper does not
specify: train the single ReLU neuron on S seeds per batch size (one ``train_many`` per batch size), run
each predictor from each run's own initial weights to the same time t = lr × steps, and count the seeds
whose predicted peak (argmax_i |w_i| of the final RF) is on the simulated peak's site (exact) or within ±1
site on the ring; each count comes with its 95 % Clopper–Pearson interval and whether the paper's 26/28
lies inside it. Predictors (:data:`PREDICTORS`): the effective ODE (or map) with the cubic or the exact φ,
and the exact expected-SGD map ("meanfield": exact Ising data term by DP, Monte Carlo for other models).
Deterministic predictors depend only on w₀, and w₀ only on the seed, so each runs once per call and serves
every batch size. A predictor is a :class:`Predictor`; "sgd", the SGD-vs-SGD control (SGD again from the
same w₀ on an independent data stream), is the one that depends on the batch.

Agreement probability (:func:`agreement_curve`, :func:`agreement`, :class:`Rate`): a count out of 28 has a
standard deviation of ≈ 2 seeds, so the protocol estimates p(batch) itself from many seeds, with its
Clopper–Pearson interval, and judges the paper's 26/28 as a draw, P(X ≥ 26 | 28, p̂). The control's
agreement c bounds every predictor that sees only w₀: with q the law of SGD's peak given w₀, exact matches
give Σq² ≤ max q ≤ √(Σq²), and ±1-site matches c ≤ max Q ≤ √(2c) (Q: q summed over a 3-site window); so
c is what the ideal predictor at least reaches, and √(2c) the most any deterministic predictor can.
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Callable, Mapping, Sequence

import numpy as np
from scipy.special import betainc
from scipy.stats import binomtest

from rfloc import _checks, metrics
from rfloc.data import DataModel, Ising
from rfloc.nn import NetConfig
from rfloc.theory import effective_dynamics
from rfloc.train import LAYOUTS, TrainConfig, TrainResult, train_many

PAPER_COUNT = (26, 28)  # the paper's Ising table: 26 of 28 seeds' peaks agree
LEVEL = 0.95  # confidence level of every interval


def binomial_interval(k: int, n: int, level: float = LEVEL) -> tuple[float, float]:
    """Clopper–Pearson (exact) interval for a proportion k/n."""
    n = _checks.integer("n", n, minimum=1)
    k = _checks.integer("k", k, minimum=0, maximum=n)
    ci = binomtest(k, n).proportion_ci(confidence_level=level, method="exact")
    return float(ci.low), float(ci.high)


@dataclasses.dataclass
class Count:
    """k of n seeds agree; 95 % Clopper–Pearson interval; whether the paper's 26/28 lies inside it."""

    k: int
    n: int
    low: float
    high: float
    paper_inside: bool

    @classmethod
    def of(cls, agree: np.ndarray) -> Count:
        k, n = int(np.sum(agree)), int(np.size(agree))
        low, high = binomial_interval(k, n)
        paper = PAPER_COUNT[0] / PAPER_COUNT[1]
        return cls(k, n, low, high, bool(low <= paper <= high))

    def __str__(self) -> str:
        inside = "inside" if self.paper_inside else "outside"
        return f"{self.k}/{self.n} [{self.low:.2f}, {self.high:.2f}] (26/28 {inside})"


def peak_matches(simulated: np.ndarray, predicted: np.ndarray, tol: int) -> np.ndarray:
    """Whether argmax |w| of predicted (..., N) is within ``tol`` ring sites of simulated's (broadcast)."""
    n = np.shape(simulated)[-1]
    sim_peak = np.asarray(metrics.peak_index(np.asarray(simulated)))
    pred_peak = np.asarray(metrics.peak_index(np.asarray(predicted)))
    return np.asarray(metrics.peaks_agree(sim_peak, pred_peak, n, tol=tol))


def peak_counts(simulated: np.ndarray, predicted: np.ndarray, tol: int) -> np.ndarray:
    """Number of seeds (last axis before the input axis) whose peaks agree within tol: (...,) ints."""
    return peak_matches(simulated, predicted, tol).sum(-1)


# -- predictors ------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Setting:
    """What a predictor sees: the model, the runs' initial weights w0 (S, N), the training settings."""

    model: DataModel
    w0: np.ndarray
    lr: float
    steps: int
    batch_size: int
    seeds: tuple[int, ...]
    method: str
    meanfield_m: int
    init_scale: float = 0.001
    times: tuple[float, ...] | None = None  # output times; None: (0, lr × steps)

    def time_grid(self) -> np.ndarray:
        return np.array([0.0, self.lr * self.steps] if self.times is None else self.times)


@dataclasses.dataclass(frozen=True)
class Predictor:
    """fn(setting) -> RFs (S, T, N) at setting.time_grid(); per_batch: whether it depends on the batch size
    (if not, it runs once per call of :func:`peak_agreement`); label: for tables and figures."""

    fn: Callable[[Setting], np.ndarray]
    per_batch: bool
    label: str


def _phi_predictor(phi: str) -> Callable[[Setting], np.ndarray]:
    def fn(s: Setting) -> np.ndarray:
        return np.asarray(
            effective_dynamics(s.model, s.w0, s.time_grid(), phi=phi, integrator=s.method, lr=s.lr).weights
        )

    return fn


def _meanfield(s: Setting) -> np.ndarray:
    # Exact data term for the Ising ring; otherwise Monte Carlo, 100 000 class-1 samples per step (key 0).
    exact = isinstance(s.model, Ising)
    return np.asarray(
        effective_dynamics(
            s.model,
            s.w0,
            s.time_grid(),
            integrator="map",
            lr=s.lr,
            data_term="ising-dp" if exact else "monte-carlo",
            grid_points=s.meanfield_m,
        ).weights
    )


def _gaussian_control(s: Setting) -> np.ndarray:
    return np.asarray(effective_dynamics(s.model, s.w0, s.time_grid(), phi="gaussian").weights)


def _sgd_control(s: Setting) -> np.ndarray:
    """SGD again from the same w0 on an independent data stream (train_many's data_stream=1). Its peak
    agreement with the first run is how reproducible SGD's own peak is: an upper bound, in expectation, on
    the agreement of any predictor that sees only w0 (a deterministic predictor cannot match the noise)."""
    times = s.time_grid()
    dt = s.lr * s.steps / (len(times) - 1) if len(times) > 1 else s.lr * s.steps
    every = max(1, round(dt / s.lr))
    if s.steps % every or not np.allclose(times, s.lr * every * np.arange(len(times))):
        raise ValueError("times must be 0, lr × k, 2 lr × k, ..., lr × steps for the SGD control")
    config = TrainConfig(
        data=s.model,
        net=NetConfig(kind="neuron", activation="relu", bias=False, init_scale=s.init_scale),
        lr=s.lr,
        batch_size=s.batch_size,
        steps=s.steps,
        eval_every=every,
    )
    runs = train_many(config, seeds=list(s.seeds), data_stream=1, progress=False).to_xarray()
    weights = runs.weights.isel(setting=0, neuron=0).values  # (seed, time, input)
    if not np.array_equal(weights[:, 0], s.w0):
        raise ValueError("the SGD control must start from the given w0 (same seeds, init_scale)")
    return weights


PREDICTORS: dict[str, Predictor] = {
    "cubic": Predictor(_phi_predictor("cubic"), False, "cubic phi"),
    "exact": Predictor(_phi_predictor("exact"), False, "exact phi"),
    "meanfield": Predictor(_meanfield, False, "exact mean-field map"),
    "sgd": Predictor(_sgd_control, True, "SGD vs SGD (control)"),
}


@dataclasses.dataclass
class PeakAgreement:
    """One batch size of the protocol (module docstring); predictors keyed by name.

    simulated (S, N) final SGD RFs; predicted[name] (S, N); *_ipr (S,); *_peak (S,) argmax |w|;
    same_site[name] / within_one[name]: Count of seeds whose peaks are on the same site / within ±1 site
    (JSON summary keys "exact" / "within1");
    control_ipr (S,): Gaussian-control IPR at the same time (predict's localization reference);
    diverged: number of SGD runs that diverged; notes: predictors skipped and why.
    """

    batch_size: int
    seeds: tuple[int, ...]
    time: float
    init_weights: np.ndarray
    simulated: np.ndarray
    sim_ipr: np.ndarray
    sim_peak: np.ndarray
    predicted: dict[str, np.ndarray]
    pred_ipr: dict[str, np.ndarray]
    pred_peak: dict[str, np.ndarray]
    same_site: dict[str, Count]
    within_one: dict[str, Count]
    control_ipr: np.ndarray
    diverged: int
    method: str
    notes: list[str] = dataclasses.field(default_factory=list)

    def summary(self) -> dict:
        """JSON-ready numbers (counts, intervals, median IPRs)."""
        return {
            "batch_size": self.batch_size,
            "seeds": len(self.seeds),
            "time": self.time,
            "method": self.method,
            "diverged": self.diverged,
            "median_ipr": {
                "simulated": float(np.median(self.sim_ipr)),
                "gaussian_control": float(np.median(self.control_ipr)),
                **{k: float(np.median(v)) for k, v in self.pred_ipr.items()},
            },
            "exact": {k: dataclasses.asdict(v) for k, v in self.same_site.items()},
            "within1": {k: dataclasses.asdict(v) for k, v in self.within_one.items()},
            "notes": list(self.notes),
        }


def _seed_list(seeds) -> list[int]:
    if isinstance(seeds, numbers.Integral) and not isinstance(seeds, bool):
        return list(range(_checks.integer("seeds", seeds, minimum=1)))
    seeds = [_checks.integer("seeds[i]", s, minimum=0) for s in seeds]
    if not seeds:
        raise ValueError("seeds must be a count >= 1 or a non-empty list of seeds")
    return seeds


def _check_given(res: TrainResult, model, lr, steps, init_scale, batch, seeds) -> None:
    cfg = res.config
    same = (cfg.data, cfg.lr, cfg.steps, cfg.net.init_scale, cfg.batch_size) == (
        model,
        float(lr),
        int(steps),
        float(init_scale),
        batch,
    )
    if list(res.seeds) != seeds or res.weights.shape[0] != 1 or not same:
        raise ValueError(
            f"train_results[{batch}] must be one setting of this model, lr, steps, init_scale "
            f"and batch size, with seeds {seeds}"
        )


def peak_agreement(
    model: DataModel,
    seeds: int | Sequence[int] = 28,
    batch_sizes: Sequence[int] = (500,),
    lr: float = 0.05,
    steps: int = 2000,
    init_scale: float = 0.001,
    predictors: Sequence[str] = ("cubic", "exact"),
    method: str = "ode",
    eval_every: int | None = None,
    progress: bool | None = None,
    on_batch: Callable[[PeakAgreement], None] | None = None,
    train_results: Mapping[int, TrainResult] | None = None,
    meanfield_m: int = 2048,
) -> list[PeakAgreement]:
    """Run the peak-agreement protocol (module docstring) for each batch size; SPEC §5 Fig 3 defaults.

    seeds: a count S (seeds 0..S−1) or a list. predictors ⊆ PREDICTORS ("cubic", "exact", "meanfield").
    method: "ode" or "map", the integrator of the φ predictors. A predictor that cannot run on this model
    (cubic with infinite kurtosis) is skipped with a note. on_batch is called after each batch.
    train_results: optional {batch_size: TrainResult} of runs already trained with these settings (single
    setting, seeds as given) — used instead of training again, e.g. to compare predictors or methods.
    meanfield_m: grid size of the exact Ising data term (1024 halves the cost at an error ≈ 1e-4).
    """
    unknown = [p for p in predictors if p not in PREDICTORS]
    if unknown or not predictors:
        raise ValueError(
            f"predictors must be a non-empty subset of {list(PREDICTORS)}, got {list(predictors)}"
        )
    _checks.choice("method", method, ("ode", "map"))
    seeds = _seed_list(seeds)
    batch_sizes = [_checks.integer("batch_sizes[i]", b, minimum=1) for b in batch_sizes]
    if not batch_sizes:
        raise ValueError("batch_sizes must be a non-empty list of integers >= 1")
    meanfield_m = _checks.integer("meanfield_m", meanfield_m, minimum=4 * model.n_inputs)
    base = TrainConfig(
        data=model,
        net=NetConfig(kind="neuron", activation="relu", bias=False, init_scale=init_scale),
        lr=lr,
        steps=steps,
        eval_every=steps if eval_every is None else eval_every,
    )  # validates lr, steps, eval_every before any compute
    memo: dict[tuple[str, bytes], np.ndarray] = {}

    def run_predictor(name: str, predictor: Predictor, setting: Setting) -> np.ndarray:
        if predictor.per_batch:
            return predictor.fn(setting)[:, -1]
        key = (name, np.ascontiguousarray(setting.w0).tobytes())
        if key not in memo:
            memo[key] = predictor.fn(setting)[:, -1]
        return memo[key]

    out = []
    for batch in batch_sizes:
        if train_results is not None and batch in train_results:
            res = train_results[batch]
            _check_given(res, model, lr, steps, init_scale, batch, seeds)
        else:
            res = train_many(dataclasses.replace(base, batch_size=batch), seeds=seeds, progress=progress)
        runs = res.to_xarray().isel(setting=0)
        weights = runs.weights.isel(neuron=0)  # (seed, time, input)
        w0, sim = weights.isel(time=0).values, weights.isel(time=-1).values
        setting = Setting(
            model, w0, float(lr), int(steps), batch, tuple(seeds), method, meanfield_m, float(init_scale)
        )
        predicted, notes = {}, []
        for name in predictors:
            try:
                predicted[name] = run_predictor(name, PREDICTORS[name], setting)
            except ValueError as err:
                notes.append(f"{name} skipped: {err}")
        control = run_predictor("gaussian-control", Predictor(_gaussian_control, False, ""), setting)
        result = PeakAgreement(
            batch_size=batch,
            seeds=tuple(seeds),
            time=lr * steps,
            init_weights=w0,
            simulated=sim,
            sim_ipr=np.asarray(metrics.ipr(sim)),
            sim_peak=np.asarray(metrics.peak_index(sim)),
            predicted=predicted,
            pred_ipr={k: np.asarray(metrics.ipr(v)) for k, v in predicted.items()},
            pred_peak={k: np.asarray(metrics.peak_index(v)) for k, v in predicted.items()},
            same_site={k: Count.of(peak_matches(sim, v, tol=0)) for k, v in predicted.items()},
            within_one={k: Count.of(peak_matches(sim, v, tol=1)) for k, v in predicted.items()},
            control_ipr=np.asarray(metrics.ipr(control)),
            diverged=int(runs.diverged.sum()),
            method=method,
            notes=notes,
        )
        if on_batch is not None:
            on_batch(result)
        out.append(result)
    return out


# -- agreement probability against batch size ------------------------------------------------------------
PLAUSIBLE = 0.05  # 26/28 is a "plausible draw" when P(X >= 26 | 28, p) >= 0.05 (a one-sided 5 % test)
PAPER_RATE = PAPER_COUNT[0] / PAPER_COUNT[1]  # 0.929: the rate the paper's count states
READINGS: dict[str, Callable] = {"abs": metrics.peak_index, "signed": metrics.peak_index_signed}


def draw_probability(p, k: int = PAPER_COUNT[0], n: int = PAPER_COUNT[1]) -> np.ndarray:
    """P(X ≥ k) for X ~ Binomial(n, p), elementwise in p: the regularized incomplete beta
    I_p(k, n − k + 1)."""
    n = _checks.integer("n", n, minimum=1)
    k = _checks.integer("k", k, minimum=0, maximum=n)
    p = np.asarray(p, dtype=float)
    if np.any(~(p >= 0) | ~(p <= 1)):
        raise ValueError(f"p must lie in [0, 1], got {p}")
    return np.ones_like(p) if k == 0 else betainc(k, n - k + 1, p)


@dataclasses.dataclass(frozen=True)
class Rate:
    """Agreement probability from k of n seeds: p̂ = k/n with its 95 % Clopper–Pearson interval, and the
    paper's 26/28 judged as a draw: P(X ≥ 26 | 28, p) at p̂ and at the interval's ends (it increases with p,
    so the ends map to the ends)."""

    k: int
    n: int
    p: float
    low: float
    high: float
    draw: float
    draw_low: float
    draw_high: float

    @classmethod
    def of(cls, agree) -> Rate:
        agree = np.asarray(agree, bool)
        k, n = int(agree.sum()), int(agree.size)
        low, high = binomial_interval(k, n)
        draws = draw_probability([k / n, low, high])
        return cls(k, n, k / n, low, high, *(float(d) for d in draws))

    @property
    def plausible(self) -> bool:
        """26/28 is a plausible draw at p̂: P(X ≥ 26 | 28, p̂) ≥ PLAUSIBLE."""
        return self.draw >= PLAUSIBLE

    def __str__(self) -> str:
        return (
            f"{self.p:.3f} [{self.low:.3f}, {self.high:.3f}] ({self.k}/{self.n}); "
            f"P(>=26/28) {self.draw:.3f} [{self.draw_low:.3f}, {self.draw_high:.3f}]"
        )


def agreement(simulated, other, tol: int, reading: str = "abs", mask=None) -> Rate:
    """Rate of seeds whose peaks agree within tol sites; simulated, other (S, N); mask (S,) selects seeds.

    reading: "abs" (argmax |w|, rfloc's) or "signed" (argmax −w, the authors' by-eye reading; SPEC §4)."""
    _checks.choice("reading", reading, tuple(READINGS))
    peak = READINGS[reading]
    simulated, other = np.asarray(simulated), np.asarray(other)
    agree = metrics.peaks_agree(
        np.asarray(peak(simulated)), np.asarray(peak(other)), simulated.shape[-1], tol=tol
    )
    agree = np.asarray(agree)
    if mask is not None:
        agree = agree[np.asarray(mask, bool)]
    if agree.size == 0:
        raise ValueError("mask must select at least one seed")
    return Rate.of(agree)


def agreement_curve(
    model: DataModel,
    batch_sizes: Sequence[int],
    seeds: Sequence[int],
    predictor_seeds: Mapping[str, int],
    lr: float = 0.05,
    steps: int = 2000,
    init_scale: float = 0.001,
    eval_every: int | None = None,
    control: bool = True,
    meanfield_m: int = 2048,
    progress: bool | None = None,
    vectorize: str = "map",
):
    """Final RFs of SGD, of the SGD-vs-SGD control and of the predictors for the agreement curve p(batch).

    Batch batch_sizes[b] trains seeds 0..seeds[b]−1 (one train_many call, plus one on data_stream=1 for the
    control); w0 depends on the seed only, so the predictors run once, on seeds 0..predictor_seeds[name]−1
    (each ≤ max(seeds)), from the SGD runs' own w0, recorded every eval_every steps (default: steps).
    Returns an xr.Dataset: init_w (seed, input); sim_w (batch, seed, time, input); control_w (batch, seed,
    input), final; pred_w (predictor, seed, time, input); runs not made are NaN, and sim_ran (batch, seed),
    pred_ran (predictor, seed) say which were made. vectorize: how train_many lays out the seeds ("map" or
    "vmap", see :func:`rfloc.train.train_many`).
    """
    import xarray as xr

    _checks.choice("vectorize", vectorize, LAYOUTS)
    batch_sizes = [_checks.integer("batch_sizes[i]", b, minimum=1) for b in batch_sizes]
    seeds = [_checks.integer("seeds[i]", s, minimum=1) for s in seeds]
    if not batch_sizes or len(seeds) != len(batch_sizes):
        raise ValueError("batch_sizes must be non-empty and seeds must give one count per batch size")
    unknown = [p for p in predictor_seeds if p not in PREDICTORS or PREDICTORS[p].per_batch]
    if unknown:
        names = [k for k, v in PREDICTORS.items() if not v.per_batch]
        raise ValueError(f"predictor_seeds keys must be among {names}, got {unknown}")
    s_max = max(seeds)
    p_seeds = {
        k: _checks.integer(f"predictor_seeds[{k!r}]", v, minimum=1, maximum=s_max)
        for k, v in predictor_seeds.items()
    }
    eval_every = steps if eval_every is None else eval_every
    base = TrainConfig(
        data=model,
        net=NetConfig(kind="neuron", activation="relu", bias=False, init_scale=init_scale),
        lr=lr,
        steps=steps,
        eval_every=eval_every,
    )  # validates lr, steps, eval_every before any compute
    n, t = model.n_inputs, base.num_records
    sim = np.full((len(batch_sizes), s_max, t, n), np.nan, np.float32)
    ctrl = np.full((len(batch_sizes), s_max, n), np.nan, np.float32)
    w0 = None
    for b, (batch, count) in enumerate(zip(batch_sizes, seeds, strict=True)):
        config = dataclasses.replace(base, batch_size=batch)
        res = train_many(config, seeds=count, progress=progress, vectorize=vectorize)
        weights = res.to_xarray().weights.isel(setting=0, neuron=0).values  # (seed, time, input)
        sim[b, :count] = weights
        if w0 is None or count > len(w0):
            w0 = weights[:, 0]
        if control:
            # same eval_every as the first run: one compiled program per batch and stream, shared by callers
            again = train_many(config, seeds=count, data_stream=1, progress=progress, vectorize=vectorize)
            ctrl[b, :count] = again.to_xarray().weights.isel(setting=0, neuron=0, time=-1).values
    times = lr * np.arange(t) * eval_every
    pred = np.full((len(p_seeds), s_max, t, n), np.nan, np.float32)
    for j, (name, count) in enumerate(p_seeds.items()):
        setting = Setting(
            model,
            w0[:count],
            float(lr),
            int(steps),
            0,
            tuple(range(count)),
            "ode",
            meanfield_m,
            float(init_scale),
            tuple(times),
        )
        pred[j, :count] = PREDICTORS[name].fn(setting)
    counts, p_counts = np.array(seeds), np.array(list(p_seeds.values()))
    return xr.Dataset(
        {
            "init_w": (("seed", "input"), w0),
            "sim_w": (("batch", "seed", "time", "input"), sim),
            "control_w": (("batch", "seed", "input"), ctrl),
            "pred_w": (("predictor", "seed", "time", "input"), pred),
            "sim_ran": (("batch", "seed"), np.arange(s_max)[None] < counts[:, None]),
            "pred_ran": (
                ("predictor", "seed"),
                np.arange(s_max)[None] < p_counts[:, None],
            ),
        },
        coords={"batch": batch_sizes, "predictor": list(p_seeds), "seed": np.arange(s_max), "time": times},
        attrs={"control": int(control)},
    )
