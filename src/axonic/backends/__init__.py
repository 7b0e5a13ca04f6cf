"""``torch.backends``'s switches, so programs that set them run unchanged.

The flags are plain settable attributes with PyTorch's defaults. axonic computes on NumPy
(and CuPy) with no cuDNN, TF32 or MPS path, so setting them changes nothing; reading them
gives back what was set.

>>> import axonic
>>> axonic.backends.cudnn.benchmark = True
>>> axonic.backends.cuda.matmul.allow_tf32 = True
>>> axonic.backends.cudnn.benchmark, axonic.backends.mps.is_available()
(True, False)
"""

from axonic.backends import cpu, cuda, cudnn, mkldnn, mps, openmp

__all__ = ["cpu", "cuda", "cudnn", "mkldnn", "mps", "openmp"]
