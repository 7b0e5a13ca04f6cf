"""Optimizers with PyTorch's API (``param_groups``, ``state_dict``, ``zero_grad``, ``step``)
and learning-rate schedules in ``optim.lr_scheduler``.

>>> import axonic
>>> from axonic import optim
>>> w = axonic.nn.Parameter(axonic.tensor([3.0]))
>>> opt = optim.Adam([w], lr=0.1)
>>> sched = optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
>>> for _ in range(20):
...     opt.zero_grad()
...     (w * w).sum().backward()
...     opt.step()
...     sched.step()
>>> sched.get_last_lr()
[0.025]
"""

from axonic.optim import lr_scheduler
from axonic.optim.adadelta import Adadelta
from axonic.optim.adagrad import Adagrad
from axonic.optim.adam import Adam, AdamW
from axonic.optim.adamax import Adamax
from axonic.optim.lbfgs import LBFGS
from axonic.optim.nadam import NAdam
from axonic.optim.optimizer import Optimizer
from axonic.optim.radam import RAdam
from axonic.optim.rmsprop import RMSprop
from axonic.optim.sgd import SGD

__all__ = ["LBFGS", "SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "NAdam", "Optimizer",
           "RAdam", "RMSprop", "lr_scheduler"]
