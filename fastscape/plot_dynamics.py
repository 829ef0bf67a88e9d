"""Figures of training runs (matplotlib, optional extra ``plot``): loss, modes, many runs.

matplotlib is imported only inside the functions. Each function returns the
:class:`matplotlib.figure.Figure` it drew on and takes ``ax=`` (or ``axes=``) to draw
into existing axes; without it a new pyplot figure is opened.
"""

from __future__ import annotations

import numpy as np

from .dynamics import Trajectory
from .dynamics_many import ManyRuns
from .moments import Moments, as_moments
from .theory.dynamics import learning_curve
from .theory.laws import is_whitened

__all__ = ["plot_learning_curve", "plot_modes", "plot_runs"]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise ImportError("plotting needs matplotlib: pip install 'fastscape-dln[plot]'") from None
    return plt


def _axes(ax, n=1, **kw):
    if ax is not None:
        return (ax if n == 1 else ax[0]).figure, ax
    plt = _pyplot()
    fig, axes = plt.subplots(1, n, **kw)
    return fig, axes


def _label(s) -> str:
    return "S = (" + ", ".join(str(i) for i in s) + (",)" if len(s) == 1 else ")")


def plot_learning_curve(traj: Trajectory, moments: Moments, ax=None, *, tol: float = 0.05):
    """Loss against step (log x), critical values as lines, plateaus labelled by S.

    Parameters
    ----------
    traj : Trajectory
    moments : Moments
    ax : matplotlib Axes, optional
    tol : float
        Plateau detection tolerance (``Trajectory.plateaus``).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> from fastscape.plot import plot_learning_curve
    >>> m = fastscape.Moments(np.eye(3), np.diag([3.0, 2.0, 1.0]), np.eye(3) * 5)
    >>> ws = fastscape.random_weights([3, 2, 3], seed=1, scale=1e-4)
    >>> tr = fastscape.gradient_descent(ws, m, lr=0.02, steps=1500, record_every=5)
    >>> fig = plot_learning_curve(tr, m)
    >>> [t.get_text() for t in fig.axes[0].texts]
    ['S = ()', 'S = (0,)', 'S = (0, 1)']
    """
    m = as_moments(moments)
    fig, ax = _axes(ax, figsize=(7, 4.2))
    plats = traj.plateaus(m, tol=tol)
    steps = np.maximum(traj.steps, 1)
    ax.plot(steps, traj.loss, color="black", lw=1.5, label="loss")
    seen = set()
    for pl in plats:
        if pl.index_set not in seen:
            seen.add(pl.index_set)
            ax.axhline(pl.critical_loss, color="tab:red", lw=0.8, ls="--")
        mid = np.sqrt(max(pl.start_step, 1) * max(pl.end_step, 1))
        ax.annotate(
            _label(pl.index_set),
            (mid, pl.critical_loss),
            xytext=(0, 4),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=8,
            color="tab:red",
        )
    ax.set_xscale("log")
    ax.margins(y=0.1)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(f"{traj.method}, lr = {traj.lr:g}: plateaus at critical values (dashed)")
    return fig


