"""Weights in and out of PyTorch (optional extra: pip install 'fastscape-dln[torch]').

A linear network in PyTorch is a chain of bias-free ``nn.Linear`` layers; its weight
``layer.weight`` has shape (out_features, in_features), exactly fastscape's W_k of
shape (d_k, d_(k-1)), with the first layer acting first. Torch tensors (and JAX
arrays) are also accepted directly wherever fastscape takes an array.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._types import Weights
from ._validate import as_weights

__all__ = ["from_torch", "to_torch"]


def _torch():
    try:
        import torch
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            "fastscape.from_torch / to_torch need PyTorch: pip install 'fastscape-dln[torch]'"
        ) from None
    return torch


def from_torch(module: Any) -> list[np.ndarray]:
    """The weights [W_1, ..., W_H] of a PyTorch linear network, as float64 numpy arrays.

    Parameters
    ----------
    module : torch.nn.Module
        An ``nn.Sequential`` (or any module) whose leaf layers are bias-free
        ``nn.Linear`` layers in the order they are applied; ``nn.Identity`` and
        ``nn.Flatten`` leaves are skipped. A bias, an activation or any other layer
        type is a ValueError naming the first such layer.

    Returns
    -------
    list of ndarray

    Examples
    --------
    >>> import torch, fastscape
    >>> net = torch.nn.Sequential(torch.nn.Linear(3, 2, bias=False),
    ...                           torch.nn.Linear(2, 4, bias=False))
    >>> [w.shape for w in fastscape.from_torch(net)]
    [(2, 3), (4, 2)]
    """
    torch = _torch()
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"from_torch needs a torch.nn.Module, got {type(module).__name__}")
    skip = (torch.nn.Identity, torch.nn.Flatten)
    weights = []
    for name, layer in module.named_modules():
        if len(list(layer.children())) > 0 or isinstance(layer, skip):
            continue  # containers and no-ops
        label = name or type(layer).__name__
        if not isinstance(layer, torch.nn.Linear):
            raise ValueError(
                f"layer {label!r} is a {type(layer).__name__}: fastscape models linear networks, "
                "so every layer must be a bias-free nn.Linear (no activations or other layers)"
            )
        if layer.bias is not None:
            raise ValueError(
                f"layer {label!r} (nn.Linear) has a bias: build it with bias=False, or fold "
                "the bias into an extra constant input column"
            )
        weights.append(layer.weight.detach().cpu().to(torch.float64).numpy().copy())
    if not weights:
        raise ValueError("the module has no nn.Linear layers")
    return as_weights(weights)


def to_torch(weights: Weights) -> Any:
    """A float64 ``nn.Sequential`` of bias-free ``nn.Linear`` layers holding the weights.

    Parameters
    ----------
    weights : list of array_like
        [W_1, ..., W_H], W_k of shape (d_k, d_(k-1)).

    Returns
    -------
    torch.nn.Sequential

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> net = fastscape.to_torch([np.ones((2, 3)), np.ones((1, 2))])
    >>> net
    Sequential(
      (0): Linear(in_features=3, out_features=2, bias=False)
      (1): Linear(in_features=2, out_features=1, bias=False)
    )
    >>> net[0].weight.dtype
    torch.float64
    """
    torch = _torch()
    ws = as_weights(weights)
    layers = []
    for w in ws:
        lin = torch.nn.Linear(w.shape[1], w.shape[0], bias=False, dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(w.copy()))
        layers.append(lin)
    return torch.nn.Sequential(*layers)
