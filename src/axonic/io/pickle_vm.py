"""A pickle reader that runs no code: the opcode interpreter behind reading PyTorch files.

It understands the binary opcodes of pickle protocols 2 to 5 that ``torch.save`` writes
and builds only plain values (None, bool, int, float, str, bytes, tuple, list, dict, set).
A ``GLOBAL`` is looked up in a table the caller passes (``globals_``: ``"module.name"`` ->
a callable or a constant); any other name is refused with :class:`ForbiddenGlobalError`
before anything is imported or called, so ``os.system`` or ``builtins.eval`` in a file
never run. Modules are never imported and no object's methods are looked up: ``REDUCE``
calls only table entries, ``BUILD`` goes to the caller's ``build`` hook,
``APPEND``/``SETITEM`` work only on real lists, dicts and sets. Lengths are checked
against the bytes left, so a corrupted length never allocates more than the file holds.

>>> unpickle(b"\\x80\\x02}q\\x00X\\x01\\x00\\x00\\x00aK\\x07s.", "<bytes>", {})
({'a': 7}, 15)
"""

from __future__ import annotations

import struct
from collections import OrderedDict

__all__ = ["CheckpointError", "ForbiddenGlobalError", "unpickle"]


class CheckpointError(ValueError):
    """A checkpoint file that axonic cannot read: truncated, corrupted or not a checkpoint.
    The message names the file."""


class ForbiddenGlobalError(CheckpointError):
    """A pickled file names a Python global that is not tensor reconstruction or a plain
    container (``os.system``, ``builtins.eval``, a user class ...); nothing was run."""


class _Mark:
    __repr__ = lambda self: "MARK"  # noqa: E731


MARK = _Mark()


def _fail(where: str, why: str):
    raise CheckpointError(f"{where}: {why}")


class _Reader:
    __slots__ = ("data", "pos", "where")

    def __init__(self, data: bytes, pos: int, where: str):
        self.data, self.pos, self.where = data, pos, where

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            _fail(self.where, f"pickle data is truncated (needs {n} bytes at offset "
                              f"{self.pos}, the file has {len(self.data) - self.pos} left)")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def line(self) -> str:
        end = self.data.find(b"\n", self.pos, self.pos + 1024)
        if end < 0:
            _fail(self.where, "a GLOBAL name is not terminated by a newline")
        out = self.data[self.pos:end]
        self.pos = end + 1
        return out.decode("utf-8")


def _pop_mark(stack: list, where: str) -> list:
    for i in range(len(stack) - 1, -1, -1):
        if stack[i] is MARK:
            items = stack[i + 1:]
            del stack[i:]
            return items
    _fail(where, "pickle data is corrupted (no MARK on the stack)")


def _has_mark(items) -> bool:
    return any(x is MARK for x in items)


def _need(cond, where: str, why: str):
    if not cond:
        _fail(where, f"pickle data is corrupted ({why})")


_SIZED = {  # opcode -> (struct format of the length, kind)
    ord("X"): ("<I", "str"), 0x8C: ("<B", "str"), 0x8D: ("<Q", "str"),
    ord("B"): ("<I", "bytes"), ord("C"): ("<B", "bytes"), 0x8E: ("<Q", "bytes"),
    ord("T"): ("<i", "str"), ord("U"): ("<B", "str"),  # Python 2 strings, read as UTF-8
}
_INTS = {ord("J"): "<i", ord("K"): "<B", ord("M"): "<H"}
_CONSTS = {ord("N"): None, 0x88: True, 0x89: False}


def _call(fn, args, where: str, admitted: dict):
    if id(fn) not in admitted:
        raise ForbiddenGlobalError(f"{where}: pickle data calls a {type(fn).__name__}, which "
                                   "is not an admitted global (refused)")
    if not isinstance(args, tuple):
        _fail(where, f"pickle data calls {admitted[id(fn)]} with {type(args).__name__} "
                     "arguments")
    return fn(*args)


