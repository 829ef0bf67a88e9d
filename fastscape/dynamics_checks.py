"""Argument checks and the divergence warning shared by the dynamics modules."""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from ._tolerance import relative_tol
from ._validate import as_int

__all__ = ["DivergenceWarning"]


class DivergenceWarning(UserWarning):
    """Gradient descent overflowed or produced NaN: the step size is too large.

    The run stops at the first non-finite loss or gradient; the result keeps the last
    finite weights and says at which step it stopped.

    Examples
    --------
    >>> import warnings, numpy as np, fastscape
    >>> m = fastscape.Moments(np.eye(2), np.diag([2.0, 1.0]), np.eye(2) * 3)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     tr = fastscape.gradient_descent([np.eye(2), np.eye(2)], m, lr=10.0, steps=100)
    >>> caught[0].category.__name__, tr.diverged_at is not None
    ('DivergenceWarning', True)
    """


def as_lr(lr) -> float:
    """A finite, positive step size."""
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real):
        raise TypeError(f"lr must be a real number such as lr=0.01, got {lr!r}")
    value = float(lr)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"lr must be finite and > 0, got {lr!r}; pass a step size such as 0.01")
    return value


def as_steps(steps, record_every) -> tuple[int, int, int]:
    """(steps, record_every, number of records): records at 0, every k steps and the last."""
    steps = as_int(steps, "steps", 1, " (the number of gradient steps)")
    every = as_int(record_every, "record_every", 1, " (record every k steps)")
    return steps, every, steps // every + 1 + (steps % every != 0)


def check_tol(tol, name: str = "tol") -> float:
    """A relative tolerance in (0, 1), required here (no default): see ``relative_tol``."""
    if tol is None:
        raise ValueError(f"{name} must be a relative tolerance in (0, 1), got None")
    return relative_tol(tol, name)


def warn_divergence(what: str, step: int, lr: float) -> None:
    warnings.warn(
        f"{what} diverged at step {step}: the loss or gradient overflowed or became NaN, so "
        f"the run stopped there (the result keeps the last finite weights). lr = {lr:g} is "
        f"too large for this problem: try a smaller one, e.g. lr={lr / 10:g}",
        DivergenceWarning,
        stacklevel=3,
    )
