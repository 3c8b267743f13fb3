"""The reproduction report: a headline split by kind of claim (the paper's claims, data-model and sanity
checks, rfloc's extensions), the claims tables with each threshold beside its claim, the deviations of this
run from the paper's settings, each figure with its caption, run times and the environment. Written as
Markdown (figures linked) and self-contained HTML (figures embedded)."""

from __future__ import annotations

import base64
import html
import os
import platform
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from rfloc.experiments.claims import KINDS

SECTIONS = {
    "paper": "Paper claims",
    "sanity": "Data-model and sanity checks",
    "extension": "rfloc's extensions (beyond the paper)",
}
QUICK_TAG = " [QUICK profile: smoke test at reduced settings, verdicts not meaningful]"
CLAIM_HEAD = ("experiment", "claim", "paper", "rfloc", "verdict", "threshold (and its source)")
DEVIATION_HEAD = ("experiment", "setting", "paper", "this run", "reason")


def environment() -> dict[str, str]:
    import jax
    import numpy
    import scipy

    import rfloc

    devices = ", ".join(str(d) for d in jax.devices())
    return {
        "rfloc": rfloc.__version__,
        "python": platform.python_version(),
        "jax": jax.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "platform": platform.platform(),
        "cpu cores": str(os.cpu_count()),
        "devices": devices,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


PROFILE_TEXT = {
    "quick": "smoke test at reduced settings; verdicts not meaningful",
    "default": "rfloc's 2-core budget; every reduction from the paper is listed under Deviations",
    "paper": "the paper's own settings (SPEC §2); what cannot be matched is listed under Deviations",
}


def is_quick(outcomes: Sequence) -> bool:
    """True when any experiment ran its quick profile (its config says so)."""
    return any(bool(getattr(o, "config", {}).get("quick", False)) for o in outcomes)


def _ran(o) -> str:
    config = getattr(o, "config", {})
    return "quick" if config.get("quick", False) else str(config.get("profile", "default"))


def profile_of(outcomes: Sequence) -> str:
    """The profile of the run: "quick" if any experiment ran quick, "paper" if any ran its paper
    profile, else "default"."""
    ran = {_ran(o) for o in outcomes}
    return "quick" if "quick" in ran else ("paper" if "paper" in ran else "default")


def without_profile(outcomes: Sequence) -> list[str]:
    """Under the paper profile, the experiments that have none and ran their default settings."""
    if profile_of(outcomes) != "paper":
        return []
    return [o.name for o in outcomes if _ran(o) != "paper"]


def full_title(outcomes: Sequence, title: str, executor: str | None = None) -> str:
    profile = profile_of(outcomes)
    tag = QUICK_TAG if profile == "quick" else f" [{profile.upper()} profile]"
    return title + tag + (f" ({executor})" if executor else "")


def run_lines(outcomes: Sequence, executor: str | None) -> list[str]:
    """The header lines saying which profile ran, on which executor."""
    profile = profile_of(outcomes)
    lines = [f"Profile: {profile} ({PROFILE_TEXT[profile]})."]
    if without_profile(outcomes):
        lines.append(f"No paper profile, ran their default settings: {', '.join(without_profile(outcomes))}.")
    if executor:
        lines.append(f"Executor: {executor}.")
    return lines


def claims_by_kind(outcomes: Sequence) -> dict[str, list]:
    out: dict[str, list] = {k: [] for k in KINDS}
    for o in outcomes:
        for c in o.claims:
            out[c.kind].append(c)
    return out


def headline(outcomes: Sequence) -> list[str]:
    """One line per kind of claim, e.g. 'Paper claims: 9 of 14 reproduced.'"""
    lines = []
    for kind, claims in claims_by_kind(outcomes).items():
        if not claims:
            continue
        passed = sum(c.passed for c in claims)
        verb = "reproduced" if kind == "paper" else "pass"
        lines.append(f"{SECTIONS[kind]}: {passed} of {len(claims)} {verb}.")
    return lines


def _claim_row(c) -> tuple[str, ...]:
    return (c.experiment, c.name, c.paper, c.measured, c.verdict, c.criterion)


def _deviation_rows(outcomes: Sequence) -> list[tuple[str, ...]]:
    return [
        (d.experiment, d.setting, d.paper, d.rfloc, d.reason)
        for o in outcomes
        for d in (getattr(o, "deviations", None) or [])
    ]


def undeclared(outcomes: Sequence) -> list[str]:
    """Experiments that do not compare their settings with the paper's (no deviations hook)."""
    return [o.name for o in outcomes if getattr(o, "deviations", None) is None]


def _md_escape(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _md_table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return lines + ["| " + " | ".join(_md_escape(v) for v in r) + " |" for r in rows]


def write_markdown(
    outcomes: Sequence, out: Path, title: str, env: dict[str, str], executor: str | None = None
) -> Path:
    lines = [f"# {full_title(outcomes, title, executor)}", ""]
    lines += [f"{line}  " for line in run_lines(outcomes, executor)] + [""]
    lines += [f"**{line}**  " for line in headline(outcomes)] + [""]
    for kind, claims in claims_by_kind(outcomes).items():
        if claims:
            lines += [f"## {SECTIONS[kind]}", ""] + _md_table(CLAIM_HEAD, [_claim_row(c) for c in claims])
            lines.append("")
    devs = _deviation_rows(outcomes)
    lines += ["## Deviations from the paper", ""]
    lines += _md_table(DEVIATION_HEAD, devs) if devs else ["None recorded."]
    if undeclared(outcomes):
        lines += [
            "",
            f"Not compared with the paper's settings (no declaration): {', '.join(undeclared(outcomes))}.",
        ]
    lines += ["", "## Figures", ""]
    for o in outcomes:
        lines += [f"### {o.title}", "", o.caption, ""]
        lines += [f"![{o.name}]({f.relative_to(out).as_posix()})" for f in o.figures]
        lines.append("")
    lines += ["## Run time", "", "| experiment | seconds | from cache |", "|---|---|---|"]
    lines += [f"| {o.name} | {o.seconds:.1f} | {'yes' if o.cached else 'no'} |" for o in outcomes]
    total = sum(o.seconds for o in outcomes)
    # Summed, not the run's wall time: concurrent experiments (threads, workers) overlap.
    lines += [f"| **sum** (overlapping when run concurrently) | {total:.1f} | |", "", "## Environment", ""]
    lines += [f"- {k}: {v}" for k, v in env.items()]
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'


def _html_table(head: Sequence[str], rows: Sequence[Sequence[str]], verdict_col: int | None = None) -> str:
    esc = html.escape
    parts = ["<table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in head) + "</tr>"]
    for r in rows:
        cells = "".join(
            f"<td class='{esc(v)}'>{esc(v)}</td>" if i == verdict_col else f"<td>{esc(str(v))}</td>"
            for i, v in enumerate(r)
        )
        parts.append(f"<tr>{cells}</tr>")
    return "".join(parts) + "</table>"


def write_html(
    outcomes: Sequence, out: Path, title: str, env: dict[str, str], executor: str | None = None
) -> Path:
    esc = html.escape
    title = full_title(outcomes, title, executor)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{esc(title)}</title><style>",
        "body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em}",
        "table{border-collapse:collapse;font-size:0.9em}td,th{border:1px solid #ccc;padding:4px 8px;"
        "vertical-align:top}.PASS{background:#d9f2d9}.FAIL{background:#f8d4d4}img{max-width:100%}",
        "</style></head><body>",
        f"<h1>{esc(title)}</h1>",
    ]
    parts += [f"<p>{esc(line)}</p>" for line in run_lines(outcomes, executor)]
    parts += [f"<p><b>{esc(line)}</b></p>" for line in headline(outcomes)]
    for kind, claims in claims_by_kind(outcomes).items():
        if claims:
            parts.append(f"<h2>{esc(SECTIONS[kind])}</h2>")
            parts.append(_html_table(CLAIM_HEAD, [_claim_row(c) for c in claims], verdict_col=4))
    devs = _deviation_rows(outcomes)
    parts.append("<h2>Deviations from the paper</h2>")
    parts.append(_html_table(DEVIATION_HEAD, devs) if devs else "<p>None recorded.</p>")
    if undeclared(outcomes):
        names = esc(", ".join(undeclared(outcomes)))
        parts.append(f"<p>Not compared with the paper's settings (no declaration): {names}.</p>")
    parts.append("<h2>Figures</h2>")
    for o in outcomes:
        parts.append(f"<h3>{esc(o.title)}</h3><p>{esc(o.caption)}</p>")
        parts += [_img(f) for f in o.figures]
    times = [(o.name, f"{o.seconds:.1f}", "yes" if o.cached else "no") for o in outcomes]
    times.append(("sum (overlapping when run concurrently)", f"{sum(o.seconds for o in outcomes):.1f}", ""))
    parts += ["<h2>Run time</h2>", _html_table(("experiment", "seconds", "from cache"), times)]
    parts.append("<h2>Environment</h2><ul>")
    parts += [f"<li>{esc(k)}: {esc(v)}</li>" for k, v in env.items()]
    parts.append("</ul></body></html>")
    path = out / "report.html"
    path.write_text("\n".join(parts))
    return path


def write_report(outcomes: Sequence, out: Path, title: str, executor: str | None = None) -> tuple[Path, Path]:
    """report.md and report.html; the title and header name the profile (from the outcomes' configs) and
    the executor that ran the experiments."""
    env = environment()
    env["profile"] = profile_of(outcomes)
    if executor:
        env["executor"] = executor
    return (
        write_markdown(outcomes, out, title, env, executor),
        write_html(outcomes, out, title, env, executor),
    )
