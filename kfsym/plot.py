"""The tutorial's figures, drawn from kfsym's own numeric functions — and drawn right.

Every function takes ``ax=None`` and returns the :class:`~matplotlib.axes.Axes`
it drew on: pass an ``Axes`` to draw into your own figure, or leave it out to
get a new figure from :func:`matplotlib.pyplot.subplots`. Nothing here calls
``plt.show()``, so the module works under any backend (``Agg`` included).
matplotlib is imported inside the functions, never at module import.

Densities come from :mod:`kfsym.numeric` (``pdf``, ``multiply``, ``add``,
``clt_limit``, ``mvn_pdf``), whose parameters are *variances*. Two mistakes of
the tutorial these figures avoid: passing a variance as SciPy's ``scale`` (a
standard deviation) when drawing the posterior, and calling the prediction
step's curves "prior / measurement / posterior". The covariance ellipses of
the 2-D figure are labelled with the probability mass they really hold
(:func:`ellipse_mass`): the "1σ" ellipse of a 2-D Gaussian holds 39.3 %, not 68 %.

``FIGURES`` maps a name to its function; ``kfsym plot NAME`` and
``kfsym render`` use it, and :func:`save` writes one figure to a file.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from numpy.typing import ArrayLike

from kfsym.numeric import add, cdf, clt_limit, clt_sample_means, multiply, mvn_pdf, pdf

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "FIGURES",
    "FIGURE_INFO",
    "FigureInfo",
    "clt",
    "ellipse_mass",
    "ellipse_points",
    "ellipse_radius",
    "gaussian",
    "gaussian_2d",
    "kalman_1d",
    "predict",
    "save",
    "update",
]

#: Size of a saved figure in inches (width, height).
FIGSIZE = (7.0, 4.3)

# Fixed colours, so a curve keeps its colour from figure to figure.
_PRIOR, _MEASUREMENT, _POSTERIOR, _TRUTH = "tab:blue", "tab:orange", "tab:green", "black"


@dataclass(frozen=True)
class FigureInfo:
    """Where a figure goes in the rendered documents.

    Attributes
    ----------
    illustrates : str
        Name of the derivation the figure is placed after (``gaussian.product``).
    caption : str
        LaTeX-ready text (``$...$`` math, ``\\%``); Markdown shows it as is.
    """

    illustrates: str
    caption: str


#: Figure name → drawing function (``ax=None`` → ``Axes``), in reading order.
FIGURES: dict[str, Callable[..., Axes]] = {}
#: Figure name → :class:`FigureInfo`.
FIGURE_INFO: dict[str, FigureInfo] = {}

_Draw = TypeVar("_Draw", bound=Callable[..., Any])


def _figure(name: str, illustrates: str, caption: str) -> Callable[[_Draw], _Draw]:
    def register(draw: _Draw) -> _Draw:
        FIGURES[name] = draw
        FIGURE_INFO[name] = FigureInfo(illustrates, caption)
        return draw

    return register


def _axes(ax: Axes | None) -> Axes:
    """``ax`` itself, or the Axes of a new pyplot figure (constrained layout)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new = plt.subplots(figsize=FIGSIZE, layout="constrained")
    return new


def _curve(x: np.ndarray[Any, Any], mean: float, var: float) -> np.ndarray[Any, Any]:
    """N(x; mean, var) on a grid — kfsym's own pdf, whose parameter is the variance."""
    return np.asarray(pdf(x, mean=mean, var=var), dtype=np.float64)


def _grid(gaussians: Sequence[tuple[float, float]], *, width: float = 4.0, points: int = 801) -> np.ndarray[Any, Any]:
    """A grid covering mean ± width·σ of every Gaussian that contains each mean exactly."""
    low = min(mean - width * math.sqrt(var) for mean, var in gaussians)
    high = max(mean + width * math.sqrt(var) for mean, var in gaussians)
    grid = np.linspace(low, high, points)
    for mean, _ in gaussians:  # put each mean on the grid exactly, so a curve's peak is drawn
        grid[np.argmin(np.abs(grid - mean))] = mean
    return np.unique(grid)


