"""Utilities around modules: gradient clipping, flattening parameters to a vector,
pruning (``axonic.nn.utils.prune``) and variable-length sequences for the recurrent
layers (``axonic.nn.utils.rnn``)."""

from axonic.nn.utils import prune, rnn
from axonic.nn.utils.clip_grad import (
    clip_grad_norm_,
    clip_grad_value_,
    parameters_to_vector,
    vector_to_parameters,
)

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector",
           "vector_to_parameters", "prune", "rnn"]
