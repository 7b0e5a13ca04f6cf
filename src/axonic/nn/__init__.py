"""Neural-network building blocks: ``Module``, ``Parameter``, containers, layers,
activations, losses, ``init``, ``functional`` (as ``F``) and ``utils``.

Each layer family lives in its own file; this package only re-exports them.
"""

from axonic.nn import init
from axonic.nn.containers import ModuleDict, ModuleList, ParameterList, Sequential
from axonic.nn.module import LayerInputError, Module
from axonic.nn.parameter import Parameter

# --- layer families: each block is owned by one file -----------------------------------
