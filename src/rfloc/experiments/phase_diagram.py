"""rfloc's extension (beyond the paper): a localization phase diagram of the single ReLU neuron.

Axes: the marginal (NLGP gain g, Kur k; each mapped to its exact excess kurtosis κ − 3) × the
correlation length ratio ξ₁/ξ₀ at fixed ξ₀ (class balance p fixed at ½). At every grid point the final
IPR at t = lr × steps is predicted from a fixed set of initial conditions by the expected-SGD map
(:mod:`rfloc.theory.phase`) with the exact φ and with the cubic φ; the Monte Carlo mean-field map
(costlier) runs only at the validation points. The validation points are trained by SGD (train_many) at
the paper's Fig 4 settings under the "paper" profile; the default profile is reduced (listed in the
config under "reductions").

"Localized" is fixed in advance: median IPR > LOCALIZED_IPR = 0.1 (the report-wide definition, see
:mod:`rfloc.experiments.claims`), for simulation (median over seeds) and prediction (median over inits).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import xarray as xr

from rfloc.experiments.claims import LOCALIZED_IPR, Claim, clopper_pearson

NAME = "phase_diagram"
TITLE = "rfloc's extension: localization phase diagram (excess kurtosis x xi1/xi0), theory vs SGD"
CAPTION = (
    "rfloc's extension, beyond the paper. Heatmap: predicted final IPR (effective map, exact phi) at "
    "t = lr x steps, median over initial conditions; dashed line: kappa = 3 (the cubic theory's "
    "boundary); circles: SGD at the validation points, green where simulation and prediction agree on "
    "localized (IPR > 0.1)."
)
PROFILES = ("default", "paper")
PREDICTOR_VARS = {"exact": "pred_exact", "cubic": "pred_cubic", "monte-carlo": "pred_mc"}
# The boundary claim passes when the 95% Clopper–Pearson lower bound of the agreement rate between
# "κ < 3" and the simulated phase exceeds 0.5: the sign rule then predicts the phase better than a coin.
BOUNDARY_LOWER = 0.5
CONFIDENCE = 0.95


def config(quick: bool, profile: str = "default") -> dict:
    """Every setting of the run. profile "paper": SPEC §2 Fig 4 training settings at >= 30 validation points
    x 8 seeds and a >= 1000-point theory grid; "default" fits the 40 s budget; quick: a few seconds."""
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {list(PROFILES)}, got {profile!r}")
    paper = profile == "paper" and not quick
    if quick:
        grid = {"gains": [], "ks": [5.0, 30.0], "ratios": [0.5, 3.0]}
        val = {"gains": [], "ks": [5.0, 30.0], "ratios": [3.0]}
        train = {"seeds": 2, "batch": 200, "steps": 400}
        inits, mc = 2, {"inits": 1, "samples": 100}
    elif paper:
        grid = {
            "gains": np.geomspace(0.05, 100.0, 24).round(4).tolist(),
            "ks": np.geomspace(4.6, 40.0, 24).round(4).tolist(),
            "ratios": np.linspace(0.5, 4.0, 22).round(4).tolist(),
        }
        val = {"gains": [0.1, 0.5, 3.0, 100.0], "ks": [4.8, 5.5, 7.0, 30.0], "ratios": [0.5, 1.5, 3.0, 4.0]}
        train = {"seeds": 8, "batch": 10_000, "steps": 2000}
        inits, mc = 8, {"inits": 4, "samples": 2000}
    else:
        grid = {
            "gains": np.geomspace(0.05, 100.0, 8).round(4).tolist(),
            "ks": np.geomspace(4.6, 40.0, 8).round(4).tolist(),
            "ratios": np.linspace(0.5, 4.0, 6).round(4).tolist(),
        }
        # 6 points: the fewest at which 6/6 agreement clears the claims' bound (CP lower 0.54 > 0.5). Every
        # point is its own SGD compile (data models are static in train_many): ~6 CPU-s each.
        val = {"gains": [100.0], "ks": [5.0, 30.0], "ratios": [1.5, 3.0]}
        train = {"seeds": 2, "batch": 250, "steps": 2000}
        inits, mc = 8, {"inits": 1, "samples": 250}
    reductions = []
    if not paper:
        n_val = len(val["ratios"]) * (len(val["gains"]) + len(val["ks"]))
        reductions = [
            f"{n_val} validation points (paper profile: 32)",
            f"{train['seeds']} seeds per point (paper profile: 8)",
            f"batch {train['batch']} (paper: 10 000)",
            f"Monte Carlo map: {mc['inits']} inits x {mc['samples']} samples/step (paper profile: 4 x 2000)",
            "theory grid "
            f"{len(grid['ratios']) * (len(grid['gains']) + len(grid['ks']))} points (paper profile: 1056)",
        ]
        if train["steps"] != 2000:
            reductions.append(f"{train['steps']} SGD steps (paper: 2000)")
    return {
        "profile": "quick" if quick else profile,
        "extension": "rfloc's extension (beyond the paper)",
        "n": 40,
        "xi0": 1.0,
        "class_proportion": 0.5,
        "lr": 0.05,
        "init_scale": 0.001,
        "grid": grid,
        "validation": val,
        "train": train,
        "inits": inits,
        "mc": mc,
        "threshold": LOCALIZED_IPR,
        "reductions": reductions,
    }


def _models(cfg, family, values, ratios):
    from rfloc.theory.phase import family_models

    return family_models(family, values, ratios, cfg["xi0"], cfg["n"], cfg["class_proportion"])


def run(cfg: dict) -> xr.Dataset:
    import jax

    from rfloc import metrics
    from rfloc.nn import NetConfig
    from rfloc.theory.phase import initial_conditions, predict_ipr
    from rfloc.train import TrainConfig, train_many

    lr, steps = cfg["lr"], cfg["train"]["steps"]
    w0 = initial_conditions(cfg["n"], cfg["inits"], cfg["init_scale"])
    w0_mc = w0[: cfg["mc"]["inits"]]
    grid, val = cfg["grid"], cfg["validation"]
    timing = {"theory_s": 0.0, "theory_cpu_s": 0.0, "mc_s": 0.0, "sim_s": 0.0, "sim_cpu_s": 0.0}
    grid_pred, val_rows = {}, []
    families = [(f, k) for f, k in (("nlgp", "gains"), ("kur", "ks")) if grid[k]]
    for family, key in families:
        g_models = _models(cfg, family, grid[key], grid["ratios"])
        v_models = _models(cfg, family, val[key], val["ratios"])
        both = g_models + v_models
        t0, c0 = time.perf_counter(), time.process_time()
        preds = {p: predict_ipr(both, w0, lr, steps, p) for p in ("exact", "cubic")}
        timing["theory_s"] += time.perf_counter() - t0
        timing["theory_cpu_s"] += time.process_time() - c0
        t0 = time.perf_counter()
        mc = predict_ipr(
            v_models, w0_mc, lr, steps, "monte-carlo", mc_samples=cfg["mc"]["samples"], key=jax.random.key(1)
        )
        timing["mc_s"] += time.perf_counter() - t0
        shape = (len(grid[key]), len(grid["ratios"]), w0.shape[0])
        grid_pred[family] = {p: v[: len(g_models)].reshape(shape) for p, v in preds.items()}
        grid_pred[family]["excess"] = np.array(
            [m.marginal.excess_kurtosis for m in g_models[:: len(grid["ratios"])]]
        )

        t0, c0 = time.perf_counter(), time.process_time()
        tc = TrainConfig(
            data=v_models[0],
            net=NetConfig(init_scale=cfg["init_scale"]),
            lr=lr,
            batch_size=cfg["train"]["batch"],
            steps=steps,
            eval_every=steps,
        )
        settings = [{FAMILY_FIELD[family]: getattr(m, FAMILY_FIELD[family]), "xi": m.xi} for m in v_models]
        tr = train_many(tc, seeds=cfg["train"]["seeds"], grid=settings).to_xarray()
        final = tr.weights.isel(time=-1, neuron=0).values  # (setting, seed, input) = (H, S, N)
        sim = np.asarray(metrics.ipr(final))  # (H, S)
        timing["sim_s"] += time.perf_counter() - t0
        timing["sim_cpu_s"] += time.process_time() - c0
        for h, m in enumerate(v_models):
            b = len(g_models) + h
            val_rows.append(
                (
                    family,
                    getattr(m, FAMILY_FIELD[family]),
                    m.xi[1] / m.xi[0],
                    m.marginal.excess_kurtosis,
                    sim[h],
                    preds["exact"][b],
                    preds["cubic"][b],
                    mc[h],
                )
            )
    col = list(zip(*val_rows, strict=True))
    ds = xr.Dataset(
        {
            "family": ("point", list(col[0])),
            "parameter": ("point", np.array(col[1], float)),
            "xi_ratio": ("point", np.array(col[2], float)),
            "excess_kurtosis": ("point", np.array(col[3], float)),
            "sim_ipr": (("point", "seed"), np.stack(col[4])),
            "pred_exact": (("point", "init"), np.stack(col[5])),
            "pred_cubic": (("point", "init"), np.stack(col[6])),
            "pred_mc": (("point", "mc_init"), np.stack(col[7])),
        },
        coords={"ratio": np.asarray(grid["ratios"], float)},
    )
    for family, key in families:
        ds[f"{family}_parameter"] = (f"{family}_value", np.asarray(grid[key], float))
        ds[f"{family}_excess"] = (f"{family}_value", grid_pred[family]["excess"])
        for p in ("exact", "cubic"):
            ds[f"{family}_grid_{p}"] = ((f"{family}_value", "ratio", "init"), grid_pred[family][p])
    ds.attrs["config"] = json.dumps(cfg)
    ds.attrs["timing"] = json.dumps(timing)
    ds.attrs["threshold"] = cfg["threshold"]
    return ds


FAMILY_FIELD = {"nlgp": "gain", "kur": "k"}


def verdicts(ds: xr.Dataset) -> dict[str, np.ndarray]:
    """Per validation point: localized? (median IPR > threshold) for "sim" and each predictor, and the
    cubic theory's boundary rule "kappa<3"."""
    thr = float(ds.attrs.get("threshold", LOCALIZED_IPR))
    out = {"sim": np.median(ds.sim_ipr.values, axis=1) > thr}
    for p, var in PREDICTOR_VARS.items():
        out[p] = np.median(ds[var].values, axis=1) > thr
    out["kappa<3"] = ds.excess_kurtosis.values < 0
    return out


