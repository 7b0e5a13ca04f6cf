"""Learning-rate schedules with PyTorch's names, arguments and step semantics.

A scheduler sets ``group['lr']`` of its optimizer at construction (epoch 0) and on
every ``step()``; call it after ``optimizer.step()``. The formulas are PyTorch's
(including its recursive forms), so the learning rates agree with PyTorch's to the last
few ulps of float64.

>>> import axonic
>>> from axonic import optim
>>> w = axonic.nn.Parameter(axonic.zeros(1))
>>> opt = optim.SGD([w], lr=1.0)
>>> sched = optim.lr_scheduler.MultiStepLR(opt, milestones=[2, 4], gamma=0.1)
>>> lrs = []
>>> for _ in range(5):
...     opt.step()
...     sched.step()
...     lrs.append(round(sched.get_last_lr()[0], 6))
>>> lrs
[1.0, 0.1, 0.1, 0.01, 0.01]
"""

from axonic.optim.lr_scheduler.base import LRScheduler
from axonic.optim.lr_scheduler.composite import ChainedScheduler, SequentialLR
from axonic.optim.lr_scheduler.cosine import (
    CosineAnnealingLR,
    CosineAnnealingWarmRestarts,
    OneCycleLR,
)
from axonic.optim.lr_scheduler.cyclic import CyclicLR
from axonic.optim.lr_scheduler.multiplicative import (
    ConstantLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    MultiplicativeLR,
    MultiStepLR,
    PolynomialLR,
    StepLR,
)
from axonic.optim.lr_scheduler.plateau import ReduceLROnPlateau

__all__ = [
    "LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR",
    "LinearLR", "ExponentialLR", "PolynomialLR", "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts", "CyclicLR", "OneCycleLR", "SequentialLR", "ChainedScheduler",
    "ReduceLROnPlateau",
]
