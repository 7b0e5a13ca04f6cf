"""Transformer layers and stacks against PyTorch on the same weights: outputs, input and
parameter gradients, pre- and post-norm, relu / gelu / callable activations, eval and
train mode (dropout 0), every mask; copies made from state_dicts; errors."""

import doctest
import importlib
import warnings

import numpy as np
import pytest

import axonic
from axonic import nn
from tests.conftest import requires_torch, torch

RTOL, ATOL = 1e-5, 1e-5
# PyTorch warns when a float attention mask meets a bool padding mask; both kinds are meant.
pytestmark = pytest.mark.filterwarnings("ignore:Support for mismatched")


def _close(a, b, what, rtol=RTOL, atol=ATOL):
    a = a.detach().numpy() if hasattr(a, "detach") else a
    b = b.detach().numpy() if hasattr(b, "detach") else b
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=what)


def _randn(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


def _pair(name, *args, **kwargs):
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's nested-tensor notices
        theirs = getattr(torch.nn, name)(*args, **kwargs)
    return theirs


def _load(ours, theirs):
    state = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    assert list(state) == list(ours.state_dict()), "state_dict keys and order"
    ours.load_state_dict(state)


def _check(ours, theirs, inputs, kwargs_o=None, kwargs_t=None, train=False):
    """Forward and backward on the same inputs; compare output and every gradient."""
    ours.train(train)
    theirs.train(train)
    o_in = [axonic.tensor(a, requires_grad=True) for a in inputs]
    t_in = [torch.tensor(a, requires_grad=True) for a in inputs]
    out = ours(*o_in, **(kwargs_o or {}))
    ref = theirs(*t_in, **(kwargs_t or {}))
    _close(out, ref, "output")
    g = np.random.default_rng(9).standard_normal(tuple(ref.shape)).astype(np.float32)
    out.backward(axonic.tensor(g))
    ref.backward(torch.tensor(g))
    for k, (a, b) in enumerate(zip(o_in, t_in)):
        _close(a.grad, b.grad, f"gradient of input {k}")
    ours_p = dict(ours.named_parameters())
    for n, p in theirs.named_parameters():
        _close(ours_p[n].grad, p.grad, f"gradient of {n}")


def _mask_kwargs(rng, L, S, N, prefix_pairs):
    """Float causal masks and bool padding masks (True = padded) for both frameworks."""
    o, t = {}, {}
    for name, kind, shape in prefix_pairs:
        if kind == "causal":
            m = np.triu(np.full(shape, -np.inf, np.float32), 1)
        else:
            m = rng.random(shape) < 0.3
            m[..., 0] = False
        o[name], t[name] = axonic.tensor(m), torch.tensor(m)
    return o, t


LAYER_CASES = [
    pytest.param(nf, act, train, id=f"{'pre' if nf else 'post'}norm-{act}-"
                                     f"{'train' if train else 'eval'}")
    for nf in (False, True) for act in ("relu", "gelu") for train in (False, True)
]


@requires_torch
@pytest.mark.parametrize("norm_first,activation,train", LAYER_CASES)
def test_encoder_layer_matches_torch(norm_first, activation, train):
    kw = dict(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0, activation=activation,
              norm_first=norm_first)
    theirs = _pair("TransformerEncoderLayer", **kw)
    ours = nn.TransformerEncoderLayer(**kw)
    _load(ours, theirs)
    rng = np.random.default_rng(0)
    L, N = 5, 3
    mo, mt = _mask_kwargs(rng, L, L, N, [("src_mask", "causal", (L, L)),
                                         ("src_key_padding_mask", "pad", (N, L))])
    _check(ours, theirs, [_randn(rng, L, N, 8)], mo, mt, train=train)


@requires_torch
@pytest.mark.parametrize("norm_first,activation,train", LAYER_CASES)
def test_decoder_layer_matches_torch(norm_first, activation, train):
    kw = dict(d_model=8, nhead=4, dim_feedforward=12, dropout=0.0, activation=activation,
              norm_first=norm_first, batch_first=True)
    theirs = _pair("TransformerDecoderLayer", **kw)
    ours = nn.TransformerDecoderLayer(**kw)
    _load(ours, theirs)
    rng = np.random.default_rng(1)
    T, S, N = 4, 6, 2
    mo, mt = _mask_kwargs(rng, T, S, N, [
        ("tgt_mask", "causal", (T, T)), ("memory_mask", "pad", (T, S)),
        ("tgt_key_padding_mask", "pad", (N, T)), ("memory_key_padding_mask", "pad", (N, S))])
    _check(ours, theirs, [_randn(rng, N, T, 8), _randn(rng, N, S, 8)], mo, mt, train=train)


@requires_torch
def test_layers_without_bias_and_with_callable_activation_match_torch():
    act = lambda x: x.tanh() * 2  # noqa: E731  (the same callable works on both tensors)
    kw = dict(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0, activation=act, bias=False,
              layer_norm_eps=1e-3)
    theirs = _pair("TransformerEncoderLayer", **kw)
    ours = nn.TransformerEncoderLayer(**kw)
    _load(ours, theirs)
    rng = np.random.default_rng(2)
    _check(ours, theirs, [_randn(rng, 4, 2, 8)])
    theirs = _pair("TransformerDecoderLayer", **kw)
    ours = nn.TransformerDecoderLayer(**kw)
    _load(ours, theirs)
    _check(ours, theirs, [_randn(rng, 4, 2, 8), _randn(rng, 3, 2, 8)])


@requires_torch
def test_unbatched_encoder_layer_matches_torch():
    kw = dict(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0)
    theirs = _pair("TransformerEncoderLayer", **kw)
    ours = nn.TransformerEncoderLayer(**kw)
    _load(ours, theirs)
    _check(ours, theirs, [_randn(np.random.default_rng(3), 5, 8)])


@requires_torch
@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_stack_matches_torch_and_loads_its_state_dict(norm_first):
    kw = dict(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0, norm_first=norm_first)
    t_layer = _pair("TransformerEncoderLayer", **kw)
    theirs = _pair("TransformerEncoder", t_layer, num_layers=2, norm=torch.nn.LayerNorm(8),
                   enable_nested_tensor=False)
    ours = nn.TransformerEncoder(nn.TransformerEncoderLayer(**kw), 2, norm=nn.LayerNorm(8))
    keys = list(ours.state_dict())
    assert keys[:2] == ["layers.0.self_attn.in_proj_weight", "layers.0.self_attn.in_proj_bias"]
    assert keys == list(theirs.state_dict())
    _load(ours, theirs)
    rng = np.random.default_rng(4)
    L, N = 6, 2
    mo, mt = _mask_kwargs(rng, L, L, N, [("mask", "causal", (L, L)),
                                         ("src_key_padding_mask", "pad", (N, L))])
    _check(ours, theirs, [_randn(rng, L, N, 8)], mo, mt)


@requires_torch
def test_decoder_stack_matches_torch():
    kw = dict(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0)
    theirs = _pair("TransformerDecoder", _pair("TransformerDecoderLayer", **kw), num_layers=2,
                   norm=torch.nn.LayerNorm(8))
    ours = nn.TransformerDecoder(nn.TransformerDecoderLayer(**kw), 2, norm=nn.LayerNorm(8))
    _load(ours, theirs)
    rng = np.random.default_rng(5)
    T, S, N = 4, 5, 2
    mo, mt = _mask_kwargs(rng, T, S, N, [("tgt_mask", "causal", (T, T)),
                                         ("memory_key_padding_mask", "pad", (N, S))])
    _check(ours, theirs, [_randn(rng, T, N, 8), _randn(rng, S, N, 8)], mo, mt)


@requires_torch
@pytest.mark.parametrize("batch_first", [False, True])
def test_full_transformer_matches_torch(batch_first):
    kw = dict(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=1,
              dim_feedforward=16, dropout=0.0, batch_first=batch_first)
    theirs = _pair("Transformer", **kw)
    ours = nn.Transformer(**kw)
    _load(ours, theirs)
    rng = np.random.default_rng(6)
    S, T, N = 5, 4, 2
    src = _randn(rng, N, S, 8) if batch_first else _randn(rng, S, N, 8)
    tgt = _randn(rng, N, T, 8) if batch_first else _randn(rng, T, N, 8)
    m = nn.Transformer.generate_square_subsequent_mask(T)
    tm = torch.nn.Transformer.generate_square_subsequent_mask(T)
    np.testing.assert_array_equal(m.numpy(), tm.numpy())
    pad = rng.random((N, S)) < 0.3
    pad[:, 0] = False
    _check(ours, theirs, [src, tgt],
           {"tgt_mask": m, "src_key_padding_mask": axonic.tensor(pad),
            "memory_key_padding_mask": axonic.tensor(pad), "tgt_is_causal": True},
           {"tgt_mask": tm, "src_key_padding_mask": torch.tensor(pad),
            "memory_key_padding_mask": torch.tensor(pad), "tgt_is_causal": True})


def test_transformer_init_is_xavier_uniform_for_matrices():
    m = nn.Transformer(d_model=16, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                       dim_feedforward=64)
    w = m.encoder.layers[0].linear1.weight.detach().numpy()
    bound = np.sqrt(6 / (16 + 64))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound


def test_stack_copies_are_independent_and_keep_dtype_and_mode():
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16).double().eval()
    enc = nn.TransformerEncoder(layer, 3)
    ps = [dict(lay.named_parameters()) for lay in enc.layers]
    for name, p in layer.named_parameters():
        for copy in ps:
            assert copy[name] is not p
            assert copy[name].dtype == np.float64
            np.testing.assert_array_equal(copy[name].detach().numpy(), p.detach().numpy())
    assert all(not lay.training for lay in enc.layers)
    with axonic.no_grad():
        ps[0]["linear1.weight"]._data[...] = 0
    assert ps[1]["linear1.weight"].detach().numpy().any()
    assert layer.linear1.weight.detach().numpy().any()


