"""The integer GEMMs are exact: equal to int64 arithmetic, also past float32's 2**24."""

import numpy as np

from axonic.ops.conv import np_conv2d
from axonic.quantization import kernels


def test_exact_matmul_equals_int64_in_the_worst_case():
    rng = np.random.default_rng(0)
    for k in (10, 514, 515, 3000):  # float32 alone is exact up to 2**24 / (255 * 128) = 514
        x = rng.choice([-255, 255], size=(4, k)).astype(np.float32)
        w = rng.choice([-128, 127], size=(k, 3)).astype(np.float32)
        x[0], w[:, 0] = 255, -128  # one all-extreme sum: |acc| = 255 * 128 * k
        got = kernels.exact_matmul(x, w, 255, 128)
        want = x.astype(np.int64) @ w.astype(np.int64)
        np.testing.assert_array_equal(got.astype(np.int64), want)
        assert got[0, 0] == -255 * 128 * k


def test_exact_block_is_the_float32_limit():
    assert kernels.exact_block(127, 128) == 1032 and kernels.exact_block(255, 128) == 514
    assert 514 * 255 * 128 <= 2 ** 24 < 515 * 255 * 128


def test_qconv_accumulators_equal_int64_convolution():
    rng = np.random.default_rng(0)
    xq = rng.integers(0, 256, size=(2, 64, 6, 6)).astype(np.uint8)
    w = rng.integers(-128, 128, size=(5, 64, 3, 3)).astype(np.int8)
    pads = ((1, 1), (1, 1))
    for groups in (1,):
        wm = kernels.conv_weight_rows(w.astype(np.float32), groups)
        acc = kernels.qconv_acc(xq, 100, 155, wm, 128, (3, 3), (1, 1), pads, (1, 1))
        ref = np_conv2d(xq.astype(np.float64) - 100, w.astype(np.float64), pads=pads)
        np.testing.assert_array_equal(acc, ref)  # K = 576 > 514: the float64 path


def test_qlinear_accumulators_equal_int64():
    rng = np.random.default_rng(1)
    xq = rng.integers(0, 128, size=(7, 2000)).astype(np.uint8)
    w = rng.integers(-128, 128, size=(9, 2000)).astype(np.float32)
    acc = kernels.qlinear_acc(xq, 3, 124, np.ascontiguousarray(w.T), 128)
    want = (xq.astype(np.int64) - 3) @ w.astype(np.int64).T
    np.testing.assert_array_equal(acc.astype(np.int64), want)
