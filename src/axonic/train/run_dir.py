"""The layout of a run directory and of a checkpoint folder, each name spelt here only.

A run directory (what ``axonic train`` writes, ``axonic evaluate`` / ``predict`` read)::

    config.json          the resolved configuration
    preprocess.json      what predict must redo to raw inputs (shape, dtype, classes, scaling)
    model.safetensors    the final weights
    history.csv          one row per epoch (CSVLogger)
    curves.png           loss and metric curves (Plotter)
    test_metrics.json    the history, the stop reason and the test scores
    tensorboard/         event files (TensorBoard)
    checkpoints/         resumable checkpoints (ModelCheckpoint), with the links
        last, best       the newest and the best checkpoint

>>> run = RunDir("runs/iris")
>>> run.config.as_posix(), run.last_checkpoint.as_posix()
('runs/iris/config.json', 'runs/iris/checkpoints/last')
"""

from __future__ import annotations

import os
import time
from pathlib import Path

LAST = "last"  # the link to the newest checkpoint of a checkpoint folder
BEST = "best"  # the link to the checkpoint with the best monitored value
CHECKPOINT_PREFIX = "ckpt-"  # every checkpoint a checkpoint folder holds starts with this


class RunDir:
    """The paths of one run directory (see the module docstring for the layout).

    ``RunDir(path)`` only names paths; nothing is created until ``create()``.
    """

    CONFIG = "config.json"
    PREPROCESS = "preprocess.json"
    MODEL = "model.safetensors"
    HISTORY = "history.csv"
    CURVES = "curves.png"
    TEST_METRICS = "test_metrics.json"
    TENSORBOARD = "tensorboard"
    CHECKPOINTS = "checkpoints"
    REQUIRED = (CONFIG, MODEL, PREPROCESS)  # what evaluate and predict need

    def __init__(self, path):
        self.path = Path(path)

    @classmethod
    def new(cls, name: str, root="runs") -> RunDir:
        """A fresh ``<root>/<name>-<date>-<time>`` (with ``-1``, ``-2``... if taken)."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = Path(root) / f"{name}-{stamp}"
        k = 1
        while path.exists():
            path = Path(root) / f"{name}-{stamp}-{k}"
            k += 1
        return cls(path)

    def create(self) -> RunDir:
        self.path.mkdir(parents=True, exist_ok=True)
        return self

    def __fspath__(self) -> str:
        return os.fspath(self.path)

    def __truediv__(self, name) -> Path:
        return self.path / name

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    @property
    def config(self) -> Path:
        return self.path / self.CONFIG

    @property
    def preprocess(self) -> Path:
        return self.path / self.PREPROCESS

    @property
    def model(self) -> Path:
        return self.path / self.MODEL

    @property
    def history(self) -> Path:
        return self.path / self.HISTORY

    @property
    def curves(self) -> Path:
        return self.path / self.CURVES

    @property
    def test_metrics(self) -> Path:
        return self.path / self.TEST_METRICS

    @property
    def tensorboard(self) -> Path:
        return self.path / self.TENSORBOARD

    @property
    def checkpoints(self) -> Path:
        return self.path / self.CHECKPOINTS

    @property
    def last_checkpoint(self) -> Path:
        return self.checkpoints / LAST

    def missing(self) -> list[str]:
        """The names of ``REQUIRED`` files that are not there (empty for a finished run)."""
        return [name for name in self.REQUIRED if not (self.path / name).is_file()]
