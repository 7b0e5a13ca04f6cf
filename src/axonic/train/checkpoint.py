"""Checkpoints as atomic directories: safetensors for arrays, JSON for the rest, a manifest.

A checkpoint is a directory holding ``<group>.safetensors`` per array group (``model``,
``optimizer``), ``state.json`` (epoch, step, history, scheduler, RNG states, loader, config)
and ``manifest.json`` (size and SHA256 of every other file). It is written into a hidden
temporary directory next to its destination, every file and the directory are fsynced,
and only then is it renamed into place, so a crash leaves either the old checkpoint or the
new one, never a mix. ``CheckpointDir`` keeps ``last`` and ``best`` as symbolic links
replaced with ``os.replace``, which is atomic. Reading checks every file against the
manifest (size, hash, JSON, safetensors header) before anything is loaded.

A folder of checkpoints is in ``checkpoint_dir``, state holding arrays is split for storage
by ``state_arrays``; both keep their names importable from here.

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
import uuid
from pathlib import Path

import numpy as np

from axonic.io.guarded import (
    CHUNK,
    MAX_JSON_BYTES,
    UnsafeFileError,
    check_name,
    open_regular,
    parse_json,
    read_fd,
    read_in,
)
from axonic.io.safetensors import loads
from axonic.train.run_dir import LAST, RunDir
from axonic.train.state_arrays import _to_numpy, join_arrays, split_arrays  # noqa: F401

FORMAT = "axonic-checkpoint"
VERSION = 2  # 2: the manifest holds its own SHA256
MANIFEST = "manifest.json"  # sizes and SHA256 of the other files
STATE = "state.json"  # everything that is not an array
ARRAYS = ".safetensors"  # the suffix of each group's file of arrays (model, optimizer...)


class CheckpointError(RuntimeError):
    """A checkpoint directory is missing, truncated, corrupted or of another format."""


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


def _hash_file(path: Path) -> dict:
    h, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
            size += len(chunk)
    return {"size": size, "sha256": h.hexdigest()}


def _save_arrays(arrays: dict[str, np.ndarray], path: Path) -> None:
    from axonic.io import save

    # axonic.save writes through a synced temporary file of its own
    save({k: np.asarray(v) for k, v in arrays.items()}, path)


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
            manifest["files"][name] = _hash_file(tmp / name)
        manifest["sha256"] = _manifest_digest(manifest)
        _write_bytes(tmp / MANIFEST, json.dumps(manifest, indent=1).encode())
        _fsync_dir(tmp)
        os.replace(tmp, path)
        _fsync_dir(parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


# --- reading: one validated reader -----------------------------------------------------------
MAX_FILE_BYTES = 2**40  # what a manifest may claim for one file (1 TiB)
MAX_FILES = 64  # a checkpoint holds a handful of files


def _manifest_digest(manifest: dict) -> str:
    """The SHA256 of the manifest's canonical JSON without its own ``sha256`` entry."""
    body = {k: v for k, v in manifest.items() if k != "sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _is_sha256(x) -> bool:
    return isinstance(x, str) and len(x) == 64 and all(c in "0123456789abcdef" for c in x)


def _check_manifest(manifest, mpath) -> dict:
    """Schema of a manifest: format, version, its own checksum and ``files``."""
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint: {mpath} is not an {FORMAT} manifest")
    if manifest.get("version") != VERSION:
        raise CheckpointError(f"checkpoint: {mpath} has version {manifest.get('version')!r}; "
                              f"this axonic reads version {VERSION}")
    if manifest.get("sha256") != _manifest_digest(manifest):
        raise CheckpointError(f"checkpoint: {mpath} does not match its own SHA256 (the "
                              "manifest was edited or corrupted)")
    files = manifest.get("files")
    if not isinstance(files, dict) or STATE not in files or len(files) > MAX_FILES:
        raise CheckpointError(f"checkpoint: {mpath}: 'files' must map at most {MAX_FILES} "
                              f"file names to their size and sha256, including {STATE}")
    for name, info in files.items():
        if not (isinstance(name, str) and (name == STATE or name.endswith(ARRAYS))):
            raise CheckpointError(f"checkpoint: {mpath}: unexpected file {name!r} (expected "
                                  f"{STATE} and <group>{ARRAYS} files)")
        try:
            check_name(name, f"checkpoint: {mpath}")
        except UnsafeFileError as e:
            raise CheckpointError(str(e)) from None
        size = info.get("size") if isinstance(info, dict) else None
        if (not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_FILE_BYTES
                or not _is_sha256(info.get("sha256"))):
            raise CheckpointError(f"checkpoint: {mpath}: the entry of {name!r} must be "
                                  f"{{size: int in [0, {MAX_FILE_BYTES}], sha256: 64 hex "
                                  f"digits}}, got {info!r:.200}")
    return manifest


def _read_all(path: Path) -> tuple[dict, dict[str, bytes]]:
    """Open the folder once; read and check the manifest, then every file it names (regular
    files inside the folder only, sizes checked before reading, hashes streamed)."""
    if path.is_symlink() and not path.is_dir():
        raise CheckpointError(f"checkpoint: {path} is a broken link (its target is missing)")
    if not path.is_dir():
        raise CheckpointError(f"checkpoint: {path} is not a directory")
    mpath = path / MANIFEST
    dfd = os.open(path, os.O_RDONLY)
    try:
        try:
            fd, size = open_regular(MANIFEST, MAX_JSON_BYTES, dir_fd=dfd)
        except FileNotFoundError:
            raise CheckpointError(f"checkpoint: {path} has no {MANIFEST} (an incomplete or "
                                  "foreign directory)") from None
        try:
            raw = read_fd(fd, size)
        finally:
            os.close(fd)
        manifest = _check_manifest(parse_json(raw, f"checkpoint: {mpath}"), mpath)
        data = {}
        for name, info in manifest["files"].items():
            try:
                data[name], digest = read_in(dfd, name, info["size"], f"checkpoint: {path}")
            except FileNotFoundError:
                raise CheckpointError(f"checkpoint: {path / name} is missing") from None
            if digest != info["sha256"]:
                raise CheckpointError(f"checkpoint: {path / name} does not match its SHA256 "
                                      "in the manifest (corrupted)")
    except UnsafeFileError as e:
        raise CheckpointError(str(e) if str(e).startswith("checkpoint") else
                              f"checkpoint: {path}: {e}") from None
    finally:
        os.close(dfd)
    return manifest, data


def _parse(path: Path, manifest: dict, data: dict[str, bytes]):
    arrays = {}
    for name in manifest["files"]:
        if name.endswith(ARRAYS):
            try:
                arrays[name.removesuffix(ARRAYS)] = dict(loads(data[name], str(path / name)))
            except (ValueError, TypeError) as e:
                raise CheckpointError(f"checkpoint: {e}") from None
    try:
        state = parse_json(data[STATE], f"checkpoint: {path / STATE}")
    except UnsafeFileError as e:
        raise CheckpointError(str(e)) from None
    if not isinstance(state, dict):
        raise CheckpointError(f"checkpoint: {path / STATE} is not a JSON object")
    return arrays, state


def verify_checkpoint(path) -> dict:
    """Check a checkpoint directory completely; return its manifest or raise CheckpointError.

    The manifest carries its own SHA256; every file must be a regular file directly in the
    folder, of the size and hash the manifest gives, and parse (JSON, safetensors).
    """
    path = Path(path)
    manifest, data = _read_all(path)
    _parse(path, manifest, data)
    return manifest


def read_checkpoint(path) -> tuple[dict[str, dict[str, np.ndarray]], dict]:
    """Verify, then load: ``({group: {key: array}}, state)``. Nothing loads if a check fails;
    each file is read once, so what is checked is what is loaded."""
    path = Path(path)
    manifest, data = _read_all(path)
    return _parse(path, manifest, data)


def resolve_checkpoint(path) -> Path:
    """A checkpoint directory from itself, or from a folder holding a ``last`` link.

    A ``last`` link whose target is missing is an error, never "no checkpoint".
    """
    path = Path(path)
    if (path / MANIFEST).exists():
        return path
    for sub in (path / LAST, RunDir(path).last_checkpoint):
        if sub.is_symlink() and not sub.exists():
            raise CheckpointError(f"checkpoint: {sub} points to {os.readlink(sub)!r}, which "
                                  "is missing (deleted?); nothing was restored")
        if sub.exists():
            return sub
    raise CheckpointError(f"checkpoint: {path} is neither a checkpoint (no {MANIFEST}) nor "
                          f"a folder with a {LAST!r} checkpoint")


def load_model_weights(model, path) -> None:
    """Load only the model weights of a checkpoint (verified first) into ``model``."""
    path = resolve_checkpoint(path)
    arrays, _ = read_checkpoint(path)
    if not isinstance(arrays.get("model"), dict):
        raise CheckpointError(f"checkpoint: {path} holds no model.safetensors")
    try:
        model.load_state_dict(arrays["model"])  # checks everything before writing
    except RuntimeError as e:
        raise CheckpointError(f"checkpoint: {path}: {e}") from None


# needs write_checkpoint above; a folder of checkpoints keeps its import path here
from axonic.train.checkpoint_dir import CheckpointDir  # noqa: E402, F401
