"""End-to-end smoke tests of the many-neuron and ICA experiments (fig1, fig5_*) in quick mode.

They check that each experiment produces its dataset, its figures and a complete claims list, and that a
second call reloads the cached dataset and checks it the same way — not that the quick claims pass.
"""

import numpy as np
import pytest
import xarray as xr

from rfloc.experiments import fig1, fig5_ica, fig5_networks
from rfloc.experiments.runner import run_experiment

EXPECTED = {
    # fig1: the network claim and one per 2-D ICA panel; fig5_networks: one per case and the k = 5 / 6
    # contrast; fig5_ica: one per k at C = 40 (C = 10 is a diagnostic without a claim).
    "fig1": (1 + len(fig1.ICA_PANELS), {"final_w", "ipr", "diverged", "ica_filters", "ica_ipr"}),
    "fig5_networks": (len(fig5_networks.NETS) + 1, {"final_w", "ipr", "diverged"}),
    "fig5_ica": (len(fig5_ica.ICA_K), {"filters", "ipr", "converged", "ceiling"}),
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_quick_run_produces_data_figures_and_claims(name, tmp_path):
    out = run_experiment(name, tmp_path, quick=True)
    files = list((tmp_path / "data").glob("*.nc"))
    assert len(files) == 1
    n_claims, variables = EXPECTED[name]
    with xr.open_dataset(files[0], engine="h5netcdf") as ds:
        assert variables <= set(ds.data_vars)
        assert np.isfinite(ds.ipr.values).any()
    assert out.figures and all(
        p.exists() and p.stat().st_size > 0 and p.suffix == ".png" for p in out.figures
    )
    assert len(out.claims) == n_claims
    assert len({c.name for c in out.claims}) == n_claims, "claim names must be distinct"
    for c in out.claims:
        assert c.experiment == name and c.measured and c.paper and c.criterion
        assert isinstance(c.passed, bool)
    # Cached: the same verdicts from the reloaded dataset.
    again = run_experiment(name, tmp_path, quick=True)
    assert again.cached
    assert [(c.name, c.passed, c.measured) for c in again.claims] == [
        (c.name, c.passed, c.measured) for c in out.claims
    ]


def test_configs_are_json_ready_and_quick_is_smaller():
    import json

    for mod in (fig1, fig5_networks):
        quick, full = mod.config(True), mod.config(False)
        json.dumps(quick), json.dumps(full)
        batches = (
            [(quick["batch"], full["batch"])]
            if mod is fig1
            else zip(quick["batch"].values(), full["batch"].values(), strict=True)
        )
        assert quick["steps"] < full["steps"] and all(q <= f for q, f in batches)
        assert full["steps"] % full["records"] == 0 and quick["steps"] % quick["records"] == 0
