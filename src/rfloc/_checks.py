"""Parameter validation shared across rfloc: fail before any compute, naming the parameter and its range."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable


def integer(name: str, value, *, minimum: int, maximum: int | None = None) -> int:
    """Return ``value`` as int after checking it is an integer in [minimum, maximum]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    value = int(value)
    if value < minimum or (maximum is not None and value > maximum):
        hi = "" if maximum is None else f" and <= {maximum}"
        raise ValueError(f"{name} must be an integer >= {minimum}{hi}, got {value}")
    return value


def real(
    name: str,
    value,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as float after checking it is a finite real in the stated interval."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    lo_ok = value > low if low_open else value >= low
    hi_ok = value < high if high_open else value <= high
    if not math.isfinite(value) or not (lo_ok and hi_ok):
        lb = "(" if low_open else "["
        rb = ")" if high_open else "]"
        raise ValueError(f"{name} must be finite and in {lb}{low}, {high}{rb}, got {value}")
    return value


def pair(name: str, value, check: Callable | None = None, **bounds) -> tuple:
    """A per-class pair (class 0, class 1); a single value (a real number, or any 0-d array or tracer)
    stands for both classes. Each entry is checked like :func:`real` with ``bounds``, or by
    ``check(entry_name, value)`` when given."""
    single = (isinstance(value, numbers.Real) and not isinstance(value, bool)) or getattr(
        value, "ndim", None
    ) == 0
    if single:
        value = (value, value)
    try:
        items = tuple(value)
    except TypeError:
        raise ValueError(f"{name} must be a pair (class 0, class 1), got {value!r}") from None
    if len(items) != 2:
        raise ValueError(f"{name} must be a pair (class 0, class 1), got {len(items)} values")
    if check is None:
        return tuple(real(f"{name}[{i}]", v, **bounds) for i, v in enumerate(items))
    return tuple(check(f"{name}[{i}]", v) for i, v in enumerate(items))


def choice(name: str, value, allowed) -> str:
    """Return ``value`` after checking it is one of ``allowed``."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {sorted(allowed)}, got {value!r}")
    return value


def boolean(name: str, value) -> bool:
    """Return ``value`` after checking it is a bool (not 0/1, not a string)."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be a bool (true/false), got {value!r}")
    return value


def instance(name: str, value, cls: type, what: str | None = None):
    """Return ``value`` after checking it is an instance of ``cls`` (``what`` names it in the message)."""
    if not isinstance(value, cls):
        raise ValueError(f"{name} must be {what or cls.__name__}, got {type(value).__name__}")
    return value


def seeds(value, first: int = 0) -> tuple[int, ...]:
    """Seeds given as a count S (first, ..., first + S − 1) or as a list of integers in [0, 2**32)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        count = integer("seeds", value, minimum=1)
        value = range(first, first + count)
    elif isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ValueError(f"seeds must be a count or a list of integers, got {value!r}")
    out = tuple(integer("seed", s, minimum=0, maximum=2**32 - 1) for s in value)
    if not out:
        raise ValueError("seeds must hold at least one seed")
    return out
