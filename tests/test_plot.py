"""The tutorial's figures: each draws the right data, not just something.

Every test checks the data behind the artists (curve values, peak positions
and heights, histogram areas, ellipse masses by Monte Carlo, the Kalman
recursion) against an independent computation, and no test leaves a figure open.
"""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.contour import ContourSet
from matplotlib.lines import Line2D
from matplotlib.path import Path as MplPath

from kfsym import plot
from kfsym.cli import main
from kfsym.derive import get
from kfsym.numeric import clt_limit, clt_sample_means, mvn_pdf, pdf

NAMES = ["clt", "gaussian", "update", "predict", "gaussian_2d", "kalman_1d"]


@pytest.fixture(autouse=True)
def no_open_figures() -> Iterator[None]:
    """Every test starts and must end without pyplot figures."""
    plt.close("all")
    yield
    left_open = plt.get_fignums()
    plt.close("all")
    assert not left_open, f"figures left open: {left_open}"


@pytest.fixture
def axes() -> Iterator[Axes]:
    figure, ax = plt.subplots()
    yield ax
    plt.close(figure)


def lines_by_label(ax: Axes) -> dict[str, Line2D]:
    return {str(line.get_label()): line for line in ax.get_lines()}


def data(line: Line2D) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(line.get_xdata(), dtype=float), np.asarray(line.get_ydata(), dtype=float)


