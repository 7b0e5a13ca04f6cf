"""Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d against PyTorch, float64 gradcheck,
initialisation, and the error messages.

Parity tolerance: rtol 1e-4, atol max(1e-5, 1e-6 * largest |value|). Both sides compute
in float32 but sum the C*KH*KW products (and, for weight gradients, the N*OH*OW
products) in a different order (one BLAS GEMM here, oneDNN/direct kernels in PyTorch).
The rounding error is a few ulps of the partial sums, i.e. relative to the largest
values of the tensor, not to each element: an element that cancels to near zero can
differ by more than 1e-5 relative to itself.
"""

import doctest
import importlib
import math

import numpy as np
import pytest

import axonic
import axonic.nn.functional as F
from axonic import nn
from axonic.autograd import gradcheck
from tests.conftest import requires_torch, torch

RTOL, ATOL = 1e-4, 1e-5


def _close(got, want, msg=""):
    atol = max(ATOL, 1e-6 * float(np.abs(want).max(initial=0.0)))
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=atol, err_msg=msg)


def _copy_weights(ours, theirs):
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


def _check_parity(ours, theirs, x_shape, seed=0, **call):
    """Same weights and input: compare output, input gradient and parameter gradients."""
    _copy_weights(ours, theirs)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(np.float32)
    xa = axonic.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    out, ref = ours(xa, **call), theirs(xt, **call)
    assert out.shape == tuple(ref.shape)
    assert out.dtype == np.float32
    _close(out.detach().numpy(), ref.detach().numpy())
    g = rng.standard_normal(ref.shape).astype(np.float32)
    out.backward(axonic.tensor(g))
    ref.backward(torch.tensor(g))
    _close(xa.grad.numpy(), xt.grad.numpy(), "input gradient")
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        _close(p.grad.numpy(), theirs_params[name].grad.numpy(), f"gradient of {name}")


CONV2D_CASES = [
    # (in, out, kernel, kwargs, input shape)
    (3, 8, 3, {}, (2, 3, 7, 9)),
    (3, 8, 3, dict(stride=2, padding=1), (2, 3, 9, 8)),
    (4, 6, (3, 5), dict(stride=(2, 1), padding=(1, 2), dilation=(2, 1)), (2, 4, 11, 10)),
    (3, 5, 4, dict(padding="same"), (2, 3, 7, 6)),
    (3, 5, (2, 3), dict(padding="same", dilation=(1, 2)), (1, 3, 6, 7)),
    (3, 5, (2, 4), dict(padding="same", dilation=3), (1, 3, 9, 10)),
    (3, 5, 3, dict(padding="valid"), (2, 3, 5, 5)),
    (4, 6, 3, dict(groups=2, padding=1), (2, 4, 6, 5)),
    (6, 6, 3, dict(groups=6, padding=1), (2, 6, 8, 7)),  # depthwise
    (4, 8, 5, dict(groups=4, padding=2, stride=2), (2, 4, 9, 9)),  # depthwise, multiplier 2
    (3, 4, 1, dict(bias=False), (2, 3, 5, 4)),
    (3, 4, 3, dict(stride=3, padding=2), (2, 3, 10, 11)),
    (3, 4, 3, dict(padding=2, padding_mode="reflect"), (2, 3, 6, 7)),
    (3, 4, 3, dict(padding=(1, 2), padding_mode="replicate"), (2, 3, 6, 7)),
    (3, 4, 3, dict(padding=2, padding_mode="circular", stride=2), (2, 3, 6, 7)),
    (3, 4, 4, dict(padding="same", padding_mode="reflect"), (1, 3, 6, 7)),
    (2, 3, 3, dict(padding=1), (2, 5, 6)),  # unbatched (C, H, W)
    (32, 64, 3, dict(padding=1), (4, 32, 12, 12)),
]


@requires_torch
@pytest.mark.parametrize("cin,cout,k,kw,shape", CONV2D_CASES)
def test_conv2d_matches_torch(cin, cout, k, kw, shape):
    _check_parity(nn.Conv2d(cin, cout, k, **kw), torch.nn.Conv2d(cin, cout, k, **kw), shape)


CONV1D_CASES = [
    (3, 5, 3, {}, (2, 3, 10)),
    (3, 5, 4, dict(stride=2, padding=3, dilation=2), (2, 3, 13)),
    (4, 4, 4, dict(padding="same", groups=4), (2, 4, 9)),
    (4, 6, 3, dict(padding=2, groups=2, padding_mode="reflect", bias=False), (3, 4, 7)),
    (2, 3, 3, dict(padding=1, padding_mode="circular"), (2, 8)),  # unbatched
]


