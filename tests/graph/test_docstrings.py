"""The docstring examples of the graph, few-shot, self-supervised and federated modules run."""

import doctest
import importlib
import pkgutil

import pytest

import axonic.nn.graph


def _modules():
    names = [m.name for m in pkgutil.walk_packages(axonic.nn.graph.__path__, "axonic.nn.graph.")]
    names += ["axonic.nn.graph", "axonic.ops.segment", "axonic.nn.few_shot", "axonic.nn.maml",
              "axonic.nn.contrastive"]
    for package in ("axonic.federated",):
        if importlib.util.find_spec(package) is not None:
            pkg = importlib.import_module(package)
            names += [package] + [m.name for m in pkgutil.walk_packages(pkg.__path__,
                                                                        package + ".")]
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_run(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
