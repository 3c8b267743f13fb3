import matplotlib
import numpy as np
import pytest

from rfloc import metrics, plot

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_png(path):
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 1000


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_every_helper_draws_and_saves(tmp_path, rng):
    n = 4
    steps = np.arange(5) * 10
    weights = np.cumsum(rng.normal(size=(5, 8)), axis=0)
    w = np.cos(2 * np.pi * 2 * np.arange(8) / 8) + 0.1 * rng.normal(size=8)
    fig, axes = plt.subplots(2, 3)
    assert plot.plot_rf_evolution(axes[0, 0], weights, steps) is axes[0, 0]
    # One line per record, coloured from the first to the last time: the colours differ.
    lines = axes[0, 0].collections[0]
    assert len(lines.get_segments()) == 5 and not np.allclose(lines.get_colors()[0], lines.get_colors()[-1])
    assert plot.plot_rf(axes[0, 1], w, label="final") is axes[0, 1]
    assert plot.plot_rf_2d(axes[0, 2], rng.normal(size=n * n), n) is axes[0, 2]
    assert plot.plot_sinusoid_fit(axes[1, 0], w, metrics.sinusoid_fit(w)) is axes[1, 0]
    assert plot.plot_marginal(axes[1, 1], rng.normal(size=(100, 3)), bins=20) is axes[1, 1]
    assert plot.plot_covariance(axes[1, 2], np.eye(6), colorbar=True) is axes[1, 2]
    path = plot.save_figure(fig, tmp_path / "deep" / "panels")
    assert path.suffix == ".png"
    assert_png(path)
    assert not plt.fignum_exists(fig.number)  # save_figure closes the figure


@pytest.mark.parametrize("n", [3, None])
def test_rf_grid(tmp_path, rng, n):
    fig = plt.figure()
    W = rng.normal(size=(5, 9))
    axes = plot.plot_rf_grid(fig, W, n=n)
    assert axes.shape == (2, 3)
    assert sum(ax.get_visible() for ax in axes.flat) == 5
    assert_png(plot.save_figure(fig, tmp_path / "grid.png"))


def test_evolution_subsamples_long_runs():
    fig, ax = plt.subplots()
    plot.plot_rf_evolution(ax, np.zeros((500, 6)), np.arange(500), colorbar=False, max_lines=10)
    assert len(ax.collections[0].get_segments()) == 10
    plt.close(fig)


def test_bad_shapes_are_rejected():
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="T = len"):
        plot.plot_rf_evolution(ax, np.zeros((3, 6)), np.arange(4))
    with pytest.raises(ValueError, match="n\\*n"):
        plot.plot_rf_2d(ax, np.zeros(10), 3)
    with pytest.raises(ValueError, match="square"):
        plot.plot_covariance(ax, np.zeros((2, 3)))
    plt.close(fig)


def test_rf_mosaic_tiles_each_rf_on_its_own_scale(tmp_path, rng):
    n, k = 3, 5
    W = rng.normal(size=(k, n * n)) * np.arange(1, k + 1)[:, None]  # very different amplitudes
    W[2] = 0.0  # a dead RF stays 0, not NaN
    image = plot.rf_mosaic(W, n, ncols=3, gap=1)
    assert image.shape == (2 * 4 - 1, 3 * 4 - 1)
    for j in range(k):
        r, c = divmod(j, 3)
        tile = image[4 * r : 4 * r + n, 4 * c : 4 * c + n]
        scale = np.abs(W[j]).max() or 1.0
        np.testing.assert_allclose(tile, W[j].reshape(n, n) / scale)
    assert np.all(np.isnan(image[3])) and np.all(np.isnan(image[:, 3]))  # the gaps
    assert np.all(np.isnan(image[4:, 8:]))  # the unused sixth cell
    assert plot.rf_mosaic(W, n).shape == (2 * 4 - 1, 3 * 4 - 1)  # ncols = ceil(sqrt(5)) = 3
    with pytest.raises(ValueError, match="n must satisfy"):
        plot.rf_mosaic(W, 4)
    with pytest.raises(ValueError, match="ncols must be >= 1"):
        plot.rf_mosaic(W, n, ncols=0)
    fig, ax = plt.subplots()
    assert plot.plot_rf_mosaic(ax, W, n, ncols=3) is ax and len(ax.images) == 1
    assert_png(plot.save_figure(fig, tmp_path / "mosaic.png"))
