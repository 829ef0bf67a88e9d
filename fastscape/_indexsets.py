"""Index sets: checking, enumerating and padding them (a leaf module).

An index set S holds 0-based positions into the q positive eigenvalues of Sigma
(descending); the critical point of S has rank k = |S| <= p, the hidden width.
``ranks`` chooses the sizes everywhere in fastscape: ``"all"`` (every k <= min(p, q)),
``"full"`` (k = min(p, q), the highest rank there is) or an int k.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterable, Sequence

import numpy as np

RANKS = ("all", "full")


def check_set(s: Iterable[int], q: int, p: int) -> tuple[int, ...]:
    """S sorted as a tuple; TypeError / ValueError unless it is <= p distinct positions < q."""
    try:
        t = tuple(sorted(int(i) for i in s))
    except TypeError:
        raise TypeError(f"an index set must be a sequence of integers, got {s!r}") from None
    if len(set(t)) != len(t) or (t and (t[0] < 0 or t[-1] >= q)) or len(t) > p:
        raise ValueError(
            f"index set {t} must hold at most p = {p} distinct 0-based positions in "
            f"0..{q - 1} into the q = {q} positive eigenvalues of Sigma "
            "(Moments.spectrum().values, descending)"
        )
    return t


def rank_sizes(ranks: str | int, q: int, p: int) -> list[int]:
    """The set sizes k that ``ranks`` selects ("all", "full" or an int in 0..min(p, q))."""
    top = min(p, q)
    if isinstance(ranks, str) and ranks == "all":
        return list(range(top + 1))
    if isinstance(ranks, str) and ranks == "full":
        return [top]
    if isinstance(ranks, (int, np.integer)) and not isinstance(ranks, bool):
        if not 0 <= ranks <= top:
            raise ValueError(f"ranks = {ranks} must be in 0..min(p, q) = {top}")
        return [int(ranks)]
    raise ValueError(f"ranks must be 'all', 'full' or an int, got {ranks!r}")


def sets_of_ranks(ranks: str | int, q: int, p: int) -> list[tuple[int, ...]]:
    """Every index set of the sizes ``ranks`` selects, by size, then lexicographically."""
    return [s for k in rank_sizes(ranks, q, p) for s in itertools.combinations(range(q), k)]


def select_index_sets(
    ranks: str | int, index_sets: Iterable[Iterable[int]] | None, q: int, p: int
) -> list[tuple[int, ...]]:
    """The sets to build: all of the sizes ``ranks`` selects, or the given ones, checked."""
    if index_sets is None:
        return sets_of_ranks(ranks, q, p)
    sets = [check_set(s, q, p) for s in index_sets]
    if not sets:
        raise ValueError("index_sets is empty: give at least one, or None for all of them")
    return sets


def padded(sets: Sequence[Sequence[int]], p: int) -> np.ndarray:
    """Index sets as a (len(sets), p) int array, -1 after each set's last position."""
    out = np.full((len(sets), p), -1, dtype=np.int64)
    sizes = np.fromiter(map(len, sets), dtype=np.int64, count=len(sets))
    for k in np.unique(sizes[sizes > 0]):
        rows = np.flatnonzero(sizes == k)
        out[rows, :k] = np.array([sets[int(r)] for r in rows], dtype=np.int64)
    return out


def resolve_ranks(ranks: str, all_ranks: bool | None = None, *, stacklevel: int = 3) -> str:
    """``ranks`` ("full" or "all") for the whole-landscape functions, which take no int.

    ``all_ranks=`` is the deprecated spelling (True: "all", False: "full"); it warns
    (DeprecationWarning) and must not contradict an explicit ``ranks``.
    """
    if all_ranks is not None:
        if not isinstance(all_ranks, (bool, np.bool_)):
            raise TypeError(f"all_ranks must be True or False, got {all_ranks!r}")
        warnings.warn(
            "all_ranks= is deprecated and will be removed in the next release: pass "
            f"ranks={'all' if all_ranks else 'full'!r} instead",
            DeprecationWarning,
            stacklevel=stacklevel,
        )
        old = "all" if all_ranks else "full"
        if ranks not in ("full", old):
            raise ValueError(
                f"ranks={ranks!r} contradicts all_ranks={all_ranks!r}: pass ranks only"
            )
        return old
    if isinstance(ranks, str) and ranks in RANKS:
        return ranks
    raise ValueError(
        f"ranks must be 'full' (|S| = p) or 'all' (every |S| <= p) here, got {ranks!r} (a "
        "single size ranks=k is for critical_points)"
    )
