"""What each op saves for backward, checked by changing tensors in place.

For every op, each tensor input and the output is changed in place (under ``no_grad``)
between the forward and the backward. A tensor the op saved makes the backward raise,
naming the op; one it did not save changes nothing: the gradients equal those of an
untouched run. The same program runs on PyTorch, which must raise for the same tensors,
except where ``DIFFERENT`` lists a deliberate difference and its reason.
"""

import numpy as np
import pytest

import axonic
from tests.conftest import requires_torch, torch

pytestmark = requires_torch

R = np.random.default_rng(0)


def _u(*shape, lo=-1.0, hi=1.0):
    return R.uniform(lo, hi, shape).astype(np.float64)


def _F(lib):
    return axonic.nn.functional if lib is axonic else torch.nn.functional


def _unary(name):
    return lambda lib, x: getattr(x, name)()


# name: (program(lib, *tensors), input arrays, which inputs require grad)
CASES = {
    "add": (lambda lib, a, b: a + b, [_u(2, 3), _u(3)], (True, True)),
    "sub": (lambda lib, a, b: a - b, [_u(2, 3), _u(3)], (True, True)),
    "neg": (lambda lib, a: -a, [_u(4)], (True,)),
    "mul": (lambda lib, a, b: a * b, [_u(2, 3), _u(3)], (True, True)),
    "mul_left_only": (lambda lib, a, b: a * b, [_u(2, 3), _u(3)], (True, False)),
    "div": (lambda lib, a, b: a / b, [_u(2, 3), _u(3, lo=1, hi=2)], (True, True)),
    "div_left_only": (lambda lib, a, b: a / b, [_u(2, 3), _u(3, lo=1, hi=2)], (True, False)),
    "div_right_only": (lambda lib, a, b: a / b, [_u(2, 3), _u(3, lo=1, hi=2)], (False, True)),
    "pow": (lambda lib, a, b: a ** b, [_u(4, lo=0.5, hi=2), _u(4)], (True, True)),
    "pow_base_only": (lambda lib, a, b: a ** b, [_u(4, lo=0.5, hi=2), _u(4)], (True, False)),
    "maximum": (lambda lib, a, b: lib.maximum(a, b), [_u(4), _u(4)], (True, True)),
    "minimum": (lambda lib, a, b: lib.minimum(a, b), [_u(4), _u(4)], (True, True)),
    "atan2": (lambda lib, a, b: lib.atan2(a, b), [_u(4), _u(4)], (True, True)),
    "remainder": (lambda lib, a, b: lib.remainder(a, b), [_u(4), _u(4, lo=1, hi=2)],
                  (True, True)),
    "remainder_left_only": (lambda lib, a, b: lib.remainder(a, b),
                            [_u(4), _u(4, lo=1, hi=2)], (True, False)),
    "matmul": (lambda lib, a, b: a @ b, [_u(2, 3), _u(3, 4)], (True, True)),
    "matmul_left_only": (lambda lib, a, b: a @ b, [_u(2, 3), _u(3, 4)], (True, False)),
    "matmul_right_only": (lambda lib, a, b: a @ b, [_u(2, 3), _u(3, 4)], (False, True)),
    "matmul_batched": (lambda lib, a, b: a @ b, [_u(2, 2, 3), _u(3)], (True, True)),
    "einsum": (lambda lib, a, b: lib.einsum("ij,jk->ik", a, b), [_u(2, 3), _u(3, 4)],
               (True, False)),
    "linear": (lambda lib, x, w, b: _F(lib).linear(x, w, b), [_u(5, 3), _u(2, 3), _u(2)],
               (True, True, True)),
    "linear_input_only": (lambda lib, x, w, b: _F(lib).linear(x, w, b),
                          [_u(5, 3), _u(2, 3), _u(2)], (True, False, False)),
    "where": (lambda lib, c, a, b: lib.where(c > 0, a, b), [_u(4), _u(4), _u(4)],
              (False, True, True)),
    "masked_fill": (lambda lib, x, m: x.masked_fill(m > 0, 2.0), [_u(4), _u(4)],
                    (True, False)),
    "where_by_tensor": (lambda lib, c, a, b: lib.where(c, a, b),
                        [np.array([True, False, True]), _u(3), _u(3)], (False, True, True)),
    "masked_fill_by_tensor": (lambda lib, x, m: x.masked_fill(m, 2.0),
                              [_u(3), np.array([True, False, True])], (True, False)),
    "clamp": (lambda lib, x: x.clamp(-0.5, 0.5), [_u(6)], (True,)),
    "nan_to_num": (lambda lib, x: lib.nan_to_num(x), [_u(4)], (True,)),
    "logit": (lambda lib, x: lib.logit(x), [_u(4, lo=0.1, hi=0.9)], (True,)),
    "gelu": (lambda lib, x: _F(lib).gelu(x), [_u(5)], (True,)),
    "gelu_tanh": (lambda lib, x: _F(lib).gelu(x, approximate="tanh"), [_u(5)], (True,)),
    "silu": (lambda lib, x: _F(lib).silu(x), [_u(5)], (True,)),
    "elu": (lambda lib, x: _F(lib).elu(x), [_u(5)], (True,)),
    "leaky_relu": (lambda lib, x: _F(lib).leaky_relu(x, 0.1), [_u(5)], (True,)),
    "softplus": (lambda lib, x: _F(lib).softplus(x), [_u(5)], (True,)),
    "prelu": (lambda lib, x, w: _F(lib).prelu(x, w), [_u(2, 3), _u(3)], (True, True)),
    "softmax": (lambda lib, x: x.softmax(1), [_u(2, 3)], (True,)),
    "log_softmax": (lambda lib, x: x.log_softmax(1), [_u(2, 3)], (True,)),
    "logsumexp": (lambda lib, x: x.logsumexp(1), [_u(2, 3)], (True,)),
    "amax": (lambda lib, x: x.amax(1), [_u(2, 3)], (True,)),
    "amin": (lambda lib, x: x.amin(1), [_u(2, 3)], (True,)),
    "prod": (lambda lib, x: x.prod(1), [_u(2, 3)], (True,)),
    "norm": (lambda lib, x: x.norm(dim=1), [_u(2, 3)], (True,)),
    "sum": (lambda lib, x: x.sum(1), [_u(2, 3)], (True,)),
    "mean": (lambda lib, x: x.mean(1), [_u(2, 3)], (True,)),
    "cumsum": (lambda lib, x: x.cumsum(1), [_u(2, 3)], (True,)),
    "layer_norm": (lambda lib, x, w, b: _F(lib).layer_norm(x, (3,), w, b),
                   [_u(2, 3), _u(3), _u(3)], (True, True, True)),
    "batch_norm": (lambda lib, x, w, b: _F(lib).batch_norm(x, None, None, w, b, True),
                   [_u(4, 3), _u(3), _u(3)], (True, True, True)),
    "normalize": (lambda lib, x: _F(lib).normalize(x, dim=1), [_u(2, 3)], (True,)),
    "conv2d": (lambda lib, x, w, b: _F(lib).conv2d(x, w, b, padding=1),
               [_u(1, 2, 4, 4), _u(3, 2, 3, 3), _u(3)], (True, True, True)),
    "conv2d_weight_only": (lambda lib, x, w, b: _F(lib).conv2d(x, w, b, padding=1),
                           [_u(1, 2, 4, 4), _u(3, 2, 3, 3), _u(3)], (False, True, True)),
    "conv2d_input_only": (lambda lib, x, w: _F(lib).conv2d(x, w),
                          [_u(1, 2, 4, 4), _u(3, 2, 1, 1)], (True, False)),
    "conv_transpose2d": (lambda lib, x, w, b: _F(lib).conv_transpose2d(x, w, b),
                         [_u(1, 2, 3, 3), _u(2, 3, 2, 2), _u(3)], (True, True, True)),
    "conv_transpose2d_1x1": (lambda lib, x, w: _F(lib).conv_transpose2d(x, w),
                             [_u(2, 2, 1, 1), _u(2, 3, 1, 1)], (True, True)),
    "adaptive_avg_pool2d": (lambda lib, x: _F(lib).adaptive_avg_pool2d(x, 2),
                            [_u(1, 2, 4, 4)], (True,)),
    "bce_with_logits": (lambda lib, x, t: _F(lib).binary_cross_entropy_with_logits(x, t),
                        [_u(4), _u(4, lo=0, hi=1)], (True, True)),
    "bce": (lambda lib, p, t: _F(lib).binary_cross_entropy(p, t),
            [_u(4, lo=0.1, hi=0.9), _u(4, lo=0, hi=1)], (True, False)),
    "cross_entropy_probs": (lambda lib, x, t: _F(lib).cross_entropy(x, t),
                            [_u(3, 4), _u(3, 4, lo=0, hi=1)], (True, False)),
    "cross_entropy_indices": (lambda lib, x, t: _F(lib).cross_entropy(x, t),
                              [_u(3, 4), np.array([1, 3, 2])], (True, False)),
    "nll_loss": (lambda lib, x, t: _F(lib).nll_loss(x, t), [_u(3, 4), np.array([1, 3, 2])],
                 (True, False)),
    "embedding": (lambda lib, i, w: _F(lib).embedding(i, w), [np.array([2, 1, 2]), _u(3, 2)],
                  (False, True)),
    "gather": (lambda lib, x, i: x.gather(1, i), [_u(2, 3), np.array([[2, 1], [1, 2]])],
               (True, False)),
    "index_by_tensor": (lambda lib, x, i: x[i], [_u(3, 2), np.array([2, 1, 2])],
                        (True, False)),
    "reshape": (lambda lib, x: x.reshape(3, 2), [_u(2, 3)], (True,)),
    "permute": (lambda lib, x: x.permute(1, 0), [_u(2, 3)], (True,)),
    "flip": (lambda lib, x: x.flip(1), [_u(2, 3)], (True,)),
    "cat": (lambda lib, a, b: lib.cat([a, b]), [_u(2), _u(3)], (True, True)),
    "index": (lambda lib, x: x[[0, 2]], [_u(3, 2)], (True,)),
    "tril": (lambda lib, x: x.tril(), [_u(3, 3)], (True,)),
}
for _name in ("abs exp log log1p sqrt rsqrt expm1 reciprocal sin cos tan sinh cosh atan tanh "
              "sigmoid").split():
    _lo = 0.5 if _name in ("log", "sqrt", "rsqrt", "reciprocal") else -1.0
    CASES[_name] = (_unary(_name), [_u(4, lo=_lo)], (True,))
