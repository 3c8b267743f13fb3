import json

import numpy as np
import pytest
import xarray as xr

from rfloc import __version__, store
from rfloc.data import Ising
from rfloc.nn import NetConfig
from rfloc.train import TrainConfig, TrainResult

H, S, T, K, N = 2, 3, 4, 2, 6


@pytest.fixture
def result():
    rng = np.random.default_rng(0)
    weights = rng.normal(size=(H, S, T, K, N)).astype(np.float32)
    weights[1, 2, 3] = np.nan  # a diverged run's last record
    loss = rng.random((H, S, T))
    loss[:, :, 0] = np.nan
    diverged = np.zeros((H, S), dtype=bool)
    diverged[1, 2] = True
    config = TrainConfig(data=Ising(n=N), net=NetConfig(kind="simplenet", width=K), steps=30, eval_every=10)
    return TrainResult(
        weights=weights,
        steps=np.arange(T) * 10,
        loss=loss,
        diverged=diverged,
        diverged_step=np.where(diverged, 25, -1),
        seeds=(4, 5, 6),
        settings=[{"lr": 0.05}, {"lr": 0.1}],
        config=config,
        grid={"lr": [0.05, 0.1]},
    )


def test_to_xarray_labels(result):
    ds = result.to_xarray()
    assert ds["weights"].dims == ("setting", "seed", "time", "neuron", "input")
    assert ds["loss"].dims == ("setting", "seed", "time") and ds["diverged"].dims == ("setting", "seed")
    assert list(ds["seed"].values) == [4, 5, 6]
    assert list(ds["setting"].values) == ["lr=0.05", "lr=0.1"]
    np.testing.assert_array_equal(ds["lr"].values, [0.05, 0.1])
    np.testing.assert_array_equal(ds["step"].values, result.steps)
    # theory time = lr × step: steps 0, 10, 20, 30 at lr 0.05 and 0.1
    np.testing.assert_allclose(ds["theory_time"].values, [[0, 0.5, 1, 1.5], [0, 1, 2, 3]])
    assert store.config_of(ds) == result.config_dict()
    assert ds.attrs["rfloc_version"] == __version__ and ds.attrs["created"]


def test_round_trip_preserves_everything(result, tmp_path):
    ds = result.to_xarray()
    path = store.save(ds, tmp_path / "sub" / "run.nc")
    back = store.load(path)
    xr.testing.assert_identical(back, ds)
    assert back["weights"].dtype == np.float32 and back["diverged"].dtype == bool
    assert store.config_of(back) == result.config_dict()
    assert (
        TrainConfig.from_dict(
            {
                k: v
                for k, v in store.config_of(back).items()
                if k in ("data", "net", "lr", "batch_size", "steps", "eval_every", "seed")
            }
        )
        == result.config
    )
    assert [p.name for p in path.parent.iterdir()] == ["run.nc"]  # no temp file left behind


def test_no_grid_and_non_numeric_grid(result):
    result.weights = result.weights[:1]
    result.loss, result.diverged, result.diverged_step = (
        result.loss[:1],
        result.diverged[:1],
        result.diverged_step[:1],
    )
    result.settings, result.grid = [{}], None
    assert list(result.to_xarray()["setting"].values) == ["default"]
    result.settings = [{"xi": (1.0, 2.0)}]
    ds = result.to_xarray()
    assert list(ds["xi"].values) == ["[1.0,2.0]"]


def test_save_refuses_to_overwrite(result, tmp_path):
    ds = result.to_xarray()
    path = store.save(ds, tmp_path / "run.nc")
    with pytest.raises(FileExistsError, match="force=True"):
        store.save(ds.isel(seed=[0]), path)
    assert store.load(path).sizes["seed"] == S
    store.save(ds.isel(seed=[0]), path, force=True)
    assert store.load(path).sizes["seed"] == 1


