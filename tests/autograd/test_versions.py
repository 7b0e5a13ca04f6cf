"""The version counter: changing a saved tensor in place after the forward is caught at
backward, naming the op; views and detached tensors share their base's counter."""

import numpy as np
import pytest

import axonic


def test_modifying_saved_output_in_place_names_the_op():
    x = axonic.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()  # Exp saves its output
    with axonic.no_grad():
        y.add_(1)
    with pytest.raises(RuntimeError, match=r"output of 'Exp' is needed for backward but was "
                                           r"modified by an in-place operation"):
        y.sum().backward()


def test_modifying_saved_input_in_place_names_the_op():
    x = axonic.tensor([1.0, 2.0], requires_grad=True)
    w = axonic.tensor([3.0, 4.0])  # no grad, but Mul saved it to compute x's gradient
    y = x * w
    w.add_(1)
    with pytest.raises(RuntimeError, match=r"needed by 'Mul' for backward was modified by an "
                                           r"in-place operation: it is at version 1, expected "
                                           r"version 0"):
        y.sum().backward()


def test_in_place_change_to_an_unsaved_input_is_fine():
    x = axonic.tensor([1.0, 2.0], requires_grad=True)
    b = axonic.tensor([3.0, 4.0])
    y = x + b  # Add saves nothing
    b.mul_(10)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])


def test_views_share_the_version_counter():
    base = axonic.tensor([[3.0, 4.0]])
    view = base.view(2)
    t = base.T
    item = base[0]
    assert view._version == t._version == item._version == 0
    base.add_(1)
    assert view._version == t._version == item._version == base._version == 1
    view.mul_(2)
    assert base._version == 2


def test_changing_the_base_of_a_saved_view_is_caught():
    x = axonic.tensor([1.0, 2.0], requires_grad=True)
    w = axonic.tensor([[3.0, 4.0]])
    y = x * w.view(2)
    w.add_(1)
    with pytest.raises(RuntimeError, match="needed by 'Mul'"):
        y.sum().backward()


def test_changing_a_view_of_a_saved_tensor_is_caught():
    x = axonic.tensor([1.0, 2.0], requires_grad=True)
    w = axonic.tensor([3.0, 4.0])
    y = x * w
    w[0:1].fill_(0.0)
    with pytest.raises(RuntimeError, match="needed by 'Mul'"):
        y.sum().backward()


def test_detach_shares_the_version_counter():
    x = axonic.tensor([1.0, 2.0], requires_grad=True)
    y = x.sigmoid()
    y.detach().zero_()
    with pytest.raises(RuntimeError, match="output of 'Sigmoid'"):
        y.sum().backward()


def test_setitem_bumps_the_version():
    x = axonic.tensor([1.0, 2.0], requires_grad=True)
    w = axonic.tensor([3.0, 4.0])
    y = x * w
    w[1] = 7.0
    assert w._version == 1
    with pytest.raises(RuntimeError, match="needed by 'Mul'"):
        y.sum().backward()


def test_in_place_on_leaf_requiring_grad_is_refused():
    x = axonic.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"add_: a leaf Variable that requires grad is being "
                                           r"used in an in-place operation"):
        x.add_(1)
    with axonic.no_grad():
        x.add_(1)  # the optimizer's way
    assert x.item() == 2.0


def test_in_place_on_graph_tensor_is_recorded_and_moves_the_version():
    x = axonic.tensor([1.0], requires_grad=True)
    y = x * 2
    y.mul_(3)
    assert y._version == 1 and type(y.grad_fn).__name__ == "Mul"
    y.sum().backward()
    assert x.grad.tolist() == [6.0]


def test_grad_accumulation_bumps_grad_version():
    x = axonic.tensor([1.0], requires_grad=True)
    (x * 2).sum().backward()
    v = x.grad._version
    (x * 2).sum().backward()
    assert x.grad._version == v + 1
