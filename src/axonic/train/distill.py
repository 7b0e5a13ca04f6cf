"""``Distill``: train the Trainer's model (the student) against a teacher's soft targets.

A callback, so the Trainer's loop stays as it is: while training, a forward pre-hook on the
student runs the teacher (eval mode, no gradients) on the same batch, and the Trainer's
loss becomes ``alpha * T^2 * KL(teacher_T || student_T) + (1 - alpha) * loss(student, y)``
(``nn.DistillationLoss`` when the Trainer's loss is cross-entropy). Validation and
``evaluate`` keep the Trainer's own loss, so ``val_loss`` compares with a run without a
teacher.

>>> import numpy as np, axonic
>>> from axonic import nn, optim
>>> from axonic.train import Trainer
>>> X = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
>>> y = (X[:, 0] > 0).astype(np.int64)
>>> teacher = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
>>> student = nn.Linear(4, 2)
>>> trainer = Trainer(student, optim.Adam(student.parameters(), lr=0.05),
...                   nn.CrossEntropyLoss(), callbacks=[Distill(teacher, 2.0, 0.5)], seed=0)
>>> len(trainer.fit((X, y), epochs=2, batch_size=16, verbose=0).history["loss"])
2
"""

from __future__ import annotations

from axonic.autograd.grad_mode import no_grad
from axonic.nn.distillation import DistillationLoss
from axonic.nn.module import Module
from axonic.train.callbacks.base import Callback


class Distill(Callback):
    """Distil ``teacher`` (a Module mapping the same inputs to the same classes) into the
    Trainer's model with temperature ``temperature`` and soft-loss weight ``alpha``."""

    def __init__(self, teacher: Module, temperature: float = 4.0, alpha: float = 0.5):
        if not isinstance(teacher, Module):
            raise TypeError(f"Distill: teacher must be an nn.Module, got "
                            f"{type(teacher).__name__}")
        self.teacher = teacher
        self.loss = DistillationLoss(temperature, alpha)
        self._teacher_out = None
        self._hook = None
        self._hard = None

    def on_train_begin(self, logs=None):
        if self._hook is not None:
            return  # already in place (a fit that ended by an error)
        self.teacher.eval()
        self._hard = self.trainer.loss_fn
        self.trainer.loss_fn = self._loss
        self._hook = self.trainer.model.register_forward_pre_hook(self._run_teacher)

    def on_train_end(self, logs=None):
        if self._hook is not None:
            self._hook.remove()
            self.trainer.loss_fn = self._hard
            self._hook = self._teacher_out = None

    def _run_teacher(self, module, args):
        if module.training:
            with no_grad():
                self._teacher_out = self.teacher(*args)

    def _loss(self, out, target):
        teacher, self._teacher_out = self._teacher_out, None
        if teacher is None:  # evaluation: the Trainer's own loss
            return self._hard(out, target)
        a = self.loss.alpha
        soft = self.loss.soft_loss(out, teacher)
        return soft if a == 1.0 else a * soft + (1.0 - a) * self._hard(out, target)
