"""The ONNX operators axonic runs: one registry from ``(op_type, domain)`` to the
functions that implement it, each for a range of opset versions.

An implementation is ``fn(inputs, attrs, ctx) -> output or tuple of outputs``: ``inputs``
are axonic Tensors (``None`` for an omitted optional input), ``attrs`` the node's attributes
as Python values (tensors as NumPy arrays, graphs as ``GraphProto``), ``ctx`` the
``NodeContext`` (opset version, node name, a runner for subgraphs). Each family of ops
lives in its own file here and registers itself with ``@onnx_op``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

FAMILIES = ("elementwise", "activations", "linear", "conv", "pooling", "normalization", "reduction",
            "shape", "indexing", "generators", "recurrent", "control", "resize", "sequence",
            "misc", "quantized", "vision", "attention", "spectral")

_REGISTRY: dict[tuple[str, str], list[OpImpl]] = {}


@dataclass(frozen=True)
class OpImpl:
    op_type: str
    domain: str
    since: int
    until: int | None  # last opset version handled (None: every later one)
    fn: Callable
    family: str


def onnx_op(*op_types: str, since: int = 1, until: int | None = None, domain: str = ""):
    """Register ``fn`` for each of ``op_types`` at opsets ``since .. until`` (inclusive)."""
    def register(fn):
        family = fn.__module__.rsplit(".", 1)[-1]
        for name in op_types:
            _REGISTRY.setdefault((name, domain), []).append(
                OpImpl(name, domain, since, until, fn, family))
        return fn
    return register


_LOADED = []


def _load_families():
    if not _LOADED:
        for family in FAMILIES:
            importlib.import_module(f"axonic.onnx.ops.{family}")
        _LOADED.append(True)


def lookup(op_type: str, domain: str, version: int) -> OpImpl | None:
    """The implementation of ``op_type`` at opset ``version``, or None."""
    _load_families()
    domain = "" if domain == "ai.onnx" else domain
    for impl in _REGISTRY.get((op_type, domain), ()):
        if impl.since <= version and (impl.until is None or version <= impl.until):
            return impl
    return None


def supported() -> dict[tuple[str, str], list[OpImpl]]:
    """Every registered op with its implementations (for documentation and coverage)."""
    _load_families()
    return dict(_REGISTRY)


def family_of(op_type: str, domain: str = "") -> str | None:
    """The file (family) that implements ``op_type``, or None."""
    impls = supported().get((op_type, domain))
    return impls[0].family if impls else None
