"""Benchmark: the matrix products of the training benchmarks, one thread, on NumPy's BLAS
(OpenBLAS in NumPy's wheels), on oneMKL through ``axonic.backend.blas`` and in PyTorch,
alternating, medians per product.

    python bench/blas.py            # --quick for a smoke run

>>> from bench.blas import PRODUCTS
>>> all(len(p) == 4 for p in PRODUCTS)
True
"""

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from bench.common import median

# (what, a's shape, b's shape, how each is laid out: "" as given, "T" a transposed view)
PRODUCTS = [
    ("MLP forward x @ W.T, 784->512, batch 128", (128, 784), (512, 784), "T"),
    ("MLP weight grad g.T @ x, 784->512", (512, 128), (128, 784), "A"),
    ("MLP forward x @ W.T, 512->256", (128, 512), (256, 512), "T"),
    ("MLP input grad g @ W, 512->256", (128, 256), (256, 512), ""),
    ("LSTM step W @ [h;1;x], 1024x321, batch 32", (1024, 321), (321, 32), ""),
    ("LSTM backward step W_hh.T @ d, 256x1024", (256, 1024), (1024, 32), ""),
    ("LSTM weight grad dz @ Z.T, 64 steps", (1024, 2048), (321, 2048), "T"),
    ("CNN conv2 im2col forward, batch 64", (12544, 288), (288, 64), ""),
    ("CNN conv2 input grad per offset", (12544, 64), (64, 32), ""),
    ("Transformer FFN x @ W.T, 128->512, 2048 tokens", (2048, 128), (512, 128), "T"),
]


def _operands(rng, a_shape, b_shape, layout):
    a = rng.standard_normal(a_shape, dtype=np.float32)
    b = rng.standard_normal(b_shape, dtype=np.float32)
    if layout == "T":
        b = b.T
    elif layout == "A":  # a is the transpose of a stored (batch, out) gradient
        a = np.ascontiguousarray(a.T).T
    return a, b


def _time(fn, calls: int) -> float:
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - t0) / calls


def run(quick: bool = False) -> list:
    """Rows of (what, NumPy us, oneMKL us or None, PyTorch us or None)."""
    from axonic.backend import blas, threads

    threads.set_num_threads(1)
    mkl = blas.backend() == "mkl"
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        torch = None
    rng, rows = np.random.default_rng(0), []
    for what, sa, sb, layout in PRODUCTS:
        a, b = _operands(rng, sa, sb, layout)
        ways = {"numpy": lambda a=a, b=b: np.matmul(a, b)}
        if mkl:
            ways["mkl"] = lambda a=a, b=b: blas.matmul(a, b)
        if torch is not None:
            ta, tb = torch.from_numpy(a), torch.from_numpy(b)
            ways["torch"] = lambda ta=ta, tb=tb: torch.mm(ta, tb)
        work = sa[0] * sa[1] * (sb[0] if layout == "T" else sb[1])
        calls = max(2, int((2e7 if quick else 2e8) // work))
        times = {k: [] for k in ways}
        for fn in ways.values():
            fn()
        for r in range(3 if quick else 11):  # alternate, so a busy neighbour slows all alike
            for k in (list(ways) if r % 2 == 0 else list(ways)[::-1]):
                times[k].append(_time(ways[k], calls))
        med = {k: median(v) * 1e6 for k, v in times.items()}
        rows.append((what, med["numpy"], med.get("mkl"), med.get("torch")))
    return rows


def main(argv=None) -> None:
    from axonic.backend import blas

    quick = "--quick" in (argv if argv is not None else sys.argv[1:])
    print(f"one thread, load average {os.getloadavg()[0]:.2f}; {blas.describe()}")
    print(f"{'product':48s} {'NumPy us':>9s} {'oneMKL us':>9s} {'torch us':>9s} "
          f"{'NumPy/MKL':>9s} {'torch/MKL':>9s}")
    for what, np_us, mkl_us, t_us in run(quick):
        cells = [f"{np_us:9.0f}", f"{mkl_us:9.0f}" if mkl_us else f"{'-':>9s}",
                 f"{t_us:9.0f}" if t_us else f"{'-':>9s}",
                 f"{np_us / mkl_us:9.2f}" if mkl_us else f"{'-':>9s}",
                 f"{t_us / mkl_us:9.2f}" if mkl_us and t_us else f"{'-':>9s}"]
        print(f"{what:48s} " + " ".join(cells))
    print(f"load average {os.getloadavg()[0]:.2f} after")


if __name__ == "__main__":
    main()
