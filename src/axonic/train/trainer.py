"""``Trainer``: fit / evaluate / predict with callbacks, metrics and exact resumption.

One training step is: forward, loss (scaled by ``1/k`` for ``grad_accum_steps=k``, plus
the L2 penalty), backward; every ``k`` batches the gradients are clipped, the optimizer
steps and the gradients are zeroed. The state that a checkpoint needs to resume the run
bit for bit (weights, optimizer, scheduler, history, metric sums, callback state, the
loader's epoch and position, the RNG states) is captured at each optimizer step.

>>> import numpy as np, axonic
>>> from axonic import nn, optim
>>> axonic.manual_seed(0)  # doctest: +ELLIPSIS
<...>
>>> X = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
>>> y = (X[:, 0] > 0).astype(np.int64)
>>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
>>> trainer = Trainer(model, optim.Adam(model.parameters(), lr=0.05), nn.CrossEntropyLoss(),
...                   metrics=["accuracy"], seed=0)
>>> history = trainer.fit((X, y), epochs=20, batch_size=16, verbose=0)
>>> history.history["accuracy"][-1] > 0.9
True
"""

from __future__ import annotations

import copy
import math
import signal
import threading
import warnings

import numpy as np

import axonic
from axonic.autograd.grad_mode import no_grad
from axonic.autograd.tensor import Tensor
from axonic.train import inputs
from axonic.train.callbacks.base import Callback, CallbackList
from axonic.train.checkpoint import (
    join_arrays,
    read_checkpoint,
    resolve_checkpoint,
    split_arrays,
)
from axonic.train.history import History
from axonic.train.metrics import Mean, Metric, get_metric


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or inf (raised with ``on_nan='raise'``)."""


class NonFiniteLossWarning(RuntimeWarning):
    """The loss became NaN or inf and training stopped (``on_nan='stop'``)."""


class _DeferInterrupt:
    """Hold Ctrl-C while an optimizer step and its bookkeeping run, then raise it."""

    def __enter__(self):
        self.hit, self.old = False, None
        if threading.current_thread() is threading.main_thread():
            self.old = signal.signal(signal.SIGINT, self._handler)
        return self

    def _handler(self, *_):
        self.hit = True

    def __exit__(self, *exc):
        if self.old is not None:
            signal.signal(signal.SIGINT, self.old)
        if self.hit and exc[0] is None:
            raise KeyboardInterrupt


def _numpy_rng_state() -> dict:
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return {"name": name, "keys": keys, "pos": int(pos), "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached)}


def _set_numpy_rng_state(s: dict) -> None:
    np.random.set_state((s["name"], np.asarray(s["keys"], dtype=np.uint32), s["pos"],
                         s["has_gauss"], s["cached_gaussian"]))


def _check_number(who, name, value, low, allow_none=False, integer=False):
    if value is None and allow_none:
        return
    kind = int if integer else int | float
    if isinstance(value, bool) or not isinstance(value, kind) or not value >= low:
        want = "an int" if integer else "a number"
        raise ValueError(f"{who}: {name} must be {want} >= {low}"
                         f"{' or None' if allow_none else ''}, got {value!r}")


class Trainer:
    """Train a model with Keras's ``fit`` / ``evaluate`` / ``predict`` and callbacks.

    Arguments: ``model`` (a Module), ``optimizer``, ``loss`` (a callable ``loss(output,
    target)`` such as ``nn.CrossEntropyLoss()``), ``metrics`` (names such as ``'accuracy'``,
    ``'f1_macro'``, ``'mae'`` or ``Metric`` objects), ``callbacks``, ``device``,
    ``grad_accum_steps`` (average gradients over this many batches before a step),
    ``clip_grad_norm`` (max total gradient norm, or None), ``l2`` (adds
    ``l2 * sum(w ** 2)`` over the weights, i.e. the parameters with two or more
    dimensions; biases and normalisation scales/shifts are excluded), ``scheduler`` (an
    ``optim.lr_scheduler`` object stepped every ``scheduler_interval``: 'epoch' or
    'batch'; ``ReduceLROnPlateau`` is given ``val_loss``, or ``loss`` without validation),
    ``seed`` (seeds axonic's and NumPy's generators at the start of ``fit`` and the
    shuffle order), ``on_nan`` ('stop': warn and stop; 'raise': raise NonFiniteLossError).

    The reported ``loss`` is the data loss, without the L2 penalty, so ``loss`` and
    ``val_loss`` compare like with like.
    """

    def __init__(self, model, optimizer, loss, metrics=(), callbacks=(), device="cpu",
                 grad_accum_steps: int = 1, clip_grad_norm: float | None = None,
                 l2: float = 0.0, scheduler=None, scheduler_interval: str = "epoch",
                 seed: int | None = None, on_nan: str = "stop"):
        _check_number("Trainer", "grad_accum_steps", grad_accum_steps, 1, integer=True)
        _check_number("Trainer", "clip_grad_norm", clip_grad_norm, 0, allow_none=True)
        _check_number("Trainer", "l2", l2, 0)
        _check_number("Trainer", "seed", seed, 0, allow_none=True, integer=True)
        if scheduler_interval not in ("epoch", "batch"):
            raise ValueError("Trainer: scheduler_interval must be 'epoch' or 'batch', got "
                             f"{scheduler_interval!r}")
        if on_nan not in ("stop", "raise"):
            raise ValueError(f"Trainer: on_nan must be 'stop' or 'raise', got {on_nan!r}")
        if not callable(loss):
            raise TypeError(f"Trainer: loss must be callable (e.g. nn.CrossEntropyLoss()), "
                            f"got {loss!r}")
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"Trainer: callbacks must be Callback instances, got {cb!r}")
        self.device = axonic.device(device)
        self.model = model.to(self.device) if str(self.device) != "cpu" else model
        self.optimizer = optimizer
        self.loss_fn = loss
        self.metrics: list[Metric] = [get_metric(m) for m in metrics]
        self.callbacks = list(callbacks)
        self.grad_accum_steps = grad_accum_steps
        self.clip_grad_norm = clip_grad_norm
        self.l2 = float(l2)
        self.scheduler = scheduler
        self.scheduler_interval = scheduler_interval
        self.seed = seed
        self.on_nan = on_nan
        self.config: dict | None = None  # stored in checkpoints (the CLI puts its config here)
        self.history = History()
        self.stop_training = False
        self.epoch = 0
        self.global_step = 0
        self.epochs = 0
        self.steps_per_epoch = 0
        self.last_checkpoint = None  # the newest checkpoint written by a callback
        self.train_loader = None
        self.loader_seed = seed
        self._resume_point: dict | None = None
        self._loss_mean = Mean("loss")

    # --- the public API ----------------------------------------------------------------
    def fit(self, train, validation=None, validation_split: float | None = None,
            epochs: int = 1, batch_size: int = 32, resume_from=None, shuffle: bool = True,
            verbose: int = 1) -> History:
        """Train for ``epochs`` epochs (in total, counting the resumed ones); return History.

        ``train`` / ``validation``: a Dataset, a DataLoader or ``(X, y)``;
        ``validation_split`` holds out that fraction of ``train`` at random (seeded).
        ``resume_from``: a checkpoint directory (or a folder with a ``last`` link) to
        continue from. ``verbose=1`` adds a progress display; 0 is silent.
        """
        _check_number("fit", "epochs", epochs, 0, integer=True)
        if validation is not None and validation_split:
            raise ValueError("fit: pass validation or validation_split, not both")
        state = None
        if resume_from is not None:
            arrays, state = read_checkpoint(resolve_checkpoint(resume_from))
        seed = self.seed
        if state is not None:
            seed = state["loader"]["seed"]
        elif seed is None:
            seed = int(axonic.randint(0, 2**31 - 1, (1,)).item())
        if validation_split:
            train, validation = inputs.split(train, validation_split, seed)
        loader = inputs.as_loader(train, batch_size, shuffle, seed)
        val_loader = None if validation is None else inputs.as_loader(
            validation, batch_size, False, None, "fit (validation)")
        self.train_loader, self.val_loader = loader, val_loader
        self.loader_seed = getattr(loader, "seed", seed)
        if state is not None and self.loader_seed != state["loader"]["seed"]:
            raise ValueError(f"fit: the DataLoader's seed {self.loader_seed!r} differs from "
                             f"the checkpoint's {state['loader']['seed']!r}; the resumed run "
                             "would see another shuffle order")
        self.epochs, self.steps_per_epoch = epochs, len(loader)
        if len(loader) == 0:
            raise ValueError("fit: the training data is empty")
        self.history = History()
        self.stop_training = False
        self.epoch, self.global_step = 0, 0
        callbacks = list(self.callbacks)
        if verbose and not any(type(c).__name__ == "ProgressBar" for c in callbacks):
            from axonic.train.callbacks.progress import ProgressBar

            callbacks.append(ProgressBar())
        # checkpoint writers run after the others, so they save their updated state
        callbacks.sort(key=lambda c: getattr(c, "runs_last", False))
        self._cbs = CallbackList(callbacks, self)
        start_batch = 0
        if state is not None:
            self._restore(arrays, state)
            start_batch = state["loader"]["state"]["batch"]
        else:
            if self.seed is not None:
                axonic.manual_seed(self.seed)
                np.random.seed(self.seed)
            self._reset_metrics()
        self._mark_resume_point(self.epoch, 0 if state is None else start_batch)
        self._cbs.call("on_train_begin", {})
        try:
            if not self.stop_training:
                self._run_epochs(loader, val_loader, epochs, state)
        except KeyboardInterrupt:
            self.history.stop_reason = (f"interrupted at epoch {self.epoch + 1}, step "
                                        f"{self.global_step}")
            self._cbs.call("on_interrupt", {"reason": "interrupt"})
        self._cbs.call("on_train_end", {})
        return self.history

    def evaluate(self, data, batch_size: int = 256) -> dict:
        """The mean loss and every metric on ``data``, as ``{'loss': ..., 'accuracy': ...}``.

        Targets are required. Metrics here come from the whole set at once, so streaming
        and scikit-learn metrics agree exactly.
        """
        loader = inputs.as_loader(data, batch_size, False, None, "evaluate")
        metrics = [copy.deepcopy(m) for m in self.metrics]
        return self._evaluate_loader(loader, metrics, prefix="")

    def predict(self, data, batch_size: int = 256) -> Tensor:
        """The model's outputs on ``data`` (a Dataset, a DataLoader, ``X`` or ``(X, y)``),
        concatenated along the first axis, in eval mode and without gradients."""
        loader = inputs.as_loader(data, batch_size, False, None, "predict")
        outs = []
        was = self.model.training
        self.model.eval()
        try:
            with no_grad():
                for batch in loader:
                    x, _ = inputs.unpack(batch)
                    outs.append(self._forward(x).data)
        finally:
            self.model.train(was)
        xp = axonic.backend.get_array_module(outs[0]) if outs else np
        return axonic.tensor(xp.concatenate(outs)) if outs else axonic.zeros(0)

    # --- checkpoints ----------------------------------------------------------------------
    def checkpoint_state(self) -> tuple[dict, dict]:
        """``(arrays, state)`` for ``checkpoint.write_checkpoint``: everything needed to
        continue this run exactly from its last completed optimizer step."""
        if self._resume_point is None:  # before any fit: the state as it is now
            self._mark_resume_point(self.epoch, 0)
        point = self._resume_point
        opt_skeleton, opt_arrays = split_arrays(self.optimizer.state_dict())
        extra = {"callbacks": self._cbs.state_dict() if hasattr(self, "_cbs") else [],
                 "scheduler": self.scheduler.state_dict() if self.scheduler else None,
                 "rng": point["rng"], "metrics": None}
        if point["batch"] > 0:  # mid-epoch: the sums so far (metrics change only at steps)
            extra["metrics"] = {"loss": self._loss_mean.state_dict(),
                                "metrics": [m.state_dict() for m in self.metrics]}
        extra_skeleton, extra_arrays = split_arrays(extra)
        history = self.history.state_dict()
        keep = sum(1 for e in history["epoch"] if e < point["epoch"])
        history["epoch"] = history["epoch"][:keep]
        history["history"] = {k: v[:keep] for k, v in history["history"].items()}
        state = {
            "epoch": point["epoch"], "step": point["step"],
            "history": history, "optimizer": opt_skeleton, "extra": extra_skeleton,
            "loader": {"seed": self.loader_seed, "state": point["loader"]},
            "stop_training": bool(self.stop_training and point["batch"] == 0),
            "config": self.config,
        }
        model = {k: v.numpy() for k, v in self.model.state_dict().items()}
        return {"model": model, "optimizer": opt_arrays, "extra": extra_arrays}, state

    def save_checkpoint(self, path):
        """Write a checkpoint directory at ``path`` (see ``axonic.train.checkpoint``)."""
        from axonic.train.checkpoint import write_checkpoint

        arrays, state = self.checkpoint_state()
        return write_checkpoint(path, arrays, state)

    def load_weights(self, path) -> None:
        """Load only the model weights of a checkpoint (verified first)."""
        arrays, _ = read_checkpoint(resolve_checkpoint(path))
        self.model.load_state_dict(arrays["model"])

    def _restore(self, arrays, state) -> None:
        self.model.load_state_dict(arrays["model"])
        self.optimizer.load_state_dict(join_arrays(state["optimizer"], arrays["optimizer"]))
        extra = join_arrays(state["extra"], arrays["extra"])
        if self.scheduler is not None and extra["scheduler"] is not None:
            self.scheduler.load_state_dict(extra["scheduler"])
        self._cbs.load_state_dict(extra["callbacks"])
        self.history.load_state_dict(state["history"])
        self.epoch, self.global_step = state["epoch"], state["step"]
        self.stop_training = state.get("stop_training", False)
        self._reset_metrics()
        if extra["metrics"] is not None:
            self._loss_mean.load_state_dict(extra["metrics"]["loss"])
            for m, s in zip(self.metrics, extra["metrics"]["metrics"]):
                m.load_state_dict(s)
        axonic.set_rng_state(extra["rng"]["axonic"])
        _set_numpy_rng_state(extra["rng"]["numpy"])
        loader_state = state["loader"]["state"]
        if hasattr(self.train_loader, "load_state_dict"):
            self.train_loader.load_state_dict(loader_state)
        self._resume_loader = True

    def _mark_resume_point(self, epoch: int, batch: int) -> None:
        """Remember the state a checkpoint taken now must hold (at an optimizer step)."""
        loader = self.train_loader
        if batch == 0:
            loader_state = {"epoch": epoch, "batch": 0, "generator": None}
        else:
            loader_state = loader.state_dict() if hasattr(loader, "state_dict") else \
                {"epoch": epoch, "batch": batch, "generator": None}
        self._resume_point = {
            "epoch": epoch, "batch": batch, "step": self.global_step, "loader": loader_state,
            "rng": {"axonic": axonic.get_rng_state(), "numpy": _numpy_rng_state()}}

    # --- the loop -------------------------------------------------------------------------
    def _reset_metrics(self) -> None:
        self._loss_mean.reset()
        for m in self.metrics:
            m.reset()

    def _run_epochs(self, loader, val_loader, epochs: int, state) -> None:
        resuming = state is not None and getattr(self, "_resume_loader", False)
        self._resume_loader = False
        while self.epoch < epochs and not self.stop_training:
            epoch = self.epoch
            if not resuming:
                if hasattr(loader, "set_epoch"):
                    loader.set_epoch(epoch)
                self._reset_metrics()
                start = 0
            else:
                start = state["loader"]["state"]["batch"]
            resuming = False
            logs = {"lr": self._lr()}
            self._cbs.call("on_epoch_begin", epoch, logs)
            if start < len(loader) and not self._train_epoch(loader, epoch, start):
                return
            logs = {"loss": self._loss_mean.result()}
            for m in self.metrics:
                logs[m.name] = m.result()
            if val_loader is not None:
                val_metrics = [copy.deepcopy(m) for m in self.metrics]
                logs.update(self._evaluate_loader(val_loader, val_metrics, prefix="val_"))
            logs["lr"] = self._lr()
            if self.scheduler is not None and self.scheduler_interval == "epoch":
                self._step_scheduler(logs)
            self.history.append(epoch, logs)
            self.epoch = epoch + 1
            self._mark_resume_point(self.epoch, 0)
            self._cbs.call("on_epoch_end", epoch, logs)

    def _train_epoch(self, loader, epoch: int, start: int) -> bool:
        """One pass over ``loader`` from batch ``start``; False if a non-finite loss stopped it."""
        self.model.train()
        k, n = self.grad_accum_steps, len(loader)
        pending = []  # outputs and targets of the current accumulation group
        for b, batch in enumerate(loader, start=start):
            self._cbs.call("on_batch_begin", b, {"batch": b})
            x, y = inputs.unpack(batch)
            group_start = b - (b % k)
            group_size = min(k, n - group_start)
            out = self._forward(x)
            y = self._to_device(y)
            loss = self.loss_fn(out, y)
            value = float(loss.item())
            if not math.isfinite(value):
                self._non_finite(value, epoch, b)
                return False
            total = loss if group_size == 1 else loss * (1.0 / group_size)
            if self.l2:
                total = total + self._l2_penalty() * (self.l2 / group_size)
            total.backward()
            pending.append((out.detach().data, None if y is None else y.data, value, len(out)))
            stepped = b + 1 - group_start == group_size
            if stepped:
                self._optimizer_step(epoch, b, pending)
                pending = []
            logs = {"batch": b, "size": len(out), "batch_loss": value, "step": self.global_step,
                    "optimizer_step": stepped, "loss": self._loss_mean.result()}
            for m in self.metrics:
                if m.streaming:
                    logs[m.name] = m.result()
            self._cbs.call("on_batch_end", b, logs)
            if self.stop_training and stepped:
                break
        return True

    def _optimizer_step(self, epoch: int, b: int, pending: list) -> None:
        """Clip, step, zero the gradients, fold the group into the epoch's sums (Ctrl-C
        waits until all of it is done, so a checkpoint never sees half a step)."""
        with _DeferInterrupt():
            if self.clip_grad_norm is not None:
                from axonic.nn.utils import clip_grad_norm_

                clip_grad_norm_(self.model.parameters(), self.clip_grad_norm)
            self.optimizer.step()
            self.optimizer.zero_grad()
            self.global_step += 1
            for o, t, v, size in pending:
                self._loss_mean.update(v, size)
                for m in self.metrics:
                    m.update(o, t)
            if self.scheduler is not None and self.scheduler_interval == "batch":
                self._step_scheduler(None)
            self._mark_resume_point(epoch, b + 1)

    def _evaluate_loader(self, loader, metrics, prefix: str) -> dict:
        mean = Mean()
        for m in metrics:
            m.reset()
        was = self.model.training
        self.model.eval()
        try:
            with no_grad():
                for batch in loader:
                    x, y = inputs.unpack(batch)
                    if y is None:
                        raise ValueError("evaluate: the data has no targets; use predict")
                    out = self._forward(x)
                    y = self._to_device(y)
                    mean.update(float(self.loss_fn(out, y).item()), len(out))
                    for m in metrics:
                        m.update(out.data, y.data)
        finally:
            self.model.train(was)
        logs = {prefix + "loss": mean.result()}
        for m in metrics:
            logs[prefix + m.name] = m.result()
        return logs

    # --- helpers --------------------------------------------------------------------------
    def _to_device(self, t):
        if t is None or str(self.device) == "cpu":
            return t
        if isinstance(t, tuple | list):
            return type(t)(self._to_device(a) for a in t)
        return t.to(self.device)

    def _forward(self, x):
        x = self._to_device(x)
        return self.model(*x) if isinstance(x, tuple) else self.model(x)

    def _l2_penalty(self):
        weights = [p for p in self.model.parameters() if p.requires_grad and p.ndim >= 2]
        total = None
        for w in weights:
            term = (w * w).sum()
            total = term if total is None else total + term
        return total if total is not None else axonic.tensor(0.0)

    def _lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def _step_scheduler(self, logs) -> None:
        if type(self.scheduler).__name__ == "ReduceLROnPlateau":
            key = "val_loss" if logs and "val_loss" in logs else "loss"
            value = logs[key] if logs else self._loss_mean.result()
            self.scheduler.step(value)
        else:
            self.scheduler.step()

    def _non_finite(self, value: float, epoch: int, batch: int) -> None:
        self.optimizer.zero_grad()
        kept = (f"; the last good checkpoint is kept at {self.last_checkpoint}"
                if self.last_checkpoint else "")
        msg = (f"Trainer: the loss is {value} at epoch {epoch + 1}, step {self.global_step + 1} "
               f"(batch {batch + 1} of {len(self.train_loader)}); training stopped{kept}. "
               "To find the op that first produced a non-finite value, run that step under "
               "axonic.autograd.detect_anomaly().")
        self.history.stop_reason = msg
        self.stop_training = True
        if self.on_nan == "raise":
            self._cbs.call("on_train_end", {})
            raise NonFiniteLossError(msg)
        warnings.warn(msg, NonFiniteLossWarning, stacklevel=3)
