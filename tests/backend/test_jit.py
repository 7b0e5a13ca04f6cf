"""``axonic.backend.jit``: numba's fused loops against the NumPy path they replace
(LayerNorm forward and backward, the LSTM's gate arithmetic), at PyTorch parity, the
setting's errors, and numba never loaded by ``import axonic``."""

import subprocess
import sys

import numpy as np
import pytest

import axonic
from axonic.backend import jit
from tests.conftest import requires_torch, torch


@pytest.fixture
def numpy_path(monkeypatch):
    """Run the NumPy path instead of the kernels, for the same inputs."""
    def use(off: bool):
        monkeypatch.setitem(jit._state, "kernels", None if off else jit._state["kernels"])
    jit.kernels()
    saved = jit._state["kernels"]
    yield use
    jit._state["kernels"] = saved


@pytest.fixture
def counted(monkeypatch):
    """The names of the kernels called."""
    calls = []
    kernels = jit.kernels()
    for name in ("layer_norm_forward", "layer_norm_backward", "lstm_backward_step",
                 "lstm_forward_gates", "softmax_rows", "softmax_rows_backward",
                 "relu_backward"):
        real = getattr(kernels, name)
        monkeypatch.setattr(kernels, name,
                            lambda *a, _n=name, _r=real: (calls.append(_n), _r(*a))[1])
    return calls


def _layer_norm_run(x, shape, affine, g, dtype):
    xt = axonic.tensor(x.astype(dtype), requires_grad=True)
    ln = axonic.nn.LayerNorm(shape, elementwise_affine=affine, dtype=dtype)
    if affine:
        rng = np.random.default_rng(1)
        ln.weight.data = axonic.tensor(rng.standard_normal(ln.weight.shape).astype(dtype))
        ln.bias.data = axonic.tensor(rng.standard_normal(ln.bias.shape).astype(dtype))
    y = ln(xt)
    y.backward(axonic.tensor(g.astype(dtype)))
    grads = [xt.grad.numpy()] + ([ln.weight.grad.numpy(), ln.bias.grad.numpy()] if affine
                                 else [])
    return [y.detach().numpy()] + grads


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,norm,affine", [
    ((32, 64, 128), (128,), True), ((16, 8, 10), (8, 10), True), ((300, 17), (17,), False),
    ((5,), (5,), True)], ids=["transformer", "two-dims", "no-affine", "one-row"])
def test_layer_norm_kernels_match_the_numpy_path(numpy_path, counted, dtype, shape, norm,
                                                 affine):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape) * 3 + 1e3  # a large offset: precision is tested too
    g = rng.standard_normal(shape)
    fused = _layer_norm_run(x, norm, affine, g, dtype)
    assert counted == ["layer_norm_forward", "layer_norm_backward"]
    numpy_path(True)
    plain = _layer_norm_run(x, norm, affine, g, dtype)
    assert counted == ["layer_norm_forward", "layer_norm_backward"]  # no more calls
    tol = 2e-4 if dtype == np.float32 else 1e-10
    for a, b in zip(fused, plain):
        assert a.shape == b.shape and a.dtype == b.dtype == dtype
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol * max(1.0, np.abs(b).max()))


def test_layer_norm_kernels_propagate_nan_and_infinity(numpy_path):
    x = np.ones((4, 8), np.float32)
    x[1, 3], x[2, 0] = np.nan, np.inf
    with np.errstate(invalid="ignore"):
        fused = axonic.nn.functional.layer_norm(axonic.tensor(x), (8,)).numpy()
        numpy_path(True)
        plain = axonic.nn.functional.layer_norm(axonic.tensor(x), (8,)).numpy()
    np.testing.assert_array_equal(np.isnan(fused), np.isnan(plain))
    assert np.isnan(fused[1]).all() and np.isnan(fused[2]).all()
    np.testing.assert_array_equal(fused[[0, 3]], plain[[0, 3]])


def test_create_graph_backward_takes_the_differentiable_path(counted):
    x = axonic.tensor(np.random.default_rng(2).standard_normal((6, 8)), requires_grad=True)
    y = axonic.nn.functional.layer_norm(x, (8,))
    (gx,) = axonic.autograd.grad((y ** 3).sum(), x, create_graph=True)
    assert gx.requires_grad
    assert counted == ["layer_norm_forward"]  # the backward was composed of ops


def _softmax_run(x, g, axis):
    xt = axonic.tensor(x, requires_grad=True)
    y = axonic.softmax(xt, axis)
    y.backward(axonic.tensor(g))
    return y.detach().numpy(), xt.grad.numpy()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_kernels_match_the_numpy_path(numpy_path, counted, dtype):
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((8, 4, 16, 16)) * 5).astype(dtype)
    x[..., np.triu_indices(16, 1)[0], np.triu_indices(16, 1)[1]] = -np.inf  # a causal mask
    x[0, 0, 3] = -np.inf  # a fully masked row: NaN, as in NumPy and PyTorch
    x[0, 1, 2, 0] = np.nan
    x[1, 0, 5, 5] = 1e4  # a large logit: the shift keeps it finite
    g = rng.standard_normal(x.shape).astype(dtype)
    with np.errstate(invalid="ignore"):
        fused = _softmax_run(x, g, -1)
        assert counted == ["softmax_rows", "softmax_rows_backward"]
        numpy_path(True)
        plain = _softmax_run(x, g, -1)
    tol = 1e-6 if dtype == np.float32 else 1e-14
    for a, b in zip(fused, plain):
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        assert np.isnan(a[0, 0, 3]).all() and np.isnan(a[0, 1, 2]).all()
        np.testing.assert_allclose(np.nan_to_num(a), np.nan_to_num(b), rtol=tol, atol=tol)


