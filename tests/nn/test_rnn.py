"""RNN, LSTM, GRU and their cells against PyTorch on the same weights: outputs, final
states, input, state and parameter gradients; float64 gradcheck; dropout between layers;
errors."""

import doctest
import importlib

import numpy as np
import pytest

import axonic
from axonic import nn
from axonic.autograd import gradcheck
from tests.conftest import requires_torch, torch

RTOL, ATOL = 1e-5, 1e-6

MODES = {
    "rnn_tanh": ("RNN", {}),
    "rnn_relu": ("RNN", {"nonlinearity": "relu"}),
    "lstm": ("LSTM", {}),
    "gru": ("GRU", {}),
}
CONFIGS = {
    "one_layer": {},
    "two_layers": {"num_layers": 2},
    "bidirectional": {"bidirectional": True},
    "two_layers_bidirectional": {"num_layers": 2, "bidirectional": True},
    "batch_first": {"batch_first": True, "num_layers": 2},
    "no_bias": {"bias": False, "bidirectional": True},
}


def _copy_weights(ours, theirs):
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


def _pair(mode, **kwargs):
    name, extra = MODES[mode]
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(**extra, **kwargs)
    ours = getattr(nn, name)(**extra, **kwargs)
    _copy_weights(ours, theirs)
    return ours, theirs


def _close(a, b, what, rtol=RTOL, atol=ATOL):
    a = a.detach().numpy() if hasattr(a, "detach") else a
    b = b.detach().numpy() if hasattr(b, "detach") else b
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=what)


def _leaf(a, requires_grad=True):
    return axonic.tensor(a, requires_grad=requires_grad), torch.tensor(a, requires_grad=True)


def _finals(out_state):
    return list(out_state) if isinstance(out_state, tuple) else [out_state]


def _check_parity(ours, theirs, x_shape, with_state, rtol=RTOL, atol=ATOL, grad_atol=1e-5):
    rng = np.random.default_rng(1)
    x, tx = _leaf(rng.standard_normal(x_shape).astype(np.float32))
    states, tstates = [], []
    if with_state:
        d = 2 if theirs.bidirectional else 1
        batch = () if len(x_shape) == 2 else (x_shape[0 if theirs.batch_first else 1],)
        shape = (theirs.num_layers * d, *batch, theirs.hidden_size)
        for _ in range(2 if isinstance(theirs, torch.nn.LSTM) else 1):
            s, ts = _leaf(rng.standard_normal(shape).astype(np.float32))
            states.append(s)
            tstates.append(ts)
    hx = None if not with_state else (tuple(states) if len(states) == 2 else states[0])
    thx = None if not with_state else (tuple(tstates) if len(tstates) == 2 else tstates[0])
    out, fin = ours(x, hx)
    tout, tfin = theirs(tx, thx)
    _close(out, tout, "output", rtol, atol)
    fin, tfin = _finals(fin), _finals(tfin)
    for k, (a, b) in enumerate(zip(fin, tfin)):
        _close(a, b, f"final state {k}", rtol, atol)
    # A loss that reaches the output and every final state with different weights.
    seeds = [rng.standard_normal(tuple(t.shape)).astype(np.float32) for t in [tout, *tfin]]
    loss = sum((t * axonic.tensor(s)).sum() for t, s in zip([out, *fin], seeds))
    tloss = sum((t * torch.tensor(s)).sum() for t, s in zip([tout, *tfin], seeds))
    loss.backward()
    tloss.backward()
    _close(x.grad, tx.grad, "input gradient", rtol, grad_atol)
    for k, (s, ts) in enumerate(zip(states, tstates)):
        _close(s.grad, ts.grad, f"initial state {k} gradient", rtol, grad_atol)
    ours_p = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        _close(ours_p[name].grad, p.grad, f"gradient of {name}", rtol, grad_atol)


@requires_torch
@pytest.mark.parametrize("config", list(CONFIGS))
@pytest.mark.parametrize("mode", list(MODES))
def test_matches_torch(mode, config):
    kwargs = CONFIGS[config]
    ours, theirs = _pair(mode, input_size=3, hidden_size=5, **kwargs)
    shape = (2, 6, 3) if kwargs.get("batch_first") else (6, 2, 3)
    _check_parity(ours, theirs, shape, with_state=False)


