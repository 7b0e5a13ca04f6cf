"""Flower's own simulation (Ray) with axonic clients; needs the ``federated`` extra and
runs in its own step of .ci/run (``-m flower``: starting Ray takes a while)."""
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import axonic
from axonic import nn, optim

pytestmark = pytest.mark.flower
ROOT = Path(__file__).resolve().parents[2]


def test_the_numpy_client_fits_and_evaluates_like_local_training():
    from axonic.federated.client import local_train
    from axonic.federated.flower import get_weights, to_numpy_client

    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 3)).astype(np.float32)
    y = rng.integers(0, 2, 20)
    axonic.manual_seed(0)
    model, twin = nn.Linear(3, 2), nn.Linear(3, 2)
    twin.load_state_dict(model.state_dict())
    client = to_numpy_client(model, (x, y), nn.CrossEntropyLoss(),
                             optim.SGD(model.parameters(), lr=0.1))
    start = client.get_parameters({})
    weights, n, metrics = client.fit(start, {"local_epochs": 2})
    want = local_train(twin, (axonic.tensor(x), axonic.tensor(y)), nn.CrossEntropyLoss(),
                       optim.SGD(twin.parameters(), lr=0.1), epochs=2)
    assert n == 20 and metrics["train_loss"] == pytest.approx(want)
    for a, b in zip(weights, get_weights(twin)):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    loss, n, metrics = client.evaluate(weights, {})
    assert n == 20 and 0 <= metrics["accuracy"] <= 1 and loss > 0


def test_flower_simulation_runs_three_rounds_equal_to_axonic_fedavg():
    # as a script: Ray's workers receive the client function by value from __main__
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "federated_flower.py"),
                           "--rounds", "3", "--compare"], capture_output=True, text=True,
                          timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rounds = re.findall(r"^round (\d): test accuracy (\S+)$", proc.stdout, re.M)
    assert [r for r, _ in rounds] == ["1", "2", "3"]
    diff = float(re.search(r"from axonic's FedAvg: (\S+)$", proc.stdout, re.M).group(1))
    assert diff < 1e-6  # one full-batch step per round: the same averages
