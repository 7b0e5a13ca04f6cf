"""The benchmark CNN's convolution and pooling layers, axonic against PyTorch, one thread:
forward + backward of conv 1->32 and conv 32->64 (3x3, padding 1) and of 2x2 max pooling,
on a batch of 64 28x28 inputs.

    python bench/conv_layers.py [--runs 9]

Prints, per layer, the fastest and the median milliseconds of a forward + backward, and
the ratio of the medians (axonic / PyTorch). The cases alternate, so load from other
processes falls on both; on a shared machine read the minimum as the best estimate.

Inside the network, the input and the incoming gradient of every layer but the first
are (N, C, H, W) views of channels-last memory (what axonic's convolutions produce), so
axonic gets them that way here; PyTorch gets its native contiguous (N, C, H, W).
"""

import argparse
import os
import sys
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import gc  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

# (name, input shape, layer arguments or None for max pooling)
LAYERS = [
    ("conv 1->32 3x3 pad 1", (64, 1, 28, 28), (1, 32)),
    ("conv 32->64 3x3 pad 1", (64, 32, 28, 28), (32, 64)),
    ("max pool 2x2 on 64x28x28", (64, 64, 28, 28), None),
]


def _alternating(cases, runs, warmup=2):
    """Milliseconds per call of each case, one entry per run, the cases taking turns
    (in reverse order on odd runs) so that neither always follows the other."""
    for fn in cases.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in cases}
    for r in range(runs):
        for name in (list(cases) if r % 2 == 0 else list(cases)[::-1]):
            gc.collect()
            t0 = time.perf_counter()
            cases[name]()
            times[name].append((time.perf_counter() - t0) * 1e3)
    return times


def _channels_last(a):
    """The same (N, C, H, W) values, stored as (N, H, W, C)."""
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


def _case(fw, shape, channels, x, g):
    """A forward + backward of one layer in framework ``fw``, as a zero-argument callable."""
    if fw == "axonic":
        import axonic as lib
        from axonic import nn
    else:
        import torch as lib
        from torch import nn
    if channels is None:
        layer = nn.MaxPool2d(2)
    else:
        layer = nn.Conv2d(*channels, 3, padding=1)
    # the first layer of a network needs no input gradient
    xt = lib.tensor(x, requires_grad=shape[1] > 1)
    gt = lib.tensor(g)
    if fw == "axonic" and shape[1] > 1:
        xt = lib.tensor(_channels_last(x), requires_grad=True)
        gt = lib.tensor(_channels_last(g))

    def step():
        layer(xt).backward(gt)

    return step


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=9)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    print(f"{'layer':28s} {'axonic min/median ms':>22s} {'torch min/median ms':>21s} "
          f"{'ratio':>6s}")
    for name, shape, channels in LAYERS:
        x = rng.standard_normal(shape, dtype=np.float32)
        out_c = shape[1] if channels is None else channels[1]
        side = shape[2] // 2 if channels is None else shape[2]
        g = rng.standard_normal((shape[0], out_c, side, side), dtype=np.float32)
        cases = {fw: _case(fw, shape, channels, x, g) for fw in ("axonic", "torch")}
        times = _alternating(cases, args.runs)
        a, t = (sorted(times[fw]) for fw in ("axonic", "torch"))
        ratio = statistics.median(a) / statistics.median(t)
        print(f"{name:28s} {a[0]:10.1f} / {statistics.median(a):7.1f}   "
              f"{t[0]:9.1f} / {statistics.median(t):7.1f} {ratio:6.2f}")


if __name__ == "__main__":
    main()