def test_dropout_is_active_in_train_mode_only():
    layer = nn.TransformerEncoderLayer(16, 2, dim_feedforward=32, dropout=0.5)
    x = axonic.randn(5, 2, 16)
    a, b = layer(x).detach().numpy(), layer(x).detach().numpy()
    assert not np.allclose(a, b)
    layer.eval()
    np.testing.assert_array_equal(layer(x).detach().numpy(), layer(x).detach().numpy())


def test_is_causal_without_a_mask_equals_the_causal_mask():
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16).eval()
    x = axonic.randn(5, 2, 8)
    a = layer(x, is_causal=True)
    b = layer(x, src_mask=nn.Transformer.generate_square_subsequent_mask(5))
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("cls", [nn.TransformerEncoderLayer, nn.TransformerDecoderLayer])
@pytest.mark.parametrize("kwargs,match", [
    ({"d_model": 10, "nhead": 4}, r"d_model must be divisible by nhead, got d_model=10 and "
                                  r"nhead=4"),
    ({"d_model": 8, "nhead": 0}, r"nhead must be a positive integer, got 0"),
    ({"d_model": 8, "nhead": 2, "dim_feedforward": -1},
     r"dim_feedforward must be a positive integer, got -1"),
    ({"d_model": 8, "nhead": 2, "dropout": 1.5}, r"dropout must be .* got 1.5"),
    ({"d_model": 8, "nhead": 2, "activation": "swish"},
     r"activation must be 'relu', 'gelu' or a callable, got 'swish'"),
])
def test_bad_layer_arguments_raise_with_received_values(cls, kwargs, match):
    with pytest.raises(ValueError, match=cls.__name__ + ": " + match):
        cls(**kwargs)


