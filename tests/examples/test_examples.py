"""The examples run, and their loss falls (short runs of the same code)."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name,steps", [("train_cnn", 60), ("train_lstm", 40),
                                        ("train_transformer", 40)])
def test_example_loss_falls(name, steps, capsys):
    losses = _load(name).main(steps)
    assert len(losses) == steps
    first, last = np.mean(losses[:10]), np.mean(losses[-10:])
    assert np.isfinite(losses).all()
    assert last < 0.8 * first, f"{name}: loss {first:.3f} -> {last:.3f}"
    assert "loss" in capsys.readouterr().out
