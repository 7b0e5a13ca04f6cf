"""The learning-rate range test (Smith 2017): raise the learning rate exponentially over a
few steps, watch the loss, and suggest the rate where it falls fastest."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np

SPIKE_WINDOW = 5      # centred running median that removes single-batch spikes first
MEAN_WINDOW = 7       # then a centred moving average (centred: no lag shifts the suggestion)
DIVERGE_FACTOR = 4.0  # stop once the smoothed loss is this many times its best


@dataclass
class LRFinderResult:
    """``lrs`` and raw ``losses`` per step, the ``smoothed`` losses and the ``suggestion``."""

    lrs: list
    losses: list
    smoothed: list
    suggestion: float | None

    def plot(self, path=None):
        """Loss against learning rate (log scale) with the suggestion marked."""
        from axonic.explain.visualize import _done, _pyplot

        plt = _pyplot()
        fig, ax = plt.subplots(figsize=(5, 3.2))
        ax.plot(self.lrs, self.losses, color="0.7", lw=0.8, label="loss")
        ax.plot(self.lrs, self.smoothed, color="tab:blue", label="smoothed")
        if self.suggestion is not None:
            ax.axvline(self.suggestion, color="tab:red", ls="--",
                       label=f"suggestion {self.suggestion:.2g}")
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("loss")
        ax.legend()
        fig.tight_layout()
        return _done(fig, path)


def smooth_losses(losses) -> np.ndarray:
    """A centred running median (drops lone spikes), then a centred moving average.

    >>> smooth_losses([1.0, 1.0, 9.0, 1.0, 1.0]).round(3).tolist()
    [1.0, 1.0, 1.0, 1.0, 1.0]
    """
    x = np.asarray(losses, dtype=np.float64)
    h = SPIKE_WINDOW // 2
    med = np.array([np.median(x[max(0, i - h):i + h + 1]) for i in range(len(x))])
    h = MEAN_WINDOW // 2
    return np.array([med[max(0, i - h):i + h + 1].mean() for i in range(len(med))])


def suggest_lr(lrs, losses):
    """The rate where the smoothed loss falls fastest against log(lr), before its minimum.

    >>> lrs = np.logspace(-5, 0, 60)
    >>> loss = 2 - np.tanh(3 * (np.log10(lrs) + 2.5)) + 5 * (lrs > 0.3)
    >>> round(float(np.log10(suggest_lr(lrs, loss))), 1)
    -2.5
    """
    lrs = np.asarray(lrs, dtype=np.float64)
    smoothed = smooth_losses(losses)
    if len(lrs) < 3:
        return None
    end = int(np.argmin(smoothed)) + 1
    if end < 3:
        return None
    slope = np.gradient(smoothed[:end], np.log(lrs[:end]))
    return float(lrs[int(np.argmin(slope))])


def lr_find(trainer, data, min_lr: float = 1e-7, max_lr: float = 10.0, num_steps: int = 100,
            batch_size: int = 32, seed: int | None = 0) -> LRFinderResult:
    """Train ``num_steps`` batches with the learning rate rising exponentially from
    ``min_lr`` to ``max_lr``, then put the model and optimizer back as they were.

    >>> import numpy as np, axonic
    >>> from axonic import nn, optim
    >>> from axonic.train import Trainer
    >>> X = np.random.default_rng(0).normal(size=(256, 4)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(np.int64)
    >>> model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
    >>> t = Trainer(model, optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss())
    >>> result = lr_find(t, (X, y), num_steps=40)
    >>> 1e-7 < result.suggestion < 10
    True
    """
    from axonic.train import inputs

    if not 0 < min_lr < max_lr:
        raise ValueError(f"lr_find: need 0 < min_lr < max_lr, got min_lr={min_lr!r}, "
                         f"max_lr={max_lr!r}")
    if isinstance(num_steps, bool) or not isinstance(num_steps, int) or num_steps < 3:
        raise ValueError(f"lr_find: num_steps must be an int >= 3, got {num_steps!r}")
    model, opt = trainer.model, trainer.optimizer
    saved_model = {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}
    saved_opt = copy.deepcopy(opt.state_dict())
    saved_lrs = [g["lr"] for g in opt.param_groups]
    loader = inputs.as_loader(data, batch_size, True, seed, "lr_find")
    lrs = np.geomspace(min_lr, max_lr, num_steps)
    losses, best = [], math.inf
    model.train()
    try:
        batches = iter(())
        for lr in lrs:
            batch = next(batches, None)
            if batch is None:
                batches = iter(loader)
                batch = next(batches)
            for g in opt.param_groups:
                g["lr"] = float(lr)
            x, y = inputs.unpack(batch)
            loss = trainer.loss_fn(trainer._forward(x), trainer._to_device(y))
            value = float(loss.item())
            if not math.isfinite(value):
                break
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(value)
            recent = float(np.median(losses[-SPIKE_WINDOW:]))
            best = min(best, recent)
            if recent > DIVERGE_FACTOR * best:
                break
    finally:
        opt.zero_grad()
        model.load_state_dict(saved_model)
        opt.load_state_dict(saved_opt)
        for g, lr in zip(opt.param_groups, saved_lrs):
            g["lr"] = lr
    used = list(lrs[:len(losses)])
    return LRFinderResult([float(v) for v in used], losses,
                          smooth_losses(losses).tolist(), suggest_lr(used, losses))
