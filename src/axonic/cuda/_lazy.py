"""The CuPy module behind ``axonic.cuda``, and the error every GPU-only call raises without it."""

from __future__ import annotations

from axonic.backend.device import _load_cupy


def cupy_or_none():
    """CuPy when it is installed and sees a GPU, else ``None``."""
    return _load_cupy()


def require_cupy(what: str):
    """CuPy, or a ``RuntimeError`` naming ``what`` needed it (PyTorch raises here too)."""
    cp = _load_cupy()
    if cp is None:
        raise RuntimeError(
            f"axonic.cuda.{what}: CUDA is not available (needs CuPy on a machine with an "
            "NVIDIA GPU: pip install 'axonic[gpu]')")
    return cp
