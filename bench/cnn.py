"""Benchmark: training a small CNN on 28x28 inputs (batch 64, cross-entropy, Adam),
axonic against PyTorch on the same weights and data.

conv 1->32 3x3 pad 1, ReLU, max-pool 2, conv 32->64 3x3 pad 1, ReLU, max-pool 2,
linear 3136->128, ReLU, linear 128->10.

    python bench/cnn.py --threads 1      # or --threads 2, --quick, --profile, --json

>>> from bench.cnn import WORKLOAD
>>> WORKLOAD.samples
64
"""

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Workload, training_main


def build(fw, nn, side=28, channels=(1, 32, 64), hidden=128, classes=10):
    """The CNN, in either framework: two conv/ReLU/pool blocks, then two linear layers."""
    c0, c1, c2 = channels
    flat = c2 * (side // 4) ** 2
    return nn.Sequential(
        nn.Conv2d(c0, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(flat, hidden), nn.ReLU(), nn.Linear(hidden, classes))


def batch(rng, batch_size, side=28, channels=(1, 32, 64), hidden=128, classes=10):
    """Images as standard normals, integer class targets."""
    x = rng.standard_normal((batch_size, channels[0], side, side), dtype="float32")
    y = rng.integers(0, classes, batch_size)
    return [x], y


WORKLOAD = Workload("CNN 28x28 training, batch 64", build, batch, samples=64)

if __name__ == "__main__":
    training_main(WORKLOAD, __doc__.splitlines()[0])
