"""Input checking shared by the public layer: clear ValueError/TypeError, never a Numba error."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np


def as_matrix(a, name: str, *, ndim: int = 2) -> np.ndarray:
    """Convert ``a`` to a C-contiguous float64 array of ``ndim`` dimensions, all finite."""
    if isinstance(a, (str, bytes)):
        raise TypeError(
            f"{name} must be a numeric array, got a string {a!r:.40}; pass numbers, e.g. "
            f"np.asarray({name}, dtype=float) of the right shape"
        )
    if hasattr(a, "detach") and hasattr(a, "cpu") and hasattr(a, "numpy"):  # torch tensor
        a = a.detach().cpu().numpy()
    try:
        arr = np.asarray(a)  # also JAX arrays and anything with __array__
    except Exception as exc:  # ragged nested lists and the like
        raise TypeError(
            f"{name} could not be read as a numeric array ({exc}); pass a rectangular "
            "numpy array of numbers"
        ) from None
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)
    ):
        raise TypeError(
            f"{name} must hold real numbers, got dtype {arr.dtype}; "
            f"convert it with np.asarray({name}, dtype=float)"
        )
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must be real, got complex dtype {arr.dtype}; take .real first")
    if arr.ndim != ndim:
        if ndim == 2 and arr.ndim < 2:
            hint = f"; for a single column use {name}.reshape(-1, 1), for a row .reshape(1, -1)"
        elif ndim == 1:
            hint = f"; flatten it with np.ravel({name})"
        else:
            hint = f"; reshape it to {ndim} dimensions"
        raise ValueError(f"{name} must be {ndim}-D, got shape {arr.shape}{hint}")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(
            f"{name} contains NaN or inf (first at index {tuple(int(i) for i in bad)}); "
            "remove or impute those values first"
        )
    return arr


def as_weights(weights, *, residual: bool = False, name: str = "weights") -> list[np.ndarray]:
    """Validate a weight list [W_1, ..., W_H] and return float64 C-ordered copies-or-views."""
    if (
        isinstance(weights, np.ndarray)
        or not isinstance(weights, Sequence)
        or isinstance(weights, (str, bytes))
    ):
        raise TypeError(
            f"{name} must be a list [W_1, ..., W_H] of 2-D arrays (W_1 acts first), "
            f"got {type(weights).__name__}; wrap a single matrix as [W]"
        )
    if len(weights) == 0:
        raise ValueError(f"{name} is empty: give at least one layer, e.g. [W_1]")
    ws = [as_matrix(w, f"{name}[{k}]") for k, w in enumerate(weights)]
    for k, w in enumerate(ws):
        if 0 in w.shape:
            raise ValueError(
                f"{name}[{k}] has shape {w.shape}: every width must be at least 1; "
                "remove empty layers"
            )
    for k in range(1, len(ws)):
        if ws[k].shape[1] != ws[k - 1].shape[0]:
            raise ValueError(
                f"{name}[{k}] has shape {ws[k].shape} but {name}[{k - 1}] has shape "
                f"{ws[k - 1].shape}: W_k must have shape (d_k, d_(k-1)), so {name}[{k}] needs "
                f"{ws[k - 1].shape[0]} columns"
            )
    if residual:
        for k, w in enumerate(ws):
            if w.shape[0] != w.shape[1]:
                raise ValueError(
                    f"residual=True needs square layers (I + W_k), but {name}[{k}] has shape "
                    f"{w.shape}; use residual=False or equal widths"
                )
    return ws


def as_widths(widths, *, name: str = "widths", min_len: int = 2) -> tuple[int, ...]:
    """Validate a width list (d_0, ..., d_H) of positive integers."""
    if isinstance(widths, (str, bytes)) or not isinstance(widths, (Sequence, np.ndarray)):
        raise TypeError(f"{name} must be a sequence of positive integers like [dx, p, dy]")
    out = []
    for i, w in enumerate(widths):
        if isinstance(w, bool) or not isinstance(w, (numbers.Integral, np.integer)):
            raise TypeError(f"{name}[{i}] must be an integer, got {w!r}")
        if w < 1:
            raise ValueError(f"{name}[{i}] = {w}: every width must be at least 1")
        out.append(int(w))
    if len(out) < min_len:
        raise ValueError(f"{name} needs at least {min_len} entries (d_0, ..., d_H), got {len(out)}")
    return tuple(out)


def as_weight_decay(weight_decay) -> float:
    """A finite, non-negative float."""
    if isinstance(weight_decay, bool) or not isinstance(weight_decay, numbers.Real):
        raise TypeError(
            f"weight_decay must be a real number, got {weight_decay!r}; "
            "pass a float such as weight_decay=0.01 (0.0 for none)"
        )
    mu = float(weight_decay)
    if not np.isfinite(mu) or mu < 0:
        raise ValueError(
            f"weight_decay must be finite and >= 0, got {weight_decay!r}; "
            "use weight_decay=0.0 for no penalty or a positive value"
        )
    return mu


def as_flag(value, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}; pass {name}=True or False")
    return bool(value)


def as_int(value, name: str, minimum: int = 0, hint: str = "") -> int:
    """``value`` as a Python int >= ``minimum`` (bools and floats refused), else ValueError."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (numbers.Integral, np.integer))
        or value < minimum
    ):
        raise ValueError(f"{name} must be an integer >= {minimum}{hint}, got {value!r}")
    return int(value)
