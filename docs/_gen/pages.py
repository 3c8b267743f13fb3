"""Generate the site's navigation, the API reference and the protocols tables at build time.

Run by mkdocs-gen-files (see mkdocs.yml); nothing here is written to the repository. New pages need no edit:
- every docs/*.md page is listed (index.md and install.md first, then by file name);
- every docs/tutorials/*.ipynb notebook is listed under Tutorials, by file name, titled by its first heading;
- every public module of rfloc (no path component starting with "_") gets an API page rendered by
  mkdocstrings from its docstrings, so a new module appears on the next build;
- docs/protocols.md gets, appended, one table per experiment of the thresholds its module states
  (see protocols_tables below).
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import mkdocs_gen_files

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
SRC = ROOT / "src"
PACKAGE = "rfloc"
FIRST_PAGES = ("index.md", "install.md")


def md_title(path: Path) -> str:
    """The first level-1 heading of a Markdown file, else its file name."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return path.stem.replace("_", " ").capitalize()


def notebook_title(path: Path) -> str:
    """The first level-1 heading in the notebook's Markdown cells, else its file name."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        source = "".join(cell.get("source", []))
        for line in source.splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    return path.stem.replace("_", " ").capitalize()


def public_modules() -> list[tuple[str, Path, bool]]:
    """(dotted name, source file, is_package) of every public module under src/rfloc, sorted by name."""
    out = []
    for path in sorted((SRC / PACKAGE).rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        if any(p.startswith("_") for p in parts) or parts[-1] == "__main__":
            continue
        out.append((".".join(parts), path, is_package))
    return out


def reference_pages() -> list[tuple[str, str, int]]:
    """Write one page per public module; return (dotted name, page path, depth) in tree order."""
    entries = []
    for name, _path, is_package in public_modules():
        parts = name.split(".")
        doc = (
            Path("reference", *parts, "index.md")
            if is_package
            else Path("reference", *parts).with_suffix(".md")
        )
        with mkdocs_gen_files.open(doc, "w") as f:
            f.write(f"# `{name}`\n\n::: {name}\n    options:\n      show_root_heading: false\n")
        mkdocs_gen_files.set_edit_path(doc, _path.relative_to(ROOT))
        entries.append((name, doc.as_posix(), len(parts) - 1))
    return entries


# -- protocols: thresholds stated by the experiment modules ------------------------------------------------
_SKIP_CONSTANTS = {"NAME", "TITLE", "CAPTION", "ORDER", "LABELS"}
_OPS = {
    ast.Add: lambda x, y: x + y,
    ast.Sub: lambda x, y: x - y,
    ast.Mult: lambda x, y: x * y,
    ast.Div: lambda x, y: x / y,
    ast.Pow: lambda x, y: x**y,
}


def numeric_value(node: ast.AST, known: dict[str, object]):
    """The value of a number, a tuple of numbers, or arithmetic on them and earlier constants; else None."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.Name):
        return known.get(node.id)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        v = numeric_value(node.operand, known)
        return None if v is None or isinstance(v, tuple) else -v
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        left, right = numeric_value(node.left, known), numeric_value(node.right, known)
        if left is None or right is None or isinstance(left, tuple) or isinstance(right, tuple):
            return None
        return _OPS[type(node.op)](left, right)
    if isinstance(node, ast.Tuple | ast.List):
        values = [numeric_value(e, known) for e in node.elts]
        return None if any(v is None or isinstance(v, tuple) for v in values) else tuple(values)
    return None


