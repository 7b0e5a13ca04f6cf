"""Residual blocks in configs and in the architecture search; ``axonic train`` fills in
the widths a config leaves out and trains a file that also holds a [tune] table."""
import json

import numpy as np
import optuna
import pytest

import axonic
from axonic.cli.builders import build_model
from axonic.cli.layers import Residual, Residual2d
from axonic.cli.main import main
from axonic.tune.nas import parse_architecture, suggest_layers
from axonic.tune.toml import dumps


def test_residual_adds_the_input_and_projects_when_the_width_changes():
    axonic.manual_seed(0)
    same = Residual([{"type": "Linear", "out_features": 4}, {"type": "Tanh"}], in_features=4)
    x = axonic.randn(3, 4)
    with axonic.no_grad():
        np.testing.assert_allclose(same(x).numpy(), (x + same.body(x)).numpy(), rtol=1e-6)
    assert same.proj is None
    wider = Residual2d([{"type": "Conv2d", "out_channels": 6, "kernel_size": 3,
                         "padding": 1}], in_channels=2)
    y = axonic.randn(1, 2, 5, 5)
    with axonic.no_grad():
        want = wider.proj(y) + wider.body(y)
        np.testing.assert_allclose(wider(y).numpy(), want.numpy(), rtol=1e-6)
    assert wider.proj.kernel_size == (1, 1) and wider.proj.bias is None


def test_residual_gradients_flow_through_both_paths():
    r = Residual([{"type": "Linear", "out_features": 3}], in_features=3)
    x = axonic.randn(2, 3, requires_grad=True)
    r(x).sum().backward()
    w = r.body[0].weight.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), 1 + w.sum(0, keepdims=True).repeat(2, 0),
                               rtol=1e-5)


@pytest.mark.parametrize("layers, message", [
    ([], "layers must be a non-empty list of layer tables"),
    ([{"type": "MaxPool2d", "kernel_size": 2}], "only the width may change"),
    ([{"type": "Conv2d", "out_channels": 2}], "missing required key"),
])
def test_bad_residual_bodies_are_named(layers, message):
    with pytest.raises(Exception, match=message):
        build_model({"model": {"layers": [{"type": "Residual2d", "in_channels": 2,
                                           "layers": layers}]}})


def test_the_architecture_search_wraps_blocks_in_residuals():
    arch = parse_architecture({"kind": "cnn", "blocks": 2, "width": 4, "pool": True,
                               "residual": {"choices": [False, True]}})
    layers = suggest_layers(optuna.trial.FixedTrial({"residual": True}), arch, (1, 8, 8))
    assert [t["type"] for t in layers] == ["Residual2d", "MaxPool2d"] * 2
    assert layers[0]["layers"][0] == {"type": "Conv2d", "out_channels": 4, "kernel_size": 3,
                                      "padding": 1}
    plain = suggest_layers(optuna.trial.FixedTrial({"residual": False}), arch, (1, 8, 8))
    assert [t["type"] for t in plain] == ["Conv2d", "ReLU", "MaxPool2d"] * 2
    with pytest.raises(Exception, match="tune.architecture.residual: expected true or false"):
        parse_architecture({"residual": "yes"})


def test_axonic_train_fills_left_out_widths_and_sets_the_tune_table_aside(iris_config,
                                                                          tmp_path):
    iris_config["model"]["layers"] = [
        {"type": "Linear", "out_features": 8}, {"type": "ReLU"},
        {"type": "Residual", "layers": [{"type": "Linear", "out_features": 8},
                                        {"type": "ReLU"}]},
        {"type": "Linear", "out_features": 3}]
    path = tmp_path / "iris.toml"
    path.write_text(dumps(iris_config))
    assert main(["train", str(path), "--out", str(tmp_path / "run"), "--quiet"]) == 0
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert [t.get("in_features") for t in saved["model"]["layers"]] == [4, None, 8, 8]
    assert "tune" not in saved
