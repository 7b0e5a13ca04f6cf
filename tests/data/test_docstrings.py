import doctest
import importlib
import pkgutil

import pytest

import axonic.data

MODULES = sorted(m.name for m in pkgutil.walk_packages(axonic.data.__path__, "axonic.data."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
