"""Issue 12 findings on layers and losses given bad inputs, each compared with PyTorch:
where PyTorch refuses, axonic refuses with an error naming the layer or op; where PyTorch
warns, axonic warns; nothing surfaces as a raw NumPy error."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import axonic
import axonic.nn.functional as F
from axonic import nn


def torch_refuses(fn) -> bool:
    try:
        fn()
    except (RuntimeError, NotImplementedError, ValueError, TypeError):
        return True
    return False


@pytest.mark.parametrize("name, ours, theirs, match", [
    ("mse_loss", lambda x: F.mse_loss(x, x), lambda x: TF.mse_loss(x, x),
     "mean: input dtype must be floating point|mse_loss: expected a floating-point"),
    ("l1_loss", lambda x: F.l1_loss(x, x), lambda x: TF.l1_loss(x, x),
     "l1_loss: expected a floating-point"),
    ("huber_loss", lambda x: F.huber_loss(x, x), lambda x: TF.huber_loss(x, x),
     "huber_loss: expected a floating-point"),
    ("binary_cross_entropy", lambda x: F.binary_cross_entropy(x, x),
     lambda x: TF.binary_cross_entropy(x, x), "binary_cross_entropy: expected a floating"),
    ("bce_with_logits", lambda x: F.binary_cross_entropy_with_logits(x, x),
     lambda x: TF.binary_cross_entropy_with_logits(x, x), "with_logits: expected a floating"),
    ("AdaptiveAvgPool2d", lambda x: nn.AdaptiveAvgPool2d(1)(x.reshape(1, 1, 2, 2)),
     lambda x: TF.adaptive_avg_pool2d(x.reshape(1, 1, 2, 2), 1),
     "AdaptiveAvgPool2d: expected a floating-point input, got dtype int64"),
    ("Linear", lambda x: nn.Linear(4, 2)(x), lambda x: torch.nn.Linear(4, 2)(x),
     "Linear: expected input of dtype float32"),
])
def test_integer_dtypes_are_refused_where_pytorch_refuses(name, ours, theirs, match):
    assert torch_refuses(lambda: theirs(torch.ones(4, dtype=torch.long)))
    with pytest.raises((TypeError, ValueError), match=match):
        ours(axonic.ones(4, dtype=axonic.int64))


def test_avgpool2d_on_an_integer_tensor_is_a_clear_error_not_a_numpy_one():
    with pytest.raises(TypeError, match="AvgPool2d: expected a floating-point input, got "
                                        "dtype int64; convert it with .float()"):
        nn.AvgPool2d(2)(axonic.ones(1, 1, 4, 4, dtype=axonic.int64))


@pytest.mark.parametrize("target", [2.0, -1.0])
def test_bce_refuses_targets_outside_0_1_like_pytorch(target):
    p, t = np.full(4, 0.5, np.float32), np.full(4, target, np.float32)
    assert torch_refuses(lambda: TF.binary_cross_entropy(torch.tensor(p), torch.tensor(t)))
    with pytest.raises(ValueError, match=r"BCELoss: target must hold values in \[0, 1\]"):
        nn.BCELoss()(axonic.tensor(p), axonic.tensor(t))


def test_bce_refuses_nan_inputs_like_pytorch():
    p, t = np.array([np.nan, 0.5], np.float32), np.array([1.0, 0.0], np.float32)
    assert torch_refuses(lambda: TF.binary_cross_entropy(torch.tensor(p), torch.tensor(t)))
    with pytest.raises(ValueError, match=r"BCELoss: input must hold probabilities in \[0, 1\]"):
        nn.BCELoss()(axonic.tensor(p), axonic.tensor(t))


@pytest.mark.parametrize("loss", ["MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss"])
def test_regression_losses_warn_on_broadcasting_targets_like_pytorch(loss):
    x, y = np.ones((4, 1), np.float32), np.zeros(4, np.float32)
    with pytest.warns(UserWarning, match="target size"):
        getattr(torch.nn, loss)()(torch.tensor(x), torch.tensor(y))
    with pytest.warns(UserWarning, match=r"using a target of shape \(4,\) that differs from "
                                         r"the input's shape \(4, 1\); they broadcast to "
                                         r"\(4, 4\)"):
        ours = getattr(nn, loss)()(axonic.tensor(x), axonic.tensor(y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = getattr(torch.nn, loss)()(torch.tensor(x), torch.tensor(y))
    assert float(ours.item()) == pytest.approx(float(theirs.item()))


def test_same_shapes_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.MSELoss()(axonic.ones(4, 1), axonic.zeros(4, 1))


def test_linear_too_large_for_memory_is_a_memory_error_naming_the_layer():
    with pytest.raises(MemoryError, match=r"Linear\(2147483648, 2147483648\): weight: shape "
                                          r"\(2147483648, 2147483648\) needs .* GiB, more "
                                          "than this machine's"):
        nn.Linear(2**31, 2**31)


@pytest.mark.parametrize("fn", ["zeros", "ones", "empty", "rand"])
def test_creation_too_large_for_memory_is_a_memory_error_naming_the_function(fn):
    with pytest.raises(MemoryError, match=rf"{fn}: shape \(1099511627776,\) needs 1024 GiB"):
        getattr(axonic, fn)(2**40)


def test_the_harness_deadline_raises_and_puts_back_an_outer_timer():
    import signal
    import time

    from tests.fuzz.harness import deadline

    def outer_alarm(*_):
        raise AssertionError("the outer timer fired")
    old = signal.signal(signal.SIGALRM, outer_alarm)
    signal.setitimer(signal.ITIMER_REAL, 100)
    try:
        with pytest.raises(TimeoutError, match="hang"), deadline(0.05):
            time.sleep(1)
        with deadline(5):
            pass
        left = signal.getitimer(signal.ITIMER_REAL)[0]
        assert signal.getsignal(signal.SIGALRM) is outer_alarm
        assert 98 < left <= 100
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
