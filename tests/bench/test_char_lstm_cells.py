"""bench/char_lstm.py with each recurrent layer (``--cell lstm|gru|rnn``): the model
builds with that layer and trains one step at tiny sizes. No timings are asserted."""

import dataclasses

import numpy as np
import pytest

from bench.char_lstm import workload


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_char_benchmark_trains_one_step_with_each_cell(cell):
    tiny = dataclasses.replace(workload(cell), samples=3)
    tiny.sizes.update(vocab=7, embed=4, hidden=5, seq=6)
    step = tiny.train_steps(("axonic",))["axonic"]
    assert type(step.model.lstm).__name__ == {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}[cell]
    before = [p.detach().numpy().copy() for p in step.model.parameters()]
    assert np.isfinite(float(step().item()))
    after = [p.detach().numpy() for p in step.model.parameters()]
    assert all(not np.array_equal(a, b) for a, b in zip(before, after))
