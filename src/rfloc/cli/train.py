"""`rfloc train`: online SGD of a neuron or a two-layer net on two-class ring data, for one configuration or
a grid × seeds in one compiled call; prints the final IPR / peak per run and saves a results file.

Flags come from ``TrainConfig``, ``NetConfig`` and the chosen data model's dataclass (see :mod:`rfloc.cli`);
``--config FILE.toml`` supplies the defaults that the flags then override (:func:`rfloc.train.read_toml`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Literal

import tyro

from rfloc.cli._common import SEEDS_HELP, option_value, parse, plain, seeds_value, with_data_choice
from rfloc.data import Ising
from rfloc.train import TrainConfig

HELP = "train neurons / two-layer nets by online SGD and report receptive-field localization"
DESCRIPTION = (
    "Train a single neuron (or a K-neuron net) by online SGD on the two-class task: each step draws a "
    "fresh batch, the loss is the batch mean of (y_hat - y)^2 (Lufkin, Saxe & Grant, SPEC §2). Several "
    "seeds and a grid of hyper-parameters advance together in one compiled program. Prints the final "
    "IPR = sum w^4/(sum w^2)^2 and the peak site argmax|w| of every run and saves the trajectories as a "
    "netCDF file under --out (reused when the same configuration is asked again); --plot draws the RF "
    "evolution (colour = training time, as in Fig 3) and the final RFs. Name the data model (ising, "
    "gaussian, nlgp, kur, elliptical, images; default ising) followed by its parameters, e.g. "
    "`rfloc train nlgp --gain 3 --xi 1 3 --lr 0.05`. Flags override --config."
)

TrainFlags = with_data_choice(TrainConfig, "TrainFlags", Ising())


@dataclasses.dataclass(frozen=True)
class Train:
    run: TrainFlags = TrainFlags()
    seeds: Annotated[tuple[int, ...], tyro.conf.arg(help=SEEDS_HELP + " (first = --seed)")] = (1,)
    grid: Annotated[tuple[str, ...], tyro.conf.arg(metavar="NAME=V1,V2")] = ()
    """grid over fields (lr, init_scale, bias_value, batch_size, momentum, gain, k, ...): one NAME=V1,V2,...
    per field; several fields give their product"""
    config: Path | None = None
    """TOML file with [data] (model = name), [net] and [train] tables (train: also seeds, grid)"""
    out: Path = Path("results")
    """results folder"""
    force: bool = False
    """recompute and overwrite an existing result"""
    plot: bool = False
    """save a figure next to the results file"""
    no_progress: bool = False
    """no progress bar"""
    vectorize: Literal["map", "vmap"] = "map"
    """runs as lax.map (bit-identical to separate runs) or batched by vmap (GPUs, large sweeps)"""


def _parse_value(text: str):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def parse_grid(items) -> dict:
    """{field: [values]} from NAME=V1,V2 strings (numbers and true/false parsed)."""
    grid = {}
    for item in items:
        name, sep, values = item.partition("=")
        if not sep or not name.strip() or not values.strip():
            raise ValueError(f"grid must look like NAME=V1,V2,..., got {item!r}")
        grid[name.strip().replace("-", "_")] = [_parse_value(v.strip()) for v in values.split(",")]
    return grid


def build(argv) -> tuple[TrainConfig, int | tuple[int, ...], dict | None, Train]:
    """(config, seeds, grid, parsed flags): --config file first, then the flags on top of it."""
    from rfloc.train import read_toml

    default, file_grid = Train(), {}
    path = option_value(argv, "--config")
    if path is not None:
        config, seeds, file_grid = read_toml(path)
        seed_kw = {}
        if isinstance(seeds, tuple) and len(seeds) == 1:  # a one-seed list names that seed
            config, seeds = dataclasses.replace(config, seed=seeds[0]), 1
        if seeds is not None:
            seed_kw["seeds"] = seeds if isinstance(seeds, tuple) else (seeds,)
        run = TrainFlags(**{f.name: getattr(config, f.name) for f in dataclasses.fields(TrainConfig)})
        default = dataclasses.replace(default, run=run, **seed_kw)
        file_grid = file_grid or {}
    args = parse(Train, argv, "rfloc train", DESCRIPTION, default=default)
    config = plain(args.run, TrainConfig)
    if config.net.kind != "neuron" and config.net.width == 1:
        raise ValueError(f"width must be given (--width K, K >= 2) for a {config.net.kind}")
    grid = {**file_grid, **parse_grid(args.grid)}
    return config, seeds_value(args.seeds), grid or None, args


def main(argv) -> int:
    import numpy as np

    from rfloc import metrics, store
    from rfloc.train import run_config_dict, train_many

    config, seeds, grid, args = build(argv)
    key = {**run_config_dict(config, _seed_list(config, seeds), grid), "vectorize": args.vectorize}
    path = store.cache_path(key, args.out)
    computed = []

    def compute():
        computed.append(True)
        progress = False if args.no_progress else None
        return train_many(config, seeds, grid, progress=progress, vectorize=args.vectorize).to_xarray()

    ds = store.cached(key, compute, args.out, force=args.force)
    print(f"{'computed' if computed else 'loaded (cached)'}: {path}")
    final = ds["weights"].isel(time=-1).values  # (H, S, K, N)
    ipr = np.asarray(metrics.ipr(final))  # (H, S, K)
    peak = np.asarray(metrics.peak_index(final))
    diverged = np.asarray(ds["diverged"])
    div_step = np.asarray(ds["diverged_step"])
    labels = [str(v) for v in ds["setting"].values]
    width = max(len("setting"), *(len(s) for s in labels))
    k = ipr.shape[-1]
    head = "IPR" if k == 1 else f"IPR mean/max (K={k})"
    peak_head = "peak" if k == 1 else "peak of max-IPR unit"
    print(f"{'setting':<{width}}  {'seed':>6}  {head:>20}  {peak_head:>20}  diverged")
    for h, label in enumerate(labels):
        for s, seed in enumerate(ds["seed"].values):
            best = int(np.nanargmax(ipr[h, s])) if np.isfinite(ipr[h, s]).any() else 0
            value = f"{ipr[h, s, 0]:.4f}" if k == 1 else f"{np.nanmean(ipr[h, s]):.4f}/{ipr[h, s, best]:.4f}"
            div = f"at step {div_step[h, s]}" if diverged[h, s] else "no"
            print(f"{label:<{width}}  {int(seed):>6}  {value:>20}  {int(peak[h, s, best]):>20}  {div}")
    if args.plot:
        print(f"figure: {_plot(ds, path.with_suffix('.png'))}")
    return 0


def _seed_list(config: TrainConfig, seeds) -> list[int]:
    from rfloc import _checks

    return list(_checks.seeds(seeds, first=config.seed))


def _plot(ds, path: Path) -> Path:
    """RF evolution of the first unit of up to 4 runs (colour = SGD step) and their final RFs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from rfloc import plot

    runs = [(h, s) for h in range(ds.sizes["setting"]) for s in range(ds.sizes["seed"])][:4]
    fig, axes = plt.subplots(2, len(runs), figsize=(4 * len(runs), 6), squeeze=False)
    steps = np.asarray(ds["step"])
    for j, (h, s) in enumerate(runs):
        w = np.asarray(ds["weights"].isel(setting=h, seed=s))  # (T, K, N)
        title = f"{ds['setting'].values[h]}, seed {int(ds['seed'].values[s])}"
        plot.plot_rf_evolution(axes[0, j], w[:, 0, :], steps, colorbar=j == len(runs) - 1)
        axes[0, j].set_title(title, fontsize="small")
        for unit in range(min(w.shape[1], 8)):
            plot.plot_rf(axes[1, j], w[-1, unit], lw=1)
        axes[1, j].set_title("final RFs" + (" (first 8 units)" if w.shape[1] > 8 else ""), fontsize="small")
    fig.tight_layout()
    return plot.save_figure(fig, path)
