"""Higher-order gradients: create_graph in backward and grad, autograd.functional, and
the one traversal's semantics (inputs=, nothing left on graph nodes), against PyTorch."""

import numpy as np
import pytest

import axonic
import axonic.nn.functional as F
from axonic.autograd import functional as AF
from tests.conftest import requires_torch, torch

f64 = axonic.float64


def _pair(a, requires_grad=True):
    """The same float64 values as an axonic and a PyTorch tensor."""
    a = np.asarray(a, np.float64)
    return (axonic.tensor(a, dtype=f64, requires_grad=requires_grad),
            torch.tensor(a, dtype=torch.float64, requires_grad=requires_grad))


def _close(ours, theirs, rtol=1e-10, atol=1e-12):
    if theirs is None:  # no gradient reached it in PyTorch: none in axonic either
        assert ours is None
        return
    np.testing.assert_allclose(np.asarray(ours.detach().numpy()),
                               theirs.detach().numpy(), rtol=rtol, atol=atol)


# --- second derivatives on random expression graphs -------------------------------------

UNARY = [
    ("sin", lambda t: t.sin()), ("cos", lambda t: t.cos()), ("exp", lambda t: (t * 0.5).exp()),
    ("tanh", lambda t: t.tanh()), ("sigmoid", lambda t: t.sigmoid()),
    ("square", lambda t: t * t), ("pow3", lambda t: t ** 3), ("softplus-ish", lambda t:
                                                              (1 + t.exp()).log()),
    ("sqrt", lambda t: (t * t + 1).sqrt()), ("neg", lambda t: -t),
]
BINARY = [
    ("add", lambda a, b: a + b), ("sub", lambda a, b: a - b), ("mul", lambda a, b: a * b),
    ("div", lambda a, b: a / (b * b + 1)), ("matmul", lambda a, b: a @ b.transpose(0, 1)),
]


def _random_expression(rng, depth=4):
    """A random program over two (3, 3) inputs, as a list of steps applied alike in both
    frameworks."""
    steps = []
    for _ in range(depth):
        if rng.random() < 0.5:
            steps.append(("u", int(rng.integers(len(UNARY)))))
        else:
            steps.append(("b", int(rng.integers(len(BINARY)))))
    return steps


def _run(steps, x, y):
    a, b = x, y
    for kind, k in steps:
        if kind == "u":
            a = UNARY[k][1](a)
        else:
            a, b = BINARY[k][1](a, b), a
    return (a * a).sum() + (a * b).mean()


@requires_torch
@pytest.mark.parametrize("seed", range(12))
def test_create_graph_matches_torch_on_random_expression_graphs(seed):
    rng = np.random.default_rng(seed)
    steps = _random_expression(rng)
    xv, yv = rng.uniform(-1, 1, (3, 3)), rng.uniform(-1, 1, (3, 3))
    results = []
    for lib, (x, y) in (("axonic", (*_pair(xv)[:1], *_pair(yv)[:1])),
                        ("torch", (_pair(xv)[1], _pair(yv)[1]))):
        grad = axonic.autograd.grad if lib == "axonic" else torch.autograd.grad
        out = _run(steps, x, y)
        gx, gy = grad(out, [x, y], create_graph=True)
        second = (gx * gx).sum() + (gx * gy).sum()
        hx, hy = grad(second, [x, y])
        results.append((out, gx, gy, hx, hy))
    for ours, theirs in zip(*results):
        _close(ours, theirs, rtol=1e-9)


@requires_torch
def test_backward_create_graph_gives_leaf_grads_with_history():
    (x, xt) = _pair([0.5, -1.0, 2.0])
    for v in (x, xt):
        (v.sin() * v).sum().backward(create_graph=True)
    assert x.grad.grad_fn is not None and x.grad.requires_grad
    x.grad.sum().backward()  # adds d/dx sum(dy/dx) to x.grad, as PyTorch
    xt.grad.sum().backward()
    _close(x.grad, xt.grad)


# --- the classic uses: gradient penalty, MAML, Hessian-vector products ----------------------

def _mlp_weights(rng, sizes):
    return [(rng.normal(0, 0.5, (o, i)), rng.normal(0, 0.1, o))
            for i, o in zip(sizes[:-1], sizes[1:])]


def _mlp(x, params, lib):
    lin = F.linear if lib == "axonic" else torch.nn.functional.linear
    for k, (w, b) in enumerate(params):
        x = lin(x, w, b)
        if k < len(params) - 1:
            x = x.tanh()
    return x


def _params(weights):
    ours, theirs = [], []
    for w, b in weights:
        (aw, tw), (ab, tb) = _pair(w), _pair(b)
        ours.append((aw, ab))
        theirs.append((tw, tb))
    return ours, theirs