def _fmt(value: float) -> str:
    """``5`` for 5.0, ``0.00675`` for 0.00675: short and exact enough for a label."""
    return f"{value:g}"


def _normal(mean: float, var: float) -> str:
    """``N(μ = 0, σ² = 2)``: a Gaussian named with its mean and, unmistakably, its variance."""
    return f"N(μ = {_fmt(mean)}, σ² = {_fmt(var)})"


# ----------------------------------------------------------------- figures
@_figure(
    "clt",
    illustrates="clt.uniform_limit",
    caption=(
        "Central limit theorem: a density histogram of 1000 seeded means of $N = 1000$ Uniform(1, 10) draws "
        "each, with the Gaussian the CLT approximates them by, $N(\\mu = 5.5,\\ \\sigma^2 = 81/(12 \\cdot 1000) "
        "= 0.00675)$: its mean and variance are exactly those of the mean of 1000 draws "
        "(clt.uniform\\_mean\\_of\\_draws); that the shape tends to this Gaussian is the limit of clt.uniform\\_limit."
    ),
)
def clt(
    ax: Axes | None = None,
    *,
    n_samples: int = 1000,
    n_draws: int = 1000,
    low: float = 1.0,
    high: float = 10.0,
    seed: int = 2024,
    bins: int = 30,
) -> Axes:
    """Histogram (a density) of seeded sample means with the Gaussian the CLT approximates them by.

    Each of ``n_samples`` means averages ``n_draws`` Uniform(low, high) draws
    (:func:`kfsym.numeric.clt_sample_means`); the curve is
    :func:`kfsym.numeric.clt_limit`, N((low + high)/2, (high − low)²/(12 n_draws)).

    Parameters
    ----------
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.
    n_samples : int
        Number of sample means in the histogram.
    n_draws : int
        Draws averaged into each mean (the CLT's N).
    low, high : float
        The uniform interval.
    seed : int
        Seed of the draws: the same seed draws the same histogram.
    bins : int
        Histogram bins.

    Returns
    -------
    matplotlib.axes.Axes
        With the histogram bars (``density=True``: total area 1) and one line,
        the Gaussian with the exact mean and variance of the sample mean
        (proved in ``clt.uniform_mean_of_draws``), labelled with both.

    Examples
    --------
    >>> ax = clt(n_samples=200)
    >>> ax.get_lines()[0].get_label()
    'Gaussian approximation N(μ = 5.5, σ² = 0.00675)'
    >>> import matplotlib.pyplot as plt; plt.close(ax.figure)
    """
    ax = _axes(ax)
    means = clt_sample_means(n_samples, n_draws, low, high, seed=seed)
    limit = clt_limit(n_draws, low, high)
    mean, var = float(limit.mean), float(limit.var)
    ax.hist(
        means,
        bins=bins,
        density=True,
        color=_PRIOR,
        alpha=0.45,
        edgecolor="white",
        label=f"{n_samples} means of {n_draws} Uniform({_fmt(low)}, {_fmt(high)}) draws (seed {seed})",
    )
    x = _grid([(mean, var)], width=4.5)
    ax.plot(x, _curve(x, mean, var), color=_TRUTH, lw=2, label=f"Gaussian approximation {_normal(mean, var)}")
    ax.set_ylim(0.0, 1.3 * ax.get_ylim()[1])  # room for the legend above the bars
    ax.set_xlabel("sample mean")
    ax.set_ylabel("density")
    ax.set_title("Central limit theorem: the mean of uniform draws is nearly Gaussian")
    ax.legend(loc="upper left", fontsize="small")
    return ax