@requires_torch
@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("bidirectional", [False, True])
def test_matches_torch_with_initial_state(mode, bidirectional):
    ours, theirs = _pair(mode, input_size=4, hidden_size=3, num_layers=2,
                         bidirectional=bidirectional)
    _check_parity(ours, theirs, (5, 3, 4), with_state=True)


@requires_torch
@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("with_state", [False, True])
def test_unbatched_input_matches_torch(mode, with_state):
    ours, theirs = _pair(mode, input_size=3, hidden_size=4, num_layers=2, bidirectional=True,
                         batch_first=True)  # batch_first does not apply to 2-d input
    _check_parity(ours, theirs, (5, 3), with_state=with_state)


@requires_torch
@pytest.mark.parametrize("mode", list(MODES))
def test_train_mode_with_zero_dropout_matches_torch(mode):
    ours, theirs = _pair(mode, input_size=3, hidden_size=4, num_layers=2, dropout=0.0)
    ours.train()
    theirs.train()
    _check_parity(ours, theirs, (4, 2, 3), with_state=True)


@requires_torch
def test_long_sequence_lstm_matches_torch():
    # 64 steps of a 64-wide LSTM: rounding differences would compound here first.
    ours, theirs = _pair("lstm", input_size=16, hidden_size=64)
    _check_parity(ours, theirs, (64, 4, 16), with_state=True)


@requires_torch
@pytest.mark.parametrize("mode", ["lstm", "gru"])
def test_char_model_sized_layer_matches_torch(mode):
    # The benchmark's layer (64 -> 256, 64 steps, batch_first) at the usual tolerances.
    ours, theirs = _pair(mode, input_size=64, hidden_size=256, batch_first=True)
    _check_parity(ours, theirs, (4, 64, 64), with_state=True)


@requires_torch
def test_loads_torch_two_layer_lstm_state_dict_and_reproduces_outputs():
    torch.manual_seed(3)
    theirs = torch.nn.LSTM(8, 16, num_layers=2, batch_first=True).eval()
    ours = nn.LSTM(8, 16, num_layers=2, batch_first=True).eval()
    state = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    assert list(state) == list(ours.state_dict())
    ours.load_state_dict(state)
    x = np.random.default_rng(0).standard_normal((3, 10, 8)).astype(np.float32)
    out, (h, c) = ours(axonic.tensor(x))
    with torch.no_grad():
        tout, (th, tc) = theirs(torch.tensor(x))
    _close(out, tout, "output")
    _close(h, th, "h_n")
    _close(c, tc, "c_n")


@requires_torch
@pytest.mark.parametrize("mode", list(MODES))
def test_state_dict_keys_and_shapes_match_torch(mode):
    ours, theirs = _pair(mode, input_size=3, hidden_size=4, num_layers=2, bidirectional=True)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]


@pytest.mark.parametrize("cls,gates", [(nn.RNN, 1), (nn.LSTM, 4), (nn.GRU, 3)])
def test_default_init_is_uniform_in_one_over_sqrt_hidden(cls, gates):
    m = cls(10, 25)
    bound = 1 / 5
    for name, p in m.named_parameters():
        a = p.detach().numpy()
        assert a.shape[0] == gates * 25, name
        assert np.abs(a).max() <= bound and np.abs(a).max() > 0.9 * bound, name
        assert abs(a.mean()) < 0.05, name


# --- cells ----------------------------------------------------------------------------------

CELLS = {
    "rnn_tanh": ("RNNCell", {}),
    "rnn_relu": ("RNNCell", {"nonlinearity": "relu"}),
    "lstm": ("LSTMCell", {}),
    "gru": ("GRUCell", {}),
}


@requires_torch
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("mode", list(CELLS))
def test_cell_matches_torch(mode, bias, with_state, batched):
    name, extra = CELLS[mode]
    theirs = getattr(torch.nn, name)(3, 4, bias=bias, **extra)
    ours = getattr(nn, name)(3, 4, bias=bias, **extra)
    _copy_weights(ours, theirs)
    rng = np.random.default_rng(2)
    lead = (2,) if batched else ()
    x, tx = _leaf(rng.standard_normal((*lead, 3)).astype(np.float32))
    states, tstates = [], []
    for _ in range(2 if mode == "lstm" else 1):
        s, ts = _leaf(rng.standard_normal((*lead, 4)).astype(np.float32))
        states.append(s)
        tstates.append(ts)
    if with_state:
        hx = tuple(states) if mode == "lstm" else states[0]
        thx = tuple(tstates) if mode == "lstm" else tstates[0]
        out, tout = ours(x, hx), theirs(tx, thx)
    else:
        out, tout = ours(x), theirs(tx)
    outs, touts = _finals(out), _finals(tout)
    loss = sum((o * (k + 1.5)).sum() for k, o in enumerate(outs))
    tloss = sum((o * (k + 1.5)).sum() for k, o in enumerate(touts))
    loss.backward()
    tloss.backward()
    for a, b in zip(outs, touts):
        _close(a, b, "cell output")
    _close(x.grad, tx.grad, "input gradient", atol=1e-5)
    if with_state:
        for s, ts in zip(states, tstates):
            _close(s.grad, ts.grad, "state gradient", atol=1e-5)
    ours_p = dict(ours.named_parameters())
    assert list(ours_p) == [n for n, _ in theirs.named_parameters()]
    for n, p in theirs.named_parameters():
        _close(ours_p[n].grad, p.grad, f"gradient of {n}", atol=1e-5)


