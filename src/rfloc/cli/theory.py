"""`rfloc theory`: predict the single neuron's receptive field from the data's statistics and count how
often the prediction's peak is the simulated one (the paper's 26/28 table, with rfloc's stated protocol)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Literal

import tyro

from rfloc.cli._common import SEEDS_HELP, data_choice, parse, seeds_value
from rfloc.data import Ising

DataChoice = data_choice()

HELP = "effective-ODE predictions vs SGD: peak agreement over seeds (Fig 3 / the 26/28 table)"
DESCRIPTION = (
    "Train the single ReLU neuron with the Fig 3 settings (lr 0.05, 2000 steps, init 0.001) on S seeds at "
    "each batch size, integrate the effective dynamics dw/dt = p.phi(a) - ((1-p)S0 + pS1)w from each run's "
    "initial weights to the same time t = lr x steps, with the cubic (kurtosis) amplifier and the exact "
    "one (and, for Ising, the exact mean-field map), and count the seeds whose predicted peak "
    "(argmax |w_i|) is the simulated peak: exactly and within +-1 site on the ring, each with a 95% "
    "Clopper-Pearson interval and whether the paper's 26/28 lies inside. Name any data model followed by "
    "its parameters (default: ising with J = (0.3, 0.7)), e.g. `rfloc theory nlgp --gain 0.01` for the "
    "Gaussian-like control or `rfloc theory kur --k 5`. Ising localizes; for NLGP(g -> 0) and Kur(5) data "
    "the theory predicts no localization: read the IPRs there."
)


@dataclasses.dataclass(frozen=True)
class Theory:
    data: DataChoice = Ising(J=(0.3, 0.7))
    """the data model (SPEC §1)"""
    seeds: Annotated[tuple[int, ...], tyro.conf.arg(help=SEEDS_HELP + " (first = 0; the paper: 28)")] = (28,)
    batch_size: tuple[int, ...] = ()
    """batch sizes (default: 500 for ising, the recorded Fig 3 value; 10000 otherwise); e.g.
    --batch-size 100 500 2000 10000 for the curve against SGD noise"""
    steps: int = 2000
    """SGD steps"""
    lr: float = 0.05
    """learning rate"""
    init_scale: float = 0.001
    """init scale of the Xavier draw"""
    predictors: tuple[Literal["cubic", "exact", "meanfield"], ...] = ()
    """default: cubic exact meanfield for ising; cubic exact otherwise (meanfield is slow there)"""
    method: Literal["ode", "map"] = "ode"
    """continuous ODE or the discrete map"""
    out: Path | None = None
    """folder for the RF overlay figures and a JSON summary"""
    json: bool = False
    """print the summary as JSON"""


PROTOCOL = (
    "protocol: single ReLU neuron, no bias, loss = batch mean (y_hat - y)^2; one SGD run per seed "
    "(seeds 0..S-1); each predictor starts from that run's initial weights and runs to t = lr x steps; "
    "peak = argmax_i |w_i| of the final RF; 'exact' = same site, '+-1' = ring distance <= 1; "
    "intervals: 95% Clopper-Pearson; Gaussian control = same dynamics with phi(a) = sqrt(2/pi) a."
)


def format_batch(res) -> str:
    import numpy as np

    lines = [
        f"batch {res.batch_size}: {len(res.seeds)} seeds, t = {res.time:g} ({res.method}), "
        f"diverged {res.diverged}; median IPR simulated {np.median(res.sim_ipr):.3f}, "
        f"Gaussian control {np.median(res.control_ipr):.3f}"
    ]
    width = max([9, *(len(k) for k in res.predicted)])
    lines.append(
        f"  {'predictor'.ljust(width)}  {'exact peak match':<38}  {'within +-1 site':<38}  median IPR"
    )
    for name in res.predicted:
        lines.append(
            f"  {name.ljust(width)}  {str(res.same_site[name]):<38}  {str(res.within_one[name]):<38}  "
            f"{np.median(res.pred_ipr[name]):.3f}"
        )
    lines += [f"  note: {note}" for note in res.notes]
    return "\n".join(lines)


def overlay_figure(res, title: str):
    """One panel per seed: simulated and predicted final RFs, each scaled to max |w| = 1 (shapes only)."""
    import math

    import matplotlib.pyplot as plt
    import numpy as np

    from rfloc.plot import plot_rf

    s = len(res.seeds)
    ncols = min(7, s)
    nrows = math.ceil(s / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.2 * ncols, 1.7 * nrows), sharex=True, squeeze=False)
    styles = {"cubic": ("C1", "--"), "exact": ("C2", "-"), "meanfield": ("C3", ":")}

    def unit(w):
        return w / max(float(np.max(np.abs(w))), 1e-30)

    for i, ax in enumerate(axes.ravel()):
        if i >= s:
            ax.axis("off")
            continue
        plot_rf(ax, unit(res.simulated[i]), color="k", lw=1.6)
        for name, rf in res.predicted.items():
            color, ls = styles.get(name, ("C4", "-."))
            plot_rf(ax, unit(rf[i]), color=color, ls=ls, lw=1.0)
        ax.set_title(f"seed {res.seeds[i]}", fontsize=7)
        ax.set_xlabel("")
        ax.set_ylabel("")
        ax.tick_params(labelsize=6)
    handles = [plt.Line2D([], [], color="k", lw=1.6, label="SGD")]
    handles += [
        plt.Line2D([], [], color=styles.get(n, ("C4", "-."))[0], ls=styles.get(n, ("C4", "-."))[1], label=n)
        for n in res.predicted
    ]
    fig.suptitle(title, fontsize=9)
    fig.legend(
        handles=handles, loc="lower center", bbox_to_anchor=(0.5, -0.04), fontsize=7, ncol=len(handles)
    )
    fig.tight_layout()
    return fig


def main(argv) -> int:
    import json

    from rfloc.data import MODEL_NAMES

    args = parse(Theory, argv, "rfloc theory", DESCRIPTION)
    model = args.data
    data_name = MODEL_NAMES[type(model)]
    seeds = seeds_value(args.seeds)
    batches = list(args.batch_size) or ([500] if data_name == "ising" else [10_000])
    predictors = list(args.predictors) or (
        ["cubic", "exact", "meanfield"] if data_name == "ising" else ["cubic", "exact"]
    )

    from rfloc.protocols import peak_agreement

    name = repr(model)
    out = args.out
    if not args.json:
        print(f"rfloc theory: {model!r}")
        print(
            f"lr {args.lr}, steps {args.steps}, init_scale {args.init_scale}, seeds {seeds}, "
            f"batch {batches}, predictors {predictors}"
        )
        print(PROTOCOL, flush=True)

    def on_batch(res):
        if not args.json:
            print(format_batch(res), flush=True)
        if out is not None:
            from rfloc.plot import save_figure

            fig = overlay_figure(res, f"{name}, batch {res.batch_size}: SGD (black) vs predicted final RFs")
            path = save_figure(fig, out / f"theory_{data_name}_batch{res.batch_size}.png")
            if not args.json:
                print(f"  figure: {path}", flush=True)

    results = peak_agreement(
        model,
        seeds=seeds,
        batch_sizes=batches,
        lr=args.lr,
        steps=args.steps,
        init_scale=args.init_scale,
        predictors=predictors,
        method=args.method,
        on_batch=on_batch,
    )
    summary = {
        "data": model.to_dict(),
        "lr": args.lr,
        "steps": args.steps,
        "init_scale": args.init_scale,
        "protocol": PROTOCOL,
        "batches": [r.summary() for r in results],
    }
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / f"theory_{data_name}.json").write_text(json.dumps(summary, indent=2))
    if args.json:
        print(json.dumps(summary, indent=2))
    return 0
