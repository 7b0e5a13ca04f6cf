"""``axonic.save(obj, f)`` / ``axonic.load(f, map_location=None)``: checkpoints with
``torch.save`` / ``torch.load``'s signatures, without pickle.

A checkpoint is a nested structure of dicts (``OrderedDict`` kept as such), lists and
tuples holding tensors, NumPy arrays, numbers, strings, bools and None: a model's and an
optimizer's state dicts, the iteration, the config. It is written as one safetensors file:

- a flat dict of str -> tensor/array is written exactly as before (tensor names are the
  keys), so any safetensors reader opens it;
- anything else stores each distinct tensor once under its path (``model/fc.weight``)
  and the structure as JSON in the metadata entry ``axonic.tree``; the SHA-256 digest in
  ``axonic.sha256`` covers the tensors and the tree.

``axonic.load`` also reads PyTorch's own ``.pt``/``.pth`` files (zip and legacy formats) by
looking at the first bytes, through a reader that runs no code (see
:mod:`axonic.io.torch_format`).

>>> import io, axonic
>>> ckpt = {"model": {"w": axonic.ones(2)}, "step": 10, "lr": [0.1, None]}
>>> buf = io.BytesIO(); axonic.save(ckpt, buf); _ = buf.seek(0)
>>> back = axonic.load(buf)
>>> back["step"], back["lr"], back["model"]["w"].tolist()
(10, [0.1, None], [1.0, 1.0])
"""

from __future__ import annotations

import json
import math
import os
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from axonic.io.location import placer
from axonic.io.pickle_vm import CheckpointError

MAX_TREE_DEPTH = 100  # containers inside containers; JSON nests about 3 levels per container
_PLAIN = (str, bool, type(None))
_ACCEPTED = ("dicts, lists and tuples of tensors, NumPy arrays, int, float, str, bool and "
             "None")


class _Encoder:
    """Walks a checkpoint, collecting arrays under path names and returning the JSON tree."""

    def __init__(self):
        self.arrays: OrderedDict = OrderedDict()
        self.seen: dict = {}  # id(tensor or array) -> its name, so shared tensors stay shared
        self.keep: list = []  # keeps the walked objects alive while ids are compared

    def name(self, path: list) -> str:
        base = "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in path) or "~"
        name, n = base, 1
        while name in self.arrays:
            n += 1
            name = f"{base}#{n}"
        return name

    def array(self, obj, arr, path: list) -> str:
        if id(obj) in self.seen:
            return self.seen[id(obj)]
        from axonic.io.safetensors import _arrays

        name = self.name(path)
        self.arrays[name] = _arrays({name: arr})[name]
        self.seen[id(obj)] = name
        self.keep.append(obj)
        return name

    def encode(self, obj, path: list, active: set):
        from axonic.autograd.tensor import Tensor

        if isinstance(obj, _PLAIN) or type(obj) is int:
            return obj
        if type(obj) is float:
            return obj if math.isfinite(obj) else {"float": repr(obj)}
        if isinstance(obj, Tensor):
            from axonic.nn.parameter import Parameter

            node = {"tensor": self.array(obj, obj, path), "device": str(obj.device)}
            if obj.requires_grad:
                node["requires_grad"] = True
            if isinstance(obj, Parameter):
                node["parameter"] = True
            return node
        if isinstance(obj, np.ndarray | np.generic):
            return {"ndarray": self.array(obj, np.asarray(obj), path),
                    "scalar": isinstance(obj, np.generic)}
        if len(path) >= MAX_TREE_DEPTH:
            raise ValueError(f"axonic.save: the checkpoint nests deeper than {MAX_TREE_DEPTH} "
                             f"containers at {_where(path)}")
        if id(obj) in active:
            raise ValueError(f"axonic.save: the checkpoint contains itself at {_where(path)}")
        active.add(id(obj))
        try:
            if isinstance(obj, Mapping):
                kind = "odict" if isinstance(obj, OrderedDict) else "dict"
                items = []
                for k, v in obj.items():
                    if not (isinstance(k, _PLAIN) or type(k) in (int, float)):
                        raise TypeError(f"axonic.save: the key {k!r} at {_where(path)} is a "
                                        f"{type(k).__name__}; keys must be str, int, float, "
                                        "bool or None")
                    items.append([self.encode(k, path, active),
                                  self.encode(v, path + [k], active)])
                return {kind: items}
            if isinstance(obj, list | tuple):
                kind = "list" if isinstance(obj, list) else "tuple"
                return {kind: [self.encode(v, path + [i], active) for i, v in enumerate(obj)]}
        finally:
            active.discard(id(obj))
        raise TypeError(f"axonic.save: cannot store the {type(obj).__name__} at {_where(path)};"
                        f" a checkpoint holds {_ACCEPTED}")


def _where(path: list) -> str:
    return "obj" + "".join(f"[{p!r}]" for p in path)


def _is_flat(obj) -> bool:
    from axonic.autograd.tensor import Tensor

    return isinstance(obj, Mapping) and len(obj) > 0 and all(
        isinstance(k, str) and (type(v) is np.ndarray or type(v) is Tensor and not
                                v.requires_grad) for k, v in obj.items())


