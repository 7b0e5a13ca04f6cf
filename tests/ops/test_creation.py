"""Creation functions, dtype rules, seeding, conversions, DLPack and repr."""

import json

import numpy as np
import pytest

import axonic
from tests.conftest import requires_torch, torch


def test_creation_functions_shapes_dtypes_values():
    assert axonic.zeros(2, 3).tolist() == [[0.0] * 3] * 2
    assert axonic.ones((2,)).dtype == np.float32
    assert axonic.full((2, 2), 7).dtype == np.int64
    assert axonic.full((2,), 0.5).tolist() == [0.5, 0.5]
    assert axonic.full((1,), True).dtype == np.bool_
    assert axonic.arange(5).tolist() == [0, 1, 2, 3, 4] and axonic.arange(5).dtype == np.int64
    assert axonic.arange(0, 1, 0.25).tolist() == [0.0, 0.25, 0.5, 0.75]
    assert axonic.arange(0, 1, 0.25).dtype == np.float32
    np.testing.assert_allclose(axonic.linspace(0, 1, 5).numpy(), np.linspace(0, 1, 5))
    assert axonic.eye(3).tolist() == np.eye(3).tolist()
    assert axonic.eye(2, 3).shape == (2, 3)
    assert axonic.empty(4, 0).shape == (4, 0)
    x = axonic.ones(2, 3, dtype=axonic.float64)
    assert axonic.zeros_like(x).dtype == np.float64 and axonic.ones_like(x).shape == (2, 3)
    assert axonic.full_like(x, 2.0).tolist() == [[2.0] * 3] * 2
    assert axonic.zeros(2, requires_grad=True).requires_grad


@requires_torch
def test_creation_matches_torch_dtypes():
    for ours, theirs in [
        (axonic.arange(3), torch.arange(3)), (axonic.arange(0.0, 2.0), torch.arange(0.0, 2.0)),
        (axonic.full((2,), 3), torch.full((2,), 3)), (axonic.zeros(2), torch.zeros(2)),
        (axonic.tensor([1, 2]), torch.tensor([1, 2])), (axonic.tensor([1.5]), torch.tensor([1.5])),
        (axonic.tensor([True]), torch.tensor([True])), (axonic.eye(2), torch.eye(2)),
    ]:
        assert ours.dtype.name == str(theirs.dtype).removeprefix("torch."), (ours, theirs)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_random_creation_ranges_and_dtypes():
    u = axonic.rand(1000)
    assert u.dtype == np.float32 and 0 <= u.numpy().min() and u.numpy().max() < 1
    n = axonic.randn(4000, dtype=axonic.float64)
    assert n.dtype == np.float64 and abs(n.numpy().mean()) < 0.1 and abs(n.numpy().std() - 1) < 0.1
    r = axonic.randint(2, 5, (100,))
    assert r.dtype == np.int64 and set(r.tolist()) <= {2, 3, 4}
    assert sorted(axonic.randperm(6).tolist()) == list(range(6))
    assert axonic.normal(3.0, 0.0, (2,)).tolist() == [3.0, 3.0]
    assert axonic.rand_like(u).shape == u.shape and axonic.randn_like(n).dtype == np.float64


def test_default_float_dtype_is_float32():
    assert axonic.tensor([0.5]).dtype == np.float32
    assert axonic.tensor(2.0).dtype == np.float32
    assert axonic.get_default_dtype() == np.float32


def test_set_default_dtype_changes_python_floats():
    try:
        axonic.set_default_dtype(axonic.float64)
        assert axonic.tensor([0.5]).dtype == np.float64
        assert axonic.zeros(2).dtype == np.float64
        assert (axonic.tensor([1, 2]) / 2).dtype == np.float64
    finally:
        axonic.set_default_dtype(axonic.float32)


