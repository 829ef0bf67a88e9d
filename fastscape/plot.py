"""Figures of the landscape (matplotlib, optional extra ``plot``).

The only fastscape module that imports matplotlib, and only inside its functions:
``import fastscape`` (and even ``import fastscape.plot``) never loads matplotlib.
Every function returns the :class:`matplotlib.figure.Figure` it drew on. Functions
that draw one panel take ``ax=``; without it they open a new figure through
``matplotlib.pyplot`` (whatever backend the user has; headless machines fall back
to Agg). :func:`plot_run_dir` never touches pyplot: it draws on bare ``Figure``
objects with the Agg canvas, so it works in scripts, servers and the CLI.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ._tolerance import deprecated_absolute_tol
from ._types import PathLike, Weights
from .derivatives import hessian
from .moments import Moments
from .slices import LossSlice, slice_grid, spectral_zero_tol

__all__ = [
    "LossSlice",
    "critical_value_diagram",
    "hessian_spectrum",
    "index_counts",
    "loss_slice",
    "plot_run_dir",
    "predicted_index_counts",
    "slice_grid",
]

#: Colours and legend order of the point kinds of ``fastscape.critical``.
KIND_COLORS = {
    "global_min": "tab:green",
    "local_min": "tab:olive",
    "strict_saddle": "tab:red",
    "non_strict_saddle": "tab:purple",
    "not_critical": "tab:gray",
}
NEGATIVE_COLOR = "tab:red"
ZERO_COLOR = "tab:gray"
POSITIVE_COLOR = "tab:blue"


# --------------------------------------------------------------------------- helpers


def _new_axes(ax, **subplot_kw):
    """(fig, ax): ``ax`` and its figure, or a new pyplot figure with one axes."""
    if ax is not None:
        return ax.figure, ax
    import matplotlib.pyplot as plt

    fig = plt.figure()
    return fig, fig.add_subplot(1, 1, 1, **subplot_kw)


def _new_figure(pyplot: bool = True, **kw):
    if pyplot:
        import matplotlib.pyplot as plt

        return plt.figure(**kw)
    from matplotlib.figure import Figure

    return Figure(**kw)


def _column(points, name: str) -> np.ndarray:
    if isinstance(points, Mapping):
        value = points.get(name)
    else:
        value = getattr(points, name, None)
    if value is None:
        raise TypeError(
            f"points must have a '{name}' column (a fastscape CriticalPointSet, or any object "
            f"or mapping with array fields loss, morse_index, nullity, kind), got "
            f"{type(points).__name__}"
        )
    return np.asarray(value)


# ------------------------------------------------------------------ critical values


def _measured_or_predicted(points, index, nullity):
    """Measured index and nullity, the closed-form ones where none was measured (-1 / NaN)."""
    index, nullity = index.copy(), nullity.copy()
    for col, name in ((index, "predicted_morse_index"), (nullity, "predicted_nullity")):
        missing = ~(col >= 0)
        if missing.any():
            if isinstance(points, Mapping):  # a dict may still use the old column name
                pred = points.get(name, points.get(name.replace("_morse", "")))
            else:
                pred = getattr(points, name, None)
            if pred is not None and len(pred) == col.size:
                pred = np.asarray(pred, dtype=float)
                col[missing] = pred[missing]
    if not (index >= 0).all():
        raise ValueError(
            "some points have neither a measured nor a predicted Morse index (deep points "
            "built with verify=False): recompute them with verify=True"
        )
    return index, np.where(nullity >= 0, nullity, 0.0)


def critical_value_diagram(
    points: Any, ax: Any = None, *, title: str | None = None, annotate: bool | None = None
) -> Any:
    """Every critical point as loss against Morse index, coloured by kind.

    One scatter per kind (legend entry ``"<kind> (<count>)"``), marker area growing
    with the nullity (the dimension of the Hessian's null space), a dashed line at
    the lowest loss. Works for critical points of any depth.

    Parameters
    ----------
    points : CriticalPointSet or mapping
        Anything with equal-length array fields ``loss``, ``morse_index``,
        ``nullity`` and ``kind`` (strings such as ``"global_min"``,
        ``"strict_saddle"``, ``"non_strict_saddle"``). Where the measured index or
        nullity is missing (-1 or NaN, as with ``verify=False``) the columns
        ``predicted_morse_index`` / ``predicted_nullity`` are used.
    ax : matplotlib Axes, optional
        Draw here; default a new figure.
    title : str, optional
    annotate : bool, optional
        Label each point with its index set (1-based) when ``points`` has
        ``index_sets``; default: only when there are at most 16 points.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, fastscape.plot as fplot
    >>> pts = {"loss": np.array([0.5, 1.0, 1.5]), "morse_index": np.array([0, 1, 2]),
    ...        "nullity": np.array([4, 4, 4]),
    ...        "kind": np.array(["global_min", "strict_saddle", "strict_saddle"])}
    >>> fig = fplot.critical_value_diagram(pts)
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['global_min (1)', 'strict_saddle (2)']
    >>> import matplotlib.pyplot as plt; plt.close(fig)
    """
    lossv = _column(points, "loss").astype(float)
    index = _column(points, "morse_index").astype(float)
    nullity = _column(points, "nullity").astype(float)
    kind = _column(points, "kind").astype(str)
    n = lossv.size
    if not (index.size == nullity.size == kind.size == n):
        raise ValueError(
            f"points' columns differ in length: loss {n}, morse_index {index.size}, "
            f"nullity {nullity.size}, kind {kind.size}"
        )
    index, nullity = _measured_or_predicted(points, index, nullity)
    fig, ax = _new_axes(ax)
    big = max(1.0, float(np.nanmax(nullity, initial=0.0)))
    sizes = 25.0 + 175.0 * np.nan_to_num(nullity, nan=0.0) / big
    order = list(KIND_COLORS) + sorted(set(kind) - set(KIND_COLORS))
    for k in order:
        sel = kind == k
        if not sel.any():
            continue
        ax.scatter(
            index[sel],
            lossv[sel],
            s=sizes[sel],
            c=KIND_COLORS.get(k, "black"),
            alpha=0.75,
            edgecolors="black",
            linewidths=0.5,
            label=f"{k} ({int(sel.sum())})",
            zorder=3,
        )
    sets = points.get("index_sets") if isinstance(points, Mapping) else None
    sets = getattr(points, "index_sets", sets)
    if annotate is None:
        annotate = n <= 16
    if annotate and sets is not None and len(sets) == n:
        for x, y, st in zip(index, lossv, sets, strict=True):
            label = "{" + ", ".join(str(int(i) + 1) for i in st) + "}"
            ax.annotate(label, (x, y), xytext=(7, -3), textcoords="offset points", fontsize=8)
    if n:
        ax.axhline(float(np.nanmin(lossv)), color="tab:green", ls="--", lw=0.8, zorder=1)
        ax.legend(loc="best", fontsize="small", title="kind (count)")
    ax.set_xlabel("Morse index (number of negative Hessian eigenvalues)")
    ax.set_ylabel("loss")
    ax.set_title(title or f"{n} critical points; marker area grows with nullity")
    ax.grid(True, alpha=0.3)
    if n:
        lo, hi = int(np.nanmin(index)), int(np.nanmax(index))
        step = max(1, (hi - lo + 1) // 12)
        ax.set_xticks(range(lo, hi + 1, step))
    return fig


# --------------------------------------------------------------------- index counts


def predicted_index_counts(q: int, p: int, *, ranks: str = "full") -> np.ndarray:
    """Number of critical points of each Morse index, distinct eigenvalues (docs/theory.md).

    ``ranks="full"``: index sets of size min(p, q), the coefficients of the Gaussian
    binomial [q choose p]_t. ``ranks="all"``: every size k <= p, each shifted by
    the rank-deficiency index (q - k)(p - k) and summed. Exact Python integers, from
    ``fastscape.theory.index_counts``.

    Examples
    --------
    >>> import fastscape.plot as fplot
    >>> fplot.predicted_index_counts(4, 2).tolist()
    [1, 1, 2, 1, 1]
    >>> fplot.predicted_index_counts(2, 1, ranks="all").tolist()
    [1, 1, 1]
    """
    from .theory import index_counts as _counts

    if ranks not in ("full", "all"):
        raise ValueError(f"ranks must be 'full' or 'all', got {ranks!r}")
    q, p = int(q), int(p)
    if ranks == "full" and p > q:  # the highest rank there is: |S| = q, all of index 0
        return np.ones(1, dtype=object)
    return np.array(list(_counts(q, p, ranks=ranks)), dtype=object)


def _load_summary(summary) -> tuple[dict, Path | None]:
    if hasattr(summary, "to_json"):  # a fastscape.LandscapeSummary
        return summary.to_json(), None
    if isinstance(summary, Mapping):
        return dict(summary), None
    path = Path(summary)
    if path.is_dir():
        path = path / "summary.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"no summary at {path}: pass the output directory of `fastscape enumerate "
            "... --out DIR` or its summary.json"
        )
    with open(path) as f:
        return json.load(f), path


def _summary_ranks(s: Mapping) -> str:
    for key in ("ranks", "mode"):
        v = s.get(key)
        if isinstance(v, str):
            return "all" if v.lower() in ("all", "all_ranks", "all-ranks") else "full"
    return "full"


def index_counts(summary: Any, ax: Any = None, *, predicted: bool = True) -> Any:
    """Bars of the number of critical points per Morse index, Gaussian binomial overlaid.

    Parameters
    ----------
    summary : LandscapeSummary, mapping or path
        An enumeration summary (a ``fastscape.LandscapeSummary``, the
        ``summary.json`` of ``fastscape enumerate``, its directory, or the loaded
        dict) with ``q``, ``p`` and ``index_counts``
        (entry m = number of points of Morse index m); ``ranks`` = ``"all"``
        switches the prediction to the shifted sum over all ranks.
    ax : matplotlib Axes, optional
    predicted : bool
        Overlay the closed-form counts as black markers (exact for distinct
        eigenvalues of Sigma).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import fastscape.plot as fplot
    >>> fig = fplot.index_counts({"q": 4, "p": 2, "index_counts": [1, 1, 2, 1, 1]})
    >>> [int(b.get_height()) for b in fig.axes[0].patches]
    [1, 1, 2, 1, 1]
    >>> import matplotlib.pyplot as plt; plt.close(fig)
    """
    s, _ = _load_summary(summary)
    counts = np.asarray(s.get("index_counts", []), dtype=float)
    if counts.ndim != 1:
        raise ValueError("summary['index_counts'] must be a flat list of counts per index")
    fig, ax = _new_axes(ax)
    m = np.arange(counts.size)
    handles = [ax.bar(m, counts, width=0.8, color="tab:blue", alpha=0.8, label="enumerated")]
    title = f"{int(counts.sum()):,} critical points"
    if predicted and "q" in s and "p" in s:
        ranks = _summary_ranks(s)
        pred = predicted_index_counts(int(s["q"]), int(s["p"]), ranks=ranks).astype(float)
        name = "[q choose p]_t" if ranks == "full" else "sum_k t^((q-k)(p-k)) [q choose k]_t"
        (line,) = ax.plot(
            np.arange(pred.size),
            pred,
            ls="none",
            marker="_",
            markersize=max(3.0, min(14.0, 420.0 / max(1, pred.size))),
            mew=2.5,
            color="black",
            label=f"closed form {name}",
        )
        handles.append(line)
        title += f", q = {s['q']}, p = {s['p']}, ranks: {ranks}"
    ax.set_xlabel("Morse index")
    ax.set_ylabel("number of critical points")
    ax.set_title(title)
    top = max(float(counts.max(initial=0.0)), 1.0)
    if counts.size and top / max(1.0, counts[counts > 0].min(initial=1.0)) > 1e3:
        ax.set_yscale("log")
        ax.set_ylim(0.5, top * 30)  # headroom for the legend
    else:
        ax.set_ylim(0, top * 1.25)
    ax.legend(handles=handles, loc="upper right", fontsize="small")
    return fig


# ------------------------------------------------------------------ Hessian spectrum


def hessian_spectrum(
    weights: Weights,
    moments: Moments,
    *,
    residual: bool = False,
    weight_decay: float = 0.0,
    ax: Any = None,
    bins: int | str = 30,
    atol: float | None = None,
    tol: float | None = None,
) -> Any:
    """Histogram of the Hessian's eigenvalues at a point, negative part highlighted.

    The eigenvalues are split into negative (< -atol, red), zero (|.| <= atol, grey)
    and positive (> atol, blue) and drawn as one stacked histogram over shared bins,
    so a bin straddling 0 shows each part in its colour. The legend gives each
    part's count: the Morse index, the nullity and the rest.

    Parameters
    ----------
    weights : list of array_like
        [W_1, ..., W_H].
    moments : Moments
    residual : bool
        Residual form (I + W_H) ... (I + W_1).
    weight_decay : float
    ax : matplotlib Axes, optional
    bins : int or str
        Passed to ``numpy.histogram_bin_edges``.
    atol : float, optional
        Eigenvalues with absolute value <= atol count as zero; default
        sqrt(machine epsilon) * max |eigenvalue|, as in ``fastscape.classify``.
    tol : float, optional
        Deprecated spelling of ``atol`` (absolute; warns). ``tol`` will mean a relative
        tolerance in (0, 1), as everywhere else in fastscape.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, fastscape, fastscape.plot as fplot
    >>> m = fastscape.Moments(np.eye(1), np.array([[2.0]]), np.array([[4.0]]))
    >>> fig = fplot.hessian_spectrum([np.zeros((1, 1)), np.zeros((1, 1))], m)
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['negative (1)', 'zero (0)', 'positive (1)']
    >>> import matplotlib.pyplot as plt; plt.close(fig)
    """
    atol = deprecated_absolute_tol(tol, atol, "hessian_spectrum")
    h = hessian(weights, moments, residual=residual, weight_decay=weight_decay)
    ev = np.linalg.eigvalsh(h)
    tol = spectral_zero_tol(ev, atol)
    parts = [ev[ev < -tol], ev[np.abs(ev) <= tol], ev[ev > tol]]
    edges = np.histogram_bin_edges(ev, bins=bins)
    fig, ax = _new_axes(ax)
    names = ("negative", "zero", "positive")
    ax.hist(
        parts,
        bins=edges,
        stacked=True,
        color=[NEGATIVE_COLOR, ZERO_COLOR, POSITIVE_COLOR],
        label=[f"{nm} ({p.size})" for nm, p in zip(names, parts, strict=True)],
        edgecolor="black",
        linewidth=0.4,
    )
    ax.axvline(0.0, color="black", lw=0.8, ls=":")
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("Hessian eigenvalue")
    ax.set_ylabel("count")
    ax.set_title(
        f"Hessian spectrum, N = {ev.size}: index {parts[0].size}, nullity {parts[1].size}"
        f"\nmin {ev[0]:.3g}, max {ev[-1]:.3g}"
    )
    ax.legend(loc="best", fontsize="small")
    return fig


# ------------------------------------------------------------------------ loss slice
# the grid itself (LossSlice, slice_grid) lives in fastscape.slices; re-exported here


def loss_slice(
    weights: Weights,
    moments: Moments,
    directions: Any = None,
    *,
    span: float = 1.0,
    resolution: int = 41,
    residual: bool = False,
    weight_decay: float = 0.0,
    seed: int = 0,
    labels: tuple[str, str] | None = None,
    title: str | None = None,
    fig: Any = None,
    unit: bool = True,
) -> Any:
    """A 2-D slice of the loss through a point: contour map and 3-D surface side by side.

    The grid is :func:`slice_grid` (same arguments, except that ``span`` defaults to
    1.0 here; pass ``span=None`` for its automatic span; ``unit=False`` keeps given
    directions unscaled, as filter-normalised ones need); the point itself is marked in
    both panels (a white star on the contour map, a black dot on the surface). Pass
    ``fig`` (an empty ``matplotlib.figure.Figure``) to draw without pyplot. With
    the default directions a strict saddle shows as a ridge falling away along the
    negative curvature and flat along the symmetry orbit, a global minimum as a flat
    valley along which the loss does not change (a "river").

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: ``fig.axes[0]`` the contour map (level lines labelled with the
        loss), ``fig.axes[1]`` the 3-D surface. The :class:`LossSlice` drawn is
        attached as ``fig.loss_slice``.

    Examples
    --------
    >>> import numpy as np, fastscape, fastscape.plot as fplot
    >>> m = fastscape.Moments(np.eye(1), np.array([[2.0]]), np.array([[4.0]]))
    >>> fig = fplot.loss_slice([np.zeros((1, 1)), np.zeros((1, 1))], m, resolution=11)
    >>> fig.loss_slice.center_loss == fastscape.loss([np.zeros((1, 1))] * 2, m)
    True
    >>> [ax.name for ax in fig.axes]
    ['rectilinear', '3d']
    >>> import matplotlib.pyplot as plt; plt.close(fig)
    """
    sl = slice_grid(
        weights,
        moments,
        directions,
        span=span,
        resolution=resolution,
        residual=residual,
        weight_decay=weight_decay,
        seed=seed,
        labels=labels,
        unit=unit,
    )
    if fig is None:
        fig = _new_figure(figsize=(11, 4.6))
    _draw_slice(fig, sl, title)
    return fig


def _draw_slice(fig, sl: LossSlice, title):
    ss, tt = np.meshgrid(sl.s, sl.t)
    ax0 = fig.add_subplot(1, 2, 1)
    ax1 = fig.add_subplot(1, 2, 2, projection="3d")
    lo, hi = float(sl.values.min()), float(sl.values.max())
    levels = np.linspace(lo, hi, 25) if hi > lo else None
    ax0.contourf(ss, tt, sl.values, levels=levels, cmap="viridis")
    if levels is not None:  # labelled level lines instead of a colour bar: two axes only
        lines = ax0.contour(ss, tt, sl.values, levels=levels[1::4], colors="white", linewidths=0.6)
        ax0.clabel(lines, fmt="%.4g", fontsize=7)
    ax0.plot([0.0], [0.0], marker="*", ms=14, color="white", mec="black", ls="none")
    ax0.set_xlabel(sl.labels[0])
    ax0.set_ylabel(sl.labels[1])
    ax0.set_title("contour")
    ax0.set_aspect("equal")
    ax1.plot_surface(ss, tt, sl.values, cmap="viridis", linewidth=0, antialiased=True, alpha=0.9)
    ax1.scatter([0.0], [0.0], [sl.center_loss], color="black", s=30, depthshade=False)
    ax1.set_xlabel(sl.labels[0].split(" (")[0], fontsize="small")
    ax1.set_ylabel(sl.labels[1].split(" (")[0], fontsize="small")
    ax1.set_zlabel("loss", labelpad=8)
    ax1.set_title("surface")
    fig.suptitle(title or f"loss slice through the point (loss {sl.center_loss:.4g})")
    fig.loss_slice = sl
    return fig


# ------------------------------------------------------------- enumeration run dirs


def _histogram_arrays(h) -> tuple[np.ndarray, np.ndarray] | None:
    """(edges, counts) from the summary's ``loss_histogram`` in any of its shapes."""
    if isinstance(h, Mapping):
        edges = next((h[k] for k in ("edges", "bin_edges", "bins") if k in h), None)
        counts = next((h[k] for k in ("counts", "count", "hist") if k in h), None)
        if edges is None or counts is None:
            return None
        edges, counts = np.asarray(edges, dtype=float), np.asarray(counts, dtype=float)
    elif isinstance(h, (list, tuple)) and h and np.ndim(h[0]) == 1 and len(h[0]) == 3:
        a = np.asarray(h, dtype=float)  # rows (lo, hi, count)
        edges, counts = np.append(a[:, 0], a[-1, 1]), a[:, 2]
    else:
        return None
    if edges.size != counts.size + 1:
        return None
    return edges, counts


def _set_label(index_set) -> str:
    """1-based index set with runs compressed: (0, 1, 2, 4) -> '{1-3, 5}'."""
    items = sorted(int(i) + 1 for i in index_set)
    runs, start = [], None
    for j, v in enumerate(items):
        if start is None:
            start = v
        if j + 1 == len(items) or items[j + 1] != v + 1:
            runs.append(f"{start}" if v == start else f"{start}-{v}")
            start = None
    return "{" + ", ".join(runs) + "}"


def _lowest_figure(fig, lowest, s):
    ax = fig.add_subplot(1, 1, 1)
    losses = np.array([float(r["loss"]) for r in lowest])
    names = [_set_label(r.get("index_set", [])) for r in lowest]
    index = [r.get("index") for r in lowest]
    y = np.arange(losses.size)
    best = [(ix == 0) if ix is not None else (i == 0) for i, ix in enumerate(index)]
    colors = ["tab:green" if b else "tab:red" for b in best]
    ax.hlines(y, losses.min(), losses, color="lightgray", lw=1.5, zorder=1)
    ax.scatter(losses, y, c=colors, s=40, edgecolors="black", linewidths=0.5, zorder=3)
    if all(ix is not None for ix in index):
        for yy, xx, ix in zip(y, losses, index, strict=True):
            ax.annotate(
                f"index {ix}",
                (xx, yy),
                xytext=(6, -3),
                textcoords="offset points",
                fontsize="x-small",
            )
        ax.margins(x=0.15)
    ax.set_yticks(y, names, fontsize="x-small" if losses.size > 20 else "small")
    ax.invert_yaxis()
    ax.set_xlabel("loss")
    ax.set_ylabel("index set S (1-based, eigenvalues descending)")
    ax.set_title(
        f"the {losses.size} lowest critical values (green: Morse index 0, the global minimum)"
        f"\nq = {s.get('q')}, p = {s.get('p')}"
    )
    ax.grid(True, axis="x", alpha=0.3)
    return fig


def _histogram_figure(fig, edges, counts, s):
    ax = fig.add_subplot(1, 1, 1)
    ax.stairs(counts, edges, fill=True, color="tab:blue", alpha=0.8)
    ax.set_xlabel("loss")
    ax.set_ylabel("number of critical points")
    if counts.max(initial=0) > 0 and counts.max() / max(1.0, counts[counts > 0].min()) > 1e3:
        ax.set_yscale("log")
    ax.set_title(
        f"critical values: {int(counts.sum()):,} points, q = {s.get('q')}, p = {s.get('p')}"
    )
    return fig


def plot_run_dir(directory: PathLike) -> list[Path]:
    """Draw the figures of an enumeration output directory, as PNGs next to its summary.

    Reads ``DIR/summary.json`` (written by ``fastscape enumerate ... --out DIR``) and
    writes ``index_counts.png`` (bars with the Gaussian-binomial prediction),
    ``lowest.png`` (the lowest critical values by index set, if listed) and
    ``loss_histogram.png`` (the distribution of critical values, if present).
    Uses bare ``Figure`` objects and the Agg canvas: no pyplot, no open windows.
    ``fastscape plot DIR`` calls this.

    Parameters
    ----------
    directory : path
        The output directory (or its ``summary.json``).

    Returns
    -------
    list of pathlib.Path
        The PNG files written.

    Examples
    --------
    >>> import json, tempfile, pathlib, fastscape.plot as fplot
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "summary.json").write_text(json.dumps({"q": 3, "p": 1, "total": 3,
    ...     "index_counts": [1, 1, 1], "lowest": [{"loss": 0.5, "index_set": [0]}]}))
    >>> [p.name for p in fplot.plot_run_dir(d)]
    ['index_counts.png', 'lowest.png']
    """
    s, path = _load_summary(directory)
    if path is None:
        raise ValueError(f"{directory} is not a run directory or summary.json file")
    out = path.parent
    written = []

    def save(fig, name):
        target = out / name
        fig.savefig(target, dpi=110, bbox_inches="tight")
        written.append(target)

    fig = _new_figure(pyplot=False, figsize=(7, 4.2))
    index_counts(s, ax=fig.add_subplot(1, 1, 1))
    save(fig, "index_counts.png")
    lowest = s.get("lowest") or []
    if lowest:
        fig = _new_figure(pyplot=False, figsize=(7, 1.5 + 0.22 * min(len(lowest), 60)))
        save(_lowest_figure(fig, lowest[:60], s), "lowest.png")
    hist = _histogram_arrays(s.get("loss_histogram"))
    if hist is not None:
        fig = _new_figure(pyplot=False, figsize=(7, 4.2))
        save(_histogram_figure(fig, *hist, s), "loss_histogram.png")
    return written


from .plot_topology import mountain_pass_figure, slice_panels  # noqa: E402, F401

__all__ += ["mountain_pass_figure", "slice_panels"]
from .plot_dynamics import plot_learning_curve, plot_modes, plot_runs  # noqa: E402, F401
from .plot_spectra import hessian_density  # noqa: E402, F401
