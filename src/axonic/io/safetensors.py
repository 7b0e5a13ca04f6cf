"""``axonic.save`` / ``axonic.load``: state dicts as safetensors files.

The file is a plain safetensors file (readable by ``safetensors.safe_open``, ``load_file``
and the PyTorch loader of the safetensors package) with three metadata entries: the key order, the
format, and a SHA-256 digest of the tensors so a corrupted file is detected on load.
Writing goes to a temporary file in the same folder that replaces the target only once
it is complete and synced, so an interrupted save never damages an existing file.
Nothing is ever unpickled.
"""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from axonic.autograd.tensor import Tensor, _make
from axonic.backend import to_numpy

_KEYS = "axonic.keys"
_DIGEST = "axonic.sha256"
_TREE = "axonic.tree"  # a nested checkpoint's structure (see axonic.io.checkpoint)
_ACCEPTED = ("a flat mapping of str -> axonic.Tensor or numpy.ndarray, such as "
             "model.state_dict()")


def _import_safetensors(fn: str):
    try:
        import safetensors.numpy
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"axonic.{fn} needs the 'safetensors' package: pip install safetensors "
            "(or pip install 'axonic[extras]')") from None
    return safetensors


def _arrays(obj) -> OrderedDict:
    if not isinstance(obj, Mapping):
        raise TypeError(f"axonic.save: expected {_ACCEPTED}; got {type(obj).__name__}")
    out = OrderedDict()
    for k, v in obj.items():
        if not isinstance(k, str):
            raise TypeError(
                f"axonic.save: expected {_ACCEPTED}; key {k!r} is a {type(k).__name__}, "
                "not a str")
        if isinstance(v, Tensor):
            a = to_numpy(v._data)
        elif isinstance(v, np.ndarray | np.generic):
            a = np.asarray(v)
        else:
            hint = (" (nested mappings are not accepted: flatten them to dotted keys)"
                    if isinstance(v, Mapping) else "")
            raise TypeError(
                f"axonic.save: expected {_ACCEPTED}; key {k!r} holds a {type(v).__name__}"
                f"{hint}")
        if a.dtype.byteorder == ">":
            a = a.astype(a.dtype.newbyteorder("<"))
        out[k] = a if a.flags.c_contiguous else np.ascontiguousarray(a)  # keeps 0-d as 0-d
    return out


def _digest(arrays: Mapping, tree: str = "") -> str:
    import hashlib

    h = hashlib.sha256(tree.encode())  # empty for flat files, so their digest is unchanged
    for k, a in arrays.items():
        h.update(json.dumps([k, a.dtype.str, list(a.shape)]).encode())
        h.update(a.reshape(-1).view(np.uint8) if a.size else b"")  # bfloat16 too
    return h.hexdigest()


def save(obj, path, metadata: Mapping[str, str] | None = None) -> None:
    """Write a state dict (str -> Tensor or NumPy array) to ``path`` as safetensors.

    ``metadata`` adds str -> str entries to the file header. The write is atomic.

    >>> import os, tempfile, axonic
    >>> path = os.path.join(tempfile.mkdtemp(), "w.safetensors")
    >>> axonic.save({"weight": axonic.ones(2, 3), "step": axonic.tensor(7)}, path)
    >>> sd = axonic.load(path)
    >>> list(sd), sd["step"].item()
    (['weight', 'step'], 7)
    """
    encode_and_write(_arrays(obj), path, metadata)


def encode_and_write(arrays: OrderedDict, f, metadata: Mapping[str, str] | None = None,
                     tree: str = "") -> None:
    """Write ``arrays`` (str -> contiguous little-endian array) as safetensors to a path
    (atomically) or a binary file object; ``tree`` is a nested checkpoint's JSON tree."""
    st = _import_safetensors("save")
    meta = {str(k): str(v) for k, v in (metadata or {}).items()}
    meta.update({"format": "np", _KEYS: json.dumps(list(arrays)),
                 _DIGEST: _digest(arrays, tree)})
    if tree:
        meta[_TREE] = tree
    data = st.numpy.save(dict(arrays), metadata=meta)
    if hasattr(f, "write"):
        f.write(data)
        return
    _write_atomic(data, os.fspath(f))