def unpickle(data: bytes, where: str, globals_: dict, pos: int = 0, persistent_load=None,
             build=None):
    """Interpret one pickle starting at ``data[pos]``; returns ``(object, end position)``.

    ``globals_`` maps ``"module.name"`` to the callables a ``GLOBAL`` may name (anything
    else raises :class:`ForbiddenGlobalError`); ``persistent_load(pid)`` resolves
    ``BINPERSID``; ``build(obj, state)`` handles ``BUILD``. Errors are
    :class:`CheckpointError` naming ``where``.
    """
    r = _Reader(data, pos, where)
    admitted = {id(v): k for k, v in globals_.items() if callable(v)}  # all that REDUCE calls
    stack: list = []
    memo: dict = {}
    while True:
        op = r.take(1)[0]
        if op in _SIZED:
            fmt, kind = _SIZED[op]
            raw = r.take(r.unpack(fmt))
            if kind == "str":
                try:
                    stack.append(raw.decode("utf-8"))
                except UnicodeDecodeError:
                    _fail(where, "pickle data holds a string that is not valid UTF-8")
            else:
                stack.append(bytes(raw))
        elif op in _INTS:
            stack.append(r.unpack(_INTS[op]))
        elif op in _CONSTS:
            stack.append(_CONSTS[op])
        elif op == 0x8A or op == 0x8B:  # LONG1 / LONG4
            n = r.unpack("<B" if op == 0x8A else "<i")
            stack.append(int.from_bytes(r.take(n), "little", signed=True))
        elif op == ord("G"):  # BINFLOAT
            stack.append(r.unpack(">d"))
        elif op == 0x80:  # PROTO
            proto = r.unpack("<B")
            _need(proto <= 5, where, f"pickle protocol {proto}; at most 5 exists")
        elif op == 0x95:  # FRAME: a length hint only
            r.take(8)
        elif op == ord("."):  # STOP
            _need(len(stack) == 1, where, f"{len(stack)} objects left at STOP, expected 1")
            _need(stack[0] is not MARK, where, "a MARK left at STOP")
            return stack[0], r.pos
        elif op == ord("("):
            stack.append(MARK)
        elif op == ord("0"):  # POP
            _need(stack, where, "POP on an empty stack")
            stack.pop()
        elif op == ord("1"):  # POP_MARK
            _pop_mark(stack, where)
        elif op == ord("2"):  # DUP
            _need(stack, where, "DUP on an empty stack")
            stack.append(stack[-1])
        elif op in (ord("}"), ord("]"), ord(")"), 0x8F):
            stack.append({ord("}"): dict, ord("]"): list, ord(")"): tuple,
                          0x8F: set}[op]())
        elif op in (ord("t"), ord("l"), ord("d"), 0x91):  # TUPLE, LIST, DICT, FROZENSET
            items = _pop_mark(stack, where)
            if op == ord("d"):
                _need(len(items) % 2 == 0, where, "DICT with an odd number of items")
                stack.append(dict(zip(items[::2], items[1::2])))
            else:
                stack.append({ord("t"): tuple, ord("l"): list, 0x91: frozenset}[op](items))
        elif op in (0x85, 0x86, 0x87):  # TUPLE1..3
            n = op - 0x84
            _need(len(stack) >= n and not _has_mark(stack[-n:]), where, "TUPLE of too few items")
            items = tuple(stack[-n:])
            del stack[-n:]
            stack.append(items)
        elif op in (ord("a"), ord("e")):  # APPEND, APPENDS
            if op == ord("a"):
                _need(len(stack) >= 2, where, "APPEND on a short stack")
                items = [stack.pop()]
            else:
                items = _pop_mark(stack, where)
            _need(stack and type(stack[-1]) is list and not _has_mark(items), where,
                  "APPEND to something not a list")
            stack[-1].extend(items)
        elif op in (ord("s"), ord("u")):  # SETITEM, SETITEMS
            if op == ord("s"):
                _need(len(stack) >= 3, where, "SETITEM on a short stack")
                items = stack[-2:]
                del stack[-2:]
            else:
                items = _pop_mark(stack, where)
            _need(len(items) % 2 == 0 and stack and type(stack[-1]) in (dict, OrderedDict)
                  and not _has_mark(items),
                  where, "SETITEM on something not a dict")
            for k, v in zip(items[::2], items[1::2]):
                stack[-1][k] = v
        elif op == 0x90:  # ADDITEMS
            items = _pop_mark(stack, where)
            _need(stack and type(stack[-1]) is set and not _has_mark(items), where,
                  "ADDITEMS to something not a set")
            stack[-1].update(items)
        elif op in (ord("q"), ord("r"), 0x94):  # BINPUT, LONG_BINPUT, MEMOIZE
            idx = len(memo) if op == 0x94 else r.unpack("<B" if op == ord("q") else "<I")
            _need(stack and stack[-1] is not MARK, where, "PUT of a MARK or an empty stack")
            memo[idx] = stack[-1]
        elif op in (ord("h"), ord("j")):  # BINGET, LONG_BINGET
            idx = r.unpack("<B" if op == ord("h") else "<I")
            _need(idx in memo, where, f"memo entry {idx} read before it was written")
            stack.append(memo[idx])
        elif op in (ord("c"), 0x93):  # GLOBAL, STACK_GLOBAL
            if op == ord("c"):
                module, name = r.line(), r.line()
            else:
                _need(len(stack) >= 2, where, "STACK_GLOBAL on a short stack")
                module, name = stack.pop(), stack.pop()
                module, name = name, module
                _need(isinstance(module, str) and isinstance(name, str), where,
                      "STACK_GLOBAL of something not a str")
            full = f"{module}.{name}"
            if full not in globals_:
                raise ForbiddenGlobalError(
                    f"{where}: refuses the global {full!r}: only tensor and storage "
                    "reconstruction and plain containers are admitted (like "
                    "torch.load(weights_only=True)); nothing in the file was run")
            stack.append(globals_[full])
        elif op in (ord("R"), 0x81):  # REDUCE, NEWOBJ
            _need(len(stack) >= 2, where, "REDUCE on a short stack")
            args = stack.pop()
            fn = stack.pop()
            _need(not _has_mark((fn, args)), where, "REDUCE of a MARK")
            stack.append(_call(fn, args, where, admitted))
        elif op == ord("b"):  # BUILD
            _need(len(stack) >= 2 and build is not None, where, "BUILD without an object")
            state = stack.pop()
            _need(not _has_mark((state, stack[-1])), where, "BUILD of a MARK")
            build(stack[-1], state)
        elif op == ord("Q"):  # BINPERSID
            _need(stack and persistent_load is not None, where, "a persistent id where none "
                  "is expected")
            _need(stack[-1] is not MARK, where, "a persistent id that is a MARK")
            stack.append(persistent_load(stack.pop()))
        else:
            _fail(where, f"pickle opcode {bytes([op])!r} at offset {r.pos - 1} is not "
                         "admitted (only the opcodes torch.save writes are read)")
