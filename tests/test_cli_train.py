"""`rfloc train` end to end on a tiny configuration: flags and TOML, results file, cache, figure, errors."""

from __future__ import annotations

import json

import pytest

from rfloc import store
from rfloc.cli import main

TINY = ["--n", "8", "--steps", "10", "--eval-every", "5", "--batch-size", "10", "--no-progress"]


def test_train_cli_end_to_end(tmp_path, capsys):
    results = tmp_path / "results"
    argv = ["train", "nlgp", "--gain", "3", *TINY, "--seeds", "2", "--grid", "lr=0.05,0.1"]
    assert main([*argv, "--out", str(results), "--plot"]) == 0
    out = capsys.readouterr().out
    assert "computed" in out and len(list(results.glob("*.png"))) == 1
    rows = [line for line in out.splitlines() if line.startswith("lr=")]
    assert len(rows) == 4  # 2 settings × 2 seeds, one line each
    (path,) = results.glob("*.nc")
    ds = store.load(path)
    assert ds["weights"].shape == (2, 2, 3, 1, 8)
    config = json.loads(ds.attrs["config"])
    assert config["data"]["model"] == "nlgp" and config["data"]["gain"] == 3.0 and config["seeds"] == [0, 1]
    # asking again loads the file instead of training
    assert main([*argv, "--out", str(results)]) == 0
    assert "loaded (cached)" in capsys.readouterr().out


def test_train_cli_toml_config(tmp_path, capsys):
    toml = tmp_path / "run.toml"
    toml.write_text(
        '[data]\nmodel = "ising"\nn = 8\nJ = [0.3, 0.7]\n'
        '[net]\nkind = "simplenet"\nwidth = 2\nbias = true\n'
        "[train]\nlr = 0.1\nbatch_size = 10\nsteps = 10\neval_every = 5\nseeds = [3, 5]\n"
    )
    assert main(["train", "--config", str(toml), "--out", str(tmp_path), "--no-progress", "--lr", "0.2"]) == 0
    (path,) = tmp_path.glob("*.nc")
    config = json.loads(store.load(path).attrs["config"])
    assert config["net"]["width"] == 2 and config["seeds"] == [3, 5] and config["lr"] == 0.2  # flag wins
    assert config["data"]["model"] == "ising" and config["data"]["J"] == [0.3, 0.7] and config["steps"] == 10
    assert "IPR mean/max (K=2)" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, name",
    [
        (["--lr", "-1"], "lr"),
        (["--batch-size", "0"], "batch_size"),
        (["--kind", "simplenet"], "width"),
        (["--grid", "lr"], "grid"),
        (["--seeds", "0"], "seeds"),
        (["--momentum", "0.9", "--optimizer", "adam"], "momentum"),
        (["kur", "--k", "2"], "k"),
        (["ising", "--gain", "3"], "--gain"),  # a parameter the chosen model does not have
        (["--seeds", "a"], "--seeds"),
        (["--kind", "cnn"], "--kind"),
    ],
)
def test_train_cli_bad_input_fails_before_compute(tmp_path, capsys, argv, name):
    # invalid values: the library's ValueError (from rfloc._checks) naming the parameter, exit status 2
    argv = (
        [*argv, *TINY] if not argv[0].startswith("--") else [*TINY, *argv]
    )  # model name first, last flag wins
    assert main(["train", *argv, "--out", str(tmp_path)]) == 2
    assert name in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_every_data_model_is_a_train_choice(capsys):
    from rfloc.data import MODELS

    assert main(["train", "--help"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in MODELS) and "images" in MODELS
