"""rfloc's extension: natural images — sparse coding, ICA and networks side by side on real photographs.

Whitened 12×12 patches pooled over every photograph shipped inside scikit-image and scikit-learn
(rfloc.data.ImagePatches) feed three routes to localized receptive fields: sparse coding (Olshausen & Field
1996; scikit-learn's MiniBatchDictionaryLearning), FastICA (Bell & Sejnowski 1997; as many components as
PCA dimensions) and K-neuron networks trained by SGD (rfloc.train.train_many) on two tasks — (a) natural
patches (y = 1) against their Gaussian surrogate (y = 0) and (b) two blur levels of the same images. Every
method is also run on the **Gaussian surrogate** (a Gaussian with the patches' exact mean and covariance):
that control, computed in the same run, sets every threshold. Filters are scored by the 2-D IPR and a
least-squares Gabor fit (rfloc.metrics.gabor_fit).
"""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path

import numpy as np
import xarray as xr

from rfloc.experiments.claims import Claim
from rfloc.experiments.claims import deviations as _deviations

NAME = "natural_images"
TITLE = "Natural images (rfloc's extension) - sparse coding, ICA and networks on whitened photographs"
CAPTION = (
    "rfloc's extension beyond the paper. Filters learned from whitened 12x12 patches of the photographs "
    "shipped with scikit-image and scikit-learn, sorted by IPR, by sparse coding, FastICA and SGD-trained "
    "networks, each beside the same method on the Gaussian surrogate (same covariance) used as control."
)

METHODS = ("sparse", "ica", "net_a_relu", "net_a_sigmoid", "net_b_relu", "net_b_sigmoid")
LABELS = {
    "sparse": "sparse coding",
    "ica": "FastICA",
    "net_a_relu": "net (a) natural vs surrogate, ReLU",
    "net_a_sigmoid": "net (a) natural vs surrogate, sigmoid",
    "net_b_relu": "net (b) two blur levels, ReLU",
    "net_b_sigmoid": "net (b) two blur levels, sigmoid",
}
SOURCES = ("natural", "surrogate")
LEVEL = 0.95  # bootstrap intervals: two-sided 95 %
N_BOOT = 2000

# The paper's settings this extension has no counterpart for are rfloc's choices; the reductions below
# (default profile against the paper profile) are listed in config()["reductions"].
_PAPER = {
    "pool": 200_000,
    "sparse": {"atoms": 144, "num": 100_000, "epochs": 2, "alpha": 3.0, "batch": 256},
    "ica": {"num": 100_000, "max_iter": 1000},
    "nets": {"width": 100, "steps": 5000, "batch": 1000},
}
_DEFAULT = {
    "pool": 100_000,
    "sparse": {"atoms": 100, "num": 10_000, "epochs": 1, "alpha": 3.0, "batch": 256},
    # 5000 patches / 100 iterations (tried to meet the budget) left FastICA's filters indistinguishable from
    # the control's; 10 000 / 200 separate them (still not converged: reported in ica_converged).
    "ica": {"num": 10_000, "max_iter": 200},
    "nets": {"width": 20, "steps": 500, "batch": 200},
}
_QUICK = {
    "pool": 20_000,
    "sparse": {"atoms": 100, "num": 2000, "epochs": 1, "alpha": 3.0, "batch": 256},
    "ica": {"num": 2000, "max_iter": 50},
    "nets": {"width": 20, "steps": 100, "batch": 100},
}
# Each (task, activation) is its own compiled training program (~2-3 s CPU to compile, and the runs), so
# the quick and default profiles train the ReLU nets only; the paper profile trains both.
_ACTIVATIONS = {"quick": ["relu"], "default": ["relu"], "paper": ["relu", "sigmoid"]}
# The paper has no natural-image experiment: its "settings" here are the full sizes of the paper profile
# (sparse coding and FastICA at the sizes of their anchors, the networks at Fig 5's), compared key by key.
PAPER = {
    "pool": _PAPER["pool"],
    **{f"{part}.{key}": v for part in ("sparse", "ica", "nets") for key, v in _PAPER[part].items()},
    "nets.activations": _ACTIVATIONS["paper"],
}
_BUDGET = (
    "2-core budget (rfloc's extension; the full size runs under --paper): the cost is linear in this size"
)
REASONS = {key: _BUDGET for key in PAPER} | {
    "nets.activations": (
        "2-core budget (quick and default profiles): each (task, activation) compiles its own training "
        "program; the sigmoid nets run under --paper"
    ),
    "ica.max_iter": "2-core budget: FastICA's cost is linear in its iterations (non-convergence is reported)",
}


