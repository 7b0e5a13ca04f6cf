"""``CSVLogger``: the history as a CSV file, one row per epoch."""

from __future__ import annotations

import os
from pathlib import Path

from axonic.train.callbacks.base import Callback


class CSVLogger(Callback):
    """Write ``epoch,loss,...,val_loss,...`` to ``filename`` after every epoch.

    The file is rewritten from the trainer's history each time (into a temporary file,
    then renamed), so it stays whole after a crash and matches a resumed run.
    """

    rank_zero_only = True  # prints or writes files

    def __init__(self, filename):
        self.filename = Path(filename)

    def on_epoch_end(self, epoch, logs=None):
        self.filename.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.filename.with_name(f".{self.filename.name}.tmp")
        self.trainer.history.to_csv(tmp)
        os.replace(tmp, self.filename)
