"""The recipes of docs/ARCHITECTURE.md run as written (each block after the previous ones
of its section, in one namespace per section)."""

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "ARCHITECTURE.md"


def _sections():
    text = DOC.read_text()
    recipes = text.split("## Recipes", 1)[1]
    out = []
    for part in re.split(r"^### ", recipes, flags=re.M)[1:]:
        title = part.splitlines()[0]
        blocks = re.findall(r"```python\n(.*?)```", part, flags=re.S)
        out.append((title, blocks))
    return out


SECTIONS = _sections()


def test_every_recipe_is_listed():
    assert [t for t, _ in SECTIONS] == ["Add an op", "Add a layer", "Add a callback",
                                        "Add an optimizer", "Add a dataset"]


@pytest.fixture
def registry_restored():
    """The op recipe declares an op; take it out again so other tests see the real set."""
    from axonic.ops._registry import METHODS, OPS

    ops, methods = dict(OPS), dict(METHODS)
    yield
    OPS.clear()
    OPS.update(ops)
    METHODS.clear()
    METHODS.update(methods)


@pytest.mark.parametrize("title,blocks", SECTIONS, ids=[t for t, _ in SECTIONS])
def test_recipe_runs(title, blocks, registry_restored):
    assert blocks, f"recipe {title!r} has no code"
    namespace = {"__name__": f"recipe_{title.replace(' ', '_')}"}
    for block in blocks:
        exec(compile(block, f"ARCHITECTURE.md: {title}", "exec"), namespace)
