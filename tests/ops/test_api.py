"""The public API of DESIGN.md: every Tensor attribute, method and operator, and every
``axonic.<op>`` function in the list exists and agrees with PyTorch's same-named one
(values and gradients, float32)."""

import numpy as np
import pytest

import axonic
from tests.conftest import requires_torch, torch

DATA = np.array([[0.5, -1.25, 2.0], [1.5, 0.75, -0.5]], np.float32)


def _F(lib):
    """Where the functional ops live: ``torch.nn.functional`` or ``axonic``."""
    return lib.nn.functional if lib is torch else lib


# name -> f(lib, x) with x a (2, 3) float32 tensor requiring grad
METHODS = {
    "add": lambda lib, x: x + 1.5 + x, "sub": lambda lib, x: 2 - x - x * 0.5,
    "mul": lambda lib, x: x * x * 3, "truediv": lambda lib, x: x / (x * x + 1) / 2,
    "rtruediv": lambda lib, x: 1 / (x * x + 1), "pow": lambda lib, x: (x * x + 1) ** 1.5,
    "rpow": lambda lib, x: 2 ** x, "matmul": lambda lib, x: x @ x.T,
    "neg_op": lambda lib, x: -x, "abs_op": lambda lib, x: abs(x),
    "sum": lambda lib, x: x.sum(1), "mean": lambda lib, x: x.mean(0),
    "var": lambda lib, x: x.var(1), "std": lambda lib, x: x.std(0),
    "max": lambda lib, x: x.max(), "max_dim": lambda lib, x: x.max(1).values,
    "min": lambda lib, x: x.min(), "min_dim": lambda lib, x: x.min(0)[0],
    "amax": lambda lib, x: x.amax(1), "amin": lambda lib, x: x.amin(0),
    "prod": lambda lib, x: x.prod(1), "exp": lambda lib, x: x.exp(),
    "log": lambda lib, x: (x * x + 0.1).log(), "log1p": lambda lib, x: (x * x).log1p(),
    "sqrt": lambda lib, x: (x * x + 0.1).sqrt(), "sin": lambda lib, x: x.sin(),
    "cos": lambda lib, x: x.cos(), "tanh": lambda lib, x: x.tanh(),
    "sigmoid": lambda lib, x: x.sigmoid(), "relu": lambda lib, x: x.relu(),
    "clamp": lambda lib, x: x.clamp(-1.0, 1.0), "reshape": lambda lib, x: x.reshape(3, 2) * 2,
    "view": lambda lib, x: x.view(-1) * 2, "flatten": lambda lib, x: x.flatten() * 2,
    "squeeze": lambda lib, x: x.unsqueeze(0).squeeze(0) * 2,
    "unsqueeze": lambda lib, x: x.unsqueeze(1) * 2,
    "transpose": lambda lib, x: x.transpose(0, 1) * 2, "permute": lambda lib, x: x.permute(1, 0),
    "expand": lambda lib, x: x[:1].expand(4, 3) * 2, "T": lambda lib, x: x.T * 2,
    "mT": lambda lib, x: x.unsqueeze(0).mT * 2, "softmax": lambda lib, x: x.softmax(1),
    "log_softmax": lambda lib, x: x.log_softmax(0), "logsumexp": lambda lib, x: x.logsumexp(1),
    "masked_fill": lambda lib, x: x.masked_fill(x.detach() > 1, 0.0) * 2,
    "gather": lambda lib, x: x.gather(1, lib.tensor([[0, 0], [2, 1]])),
    "getitem_basic": lambda lib, x: x[1, ::2] * 2,
    "getitem_advanced": lambda lib, x: x[lib.tensor([1, 1, 0])] * 2,
    "getitem_bool": lambda lib, x: x[x.detach() > 0] * 2,
    "clone": lambda lib, x: x.clone() * 2, "to": lambda lib, x: x.to(lib.float64) * 2,
    # functions
    "cat": lambda lib, x: lib.cat([x, x * 2], 1), "stack": lambda lib, x: lib.stack([x, x], 0),
    "split": lambda lib, x: lib.split(x, 2, 1)[1] * 2, "chunk": lambda lib, x: x.chunk(2, 1)[0],
    "pad": lambda lib, x: _F(lib).pad(x, (1, 2)), "tril": lambda lib, x: lib.tril(x),
    "triu": lambda lib, x: lib.triu(x, 1),
    "where": lambda lib, x: lib.where(x.detach() > 0, x, x * x),
    "einsum": lambda lib, x: lib.einsum("ij,kj->ik", x, x),
    "maximum": lambda lib, x: lib.maximum(x, x.detach() * 0), "minimum":
        lambda lib, x: lib.minimum(x, x.detach() * 0 + 0.6),
    "abs": lambda lib, x: lib.abs(x), "neg": lambda lib, x: lib.neg(x),
    # further PyTorch names
    "cumsum": lambda lib, x: x.cumsum(1), "norm": lambda lib, x: x.norm(dim=0),
    "sort": lambda lib, x: x.sort(1, descending=True).values,
    "topk": lambda lib, x: x.topk(2, 1).values, "roll": lambda lib, x: x.roll(1, 1),
    "diagonal": lambda lib, x: x.diagonal(), "trace": lambda lib, x: x[:, :2].trace(),
    "outer": lambda lib, x: lib.outer(x[0], x[1]), "movedim": lambda lib, x: x.movedim(0, 1),
    "tile": lambda lib, x: x.tile((2,)), "expm1": lambda lib, x: x.expm1(),
    "log2": lambda lib, x: (x * x + 1).log2(), "log10": lambda lib, x: (x * x + 1).log10(),
    "tan": lambda lib, x: x.tan(), "sinh": lambda lib, x: x.sinh(), "cosh": lambda lib, x: x.cosh(),
    "atan": lambda lib, x: x.atan(), "atan2": lambda lib, x: lib.atan2(x, x.flip(0)),
    "logaddexp": lambda lib, x: lib.logaddexp(x, x.flip(1)),
    "lerp": lambda lib, x: lib.lerp(x, x * x, 0.3),
    "clamp_min": lambda lib, x: x.clamp_min(0.6), "clamp_max": lambda lib, x: x.clamp_max(0.6),
    "masked_select": lambda lib, x: x.masked_select(x.detach() > 0),
    "scatter_add": lambda lib, x: lib.zeros(2, 4).scatter_add(1, lib.tensor([[0, 0, 3],
                                                                             [1, 2, 1]]), x),
}


