"""The paper's Ising table (26/28 peak matches) and rfloc's exact mean-field predictor (beyond the paper).

Protocol (rfloc's; the paper gives neither batch nor tolerance): `rfloc.protocols.peak_agreement` —
28 seeds of the Fig 3 single neuron (Ising J = (0.3, 0.7), lr 0.05, 2000 steps, init 0.001) per batch
size; each predictor runs from each run's own w0 to t = lr × steps; peaks agree within ±1 site (exact
matches reported too), with 95 % Clopper–Pearson intervals. Predictors: the effective ODE with cubic φ
(the paper's), with exact φ, and the exact mean-field map (transfer-matrix DP, no Gaussian assumption).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from rfloc import metrics
from rfloc.data import Ising
from rfloc.experiments.claims import Claim
from rfloc.nn import NetConfig
from rfloc.plot import save_figure
from rfloc.protocols import PAPER_COUNT, PREDICTORS, binomial_interval, peak_agreement, peak_counts
from rfloc.theory import effective_dynamics
from rfloc.train import TrainConfig, train_many

NAME = "ising_table"
TITLE = "Ising peak agreement over 28 seeds (paper's table) and the exact mean-field map (rfloc extension)"
CAPTION = (
    "Peak agreement (+-1 site) between the simulated and predicted final RF against batch size, with 95% "
    "binomial intervals; per-seed RF overlays at batch 500; IPR over time of SGD and the three predictors."
)
PREDICTOR_NAMES = tuple(PREDICTORS)  # cubic phi, exact phi, exact mean-field map
RECORDED_BATCH = 500  # the batch of the authors' recorded Fig 3 run
# "Under-localizes late": median final IPR below half the simulation's. Half, because IPR counts
# effective sites inversely: half the IPR is twice as many effective inputs — a different RF, not noise.
UNDER_FACTOR = 0.5


def config(quick: bool) -> dict:
    return {
        "J": [0.3, 0.7],
        "n": 40,
        "seeds": 8 if quick else 28,
        # batch 10 000 (the curve against SGD noise) costs ~6 min here: `rfloc theory --batch 10000`.
        "batches": [100, 500] if quick else [100, 500, 2000],
        "lr": 0.05,
        "steps": 300 if quick else 2000,
        "init_scale": 0.001,
        "traj_seeds": 3 if quick else 8,
        "traj_every": 20 if quick else 50,
        # Grid of the exact Ising data term: data-term error ≈ 1e-4 at 1024 (vs 5e-5 at 2048), far below
        # what moves a peak, at half the cost (`rfloc bench meanfield`).
        "meanfield_m": 1024,
    }


def run(cfg: dict) -> xr.Dataset:
    model = Ising(n=cfg["n"], J=tuple(cfg["J"]))
    # The recorded batch is trained once, with trajectories kept for the IPR-over-time figure, and the same
    # runs serve the peak count (peak_agreement only needs their first and last records).
    tc = TrainConfig(
        data=model,
        net=NetConfig(init_scale=cfg["init_scale"]),
        lr=cfg["lr"],
        batch_size=RECORDED_BATCH,
        steps=cfg["steps"],
        eval_every=cfg["traj_every"],
    )
    seeds = list(range(cfg["seeds"]))
    recorded = train_many(tc, seeds=seeds) if RECORDED_BATCH in cfg["batches"] else None
    res = peak_agreement(
        model,
        seeds=seeds,
        batch_sizes=cfg["batches"],
        lr=cfg["lr"],
        steps=cfg["steps"],
        init_scale=cfg["init_scale"],
        predictors=PREDICTOR_NAMES,
        meanfield_m=cfg["meanfield_m"],
        train_results=None if recorded is None else {RECORDED_BATCH: recorded},
    )
    sim = np.stack([r.simulated for r in res])  # (B, S, N)
    pred = np.stack([np.stack([r.predicted[p] for p in PREDICTOR_NAMES]) for r in res])  # (B, P, S, N)

    # IPR over time at the recorded batch, for the first few seeds (the extension's figure).
    k = cfg["traj_seeds"]
    tr = recorded if recorded is not None else train_many(tc, seeds=seeds[:k])
    tr_w = tr.weights[0, :k]  # (k, T, K, N)
    w0 = tr_w[:, 0, 0]
    times = tr.time[0]
    trajs = {"simulation": tr_w[:, :, 0]}
    for phi in ("cubic", "exact"):
        trajs[phi] = np.asarray(effective_dynamics(model, w0, times, phi=phi).weights)
    trajs["meanfield"] = effective_dynamics(
        model,
        w0,
        times,
        integrator="map",
        lr=cfg["lr"],
        data_term="ising-dp",
        grid_points=cfg["meanfield_m"],
    ).weights
    series = list(trajs)
    ipr_t = np.stack([np.asarray(metrics.ipr(trajs[s])) for s in series])  # (series, seed, time)
    return xr.Dataset(
        {
            "init_w": (("seed", "input"), res[0].init_weights),
            "sim_w": (("batch", "seed", "input"), sim),
            "pred_w": (("batch", "predictor", "seed", "input"), pred),
            "control_ipr": (("batch", "seed"), np.stack([r.control_ipr for r in res])),
            "diverged": ("batch", np.array([r.diverged for r in res])),
            "ipr_t": (("series", "traj_seed", "time"), ipr_t),
        },
        coords={
            "batch": cfg["batches"],
            "predictor": list(PREDICTOR_NAMES),
            "seed": list(res[0].seeds),
            "series": series,
            "time": times,
        },
        attrs={"protocol": __doc__},
    )


def plot(ds: xr.Dataset, out: Path) -> list[Path]:
    import matplotlib.pyplot as plt

    out = Path(out)
    s = ds.sizes["seed"]
    colours = {"cubic": "tab:red", "exact": "tab:orange", "meanfield": "tab:blue", "simulation": "k"}
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, tol in zip(axes, (1, 0), strict=True):
        counts = peak_counts(ds.sim_w.values[:, None], ds.pred_w.values, tol)  # (B, P)
        for j, p in enumerate(ds.predictor.values):
            lo_hi = np.array([binomial_interval(int(k), s) for k in counts[:, j]]) * s
            k = counts[:, j]
            ax.errorbar(
                ds.batch.values,
                k,
                yerr=[k - lo_hi[:, 0], lo_hi[:, 1] - k],
                marker="o",
                capsize=3,
                color=colours[p],
                label=PREDICTORS[p].label,
            )
        ax.axhline(PAPER_COUNT[0], color="0.4", ls="--", label="paper: 26/28")
        ax.set(
            xscale="log",
            xlabel="batch size",
            ylabel=f"seeds agreeing (of {s})",
            ylim=(0, s + 1),
            title="peak within +-1 site" if tol else "exact peak match",
        )
        ax.legend(fontsize=8)
    fig.tight_layout()
    files = [save_figure(fig, out / "ising_table_agreement.png")]

    b = list(ds.batch.values).index(RECORDED_BATCH) if RECORDED_BATCH in ds.batch.values else 0
    cols = 7
    rows = int(np.ceil(s / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(2.2 * cols, 1.6 * rows), squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        if i >= s:
            ax.set_visible(False)
            continue
        for w, c in (
            (ds.sim_w[b, i], "k"),
            (ds.pred_w.sel(predictor="cubic")[b, i], colours["cubic"]),
            (ds.pred_w.sel(predictor="meanfield")[b, i], colours["meanfield"]),
        ):
            w = np.asarray(w)
            ax.plot(w / np.abs(w).max(), color=c, lw=1)
        ax.set(xticks=[], yticks=[], title=f"seed {int(ds.seed[i])}")
    fig.suptitle(f"batch {int(ds.batch[b])}: SGD (black), cubic ODE (red), exact mean-field map (blue)")
    fig.tight_layout()
    files.append(save_figure(fig, out / "ising_table_overlays.png"))

    fig, ax = plt.subplots(figsize=(6, 4))
    t = ds.time.values
    for srs in ds.series.values:
        v = ds.ipr_t.sel(series=srs).values
        ax.plot(t, np.median(v, 0), color=colours[srs], label=str(srs))
        ax.fill_between(t, np.quantile(v, 0.25, 0), np.quantile(v, 0.75, 0), color=colours[srs], alpha=0.15)
    ax.set(
        xlabel="t = lr x SGD steps",
        ylabel="IPR (median, quartiles)",
        title=f"[beyond the paper] IPR over time, batch {RECORDED_BATCH}",
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    files.append(save_figure(fig, out / "meanfield_ipr_over_time.png"))
    return files


def check(ds: xr.Dataset) -> list[Claim]:
    s = ds.sizes["seed"]
    paper = PAPER_COUNT[0] / PAPER_COUNT[1]
    within, exact = (peak_counts(ds.sim_w.values[:, None], ds.pred_w.values, tol) for tol in (1, 0))
    b = list(ds.batch.values).index(RECORDED_BATCH) if RECORDED_BATCH in ds.batch.values else 0
    claims = []
    for j, p in enumerate(ds.predictor.values):
        k = int(within[b, j])
        lo, hi = binomial_interval(k, s)
        tag = "" if p == "cubic" else " [rfloc: " + ("exact phi]" if p == "exact" else "mean-field map]")
        curve = ", ".join(f"{int(bb)}: {int(c)}" for bb, c in zip(ds.batch.values, within[:, j], strict=True))
        claims.append(
            Claim(
                NAME,
                f"Ising peak agreement, {p} predictor, batch {int(ds.batch[b])}{tag}",
                "26/28 (93%)",
                f"{k}/{s} within +-1 site (95% CI {lo:.2f}-{hi:.2f}), {int(exact[b, j])}/{s} exact; "
                f"by batch {{{curve}}}",
                bool(lo <= paper <= hi),
                "the paper's 26/28 lies inside rfloc's 95% Clopper-Pearson interval",
            )
        )
    sim_ipr = np.median(np.asarray(metrics.ipr(ds.sim_w.values)), -1)  # (B,)
    pred_ipr = np.median(np.asarray(metrics.ipr(ds.pred_w.values)), -1)  # (B, P)
    last = -1
    ode_under = all(pred_ipr[last, j] < UNDER_FACTOR * sim_ipr[last] for j in (0, 1))
    claims.append(
        Claim(
            NAME,
            "[beyond the paper] Gaussian-conditional ODE under-localizes late",
            "(not in the paper)",
            f"median final IPR at batch {int(ds.batch[last])}: SGD {sim_ipr[last]:.3f}, cubic ODE "
            f"{pred_ipr[last, 0]:.3f}, exact-phi ODE {pred_ipr[last, 1]:.3f}",
            bool(ode_under),
            f"both ODE medians < {UNDER_FACTOR} x the SGD median",
        )
    )
    mf = pred_ipr[last, 2]
    claims.append(
        Claim(
            NAME,
            "[beyond the paper] the exact mean-field map does not under-localize",
            "(not in the paper)",
            f"median final IPR: mean-field map {mf:.3f} vs SGD {sim_ipr[last]:.3f}",
            bool(mf >= UNDER_FACTOR * sim_ipr[last]),
            f"mean-field median >= {UNDER_FACTOR} x the SGD median",
        )
    )
    mf_counts = within[:, 2]
    claims.append(
        Claim(
            NAME,
            "[beyond the paper] remaining disagreement of the mean-field map is SGD noise",
            "(not in the paper)",
            "mean-field agreement by batch "
            + ", ".join(f"{int(bb)}: {int(c)}/{s}" for bb, c in zip(ds.batch.values, mf_counts, strict=True)),
            bool(mf_counts[-1] >= mf_counts[0] and mf_counts[-1] >= np.max(within[-1])),
            "agreement at the largest batch >= at the smallest, and the best of the three predictors there",
        )
    )
    return claims
