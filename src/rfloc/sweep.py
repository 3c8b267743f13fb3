"""Sweeps: a training configuration over grid axes × seed chunks, run as independent jobs, one cached
result file per job, resumable, in process or on a Dask cluster, merged into one labelled Dataset.

A job is (configuration, seed chunk): one point of the outer grid axes, trained with ``train_many`` over
its seed chunk and the inner ("batched") grid axes in one compiled call. Its result file is named by a
hash of (configuration, inner grid, seeds, rfloc version, hash of rfloc's source files): an existing file
is loaded, never recomputed nor overwritten; a file that cannot be read is moved aside (renamed, kept)
with a warning and recomputed. So an interrupted sweep resumes where it stopped, and a sweep rerun after
any change to rfloc's code recomputes everything instead of returning stale results.

Results merge along "seed" (chunks of one setting) and "setting" (grid points), with one coordinate per
grid axis along "setting". Workers return datasets; only the calling process writes files, so a remote
cluster needs no shared file system.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import itertools
import logging
import numbers
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from rfloc import __version__, store
from rfloc._checks import integer
from rfloc.data import from_dict
from rfloc.nn import NetConfig
from rfloc.train import FIXED_FIELDS, TrainConfig, expand_grid

SPEC_TABLES = ("data", "net", "train", "grid", "sweep")
SWEEP_KEYS = ("seeds", "chunk", "batched")
# Fields that cannot be batched inside one train_many call (they change shapes or the seed stream); data
# parameters (gain, k, xi, J, ...) can: train_many traces them, one compiled program per data family.
_UNBATCHABLE = FIXED_FIELDS
ENGINE = "h5netcdf"
JOB_KEY_ATTR = "sweep_job_key"


# ---- code identity ------------------------------------------------------------------------------------


# ---- configuration fields by name ----------------------------------------------------------------------


def _field_names(obj_or_cls) -> set[str]:
    return {f.name for f in dataclasses.fields(obj_or_cls)}


def _section(config: TrainConfig, name: str) -> tuple[str, str]:
    """(section, field) that a grid axis name addresses: "lr", "train.lr", "net.width", "data.gain"."""
    prefix, _, field = name.rpartition(".")
    if prefix not in ("", "train", "net", "data"):
        raise ValueError(f"grid axis {name!r}: prefix must be train., net. or data., got {prefix!r}")
    owners = {
        "train": _field_names(TrainConfig),
        "net": _field_names(NetConfig),
        "data": _field_names(config.data),
    }
    found = [s for s, names in owners.items() if (prefix in ("", s)) and field in names]
    if not found:
        allowed = sorted(set().union(*owners.values()))
        raise ValueError(f"grid axis {name!r} is not a config field; allowed: {allowed}")
    if len(found) > 1:
        raise ValueError(f"grid axis {name!r} is ambiguous ({found}); write e.g. {found[0]}.{field}")
    return found[0], field


def _with_field(config: TrainConfig, name: str, value) -> TrainConfig:
    """config with one field replaced (validated by the dataclasses' own checks). The train fields "data"
    and "net" take whole tables, so a grid can run over data families."""
    section, field = _section(config, name)
    if section == "train":
        if field == "data" and isinstance(value, Mapping):
            value = from_dict(value)
        elif field == "net" and isinstance(value, Mapping):
            value = NetConfig(**value)
        return dataclasses.replace(config, **{field: value})
    if isinstance(value, list):
        value = tuple(value)
    if section == "net":
        return dataclasses.replace(config, net=dataclasses.replace(config.net, **{field: value}))
    return dataclasses.replace(config, data=dataclasses.replace(config.data, **{field: value}))


def _canonical(config: TrainConfig, name: str) -> str:
    """The bare field name ("gain" for "data.gain") where it is unambiguous, so labels and coordinates
    read the same however the spec spelled the axis; names not resolvable on the base config (fields of
    another data family given by a "data" axis) are kept and checked when the jobs are built."""
    try:
        section, field = _section(config, name)
        return field if _section(config, field) == (section, field) else name
    except ValueError:
        return name


def _flatten(table: Mapping, prefix: str = "") -> dict[str, Any]:
    """{"data": {"gain": [1, 3]}} -> {"data.gain": [1, 3]} (TOML dotted keys); lists are kept as is."""
    out = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def _axis_values(name: str, values) -> list:
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Sequence | np.ndarray):
        raise ValueError(f"grid axis {name!r} must be a list of values, got {values!r}")
    values = [v.item() if isinstance(v, np.generic) else v for v in values]
    if not values:
        raise ValueError(f"grid axis {name!r} must hold at least one value")
    return values


# ---- sweeps and jobs ------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Job:
    """One unit of work: train_many(config, seeds, grid) for one outer grid point and one seed chunk.

    setting: the outer grid values of this job; grid: the inner settings (explicit list) or None;
    point: index of the outer grid point; chunk: index of the seed chunk; key: the result file's hash.
    """

    point: int
    chunk: int
    setting: dict
    config: TrainConfig
    grid: list[dict] | None
    seeds: tuple[int, ...]
    key: str

    @property
    def filename(self) -> str:
        return f"{self.key}.nc"

    def payload(self) -> dict:
        """What the job function receives (picklable, module-level data only)."""
        return {
            "config": self.config.to_dict(),
            "grid": self.grid,
            "seeds": list(self.seeds),
            "setting": self.setting,
            "key": self.key,
            "code_hash": store.code_hash(),
        }

    def describe(self) -> str:
        label = _label(self.setting) if self.setting else "default"
        return f"{label}, seeds {list(self.seeds)}"


@dataclasses.dataclass(frozen=True)
class Sweep:
    """base config × outer grid (one job per point and seed chunk) × inner grid (inside each job).

    grid: {axis: values} over any config field (Cartesian product, last axis fastest); batched: the axes
    trained together inside one job (one compiled call; only fields that keep array shapes and the seed
    stream); seeds split into chunks of ``chunk`` seeds, one job each.
    """

    base: TrainConfig
    grid: dict[str, list] = dataclasses.field(default_factory=dict)
    batched: tuple[str, ...] = ()
    seeds: tuple[int, ...] = (0,)
    chunk: int | None = None

    def __post_init__(self):
        grid = {}
        for raw, values in _flatten(self.grid).items():
            name = _canonical(self.base, str(raw))
            if name in grid:
                raise ValueError(f"grid axis {raw!r} is given twice")
            grid[name] = _axis_values(raw, values)
        object.__setattr__(self, "grid", grid)
        seeds = tuple(integer("seeds", s, minimum=0) for s in self.seeds)
        if not seeds or len(set(seeds)) != len(seeds):
            raise ValueError(f"seeds must be a non-empty list of distinct seeds, got {list(self.seeds)}")
        object.__setattr__(self, "seeds", seeds)
        chunk = len(seeds) if self.chunk is None else integer("chunk", self.chunk, minimum=1)
        object.__setattr__(self, "chunk", chunk)
        batched = tuple(_canonical(self.base, str(name)) for name in self.batched)
        for name in batched:
            if name not in grid:
                raise ValueError(f"batched axis {name!r} is not a grid axis; grid axes: {sorted(grid)}")
            if name.rpartition(".")[2] in _UNBATCHABLE:
                raise ValueError(
                    f"batched axis {name!r} changes array shapes or the seed stream and cannot run inside "
                    f"one compiled call; fields that cannot be batched: {list(_UNBATCHABLE)}"
                )
        object.__setattr__(self, "batched", batched)
        for name in grid:
            if name.rpartition(".")[2] == "seed":
                raise ValueError("grid cannot vary 'seed'; list the seeds under [sweep] seeds")
        self.jobs()  # validates every configuration before any compute

    @classmethod
    def from_dict(cls, spec: Mapping) -> Sweep:
        """From a spec mapping with tables [data] (incl. model = "..."), [net], [train], [grid] and
        [sweep] (seeds = count or list, chunk = seeds per job, batched = [axes])."""
        spec = dict(spec)
        unknown = set(spec) - set(SPEC_TABLES)
        if unknown:
            raise ValueError(
                f"sweep spec tables must be among {list(SPEC_TABLES)}; unknown: {sorted(unknown)}"
            )
        if "data" not in spec:
            raise ValueError("sweep spec must have a [data] table naming the model (model = 'nlgp', ...)")
        train = dict(spec.get("train", {}))
        base = TrainConfig.from_dict({"data": spec["data"], "net": spec.get("net", {}), **train})
        options = dict(spec.get("sweep", {}))
        bad = set(options) - set(SWEEP_KEYS)
        if bad:
            raise ValueError(f"[sweep] keys must be among {list(SWEEP_KEYS)}; unknown: {sorted(bad)}")
        seeds = options.get("seeds", 1)
        if isinstance(seeds, numbers.Integral) and not isinstance(seeds, bool):
            seeds = range(base.seed, base.seed + integer("seeds", seeds, minimum=1))
        elif not isinstance(seeds, Sequence) or isinstance(seeds, str):
            raise ValueError(f"seeds must be a count or a list of seeds, got {seeds!r}")
        return cls(
            base=base,
            grid=dict(spec.get("grid", {})),
            batched=tuple(options.get("batched", ())),
            seeds=tuple(seeds),
            chunk=options.get("chunk"),
        )

    @functools.cached_property
    def _jobs(self) -> list[Job]:
        outer = {k: v for k, v in self.grid.items() if k not in self.batched}
        inner = {k: v for k, v in self.grid.items() if k in self.batched}
        inner_settings = expand_grid(inner) if inner else None
        chunks = [self.seeds[i : i + self.chunk] for i in range(0, len(self.seeds), self.chunk)]
        jobs, shapes = [], {}
        for point, setting in enumerate(expand_grid(outer)):
            config = self.base
            # whole data / net tables first, so that axes over their fields apply on top of them
            for name, value in sorted(setting.items(), key=lambda item: item[0] not in ("data", "net")):
                config = _with_field(config, name, value)
            for inner_setting in inner_settings or [{}]:  # validate the batched values too
                checked = config
                for name, value in inner_setting.items():
                    checked = _with_field(checked, name, value)
            shapes.setdefault(_shape(config), setting)
            if len(shapes) > 1:
                first, second = shapes.values()
                raise ValueError(
                    f"grid points {first} and {second} give results of different shapes (steps, "
                    "eval_every, width or number of inputs differ); results of one sweep must share them, "
                    "so give each shape its own sweep"
                )
            grid = None
            if inner_settings is not None:
                grid = [{_section(config, k)[1]: v for k, v in s.items()} for s in inner_settings]
            for c, seeds in enumerate(chunks):
                key = store.config_hash(
                    {
                        "config": config.to_dict(),
                        "grid": grid,
                        "seeds": list(seeds),
                        "setting": setting,
                        "batched": list(self.batched),
                        "rfloc_version": __version__,
                        "code_hash": store.code_hash(),
                    }
                )
                jobs.append(Job(point, c, setting, config, grid, tuple(seeds), key))
        return jobs

    def jobs(self) -> list[Job]:
        """Every job, outer grid point major, seed chunk minor."""
        return list(self._jobs)

    def to_dict(self) -> dict:
        """JSON-ready description (stored in the merged file's "sweep" attribute)."""
        return {
            "base": self.base.to_dict(),
            "grid": self.grid,
            "batched": list(self.batched),
            "seeds": list(self.seeds),
            "chunk": self.chunk,
        }

    @property
    def key(self) -> str:
        """Hash of all job keys (names the merged file)."""
        return store.config_hash({"jobs": [j.key for j in self._jobs]})


def _shape(config: TrainConfig) -> tuple:
    return (config.steps, config.eval_every, config.net.width, config.data.n_inputs)


def load_spec(path: str | os.PathLike) -> Sweep:
    """Parse a sweep spec TOML file (see :meth:`Sweep.from_dict`)."""
    import tomllib

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"sweep spec {path} does not exist")
    with open(path, "rb") as fh:
        try:
            spec = tomllib.load(fh)
        except tomllib.TOMLDecodeError as err:
            raise ValueError(f"sweep spec {path} is not valid TOML: {err}") from None
    return Sweep.from_dict(spec)


# ---- the job function (runs on workers) -----------------------------------------------------------------


def _result_dataset(result) -> xr.Dataset:
    """The labelled Dataset of a TrainResult (dims setting, seed, time, neuron, input)."""
    return result.to_xarray()


def _label(setting: Mapping) -> str:
    def text(v):
        return (
            v if isinstance(v, str) else str(v) if isinstance(v, numbers.Number) else store.canonical_json(v)
        )

    return ",".join(f"{k}={text(v)}" for k, v in setting.items()) or "default"


def _coordinate(values: list) -> np.ndarray:
    """Numbers as float64; anything else (names, tuples, tables) as text, so netCDF can store it."""
    if all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values):
        return np.asarray(values, dtype=np.float64)
    return np.asarray([v if isinstance(v, str) else store.canonical_json(v) for v in values])


