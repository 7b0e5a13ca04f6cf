"""One optimizer step, axonic against PyTorch, on 4.2M float32 parameters (four 1024x1024
weights and four biases), single thread, PyTorch's per-parameter (``foreach=False``) path.

    python bench/optimizers.py [--repeats 30]

Prints the median milliseconds per ``step()`` for each optimizer and the ratio.
"""

import argparse
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

SHAPES = [(1024, 1024)] * 4 + [(1024,)] * 4
CASES = [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=1e-3)),
         ("AdamW", dict(lr=1e-3)), ("RMSprop", dict(lr=1e-3)), ("Adagrad", dict(lr=1e-2)),
         ("Adadelta", dict(lr=1.0)), ("Adamax", dict(lr=2e-3)), ("NAdam", dict(lr=2e-3)),
         ("RAdam", dict(lr=1e-3))]


def _build(fw, name, kwargs, arrays):
    if fw == "axonic":
        import axonic
        from axonic import nn, optim

        ps = [nn.Parameter(axonic.tensor(a.copy())) for a in arrays]
        for p, a in zip(ps, arrays):
            p.grad = axonic.tensor(a * 0.5)
        return getattr(optim, name)(ps, **kwargs)
    import torch

    ps = [torch.nn.Parameter(torch.tensor(a.copy())) for a in arrays]
    for p, a in zip(ps, arrays):
        p.grad = torch.tensor(a * 0.5)
    return getattr(torch.optim, name)(ps, foreach=False, **kwargs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=30)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    print(f"{'optimizer':10s} {'axonic ms':>10s} {'torch ms':>10s} {'ratio':>7s}")
    for name, kwargs in CASES:
        opts = {fw: _build(fw, name, kwargs, arrays) for fw in ("axonic", "torch")}
        times = {fw: [] for fw in opts}
        for _ in range(3):  # warm-up: state allocation, page faults
            for opt in opts.values():
                opt.step()
        for _ in range(args.repeats):  # alternate so both see the same machine load
            for fw, opt in opts.items():
                t = time.perf_counter()
                opt.step()
                times[fw].append(time.perf_counter() - t)
        a, t = (statistics.median(times[fw]) * 1e3 for fw in ("axonic", "torch"))
        print(f"{name:10s} {a:10.2f} {t:10.2f} {a / t:7.2f}")


if __name__ == "__main__":
    main()
