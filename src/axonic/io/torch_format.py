"""Reading PyTorch ``.pt`` / ``.pth`` files without PyTorch and without running their code.

Both formats ``torch.save`` writes are read:

- the zip format (PyTorch >= 1.6): ``<name>/data.pkl`` holds the object, each storage is
  the raw bytes of ``<name>/data/<key>``, ``<name>/byteorder`` says ``little`` or ``big``;
- the legacy format (``_use_new_zipfile_serialization=False``): pickled magic number,
  protocol version and system info, the pickled object, the pickled list of storage keys,
  then each storage as a little-endian int64 element count and its little-endian bytes.

The pickles go through :func:`axonic.io.pickle_vm.unpickle`, which admits only the globals
below (tensor/storage reconstruction, ``OrderedDict``, dtypes, devices: what
``torch.load(weights_only=True)`` admits) and refuses every other global by name. Tensors
that share a storage come back as NumPy views of one buffer, with their offsets and
strides; bfloat16 storages are widened to float32 (exact: bfloat16 is the top half of a
float32). Containers come back as they were saved (dict, OrderedDict, list, tuple).
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections import Counter, OrderedDict

import numpy as np

from axonic.io.pickle_vm import CheckpointError, ForbiddenGlobalError, unpickle

MAGIC = 0x1950A86A20F9469CFC6C  # torch.serialization.MAGIC_NUMBER
LEGACY_PROTOCOL = 1001
_STORAGE_DTYPES = {
    "Double": "float64", "Float": "float32", "Half": "float16", "BFloat16": "bfloat16",
    "Long": "int64", "Int": "int32", "Short": "int16", "Char": "int8", "Byte": "uint8",
    "Bool": "bool", "ComplexFloat": "complex64", "ComplexDouble": "complex128",
}
_TORCH_DTYPES = {
    "float64": "float64", "double": "float64", "float32": "float32", "float": "float32",
    "float16": "float16", "half": "float16", "int64": "int64", "long": "int64",
    "int32": "int32", "int": "int32", "int16": "int16", "short": "int16", "int8": "int8",
    "uint8": "uint8", "bool": "bool", "complex64": "complex64", "complex128": "complex128",
    "bfloat16": "bfloat16",
}
_UNSUPPORTED = {  # admitted by torch's weights-only reader, refused here with the reason
    "_rebuild_qtensor": "quantized tensors", "_rebuild_sparse_tensor": "sparse tensors",
    "_rebuild_sparse_csr_tensor": "sparse tensors", "_rebuild_nested_tensor": "nested tensors",
    "_rebuild_meta_tensor_no_storage": "meta tensors", "_rebuild_wrapper_subclass":
    "tensor subclasses", "_rebuild_device_tensor_from_numpy": "device tensors from NumPy",
    "_rebuild_mkldnn_tensor": "MKL-DNN tensors", "_rebuild_xla_tensor": "XLA tensors",
    "_rebuild_mtia_tensor": "MTIA tensors", "_rebuild_device_tensor_from_cpu_tensor":
    "device tensors",
}


class StorageType:
    """``torch.FloatStorage`` and friends as they appear in a persistent id (``dtype`` None:
    a quantized storage, refused when used)."""

    def __init__(self, dtype: str | None, name: str = ""):
        self.dtype, self.name = dtype, name

    def __call__(self, *args):
        raise ForbiddenGlobalError("pickle data calls a storage class directly; storages "
                                   "come only from persistent ids")


class Storage:
    """One storage: a flat NumPy array (bfloat16 already widened) and where it was saved."""

    def __init__(self, array: np.ndarray, location: str, dtype: str):
        self.array, self.location, self.dtype, self.filled = array, location, dtype, False


class _Tensor:
    """Marks the class arguments of ``_rebuild_from_type_v2``."""

    def __init__(self, name: str):
        self.name = name

    def __call__(self, *args):
        raise ForbiddenGlobalError(f"pickle data calls torch.{self.name}(...) directly; only "
                                   "the tensor rebuild functions are admitted")


def _itemsize(dtype: str) -> int:
    return 2 if dtype == "bfloat16" else np.dtype(dtype).itemsize


def _decode(raw, dtype: str, big_endian: bool) -> np.ndarray:
    """Bytes of a storage -> a writable flat array (bfloat16 widened to float32)."""
    order = ">" if big_endian else "<"
    if dtype == "bfloat16":
        u16 = np.frombuffer(raw, np.dtype(order + "u2")).astype(np.uint32)
        return (u16 << 16).view(np.float32)
    arr = np.frombuffer(raw, np.dtype(dtype).newbyteorder(order))
    return arr.astype(np.dtype(dtype), copy=True)  # native order, writable, owns its memory


def _empty(dtype: str, numel: int) -> np.ndarray:
    return np.empty(numel, np.float32 if dtype == "bfloat16" else np.dtype(dtype))


def _overlaps(shape, strides) -> bool:
    """Whether a strided view maps two indices to one element (e.g. an ``expand``)."""
    dims = sorted((s, n) for n, s in zip(shape, strides) if n > 1)
    extent = 1
    for s, n in dims:
        if s < extent:
            return True
        extent = s * (n - 1) + extent
    return False


class TorchReader:
    """Reads one PyTorch file's bytes; ``where`` names it in every error."""

    def __init__(self, size: int, where: str, place):
        self.size, self.where, self.place = size, where, place
        self.storages: dict = {}
        self.made: dict = {}  # id(tensor) -> (tensor, storage), placed once data is in

    def fail(self, why: str):
        raise CheckpointError(f"{self.where}: {why}")

    # -- the admitted globals -------------------------------------------------------------
    def globals_(self) -> dict:
        g = {
            "collections.OrderedDict": self._ordered_dict, "collections.Counter": Counter,
            "torch._utils._rebuild_tensor_v2": self._rebuild_tensor,
            "torch._utils._rebuild_tensor": self._rebuild_tensor,
            "torch._utils._rebuild_parameter": self._rebuild_parameter,
            "torch._utils._rebuild_parameter_with_state": self._rebuild_parameter,
            "torch._tensor._rebuild_from_type_v2": self._rebuild_from_type,
            "torch.Tensor": _Tensor("Tensor"), "torch.nn.parameter.Parameter":
            _Tensor("Parameter"), "torch.Size": lambda *a: tuple(*a),
            "torch.device": self._device, "torch.storage.UntypedStorage": StorageType("uint8"),
            "torch.UntypedStorage": StorageType("uint8"),
            "_codecs.encode": self._encode,
        }
        for fn in (set, frozenset, self._bytearray, complex):  # protocol 2 says __builtin__
            name = fn.__name__.strip("_")
            g[f"builtins.{name}"] = g[f"__builtin__.{name}"] = fn
        for name in ("QInt8", "QUInt8", "QInt32", "QUInt4x2", "QUInt2x4"):
            g[f"torch.{name}Storage"] = StorageType(None, f"torch.{name}Storage")
        for name, dtype in _STORAGE_DTYPES.items():
            g[f"torch.{name}Storage"] = g[f"torch.cuda.{name}Storage"] = StorageType(dtype)
        for name, dtype in _TORCH_DTYPES.items():
            g[f"torch.{name}"] = np.dtype(dtype) if dtype != "bfloat16" else "bfloat16"
        for name, what in _UNSUPPORTED.items():
            g[f"torch._utils.{name}"] = self._refuse(name, what)
        return g

    def _refuse(self, name: str, what: str):
        def refuse(*args):
            raise ForbiddenGlobalError(f"{self.where}: holds {what} (torch._utils.{name}), "
                                       "which axonic does not read")
        return refuse

    def _ordered_dict(self, items=()):
        if not isinstance(items, list | tuple) or not all(
                isinstance(p, tuple) and len(p) == 2 for p in items):
            self.fail("pickle data builds an OrderedDict from something not a list of pairs")
        return OrderedDict(items)

    def _bytearray(self, data=b""):
        if not isinstance(data, bytes | str):  # bytearray(10**9) would allocate a gigabyte
            self.fail("pickle data builds a bytearray from something not bytes")
        return bytearray(data.encode("latin1") if isinstance(data, str) else data)

    def _encode(self, text, encoding="utf-8"):
        if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
            self.fail("pickle data calls _codecs.encode with arguments that are not "
                      "(str, 'latin1')")
        return text.encode("latin1")

    def _device(self, kind, index=None):
        if not isinstance(kind, str) or not (index is None or isinstance(index, int)):
            self.fail("pickle data builds a device from something not (str, int)")
        from axonic.backend.device import Device

        name = kind if index is None else f"{kind}:{index}"
        typ, _, idx = name.partition(":")
        return Device(typ, int(idx) if idx.isdigit() else None)

    def build(self, obj, state):
        """``BUILD``: an OrderedDict's attributes (a state dict's ``_metadata``)."""
        if type(obj) is OrderedDict and isinstance(state, dict) and all(
                isinstance(k, str) and not k.startswith("__") for k in state):
            obj.__dict__.update(state)
            return
        from axonic.autograd.tensor import Tensor

        if isinstance(obj, Tensor) and isinstance(state, dict | tuple | type(None)):
            return  # a tensor's Python attributes: axonic tensors carry none
        self.fail(f"pickle data sets the state of a {type(obj).__name__}, which is refused")

    # -- tensors ---------------------------------------------------------------------------
    def _rebuild_tensor(self, storage, offset, size, stride, requires_grad=False,
                        hooks=None, metadata=None):
        from axonic.autograd.tensor import _make

        if not isinstance(storage, Storage):
            self.fail("a tensor is rebuilt from something that is not a storage")
        if not (isinstance(offset, int) and isinstance(size, tuple) and isinstance(stride, tuple)
                and len(size) == len(stride) <= 64
                and all(type(n) is int and n >= 0 for n in size + stride) and offset >= 0):
            self.fail(f"a tensor has an invalid layout (offset {offset!r}, size {size!r}, "
                      f"stride {stride!r})")
        if hooks:
            self.fail("a tensor carries backward hooks, which cannot be restored")
        arr = storage.array
        numel = int(np.prod(size, dtype=object))
        last = offset + sum((n - 1) * s for n, s in zip(size, stride))
        if numel and last >= arr.size:
            self.fail(f"a tensor of size {list(size)} (stride {list(stride)}, offset "
                      f"{offset}) reaches element {last} of a storage of {arr.size}")
        if numel == 0:
            view = np.zeros(size, arr.dtype)
        else:
            item = arr.itemsize
            view = np.lib.stride_tricks.as_strided(
                arr[offset:], shape=size, strides=[s * item for s in stride],
                writeable=not _overlaps(size, stride))
        t = _make(view)
        self.made[id(t)] = (t, storage)
        if requires_grad is True and view.dtype.kind in "fc":
            t.requires_grad_(True)
        return t

    def _rebuild_parameter(self, data, requires_grad, hooks, state=None):
        from axonic.autograd.tensor import Tensor
        from axonic.nn.parameter import Parameter

        if not isinstance(data, Tensor) or hooks:
            self.fail("a Parameter is rebuilt from something not a tensor, or with hooks")
        p = Parameter(data, requires_grad=bool(requires_grad) and data.dtype.kind == "f")
        if id(data) in self.made:
            self.made[id(p)] = (p, self.made.pop(id(data))[1])
        return p

    def _rebuild_from_type(self, func, new_type, args, state):
        method = getattr(func, "__func__", None)  # identity checks: func may be any object
        if not (getattr(func, "__self__", None) is self and method in (
                TorchReader._rebuild_tensor, TorchReader._rebuild_parameter)
                and isinstance(new_type, _Tensor) and isinstance(args, tuple)):
            self.fail("pickle data calls _rebuild_from_type_v2 with unexpected arguments")
        t = func(*args)
        if new_type.name == "Parameter":
            t = self._rebuild_parameter(t, True, None)
        return t

    def storage(self, dtype: str, key, location, numel) -> Storage:
        if not (isinstance(key, str) and isinstance(location, str) and type(numel) is int
                and numel >= 0):
            self.fail(f"a storage reference is malformed ({key!r}, {location!r}, {numel!r})")
        if key in self.storages:
            st = self.storages[key]
            if st.dtype != dtype or st.array.size != numel:
                self.fail(f"storage {key!r} is referenced with two different types or sizes")
            return st
        if numel * _itemsize(dtype) > self.size:
            self.fail(f"storage {key!r} claims {numel} elements, more than the file holds")
        st = self.storages[key] = Storage(_empty(dtype, numel), location, dtype)
        return st

    def place_all(self):
        """Move each tensor to the device its storage's location maps to."""
        for t, st in self.made.values():
            dev = self.place(st)
            if dev.type != "cpu":
                from axonic.backend.device import to_device

                t._data = to_device(t._data, dev)


