"""Shared test setup: hypothesis settings and random-problem strategies."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# The "compiling kernels" notice on stderr is tested on its own (test_kernel_cache.py);
# elsewhere it would make stderr depend on whether the cache was warm.
os.environ.setdefault("FASTSCAPE_COMPILE_NOTICE", "0")

#: Hypothesis settings for the derivative tests (applied per test, so the global
#: profile other tests see is untouched). FASTSCAPE_HYPOTHESIS_PROFILE=small (used by
#: scripts/coverage.sh, where Numba is disabled) keeps the example count low.
HYPOTHESIS_SMALL = os.environ.get("FASTSCAPE_HYPOTHESIS_PROFILE", "") == "small"
derivative_settings = settings(
    max_examples=6 if HYPOTHESIS_SMALL else 40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@dataclass(frozen=True)
class Problem:
    """A random network and data set: weights, raw data and the options."""

    weights: list
    X: np.ndarray
    Y: np.ndarray
    residual: bool
    mu: float
    scale: float  # magnitude of the data entries

    @property
    def widths(self) -> list[int]:
        return [self.weights[0].shape[1]] + [w.shape[0] for w in self.weights]


def make_problem(widths, *, residual=False, mu=0.0, n=12, rank=None, scale=1.0, wscale=1.0, seed=0):
    """Gaussian data (optionally of rank ``rank``) and Gaussian weights, all seeded."""
    rng = np.random.default_rng(seed)
    dx, dy = widths[0], widths[-1]
    if rank is None:
        Z = rng.standard_normal((n, dx))
    else:
        Z = rng.standard_normal((n, rank)) @ rng.standard_normal((rank, dx)) / np.sqrt(rank)
    Y = Z @ rng.standard_normal((dx, dy)) / np.sqrt(dx) + rng.standard_normal((n, dy))
    X = Z * scale
    Y = Y * scale
    ws = [
        rng.standard_normal((widths[k + 1], widths[k])) * wscale / np.sqrt(widths[k])
        for k in range(len(widths) - 1)
    ]
    return Problem(ws, X, Y, residual, mu, scale)


@st.composite
def problems(draw, max_depth=6, max_width=9):
    """Depth 1-6, widths 1-9 (dx != dy allowed), residual, weight decay, data of any rank."""
    depth = draw(st.integers(1, max_depth))
    residual = draw(st.booleans())
    if residual:
        widths = [draw(st.integers(1, max_width))] * (depth + 1)
    else:
        widths = draw(st.lists(st.integers(1, max_width), min_size=depth + 1, max_size=depth + 1))
    mu = draw(st.sampled_from([0.0, 0.0, 0.3, 2.5]))
    n = draw(st.integers(1, 25))
    deficient = draw(st.booleans())
    rank = draw(st.integers(1, widths[0] - 1)) if deficient and widths[0] > 1 else None
    scale = draw(st.sampled_from([1e-2, 1.0, 1.0, 30.0]))
    wscale = draw(st.sampled_from([0.1, 1.0, 1.7]))
    seed = draw(st.integers(0, 2**32 - 1))
    return make_problem(
        widths, residual=residual, mu=mu, n=n, rank=rank, scale=scale, wscale=wscale, seed=seed
    )
