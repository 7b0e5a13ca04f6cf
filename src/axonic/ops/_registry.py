"""The op registry: every op declares itself once, next to its Function and its spec.

``@op(methods=...)`` on a public function exports it as ``axonic.<name>`` and attaches it
to ``Tensor`` under the given method and operator names; ``method`` attaches something
that is not exported (a reflected operator, a property). ``axonic.ops`` imports every
module of the package and builds ``axonic.*``, the ``Tensor`` methods and the op-test
harness's spec list from what they declared, so adding an op touches one file.

>>> import axonic
>>> axonic.ops.OPS["exp"] is axonic.exp, axonic.Tensor.exp is axonic.exp
(True, True)
"""

from __future__ import annotations

OPS: dict = {}  # public name -> function (axonic.<name>)
METHODS: dict = {}  # Tensor attribute -> function, operator or property


def op(*names, methods=(), rmethods=(), export=True):
    """Declare a public op: exported under its own name (or ``names``) unless
    ``export=False``, a ``Tensor`` method or operator under each of ``methods``, and the
    reflected operator (``other <op> self``) under each of ``rmethods``."""

    def declare(fn):
        if export:
            for name in names or (fn.__name__,):
                _add(OPS, name, fn)
        for name in methods:
            _add(METHODS, name, fn)
        for name in rmethods:
            _add(METHODS, name, reflected(fn))
        return fn

    return declare


def method(name: str, fn) -> None:
    """Attach ``fn`` to ``Tensor`` as ``name`` without exporting it."""
    _add(METHODS, name, fn)


def reflected(fn):
    """``other <op> self`` for the reflected operators (``__radd__``, ...)."""

    def r(self, other):
        return fn(other, self)

    r.__name__ = f"r{fn.__name__}"
    return r


def _add(table: dict, name: str, fn) -> None:
    if name in table and table[name] is not fn:
        raise RuntimeError(f"op registry: '{name}' is declared twice")
    table[name] = fn
