"""Ctrl-C during training: held until the batch's end, a second one stops at once."""
import os
import signal

import pytest

from axonic.train.interrupt import DeferInterrupt, InterruptGate


def _ctrl_c():
    os.kill(os.getpid(), signal.SIGINT)


def test_a_held_interrupt_is_raised_at_release_not_before():
    reached = []
    with InterruptGate() as gate:
        gate.hold()
        _ctrl_c()
        reached.append("after the signal")
        with pytest.raises(KeyboardInterrupt):
            gate.release()
    assert reached == ["after the signal"]


def test_a_second_interrupt_while_held_is_raised_at_once():
    with InterruptGate() as gate:
        gate.hold()
        _ctrl_c()
        with pytest.raises(KeyboardInterrupt):
            _ctrl_c()
        gate.release()  # the first was consumed by the forced stop: nothing left to raise


def test_outside_hold_an_interrupt_is_raised_at_once_and_the_handler_is_restored():
    before = signal.getsignal(signal.SIGINT)
    with InterruptGate(), pytest.raises(KeyboardInterrupt):
        _ctrl_c()
    assert signal.getsignal(signal.SIGINT) is before


def test_defer_interrupt_raises_on_exit():
    with pytest.raises(KeyboardInterrupt), DeferInterrupt():
        _ctrl_c()


def test_a_stop_in_the_middle_of_a_batch_warns_that_the_random_streams_moved_on(tmp_path):
    from axonic.train import Callback, ModelCheckpoint, read_checkpoint
    from tests.train import tiny

    class StopMidBatch(Callback):
        def on_before_backward(self, batch, logs=None):
            if logs["step"] == 3:
                raise KeyboardInterrupt  # as a second Ctrl-C would, mid-batch

    t = tiny.trainer(callbacks=[ModelCheckpoint(tmp_path / "run", every_n_steps=100),
                                StopMidBatch()])
    with pytest.warns(UserWarning, match="taken in the middle of a batch"):
        h = t.fit(tiny.data(), epochs=2, batch_size=8, verbose=0)
    assert h.stop_reason.startswith("interrupted")
    assert read_checkpoint(tmp_path / "run" / "last")[1]["step"] == 3
