"""``Monitor``: per-layer gradient norms, update/weight ratios, activation statistics and
histograms of weights and gradients, sampled every N steps and written to TensorBoard
(with tensorboardX); the gradient norms are also kept for the training report."""

from __future__ import annotations

from pathlib import Path

from axonic.train.callbacks.base import Callback
from axonic.train.diagnostics.probes import Probes, _array


def _writer(log_dir):
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise ImportError("Monitor writes TensorBoard files with tensorboardX: "
                          "pip install 'axonic[monitor]'") from None
    return SummaryWriter(str(log_dir))


class Monitor(Callback):
    """Every ``every_n_steps`` optimizer steps, write ``grad_norm/<param>``,
    ``update_ratio/<param>``, ``activation_mean/<module>``, ``activation_std/<module>``
    and (with ``histograms``) ``weights/<param>`` and ``grads/<param>`` histograms under
    ``log_dir``. ``grad_norms`` keeps ``(step, {param: norm})`` for the report.

    >>> import numpy as np, tempfile
    >>> from axonic import nn, optim
    >>> from axonic.train import Trainer
    >>> X = np.random.default_rng(0).normal(size=(32, 4)).astype(np.float32)
    >>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    >>> monitor = Monitor(tempfile.mkdtemp(), every_n_steps=1)
    >>> t = Trainer(model, optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(),
    ...             callbacks=[monitor])
    >>> _ = t.fit((X, (X[:, 0] > 0).astype(np.int64)), epochs=1, batch_size=16, verbose=0)
    >>> [step for step, _ in monitor.grad_norms], sorted(monitor.grad_norms[0][1])
    ([0, 1], ['0.bias', '0.weight', '2.bias', '2.weight'])
    """

    rank_zero_only = True  # writes TensorBoard files

    def __init__(self, log_dir, every_n_steps: int = 50, histograms: bool = True):
        if isinstance(every_n_steps, bool) or not isinstance(every_n_steps, int) \
                or every_n_steps < 1:
            raise ValueError(f"Monitor: every_n_steps must be an int >= 1, "
                             f"got {every_n_steps!r}")
        self.log_dir = Path(log_dir)
        self.every_n_steps = every_n_steps
        self.histograms = histograms
        self.grad_norms: list[tuple[int, dict]] = []
        self.writer = None

    def on_train_begin(self, logs=None):
        self.writer = _writer(self.log_dir)
        self.probes = Probes(self.trainer.model)
        self.probes.keep_arrays = self.histograms
        self.probes.attach()
        self.sampled = False

    def on_batch_begin(self, batch, logs=None):
        self.sampled = self.trainer.global_step % self.every_n_steps == 0
        if self.sampled:
            self.probes.begin_step()

    def on_batch_end(self, batch, logs=None):
        if not self.sampled:
            return
        self.sampled = False
        logs = logs or {}
        stepped = bool(logs.get("optimizer_step"))
        step = self.trainer.global_step - (1 if stepped else 0)
        ratios = self.probes.end_step(stepped)
        norms = dict(self.probes.grad_norms)
        self.grad_norms.append((step, norms))
        w = self.writer
        for name, v in norms.items():
            w.add_scalar(f"grad_norm/{name}", v, step)
        for name, v in ratios.items():
            w.add_scalar(f"update_ratio/{name}", v, step)
        for name, (mean, std) in self.probes.act_summary.items():
            w.add_scalar(f"activation_mean/{name}", mean, step)
            w.add_scalar(f"activation_std/{name}", std, step)
        if self.histograms:
            for name, p in self.probes.params:
                w.add_histogram(f"weights/{name}", _array(p), step)
            for name, g in self.probes.grads.items():
                w.add_histogram(f"grads/{name}", g, step)

    def on_epoch_end(self, epoch, logs=None):
        if self.writer is not None:
            self.writer.flush()

    def on_train_end(self, logs=None):
        if self.writer is not None:
            self.probes.detach()
            self.writer.close()
            self.writer = None
