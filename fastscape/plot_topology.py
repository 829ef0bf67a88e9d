"""Figures of the global shape (matplotlib, optional extra ``plot``).

:func:`mountain_pass_figure` draws the loss profile of the mountain-pass path, of the
straight line between its ends and of a nudged elastic band, next to the number of
components of the sublevel sets {loss <= c}; :func:`slice_panels` draws loss slices
side by side (Li et al. 2018's comparison, e.g. a plain and a residual network).
matplotlib is imported inside the functions only; ``fastscape.plot`` re-exports them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._types import Seed, Widths
from .moments import Moments
from .topology import interpolate, mountain_pass, path_array, sublevel_components
from .topology_neb import NEBResult, neb

__all__ = ["mountain_pass_figure", "slice_panels"]


def _figure(fig, **kw):
    if fig is not None:
        return fig
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "fastscape's figures need matplotlib: pip install 'fastscape-dln[plot]'"
        ) from None
    return plt.figure(**kw)


def _arc(path) -> np.ndarray:
    th = path_array(path)
    s = np.concatenate(([0.0], np.cumsum(np.linalg.norm(np.diff(th, axis=0), axis=1))))
    return s / s[-1] if s[-1] > 0 else s


def _critical_levels(moments, widths, lo, top, limit: int = 2000) -> list:
    """Critical values (above the minimum, below ``top``) of the two-layer landscape."""
    import itertools
    from math import comb

    vals = np.asarray(moments.spectrum().values[: moments.rank()])
    p = min(widths)
    if len(widths) != 3 or sum(comb(vals.size, k) for k in range(p + 1)) > limit:
        return []
    tr = moments.trace_syy
    out = set()
    for k in range(p + 1):
        for s in itertools.combinations(range(vals.size), k):
            c = 0.5 * (tr - float(vals[list(s)].sum())) - lo
            if 1e-12 * max(tr, 1.0) < c <= top:
                out.add(round(c, 12))
    return sorted(out)


def _signs(comp) -> str:
    return "(" + ", ".join("+" if s > 0 else "-" for s in comp.signs) + ")"


def mountain_pass_figure(
    moments: Moments,
    widths: Widths,
    *,
    band: NEBResult | None = None,
    images: int = 17,
    steps: int = 2000,
    seed: Seed = 0,
    fig: Any = None,
) -> Any:
    """The mountain pass between two components, and the sublevel-set staircase.

    Left: loss above the minimum against the normalised arc length of three paths
    between the same two minima (one per component): the exact mountain-pass path of
    ``fastscape.mountain_pass``, the straight line (``fastscape.interpolate``) and a
    climbing-image band (``fastscape.neb``, computed unless ``band`` is given). The
    pass is starred and the two components are named by their orientation signs.
    Right: the number of components of {loss <= min + c} (closed form) as c rises
    through the pass, with the band's barrier marked.

    Parameters
    ----------
    moments : Moments
    widths : sequence of int
    band : NEBResult, optional
        A band between the ends of the mountain-pass path.
    images, steps, seed
        For the band when it is computed here.
    fig : matplotlib.figure.Figure, optional
        An empty figure to draw on (default: a new pyplot figure).

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.mountain_pass`` and ``fig.band`` hold what was drawn.

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> from fastscape.plot_topology import mountain_pass_figure
    >>> m = fastscape.Moments(np.eye(3), np.diag([3.0, 2.0, 1.0]), np.eye(3) * 9)
    >>> fig = mountain_pass_figure(m, [3, 2, 3], images=9, steps=400)
    >>> len(fig.axes), round(fig.mountain_pass.barrier, 3)
    (2, 1.5)
    >>> import matplotlib.pyplot as plt; plt.close(fig)
    """
    mp = mountain_pass(moments, widths)
    a, b = mp.path[0], mp.path[-1]
    if band is None:
        band = neb(a, b, moments, images=images, steps=steps, seed=seed)
    lo = float(mp.losses[0])
    fig = _figure(fig, figsize=(11.5, 4.3))
    ax, ax2 = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    t_line = np.linspace(0.0, 1.0, 201)
    line = interpolate(a, b, moments, n=t_line.size) - lo
    ax.plot(t_line, line, color="tab:gray", lw=1.5, label="straight line")
    ax.plot(_arc(mp.path), mp.losses - lo, color="tab:blue", lw=2.2, label="mountain-pass path")
    ax.plot(
        _arc(band.path),
        band.losses - lo,
        "o--",
        color="tab:orange",
        ms=4,
        lw=1,
        label=f"NEB band ({len(band.path)} images)",
    )
    top = int(np.argmax(mp.losses))
    ax.plot(
        [_arc(mp.path)[top]],
        [mp.barrier],
        marker="*",
        ms=16,
        color="tab:red",
        mec="black",
        ls="none",
        label=f"pass: saddle S = {tuple(i + 1 for i in mp.index_set)}",
    )
    ax.axhline(mp.barrier, color="tab:red", lw=0.8, ls=":")
    ax.annotate(
        f"barrier {mp.barrier:.4g}\n(NEB {band.barrier:.4g})",
        (0.5, mp.barrier),
        xytext=(0.62, mp.barrier * 1.6 if mp.barrier > 0 else 0.1),
        fontsize=8,
        arrowprops={"arrowstyle": "-", "lw": 0.6},
    )
    ymax = max(3.0 * mp.barrier, float(band.losses.max() - lo) * 1.3)
    ax.set_ylim(-0.05 * ymax, ymax)
    for x, comp, ha in ((0.0, mp.ends[0], "left"), (1.0, mp.ends[1], "right")):
        ax.annotate(
            f"component {_signs(comp)}",
            (x, 0.0),
            xytext=(x, 0.12 * ymax),
            ha=ha,
            fontsize=8,
            color="tab:green",
            arrowprops={"arrowstyle": "->", "color": "tab:green", "lw": 0.8},
        )
    ax.set_xlabel("normalised arc length along the path")
    ax.set_ylabel("loss - global minimum")
    ax.set_title("between the two components")
    ax.legend(fontsize=7, loc="upper left")
    levels = np.linspace(-0.1 * mp.barrier, 2.5 * mp.barrier, 400)
    counts = sublevel_components(moments, widths, lo + levels)
    ax2.step(levels, counts, where="post", color="tab:blue", lw=2, label="closed form")
    ax2.axvline(mp.barrier, color="tab:red", lw=0.8, ls=":", label="mountain pass")
    ax2.axvline(band.barrier, color="tab:orange", lw=1, ls="--", label="NEB barrier")
    crit = _critical_levels(moments, widths, lo, levels[-1])
    for j, c in enumerate(crit):
        ax2.axvline(
            c, color="tab:gray", lw=0.5, alpha=0.6, label="critical values" if j == 0 else None
        )
    ax2.set_xlabel("c = level above the global minimum")
    ax2.set_ylabel("components of {loss <= min + c}")
    ax2.set_yticks(range(0, int(counts.max()) + 1))
    ax2.set_title("sublevel sets: Morse theory")
    ax2.legend(fontsize=7, loc="upper right")
    fig.mountain_pass, fig.band = mp, band
    return fig


def slice_panels(
    slices: Sequence[Any],
    titles: Sequence[str] | None = None,
    *,
    fig: Any = None,
    zmax: float | None = None,
    log: bool = False,
) -> Any:
    """Loss slices side by side: a 3-D surface over a contour map for each.

    Parameters
    ----------
    slices : sequence of LossSlice
        From ``fastscape.slices.slice_grid`` (e.g. with ``fastscape.random_directions``
        and ``unit=False``, Li et al. 2018).
    titles : sequence of str, optional
    fig : matplotlib.figure.Figure, optional
    zmax : float, optional
        Clip the surfaces at this loss (default: no clipping), so that a sharp and a
        smooth slice can be compared on one scale.
    log : bool
        Draw log10 of the loss on the surfaces (slices whose ranges differ by orders of
        magnitude); each title gives the range of the loss itself.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> from fastscape.slices import slice_grid
    >>> from fastscape.plot_topology import slice_panels
    >>> m = fastscape.Moments(np.eye(2), np.diag([2.0, 1.0]), np.eye(2) * 3)
    >>> ws = fastscape.canonical_point(m, [2, 2, 2], [0, 1])
    >>> d = fastscape.random_directions(ws, seed=1)
    >>> sl = slice_grid(ws, m, d, span=1.0, resolution=9, unit=False)
    >>> fig = slice_panels([sl, sl], ["a", "b"])
    >>> len(fig.axes)
    4
    >>> import matplotlib.pyplot as plt; plt.close(fig)
    """
    slices = list(slices)
    titles = list(titles) if titles is not None else [""] * len(slices)
    if len(titles) != len(slices):
        raise ValueError("give one title per slice")
    n = len(slices)
    fig = _figure(fig, figsize=(5.2 * n, 8.4))
    for j, (sl, title) in enumerate(zip(slices, titles, strict=True)):
        ss, tt = np.meshgrid(sl.s, sl.t)
        z = sl.values if zmax is None else np.minimum(sl.values, zmax)
        ax = fig.add_subplot(2, n, j + 1, projection="3d")
        zs = np.log10(np.maximum(z, 1e-300)) if log else z
        ax.plot_surface(ss, tt, zs, cmap="viridis", linewidth=0, antialiased=True)
        rng = f"loss {float(sl.values.min()):.3g} .. {float(sl.values.max()):.3g}"
        ax.set_title(f"{title}\n{rng}" if title else rng, fontsize=10)
        ax.set_xlabel("alpha", fontsize=8)
        ax.set_ylabel("beta", fontsize=8)
        ax.set_zlabel("log10 loss" if log else "loss", fontsize=8)
        ax2 = fig.add_subplot(2, n, n + j + 1)
        lo = float(sl.values.min())
        hi = float(z.max())
        levels = np.geomspace(max(lo, 1e-12), max(hi, lo * 1.01 + 1e-12), 18)
        cs = ax2.contour(ss, tt, z, levels=levels, cmap="viridis", linewidths=0.8)
        ax2.clabel(cs, cs.levels[::4], fmt="%.3g", fontsize=6)
        ax2.plot([0.0], [0.0], marker="*", ms=10, color="tab:red", ls="none")
        ax2.set_aspect("equal")
        ax2.set_xlabel("alpha (filter-normalised direction 1)", fontsize=8)
        ax2.set_ylabel("beta (direction 2)", fontsize=8)
    return fig