def plot_modes(traj: Trajectory, moments: Moments, ax=None, *, closed_form: bool | None = None):
    """Mode strengths (diagonal of U^T W Sxx^(1/2) V) against time, closed form overlaid.

    The closed form (``fastscape.theory.learning_curve``) is drawn when the inputs are
    whitened; it is exact for a decoupled balanced start and a guide otherwise.

    Parameters
    ----------
    traj : Trajectory
    moments : Moments
    ax : matplotlib Axes, optional
    closed_form : bool, optional
        Overlay the closed form (default: when Sxx = I).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> from fastscape.plot import plot_modes
    >>> m = fastscape.Moments(np.eye(2), np.diag([2.0, 1.0]), np.eye(2) * 3)
    >>> ws = fastscape.balanced_start(m, [2, 2, 2], [1e-3, 1e-3])
    >>> tr = fastscape.gradient_descent(ws, m, lr=0.01, steps=800, record_every=10)
    >>> len(plot_modes(tr, m).axes[0].lines)
    4
    """
    m = as_moments(moments)
    fig, ax = _axes(ax, figsize=(7, 4.2))
    u = traj.strengths
    s = np.sqrt(np.asarray(m.spectrum().values)[: min(m.rank(), u.shape[1])])
    if closed_form is None:
        closed_form = is_whitened(m.sxx)
    depth = len(traj.weights)
    colors = [f"C{i}" for i in range(u.shape[1])]
    for i in range(s.size):
        ax.plot(traj.times, u[:, i], color=colors[i], lw=1.8, label=f"mode {i}, s = {s[i]:.3g}")
    if closed_form and s.size:
        u0 = np.maximum(u[0, : s.size], 1e-300)
        lc = learning_curve(s, u0, traj.times, depth=depth)
        for i in range(s.size):
            ax.plot(traj.times, lc.strengths[:, i], color="black", lw=0.8, ls=":")
    ax.set_xlabel("time t = lr * step")
    ax.set_ylabel("mode strength")
    ax.set_title(f"depth {depth}: strengths (colour), closed form (dotted)")
    ax.legend(fontsize=8)
    return fig


def plot_runs(runs: ManyRuns, moments: Moments, axes=None, *, bins: int = 30):
    """Many runs: the distribution of final losses and of plateau lengths per family.

    Parameters
    ----------
    runs : ManyRuns
    moments : Moments
    axes : pair of matplotlib Axes, optional
    bins : int

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> from fastscape.plot import plot_runs
    >>> m = fastscape.Moments(np.eye(3), np.diag([3.0, 2.0, 1.0]), np.eye(3) * 5)
    >>> res = fastscape.gradient_descent_many([3, 2, 3], m, runs=16, init_scale=1e-4,
    ...                                       lr=0.02, steps=1500, record_every=5)
    >>> len(plot_runs(res, m).axes)
    2
    """
    m = as_moments(moments)
    fig, axes = _axes(axes, 2, figsize=(11, 4))
    a0, a1 = axes[0], axes[1]
    final = runs.final_loss
    vals = np.asarray(m.spectrum().values)[: m.rank()]
    spread = float(np.ptp(final)) if final.size else 0.0
    if spread <= 1e-9 * max(1.0, float(np.abs(final).max(initial=0.0))):  # all equal
        centre = float(final.mean()) if final.size else 0.0
        half = 1e-6 * max(1.0, abs(centre))
        a0.hist(final, bins=1, range=(centre - half, centre + half), color="tab:blue")
    else:
        a0.hist(final, bins=bins, color="tab:blue")
    p = min([w.shape[1] for w in runs.weights] + [w.shape[2] for w in runs.weights])
    gmin = 0.5 * (m.trace_syy - float(np.sum(vals[:p])))
    a0.axvline(gmin, color="tab:green", ls="--", lw=1, label="global minimum")
    if runs.plateaus is not None:  # the families runs stopped in, other than the minimum
        ends = {run[-1].index_set: run[-1].critical_loss for run in runs.plateaus if run}
        for s, value in sorted(ends.items()):
            if value > gmin + 1e-9 * m.trace_syy:
                a0.axvline(value, color="tab:red", ls=":", lw=1)
                a0.annotate(
                    _label(s),
                    (value, 0),
                    xytext=(2, 10),
                    textcoords="offset points",
                    fontsize=8,
                    color="tab:red",
                    rotation=90,
                )
    a0.set_xlabel("final loss")
    a0.set_ylabel("runs")
    a0.set_title(f"{final.size} runs: final losses")
    a0.legend(fontsize=8)
    if runs.plateaus is not None:
        lengths: dict = {}
        for run in runs.plateaus:
            for pl in run[:-1]:  # the last visit is where the run ends, not a plateau
                lengths.setdefault(pl.index_set, []).append(pl.end_step - pl.start_step)
        keys = sorted(lengths, key=lambda k: (len(k), k))
        if keys:
            a1.boxplot([lengths[k] for k in keys])
            a1.set_xticks(range(1, len(keys) + 1), [_label(k) for k in keys], fontsize=8)
    a1.set_ylabel("plateau length (steps)")
    a1.set_title("plateau lengths by critical family")
    return fig
