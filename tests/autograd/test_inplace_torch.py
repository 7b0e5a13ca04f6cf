"""In-place ops side by side with PyTorch: the same program on both libraries gives the same
values, gradients and version counters, and raises where PyTorch raises.

Each case is ``case(lib, w) -> (out, watched)``: ``w`` is a leaf that requires grad, ``out``
is summed and differentiated, ``watched`` are tensors whose values and ``_version`` are
compared after the backward.
"""

import numpy as np
import pytest

import axonic
from tests.conftest import requires_torch, torch

pytestmark = requires_torch

W = np.array([0.5, -1.0, 2.0, 3.0], np.float32)


def _F(lib):
    return axonic.nn.functional if lib is axonic else torch.nn.functional


def _nn(lib):
    return axonic.nn if lib is axonic else torch.nn


def _no_grad(lib):
    return lib.no_grad()


# --- cases that work: values, gradients and versions as in PyTorch ------------------------
def add_sub_mul_div(lib, w):
    y = w * 2
    y.add_(w, alpha=3).sub_(1.5).mul_(w).div_(w.abs() + 1)
    return y, [y]


def augmented_assignment_keeps_the_object(lib, w):
    y = w * 2
    alias = y
    shared = y.detach()  # shares memory: sees every change
    y += w
    y -= 0.5
    y *= w
    y /= 4
    assert y is alias
    return y, [y, shared]


def earlier_consumer_sees_the_old_value(lib, w):
    y = w * 1
    a = y + 2  # took y before the change
    y.mul_(3)
    return a * 10 + y, [y, a]


def earlier_product_keeps_only_what_it_needs(lib, w):
    y = w * 1
    a = y * 2  # keeps 2, not y (y's gradient needs only the other side)
    q = y / 4  # keeps 4 and nothing of y
    y.mul_(3)
    return a + q + y, [y, a, q]


def chain_of_in_place_ops(lib, w):
    y = w * 1
    y.add_(1).mul_(2).sigmoid_()
    return y * w, [y]


def tensor_plus_itself(lib, w):
    y = w * 1
    y.add_(y)
    return y, [y]


def op_that_reads_the_tensor_inside_its_operand(lib, w):
    y = w * 1
    y.mul_(y.sigmoid())
    return y, [y]


def accumulate_into_a_plain_buffer(lib, w):
    acc = lib.zeros(4)
    acc += w * w
    acc += w
    return acc, [acc]


def clamp_relu_tanh_sigmoid(lib, w):
    a = (w * 3).clamp_(-1.0, 4.0) * w
    b = (w * 1).relu_() * w
    c = (w * 1).tanh_() * 2
    d = (w * 1).sigmoid_() * w
    return a + b + c + d, []


def masked_fill_fill_zero_copy(lib, w):
    a = (w * 3).masked_fill_(w > 1, 0.0) * w
    b = (w * 2).fill_(3.0) + w
    c = (w * 2).zero_() + w * w
    d = lib.zeros(4)
    d.copy_(w * 3)
    return a + b + c + d * d, [d]


def setitem_with_a_grad_value(lib, w):
    y = w * 2
    y[1] = w[0] * w[3]
    y[2:] = w[:2].exp()
    y[y.detach() < 0] = 0.0
    out = lib.zeros(2, 4)
    out[1] = y
    out[0, lib.tensor([0, 2])] = w[1:3]
    return out * out, [y, out]


def view_of_one_element(lib, w):
    y = w * 1
    y[0].mul_(2)
    return y * y, [y]


def slice_view(lib, w):
    y = w * 1
    y[1:3].add_(w[:2] * 5)
    return y * y, [y]


def reshaped_view(lib, w):
    y = w * 1
    y.view(2, 2).add_(1)
    return y * y, [y]


def transposed_view(lib, w):
    y = w * 1
    y.view(2, 2).t()[0].zero_()
    return y * w, [y]


def column_of_a_matrix(lib, w):
    y = w.reshape(2, 2) * 1
    y[:, 1].mul_(w[:2])
    return y * y, [y]


def view_used_after_its_change(lib, w):
    y = w * 1
    v = y[1:3]
    v.mul_(3)
    return v * v + y.sum(), [y, v]


def view_of_a_view(lib, w):
    y = w * 1
    row = y.view(2, 2)[0]
    row.mul_(3)
    return y + (row * y[:2]).sum(), [y, row]


def view_of_a_reshape_that_copied(lib, w):
    y = w.reshape(2, 2) * 1
    z = y.t().reshape(4)  # not contiguous: the reshape copies, z owns its memory
    z[1:3].mul_(w[:2])
    # y's values are compared through the output; its version is not: axonic's reshape
    # shares the version counter even when it copies
    return z * z + y.reshape(4), [z]