@_figure(
    "gaussian",
    illustrates="gaussian.variance",
    caption=(
        "The Gaussian density with $\\mu = 0$ and variance $\\sigma^2 = 5$ (so $\\sigma = \\sqrt{5} \\approx 2.24$), "
        "the $x$ axis marked in units of $\\sigma$; $\\mu \\pm \\sigma$ holds 68.3\\%."
    ),
)
def gaussian(ax: Axes | None = None, *, mean: float = 0.0, var: float = 5.0, width: int = 4) -> Axes:
    """The density N(x; mean, var): numeric ticks at μ + kσ, and the same ticks in units of σ = √var on top.

    Parameters
    ----------
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.
    mean : float
        μ.
    var : float
        The variance σ² (not the standard deviation); it appears in the label.
    width : int
        Draw μ ± ``width``·σ; ticks sit at μ + kσ for integer |k| ≤ width,
        labelled with their value below the axis and as ``μ+kσ`` above it.

    Returns
    -------
    matplotlib.axes.Axes
        One line (the density, labelled with σ²) and the shaded μ ± σ band
        labelled with its probability mass.

    Examples
    --------
    >>> ax = gaussian()
    >>> ax.get_lines()[0].get_label()
    'N(x; μ = 0, σ² = 5)'
    >>> [tick.get_text() for tick in ax.get_xticklabels()][3:6]
    ['−2.24', '0', '2.24']
    >>> import matplotlib.pyplot as plt; plt.close(ax.figure)
    """
    ax = _axes(ax)
    sigma = math.sqrt(var)
    x = _grid([(mean, var)], width=float(width))
    ax.plot(x, _curve(x, mean, var), color=_PRIOR, lw=2, label=f"N(x; μ = {_fmt(mean)}, σ² = {_fmt(var)})")
    inside = (x >= mean - sigma) & (x <= mean + sigma)
    mass = float(cdf(mean + sigma, mean, var)) - float(cdf(mean - sigma, mean, var))
    ax.fill_between(
        x[inside], _curve(x[inside], mean, var), color=_PRIOR, alpha=0.2, label=f"μ ± σ holds {100 * mass:.1f} %"
    )
    ks = range(-width, width + 1)
    ticks = [mean + k * sigma for k in ks]
    ax.set_xticks(ticks, [_number(tick) for tick in ticks])
    top = ax.secondary_xaxis("top")  # the same ticks in units of σ
    top.set_xticks(ticks, [_sigma_label(k) for k in ks])
    ax.set_xlim(mean - width * sigma, mean + width * sigma)
    ax.set_ylim(bottom=0.0)
    ax.set_xlabel(f"x   (μ = {_fmt(mean)}, σ = √{_fmt(var)} ≈ {sigma:.3g})")
    ax.set_ylabel("density")
    ax.set_title(f"Gaussian density, variance σ² = {_fmt(var)}; top axis in units of σ")
    ax.legend(loc="upper right", fontsize="small")
    return ax


def _number(value: float) -> str:
    """A tick label: three significant digits, a true minus sign, ``0`` for (rounded) zero."""
    text = f"{value:.3g}"
    return "0" if float(text) == 0.0 else text.replace("-", "−")


def _sigma_label(k: int) -> str:
    if k == 0:
        return "μ"
    sign = "+" if k > 0 else "−"
    return f"μ{sign}{'' if abs(k) == 1 else abs(k)}σ"