CASES["erf"] = (lambda lib, x: lib.erf(x) if lib is torch else axonic.erf(x), [_u(4)], (True,))

# (case, changed tensor): whether axonic raises, and why that differs from PyTorch
_COPIED = "the index arrives as an array, not a graph input: the op keeps a private copy"
_SHAPE = "the backward reads only its shape; PyTorch saves the tensor anyway"
DIFFERENT = {
    ("pow_base_only", "out"): (False, "the base's gradient does not read the result"),
    ("prod", "out"): (False, "the exclusive products are taken from x, not result / x"),
    ("layer_norm", 2): (False, "the bias gradient needs no value; PyTorch saves the bias"),
    ("adaptive_avg_pool2d", 0): (False, _SHAPE),
    ("nll_loss", 0): (False, "the gradient needs only the picked positions and weights"),
    ("cross_entropy_probs", 0): (True, "fused: the logits are kept for create_graph"),
    ("cross_entropy_indices", 0): (True, "fused: the logits are kept for create_graph"),
    ("cross_entropy_probs", 1): (False, "the target arrives as an array: a private copy"),
    ("cross_entropy_indices", 1): (False, _COPIED),
    ("nll_loss", 1): (False, "the loss keeps weights taken from the target, not the target"),
    ("embedding", 0): (False, _COPIED),
    ("gather", 0): (False, _SHAPE),
    ("gather", 1): (False, _COPIED),
    ("index_by_tensor", 1): (False, _COPIED),
    ("where_by_tensor", 0): (False, _COPIED),
    ("masked_fill_by_tensor", 1): (False, _COPIED),
}


