"""Figure of a Hessian spectral density (matplotlib, optional extra ``plot``).

Standalone (re-exported by ``fastscape.plot``); matplotlib is imported only inside the
function, so importing this module never loads it.
"""

from __future__ import annotations

import numpy as np

from .spectra import HessianDensity

__all__ = ["hessian_density"]

NEGATIVE_COLOR = "tab:red"
POSITIVE_COLOR = "tab:blue"


def hessian_density(
    density: HessianDensity,
    ax=None,
    *,
    width: float | None = None,
    reference=None,
    label: str | None = None,
    log: bool = True,
    points: int = 2000,
):
    """Draw a smoothed spectral density with its negative part marked.

    The density contributed by the quadrature nodes below -width is filled in red
    (negative curvature; the kernel's tail of the eigenvalues at zero is not counted),
    the whole density in blue; the legend gives that fraction of the mass.

    Parameters
    ----------
    density : HessianDensity
        From ``fastscape.hessian_density``.
    ax : matplotlib Axes, optional
        Where to draw; a new pyplot figure by default.
    width : float, optional
        Gaussian kernel width (default: ``HessianDensity.smooth``'s).
    reference : array_like, optional
        Exact eigenvalues (e.g. a closed form) smoothed with the same kernel and drawn
        as a dashed black line.
    label : str, optional
        Legend label of the estimate.
    log : bool
        Logarithmic density axis (a spectrum with many zeros has a tall spike at 0).
    points : int
        Grid size.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import numpy as np, fastscape, fastscape.plot
    >>> m = fastscape.Moments(np.eye(2), np.diag([2.0, 1.0]), np.eye(2) * 3)
    >>> d = fastscape.hessian_density(fastscape.canonical_point(m, [2, 1, 2], [1]), m, steps=6)
    >>> fig = fastscape.plot.hessian_density(d, width=0.05)
    >>> len(fig.axes)
    1
    """
    if not isinstance(density, HessianDensity):
        raise TypeError(
            f"density must be a fastscape.HessianDensity (from fastscape.hessian_density), "
            f"got {type(density).__name__}"
        )
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "fastscape.plot needs matplotlib: pip install 'fastscape-dln[plot]'"
        ) from exc
    grid, f = density.smooth(width=width, points=points)
    w = density.default_width() if width is None else float(width)
    if ax is None:
        fig = plt.figure()
        ax = fig.add_subplot(1, 1, 1)
    fig = ax.figure
    floor = max(float(f.max()) * 1e-7, 1e-300) if log else 0.0
    # the negative part: the mass of the nodes below -width only (the kernel's tail of
    # the eigenvalues at zero is not negative curvature)
    below = density.nodes < -w
    neg = HessianDensity(density.nodes, np.where(below, density.weights, 0.0), density.n, 0)
    _, fn = neg.smooth(grid, width=w)
    frac = density.negative_fraction(atol=w)
    ax.fill_between(grid, floor, np.maximum(f, floor), color=POSITIVE_COLOR, alpha=0.25, lw=0)
    ax.fill_between(
        grid,
        floor,
        np.maximum(fn, floor),
        color=NEGATIVE_COLOR,
        alpha=0.45,
        lw=0,
        label=f"negative part: {frac:.2%} of the mass below -{w:.2g}",
    )
    ax.plot(
        grid,
        np.maximum(f, floor),
        color="k",
        lw=1,
        label=label or f"SLQ estimate (N = {density.n:,})",
    )
    if reference is not None:
        ref = np.asarray(reference, dtype=float).ravel()
        # bin a long list first (bins 1/4 of the grid step: far below the kernel width)
        edges = np.linspace(grid[0], grid[-1], 4 * points + 1)
        counts, _ = np.histogram(np.clip(ref, grid[0], grid[-1]), bins=edges)
        centres = 0.5 * (edges[1:] + edges[:-1])
        keep = counts > 0
        rd = HessianDensity(
            centres[keep].reshape(1, -1), (counts[keep] / ref.size).reshape(1, -1), ref.size, 0
        )
        _, fr = rd.smooth(grid, width=w)
        ax.plot(
            grid,
            np.maximum(fr, floor),
            ls="--",
            color="tab:orange",
            lw=1.5,
            label="exact (closed form)",
        )
    ax.axvline(0.0, color="0.5", lw=0.6)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("Hessian eigenvalue")
    ax.set_ylabel("density")
    ax.legend(fontsize="small")
    return fig
