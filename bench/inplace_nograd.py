"""Time the in-place ops an optimizer step uses, outside the graph (under ``no_grad``).

Run it on two trees, alternating, and compare the medians:

    PYTHONPATH=src python bench/inplace_nograd.py
"""

from __future__ import annotations

import statistics
import time

import numpy as np

import axonic


def _time(fn, calls: int, repeats: int = 11) -> float:
    """Median CPU microseconds per call over ``repeats`` runs of ``calls`` calls (this
    process's CPU time: steadier than wall time on a shared machine)."""
    runs = []
    for _ in range(repeats):
        t0 = time.process_time()
        for _ in range(calls):
            fn()
        runs.append((time.process_time() - t0) / calls * 1e6)
    return statistics.median(runs)


def _cases(p, g) -> dict:
    return {
        "p.add_(g, alpha=-0.01)": lambda: p.add_(g, alpha=-0.01),
        "p.mul_(1.0)": lambda: p.mul_(1.0),  # a factor that keeps values normal
        "p.sub_(g)": lambda: p.sub_(g),
        "p -= g": lambda: p.__isub__(g),
        "p.zero_()": lambda: p.zero_(),
        "p.copy_(g)": lambda: p.copy_(g),
    }


def main() -> None:
    rng = np.random.default_rng(0)
    for n, calls in ((64, 20000), (1 << 20, 200)):
        p = axonic.tensor(rng.standard_normal(n).astype(np.float32), requires_grad=True)
        g = axonic.tensor(rng.standard_normal(n).astype(np.float32))
        with axonic.no_grad():
            for name, fn in _cases(p, g).items():
                print(f"n={n:>8}  {name:<24} {_time(fn, calls):8.2f} us")
    model = axonic.nn.Sequential(axonic.nn.Linear(784, 512), axonic.nn.ReLU(),
                                 axonic.nn.Linear(512, 256), axonic.nn.ReLU(),
                                 axonic.nn.Linear(256, 10))
    opt = axonic.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    for q in model.parameters():
        q.grad = axonic.tensor(rng.standard_normal(q.shape).astype(np.float32))
    print(f"SGD(momentum) step, 784-512-256-10 MLP  {_time(opt.step, 200):8.2f} us")


if __name__ == "__main__":
    main()
