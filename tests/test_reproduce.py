"""`rfloc reproduce`: the report is produced with a complete claims table; finished work is cached."""

import html
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import types

import numpy as np
import pytest
import xarray as xr

from rfloc import experiments, sweep
from rfloc.cli import main
from rfloc.experiments import runner
from rfloc.experiments.claims import Claim, deviations
from rfloc.experiments.runner import run_experiment


@pytest.mark.slow
def test_quick_reproduction_writes_complete_report(tmp_path):
    assert main(["reproduce", "--quick", "--out", str(tmp_path)]) == 0
    md = (tmp_path / "report.md").read_text()
    page = (tmp_path / "report.html").read_text()
    rows = [line for line in md.splitlines() if re.match(r"^\| \w+ \| .* \| (PASS|FAIL) \|", line)]
    names = experiments.available()
    for name in names:
        mod = experiments.get(name)
        assert any(r.startswith(f"| {mod.NAME} |") for r in rows), f"no claim from {name} in the report"
        assert mod.TITLE in md and html.escape(mod.TITLE) in page
    assert "Paper claims: " in md and "reproduced." in md and "## Deviations from the paper" in md
    assert "QUICK" in md.splitlines()[0]
    assert page.count("data:image/png;base64,") >= len(names)  # figures embedded: self-contained
    for link in re.findall(r"!\[.*?\]\((.*?)\)", md):
        assert (tmp_path / link).stat().st_size > 0
    assert "## Environment" in md and "jax" in md


def test_cached_result_is_loaded_not_recomputed_and_figures_drawn_apart_are_the_same(tmp_path):
    here, apart = tmp_path / "here", tmp_path / "apart"
    first = run_experiment("fig2", here, quick=True)
    stored = sorted((here / "data").glob("*.nc"))
    again = run_experiment("fig2", here, quick=True)
    assert not first.cached and again.cached
    assert sorted((here / "data").glob("*.nc")) == stored
    assert [c.measured for c in again.claims] == [c.measured for c in first.claims]

    # draw_apart (the CLI's choice) draws in a spawned process: the same files, bytes and claims.
    shutil.copytree(here / "data", apart / "data")
    (drawn,) = runner.run_experiments(["fig2"], apart, quick=True, draw_apart=True)
    assert drawn.cached and [c.measured for c in drawn.claims] == [c.measured for c in first.claims]
    assert [p.name for p in drawn.figures] == [p.name for p in first.figures] != []
    for a, b in zip(first.figures, drawn.figures, strict=True):
        assert b.parent == apart / "figures" and a.read_bytes() == b.read_bytes()


def test_list_and_unknown_experiment(capsys, tmp_path):
    assert main(["reproduce", "--list"]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in experiments.available())
    assert main(["reproduce", "fig99", "--out", str(tmp_path)]) == 2
    assert "experiment must be one of" in capsys.readouterr().err
    assert not (tmp_path / "data").exists()  # failed before any compute


# ---- profiles, executors and resume, on fake experiments (no real compute) --------------------------------


def _fake(name: str, with_profile: bool, fail: bool = False) -> types.ModuleType:
    """A tiny experiment module; counts its run() calls. With profiles its paper profile is its PAPER."""
    mod = types.ModuleType(f"fake_{name}")
    mod.NAME, mod.TITLE, mod.CAPTION = name, f"fake experiment {name}", "caption"
    mod.PAPER = {"steps": 50}
    mod.calls = []

    if with_profile:

        def config(quick: bool, profile: str = "default") -> dict:
            steps = 2 if quick else (mod.PAPER["steps"] if profile == "paper" else 10)
            return {"steps": steps, "asked": profile}

        mod.deviations = lambda cfg: deviations(name, mod.PAPER, cfg, {"steps": "budget"})
    else:

        def config(quick: bool) -> dict:
            return {"steps": 2 if quick else 10, "reductions": ["steps: 10 (paper 50)"]}

    def run(cfg: dict) -> xr.Dataset:
        mod.calls.append(cfg["steps"])
        if fail:
            raise RuntimeError("boom")
        return xr.Dataset({"x": ("i", np.arange(cfg["steps"], dtype=float))})

    def check(ds: xr.Dataset) -> list[Claim]:
        return [Claim(name, "sum", "-", f"{float(ds.x.sum()):g}", True, "none")]

    mod.config, mod.run, mod.check = config, run, check
    mod.plot = lambda ds, out_dir: []
    return mod


