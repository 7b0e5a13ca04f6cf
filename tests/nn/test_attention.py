"""scaled_dot_product_attention, multi_head_attention_forward and MultiheadAttention against
PyTorch: outputs, attention weights, input and parameter gradients, every mask kind;
float64 gradcheck; dropout; errors."""

import doctest
import importlib

import numpy as np
import pytest

import axonic
import axonic.nn.functional as F
from axonic import nn
from axonic.autograd import gradcheck
from tests.conftest import requires_torch, torch

RTOL, ATOL = 1e-5, 1e-6


def _close(a, b, what, rtol=RTOL, atol=ATOL):
    a = a.detach().numpy() if hasattr(a, "detach") else a
    b = b.detach().numpy() if hasattr(b, "detach") else b
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=what)


def _randn(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


def _bool_mask(rng, shape, p=0.4):
    """A random bool mask that leaves position 0 of the last axis free in every row."""
    m = rng.random(shape) < p
    m[..., 0] = False
    return m


# --- scaled_dot_product_attention -----------------------------------------------------------

SDPA_CASES = {
    "plain": {},
    "bool_mask_2d": {"mask": "bool2d"},
    "float_mask_4d": {"mask": "float4d"},
    "causal": {"is_causal": True},
    "scale": {"scale": 0.3},
    "causal_rectangular": {"is_causal": True, "S": 7},
}


@requires_torch
@pytest.mark.parametrize("case", list(SDPA_CASES))
def test_sdpa_matches_torch(case):
    c = SDPA_CASES[case]
    rng = np.random.default_rng(0)
    N, H, L, E, Ev = 2, 3, 5, 4, 6
    S = c.get("S", L if c.get("is_causal") else 6)
    arrays = [_randn(rng, N, H, L, E), _randn(rng, N, H, S, E), _randn(rng, N, H, S, Ev)]
    ours = [axonic.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    kw = {k: c[k] for k in ("is_causal", "scale") if k in c}
    if c.get("mask") == "bool2d":
        # SDPA's bool mask: True = takes part
        m = ~_bool_mask(rng, (L, S))
        kw_o, kw_t = {"attn_mask": axonic.tensor(m)}, {"attn_mask": torch.tensor(m)}
    elif c.get("mask") == "float4d":
        m = _randn(rng, N, H, L, S)
        kw_o, kw_t = {"attn_mask": axonic.tensor(m)}, {"attn_mask": torch.tensor(m)}
    else:
        kw_o = kw_t = {}
    out = F.scaled_dot_product_attention(*ours, **kw, **kw_o)
    ref = torch.nn.functional.scaled_dot_product_attention(*theirs, **kw, **kw_t)
    _close(out, ref, "output")
    g = _randn(rng, *ref.shape)
    out.backward(axonic.tensor(g))
    ref.backward(torch.tensor(g))
    for name, a, b in zip("qkv", ours, theirs):
        _close(a.grad, b.grad, f"gradient of {name}", atol=1e-5)


def test_sdpa_gradcheck_float64_with_float_mask():
    q, k, v, m = (axonic.randn(*s, dtype=axonic.float64, requires_grad=True)
                  for s in [(2, 3, 4), (2, 5, 4), (2, 5, 3), (3, 5)])
    assert gradcheck(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
                     (q, k, v, m))


def test_sdpa_bool_mask_true_means_take_part():
    q = axonic.zeros(1, 1, 3)
    k = axonic.zeros(1, 3, 3)
    v = axonic.tensor([[[1.0], [10.0], [100.0]]])
    mask = axonic.tensor([[True, False, True]])
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    np.testing.assert_allclose(out.numpy(), [[[50.5]]], rtol=1e-6)


@requires_torch
def test_sdpa_query_that_sees_no_key_gets_zeros_as_torch():
    rng = np.random.default_rng(7)
    arrays = [_randn(rng, 2, 3, 4) for _ in range(3)]
    mask = np.array([[True, True, False], [False, False, False], [True, False, True]])
    ours = [axonic.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = F.scaled_dot_product_attention(*ours, attn_mask=axonic.tensor(mask))
    ref = torch.nn.functional.scaled_dot_product_attention(*theirs,
                                                            attn_mask=torch.tensor(mask))
    assert not out.detach().numpy()[:, 1].any()
    _close(out, ref, "output")
    out.sum().backward()
    ref.sum().backward()
    for name, a, b in zip("qkv", ours, theirs):
        _close(a.grad, b.grad, f"gradient of {name}", atol=1e-5)


def test_sdpa_dropout_statistics():
    # Uniform weights 1/S; value = identity: each output entry is a kept or dropped weight.
    S, p = 50, 0.25
    q = axonic.zeros(40, S, 8)
    v = axonic.eye(S).expand(40, S, S)
    out = F.scaled_dot_product_attention(q, q, v, dropout_p=p).numpy()
    kept = out != 0
    assert abs(kept.mean() - (1 - p)) < 0.01
    np.testing.assert_allclose(out[kept], 1 / S / (1 - p), rtol=1e-5)


def test_sdpa_errors_name_the_shapes():
    q = axonic.randn(2, 3, 4)
    with pytest.raises(ValueError, match=r"scaled_dot_product_attention: expected query "
                                         r"\(\.\.\., L, E\).*got \(2, 3, 4\), \(2, 5, 3\)"):
        F.scaled_dot_product_attention(q, axonic.randn(2, 5, 3), axonic.randn(2, 5, 3))
    with pytest.raises(ValueError, match=r"either attn_mask or is_causal=True, not both"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=axonic.ones(3, 3), is_causal=True)
    with pytest.raises(ValueError, match=r"attn_mask of shape \(4, 4\) cannot broadcast to "
                                         r"the scores' shape \(2, 3, 3\)"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=axonic.ones(4, 4))
    with pytest.raises(ValueError, match=r"dropout_p must be in \[0, 1\), got 1.5"):
        F.scaled_dot_product_attention(q, q, q, dropout_p=1.5)


# --- MultiheadAttention ---------------------------------------------------------------------

def _mha_pair(**kwargs):
    torch.manual_seed(0)
    theirs = torch.nn.MultiheadAttention(**kwargs)
    ours = nn.MultiheadAttention(**kwargs)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _masks(kind, rng, N, H, L, S, batched=True):
    """(ours, theirs) keyword arguments for one mask kind (MHA: bool True = masked out)."""
    if kind is None:
        return {}, {}
    lead = (N,) if batched else ()
    arrays = {
        "bool_attn_2d": {"attn_mask": _bool_mask(rng, (L, S))},
        "float_attn_2d": {"attn_mask": _randn(rng, L, S)},
        "bool_attn_3d": {"attn_mask": _bool_mask(rng, (N * H, L, S))},
        "float_attn_3d": {"attn_mask": _randn(rng, N * H, L, S)},
        "bool_padding": {"key_padding_mask": _bool_mask(rng, (*lead, S))},
        "float_padding": {"key_padding_mask": _randn(rng, *lead, S)},
        "bool_both": {"attn_mask": _bool_mask(rng, (L, S)),
                      "key_padding_mask": _bool_mask(rng, (*lead, S))},
        "float_both": {"attn_mask": _randn(rng, L, S),
                       "key_padding_mask": _randn(rng, *lead, S)},
        "causal": {"attn_mask": np.triu(np.ones((L, S), bool), 1), "is_causal": True},
    }[kind]
    ours = {k: (axonic.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in arrays.items()}
    theirs = {k: (torch.tensor(v) if isinstance(v, np.ndarray) else v)
              for k, v in arrays.items()}
    return ours, theirs


def _check_mha(ours, theirs, q_shape, kv_shapes=None, masks=None, need_weights=True,
               average=True, self_attention=False, train=False):
    rng = np.random.default_rng(5)
    ours.train(train)
    theirs.train(train)
    H = theirs.num_heads
    q = _randn(rng, *q_shape)
    if self_attention:
        arrays = [q]
    else:
        arrays = [q, _randn(rng, *kv_shapes[0]), _randn(rng, *kv_shapes[1])]
    o_in = [axonic.tensor(a, requires_grad=True) for a in arrays]
    t_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    o_args = o_in * 3 if self_attention else o_in
    t_args = t_in * 3 if self_attention else t_in
    batched = len(q_shape) == 3
    bf = theirs.batch_first
    N = q_shape[0 if bf else 1] if batched else 1
    L = q_shape[1 if bf else 0] if batched else q_shape[0]
    S = L if self_attention else (kv_shapes[0][1 if bf else 0] if batched else kv_shapes[0][0])
    mo, mt = _masks(masks, rng, N, H, L, S, batched)
    out, w = ours(*o_args, need_weights=need_weights, average_attn_weights=average, **mo)
    ref, tw = theirs(*t_args, need_weights=need_weights, average_attn_weights=average, **mt)
    _close(out, ref, "output")
    if need_weights:
        assert w.shape == tuple(tw.shape)
        _close(w, tw, "attention weights")
    else:
        assert w is None and tw is None
    g = _randn(rng, *ref.shape)
    loss, tloss = (out * axonic.tensor(g)).sum(), (ref * torch.tensor(g)).sum()
    if need_weights:  # the weights are differentiable outputs too
        gw = _randn(rng, *tw.shape)
        loss = loss + (w * axonic.tensor(gw)).sum()
        tloss = tloss + (tw * torch.tensor(gw)).sum()
    loss.backward()
    tloss.backward()
    for k, (a, b) in enumerate(zip(o_in, t_in)):
        _close(a.grad, b.grad, f"gradient of input {k}", atol=1e-5)
    ours_p = dict(ours.named_parameters())
    assert list(ours_p) == [n for n, _ in theirs.named_parameters()]
    for n, p in theirs.named_parameters():
        _close(ours_p[n].grad, p.grad, f"gradient of {n}", atol=1e-5)


MASKS = [None, "bool_attn_2d", "float_attn_2d", "bool_attn_3d", "float_attn_3d", "bool_padding",
         "float_padding", "bool_both", "float_both", "causal"]


@requires_torch
@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("masks", MASKS)
def test_mha_self_attention_matches_torch_with_each_mask(masks, need_weights):
    ours, theirs = _mha_pair(embed_dim=8, num_heads=2)
    _check_mha(ours, theirs, (5, 3, 8), masks=masks, need_weights=need_weights,
               self_attention=True)


@requires_torch
@pytest.mark.parametrize("masks", [None, "bool_attn_3d", "float_both"])
@pytest.mark.parametrize("average", [True, False])
def test_mha_cross_attention_matches_torch(masks, average):
    ours, theirs = _mha_pair(embed_dim=12, num_heads=3)
    _check_mha(ours, theirs, (4, 2, 12), [(6, 2, 12), (6, 2, 12)], masks=masks,
               average=average)


@requires_torch
@pytest.mark.parametrize("config", [
    {"batch_first": True},
    {"bias": False},
    {"kdim": 5, "vdim": 7},
    {"kdim": 5, "vdim": 7, "batch_first": True, "bias": False},
])
def test_mha_configurations_match_torch(config):
    ours, theirs = _mha_pair(embed_dim=8, num_heads=4, **config)
    bf = config.get("batch_first", False)
    kd, vd = config.get("kdim", 8), config.get("vdim", 8)
    shape = (lambda n, s, d: (n, s, d)) if bf else (lambda n, s, d: (s, n, d))
    _check_mha(ours, theirs, shape(2, 3, 8), [shape(2, 6, kd), shape(2, 6, vd)],
               masks="bool_both")


@requires_torch
@pytest.mark.parametrize("masks", [None, "bool_padding", "float_attn_2d"])
def test_mha_unbatched_matches_torch(masks):
    ours, theirs = _mha_pair(embed_dim=8, num_heads=2)
    _check_mha(ours, theirs, (4, 8), [(6, 8), (6, 8)], masks=masks)


@requires_torch
def test_mha_batch_first_self_attention_in_train_mode_without_dropout_matches_torch():
    ours, theirs = _mha_pair(embed_dim=8, num_heads=2, batch_first=True)
    _check_mha(ours, theirs, (3, 5, 8), masks="bool_padding", self_attention=True, train=True)


@requires_torch
def test_mha_state_dict_keys_match_torch():
    for kwargs in [{}, {"kdim": 3, "vdim": 5}, {"bias": False}]:
        ours, theirs = _mha_pair(embed_dim=8, num_heads=2, **kwargs)
        assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
            [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]


@requires_torch
def test_functional_mha_matches_torch():
    rng = np.random.default_rng(3)
    E, H = 8, 2
    arrays = [_randn(rng, 4, 2, E), _randn(rng, 3 * E, E), _randn(rng, 3 * E),
              _randn(rng, E, E), _randn(rng, E)]
    kpm = _bool_mask(rng, (2, 4))
    o = [axonic.tensor(a, requires_grad=True) for a in arrays]
    t = [torch.tensor(a, requires_grad=True) for a in arrays]

    def call(f, ts, mask):
        x, w, b, ow, ob = ts
        return f(x, x, x, E, H, w, b, None, None, False, 0.0, ow, ob,
                 key_padding_mask=mask, average_attn_weights=False)

    out, w = call(F.multi_head_attention_forward, o, axonic.tensor(kpm))
    ref, tw = call(torch.nn.functional.multi_head_attention_forward, t, torch.tensor(kpm))
    _close(out, ref, "output")
    _close(w, tw, "weights")
    out.sum().backward()
    ref.sum().backward()
    for k, (a, b) in enumerate(zip(o, t)):
        _close(a.grad, b.grad, f"gradient {k}", atol=1e-5)


@requires_torch
def test_mha_fully_masked_query_is_zero_or_nan_as_torch():
    # PyTorch: zeros through its SDPA path (need_weights=False), NaN through its softmax path
    ours, theirs = _mha_pair(embed_dim=8, num_heads=2)
    x = _randn(np.random.default_rng(8), 3, 2, 8)
    mask = np.array([[True, True, True], [False, True, False], [False, False, True]])
    for need_weights in (False, True):
        out, _ = ours(*[axonic.tensor(x)] * 3, attn_mask=axonic.tensor(mask),
                      need_weights=need_weights)
        ref, _ = theirs(*[torch.tensor(x)] * 3, attn_mask=torch.tensor(mask),
                        need_weights=need_weights)
        np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=RTOL,
                                   atol=ATOL, equal_nan=True)
        assert np.isnan(out.detach().numpy()[0]).all() == need_weights


def test_mha_gradcheck_float64():
    m = nn.MultiheadAttention(4, 2, kdim=3, vdim=2).double()
    q = axonic.randn(3, 2, 4, dtype=axonic.float64, requires_grad=True)
    k = axonic.randn(5, 2, 3, dtype=axonic.float64, requires_grad=True)
    v = axonic.randn(5, 2, 2, dtype=axonic.float64, requires_grad=True)
    mask = axonic.tensor(np.array([[False, True, False, False, True]] * 2))

    def f(q, k, v, *params):
        out, w = m(q, k, v, key_padding_mask=mask, average_attn_weights=False)
        return [out, w]

    assert gradcheck(f, (q, k, v, *m.parameters()))


def test_mha_is_causal_without_mask_builds_the_causal_mask():
    m = nn.MultiheadAttention(8, 2).eval()
    x = axonic.randn(5, 2, 8)
    a, wa = m(x, x, x, is_causal=True)
    b, wb = m(x, x, x, attn_mask=axonic.tensor(np.triu(np.ones((5, 5), bool), 1)))
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6)
    assert np.all(np.triu(wa.detach().numpy()[0], 1) == 0)


def test_mha_dropout_on_weights_in_train_mode_only():
    m = nn.MultiheadAttention(8, 2, dropout=0.5)
    x = axonic.randn(40, 4, 8)
    _, w = m(x, x, x, average_attn_weights=False)
    zero = (w.detach().numpy() == 0).mean()
    assert abs(zero - 0.5) < 0.02
    m.eval()
    _, w = m(x, x, x, average_attn_weights=False)
    assert (w.detach().numpy() > 0).all()
    np.testing.assert_allclose(w.detach().numpy().sum(-1), 1.0, rtol=1e-5)


def test_default_init_matches_torch_distributions():
    m = nn.MultiheadAttention(64, 4)
    bound = np.sqrt(6 / (64 + 3 * 64))  # xavier_uniform over the packed (3E, E) weight
    w = m.in_proj_weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert not m.in_proj_bias.detach().numpy().any()
    assert not m.out_proj.bias.detach().numpy().any()


@pytest.mark.parametrize("kwargs,match", [
    ({"embed_dim": 10, "num_heads": 3},
     r"embed_dim must be divisible by num_heads, got embed_dim=10 and num_heads=3"),
    ({"embed_dim": 0, "num_heads": 1}, r"embed_dim must be a positive integer, got 0"),
    ({"embed_dim": 8, "num_heads": -2}, r"num_heads must be a positive integer, got -2"),
    ({"embed_dim": 8, "num_heads": 2, "dropout": 1.0}, r"dropout must be .* got 1.0"),
    ({"embed_dim": 8, "num_heads": 2, "kdim": 0}, r"kdim must be a positive integer, got 0"),
    ({"embed_dim": 8, "num_heads": 2, "add_bias_kv": True}, r"add_bias_kv=True"),
])
def test_mha_bad_arguments_raise_with_received_values(kwargs, match):
    with pytest.raises(ValueError, match=r"MultiheadAttention: " + match):
        nn.MultiheadAttention(**kwargs)


def test_mha_wrong_input_shapes_name_expected_and_received():
    m = nn.MultiheadAttention(8, 2, kdim=4)
    x = axonic.randn(5, 2, 8)
    with pytest.raises(nn.LayerInputError,
                       match=r"MultiheadAttention: expected key of shape \(seq, batch, 4\) or "
                             r"unbatched \(seq, 4\), got \(5, 2, 8\)"):
        m(x, x, x)
    m = nn.MultiheadAttention(8, 2)
    with pytest.raises(nn.LayerInputError, match=r"expected query of shape .* got \(5, 2, 6\)"):
        m(axonic.randn(5, 2, 6), x, x)
    with pytest.raises(nn.LayerInputError, match=r"same batch size; got query \(5, 2, 8\), "
                                                 r"key \(5, 3, 8\)"):
        m(x, axonic.randn(5, 3, 8), axonic.randn(5, 3, 8))
    with pytest.raises(nn.LayerInputError,
                       match=r"expected attn_mask of shape \(5, 5\) or \(4, 5, 5\), got \(5, 4\)"):
        m(x, x, x, attn_mask=axonic.zeros(5, 4))
    with pytest.raises(nn.LayerInputError,
                       match=r"expected key_padding_mask of shape \(2, 5\), got \(5, 2\)"):
        m(x, x, x, key_padding_mask=axonic.zeros(5, 2, dtype=axonic.bool))


@pytest.mark.parametrize("name", ["axonic.nn.attention"])
def test_docstring_examples_run(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0
