"""Benchmark: training an MLP 784-512-256-10 (ReLU, batch 128, cross-entropy, Adam),
axonic against PyTorch on the same weights and data.

    python bench/mlp.py --threads 1      # or --threads 2, --quick, --profile, --json

>>> from bench.mlp import WORKLOAD
>>> WORKLOAD.samples
128
"""

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Workload, training_main


def build(fw, nn, sizes=(784, 512, 256, 10)):
    """The MLP, in either framework: Linear and ReLU layers, no activation on the output."""
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def batch(rng, batch_size, sizes=(784, 512, 256, 10)):
    """Inputs as standard normals, integer class targets."""
    x = rng.standard_normal((batch_size, sizes[0]), dtype="float32")
    y = rng.integers(0, sizes[-1], batch_size)
    return [x], y


WORKLOAD = Workload("MLP 784-512-256-10 training, batch 128", build, batch, samples=128)

if __name__ == "__main__":
    training_main(WORKLOAD, __doc__.splitlines()[0])
