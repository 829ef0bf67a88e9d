"""Type aliases of the public layer (a leaf module; for annotations only).

``Weights`` is a weight list [W_1, ..., W_H] (W_k of shape (d_k, d_(k-1)), W_1 acts
first); ``Widths`` the layer widths (d_0, ..., d_H); ``IndexSet`` 0-based positions
into Sigma's descending spectrum; ``Ranks`` the set sizes to enumerate ("all", "full"
or one int); ``Seed`` anything ``numpy.random.default_rng`` takes.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

import numpy as np
from numpy.typing import ArrayLike

Weights = Sequence[ArrayLike]
Widths = Sequence[int]
IndexSet = Iterable[int]
Ranks = str | int
Seed = (
    None
    | int
    | Sequence[int]
    | np.random.SeedSequence
    | np.random.BitGenerator
    | np.random.Generator
)
PathLike = str | os.PathLike[str]

__all__ = ["ArrayLike", "IndexSet", "PathLike", "Ranks", "Seed", "Weights", "Widths"]
