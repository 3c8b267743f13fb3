"""Predictions of the learned receptive field from the data's statistics, and how well they match SGD.

``predict`` integrates the effective dynamics (:mod:`rfloc.theory.ode`) from given initial weights and
reports the final RF, its IPR and peak, and whether it localizes. Localization criterion (rfloc's): the
predicted IPR is at least ``LOCALIZATION_FACTOR`` = 2 times the IPR of the *Gaussian control* — the same
dynamics, same covariances Σ_0, Σ_1, same w₀ and time, with the Gaussian amplifier φ(a) = √(2/π)a, i.e.
what the data would give if only its covariances mattered. (That control converges to an extended
Fourier-like mode, IPR ≈ 1/N … 3/(2N); a localized bump of width ≈ N/10 has IPR several times larger.)

``peak_agreement`` is the protocol behind the paper's "26/28" table (SPEC §5), which the paper does not
specify: train the single ReLU neuron on S seeds per batch size (one ``train_many`` per batch size), run
each predictor from each run's own initial weights to the same time t = lr × steps, and count the seeds
whose predicted peak (argmax_i |w_i| of the final RF) is on the simulated peak's site (exact) or within ±1
site on the ring; each count comes with its 95 % Clopper–Pearson interval and whether the paper's 26/28
lies inside it.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from rfloc.data import DataModel
from rfloc.theory.ode import EffectiveDynamics, effective_dynamics

LOCALIZATION_FACTOR = 2.0
PAPER_COUNT = (26, 28)
PREDICTORS = ("cubic", "exact", "meanfield")


@dataclasses.dataclass(frozen=True)
class Prediction:
    """Predicted RF at the final time. Arrays have the leading shape of w0 minus its last axis.

    rf (…, N); ipr, peak (argmax |w_i|), localizes (ipr >= threshold); control_ipr: IPR of the Gaussian
    control (module docstring); threshold = factor × control_ipr; dynamics: the full trajectory.
    """

    rf: np.ndarray
    ipr: np.ndarray
    peak: np.ndarray
    localizes: np.ndarray
    control_ipr: np.ndarray
    threshold: np.ndarray
    dynamics: EffectiveDynamics


def _ipr(w) -> np.ndarray:
    from rfloc import metrics

    return np.asarray(metrics.ipr(np.asarray(w)))


def _peak(w) -> np.ndarray:
    from rfloc import metrics

    return np.asarray(metrics.peak_index(np.asarray(w)))


def predict(
    model: DataModel,
    w0,
    time: float,
    phi: str | Callable = "exact",
    method: str = "ode",
    lr: float | None = None,
    factor: float = LOCALIZATION_FACTOR,
    num_times: int = 101,
    **kwargs,
) -> Prediction:
    """Final RF of the effective dynamics from w0 (N,) or (R, N) at ``time`` (t = lr × SGD steps).

    phi, method, lr and kwargs go to :func:`effective_dynamics` (trajectory saved at num_times points;
    for the map methods ``time`` must be a multiple of lr and the saving grid is rounded to whole steps).
    localizes: IPR >= factor × IPR of the Gaussian control (module docstring).
    """
    if isinstance(time, bool) or not isinstance(time, numbers.Real) or not (math.isfinite(time) and time > 0):
        raise ValueError(f"time must be a finite real > 0 (t = lr × SGD steps), got {time!r}")
    if isinstance(factor, bool) or not isinstance(factor, numbers.Real) or not factor > 0:
        raise ValueError(f"factor must be a real > 0, got {factor!r}")
    if isinstance(num_times, bool) or not isinstance(num_times, numbers.Integral) or num_times < 2:
        raise ValueError(f"num_times must be an integer >= 2, got {num_times!r}")
    times = np.linspace(0.0, float(time), int(num_times))
    if method != "ode" and lr is not None and lr > 0:
        times = np.unique(np.rint(times / lr)) * lr
    dyn = effective_dynamics(model, w0, times, phi=phi, method=method, lr=lr, **kwargs)
    control = effective_dynamics(model, w0, times, phi="gaussian", method=method, lr=lr, **kwargs)
    rf = dyn.final
    value, control_ipr = _ipr(rf), _ipr(control.final)
    threshold = factor * control_ipr
    return Prediction(
        rf=rf,
        ipr=value,
        peak=_peak(rf),
        localizes=value >= threshold,
        control_ipr=control_ipr,
        threshold=threshold,
        dynamics=dyn,
    )


# -- the peak-agreement protocol ----------------------------------------------------------------------
def binomial_interval(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Clopper–Pearson (exact) interval for a proportion k/n."""
    from scipy.stats import binomtest

    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    ci = binomtest(int(k), int(n)).proportion_ci(confidence_level=level, method="exact")
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