def view_of_a_plain_buffer(lib, w):
    buf = lib.zeros(2, 3)
    buf[:, 1].add_(w[:2] * 2)
    return buf * buf, [buf]


def view_written_with_itself(lib, w):
    y = w * 1
    y[:2].add_(y[:2])
    return y * w, [y]


def sibling_view_made_before_the_change(lib, w):
    y = w * 1
    a, b = y[0:2], y[1:3]  # overlapping views
    a.mul_(3)  # b reads the changed memory
    return b * lib.tensor([1.0, 10.0]), [y, b]


def view_made_before_its_base_changed(lib, w):
    y = w * 1
    v = y.view(2, 2)[1]
    y.add_(w)
    return v * v, [y, v]


def view_used_before_and_after_the_change(lib, w):
    y = w * 1
    v = y.view(2, 2).t()
    before = v + 1  # took v before the change
    y[0:3].mul_(4)
    return (before * 5 + v * v).reshape(4), [y, v, before]


def sigmoid_output_kept_while_the_input_changes(lib, w):
    y = w * 1
    z = y.sigmoid()  # keeps its output, not y
    y.mul_(2)
    return z + y, [y, z]


def relu_module_in_place(lib, w):
    x = w * 1
    r = _nn(lib).ReLU(inplace=True)(x)
    assert r is x
    return x * w, [x]


def functional_activations_in_place(lib, w):
    F = _F(lib)
    a = w * 2.5
    assert F.relu(a, inplace=True) is a
    b = w * 2.5
    F.hardtanh(b, -1.0, 2.0, inplace=True)
    c = w * 2.5
    F.relu6(c, inplace=True)
    d = w * 2.5
    F.threshold(d, 1.0, -7.0, inplace=True)
    return (a + b + c + d) * w, [a, b, c, d]


def network_with_in_place_relu(lib, w):
    lib.manual_seed(0)
    x = lib.tensor(np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4))
    h = x * w  # a layer's output
    h += x  # residual, then ReLU(inplace=True) as in torchvision's blocks
    h = _nn(lib).ReLU(inplace=True)(h)
    return h * h, [h]


def optimizer_style_update_under_no_grad(lib, w):
    loss = (w * w).sum()
    loss.backward()
    with _no_grad(lib):
        w.add_(w.grad, alpha=-0.1)
        w.grad.zero_()
        w.mul_(0.5)
    return w * 1, [w]


WORKING = [add_sub_mul_div, augmented_assignment_keeps_the_object,
           earlier_consumer_sees_the_old_value, earlier_product_keeps_only_what_it_needs,
           chain_of_in_place_ops, tensor_plus_itself,
           op_that_reads_the_tensor_inside_its_operand, accumulate_into_a_plain_buffer,
           clamp_relu_tanh_sigmoid, masked_fill_fill_zero_copy, setitem_with_a_grad_value,
           view_of_one_element, slice_view, reshaped_view, transposed_view,
           column_of_a_matrix, view_used_after_its_change, view_of_a_view,
           view_of_a_reshape_that_copied, view_of_a_plain_buffer, view_written_with_itself,
           sibling_view_made_before_the_change, view_made_before_its_base_changed,
           view_used_before_and_after_the_change,
           sigmoid_output_kept_while_the_input_changes, relu_module_in_place,
           functional_activations_in_place, network_with_in_place_relu,
           optimizer_style_update_under_no_grad]


def _run(lib, case):
    w = lib.tensor(W, requires_grad=True)
    out, watched = case(lib, w)
    out.sum().backward()
    grad = None if w.grad is None else w.grad.numpy().copy()
    return (grad, [t.detach().numpy().copy() for t in watched],
            [t._version for t in watched])