def test_softmax_along_another_axis_or_strided_takes_the_numpy_path(counted):
    x = np.random.default_rng(6).standard_normal((6, 10)).astype(np.float32)
    axonic.softmax(axonic.tensor(x), 0)
    axonic.softmax(axonic.tensor(np.asfortranarray(x)), -1)
    assert counted == []


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_backward_kernel_equals_the_numpy_path_bit_for_bit(numpy_path, counted, dtype):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((64, 100)).astype(dtype)
    x[0, :4] = [0.0, -0.0, np.inf, -np.inf]
    g = rng.standard_normal(x.shape).astype(dtype)
    g[1, :3] = [np.nan, np.inf, -np.inf]  # NaN * 0 stays NaN, as in NumPy's product

    def run():
        xt = axonic.tensor(x, requires_grad=True)
        axonic.relu(xt).backward(axonic.tensor(g))
        return xt.grad.numpy()

    with np.errstate(invalid="ignore"):
        fused = run()
        assert counted == ["relu_backward"]
        numpy_path(True)
        plain = run()
    np.testing.assert_array_equal(fused, plain)
    assert np.array_equal(np.signbit(fused), np.signbit(plain))


def _lstm_run(dtype, reverse=False):
    rng = np.random.default_rng(3)
    axonic.manual_seed(3)  # the same initial weights in both runs
    lstm = axonic.nn.LSTM(6, 16, batch_first=True, bidirectional=reverse, dtype=dtype)
    x = axonic.tensor(rng.standard_normal((4, 9, 6)).astype(dtype), requires_grad=True)
    out, (h, c) = lstm(x)
    (out.sum() + (h * c).sum()).backward()
    return [out.detach().numpy(), x.grad.numpy()] + [p.grad.numpy() for p in
                                                      lstm.parameters()]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_lstm_kernels_match_the_numpy_path(numpy_path, counted, dtype, bidirectional):
    fused = _lstm_run(dtype, bidirectional)
    steps = 9 * (2 if bidirectional else 1)
    assert counted.count("lstm_forward_gates") == steps
    assert counted.count("lstm_backward_step") == steps
    numpy_path(True)
    plain = _lstm_run(dtype, bidirectional)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for a, b in zip(fused, plain):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


@requires_torch
def test_layer_norm_and_lstm_on_the_kernels_match_torch():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((8, 12, 32)).astype(np.float32)
    tl, al = torch.nn.LSTM(32, 24, batch_first=True), axonic.nn.LSTM(32, 24, batch_first=True)
    al.load_state_dict({k: axonic.tensor(v.detach().numpy()) for k, v in
                        tl.state_dict().items()})
    tn, an = torch.nn.LayerNorm(24), axonic.nn.LayerNorm(24)
    tx, ax = torch.tensor(x, requires_grad=True), axonic.tensor(x, requires_grad=True)
    wts = rng.standard_normal((8, 12, 24)).astype(np.float32)  # a well-conditioned loss
    (tn(tl(tx)[0]) * torch.tensor(wts)).sum().backward()
    (an(al(ax)[0]) * axonic.tensor(wts)).sum().backward()
    np.testing.assert_allclose(ax.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    for (name, p), q in zip(al.named_parameters(), tl.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-4, atol=1e-5,
                                   err_msg=name)


def test_setting_errors_and_off(monkeypatch):
    monkeypatch.setenv("AXONIC_JIT", "fast")
    jit.reset()
    try:
        with pytest.raises(ValueError, match="AXONIC_JIT: expected 'auto', 'on' or 'off', "
                                             "got 'fast'"):
            jit.kernels()
        monkeypatch.setenv("AXONIC_JIT", "off")
        jit.reset()
        assert jit.kernels() is None and jit.describe() == "NumPy (AXONIC_JIT=off)"
    finally:
        monkeypatch.delenv("AXONIC_JIT")
        jit.reset()
    assert jit.kernels() is not None and jit.describe().startswith("numba ")


def test_on_without_numba_names_the_extra():
    code = ("import sys; sys.modules['numba'] = None\n"  # numba made unimportable
            "import os; os.environ['AXONIC_JIT'] = 'on'\n"
            "from axonic.backend import jit\n"
            "try:\n    jit.kernels()\nexcept RuntimeError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert "AXONIC_JIT=on: numba would not import" in out and "axonic[jit]" in out
    code_auto = code.replace("'on'", "'auto'").replace("print(e)", "print('raised')") + \
        "print(jit.kernels() is None, jit.describe())\n"
    out = subprocess.run([sys.executable, "-c", code_auto], capture_output=True, text=True,
                         check=True).stdout
    assert out.startswith("True NumPy (numba not installed")


def test_load_compiles_every_kernel_for_both_float_dtypes(monkeypatch):
    from axonic.backend import _jit_kernels as k

    assert jit.load() is True
    for name in ("_layer_norm_forward", "_layer_norm_backward", "_shift_by_row_max",
                 "_divide_by_row_sum", "_softmax_backward", "_relu_backward",
                 "lstm_forward_gates", "lstm_backward_step"):
        kinds = {str(sig[0].dtype) for sig in getattr(k, name).signatures}
        assert kinds >= {"float32", "float64"}, name
    monkeypatch.setenv("AXONIC_JIT", "off")
    jit.reset()
    try:
        assert jit.load() is False
    finally:
        monkeypatch.delenv("AXONIC_JIT")
        jit.reset()
