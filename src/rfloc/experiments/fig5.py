"""Fig 5: many-neuron networks localize for negative excess kurtosis; FastICA localizes for heavy tails.

Networks (N = 100, SPEC §2 table): K = 10 sigmoid with trainable bias on Kur(4, 10, 30); K = 100 ReLU
without bias on Kur(5, 6); K = 100 sigmoid with a fixed bias −1 on NLGP(100). FastICA (N = 40) on pooled,
unlabelled Kur(3) and Kur(30) data with 10 components (the brief's setting) and with 40 (SPEC's other one).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from rfloc.experiments.claims import LOCALIZED_IPR, Claim

NAME = "fig5"
TITLE = "Fig 5 - many neurons localize for negative excess kurtosis; ICA in the opposite regime"
CAPTION = (
    "Final RFs of many-neuron nets (N = 100; five neurons per panel at the quantiles 0, 1/4, 1/2, 3/4, 1 "
    "of their IPR) and FastICA filters (N = 40) on Kur(3) and Kur(30); median IPR in each title."
)

N_NET = 100
# "Localized" at N = 100, by the rule that set LOCALIZED_IPR = 0.1 at N = 40 (≈3× the most concentrated
# delocalized shape): a sinusoid has IPR 3/(2N) = 0.015 at N = 100, so 3 × 0.015 = 0.045 (≤ 22 effective
# inputs out of 100). The absolute 0.1 would ask for ≤ 10 inputs, a stricter notion at N = 100 than at
# N = 40; the init (truncated Xavier) has IPR ≈ 0.024. The fraction of neurons above 0.1 is also reported.
# (Fixed after looking at a first full run of Kur(10) and Kur(5, 6); it is the rule the brief proposed.)
LOCALIZED_IPR_N100 = 9 / (2 * N_NET)
# A network "localizes" when its median neuron does: at least half of the neurons are localized, and a few
# dead or unmoved units (ReLU without bias, tiny init) cannot flip the verdict.

# name: (data model, k or gain, net, lr, init_scale) from SPEC §2 (authors' seed 0).
NETS = {
    "kur4": ("kur", 4.0, "sigmoid10", 100.0, 0.1),
    "kur10": ("kur", 10.0, "sigmoid10", 100.0, 0.1),
    "kur30": ("kur", 30.0, "sigmoid10", 100.0, 0.1),
    "kur5": ("kur", 5.0, "relu100", 5.0, 0.001),
    "kur6": ("kur", 6.0, "relu100", 5.0, 0.001),
    "nlgp100": ("nlgp", 100.0, "sigmoid100_bias-1", 5.0, 0.001),
}
# Paper's expectation: localized for negative excess kurtosis (k = 6, 10, 30; g = 100), not for k = 4, 5.
EXPECT_LOCALIZED = {"kur4": False, "kur10": True, "kur30": True, "kur5": False, "kur6": True, "nlgp100": True}
LABELS = {
    "kur4": "Kur(4), K=10 sigmoid",
    "kur10": "Kur(10), K=10 sigmoid",
    "kur30": "Kur(30), K=10 sigmoid",
    "kur5": "Kur(5), K=100 ReLU",
    "kur6": "Kur(6), K=100 ReLU",
    "nlgp100": "NLGP(100), K=100 sigmoid b=-1",
}
ICA_K = (3.0, 30.0)


def config(quick: bool) -> dict:
    if quick:
        # Smoke test of the pipeline (≤ 15 s, dominated by compiling six training programs): RFs barely move.
        steps, batch, records = 100, 100, 10
        ica = [{"components": 10, "num": 20_000}, {"components": 40, "num": 5000}]
    else:
        # Paper: 5000 steps of batch 1000. Reduced to 4000 steps (batch kept) to fit fig5's ≈120 s share of
        # the 10-minute budget: the paper's 5000 cost 148 s CPU here (≈20 s per Kur run, 13 s for NLGP).
        # A batch of 500 saves nothing (the step cost is not batch-bound) and slowed Kur(10)'s localization.
        steps, batch, records = 4000, 1000, 20
        # The authors' 10⁵ samples for both component counts (≈3 s per FastICA fit with one BLAS thread).
        ica = [{"components": 10, "num": 100_000}, {"components": 40, "num": 100_000}]
    return {
        "n": N_NET,
        "xi": [1.0, 3.0],
        "steps": steps,
        "batch": batch,
        "records": records,
        "seed": 0,
        "nets": {name: list(v) for name, v in NETS.items()},
        "ica": {"n": 40, "k": list(ICA_K), "runs": ica, "whiten": "unit-variance", "random_state": 0},
    }


def _net(kind: str, init_scale: float):
    from rfloc.nn import NetConfig

    if kind == "sigmoid10":
        return NetConfig(kind="simplenet", width=10, activation="sigmoid", bias=True, init_scale=init_scale)
    if kind == "relu100":
        return NetConfig(kind="simplenet", width=100, activation="relu", init_scale=init_scale)
    if kind == "sigmoid100_bias-1":
        return NetConfig(
            kind="simplenet",
            width=100,
            activation="sigmoid",
            bias=True,
            train_bias=False,
            bias_value=-1.0,
            init_scale=init_scale,
        )
    raise ValueError(f"net kind must be one of sigmoid10, relu100, sigmoid100_bias-1, got {kind!r}")


def _ipr(w: np.ndarray) -> np.ndarray:
    w2 = np.asarray(w, np.float64) ** 2
    return (w2**2).sum(-1) / w2.sum(-1) ** 2


def run(cfg: dict) -> xr.Dataset:
    import jax

    from rfloc.baselines import fit_ica
    from rfloc.data import NLGP, Kur
    from rfloc.train import TrainConfig, train_many

    n, xi, kmax = cfg["n"], tuple(cfg["xi"]), max(_net(v[2], v[4]).width for v in cfg["nets"].values())
    names = list(cfg["nets"])
    t_rec = cfg["records"] + 1
    final_w = np.full((len(names), kmax, n), np.nan, np.float32)
    ipr_t = np.full((len(names), t_rec, kmax), np.nan)
    diverged = np.zeros(len(names), bool)
    for c, name in enumerate(names):
        model, param, kind, lr, init = cfg["nets"][name]
        data = Kur(n=n, xi=xi, k=param) if model == "kur" else NLGP(n=n, xi=xi, gain=param)
        net = _net(kind, init)
        tc = TrainConfig(
            data=data,
            net=net,
            lr=lr,
            batch_size=cfg["batch"],
            steps=cfg["steps"],
            eval_every=cfg["steps"] // cfg["records"],
            seed=cfg["seed"],
        )
        res = train_many(tc, seeds=[cfg["seed"]])
        w = res.weights[0, 0]  # (T, K, N)
        final_w[c, : net.width] = w[-1]
        ipr_t[c, :, : net.width] = _ipr(w)
        diverged[c] = bool(res.diverged[0, 0])
        steps = res.steps

    ica_cfg = cfg["ica"]
    runs = ica_cfg["runs"]
    cmax = max(r["components"] for r in runs)
    filters = np.full((len(runs), len(ica_cfg["k"]), cmax, ica_cfg["n"]), np.nan)
    ica_ipr = np.full((len(runs), len(ica_cfg["k"]), cmax), np.nan)
    converged = np.zeros((len(runs), len(ica_cfg["k"])), bool)
    for r, spec in enumerate(runs):
        for j, k in enumerate(ica_cfg["k"]):
            out = fit_ica(
                Kur(n=ica_cfg["n"], xi=xi, k=k),
                spec["num"],
                spec["components"],
                jax.random.key(j),
                whiten=ica_cfg["whiten"],
                random_state=ica_cfg["random_state"],
            )
            filters[r, j, : spec["components"]] = out.filters
            ica_ipr[r, j, : spec["components"]] = out.ipr
            converged[r, j] = out.converged
    return xr.Dataset(
        {
            "final_w": (("case", "neuron", "input"), final_w),
            "ipr": (("case", "step", "neuron"), ipr_t),
            "diverged": (("case",), diverged),
            "ica_filters": (("ica_run", "ica_k", "component", "ica_input"), filters),
            "ica_ipr": (("ica_run", "ica_k", "component"), ica_ipr),
            "ica_converged": (("ica_run", "ica_k"), converged),
        },
        coords={
            "case": names,
            "step": steps,
            "width": ("case", [_net(cfg["nets"][m][2], 1.0).width for m in names]),
            "ica_run": [f"C={r['components']}" for r in runs],
            "ica_components": ("ica_run", [r["components"] for r in runs]),
            "ica_num": ("ica_run", [r["num"] for r in runs]),
            "ica_k": list(ica_cfg["k"]),
        },
    )


def _quantile_rows(ipr: np.ndarray) -> np.ndarray:
    """Indices of the units at the IPR quantiles 0, 1/4, 1/2, 3/4, 1 (finite entries only)."""
    idx = np.flatnonzero(np.isfinite(ipr))
    order = idx[np.argsort(ipr[idx])]
    return order[np.round(np.linspace(0, len(order) - 1, 5)).astype(int)]


def _stack(ax, rows: np.ndarray, ipr: np.ndarray, title: str) -> None:
    """RFs one above the other (each scaled to max |w| = 0.45), labelled with their IPR."""
    for j, (w, v) in enumerate(zip(rows, ipr, strict=True)):
        ax.plot(w / np.abs(w).max() * 0.45 + j, lw=1)
        ax.text(len(w) - 1, j + 0.25, f"{v:.3f}", ha="right", fontsize=7)
    ax.set(title=title, xlabel="input i", yticks=[])
    ax.title.set_fontsize(9)


def plot(ds: xr.Dataset, out: Path) -> list[Path]:
    import matplotlib.pyplot as plt

    from rfloc.plot import save_figure

    out = Path(out)
    files = []
    fig, axes = plt.subplots(2, 3, figsize=(13, 7))
    for ax, case in zip(axes.flat, ds.case.values, strict=True):
        ipr = ds.ipr.sel(case=case).isel(step=-1).values
        rows = _quantile_rows(ipr)
        _stack(
            ax,
            ds.final_w.sel(case=case).values[rows],
            ipr[rows],
            f"{LABELS.get(case, case)}: median IPR {np.nanmedian(ipr):.3f}",
        )
    fig.tight_layout()
    files.append(save_figure(fig, out / "fig5_network_rfs.png"))

    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    for case in ds.case.values:
        med = np.nanmedian(ds.ipr.sel(case=case).values, axis=-1)
        axes[0].plot(ds.step.values, med, label=LABELS.get(case, case))
    axes[0].axhline(
        LOCALIZED_IPR_N100, color="k", ls="--", lw=1, label=f"localized ({LOCALIZED_IPR_N100:.3f})"
    )
    axes[0].set(xlabel="SGD step", ylabel="median neuron IPR", title="localization over training (N = 100)")
    axes[0].legend(fontsize=7)
    for j, case in enumerate(ds.case.values):
        ipr = ds.ipr.sel(case=case).isel(step=-1).values
        ipr = ipr[np.isfinite(ipr)]
        axes[1].plot(np.full(ipr.shape, j) + np.linspace(-0.2, 0.2, len(ipr)), ipr, ".", ms=3)
    axes[1].axhline(LOCALIZED_IPR_N100, color="k", ls="--", lw=1)
    axes[1].set(ylabel="final IPR per neuron", title="final IPR of every neuron", yscale="log")
    axes[1].set_xticks(range(len(ds.case)), [LABELS.get(c, c).split(",")[0] for c in ds.case.values])
    fig.tight_layout()
    files.append(save_figure(fig, out / "fig5_ipr.png"))

    fig, axes = plt.subplots(
        len(ds.ica_run), len(ds.ica_k), figsize=(10, 3.5 * len(ds.ica_run)), squeeze=False
    )
    for r, run in enumerate(ds.ica_run.values):
        for j, k in enumerate(ds.ica_k.values):
            ipr = ds.ica_ipr.sel(ica_run=run, ica_k=k).values
            rows = _quantile_rows(ipr)
            _stack(
                axes[r, j],
                ds.ica_filters.sel(ica_run=run, ica_k=k).values[rows],
                ipr[rows],
                f"FastICA {run}, Kur({k:g}), {int(ds.ica_num[r])} samples: "
                f"median IPR {np.nanmedian(ipr):.3f}",
            )
    fig.tight_layout()
    files.append(save_figure(fig, out / "fig5_ica.png"))
    return files


def _pca_ceiling(components: int, n: int = 40, xi=(1.0, 3.0), k: float = 3.0) -> float:
    """Largest IPR reachable inside FastICA's whitened subspace: that of a delta projected onto the top
    `components` principal components of the pooled covariance (a Dirichlet-like kernel when C < N)."""
    from rfloc.data import Kur

    m = Kur(n=n, xi=tuple(xi), k=k)
    cov = 0.5 * (m.class_covariance(0) + m.class_covariance(1))
    u = np.linalg.eigh(cov)[1][:, ::-1][:, :components]
    return float(_ipr(u @ u.T).max())


def check(ds: xr.Dataset) -> list[Claim]:
    claims = []
    final = {}
    for case in ds.case.values:
        ipr = ds.ipr.sel(case=case).isel(step=-1).values
        ipr = ipr[np.isfinite(ipr)]
        med = float(np.median(ipr))
        final[case] = bool(med > LOCALIZED_IPR_N100)
        want = EXPECT_LOCALIZED[case]
        ok = final[case] == want and not bool(ds.diverged.sel(case=case))
        claims.append(
            Claim(
                NAME,
                f"network on {LABELS[case]}: {'localized' if want else 'not localized'}",
                "localized RFs (Fig 5)" if want else "no localized RFs (Fig 5)",
                f"median IPR {med:.3f} over {len(ipr)} neurons; "
                f"{np.mean(ipr > LOCALIZED_IPR_N100):.0%} above {LOCALIZED_IPR_N100:.3f}, "
                f"{np.mean(ipr > LOCALIZED_IPR):.0%} above {LOCALIZED_IPR}"
                + (" (diverged)" if bool(ds.diverged.sel(case=case)) else ""),
                ok,
                f"median neuron IPR {'>' if want else '<='} {LOCALIZED_IPR_N100:.3f} "
                "(3 x a sinusoid's IPR at N = 100)",
            )
        )

    ica_local = {}
    for r, run in enumerate(ds.ica_run.values):
        comps = int(ds.ica_components[r])
        ceiling = _pca_ceiling(comps)
        for k in ds.ica_k.values:
            ipr = ds.ica_ipr.sel(ica_run=run, ica_k=k).values
            ipr = ipr[np.isfinite(ipr)]
            med = float(np.median(ipr))
            want = bool(k < 4)  # heavy tail (infinite kurtosis) -> ICA localizes
            ica_local[(run, k)] = bool(med > LOCALIZED_IPR)
            conv = bool(ds.ica_converged.sel(ica_run=run, ica_k=k))
            claims.append(
                Claim(
                    NAME,
                    f"FastICA {run} on Kur({k:g}): filters {'localized' if want else 'not localized'}",
                    "localized (heavy tails)" if want else "not localized",
                    f"median filter IPR {med:.3f} ({int(ds.ica_num[r])} samples, "
                    f"{'converged' if conv else 'NOT converged'}); "
                    f"ceiling in the {comps}-PC subspace {ceiling:.3f}",
                    ica_local[(run, k)] == want,
                    f"median filter IPR {'>' if want else '<='} {LOCALIZED_IPR} (LOCALIZED_IPR, N = 40); "
                    "FastICA's filters lie in the whitened top-C PC subspace, whose most localized "
                    "vector has the ceiling IPR shown",
                )
            )

    # The headline contrast, on the two ends both methods were run at: heavy tails (network Kur(4), ICA
    # Kur(3)) and near-uniform marginals (Kur(30) for both).
    net_ok = final.get("kur30", False) and not final.get("kur4", True)
    for run in ds.ica_run.values:
        lo, hi = float(ds.ica_k.min()), float(ds.ica_k.max())
        ica_ok = ica_local[(run, lo)] and not ica_local[(run, hi)]
        claims.append(
            Claim(
                NAME,
                f"ICA ({run}) and network localize in opposite regimes",
                "ICA: heavy tails (k = 3); network: negative excess kurtosis",
                f"network localized at k=30 {final.get('kur30')}, at k=4 {final.get('kur4')}; "
                f"ICA localized at k={lo:g} {ica_local[(run, lo)]}, at k={hi:g} {ica_local[(run, hi)]}",
                bool(net_ok and ica_ok),
                "both of the rows above hold at each end: network k=30 yes / k=4 no, ICA k=3 yes / k=30 no",
            )
        )
    return claims
