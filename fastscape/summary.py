"""The result of a whole-landscape computation: :class:`LandscapeSummary`."""

from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path

import numpy as np

from ._types import PathLike
from .runstore import atomic_write, dumps_json
from .theory.counting import CriticalValue

LOSS_KIND_EXCESS = "excess over full-rank least squares: 1/2 sum of lambda_i not in S"
LOSS_KIND_ABSOLUTE = "absolute: 1/2 (tr Syy - sum of lambda_i in S)"
#: ``ranks`` -> the deprecated ``mode`` spelling (also the run manifest's).
_MODES = {"full": "full-rank", "all": "all-ranks"}


@dataclasses.dataclass(frozen=True)
class LandscapeSummary:
    """Aggregates over every two-layer critical point of a spectrum (docs/theory.md).

    Attributes
    ----------
    q, p : int
        Rank of Sigma and hidden width.
    ranks : str
        ``"full"`` (|S| = p) or ``"all"`` (every |S| = k <= p). (``mode``, with the
        values ``"full-rank"`` / ``"all-ranks"``, is its deprecated name; summary.json
        carries both keys for one release.)
    method : str
        ``"enumeration"`` (brute force, exact) or ``"closed form"`` (no enumeration;
        the histogram is then exact up to ``hist_error_bound``).
    loss_kind, loss_offset : str, float
        What the losses mean; loss = loss_offset + 1/2 sum_{i not in S} lambda_i.
    total, counted : int
        Number of critical points, and how many were aggregated (``complete`` iff equal).
    index_counts : tuple of int
        Entry m = number of points of Morse index m.
    hist_edges, hist_counts, hist_underflow, hist_overflow, hist_error_bound
        Loss histogram: bins [e_i, e_{i+1}) (the last closed), points below / above.
    lowest, highest : tuple of CriticalValue
        The n lowest / highest losses with index sets (0-based positions in the
        descending spectrum); ties broken by (k, ``theory.enumeration_rank``).
    threshold, count_below : float or None, int or None
        Number of points with loss strictly below ``threshold``.
    spectrum : ndarray
        The eigenvalues used (descending).
    chunking, timing : dict
        Chunk plan and progress; wall time, rate, threads, scheduler and reused chunks.
        ``timing`` varies between runs of the same problem and is ignored by ``==``.
        A partial summary (written when a run stops early) also differs in
        ``complete`` (False), ``counted`` (< ``total``), ``chunking["chunks_done"]``
        and in every aggregate, which then covers only the chunks done.

    Examples
    --------
    >>> import fastscape
    >>> s = fastscape.enumerate_landscape([3.0, 2.0, 1.0], 2, threshold=1.0)
    >>> s.total, s.index_counts, s.count_below, s.lowest[0].index_set
    (3, (1, 1, 1), 1, (0, 1))
    """

    q: int
    p: int
    ranks: str
    method: str
    loss_kind: str
    loss_offset: float
    total: int
    counted: int
    complete: bool
    index_counts: tuple
    hist_edges: np.ndarray
    hist_counts: tuple
    hist_underflow: int
    hist_overflow: int
    hist_error_bound: float
    lowest: tuple
    highest: tuple
    threshold: float | None
    count_below: int | None
    spectrum: np.ndarray
    chunking: dict
    timing: dict

    def to_json(self) -> dict:
        """A JSON-able dict: the content of ``summary.json``.

        Examples
        --------
        >>> import fastscape
        >>> s = fastscape.count_landscape([3.0, 2.0, 1.0], 1, n_lowest=1)
        >>> d = s.to_json()
        >>> d["index_counts"], d["lowest"][0]["index_set"], d["loss_kind"][:6]
        ([1, 1, 1], [0], 'excess')
        """

        def cv(v: CriticalValue) -> dict:
            return {
                "loss": v.loss,
                "index_set": list(v.index_set),
                "morse_index": v.morse_index,
                "index": v.morse_index,  # the deprecated key, for readers of older files
                "k": v.k,
            }

        return {
            "q": self.q,
            "p": self.p,
            "ranks": self.ranks,
            "mode": _MODES[self.ranks],  # the deprecated key, for readers of older files
            "method": self.method,
            "loss_kind": self.loss_kind,
            "loss_offset": self.loss_offset,
            "total": self.total,
            "counted": self.counted,
            "complete": self.complete,
            "index_counts": list(self.index_counts),
            "loss_histogram": {
                "edges": [float(e) for e in self.hist_edges],
                "counts": list(self.hist_counts),
                "underflow": self.hist_underflow,
                "overflow": self.hist_overflow,
                "error_bound": self.hist_error_bound,
            },
            "lowest": [cv(v) for v in self.lowest],
            "highest": [cv(v) for v in self.highest],
            "threshold": self.threshold,
            "count_below": self.count_below,
            "spectrum": [float(x) for x in self.spectrum],
            "chunking": dict(self.chunking),
            "timing": dict(self.timing),
        }

    @classmethod
    def from_json(cls, d: dict) -> LandscapeSummary:
        """Inverse of :meth:`to_json`."""

        def cv(x: dict) -> CriticalValue:
            index = x["morse_index"] if "morse_index" in x else x["index"]
            return CriticalValue(float(x["loss"]), tuple(x["index_set"]), index, x["k"])

        h = d["loss_histogram"]
        ranks = d["ranks"] if "ranks" in d else {v: k for k, v in _MODES.items()}[d["mode"]]
        return cls(
            q=d["q"],
            p=d["p"],
            ranks=ranks,
            method=d["method"],
            loss_kind=d["loss_kind"],
            loss_offset=d["loss_offset"],
            total=d["total"],
            counted=d["counted"],
            complete=d["complete"],
            index_counts=tuple(d["index_counts"]),
            hist_edges=np.asarray(h["edges"], dtype=np.float64),
            hist_counts=tuple(h["counts"]),
            hist_underflow=h["underflow"],
            hist_overflow=h["overflow"],
            hist_error_bound=h["error_bound"],
            lowest=tuple(cv(x) for x in d["lowest"]),
            highest=tuple(cv(x) for x in d["highest"]),
            threshold=d["threshold"],
            count_below=d["count_below"],
            spectrum=np.asarray(d["spectrum"], dtype=np.float64),
            chunking=dict(d["chunking"]),
            timing=dict(d["timing"]),
        )

    @property
    def mode(self) -> str:
        """Deprecated: ``"full-rank"`` or ``"all-ranks"``; use :attr:`ranks`."""
        warnings.warn(
            "LandscapeSummary.mode is deprecated: use .ranks ('full' or 'all')",
            DeprecationWarning,
            stacklevel=2,
        )
        return _MODES[self.ranks]

    def save(self, directory: PathLike) -> Path:
        """Write ``directory/summary.json`` atomically; return its path."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        atomic_write(d / "summary.json", dumps_json(self.to_json()))
        return d / "summary.json"

    @classmethod
    def load(cls, path: PathLike) -> LandscapeSummary:
        """Read a summary from a run directory or a ``summary.json`` file.

        Examples
        --------
        >>> import tempfile, fastscape
        >>> s = fastscape.count_landscape([3.0, 2.0, 1.0], 2)
        >>> with tempfile.TemporaryDirectory() as d:
        ...     _ = s.save(d)
        ...     fastscape.LandscapeSummary.load(d).index_counts
        (1, 1, 1)
        """
        path = Path(path)
        if path.is_dir():
            path = path / "summary.json"
        return cls.from_json(json.loads(path.read_text()))

    def __eq__(self, other) -> bool:
        """Equal results: every field but ``timing`` (wall time, rate, reuse) agrees."""
        if not isinstance(other, LandscapeSummary):
            return NotImplemented
        a, b = self.to_json(), other.to_json()
        a.pop("timing")
        b.pop("timing")
        return a == b

    __hash__ = None  # type: ignore[assignment]  # equal summaries are not hashable
