"""``torch.serialization``'s ``save`` and ``load``: the same functions as ``axonic.save`` /
``axonic.load`` (``axonic.io``), under PyTorch's module path.

>>> import axonic
>>> axonic.serialization.save is axonic.io.save
True
"""

from axonic.io import load, save

__all__ = ["load", "save"]
