"""nn.utils.rnn against torch.nn.utils.rnn, and RNN/LSTM/GRU on packed batches against
PyTorch's layers with the same weights: packed outputs, final states (each sequence's own
last step), and the gradients of the padded input and of every weight, float64."""

import numpy as np
import pytest
import torch
import torch.nn.utils.rnn as trnn

import axonic
from axonic import nn
from axonic.nn.utils import rnn

RNG = np.random.default_rng(0)


def t(a, grad=False):
    return axonic.tensor(a, requires_grad=grad), torch.tensor(a, requires_grad=grad)


def close(mine, theirs, tol=1e-12):
    np.testing.assert_allclose(np.asarray(mine.detach().numpy()), theirs.detach().numpy(),
                               rtol=tol, atol=tol)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted, lengths", [(True, [5, 3, 3, 1]), (False, [2, 5, 1, 4])])
def test_pack_and_pad_match_torch(batch_first, enforce_sorted, lengths):
    shape = (4, 5, 3) if batch_first else (5, 4, 3)
    x, tx = t(RNG.standard_normal(shape), grad=True)
    mine = rnn.pack_padded_sequence(x, lengths, batch_first, enforce_sorted)
    theirs = trnn.pack_padded_sequence(tx, torch.tensor(lengths), batch_first, enforce_sorted)
    close(mine.data, theirs.data, 0)
    assert mine.batch_sizes.tolist() == theirs.batch_sizes.tolist()
    for a, b in ((mine.sorted_indices, theirs.sorted_indices),
                 (mine.unsorted_indices, theirs.unsorted_indices)):
        assert (a is None) == (b is None) and (a is None or a.tolist() == b.tolist())
    padded, lens = rnn.pad_packed_sequence(mine, batch_first, padding_value=-1.0,
                                           total_length=6)
    tpadded, tlens = trnn.pad_packed_sequence(theirs, batch_first, padding_value=-1.0,
                                              total_length=6)
    close(padded, tpadded, 0)
    assert lens.tolist() == tlens.tolist() == lengths
    g = RNG.standard_normal(tuple(tpadded.shape))
    padded.backward(axonic.tensor(g))
    tpadded.backward(torch.tensor(g))
    close(x.grad, tx.grad, 0)


