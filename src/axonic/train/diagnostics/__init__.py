"""Training diagnostics: a callback that recognises the pathologies of training and says
what to do about them.

>>> from axonic.train.diagnostics import Diagnostics, Finding, KINDS
>>> len(KINDS)
12
"""

from axonic.train.diagnostics.callback import Diagnostics
from axonic.train.diagnostics.finding import ADVICE, KINDS, Finding
from axonic.train.diagnostics.lr_find import LRFinderResult, lr_find, suggest_lr
from axonic.train.diagnostics.monitor import Monitor
from axonic.train.diagnostics.report import TrainingReport, render_report

__all__ = ["Diagnostics", "Finding", "KINDS", "ADVICE", "lr_find", "suggest_lr", "LRFinderResult",
           "Monitor", "TrainingReport", "render_report"]