def _write_atomic(data: bytes, path: str) -> None:
    import tempfile

    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"axonic.save: folder {folder!r} does not exist (saving {path!r})")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".",
                               suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    try:  # make the rename itself durable
        dfd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory handles
        return
    try:
        os.fsync(dfd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(dfd)


MAX_HEADER_BYTES = 100 * 2**20  # the safetensors format's own limit on the header


def _bfloat16(raw, shape, key: str, where) -> np.ndarray:
    """A BF16 tensor's little-endian bytes as an ``ml_dtypes.bfloat16`` array (the dtype
    of axonic's bfloat16 tensors), bit for bit."""
    from axonic.backend.dtypes import bfloat16_dtype

    try:
        dtype = bfloat16_dtype()
    except ImportError:
        raise ImportError(f"axonic.load: tensor {key!r} in {where!r} is bfloat16, which needs "
                          "ml_dtypes: pip install 'axonic[bf16]'") from None
    return np.frombuffer(raw, "<u2").view(dtype).reshape(shape)


def _unsupported(key: str, where, dtype) -> TypeError:
    return TypeError(
        f"axonic.load: tensor {key!r} in {where!r} has dtype {dtype}, which NumPy (and so "
        "axonic) cannot hold; convert it (e.g. to float32) before saving")


def _get_tensor(f, key: str, path: str, header: dict, fd: int):
    """One tensor of an open file; BF16 ones read from ``fd`` at the header's offsets (the
    safetensors package's NumPy reader has no bfloat16)."""
    entry = header.get(key, {})
    if entry.get("dtype") == "BF16":
        begin, end = entry["data_offsets"]  # checked by safe_open against the file's size
        start = 8 + header["__length__"] + begin
        return _bfloat16(os.pread(fd, end - begin, start), entry["shape"], key, path)
    try:
        arr = f.get_tensor(key)
        # with ml_dtypes imported, safetensors may hand back float8 arrays: refuse them too,
        # whatever was imported before
        if arr.dtype.type.__module__ == "numpy":
            return arr
    except (TypeError, AttributeError):  # a dtype NumPy has no type for, e.g. float8
        pass
    raise _unsupported(key, path, f.get_slice(key).get_dtype()) from None


def _corrupt(path, why: str) -> ValueError:
    return ValueError(f"axonic.load: {path!r} is not a readable safetensors file (truncated "
                      f"or corrupted?): {why}")


def _header(head: bytes, size: int, path) -> dict:
    """The JSON header of a safetensors file of ``size`` bytes starting with ``head``."""
    import struct

    from axonic.io.guarded import UnsafeFileError, parse_json

    if size < 8 or len(head) < 8:
        raise _corrupt(path, f"{size} bytes, fewer than the 8-byte header length")
    (n,) = struct.unpack("<Q", head[:8])
    if n > min(size - 8, MAX_HEADER_BYTES):
        raise _corrupt(path, f"a header of {n} bytes in a {size}-byte file")
    try:
        header = parse_json(head[8:8 + n], repr(path))
    except UnsafeFileError as e:
        raise _corrupt(path, str(e)) from None
    if not isinstance(header, dict):
        raise _corrupt(path, "the header is not a JSON object")
    meta = header.get("__metadata__", {})
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise _corrupt(path, "__metadata__ is not a mapping of str -> str")
    header["__length__"] = n  # where the data begins: 8 + n
    return header


def _ordered(arrays: dict, meta: dict, path) -> OrderedDict:
    """The arrays in axonic's saved key order, checked against the saved digest."""
    order = list(arrays)
    if _KEYS in meta:
        try:
            order = json.loads(meta[_KEYS])
        except (ValueError, RecursionError):
            order = None
        if (not isinstance(order, list) or not all(isinstance(k, str) for k in order)
                or sorted(order) != sorted(arrays)):
            raise ValueError(f"axonic.load: {path!r} is corrupted: its key list does not match "
                             "the tensors it holds")
    ordered = OrderedDict((k, arrays[k]) for k in order)
    if _DIGEST in meta and _digest(ordered, meta.get(_TREE, "")) != meta[_DIGEST]:
        raise ValueError(
            f"axonic.load: {path!r} is corrupted: the tensors do not match the checksum "
            "written with them")
    return ordered


def _tensors(ordered: OrderedDict, device) -> OrderedDict:
    out = OrderedDict()
    for k, a in ordered.items():
        t = _make(a)
        out[k] = t if device is None else t.to(device)
    return out


_NUMPY_TYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4",
                "I16": "<i2", "I8": "i1", "U64": "<u8", "U32": "<u4", "U16": "<u2", "U8": "u1",
                "BOOL": "?"}