def test_config_hash_is_canonical():
    a = {"lr": 0.05, "data": {"n": 40, "xi": (1.0, 3.0)}}
    b = {"data": {"xi": [1.0, 3.0], "n": np.int64(40)}, "lr": np.float64(0.05)}
    assert store.config_hash(a) == store.config_hash(b)
    assert len(store.config_hash(a)) == 16
    assert store.config_hash(a) != store.config_hash({**a, "lr": 0.06})


def test_cached_loads_instead_of_recomputing(result, tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return result.to_xarray().assign_attrs(call=len(calls))

    config = result.config_dict()
    first = store.cached(config, compute, tmp_path)
    again = store.cached(config, compute, tmp_path)
    assert len(calls) == 1
    xr.testing.assert_identical(again, first)
    assert store.cache_path(config, tmp_path).is_file()
    forced = store.cached(config, compute, tmp_path, force=True)
    assert len(calls) == 2 and forced.attrs["call"] == 2
    assert store.cached(config, compute, tmp_path).attrs["call"] == 2  # the forced result replaced the file
    store.cached({**config, "lr": 0.2}, compute, tmp_path)
    assert len(calls) == 3  # a different config is a different file


def test_cached_sets_aside_a_file_of_another_config(result, tmp_path):
    config = {"a": 1}
    store.cached(config, lambda: result.to_xarray(), tmp_path)
    store.cache_path(config, tmp_path).rename(store.cache_path({"a": 2}, tmp_path))
    with pytest.warns(RuntimeWarning, match="different config"):
        ds = store.cached({"a": 2}, lambda: result.to_xarray().assign_attrs(fresh=1), tmp_path)
    assert ds.attrs["fresh"] == 1
    (aside,) = tmp_path.glob("*.unreadable-*")  # kept, never deleted
    assert json.loads(store.load(aside).attrs["cache_key"])["config"] == {"a": 1}
    with pytest.raises(TypeError, match="xarray.Dataset"):
        store.cached({"a": 3}, lambda: 1, tmp_path)


def test_cached_recovers_from_a_corrupted_file(result, tmp_path):
    config = {"a": 1}
    store.cached(config, lambda: result.to_xarray(), tmp_path)
    path = store.cache_path(config, tmp_path)
    path.write_bytes(path.read_bytes()[:200])  # truncated, as after a crash mid-copy
    with pytest.warns(RuntimeWarning, match=path.name):
        ds = store.cached(config, lambda: result.to_xarray().assign_attrs(fresh=1), tmp_path)
    assert ds.attrs["fresh"] == 1 and store.load(path).attrs["fresh"] == 1
    assert len(list(tmp_path.glob(f"{path.name}.unreadable-*"))) == 1


def test_code_hash_follows_the_source(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "a.py").write_text("x = 1\n")
    (pkg / "sub" / "b.py").write_text("y = 2\n")
    (pkg / "notes.txt").write_text("not code")
    before = store.code_hash(pkg)
    (pkg / "notes.txt").write_text("edited")
    assert store.code_hash.__wrapped__(pkg) == before  # only *.py files count
    (pkg / "sub" / "b.py").write_text("y = 3\n")
    assert store.code_hash.__wrapped__(pkg) != before
    assert len(before) == 16 and store.code_hash() == store.code_hash(store.PACKAGE_ROOT)


def test_changed_code_or_version_recomputes(result, tmp_path, monkeypatch):
    calls = []

    def compute():
        calls.append(1)
        return result.to_xarray()

    config = {"experiment": "x"}
    key = store.cache_key(config)
    assert key["rfloc_version"] == __version__ and key["code_hash"] == store.code_hash()
    first = store.cache_path(config, tmp_path)
    store.cached(config, compute, tmp_path)
    store.cached(config, compute, tmp_path)
    assert len(calls) == 1 and first.is_file()
    monkeypatch.setattr(store, "code_hash", lambda: "0" * 16)  # an edited algorithm
    assert store.cache_path(config, tmp_path) != first
    store.cached(config, compute, tmp_path)
    assert len(calls) == 2 and first.is_file()  # recomputed into a new file; the old one is untouched
    monkeypatch.setattr(store, "__version__", "99.0")
    store.cached(config, compute, tmp_path)
    assert len(calls) == 3