@requires_torch
@pytest.mark.parametrize("cin,cout,k,kw,shape", CONV1D_CASES)
def test_conv1d_matches_torch(cin, cout, k, kw, shape):
    _check_parity(nn.Conv1d(cin, cout, k, **kw), torch.nn.Conv1d(cin, cout, k, **kw), shape)


CONV_T2D_CASES = [
    (3, 5, 3, {}, (2, 3, 4, 5)),
    (3, 5, 3, dict(stride=2, padding=1, output_padding=1), (2, 3, 4, 5)),
    (4, 6, (3, 2), dict(stride=(2, 3), padding=(1, 0), groups=2), (2, 4, 5, 4)),
    (4, 4, 3, dict(stride=1, dilation=2, output_padding=1, groups=4), (1, 4, 5, 5)),
    (3, 2, 4, dict(stride=2, padding=1, bias=False), (2, 3, 7, 7)),
    (3, 2, 2, dict(stride=3, output_padding=2), (2, 3, 3, 4)),
    (2, 3, 3, dict(stride=2), (2, 4, 3)),  # unbatched
]


@requires_torch
@pytest.mark.parametrize("cin,cout,k,kw,shape", CONV_T2D_CASES)
def test_conv_transpose2d_matches_torch(cin, cout, k, kw, shape):
    _check_parity(nn.ConvTranspose2d(cin, cout, k, **kw),
                  torch.nn.ConvTranspose2d(cin, cout, k, **kw), shape)


@requires_torch
def test_conv_transpose2d_output_size_matches_torch():
    kw = dict(stride=2, padding=1)
    _check_parity(nn.ConvTranspose2d(3, 4, 3, **kw), torch.nn.ConvTranspose2d(3, 4, 3, **kw),
                  (2, 3, 5, 6), output_size=(10, 12))


@requires_torch
def test_conv_transpose1d_matches_torch():
    kw = dict(stride=3, padding=1, output_padding=2, groups=2, dilation=2)
    _check_parity(nn.ConvTranspose1d(4, 6, 3, **kw), torch.nn.ConvTranspose1d(4, 6, 3, **kw),
                  (2, 4, 7))


@requires_torch
def test_functional_conv2d_matches_torch():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 4, 8, 7)).astype(np.float32)
    w = rng.standard_normal((6, 2, 3, 3)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    got = F.conv2d(axonic.tensor(x), axonic.tensor(w), axonic.tensor(b), stride=(1, 2),
                   padding=(2, 1), dilation=2, groups=2)
    want = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b),
                                      stride=(1, 2), padding=(2, 1), dilation=2, groups=2)
    _close(got.numpy(), want.numpy())


@requires_torch
def test_conv2d_on_a_channels_last_view_matches_torch():
    # conv outputs are (N, C, H, W) views of channels-last memory; the next layer gets them
    x = _normal_nhwc((2, 6, 7, 4))
    conv, ref = nn.Conv2d(4, 6, 3, padding=1, groups=2), torch.nn.Conv2d(4, 6, 3, padding=1,
                                                                          groups=2)
    _copy_weights(conv, ref)
    xa = axonic.tensor(x).permute(0, 3, 1, 2)
    assert not xa.numpy().flags.c_contiguous
    _close(conv(xa).detach().numpy(),
           ref(torch.tensor(x).permute(0, 3, 1, 2)).detach().numpy())


def _normal_nhwc(shape):
    return np.random.default_rng(3).standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("layer,shape", [
    (lambda: nn.Conv2d(3, 4, 3, padding=1), (0, 3, 5, 5)),
    (lambda: nn.ConvTranspose2d(3, 4, 3, stride=2), (0, 3, 5, 5)),
    (lambda: nn.Conv1d(3, 4, 3), (0, 3, 6)),
])
def test_empty_batch_gives_empty_output_and_gradient(layer, shape):
    x = axonic.zeros(*shape, requires_grad=True)
    y = layer()(x)
    assert y.shape[0] == 0 and y.shape[1] == 4
    y.sum().backward()
    assert x.grad.shape == x.shape


# --- float64 gradcheck ------------------------------------------------------------------


def _f64(rng, *shape):
    return axonic.tensor(rng.standard_normal(shape), dtype=axonic.float64, requires_grad=True)


