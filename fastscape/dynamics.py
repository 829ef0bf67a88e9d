"""Gradient descent, gradient flow and SGD of a deep linear network, recorded as a Trajectory.

Full-batch descent works from the moments alone, so a step costs O(H d^3) whatever the
number of samples. The loops are compiled whole (``fastscape.kernels.dynamics``): one
call per run, not one per step. See docs/dynamics.md for the closed forms the runs
are checked against and for the plateau (saddle-to-saddle) analysis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ._inputs import prepare_inputs
from ._types import ArrayLike, Seed, Weights, Widths
from ._validate import as_int, as_matrix, as_widths
from .dynamics_checks import as_lr, as_steps, check_tol, warn_divergence
from .dynamics_plateaus import FamilyInfo, ModeBasis, Plateau, find_plateaus, mode_basis
from .kernels import dynamics as _k
from .moments import Moments, SingularInputError, as_moments
from .network import unflatten
from .theory.laws import is_whitened

__all__ = ["Trajectory", "balanced_start", "gradient_descent", "sgd"]


@dataclass(frozen=True, eq=False)
class Trajectory:
    """A recorded run of gradient descent, gradient flow or SGD.

    Records are taken at step 0, every ``record_every`` steps and at the last step.

    Attributes
    ----------
    steps : ndarray of int, shape (records,)
        Step numbers of the records (flow: the nominal step, time / lr).
    times : ndarray, shape (records,)
        Continuous time of each record: ``lr * steps`` (equal for GD, flow and SGD).
    loss, grad_norm : ndarray, shape (records,)
        Loss (with the weight-decay term) and |gradient| at each record (SGD: of the
        full data).
    products : ndarray, shape (records, dy, dx)
        The end-to-end map W at each record.
    modes : ndarray, shape (records, dy, dx), or None
        Mode coordinates U^T W Sxx^(1/2) V in Sigma's eigenbasis (U^T W V when Sxx = I;
        at the global minimum of full rank its diagonal holds sqrt(lambda_i)). None when
        Sxx is singular.
    weights : list of ndarray
        The last weights (the last finite ones if the run diverged).
    diverged_at : int or None
        Step at which the loss or gradient stopped being finite (the run stopped there).
    method : str
        "gd", "flow" or "sgd".
    lr, weight_decay : float
    residual : bool
    evaluations : int
        Gradient evaluations made.

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.eye(2), np.diag([2.0, 1.0]), np.eye(2) * 3)
    >>> ws = fastscape.random_weights([2, 2, 2], seed=0, scale=1e-3)
    >>> tr = fastscape.gradient_descent(ws, m, lr=0.05, steps=2000, record_every=500)
    >>> tr.steps, tr.loss.round(4)
    (array([   0,  500, 1000, 1500, 2000]), array([3. , 0.5, 0.5, 0.5, 0.5]))
    >>> tr.strengths[-1].round(4)
    array([2., 1.])
    """

    steps: np.ndarray
    times: np.ndarray
    loss: np.ndarray
    grad_norm: np.ndarray
    products: np.ndarray
    modes: np.ndarray | None
    weights: list
    diverged_at: int | None
    method: str
    lr: float
    weight_decay: float
    residual: bool
    evaluations: int

    @property
    def strengths(self) -> np.ndarray:
        """The diagonal of ``modes``, shape (records, min(dx, dy)): one strength per mode.

        Examples
        --------
        >>> import numpy as np, fastscape
        >>> m = fastscape.Moments(np.eye(2), np.diag([2.0, 1.0]), np.eye(2) * 3)
        >>> tr = fastscape.gradient_descent([np.eye(2), np.eye(2)], m, lr=0.1, steps=10)
        >>> tr.strengths.shape
        (11, 2)
        """
        if self.modes is None:
            raise ValueError("mode strengths need an invertible Sxx; this run has none")
        return np.ascontiguousarray(np.diagonal(self.modes, axis1=1, axis2=2))

    def plateaus(self, moments: Moments, *, tol: float = 0.05) -> tuple[Plateau, ...]:
        """The critical families the run passed near, in order, ending with the last one.

        A record is near the family S whose product W_S = U_S U_S^T Syx Sxx^-1 is closest
        to its product W (found in closed form, see ``fastscape.locate``) when
        |W - W_S|_F <= tol |W*|_F; consecutive near records of one family make a plateau.

        Parameters
        ----------
        moments : Moments
            The moments the run descended (needed for the families).
        tol : float
            Relative distance in (0, 1).

        Returns
        -------
        tuple of Plateau

        Examples
        --------
        >>> import numpy as np, fastscape
        >>> m = fastscape.Moments(np.eye(3), np.diag([3.0, 2.0, 1.0]), np.eye(3) * 5)
        >>> ws = fastscape.random_weights([3, 2, 3], seed=1, scale=1e-4)
        >>> tr = fastscape.gradient_descent(ws, m, lr=0.02, steps=1500, record_every=10)
        >>> [(pl.index_set, pl.critical_loss) for pl in tr.plateaus(m)]
        [((), 7.5), ((0,), 3.0), ((0, 1), 1.0)]
        """
        m = as_moments(moments)
        if self.weight_decay != 0.0 or self.residual:
            raise ValueError(
                "plateaus are defined for the plain loss (no weight decay, residual=False); "
                "this run used weight_decay or residual=True"
            )
        if self.products.shape[1:] != (m.dy, m.dx):
            raise ValueError(
                f"the run maps {self.products.shape[2]} inputs to {self.products.shape[1]} "
                f"outputs but the moments have dx = {m.dx}, dy = {m.dy}"
            )
        tol = check_tol(tol)
        basis = mode_basis(m)
        widths = (self.weights[0].shape[1],) + tuple(w.shape[0] for w in self.weights)
        q = basis.values.size
        c = np.einsum("ai,rab,bi->ri", basis.u[:, :q], self.products, basis.pq)
        wn = np.sum(self.products**2, axis=(1, 2))
        return find_plateaus(self.steps, self.loss, c, wn, basis, FamilyInfo(m, widths), tol)


def _basis_or_none(m: Moments) -> ModeBasis | None:
    try:
        return mode_basis(m)
    except SingularInputError:
        return None


def _modes(products, basis: ModeBasis | None):
    if basis is None:
        return None
    return np.einsum("ai,rab,bc,cj->rij", basis.u, products, basis.sqrt_sxx, basis.v)


def _prepare(weights, moments, residual, weight_decay):
    theta, widths, m, residual, mu = prepare_inputs(weights, moments, residual, weight_decay)
    ws = [w.copy() for w in unflatten(theta, widths)]  # not views: runs update theta in place
    return ws, m, widths, theta, residual, mu


def _unflatten(theta, widths):
    out, o = [], 0
    for k in range(len(widths) - 1):
        size = int(widths[k + 1] * widths[k])
        out.append(theta[o : o + size].reshape(int(widths[k + 1]), int(widths[k])).copy())
        o += size
    return out


def _record_buffers(nrec, dy, dx):
    return (
        np.zeros(nrec),
        np.zeros(nrec),
        np.zeros(nrec),
        np.zeros((nrec, 0)),
        np.zeros((nrec, dy * dx)),
        np.zeros(nrec, dtype=np.int64),
    )


def _trajectory(out, got, rec_steps, div, theta, widths, m, method, lr, mu, residual, evals):
    products = out[4][:got].reshape(got, m.dy, m.dx).copy()
    return Trajectory(
        steps=rec_steps,
        times=rec_steps * lr,
        loss=out[0][:got].copy(),
        grad_norm=out[1][:got].copy(),
        products=products,
        modes=_modes(products, _basis_or_none(m)),
        weights=_unflatten(theta, widths),
        diverged_at=None if div < 0 else int(div),
        method=method,
        lr=lr,
        weight_decay=mu,
        residual=residual,
        evaluations=int(evals),
    )


def gradient_descent(
    weights: Weights,
    moments: Moments,
    *,
    lr: float,
    steps: int,
    record_every: int = 1,
    residual: bool = False,
    weight_decay: float = 0.0,
    method: str = "gd",
    tol: float = 1e-9,
    atol: float | None = None,
) -> Trajectory:
    """Full-batch gradient descent (or gradient flow) on the loss of the moments.

    ``method="gd"``: W_k <- W_k - lr (dl/dW_k + mu W_k), ``steps`` times.
    ``method="flow"``: d theta/dt = -grad integrated by the embedded Dormand-Prince
    5(4) pair with local error control, over the same time span t = lr * steps, with
    records at the times lr * (recorded step); per step the error estimate satisfies
    max_i |err_i| / (atol + tol max(|theta_i|, |theta_i'|)) <= 1.

    Parameters
    ----------
    weights : list of array_like
        Starting [W_1, ..., W_H] (numpy, torch or JAX arrays); not modified.
    moments : Moments
    lr : float
        Step size (> 0); for the flow, the time unit of one nominal step.
    steps : int
        Number of steps (>= 1).
    record_every : int
        Record every this many steps (and at step 0 and the last step).
    residual : bool
        Factors I + W_k (square layers).
    weight_decay : float
        mu in mu/2 sum_k |W_k|_F^2.
    method : {"gd", "flow"}
    tol : float
        Flow only: relative local error tolerance per step, in (0, 1).
    atol : float, optional
        Flow only: absolute local error tolerance (default ``tol * 1e-6``).

    Returns
    -------
    Trajectory

    Warns
    -----
    DivergenceWarning
        If the loss or gradient overflows or becomes NaN; the run stops there and
        ``Trajectory.diverged_at`` says when.

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.eye(2), np.diag([2.0, 1.0]), np.eye(2) * 3)
    >>> ws = fastscape.random_weights([2, 2, 2], seed=0, scale=0.1)
    >>> gd = fastscape.gradient_descent(ws, m, lr=1e-3, steps=3000, record_every=1000)
    >>> fl = fastscape.gradient_descent(ws, m, lr=1e-3, steps=3000, record_every=1000,
    ...                                 method="flow")
    >>> fl.times, bool(np.abs(gd.loss - fl.loss).max() < 1e-3)
    (array([0., 1., 2., 3.]), True)
    """
    ws, m, widths, theta, residual, mu = _prepare(weights, moments, residual, weight_decay)
    lr = as_lr(lr)
    steps, every, nrec = as_steps(steps, record_every)
    if method not in ("gd", "flow"):
        raise ValueError(f"method must be 'gd' or 'flow', got {method!r}")
    dy, dx = m.dy, m.dx
    out = _record_buffers(nrec, dy, dx)
    none = np.zeros((dy, 0)), np.zeros((dx, 0))
    if method == "gd":
        got, div = _k.gd_run(
            theta, widths, m.sxx, m.syx, m.trace_syy, residual, mu, lr, steps, every, *none, out
        )
        rec_steps = out[5][:got].copy()
        evaluations = (steps + 1) if div < 0 else div + 1
    else:
        tol = check_tol(tol)
        atol = tol * 1e-6 if atol is None else float(atol)
        if not np.isfinite(atol) or atol < 0:
            raise ValueError(f"atol must be finite and >= 0, got {atol!r}")
        all_steps = np.append(np.arange(0, steps, every), steps).astype(np.int64)
        times = all_steps * lr
        counts = np.zeros(3, dtype=np.int64)
        flow_out = out[:5] + (counts,)
        got, div = _k.flow_run(
            theta, widths, m.sxx, m.syx, m.trace_syy, residual, mu, times, tol, atol,
            _k.DP_A, _k.DP_E, *none, flow_out,
        )  # fmt: skip
        rec_steps = all_steps[:got]
        div = int(all_steps[div]) if div >= 0 else -1
        evaluations = int(counts[2])
    if div >= 0:
        warn_divergence("gradient descent" if method == "gd" else "gradient flow", div, lr)
    return _trajectory(out, got, rec_steps, div, theta, widths, m, method, lr, mu, residual,
                       evaluations)  # fmt: skip


def sgd(
    weights: Weights,
    X: ArrayLike,
    Y: ArrayLike,
    *,
    lr: float,
    batch_size: int,
    epochs: int,
    seed: Seed = None,
    record_every: int = 1,
    weight_decay: float = 0.0,
) -> Trajectory:
    """Minibatch stochastic gradient descent on raw data, steps compiled.

    Each epoch shuffles the rows with a ``numpy.random.Generator`` seeded by ``seed``
    and walks through them in batches of ``batch_size`` (the last batch of an epoch
    may be smaller); each step descends the mean loss of its batch (plus weight
    decay). The records are those of :func:`gradient_descent`, for the full data.

    Parameters
    ----------
    weights : list of array_like
        Starting [W_1, ..., W_H].
    X : array_like, shape (n, dx)
    Y : array_like, shape (n, dy)
        Rows are samples (numpy, torch or JAX arrays).
    lr : float
    batch_size : int
        Rows per step, 1 <= batch_size <= n.
    epochs : int
        Passes over the data (>= 1).
    seed : int, numpy.random.Generator or None
        Anything ``numpy.random.default_rng`` accepts.
    record_every : int
        Record every this many steps (and at step 0 and the last step).
    weight_decay : float

    Returns
    -------
    Trajectory
        ``method == "sgd"``; ``steps`` counts minibatch steps.

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 3)); Y = X @ rng.standard_normal((3, 2))
    >>> ws = fastscape.random_weights([3, 2, 2], seed=1, scale=0.3)
    >>> tr = fastscape.sgd(ws, X, Y, lr=0.05, batch_size=20, epochs=30, seed=0,
    ...                    record_every=100)
    >>> int(tr.steps[-1]), bool(tr.loss[-1] < 1e-3 * tr.loss[0])
    (300, True)
    """
    X = as_matrix(X, "X")
    Y = as_matrix(Y, "Y")
    m = Moments.from_data(X, Y)  # checks the shapes
    n = X.shape[0]
    ws, m, widths, theta, _, mu = _prepare(weights, m, False, weight_decay)
    lr = as_lr(lr)
    batch = as_int(batch_size, "batch_size", 1, " (rows per step)")
    if batch > n:
        raise ValueError(f"batch_size = {batch} exceeds the {n} samples; pass at most {n}")
    epochs = as_int(epochs, "epochs", 1, " (passes over the data)")
    rng = np.random.default_rng(seed)
    order = np.concatenate([rng.permutation(n) for _ in range(epochs)]).astype(np.int64)
    per_epoch = np.append(np.arange(0, n, batch), n)
    bounds = np.concatenate([per_epoch[:-1] + e * n for e in range(epochs)] + [[epochs * n]])
    bounds = bounds.astype(np.int64)
    steps = bounds.size - 1
    steps, every, nrec = as_steps(steps, record_every)
    out = _record_buffers(nrec, m.dy, m.dx)
    none = np.zeros((m.dy, 0)), np.zeros((m.dx, 0))
    got, div = _k.sgd_run(
        theta, widths, X, Y, order, bounds, m.sxx, m.syx, m.trace_syy, mu, lr, every, *none, out
    )
    if div >= 0:
        warn_divergence("stochastic gradient descent", div, lr)
    rec_steps = out[5][:got].copy()
    evaluations = (steps if div < 0 else div) + got  # batch steps + full-data records
    return _trajectory(out, got, rec_steps, div, theta, widths, m, "sgd", lr, mu, False,
                       evaluations)  # fmt: skip


def balanced_start(
    moments: Moments, widths: Widths, strengths: ArrayLike, *, Q: Sequence[ArrayLike] | None = None
) -> list[np.ndarray]:
    """A decoupled, balanced start whose mode strengths are ``strengths`` (Sxx = I).

    With Syx = U diag(s) V^T, every layer is diagonal in the singular bases: W_1 =
    Q_1 [diag(a) V_r^T; 0], middle layers Q_k [diag(a) 0; 0 0] Q_(k-1)^T, W_H =
    [U_r diag(a) 0] Q_(H-1)^T, with a_i = u0_i^(1/H) and r = len(strengths). Gradient
    descent and flow keep such points decoupled and balanced, so each strength follows
    ``fastscape.theory.learning_curve``.

    Parameters
    ----------
    moments : Moments
        Whitened (Sxx = I), else ValueError.
    widths : sequence of int
        (dx, d_1, ..., dy).
    strengths : array_like
        Positive initial strengths u0_i, one per mode, at most min(widths) of them.
    Q : list of ndarray, optional
        Orthogonal (d_k, d_k) matrices for the hidden layers (default identities).

    Returns
    -------
    list of ndarray

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.eye(2), np.diag([2.0, 1.0]), np.eye(2) * 3)
    >>> ws = fastscape.balanced_start(m, [2, 2, 2, 2], [0.008, 0.001])
    >>> np.diag(fastscape.product(ws)).round(6)
    array([0.008, 0.001])
    """
    m = as_moments(moments)
    w = list(as_widths(widths, min_len=3))
    if len(w) < 3 or w[0] != m.dx or w[-1] != m.dy:
        raise ValueError(f"widths must be (dx = {m.dx}, d_1, ..., dy = {m.dy}), got {widths}")
    if not is_whitened(m.sxx):
        raise ValueError("balanced_start needs whitened inputs (Sxx = I)")
    u0 = as_matrix(strengths, "strengths", ndim=1)
    r = u0.size
    if r > min(w) or np.any(u0 <= 0):
        raise ValueError(f"strengths must be {min(w)} or fewer positive numbers, got {u0}")
    depth = len(w) - 1
    uu, _, vt = np.linalg.svd(m.syx)
    a = u0 ** (1.0 / depth)
    qs = [np.eye(x) for x in w[1:-1]] if Q is None else [np.asarray(x, float) for x in Q]
    out = []
    for k in range(depth):
        layer = np.zeros((w[k + 1], w[k]))
        if k == 0:
            layer[:r] = a[:, None] * vt[:r]
        elif k == depth - 1:
            layer[:, :r] = uu[:, :r] * a[None, :]
        else:
            layer[np.arange(r), np.arange(r)] = a
        if k > 0:
            layer = layer @ qs[k - 1].T
        if k < depth - 1:
            layer = qs[k] @ layer
        out.append(np.ascontiguousarray(layer))
    return out
