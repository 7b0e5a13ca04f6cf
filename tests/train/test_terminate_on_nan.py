"""TerminateOnNaN alone and in the Trainer; StopTraining from any callback."""

import math
from types import SimpleNamespace

import numpy as np
import pytest

from axonic import nn, optim
from axonic.train import (
    Callback,
    NonFiniteLossError,
    NonFiniteLossWarning,
    StopTraining,
    TerminateOnNaN,
    Trainer,
)
from tests.train import tiny


def attached(cb, **state):
    """The callback attached to a stand-in trainer at epoch 2, step 7, batch 3 of 5."""
    trainer = SimpleNamespace(epoch=1, global_step=6, steps_per_epoch=5, last_checkpoint=None)
    trainer.__dict__.update(state)
    cb.set_trainer(trainer)
    return cb


def test_terminate_on_nan_alone_lets_finite_losses_through():
    cb = attached(TerminateOnNaN())
    for value in (0.0, -3.5, 1e30):
        assert cb.on_before_backward(2, {"batch_loss": value}) is None


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_terminate_on_nan_alone_stops_naming_epoch_step_and_batch(value):
    cb = attached(TerminateOnNaN(), last_checkpoint="runs/x/checkpoints/last")
    with pytest.warns(NonFiniteLossWarning), pytest.raises(StopTraining) as info:
        cb.on_before_backward(2, {"batch_loss": value})
    assert not isinstance(info.value, NonFiniteLossError)
    assert str(info.value) == (
        f"TerminateOnNaN: the loss is {value} at epoch 2, step 7 (batch 3 of 5); training "
        "stopped; the last good checkpoint is kept at runs/x/checkpoints/last. To find the "
        "op that first produced a non-finite value, run that step under "
        "axonic.autograd.detect_anomaly().")


def test_terminate_on_nan_alone_can_raise_an_error():
    cb = attached(TerminateOnNaN(raise_error=True))
    with pytest.raises(NonFiniteLossError, match=r"loss is nan at epoch 2, step 7 \(batch 3 of "
                                                 r"5\); training stopped\. To find"):
        cb.on_before_backward(2, {"batch_loss": math.nan})
    with pytest.raises(TypeError, match="TerminateOnNaN: raise_error must be True or False, "
                                        "got 'yes'"):
        TerminateOnNaN(raise_error="yes")


def nan_data():
    X, y = tiny.data(32)
    X[13, 0] = np.inf  # the second batch of 8 without shuffling
    return X, y


@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_a_users_terminate_on_nan_replaces_the_trainers():
    m = tiny.model(dropout=0)
    t = Trainer(m, optim.SGD(m.parameters(), lr=0.1), nn.CrossEntropyLoss(), on_nan="stop",
                callbacks=[TerminateOnNaN(raise_error=True)])
    w0 = m.state_dict()["0.weight"].numpy().copy()
    with pytest.raises(NonFiniteLossError, match="step 2"):
        t.fit(nan_data(), epochs=1, batch_size=8, shuffle=False, verbose=0)
    assert sum(isinstance(c, TerminateOnNaN) for c in t.callback_list) == 1
    assert t.global_step == 1  # the bad batch changed nothing
    assert not np.array_equal(m.state_dict()["0.weight"].numpy(), w0)
    assert all(p.grad is None or not np.any(p.grad.numpy()) for p in m.parameters())


class StopAtStep(Callback):
    def __init__(self, step):
        self.step, self.ended = step, False

    def on_batch_end(self, batch, logs=None):
        if logs["step"] == self.step:
            raise StopTraining(f"enough after step {self.step}")

    def on_train_end(self, logs=None):
        self.ended = True


def test_stop_training_from_any_callback_ends_fit_at_once():
    stop = StopAtStep(3)
    t = tiny.trainer(callbacks=[stop])
    h = t.fit(tiny.data(), epochs=5, batch_size=8, verbose=0)
    assert h.stop_reason == "enough after step 3" and stop.ended
    assert t.global_step == 3 and len(h.epoch) == 0 and t.stop_training