@_figure(
    "update",
    illustrates="gaussian.product",
    caption=(
        "Measurement update: prior $N(\\mu = 0, \\sigma^2 = 2)$ times measurement $N(\\mu = 10, \\sigma^2 = 2)$ "
        "gives the posterior $N(\\mu = 5, \\sigma^2 = 1)$ "
        "(kfsym.numeric.multiply). Every curve is kfsym.numeric.pdf with the variance as its parameter; "
        "passing the variance as a standard deviation draws the posterior too wide."
    ),
)
def update(
    ax: Axes | None = None,
    *,
    prior: tuple[float, float] = (0.0, 2.0),
    measurement: tuple[float, float] = (10.0, 2.0),
) -> Axes:
    """The measurement update: prior × measurement ∝ posterior (the product of Gaussians).

    Parameters
    ----------
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.
    prior, measurement : (mean, var)
        Means and *variances*; the posterior is
        :func:`kfsym.numeric.multiply` of the two.

    Returns
    -------
    matplotlib.axes.Axes
        Three lines labelled ``prior N(..)``, ``measurement N(..)``,
        ``posterior N(..)``; the posterior peaks at its mean with height
        1/√(2π var).

    Examples
    --------
    >>> ax = update()
    >>> [line.get_label() for line in ax.get_lines()]
    ['prior N(μ = 0, σ² = 2)', 'measurement N(μ = 10, σ² = 2)', 'posterior N(μ = 5, σ² = 1)']
    >>> import matplotlib.pyplot as plt; plt.close(ax.figure)
    """
    ax = _axes(ax)
    posterior = multiply(prior[0], prior[1], measurement[0], measurement[1])
    curves = [
        ("prior", prior, _PRIOR, "--"),
        ("measurement", measurement, _MEASUREMENT, "--"),
        ("posterior", (float(posterior.mean), float(posterior.var)), _POSTERIOR, "-"),
    ]
    x = _grid([parameters for _, parameters, _, _ in curves])
    for name, (mean, var), colour, style in curves:
        ax.plot(x, _curve(x, mean, var), color=colour, ls=style, lw=2, label=f"{name} {_normal(mean, var)}")
    ax.set_ylim(bottom=0.0)
    ax.set_xlabel("x")
    ax.set_ylabel("density")
    ax.set_title("Measurement update: prior × measurement ∝ posterior")
    ax.legend(loc="upper left", fontsize="small")
    return ax


#: The labels of the prediction figure's curves, in drawing order.
PREDICTION_LABELS = ("prior belief", "motion", "predicted belief")


@_figure(
    "predict",
    illustrates="gaussian.sum_mgf",
    caption=(
        "Prediction step: the prior belief $N(\\mu = 5, \\sigma^2 = 1)$ plus an independent motion "
        "$N(\\mu = 10, \\sigma^2 = 1)$ is the predicted belief $N(\\mu = 15, \\sigma^2 = 2)$ (kfsym.numeric.add): "
        "means add and variances add, so the prediction is wider."
    ),
)
def predict(
    ax: Axes | None = None,
    *,
    belief: tuple[float, float] = (5.0, 1.0),
    motion: tuple[float, float] = (10.0, 1.0),
) -> Axes:
    """The prediction step: prior belief + motion = predicted belief (the sum of Gaussians).

    Parameters
    ----------
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.
    belief, motion : (mean, var)
        Means and *variances*; the prediction is :func:`kfsym.numeric.add`
        of the two.

    Returns
    -------
    matplotlib.axes.Axes
        Three lines labelled with :data:`PREDICTION_LABELS` and their
        parameters — a prediction, not a prior/measurement/posterior.

    Examples
    --------
    >>> ax = predict()
    >>> [line.get_label() for line in ax.get_lines()]
    ['prior belief N(μ = 5, σ² = 1)', 'motion N(μ = 10, σ² = 1)', 'predicted belief N(μ = 15, σ² = 2)']
    >>> import matplotlib.pyplot as plt; plt.close(ax.figure)
    """
    ax = _axes(ax)
    predicted = add(belief[0], belief[1], motion[0], motion[1])
    curves = [
        (belief, _PRIOR, "--"),
        (motion, _MEASUREMENT, ":"),
        ((float(predicted.mean), float(predicted.var)), _POSTERIOR, "-"),
    ]
    x = _grid([parameters for parameters, _, _ in curves])
    for label, ((mean, var), colour, style) in zip(PREDICTION_LABELS, curves, strict=True):
        ax.plot(x, _curve(x, mean, var), color=colour, ls=style, lw=2, label=f"{label} {_normal(mean, var)}")
    ax.set_ylim(bottom=0.0)
    ax.set_xlabel("x")
    ax.set_ylabel("density")
    ax.set_title("Prediction: prior belief + motion = predicted belief (variances add)")
    ax.legend(loc="upper right", fontsize="small")
    return ax


