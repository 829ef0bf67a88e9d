"""Many gradient-descent runs of one network at once: one compiled call, runs in parallel."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numba
import numpy as np

from ._types import Seed, Weights, Widths
from ._validate import as_int, as_matrix, as_weight_decay, as_widths
from .dynamics_checks import as_lr, as_steps, check_tol, warn_divergence
from .dynamics_plateaus import FamilyInfo, find_plateaus, mode_basis
from .kernels import dynamics_batch as _kb
from .moments import Moments, SingularInputError, as_moments

__all__ = ["ManyRuns", "gradient_descent_many"]

#: At most this many runs advance together in one SIMD block (lanes of one kernel
#: call); the results do not depend on the block size, only the speed does.
MAX_BLOCK = 32


@dataclass(frozen=True, eq=False)
class ManyRuns:
    """Records of many gradient-descent runs of one network.

    Attributes
    ----------
    steps : ndarray of int, shape (records,)
        Recorded steps (0, every ``record_every`` steps, and the last).
    loss, grad_norm : ndarray, shape (runs, records)
        NaN after a run's divergence.
    weights : list of ndarray
        Final weights, layer k of shape (runs, d_k, d_(k-1)).
    diverged_at : ndarray of int, shape (runs,)
        Step at which each run stopped being finite, -1 for runs that finished.
    plateaus : tuple of tuple of Plateau, or None
        Per run, the critical families it passed near (see ``Trajectory.plateaus``);
        None with weight decay or a singular Sxx.
    lr, weight_decay : float

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.eye(2), np.diag([2.0, 1.0]), np.eye(2) * 3)
    >>> runs = fastscape.gradient_descent_many([2, 2, 2], m, runs=4, init_scale=1e-3,
    ...                                        lr=0.05, steps=1000, record_every=100)
    >>> runs.loss.shape, runs.final_loss.round(6)
    ((4, 11), array([0.5, 0.5, 0.5, 0.5]))
    """

    steps: np.ndarray
    loss: np.ndarray
    grad_norm: np.ndarray
    weights: list
    diverged_at: np.ndarray
    plateaus: tuple | None
    lr: float
    weight_decay: float

    @property
    def final_loss(self) -> np.ndarray:
        """The last finite recorded loss of each run, shape (runs,).

        Examples
        --------
        >>> import numpy as np, fastscape
        >>> m = fastscape.Moments(np.eye(1), np.eye(1), np.eye(1))
        >>> fastscape.gradient_descent_many([1, 1, 1], m, runs=2, init_scale=0.5, lr=0.1,
        ...                                 steps=500, record_every=500).final_loss.round(8)
        array([0., 0.])
        """
        ok = np.isfinite(self.loss)
        last = ok.shape[1] - 1 - np.argmax(ok[:, ::-1], axis=1)
        return self.loss[np.arange(self.loss.shape[0]), last]

    def run_weights(self, r: int) -> list[np.ndarray]:
        """The final weights [W_1, ..., W_H] of run r.

        Examples
        --------
        >>> import numpy as np, fastscape
        >>> m = fastscape.Moments(np.eye(1), np.eye(1), np.eye(1))
        >>> runs = fastscape.gradient_descent_many([1, 2, 1], m, runs=3, lr=0.1, steps=5)
        >>> [w.shape for w in runs.run_weights(2)]
        [(2, 1), (1, 2)]
        """
        return [w[r].copy() for w in self.weights]


def _init(widths, runs, init, init_scale, seed):
    depth = len(widths) - 1
    if init is not None:
        if isinstance(init, np.ndarray) or not isinstance(init, (list, tuple)):
            raise TypeError("init must be a list of H arrays shaped (runs, d_k, d_(k-1))")
        if len(init) != depth:
            raise ValueError(f"init has {len(init)} layers but widths {widths} need {depth}")
        arrs = [as_matrix(a, f"init[{k}]", ndim=3) for k, a in enumerate(init)]
        n = arrs[0].shape[0]
        for k, a in enumerate(arrs):
            want = (n, widths[k + 1], widths[k])
            if a.shape != want:
                raise ValueError(
                    f"init[{k}] has shape {a.shape} but widths {list(widths)} need "
                    f"(runs, d_{k + 1}, d_{k}) = {want}"
                )
        if runs is not None and as_int(runs, "runs", 1) != n:
            raise ValueError(f"runs = {runs} but init holds {n} runs; pass one or the other")
        if n < 1:
            raise ValueError("init must hold at least one run")
        return arrs, n
    n = as_int(1 if runs is None else runs, "runs", 1, " (number of runs)")
    rng = np.random.default_rng(seed)
    out = []
    for k in range(depth):
        if init_scale is None:
            scale = 1.0 / np.sqrt(widths[k])
        elif isinstance(init_scale, bool) or not isinstance(init_scale, numbers.Real):
            raise TypeError(f"init_scale must be a positive number, got {init_scale!r}")
        else:
            scale = float(init_scale)
            if not np.isfinite(scale) or scale <= 0:
                raise ValueError(f"init_scale must be finite and > 0, got {init_scale!r}")
        out.append(rng.standard_normal((n, widths[k + 1], widths[k])) * scale)
    return out, n


def gradient_descent_many(
    widths: Widths,
    moments: Moments,
    *,
    runs: int | None = None,
    init: Sequence[Weights] | None = None,
    init_scale: float | None = None,
    seed: Seed = 0,
    lr: float,
    steps: int,
    record_every: int = 1,
    weight_decay: float = 0.0,
    threads: int | None = None,
    plateau_tol: float = 0.05,
) -> ManyRuns:
    """Full-batch gradient descent from many starts, all runs in one parallel compiled call.

    Each run is the loop of ``fastscape.gradient_descent`` (same arithmetic, bit for
    bit); runs are spread over threads with a parallel loop in which each run writes
    only its own rows, so results do not depend on the thread count.

    Parameters
    ----------
    widths : sequence of int
        (dx, d_1, ..., dy).
    moments : Moments
    runs : int, optional
        Number of runs (default 1, or the number in ``init``).
    init : list of array_like, optional
        H arrays shaped (runs, d_k, d_(k-1)): the starting weights.
    init_scale : float, optional
        Without ``init``: entries are N(0, init_scale^2), drawn layer by layer from
        ``numpy.random.default_rng(seed)`` (default scale 1/sqrt(d_(k-1))).
    seed : int, numpy.random.Generator or None
    lr : float
    steps : int
    record_every : int
    weight_decay : float
    threads : int, optional
        Threads for the parallel loop (default: Numba's current setting).
    plateau_tol : float
        ``tol`` of the per-run plateau detection (``Trajectory.plateaus``).

    Returns
    -------
    ManyRuns

    Warns
    -----
    DivergenceWarning
        If any run overflows; ``ManyRuns.diverged_at`` says which and when.

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.eye(3), np.diag([3.0, 2.0, 1.0]), np.eye(3) * 5)
    >>> res = fastscape.gradient_descent_many([3, 2, 3], m, runs=8, init_scale=1e-4,
    ...                                       lr=0.02, steps=1500, record_every=10)
    >>> sorted({tuple(pl.index_set for pl in run) for run in res.plateaus})
    [((), (0,), (0, 1))]
    """
    w = as_widths(widths, min_len=3)
    m = as_moments(moments)
    if w[0] != m.dx or w[-1] != m.dy:
        raise ValueError(f"widths must start with dx = {m.dx} and end with dy = {m.dy}, got {w}")
    lr = as_lr(lr)
    steps, every, nrec = as_steps(steps, record_every)
    mu = as_weight_decay(weight_decay)
    plateau_tol = check_tol(plateau_tol)
    nthreads = numba.get_num_threads() if threads is None else as_int(threads, "threads", 1)
    arrs, n = _init(w, runs, init, init_scale, seed)
    thetas = np.ascontiguousarray(np.concatenate([a.reshape(n, -1) for a in arrs], axis=1))
    try:
        basis = mode_basis(m)
    except SingularInputError:
        basis = None
    q = 0 if basis is None else basis.values.size
    uq = np.zeros((m.dy, 0)) if basis is None else np.ascontiguousarray(basis.u[:, :q])
    pq = np.zeros((m.dx, 0)) if basis is None else basis.pq
    out = (
        np.full((n, nrec), np.nan),
        np.full((n, nrec), np.nan),
        np.zeros((n, nrec)),
        np.zeros((n, nrec, q)),
    )
    status = np.zeros((n, 2), dtype=np.int64)
    widths_arr = np.array(w, dtype=np.int64)
    block = max(1, min(MAX_BLOCK, -(-n // nthreads)))
    old = numba.get_num_threads()
    try:
        limit = int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]
        numba.set_num_threads(min(nthreads, limit))
        _kb.gd_blocks(
            thetas, block, widths_arr, m.sxx, m.syx, m.trace_syy, mu, lr, steps, every, uq, pq,
            out, status,
        )  # fmt: skip
    finally:
        numba.set_num_threads(old)
    loss, gn, wn, proj = out
    got, div = status[:, 0], status[:, 1].copy()
    rec_steps = np.append(np.arange(0, steps, every), steps).astype(np.int64)
    bad = np.flatnonzero(div >= 0)
    if bad.size:
        warn_divergence(
            f"gradient descent ({bad.size} of {n} runs, first run {bad[0]})", int(div[bad[0]]), lr
        )
    plateaus = None
    if basis is not None and mu == 0.0:
        info = FamilyInfo(m, w)
        plateaus = tuple(
            find_plateaus(
                rec_steps[: got[r]],
                loss[r, : got[r]],
                proj[r, : got[r]],
                wn[r, : got[r]],
                basis,
                info,
                plateau_tol,
            )
            for r in range(n)
        )
    weights, o = [], 0
    for k in range(len(w) - 1):
        size = w[k + 1] * w[k]
        weights.append(thetas[:, o : o + size].reshape(n, w[k + 1], w[k]).copy())
        o += size
    return ManyRuns(rec_steps, loss, gn, weights, div, plateaus, lr, mu)
