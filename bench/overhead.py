"""Per-op overhead: a chain of 20 elementwise ops on a 64-element float32 tensor,
forward + backward, axonic against PyTorch, both on one thread.

Run: ``python bench/overhead.py`` (``--runs 15`` for more repeats). The two frameworks
alternate run by run, so drifts in machine load hit both alike; each run times a block of
``--iters`` iterations after a warm-up, and the table shows the median over runs of the
thread's CPU time (robust on a shared machine) next to the wall time.
"""

from __future__ import annotations

import os

# One thread everywhere: the tensors are tiny, so this measures Python-level overhead.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import axonic  # noqa: E402

N_OPS = 20


def chain(x):
    """20 elementwise ops, the same for both frameworks (methods and operators only)."""
    y = x * 1.01
    y = y + 0.5
    y = y.tanh()
    y = y * x
    y = y - 0.1
    y = y.sigmoid()
    y = y + x
    y = y.exp()
    y = y * 0.5
    y = y.sqrt()
    y = y / 1.5
    y = y.sin()
    y = y + 1.0
    y = y.log()
    y = y * y
    y = y.relu()
    y = y + x
    y = y.cos()
    y = -y
    y = y.abs()
    return y


def step_axonic(x):
    x.grad = None
    chain(x).sum().backward()


def step_torch(x):
    x.grad = None
    chain(x).sum().backward()


def timed(step, x, iters):
    """(CPU seconds of this thread, wall seconds) per iteration. Everything runs on this one
    thread, so its CPU time is the work done, whatever else the machine is running."""
    c0, t0 = time.thread_time(), time.perf_counter()
    for _ in range(iters):
        step(x)
    return (time.thread_time() - c0) / iters, (time.perf_counter() - t0) / iters


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=9, help="timed runs per framework (median)")
    p.add_argument("--iters", type=int, default=300, help="iterations per run")
    args = p.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    data = np.random.default_rng(0).uniform(0.1, 1.0, 64).astype(np.float32)
    xa = axonic.tensor(data, requires_grad=True)
    xt = torch.tensor(data, requires_grad=True)

    # The two compute the same thing: check once before timing.
    step_axonic(xa)
    step_torch(xt)
    np.testing.assert_allclose(xa.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-6)

    for _ in range(3):  # warm-up
        timed(step_axonic, xa, args.iters // 3)
        timed(step_torch, xt, args.iters // 3)
    ta, tt = [], []
    for _ in range(args.runs):
        ta.append(timed(step_axonic, xa, args.iters))
        tt.append(timed(step_torch, xt, args.iters))
    ma, mt = (statistics.median(r[0] for r in runs) for runs in (ta, tt))
    wa, wt = (statistics.median(r[1] for r in runs) for runs in (ta, tt))

    print(f"python {platform.python_version()}, numpy {np.__version__}, "
          f"torch {torch.__version__}, {os.cpu_count()} cores, 1 thread")
    print(f"{N_OPS} elementwise ops on 64 float32 values, forward + backward, "
          f"median of {args.runs} runs x {args.iters} iterations")
    print(f"{'framework':<10} {'CPU per step (us)':>18} {'per op (us)':>12} "
          f"{'wall per step (us)':>19}")
    for name, m, w in (("axonic", ma, wa), ("torch", mt, wt)):
        print(f"{name:<10} {m * 1e6:>18.1f} {m * 1e6 / N_OPS:>12.2f} {w * 1e6:>19.1f}")
    print(f"ratio axonic / torch: {ma / mt:.2f} (CPU), {wa / wt:.2f} (wall)")
    return ma, mt


if __name__ == "__main__":
    main()
