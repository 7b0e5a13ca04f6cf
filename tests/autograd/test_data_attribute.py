"""``Tensor.data`` as PyTorch has it: a tensor outside the graph sharing memory."""
import numpy as np
import pytest

import axonic
from axonic.nn import Parameter


def test_data_is_a_detached_tensor_sharing_memory():
    p = Parameter(axonic.tensor([1.0, 2.0]))
    d = p.data
    assert isinstance(d, axonic.Tensor) and not isinstance(d, Parameter)
    assert not d.requires_grad and d.grad_fn is None
    d.add_(axonic.tensor([1.0, 1.0]), alpha=-0.5)  # the classic hand-written SGD step
    assert p.tolist() == [0.5, 1.5]


def test_changes_through_data_are_not_seen_by_autograd():
    w = axonic.tensor([2.0, 3.0], requires_grad=True)
    y = (w * w).sum()
    w.data.mul_(10.0)  # PyTorch: no version bump, backward uses the new values
    y.backward()
    np.testing.assert_allclose(w.grad.numpy(), [40.0, 60.0])


def test_assigning_data_replaces_the_values_and_shape():
    p = Parameter(axonic.zeros(2, 3))
    p.data = axonic.ones(4)
    assert p.shape == (4,) and p.requires_grad and p.tolist() == [1.0] * 4


def test_assigning_something_else_than_a_tensor_is_refused():
    p = Parameter(axonic.zeros(2))
    with pytest.raises(TypeError, match=r"Tensor.data: expected a Tensor.*got ndarray"):
        p.data = np.ones(2)
