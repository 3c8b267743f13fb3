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
every batch size. A predictor is a :class:`Predictor`; a new one (e.g. an SGD-vs-SGD control, which
depends on the batch) is one more entry of ``PREDICTORS``.
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Callable, Mapping, Sequence

import numpy as np
from scipy.stats import binomtest

from rfloc import _checks, metrics
from rfloc.data import DataModel, Ising
from rfloc.nn import NetConfig
from rfloc.theory import effective_dynamics
from rfloc.train import TrainConfig, TrainResult, train_many

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


@dataclasses.dataclass(frozen=True)
class Predictor:
    """fn(setting) -> final RFs (S, N) at t = lr × steps; per_batch: whether it depends on the batch size
    (if not, it runs once per call of :func:`peak_agreement`); label: for tables and figures."""

    fn: Callable[[Setting], np.ndarray]
    per_batch: bool
    label: str


def _phi_predictor(phi: str) -> Callable[[Setting], np.ndarray]:
    def fn(s: Setting) -> np.ndarray:
        times = np.array([0.0, s.lr * s.steps])
        return effective_dynamics(s.model, s.w0, times, phi=phi, integrator=s.method, lr=s.lr).final

    return fn


def _meanfield(s: Setting) -> np.ndarray:
    # Exact data term for the Ising ring; otherwise Monte Carlo, 100 000 class-1 samples per step (key 0).
    exact = isinstance(s.model, Ising)
    return effective_dynamics(
        s.model,
        s.w0,
        np.array([0.0, s.lr * s.steps]),
        integrator="map",
        lr=s.lr,
        data_term="ising-dp" if exact else "monte-carlo",
        grid_points=s.meanfield_m,
    ).final


def _gaussian_control(s: Setting) -> np.ndarray:
    return effective_dynamics(s.model, s.w0, np.array([0.0, s.lr * s.steps]), phi="gaussian").final


PREDICTORS: dict[str, Predictor] = {
    "cubic": Predictor(_phi_predictor("cubic"), False, "cubic phi"),
    "exact": Predictor(_phi_predictor("exact"), False, "exact phi"),
    "meanfield": Predictor(_meanfield, False, "exact mean-field map"),
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
            return predictor.fn(setting)
        key = (name, np.ascontiguousarray(setting.w0).tobytes())
        if key not in memo:
            memo[key] = predictor.fn(setting)
        return memo[key]

    out = []
    for batch in batch_sizes:
        if train_results is not None and batch in train_results:
            res = train_results[batch]
            _check_given(res, model, lr, steps, init_scale, batch, seeds)
        else:
            res = train_many(dataclasses.replace(base, batch_size=batch), seeds=seeds, progress=progress)
        w0 = res.init_weights[0, :, 0, :]
        sim = res.final_weights[0, :, 0, :]
        setting = Setting(model, w0, float(lr), int(steps), batch, tuple(seeds), method, meanfield_m)
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
            diverged=int(np.sum(res.diverged)),
            method=method,
            notes=notes,
        )
        if on_batch is not None:
            on_batch(result)
        out.append(result)
    return out
