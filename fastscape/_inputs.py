"""The input check every layer above the kernels shares (a leaf module)."""

from __future__ import annotations

import numpy as np

from ._validate import as_flag, as_weight_decay, as_weights
from .moments import as_moments

__all__ = ["prepare_inputs"]


def prepare_inputs(weights, moments, residual=False, weight_decay=0.0):
    """Checked float64 inputs for the kernels: (theta, widths, moments, residual, mu).

    The one check every layer above shares: weights, flags, weight decay and moments,
    and that W_1 and W_H fit the data. ValueError/TypeError with the fix on bad input.
    """
    residual = as_flag(residual, "residual")
    ws = as_weights(weights, residual=residual)
    mu = as_weight_decay(weight_decay)
    moments = as_moments(moments)
    if ws[0].shape[1] != moments.dx:
        raise ValueError(
            f"weights[0] has {ws[0].shape[1]} columns but the data have dx = {moments.dx} "
            f"inputs: W_1 must have shape (d_1, {moments.dx})"
        )
    if ws[-1].shape[0] != moments.dy:
        raise ValueError(
            f"weights[-1] has {ws[-1].shape[0]} rows but the data have dy = {moments.dy} "
            f"outputs: W_H must have shape ({moments.dy}, d_(H-1))"
        )
    widths = np.array([ws[0].shape[1]] + [w.shape[0] for w in ws], dtype=np.int64)
    theta = np.concatenate([w.ravel() for w in ws])
    return theta, widths, moments, residual, mu
