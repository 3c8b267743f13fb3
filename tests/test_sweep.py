"""Sweeps: job layout and validation, merge = one train_many call, caching, unreadable files, failed jobs,
resume after a killed run, the LocalCluster executor and `rfloc sweep`."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from rfloc import sweep as sw
from rfloc.cli import main
from rfloc.train import train_many

# 2 outer learning rates × 2 seed chunks = 4 jobs; two init scales train together inside each job. All
# jobs share one compiled program (lr and init_scale are traced), which keeps the module to one compile;
# 2000 steps make a job last long enough for the resume test to catch a sweep half done.
SPEC = """
[data]
model = "ising"
n = 10
[train]
batch_size = 16
steps = 2000
eval_every = 500
[grid]
lr = [0.05, 0.2]
init_scale = [0.001, 0.01]
[sweep]
seeds = 4
chunk = 2
batched = ["init_scale"]
"""
LABELS = [f"lr={lr},init_scale={s}" for lr in (0.05, 0.2) for s in (0.001, 0.01)]


@pytest.fixture(scope="module")
def spec_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("spec") / "tiny.toml"
    path.write_text(SPEC)
    return path


@pytest.fixture(scope="module")
def reference(spec_path, tmp_path_factory):
    """The uninterrupted sweep, run in process."""
    out = tmp_path_factory.mktemp("reference")
    result = sw.run_sweep(sw.load_spec(spec_path), out, progress=False)
    return out, result


def _job_files(out: Path) -> list[Path]:
    return sorted((out / "jobs").glob("*.nc"))


def test_jobs_layout_and_keys(spec_path):
    sweep = sw.load_spec(spec_path)
    jobs = sweep.jobs()
    assert [(j.setting, j.seeds) for j in jobs] == [
        ({"lr": 0.05}, (0, 1)),
        ({"lr": 0.05}, (2, 3)),
        ({"lr": 0.2}, (0, 1)),
        ({"lr": 0.2}, (2, 3)),
    ]
    assert all(
        j.config.lr == j.setting["lr"] and j.grid == [{"init_scale": 0.001}, {"init_scale": 0.01}]
        for j in jobs
    )
    assert len({j.key for j in jobs}) == 4
    assert [j.key for j in sw.load_spec(spec_path).jobs()] == [j.key for j in jobs]  # stable across parses


@pytest.mark.parametrize(
    "change, name",
    [
        ({"grid": {"nope": [1]}}, "nope"),
        ({"grid": {"gain": []}}, "gain"),
        ({"grid": {"gain": 3.0}}, "gain"),
        ({"grid": {"gain": [-1.0]}}, "gain"),
        ({"grid": {"steps": [40, 80]}}, "shapes"),
        ({"grid": {"seed": [1, 2]}}, "seed"),
        ({"sweep": {"batched": ["lr"]}}, "batched"),
        ({"grid": {"steps": [40]}, "sweep": {"batched": ["steps"]}}, "batched"),
        ({"sweep": {"chunk": 0}}, "chunk"),
        ({"sweep": {"seeds": [1, 1]}}, "seeds"),
        ({"sweep": {"workers": 2}}, "workers"),
        ({"extra": {}}, "extra"),
        ({"grid": {"gain": [1.0], "data.gain": [2.0]}}, "twice"),
    ],
)
def test_bad_spec_is_a_value_error_naming_the_field(change, name):
    spec = {"data": {"model": "nlgp", "n": 10}, "train": {"steps": 40, "eval_every": 10}, **change}
    with pytest.raises(ValueError, match=name):
        sw.Sweep.from_dict(spec)


def test_grid_over_any_field_and_whole_data_tables():
    spec = {
        "data": {"model": "nlgp", "n": 10},
        "train": {"steps": 40, "eval_every": 10},
        "grid": {"net": {"activation": ["relu", "tanh"]}, "data": [{"model": "kur", "n": 10, "k": 4.0}]},
    }
    jobs = sw.Sweep.from_dict(spec).jobs()
    assert [j.config.net.activation for j in jobs] == ["relu", "tanh"]
    assert all(type(j.config.data).__name__ == "Kur" and j.config.data.k == 4.0 for j in jobs)
    assert [j.setting["activation"] for j in jobs] == ["relu", "tanh"]  # labelled by the bare field name
    # a data-family axis applies before axes over that family's fields
    spec["grid"] = {"k": [5.0], "data": [{"model": "kur", "n": 10}]}
    assert [j.config.data.k for j in sw.Sweep.from_dict(spec).jobs()] == [5.0]


def test_merged_sweep_places_every_job(reference, spec_path):
    out, result = reference
    assert result.summary | {"seconds": 0, "out": "", "merged": ""} == {
        "jobs": 4,
        "computed": 4,
        "loaded": 0,
        "failed": 0,
        "recovered": 0,
        "seconds": 0,
        "executor": "in-process",
        "out": "",
        "merged": "",
        "failures": [],
    }
    ds = result.dataset
    assert list(ds["setting"].values) == LABELS
    np.testing.assert_array_equal(ds["lr"], [0.05, 0.05, 0.2, 0.2])
    np.testing.assert_array_equal(ds["init_scale"], [0.001, 0.01, 0.001, 0.01])
    np.testing.assert_array_equal(ds["seed"], [0, 1, 2, 3])
    # each chunk is where it belongs: the runs of train_many(setting's config, chunk seeds, inner grid)
    for job in sw.load_spec(spec_path).jobs():
        alone = train_many(job.config, seeds=job.seeds, grid=job.grid, progress=False)
        labels = [f"lr={job.setting['lr']},init_scale={s}" for s in (0.001, 0.01)]
        part = ds.sel(setting=labels, seed=list(job.seeds))
        np.testing.assert_array_equal(part["weights"].values, alone.weights)
        np.testing.assert_array_equal(part["loss"].values, alone.loss)
    # independent of train_many's bookkeeping: theory time is lr × step, and a seed's initial weights are
    # one Xavier draw with std ∝ sqrt(init_scale), so 0.01 vs 0.001 differ by sqrt(10) up to float32 rounding
    np.testing.assert_allclose(ds["theory_time"], ds["lr"].values[:, None] * ds["step"].values[None, :])
    w0 = ds["weights"].isel(time=0).values
    np.testing.assert_allclose(w0[1], np.sqrt(10) * w0[0], rtol=1e-6)
    np.testing.assert_allclose(w0[3], np.sqrt(10) * w0[2], rtol=1e-6)
    assert np.all(w0[0, 0] != w0[0, 1])  # seeds differ
    # the merged file is written and holds the same
    xr.testing.assert_identical(xr.load_dataset(result.summary["merged"]), ds)


def test_rerun_loads_every_file_and_touches_none(reference, spec_path, capsys):
    out, first = reference
    stamps = {p: p.stat().st_mtime_ns for p in _job_files(out)}
    assert main(["sweep", str(spec_path), "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert {k: summary[k] for k in ("jobs", "computed", "loaded", "failed")} == {
        "jobs": 4,
        "computed": 0,
        "loaded": 4,
        "failed": 0,
    }
    assert isinstance(summary["seconds"], float)
    assert {p: p.stat().st_mtime_ns for p in _job_files(out)} == stamps


def test_unreadable_file_is_moved_aside_and_recomputed(reference, spec_path, tmp_path):
    out, first = reference
    for p in _job_files(out):
        (tmp_path / "jobs").mkdir(exist_ok=True)
        (tmp_path / "jobs" / p.name).write_bytes(p.read_bytes())
    victim = _job_files(tmp_path)[1]
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 2])  # truncated, as by a full disk or a killed copy
    with pytest.warns(RuntimeWarning, match=victim.name):
        again = sw.run_sweep(sw.load_spec(spec_path), tmp_path, progress=False)
    assert (again.summary["computed"], again.summary["loaded"], again.summary["recovered"]) == (1, 3, 1)
    (aside,) = (tmp_path / "jobs").glob(f"{victim.name}.unreadable-*")
    assert aside.read_bytes() == data[: len(data) // 2]  # kept, not deleted
    xr.testing.assert_identical(again.dataset, first.dataset)


def test_a_failed_job_is_reported_and_the_others_finish(spec_path, tmp_path, monkeypatch):
    real = sw.run_job

    def flaky(job):
        if job["setting"]["lr"] == 0.2 and job["seeds"] == [2, 3]:
            raise FloatingPointError("boom")
        return real(job)

    monkeypatch.setattr(sw, "run_job", flaky)
    result = sw.run_sweep(sw.load_spec(spec_path), tmp_path, progress=False)
    s = result.summary
    assert (s["computed"], s["failed"], s["merged"]) == (3, 1, None)
    assert list(result.dataset["lr"].values) == [0.05, 0.05]  # the incomplete grid point is left out
    (failure,) = s["failures"]
    assert failure["setting"] == {"lr": 0.2} and failure["seeds"] == [2, 3]
    assert failure["config"]["lr"] == 0.2 and "FloatingPointError: boom" in failure["error"]
    assert len(_job_files(tmp_path)) == 3 and not list(tmp_path.glob("sweep-*.nc"))


def test_worker_with_other_code_refuses_the_job(spec_path):
    payload = sw.load_spec(spec_path).jobs()[0].payload() | {"code_hash": "0" * 16}
    with pytest.raises(RuntimeError, match="other rfloc code"):
        sw.run_job(payload)


@pytest.mark.slow
def test_resume_after_kill_computes_only_missing_jobs(reference, spec_path, tmp_path):
    out, first = reference
    script = "import sys; from rfloc import sweep; sweep.run_sweep(sweep.load_spec(sys.argv[1]), sys.argv[2])"
    env = dict(os.environ, PYTHONPATH=str(Path(sw.__file__).parents[1]))
    proc = subprocess.Popen([sys.executable, "-c", script, str(spec_path), str(tmp_path)], env=env)
    try:
        deadline = time.monotonic() + 120
        while not _job_files(tmp_path) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    done = len(_job_files(tmp_path))
    assert 1 <= done < 4, f"{done} of 4 jobs finished before the kill: resume not exercised"
    resumed = sw.run_sweep(sw.load_spec(spec_path), tmp_path, progress=False)
    assert (resumed.summary["loaded"], resumed.summary["computed"]) == (done, 4 - done)
    xr.testing.assert_identical(resumed.dataset, first.dataset)


@pytest.mark.slow
def test_local_cluster_matches_in_process(reference, spec_path, tmp_path):
    out, first = reference
    sweep = sw.load_spec(spec_path)
    two = dataclasses.replace(sweep, grid={"lr": [0.05], "init_scale": [0.001, 0.01]})  # 2 jobs
    result = sw.run_sweep(two, tmp_path, workers=1, progress=False)
    assert (result.summary["computed"], result.summary["failed"]) == (2, 0)
    assert result.summary["executor"] == "LocalCluster x1"
    # a spawned single-threaded worker computes the same bits as this process
    expected = first.dataset.sel(setting=LABELS[:2])
    np.testing.assert_array_equal(result.dataset["weights"].values, expected["weights"].values)
    xr.testing.assert_identical(result.dataset.drop_attrs(), expected.drop_attrs())


def _job(arg):
    """A job for map_jobs: sleeps, then returns its argument, or fails on a negative one."""
    value, delay = arg
    time.sleep(delay)
    if value < 0:
        raise ValueError(f"bad value {value}")
    return value


def _job_call(item):
    return _job, item, f"job-{item[0]}"


def test_map_jobs_in_threads_overlap_and_report_failures():
    """In process with threads=2: every job runs once, a failing job yields its error without stopping
    the others, results arrive as they finish, and two 0.5 s jobs take ~0.5 s, not 1 s."""
    items = [(1, 0.5), (2, 0.5), (-3, 0.0), (4, 0.0)]
    start = time.perf_counter()
    got = list(sw.map_jobs(_job_call, items, threads=2))
    elapsed = time.perf_counter() - start
    assert sorted(item for item, _, _ in got) == sorted(items)
    for item, result, err in got:
        if item[0] < 0:
            assert result is None and isinstance(err, ValueError)
        else:
            assert err is None and result == item[0]
    assert elapsed < 1.0  # sequential: >= 1.0 s (two 0.5 s sleeps); threads overlap them
    assert [item for item, _, _ in sw.map_jobs(_job_call, items[2:], threads=1)] == items[2:]  # in order
    with pytest.raises(ValueError, match="threads"):
        list(sw.map_jobs(_job_call, items, threads=0))
