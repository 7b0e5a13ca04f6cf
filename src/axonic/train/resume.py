"""``ResumeState``: what a checkpoint must hold to continue a run bit for bit, and putting
it back.

The Trainer marks a resume point at every optimizer step and at every epoch's end: the
epoch, the batch the loader has reached, the step count and the RNG states *at that
moment*. A checkpoint written later (by ``ModelCheckpoint``, even on Ctrl-C) pairs that
point with the weights, the optimizer, the scheduler, the history up to that epoch, the
epoch's metric sums so far and every callback's state, so a resumed run retraces the
uninterrupted one exactly.
"""

from __future__ import annotations

import numpy as np

import axonic
from axonic.train.checkpoint import join_arrays, split_arrays


def numpy_rng_state() -> dict:
    """NumPy's global generator state as JSON-able data."""
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return {"name": name, "keys": keys, "pos": int(pos), "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached)}


def set_numpy_rng_state(s: dict) -> None:
    np.random.set_state((s["name"], np.asarray(s["keys"], dtype=np.uint32), s["pos"],
                         s["has_gauss"], s["cached_gaussian"]))


class ResumeState:
    """Captures a trainer's resumable state (``capture``) and restores it (``restore``)."""

    def __init__(self, trainer):
        self.trainer = trainer
        self.point: dict | None = None  # the last resume point marked

    def mark(self, epoch: int, batch: int) -> None:
        """Remember the state a checkpoint taken now must hold (at an optimizer step)."""
        t = self.trainer
        if batch == 0 or t.train_loader is None:
            loader_state = {"epoch": epoch, "batch": batch, "generator": None}
        else:
            loader_state = t.train_loader.state_dict()
        self.point = {
            "epoch": epoch, "batch": batch, "step": t.global_step, "loader": loader_state,
            "rng": {"axonic": axonic.get_rng_state(), "numpy": numpy_rng_state()}}

    def capture(self) -> tuple[dict, dict]:
        """``(arrays, state)`` for ``checkpoint.write_checkpoint``."""
        t = self.trainer
        if self.point is None:  # before any fit: the state as it is now
            self.mark(t.epoch, 0)
        point = self.point
        opt_skeleton, opt_arrays = split_arrays(
            t.optimizer.state_dict() if t.optimizer is not None else {})
        extra = {"callbacks": t.callback_list.state_dict(),
                 "scheduler": t.schedule.state_dict(), "rng": point["rng"], "metrics": None}
        if point["batch"] > 0:  # mid-epoch: the sums so far (metrics change only at steps)
            extra["metrics"] = {"loss": t.loss_mean.state_dict(),
                                "metrics": [m.state_dict() for m in t.metrics]}
        extra_skeleton, extra_arrays = split_arrays(extra)
        history = t.history.state_dict()
        keep = sum(1 for e in history["epoch"] if e < point["epoch"])
        history["epoch"] = history["epoch"][:keep]
        history["history"] = {k: v[:keep] for k, v in history["history"].items()}
        state = {
            "epoch": point["epoch"], "step": point["step"],
            "history": history, "optimizer": opt_skeleton, "extra": extra_skeleton,
            "loader": {"seed": t.loader_seed, "state": point["loader"]},
            "stop_training": bool(t.stop_training and point["batch"] == 0),
            "config": t.config,
        }
        model = {k: v.numpy() for k, v in t.model.state_dict().items()}
        return {"model": model, "optimizer": opt_arrays, "extra": extra_arrays}, state

    def restore(self, arrays: dict, state: dict) -> int:
        """Put everything back; returns the batch of the epoch to continue from."""
        t = self.trainer
        t.model.load_state_dict(arrays["model"])
        t.optimizer.load_state_dict(join_arrays(state["optimizer"], arrays["optimizer"]))
        extra = join_arrays(state["extra"], arrays["extra"])
        t.schedule.load_state_dict(extra["scheduler"])
        t.callback_list.load_state_dict(extra["callbacks"])
        t.history.load_state_dict(state["history"])
        t.epoch, t.global_step = state["epoch"], state["step"]
        t.stop_training = state.get("stop_training", False)
        t.reset_metrics()
        if extra["metrics"] is not None:
            t.loss_mean.load_state_dict(extra["metrics"]["loss"])
            for m, s in zip(t.metrics, extra["metrics"]["metrics"]):
                m.load_state_dict(s)
        axonic.set_rng_state(extra["rng"]["axonic"])
        set_numpy_rng_state(extra["rng"]["numpy"])
        loader_state = state["loader"]["state"]
        t.train_loader.load_state_dict(loader_state)
        return loader_state["batch"]
