"""Float32 gradients of a MobileNetV2-like net (depthwise conv + BatchNorm, tiny batch) are as
close to the float64 result as PyTorch's are. BatchNorm's statistics were the loss: a conv's
output is a strided view, and NumPy sums over non-contiguous axes without pairwise
summation, so batch_norm now reduces a contiguous copy."""

import numpy as np
import pytest
import torch

import axonic
from bench.precision_mobilenet import build, grads, rel_error, weights


# Max error relative to the largest gradient entry at 32x32, as a multiple of PyTorch's:
# before the fix 3.9x (batch 2), 87x (batch 4), 265x (batch 8); after 0.9x, 3.0x, 0.5x
# (what is left: float32 GEMM accumulation in the convolutions, ReLU6 masks that flip).
@pytest.mark.parametrize("batch", [2, 8])
def test_mobilenet_float32_gradients_as_precise_as_torch(batch):
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(batch, 3, 32, 32)), rng.integers(0, 10, batch)
    w = weights(build(torch))
    ours = {dt: grads(axonic, w, x, y, dt) for dt in ("float32", "float64")}
    theirs = {dt: grads(torch, w, x, y, getattr(torch, dt)) for dt in ("float32", "float64")}
    assert rel_error(ours["float64"], theirs["float64"]) < 1e-12
    assert rel_error(ours["float32"], ours["float64"]) < 3 * rel_error(theirs["float32"],
                                                                       theirs["float64"])


def test_batchnorm_statistics_of_a_far_offset_channel_are_exact_to_float32():
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(2, 4, 5, 5)) * 1e-2 + 1e4).astype(np.float32)
    bn = axonic.nn.BatchNorm2d(4, momentum=1.0)
    bn(axonic.tensor(x))
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(bn.running_mean.numpy(), x64.mean((0, 2, 3)), rtol=1e-7)
    np.testing.assert_allclose(bn.running_var.numpy(), x64.var((0, 2, 3), ddof=1), rtol=1e-5)
