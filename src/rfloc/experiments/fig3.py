"""Fig 3: marginal, amplifier φ, and simulated vs integrated RF evolution for Ising, Gaussian and Kur(5).

The simulation is the single ReLU neuron by online SGD (SPEC §2 Fig 3 row); the prediction integrates the
effective ODE (SPEC §3, exact constants) from the same initial weights to the same time t = lr × steps,
with the cubic φ (the paper's) and with the exact φ (rfloc's). Integrating Gaussian and Kur(5) too is
rfloc's extension: there the theory predicts no localization.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from rfloc.experiments import VECTORIZE
from rfloc.experiments.claims import LOCALIZED_IPR, Claim
from rfloc.experiments.claims import deviations as _deviations

NAME = "fig3"
TITLE = "Fig 3 - amplifier and RF evolution: Ising localizes, Gaussian and Kur(5) do not"
CAPTION = (
    "Rows: Ising J=(0.3, 0.7) (batch 500), Gaussian (NLGP g=0.01), Kur(5) (batch 10 000); lr 0.05, "
    "2000 steps, init 0.001. Columns: marginal; phi(a) vs sqrt(2/pi)a; simulated RF (colour = step); "
    "effective ODE with cubic phi from the same w0."
)
# Peak agreement: within ±1 site on the ring (rfloc's protocol, SPEC §4); exact matches reported too.
PEAK_TOL = 1


# The paper's Fig 3 settings (SPEC §2; Ising batch 500, the top of the paper's 100-500). The default
# profile already is the paper's; only quick reduces.
PAPER = {
    "ising.batch": 500,
    "gaussian.batch": 10_000,
    "kur5.batch": 10_000,
    "ising.seed": 42,
    "gaussian.seed": 0,
    "kur5.seed": 0,
    "lr": 0.05,
    "steps": 2000,
    "init_scale": 0.001,
}
# The default profile caps the batch (the step cost is sampling, linear in the batch); the paper profile
# runs the paper's 10 000.
DEFAULT_MAX_BATCH = 5000
REASONS = {
    f"{c}.batch": (
        f"2-core budget: batch capped at {DEFAULT_MAX_BATCH} (quick profile, a smoke test: at 1000); the "
        "SGD noise around the ODE path grows by sqrt(2)"
    )
    for c in ("ising", "gaussian", "kur5")
} | {"steps": "quick profile (smoke test)"}


def config(quick: bool, profile: str = "default") -> dict:
    """The paper's settings (PAPER) under the paper profile; the default caps the batch at
    DEFAULT_MAX_BATCH; quick: a smoke test."""
    if profile not in ("default", "paper"):
        raise ValueError(f"profile must be one of ['default', 'paper'], got {profile!r}")
    cases = {
        # name: (model config, batch, seed) — the authors' seeds: Ising 42, others 0 (SPEC §2)
        "ising": ({"model": "ising", "n": 40, "J": [0.3, 0.7]}, 500, 42),
        "gaussian": ({"model": "nlgp", "n": 40, "xi": [1.0, 3.0], "gain": 0.01}, 10_000, 0),
        "kur5": ({"model": "kur", "n": 40, "xi": [1.0, 3.0], "k": 5.0}, 10_000, 0),
    }
    if quick:
        cases = {k: (m, min(b, 1000), s) for k, (m, b, s) in cases.items()}
    elif profile == "default":
        cases = {k: (m, min(b, DEFAULT_MAX_BATCH), s) for k, (m, b, s) in cases.items()}
    return {
        "cases": {k: {"data": m, "batch": b, "seed": s} for k, (m, b, s) in cases.items()},
        "lr": 0.05,
        "steps": 600 if quick else 2000,
        "eval_every": 10,
        "init_scale": 0.001,
    }


def deviations(cfg: dict):
    used = {k: cfg[k] for k in ("lr", "steps", "init_scale")}
    for name, case in cfg["cases"].items():
        used[f"{name}.batch"], used[f"{name}.seed"] = case["batch"], case["seed"]
    return _deviations(NAME, PAPER, used, REASONS)


def run(cfg: dict) -> xr.Dataset:
    import jax

    from rfloc.data import from_dict
    from rfloc.nn import NetConfig
    from rfloc.theory import amplifier, cubic_amplifier, effective_dynamics
    from rfloc.train import TrainConfig, train_many

    a = np.linspace(-1, 1, 201)
    edges = np.linspace(-4, 4, 81)
    out: dict[str, list] = {
        k: [] for k in ("sim", "ode_cubic", "ode_exact", "phi", "phi_cubic", "kappa", "hist")
    }
    for i, case in enumerate(cfg["cases"].values()):
        data = from_dict(case["data"])
        tc = TrainConfig(
            data=data,
            net=NetConfig(init_scale=cfg["init_scale"]),
            lr=cfg["lr"],
            batch_size=case["batch"],
            steps=cfg["steps"],
            eval_every=cfg["eval_every"],
            seed=case["seed"],
        )
        tr = (
            train_many(tc, seeds=[case["seed"]], vectorize=VECTORIZE)
            .to_xarray()
            .isel(setting=0, seed=0, neuron=0)
        )
        sim = tr.weights.values  # (time, input) = (T, N)
        times = tr.theory_time.values  # t = lr × step of each record
        kappa = data.marginal.kurtosis
        out["sim"].append(sim)
        for kind in ("cubic", "exact"):
            out[f"ode_{kind}"].append(np.asarray(effective_dynamics(data, sim[0], times, phi=kind).weights))
        out["phi"].append(amplifier(data.marginal, a, xp=np))
        out["phi_cubic"].append(np.asarray(cubic_amplifier(kappa, a)))
        out["kappa"].append(kappa)
        x, _ = data.sample(jax.random.key(100 + i), 20_000)
        out["hist"].append(np.histogram(np.asarray(x).ravel(), bins=edges, density=True)[0])
    traj = ("data", "time", "input")
    return xr.Dataset(
        {
            "sim_w": (traj, np.stack(out["sim"])),
            "ode_cubic_w": (traj, np.stack(out["ode_cubic"])),
            "ode_exact_w": (traj, np.stack(out["ode_exact"])),
            "phi": (("data", "a"), np.stack(out["phi"])),
            "phi_cubic": (("data", "a"), np.stack(out["phi_cubic"])),
            "kappa": ("data", np.array(out["kappa"])),
            "hist": (("data", "bin"), np.stack(out["hist"])),
        },
        coords={
            "data": list(cfg["cases"]),
            "step": ("time", tr.step.values),
            "a": a,
            "bin": 0.5 * (edges[1:] + edges[:-1]),
        },
        attrs={"lr": cfg["lr"]},
    )


def _final_metrics(ds: xr.Dataset, var: str) -> tuple[np.ndarray, np.ndarray]:
    from rfloc import metrics

    w = ds[var].isel(time=-1).values
    return np.asarray(metrics.ipr(w)), np.asarray(metrics.peak_index(w))


def plot(ds: xr.Dataset, out: Path) -> list[Path]:
    import matplotlib.pyplot as plt

    from rfloc.plot import plot_rf_evolution, save_figure

    labels = {"ising": "Ising", "gaussian": "Gaussian (g=0.01)", "kur5": "Kur(5)"}
    fig, axes = plt.subplots(len(ds.data), 4, figsize=(17, 3.6 * len(ds.data)))
    steps = ds.step.values
    for row, d in enumerate(ds.data.values):
        sel = ds.sel(data=d)
        ax = axes[row]
        ax[0].bar(ds.bin.values, sel.hist.values, width=0.1, color="0.4")
        ax[0].set(title=f"{labels.get(d, d)}: marginal", xlabel="x_i", ylabel="density")
        a = ds.a.values
        ax[1].plot(a, sel.phi.values, "k-", label="phi(a) exact")
        ax[1].plot(a, sel.phi_cubic.values, "r--", label="cubic (kurtosis) phi")
        ax[1].plot(a, np.sqrt(2 / np.pi) * a, ":", color="0.5", label="sqrt(2/pi) a")
        ax[1].set(title=f"amplifier, kappa = {float(sel.kappa):.3g}", xlabel="a", ylabel="phi(a)")
        ax[1].legend(fontsize=7)
        plot_rf_evolution(ax[2], sel.sim_w.values, steps)
        ax[2].set_title("simulated RF (SGD)")
        plot_rf_evolution(ax[3], sel.ode_cubic_w.values, steps)
        ax[3].set_title("effective ODE, cubic phi (same w0)")
    fig.tight_layout()
    return [save_figure(fig, Path(out) / "fig3_rf_evolution.png")]


def check(ds: xr.Dataset) -> list[Claim]:
    from rfloc import metrics

    n = ds.sizes["input"]
    ipr_sim, peak_sim = _final_metrics(ds, "sim_w")
    ipr_cub, peak_cub = _final_metrics(ds, "ode_cubic_w")
    ipr_ex, peak_ex = _final_metrics(ds, "ode_exact_w")
    idx = {d: i for i, d in enumerate(ds.data.values)}
    claims = []
    i = idx["ising"]
    claims.append(
        Claim(
            NAME,
            "Ising: the simulated RF localizes",
            "localized (Fig 3)",
            f"final IPR {ipr_sim[i]:.3f}",
            bool(ipr_sim[i] > LOCALIZED_IPR),
            f"IPR > {LOCALIZED_IPR}",
        )
    )
    for d in ("gaussian", "kur5"):
        j = idx[d]
        claims.append(
            Claim(
                NAME,
                f"{d}: the simulated RF does not localize",
                "not localized (Fig 3)",
                f"final IPR {ipr_sim[j]:.3f}",
                bool(ipr_sim[j] <= LOCALIZED_IPR),
                f"IPR <= {LOCALIZED_IPR}",
            )
        )
    for kind, peaks in (("cubic", peak_cub), ("exact", peak_ex)):
        agree = bool(metrics.peaks_agree(peak_sim[i], peaks[i], n, tol=PEAK_TOL))
        claims.append(
            Claim(
                NAME,
                f"Ising: ODE ({kind} phi) peak = simulated peak",
                "integrated RF predicts the simulated one",
                f"simulated peak {int(peak_sim[i])}, ODE peak {int(peaks[i])}",
                agree,
                f"within +-{PEAK_TOL} site on the ring",
            )
        )
    ode_iprs = ", ".join(f"{d} {ipr_cub[idx[d]]:.3f}" for d in ("gaussian", "kur5"))
    claims.append(
        Claim(
            NAME,
            "theory (cubic ODE) predicts no localization for Gaussian and Kur(5) [rfloc extension]",
            "(not integrated in the paper)",
            f"ODE final IPR {ode_iprs}",
            bool(all(ipr_cub[idx[d]] <= LOCALIZED_IPR for d in ("gaussian", "kur5"))),
            f"IPR <= {LOCALIZED_IPR}",
            kind="extension",
        )
    )
    return claims