def config(quick: bool, profile: str = "default") -> dict:
    """Settings of the run. profile "default" (the reproduce budget) or "paper" (full sizes); quick=True
    is a seconds-long smoke test whatever the profile."""
    if profile not in ("default", "paper"):
        raise ValueError(f"profile must be one of ['default', 'paper'], got {profile!r}")
    sizes = _QUICK if quick else (_PAPER if profile == "paper" else _DEFAULT)
    reductions = []
    for part in ("sparse", "ica", "nets"):
        for key, full in _PAPER[part].items():
            if sizes[part][key] != full:
                reductions.append(f"{part}.{key}: {sizes[part][key]} (paper profile {full})")
    acts = _ACTIVATIONS["quick" if quick else profile]
    if acts != _ACTIVATIONS["paper"]:
        reductions.append(f"nets.activations: {acts} (paper profile {_ACTIVATIONS['paper']})")
    if sizes["pool"] != _PAPER["pool"]:
        reductions.append(f"pool: {sizes['pool']} patches (paper profile {_PAPER['pool']})")
    return {
        "profile": "quick" if quick else profile,
        "n": 12,
        "images": [],  # every photograph that loads offline (recorded in the result)
        "f0": 0.4,
        "blur": [0.0, 1.5],  # task (b): class 0 unblurred, class 1 blurred by 1.5 px (longer correlations)
        "pool": sizes["pool"],
        "pool_seed": 0,
        "sparse": dict(sizes["sparse"]),
        "ica": {**sizes["ica"], "whiten": "unit-variance", "random_state": 0},
        "nets": {
            **sizes["nets"],
            # ReLU without bias (as the paper's single neuron and Fig 5's K = 100 nets); sigmoid with a
            # trainable bias (as Fig 5's K = 10 nets). Rates scaled from Fig 5 to keep lr/K per neuron.
            "relu": {"lr": 1.0, "init_scale": 0.001},
            "sigmoid": {"lr": 20.0, "init_scale": 0.1},
            "seed": 0,
            "activations": acts,
        },
        "kurtosis": {"block": 32, "n_boot": 1000, "seed": 0},
        "reductions": reductions,
    }


def deviations(cfg: dict):
    used = {"quick": cfg.get("quick", False), "pool": cfg["pool"]}
    used |= {f"{part}.{key}": cfg[part][key] for part in ("sparse", "ica", "nets") for key in _PAPER[part]}
    used["nets.activations"] = cfg["nets"]["activations"]
    return _deviations(NAME, PAPER, used, REASONS)


def _models(cfg: dict):
    from rfloc.data import ImagePatches

    common = {"n": cfg["n"], "images": tuple(cfg["images"]), "f0": cfg["f0"], "pool": cfg["pool"]}
    common["pool_seed"] = cfg["pool_seed"]
    b = tuple(cfg["blur"])
    return {
        "a": ImagePatches(**common, gaussian=(True, False)),
        "a_control": ImagePatches(**common, gaussian=(True, True)),
        "b": ImagePatches(**common, blur=b, gaussian=(False, False)),
        "b_control": ImagePatches(**common, blur=b, gaussian=(True, True)),
    }


def _train(model, cfg: dict) -> dict[str, tuple[np.ndarray, bool]]:
    from rfloc.nn import NetConfig
    from rfloc.train import TrainConfig, train_many

    nc = cfg["nets"]
    tc = TrainConfig(
        data=model,
        net=NetConfig(kind="simplenet", width=nc["width"], activation="relu"),
        lr=nc["relu"]["lr"],
        batch_size=nc["batch"],
        steps=nc["steps"],
        eval_every=nc["steps"],
        seed=nc["seed"],
    )
    settings = {
        "relu": {"activation": "relu", **nc["relu"]},
        "sigmoid": {"activation": "sigmoid", "bias": True, **nc["sigmoid"]},
    }
    acts = nc["activations"]
    tr = train_many(tc, grid=[settings[a] for a in acts], progress=False).to_xarray().isel(seed=0)
    final = tr.weights.isel(time=-1).values  # (setting, neuron, input), one setting per activation
    return {act: (final[h], bool(tr.diverged[h])) for h, act in enumerate(acts)}


