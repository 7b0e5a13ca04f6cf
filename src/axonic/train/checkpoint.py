"""Checkpoints as atomic directories: safetensors for arrays, JSON for the rest, a manifest.

A checkpoint is a directory holding ``<group>.safetensors`` per array group (``model``,
``optimizer``), ``state.json`` (epoch, step, history, scheduler, RNG states, loader, config)
and ``manifest.json`` (size and SHA256 of every other file). It is written into a hidden
temporary directory next to its destination, every file and the directory are fsynced,
and only then is it renamed into place, so a crash leaves either the old checkpoint or the
new one, never a mix. ``CheckpointDir`` keeps ``last`` and ``best`` as symbolic links
replaced with ``os.replace``, which is atomic. Reading checks every file against the
manifest (size, hash, JSON, safetensors header) before anything is loaded.

>>> import numpy as np, tempfile, os
>>> d = tempfile.mkdtemp()
>>> path = write_checkpoint(os.path.join(d, "c"), {"model": {"w": np.ones(2, np.float32)}},
...                         {"epoch": 3})
>>> arrays, state = read_checkpoint(path)
>>> arrays["model"]["w"].tolist(), state["epoch"]
([1.0, 1.0], 3)
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import uuid
from pathlib import Path

import numpy as np

from axonic.autograd.tensor import Tensor
from axonic.backend import to_numpy
from axonic.train.run_dir import CHECKPOINT_PREFIX, LAST, RunDir

FORMAT = "axonic-checkpoint"
VERSION = 1
MANIFEST = "manifest.json"  # sizes and SHA256 of the other files
STATE = "state.json"  # everything that is not an array
ARRAYS = ".safetensors"  # the suffix of each group's file of arrays (model, optimizer...)
_ARRAY = "__array__"


class CheckpointError(RuntimeError):
    """A checkpoint directory is missing, truncated, corrupted or of another format."""


# --- nested state <-> (JSON, arrays) ------------------------------------------------------
def _to_numpy(x):
    if isinstance(x, Tensor):
        return x.detach().numpy()
    if hasattr(x, "__cuda_array_interface__"):  # a CuPy array, without importing CuPy
        return to_numpy(x)
    return x


def split_arrays(obj, prefix: str = "") -> tuple[object, dict[str, np.ndarray]]:
    """Replace every array/tensor in nested dicts/lists by ``{"__array__": key}``.

    Returns the JSON-able skeleton and the arrays by dotted key, so an optimizer's
    ``state_dict`` becomes one safetensors file plus a little JSON.

    >>> skel, arrays = split_arrays({"state": {0: {"step": 2, "m": np.zeros(3)}}})
    >>> skel["state"], list(arrays)
    ({'0': {'step': 2, 'm': {'__array__': 'state.0.m'}}, '__int_keys__': ['0']}, ['state.0.m'])
    >>> join_arrays(skel, arrays)["state"][0]["step"]
    2
    """
    arrays: dict[str, np.ndarray] = {}

    def walk(x, key):
        x = _to_numpy(x)
        if isinstance(x, np.ndarray):
            arrays[key] = x if x.flags.c_contiguous else x.copy(order="C")
            return {_ARRAY: key}
        if isinstance(x, dict):
            out = {}
            for k, v in x.items():
                out[str(k)] = walk(v, f"{key}.{k}" if key else str(k))
            if any(not isinstance(k, str) for k in x):  # remember int keys (optimizer state)
                out["__int_keys__"] = [str(k) for k in x if isinstance(k, int)]
            return out
        if isinstance(x, list | tuple):
            items = [walk(v, f"{key}.{i}" if key else str(i)) for i, v in enumerate(x)]
            return {"__tuple__": items} if isinstance(x, tuple) else items
        if isinstance(x, np.generic):
            return x.item()
        return x

    return walk(obj, prefix), arrays


def join_arrays(skeleton, arrays: dict[str, np.ndarray]):
    """Undo ``split_arrays``: put the arrays back and restore integer dict keys."""
    if isinstance(skeleton, dict):
        if set(skeleton) == {_ARRAY}:
            return arrays[skeleton[_ARRAY]]
        if set(skeleton) == {"__tuple__"}:  # JSON has no tuples (Adam's betas are one)
            return tuple(join_arrays(v, arrays) for v in skeleton["__tuple__"])
        ints = set(skeleton.get("__int_keys__", ()))
        return {(int(k) if k in ints else k): join_arrays(v, arrays)
                for k, v in skeleton.items() if k != "__int_keys__"}
    if isinstance(skeleton, list):
        return [join_arrays(v, arrays) for v in skeleton]
    return skeleton


# --- writing --------------------------------------------------------------------------------
def _fsync_dir(path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_bytes(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _save_arrays(arrays: dict[str, np.ndarray], path: Path) -> None:
    from axonic.io import save

    # axonic.save writes through a synced temporary file of its own
    save({k: np.asarray(v) for k, v in arrays.items()}, path)


def _load_arrays(path: Path) -> dict[str, np.ndarray]:
    from axonic.io import load

    return {k: v.numpy() for k, v in load(path).items()}


def write_checkpoint(path, arrays: dict[str, dict], state: dict) -> Path:
    """Write a checkpoint directory at ``path`` atomically (it must not exist yet).

    ``arrays`` maps a group name to ``{key: array}`` (one safetensors file each);
    ``state`` is JSON-able data.
    """
    path = Path(path)
    parent = path.parent
    parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        raise CheckpointError(f"checkpoint: {path} already exists; refusing to overwrite it")
    tmp = parent / f".{path.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        files = {}
        for group, group_arrays in arrays.items():
            name = group + ARRAYS
            _save_arrays({k: _to_numpy(v) for k, v in group_arrays.items()}, tmp / name)
            files[name] = None
        _write_bytes(tmp / STATE, json.dumps(state, indent=1).encode())
        files[STATE] = None
        manifest = {"format": FORMAT, "version": VERSION, "files": {}}
        for name in files:
            data = (tmp / name).read_bytes()
            manifest["files"][name] = {"size": len(data),
                                       "sha256": hashlib.sha256(data).hexdigest()}
        _write_bytes(tmp / MANIFEST, json.dumps(manifest, indent=1).encode())
        _fsync_dir(tmp)
        os.replace(tmp, path)
        _fsync_dir(parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


# --- reading --------------------------------------------------------------------------------
def _check_safetensors(path: Path, data: bytes) -> None:
    if len(data) < 8:
        raise CheckpointError(f"checkpoint: {path} is truncated ({len(data)} bytes, "
                              "a safetensors file has at least an 8-byte header length)")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise CheckpointError(f"checkpoint: {path} has a header of {n} bytes but only "
                              f"{len(data) - 8} bytes follow")
    try:
        header = json.loads(data[8:8 + n])
    except ValueError as e:
        raise CheckpointError(f"checkpoint: {path} has an unreadable safetensors header "
                              f"({e})") from None
    body = len(data) - 8 - n
    for key, info in header.items():
        if key == "__metadata__":
            continue
        begin, end = info.get("data_offsets", (None, None))
        if not (isinstance(begin, int) and isinstance(end, int) and 0 <= begin <= end <= body):
            raise CheckpointError(f"checkpoint: {path}: tensor {key!r} has offsets "
                                  f"{info.get('data_offsets')} outside the {body}-byte body")


def verify_checkpoint(path) -> dict:
    """Check a checkpoint directory completely; return its manifest or raise CheckpointError."""
    path = Path(path)
    if not path.is_dir():
        raise CheckpointError(f"checkpoint: {path} is not a directory")
    mpath = path / MANIFEST
    if not mpath.is_file():
        raise CheckpointError(f"checkpoint: {path} has no {MANIFEST} (an incomplete or "
                              "foreign directory)")
    try:
        manifest = json.loads(mpath.read_bytes())
    except ValueError as e:
        raise CheckpointError(f"checkpoint: {mpath} is not valid JSON ({e})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint: {mpath} is not an {FORMAT} manifest")
    if manifest.get("version") != VERSION:
        raise CheckpointError(f"checkpoint: {mpath} has version {manifest.get('version')!r}; "
                              f"this axonic reads version {VERSION}")
    for name, info in manifest["files"].items():
        fpath = path / name
        if not fpath.is_file():
            raise CheckpointError(f"checkpoint: {fpath} is missing")
        data = fpath.read_bytes()
        if len(data) != info["size"]:
            raise CheckpointError(f"checkpoint: {fpath} has {len(data)} bytes, the manifest "
                                  f"says {info['size']} (truncated or overwritten)")
        if hashlib.sha256(data).hexdigest() != info["sha256"]:
            raise CheckpointError(f"checkpoint: {fpath} does not match its SHA256 in the "
                                  "manifest (corrupted)")
        if name.endswith(".json"):
            try:
                json.loads(data)
            except ValueError as e:
                raise CheckpointError(f"checkpoint: {fpath} is not valid JSON ({e})") from None
        elif name.endswith(ARRAYS):
            _check_safetensors(fpath, data)
    return manifest


def read_checkpoint(path) -> tuple[dict[str, dict[str, np.ndarray]], dict]:
    """Verify, then load: ``({group: {key: array}}, state)``. Nothing loads if a check fails."""
    path = Path(path)
    manifest = verify_checkpoint(path)
    arrays = {}
    for name in manifest["files"]:
        if name.endswith(ARRAYS):
            arrays[name.removesuffix(ARRAYS)] = _load_arrays(path / name)
    state = json.loads((path / STATE).read_bytes())
    return arrays, state


# --- a directory of checkpoints with `last` and `best` ----------------------------------------
class CheckpointDir:
    """A folder of checkpoints with ``last`` and ``best`` links flipped atomically.

    Each save writes a fresh ``ckpt-e<epoch>-s<step>-<id>`` directory (names from
    ``axonic.train.run_dir``), then points the link
    at it with ``os.replace`` and deletes checkpoints no link points to.
    """

    def __init__(self, dirpath):
        self.dirpath = Path(dirpath)

    def save(self, arrays: dict, state: dict, names=(LAST,)) -> Path:
        self.dirpath.mkdir(parents=True, exist_ok=True)
        tag = f"{CHECKPOINT_PREFIX}e{state.get('epoch', 0):04d}-s{state.get('step', 0):08d}"
        target = write_checkpoint(self.dirpath / f"{tag}-{uuid.uuid4().hex[:6]}", arrays, state)
        for name in names:
            self._link(name, target.name)
        self._collect_garbage()
        return target

    def _link(self, name: str, target: str) -> None:
        tmp = self.dirpath / f".{name}.link-{uuid.uuid4().hex[:8]}"
        os.symlink(target, tmp)
        os.replace(tmp, self.dirpath / name)
        _fsync_dir(self.dirpath)

    def path(self, name: str = LAST) -> Path:
        return self.dirpath / name

    def exists(self, name: str = LAST) -> bool:
        return (self.dirpath / name).exists()

    def _collect_garbage(self) -> None:
        keep = {os.readlink(p) for p in self.dirpath.iterdir() if p.is_symlink()}
        for p in self.dirpath.iterdir():
            if p.is_symlink():
                continue
            if p.name.startswith(CHECKPOINT_PREFIX) and p.name not in keep or ".tmp-" in p.name:
                shutil.rmtree(p, ignore_errors=True)


def resolve_checkpoint(path) -> Path:
    """A checkpoint directory from itself, or from a folder holding a ``last`` link."""
    path = Path(path)
    if (path / MANIFEST).exists():
        return path
    for sub in (path / LAST, RunDir(path).last_checkpoint):
        if sub.exists():
            return sub
    raise CheckpointError(f"checkpoint: {path} is neither a checkpoint (no {MANIFEST}) nor "
                          f"a folder with a {LAST!r} checkpoint")
