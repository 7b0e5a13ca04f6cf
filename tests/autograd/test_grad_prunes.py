"""``autograd.grad`` and ``backward(inputs=)`` run only the part of the graph that leads to
the tensors asked for, as PyTorch's engine does."""
import numpy as np

import axonic
from axonic.autograd.function import Function


class Counted(Function):
    calls = 0

    def forward(self, x):
        return x * 3

    def backward(self, g):
        type(self).calls += 1
        return g * 3


def test_grad_skips_branches_that_do_not_lead_to_its_inputs():
    Counted.calls = 0
    x = axonic.randn(3, requires_grad=True)
    w = axonic.randn(3, requires_grad=True)
    out = (x.exp() * Counted.apply(w)).sum()
    (gx,) = axonic.autograd.grad(out, [x])
    assert Counted.calls == 0
    np.testing.assert_allclose(gx.numpy(), (x.exp() * 3 * w).detach().numpy(), rtol=1e-6)


def test_the_skipped_branch_is_not_freed_and_backward_inputs_prunes_too():
    Counted.calls = 0
    x = axonic.randn(3, requires_grad=True)
    w = axonic.randn(3, requires_grad=True)
    branch = Counted.apply(w)
    out = (x.exp() * branch).sum()
    out.backward(inputs=[x])
    assert Counted.calls == 0 and w.grad is None and x.grad is not None
    assert branch.grad_fn.inputs is not None  # still usable by another graph
    (branch * 2).sum().backward()
    assert Counted.calls == 1
    np.testing.assert_allclose(w.grad.numpy(), np.full(3, 6.0))


def test_asking_again_through_a_freed_node_names_the_second_backward():
    x = axonic.randn(3, requires_grad=True)
    w = axonic.randn(3, requires_grad=True)
    out = (x.exp() * w.sin()).sum()
    axonic.autograd.grad(out, [x])
    import pytest

    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        axonic.autograd.grad(out, [w])
