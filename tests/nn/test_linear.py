import math

import numpy as np
import pytest

import axonic
from axonic import nn
from tests.conftest import requires_torch, torch
from tests.nn._parity import assert_layer_matches


@requires_torch
@pytest.mark.parametrize("shape", [(4, 3), (2, 5, 3), (3,), (0, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(shape, bias):
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    assert_layer_matches(nn.Linear(3, 6, bias=bias), torch.nn.Linear(3, 6, bias=bias), x)


@requires_torch
def test_linear_mlp_sized_layer_matches_torch():
    # 784 terms per dot product: float32 summation order differs from torch's GEMM
    x = np.random.default_rng(2).standard_normal((32, 784)).astype(np.float32)
    assert_layer_matches(nn.Linear(784, 64), torch.nn.Linear(784, 64), x, rtol=1e-4, atol=1e-5)


def test_linear_default_init_is_kaiming_uniform_sqrt5():
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)  # kaiming_uniform(a=sqrt(5)) gives the same bound as the bias
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound  # U(-a, a) has std a/sqrt(3)
    assert abs(w.mean()) < 0.01 * bound
    assert np.abs(b).max() > 0.9 * bound
    assert w.dtype == np.float32 and layer.weight.requires_grad


def test_linear_init_follows_manual_seed():
    axonic.manual_seed(3)
    a = nn.Linear(5, 4).weight.detach().numpy().copy()
    axonic.manual_seed(3)
    assert np.array_equal(a, nn.Linear(5, 4).weight.detach().numpy())


def test_linear_validates_features():
    with pytest.raises(ValueError, match=r"Linear: in_features must be a non-negative integer, "
                                         r"got -3"):
        nn.Linear(-3, 4)
    with pytest.raises(ValueError, match=r"out_features .* got 2.5"):
        nn.Linear(3, 2.5)


def test_linear_input_error_names_path_in_model():
    model = nn.Sequential()
    model.add_module("features", nn.Sequential(nn.ReLU(), nn.Linear(3, 4)))
    with pytest.raises(nn.LayerInputError,
                       match=r"^features\.1 \(Linear\): expected input with last dimension 3, "
                             r"got shape \(2, 5\)"):
        model(axonic.ones(2, 5))
    with pytest.raises(ValueError, match=r"^Linear: expected input with last dimension 3"):
        nn.Linear(3, 4)(axonic.ones(2, 5))


def test_functional_linear_checks_shapes():
    import axonic.nn.functional as F

    with pytest.raises(ValueError, match=r"linear: input of shape \(2, 5\) and weight of shape "
                                         r"\(4, 3\)"):
        F.linear(axonic.ones(2, 5), axonic.ones(4, 3))


def test_linear_keeps_float32_and_float64():
    layer = nn.Linear(3, 2)
    assert layer(axonic.ones(1, 3)).dtype == np.float32
    layer.to(axonic.float64)
    out = layer(axonic.ones(1, 3, dtype=axonic.float64))
    assert out.dtype == np.float64


def test_linear_gradcheck_float64():
    layer = nn.Linear(3, 2).double()
    x = axonic.randn(4, 3, dtype=axonic.float64, requires_grad=True)
    assert axonic.autograd.gradcheck(lambda x, w, b: nn.functional.linear(x, w, b),
                                     (x, layer.weight, layer.bias))


def test_identity_returns_input_and_ignores_arguments():
    x = axonic.ones(2)
    assert nn.Identity(3, foo=1)(x) is x
    assert repr(nn.Identity()) == "Identity()"


@requires_torch
def test_bilinear_matches_torch():
    rng = np.random.default_rng(4)
    x1 = rng.standard_normal((5, 2)).astype(np.float32)
    x2 = rng.standard_normal((5, 3)).astype(np.float32)
    assert_layer_matches(nn.Bilinear(2, 3, 4), torch.nn.Bilinear(2, 3, 4), x1, x2)
    assert repr(nn.Bilinear(2, 3, 4)) == repr(torch.nn.Bilinear(2, 3, 4))


def test_bilinear_input_error():
    with pytest.raises(ValueError, match=r"Bilinear: expected inputs of shapes \(\*, 2\) and "
                                         r"\(\*, 3\)"):
        nn.Bilinear(2, 3, 4)(axonic.ones(5, 2), axonic.ones(5, 4))


@requires_torch
@pytest.mark.parametrize("args", [(), (0, 1), (1, 2), (-2, -1)])
def test_flatten_matches_torch(args):
    x = np.random.default_rng(5).standard_normal((2, 3, 4)).astype(np.float32)
    assert_layer_matches(nn.Flatten(*args), torch.nn.Flatten(*args), x)
    assert repr(nn.Flatten(*args)) == repr(torch.nn.Flatten(*args))


@requires_torch
def test_unflatten_matches_torch():
    x = np.random.default_rng(6).standard_normal((2, 12)).astype(np.float32)
    assert_layer_matches(nn.Unflatten(1, (3, 4)), torch.nn.Unflatten(1, (3, 4)), x)
    assert repr(nn.Unflatten(1, (3, 4))) == repr(torch.nn.Unflatten(1, (3, 4)))


def test_flatten_unflatten_errors():
    with pytest.raises(ValueError, match=r"Flatten: start_dim=3 and end_dim=-1 do not fit an "
                                         r"input of shape \(2, 3\)"):
        nn.Flatten(3)(axonic.ones(2, 3))
    with pytest.raises(ValueError, match=r"Unflatten: cannot unflatten dim 1 of size 12 into "
                                         r"\(5, 2\)"):
        nn.Unflatten(1, (5, 2))(axonic.ones(2, 12))
    with pytest.raises(ValueError, match=r"Unflatten: unflattened_size must be a tuple of ints, "
                                         r"got 'ab'"):
        nn.Unflatten(1, "ab")


def test_layers_reject_a_dtype_other_than_their_parameters():
    model = nn.Sequential(nn.Linear(3, 4))
    with pytest.raises(nn.LayerInputError,
                       match=r"^0 \(Linear\): expected input of dtype float32 \(the layer's "
                             r"parameters\), got float64"):
        model(axonic.ones(2, 3, dtype=axonic.float64))
    for layer, x in [(nn.LayerNorm(3), axonic.ones(2, 3, dtype=axonic.float64)),
                     (nn.BatchNorm1d(3), axonic.ones(2, 3, dtype=axonic.float64)),
                     (nn.PReLU(), axonic.ones(2, 3, dtype=axonic.float64)),
                     (nn.Linear(3, 1), axonic.ones(2, 3, dtype=axonic.int64))]:
        with pytest.raises(ValueError, match=f"^{type(layer).__name__}: expected input of dtype"):
            layer(x)


@requires_torch
@pytest.mark.parametrize("make", [lambda m: m.Linear(5, 3), lambda m: m.LayerNorm(5),
                                  lambda m: m.GELU(), lambda m: m.Softplus()])
def test_layers_take_non_contiguous_inputs(make):
    x = np.random.default_rng(7).standard_normal((5, 4, 6)).astype(np.float32)
    ours, theirs = make(nn), make(torch.nn)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    a = axonic.tensor(x, requires_grad=True)
    b = torch.tensor(x, requires_grad=True)
    out, ref = ours(a.transpose(0, 2)), theirs(b.transpose(0, 2))
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-5, atol=1e-6)
    out.sum().backward()
    ref.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-5, atol=1e-6)