def assemble(filters: dict, n: int, kurtosis: dict | None = None, extra: dict | None = None) -> xr.Dataset:
    """Dataset of filters {(method, source): (C, n*n)} with their IPR and Gabor fits (NaN-padded units).

    kurtosis: {law: {image: (estimate, low, high)}}; extra: further variables {name: (dims, values)}.
    """
    from rfloc.metrics import gabor_fit, ipr

    units = max(len(v) for v in filters.values())
    shape = (len(METHODS), len(SOURCES), units)
    w = np.full((*shape, n * n), np.nan, np.float32)
    for (m, s), v in filters.items():
        w[METHODS.index(m), SOURCES.index(s), : len(v)] = v
    have = np.isfinite(w).all(-1)
    flat = w[have]
    fit = gabor_fit(flat, n)
    data = {"filters": (("learner", "source", "unit", "input"), w)}
    metric = {
        "ipr": ipr(np.asarray(flat, np.float64)),
        "gabor_r2": fit.r2,
        "gabor_width": fit.width,
        "gabor_theta": fit.theta,
        "gabor_frequency": fit.frequency,
        "gabor_x0": fit.x0,
        "gabor_y0": fit.y0,
    }
    for name, values in metric.items():
        full = np.full(shape, np.nan)
        full[have] = np.asarray(values, np.float64)
        data[name] = (("learner", "source", "unit"), full)
    coords = {"learner": list(METHODS), "source": list(SOURCES), "unit": np.arange(units)}
    if kurtosis:
        laws = list(kurtosis)
        images = list(next(iter(kurtosis.values())))
        k = np.array([[kurtosis[law][im] for im in images] for law in laws], np.float64)
        data["kurtosis"] = (("law", "image", "stat"), k)
        coords.update(law=laws, image=images, stat=["estimate", "low", "high"])
    data.update(extra or {})
    return xr.Dataset(data, coords=coords, attrs={"n": n})


