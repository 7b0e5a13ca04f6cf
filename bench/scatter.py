"""Scatter-sum on a connectome-sized graph: NumPy's ``np.add.at`` against the sorted
``reduceat`` that ``axonic.ops.segment`` uses, and against PyTorch's ``index_add_``.

    python bench/scatter.py [--runs 15]

7,425 edges into 209 nodes with 32 features (the Drosophila example's hidden layer).
The cases alternate, so load from other processes falls on all; prints the fastest and
the median milliseconds of each.
"""

import argparse
import os
import statistics
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

EDGES, NODES, FEATURES = 7425, 209, 32


def cases(rng):
    from axonic.ops.segment import _segment_reduce

    index = rng.integers(0, NODES, EDGES)
    src = rng.standard_normal((EDGES, FEATURES)).astype(np.float32)

    def add_at():
        out = np.zeros((NODES, FEATURES), np.float32)
        np.add.at(out, index, src)
        return out

    def reduceat():
        return _segment_reduce(np.add, src, index, 0, NODES)

    out = {"np.add.at": add_at, "sorted reduceat (axonic)": reduceat}
    try:
        import torch

        torch.set_num_threads(1)
        t_src, t_index = torch.from_numpy(src), torch.from_numpy(index)
        out["torch index_add_"] = lambda: torch.zeros(NODES, FEATURES).index_add_(
            0, t_index, t_src)
    except ImportError:
        pass
    np.testing.assert_allclose(add_at(), reduceat(), rtol=1e-4, atol=1e-4)
    return out


def main(runs: int = 15) -> dict:
    fns = cases(np.random.default_rng(0))
    times = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - start) * 1e3)
    for name, ts in times.items():
        print(f"{name:26s} min {min(ts):7.3f} ms  median {statistics.median(ts):7.3f} ms")
    return times


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    main(parser.parse_args().runs)