def moments(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Area, mean and variance of a density curve by the trapezoidal rule."""
    area = float(np.trapezoid(y, x))
    mean = float(np.trapezoid(x * y, x)) / area
    var = float(np.trapezoid((x - mean) ** 2 * y, x)) / area
    return area, mean, var


# ------------------------------------------------------------------ registry
def test_registry_lists_the_six_figures_each_placed_after_a_real_derivation() -> None:
    assert list(plot.FIGURES) == NAMES
    assert set(plot.FIGURE_INFO) == set(NAMES)
    for info in plot.FIGURE_INFO.values():
        get(info.illustrates)  # raises KeyError for a derivation that does not exist
        assert info.caption and "``" not in info.caption


@pytest.mark.parametrize("name", NAMES)
def test_a_passed_ax_is_the_one_drawn_on_and_returned(name: str, axes: Axes) -> None:
    assert plot.FIGURES[name](ax=axes) is axes
    assert axes.get_title() and axes.get_xlabel() and axes.get_ylabel()
    assert axes.get_legend() is not None
    assert plt.get_fignums() == [axes.figure.number]


@pytest.mark.parametrize("name", NAMES)
def test_without_ax_a_new_figure_is_made(name: str) -> None:
    ax = plot.FIGURES[name]()
    assert isinstance(ax, Axes)
    assert plt.get_fignums() == [ax.figure.number]
    plt.close(ax.figure)


def test_plot_module_does_not_import_matplotlib() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import sys, kfsym.plot; print('matplotlib' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert done.stdout.strip() == "False"


# ----------------------------------------------------------------------- CLT
def test_clt_histogram_is_a_density_of_the_seeded_means_with_the_proved_limit(axes: Axes) -> None:
    plot.clt(ax=axes, n_samples=500, n_draws=1000, seed=11, bins=25)
    bars = [patch for patch in axes.patches]
    heights = np.array([bar.get_height() for bar in bars])
    widths = np.array([bar.get_width() for bar in bars])
    assert len(bars) == 25
    assert math.isclose(float(np.sum(heights * widths)), 1.0, rel_tol=1e-12)  # density: area 1
    expected, _ = np.histogram(clt_sample_means(500, 1000, seed=11), bins=25, density=True)
    np.testing.assert_allclose(heights, expected, rtol=1e-12)

    limit = clt_limit(1000)
    assert (limit.mean, limit.var) == (5.5, 81 / 12 / 1000)
    (line,) = axes.get_lines()
    assert line.get_label() == "Gaussian approximation N(μ = 5.5, σ² = 0.00675)"
    x, y = data(line)
    np.testing.assert_allclose(y, pdf(x, limit.mean, limit.var), rtol=1e-12)
    area, mean, var = moments(x, y)
    assert math.isclose(area, 1.0, rel_tol=1e-4)
    assert math.isclose(mean, 5.5, rel_tol=1e-9)
    assert math.isclose(var, 0.00675, rel_tol=1e-3)


def test_clt_defaults_use_at_least_100_means_of_1000_uniform_1_10_draws(axes: Axes) -> None:
    plot.clt(ax=axes)
    label = axes.get_legend().get_texts()[0].get_text()
    count = int(label.split()[0])
    assert count >= 100 and "of 1000 Uniform(1, 10) draws" in label


def test_clt_is_reproducible_with_its_seed() -> None:
    first, second = plot.clt(seed=3), plot.clt(seed=3)
    heights = [[patch.get_height() for patch in ax.patches] for ax in (first, second)]
    assert heights[0] == heights[1]
    plt.close("all")


# ------------------------------------------------------------------ Gaussian
def test_gaussian_axis_in_units_of_sigma_and_variance_in_the_label(axes: Axes) -> None:
    plot.gaussian(ax=axes, mean=0.0, var=5.0)
    curve = lines_by_label(axes)["N(x; μ = 0, σ² = 5)"]
    x, y = data(curve)
    assert x[np.argmax(y)] == 0.0
    assert math.isclose(y.max(), 1 / math.sqrt(2 * math.pi * 5.0), rel_tol=1e-12)  # variance 5, not std 5
    _, mean, var = moments(x, y)
    assert math.isclose(var, 5.0, rel_tol=2e-3) and abs(mean) < 1e-12  # drawn to ±4σ: truncation -0.11 %
    sigma = math.sqrt(5.0)
    np.testing.assert_allclose(axes.get_xticks(), [k * sigma for k in range(-4, 5)], atol=1e-12)
    labels = [tick.get_text() for tick in axes.get_xticklabels()]
    assert labels == ["−8.94", "−6.71", "−4.47", "−2.24", "0", "2.24", "4.47", "6.71", "8.94"]  # numbers below
    (top,) = axes.child_axes  # the same ticks in units of σ above
    np.testing.assert_allclose(top.get_xticks(), [k * sigma for k in range(-4, 5)], atol=1e-12)
    labels = [tick.get_text() for tick in top.get_xticklabels()]
    assert labels == ["μ−4σ", "μ−3σ", "μ−2σ", "μ−σ", "μ", "μ+σ", "μ+2σ", "μ+3σ", "μ+4σ"]
    legend = [text.get_text() for text in axes.get_legend().get_texts()]
    assert "μ ± σ holds 68.3 %" in legend


def test_gaussian_ticks_follow_mean_and_variance(axes: Axes) -> None:
    plot.gaussian(ax=axes, mean=3.0, var=0.25, width=2)
    np.testing.assert_allclose(axes.get_xticks(), [2.0, 2.5, 3.0, 3.5, 4.0])
    assert "σ² = 0.25" in axes.get_title()


# -------------------------------------------------------------------- update
def test_update_posterior_is_n_5_1_drawn_with_kfsym_pdf(axes: Axes) -> None:
    plot.update(ax=axes)
    curves = lines_by_label(axes)
    assert list(curves) == ["prior N(μ = 0, σ² = 2)", "measurement N(μ = 10, σ² = 2)", "posterior N(μ = 5, σ² = 1)"]
    for label, (mean, var) in {
        "prior N(μ = 0, σ² = 2)": (0.0, 2.0),
        "measurement N(μ = 10, σ² = 2)": (10.0, 2.0),
        "posterior N(μ = 5, σ² = 1)": (5.0, 1.0),
    }.items():
        x, y = data(curves[label])
        assert x[np.argmax(y)] == mean
        # the tutorial's bug: scipy's scale is a standard deviation; norm(5, scale=var) would peak lower
        assert math.isclose(y.max(), 1 / math.sqrt(2 * math.pi * var), rel_tol=1e-12)
        area, centre, spread = moments(x, y)
        assert math.isclose(area, 1.0, rel_tol=1e-4)
        assert math.isclose(centre, mean, abs_tol=1e-3) and math.isclose(spread, var, rel_tol=1e-3)


def test_update_posterior_peak_height_is_one_over_root_two_pi(axes: Axes) -> None:
    plot.update(ax=axes)
    x, y = data(lines_by_label(axes)["posterior N(μ = 5, σ² = 1)"])
    assert x[np.argmax(y)] == 5.0 and math.isclose(float(y.max()), 1 / math.sqrt(2 * math.pi), rel_tol=1e-12)


# ------------------------------------------------------------------- predict
def test_predict_is_labelled_as_a_prediction(axes: Axes) -> None:
    plot.predict(ax=axes)
    labels = [str(line.get_label()) for line in axes.get_lines()]
    assert [label.split(" N(")[0] for label in labels] == ["prior belief", "motion", "predicted belief"]
    assert labels == ["prior belief N(μ = 5, σ² = 1)", "motion N(μ = 10, σ² = 1)", "predicted belief N(μ = 15, σ² = 2)"]
    assert not any(word in " ".join(labels) for word in ("posterior", "measurement"))
    x, y = data(axes.get_lines()[2])
    assert x[np.argmax(y)] == 15.0
    assert math.isclose(float(y.max()), 1 / math.sqrt(2 * math.pi * 2.0), rel_tol=1e-12)
    _, mean, var = moments(x, y)
    assert math.isclose(mean, 15.0, abs_tol=1e-3) and math.isclose(var, 2.0, rel_tol=1e-3)  # grid ends at 4σ


# ---------------------------------------------------------------------- 2-D
def test_ellipse_mass_and_radius() -> None:
    assert math.isclose(plot.ellipse_mass(1.0), 1 - math.exp(-0.5), rel_tol=1e-15)
    assert math.isclose(plot.ellipse_mass(2.0), 0.8646647167633873, rel_tol=1e-15)
    assert plot.ellipse_mass(0.0) == 0.0
    assert math.isclose(plot.ellipse_radius(math.erf(1 / math.sqrt(2))), 1.5151729, rel_tol=1e-7)
    for r in (1e-8, 0.3, 1.0, 2.5, 6.0):
        assert math.isclose(plot.ellipse_radius(plot.ellipse_mass(r)), r, rel_tol=1e-9)
    for bad in (-1.0, math.inf, math.nan):
        with pytest.raises(ValueError, match="r must be"):
            plot.ellipse_mass(bad)
    for bad in (1.0, -0.1, math.nan):
        with pytest.raises(ValueError, match="mass must be"):
            plot.ellipse_radius(bad)


def test_ellipse_points_lie_on_the_mahalanobis_ellipse() -> None:
    mean, cov = np.array([0.5, -0.2]), np.array([[2.0, 0.9], [0.9, 0.5]])
    ring = plot.ellipse_points(mean, cov, 1.7, points=50)
    deviation = ring - mean
    squared = np.einsum("ni,ij,nj->n", deviation, np.linalg.inv(cov), deviation)
    np.testing.assert_allclose(squared, 1.7**2, rtol=1e-12)


def test_drawn_ellipses_hold_the_mass_on_their_labels_by_monte_carlo(axes: Axes) -> None:
    mean, cov = np.array([0.5, -0.2]), np.array([[2.0, 0.9], [0.9, 0.5]])
    plot.gaussian_2d(ax=axes, resolution=30)
    ellipses = [line for line in axes.get_lines() if "ellipse" in str(line.get_label())]
    labels = [str(line.get_label()) for line in ellipses]
    assert labels == ["39.3 % ellipse (r = 1)", "68.3 % ellipse (r = 1.515)", "86.5 % ellipse (r = 2)"]
    samples = np.random.default_rng(20240611).multivariate_normal(mean, cov, size=200_000)
    for line in ellipses:
        stated = float(str(line.get_label()).split(" %")[0]) / 100
        inside = MplPath(np.column_stack(data(line))).contains_points(samples)
        fraction = float(inside.mean())
        # 4 binomial standard errors, plus the label's rounding to 0.1 %
        tolerance = 4 * math.sqrt(stated * (1 - stated) / len(samples)) + 0.0005
        assert abs(fraction - stated) < tolerance, (line.get_label(), fraction)
    # the "1σ" ellipse is not a 68 % ellipse
    one_sigma = MplPath(np.column_stack(data(ellipses[0]))).contains_points(samples).mean()
    assert one_sigma < 0.45


def test_gaussian_2d_contours_are_the_density(axes: Axes) -> None:
    plot.gaussian_2d(ax=axes, resolution=60)
    (filled,) = [artist for artist in axes.collections if isinstance(artist, ContourSet)]
    peak = 1 / (2 * math.pi * math.sqrt(2.0 * 0.5 - 0.9**2))  # N(m; m, Σ) = 1/(2π sqrt det Σ)
    assert filled.levels[0] <= 1e-6 and peak * 0.9 < filled.levels[-1] <= peak * 1.2
    # each band holds the points whose density lies between its two levels (seeded draws from the plotted N;
    # a few near a level's edge fall in the neighbouring band, as the 60x60 grid interpolates)
    mean, cov = np.array([0.5, -0.2]), np.array([[2.0, 0.9], [0.9, 0.5]])
    points = np.random.default_rng(7).multivariate_normal(mean, cov, size=400)
    want = np.searchsorted(filled.levels, mvn_pdf(points, mean, cov)) - 1
    got = np.full(len(points), -1)
    for band, path in enumerate(filled.get_paths()):
        got[path.contains_points(points)] = band
    assert (got == want).mean() > 0.9, (got == want).mean()
    top = len(filled.levels) - 2
    assert filled.get_paths()[top].contains_point(tuple(mean))  # the peak is in the highest band
    np.testing.assert_array_equal(filled.get_array(), (filled.levels[:-1] + filled.levels[1:]) / 2)
    (colorbar,) = axes.child_axes  # attached to the axes box: exactly as tall as the equal-aspect plot
    assert colorbar.get_ylabel() == "density"
    axes.figure.canvas.draw()
    box, bar = axes.get_position(), colorbar.get_position()
    assert math.isclose(bar.height, box.height, rel_tol=1e-9) and math.isclose(bar.y0, box.y0, rel_tol=1e-9)
    assert "Mahalanobis radius r" in axes.get_title()
    assert lines_by_label(axes)["mean"].get_xydata().tolist() == [[0.5, -0.2]]


# -------------------------------------------------------------------- Kalman
def test_kalman_1d_estimate_and_band_follow_the_textbook_recursion(axes: Axes) -> None:
    plot.kalman_1d(ax=axes, steps=30, seed=5, velocity=1.0, process_var=0.5, measurement_var=9.0, initial=(0.0, 100.0))
    bands = [artist for artist in axes.collections if isinstance(artist, PolyCollection)]
    assert len(bands) == 1 and bands[0].get_label() == "estimate ± 2σ"
    (points,) = [artist for artist in axes.collections if not isinstance(artist, PolyCollection)]
    measured = np.asarray(points.get_offsets())
    time, z = measured[:, 0], measured[:, 1]
    assert time.tolist() == list(range(1, 31))
    # the scalar Kalman filter written out: predict x + v, P + q; gain K = P/(P + r)
    x, p, estimates, variances = 0.0, 100.0, [], []
    for value in z:
        x, p = x + 1.0, p + 0.5
        gain = p / (p + 9.0)
        x, p = x + gain * (value - x), (1 - gain) * p
        estimates.append(x)
        variances.append(p)
    curves = lines_by_label(axes)
    np.testing.assert_allclose(data(curves["estimate (posterior mean)"])[1], estimates, rtol=1e-12)
    vertices = bands[0].get_paths()[0].vertices
    for t, estimate, var in zip(time, estimates, variances, strict=True):
        at_t = vertices[np.isclose(vertices[:, 0], t), 1]
        np.testing.assert_allclose(
            [at_t.min(), at_t.max()], [estimate - 2 * math.sqrt(var), estimate + 2 * math.sqrt(var)]
        )
    truth = data(curves["truth"])[1]
    covered = np.abs(truth - np.array(estimates)) <= 2 * np.sqrt(variances)
    assert covered.mean() >= 0.8  # nominally 95 %
    assert np.std(np.array(estimates) - truth) < np.std(z - truth)  # the filter beats the raw measurements


def test_kalman_1d_shows_its_model_the_predictions_and_a_variance_panel(axes: Axes) -> None:
    plot.kalman_1d(ax=axes, steps=12, seed=3, velocity=2.0, process_var=0.25, measurement_var=4.0, initial=(1.0, 50.0))
    (model,) = axes.texts
    text = model.get_text()
    assert "+ 2 + wₖ" in text and "σ² = 0.25" in text and "σ² = 4" in text and "N(μ = 1, σ² = 50)" in text
    priors = data(lines_by_label(axes)["prediction (prior mean)"])[1]
    estimates = data(lines_by_label(axes)["estimate (posterior mean)"])[1]
    np.testing.assert_allclose(priors, np.concatenate([[1.0], estimates[:-1]]) + 2.0, rtol=1e-12)  # predict: + v
    (panel,) = [ax for ax in axes.figure.axes if ax is not axes]
    curves = lines_by_label(panel)
    prior_var, posterior_var = data(curves["prior variance"])[1], data(curves["posterior variance"])[1]
    np.testing.assert_allclose(prior_var, np.concatenate([[50.0], posterior_var[:-1]]) + 0.25, rtol=1e-12)
    np.testing.assert_allclose(posterior_var, prior_var * 4.0 / (prior_var + 4.0), rtol=1e-12)
    assert panel.get_yscale() == "log" and panel.get_xlabel() == "time step"


def test_every_legend_names_the_variance() -> None:
    for name, draw in plot.FIGURES.items():
        ax = draw()
        for text in ax.get_legend().get_texts():
            label = text.get_text()
            assert "N(" not in label or "σ² =" in label, (name, label)
        plt.close(ax.figure)


def test_kalman_1d_rejects_a_bad_step_count() -> None:
    with pytest.raises(ValueError, match="steps"):
        plot.kalman_1d(steps=0)
    plt.close("all")


# ------------------------------------------------------------------ saving
@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".pdf", b"%PDF")])
def test_save_writes_the_format_of_the_suffix_reproducibly(tmp_path: Path, suffix: str, magic: bytes) -> None:
    first = plot.save("update", tmp_path / f"a{suffix}")
    second = plot.save("update", tmp_path / f"b{suffix}")
    assert first.read_bytes().startswith(magic)
    assert first.read_bytes() == second.read_bytes()  # no time stamps
    assert plt.get_fignums() == []


def test_save_unknown_name_lists_the_figures(tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="update"):
        plot.save("nope", tmp_path / "x.png")


# --------------------------------------------------------------------- CLI
def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_cli_plot_list(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "plot", "--list")
    assert status == 0
    assert [line.split()[0] for line in out.strip().splitlines()] == NAMES


def test_cli_plot_writes_png_and_pdf(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    for name, suffix in (("predict", ".pdf"), ("gaussian_2d", ".png")):
        target = tmp_path / f"{name}{suffix}"
        status, out, _ = run(capsys, "plot", name, "--out", str(target))
        assert status == 0 and f"wrote {target}" in out
        assert target.stat().st_size > 5_000


def test_cli_plot_default_file_is_name_png(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    status, _, _ = run(capsys, "plot", "gaussian")
    assert status == 0 and (tmp_path / "gaussian.png").exists()


def test_cli_plot_unknown_or_missing_name_lists_the_figures(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "plot", "posterior")
    assert status == 2 and "no figure named 'posterior'" in err and "gaussian_2d" in err
    status, _, err = run(capsys, "plot")
    assert status == 2 and "name a figure" in err and "kalman_1d" in err


def test_cli_plot_unsupported_format_is_a_message(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, out, err = run(capsys, "plot", "update", "--out", str(tmp_path / "update.docx"))
    assert status == 2 and "cannot write" in err and "Traceback" not in out + err