# ------------------------------------------------------------- 2-D ellipses
def ellipse_mass(r: float) -> float:
    """Probability mass of a 2-D Gaussian inside its Mahalanobis ellipse of radius ``r``.

    The ellipse {x : (x − m)ᵀ Σ⁻¹ (x − m) ≤ r²} holds P(χ²₂ ≤ r²) = 1 − exp(−r²/2).

    Parameters
    ----------
    r : float
        Mahalanobis radius, ≥ 0 (``r = 1`` is the "1σ" ellipse).

    Returns
    -------
    float
        The mass, in [0, 1).

    Examples
    --------
    >>> round(ellipse_mass(1.0), 4)      # the "1σ" ellipse: 39.3 %, not 68.3 %
    0.3935
    >>> round(ellipse_mass(2.0), 4)
    0.8647
    """
    radius = float(r)
    if not (math.isfinite(radius) and radius >= 0.0):
        raise ValueError(f"r must be a finite radius >= 0, got {r!r}")
    # P(chi2_2 <= r^2) = 1 - exp(-r^2/2), as -expm1 for accuracy at small r
    return -math.expm1(-0.5 * radius * radius)


def ellipse_radius(mass: float) -> float:
    """Mahalanobis radius of the 2-D ellipse holding probability ``mass``: √(−2 ln(1 − mass)).

    Parameters
    ----------
    mass : float
        In [0, 1).

    Returns
    -------
    float
        ``r`` with ``ellipse_mass(r) == mass``.

    Examples
    --------
    >>> import math
    >>> round(ellipse_radius(math.erf(1 / math.sqrt(2))), 4)  # the 68.3 % ellipse: r ≈ 1.52, not 1
    1.5152
    >>> round(ellipse_radius(ellipse_mass(2.0)), 12)
    2.0
    """
    value = float(mass)
    if not (0.0 <= value < 1.0):
        raise ValueError(f"mass must be in [0, 1), got {mass!r}")
    # r^2 = -2 ln(1 - mass), via log1p
    return math.sqrt(-2.0 * math.log1p(-value))


def ellipse_points(mean: ArrayLike, cov: ArrayLike, r: float, *, points: int = 721) -> np.ndarray[Any, Any]:
    """Points on the ellipse {x : (x − m)ᵀ Σ⁻¹ (x − m) = r²}, shape (points, 2), closed.

    With Σ = L Lᵀ (Cholesky), x = m + r L (cos t, sin t) has
    (x − m)ᵀ Σ⁻¹ (x − m) = r² (cos² t + sin² t) = r².

    Examples
    --------
    >>> ring = ellipse_points([0.0, 0.0], [[4.0, 0.0], [0.0, 1.0]], 1.0, points=5)
    >>> ring.round(12).tolist()
    [[2.0, 0.0], [0.0, 1.0], [-2.0, 0.0], [-0.0, -1.0], [2.0, -0.0]]
    """
    factor = np.linalg.cholesky(np.asarray(cov, dtype=np.float64))
    angle = np.linspace(0.0, 2.0 * math.pi, points)
    circle = np.stack([np.cos(angle), np.sin(angle)])
    ring: np.ndarray[Any, Any] = np.asarray(mean, dtype=np.float64) + float(r) * (factor @ circle).T
    return ring


#: Mass of the 1-D interval μ ± σ, erf(1/√2) = 0.6827: the mass people mean by "68 %".
ONE_SIGMA_MASS = math.erf(1.0 / math.sqrt(2.0))
#: Mahalanobis radii of the ellipses :func:`gaussian_2d` draws: "1σ" (39.3 %), 68.3 % (r ≈ 1.515), "2σ" (86.5 %).
ELLIPSE_RADII = (1.0, ellipse_radius(ONE_SIGMA_MASS), 2.0)


