"""Every op, declared once in the file named after it (``ls`` finds gelu in
activations.py, cross_entropy in losses.py, layer_norm in normalization.py, ...).

A file holds an op's ``Function`` (forward and backward side by side), its public function
declared with ``@op(methods=...)`` (see ``_registry``), and its test specs (``SPECS``).
This package imports every file and derives from the declarations what used to be kept by
hand: the ``axonic.<name>`` functions, the ``Tensor`` methods and operators, and the spec
list of the op-test harness. Adding an op touches one file.
"""

import importlib as _importlib
import pkgutil as _pkgutil

from axonic.autograd.function import set_graph_namespace as _set_graph_namespace
from axonic.autograd.tensor import Tensor as _Tensor
from axonic.ops._registry import METHODS, OPS

_MODULES = [_importlib.import_module(f"{__name__}.{m.name}")
            for m in _pkgutil.iter_modules(__path__) if not m.name.startswith("_")]

globals().update(OPS)
__all__ = sorted(OPS)
for _name, _fn in METHODS.items():
    setattr(_Tensor, _name, _fn)

# create_graph runs every backward with xp = axonic's own differentiable ops
_set_graph_namespace(_importlib.import_module(f"{__name__}.graph_xp"))


def all_specs():
    """Every op's test specs, gathered from the op files."""
    return [s for m in _MODULES for s in getattr(m, "SPECS", ())]
