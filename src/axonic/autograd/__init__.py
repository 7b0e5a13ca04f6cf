"""Reverse-mode automatic differentiation: ``Tensor``, ``Function``, the engine, grad modes."""

from axonic.autograd import functional
from axonic.autograd.anomaly import AnomalyError, detect_anomaly, is_anomaly_enabled
from axonic.autograd.engine import backward, grad
from axonic.autograd.function import Function, sum_to
from axonic.autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from axonic.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck
from axonic.autograd.tensor import Tensor, tensor