def test_stack_argument_errors():
    with pytest.raises(ValueError, match=r"TransformerEncoder: num_layers must be a positive "
                                         r"integer, got 0"):
        nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 0)
    with pytest.raises(TypeError, match=r"TransformerDecoder: cannot copy a Linear"):
        nn.TransformerDecoder(nn.Linear(2, 2), 2)
    with pytest.raises(TypeError, match=r"TransformerEncoder: cannot copy a layer whose "
                                        r"activation module has parameters \(PReLU\)"):
        nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, activation=nn.PReLU()), 2)
    # a parameter-free module is fine, and registered as a child as in PyTorch
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, activation=nn.GELU()), 2)
    assert isinstance(enc.layers[1].activation, nn.GELU)


def test_wrong_input_shape_names_expected_and_received():
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True)
    with pytest.raises(nn.LayerInputError,
                       match=r"TransformerEncoderLayer: expected src of shape \(batch, seq, 8\) "
                             r"or unbatched \(seq, 8\), got \(2, 5, 6\)"):
        layer(axonic.randn(2, 5, 6))
    enc = nn.TransformerEncoder(layer, 2)
    with pytest.raises(nn.LayerInputError, match=r"^layers\.0 \(TransformerEncoderLayer\): "):
        enc(axonic.randn(2, 5, 6))
    dec = nn.TransformerDecoderLayer(8, 2, dim_feedforward=16)
    with pytest.raises(nn.LayerInputError, match=r"expected memory of shape .* got \(4, 2, 3\)"):
        dec(axonic.randn(3, 2, 8), axonic.randn(4, 2, 3))
    with pytest.raises(nn.LayerInputError,
                       match=r"layers\.0\.self_attn \(MultiheadAttention\): expected "
                             r"key_padding_mask of shape \(2, 5\), got \(5, 2\)"):
        enc(axonic.randn(2, 5, 8), src_key_padding_mask=axonic.zeros(5, 2, dtype=axonic.bool))
    model = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                           dim_feedforward=16)
    with pytest.raises(nn.LayerInputError, match=r"Transformer: the batch size of src and tgt "
                                                 r"must be equal, got shapes \(5, 2, 8\) and "
                                                 r"\(4, 3, 8\)"):
        model(axonic.randn(5, 2, 8), axonic.randn(4, 3, 8))


@pytest.mark.parametrize("name", ["axonic.nn.transformer"])
def test_docstring_examples_run(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0
