"""One shuffled epoch of 60000x784 float32 samples in batches of 128: the batched fast
path (one fancy-index per array) against the per-sample path (``dataset[i]`` and
``default_collate``) and against PyTorch's DataLoader on the same arrays.

    python bench/dataloader.py [--repeats 5]

Prints the median seconds per epoch of each and the speedup of the fast path.
"""

import argparse
import statistics
import time

import numpy as np


def _epoch(loader) -> float:
    t = time.perf_counter()
    for _ in loader:
        pass
    return time.perf_counter() - t


def measure(n=60000, features=784, batch_size=128, repeats=5) -> dict:
    """Median seconds per shuffled epoch of each loader, by name."""
    from axonic.data import DataLoader, TensorDataset, default_collate

    rng = np.random.default_rng(0)
    x = rng.random((n, features), dtype=np.float32)
    y = rng.integers(0, 10, n)
    ds = TensorDataset(x, y)
    loaders = {
        "axonic batched (get_batch)": DataLoader(ds, batch_size=batch_size, shuffle=True,
                                                 seed=0),
        "axonic per-sample (collate)": DataLoader(ds, batch_size=batch_size, shuffle=True,
                                                  seed=0, collate_fn=default_collate),
    }
    try:
        import torch

        torch.set_num_threads(1)
        tds = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
        loaders["torch DataLoader"] = torch.utils.data.DataLoader(tds, batch_size=batch_size,
                                                                  shuffle=True)
    except ImportError:
        pass
    return {k: statistics.median(_epoch(v) for _ in range(repeats)) for k, v in loaders.items()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    times = measure(repeats=args.repeats)
    fast = times["axonic batched (get_batch)"]
    for k, t in times.items():
        print(f"{k:30s} {t * 1e3:9.1f} ms/epoch   {t / fast:6.1f}x the batched path")


if __name__ == "__main__":
    main()
