"""Results store: a run set as one self-describing netCDF file, cached by a hash of its config.

A `TrainResult` becomes an `xarray.Dataset` with labelled dims ("setting", "seed", "time", "neuron",
"input"), its localization metrics, and the full config (canonical JSON) plus the rfloc version in its
attributes. Files are written atomically (temp file + rename) and never overwritten unless asked.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import numbers
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from rfloc import __version__

DIMS = ("setting", "seed", "time", "neuron", "input")
ENGINE = "h5netcdf"


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


def _setting_label(setting: Mapping[str, Any]) -> str:
    # str(float) is the shortest round-trip repr, so distinct settings keep distinct labels (a unique index).
    return ",".join(f"{k}={v}" for k, v in setting.items()) or "default"


def _grid_coordinate(values: list) -> np.ndarray:
    """Numeric grid values as float64 (nan where a setting lacks the field), anything else (tuples, names)
    as its JSON text, so every coordinate is a plain netCDF array."""
    if all(v is None or (isinstance(v, numbers.Real) and not isinstance(v, bool)) for v in values):
        return np.asarray([np.nan if v is None else v for v in values], dtype=np.float64)
    return np.asarray(["" if v is None else v if isinstance(v, str) else canonical_json(v) for v in values])


def to_dataset(result) -> xr.Dataset:
    """Dataset of a TrainResult: weights (setting, seed, time, neuron, input), loss (setting, seed, time),
    diverged / diverged_step (setting, seed), and per-RF metrics ipr, peak = argmax|w|, peak_signed =
    argmax(−w) (setting, seed, time, neuron; peak −1 for a non-finite RF).

    Coords: seed values, "step" (SGD step of each time record), "theory_time" = lr × step (setting, time),
    setting labels ("lr=0.05,gain=3" or "default") and one coordinate per grid parameter along "setting"
    (float, or JSON text for non-numeric values). Attrs: config (JSON), rfloc_version,
    created (UTC ISO time).
    """
    from rfloc import metrics

    weights = np.asarray(result.weights)
    if weights.ndim != 5:
        raise ValueError(f"result.weights must be (setting, seed, time, neuron, input), got {weights.shape}")
    h, s, t, _, _ = weights.shape
    steps = np.asarray(result.steps)
    seeds = np.asarray(result.seeds, dtype=np.int64)
    settings = list(result.settings) if result.settings else [{}]
    if steps.shape != (t,) or seeds.shape != (s,) or len(settings) != h:
        raise ValueError(
            f"result is inconsistent: weights {weights.shape}, steps {steps.shape}, "
            f"{seeds.size} seeds, {len(settings)} settings"
        )
    grid_names = list(dict.fromkeys(k for st in settings for k in st))
    coords = {
        "setting": [_setting_label(st) for st in settings],
        "seed": seeds,
        "step": ("time", steps.astype(np.int64)),
    }
    for name in grid_names:
        coords[name] = ("setting", _grid_coordinate([st.get(name) for st in settings]))
    if hasattr(result, "time"):
        coords["theory_time"] = (("setting", "time"), np.asarray(result.time, dtype=np.float64))

    per_rf = DIMS[:4]
    ds = xr.Dataset(
        {
            "weights": (DIMS, weights),
            "loss": (DIMS[:3], np.asarray(result.loss)),
            "diverged": (DIMS[:2], np.asarray(result.diverged, dtype=bool)),
            "diverged_step": (DIMS[:2], np.asarray(result.diverged_step, dtype=np.int64)),
            "ipr": (per_rf, np.asarray(metrics.ipr(weights))),
            "peak": (per_rf, np.asarray(metrics.peak_index(weights))),
            "peak_signed": (per_rf, np.asarray(metrics.peak_index_signed(weights))),
        },
        coords=coords,
        attrs={
            "config": canonical_json(result.config_dict()),
            "rfloc_version": __version__,
            "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        },
    )
    ds["weights"].attrs["long_name"] = "first-layer weights (receptive fields)"
    ds["ipr"].attrs["long_name"] = "inverse participation ratio sum w^4 / (sum w^2)^2"
    ds["peak"].attrs["long_name"] = "argmax_i |w_i| (-1: non-finite RF)"
    ds["peak_signed"].attrs["long_name"] = "argmax_i (-w_i), the authors' by-eye peak (-1: non-finite RF)"
    return ds


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


def cached(
    config: Mapping[str, Any],
    compute: Callable[[], xr.Dataset],
    root: str | os.PathLike,
    force: bool = False,
) -> xr.Dataset:
    """Load root/<config_hash(config)>.nc if present, else compute() it and save it there.

    force=True recomputes and overwrites. The key config is kept in the file's "cache_key" attribute and
    checked on load, so a renamed or colliding file is reported instead of silently returned.
    """
    key = canonical_json(config)
    path = Path(root) / f"{config_hash(config)}.nc"
    if path.exists() and not force:
        ds = load(path)
        if ds.attrs.get("cache_key", key) != key:
            raise ValueError(f"{path} holds a different config than requested; recompute with force=True")
        return ds
    ds = compute()
    if not isinstance(ds, xr.Dataset):
        raise TypeError(f"compute() must return an xarray.Dataset, got {type(ds).__name__}")
    ds = ds.assign_attrs(cache_key=key)
    save(ds, path, force=force)
    return ds