@pytest.fixture
def fakes(monkeypatch):
    mods = {"new": _fake("new", True), "old": _fake("old", False), "bad": _fake("bad", True, fail=True)}

    def get(name):
        if name not in mods:
            raise ValueError(f"experiment must be one of {sorted(mods)}, got {name!r}")
        return mods[name]

    def checked_name(name):
        return get(name).NAME

    for module in (experiments, runner):
        monkeypatch.setattr(module, "get", get)
        monkeypatch.setattr(module, "checked_name", checked_name)
    monkeypatch.setattr(experiments, "available", lambda: list(mods))
    # The fakes exist only in this process, so their (empty) figures are drawn here, not in a spawned one.
    drawing = runner._drawing
    monkeypatch.setattr(runner, "_drawing", lambda apart: drawing(False))
    return mods


def test_runner_passes_the_profile_only_to_experiments_that_take_one(fakes):
    new = runner.experiment_config("new", quick=False, profile="paper")
    assert (new["steps"], new["asked"], new["profile"]) == (50, "paper", "paper")
    assert runner.experiment_config("new", quick=True, profile="paper")["profile"] == "quick"
    old = runner.experiment_config("old", quick=False, profile="paper")
    assert (old["steps"], old["profile"]) == (10, "default")  # config(quick) called: its default ran
    with pytest.raises(ValueError, match="profile must be one of"):
        runner.experiment_config("new", profile="full")


def test_paper_profile_runs_in_process_and_resumes_from_cache(fakes, tmp_path):
    assert main(["reproduce", "--paper", "--out", str(tmp_path), "new", "old"]) == 0
    assert fakes["new"].calls == [50] and fakes["old"].calls == [10]
    md = (tmp_path / "report.md").read_text()
    first = md.splitlines()[0]
    assert "[PAPER profile]" in first and "in-process" in first
    assert "Profile: paper" in md and "No paper profile, ran their default settings: old." in md
    # new's paper profile matches its PAPER: no row; old has no hook: its reductions are listed
    assert "| new | steps |" not in md and "| old | steps: 10 (paper 50) |" in md
    files = sorted((tmp_path / "data").glob("*.nc"))
    assert len(files) == 2

    # A killed run resumes: finished results load, nothing recomputes; an unreadable file is set aside.
    files[0].write_bytes(b"not a netCDF file")
    with pytest.warns(RuntimeWarning, match="cannot be used"):
        assert main(["reproduce", "--paper", "--out", str(tmp_path), "new", "old"]) == 0
    assert len(fakes["new"].calls) + len(fakes["old"].calls) == 3  # only the damaged one ran again
    assert len(list((tmp_path / "data").glob("*.unreadable-*"))) == 1
    assert main(["reproduce", "--paper", "--out", str(tmp_path), "new", "old"]) == 0
    assert len(fakes["new"].calls) + len(fakes["old"].calls) == 3
    assert "| new | " in (tmp_path / "report.md").read_text()


def test_default_profile_title_and_a_failing_experiment_does_not_stop_the_others(fakes, tmp_path, capsys):
    assert main(["reproduce", "--out", str(tmp_path), "bad", "new"]) == 1
    assert fakes["new"].calls == [10]
    out = capsys.readouterr().out
    assert "bad FAILED (RuntimeError: boom)" in out and "1 experiment(s) failed: bad" in out
    md = (tmp_path / "report.md").read_text()
    assert "[DEFAULT profile]" in md.splitlines()[0] and "| new | steps | 50 | 10 | budget |" in md
    assert main(["reproduce", "--paper", "--quick", "--out", str(tmp_path)]) == 2
    assert main(["reproduce", "--workers", "1", "--scheduler", "tcp://x:1", "--out", str(tmp_path)]) == 2
    with pytest.raises(ValueError, match="at most one of workers, scheduler"):
        list(sweep.map_jobs(runner._call, [("new", {})], workers=1, scheduler="tcp://x:1"))


def test_paper_profile_of_the_real_experiments_lists_only_explained_deviations():
    matched = {"fig1", "fig2", "fig3", "fig4_elliptical", "fig5_networks", "fig5_ica", "natural_images"}
    for name in experiments.available():
        mod = experiments.get(name)
        paper = runner.experiment_config(name, profile="paper")
        devs = runner.declared_deviations(mod, paper)
        if devs is None:  # no declaration: the report names it as not compared
            continue
        assert all(d.reason != "no reason recorded" for d in devs), name
        if name in matched:
            assert devs == [], (name, devs)
        default = runner.declared_deviations(mod, runner.experiment_config(name))
        assert len(devs) <= len(default), name  # the paper profile never departs further than the default