def save(obj, f, metadata: Mapping[str, str] | None = None, pickle_module=None,
         pickle_protocol: int = 2, _use_new_zipfile_serialization: bool = True) -> None:
    """Save a checkpoint (a state dict, or nested dicts/lists/tuples of tensors, arrays,
    numbers, strings, bools and None) to a path (written atomically) or a binary file
    object, as safetensors. ``torch.save``'s pickle arguments are accepted for call-site
    compatibility; the file is always safetensors (``pickle_module`` must be None).

    >>> import os, tempfile, axonic
    >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.pt")
    >>> axonic.save({"epoch": 3, "state": {"w": axonic.zeros(2)}}, path)
    >>> axonic.load(path)["epoch"]
    3
    """
    from axonic.io.safetensors import _arrays, encode_and_write

    if pickle_module is not None:
        raise TypeError("axonic.save: pickle_module must be None; axonic writes safetensors "
                        "and never pickles")
    if _is_flat(obj):
        encode_and_write(_arrays(obj), f, metadata)
        return
    enc = _Encoder()
    tree = json.dumps(enc.encode(obj, [], set()), allow_nan=False)
    encode_and_write(enc.arrays, f, metadata, tree=tree)


class _Decoder:
    def __init__(self, arrays: Mapping, place, where: str):
        self.arrays, self.place, self.where = arrays, place, where
        self.made: dict = {}  # name -> Tensor, so a tensor saved once is one object again

    def fail(self, why: str):
        raise CheckpointError(f"axonic.load: {self.where} has a corrupted checkpoint tree: {why}")

    def array(self, node, key: str):
        name = node.get(key)
        if not isinstance(name, str) or name not in self.arrays:
            self.fail(f"{key} {name!r} is not one of the file's tensors")
        return name, self.arrays[name]

    def decode(self, node):
        if isinstance(node, _PLAIN) or type(node) in (int, float):
            return node
        if isinstance(node, list) or not isinstance(node, dict) or len(node) == 0:
            self.fail(f"a node is a {type(node).__name__}")
        if "tensor" in node:
            return self.tensor(node)
        if "ndarray" in node:
            arr = self.array(node, "ndarray")[1]
            return arr[()] if node.get("scalar") is True and arr.ndim == 0 else arr
        if len(node) != 1:
            self.fail(f"a node has the keys {sorted(node)[:5]}")
        (kind, value), = node.items()
        if kind == "float" and value in ("nan", "inf", "-inf"):
            return float(value)
        if not isinstance(value, list):
            self.fail(f"a {kind!r} node holds a {type(value).__name__}")
        if kind in ("list", "tuple"):
            items = [self.decode(v) for v in value]
            return items if kind == "list" else tuple(items)
        if kind in ("dict", "odict"):
            out = OrderedDict() if kind == "odict" else {}
            for pair in value:
                if not (isinstance(pair, list) and len(pair) == 2):
                    self.fail("a dict item is not a [key, value] pair")
                key = self.decode(pair[0])
                if not (isinstance(key, _PLAIN) or type(key) in (int, float)):
                    self.fail(f"a dict key is a {type(key).__name__}")
                out[key] = self.decode(pair[1])
            return out
        self.fail(f"unknown node kind {kind!r}")

    def tensor(self, node):
        from axonic.autograd.tensor import _make
        from axonic.io.torch_format import Storage

        name, arr = self.array(node, "tensor")
        if name in self.made:
            return self.made[name]
        location = node.get("device", "cpu")
        if not isinstance(location, str):
            self.fail(f"tensor {name!r} has device {location!r}")
        dev = self.place(Storage(arr, location, arr.dtype.name))
        t = _make(arr) if dev.type == "cpu" else _make(arr).to(dev)
        if node.get("parameter") is True:
            from axonic.nn.parameter import Parameter

            t = Parameter(t, requires_grad=node.get("requires_grad") is True)
        elif node.get("requires_grad") is True and arr.dtype.kind in "fc":
            t.requires_grad_(True)
        self.made[name] = t
        return t


def _read_source(f):
    """(the bytes, an open binary file for a zip-format path, or None for a safetensors
    path; the path or a name for errors; the detected format)."""
    from axonic.io.guarded import UnsafeFileError, open_regular, read_fd

    if hasattr(f, "read"):
        data = f.read()
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(f"axonic.load: the file object returned {type(data).__name__}; "
                            "open it in binary mode ('rb')")
        data = bytes(data)
        return data, str(getattr(f, "name", "<file object>")), _detect(data[:32])
    if not isinstance(f, str | bytes | os.PathLike):
        raise TypeError(f"axonic.load: expected a path or a binary file object; got "
                        f"{type(f).__name__}")
    path = os.fspath(f)
    path = path.decode() if isinstance(path, bytes) else path
    if not os.path.lexists(path):
        raise FileNotFoundError(f"axonic.load: no such file: {path!r}")
    try:
        fd, size = open_regular(os.path.realpath(path))
    except UnsafeFileError as e:
        raise ValueError(f"axonic.load: {e}") from None
    except FileNotFoundError:
        raise FileNotFoundError(f"axonic.load: {path!r} is a link to a missing file") from None
    try:
        kind = _detect(read_fd(fd, min(size, 32)))
        os.lseek(fd, 0, os.SEEK_SET)
        if kind == "zip":  # read record by record, not the whole file at once
            os.set_blocking(fd, True)
            src, fd = os.fdopen(fd, "rb"), None
            return src, path, kind
        return (None if kind == "safetensors" else read_fd(fd, size)), path, kind
    finally:
        if fd is not None:
            os.close(fd)


