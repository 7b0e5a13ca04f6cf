"""The composed ops and the extra in-place forms give PyTorch's results and gradients."""

import numpy as np
import pytest
import torch

import axonic

RNG = np.random.default_rng(0)
X = RNG.normal(size=(3, 4))
Y = RNG.normal(size=(3, 4))
Z = RNG.uniform(0.5, 2.0, size=(3, 4))
M1, M2 = RNG.normal(size=(3, 5)), RNG.normal(size=(5, 4))
B1, B2 = RNG.normal(size=(2, 3, 5)), RNG.normal(size=(2, 5, 4))
IDX = RNG.integers(0, 4, size=(3, 2))

# name -> (function of the library and its float64 inputs, inputs); differentiable in all
CASES = {
    "addcmul": (lambda L, a, b, c: L.addcmul(a, b, c, value=0.5), (X, Y, Z)),
    "addcdiv": (lambda L, a, b, c: L.addcdiv(a, b, c, value=-2.0), (X, Y, Z)),
    "addmm": (lambda L, a, b, c: L.addmm(a, b, c, beta=0.5, alpha=2.0), (X, M1, M2)),
    "baddbmm": (lambda L, a, b, c: L.baddbmm(a, b, c, alpha=0.5), (X[None], B1, B2)),
    "take_along_dim": (lambda L, a: L.take_along_dim(a, L.tensor(IDX), dim=1), (X,)),
    "select": (lambda L, a: L.select(a, 1, 2), (X,)),
    "diff": (lambda L, a: L.diff(a, n=2, dim=1), (X,)),
    "diff_prepend": (lambda L, a, b: L.diff(a, dim=0, prepend=b), (X, Y)),
    "hstack": (lambda L, a, b: L.hstack([a, b]), (X, Y)),
    "vstack": (lambda L, a, b: L.vstack([a[0], b]), (X, Y)),
    "dstack": (lambda L, a, b: L.dstack([a, b]), (X, Y)),
    "ravel": (lambda L, a: L.ravel(a.t()), (X,)),
    "repeat_interleave": (lambda L, a: L.repeat_interleave(a, 2, dim=0), (X,)),
    "repeat_interleave_counts": (lambda L, a: L.repeat_interleave(a, L.tensor([1, 0, 3]),
                                                                  dim=0), (X,)),
    "xlogy": (lambda L, a, b: L.xlogy(a, b), (X, Z)),
    "hypot": (lambda L, a, b: L.hypot(a, b), (X, Y)),
    "sinc": (lambda L, a: L.sinc(a), (X,)),
    "exp2": (lambda L, a: L.exp2(a), (X,)),
    "kron": (lambda L, a, b: L.kron(a, b), (X[:2, :2], Y[:2, :3])),
    "nansum": (lambda L, a: L.nansum(a, dim=1), (X,)),
    "nanmean": (lambda L, a: L.nanmean(a), (X,)),
}


def _lib_inputs(L, arrays, grad=True):
    if L is torch:
        return [torch.tensor(a, requires_grad=grad) for a in arrays]
    return [axonic.tensor(a, requires_grad=grad) for a in arrays]


@pytest.mark.parametrize("name", list(CASES))
def test_composed_op_matches_torch_forward_and_backward(name):
    fn, arrays = CASES[name]
    ours, theirs = _lib_inputs(axonic, arrays), _lib_inputs(torch, arrays)
    o, t = fn(axonic, *ours), fn(torch, *theirs)
    np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = RNG.normal(size=tuple(t.shape))
    o.backward(axonic.tensor(g))
    t.backward(torch.tensor(g))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["addcmul", "addmm", "take_along_dim", "diff", "sinc",
                                  "xlogy", "kron"])
def test_composed_op_passes_gradcheck(name):
    fn, arrays = CASES[name]
    inputs = _lib_inputs(axonic, arrays)
    assert axonic.autograd.gradcheck(lambda *t: fn(axonic, *t), tuple(inputs))


def test_nan_aware_reductions_skip_nans_as_torch():
    a = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, 2.0]])
    for dim in (None, 1):
        kw = {} if dim is None else {"dim": dim}
        np.testing.assert_allclose(axonic.nansum(axonic.tensor(a), **kw).numpy(),
                                   torch.nansum(torch.tensor(a), **kw).numpy())
        np.testing.assert_allclose(axonic.nanmean(axonic.tensor(a), **kw).numpy(),
                                   torch.nanmean(torch.tensor(a), **kw).numpy())