def _run(lib, name, changed):
    """Gradients of the program with ``changed`` (an input's position or "out") changed in
    place after the forward, or None when the backward raised for that change."""
    program, arrays, grads = CASES[name]
    leaves = [lib.tensor(a.copy(), requires_grad=g) for a, g in zip(arrays, grads)]
    inputs = [t.clone() if g else t for t, g in zip(leaves, grads)]  # may change in place
    out = program(lib, *inputs)
    if changed is not None:
        with lib.no_grad():
            t = out if changed == "out" else inputs[changed]
            t.add_(0.25) if t.is_floating_point() else t.zero_()
    weight = lib.tensor(np.linspace(-1.0, 2.0, out.numel()).reshape(tuple(out.shape)))
    try:
        (out * weight).sum().backward()
    except RuntimeError as e:
        assert "in-place operation" in str(e) or "inplace operation" in str(e), e
        if lib is axonic:  # the message names the op
            assert "'" + type(out.grad_fn).__name__ + "'" in str(e), e
        return None
    return [t.grad.detach().numpy() for t, g in zip(leaves, grads) if g]


def _params():
    for name, (_, arrays, _grads) in CASES.items():
        for changed in [*range(len(arrays)), "out"]:
            yield pytest.param(name, changed, id=f"{name}-{changed}")


@pytest.mark.parametrize("name, changed", list(_params()))
def test_changing_a_saved_tensor_raises_and_an_unsaved_one_changes_nothing(name, changed):
    ours = _run(axonic, name, changed)
    theirs = _run(torch, name, changed)
    if (name, changed) in DIFFERENT:
        assert (ours is None) == DIFFERENT[name, changed][0], DIFFERENT[name, changed][1]
    else:
        assert (ours is None) == (theirs is None), (
            f"{name}: changing {changed} in place " + ("raises" if ours is None else "does "
            "not raise") + " in axonic but " + ("raises" if theirs is None else "does not")
            + " in PyTorch")
    if ours is not None:  # not saved: the gradients are those of the untouched program
        for got, want in zip(ours, _run(axonic, name, None)):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