def test_conv2d_gradcheck_float64():
    rng = np.random.default_rng(2)
    x, w, b = _f64(rng, 2, 4, 5, 6), _f64(rng, 4, 2, 3, 2), _f64(rng, 4)
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=(1, 2),
                                              dilation=(1, 2), groups=2), (x, w, b))
    x, w = _f64(rng, 1, 2, 5, 4), _f64(rng, 3, 2, 2, 3)
    assert gradcheck(lambda x, w: F.conv2d(x, w, padding="same"), (x, w))


def test_conv1d_gradcheck_float64():
    rng = np.random.default_rng(3)
    x, w, b = _f64(rng, 2, 3, 7), _f64(rng, 4, 3, 3), _f64(rng, 4)
    assert gradcheck(lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1, dilation=2),
                     (x, w, b))


def test_conv_transpose2d_gradcheck_float64():
    rng = np.random.default_rng(4)
    x, w, b = _f64(rng, 2, 4, 3, 3), _f64(rng, 4, 1, 3, 2), _f64(rng, 2)
    assert gradcheck(lambda x, w, b: F.conv_transpose2d(
        x, w, b, stride=(2, 1), padding=(1, 0), output_padding=(1, 0), groups=2,
        dilation=(1, 2)), (x, w, b))


def test_padding_modes_gradcheck_float64():
    rng = np.random.default_rng(5)
    x = _f64(rng, 1, 2, 5, 4)
    for mode in ("reflect", "replicate", "circular"):
        conv = nn.Conv2d(2, 2, 3, padding=(2, 1), padding_mode=mode).double()
        assert gradcheck(conv, (x,))


# --- layers: shapes, state_dict, initialisation ------------------------------------------


def test_weight_shapes_and_state_dict_keys_match_pytorch():
    conv = nn.Conv2d(6, 8, (3, 5), groups=2)
    assert conv.weight.shape == (8, 3, 3, 5) and conv.bias.shape == (8,)
    assert list(conv.state_dict()) == ["weight", "bias"]
    up = nn.ConvTranspose2d(6, 8, 3, groups=2, bias=False)
    assert up.weight.shape == (6, 4, 3, 3) and up.bias is None
    assert list(up.state_dict()) == ["weight"]
    assert nn.Conv1d(4, 2, 5).weight.shape == (2, 4, 5)
    assert nn.ConvTranspose1d(4, 2, 5).weight.shape == (4, 2, 5)


@pytest.mark.parametrize("layer,fan_in", [
    (lambda: nn.Conv2d(16, 32, 3), 16 * 9),
    (lambda: nn.Conv2d(16, 32, 3, groups=4), 4 * 9),
    (lambda: nn.ConvTranspose2d(16, 32, 3, groups=2), 16 * 9),
    (lambda: nn.Conv1d(8, 16, 5), 8 * 5),
])
def test_default_init_is_kaiming_uniform_and_bias_bound(layer, fan_in):
    m = layer()
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform(a=sqrt(5)): sqrt(6 / (1 + 5) / fan_in)
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.06 * bound
    assert np.abs(b).max() <= bound and np.abs(b).max() > 0.5 * bound


def test_init_is_reproducible_with_manual_seed():
    axonic.manual_seed(7)
    a = nn.Conv2d(3, 4, 3).weight.detach().numpy().copy()
    axonic.manual_seed(7)
    np.testing.assert_array_equal(a, nn.Conv2d(3, 4, 3).weight.detach().numpy())


def test_repr_names_the_non_default_arguments():
    assert repr(nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)) == (
        "Conv2d(3, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), bias=False)")
    assert "padding_mode=reflect" in repr(nn.Conv1d(2, 2, 3, padding=1,  # PyTorch's form
                                                      padding_mode="reflect"))


def test_output_keeps_float32_and_runs_without_grad():
    conv = nn.Conv2d(3, 4, 3, padding=1)
    with axonic.no_grad():
        out = conv(axonic.randn(2, 3, 5, 5))
    assert out.dtype == np.float32 and not out.requires_grad and out.shape == (2, 4, 5, 5)