def run_job(job: Mapping) -> xr.Dataset:
    """Train one job (a :meth:`Job.payload`) and return its Dataset, labelled with the full grid setting of
    every run. Module-level so that Dask workers import it, and reuse their compiled programs, by name."""
    from rfloc.train import train_many

    if job["code_hash"] != store.code_hash():
        raise RuntimeError(
            f"this worker runs other rfloc code (hash {store.code_hash()}) than the client "
            f"({job['code_hash']}); "
            "install the same rfloc version on every worker"
        )
    config = TrainConfig.from_dict(job["config"])
    result = train_many(config, seeds=job["seeds"], grid=job["grid"], progress=False)
    ds = _result_dataset(result)
    outer = dict(job["setting"])
    inner_names = list(dict.fromkeys(k for s in job["grid"] or [] for k in s))
    settings = [{**outer, **s} for s in (job["grid"] or [{}])]
    coords = {"setting": [_label(s) for s in settings]}
    for name in [*outer, *inner_names]:
        coords[name] = ("setting", _coordinate([s[name] for s in settings]))
    return ds.assign_coords(coords).assign_attrs({JOB_KEY_ATTR: job["key"]})


# ---- reading result files --------------------------------------------------------------------------------


def load_result(path: str | os.PathLike, key: str | None = None) -> xr.Dataset | None:
    """Load a job's result file; None (named in a warning, moved aside, so that it is recomputed) if it
    cannot be read or holds another job than ``key``."""

    def same_job(ds: xr.Dataset) -> None:
        if key is not None and ds.attrs.get(JOB_KEY_ATTR) != key:
            raise ValueError(f"it holds job {ds.attrs.get(JOB_KEY_ATTR)!r}, not {key!r}")

    return store.load_or_set_aside(path, same_job)


