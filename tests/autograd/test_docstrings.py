"""The examples in the engine's docstrings run and give what they show."""

import doctest
import importlib

import numpy as np
import pytest

ENGINE_MODULES = [
    "axonic", "axonic.autograd.anomaly", "axonic.autograd.engine", "axonic.autograd.gradients",
    "axonic.autograd.function",
    "axonic.autograd.grad_mode", "axonic.autograd.gradcheck", "axonic.autograd.tensor",
    "axonic.backend.random", "axonic.backend.dtypes", "axonic.ops.arithmetic",
    "axonic.ops.creation", "axonic.ops.indexing", "axonic.ops.join", "axonic.ops.linalg",
    "axonic.ops.reductions", "axonic.ops.shape", "axonic.ops.softmax", "axonic.ops.elementwise",
    "axonic.ops.activations", "axonic.ops.graph_xp", "axonic.ops._registry",
]


@pytest.mark.parametrize("name", ENGINE_MODULES)
def test_engine_docstring_examples_run(name):
    module = importlib.import_module(name)
    with np.errstate(all="ignore"):  # the anomaly example takes log(-1) on purpose
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
