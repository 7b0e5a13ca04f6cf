"""The Flower adapter's parts that need no Flower: weights in and out, clear errors."""
import sys

import numpy as np
import pytest

import axonic
from axonic import nn, optim
from axonic.federated.flower import get_weights, set_weights, to_numpy_client


def test_weights_travel_as_the_state_dict_in_order_buffers_included():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    weights = get_weights(model)
    assert [w.shape for w in weights] == [tuple(v.shape) for v in model.state_dict().values()]
    other = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    set_weights(other, weights)
    for a, b in zip(get_weights(other), weights):
        np.testing.assert_array_equal(a, b)
    weights[0][...] = 0  # the arrays handed out are copies
    assert float(np.abs(model[0].weight.detach().numpy()).sum()) > 0


def test_a_wrong_number_of_arrays_is_refused_by_name():
    with pytest.raises(ValueError, match=r"flower: received 1 arrays but the model has 2 "
                                         r"state_dict entries \(weight, bias\)"):
        set_weights(nn.Linear(2, 2), [np.zeros((2, 2), np.float32)])


def test_without_flower_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "flwr", None)  # as if it were not installed
    model = nn.Linear(2, 2)
    with pytest.raises(ImportError, match=r"pip install 'axonic\[federated\]'"):
        to_numpy_client(model, (axonic.zeros(4, 2), axonic.zeros(4, dtype=axonic.int64)),
                        nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1))