# --- errors -------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs,match", [
    (dict(in_channels=0, out_channels=4, kernel_size=3), r"Conv2d: in_channels must be a "
                                                         r"positive integer, got 0"),
    (dict(in_channels=3, out_channels=-2, kernel_size=3), r"out_channels .* got -2"),
    (dict(in_channels=3, out_channels=4, kernel_size=3, groups=2),
     r"Conv2d: in_channels \(3\) must be divisible by groups \(2\)"),
    (dict(in_channels=4, out_channels=6, kernel_size=3, groups=4),
     r"out_channels \(6\) must be divisible by groups \(4\)"),
    (dict(in_channels=3, out_channels=4, kernel_size=3, padding="full"),
     r"Conv2d: padding must be an int, a tuple, 'valid' or 'same', got 'full'"),
    (dict(in_channels=3, out_channels=4, kernel_size=3, padding="same", stride=2),
     r"padding='same' is not supported for strided convolutions \(stride \(2, 2\)\)"),
    (dict(in_channels=3, out_channels=4, kernel_size=0), r"kernel_size must be >= 1, got 0"),
    (dict(in_channels=3, out_channels=4, kernel_size=(3, 3, 3)),
     r"kernel_size must be an int or a tuple of 2 ints, got \(3, 3, 3\)"),
    (dict(in_channels=3, out_channels=4, kernel_size=3, padding=-1),
     r"padding must be >= 0, got -1"),
    (dict(in_channels=3, out_channels=4, kernel_size=3, padding_mode="mirror"),
     r"padding_mode must be one of \['zeros', 'reflect', 'replicate', 'circular'\], "
     r"got 'mirror'"),
])
def test_conv2d_init_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        nn.Conv2d(**kwargs)


def test_conv_transpose_init_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"ConvTranspose2d: output_padding \(2, 2\) must be "
                                         r"smaller than either stride \(2, 2\) or dilation"):
        nn.ConvTranspose2d(3, 4, 3, stride=2, output_padding=2)
    with pytest.raises(ValueError, match=r"ConvTranspose2d: only padding_mode='zeros' is "
                                         r"supported, got 'reflect'"):
        nn.ConvTranspose2d(3, 4, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match=r"ConvTranspose1d: padding must be an int or a "
                                         r"tuple of 1 ints, got 'same'"):
        nn.ConvTranspose1d(3, 4, 3, padding="same")


def test_forward_names_wrong_rank():
    with pytest.raises(nn.LayerInputError, match=r"Conv2d: expected a 4-d input \(N, C, H, W\)"
                                                 r" or an unbatched 3-d input \(C, H, W\), "
                                                 r"got shape \(8, 3\)"):
        nn.Conv2d(3, 4, 3)(axonic.ones(8, 3))
    with pytest.raises(nn.LayerInputError, match=r"Conv1d: expected a 3-d input \(N, C, L\)"
                                                 r" .* got shape \(1, 2, 3, 4\)"):
        nn.Conv1d(2, 4, 3)(axonic.ones(1, 2, 3, 4))


def test_forward_names_wrong_channels():
    with pytest.raises(nn.LayerInputError, match=r"Conv2d: expected 3 input channels, got "
                                                 r"shape \(2, 1, 28, 28\)"):
        nn.Conv2d(3, 8, 3)(axonic.ones(2, 1, 28, 28))
    with pytest.raises(nn.LayerInputError, match=r"ConvTranspose2d: expected 4 input "
                                                 r"channels, got shape \(1, 2, 5, 5\)"):
        nn.ConvTranspose2d(4, 8, 3)(axonic.ones(1, 2, 5, 5))


def test_forward_names_a_dtype_that_differs_from_the_weight():
    with pytest.raises(nn.LayerInputError, match=r"Conv2d: expected input of dtype float32 "
                                                 r"\(the weight's\), got float64"):
        nn.Conv2d(1, 1, 3)(axonic.ones(1, 1, 5, 5, dtype=axonic.float64))
    with pytest.raises(ValueError, match=r"conv1d: input dtype float64 differs from weight "
                                         r"dtype float32"):
        F.conv1d(axonic.ones(1, 1, 5, dtype=axonic.float64), axonic.ones(1, 1, 2))


def test_forward_names_kernel_larger_than_padded_input():
    with pytest.raises(nn.LayerInputError, match=r"Conv2d: the padded input size \(4, 6\) "
                                                 r"\(input \(2, 4\) plus padding .*\) is smaller"
                                                 r" than the kernel \(5, 5\)"):
        nn.Conv2d(1, 1, 5, padding=1)(axonic.ones(1, 1, 2, 4))
    with pytest.raises(nn.LayerInputError, match=r"effective size \(1, 5\) with dilation "
                                                 r"\(1, 2\)"):
        nn.Conv1d(1, 1, 3, dilation=2)(axonic.ones(1, 1, 4))


