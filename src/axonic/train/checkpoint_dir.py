"""A folder of checkpoints with ``last`` and ``best`` links: each save writes a fresh
checkpoint directory, flips the links atomically and removes the checkpoints no link
points to (only folders axonic wrote, renamed away before deletion).

>>> import numpy as np, tempfile
>>> folder = CheckpointDir(tempfile.mkdtemp())
>>> target = folder.save({"model": {"w": np.ones(1, np.float32)}}, {"epoch": 1, "step": 4})
>>> folder.path("last").resolve() == target.resolve()
True
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from pathlib import Path

from axonic.train.checkpoint import FORMAT, MANIFEST, _fsync_dir, write_checkpoint
from axonic.train.run_dir import CHECKPOINT_PREFIX, LAST, DirLock

_CKPT_NAME = re.compile(re.escape(CHECKPOINT_PREFIX) + r"e\d{4,}-s\d{8,}-[0-9a-f]{6}")
_TRASH = ".trash-"  # a checkpoint renamed for deletion: gone as a checkpoint, files may remain
_TMP = re.compile(r"\.(" + re.escape(CHECKPOINT_PREFIX) + r".*\.tmp-[0-9a-f]{8}|"
                  r"[a-z]+\.link-[0-9a-f]{8})")


def _is_ours(p: Path) -> bool:
    """A checkpoint axonic wrote: its name has our exact pattern and it holds our manifest."""
    if not _CKPT_NAME.fullmatch(p.name) or p.is_symlink() or not p.is_dir():
        return False
    try:
        with open(p / MANIFEST, "rb") as f:
            return f.read(200).find(FORMAT.encode()) >= 0
    except OSError:
        return False


class CheckpointDir:
    """A folder of checkpoints with ``last`` and ``best`` links flipped atomically.

    Each save writes a fresh ``ckpt-e<epoch>-s<step>-<id>`` directory (names from
    ``axonic.train.run_dir``), then points the link at it with ``os.replace`` and removes
    the checkpoints no link points to: each is first renamed to ``.trash-<name>`` (atomic),
    then deleted, so a kill mid-way never leaves a half-deleted ``ckpt-*`` folder. Only
    folders axonic wrote (its name pattern and manifest) are ever removed.
    """

    def __init__(self, dirpath):
        self.dirpath = Path(dirpath)
        self._lock = DirLock(self.dirpath)

    def lock(self) -> None:
        """Hold the folder's lock (a second writer gets "in use by pid N"), which also
        checks up front that the folder is writable; then remove what an interrupted
        writer left (``.trash-*``, temporary folders and links)."""
        self._lock.acquire()
        for p in self.dirpath.iterdir():
            if p.name.startswith(_TRASH) or _TMP.fullmatch(p.name):
                _remove(p)

    def unlock(self) -> None:
        self._lock.release()

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
        for p in sorted(self.dirpath.iterdir()):
            if p.name.startswith(_TRASH) or _TMP.fullmatch(p.name):
                _remove(p)
            elif p.name not in keep and _is_ours(p):
                trash = self.dirpath / f"{_TRASH}{p.name}"
                os.replace(p, trash)  # atomic: the checkpoint is gone as a whole
                _remove(trash)


def _remove(p: Path) -> None:
    if p.is_symlink() or p.is_file():
        p.unlink(missing_ok=True)
    else:
        shutil.rmtree(p, ignore_errors=True)
