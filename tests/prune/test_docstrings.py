import doctest
import importlib

import pytest


@pytest.mark.parametrize("name", ["axonic.nn.utils.prune", "axonic.nn.utils.prune_shrink",
                                  "axonic.nn.distillation", "axonic.train.distill"])
def test_docstring_examples_run(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0, f"{name}: {result}"
