"""IID and Dirichlet splits, and the non-IID digits example's stated accuracy."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from axonic.federated import dirichlet_split, iid_split


def test_iid_split_partitions_every_sample_once_in_equal_shares():
    parts = iid_split(103, 10, seed=1)
    assert sorted(np.concatenate(parts).tolist()) == list(range(103))
    assert {len(p) for p in parts} == {10, 11}


def test_dirichlet_split_partitions_every_sample_and_skews_the_classes():
    labels = np.repeat(np.arange(10), 100)
    parts = dirichlet_split(labels, 10, alpha=0.1, seed=0)
    assert sorted(np.concatenate(parts).tolist()) == list(range(1000))
    shares = np.array([np.bincount(labels[p], minlength=10) / len(p) for p in parts])
    iid = np.array([np.bincount(labels[p], minlength=10) / len(p)
                    for p in iid_split(1000, 10)])
    assert shares.max(1).mean() > 0.5 > iid.max(1).mean()  # few classes per client
    wide = dirichlet_split(labels, 10, alpha=100.0, seed=0)
    assert max(np.bincount(labels[p], minlength=10).max() / len(p) for p in wide) < 0.3


def test_dirichlet_split_honours_min_size():
    labels = np.repeat(np.arange(5), 40)
    assert min(len(p) for p in dirichlet_split(labels, 8, alpha=0.3, min_size=10)) >= 10


@pytest.mark.parametrize("call,message", [
    (lambda: iid_split(5, 0), "iid_split: num_clients must be a positive integer, got 0"),
    (lambda: iid_split(5, 6), "iid_split: num_clients (6) exceeds the number of samples (5)"),
    (lambda: dirichlet_split([0, 1, 1], 2, alpha=0), "dirichlet_split: alpha must be "
                                                     "positive, got 0"),
    (lambda: dirichlet_split([0, 1, 1], 2, min_size=2), "dirichlet_split: 2 clients of at "
                                                        "least 2 samples need 4, there are 3"),
])
def test_split_errors_say_what_was_wrong(call, message):
    with pytest.raises(ValueError) as e:
        call()
    assert message in str(e.value)


def _example():
    path = Path(__file__).resolve().parents[2] / "examples" / "federated_digits.py"
    spec = importlib.util.spec_from_file_location("federated_digits", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_non_iid_fedavg_learns_the_digits(capsys):
    # 6 short rounds: well above chance (0.1); the slow test below states the full result
    accuracy, sizes = _example().run("fedavg", "dirichlet", rounds=6, verbose=True)
    assert accuracy > 0.4 and len(set(sizes)) > 1
    assert "round   6" in capsys.readouterr().out


@pytest.mark.slow
def test_federated_example_states_its_accuracies(capsys):
    results = _example().main(30)
    assert min(results.values()) > 0.9
    assert "fedavg, dirichlet split" in capsys.readouterr().out
