"""Shared pieces of the topology modules: the data of the minimum set, checks, invariants.

A leaf module of ``fastscape.topology`` and its helpers (``topology_paths``,
``topology_neb``); nothing here is part of the public API.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import as_weight_decay, as_weights, as_widths
from .critical import TIE_RTOL
from .derivatives import loss
from .inertia import global_min_loss
from .moments import Moments, as_moments
from .theory.laws import is_whitened

#: default relative tolerance for "this point is a global minimum" (as fastscape.classify)
MIN_RTOL = float(np.sqrt(np.finfo(float).eps))


@dataclass(frozen=True)
class MinimumSet:
    """What the set of global minima of (moments, widths) looks like (closed forms)."""

    moments: Moments
    widths: tuple[int, ...]
    values: np.ndarray  # the q positive eigenvalues of Sigma, descending
    vectors: np.ndarray  # (dy, q) their unit eigenvectors
    r: int  # rank of every global minimum, min(p, q)
    tied: bool  # lambda_r = lambda_(r+1) (within tie_tol), r < q
    tie_tol: float
    layers: tuple[int, ...]  # orientation layers: hidden i with d_i = r
    gmin: float  # the global minimum value
    weight_decay: float

    @property
    def frame(self) -> np.ndarray:
        """U_S for S = the top r: an orthonormal basis of col(W) at every global minimum."""
        return np.ascontiguousarray(self.vectors[:, : self.r])

    @property
    def depth(self) -> int:
        return len(self.widths) - 1


def check_widths(widths, m: Moments) -> tuple[int, ...]:
    w = as_widths(widths)
    if w[0] != m.dx or w[-1] != m.dy:
        raise ValueError(
            f"widths {list(w)} do not chain with the data: they must start with dx = {m.dx} "
            f"and end with dy = {m.dy}, e.g. [{m.dx}, p, {m.dy}]"
        )
    return w


def minimum_set(moments, widths, *, weight_decay=0.0) -> MinimumSet:
    """The data of the global minima for ``widths`` (checked against ``moments``)."""
    m = as_moments(moments)
    w = check_widths(widths, m)
    mu = as_weight_decay(weight_decay)
    q = m.rank()
    tie_tol = TIE_RTOL * m.scale
    if mu > 0:
        if len(w) != 3:
            raise ValueError(
                "with weight decay the components are known for two layers only "
                f"(widths [dx, p, dy]); got {len(w) - 1} layers: pass weight_decay=0.0 or "
                "two layers"
            )
        if not is_whitened(m.sxx):
            raise ValueError(
                "with weight decay the minimum set is known in closed form only for whitened "
                "inputs, Sxx = I: whiten X first (X @ Sxx^-1/2), or pass weight_decay=0.0"
            )
        u, sv, _ = np.linalg.svd(m.syx)
        k = int(np.sum(sv > mu + tie_tol))
        vals, vecs = sv[:k] ** 2, u[:, :k]  # Sigma = Syx Syx^T when Sxx = I
        r = min(w[1], k)
        tied = bool(0 < r < k and sv[r - 1] - sv[r] <= tie_tol)
    else:
        vals = np.asarray(m.spectrum().values[:q])
        vecs = np.asarray(m.spectrum().vectors[:, :q])
        r = min(min(w), q)
        tied = bool(0 < r < q and vals[r - 1] - vals[r] <= tie_tol)
    layers = tuple(i for i in range(1, len(w) - 1) if w[i] == r)
    gmin = global_min_loss(m, w, weight_decay=mu)
    return MinimumSet(m, w, vals, vecs, r, tied, tie_tol, layers, float(gmin), mu)


def loss_tol(ms: MinimumSet, value: float, rtol: float = MIN_RTOL) -> float:
    """|loss - min| <= this counts as "at the global minimum" (relative to the data)."""
    return rtol * max(ms.moments.trace_syy, abs(value), abs(ms.gmin), ms.moments.scale)


def check_minimum(weights, ms: MinimumSet, name: str) -> list[np.ndarray]:
    """``weights`` as float64 arrays, or a ValueError saying it is not a global minimum."""
    ws = [np.array(w, dtype=float) for w in as_weights(weights, name=name)]
    shapes = [(ms.widths[k + 1], ms.widths[k]) for k in range(ms.depth)]
    if [w.shape for w in ws] != shapes:
        raise ValueError(
            f"{name} has layer shapes {[w.shape for w in ws]} but widths {list(ms.widths)} need "
            f"{shapes}: pass weights of these widths"
        )
    value = loss(ws, ms.moments, weight_decay=ms.weight_decay)
    if value - ms.gmin > loss_tol(ms, value):
        raise ValueError(
            f"{name} is not a global minimum: its loss {value:.10g} exceeds the minimum "
            f"{ms.gmin:.10g} by {value - ms.gmin:.3g}; pass global minima, e.g. "
            "fastscape.deep_point(moments, widths, range(r)) (or canonical_point for two layers)"
        )
    return ws


def right_product(ws, i: int) -> np.ndarray:
    """R_i = W_H ... W_(i+1), shape (dy, d_i) (the identity for i = H)."""
    out = np.eye(ws[-1].shape[0])
    for w in reversed(ws[i:]):
        out = out @ w
    return out


def point_frame(ws, r: int) -> np.ndarray:
    """An orthonormal basis of col(W_H ... W_1), from its top r left singular vectors."""
    w = right_product(ws, 0)
    return np.linalg.svd(w)[0][:, :r]


def orientation_signs(ws, frame: np.ndarray, layers) -> tuple[int, ...]:
    """sign det(frame^T R_i) for every orientation layer i (0 where it is singular)."""
    out = []
    for i in layers:
        d = np.linalg.det(frame.T @ right_product(ws, i))
        out.append(int(np.sign(d)))
    return tuple(out)