# ---- executors ------------------------------------------------------------------------------------------


def _sweep_call(job: Job) -> tuple[Callable, Any, str]:
    return run_job, job.payload(), f"rfloc-job-{job.key}"


def _run_job(call: Callable, job):
    """The job's result in this process: call(job) gives (fn, arg, key), and the job is fn(arg)."""
    fn, arg, _ = call(job)
    return fn(arg)


def _in_process(
    jobs: Iterable, call: Callable = _sweep_call
) -> Iterator[tuple[Any, Any, BaseException | None]]:
    for job in jobs:
        try:
            ds = _run_job(call, job)
        except Exception as err:
            yield job, None, err
        else:
            yield job, ds, None


def _in_threads(
    threads: int, jobs: Iterable, call: Callable = _sweep_call
) -> Iterator[tuple[Any, Any, BaseException | None]]:
    """In process, ``threads`` jobs at a time, yielded as each finishes. JAX releases the GIL while it
    compiles and runs a program, so one job's (single-threaded) XLA compile overlaps another's compute."""
    from concurrent.futures import ThreadPoolExecutor, as_completed

    with ThreadPoolExecutor(threads) as pool:
        futures = {pool.submit(_run_job, call, job): job for job in jobs}
        for future in as_completed(futures):
            err = future.exception()
            yield futures[future], (None if err else future.result()), err