def run(cfg: dict) -> xr.Dataset:
    import jax

    from rfloc.baselines import fit_in_parallel, ica, sparse_coding
    from rfloc.data.images import gaussian_surrogate, kurtosis_bootstrap, load_status

    times = {}
    t0 = time.perf_counter()
    models = _models(cfg)
    base = models["a"]
    names = base.images
    x_nat = base.patches(1)
    mean, cov = base._moments[1]
    times["data"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    kc = cfg["kurtosis"]
    kurt = {
        f"blur {b:g}": kurtosis_bootstrap(names, b, cfg["f0"], kc["block"], kc["n_boot"], seed=kc["seed"])
        for b in sorted(set(cfg["blur"]))
    }
    times["kurtosis"] = time.perf_counter() - t0

    rng = np.random.default_rng(cfg["pool_seed"])
    filters, extra = {}, {}
    num = max(cfg["sparse"]["num"], cfg["ica"]["num"])
    x_nat = x_nat[rng.choice(len(x_nat), size=min(num, len(x_nat)), replace=False)]
    x_gauss = np.asarray(
        gaussian_surrogate(jax.random.key(cfg["pool_seed"]), mean, cov, len(x_nat)), np.float64
    )
    sources = {"natural": x_nat, "surrogate": x_gauss}

    t0 = time.perf_counter()
    sc = cfg["sparse"]
    fits = fit_in_parallel(
        [
            partial(sparse_coding, x[: sc["num"]], sc["atoms"], sc["alpha"], sc["batch"], sc["epochs"], 0)
            for x in sources.values()
        ]
    )
    for s, res in zip(sources, fits, strict=True):
        filters[("sparse", s)] = res.dictionary
    times["sparse"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    ic = cfg["ica"]
    lam = np.linalg.eigvalsh(cov)
    pca_dims = int(np.sum(lam > 1e-6 * lam.max()))
    converged = {}
    fits = fit_in_parallel(
        [
            partial(ica, x[: ic["num"]], pca_dims, ic["whiten"], ic["random_state"], ic["max_iter"])
            for x in sources.values()
        ]
    )
    for s, res in zip(sources, fits, strict=True):
        filters[("ica", s)] = res.filters
        converged[s] = res.converged
    times["ica"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    diverged = np.zeros((len(METHODS), len(SOURCES)), bool)
    for task in ("a", "b"):
        for s, key in (("natural", task), ("surrogate", f"{task}_control")):
            for act, (w, div) in _train(models[key], cfg).items():
                filters[(f"net_{task}_{act}", s)] = w
                diverged[METHODS.index(f"net_{task}_{act}"), SOURCES.index(s)] = div
    times["nets"] = time.perf_counter() - t0

    # marginal of the whitened pooled pixels against the standard normal
    edges = np.linspace(-8, 8, 161)
    counts = np.histogram(x_nat.ravel(), bins=edges)[0]
    extra.update(
        hist=(("bin",), counts / counts.sum() / np.diff(edges)),
        hist_edges=(("edge",), edges),
        diverged=(("learner", "source"), diverged),
        ica_converged=(("source",), np.array([converged[s] for s in SOURCES])),
    )
    t0 = time.perf_counter()
    ds = assemble(filters, cfg["n"], kurt, extra)
    times["metrics"] = time.perf_counter() - t0
    status = load_status()
    ds.attrs.update(
        images=", ".join(names),
        images_failed="; ".join(f"{k}: {v}" for k, v in status.items() if v) or "none",
        pca_dims=pca_dims,
        num_patches=len(x_nat),
        pool=cfg["pool"],
        reductions="; ".join(cfg["reductions"]) or "none",
        **{f"seconds_{k}": float(v) for k, v in times.items()},
    )
    return ds


# ---- verdicts -------------------------------------------------------------------------------------------


def _median_ci(values: np.ndarray, seed: int = 0) -> tuple[float, float, float]:
    """Median of the finite values and its percentile bootstrap interval (N_BOOT resamples, LEVEL)."""
    v = np.asarray(values, np.float64)
    v = v[np.isfinite(v)]
    rng = np.random.default_rng(seed)
    boots = np.median(v[rng.integers(0, len(v), size=(N_BOOT, len(v)))], axis=1)
    lo, hi = np.quantile(boots, [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
    return float(np.median(v)), float(lo), float(hi)


def _well_above(nat: tuple[float, float, float], ctl: tuple[float, float, float]) -> bool:
    """'Well above': the two 95% bootstrap intervals of the medians are disjoint, natural above control."""
    return nat[1] > ctl[2]


def _fmt(t: tuple[float, float, float]) -> str:
    return f"{t[0]:.3f} [{t[1]:.3f}, {t[2]:.3f}]"


def _above_control(ds: xr.Dataset, method: str, metric: str) -> tuple[bool, str]:
    nat = _median_ci(ds[metric].sel(learner=method, source="natural").values)
    ctl = _median_ci(ds[metric].sel(learner=method, source="surrogate").values)
    return _well_above(nat, ctl), f"{metric} median {_fmt(nat)} vs control {_fmt(ctl)}"


def check(ds: xr.Dataset) -> list[Claim]:
    claims = []
    crit = (
        "well above = the 95% bootstrap interval of the median over filters lies entirely above that of the "
        "same method on the Gaussian surrogate (same covariance), for both IPR and Gabor R2"
    )
    for method in ("sparse", "ica"):
        ok_i, txt_i = _above_control(ds, method, "ipr")
        ok_r, txt_r = _above_control(ds, method, "gabor_r2")
        claims.append(
            Claim(
                NAME,
                f"[rfloc extension] {LABELS[method]}: localized, Gabor-like filters on natural patches",
                "localized oriented Gabor-like filters (Olshausen & Field 1996; Bell & Sejnowski 1997)",
                f"{txt_i}; {txt_r}",
                bool(ok_i and ok_r),
                crit,
            )
        )

    positive = None
    if "kurtosis" in ds:
        est, lo, hi = ds.kurtosis.isel(law=0).sel(image="pooled").values
        positive = bool(lo > 0)
        negative = bool(hi < 0)
        per = ", ".join(
            f"{im} {ds.kurtosis.isel(law=0).sel(image=im, stat='estimate').item():.1f}"
            for im in ds.image.values
            if im != "pooled"
        )
        sign = "positive" if positive else "negative" if negative else "undetermined"
        claims.append(
            Claim(
                NAME,
                "[rfloc extension] whitened natural pixels: excess kurtosis and the theory's prediction",
                "theory: excess kurtosis < 0 -> super-linear amplifier -> a single neuron localizes; "
                "> 0 -> sub-linear -> it does not",
                f"pooled excess kurtosis {est:.2f} [{lo:.2f}, {hi:.2f}] (95% block bootstrap; "
                f"per image: {per}); "
                f"sign {sign}: the theory predicts "
                + ("NO localization" if positive else "localization" if negative else "nothing definite"),
                bool(positive or negative),
                "the bootstrap interval excludes 0, so the sign (hence the prediction) is determined",
            )
        )

    for method in METHODS[2:]:
        if not np.isfinite(ds.ipr.sel(learner=method).values).any():
            continue  # not trained in this profile
        nat = _median_ci(ds.ipr.sel(learner=method, source="natural").values)
        ctl = _median_ci(ds.ipr.sel(learner=method, source="surrogate").values)
        r2n = _median_ci(ds.gabor_r2.sel(learner=method, source="natural").values)
        r2c = _median_ci(ds.gabor_r2.sel(learner=method, source="surrogate").values)
        localized = _well_above(nat, ctl)
        div = bool(ds.diverged.sel(learner=method).any()) if "diverged" in ds else False
        agree = (not localized) if positive else localized if positive is False else False
        claims.append(
            Claim(
                NAME,
                f"[rfloc extension] {LABELS[method]}: localization beyond the Gaussian control, vs theory",
                "theory (from the kurtosis sign above): "
                + (
                    "no localization" if positive else "localization" if positive is False else "undetermined"
                ),
                f"IPR median {_fmt(nat)} vs control {_fmt(ctl)}; "
                f"Gabor R2 {_fmt(r2n)} vs control {_fmt(r2c)}: "
                + ("localized beyond control" if localized else "not localized beyond control")
                + ("; prediction and measurement agree" if agree and not div else "; they DISAGREE")
                + (" (diverged)" if div else ""),
                bool(agree and not div),
                "localized = the 95% bootstrap interval of the median IPR lies entirely above the control "
                "network's (same task and net on the Gaussian surrogate); PASS = agrees with the prediction",
            )
        )
    return claims


# ---- figures --------------------------------------------------------------------------------------------


def plot(ds: xr.Dataset, out: Path) -> list[Path]:
    import matplotlib.pyplot as plt

    from rfloc.plot import plot_rf_mosaic, save_figure

    out = Path(out)
    n = int(ds.attrs["n"])
    files = []
    fig, axes = plt.subplots(len(METHODS), 2, figsize=(12, 1.9 * len(METHODS)))
    for i, method in enumerate(METHODS):
        for j, source in enumerate(SOURCES):
            ax = axes[i, j]
            ax.axis("off")
            w = ds.filters.sel(learner=method, source=source).values
            ipr = ds.ipr.sel(learner=method, source=source).values
            keep = np.flatnonzero(np.isfinite(ipr))
            if not len(keep):
                continue
            order = keep[np.argsort(-ipr[keep])][:16]
            plot_rf_mosaic(ax, w[order], n, ncols=8)
            ax.set_title(
                f"{LABELS[method]} - {source}: top {len(order)} by IPR (median {np.nanmedian(ipr):.3f})",
                fontsize=9,
            )
    files.append(save_figure(fig, out / "natural_images_gallery.png"))

    fig, axes = plt.subplots(1, 2, figsize=(13, 4))
    for ax, metric, label in ((axes[0], "ipr", "IPR"), (axes[1], "gabor_r2", "Gabor fit $R^2$")):
        pos = np.arange(len(METHODS))
        for off, source, colour in ((-0.18, "natural", "C0"), (0.18, "surrogate", "C7")):
            vals = [ds[metric].sel(learner=m, source=source).values for m in METHODS]
            vals = [v[np.isfinite(v)] if np.isfinite(v).any() else [np.nan] for v in vals]
            bp = ax.boxplot(vals, positions=pos + off, widths=0.3, patch_artist=True, showfliers=False)
            for box in bp["boxes"]:
                box.set_facecolor(colour)
            ax.plot([], [], "s", color=colour, label=source)
        ax.set_xticks(
            pos,
            [LABELS[m].replace(" natural vs surrogate", "").replace(" two blur levels", "") for m in METHODS],
            rotation=30,
            ha="right",
            fontsize=8,
        )
        ax.set_ylabel(label)
        ax.legend(fontsize=8)
    axes[0].set_yscale("log")
    files.append(save_figure(fig, out / "natural_images_metrics.png"))

    fig, ax = plt.subplots(figsize=(6, 4))
    edges = ds.hist_edges.values
    mid = 0.5 * (edges[1:] + edges[:-1])
    ax.semilogy(mid, ds.hist.values, label="whitened natural pixels", color="C0")
    ax.semilogy(mid, np.exp(-(mid**2) / 2) / np.sqrt(2 * np.pi), "k--", label="standard normal")
    if "kurtosis" in ds:
        est = ds.kurtosis.isel(law=0).sel(image="pooled", stat="estimate").item()
        ax.set_title(f"marginal of whitened pixels: excess kurtosis {est:.1f}", fontsize=10)
    ax.set(xlabel="pixel value (unit variance)", ylabel="density", ylim=(1e-6, 2))
    ax.legend(fontsize=8)
    files.append(save_figure(fig, out / "natural_images_marginal.png"))
    return files
