"""``Trainer``: fit / evaluate / predict with callbacks, metrics and exact resumption.

One training step is: forward, loss (scaled by ``1/k`` for ``grad_accum_steps=k``, plus
the L2 penalty), backward; every ``k`` batches the gradients are clipped, the optimizer
steps and the gradients are zeroed. The Trainer runs that loop and delegates the rest:
``TerminateOnNaN`` (a callback) stops on a non-finite loss, ``L2Penalty`` computes the
penalty, ``ScheduleStepper`` steps the learning-rate schedule, ``ResumeState`` captures
and restores what a checkpoint needs to continue the run bit for bit.

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

import numpy as np

import axonic
from axonic.autograd.tensor import Tensor
from axonic.train import evaluation, inputs
from axonic.train.callbacks.base import Callback, CallbackList
from axonic.train.callbacks.progress import ProgressBar
from axonic.train.callbacks.terminate_on_nan import TerminateOnNaN
from axonic.train.checkpoint import (
    load_model_weights,
    read_checkpoint,
    resolve_checkpoint,
    write_checkpoint,
)
from axonic.train.distributed import DataParallel
from axonic.train.errors import NonFiniteLossError, NonFiniteLossWarning, StopTraining
from axonic.train.fit_loaders import fit_loaders
from axonic.train.history import History
from axonic.train.inputs import check_number
from axonic.train.interrupt import InterruptGate
from axonic.train.metrics import Mean, Metric, get_metric
from axonic.train.regularization import L2Penalty
from axonic.train.resume import ResumeState, check_resume_state
from axonic.train.schedule import INTERVALS, ScheduleStepper

__all__ = ["Trainer", "NonFiniteLossError", "NonFiniteLossWarning"]


class Trainer:
    """Train a model with Keras's ``fit`` / ``evaluate`` / ``predict`` and callbacks.

    Arguments: ``model`` (a Module), ``optimizer`` (needed by ``fit`` only), ``loss`` (a
    callable ``loss(output, target)`` such as ``nn.CrossEntropyLoss()``; needed by ``fit``
    and ``evaluate``), ``metrics`` (names such as ``'accuracy'``, ``'f1_macro'``, ``'mae'``
    or ``Metric`` objects), ``callbacks``, ``device``, ``grad_accum_steps`` (average
    gradients over this many batches before a step), ``clip_grad_norm`` (max total
    gradient norm, or None), ``l2`` (adds ``l2 * sum(w ** 2)`` over the weights, see
    ``L2Penalty``), ``scheduler`` (an ``optim.lr_scheduler`` object stepped every
    ``scheduler_interval``: 'epoch' or 'batch', see ``ScheduleStepper``), ``seed`` (seeds
    axonic's and NumPy's generators at the start of ``fit`` and the shuffle order),
    ``on_nan`` ('stop': warn and stop; 'raise': raise NonFiniteLossError; see
    ``TerminateOnNaN``), ``config`` (JSON-able data stored in every checkpoint),
    ``distributed`` (train data-parallel across the processes ``mpirun`` started, see
    ``axonic.train.distributed.DataParallel``; ``batch_size`` is then per process).

    The reported ``loss`` is the data loss, without the L2 penalty, so ``loss`` and
    ``val_loss`` compare like with like.
    """

    def __init__(self, model, optimizer=None, loss=None, metrics=(), callbacks=(),
                 device="cpu", grad_accum_steps: int = 1, clip_grad_norm: float | None = None,
                 l2: float = 0.0, scheduler=None, scheduler_interval: str = "epoch",
                 seed: int | None = None, on_nan: str = "stop", config: dict | None = None,
                 distributed: bool = False):
        check_number("Trainer", "grad_accum_steps", grad_accum_steps, 1, integer=True)
        check_number("Trainer", "clip_grad_norm", clip_grad_norm, 0, allow_none=True)
        check_number("Trainer", "l2", l2, 0)
        check_number("Trainer", "seed", seed, 0, allow_none=True, integer=True)
        if scheduler_interval not in INTERVALS:
            raise ValueError("Trainer: scheduler_interval must be 'epoch' or 'batch', got "
                             f"{scheduler_interval!r}")
        if on_nan not in ("stop", "raise"):
            raise ValueError(f"Trainer: on_nan must be 'stop' or 'raise', got {on_nan!r}")
        if loss is not None and not callable(loss):
            raise TypeError(f"Trainer: loss must be callable (e.g. nn.CrossEntropyLoss()), "
                            f"got {loss!r}")
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"Trainer: callbacks must be Callback instances, got {cb!r}")
        self.device = axonic.device(device)
        if self.device.type == "cuda" and not axonic.cuda.is_available():
            raise RuntimeError(f"Trainer: device={str(self.device)!r} but CUDA is not available "
                               "(needs CuPy on a machine with an NVIDIA GPU: "
                               "pip install 'axonic[gpu]')")
        self.model = model.to(self.device) if str(self.device) != "cpu" else model
        self.optimizer = optimizer
        self.loss_fn = loss
        self.metrics: list[Metric] = [get_metric(m) for m in metrics]
        self.callbacks = list(callbacks)
        self.grad_accum_steps = grad_accum_steps
        self.clip_grad_norm = clip_grad_norm
        self.l2_penalty = L2Penalty(l2)
        self.schedule = ScheduleStepper(scheduler, scheduler_interval)
        self.seed = seed
        self.on_nan = on_nan
        self.config = config
        self.history = History()
        self.stop_training = False
        self.epoch = 0
        self.global_step = 0
        self.epochs = 0
        self.steps_per_epoch = 0
        self.last_checkpoint = None  # the newest checkpoint written by a callback
        self.train_loader = None
        self.val_loader = None
        self.loader_seed = seed
        self.loss_mean = Mean("loss")  # the epoch's running data loss
        self.callback_list = CallbackList(self.callbacks, self)
        self.resume_state = ResumeState(self)
        self.gate = InterruptGate()
        self.data_parallel = DataParallel(self.model) if distributed else None

    @property  # the constructor's arguments, readable (and the scheduler settable) as before
    def scheduler(self):
        return self.schedule.scheduler

    @scheduler.setter
    def scheduler(self, value) -> None:
        self.schedule.scheduler = value

    @property
    def scheduler_interval(self) -> str:
        return self.schedule.interval

    @property
    def l2(self) -> float:
        return self.l2_penalty.weight

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
        check_number("fit", "epochs", epochs, 0, integer=True)
        self._require("fit", optimizer=True)
        if validation is not None and validation_split:
            raise ValueError("fit: pass validation or validation_split, not both")
        arrays, state = None, None
        if resume_from is not None:  # read and checked completely before anything changes
            arrays, state = read_checkpoint(resolve_checkpoint(resume_from))
            check_resume_state(arrays, state, self.model)
        loader, self.val_loader, self.loader_seed = fit_loaders(
            self, train, validation, validation_split, batch_size, shuffle, state)
        self.train_loader = loader
        self.epochs, self.steps_per_epoch = epochs, len(loader)
        self.history = History()
        self.stop_training = False
        self.epoch, self.global_step = 0, 0
        self.callback_list = CallbackList(self._fit_callbacks(verbose), self)
        resume_batch = None
        if state is not None:
            resume_batch = self.resume_state.restore(arrays, state)
        else:
            if self.seed is not None:
                axonic.manual_seed(self.seed)  # every draw of axonic, on every device
                np.random.seed(self.seed)
                if self.device.type == "cuda":  # CuPy's own generator, for code that uses it
                    axonic.cuda.manual_seed_all(self.seed)
            self.reset_metrics()
        self.resume_state.mark(self.epoch, resume_batch or 0)
        self._run(epochs, resume_batch)
        return self.history

    def evaluate(self, data, batch_size: int = 256) -> dict:
        """The mean loss and every metric on ``data``, as ``{'loss': ..., 'accuracy': ...}``.

        Targets are required; no optimizer is. Metrics here come from the whole set at
        once, so streaming and scikit-learn metrics agree exactly.
        """
        self._require("evaluate")
        loader = inputs.as_loader(data, batch_size, False, None, "evaluate")
        metrics = [copy.deepcopy(m) for m in self.metrics]
        return self._evaluate_loader(loader, metrics, prefix="")

    def predict(self, data, batch_size: int = 256) -> Tensor:
        """The model's outputs on ``data`` (a Dataset, a DataLoader, ``X`` or ``(X, y)``),
        concatenated along the first axis, in eval mode and without gradients."""
        return evaluation.predict(self, inputs.as_loader(data, batch_size, False, None,
                                                         "predict"))

    def lr_find(self, data, **kwargs):
        """The learning-rate range test on ``data`` (``axonic.train.lr_find``); the model and
        optimizer are put back afterwards."""
        from axonic.train.diagnostics.lr_find import lr_find

        return lr_find(self, data, **kwargs)

    # --- checkpoints ----------------------------------------------------------------------
    def checkpoint_state(self) -> tuple[dict, dict]:
        """``(arrays, state)`` for ``checkpoint.write_checkpoint``: everything needed to
        continue this run exactly from its last completed optimizer step."""
        return self.resume_state.capture()

    def save_checkpoint(self, path):
        """Write a checkpoint directory at ``path`` (see ``axonic.train.checkpoint``)."""
        arrays, state = self.checkpoint_state()
        return write_checkpoint(path, arrays, state)

    def load_weights(self, path) -> None:
        """Load only the model weights of a checkpoint (verified first)."""
        load_model_weights(self.model, path)

    # --- the loop -------------------------------------------------------------------------
    def _fit_callbacks(self, verbose: int) -> list:
        """The user's callbacks, plus TerminateOnNaN and ProgressBar unless given."""
        callbacks = list(self.callbacks)
        if not any(isinstance(c, TerminateOnNaN) for c in callbacks):
            callbacks.insert(0, TerminateOnNaN(raise_error=self.on_nan == "raise"))
        if verbose and not any(isinstance(c, ProgressBar) for c in callbacks):
            callbacks.append(ProgressBar())
        if self.data_parallel is not None:
            callbacks = self.data_parallel.callbacks(callbacks)
        return callbacks

    def _run(self, epochs: int, resume_batch: int | None) -> None:
        """The epochs between on_train_begin and on_train_end, and how training ends."""
        cbs = self.callback_list
        cbs.call("on_train_begin", {})
        error = None
        try:
            if not self.stop_training:
                with self.gate:
                    self._run_epochs(epochs, resume_batch)
        except KeyboardInterrupt:
            self.history.stop_reason = (f"interrupted at epoch {self.epoch + 1}, step "
                                        f"{self.global_step}")
            cbs.call("on_interrupt", {"reason": "interrupt"})
        except StopTraining as stop:
            self.optimizer.zero_grad()  # the unfinished step's gradients
            self.history.stop_reason = str(stop) or (
                f"stopped at epoch {self.epoch + 1}, step {self.global_step}")
            self.stop_training = True
            error = stop if stop.reraise else None
        cbs.call("on_train_end", {})
        if error is not None:
            raise error

    def reset_metrics(self) -> None:
        """Start the epoch's running loss and metrics afresh."""
        self.loss_mean.reset()
        for m in self.metrics:
            m.reset()

    def _run_epochs(self, epochs: int, resume_batch: int | None) -> None:
        loader = self.train_loader
        while self.epoch < epochs and not self.stop_training:
            epoch = self.epoch
            start = resume_batch or 0
            if resume_batch is None:  # a fresh epoch (a resumed one has its state restored)
                loader.set_epoch(epoch)
                self.reset_metrics()
            resume_batch = None
            self.callback_list.call("on_epoch_begin", epoch, {"lr": self._lr()})
            if start < len(loader):
                self._train_epoch(loader, epoch, start)
            logs = self._epoch_logs()
            self.schedule.after_epoch(logs)
            self.history.append(epoch, logs)
            self.epoch = epoch + 1
            self.resume_state.mark(self.epoch, 0)
            self.callback_list.call("on_epoch_end", epoch, logs)

    def _epoch_logs(self) -> dict:
        logs = {"loss": self.loss_mean.result()}
        for m in self.metrics:
            logs[m.name] = m.result()
        if self.val_loader is not None:
            val_metrics = [copy.deepcopy(m) for m in self.metrics]
            logs.update(self._evaluate_loader(self.val_loader, val_metrics, prefix="val_"))
        logs["lr"] = self._lr()
        return logs

    def _train_epoch(self, loader, epoch: int, start: int) -> None:
        """One pass over ``loader`` from batch ``start``."""
        self.model.train()
        k, n = self.grad_accum_steps, len(loader)
        pending = []  # outputs and targets of the current accumulation group
        gate, resume = self.gate, self.resume_state
        batches = iter(loader)
        for b in range(start, n):
            gate.hold()  # Ctrl-C waits for the batch's end: a checkpoint sees whole steps
            resume.leave()
            try:
                batch = next(batches, None)
                if batch is None:  # a loader shorter than its len()
                    gate.release()
                    break
                self._train_batch(b, batch, epoch, k, n, pending)
            except BaseException:
                gate.drop()
                raise
            gate.release()
            if self.stop_training and not pending:
                break

    def _train_batch(self, b: int, batch, epoch: int, k: int, n: int, pending: list) -> None:
        """Forward, backward and (at the end of an accumulation group) the optimizer step."""
        self.callback_list.call("on_batch_begin", b, {"batch": b})
        x, y = inputs.unpack(batch)
        group_start = b - (b % k)
        group_size = min(k, n - group_start)
        out = self._forward(x, training=True)
        y = self._to_device(y)
        loss = self.loss_fn(out, y)
        value = float(loss.item())
        if self.data_parallel is not None:  # the step's loss over all ranks' samples
            value = self.data_parallel.mean(value)
        self.callback_list.call("on_before_backward", b, {
            "batch": b, "size": len(out), "batch_loss": value, "step": self.global_step})
        total = loss if group_size == 1 else loss * (1.0 / group_size)
        if self.l2_penalty:
            total = total + self.l2_penalty(self.model, group_size)
        total.backward()
        pending.append((out.detach()._data, None if y is None else y._data, value, len(out)))
        stepped = b + 1 - group_start == group_size
        if stepped:
            self._optimizer_step(epoch, b, pending)
            pending.clear()
        logs = {"batch": b, "size": len(out), "batch_loss": value, "step": self.global_step,
                "optimizer_step": stepped, "loss": self.loss_mean.result()}
        for m in self.metrics:
            if m.streaming:
                logs[m.name] = m.result()
        self.callback_list.call("on_batch_end", b, logs)

    def _optimizer_step(self, epoch: int, b: int, pending: list) -> None:
        """Clip, step, zero the gradients, fold the group into the epoch's sums, step a
        per-batch schedule (the caller holds Ctrl-C until the batch's end, so a checkpoint
        never sees half a step)."""
        if self.clip_grad_norm is not None:
            from axonic.nn.utils import clip_grad_norm_

            clip_grad_norm_(self.model.parameters(), self.clip_grad_norm)
        self.optimizer.step()
        self.optimizer.zero_grad()
        self.global_step += 1
        if self.data_parallel is not None:  # every rank's samples count in the metrics
            pending = self.data_parallel.gather(pending)
        for o, t, v, size in pending:
            self.loss_mean.update(v, size)
            for m in self.metrics:
                m.update(o, t)
        self.schedule.after_optimizer_step({"loss": self.loss_mean.result()})
        # lazy when nothing runs between this step and the batch's end but callbacks
        self.resume_state.mark(epoch, b + 1, lazy=self.grad_accum_steps == 1)

    def _evaluate_loader(self, loader, metrics, prefix: str) -> dict:
        return evaluation.evaluate_loader(self, loader, metrics, prefix)

    # --- helpers --------------------------------------------------------------------------
    def _require(self, who: str, optimizer: bool = False) -> None:
        if self.loss_fn is None:
            raise ValueError(f"Trainer.{who}: needs a loss; this Trainer was made without "
                             "one (pass loss=..., e.g. nn.CrossEntropyLoss())")
        if optimizer and self.optimizer is None:
            raise ValueError(f"Trainer.{who}: needs an optimizer; this Trainer was made "
                             "without one (evaluate and predict need none)")

    def _to_device(self, t):
        if t is None or str(self.device) == "cpu":
            return t
        if isinstance(t, tuple | list):
            return type(t)(self._to_device(a) for a in t)
        return t.to(self.device)

    def _forward(self, x, training: bool = False):
        """The model's output; a training step of a distributed run goes through the
        DistributedDataParallel replica (evaluation and predict never talk to other ranks)."""
        x = self._to_device(x)
        model = self.data_parallel.module if training and self.data_parallel else self.model
        return model(*x) if isinstance(x, tuple) else model(x)

    def _lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])