@pytest.mark.parametrize("case", WORKING, ids=lambda c: c.__name__)
def test_in_place_matches_torch(case):
    grad, values, versions = _run(axonic, case)
    t_grad, t_values, t_versions = _run(torch, case)
    np.testing.assert_allclose(grad, t_grad, rtol=1e-5, atol=1e-6)
    for a, b in zip(values, t_values, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert versions == t_versions


# --- cases PyTorch refuses: axonic refuses them too, with its own message -------------------
def in_place_on_a_leaf(lib, w):
    w.add_(1)


def in_place_on_a_view_of_a_leaf(lib, w):
    w[1:].mul_(2)


def in_place_on_a_reshaped_leaf(lib, w):
    w.view(2, 2).zero_()


def setitem_on_a_leaf(lib, w):
    w[0] = 1.0


def changed_saved_output(lib, w):
    y = w.exp()  # keeps its output
    y.add_(1)
    y.sum().backward()


def changed_saved_input(lib, w):
    y = w * 1
    z = y * w  # keeps y for w's gradient
    y.add_(1)
    z.sum().backward()


def changed_output_of_an_in_place_sigmoid(lib, w):
    y = (w * 1).sigmoid_()
    y.mul_(2)
    y.sum().backward()


def relu_after_in_place_tanh(lib, w):
    y = (w * 1).tanh_().relu_()
    y.sum().backward()


def tensor_times_itself_in_place(lib, w):
    y = w * 1
    y.mul_(y)
    y.sum().backward()


def changed_saved_tensor_through_a_view(lib, w):
    y = w * 1
    z = y * w
    y[1:3].zero_()
    z.sum().backward()


def changed_saved_tensor_through_detach(lib, w):
    y = w.sigmoid()
    y.detach().zero_()
    y.sum().backward()


def view_made_under_no_grad(lib, w):
    y = w * 1
    with _no_grad(lib):
        v = y[:2]
    v.mul_(2)


def in_place_on_an_expanded_view(lib, w):
    (w * 1)[:1].expand(3).add_(1)


def changed_output_of_an_in_place_relu(lib, w):
    h = _nn(lib).ReLU(inplace=True)(w * 1)  # keeps its output: h itself
    h += 1
    h.sum().backward()


def float_result_into_an_integer_tensor(lib, w):
    n = lib.tensor([1, 2])
    n /= 2


REFUSED = [
    (in_place_on_a_leaf, "add_: a leaf Variable that requires grad is being used in an "
                         "in-place operation"),
    (in_place_on_a_view_of_a_leaf, "a view of a leaf Variable that requires grad is being used "
                                   "in an in-place operation"),
    (in_place_on_a_reshaped_leaf, "a view of a leaf Variable that requires grad"),
    (setitem_on_a_leaf, "__setitem__: a leaf Variable that requires grad"),
    (changed_saved_output, r"output of 'Exp' is needed for backward but was modified by an "
                           r"in-place operation \(now at version 1, expected 0\)"),
    (changed_saved_input, r"needed by 'Mul' for backward was modified by an in-place "
                          r"operation: it is at version 1, expected version 0"),
    (changed_output_of_an_in_place_sigmoid, r"output of 'Sigmoid' is needed .*now at version "
                                            r"2, expected 1"),
    (relu_after_in_place_tanh, "output of 'Tanh' is needed for backward"),
    (tensor_times_itself_in_place, r"needed by 'Mul' .* at version 1, expected version 0"),
    (changed_saved_tensor_through_a_view, "needed by 'Mul'"),
    (changed_saved_tensor_through_detach, "output of 'Sigmoid'"),
    (view_made_under_no_grad, "A view was created in no_grad mode and is being modified "
                              "inplace with grad mode enabled"),
    (in_place_on_an_expanded_view, "add_: this tensor is a read-only view .* share one memory "
                                   "location"),
    (changed_output_of_an_in_place_relu, r"output of 'Relu' is needed .*now at version 2, "
                                         r"expected 1"),
    (float_result_into_an_integer_tensor, "div_: the result has dtype float64, which can't be "
                                          "stored in place in a tensor of dtype int64"),
]


@pytest.mark.parametrize("case,message", REFUSED, ids=lambda c: getattr(c, "__name__", ""))
def test_refused_where_torch_refuses(case, message):
    with pytest.raises((RuntimeError, TypeError, ValueError)):
        case(torch, torch.tensor(W, requires_grad=True))
    with pytest.raises((RuntimeError, TypeError, ValueError), match=message):
        case(axonic, axonic.tensor(W, requires_grad=True))


def test_leaf_may_change_under_no_grad_and_its_version_moves():
    versions = []
    for lib in (axonic, torch):
        w = lib.tensor(W, requires_grad=True)
        with lib.no_grad():
            w[0] = 1.0
            w.view(2, 2).mul_(2)
            w += 1
        assert w.is_leaf and w.requires_grad
        versions.append((w._version, w.detach().numpy().tolist()))
    assert versions[0] == versions[1]


def test_retained_grad_follows_the_tensor_through_an_in_place_op():
    grads = []
    for lib in (axonic, torch):
        y = lib.tensor(W, requires_grad=True) * 1
        y.retain_grad()
        y.mul_(2)
        (y * 3).sum().backward()
        assert y.retains_grad
        grads.append(y.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])


@pytest.mark.parametrize("hook_first", [True, False])
def test_tensor_hook_sees_the_gradient_torch_gives_it(hook_first):
    seen = {}
    for lib in (axonic, torch):
        y = lib.tensor(W, requires_grad=True) * 1
        got = seen.setdefault(lib.__name__, [])
        if hook_first:  # registered before the change: the gradient of the old value
            y.register_hook(lambda g, got=got: got.append(g.tolist()))
        y.mul_(3)
        if not hook_first:
            y.register_hook(lambda g, got=got: got.append(g.tolist()))
        (y * lib.tensor([5.0, 7.0, 1.0, 2.0])).sum().backward()
    assert seen["axonic"] == seen["torch"]
