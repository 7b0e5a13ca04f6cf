"""The examples in the ONNX exporter's docstrings run."""

import doctest
import importlib

import pytest

MODULES = ["axonic.onnx", "axonic.onnx.export", "axonic.onnx.export_graph",
           "axonic.onnx.export_trace", "axonic.onnx.export_values", "axonic.onnx.export_shapes"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
