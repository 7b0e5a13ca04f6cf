"""Anomaly mode names the first op whose forward output or backward gradient is not finite."""

import numpy as np
import pytest

import axonic
from axonic.autograd import AnomalyError, detect_anomaly, is_anomaly_enabled


@pytest.fixture(autouse=True)
def _quiet():
    with np.errstate(all="ignore"):  # the NaN/inf are the point of these tests
        yield


def test_anomaly_names_op_in_forward():
    x = axonic.tensor([-1.0, 1.0], requires_grad=True)
    with detect_anomaly():
        y = x * 2  # finite: no complaint
        with pytest.raises(AnomalyError, match=r"Function 'Log' returned nan values in its "
                                               r"forward output"):
            y.log()


def test_anomaly_names_first_op_not_a_later_one():
    x = axonic.tensor([1e30, 1.0])
    with detect_anomaly():
        with pytest.raises(AnomalyError, match="'Mul' returned inf"):
            ((x * 1e30) - 1).exp()


def test_anomaly_names_op_in_backward():
    x = axonic.tensor([0.0, 4.0], requires_grad=True)
    with detect_anomaly():
        y = x.sqrt().sum()  # forward is finite: sqrt(0) = 0
        with pytest.raises(AnomalyError, match=r"Function 'Sqrt' returned inf values in its "
                                               r"backward gradient for input 0"):
            y.backward()


def test_without_anomaly_mode_nan_passes_silently():
    x = axonic.tensor([0.0], requires_grad=True)
    x.sqrt().sum().backward()
    assert np.isinf(x.grad.item())
    assert np.isnan(axonic.tensor([-1.0]).log().item())


def test_detect_anomaly_as_decorator_and_state():
    @detect_anomaly()
    def f(t):
        assert is_anomaly_enabled()
        return t.log()

    assert not is_anomaly_enabled()
    with pytest.raises(AnomalyError, match="'Log'"):
        f(axonic.tensor([-2.0]))
    assert not is_anomaly_enabled()


def test_detect_anomaly_check_nan_false_turns_it_off():
    with detect_anomaly(check_nan=False):
        out = axonic.tensor([-1.0]).log()
    assert np.isnan(out.item())