def _on_dask(
    client, jobs: Iterable, call: Callable = _sweep_call
) -> Iterator[tuple[Any, Any, BaseException | None]]:
    from distributed import as_completed

    futures = {}
    for job in jobs:
        fn, arg, key = call(job)
        futures[client.submit(fn, arg, key=key, pure=False)] = job
    for future in as_completed(futures):
        job = futures[future]
        try:
            ds = future.result()
        except Exception as err:
            yield job, None, err
        else:
            yield job, ds, None
        future.release()


def xla_flags(threads: int) -> str:
    """XLA_FLAGS that keep one JAX process to a single CPU thread (XLA ignores OMP_NUM_THREADS); empty
    for threads > 1, where XLA uses every core it sees."""
    threads = integer("threads_per_worker", threads, minimum=1)
    return "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1" if threads == 1 else ""


@contextlib.contextmanager
def xla_flags_set(flags: str):
    """XLA_FLAGS = flags inside the block, restored after (removed if it was unset). XLA reads them when a
    process's backend starts (its first computation), so they apply only to a process that has not computed
    yet, or to processes started inside the block."""
    saved = os.environ.get("XLA_FLAGS")
    os.environ["XLA_FLAGS"] = flags
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("XLA_FLAGS", None)
        else:
            os.environ["XLA_FLAGS"] = saved