@pytest.mark.filterwarnings("ignore:divide by zero", "ignore:invalid value")
def test_xlogy_and_sinc_special_points_match_torch():
    x, y = [0.0, 0.0, 2.0, 1.0], [0.0, float("nan"), 3.0, 0.0]
    np.testing.assert_array_equal(axonic.xlogy(axonic.tensor(x), axonic.tensor(y)).numpy(),
                                  torch.xlogy(torch.tensor(x), torch.tensor(y)).numpy())
    assert axonic.sinc(axonic.tensor([0.0])).item() == 1.0


@pytest.mark.parametrize("n", [1, 2, 3])
def test_atleast_nd_shapes_match_torch(n):
    for shape in [(), (3,), (2, 3), (2, 3, 4)]:
        a = getattr(axonic, f"atleast_{n}d")(axonic.tensor(np.zeros(shape)))
        t = getattr(torch, f"atleast_{n}d")(torch.tensor(np.zeros(shape)))
        assert a.shape == tuple(t.shape)


@pytest.mark.parametrize("indexing", ["ij", "xy"])
def test_meshgrid_matches_torch(indexing):
    a, b, c = [np.arange(k, dtype=np.float64) for k in (2, 3, 4)]
    ours = axonic.meshgrid(axonic.tensor(a), axonic.tensor(b), axonic.tensor(c),
                           indexing=indexing)
    theirs = torch.meshgrid(torch.tensor(a), torch.tensor(b), torch.tensor(c),
                            indexing=indexing)
    for o, t in zip(ours, theirs):
        np.testing.assert_array_equal(o.numpy(), t.numpy())
    with pytest.raises(ValueError, match="meshgrid: indexing must be 'ij' or 'xy', got 'ji'"):
        axonic.meshgrid(axonic.tensor(a), indexing="ji")


def test_index_helpers_match_torch():
    seq, vals = [1.0, 3.0, 5.0, 7.0], [[0.0, 3.0], [6.0, 9.0]]
    for right in (False, True):
        assert axonic.searchsorted(axonic.tensor(seq), axonic.tensor(vals), right=right
                                   ).tolist() == torch.searchsorted(
            torch.tensor(seq), torch.tensor(vals), right=right).tolist()
        assert axonic.bucketize(axonic.tensor(vals), axonic.tensor(seq), right=right
                                ).tolist() == torch.bucketize(
            torch.tensor(vals), torch.tensor(seq), right=right).tolist()
    rows = [[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]]
    assert axonic.searchsorted(axonic.tensor(rows), axonic.tensor([[4.0], [4.0]])).tolist() == \
        torch.searchsorted(torch.tensor(rows), torch.tensor([[4.0], [4.0]])).tolist()
    assert axonic.isin(axonic.tensor([1, 2, 3]), axonic.tensor([2, 5])).tolist() == \
        torch.isin(torch.tensor([1, 2, 3]), torch.tensor([2, 5])).tolist()
    assert axonic.bincount(axonic.tensor([0, 2, 2]), minlength=4).tolist() == \
        torch.bincount(torch.tensor([0, 2, 2]), minlength=4).tolist()
    assert axonic.repeat_interleave(axonic.tensor([2, 0, 1])).tolist() == \
        torch.repeat_interleave(torch.tensor([2, 0, 1])).tolist()
    for k in (-1, 0, 1):
        assert axonic.tril_indices(3, 4, k).tolist() == torch.tril_indices(3, 4, k).tolist()
        assert axonic.triu_indices(4, 3, k).tolist() == torch.triu_indices(4, 3, k).tolist()


@pytest.mark.parametrize(("name", "args"), [
    ("sqrt_", ()), ("abs_", ()), ("log_", ()), ("floor_", ()), ("round_", ()), ("sign_", ()),
    ("reciprocal_", ()), ("pow_", (2.0,)), ("lerp_", ("Y", 0.25)),
    ("addcmul_", ("Y", "Y")), ("addcdiv_", ("Y", "Z")),
])
def test_extra_inplace_forms_match_torch(name, args):
    base = np.abs(X) + 0.1
    ours, theirs = axonic.tensor(base), torch.tensor(base)
    o_args = [axonic.tensor({"Y": Y, "Z": Z}[a]) if isinstance(a, str) else a for a in args]
    t_args = [torch.tensor({"Y": Y, "Z": Z}[a]) if isinstance(a, str) else a for a in args]
    out = getattr(ours, name)(*o_args)
    getattr(theirs, name)(*t_args)
    assert out is ours
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


def test_extra_inplace_forms_are_recorded_in_the_graph():
    x = axonic.tensor(X, requires_grad=True)
    y = x * 1
    y.addcmul_(x, x, value=0.5)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 1 + X)