def _pid_parts(pid, n: int, where: str):
    if not (isinstance(pid, tuple) and len(pid) == n and pid[0] in ("storage", b"storage")
            and isinstance(pid[1], StorageType)):
        kind = pid[0] if isinstance(pid, tuple) and pid else pid
        raise CheckpointError(f"{where}: a persistent id {kind!r} is not a storage reference "
                              "(saved modules and other objects are refused)")
    if pid[1].dtype is None:
        raise ForbiddenGlobalError(f"{where}: holds quantized tensors ({pid[1].name}), which "
                                   "axonic does not read")
    return pid[1:]


def read_zip(src, size: int, where: str, place):
    """The object of a zip-format ``torch.save`` file and its reader (whose ``place_all``
    moves the tensors to their devices). ``src`` is the file's bytes or a seekable binary
    file of ``size`` bytes (records are then read one at a time)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(src) if isinstance(src, bytes) else src)
        names = zf.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error) as e:
        raise CheckpointError(f"{where}: not a readable zip archive ({e})") from None
    if any(n.endswith("constants.pkl") or "/code/" in n for n in names):
        raise CheckpointError(f"{where}: a TorchScript archive (torch.jit.save); axonic reads "
                              "torch.save files, not scripted code")
    pkl = sorted(n for n in names if n.endswith("data.pkl") and n.count("/") <= 1)
    if not pkl:
        raise CheckpointError(f"{where}: a zip archive without data.pkl (not a torch.save file)")
    prefix = pkl[0][:-len("data.pkl")]

    def record(name: str) -> bytes:
        info = zf.getinfo(prefix + name)
        if info.file_size > 1024 * size + 2**20:
            raise CheckpointError(f"{where}: record {name} claims {info.file_size} bytes")
        return zf.read(info)

    reader = TorchReader(size, where, place)
    big = False
    if prefix + "byteorder" in names:
        order = record("byteorder")
        if order not in (b"little", b"big"):
            raise CheckpointError(f"{where}: byteorder record is {order[:20]!r}, expected "
                                  "b'little' or b'big'")
        big = order == b"big"

    def persistent_load(pid):
        stype, key, location, numel = _pid_parts(pid, 5, where)
        st = reader.storage(stype.dtype, key, location, numel)
        if not st.filled:
            try:
                raw = record(f"data/{key}")
            except KeyError:
                raise CheckpointError(f"{where}: storage data/{key} is missing") from None
            if len(raw) != numel * _itemsize(stype.dtype):
                raise CheckpointError(f"{where}: storage data/{key} has {len(raw)} bytes, "
                                      f"{numel} elements of {stype.dtype} need "
                                      f"{numel * _itemsize(stype.dtype)}")
            st.array, st.filled = _decode(raw, stype.dtype, big), True
        return st

    obj, _ = unpickle(record("data.pkl"), where, reader.globals_(),
                      persistent_load=persistent_load, build=reader.build)
    return obj, reader


def read_legacy(data: bytes, where: str, place):
    """``read_zip`` for a legacy-format (non-zip) ``torch.save`` file."""
    magic, pos = unpickle(data, where, {})
    if magic != MAGIC:
        raise CheckpointError(f"{where}: not a PyTorch file (wrong magic number)")
    proto, pos = unpickle(data, where, {}, pos)
    if proto != LEGACY_PROTOCOL:
        raise CheckpointError(f"{where}: legacy protocol version {proto!r}, expected 1001")
    info, pos = unpickle(data, where, {}, pos)
    if not isinstance(info, dict):
        raise CheckpointError(f"{where}: the system info record is not a dict")
    reader = TorchReader(len(data), where, place)

    def persistent_load(pid):
        stype, key, location, numel, view = _pid_parts(pid, 6, where)
        st = reader.storage(stype.dtype, key, location, numel)
        if view is None:
            return st
        if not (isinstance(view, tuple) and len(view) == 3 and all(
                type(v) is int and v >= 0 for v in view[1:]) and view[1] + view[2] <= numel):
            raise CheckpointError(f"{where}: a storage view {view!r} is malformed")
        return Storage(st.array[view[1]:view[1] + view[2]], st.location, st.dtype)

    obj, pos = unpickle(data, where, reader.globals_(), pos, persistent_load, reader.build)
    keys, pos = unpickle(data, where, {}, pos)
    if not isinstance(keys, list) or sorted(map(str, keys)) != sorted(reader.storages):
        raise CheckpointError(f"{where}: the storage key list does not match the storages "
                              "the object uses")
    for key in keys:
        st = reader.storages[key]
        size = st.array.size * _itemsize(st.dtype)
        if pos + 8 + size > len(data):
            raise CheckpointError(f"{where}: storage {key!r} is truncated")
        (numel,) = struct.unpack_from("<q", data, pos)
        if numel != st.array.size:
            raise CheckpointError(f"{where}: storage {key!r} holds {numel} elements, the "
                                  f"object expects {st.array.size}")
        st.array[:] = _decode(data[pos + 8:pos + 8 + size], st.dtype, False)
        pos += 8 + size
    return obj, reader
