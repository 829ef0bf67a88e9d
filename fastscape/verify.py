"""Per-point Hessian verification of an enumeration (``fastscape enumerate --verify hessian``).

Every index set S is built as its canonical critical point, its full Hessian
inertia is computed (in parallel, by :func:`fastscape.verify_index_sets`) and
compared with the closed forms: the loss, the Morse index ``inv(S) + (q-k)(p-k)``
the enumeration engine counts, and the nullity. Each point's N x N Hessian
(N = p (dx + dy)) is filled in Sigma's eigenbasis, split into its small blocks and
its inertia counted by tridiagonal reductions and Sturm counts (no eigenvectors; see
:mod:`fastscape.inertia`). Meant for q up to about 16: there are C(q, p) points.
"""

from __future__ import annotations

import itertools
import time

import numpy as np

from ._indexsets import resolve_ranks
from ._types import ArrayLike
from .engine import total_points
from .landscape import spectrum_of
from .moments import Moments
from .theory import counting
from .theory.laws import morse_index_distinct

__all__ = ["verify_hessian", "MAX_VERIFY_POINTS"]

#: Refuse larger verifications (each point costs one Hessian and its inertia).
MAX_VERIFY_POINTS = 200_000


def moments_of_spectrum(lam: ArrayLike) -> Moments:
    """Moments whose Sigma has eigenvalues ``lam``: Sxx = I, Syx = diag(sqrt(lam)),
    Syy = Syx Syx^T + I (so every loss is positive)."""
    lam = counting.as_spectrum(lam)
    syx = np.diag(np.sqrt(lam))
    return Moments(np.eye(lam.size), syx, syx @ syx.T + np.eye(lam.size))


def check_size(q: int, p: int, ranks: str = "full", *, all_ranks: bool | None = None) -> int:
    """Number of points to verify; ValueError if above :data:`MAX_VERIFY_POINTS`.

    ``ranks`` is "full" or "all" (a bool there, or ``all_ranks=``, is deprecated).
    """
    if isinstance(ranks, (bool, np.bool_)):
        ranks, all_ranks = "full", bool(ranks)
    ranks = resolve_ranks(ranks, all_ranks)
    n = total_points(q, p, ranks)
    if n > MAX_VERIFY_POINTS:
        raise ValueError(
            f"--verify hessian would check {n:,} points (one full Hessian each); it is meant "
            f"for q up to about 16 (at most {MAX_VERIFY_POINTS:,} points): drop --verify or "
            "use a smaller q or p"
        )
    return n


def verify_hessian(
    source: ArrayLike | Moments,
    p: int,
    *,
    ranks: str = "full",
    threads: int | None = None,
    batch: int = 2048,
    all_ranks: bool | None = None,
) -> dict:
    """Hessian inertia of every critical point against the closed form.

    Parameters
    ----------
    source : array_like (q,) or Moments
        A spectrum (verified on Sxx = I, Syx = diag(sqrt(lambda)), dx = dy = q) or data
        moments (verified on them).
    p : int
        Hidden width.
    ranks : {"full", "all"}
        |S| = p, or every |S| <= p (``all_ranks=`` is the deprecated spelling).
    threads : int, optional
        Threads for the Hessian verification.
    batch : int
        Points per call of :func:`fastscape.verify_index_sets`.

    Returns
    -------
    dict
        ``checked`` (points), ``disagreements`` (one line per disagreeing point),
        ``widths``, ``seconds``.

    Examples
    --------
    >>> from fastscape.verify import verify_hessian
    >>> r = verify_hessian([3.0, 2.0, 1.0], 2, ranks="all")
    >>> r["checked"], r["disagreements"]
    (7, [])
    """
    from .critical import verify_index_sets

    ranks = resolve_ranks(ranks, all_ranks)
    t0 = time.perf_counter()
    m = source if isinstance(source, Moments) else moments_of_spectrum(source)
    lam = spectrum_of(m)[0]
    q = lam.size
    counting.as_q_p(q, p, ranks)
    check_size(q, p, ranks)
    widths = [m.dx, int(p), m.dy]
    ks = range(min(p, q) + 1) if ranks == "all" else [p]
    sets = [s for k in ks for s in itertools.combinations(range(q), k)]
    bad: list[str] = []
    for i in range(0, len(sets), batch):
        part = sets[i : i + batch]
        r = verify_index_sets(m, widths, part, threads=threads)
        bad.extend(r.disagreements)
        for s, measured in zip(part, r.morse_index.tolist(), strict=True):
            law = morse_index_distinct(q, p, s)
            if measured != law:
                bad.append(f"S = {s}: Hessian index {measured}, engine's law {law}")
    return {
        "checked": len(sets),
        "disagreements": bad,
        "widths": widths,
        "seconds": round(time.perf_counter() - t0, 3),
    }