@pytest.mark.parametrize("expr,dtype", [
    (lambda: axonic.tensor([1, 2]) + 1.5, np.float32),  # python float + int tensor
    (lambda: 1.5 * axonic.tensor([1, 2]), np.float32),
    (lambda: axonic.tensor([1, 2]) + 1, np.int64),
    (lambda: axonic.tensor([1, 2]) / axonic.tensor([2, 2]), np.float32),  # int / int
    (lambda: axonic.tensor([1, 2]) / 2, np.float32),
    (lambda: 1 / axonic.tensor([1, 2]), np.float32),
    (lambda: axonic.tensor([1, 2]) * axonic.tensor([1.0, 2.0]), np.float32),  # int * float
    (lambda: axonic.tensor([1.0, 2.0]) + axonic.tensor([1, 2]), np.float32),
    (lambda: axonic.tensor([1.0, 2.0]) * np.float64(2.0), np.float32),  # NumPy scalar
    (lambda: np.float64(2.0) * axonic.tensor([1.0, 2.0]), np.float32),
    (lambda: axonic.tensor([1.0, 2.0]) + axonic.tensor(1.0, dtype=axonic.float64), np.float32),
    (lambda: axonic.tensor([1.0], dtype=axonic.float64) + axonic.tensor([1.0]), np.float64),
    (lambda: axonic.tensor([True]) + 1, np.int64),
    (lambda: axonic.tensor([True]) * 2.5, np.float32),
    (lambda: axonic.tensor([1, 2], dtype=axonic.int32) + 1, np.int32),
    (lambda: axonic.tensor([1.0], dtype=axonic.float16) * 2.0, np.float16),
    (lambda: axonic.tensor(np.zeros(3)), np.float64),  # float64 arrays stay float64
    (lambda: axonic.from_numpy(np.zeros(3)) * 2.0, np.float64),
    (lambda: axonic.tensor([1, 2]).exp(), np.float32),
    (lambda: axonic.tensor([1, 2]).sum(), np.int64),
    (lambda: axonic.tensor([True, True]).sum(), np.int64),
    (lambda: axonic.tensor([1, 2]).softmax(0), np.float32),
])
def test_dtype_promotion_rules(expr, dtype):
    assert expr().dtype == dtype


@requires_torch
def test_dtype_promotion_matches_torch():
    pairs = [([1, 2], 1.5), ([1, 2], [3, 4]), ([1.0], [2]), ([True], 2), ([True], [1.5])]
    for a, b in pairs:
        for op in ("add", "mul", "div", "sub"):
            if op == "sub" and a == [True]:
                continue  # torch refuses bool subtraction
            ta = torch.tensor(a)
            tb = torch.tensor(b) if isinstance(b, list) else b
            ours = getattr(axonic, op)(axonic.tensor(a), axonic.tensor(b) if isinstance(
                b, list) else b)
            ref = getattr(torch, op)(ta, tb)
            assert ours.dtype.name == str(ref.dtype).removeprefix("torch."), (a, b, op)
            np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-6)


@requires_torch
@pytest.mark.parametrize("expr", [
    lambda L: L.cat([L.tensor([1]), L.tensor([1.5])]),
    lambda L: L.cat([L.tensor([1.0], dtype=L.float64), L.tensor([1.5])]),
    lambda L: L.stack([L.tensor([True]), L.tensor([2])]),
    lambda L: L.where(L.tensor([True, False]), L.tensor([1, 2]), 0.5),
    lambda L: L.where(L.tensor([True, False]), 1.0, 0.0),
    lambda L: L.where(L.tensor([True, False]), 1, 0),
    lambda L: L.where(L.tensor([True, False]), L.tensor([1.0, 2.0]), 0),
])
def test_join_and_where_promote_like_torch(expr):
    ours, theirs = expr(axonic), expr(torch)
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
    assert ours.tolist() == theirs.tolist()


def test_manual_seed_reproduces_draws():
    axonic.manual_seed(123)
    a = (axonic.rand(5).tolist(), axonic.randn(3).tolist(), axonic.randint(0, 10, (4,)).tolist())
    axonic.manual_seed(123)
    b = (axonic.rand(5).tolist(), axonic.randn(3).tolist(), axonic.randint(0, 10, (4,)).tolist())
    assert a == b
    axonic.manual_seed(124)
    assert axonic.rand(5).tolist() != a[0]
    assert axonic.initial_seed() == 124


def test_generator_state_round_trip_through_json():
    g = axonic.Generator().manual_seed(7)
    axonic.randn(10, generator=g)
    state = json.loads(json.dumps(g.get_state()))
    a = axonic.randn(5, generator=g).tolist()
    g.set_state(state)
    assert axonic.randn(5, generator=g).tolist() == a
    s = axonic.get_rng_state()
    x = axonic.rand(3).tolist()
    axonic.set_rng_state(s)
    assert axonic.rand(3).tolist() == x


def test_separate_generators_do_not_disturb_each_other():
    g = axonic.Generator().manual_seed(1)
    first = axonic.rand(3, generator=g).tolist()
    axonic.manual_seed(0)
    axonic.rand(100)
    g2 = axonic.Generator().manual_seed(1)
    assert axonic.rand(3, generator=g2).tolist() == first