def test_reflect_padding_larger_than_input_is_named():
    with pytest.raises(nn.LayerInputError, match=r"padding_mode='reflect' with padding "
                                                 r"\(3, 3\) needs each spatial size larger than"
                                                 r" its padding, got input shape \(1, 1, 3, 8\)"):
        nn.Conv2d(1, 1, 3, padding=3, padding_mode="reflect")(axonic.ones(1, 1, 3, 8))
    with pytest.raises(nn.LayerInputError, match=r"Conv1d: padding_mode='circular' .* got "
                                                 r"input shape \(2, 1, 3\)"):
        nn.Conv1d(1, 1, 3, padding=4, padding_mode="circular")(axonic.ones(2, 1, 3))


def test_error_names_the_layer_path_inside_a_model():
    model = nn.Sequential()
    model.add_module("features", nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(3, 8, 3)))
    with pytest.raises(nn.LayerInputError, match=r"^features\.3 \(Conv2d\): expected 3 input "
                                                 r"channels, got shape \(2, 4, 5, 5\)"):
        model(axonic.ones(2, 1, 12, 12))


def test_functional_errors_name_the_op_and_shapes():
    x, w = axonic.ones(1, 4, 5, 5), axonic.ones(6, 3, 3, 3)
    with pytest.raises(ValueError, match=r"conv2d: expected 3 input channels \(weight shape "
                                         r"\(6, 3, 3, 3\) with groups=1\), got input shape "
                                         r"\(1, 4, 5, 5\)"):
        F.conv2d(x, w)
    with pytest.raises(ValueError, match=r"conv2d: expected a bias of shape \(6,\), got \(4,\)"):
        F.conv2d(axonic.ones(1, 3, 5, 5), w, axonic.ones(4))
    with pytest.raises(ValueError, match=r"conv1d: expected a 3-d input \(N, C, L\), got "
                                         r"shape \(3, 5\)"):
        F.conv1d(axonic.ones(3, 5), axonic.ones(2, 3, 2))
    with pytest.raises(ValueError, match=r"conv_transpose2d: expected 3 input channels"):
        F.conv_transpose2d(axonic.ones(1, 2, 4, 4), axonic.ones(3, 2, 3, 3))


def test_output_size_that_cannot_be_reached_is_named():
    up = nn.ConvTranspose2d(2, 2, 3, stride=2)
    with pytest.raises(nn.LayerInputError, match=r"requested output_size \(20, 20\) is not "
                                                 r"reachable: expected sizes between \(9, 9\) "
                                                 r"and \(10, 10\)"):
        up(axonic.ones(1, 2, 4, 4), output_size=(20, 20))


def test_transposed_output_that_would_be_empty_is_named():
    with pytest.raises(nn.LayerInputError, match=r"ConvTranspose2d: input size \(2, 2\) with "
                                                 r"padding \(3, 3\) gives a non-positive "
                                                 r"output size \(-4, -4\)"):
        nn.ConvTranspose2d(2, 2, 1, padding=3)(axonic.ones(1, 2, 2, 2))


# --- a PyTorch CNN's weights in the same axonic model ----------------------------------


def _small_cnn(nn_):
    return nn_.Sequential(
        nn_.Conv2d(1, 8, 3, padding=1), nn_.ReLU(), nn_.MaxPool2d(2),
        nn_.Conv2d(8, 16, 3, padding=1), nn_.Flatten(), nn_.Linear(16 * 7 * 7, 10))


@requires_torch
def test_pytorch_cnn_state_dict_loads_and_gives_torch_outputs():
    torch.manual_seed(0)
    theirs = _small_cnn(torch.nn)
    ours = _small_cnn(nn)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((4, 1, 14, 14)).astype(np.float32)
    xa, xt = axonic.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = ours(xa), theirs(xt)
    _close(out.detach().numpy(), ref.detach().numpy())
    out.sum().backward()
    ref.sum().backward()
    _close(xa.grad.numpy(), xt.grad.numpy())
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        _close(p.grad.numpy(), q.grad.numpy(), name)


@requires_torch  # the op specs name PyTorch functions, which the doctest finder touches
@pytest.mark.parametrize("name", ["axonic.ops.conv", "axonic.ops.im2col", "axonic.nn.conv"])
def test_docstring_examples_run(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0
