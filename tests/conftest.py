import os

import numpy as np
import pytest

try:  # PyTorch is the reference for parity tests; the suite runs without it too
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover
    torch = None

import axonic


@pytest.fixture(autouse=True)
def _seed():
    axonic.manual_seed(0)
    np.random.seed(0)
    yield


requires_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed")


def pytest_addoption(parser):
    parser.addoption("--device", default=os.environ.get("AXONIC_TEST_DEVICE"),
                     help="run the on-device tests of tests/cuda on this device ('cuda'), "
                          "against the CPU (also: AXONIC_TEST_DEVICE=cuda)")