@contextlib.contextmanager
def local_cluster(workers: int, threads_per_worker: int = 1):
    """A Dask LocalCluster of ``workers`` spawned worker processes, each running one job at a time with
    ``threads_per_worker`` XLA threads and this process's other XLA_FLAGS; yields a connected Client.
    Worker processes live for the whole sweep, so each compiles a program once and reuses it for every
    later job of the same shapes."""
    import dask
    from distributed import Client, LocalCluster

    workers = integer("workers", workers, minimum=1)
    saved = os.environ.get("XLA_FLAGS")
    # Workers get this process's flags (e.g. the quick profile's compile settings) plus the thread limit.
    flags = " ".join(filter(None, [saved, xla_flags(threads_per_worker)]))
    settings = {
        "distributed.worker.multiprocessing-method": "spawn",  # fork after JAX started can deadlock
        "distributed.nanny.pre-spawn-environ.XLA_FLAGS": flags,  # read by XLA at start-up only
    }
    # The nanny sets pre-spawn variables in this process too; xla_flags_set restores ours after (XLA reads
    # them at start-up only, so this process is unaffected either way).
    with xla_flags_set(flags), dask.config.set(settings):
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
    try:
        with Client(cluster) as client:
            yield client
    finally:
        cluster.close()


# ---- running a sweep ------------------------------------------------------------------------------------


@dataclasses.dataclass
class SweepResult:
    """The merged Dataset (None if no job succeeded) and the run summary."""

    dataset: xr.Dataset | None
    summary: dict


def merge(sweep: Sweep, results: Mapping[str, xr.Dataset]) -> xr.Dataset | None:
    """Concatenate job datasets: seed chunks of a grid point along "seed", points along "setting". A grid
    point with a missing chunk (failed job) is left out, so every point keeps all seeds."""
    points: dict[int, list[xr.Dataset | None]] = {}
    for job in sweep.jobs():
        points.setdefault(job.point, []).append(results.get(job.key))
    points = {p: parts for p, parts in points.items() if all(ds is not None for ds in parts)}
    if not points:
        return None
    opts = {"data_vars": "minimal", "coords": "minimal", "compat": "equals", "combine_attrs": "drop"}
    per_point = [xr.concat(parts, dim="seed", **opts) for parts in points.values()]
    merged = xr.concat(per_point, dim="setting", join="exact", **opts)
    return merged.assign_attrs(
        sweep=store.canonical_json(sweep.to_dict()),
        sweep_key=sweep.key,
        rfloc_version=__version__,
        code_hash=store.code_hash(),
    )


def _save(ds: xr.Dataset, path: Path) -> xr.Dataset:
    try:
        store.save(ds, path)
    except FileExistsError:  # another run of the same sweep wrote it first: keep theirs
        return load_result(path, ds.attrs.get(JOB_KEY_ATTR)) or ds
    return ds


