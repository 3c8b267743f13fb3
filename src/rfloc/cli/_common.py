"""What the subcommands share: the data-model choice generated from ``rfloc.data.MODELS``, the tyro call
with rfloc's conventions, and the count-or-list reading of ``--seeds``."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from typing import Annotated, Union

import tyro

# Flags without prefixes (--lr, --width, --J, not --config.net.width), model names as bare subcommands
# (`rfloc train nlgp --gain 3`), options accepted before or after the model name, and one flag per bool.
CONVENTIONS = (
    tyro.conf.OmitArgPrefixes,
    tyro.conf.OmitSubcommandPrefixes,
    tyro.conf.CascadeSubcommandArgs,
    tyro.conf.FlagCreatePairsOff,
)

SEEDS_HELP = "one value S: seeds first..first+S-1 (a count); several values: exactly those seeds"


@functools.cache
def data_choice():
    """Union of every registered data model, each a subcommand named as in ``rfloc.data.MODELS``: tyro
    builds its flags from the model's own dataclass fields, so a new model needs no CLI code."""
    from rfloc.data import MODELS

    return Union[tuple(Annotated[cls, tyro.conf.subcommand(name)] for name, cls in MODELS.items())]  # noqa: UP007


def with_data_choice(cls: type, name: str, default) -> type:
    """A frozen subclass of config dataclass ``cls`` whose ``data`` field takes the data-model union
    (tyro cannot build the abstract ``DataModel`` base), defaulting to the model ``default``. Its
    instances are instances of ``cls``; :func:`plain` turns one back into ``cls``."""
    field = dataclasses.field(default=default)
    return dataclasses.make_dataclass(name, [("data", data_choice(), field)], bases=(cls,), frozen=True)


def plain(obj, cls: type):
    """``obj`` (an instance of a subclass made by :func:`with_data_choice`) as a plain ``cls``."""
    return cls(**{f.name: getattr(obj, f.name) for f in dataclasses.fields(cls)})


def option_value(argv: Sequence[str], flag: str) -> str | None:
    """The value of ``flag`` in argv (``--flag V`` or ``--flag=V``), read before tyro parses: a config
    file supplies the defaults that the other flags then override."""
    for i, item in enumerate(argv):
        if item == flag and i + 1 < len(argv):
            return argv[i + 1]
        if item.startswith(flag + "="):
            return item.split("=", 1)[1]
    return None


def parse(cls: type, argv: Sequence[str], prog: str, description: str, default=None):
    """tyro.cli with rfloc's conventions; a bad flag exits with status 2 and tyro's message."""
    return tyro.cli(
        cls, args=list(argv), prog=prog, description=description, default=default, config=CONVENTIONS
    )


def seeds_value(values: Sequence[int]) -> int | tuple[int, ...]:
    """``--seeds S`` is a count, ``--seeds a b c`` a list (see SEEDS_HELP)."""
    values = tuple(values)
    if not values:
        raise ValueError("seeds must be a count or a list of integers, got nothing")
    return values[0] if len(values) == 1 else values
