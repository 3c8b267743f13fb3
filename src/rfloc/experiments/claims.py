"""What an experiment hands to the report: claims (the paper's number, rfloc's, the verdict) and the
deviations of its run from the paper's settings.

Besides check(ds) -> [Claim], an experiment module may expose ``deviations(config) -> [Deviation]``; the
usual body is ``deviations(NAME, PAPER, used, REASONS)`` with PAPER the paper's settings (SPEC §2), ``used``
the same keys read from the config, and REASONS one sentence per reduction. The runner collects it and the
report tabulates it; an experiment without the hook is named in the report as not compared.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

# paper: a claim the paper makes; sanity: a check of rfloc's own machinery (a data model's closed form, a
# quantity true by construction) that the paper does not claim; extension: a claim beyond the paper.
KINDS = ("paper", "sanity", "extension")


@dataclasses.dataclass(frozen=True)
class Claim:
    """One row of the report's claims table.

    experiment: which experiment checked it; name: the claim in words; paper: what the paper reports;
    measured: what rfloc measured (text with numbers); passed: the verdict; criterion: the threshold
    and where it comes from (theory, or a control computed in the same run); kind: one of KINDS.
    """

    experiment: str
    name: str
    paper: str
    measured: str
    passed: bool
    criterion: str = ""
    kind: str = "paper"

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if not isinstance(self.passed, bool):
            raise ValueError(f"passed must be a bool, got {self.passed!r}")

    @property
    def verdict(self) -> str:
        return "PASS" if self.passed else "FAIL"


@dataclasses.dataclass(frozen=True)
class Deviation:
    """One setting where an experiment's run differs from the paper's (SPEC §2): what, and why."""

    experiment: str
    setting: str
    paper: str
    rfloc: str
    reason: str


def _text(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(_text(v) for v in value) + ")"
    return str(value)


def deviations(
    experiment: str, paper: Mapping[str, object], used: Mapping[str, object], reasons: Mapping[str, str]
) -> list[Deviation]:
    """Every key of ``paper`` whose value differs from ``used`` (missing counts as different), with its
    reason from ``reasons`` ("no reason recorded" when absent, so an unexplained reduction shows). A quick
    profile (``used["quick"]``) says so in every reason."""
    out = []
    quick = bool(used.get("quick", False))
    for key, want in paper.items():
        got = used.get(key, "(not run)")
        if _text(got) != _text(want):
            reason = reasons.get(key, "no reason recorded")
            if quick and not reason.startswith("quick profile"):
                reason = f"quick profile (smoke test); at the default profile: {reason}"
            out.append(Deviation(experiment, key, _text(want), _text(got), reason))
    return out


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval of a binomial proportion k/n, (low, high); the one implementation
    is :func:`rfloc.protocols.binomial_interval`."""
    from rfloc.protocols import binomial_interval

    return binomial_interval(k, n, confidence)


# "Localized" throughout the report: IPR > 0.1, i.e. fewer than ~10 effective inputs out of N = 40.
# Reason: a pure sinusoid on N = 40 sites has IPR 3/(2N) = 0.0375 and a uniform RF 1/N = 0.025, so 0.1 is
# ≈ 3× the most concentrated delocalized (Fourier) shape, while one bump a few sites wide has IPR ≥ 0.2.
LOCALIZED_IPR = 0.1
