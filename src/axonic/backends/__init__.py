"""``torch.backends``'s switches, so programs that set them run unchanged.

The flags are plain settable attributes with PyTorch's defaults. axonic computes on NumPy
(and CuPy) with no cuDNN, TF32 or MPS path, so setting them changes nothing; reading them
gives back what was set.

>>> import axonic
>>> axonic.backends.cudnn.benchmark = True
>>> axonic.backends.cuda.matmul.allow_tf32 = True
>>> axonic.backends.cudnn.benchmark, axonic.backends.mps.is_available()
(True, False)

The process-wide switches PyTorch keeps at its top level (``set_float32_matmul_precision``,
``use_deterministic_algorithms``) live here too and are exported as ``axonic.<name>``.
"""

from axonic.backends import cpu, cuda, cudnn, mkldnn, mps, openmp

__all__ = ["are_deterministic_algorithms_enabled", "cpu", "cuda", "cudnn",
           "get_float32_matmul_precision", "is_deterministic_algorithms_warn_only_enabled",
           "mkldnn", "mps", "openmp", "set_float32_matmul_precision",
           "use_deterministic_algorithms"]

_FLAGS = {"float32_matmul_precision": "highest", "deterministic": False, "warn_only": False}


def set_float32_matmul_precision(precision: str) -> None:
    """``torch.set_float32_matmul_precision``: recorded, harmless (float32 matmuls are always
    full float32 here)."""
    if precision not in ("highest", "high", "medium"):
        raise ValueError(f"set_float32_matmul_precision: expected 'highest', 'high' or "
                         f"'medium', got {precision!r}")
    _FLAGS["float32_matmul_precision"] = precision


def get_float32_matmul_precision() -> str:
    return _FLAGS["float32_matmul_precision"]


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """``torch.use_deterministic_algorithms``: recorded; axonic's CPU ops are deterministic."""
    _FLAGS["deterministic"], _FLAGS["warn_only"] = bool(mode), bool(warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    return _FLAGS["deterministic"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return _FLAGS["warn_only"]
