"""L2Penalty: the weights only (2-D and up, trainable), its value and its gradient."""

import numpy as np
import pytest

import axonic
from axonic import nn
from axonic.train import L2Penalty


def model():
    axonic.manual_seed(0)
    return nn.Sequential(nn.Embedding(5, 3), nn.Flatten(), nn.Linear(6, 4), nn.BatchNorm1d(4),
                         nn.Linear(4, 2))


def test_l2_covers_weight_matrices_only_not_biases_or_norm_scales():
    m = model()
    covered = {id(p) for p in L2Penalty.weights(m)}
    names = [k for k, p in m.named_parameters() if id(p) in covered]
    assert names == ["0.weight", "2.weight", "4.weight"]


def test_l2_value_is_weight_times_sum_of_squares_over_the_divisor():
    m = model()
    expected = sum(float((p.detach().numpy().astype(np.float64) ** 2).sum())
                   for p in L2Penalty.weights(m))
    assert float(L2Penalty(0.01)(m).item()) == pytest.approx(0.01 * expected, rel=1e-6)
    assert float(L2Penalty(0.01)(m, 4).item()) == pytest.approx(0.01 * expected / 4, rel=1e-6)


def test_l2_gradient_is_2_l2_w_on_weights_and_nothing_elsewhere():
    m = model()
    L2Penalty(0.5)(m).backward()
    covered = {id(p) for p in L2Penalty.weights(m)}
    for name, p in m.named_parameters():
        if id(p) in covered:
            np.testing.assert_allclose(p.grad.numpy(), 2 * 0.5 * p.detach().numpy(), rtol=1e-6)
        else:
            assert p.grad is None or not np.any(p.grad.numpy()), name


def test_l2_skips_frozen_weights_and_zero_is_off():
    m = model()
    m[0].weight.requires_grad = False
    assert len(L2Penalty.weights(m)) == 2
    assert not L2Penalty(0.0) and L2Penalty(1e-4)
    assert float(L2Penalty(1.0)(nn.Sequential(nn.ReLU())).item()) == 0.0