@pytest.mark.parametrize("name", experiments.ORDER)
def test_quick_wins_over_the_profile_the_runner_passes(name):
    # The runner calls config(quick, profile=...) with its default profile: quick must still give the
    # experiment's own smoke test, never its default settings.
    mod = experiments.get(name)
    ran = runner.experiment_config(name, quick=True)
    assert ran["profile"] == "quick"
    assert {k: v for k, v in ran.items() if k not in ("experiment", "quick", "profile")} == {
        k: v for k, v in mod.config(True).items() if k != "profile"
    }


def test_compile_cache_is_written_and_reused(tmp_path):
    """The persistent compilation cache: a program compiled in one process is stored, and a second process
    loads it (JAX counts a cache hit) and gets the same result."""
    import subprocess
    import sys

    script = (
        "import sys, jax, jax.numpy as jnp\n"
        "from pathlib import Path\n"
        "from jax import monitoring\n"
        "from rfloc.cli.reproduce import enable_compile_cache\n"
        "hits = []\n"
        "monitoring.register_event_listener(lambda e, **k: hits.append(e) if 'cache_hits' in e else None)\n"
        "enable_compile_cache(Path(sys.argv[1]))\n"
        "jax.config.update('jax_persistent_cache_min_compile_time_secs', 0)\n"
        "f = jax.jit(lambda x: jnp.sin(x) @ jnp.cos(x).T + 1)\n"
        "print(float(f(jnp.ones((8, 8))).sum()), len(hits))\n"
    )
    runs = [
        subprocess.run([sys.executable, "-c", script, str(tmp_path / "xla")], capture_output=True, text=True)
        for _ in range(2)
    ]
    for r in runs:
        assert r.returncode == 0, r.stderr
    (first, hits1), (second, hits2) = (r.stdout.split() for r in runs)
    assert any((tmp_path / "xla").iterdir()) and first == second
    assert int(hits1) == 0 and int(hits2) >= 1


def test_jobs_start_longest_first():
    for profile, quick in (("quick", True), ("default", False)):
        assert set(runner.SECONDS[profile]) == set(experiments.available())  # every experiment measured
        order = runner.longest_first(experiments.available(), quick)
        assert sorted(order) == sorted(experiments.available())
        seconds = [runner.SECONDS[profile][name] for name in order]
        assert seconds == sorted(seconds, reverse=True)
    # an experiment without a measurement starts first: it may be long
    order = runner.longest_first(["fig2", "unmeasured", "fig5_networks"])
    assert order == ["unmeasured", "fig5_networks", "fig2"]


def test_quick_runs_compile_fast_and_the_flags_are_restored(monkeypatch, tmp_path):
    from rfloc.cli import reproduce

    quick = " ".join(reproduce.QUICK_XLA_FLAGS)
    assert reproduce.quick_xla_flags("") == quick
    assert reproduce.quick_xla_flags("--a=1") == f"--a=1 {quick}"
    mine = "--xla_backend_optimization_level=2"  # the user's setting stands, the other flag is added
    assert reproduce.quick_xla_flags(mine) == f"{mine} {reproduce.QUICK_XLA_FLAGS[1]}"

    seen = []
    monkeypatch.setattr(reproduce, "_run", lambda *a: seen.append(reproduce.os.environ.get("XLA_FLAGS")) or 0)
    monkeypatch.setenv("XLA_FLAGS", "--a=1")
    common = ["fig2", "--out", str(tmp_path), "--compile-cache", "None"]
    assert main(["reproduce", "--quick", *common]) == 0
    assert main(["reproduce", *common]) == 0
    assert seen == [f"--a=1 {quick}", "--a=1"]
    assert reproduce.os.environ["XLA_FLAGS"] == "--a=1"
    monkeypatch.delenv("XLA_FLAGS")
    assert main(["reproduce", "--quick", *common]) == 0
    assert seen[-1] == quick and "XLA_FLAGS" not in reproduce.os.environ


def test_drawing_process_exits_when_its_parent_is_killed(tmp_path):
    """A SIGKILLed run leaves no drawing process behind (it would wait on the pool's pipe for ever)."""
    script = tmp_path / "parent.py"
    script.write_text(
        "import os, signal\n"
        "from rfloc.experiments import runner\n"
        "if __name__ == '__main__':\n"
        "    with runner._drawing(True) as pool:\n"
        "        print(pool.submit(os.getpid).result(), flush=True)\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    out = tmp_path / "out.txt"  # not a pipe: a surviving child would hold it open
    with out.open("w") as f:
        run = subprocess.run([sys.executable, str(script)], stdout=f, timeout=120)
    assert run.returncode == -signal.SIGKILL
    child = int(out.read_text().split()[0])
    for _ in range(100):  # the child notices within milliseconds; allow 10 s on a loaded machine
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(child, signal.SIGKILL)
    raise AssertionError(f"drawing process {child} outlived its killed parent")