def agreement_table(ds: xr.Dataset) -> list[dict]:
    """Agreement with the simulated phase for each predictor: count, rate and Clopper–Pearson interval."""
    v = verdicts(ds)
    rows = []
    for p in (*PREDICTOR_VARS, "kappa<3"):
        agree = v[p] == v["sim"]
        k, n = int(agree.sum()), agree.size
        lo, hi = clopper_pearson(k, n, CONFIDENCE)
        rows.append({"predictor": p, "agree": k, "points": n, "rate": k / n, "ci_low": lo, "ci_high": hi})
    return rows


def point_table(ds: xr.Dataset) -> list[dict]:
    """Per validation point: parameters, median simulated and predicted IPR and the verdicts."""
    v = verdicts(ds)
    rows = []
    for i in range(ds.sizes["point"]):
        rows.append(
            {
                "family": str(ds.family.values[i]),
                "parameter": float(ds.parameter.values[i]),
                "xi_ratio": float(ds.xi_ratio.values[i]),
                "excess_kurtosis": float(ds.excess_kurtosis.values[i]),
                "sim_ipr": float(np.median(ds.sim_ipr.values[i])),
                **{var: float(np.median(ds[var].values[i])) for var in PREDICTOR_VARS.values()},
                **{f"loc_{k}": bool(val[i]) for k, val in v.items()},
            }
        )
    return rows


