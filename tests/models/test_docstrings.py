import doctest
import importlib
import pkgutil

import pytest

import axonic.models

MODULES = sorted(m.name for m in pkgutil.walk_packages(axonic.models.__path__,
                                                         "axonic.models."))
MODULES.append("axonic.train.callbacks.unfreeze")


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
