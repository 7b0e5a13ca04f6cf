import doctest
import importlib
import pkgutil

import pytest

import axonic.quantization

MODULES = ["axonic.quantization"] + sorted(
    m.name for m in pkgutil.walk_packages(axonic.quantization.__path__, "axonic.quantization."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"


def test_bench_docstring_runs():
    from bench import quantization

    assert doctest.testmod(quantization).failed == 0