# --- float64 gradcheck ----------------------------------------------------------------------

@pytest.mark.parametrize("mode", list(MODES))
def test_gradcheck_float64(mode):
    name, extra = MODES[mode]
    m = getattr(nn, name)(2, 2, num_layers=2, bidirectional=True, **extra).double()
    x = axonic.randn(3, 2, 2, dtype=axonic.float64, requires_grad=True)
    shape = (4, 2, 2)
    states = [axonic.randn(*shape, dtype=axonic.float64, requires_grad=True)
              for _ in range(2 if mode == "lstm" else 1)]
    params = list(m.parameters())

    def f(x, *rest):
        hx = tuple(rest[:2]) if mode == "lstm" else rest[0]
        out, fin = m(x, hx)
        return [out, *_finals(fin)]

    assert gradcheck(f, (x, *states, *params))


@pytest.mark.parametrize("mode", list(CELLS))
def test_cell_gradcheck_float64(mode):
    name, extra = CELLS[mode]
    m = getattr(nn, name)(3, 2, **extra).double()
    x = axonic.randn(2, 3, dtype=axonic.float64, requires_grad=True)
    h = [axonic.randn(2, 2, dtype=axonic.float64, requires_grad=True)
         for _ in range(2 if mode == "lstm" else 1)]

    def f(x, *rest):
        out = m(x, tuple(rest[:2]) if mode == "lstm" else rest[0])
        return list(out) if isinstance(out, tuple) else out

    assert gradcheck(f, (x, *h, *m.parameters()))


# --- dropout between layers -----------------------------------------------------------------

def _identity_relu_rnn(p, size=400):
    # Two relu layers with identity input weights and no recurrence: the second layer's
    # output is the dropout mask applied to the first layer's output of ones.
    m = nn.RNN(size, size, num_layers=2, nonlinearity="relu", dropout=p)
    eye = np.eye(size, dtype=np.float32)
    m.load_state_dict({k: (eye if k.startswith("weight_ih") else np.zeros_like(v.numpy()))
                       for k, v in m.state_dict().items()})
    return m


def test_dropout_between_layers_statistics_in_train_mode():
    p = 0.3
    m = _identity_relu_rnn(p)
    x = axonic.ones(5, 4, 400)
    out, h_n = m(x)
    a = out.detach().numpy()
    kept = a != 0
    assert abs(kept.mean() - (1 - p)) < 0.01
    np.testing.assert_allclose(a[kept], 1 / (1 - p), rtol=1e-6)
    np.testing.assert_allclose(h_n.detach().numpy()[0], 1.0)  # no dropout after layer 0's state
    out2, _ = m(x)
    assert (out2.detach().numpy() != a).any(), "a fresh mask on every call"


def test_dropout_between_layers_is_off_in_eval_mode():
    m = _identity_relu_rnn(0.5).eval()
    out, _ = m(axonic.ones(3, 2, 400))
    np.testing.assert_array_equal(out.detach().numpy(), 1.0)


def test_dropout_gradient_uses_the_same_mask():
    m = _identity_relu_rnn(0.5, size=50)
    x = axonic.ones(3, 2, 50, requires_grad=True)
    out, _ = m(x)
    out.sum().backward()
    kept = out.detach().numpy() != 0
    np.testing.assert_allclose(x.grad.numpy(), np.where(kept, 2.0, 0.0))