@dataclasses.dataclass
class PeakAgreement:
    """One batch size of the protocol (module docstring); predictors keyed by name.

    simulated (S, N) final SGD RFs; predicted[name] (S, N); *_ipr (S,); *_peak (S,) argmax |w|;
    exact[name] / within1[name]: Count of seeds whose peaks agree exactly / within ±1 site;
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
    exact: dict[str, Count]
    within1: dict[str, Count]
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
            "exact": {k: dataclasses.asdict(v) for k, v in self.exact.items()},
            "within1": {k: dataclasses.asdict(v) for k, v in self.within1.items()},
            "notes": list(self.notes),
        }


def _predictor_rfs(name, model, w0, lr, steps, method, meanfield_m=2048):
    """Final RFs (S, N) of one predictor from w0 (S, N) at t = lr × steps."""
    t = lr * steps
    if name == "meanfield":
        from rfloc.theory import meanfield

        traj = meanfield.meanfield_trajectories(model, w0, steps, lr, record_every=steps, m=meanfield_m)
        return np.asarray(traj)[:, -1]
    times = np.array([0.0, t])
    return effective_dynamics(model, w0, times, phi=name, method=method, lr=lr).final


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
    train_results: Mapping[int, object] | None = None,
    meanfield_m: int = 2048,
) -> list[PeakAgreement]:
    """Run the peak-agreement protocol (module docstring) for each batch size; SPEC §5 Fig 3 defaults.

    seeds: a count S (seeds 0..S−1) or a list. predictors ⊆ {"cubic", "exact", "meanfield"} ("meanfield":
    the exact expected-gradient map of rfloc.theory.meanfield — exact DP for Ising, Monte Carlo otherwise,
    slow there). method: "ode" or "map" for the cubic/exact predictors. A predictor that cannot run on
    this model (cubic with infinite kurtosis) is skipped with a note. on_batch is called after each batch.
    train_results: optional {batch_size: TrainResult} of runs already trained with these settings (single
    setting, seeds as given) — used instead of training again, e.g. to compare predictors or methods.
    meanfield_m: grid size of the exact Ising data term (1024 halves the cost at an error ≈ 1e-4).
    Initial weights depend only on the seed, so each predictor runs once and serves every batch size.
    """
    from rfloc import metrics
    from rfloc.nn import NetConfig
    from rfloc.train import TrainConfig, train_many

    unknown = [p for p in predictors if p not in PREDICTORS]
    if unknown or not predictors:
        raise ValueError(f"predictors must be a non-empty subset of {PREDICTORS}, got {list(predictors)}")
    if method not in ("ode", "map"):
        raise ValueError(f"method must be 'ode' or 'map', got {method!r}")
    if isinstance(seeds, numbers.Integral) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ValueError(f"seeds must be >= 1, got {seeds}")
        seeds = list(range(int(seeds)))
    seeds = [int(s) for s in seeds]
    batch_sizes = [int(b) for b in batch_sizes]
    if not batch_sizes or min(batch_sizes) < 1:
        raise ValueError(f"batch_sizes must be a non-empty list of integers >= 1, got {batch_sizes}")
    eval_every = steps if eval_every is None else eval_every
    base = TrainConfig(
        data=model,
        net=NetConfig(kind="neuron", activation="relu", bias=False, init_scale=init_scale),
        lr=lr,
        steps=steps,
        eval_every=eval_every,
    )  # validates lr, steps, eval_every before any compute
    n = model.n_inputs
    out = []
    memo: dict[tuple[str, bytes], np.ndarray] = {}

    def from_w0(name, w0, compute):
        key = (name, np.ascontiguousarray(w0).tobytes())
        if key not in memo:
            memo[key] = compute(w0)
        return memo[key]

    for batch in batch_sizes:
        if train_results is not None and batch in train_results:
            res = train_results[batch]
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
        else:
            res = train_many(dataclasses.replace(base, batch_size=batch), seeds=seeds, progress=progress)
        w0 = res.init_weights[0, :, 0, :]
        sim = res.final_weights[0, :, 0, :]
        sim_peak = _peak(sim)
        predicted, pred_ipr, pred_peak, exact, within1, notes = {}, {}, {}, {}, {}, []
        for name in predictors:
            try:
                rf = from_w0(
                    name, w0, lambda w, n=name: _predictor_rfs(n, model, w, lr, steps, method, meanfield_m)
                )
            except ValueError as err:
                notes.append(f"{name} skipped: {err}")
                continue
            predicted[name], pred_ipr[name], pred_peak[name] = rf, _ipr(rf), _peak(rf)
            exact[name] = Count.of(np.asarray(metrics.peaks_agree(sim_peak, pred_peak[name], n, tol=0)))
            within1[name] = Count.of(np.asarray(metrics.peaks_agree(sim_peak, pred_peak[name], n, tol=1)))
        control = from_w0(
            "gaussian-control",
            w0,
            lambda w: effective_dynamics(model, w, np.array([0.0, lr * steps]), phi="gaussian").final,
        )
        result = PeakAgreement(
            batch_size=batch,
            seeds=tuple(seeds),
            time=lr * steps,
            init_weights=w0,
            simulated=sim,
            sim_ipr=_ipr(sim),
            sim_peak=sim_peak,
            predicted=predicted,
            pred_ipr=pred_ipr,
            pred_peak=pred_peak,
            exact=exact,
            within1=within1,
            control_ipr=_ipr(control),
            diverged=int(np.sum(res.diverged)),
            method=method,
            notes=notes,
        )
        if on_batch is not None:
            on_batch(result)
        out.append(result)
    return out
