"""Routes of ``fastscape.classify`` that live above it: a registry, so imports point down.

``fastscape.inertia.classify`` looks up its matrix-free route here; the module that
implements it (``fastscape.spectra_classify``, which needs the rank rule of
``fastscape.deep`` and so sits above ``fastscape.inertia``) registers itself when
imported, which ``import fastscape`` always does.
"""

from __future__ import annotations

from collections.abc import Callable

METHODS = ("auto", "dense", "matrix-free")
ROUTES: dict[str, Callable] = {}


def register(method: str, fn: Callable) -> None:
    """Make ``fn`` the handler of classify(..., method=method)."""
    ROUTES[method] = fn


def route(method: str) -> Callable:
    """The registered handler, or a RuntimeError naming the module to import."""
    if method not in ROUTES:
        raise RuntimeError(
            f"no handler for classify(method={method!r}); import fastscape.spectra_classify"
        )
    return ROUTES[method]


def check_method(method) -> str:
    """``method`` if it is one of METHODS, else a ValueError saying what to pass."""
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(
            f"method must be one of {METHODS}, got {method!r}: 'dense' forms the Hessian "
            "(exact inertia), 'matrix-free' uses Hessian-vector products, 'auto' picks by cost"
        )
    return method


#: Seconds per N^3 of the dense route (Hessian fill + tridiagonal reductions), measured
#: on a shared 2-core machine (1.1e-10 at N = 576, 1296, 2304 for a generic point).
DENSE_SECONDS_PER_N3 = 1.1e-10
#: "auto" takes the dense route only below this estimated time (seconds).
DENSE_TIME_LIMIT = 60.0


def dense_seconds(n: int) -> float:
    """Estimated seconds of the dense route for N parameters."""
    return DENSE_SECONDS_PER_N3 * float(n) ** 3


#: Without an explicit ``progress=``, the dense route shows its progress (on stderr)
#: when estimated at more than this many seconds.
PROGRESS_SECONDS = 10.0