# --- errors ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs,match", [
    ({"input_size": 0, "hidden_size": 4}, r"LSTM: input_size must be a positive integer, got 0"),
    ({"input_size": 3, "hidden_size": -2}, r"hidden_size must be a positive integer, got -2"),
    ({"input_size": 3, "hidden_size": 4, "num_layers": 0}, r"num_layers .* got 0"),
    ({"input_size": 3, "hidden_size": 4, "dropout": 1.0}, r"dropout must be .*\[0, 1\), got 1.0"),
    ({"input_size": 3, "hidden_size": 4, "dropout": -0.1}, r"got -0.1"),
    ({"input_size": 3, "hidden_size": 4, "proj_size": 2}, r"proj_size=2 is not supported"),
])
def test_bad_arguments_raise_with_received_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        nn.LSTM(**kwargs)


def test_bad_nonlinearity_raises():
    with pytest.raises(ValueError, match=r"RNN: nonlinearity must be 'tanh' or 'relu', got 'gelu'"):
        nn.RNN(3, 4, nonlinearity="gelu")
    with pytest.raises(ValueError, match=r"RNNCell: nonlinearity .* got 'sigmoid'"):
        nn.RNNCell(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match=r"GRUCell: hidden_size must be a positive integer, got 0"):
        nn.GRUCell(3, 0)


def test_wrong_input_size_names_expected_and_received_shapes():
    m = nn.GRU(8, 4, batch_first=True)
    with pytest.raises(nn.LayerInputError,
                       match=r"GRU: expected input of shape \(batch, seq, features\) or "
                             r"\(seq, features\) with features=8, got shape \(2, 5, 7\)"):
        m(axonic.randn(2, 5, 7))
    with pytest.raises(nn.LayerInputError, match=r"got shape \(2, 3, 4, 8\)"):
        m(axonic.randn(2, 3, 4, 8))
    with pytest.raises(nn.LayerInputError, match=r"sequence length larger than 0"):
        m(axonic.randn(2, 0, 8))


def test_wrong_state_shape_names_expected_and_received_shapes():
    m = nn.LSTM(3, 4, num_layers=2)
    x = axonic.randn(5, 2, 3)
    h = axonic.zeros(2, 2, 4)
    with pytest.raises(nn.LayerInputError,
                       match=r"expected c_0 of shape \(2, 2, 4\), got \(1, 2, 4\)"):
        m(x, (h, axonic.zeros(1, 2, 4)))
    with pytest.raises(nn.LayerInputError, match=r"expected the initial state as a tuple"):
        m(x, h)
    with pytest.raises(nn.LayerInputError, match=r"RNN: expected h_0 of shape \(1, 2, 4\)"):
        nn.RNN(3, 4)(x, axonic.zeros(1, 3, 4))


def test_dtype_mismatch_is_an_input_error():
    with pytest.raises(nn.LayerInputError, match=r"input dtype float64 does not match .*float32"):
        nn.LSTM(3, 4)(axonic.randn(2, 1, 3, dtype=axonic.float64))


def test_cell_input_errors():
    cell = nn.LSTMCell(3, 4)
    with pytest.raises(nn.LayerInputError,
                       match=r"LSTMCell: expected input of shape \(batch, 3\) or "
                             r"\(3,\), got \(2, 5\)"):
        cell(axonic.randn(2, 5))
    with pytest.raises(nn.LayerInputError, match=r"expected h of shape \(2, 4\), got \(2, 3\)"):
        cell(axonic.randn(2, 3), (axonic.zeros(2, 3), axonic.zeros(2, 4)))


def test_error_inside_a_model_names_the_layer_path():
    model = nn.Sequential(nn.Identity(), nn.GRU(4, 4))
    with pytest.raises(nn.LayerInputError, match=r"^1 \(GRU\): expected input"):
        model(axonic.randn(3, 2, 5))


@requires_torch
def test_all_weights_and_flatten_parameters_as_torch():
    ours, theirs = _pair("gru", input_size=3, hidden_size=4, num_layers=2, bidirectional=True)
    ours.flatten_parameters()
    assert [[tuple(w.shape) for w in group] for group in ours.all_weights] == \
        [[tuple(w.shape) for w in group] for group in theirs.all_weights]
    assert ours.all_weights[1][0] is ours.weight_ih_l0_reverse


@pytest.mark.parametrize("name", ["axonic.ops.recurrent", "axonic.ops.recurrent_lstm",
                                  "axonic.ops.recurrent_gru", "axonic.ops.recurrent_rnn",
                                  "axonic.nn.rnn"])
def test_docstring_examples_run(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0