def _decode(data: bytes, where) -> dict:
    """str -> array of a safetensors file's bytes (``safetensors.deserialize`` checks the
    header and the offsets); BF16 tensors as bfloat16, which the package's NumPy reader
    does not read."""
    from safetensors import deserialize

    arrays = {}
    for name, t in deserialize(data):
        if t["dtype"] == "BF16":
            arrays[name] = _bfloat16(t["data"], t["shape"], name, where)
        elif t["dtype"] in _NUMPY_TYPES:
            arrays[name] = np.frombuffer(t["data"], _NUMPY_TYPES[t["dtype"]]).reshape(t["shape"])
        else:
            raise _unsupported(name, where, t["dtype"])
    return arrays


def loads(data: bytes, where: str = "<bytes>") -> OrderedDict:
    """``load`` for the bytes of a safetensors file: str -> NumPy array, checked the same
    way (``where`` names the source in errors).

    >>> import axonic, safetensors.numpy, numpy as np
    >>> list(loads(safetensors.numpy.save({"a": np.zeros(2)})))
    ['a']
    """
    return read_bytes(data, where)[0]


def read_bytes(data: bytes, where: str = "<bytes>") -> tuple[OrderedDict, dict]:
    """``loads`` that also returns the file's metadata."""
    _import_safetensors("load")
    from safetensors import SafetensorError

    header = _header(data[:8 + MAX_HEADER_BYTES], len(data), where)
    try:
        arrays = _decode(data, where)
    except (SafetensorError, ValueError) as e:
        raise _corrupt(where, str(e)) from None
    meta = header.get("__metadata__", {})
    return _ordered(arrays, meta, where), meta


def load(path, device=None) -> OrderedDict:
    """Read a safetensors file into an ordered dict of str -> Tensor (in the saved order
    when axonic wrote it), optionally moved to ``device``.

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` naming the path for a
    truncated, corrupted or non-safetensors file, a FIFO, a device or a folder (only
    regular files are opened, so a FIFO never blocks).

    >>> import os, tempfile, axonic
    >>> path = os.path.join(tempfile.mkdtemp(), "m.safetensors")
    >>> axonic.save({"b": axonic.zeros(1), "a": axonic.ones(1)}, path)
    >>> list(axonic.load(path))
    ['b', 'a']
    """
    return _tensors(read(path)[0], device)


def read(path) -> tuple[OrderedDict, dict]:
    """``load``'s checked arrays (str -> NumPy array) and the file's metadata."""
    _import_safetensors("load")
    from safetensors import SafetensorError, safe_open

    from axonic.io.guarded import UnsafeFileError, open_regular, read_fd

    path = os.fspath(path)
    if not os.path.lexists(path):
        raise FileNotFoundError(f"axonic.load: no such file: {path!r}")
    try:  # follows a symlink the user named, but never blocks on a FIFO
        fd, size = open_regular(os.path.realpath(path))
    except UnsafeFileError as e:
        raise ValueError(f"axonic.load: {e}") from None
    except FileNotFoundError:
        raise FileNotFoundError(f"axonic.load: {path!r} is a link to a missing file") from None
    try:
        head = read_fd(fd, min(size, 8))
        if len(head) == 8:
            import struct

            n = min(struct.unpack("<Q", head)[0], MAX_HEADER_BYTES, size - 8)
            head += read_fd(fd, n)
    finally:
        os.close(fd)
    header = _header(head, size, path)
    try:
        with safe_open(path, framework="numpy") as f:
            fd, _ = open_regular(os.path.realpath(path))
            try:
                arrays = {k: _get_tensor(f, k, path, header, fd) for k in f.keys()}
            finally:
                os.close(fd)
    except (SafetensorError, OSError, ValueError) as e:
        raise _corrupt(path, str(e)) from None
    meta = header.get("__metadata__", {})
    return _ordered(arrays, meta, path), meta