def test_conversions_tolist_item_numpy_array():
    x = axonic.tensor([[1.5, 2.0], [3.0, 4.0]])
    assert x.tolist() == [[1.5, 2.0], [3.0, 4.0]]
    assert x[0, 0].item() == 1.5 and isinstance(x[0, 0].item(), float)
    assert isinstance(axonic.tensor([3]).item(), int)
    n = x.numpy()
    assert isinstance(n, np.ndarray) and np.shares_memory(n, x._data)
    a = np.asarray(x)
    assert a.dtype == np.float32 and a.shape == (2, 2)
    assert np.array(x, dtype=np.float64).dtype == np.float64
    assert float(axonic.tensor(2.5)) == 2.5 and int(axonic.tensor(3)) == 3
    assert [1, 2, 3][axonic.tensor(1)] == 2
    assert x.detach().numpy() is not None
    assert axonic.from_numpy(n)._data is n  # shares memory
    assert axonic.as_tensor(n)._data is n
    assert axonic.tensor(n)._data is not n  # tensor() copies


def test_array_protocol_copies_only_when_asked():
    t = axonic.tensor([1.0, 2.0])
    assert not np.shares_memory(np.array(t), t._data)  # np.array copies by default
    assert np.shares_memory(np.asarray(t), t._data)
    assert np.shares_memory(np.array(t, copy=False), t._data)
    assert np.array(t, dtype=np.float64).dtype == np.float64
    with pytest.raises(ValueError, match="float32 to float64 needs a copy, but copy=False"):
        np.array(t, dtype=np.float64, copy=False)


def test_dlpack_round_trip_with_numpy():
    x = axonic.tensor([1.0, 2.0, 3.0])
    a = np.from_dlpack(x)
    assert np.shares_memory(a, x._data)
    np.testing.assert_array_equal(a, [1.0, 2.0, 3.0])
    src = np.arange(6.0).reshape(2, 3)
    t = axonic.from_dlpack(src)
    assert t.dtype == np.float64 and t.shape == (2, 3)
    src[0, 0] = 42.0
    assert t[0, 0].item() == 42.0  # shares memory, no copy


@requires_torch
def test_dlpack_round_trip_with_torch():
    x = axonic.tensor([[1.0, 2.0], [3.0, 4.0]])
    tt = torch.from_dlpack(x)
    assert tt.dtype == torch.float32 and tt.tolist() == x.tolist()
    tt[0, 0] = 9.0
    assert x[0, 0].item() == 9.0
    back = axonic.from_dlpack(torch.arange(4, dtype=torch.int64))
    assert back.dtype == np.int64 and back.tolist() == [0, 1, 2, 3]


@requires_torch
@pytest.mark.parametrize("value", [
    [1.5, 2.0, 3.0], [1.0, 2.0], [1e-5, 1.0], [1e10, 1.0], [0.1234567],
    [[1.0, 2.5], [3.0, 4.0]], 3.5, [], [float("nan"), 1.5, float("inf")], [-1.5, 2.25],
    [1, 2], [[True, False]],
])
def test_repr_looks_like_torch(value):
    ours = repr(axonic.tensor(value))
    theirs = repr(torch.tensor(value))
    assert ours == theirs.replace("torch.", "axonic.")


@requires_torch
def test_repr_shows_dtype_grad_and_grad_fn_like_torch():
    for kw in ({"dtype": "float64"}, {"dtype": "int32"}, {"dtype": "float16"}):
        ours = repr(axonic.tensor([1.5, 2.0], dtype=getattr(axonic, kw["dtype"])))
        theirs = repr(torch.tensor([1.5, 2.0], dtype=getattr(torch, kw["dtype"])))
        assert ours == theirs.replace("torch.", "axonic.")
    assert repr(axonic.tensor([1.0], requires_grad=True)) == "tensor([1.], requires_grad=True)"
    assert repr(axonic.tensor([1.0], requires_grad=True) * 2) == \
        "tensor([2.], grad_fn=<MulBackward>)"
    assert repr(axonic.zeros(0, dtype=axonic.int64)) == "tensor([], dtype=axonic.int64)"
    assert str(axonic.tensor(1.0)) == "tensor(1.)"


def test_repr_of_large_tensor_is_summarised():
    text = repr(axonic.arange(5000))
    assert "..." in text and len(text) < 200