@requires_torch
@pytest.mark.parametrize("name", sorted(METHODS))
def test_api_matches_torch(name):
    fn = METHODS[name]
    x = axonic.tensor(DATA, requires_grad=True)
    xt = torch.tensor(DATA, requires_grad=True)
    out, ref = fn(axonic, x), fn(torch, xt)
    assert out.shape == tuple(ref.shape)
    assert out.dtype.name == str(ref.dtype).removeprefix("torch.")
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-6, atol=1e-6)
    seed = np.random.default_rng(0).standard_normal(out.shape).astype(out.dtype)
    out.backward(axonic.tensor(seed))
    ref.backward(torch.tensor(seed))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)


@requires_torch
def test_non_differentiable_methods_match_torch():
    x, xt = axonic.tensor(DATA), torch.tensor(DATA)
    for f in (lambda t: t.argmax(), lambda t: t.argmax(1), lambda t: t.argmin(0),
              lambda t: t < 0.6, lambda t: t <= 0.5, lambda t: t > 0.5, lambda t: t >= 0.5,
              lambda t: t == 0.5, lambda t: t != 0.5, lambda t: t.max(1).indices):
        np.testing.assert_array_equal(f(x).numpy(), f(xt).numpy())
    labels = [0, 2, 1]
    np.testing.assert_array_equal(axonic.one_hot(axonic.tensor(labels), 4).numpy(),
                                  torch.nn.functional.one_hot(torch.tensor(labels), 4).numpy())
    assert axonic.nn.functional.one_hot(axonic.tensor(labels)).shape == (3, 3)
    assert axonic.ops.indexing.one_hot(axonic.tensor(labels)).dtype == np.int64


@requires_torch
def test_sorting_indices_and_new_tensors_match_torch():
    data = np.array([[3.0, 1.0, 2.0, 1.0], [0.5, 4.0, 4.0, -1.0]], np.float32)
    x, xt = axonic.tensor(data), torch.tensor(data)
    for f in (lambda t: t.argsort(1), lambda t: t.argsort(0, descending=True),
              lambda t: t.sort(dim=1, stable=True).indices,
              lambda t: t.sort(dim=1, descending=True, stable=True).indices,
              lambda t: t.count_nonzero(0), lambda t: (t > 1).sum(1)):
        np.testing.assert_array_equal(f(x).numpy(), f(xt).numpy())
    np.testing.assert_array_equal(x.topk(2, 1).indices.numpy(), [[0, 2], [1, 2]])
    for name, args in (("new_zeros", (2, 3)), ("new_ones", ((3,),)), ("new_full", ((2,), 7.0)),
                       ("new_tensor", ([1, 2],))):
        ours, theirs = getattr(x, name)(*args), getattr(xt, name)(*args)
        assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    y, yt = axonic.tensor(data), torch.tensor(data)
    y.masked_fill_(y > 2, -1.0)
    yt.masked_fill_(yt > 2, -1.0)
    np.testing.assert_array_equal(y.numpy(), yt.numpy())
    nan = np.array([np.nan, np.inf, -np.inf, 1.0], np.float32)
    np.testing.assert_array_equal(axonic.tensor(nan).nan_to_num().numpy(),
                                  torch.tensor(nan).nan_to_num().numpy())


def test_tensor_attributes():
    x = axonic.tensor(DATA, requires_grad=True)
    assert x.shape == (2, 3) and x.ndim == 2 and x.dtype == axonic.float32
    assert x.device == axonic.device("cpu") and str(x.device) == "cpu"
    assert x.requires_grad and x.is_leaf and x.grad is None
    y = (x * 2).sum()
    assert not y.is_leaf and y.requires_grad
    handle = x.register_hook(lambda g: g * 3)
    y.backward()
    handle.remove()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 3), 6.0))
    d = x.detach()
    assert not d.requires_grad and np.shares_memory(d.numpy(), x._data)
    c = x.clone()
    assert c.requires_grad and not np.shares_memory(c._data, x._data)
    assert x.to(axonic.float64).dtype == np.float64 and x.to("cpu") is x
    assert x.detach().numpy().shape == (2, 3) and x[0, 0].item() == 0.5
    assert x.tolist() == DATA.tolist()


def test_module_level_names_exist():
    names = ["Tensor", "tensor", "from_numpy", "zeros", "ones", "full", "arange", "linspace",
             "eye", "rand", "randn", "randint", "zeros_like", "ones_like", "cat", "stack",
             "where", "no_grad", "enable_grad", "set_grad_enabled", "manual_seed", "float32",
             "float64", "float16", "int64", "int32", "bool", "split", "chunk", "pad", "tril",
             "triu", "one_hot", "einsum", "maximum", "minimum", "abs", "neg", "from_dlpack",
             "Generator"]
    missing = [n for n in names if not hasattr(axonic, n)]
    assert not missing
    assert axonic.Tensor([1.0, 2.0]).tolist() == [1.0, 2.0]
