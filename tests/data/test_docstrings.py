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


def test_data_guide_examples_run(capsys):
    import pathlib
    import re

    guide = pathlib.Path(__file__).resolve().parents[2] / "docs" / "DATA.md"
    blocks = re.findall(r"```python\n(.*?)```", guide.read_text(), flags=re.S)
    assert len(blocks) >= 8
    namespace = {}
    exec(compile("\n".join(blocks), str(guide), "exec"), namespace)  # noqa: S102
    assert namespace["houses"].feature_names == ["rooms", "city=lyon", "city=paris", "area"]
    assert namespace["xb"].shape == (64, 1, 8, 8)
