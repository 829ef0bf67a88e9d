"""Closed forms (docs/theory.md): critical values, index and nullity laws, and counts.

``fastscape.theory.laws`` holds per-point formulas (loss, Morse index, nullity,
weight-decay critical points); ``fastscape.theory.counting`` counts and aggregates
over all index sets without enumerating them (Gaussian binomials, loss histograms
by dynamic programming, best-first lowest critical values).
"""

from __future__ import annotations

from .counting import *  # noqa: F403
from .counting import __all__ as _counting_all
from .laws import *  # noqa: F403
from .laws import __all__ as _laws_all

__all__ = list(_laws_all) + list(_counting_all)
