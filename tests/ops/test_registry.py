"""The op registry: ``axonic.*``, the Tensor methods and the spec list come from the
``@op`` declarations in the op files, with nothing kept by hand."""

import ast
import pathlib

import pytest

import axonic
from axonic.ops import _registry
from axonic.ops._registry import METHODS, OPS, op

OPS_DIR = pathlib.Path(axonic.ops.__file__).parent


def test_every_declared_op_is_exported_under_its_name():
    assert set(axonic.ops.__all__) == set(OPS)
    for name, fn in OPS.items():
        assert getattr(axonic, name) is fn, name


def test_every_declared_method_is_the_tensors_attribute():
    for name, fn in METHODS.items():
        assert axonic.Tensor.__dict__[name] is fn, name
    assert axonic.Tensor.exp is axonic.exp and axonic.Tensor.__add__ is axonic.add
    x = axonic.tensor([1.0, 2.0])
    assert (2 - x).tolist() == [1.0, 0.0]  # reflected operators from rmethods=


def test_ops_package_keeps_no_hand_written_list_of_ops():
    tree = ast.parse((OPS_DIR / "__init__.py").read_text())
    imported = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
                and (n.module or "").startswith("axonic.ops.")]
    assert imported == ["axonic.ops._registry"]
    assert not (OPS_DIR / "methods.py").exists()


def test_spec_list_is_gathered_from_every_op_file():
    files_with_specs = {p.stem for p in OPS_DIR.glob("*.py") if "\nSPECS = [" in p.read_text()}
    gathered = {m.__name__.rsplit(".", 1)[1] for m in axonic.ops._MODULES if hasattr(m, "SPECS")}
    assert files_with_specs and files_with_specs == gathered


def test_declaring_a_name_twice_is_refused(monkeypatch):
    monkeypatch.setattr(_registry, "OPS", {})
    monkeypatch.setattr(_registry, "METHODS", {})

    def first(x):
        return x

    def second(x):
        return x

    op("twice", methods=("twice",))(first)
    with pytest.raises(RuntimeError, match="'twice' is declared twice"):
        op("twice")(second)
    with pytest.raises(RuntimeError, match="'twice' is declared twice"):
        op(export=False, methods=("twice",))(second)
