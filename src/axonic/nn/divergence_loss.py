"""The Kullback-Leibler divergence: ``kl_div`` and ``KLDivLoss``.

>>> import axonic
>>> p = axonic.tensor([[0.5, 0.5]])
>>> KLDivLoss(reduction="batchmean")(p.log(), p)  # a distribution from itself
tensor(0.)
"""

from __future__ import annotations

from axonic.nn.loss_base import _as_tensor, _check_pair, _Loss, _reduce, _reduction
from axonic.nn.module import Module
from axonic.ops.indexing import where


def kl_div(input, target, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False):
    """``target * (log(target) - input)`` for log-probabilities ``input`` (0 where the
    target is 0); ``reduction='batchmean'`` divides the sum by the batch size, which is
    the KL divergence proper."""
    op = "kl_div"
    if reduction != "batchmean":
        reduction = _reduction(op, reduction, size_average, reduce)
    target = _as_tensor(target, input)
    _check_pair(op, input, target)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        positive = target > 0
        safe = where(positive, target, 1.0)  # 0 * log 0 counts as 0
        loss = where(positive, target * safe.log(), 0.0) - target * input
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction)


class KLDivLoss(_Loss):
    """KL divergence of log-probabilities from a target distribution; use
    ``reduction='batchmean'`` for the true KL divergence."""

    _fn = staticmethod(kl_div)

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 log_target: bool = False):
        Module.__init__(self)
        self.reduction = reduction if reduction == "batchmean" else _reduction(
            "KLDivLoss", reduction, size_average, reduce)
        self.log_target = bool(log_target)

    def forward(self, input, target):
        return self._call(input, target, reduction=self.reduction, log_target=self.log_target)