def module_constants(path: Path) -> tuple[list[tuple[str, str, str]], list[str]]:
    """Thresholds and other settings stated at module level in ``path``, read from its source with ast.

    Returns (thresholds, settings): thresholds are (name, value, reason) for every UPPER_CASE constant whose
    value is a number or a tuple of numbers (arithmetic on earlier constants included), with the contiguous
    ``#`` comment lines right above it (and a trailing same-line comment) as the reason, which is where rfloc
    states why a threshold has its value; settings are the names of the other UPPER_CASE constants (tables of
    runs, labels). Nothing is imported, so a half-finished module cannot break the build.
    """
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    known: dict[str, object] = {}
    thresholds, settings = [], []
    for node in ast.parse(text).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if not isinstance(target, ast.Name) or not re.fullmatch(r"[A-Z][A-Z0-9_]*", target.id):
            continue
        if target.id in _SKIP_CONSTANTS:
            continue
        number = numeric_value(value, known)
        if number is None:
            settings.append(target.id)
            continue
        known[target.id] = number
        comment = []
        i = node.lineno - 2
        while i >= 0 and lines[i].lstrip().startswith("#"):
            comment.insert(0, lines[i].lstrip()[1:].strip())
            i -= 1
        tail = lines[node.end_lineno - 1]
        if "  # " in tail:
            comment.append(tail.split("  # ", 1)[1].strip())
        expr = " ".join((ast.get_source_segment(text, value) or "").split())
        # Literals as written; computed values after their expression, e.g. `9 / (2 * N_NET) = 0.045`.
        shown = f"{number:.4g}" if isinstance(number, float) else str(number)
        if isinstance(value, ast.Constant | ast.Tuple | ast.List | ast.UnaryOp):
            shown = expr
        elif expr != shown:
            shown = f"{expr} = {shown}"
        thresholds.append((target.id, shown, " ".join(comment)))
    return thresholds, settings


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _title(path: Path) -> str:
    for n in ast.parse(path.read_text(encoding="utf-8")).body:
        if (
            isinstance(n, ast.Assign)
            and isinstance(n.targets[0], ast.Name)
            and n.targets[0].id == "TITLE"
            and isinstance(n.value, ast.Constant)
        ):
            return str(n.value.value)
    return ""


def protocol_sources() -> list[Path]:
    """Modules that state thresholds: shared ones first (claims, protocols), then each experiment."""
    pkg = SRC / PACKAGE
    shared = [
        pkg / "experiments" / "claims.py",
        pkg / "protocols.py",
        *sorted((pkg / "protocols").glob("*.py")),
    ]
    experiments = sorted(
        p for p in (pkg / "experiments").glob("*.py") if p.stem not in {"__init__", "claims", "runner"}
    )
    return [p for p in shared if p.exists()] + experiments


def protocols_tables() -> str:
    """Markdown: per module, its title and a table of the thresholds it states, with their reasons."""
    blocks = [
        "\n\n## Thresholds as stated in the code (generated)\n\n"
        "This section is generated at every docs build from the source: for each module that judges claims, "
        "every numeric module-level constant with the comment written above it, which is where rfloc states "
        "a threshold and the reason for its value. An empty reason means the code states none. The verdict "
        "text of each claim (`Claim.criterion`) is printed beside the claim in the report.\n"
    ]
    for path in protocol_sources():
        thresholds, settings = module_constants(path)
        if not thresholds:
            continue
        mod = ".".join(path.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")
        title = _title(path)
        blocks.append(f"\n### `{mod}`" + (f" — {title}" if title else "") + "\n\n")
        blocks.append("| constant | value | reason |\n|---|---|---|\n")
        for name, shown, comment in thresholds:
            blocks.append(f"| `{name}` | `{_cell(shown)}` | {_cell(comment)} |\n")
        if settings:
            listed = ", ".join(f"`{s}`" for s in settings)
            blocks.append(f"\nRun settings in this module: {listed} ([source][{mod}]).\n")
    return "".join(blocks)


def nav() -> str:
    rank = {name: i for i, name in enumerate(FIRST_PAGES)}
    pages = sorted(DOCS.glob("*.md"), key=lambda p: (rank.get(p.name, len(rank)), p.name))
    lines = [f"* [{md_title(p)}]({p.name})" for p in pages]
    notebooks = sorted((DOCS / "tutorials").glob("*.ipynb"))
    if notebooks:
        lines.append("* Tutorials")
        lines += [f"    * [{notebook_title(p)}](tutorials/{p.name})" for p in notebooks]
    # The package's own page is the section's index; each module sits under its package.
    for name, doc, depth in reference_pages():
        label = "API reference" if depth == 0 else name
        lines.append("    " * depth + f"* [{label}]({doc})")
    return "\n".join(lines) + "\n"


with mkdocs_gen_files.open("SUMMARY.md", "w") as summary:
    summary.write(nav())

if (DOCS / "protocols.md").exists():
    with mkdocs_gen_files.open("protocols.md", "a") as page:
        page.write(protocols_tables())