@_figure(
    "gaussian_2d",
    illustrates="multivariate.pdf_2d",
    caption=(
        "The 2-D Gaussian with mean $(0.5, -0.2)$ and covariance $\\Sigma = ((2, 0.9), (0.9, 0.5))$ "
        "(kfsym.numeric.mvn\\_pdf), with the ellipses $(x-m)^T \\Sigma^{-1} (x-m) = r^2$ labelled by the mass "
        "they hold, $1 - e^{-r^2/2}$: the $1\\sigma$ ellipse ($r = 1$) holds only 39.3\\%, the 68.3\\% ellipse has "
        "$r \\approx 1.515$, and $r = 2$ holds 86.5\\%."
    ),
)
def gaussian_2d(
    ax: Axes | None = None,
    *,
    mean: ArrayLike = (0.5, -0.2),
    cov: ArrayLike = ((2.0, 0.9), (0.9, 0.5)),
    radii: Sequence[float] = ELLIPSE_RADII,
    resolution: int = 200,
) -> Axes:
    """Filled density contours of N(mean, cov) with covariance ellipses labelled by their true mass.

    The ellipse of Mahalanobis radius r holds 1 − exp(−r²/2)
    (:func:`ellipse_mass`), so the default radii are labelled 39.3 % (r = 1),
    68.3 % (r ≈ 1.515) and 86.5 % (r = 2).

    Parameters
    ----------
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.
    mean : sequence of 2 floats
    cov : 2×2 nested sequence
        Symmetric positive definite covariance (not standard deviations).
    radii : sequence of float
        Mahalanobis radii of the ellipses to draw.
    resolution : int
        Grid points per axis of the contour plot.

    Returns
    -------
    matplotlib.axes.Axes
        The filled contours of :func:`kfsym.numeric.mvn_pdf`, one closed
        line per radius (label ``"39.3 % ellipse (r = 1)"`` ...) and the mean.

    Examples
    --------
    >>> ax = gaussian_2d(resolution=40)
    >>> [line.get_label() for line in ax.get_lines()][:3]
    ['39.3 % ellipse (r = 1)', '68.3 % ellipse (r = 1.515)', '86.5 % ellipse (r = 2)']
    >>> import matplotlib.pyplot as plt; plt.close(ax.figure)
    """
    ax = _axes(ax)
    centre = np.asarray(mean, dtype=np.float64)
    covariance = np.asarray(cov, dtype=np.float64)
    half = 3.2 * np.sqrt(np.diag(covariance))
    xs = np.linspace(centre[0] - half[0], centre[0] + half[0], resolution)
    ys = np.linspace(centre[1] - half[1], centre[1] + half[1], resolution)
    grid_x, grid_y = np.meshgrid(xs, ys)
    density = np.asarray(mvn_pdf(np.stack([grid_x, grid_y], axis=-1), centre, covariance))
    filled = ax.contourf(grid_x, grid_y, density, levels=14, cmap="viridis")
    # the colour bar hangs off the axes box itself, so it is exactly as tall as the equal-aspect plot
    ax.figure.colorbar(filled, cax=ax.inset_axes((1.04, 0.0, 0.05, 1.0)), label="density")
    styles = ["-", "--", ":", "-."]
    for index, r in enumerate(radii):
        ring = ellipse_points(centre, covariance, r)
        label = f"{100 * ellipse_mass(r):.1f} % ellipse (r = {r:.4g})"
        ax.plot(ring[:, 0], ring[:, 1], color="white", ls=styles[index % len(styles)], lw=1.8, label=label)
    ax.plot([centre[0]], [centre[1]], "w+", ms=10, mew=2, label="mean")
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title("2-D Gaussian: the ellipse of Mahalanobis radius r holds 1 − exp(−r²/2)", pad=10)
    legend = ax.legend(
        loc="upper left",
        fontsize="small",
        title="r² = (x − m)ᵀ Σ⁻¹ (x − m)",
        title_fontsize="small",
        facecolor="0.35",
        framealpha=0.85,
        labelcolor="white",
    )
    legend.get_title().set_color("white")
    legend.get_frame().set_edgecolor("0.35")
    return ax


