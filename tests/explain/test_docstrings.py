"""The examples in the explain and diagnostics docstrings run and give what they show."""

import doctest
import importlib

import pytest

MODULES = [
    "axonic.explain", "axonic.explain.saliency", "axonic.explain.integrated_gradients",
    "axonic.explain.noise_tunnel", "axonic.explain.grad_cam", "axonic.explain.guided_backprop",
    "axonic.explain.ablation", "axonic.explain.attention", "axonic.explain.interpolate",
    "axonic.explain.surrogate", "axonic.explain.visualize", "axonic.train.diagnostics",
    "axonic.train.diagnostics.finding", "axonic.train.diagnostics.callback",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    if name.endswith(("surrogate", "visualize")):
        pytest.importorskip("shap" if name.endswith("surrogate") else "matplotlib")
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
