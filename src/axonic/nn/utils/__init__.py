"""Utilities around modules: gradient clipping, flattening parameters to a vector, and
pruning (``axonic.nn.utils.prune``)."""

from axonic.nn.utils import prune
from axonic.nn.utils.clip_grad import (
    clip_grad_norm_,
    clip_grad_value_,
    parameters_to_vector,
    vector_to_parameters,
)

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector",
           "vector_to_parameters", "prune"]
