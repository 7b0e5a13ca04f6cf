"""``TerminateOnNaN``: stop before a NaN or inf loss is backpropagated (Keras's name)."""

from __future__ import annotations

import math
import warnings

from axonic.train.callbacks.base import Callback
from axonic.train.errors import NonFiniteLossError, NonFiniteLossWarning, StopTraining


class TerminateOnNaN(Callback):
    """End training at the first batch whose loss is NaN or inf, before its backward.

    The message names the epoch, the optimizer step and the batch, the last checkpoint kept
    (the newest a ``ModelCheckpoint`` wrote), and how to find the op that produced the
    value. ``raise_error=False`` warns (``NonFiniteLossWarning``) and ``fit`` returns the
    history; ``raise_error=True`` raises ``NonFiniteLossError`` from ``fit``. The Trainer
    adds one (``raise_error = on_nan == 'raise'``) unless its callbacks hold one.

    >>> TerminateOnNaN(raise_error=True).raise_error
    True
    """

    def __init__(self, raise_error: bool = False):
        if not isinstance(raise_error, bool):
            raise TypeError(f"TerminateOnNaN: raise_error must be True or False, got "
                            f"{raise_error!r}")
        self.raise_error = raise_error

    def on_before_backward(self, batch, logs=None):
        value = float((logs or {})["batch_loss"])
        if math.isfinite(value):
            return
        t = self.trainer
        kept = (f"; the last good checkpoint is kept at {t.last_checkpoint}"
                if t.last_checkpoint else "")
        msg = (f"TerminateOnNaN: the loss is {value} at epoch {t.epoch + 1}, step "
               f"{t.global_step + 1} (batch {batch + 1} of {t.steps_per_epoch}); training "
               f"stopped{kept}. To find the op that first produced a non-finite value, run "
               "that step under axonic.autograd.detect_anomaly().")
        if self.raise_error:
            raise NonFiniteLossError(msg)
        warnings.warn(msg, NonFiniteLossWarning, stacklevel=2)
        raise StopTraining(msg)