@requires_torch
def test_gradient_penalty_matches_torch():
    rng = np.random.default_rng(1)
    ours, theirs = _params(_mlp_weights(rng, [4, 8, 1]))
    real, fake = rng.normal(size=(6, 4)), rng.normal(size=(6, 4))
    eps = rng.uniform(size=(6, 1))
    mixed = eps * real + (1 - eps) * fake
    for lib, params in (("axonic", ours), ("torch", theirs)):
        x = _pair(mixed)[0 if lib == "axonic" else 1]
        grad = axonic.autograd.grad if lib == "axonic" else torch.autograd.grad
        d = _mlp(x, params, lib)
        (g,) = grad(d.sum(), [x], create_graph=True)
        penalty = ((((g * g).sum(1) + 1e-12).sqrt() - 1) ** 2).mean()
        penalty.backward()
    for (aw, ab), (tw, tb) in zip(ours, theirs):
        _close(aw.grad, tw.grad, rtol=1e-9)
        _close(ab.grad, tb.grad, rtol=1e-9)


@requires_torch
def test_one_maml_inner_step_meta_gradient_matches_torch():
    rng = np.random.default_rng(2)
    ours, theirs = _params(_mlp_weights(rng, [3, 16, 2]))
    xs, ys = rng.normal(size=(5, 3)), rng.integers(0, 2, 5)
    xq, yq = rng.normal(size=(7, 3)), rng.integers(0, 2, 7)
    inner_lr = 0.4
    for lib, params in (("axonic", ours), ("torch", theirs)):
        mod = axonic if lib == "axonic" else torch
        ce = F.cross_entropy if lib == "axonic" else torch.nn.functional.cross_entropy
        grad = axonic.autograd.grad if lib == "axonic" else torch.autograd.grad
        flat = [p for wb in params for p in wb]
        x1 = mod.tensor(xs, dtype=mod.float64)
        support = ce(_mlp(x1, params, lib), mod.tensor(ys))
        grads = grad(support, flat, create_graph=True)
        fast = [p - inner_lr * g for p, g in zip(flat, grads)]
        fast = list(zip(fast[0::2], fast[1::2]))
        x2 = mod.tensor(xq, dtype=mod.float64)
        query = ce(_mlp(x2, fast, lib), mod.tensor(yq))
        query.backward()
    for (aw, ab), (tw, tb) in zip(ours, theirs):
        _close(aw.grad, tw.grad, rtol=1e-9)
        _close(ab.grad, tb.grad, rtol=1e-9)


def _cubic(t):
    return (t ** 3).sum() + (t[:-1] * t[1:]).sum() + t.sin().sum()


@requires_torch
def test_autograd_functional_matches_torch():
    rng = np.random.default_rng(3)
    xv, vv = rng.normal(size=4), rng.normal(size=4)
    x, xt = _pair(xv, requires_grad=False)
    v, vt = _pair(vv, requires_grad=False)
    TF = torch.autograd.functional
    for ours, theirs in [
        (AF.hvp(_cubic, x, v), TF.hvp(_cubic, xt, vt)),
        (AF.vhp(_cubic, x, v), TF.vhp(_cubic, xt, vt)),
        (AF.vjp(lambda t: t.sin() * t, x, v), TF.vjp(lambda t: t.sin() * t, xt, vt)),
        (AF.jvp(lambda t: t.sin() * t, x, v), TF.jvp(lambda t: t.sin() * t, xt, vt)),
    ]:
        for a, b in zip(ours, theirs):
            _close(a, b)
    _close(AF.hessian(_cubic, x), TF.hessian(_cubic, xt))
    _close(AF.jacobian(lambda t: t.sin() * t.sum(), x),
           TF.jacobian(lambda t: t.sin() * t.sum(), xt))


@requires_torch
def test_jacobian_and_hessian_of_tuples_have_torch_structure():
    a, at = _pair([1.0, 2.0], requires_grad=False)
    b, bt = _pair([0.5, -1.0, 3.0], requires_grad=False)

    def f(p, q):
        return (p.sum() * q).exp()

    ours, theirs = AF.jacobian(f, (a, b)), torch.autograd.functional.jacobian(f, (at, bt))
    assert len(ours) == len(theirs) == 2
    for o, t in zip(ours, theirs):
        assert tuple(o.shape) == tuple(t.shape)
        _close(o, t)

    def g(p, q):
        return (p.sum() * q).exp().sum()

    ours, theirs = AF.hessian(g, (a, b)), torch.autograd.functional.hessian(g, (at, bt))
    for row_o, row_t in zip(ours, theirs):
        for o, t in zip(row_o, row_t):
            assert tuple(o.shape) == tuple(t.shape)
            _close(o, t)


