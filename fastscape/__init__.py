"""fastscape: the exact loss landscape of deep linear networks.

Numba kernels for the end-to-end product, loss, gradient, Hessian-vector product
and full Hessian; enumeration and classification of every critical point; and
streaming enumeration of billions of index sets.
"""

from __future__ import annotations

from .critical import (
    Classification,
    CriticalPointSet,
    TiedEigenvaluesWarning,
    Tolerances,
    canonical_point,
    classify,
    critical_points,
    global_min_loss,
    verify_index_sets,
)
from .deep import (
    RankPrediction,
    deep_critical_points,
    deep_point,
    partial_product_ranks,
    predict_kind,
)
from .derivatives import HessianTooLargeError, gradient, hessian, hvp, loss, product
from .dynamics import Trajectory, balanced_start, gradient_descent, sgd
from .dynamics_checks import DivergenceWarning
from .dynamics_many import ManyRuns, gradient_descent_many
from .dynamics_plateaus import Location, Plateau, locate
from .interop import from_torch, to_torch
from .landscape import count_landscape, enumerate_landscape, random_spectrum, spectrum_of
from .moments import Moments, SingularInputError, Spectrum
from .network import flatten, num_params, random_weights, unflatten, widths_of
from .residual import HardtMaResult, hardt_ma_experiment, residual_global_min, residual_moments
from .spectra import (
    BlockSpectrum,
    HessianDensity,
    hessian_block_spectrum,
    hessian_density,
    hessian_diagonal,
    hessian_frobenius,
    hessian_trace,
)
from .spectra_classify import MatrixFreeClassification
from .spectra_data import whitened_moments
from .spectra_lanczos import EigenvalueConvergenceWarning, HessianEigenvalues, hessian_eigenvalues
from .spectra_ops import HessianOperator
from .summary import LandscapeSummary
from .topology import (
    Component,
    MountainPass,
    component_of,
    global_min_components,
    interpolate,
    minimum_path,
    mountain_pass,
    random_directions,
    sublevel_components,
)
from .topology_neb import NEBResult, neb
from .warmup import warmup

__version__ = "0.1.0"

__all__ = [
    "DivergenceWarning",
    "Location",
    "ManyRuns",
    "Plateau",
    "Trajectory",
    "balanced_start",
    "gradient_descent",
    "from_torch",
    "gradient_descent_many",
    "locate",
    "sgd",
    "to_torch",
    "HardtMaResult",
    "RankPrediction",
    "deep_critical_points",
    "deep_point",
    "hardt_ma_experiment",
    "partial_product_ranks",
    "predict_kind",
    "residual_global_min",
    "residual_moments",
    "LandscapeSummary",
    "count_landscape",
    "enumerate_landscape",
    "random_spectrum",
    "spectrum_of",
    "Classification",
    "CriticalPointSet",
    "TiedEigenvaluesWarning",
    "Tolerances",
    "canonical_point",
    "classify",
    "critical_points",
    "global_min_loss",
    "verify_index_sets",
    "HessianTooLargeError",
    "Moments",
    "SingularInputError",
    "Spectrum",
    "flatten",
    "gradient",
    "hessian",
    "hvp",
    "loss",
    "num_params",
    "product",
    "random_weights",
    "unflatten",
    "warmup",
    "widths_of",
    "Component",
    "MountainPass",
    "NEBResult",
    "component_of",
    "global_min_components",
    "interpolate",
    "minimum_path",
    "mountain_pass",
    "neb",
    "random_directions",
    "sublevel_components",
    "BlockSpectrum",
    "EigenvalueConvergenceWarning",
    "HessianDensity",
    "HessianEigenvalues",
    "HessianOperator",
    "hessian_block_spectrum",
    "hessian_density",
    "hessian_diagonal",
    "hessian_eigenvalues",
    "hessian_frobenius",
    "hessian_trace",
    "MatrixFreeClassification",
    "whitened_moments",
]
