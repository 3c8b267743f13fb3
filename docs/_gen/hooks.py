"""MkDocs hooks: small fixes to the rendered API pages.

rfloc's docstrings use a few Sphinx roles (``:func:`name```, ``:mod:`~rfloc.x```), which Markdown renders as
the literal role followed by the code span. Drop the role, and the ``~`` that means "show the last part".
"""

from __future__ import annotations

import re

_ROLE = re.compile(r":(?:func|mod|class|meth|attr|data|obj|exc):(?=<code>)")
_TILDE = re.compile(r"<code>~([\w.]+)</code>")


def on_page_content(html: str, **kwargs) -> str:
    html = _ROLE.sub("", html)
    return _TILDE.sub(lambda m: f"<code>{m.group(1).rsplit('.', 1)[-1]}</code>", html)
