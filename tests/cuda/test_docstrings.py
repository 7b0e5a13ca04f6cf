import doctest
import importlib
import pkgutil

import pytest

import axonic.cuda

MODULES = ["axonic.cuda", "bench.gpu"] + sorted(
    m.name for m in pkgutil.walk_packages(axonic.cuda.__path__, "axonic.cuda."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
