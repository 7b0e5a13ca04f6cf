"""``torch.backends.cudnn``: settable flags with PyTorch's defaults; axonic has no cuDNN path,
so they change nothing (``is_available()`` is False).

>>> import axonic.backends.cudnn as cudnn
>>> cudnn.deterministic
False
"""

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True
benchmark_limit = 10


def is_available() -> bool:
    """False: axonic's convolutions are its own (im2col on NumPy/CuPy), not cuDNN's."""
    return False


def version():
    """None, as PyTorch answers without cuDNN."""
    return None
