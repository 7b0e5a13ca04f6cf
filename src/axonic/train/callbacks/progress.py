"""``ProgressBar``: a live bar on a terminal, one line per epoch otherwise."""

from __future__ import annotations

import math
import sys
import time

from axonic.train.callbacks.base import Callback


def format_logs(logs: dict) -> str:
    """``loss: 0.1234 - accuracy: 0.9500`` for the numeric entries worth showing."""
    parts = []
    for k, v in logs.items():
        if k in ("batch", "size", "step", "batch_loss", "optimizer_step"):
            continue
        if isinstance(v, int | float) and not isinstance(v, bool):
            parts.append(f"{k}: {v:.4g}" if k == "lr" else f"{k}: {v:.4f}")
    return " - ".join(parts)


class ProgressBar(Callback):
    """Show training progress on ``stream`` (stdout by default).

    When the stream is a terminal, a live bar per epoch (tqdm's when tqdm is installed, a
    plain one otherwise); in any case, and alone when the stream is a log file or a pipe,
    one line per epoch: ``Epoch 3/10 - 0.4s - loss: ... - val_loss: ...``.
    """

    def __init__(self, stream=None, width: int = 30):
        self.stream = stream
        self.width = width
        self._start = time.perf_counter()  # when the current epoch began
        self._last_draw = 0.0
        self._tqdm = None  # tqdm's bar for the current epoch, on a terminal with tqdm

    @property
    def _out(self):
        return self.stream if self.stream is not None else sys.stdout

    def _live(self) -> bool:
        isatty = getattr(self._out, "isatty", None)
        return bool(isatty and isatty())

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()
        self._last_draw = 0.0
        self._tqdm = None
        if self._live():
            try:
                from tqdm.auto import tqdm
            except ImportError:  # the plain bar below
                return
            self._tqdm = tqdm(total=self.trainer.steps_per_epoch, file=self._out,
                              desc=f"Epoch {epoch + 1}/{self.trainer.epochs}", leave=False,
                              dynamic_ncols=True, unit="batch")

    def on_batch_end(self, batch, logs=None):
        if not self._live():
            return
        if self._tqdm is not None:
            self._tqdm.set_postfix_str(format_logs(logs or {}), refresh=False)
            self._tqdm.update(1)
            return
        now = time.perf_counter()
        n = self.trainer.steps_per_epoch
        if now - self._last_draw < 0.1 and batch + 1 < n:
            return
        self._last_draw = now
        done = math.floor(self.width * (batch + 1) / max(n, 1))
        bar = "=" * done + (">" if done < self.width else "") + " " * (self.width - done - 1)
        text = f"\rEpoch {self.trainer.epoch + 1}/{self.trainer.epochs} [{bar[:self.width]}] " \
               f"{batch + 1}/{n} - {format_logs(logs or {})}"
        self._out.write(text)
        self._out.flush()

    def on_epoch_end(self, epoch, logs=None):
        elapsed = time.perf_counter() - self._start
        line = f"Epoch {epoch + 1}/{self.trainer.epochs} - {elapsed:.1f}s - " \
               f"{format_logs(logs or {})}"
        if self._tqdm is not None:
            self._tqdm.refresh()  # the finished bar, even when the epoch was too quick to draw
            self._tqdm.close()
            self._tqdm = None
            self._out.write(line + "\n")
        elif self._live():
            self._out.write("\r\033[K" + line + "\n")
        else:
            self._out.write(line + "\n")
        self._out.flush()

    def on_train_end(self, logs=None):
        reason = self.trainer.history.stop_reason
        if reason and reason.startswith("interrupted"):
            self._out.write(("\n" if self._live() else "") + f"Training {reason}\n")
            self._out.flush()
