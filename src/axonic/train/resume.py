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

import copy
import warnings

import numpy as np

import axonic
from axonic.train.checkpoint import CheckpointError, join_arrays, split_arrays


def numpy_rng_state() -> dict:
    """NumPy's global generator state as JSON-able data."""
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return {"name": name, "keys": keys, "pos": int(pos), "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached)}


def set_numpy_rng_state(s: dict) -> None:
    np.random.set_state((s["name"], np.asarray(s["keys"], dtype=np.uint32), s["pos"],
                         s["has_gauss"], s["cached_gaussian"]))


def _rng_states() -> dict:
    return {"axonic": axonic.get_rng_state(), "numpy": numpy_rng_state()}


class ResumeState:
    """Captures a trainer's resumable state (``capture``) and restores it (``restore``)."""

    def __init__(self, trainer):
        self.trainer = trainer
        self.point: dict | None = None  # the last resume point marked
        self.live = False  # no random number drawn since the point was marked

    def mark(self, epoch: int, batch: int, lazy: bool = False) -> None:
        """Remember the state a checkpoint taken now must hold (at an optimizer step).

        ``lazy``: the RNG states (NumPy's costs ~40 us to copy) are read only if a
        checkpoint is taken before ``leave()``, i.e. while they are still the same; the
        Trainer holds Ctrl-C until a batch's end, so an interrupt lands in that window."""
        t = self.trainer
        if batch == 0 or t.train_loader is None:
            loader_state = {"epoch": epoch, "batch": batch, "generator": None}
        else:
            loader_state = t.train_loader.state_dict()
        self.point = {"epoch": epoch, "batch": batch, "step": t.global_step,
                      "loader": loader_state, "rng": None if lazy else _rng_states()}
        self.live = True

    def leave(self) -> None:
        """The RNGs may move on from here (the next batch is about to be drawn)."""
        self.live = False

    def capture(self) -> tuple[dict, dict]:
        """``(arrays, state)`` for ``checkpoint.write_checkpoint``."""
        t = self.trainer
        if self.point is None:  # before any fit: the state as it is now
            self.mark(t.epoch, 0)
        point = self.point
        if point["rng"] is None:
            # taken after leave(): a forced stop mid-batch; the random streams are the
            # current ones, not the step's (resuming is exact except for them)
            if not self.live:
                warnings.warn("checkpoint: taken in the middle of a batch (a forced stop); "
                              "resuming it repeats the step exactly except for the random "
                              "streams, which are those at the stop", stacklevel=2)
            point["rng"] = _rng_states()
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
        model = {k: v.cpu().numpy() for k, v in t.model.state_dict().items()}
        return {"model": model, "optimizer": opt_arrays, "extra": extra_arrays}, state

    def restore(self, arrays: dict, state: dict) -> int:
        """Put everything back, all or nothing; returns the batch of the epoch to continue
        from. The checkpoint is checked first (``check_resume_state``); if putting any part
        back still fails, everything restored so far is rolled back and ``CheckpointError``
        says why, so a failed resume never leaves a half-restored trainer."""
        check_resume_state(arrays, state, self.trainer.model)
        before = self._snapshot()
        try:
            return self._apply(arrays, state)
        except Exception as e:  # noqa: BLE001  (any failure: roll back, then one clear error)
            self._apply(*before)
            raise CheckpointError(f"checkpoint: does not fit this run ({type(e).__name__}: "
                                  f"{e}); nothing was restored") from None

    def _snapshot(self) -> tuple[dict, dict]:
        """The trainer's current state in ``capture``'s form (for a rollback)."""
        t = self.trainer
        point = self.point
        self.mark(t.epoch, 0)
        arrays, state = self.capture()
        self.point = point
        extra = join_arrays(state["extra"], arrays["extra"])
        extra["metrics"] = {"loss": t.loss_mean.state_dict(),
                            "metrics": [m.state_dict() for m in t.metrics]}
        state["extra"], arrays["extra"] = split_arrays(extra)
        state["history"] = t.history.state_dict()
        state["stop_training"] = t.stop_training
        state["loader"]["state"] = t.train_loader.state_dict()
        return copy.deepcopy(arrays), copy.deepcopy(state)

    def _apply(self, arrays: dict, state: dict) -> int:
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


def _need(cond: bool, what: str) -> None:
    if not cond:
        raise CheckpointError(f"checkpoint: state.json: {what}")


def _is_int(x, lo: int = 0) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and x >= lo


def check_resume_state(arrays: dict, state: dict, model=None) -> None:
    """Check that ``(arrays, state)`` from ``read_checkpoint`` has everything a resume needs,
    of the right types (and, given ``model``, weights of its keys and shapes), before
    anything is changed; raises ``CheckpointError`` naming the first problem."""
    _need(isinstance(state, dict), "not a JSON object")
    for key in ("epoch", "step"):
        _need(_is_int(state.get(key)), f"{key!r} must be an integer >= 0, got "
                                       f"{state.get(key)!r:.80}")
    _need(isinstance(state.get("history"), dict), "'history' must be an object")
    hist = state["history"]
    _need(isinstance(hist.get("epoch"), list) and isinstance(hist.get("history"), dict)
          and all(isinstance(v, list) for v in hist["history"].values()),
          "'history' must hold an 'epoch' list and a 'history' object of lists")
    _need(isinstance(state.get("stop_training", False), bool), "'stop_training' must be a "
                                                               "boolean")
    loader = state.get("loader")
    _need(isinstance(loader, dict) and "seed" in loader
          and (loader["seed"] is None or _is_int(loader["seed"]))
          and isinstance(loader.get("state"), dict) and _is_int(loader["state"].get("batch")),
          "'loader' must be {seed: int or null, state: {batch: int >= 0, ...}}")
    for group in ("model", "optimizer", "extra"):
        if not isinstance(arrays.get(group), dict):
            raise CheckpointError(f"checkpoint: {group}.safetensors is missing")
    for key in ("optimizer", "extra"):
        try:
            joined = join_arrays(state.get(key), arrays[key])
        except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as e:
            raise CheckpointError(f"checkpoint: state.json: {key!r} does not match "
                                  f"{key}.safetensors ({type(e).__name__}: {e})") from None
        _need(isinstance(joined, dict), f"{key!r} must be an object")
        if key == "extra":
            extra = joined
    _need(all(k in extra for k in ("scheduler", "callbacks", "rng", "metrics")),
          "'extra' must hold scheduler, callbacks, rng and metrics")
    rng = extra["rng"]
    _need(isinstance(rng, dict) and isinstance(rng.get("axonic"), dict)
          and isinstance(rng.get("numpy"), dict), "'extra.rng' must hold axonic and numpy "
                                                  f"generator states, got {rng!r:.80}")
    _check_numpy_rng(rng["numpy"])
    if model is not None:
        try:
            _check_weights(model, arrays["model"])
        except RuntimeError as e:
            raise CheckpointError(f"checkpoint: model.safetensors does not fit the model: "
                                  f"{e}") from None


def _check_numpy_rng(s) -> None:
    keys = s.get("keys")
    ok = (s.get("name") == "MT19937" and isinstance(keys, np.ndarray | list)
          and np.shape(keys) == (624,) and np.asarray(keys).dtype.kind in "ui"
          and _is_int(s.get("pos")) and s["pos"] <= 624 and s.get("has_gauss") in (0, 1)
          and isinstance(s.get("cached_gaussian"), float | int))
    _need(ok, "'extra.rng.numpy' is not a NumPy MT19937 state")


def _check_weights(model, weights: dict) -> None:
    own = model.state_dict()
    missing = [k for k in own if k not in weights]
    unexpected = [k for k in weights if k not in own]
    bad = [f"{k}: {tuple(weights[k].shape)} vs {tuple(v.shape)}" for k, v in own.items()
           if k in weights and tuple(weights[k].shape) != tuple(v.shape)]
    if missing or unexpected or bad:
        raise RuntimeError("; ".join(
            p for p in (missing and "missing keys: " + ", ".join(missing[:5]),
                        unexpected and "unexpected keys: " + ", ".join(unexpected[:5]),
                        bad and "shape conflicts: " + "; ".join(bad[:5])) if p))
