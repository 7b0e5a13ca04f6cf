"""Time of BatchNorm2d forward + backward (training) with float64 accumulation of its
statistics (now) against float32 accumulation (before), alternating runs, medians.

    PYTHONPATH=src python bench/batchnorm_accumulate.py
"""

from __future__ import annotations

import time

import numpy as np

import axonic
from axonic.ops import normalization


def _f32_acc(a, axes):
    return a.mean(axis=axes, keepdims=True)


def one_run(shape, acc):
    normalization._acc_mean, saved = acc, normalization._acc_mean
    try:
        bn = axonic.nn.BatchNorm2d(shape[1])
        x = axonic.randn(*shape, requires_grad=True)
        t = time.perf_counter()
        bn(x).sum().backward()
        return time.perf_counter() - t
    finally:
        normalization._acc_mean = saved


def main(repeats=15):
    now = normalization._acc_mean
    for shape in [(2, 96, 16, 16), (32, 64, 32, 32), (128, 256, 8, 8)]:
        times = {"float64 acc": [], "float32 acc": []}
        for _ in range(repeats):  # alternate so drift hits both alike
            times["float64 acc"].append(one_run(shape, now))
            times["float32 acc"].append(one_run(shape, _f32_acc))
        med = {k: np.median(v) * 1e3 for k, v in times.items()}
        print(f"{shape}: float64 acc {med['float64 acc']:.2f} ms, float32 acc "
              f"{med['float32 acc']:.2f} ms, ratio {med['float64 acc'] / med['float32 acc']:.2f}")


if __name__ == "__main__":
    main()
