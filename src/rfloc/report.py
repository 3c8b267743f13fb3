"""The reproduction report: claims table first, then each figure with its caption, then run times
and the environment. Written as Markdown (figures linked) and self-contained HTML (figures embedded)."""

from __future__ import annotations

import base64
import html
import os
import platform
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path


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


def _claims_rows(outcomes) -> list[tuple[str, ...]]:
    return [
        (c.experiment, c.name, c.paper, c.measured, c.verdict, c.criterion)
        for o in outcomes
        for c in o.claims
    ]


def _md_escape(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def write_markdown(outcomes: Sequence, out: Path, title: str, env: dict[str, str]) -> Path:
    rows = _claims_rows(outcomes)
    passed = sum(r[4] == "PASS" for r in rows)
    lines = [f"# {title}", "", f"**{passed} of {len(rows)} claims pass.**", "", "## Claims", ""]
    lines += ["| experiment | claim | paper | rfloc | verdict | criterion |", "|---|---|---|---|---|---|"]
    lines += ["| " + " | ".join(_md_escape(v) for v in r) + " |" for r in rows]
    lines += ["", "## Figures", ""]
    for o in outcomes:
        lines += [f"### {o.title}", "", o.caption, ""]
        lines += [f"![{o.name}]({f.relative_to(out).as_posix()})" for f in o.figures]
        lines.append("")
    lines += ["## Run time", "", "| experiment | seconds | from cache |", "|---|---|---|"]
    lines += [f"| {o.name} | {o.seconds:.1f} | {'yes' if o.cached else 'no'} |" for o in outcomes]
    total = sum(o.seconds for o in outcomes)
    lines += [f"| **total** | {total:.1f} | |", "", "## Environment", ""]
    lines += [f"- {k}: {v}" for k, v in env.items()]
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'


def write_html(outcomes: Sequence, out: Path, title: str, env: dict[str, str]) -> Path:
    rows = _claims_rows(outcomes)
    passed = sum(r[4] == "PASS" for r in rows)
    esc = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{esc(title)}</title><style>",
        "body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em}",
        "table{border-collapse:collapse;font-size:0.9em}td,th{border:1px solid #ccc;padding:4px 8px;"
        "vertical-align:top}.PASS{background:#d9f2d9}.FAIL{background:#f8d4d4}img{max-width:100%}",
        "</style></head><body>",
        f"<h1>{esc(title)}</h1><p><b>{passed} of {len(rows)} claims pass.</b></p><h2>Claims</h2><table>",
        "<tr><th>experiment</th><th>claim</th><th>paper</th><th>rfloc</th><th>verdict</th>"
        "<th>criterion</th></tr>",
    ]
    for r in rows:
        cells = "".join(f"<td>{esc(str(v))}</td>" for v in r[:4])
        parts.append(f"<tr>{cells}<td class='{r[4]}'>{r[4]}</td><td>{esc(r[5])}</td></tr>")
    parts.append("</table><h2>Figures</h2>")
    for o in outcomes:
        parts.append(f"<h3>{esc(o.title)}</h3><p>{esc(o.caption)}</p>")
        parts += [_img(f) for f in o.figures]
    parts.append("<h2>Run time</h2><table><tr><th>experiment</th><th>seconds</th><th>from cache</th></tr>")
    parts += [
        f"<tr><td>{esc(o.name)}</td><td>{o.seconds:.1f}</td><td>{'yes' if o.cached else 'no'}</td></tr>"
        for o in outcomes
    ]
    total = sum(o.seconds for o in outcomes)
    parts.append(f"<tr><td><b>total</b></td><td>{total:.1f}</td><td></td></tr></table>")
    parts.append("<h2>Environment</h2><ul>")
    parts += [f"<li>{esc(k)}: {esc(v)}</li>" for k, v in env.items()]
    parts.append("</ul></body></html>")
    path = out / "report.html"
    path.write_text("\n".join(parts))
    return path


def write_report(outcomes: Sequence, out: Path, title: str) -> tuple[Path, Path]:
    env = environment()
    return write_markdown(outcomes, out, title, env), write_html(outcomes, out, title, env)
