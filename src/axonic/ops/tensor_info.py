"""Tensor facts PyTorch programs ask for: ``type()``, the ``is_*`` device and layout flags,
``__format__`` (``f"{loss:.4f}"`` on a 0-d tensor) and a few size queries.

None of these is differentiable by itself (``type(dtype)`` casts with ``to``, which is).

>>> import axonic
>>> loss = axonic.tensor(0.123456)
>>> f"{loss:.3f}", loss.type(), loss.is_xpu
('0.123', 'axonic.FloatTensor', False)
"""

from __future__ import annotations

import numpy as np

from axonic.backend import resolve_dtype
from axonic.ops._registry import method
from axonic.ops.convert import to

# dtype name -> PyTorch's legacy tensor-type name
_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
               "bfloat16": "BFloat16Tensor", "int64": "LongTensor", "int32": "IntTensor",
               "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor",
               "bool": "BoolTensor"}
_DTYPE_OF_NAME = {v: k for k, v in _TYPE_NAMES.items()}


def type(self, dtype=None, non_blocking=False, **kwargs):  # noqa: A001  (PyTorch's name)
    """Without ``dtype``: the type name (``'axonic.FloatTensor'``, ``'axonic.cuda.LongTensor'``).
    With one (a dtype or such a name, ``torch.`` spelling accepted): ``self`` cast to it."""
    if dtype is None:
        prefix = "axonic.cuda." if self.device.type == "cuda" else "axonic."
        return prefix + _TYPE_NAMES.get(self._data.dtype.name, self._data.dtype.name)
    if isinstance(dtype, str) and dtype.rsplit(".", 1)[-1] in _DTYPE_OF_NAME:
        on_cuda = ".cuda." in dtype
        out = to(self, np.dtype(_DTYPE_OF_NAME[dtype.rsplit(".", 1)[-1]]))
        return out.cuda() if on_cuda and out.device.type != "cuda" else out
    if isinstance(dtype, str) and dtype not in ("float", "double", "half", "long", "int",
                                                "bool", *_TYPE_NAMES):
        raise ValueError(f"Tensor.type: invalid type {dtype!r}; expected a dtype or a name "
                         f"such as 'axonic.FloatTensor' ({', '.join(sorted(_DTYPE_OF_NAME))})")
    return to(self, resolve_dtype(dtype))


def _format(self, spec: str) -> str:
    # PyTorch formats a 0-d tensor as its Python number; anything else as its repr
    if self._data.ndim == 0:
        return self._data.item().__format__(spec)
    return object.__format__(self, spec)


def _false(self) -> bool:
    return False


def _flag(doc):
    prop = property(_false)
    prop.__doc__ = doc
    return prop


# Device kinds and layouts axonic never produces: always False (PyTorch's CPU answers).
for _name in ("is_xpu", "is_mps", "is_meta", "is_sparse", "is_sparse_csr", "is_quantized",
              "is_mkldnn", "is_nested", "is_ipu", "is_vulkan", "is_xla", "is_maia", "is_mtia"):
    method(_name, _flag(f"``{_name}``: always False (axonic has no such device or layout)."))
method("is_cpu", property(lambda self: self.device.type == "cpu"))
method("layout", property(lambda self: "strided"))
method("itemsize", property(lambda self: self._data.itemsize))
method("nbytes", property(lambda self: self._data.nbytes))
method("type", type)
method("__format__", _format)
for _name in ("is_complex", "is_conj", "is_neg", "is_inference", "is_shared", "is_pinned"):
    method(_name, _false)
method("is_signed", lambda self: self._data.dtype.kind in "fic")
method("is_same_size", lambda self, other: tuple(self.shape) == tuple(other.shape))
method("ndimension", lambda self: self._data.ndim)
method("nelement", lambda self: int(self._data.size))
method("get_device", lambda self: -1 if self.device.type == "cpu" else self.device.index or 0)


def _is_nonzero(self) -> bool:
    if self._data.size != 1:
        raise RuntimeError(f"is_nonzero: the tensor has {self._data.size} elements; "
                           "it needs exactly one")
    return bool(self._data.reshape(()))


method("is_nonzero", _is_nonzero)


def bfloat16(self):
    """``self`` cast to bfloat16 (needs ml_dtypes; see ``axonic.backend.dtypes``)."""
    from axonic.backend.dtypes import bfloat16_dtype

    return to(self, bfloat16_dtype())


method("bfloat16", bfloat16)