# ------------------------------------------------------------- Kalman filter
@_figure(
    "kalman_1d",
    illustrates="kalman.scalar",
    caption=(
        "A seeded 1-D Kalman filter run: the truth moves with constant velocity plus process noise, "
        "measurements are noisy; each step predicts with kfsym.numeric.add and updates with "
        "kfsym.numeric.multiply. The model is printed on the figure; the band is the estimate $\\pm 2\\sigma$, "
        "the dots are the predictions (prior means), and the lower panel shows the prior and posterior variances."
    ),
)
def kalman_1d(
    ax: Axes | None = None,
    *,
    steps: int = 40,
    seed: int = 7,
    velocity: float = 1.0,
    process_var: float = 0.5,
    measurement_var: float = 9.0,
    initial: tuple[float, float] = (0.0, 100.0),
) -> Axes:
    """A seeded 1-D Kalman filter: truth, measurements, predictions and the estimate with its ±2σ band.

    The truth starts at 0 and moves ``velocity`` per step plus N(0,
    ``process_var``) noise; each measurement adds N(0, ``measurement_var``).
    The filter starts from ``initial`` = (mean, var), predicts with
    :func:`kfsym.numeric.add` (belief + motion N(velocity, process_var)) and
    updates with :func:`kfsym.numeric.multiply` (belief × measurement).

    Parameters
    ----------
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.
    steps : int
        Number of time steps (1, 2, ..., steps).
    seed : int
        Seed of the process and measurement noise.
    velocity, process_var, measurement_var : float
        Motion per step and the two noise *variances*.
    initial : (mean, var)
        The belief before the first step.

    Returns
    -------
    matplotlib.axes.Axes
        Lines ``truth``, ``estimate (posterior mean)`` and the predictions
        (prior means, as points), the measurements as points, the band
        ``estimate ± 2σ`` (a ``fill_between`` collection) and the model as
        text. Below it, carved out of the same place, a panel with the prior
        and posterior variances per step (log scale).

    Examples
    --------
    >>> ax = kalman_1d(steps=10)
    >>> [line.get_label() for line in ax.get_lines()]
    ['truth', 'estimate (posterior mean)', 'prediction (prior mean)']
    >>> import matplotlib.pyplot as plt; plt.close(ax.figure)
    """
    ax = _axes(ax)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    rng = np.random.default_rng(seed)
    time = np.arange(1, steps + 1)
    truth = np.cumsum(velocity + rng.normal(0.0, math.sqrt(process_var), steps))
    measured = truth + rng.normal(0.0, math.sqrt(measurement_var), steps)
    priors, prior_variances = np.empty(steps), np.empty(steps)
    estimates, variances = np.empty(steps), np.empty(steps)
    mean, var = initial
    for k in range(steps):
        belief = add(mean, var, velocity, process_var)  # predict: x + motion
        priors[k], prior_variances[k] = float(belief.mean), float(belief.var)
        belief = multiply(belief.mean, belief.var, measured[k], measurement_var)  # update: Bayes
        mean, var = float(belief.mean), float(belief.var)
        estimates[k], variances[k] = mean, var
    band = 2.0 * np.sqrt(variances)
    ax.fill_between(time, estimates - band, estimates + band, color=_POSTERIOR, alpha=0.25, label="estimate ± 2σ")
    ax.plot(time, truth, color=_TRUTH, ls="--", lw=1.5, label="truth")
    ax.scatter(
        time, measured, color=_MEASUREMENT, marker="x", s=25, label=f"measurements (σ² = {_fmt(measurement_var)})"
    )
    ax.plot(time, estimates, color=_POSTERIOR, lw=2, label="estimate (posterior mean)")
    ax.plot(time, priors, color=_PRIOR, ls="none", marker="o", ms=3.5, label="prediction (prior mean)")
    model = (
        f"model: xₖ = xₖ₋₁ + {_fmt(velocity)} + wₖ,  wₖ ~ N(0, σ² = {_fmt(process_var)})\n"
        f"       zₖ = xₖ + vₖ,  vₖ ~ N(0, σ² = {_fmt(measurement_var)})\n"
        f"start: {_normal(*initial)},  x₀ = 0,  seed {seed}"
    )
    ax.text(
        0.01,
        0.98,
        model,
        transform=ax.transAxes,
        va="top",
        ha="left",
        fontsize="x-small",
        family="monospace",
        bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "0.8", "alpha": 0.9},
    )
    ax.set_ylabel("position")
    ax.set_title("1-D Kalman filter: predict = add, update = multiply")
    ax.legend(loc="lower right", fontsize="x-small")
    ax.tick_params(labelbottom=False)
    panel = _variance_panel(ax)
    panel.plot(time, prior_variances, color=_PRIOR, ls="none", marker="o", ms=3.5, label="prior variance")
    panel.plot(time, variances, color=_POSTERIOR, lw=2, label="posterior variance")
    panel.set_yscale("log")
    panel.set_xlabel("time step")
    panel.set_ylabel("variance σ²")
    panel.legend(loc="upper right", fontsize="x-small", ncols=2)
    ax.set_xlabel("time step")  # also on the position panel, whose tick labels the variance panel carries
    ax.xaxis.label.set_visible(False)
    return ax


