"""``Plotter``: loss and metric curves as a PNG (matplotlib, Agg canvas)."""

from __future__ import annotations

import math
import os
from pathlib import Path

from axonic.train.callbacks.base import Callback


def plot_history(history, path) -> Path:
    """Save one panel per quantity (loss, each metric, lr) with train and val curves.

    Uses matplotlib's Agg canvas directly, so no GUI backend or pyplot state is touched.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    hist = history.history
    bases = []
    for key in hist:
        base = key.removeprefix("val_")
        if base not in bases:
            bases.append(base)
    ncols = min(3, max(len(bases), 1))
    nrows = max(1, math.ceil(len(bases) / ncols))
    fig = Figure(figsize=(4.5 * ncols, 3.2 * nrows), dpi=100)
    FigureCanvasAgg(fig)
    epochs = [e + 1 for e in history.epoch]
    for i, base in enumerate(bases):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        for key, label in ((base, "train"), ("val_" + base, "validation")):
            if key in hist:
                ax.plot(epochs, hist[key], marker="o", markersize=3, label=label)
        ax.set_title(base)
        ax.set_xlabel("epoch")
        if base == "lr":
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, format="png")
    os.replace(tmp, path)
    return path


class Plotter(Callback):
    """Save the curves of ``loss``, ``val_loss`` and every metric to ``path`` (PNG) at the
    end of training, and after every epoch when ``every_epoch=True``."""

    rank_zero_only = True  # prints or writes files

    def __init__(self, path, every_epoch: bool = False):
        self.path = Path(path)
        self.every_epoch = every_epoch

    def on_epoch_end(self, epoch, logs=None):
        if self.every_epoch:
            plot_history(self.trainer.history, self.path)

    def on_train_end(self, logs=None):
        if len(self.trainer.history):
            plot_history(self.trainer.history, self.path)
