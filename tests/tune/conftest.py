import copy

import pytest

IRIS = {
    "name": "iris_tune",
    "seed": 0,
    "epochs": 3,
    "data": {"dataset": "iris", "batch_size": 16, "transforms": [{"type": "Standardize"}]},
    "model": {"layers": [
        {"type": "Linear", "in_features": 4, "out_features": 8},
        {"type": "ReLU"},
        {"type": "Linear", "out_features": 3},
    ]},
    "optimizer": {"type": "Adam", "lr": 0.01},
    "training": {"metrics": ["accuracy"]},
    "callbacks": {"plotter": False, "model_checkpoint": {"monitor": "val_accuracy"}},
    "tune": {"metric": "val_accuracy", "trials": 3, "sampler": "random", "pruner": "none",
             "space": {"optimizer.lr": {"low": 1e-3, "high": 0.1, "log": True},
                       "model.layers.0.out_features": {"choices": [4, 8]}}},
}


@pytest.fixture
def iris_config():
    """A small, fast classification config with a [tune] table (the first Linear's width
    is searched; the second Linear's input width is left out and inferred)."""
    return copy.deepcopy(IRIS)
