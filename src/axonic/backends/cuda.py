"""``torch.backends.cuda``: ``matmul.allow_tf32`` and friends, settable and harmless (axonic
computes float32 matmuls in float32 on every device).

>>> import axonic
>>> axonic.backends.cuda.matmul.allow_tf32
False
"""

from axonic.backend import cuda_is_available


class _MatmulFlags:
    """``torch.backends.cuda.matmul``: the reduced-precision switches of matrix products."""

    def __init__(self):
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True
        self.fp32_precision = "ieee"

    def __repr__(self):
        return f"matmul(allow_tf32={self.allow_tf32})"


matmul = _MatmulFlags()


def is_built() -> bool:
    """Whether axonic can run on a GPU here (CuPy importable with a device)."""
    return cuda_is_available()


def flash_sdp_enabled() -> bool:
    return False


def mem_efficient_sdp_enabled() -> bool:
    return False


def math_sdp_enabled() -> bool:
    return True
