"""Benchmark: what the intra-op thread pool gains, per kernel and per training step.

``--kernels``: ReLU's forward (``maximum(x, 0)``) and backward (``g * (out > 0)``) on
float32 arrays of growing size, as one plain call and through
``axonic.backend.threads.parallel_apply`` with the threshold lifted, alternating the two;
the size where the speed-up passes 1 sets ``MIN_PARALLEL_SIZE``.

``--steps``: the CNN and MLP training steps of ``bench/cnn.py`` and ``bench/mlp.py`` in one
process, step by step alternating split (the pool enabled, its shipped threshold) and plain
(nothing split, BLAS unchanged); the minimum shows the gain when both cores are free, the
median what a shared machine gave, the median of the back-to-back pairs' ratios the least
swayed by load.
``--blocks``: Adam's update (``torch.optim.Adam``'s arithmetic, 13 NumPy passes) on the
784x512 weight of the MLP, whole and in blocks of growing size, one thread, alternating; the
fastest block sets ``CACHE_BLOCK``.
The load average is printed: run it when it is below the core count.

    python bench/threads.py --threads 2 --kernels --steps --blocks  # --quick for a smoke run

>>> from bench.threads import SIZES
>>> SIZES[0] < SIZES[-1]
True
"""

import argparse
import functools
import os
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from bench.common import median

SIZES = [1 << k for k in range(13, 23)]


def _relu(o, x):
    np.maximum(x, 0, out=o)


def _relu_grad(o, g, y):
    np.multiply(g, y > 0, out=o)


def _time(fn, calls: int, runs: int) -> list:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        out.append((time.perf_counter() - t0) / calls)
    return out


def run(threads: int, quick: bool) -> list:
    """Rows of (kernel, size, plain us, split us) for each size."""
    from axonic.backend import threads as pool

    shipped, before, enabled = pool.MIN_PARALLEL_SIZE, pool.get_num_threads(), pool.ENABLED
    pool.set_num_threads(threads)
    pool.MIN_PARALLEL_SIZE, pool.ENABLED = 0, True  # every size split, so the crossing shows
    try:
        return _kernel_rows(pool, quick)
    finally:
        pool.MIN_PARALLEL_SIZE, pool.ENABLED = shipped, enabled
        pool.set_num_threads(before)


