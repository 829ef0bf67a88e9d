"""Plain-text formatting shared by the command line and the progress reports (a leaf)."""

from __future__ import annotations

__all__ = ["duration"]


def duration(seconds: float) -> str:
    """A duration in s below 90 s, in min below 90 min, else in h.

    Examples
    --------
    >>> from fastscape._text import duration
    >>> duration(42.4), duration(360), duration(7200)
    ('42 s', '6 min', '2.0 h')
    """
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
