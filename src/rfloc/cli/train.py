"""`rfloc train`: online SGD of a neuron or a two-layer net on two-class ring data, for one configuration or
a small grid × seeds in one compiled call; prints the final IPR / peak per run and saves a results file."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

DATA_CHOICES = ("ising", "gaussian", "nlgp", "kur", "elliptical")

# flag dest -> data-model field
_DATA_FLAGS = {
    "n": "n",
    "xi": "xi",
    "J": "J",
    "gain": "gain",
    "k": "k",
    "radial": "radial",
    "nu": "nu",
    "class_proportion": "class_proportion",
    "balanced": "balanced",
}
_NET_FLAGS = {
    "net": "kind",
    "width": "width",
    "activation": "activation",
    "bias": "bias",
    "train_bias": "train_bias",
    "bias_value": "bias_value",
    "init_scale": "init_scale",
}
_TRAIN_FLAGS = {
    "lr": "lr",
    "batch": "batch_size",
    "steps": "steps",
    "eval_every": "eval_every",
    "seed": "seed",
}


def register(sub) -> None:
    p = sub.add_parser(
        "train",
        help="train neurons / two-layer nets by online SGD and report receptive-field localization",
        description=(
            "Train a single neuron (or a K-neuron net) by online SGD on the two-class task: each step "
            "draws a fresh batch, the loss is the batch mean of (y_hat - y)^2. Several seeds and a small "
            "grid of hyper-parameters advance together in one compiled program. Prints the final "
            "IPR = sum w^4/(sum w^2)^2 and the peak site argmax|w| of every run, saves the trajectories "
            "as a netCDF file (reused when the same configuration is asked again) and, with --plot, draws "
            "the RF evolution (colour = training time, as in Fig 3 of Lufkin, Saxe & Grant) and the final "
            "RFs. Flags override --config."
        ),
    )
    d = p.add_argument_group("data (SPEC §1)")
    d.add_argument("--data", choices=DATA_CHOICES, help="data model (default ising)")
    d.add_argument("--n", type=int, help="ring size N (default 40)")
    d.add_argument("--xi", type=float, nargs=2, metavar=("XI0", "XI1"), help="correlation lengths per class")
    d.add_argument("--J", type=float, nargs=2, metavar=("J0", "J1"), help="Ising couplings per class")
    d.add_argument("--gain", type=float, help="NLGP gain g")
    d.add_argument("--k", type=float, help="Kur(k) tail index, k > 2")
    d.add_argument("--radial", choices=("t", "shell", "custom"), help="elliptical radial law")
    d.add_argument("--nu", type=float, help="Student-t degrees of freedom (elliptical t)")
    d.add_argument("--class-proportion", type=float, help="P(y = 1)")
    d.add_argument("--balanced", action="store_true", default=None, help="exactly balanced batches")
    m = p.add_argument_group("network (SPEC §2)")
    m.add_argument("--net", choices=("neuron", "simplenet", "mlp"), help="architecture (default neuron)")
    m.add_argument("--width", type=int, help="hidden units K")
    m.add_argument("--activation", choices=("relu", "sigmoid", "tanh", "erf", "linear"))
    m.add_argument("--bias", action="store_true", default=None, help="add biases")
    m.add_argument("--freeze-bias", dest="train_bias", action="store_false", default=None, help="fixed bias")
    m.add_argument("--bias-value", type=float, help="initial (or fixed) bias")
    m.add_argument("--init-scale", type=float, help="multiplies the Xavier variance (paper: 0.001)")
    t = p.add_argument_group("training")
    t.add_argument("--lr", type=float, help="SGD learning rate (default 0.05)")
    t.add_argument("--batch", type=int, help="batch size (default 100)")
    t.add_argument("--steps", type=int, help="SGD steps (default 2000)")
    t.add_argument("--eval-every", type=int, help="record weights every this many steps (default 10)")
    t.add_argument("--seed", type=int, help="first seed (default 0)")
    t.add_argument("--seeds", help="number of seeds S (seed, ..., seed+S-1) or a comma list, e.g. 0,4,42")
    t.add_argument(
        "--grid",
        action="append",
        default=None,
        metavar="NAME=V1,V2",
        help="grid over a field (lr, init_scale, bias_value, batch_size, gain, k, ...); repeat for a product",
    )
    t.add_argument(
        "--config", type=Path, help="TOML file with [data], [net], [train] tables (train: seeds, grid)"
    )
    o = p.add_argument_group("output")
    o.add_argument("--results", type=Path, default=Path("results"), help="results folder (default ./results)")
    o.add_argument("--force", action="store_true", help="recompute and overwrite an existing result")
    o.add_argument("--plot", nargs="?", const="", default=None, metavar="PATH", help="save a figure")
    o.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _parse_value(text: str):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def _parse_seeds(value, base: int) -> list[int]:
    if value is None:
        return [base]
    if isinstance(value, int):
        if value < 1:
            raise ValueError(f"seeds must be >= 1, got {value}")
        return list(range(base, base + value))
    if isinstance(value, list):
        return [int(v) for v in value]
    text = str(value).strip()
    if "," not in text:
        try:
            return _parse_seeds(int(text), base)
        except ValueError:
            raise ValueError(f"seeds must be a count or a comma list of integers, got {text!r}") from None
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"seeds must be a count or a comma list of integers, got {text!r}") from None


def build(args: argparse.Namespace):
    """(TrainConfig, seeds, grid) from --config and the flags (flags win)."""
    from rfloc.data import MODELS
    from rfloc.nn import NetConfig
    from rfloc.train import TrainConfig

    base: dict = {}
    if args.config is not None:
        import tomllib

        if not args.config.is_file():
            raise ValueError(f"config file {args.config} does not exist")
        with open(args.config, "rb") as fh:
            base = tomllib.load(fh)
        unknown = set(base) - {"data", "net", "train"}
        if unknown:
            raise ValueError(f"config tables must be [data], [net], [train]; unknown: {sorted(unknown)}")
    data = dict(base.get("data", {}))
    net = dict(base.get("net", {}))
    train = dict(base.get("train", {}))
    seeds_value = train.pop("seeds", None)
    grid = dict(train.pop("grid", {}) or {})

    model = args.data or data.pop("model", "ising")
    data.pop("model", None)
    if args.data is not None and base.get("data", {}).get("model", args.data) != args.data:
        data = {}  # a different model on the command line: the file's data fields do not apply
    if model not in MODELS:
        raise ValueError(f"data must be one of {sorted(MODELS)}, got {model!r}")
    cls = MODELS[model]
    fields = {f.name for f in dataclasses.fields(cls)}
    for dest, field in _DATA_FLAGS.items():
        value = getattr(args, dest)
        if value is None:
            continue
        if field not in fields:
            raise ValueError(f"--{dest.replace('_', '-')} does not apply to data model {model!r}")
        data[field] = tuple(value) if isinstance(value, list) else value
    for key in ("xi", "J"):
        if isinstance(data.get(key), list):
            data[key] = tuple(data[key])
    for dest, field in _NET_FLAGS.items():
        if getattr(args, dest) is not None:
            net[field] = getattr(args, dest)
    if net.get("kind", "neuron") != "neuron" and "width" not in net:
        raise ValueError("width must be given (--width K) for a simplenet or mlp")
    for dest, field in _TRAIN_FLAGS.items():
        if getattr(args, dest) is not None:
            train[field] = getattr(args, dest)
    config = TrainConfig(data=cls(**data), net=NetConfig(**net), **train)

    for item in args.grid or []:
        name, sep, values = item.partition("=")
        if not sep or not name or not values:
            raise ValueError(f"grid must look like NAME=V1,V2,..., got {item!r}")
        grid[name.strip().replace("-", "_")] = [_parse_value(v.strip()) for v in values.split(",")]
    seeds = _parse_seeds(args.seeds if args.seeds is not None else seeds_value, config.seed)
    return config, seeds, (grid or None)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from rfloc import store
    from rfloc.train import run_config_dict, train_many

    config, seeds, grid = build(args)
    key = run_config_dict(config, seeds, grid)
    path = store.cache_path(key, args.results)
    computed = []

    def compute():
        computed.append(True)
        result = train_many(config, seeds=seeds, grid=grid, progress=False if args.no_progress else None)
        return result.to_xarray()

    ds = store.cached(key, compute, args.results, force=args.force)
    print(f"{'computed' if computed else 'loaded (cached)'}: {path}")
    from rfloc import metrics

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
    if args.plot is not None:
        out = _plot(ds, Path(args.plot) if args.plot else path.with_suffix(".png"))
        print(f"figure: {out}")
    return 0


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