_LEGACY_MAGIC = bytes.fromhex("6cfc9c46f9206aa85019")  # MAGIC_NUMBER's bytes in LONG1


def _detect(head: bytes) -> str:
    """The format from a file's first 32 bytes. A safetensors header length can start with
    0x80 0x02 too, but then byte 8 opens its JSON header."""
    if head[:4] == b"PK\x03\x04":
        return "zip"
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05") and (
            _LEGACY_MAGIC in head or head[8:9] != b"{"):
        return "legacy"  # or another pickle, which the legacy reader refuses cleanly
    return "safetensors"


def load(f, map_location=None, pickle_module=None, *, weights_only: bool | None = True,
         mmap=None, device=None):
    """Load what :func:`save` wrote, a plain safetensors file, or a PyTorch ``.pt``/``.pth``
    file (zip or legacy format), from a path or a binary file object.

    ``map_location`` is ``torch.load``'s: None (each tensor where it was saved), ``"cpu"``,
    ``"cuda:0"`` or a device (everything there), a dict of saved location -> location, or
    a callable ``(storage, location)`` given the storage as a flat Tensor that returns a
    Tensor (its device is used), a device, or None for the default. ``device=`` is the
    same as a str ``map_location``. Nothing is ever unpickled with Python's pickle, and no
    code in a file runs, whatever ``weights_only`` says (it is accepted for
    compatibility). ``mmap`` is accepted and ignored (files are read into memory).

    Errors: ``FileNotFoundError``; :class:`axonic.io.CheckpointError` (a ``ValueError``)
    naming the file for a corrupted or truncated one; ``ForbiddenGlobalError`` (a
    ``CheckpointError``) naming a refused global such as ``os.system``.

    >>> import io, axonic
    >>> buf = io.BytesIO(); axonic.save({"w": [axonic.ones(1)]}, buf); _ = buf.seek(0)
    >>> axonic.load(buf, map_location="cpu")["w"][0].device
    device(type='cpu')
    """
    from axonic.io import safetensors as st

    if pickle_module is not None:
        raise TypeError("axonic.load: pickle_module must be None; axonic reads checkpoints "
                        "without pickle")
    if device is not None:
        if map_location is not None:
            raise TypeError("axonic.load: pass map_location or device, not both")
        map_location = device
    from axonic.autograd.tensor import _make

    data, path, kind = _read_source(f)
    where = repr(path)
    try:
        place = placer(map_location, where)
    except BaseException:
        if hasattr(data, "close"):
            data.close()
        raise
    if kind in ("zip", "legacy"):
        return _load_torch(data, where, kind, place)
    arrays, meta = st.read(path) if data is None else st.read_bytes(data, path)
    if st._TREE not in meta:
        from axonic.io.torch_format import Storage

        out = OrderedDict()
        for k, a in arrays.items():
            t = _make(a)
            dev = place(Storage(a, "cpu", a.dtype.name))
            out[k] = t if dev.type == "cpu" else t.to(dev)
        return out
    from axonic.io.guarded import UnsafeFileError, parse_json

    try:
        tree = parse_json(meta[st._TREE].encode(), where, max_depth=4 * MAX_TREE_DEPTH)
    except UnsafeFileError as e:
        raise CheckpointError(f"axonic.load: {e}") from None
    return _Decoder(arrays, place, where).decode(tree)


def _load_torch(data, where: str, kind: str, place):
    import struct
    import zipfile
    import zlib

    from axonic.io.torch_format import read_legacy, read_zip

    try:
        if kind == "legacy":
            obj, reader = read_legacy(data, where, place)
        elif isinstance(data, bytes):
            obj, reader = read_zip(data, len(data), where, place)
        else:
            with data:
                obj, reader = read_zip(data, os.fstat(data.fileno()).st_size, where, place)
    except CheckpointError as e:
        raise type(e)(f"axonic.load: {e}") from None
    except (ValueError, TypeError, KeyError, IndexError, OverflowError, EOFError, MemoryError,
            RecursionError, NotImplementedError, OSError, struct.error, zipfile.BadZipFile,
            zlib.error) as e:
        raise CheckpointError(f"axonic.load: {where} is not a readable PyTorch file "
                              f"(truncated or corrupted?): {type(e).__name__}: {e}") from None
    reader.place_all()
    return obj
