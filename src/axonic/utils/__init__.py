"""``torch.utils``'s paths in axonic: ``axonic.utils.data`` is ``axonic.data`` under
PyTorch's import path.

>>> from axonic.utils.data import DataLoader
>>> import axonic.data
>>> DataLoader is axonic.data.DataLoader
True
"""

from axonic.utils import data

__all__ = ["data"]
