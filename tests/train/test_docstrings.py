import doctest
import importlib
import pkgutil

import pytest

import axonic.train

MODULES = sorted(m.name for m in pkgutil.walk_packages(axonic.train.__path__, "axonic.train."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