def _kernel_rows(pool, quick: bool) -> list:
    rng = np.random.default_rng(0)
    rows, runs = [], 3 if quick else 9
    for size in SIZES[:5] if quick else SIZES:
        x = rng.standard_normal(size, dtype=np.float32)
        g = rng.standard_normal(size, dtype=np.float32)
        o = np.empty_like(x)
        calls = max(3, int((2e5 if quick else 4e6) // size))
        for name, kernel, args in (("relu", _relu, (x,)), ("relu_grad", _relu_grad, (g, x))):
            plain, split = [], []
            pair = [(plain, functools.partial(kernel, o, *args)),
                    (split, functools.partial(pool.parallel_apply, kernel, o, *args))]
            for r in range(runs):  # alternate, so a busy neighbour slows both alike
                for acc, fn in (pair if r % 2 == 0 else pair[::-1]):
                    acc.extend(_time(fn, calls, 1))
            rows.append((name, size, median(plain) * 1e6, median(split) * 1e6))
    return rows


BLOCKS = [None, 1 << 13, 1 << 14, 1 << 15, 1 << 16, 1 << 17, 1 << 18]


def _adam_kernel(p, g, m, v, tmp, denom):
    """The arithmetic of axonic's Adam step (beta1 0.9, beta2 0.999, lr 1e-3, step 10)."""
    np.subtract(g, m, out=tmp)
    tmp *= 0.1
    m += tmp
    v *= 0.999
    np.multiply(g, 0.001, out=tmp)
    tmp *= g
    v += tmp
    np.sqrt(v, out=denom)
    denom /= (1 - 0.999 ** 10) ** 0.5
    denom += 1e-8
    np.multiply(m, -1e-3 / (1 - 0.9 ** 10), out=tmp)
    tmp /= denom
    p += tmp


def blocks(quick: bool) -> list:
    """Rows of (block, us per update) for Adam on 784x512 float32 arrays, one thread."""
    from axonic.backend import threads as pool

    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((512, 784), dtype=np.float32) for _ in range(6)]
    np.abs(arrays[3], out=arrays[3])
    before, enabled = pool.get_num_threads(), pool.ENABLED
    pool.set_num_threads(1)
    pool.ENABLED = False
    try:
        calls = {b: functools.partial(pool.parallel_apply, _adam_kernel, *arrays, block=b)
                 for b in BLOCKS}
        times = {b: [] for b in BLOCKS}
        for r in range(3 if quick else 15):  # alternate, so a busy neighbour slows all alike
            for b in (BLOCKS if r % 2 == 0 else BLOCKS[::-1]):
                times[b].extend(_time(calls[b], 5 if quick else 40, 1))
    finally:
        pool.ENABLED = enabled
        pool.set_num_threads(before)
    return [(b, median(times[b]) * 1e6) for b in BLOCKS]


def steps(threads: int, quick: bool) -> list:
    """Rows of (workload, plain ms, split ms) as (min, median) per step."""
    from axonic.backend import threads as pool
    from bench import cnn, mlp

    pool.set_num_threads(threads)
    pool.ENABLED = True  # split: the shipped threshold; plain: nothing reaches it
    shipped, rows = pool.MIN_PARALLEL_SIZE, []
    for workload in (cnn.WORKLOAD, mlp.WORKLOAD):
        step = workload.train_steps(("axonic",))["axonic"]
        times = {shipped: [], 1 << 62: []}
        for _ in range(3):
            step()
        for i in range(6 if quick else 160):  # alternate, so a busy neighbour slows both alike
            for threshold in (list(times) if i % 2 == 0 else list(times)[::-1]):
                pool.MIN_PARALLEL_SIZE = threshold
                t0 = time.perf_counter()
                step()
                times[threshold].append(time.perf_counter() - t0)
        pool.MIN_PARALLEL_SIZE = shipped
        plain, split = times[1 << 62], times[shipped]
        # each pair ran back to back, under about the same load
        paired = median([p / s for p, s in zip(plain, split)])
        rows.append((workload.name, (min(plain) * 1e3, median(plain) * 1e3),
                     (min(split) * 1e3, median(split) * 1e3), paired))
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--kernels", action="store_true", help="ReLU by array size")
    parser.add_argument("--steps", action="store_true", help="CNN and MLP training steps")
    parser.add_argument("--blocks", action="store_true", help="Adam's update by block size")
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]
    print(f"threads {args.threads}, load average {load:.2f} before")
    if args.kernels:
        print(f"{'kernel':10s} {'elements':>9s} {'plain us':>9s} {'split us':>9s} "
              f"{'speed-up':>8s}")
        for name, size, plain, split in run(args.threads, args.quick):
            print(f"{name:10s} {size:9d} {plain:9.1f} {split:9.1f} {plain / split:8.2f}")
    if args.steps:
        print("ms per training step: plain (min, median) -> split (min, median)")
        for name, plain, split, paired in steps(args.threads, args.quick):
            print(f"  {name}: {plain[0]:.2f}, {plain[1]:.2f} -> {split[0]:.2f}, {split[1]:.2f}"
                  f"  (x{plain[0] / split[0]:.2f} by min, x{plain[1] / split[1]:.2f} by median, "
                  f"x{paired:.2f} median of pairs)")
    if args.blocks:
        print("Adam's update on a 784x512 float32 weight, one thread, by block (elements)")
        rows = blocks(args.quick)
        whole = rows[0][1]
        for b, us in rows:
            print(f"  {'whole' if b is None else b:>7}: {us:7.0f} us  (x{whole / us:.2f})")
    print(f"load average {os.getloadavg()[0]:.2f} after")


if __name__ == "__main__":
    main()
