"""The examples in the docstrings of axonic.tune, axonic.sklearn and the commands run."""

import doctest
import importlib

import pytest

MODULES = ["axonic.sklearn", "axonic.sklearn.module", "axonic.sklearn.net",
           "axonic.tune", "axonic.tune.toml", "axonic.tune.widths", "axonic.tune.space",
           "axonic.tune.nas", "axonic.tune.storage", "axonic.tune.tracking",
           "axonic.tune.runs", "axonic.tune.cv", "axonic.tune.study"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write (runs/, mlruns/) write here
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
