"""CriticalPointSet: many points of one network, measured beside their closed forms."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._tolerance import loss_tolerance, relative_tol
from ._types import ArrayLike, IndexSet, Weights
from ._validate import as_flag, as_weight_decay
from .inertia import KINDS, assess, global_min_reference, prepare_point
from .moments import Moments, as_moments
from .network import unflatten

__all__ = ["CriticalPointSet"]


def _col(values, n, dtype, fill):
    if values is None:
        return np.full(n, fill, dtype=dtype)
    a = np.asarray(values, dtype=dtype).ravel()
    if a.size != n:
        raise ValueError(f"a prediction column has {a.size} entries for {n} points")
    return a


@dataclass(frozen=True, eq=False)
class CriticalPointSet:
    """Critical points with measured (Hessian) and predicted (closed-form) columns.

    Columns are arrays of equal length: ``rank`` (|S|), ``loss``, ``morse_index``,
    ``nullity``, ``kind``, ``grad_norm``, ``min_eigenvalue`` (measured from the full
    Hessian; with ``verify=False`` they are -1 / NaN, ``loss`` is the prediction and
    ``kind`` comes from the predictions), ``predicted_loss``, ``predicted_morse_index``,
    ``predicted_nullity`` (closed forms; -1 / NaN where none applies) and
    ``representative``; ``index_sets`` is a tuple of tuples. Scalars: ``widths``,
    ``weight_decay``, ``global_min_loss`` (the value kinds were judged against),
    ``residual``. ``thetas`` holds the flat parameter vectors, one row per point
    (``weights(i)`` unflattens row i). ``disagreements`` holds one readable line per
    point where the Hessian and the closed form disagree, or the point is not
    critical. Build one from your own points with :meth:`from_points`.

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.eye(2), np.diag([2.0, 1.0]), np.eye(2) * 3)
    >>> cps = fastscape.critical_points(m, [2, 1, 2])
    >>> len(cps), cps.index_sets, list(cps.kind)
    (3, ((), (0,), (1,)), ['strict_saddle', 'global_min', 'strict_saddle'])
    >>> [w.shape for w in cps.weights(1)]
    [(1, 2), (2, 1)]
    """

    index_sets: tuple
    rank: np.ndarray
    loss: np.ndarray
    morse_index: np.ndarray
    nullity: np.ndarray
    kind: np.ndarray
    grad_norm: np.ndarray
    min_eigenvalue: np.ndarray
    predicted_loss: np.ndarray
    predicted_morse_index: np.ndarray
    predicted_nullity: np.ndarray
    representative: np.ndarray
    widths: tuple
    weight_decay: float
    global_min_loss: float
    disagreements: tuple
    residual: bool = False
    thetas: np.ndarray | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.index_sets)

    @property
    def predicted_index(self) -> np.ndarray:
        """Deprecated name of :attr:`predicted_morse_index` (removed in the next release)."""
        warnings.warn(
            "CriticalPointSet.predicted_index is deprecated: use predicted_morse_index",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.predicted_morse_index

    def weights(self, i: int) -> list[np.ndarray]:
        """The weights [W_1, ..., W_H] of point i (copies)."""
        if self.thetas is None:
            raise ValueError("this CriticalPointSet holds no parameter vectors (thetas=None)")
        return [x.copy() for x in unflatten(self.thetas[int(i)], self.widths)]

    def counts(self) -> dict:
        """Number of points of each kind."""
        return {k: int(np.sum(self.kind == k)) for k in KINDS if np.any(self.kind == k)}

    def to_text(self, max_rows: int | None = 40) -> str:
        """A readable table, one line per point (the first ``max_rows``)."""
        head = (
            f"{'S':<18} {'rank':>4} {'loss':>11} {'index':>9} {'nullity':>9} "
            f"{'min eig':>10} {'|grad|':>8}  kind"
        )
        lines = [
            f"critical points of widths {list(self.widths)}, weight_decay={self.weight_decay:g}, "
            f"global min loss {self.global_min_loss:.6g}: {len(self)} points {self.counts()}",
            head,
        ]
        n = len(self) if max_rows is None else min(len(self), max_rows)
        for i in range(n):
            pi, pn = self.predicted_morse_index[i], self.predicted_nullity[i]
            idx = f"{self.morse_index[i]}" + (f"({pi})" if pi >= 0 else "")
            nul = f"{self.nullity[i]}" + (f"({pn})" if pn >= 0 else "")
            lines.append(
                f"{str(self.index_sets[i]):<18} {self.rank[i]:>4} {self.loss[i]:>11.6g} "
                f"{idx:>9} {nul:>9} {self.min_eigenvalue[i]:>10.3g} {self.grad_norm[i]:>8.1e}  "
                f"{self.kind[i]}"
            )
        if n < len(self):
            lines.append(f"... {len(self) - n} more")
        lines.append(f"disagreements with the closed form: {len(self.disagreements)}")
        lines.extend("  " + d for d in self.disagreements[:20])
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()

    @classmethod
    def from_points(
        cls,
        points: Sequence[Weights],
        moments: Moments,
        *,
        index_sets: Sequence[IndexSet],
        predicted_loss: ArrayLike | None = None,
        predicted_morse_index: ArrayLike | None = None,
        predicted_nullity: ArrayLike | None = None,
        representative: str | Sequence[str] = "canonical",
        residual: bool = False,
        weight_decay: float = 0.0,
        tol: float | None = None,
        threads: int | None = None,
        verify: bool = True,
        global_min_loss: float | None = None,
        predicted_index: ArrayLike | None = None,
    ) -> CriticalPointSet:
        """Verify a list of points of one network and wrap them with their metadata.

        Parameters
        ----------
        points : list of weight lists
            [W_1, ..., W_H] per point, all of the same widths (any depth).
        index_sets : sequence of tuples
            The index set S of each point (its ``rank`` is ``len(S)``).
        predicted_loss, predicted_morse_index, predicted_nullity : array_like, optional
            Closed forms (NaN / -1 where none applies). ``predicted_index`` is the
            deprecated spelling of ``predicted_morse_index``.
        representative : str or sequence of str
        verify : bool
            False skips the Hessians: measured columns become NaN / -1 and ``kind``
            comes from the predictions (index > 0 strict saddle, else global minimum
            or non-strict saddle by the predicted loss).
        global_min_loss : float, optional
            Default: :func:`global_min_loss` of the data and widths.

        Examples
        --------
        >>> import numpy as np, fastscape
        >>> m = fastscape.Moments(np.eye(2), np.diag([2.0, 1.0]), np.eye(2) * 3)
        >>> pts = [[np.array([[2.0, 0.0]]), np.array([[1.0], [0.0]])]]
        >>> s = fastscape.CriticalPointSet.from_points(pts, m, index_sets=[(0,)],
        ...                                            predicted_morse_index=[0])
        >>> str(s.kind[0]), int(s.morse_index[0]), len(s.disagreements)
        ('global_min', 0, 0)
        """
        residual = as_flag(residual, "residual")
        mu = as_weight_decay(weight_decay)
        m = as_moments(moments)
        if len(points) == 0:
            raise ValueError("points is empty: give at least one weight list")
        rows, widths = [], None
        for pt in points:
            _, ws, wd = prepare_point(pt, m, residual)
            if widths is not None and wd != widths:
                raise ValueError(f"all points need the same widths, got {widths} and {wd}")
            widths = wd
            rows.append(np.concatenate([x.ravel() for x in ws]))
        assert widths is not None  # points is not empty
        batch = PointBatch(
            np.array(rows),
            widths,
            m,
            [tuple(int(i) for i in s) for s in index_sets],
            residual=residual,
            weight_decay=mu,
        )
        if predicted_index is not None:
            if predicted_morse_index is not None:
                raise ValueError("pass predicted_morse_index only (predicted_index: old name)")
            warnings.warn(
                "from_points(predicted_index=) is deprecated: pass predicted_morse_index=",
                DeprecationWarning,
                stacklevel=2,
            )
            predicted_morse_index = predicted_index
        predicted = Predictions(
            predicted_loss, predicted_morse_index, predicted_nullity, representative
        )
        return build_point_set(
            batch,
            predicted,
            verify=verify,
            tol=tol,
            threads=threads,
            global_min_loss=global_min_loss,
        )


@dataclass(frozen=True, eq=False)
class PointBatch:
    """Flat points of one network (rows of ``thetas``) and their index sets.

    ``basis`` (an orthogonal dy x dy matrix, plain networks only): verify the points in
    the output coordinates basis^T y, where their Hessians may split into blocks.
    """

    thetas: np.ndarray
    widths: tuple
    moments: Moments
    index_sets: list
    residual: bool = False
    weight_decay: float = 0.0
    basis: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class Predictions:
    """Closed-form columns of a :class:`PointBatch` (None: no law applies)."""

    loss: Any = None
    morse_index: Any = None
    nullity: Any = None
    representative: str | Sequence[str] = "canonical"


def build_point_set(
    batch: PointBatch,
    predicted: Predictions,
    *,
    verify: bool,
    tol: float | None,
    threads: int | None,
    global_min_loss: float | None = None,
) -> CriticalPointSet:
    """Verify (or, with ``verify=False``, classify by the predictions) and wrap a batch.

    ``global_min_loss`` given by the caller is taken as the exact global value; by
    default it is :func:`fastscape.global_min_loss` of the data and widths.
    """
    thetas, widths, m = batch.thetas, batch.widths, batch.moments
    residual, mu, index_sets = batch.residual, batch.weight_decay, batch.index_sets
    gmin = global_min_loss
    p_loss, p_index, p_null = predicted.loss, predicted.morse_index, predicted.nullity
    rep = predicted.representative
    n = thetas.shape[0]
    if len(index_sets) != n:
        raise ValueError(f"index_sets has {len(index_sets)} entries for {n} points")
    p_loss = _col(p_loss, n, float, np.nan)
    p_index = _col(p_index, n, np.int64, -1)
    p_null = _col(p_null, n, np.int64, -1)
    reps = np.array([rep] * n if isinstance(rep, str) else list(rep), dtype=object)
    exact = True  # a value given by the caller is taken as the global one
    if gmin is None:
        gmin, exact = global_min_reference(m, widths, residual, mu)
    rtol = relative_tol(tol)
    if verify:
        a = assess(
            thetas,
            widths,
            m,
            residual=residual,
            weight_decay=mu,
            global_min=gmin,
            exact=exact,
            tol=tol,
            threads=threads,
            basis=batch.basis,
        )
        loss, gn, mine, neg, null = a.loss, a.grad_norm, a.min_eigenvalue, a.morse_index, a.nullity
        kind, l_tol, gmin = a.kind, a.loss_tol, a.global_min_loss
    else:
        if np.any(p_index < 0) or np.any(np.isnan(p_loss)):
            raise ValueError(
                "verify=False needs predicted_loss and predicted_morse_index everywhere"
            )
        loss, gn, mine = p_loss.copy(), np.full(n, np.nan), np.full(n, np.nan)
        neg, null = np.full(n, -1), np.full(n, -1)
        l_tol = loss_tolerance(rtol, m, loss, gmin)
        at_min = np.abs(loss - gmin) <= l_tol
        kind = np.where(
            p_index > 0, "strict_saddle", np.where(at_min, "global_min", "non_strict_saddle")
        ).astype(object)
    dis = []
    if verify:
        suspect = (
            (kind == "not_critical")
            | ((p_index >= 0) & (p_index != neg))
            | ((p_null >= 0) & (p_null != null))
            | (np.isfinite(p_loss) & ~(np.abs(p_loss - loss) <= l_tol))
        )
        for i in np.flatnonzero(suspect):
            why = []
            if kind[i] == "not_critical":
                why.append(f"not critical (|grad| = {gn[i]:.2e})")
            if p_index[i] >= 0 and p_index[i] != neg[i]:
                why.append(f"index {neg[i]} != predicted {p_index[i]}")
            if p_null[i] >= 0 and p_null[i] != null[i]:
                why.append(f"nullity {null[i]} != predicted {p_null[i]}")
            if np.isfinite(p_loss[i]) and abs(p_loss[i] - loss[i]) > l_tol[i]:
                why.append(f"loss {loss[i]:.10g} != predicted {p_loss[i]:.10g}")
            if why:
                dis.append(f"S={index_sets[i]}: " + "; ".join(why))
    return CriticalPointSet(
        tuple(index_sets),
        np.array([len(s) for s in index_sets], dtype=np.int64),
        np.asarray(loss, float),
        np.asarray(neg, np.int64),
        np.asarray(null, np.int64),
        np.asarray(kind, dtype=object),
        np.asarray(gn, float),
        np.asarray(mine, float),
        p_loss,
        p_index,
        p_null,
        reps,
        tuple(int(x) for x in widths),
        float(mu),
        float(gmin),
        tuple(dis),
        bool(residual),
        thetas,
    )
