import math

import numpy as np
import pytest

import axonic
import axonic.nn.functional as F
from axonic import nn
from axonic.autograd import gradcheck
from axonic.ops.special import erf_array
from tests.conftest import requires_torch, torch
from tests.nn._parity import assert_layer_matches

# (axonic layer, torch layer) built from the same arguments
PAIRS = [
    ("ReLU", (), {}), ("Sigmoid", (), {}), ("Tanh", (), {}), ("SiLU", (), {}),
    ("LeakyReLU", (), {}), ("LeakyReLU", (0.2,), {}), ("ELU", (), {}), ("ELU", (0.5,), {}),
    ("GELU", (), {}), ("GELU", (), {"approximate": "tanh"}), ("Softplus", (), {}),
    ("Softplus", (2.0, 3.0), {}), ("Softmax", (), {"dim": 1}), ("Softmax", (), {"dim": -1}),
    ("LogSoftmax", (), {"dim": 1}), ("PReLU", (), {}), ("PReLU", (4,), {}),
    ("PReLU", (), {"init": 0.1}), ("Hardtanh", (), {}), ("Hardtanh", (-2.0, 0.5), {}),
    ("ReLU6", (), {}), ("Hardsigmoid", (), {}), ("Hardswish", (), {}), ("Mish", (), {}),
    ("LogSigmoid", (), {}), ("Softsign", (), {}), ("SELU", (), {}), ("CELU", (), {}),
    ("CELU", (0.5,), {}), ("GLU", (1,), {}), ("GLU", (), {"dim": -2}), ("Softmin", (), {"dim": -1}),
    ("Threshold", (0.1, 20.0), {}), ("Hardshrink", (), {}), ("Hardshrink", (1.7,), {}),
    ("Softshrink", (), {}), ("Softshrink", (2.2,), {}), ("Tanhshrink", (), {}),
    ("Softmax2d", (), {}),
]


def _input(shape=(3, 4, 5), low=-6.0, high=6.0):
    x = np.random.default_rng(0).uniform(low, high, shape)
    for kink in (-3, -2, -1, 0, 0.5, 1, 3, 6):  # piecewise functions: no sample on a kink
        x[np.abs(x - kink) < 1e-3] = kink + 0.25
    return x.astype(np.float32)


@requires_torch
@pytest.mark.parametrize("name,args,kwargs", PAIRS, ids=[f"{p[0]}{p[1]}{p[2]}" for p in PAIRS])
def test_activation_matches_torch(name, args, kwargs):
    ours = getattr(nn, name)(*args, **kwargs)
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    # gelu-tanh's derivative has 1 - tanh(u)^2 near |x| = 4.5, where float32 cancellation
    # leaves ~1e-6 absolute error in both libraries (their tanh differs in the last ulp)
    grad_atol = 5e-6 if kwargs.get("approximate") == "tanh" else 1e-6
    assert_layer_matches(ours, theirs, _input(), grad_atol=grad_atol)
    assert repr(ours) == repr(theirs)


@requires_torch
def test_gelu_exact_matches_torch_on_dense_grid():
    x = np.linspace(-6, 6, 20001).astype(np.float32)
    # torch forms 1 + erf(x/sqrt2) in float32, which cancels for x < -3 (its values there
    # are multiples of |x| * 3e-8, down to 0); beyond that absolute floor, rtol 1e-5 holds
    assert_layer_matches(nn.GELU(), torch.nn.GELU(), x, rtol=1e-5, atol=1e-6)


def test_gelu_exact_is_accurate_in_both_tails():
    x = np.linspace(-6, 6, 2001)
    want = np.array([v * 0.5 * math.erfc(-v / math.sqrt(2)) for v in x])
    # float64: fdlibm's erfc; float32: a branch-free fit computed in float32, whose exp
    # argument (-x^2/2 ~ -18) carries ~1e-6 relative rounding in the far tail
    out64 = nn.GELU()(axonic.tensor(x, dtype=axonic.float64)).numpy()
    np.testing.assert_allclose(out64, want, rtol=1e-14, atol=0)
    x32 = x.astype(np.float32)
    want32 = np.array([v * 0.5 * math.erfc(-v / math.sqrt(2)) for v in x32.astype(np.float64)])
    out = nn.GELU()(axonic.tensor(x32)).numpy()
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, want32, rtol=5e-6, atol=0)


def test_erf_agrees_with_math_erf_to_an_ulp():
    x = np.concatenate([np.linspace(-7, 7, 20001), np.logspace(-300, 1.5, 500),
                        -np.logspace(-300, 1.5, 500), [0.84375, 1.25, 1 / 0.35, 6.0]])
    want = np.array([math.erf(v) for v in x])
    got = erf_array(x)
    rel = np.abs(got - want) / np.maximum(np.abs(want), 1e-300)
    assert rel.max() < 1e-15
    special = erf_array(np.array([np.inf, -np.inf, np.nan, -0.0]))
    assert special[0] == 1 and special[1] == -1 and np.isnan(special[2])
    assert np.signbit(special[3])


def test_erf_keeps_float32():
    x = axonic.tensor([0.5, -2.0])
    assert axonic.erf(x).dtype == np.float32


