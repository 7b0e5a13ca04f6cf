"""PyTorch's alias names and top-level helpers give PyTorch's results."""

import math

import numpy as np
import pytest
import torch

import axonic
from axonic.ops.aliases import ALIASES

A = np.array([[0.5, -0.25, 0.75], [-0.5, 0.125, 0.9]], dtype=np.float32)
B = np.array([[0.25, 0.5, -0.75], [0.5, -0.125, 0.3]], dtype=np.float32)
UNARY = ["absolute", "arccos", "arcsin", "arctan", "arcsinh", "arctanh", "negative", "fix"]
BINARY = ["arctan2", "greater", "greater_equal", "less", "less_equal", "not_equal",
          "multiply", "divide", "true_divide", "subtract"]


def _check(ours, theirs):
    np.testing.assert_allclose(np.asarray(ours.detach().numpy(), dtype=np.float64),
                               theirs.detach().numpy().astype(np.float64), rtol=1e-6)


@pytest.mark.parametrize("name", [n for n in UNARY if hasattr(axonic, n)])
def test_unary_alias_matches_torch(name):
    _check(getattr(axonic, name)(axonic.tensor(A)), getattr(torch, name)(torch.tensor(A)))
    _check(getattr(axonic.tensor(A), name)(), getattr(torch.tensor(A), name)())


@pytest.mark.parametrize("name", [n for n in BINARY if hasattr(axonic, n)])
def test_binary_alias_matches_torch(name):
    _check(getattr(axonic, name)(axonic.tensor(A), axonic.tensor(B)),
           getattr(torch, name)(torch.tensor(A), torch.tensor(B)))


def test_aliases_are_their_targets():
    declared = [a for a, t in ALIASES.items() if hasattr(axonic, a) and hasattr(axonic, t)]
    assert len(declared) >= 20
    for alias in declared:
        assert getattr(axonic, alias) is getattr(axonic, ALIASES[alias])
    assert axonic.absolute is axonic.abs


def test_alias_of_a_differentiable_op_is_differentiable():
    x = axonic.tensor(A, dtype=axonic.float64, requires_grad=True)
    assert axonic.autograd.gradcheck(lambda t: axonic.multiply(axonic.absolute(t), t), (x,))


def test_shape_aliases_match_torch():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    assert axonic.tensor(x).swapaxes(0, 2).shape == tuple(torch.tensor(x).swapaxes(0, 2).shape)
    assert axonic.swapdims(axonic.tensor(x), 1, 2).shape == (2, 4, 3)
    assert axonic.concat([axonic.tensor(x)] * 2, 1).shape == (2, 6, 4)


def test_tensor_queries_match_torch():
    for data in (A, np.arange(3), np.array(True)):
        a, t = axonic.tensor(data), torch.tensor(data)
        assert axonic.numel(a) == torch.numel(t)
        assert axonic.is_floating_point(a) == torch.is_floating_point(t)
        assert axonic.is_complex(a) == torch.is_complex(t)
        assert axonic.is_tensor(a) and not axonic.is_tensor(data)
    assert axonic.is_same_size(axonic.ones(2, 3), axonic.zeros(2, 3))
    assert axonic.is_nonzero(axonic.tensor([2])) == torch.is_nonzero(torch.tensor([2]))
    _check(axonic.positive(axonic.tensor(A)), torch.positive(torch.tensor(A)))
    with pytest.raises(TypeError, match="positive: not supported for bool tensors"):
        axonic.positive(axonic.tensor([True]))


def test_broadcast_helpers_match_torch():
    shapes = [(2, 1, 3), (4, 1), (3,)]
    assert axonic.broadcast_shapes(*shapes) == tuple(torch.broadcast_shapes(*shapes))
    ours = axonic.broadcast_tensors(axonic.ones(2, 1), axonic.arange(3))
    theirs = torch.broadcast_tensors(torch.ones(2, 1), torch.arange(3))
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.raises(ValueError, match=r"broadcast_shapes: shapes \[\(2,\), \(3,\)\] can't"):
        axonic.broadcast_shapes((2,), (3,))


def test_constants_and_dtype_limits_match_torch():
    assert (axonic.pi, axonic.e, axonic.inf) == (torch.pi, torch.e, torch.inf)
    assert math.isnan(axonic.nan)
    for dt in ("float32", "float64", "float16"):
        ours, theirs = axonic.finfo(getattr(axonic, dt)), torch.finfo(getattr(torch, dt))
        assert (float(ours.eps), float(ours.max), float(ours.tiny)) == (theirs.eps, theirs.max,
                                                                        theirs.tiny)
    assert axonic.iinfo(axonic.int64).max == torch.iinfo(torch.int64).max


def test_compile_wraps_the_model_and_flags_are_recorded():
    model = axonic.nn.Linear(2, 2)
    assert axonic.compile(model)._orig_mod is model
    assert axonic.compile(mode="max-autotune")(model)._orig_mod is model
    assert axonic.get_default_device() == axonic.device("cpu")
    before = axonic.get_float32_matmul_precision()
    assert before == torch.get_float32_matmul_precision()
    try:
        axonic.set_float32_matmul_precision("high")
        assert axonic.get_float32_matmul_precision() == "high"
        axonic.use_deterministic_algorithms(True)
        assert axonic.are_deterministic_algorithms_enabled()
    finally:
        axonic.set_float32_matmul_precision(before)
        axonic.use_deterministic_algorithms(False)
    with pytest.raises(ValueError, match="expected 'highest', 'high' or 'medium', got 'low'"):
        axonic.set_float32_matmul_precision("low")


def test_size_and_default_generator_as_torch_programs_use_them():
    x = axonic.ones(2, 3)
    assert x.shape == axonic.Size([2, 3]) and isinstance(x.size(), axonic.Size)
    assert tuple(torch.ones(2, 3).shape) == axonic.Size([2, 3])
    axonic.default_generator.manual_seed(3)
    a = axonic.rand(2)
    axonic.manual_seed(3)
    assert a.tolist() == axonic.rand(2).tolist()
