"""`rfloc train` end to end on a tiny configuration: flags and TOML, results file, cache, figure, errors."""

from __future__ import annotations

import json

import pytest

from rfloc import store
from rfloc.cli import main

TINY = ["--n", "8", "--steps", "10", "--eval-every", "5", "--batch", "10", "--no-progress"]


def test_train_cli_end_to_end(tmp_path, capsys):
    results = tmp_path / "results"
    argv = ["train", "--data", "nlgp", "--gain", "3", *TINY, "--seeds", "2", "--grid", "lr=0.05,0.1"]
    assert main([*argv, "--results", str(results), "--plot", str(tmp_path / "fig.png")]) == 0
    out = capsys.readouterr().out
    assert "computed" in out and (tmp_path / "fig.png").is_file()
    rows = [line for line in out.splitlines() if line.startswith("lr=")]
    assert len(rows) == 4  # 2 settings × 2 seeds, one line each
    (path,) = results.glob("*.nc")
    ds = store.load(path)
    assert ds["weights"].shape == (2, 2, 3, 1, 8)
    config = json.loads(ds.attrs["config"])
    assert config["data"]["model"] == "nlgp" and config["data"]["gain"] == 3.0 and config["seeds"] == [0, 1]
    # asking again loads the file instead of training
    assert main([*argv, "--results", str(results)]) == 0
    assert "loaded (cached)" in capsys.readouterr().out


def test_train_cli_toml_config(tmp_path, capsys):
    toml = tmp_path / "run.toml"
    toml.write_text(
        '[data]\nmodel = "ising"\nn = 8\nJ = [0.3, 0.7]\n'
        '[net]\nkind = "simplenet"\nwidth = 2\nbias = true\n'
        "[train]\nlr = 0.1\nbatch_size = 10\nsteps = 10\neval_every = 5\nseeds = [3, 5]\n"
    )
    assert main(["train", "--config", str(toml), "--results", str(tmp_path), "--no-progress"]) == 0
    (path,) = tmp_path.glob("*.nc")
    config = json.loads(store.load(path).attrs["config"])
    assert config["net"]["width"] == 2 and config["seeds"] == [3, 5] and config["lr"] == 0.1
    assert "IPR mean/max (K=2)" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, name",
    [
        (["--lr", "-1"], "lr"),
        (["--batch", "0"], "batch_size"),
        (["--data", "ising", "--gain", "3"], "--gain"),
        (["--net", "simplenet"], "width"),
        (["--grid", "lr"], "grid"),
        (["--seeds", "a,b"], "seeds"),
    ],
)
def test_train_cli_bad_input_is_one_line_error(tmp_path, capsys, argv, name):
    assert main(["train", *TINY, *argv, "--results", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert name in err and err.count("\n") == 1