@pytest.mark.parametrize("fn", [
    F.relu, F.sigmoid, F.tanh, F.silu, F.gelu, lambda x: F.gelu(x, approximate="tanh"),
    lambda x: F.leaky_relu(x, 0.3), lambda x: F.elu(x, 1.5), F.softplus,
    lambda x: F.softplus(x, beta=0.5, threshold=2.0), lambda x: F.softmax(x, dim=-1),
    lambda x: F.log_softmax(x, dim=0), F.hardtanh, F.relu6, F.hardsigmoid, F.hardswish, F.mish,
    F.logsigmoid, F.softsign, F.selu, lambda x: F.celu(x, 0.7), F.glu,
    lambda x: F.softmin(x, 1), lambda x: F.threshold(x, 0.5, -2.0),
])
def test_activation_gradcheck_float64(fn):
    x = _input((3, 4), -3, 3).astype(np.float64)
    x[np.abs(x - 4.0) < 0.05] = 3.9  # away from softplus's threshold at beta*x=2
    assert gradcheck(fn, (axonic.tensor(x, requires_grad=True),))


def test_prelu_gradcheck_float64():
    x = axonic.tensor(_input((2, 3, 4), -2, 2).astype(np.float64), requires_grad=True)
    w = axonic.tensor([0.1, 0.2, 0.3], dtype=axonic.float64, requires_grad=True)
    assert gradcheck(F.prelu, (x, w))


@requires_torch
def test_activations_stay_finite_at_extremes():
    x = np.array([-1e4, -100, -30, 0.5, 30, 100, 1e4], np.float32)
    for name in ["Sigmoid", "SiLU", "Softplus", "ELU", "GELU", "Tanh"]:
        out, _ = assert_layer_matches(getattr(nn, name)(), getattr(torch.nn, name)(), x)
        assert np.isfinite(out.detach().numpy()).all()


def test_activation_hyperparameters_are_validated():
    with pytest.raises(ValueError, match=r"GELU: approximate must be 'none' or 'tanh', "
                                         r"got 'fast'"):
        nn.GELU("fast")
    with pytest.raises(ValueError, match=r"LeakyReLU: negative_slope must be a number, "
                                         r"got 'x'"):
        nn.LeakyReLU("x")
    with pytest.raises(ValueError, match=r"Softplus: beta must be nonzero, got 0"):
        nn.Softplus(beta=0)
    with pytest.raises(ValueError, match=r"PReLU: num_parameters must be a positive integer, "
                                         r"got 0"):
        nn.PReLU(0)
    with pytest.raises(ValueError, match=r"Softmax: dim must be an int or None, got 1.5"):
        nn.Softmax(1.5)
    with pytest.raises(ValueError, match=r"Hardtanh: min_val \(2\) must not exceed max_val \(1\)"):
        nn.Hardtanh(2, 1)
    with pytest.raises(ValueError, match=r"gelu: approximate must be 'none' or 'tanh'"):
        F.gelu(axonic.ones(2), approximate="erf")


def test_activation_input_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"^PReLU: expected input with 4 channels in dim 1, "
                                         r"got shape \(2, 3\)"):
        nn.PReLU(4)(axonic.ones(2, 3))
    model = nn.Sequential(nn.Identity(), nn.ReLU())
    with pytest.raises(ValueError, match=r"^1 \(ReLU\): expected a Tensor, got list"):
        model([1.0])
    with pytest.raises(ValueError, match=r"^ReLU: expected a Tensor, got list"):
        model[1]([1.0])
    with pytest.raises(ValueError, match=r"prelu: weight has 3 slopes but the input has shape "
                                         r"\(2, 4\)"):
        F.prelu(axonic.ones(2, 4), axonic.ones(3))


def test_softmax_dim_out_of_range_names_the_layer():
    model = nn.Sequential(nn.Linear(3, 3), nn.Softmax(dim=2))
    with pytest.raises(nn.LayerInputError, match=r"^1 \(Softmax\): dim 2 is out of range for an "
                                                 r"input of shape \(4, 3\)"):
        model(axonic.ones(4, 3))
    with pytest.raises(ValueError, match=r"^LogSoftmax: dim -3 is out of range"):
        nn.LogSoftmax(-3)(axonic.ones(4, 3))


def test_glu_needs_an_even_dim():
    with pytest.raises(nn.LayerInputError, match=r"^0 \(GLU\): dim -1 of an input of shape "
                                                 r"\(2, 3\) must exist and have an even size"):
        nn.Sequential(nn.GLU())(axonic.ones(2, 3))


def test_prelu_default_init_is_quarter():
    assert np.all(nn.PReLU(3).weight.detach().numpy() == np.float32(0.25))


@requires_torch
def test_inplace_flag_is_shown_like_torch_and_gives_the_same_values():
    for name in ["ReLU", "LeakyReLU", "ELU", "SiLU"]:
        ours, theirs = getattr(nn, name)(inplace=True), getattr(torch.nn, name)(inplace=True)
        assert repr(ours) == repr(theirs)
        x = _input()
        np.testing.assert_allclose(ours(axonic.tensor(x)).numpy(),
                                   theirs(torch.tensor(x)).numpy(), rtol=1e-6)
