"""``DistillationLoss``: Hinton's knowledge-distillation loss (Hinton, Vinyals and Dean, 2015).

    loss = alpha * T^2 * KL(softmax(teacher / T) || softmax(student / T))
           + (1 - alpha) * cross_entropy(student, target)

The KL term is averaged over the batch (``kl_div(..., reduction='batchmean')``); ``T^2``
keeps its gradients on the scale of the cross-entropy's as ``T`` changes.
"""

from __future__ import annotations

import numbers

from axonic.autograd.tensor import Tensor
from axonic.nn.loss import cross_entropy, kl_div
from axonic.nn.module import Module
from axonic.ops.softmax import log_softmax


class DistillationLoss(Module):
    """Hinton's distillation loss of ``student`` logits against ``teacher`` logits and the
    true ``target`` classes: ``alpha * T^2 * KL(teacher_T || student_T) + (1 - alpha) * CE``.

    ``temperature`` (T > 0) softens both distributions; ``alpha`` in [0, 1] weighs the soft
    term against the hard one (1: the teacher alone, 0: plain cross-entropy).

    >>> import axonic
    >>> loss = DistillationLoss(temperature=4.0, alpha=0.7)
    >>> student, teacher = axonic.randn(8, 10), axonic.randn(8, 10)
    >>> loss(student, teacher, axonic.randint(0, 10, (8,))).shape
    ()
    >>> round(loss.soft_loss(teacher, teacher).item(), 6)  # no divergence from itself
    0.0
    """

    def __init__(self, temperature: float = 4.0, alpha: float = 0.5):
        super().__init__()
        if isinstance(temperature, bool) or not isinstance(
                temperature, numbers.Real) or not temperature > 0:
            raise ValueError(f"DistillationLoss: temperature must be a number > 0, got "
                             f"{temperature!r}")
        if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not (
                0.0 <= alpha <= 1.0):
            raise ValueError(f"DistillationLoss: alpha must be in [0, 1], got {alpha!r}")
        self.temperature, self.alpha = float(temperature), float(alpha)

    def soft_loss(self, input: Tensor, teacher: Tensor) -> Tensor:
        """``T^2 * KL(softmax(teacher / T) || softmax(input / T))``, averaged over the batch."""
        if not isinstance(input, Tensor) or not isinstance(teacher, Tensor):
            raise TypeError(f"DistillationLoss: expected Tensors of logits, got "
                            f"{type(input).__name__} and {type(teacher).__name__}")
        if tuple(input.shape) != tuple(teacher.shape):
            raise self.input_error(
                f"student logits of shape {tuple(input.shape)} and teacher logits of shape "
                f"{tuple(teacher.shape)} differ; the two models must predict the same classes")
        if input.ndim != 2:
            raise self.input_error(f"expected logits of shape (batch, classes), got shape "
                                   f"{tuple(input.shape)}")
        t = self.temperature
        kl = kl_div(log_softmax(input / t, dim=1), log_softmax(teacher / t, dim=1),
                    reduction="batchmean", log_target=True)
        return kl * (t * t)

    def forward(self, input: Tensor, teacher: Tensor, target: Tensor) -> Tensor:
        soft = self.soft_loss(input, teacher)
        if self.alpha == 1.0:
            return soft
        return self.alpha * soft + (1.0 - self.alpha) * cross_entropy(input, target)

    def extra_repr(self) -> str:
        return f"temperature={self.temperature}, alpha={self.alpha}"


KnowledgeDistillationLoss = DistillationLoss
