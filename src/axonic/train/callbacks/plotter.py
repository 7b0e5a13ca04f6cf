"""``Plotter``: loss and metric curves as a PNG (matplotlib, Agg canvas)."""

from __future__ import annotations

import math
import os
from pathlib import Path

from axonic.train.callbacks.base import Callback


def plot_history(history, path, title: str | None = None) -> Path:
    """Save one panel per quantity (loss, each metric, lr) with train and val curves,
    each with its y label and whole-number epoch ticks, under ``title`` if given.

    Uses matplotlib's Agg canvas directly, so no GUI backend or pyplot state is touched.
    """
    fig = history_figure(history, title)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, format="png")
    os.replace(tmp, path)
    return path


def history_figure(history, title: str | None = None):
    """The matplotlib ``Figure`` that ``plot_history`` saves."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

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
        name = "learning rate" if base == "lr" else base
        for key, label in ((base, name if base == "lr" else "train"),
                           ("val_" + base, "validation")):
            if key in hist:
                ax.plot(epochs, hist[key], marker="o", markersize=3, label=label)
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no epoch 1.5
        if base == "lr":
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


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
