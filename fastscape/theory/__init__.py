"""Closed forms (docs/theory.md): critical values, index and nullity laws, and counts.

``fastscape.theory.laws`` holds per-point formulas (loss, Morse index, nullity,
weight-decay critical points); ``fastscape.theory.counting`` counts and aggregates
over all index sets without enumerating them (Gaussian binomials, loss histograms
by dynamic programming, best-first lowest critical values); ``fastscape.theory.dynamics``
the closed-form learning curves of gradient flow and the weight-decay growth threshold.
"""

from __future__ import annotations

from .counting import *  # noqa: F403
from .counting import __all__ as _counting_all
from .dynamics import *  # noqa: F403
from .dynamics import __all__ as _dynamics_all
from .laws import *  # noqa: F403
from .laws import __all__ as _laws_all
from .topology import *  # noqa: F403
from .topology import __all__ as _topology_all

__all__ = list(_laws_all) + list(_counting_all) + list(_topology_all) + list(_dynamics_all)