def test_pad_sequence_pack_sequence_and_unpacking_match_torch():
    arrays = [RNG.standard_normal((n, 2)) for n in (3, 5, 1)]
    mine = [axonic.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    for kw in ({}, {"batch_first": True, "padding_value": 7.0},
               {"padding_side": "left"}):
        close(rnn.pad_sequence(mine, **kw), trnn.pad_sequence(theirs, **kw), 0)
    packed = rnn.pack_sequence(mine, enforce_sorted=False)
    tpacked = trnn.pack_sequence(theirs, enforce_sorted=False)
    close(packed.data, tpacked.data, 0)
    for a, b in zip(rnn.unpack_sequence(packed), trnn.unpack_sequence(tpacked)):
        close(a, b, 0)
    data, batch_sizes, sorted_indices, unsorted_indices = packed  # a 4-tuple, as PyTorch's
    assert batch_sizes.tolist() == [3, 2, 2, 1, 1] and sorted_indices.tolist() == [1, 0, 2]
    padded, lengths = rnn.pad_packed_sequence(packed)
    for a, b in zip(rnn.unpad_sequence(padded, lengths), arrays):
        np.testing.assert_array_equal(a.detach().numpy(), b)


def _pair(mode, **kw):
    mine = getattr(nn, mode)(3, 4, dtype=axonic.float64, **kw)
    theirs = getattr(torch.nn, mode)(3, 4, dtype=torch.float64, **kw)
    with torch.no_grad():
        for name, p in theirs.named_parameters():
            p.copy_(torch.tensor(getattr(mine, name).detach().numpy()))
    return mine, theirs


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("layers, bidirectional", [(1, False), (2, True), (1, True)])
@pytest.mark.parametrize("with_state", [False, True])
def test_recurrent_layers_on_packed_batches_match_torch(mode, layers, bidirectional,
                                                        with_state):
    mine, theirs = _pair(mode, num_layers=layers, bidirectional=bidirectional)
    lengths = [4, 6, 1, 4, 2]  # unsorted, with a tie and a sequence of one step
    x, tx = t(RNG.standard_normal((6, 5, 3)), grad=True)
    packed = rnn.pack_padded_sequence(x, lengths, enforce_sorted=False)
    tpacked = trnn.pack_padded_sequence(tx, torch.tensor(lengths), enforce_sorted=False)
    state_shape = (layers * (1 + bidirectional), 5, 4)
    hx = thx = None
    if with_state:
        pairs = [t(RNG.standard_normal(state_shape), grad=True)
                 for _ in range(2 if mode == "LSTM" else 1)]
        hx = tuple(p[0] for p in pairs) if mode == "LSTM" else pairs[0][0]
        thx = tuple(p[1] for p in pairs) if mode == "LSTM" else pairs[0][1]
    out, state = mine(packed, hx)
    tout, tstate = theirs(tpacked, thx)
    assert isinstance(out, rnn.PackedSequence)
    close(out.data, tout.data)
    assert out.batch_sizes.tolist() == tout.batch_sizes.tolist()
    states = state if mode == "LSTM" else (state,)
    tstates = tstate if mode == "LSTM" else (tstate,)
    for a, b in zip(states, tstates):
        close(a, b)
    g = RNG.standard_normal(tuple(tout.data.shape))
    gs = [RNG.standard_normal(state_shape) for _ in states]
    loss = (out.data * axonic.tensor(g)).sum() + sum((s * axonic.tensor(w)).sum()
                                                    for s, w in zip(states, gs))
    tloss = (tout.data * torch.tensor(g)).sum() + sum((s * torch.tensor(w)).sum()
                                                      for s, w in zip(tstates, gs))
    loss.backward()
    tloss.backward()
    close(x.grad, tx.grad, 1e-11)
    for name, p in theirs.named_parameters():
        close(getattr(mine, name).grad, p.grad, 1e-11)
    if with_state:
        for a, b in zip(hx if mode == "LSTM" else (hx,), thx if mode == "LSTM" else (thx,)):
            close(a.grad, b.grad, 1e-11)


def test_an_lstm_classifies_variable_length_sequences_by_their_last_step():
    """Labels that only the last real step decides: with packing the LSTM reads it; the
    padded steps after it never reach the final state."""
    axonic.manual_seed(0)
    rng = np.random.default_rng(1)
    n, longest = 256, 12
    lengths = rng.integers(2, longest + 1, n)
    x = rng.standard_normal((longest, n, 1)).astype(np.float32)
    y = (x[lengths - 1, np.arange(n), 0] > 0).astype(np.int64)
    x[np.arange(longest)[:, None] >= lengths[None, :]] = 5.0  # padding that would mislead
    lstm, head = nn.LSTM(1, 8), nn.Linear(8, 2)
    opt = axonic.optim.Adam([*lstm.parameters(), *head.parameters()], lr=0.05)
    packed = rnn.pack_padded_sequence(axonic.tensor(x), lengths, enforce_sorted=False)
    for _ in range(60):
        opt.zero_grad()
        _, (h, _) = lstm(packed)
        loss = nn.functional.cross_entropy(head(h[-1]), axonic.tensor(y))
        loss.backward()
        opt.step()
    accuracy = (head(lstm(packed)[1][0][-1]).argmax(1).numpy() == y).mean()
    assert accuracy > 0.95, accuracy


@pytest.mark.parametrize("call, error, message", [
    (lambda: rnn.pack_padded_sequence(axonic.ones(3, 2, 1), [1, 3]), ValueError,
     "pack_padded_sequence: lengths must be in decreasing order when enforce_sorted=True, "
     "got [1, 3]; pass enforce_sorted=False"),
    (lambda: rnn.pack_padded_sequence(axonic.ones(3, 2, 1), [4, 1]), ValueError,
     "pack_padded_sequence: every length must be between 1 and the padded length 3, got "
     "[4, 1]"),
    (lambda: rnn.pack_padded_sequence(axonic.ones(3, 2, 1), [3]), ValueError,
     "pack_padded_sequence: expected 2 lengths (one per sequence of the batch), got [3]"),
    (lambda: rnn.pad_packed_sequence(axonic.ones(3)), TypeError,
     "pad_packed_sequence: expected a PackedSequence, got Tensor"),
    (lambda: rnn.pad_packed_sequence(rnn.pack_sequence([axonic.ones(3)]), total_length=2),
     ValueError, "pad_packed_sequence: total_length must be at least the longest sequence's "
                 "length 3, got 2"),
    (lambda: rnn.pad_sequence([axonic.ones(2, 3), axonic.ones(2, 4)]), ValueError,
     "pad_sequence: every tensor must have the trailing shape (3,), got [(2, 3), (2, 4)]"),
    (lambda: nn.LSTM(3, 4)(rnn.pack_sequence([axonic.ones(2, 5)])), ValueError,
     "LSTM: expected a PackedSequence of data (steps, features) with features=3, got (2, 5)"),
])
def test_errors_name_the_function_and_the_value(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert message in str(info.value)


def test_the_advanced_guide_section_runs_as_written(capsys):
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "ADVANCED.md").read_text()
    section = re.split(r"^## ", text, flags=re.M)
    (body,) = [s for s in section if s.startswith("Variable-length sequences")]
    (code,) = re.findall(r"```python\n(.*?)```", body, flags=re.S)
    exec(compile(code, "docs/ADVANCED.md", "exec"), {})  # noqa: S102
    assert capsys.readouterr().out.strip() == "(3, 7, 32) [5, 2, 7] (4, 3, 16)"
