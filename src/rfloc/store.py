"""Results store: save, load and cache labelled results (xarray Datasets) as self-describing netCDF files.

The store holds no schema and computes nothing: a `TrainResult` is labelled by its own
``TrainResult.to_xarray()``, experiments build their Datasets, metrics are computed by the caller. Files
are written atomically (temp file + rename) and never overwritten unless asked.

Cache key: the canonical JSON of {config, rfloc version, code hash}. The code hash is the sha256 of every
rfloc source file (``*.py`` under the installed package, by relative path and content): the simplest
robust stand-in for "the experiment module and the rfloc modules it uses", since imports are dynamic and
a change anywhere below an experiment (a sampler, the trainer, a metric) can change its result. Any code
change therefore recomputes instead of silently reusing an old result file; an unchanged tree reuses it.
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from rfloc import __version__

ENGINE = "h5netcdf"
PACKAGE_ROOT = Path(__file__).resolve().parent


def _json_default(obj):
    # numpy scalars/arrays reach configs through grids built with np.linspace etc.
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"config value {obj!r} of type {type(obj).__name__} is not JSON-serializable")


def canonical_json(config: Mapping[str, Any]) -> str:
    """Canonical JSON of a config: sorted keys, no whitespace, tuples as lists, numpy scalars as numbers."""
    return json.dumps(config, sort_keys=True, separators=(",", ":"), default=_json_default, allow_nan=True)


def config_hash(config: Mapping[str, Any]) -> str:
    """First 16 hex chars of the sha256 of the config's canonical JSON (the cache key)."""
    if not isinstance(config, Mapping):
        raise ValueError(f"config must be a dict, got {type(config).__name__}")
    return hashlib.sha256(canonical_json(config).encode()).hexdigest()[:16]


@functools.cache
def code_hash(root: str | os.PathLike = PACKAGE_ROOT) -> str:
    """First 16 hex chars of the sha256 over every ``*.py`` file under root (sorted relative path + bytes).

    Default root: the rfloc package itself (computed once per process).
    """
    root = Path(root)
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py"), key=lambda p: p.relative_to(root).as_posix()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def cache_key(config: Mapping[str, Any]) -> dict:
    """What a cached result is keyed by: the config, the rfloc version and the code hash."""
    if not isinstance(config, Mapping):
        raise ValueError(f"config must be a dict, got {type(config).__name__}")
    return {"config": dict(config), "rfloc_version": __version__, "code_hash": code_hash()}


def config_of(ds: xr.Dataset) -> dict:
    """The config stored in a dataset's attributes, parsed back from JSON."""
    if "config" not in ds.attrs:
        raise ValueError("dataset has no 'config' attribute (not written by rfloc.store?)")
    return json.loads(ds.attrs["config"])


def save(ds: xr.Dataset, path: str | os.PathLike, force: bool = False) -> Path:
    """Write `ds` to a netCDF-4 file atomically (temp file in the same folder, then os.replace).

    Refuses to replace an existing file unless force=True; creates parent folders. Returns the path.
    """
    path = Path(path)
    if path.exists() and not force:
        raise FileExistsError(f"{path} exists; pass force=True (--force on the command line) to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        ds.to_netcdf(tmp, engine=ENGINE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load(path: str | os.PathLike) -> xr.Dataset:
    """Read a results file fully into memory (the file is closed on return)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no results file at {path}")
    return xr.load_dataset(path, engine=ENGINE)


def move_aside(path: str | os.PathLike) -> Path:
    """Rename an unreadable file to <name>.unreadable-<UTC time>[-i] next to it (never deleted)."""
    path = Path(path)
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%S")
    target = path.with_name(f"{path.name}.unreadable-{stamp}")
    i = 1
    while target.exists():
        target = path.with_name(f"{path.name}.unreadable-{stamp}-{i}")
        i += 1
    os.rename(path, target)
    return target


def load_or_set_aside(
    path: str | os.PathLike, check: Callable[[xr.Dataset], None] | None = None
) -> xr.Dataset | None:
    """Load a result file; None, with a warning naming it, if it cannot be read or ``check(ds)`` raises,
    after moving it aside (:func:`move_aside`) so that the caller recomputes it."""
    path = Path(path)
    try:
        ds = load(path)
        if check is not None:
            check(ds)
    # A truncated or corrupted netCDF file surfaces as OSError, ValueError, KeyError or RuntimeError from
    # h5py / h5netcdf / xarray depending on where the damage is, so any failure to read counts.
    except Exception as err:
        aside = move_aside(path)
        warnings.warn(
            f"result file {path} cannot be used ({type(err).__name__}: {err}); moved it aside to "
            f"{aside.name} and recomputing",
            RuntimeWarning,
            stacklevel=2,
        )
        return None
    return ds


def cached(
    config: Mapping[str, Any],
    compute: Callable[[], xr.Dataset],
    root: str | os.PathLike,
    force: bool = False,
) -> xr.Dataset:
    """Load root/<hash>.nc if present, else compute() it and save it there; hash = config_hash of
    :func:`cache_key` (config, rfloc version, code hash), so changed code never reuses an old file.

    force=True recomputes and overwrites. The full key is kept in the file's "cache_key" attribute and
    checked on load; a file that cannot be read or holds another key is named in a warning, moved aside
    (never deleted) and recomputed.
    """
    key_dict = cache_key(config)
    key = canonical_json(key_dict)
    path = cache_path(config, root)
    if path.exists() and not force:

        def same_key(ds: xr.Dataset) -> None:
            if ds.attrs.get("cache_key") != key:
                raise ValueError("it holds a different config than requested")

        ds = load_or_set_aside(path, same_key)
        if ds is not None:
            return ds
    ds = compute()
    if not isinstance(ds, xr.Dataset):
        raise TypeError(f"compute() must return an xarray.Dataset, got {type(ds).__name__}")
    ds = ds.assign_attrs(cache_key=key)
    save(ds, path, force=force)
    return ds


def cache_path(config: Mapping[str, Any], root: str | os.PathLike) -> Path:
    """Where :func:`cached` keeps the result of ``config`` under root."""
    return Path(root) / f"{config_hash(cache_key(config))}.nc"