def _variance_panel(ax: Axes) -> Axes:
    """A panel below ``ax``, sharing its x axis, carved out of ``ax``'s own place in the figure.

    ``ax`` keeps being the same object: when it sits in a grid (``subplots``, ``add_subplot``) its cell
    is split in two rows, which the figure's layout engine then spaces; otherwise the panel is appended
    to it with an axes divider.
    """
    spec = ax.get_subplotspec()
    if spec is None:
        from mpl_toolkits.axes_grid1 import make_axes_locatable  # type: ignore[import-untyped]

        appended: Axes = make_axes_locatable(ax).append_axes("bottom", size="38%", pad=0.12, sharex=ax)
        return appended
    rows = spec.subgridspec(2, 1, height_ratios=(2.7, 1.0), hspace=0.04)
    ax.set_subplotspec(rows[0])
    panel: Axes = ax.figure.add_subplot(rows[1], sharex=ax)
    return panel


# ------------------------------------------------------------------ saving
def save(name: str, path: str | Path, *, dpi: int = 110) -> Path:
    """Draw figure ``name`` into a new figure and write it to ``path`` (format from the suffix).

    The figure is a :class:`matplotlib.figure.Figure` that pyplot never sees,
    so nothing is left open. PDF and PNG output carry no time stamp or
    version, so the same input writes the same bytes with the same matplotlib.

    Parameters
    ----------
    name : str
        A key of :data:`FIGURES`.
    path : str or pathlib.Path
        ``.png``, ``.pdf``, ``.svg`` ... (whatever matplotlib writes).
    dpi : int
        Resolution of raster output.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    KeyError
        For an unknown figure name, listing the known ones.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = save("predict", pathlib.Path(folder) / "predict.png")
    ...     path.stat().st_size > 10_000
    True
    """
    if name not in FIGURES:
        raise KeyError(f"no figure named {name!r}; figures: {', '.join(FIGURES)}")
    from matplotlib.figure import Figure

    target = Path(path)
    figure = Figure(figsize=FIGSIZE, layout="constrained")
    FIGURES[name](ax=figure.add_subplot())
    suffix = target.suffix.lower()
    metadata: dict[str, Any] = {}
    if suffix == ".pdf":
        metadata = {"CreationDate": None, "Creator": None, "Producer": None}
    elif suffix == ".png":
        metadata = {"Software": None}
    elif suffix == ".svg":
        metadata = {"Date": None, "Creator": None}
    figure.savefig(target, dpi=dpi, metadata=metadata or None)
    return target