def run_sweep(
    sweep: Sweep,
    out: str | os.PathLike,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    client=None,
    threads_per_worker: int = 1,
    progress: bool | None = None,
) -> SweepResult:
    """Run every job of ``sweep`` whose result file is not in ``out``/jobs, then merge all of them.

    Executor: in process (default); ``workers`` = N spawned LocalCluster workers; ``scheduler`` = address
    of a running Dask scheduler; or ``client``, any connected distributed.Client (e.g. of a
    dask-jobqueue SLURMCluster). A failing job is reported (summary "failures": its setting, seeds, config
    and error) and does not stop the others. The merged file out/sweep-<key>.nc is written only when every
    job succeeded. progress: tqdm bar over jobs (None: only on a terminal).
    """
    chosen = [name for name, v in (("workers", workers), ("scheduler", scheduler), ("client", client)) if v]
    if len(chosen) > 1:
        raise ValueError(f"give at most one of workers, scheduler and client, got {chosen}")
    if workers is not None:
        integer("workers", workers, minimum=1)
    start = time.perf_counter()
    out = Path(out)
    job_dir = out / "jobs"
    job_dir.mkdir(parents=True, exist_ok=True)
    jobs = sweep.jobs()
    results: dict[str, xr.Dataset] = {}
    pending, recovered = [], 0
    for job in jobs:
        path = job_dir / job.filename
        if path.exists():
            ds = load_result(path, job.key)
            if ds is None:  # moved aside (warned)
                recovered += 1
            else:
                results[job.key] = ds
                continue
        pending.append(job)
    loaded = len(results)

    from tqdm.auto import tqdm

    bar = tqdm(
        total=len(jobs),
        initial=loaded,
        desc="sweep jobs",
        unit="job",
        disable=(not progress) if progress is not None else None,
    )
    failures = []
    try:
        with _executor(workers, scheduler, client, threads_per_worker, bool(pending)) as execute:
            for job, ds, err in execute(pending):
                if err is None:
                    results[job.key] = _save(ds, job_dir / job.filename)
                else:
                    failures.append(
                        {
                            "setting": job.setting,
                            "seeds": list(job.seeds),
                            "config": job.config.to_dict(),
                            "error": f"{type(err).__name__}: {err}",
                        }
                    )
                    bar.write(f"job failed ({job.describe()}): {type(err).__name__}: {err}")
                bar.update(1)
    finally:
        bar.close()

    merged = merge(sweep, results)
    merged_path = None
    if merged is not None and not failures:
        merged_path = out / f"sweep-{sweep.key}.nc"
        if not merged_path.exists():
            store.save(merged, merged_path)
    summary = {
        "jobs": len(jobs),
        "computed": len(results) - loaded,
        "loaded": loaded,
        "failed": len(failures),
        "recovered": recovered,
        "seconds": round(time.perf_counter() - start, 3),
        "executor": _executor_name(workers, scheduler, client),
        "out": str(out),
        "merged": None if merged_path is None else str(merged_path),
        "failures": failures,
    }
    return SweepResult(merged, summary)


def _executor_name(workers, scheduler, client, threads=1) -> str:
    if scheduler:
        return f"scheduler {scheduler}"
    if client is not None:
        return "dask client"
    if workers:
        return f"LocalCluster x{workers}"
    return "in-process" + (f" ({threads} jobs at a time)" if threads > 1 else "")


@contextlib.contextmanager
def _executor(workers, scheduler, client, threads_per_worker, needed, threads=1):
    if not needed or not (workers or scheduler or client):
        yield _in_process if threads <= 1 else functools.partial(_in_threads, threads)
    elif client is not None:
        yield functools.partial(_on_dask, client)
    elif scheduler:
        from distributed import Client

        with Client(scheduler) as remote:
            yield functools.partial(_on_dask, remote)
    else:
        with local_cluster(workers, threads_per_worker) as local:
            yield functools.partial(_on_dask, local)


def map_jobs(
    call: Callable[[Any], tuple[Callable, Any, str]],
    items: Iterable,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    client=None,
    threads_per_worker: int = 1,
    threads: int = 1,
) -> Iterator[tuple[Any, Any, BaseException | None]]:
    """Run any jobs on the executors of :func:`run_sweep`: ``call(item)`` gives (fn, arg, unique key) and
    fn(arg) runs in process (``threads`` jobs at a time), on N LocalCluster workers or on the cluster at
    ``scheduler``; yields (item, result, error) as each finishes. fn must be importable by the workers (a
    module-level function); a failing job yields its exception and does not stop the others. items may be
    lazy: each is taken just before it is submitted, so the first job runs while later ones are built."""
    threads = integer("threads", threads, minimum=1)
    chosen = [name for name, v in (("workers", workers), ("scheduler", scheduler), ("client", client)) if v]
    if len(chosen) > 1:
        raise ValueError(f"give at most one of workers, scheduler and client, got {chosen}")
    items = iter(items)
    first = list(itertools.islice(items, 1))  # a cluster starts only for at least one job
    with _executor(workers, scheduler, client, threads_per_worker, bool(first), threads) as run:
        yield from run(itertools.chain(first, items), call)


def executor_name(
    workers: int | None = None, scheduler: str | None = None, client=None, threads: int = 1
) -> str:
    """How :func:`map_jobs` / :func:`run_sweep` run jobs, in words (for reports)."""
    return _executor_name(workers, scheduler, client, threads)