def plot(ds: xr.Dataset, out: Path) -> list[Path]:
    import matplotlib.pyplot as plt

    from rfloc.plot import save_figure

    v = verdicts(ds)
    agree = v["exact"] == v["sim"]
    families = [f for f in ("nlgp", "kur") if f"{f}_excess" in ds]
    fig, axes = plt.subplots(1, len(families), figsize=(5.5 * len(families), 4.2), sharey=True, squeeze=False)
    axes = axes[0]
    for ax, family in zip(axes, families, strict=True):
        ex = ds[f"{family}_excess"].values
        order = np.argsort(ex)
        z = np.median(ds[f"{family}_grid_exact"].values, axis=-1)[order]  # (value, ratio)
        mesh = ax.pcolormesh(
            ex[order], ds.ratio.values, z.T, shading="nearest", vmin=0, vmax=1, cmap="viridis"
        )
        ax.axvline(0.0, color="w", ls="--", lw=1.2, label="kappa = 3")
        sel = ds.family.values == family
        for ok, colour, label in ((True, "tab:green", "agree"), (False, "tab:red", "disagree")):
            m = sel & (agree == ok)
            ax.scatter(
                ds.excess_kurtosis.values[m],
                ds.xi_ratio.values[m],
                s=60,
                facecolor=colour,
                edgecolor="k",
                label=label,
            )
        ax.set(
            xlabel="excess kurtosis", title=f"{family.upper()} ({'gain' if family == 'nlgp' else 'k'} sweep)"
        )
        if family == "kur" and ex.size > 1:
            ax.set_xscale("symlog", linthresh=1.0)
    axes[0].set_ylabel("xi1 / xi0")
    axes[0].legend(loc="upper left", fontsize=8)
    fig.colorbar(mesh, ax=axes, label="predicted final IPR (exact phi)")
    fig.suptitle("rfloc's extension: localization phase diagram")
    paths = [save_figure(fig, Path(out) / "phase_diagram.png")]
    return paths + [_table_figure(ds, Path(out) / "phase_diagram_points.png")]