def test_hvp_needs_a_scalar_function():
    x = axonic.ones(3, dtype=f64)
    with pytest.raises(RuntimeError, match="hvp: the function must return a tensor with one"):
        AF.hvp(lambda t: t * 2, x, x)


def test_vjp_v_shape_is_checked():
    x = axonic.ones(3, dtype=f64)
    with pytest.raises(RuntimeError, match=r"vjp: v\[0\] has shape \(2,\)"):
        AF.vjp(lambda t: t * 2, x, axonic.ones(2, dtype=f64))


# --- one traversal: backward(inputs=), grad() leaves nothing behind -------------------------

@requires_torch
def test_backward_with_inputs_fills_only_those_grads_as_torch():
    (w, wt), (b, bt) = _pair([1.0, 2.0]), _pair([0.5, 0.5])
    for p, q in ((w, b), (wt, bt)):
        h = p * q
        (h.exp() * p).sum().backward(inputs=[p])
    _close(w.grad, wt.grad)
    assert b.grad is None and bt.grad is None


@requires_torch
def test_backward_with_a_non_leaf_input_fills_its_grad():
    (x, xt) = _pair([0.2, -0.3])
    ys = []
    for v in (x, xt):
        y = v.tanh()
        (y * y).sum().backward(inputs=[y])
        ys.append(y)
    _close(ys[0].grad, ys[1].grad)
    assert x.grad is None and xt.grad is None


def test_autograd_backward_with_inputs_fills_w_grad():
    w = axonic.tensor([1.0, -1.0], requires_grad=True)
    x = axonic.tensor([3.0, 4.0], requires_grad=True)
    loss = (w * x).sum()
    axonic.autograd.backward(loss, inputs=[w])
    np.testing.assert_allclose(w.grad.numpy(), [3.0, 4.0])
    assert x.grad is None


def test_grad_leaves_nothing_on_graph_nodes():
    x = axonic.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    z = (y * y).sum()
    before = {id(f): dict(vars(f)) for f in (y.grad_fn, z.grad_fn)}
    axonic.autograd.grad(z, [y, x], retain_graph=True)
    for f in (y.grad_fn, z.grad_fn):
        assert vars(f).keys() == before[id(f)].keys()
    assert x.grad is None and y.grad is None


def test_create_graph_keeps_the_graph_for_another_backward():
    x = axonic.tensor([1.0, 2.0], dtype=f64, requires_grad=True)
    y = (x * x * x).sum()
    (g,) = axonic.autograd.grad(y, [x], create_graph=True)
    y.backward()  # retain_graph defaults to create_graph, as in PyTorch
    np.testing.assert_allclose(x.grad.numpy(), 3 * np.array([1.0, 4.0]))
    assert g.requires_grad


def test_gradgradcheck_catches_a_wrong_second_derivative():
    class ConstantSlope(axonic.autograd.Function):
        def forward(self, x):
            self.save_for_backward(x)
            return x * x

        def backward(self, g):
            (x,) = self.saved_tensors
            x = x._data if isinstance(x, axonic.Tensor) else x  # cut from the graph: wrong
            return g * 2 * x

    x = axonic.tensor([0.7, -0.4], dtype=f64, requires_grad=True)
    assert axonic.autograd.gradcheck(ConstantSlope.apply, (x,))  # first order is right
    with pytest.raises(axonic.autograd.GradcheckError):
        axonic.autograd.gradgradcheck(ConstantSlope.apply, (x,))


def test_gradgradcheck_passes_on_a_custom_function_written_with_xp():
    class Sin(axonic.autograd.Function):
        def forward(self, x):
            self.save_for_backward(x)
            return self.xp.sin(x)

        def backward(self, g):
            (x,) = self.saved_tensors
            return g * self.xp.cos(x)

    x = axonic.tensor([0.7, -0.4, 1.3], dtype=f64, requires_grad=True)
    assert axonic.autograd.gradgradcheck(Sin.apply, (x,))


def test_gradgradcheck_errors_name_what_is_missing():
    x = axonic.tensor([0.5, 1.0], dtype=f64)
    with pytest.raises(ValueError, match="gradgradcheck: no input tensor has requires_grad"):
        axonic.autograd.gradgradcheck(lambda t: t * t, (x,))
    x.requires_grad = True
    with pytest.raises(ValueError, match="gradgradcheck: no output of the function requires"):
        axonic.autograd.gradgradcheck(lambda t: t.detach() * 2.0, (x,))
    with pytest.raises(ValueError, match="gradgradcheck: the first gradients do not depend"):
        axonic.autograd.gradgradcheck(lambda t: t * 2.0, (x,),
                                      grad_outputs=(axonic.ones(2, dtype=f64),))
    with pytest.raises(ValueError, match="gradcheck: the function returned no tensor"):
        axonic.autograd.gradcheck(lambda t: (), (x,))
