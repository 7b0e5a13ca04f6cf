"""``axonic.cuda``: the GPU (CuPy) as PyTorch's ``torch.cuda`` names it.

>>> import axonic
>>> axonic.cuda.is_available() in (True, False)
True
"""

from axonic.backend import cuda_is_available as is_available  # noqa: F401