def _table_figure(ds: xr.Dataset, path: Path) -> Path:
    """The per-point table (median IPRs, localized? per source) and the agreement rates, as an image."""
    import matplotlib.pyplot as plt

    from rfloc.plot import save_figure

    yes = {True: "Y", False: "n"}
    head = ["family", "param", "xi1/xi0", "excess", "SGD", "exact", "cubic", "MC", "loc S/E/C/M/k<3"]
    cells = [
        [
            r["family"],
            f"{r['parameter']:g}",
            f"{r['xi_ratio']:g}",
            f"{r['excess_kurtosis']:.2f}",
            f"{r['sim_ipr']:.3f}",
            f"{r['pred_exact']:.3f}",
            f"{r['pred_cubic']:.3f}",
            f"{r['pred_mc']:.3f}",
            "/".join(yes[r[f"loc_{k}"]] for k in ("sim", *PREDICTOR_VARS, "kappa<3")),
        ]
        for r in point_table(ds)
    ]
    rates = "; ".join(
        f"{r['predictor']}: {r['agree']}/{r['points']} [{r['ci_low']:.2f}, {r['ci_high']:.2f}]"
        for r in agreement_table(ds)
    )
    fig, ax = plt.subplots(figsize=(10, 0.6 + 0.22 * (len(cells) + 2)))
    ax.axis("off")
    table = ax.table(cellText=cells, colLabels=head, loc="upper center", cellLoc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(7)
    ax.set_title(
        f"rfloc's extension: median final IPR per validation point; agreement (95% CP): {rates}", fontsize=8
    )
    return save_figure(fig, path)


def check(ds: xr.Dataset) -> list[Claim]:
    rows = {r["predictor"]: r for r in agreement_table(ds)}
    claims = []
    for p in PREDICTOR_VARS:
        r = rows[p]
        claims.append(
            Claim(
                NAME,
                f"rfloc's extension: {p} predictor calls localized / not as SGD does",
                "beyond the paper",
                f"{r['agree']}/{r['points']} agree, rate {r['rate']:.2f} "
                f"(95% CP [{r['ci_low']:.2f}, {r['ci_high']:.2f}])",
                bool(r["ci_low"] > BOUNDARY_LOWER),
                f"95% Clopper-Pearson lower bound > {BOUNDARY_LOWER} (better than a coin); localized: median "
                f"IPR > {float(ds.attrs.get('threshold', LOCALIZED_IPR))}",
            )
        )
    r = rows["kappa<3"]
    reductions = json.loads(ds.attrs.get("config", "{}")).get("reductions", [])
    reduced = f"; reductions: {', '.join(reductions)}" if reductions else ""
    claims.append(
        Claim(
            NAME,
            "rfloc's extension: the theory's boundary (kappa = 3) matches the simulated boundary",
            "cubic theory: localizes iff excess kurtosis < 0",
            f"{r['agree']}/{r['points']} points on the predicted side, rate {r['rate']:.2f} "
            f"(95% CP [{r['ci_low']:.2f}, {r['ci_high']:.2f}]){reduced}",
            bool(r["ci_low"] > BOUNDARY_LOWER),
            f"95% Clopper-Pearson lower bound of the agreement rate > {BOUNDARY_LOWER}, fixed in advance",
        )
    )
    return claims
