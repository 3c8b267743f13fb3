"""A claim of the paper checked by rfloc: the paper's number, rfloc's number, and the verdict."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Claim:
    """One row of the report's claims table.

    experiment: which experiment checked it; name: the claim in words; paper: what the paper reports;
    measured: what rfloc measured (text with numbers); passed: the verdict; criterion: the threshold
    and why it was chosen.
    """

    experiment: str
    name: str
    paper: str
    measured: str
    passed: bool
    criterion: str = ""

    @property
    def verdict(self) -> str:
        return "PASS" if self.passed else "FAIL"


# "Localized" throughout the report: IPR > 0.1, i.e. fewer than ~10 effective inputs out of N = 40.
# Reason: a pure sinusoid on N = 40 sites has IPR 3/(2N) = 0.0375 and a uniform RF 1/N = 0.025, so 0.1 is
# ≈ 3× the most concentrated delocalized (Fourier) shape, while one bump a few sites wide has IPR ≥ 0.2.
LOCALIZED_IPR = 0.1
