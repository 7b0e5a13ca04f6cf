"""Config validation: every mistake is refused with a message naming the key or layer."""

import copy

import pytest

from axonic.cli.builders import build_metrics, build_model, build_optimizer, build_scheduler
from axonic.cli.config import DEFAULT, ConfigError, load_config, resolve
from axonic.cli.main import _setup

MLP = {
    "seed": 0, "epochs": 1,
    "data": {"dataset": "iris", "batch_size": 16},
    "model": {"layers": [{"type": "Linear", "in_features": 4, "out_features": 8},
                         {"type": "ReLU"},
                         {"type": "Linear", "in_features": 8, "out_features": 3}]},
}


def with_(path, value, base=MLP):
    cfg = copy.deepcopy(base)
    *parents, last = path
    node = cfg
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value
    return cfg


def test_defaults_are_filled_in():
    cfg = resolve(MLP)
    assert cfg["loss"] == {"type": "CrossEntropyLoss"}
    assert cfg["data"]["splits"] == [0.7, 0.15, 0.15] and cfg["callbacks"]["csv_logger"]
    assert resolve(DEFAULT)["epochs"] == 20


@pytest.mark.parametrize("cfg, match", [
    ({**MLP, "epoch": 3}, r"unknown key 'epoch'\. Did you mean 'epochs'\? Allowed keys: name"),
    (with_(["data", "batchsize"], 8), r"data: unknown key 'batchsize'\. Did you mean "
                                      r"'batch_size'\?"),
    (with_(["epochs"], "10"), r"epochs: expected an integer, got '10' \(str\)"),
    (with_(["data", "stratify"], 1), r"data.stratify: expected a boolean, got 1"),
    (with_(["data", "splits"], [0.5, 0.2]), r"data.splits: expected three fractions"),
    ({k: v for k, v in MLP.items() if k != "model"}, r"model is required"),
    (with_(["model", "layers"], [{"in_features": 3}]), r"model.layers\[0\]: needs type = "),
    (with_(["schedule"], {"type": "StepLR", "interval": "step"}),
     r"schedule.interval: expected 'epoch' or 'batch', got 'step'"),
    (with_(["callbacks", "early_stopping"], {"patiense": 3}),
     r"callbacks.early_stopping: unknown key 'patiense'\. Did you mean 'patience'\?"),
])
def test_schema_errors(cfg, match):
    with pytest.raises(ConfigError, match=match):
        resolve(cfg)


@pytest.mark.parametrize("layer, match", [
    ({"type": "Conv2D", "in_channels": 1}, r"model.layers\[0\]: unknown layer type 'Conv2D'\. "
                                           r"Did you mean 'Conv2d'\? Allowed: "),
    ({"type": "Linear", "in_feature": 4, "out_features": 8},
     r"model.layers\[0\] \(Linear\): unknown key 'in_feature'\. Did you mean 'in_features'\?"
     r" Allowed keys: in_features, out_features, bias"),
    ({"type": "Linear", "in_features": 4, "out_features": 2.5},
     r"model.layers\[0\] \(Linear\): out_features must be an integer, got 2.5 \(float\)"),
    ({"type": "Linear", "in_features": 4, "out_features": 8, "bias": "yes"},
     r"model.layers\[0\] \(Linear\): bias must be a boolean, got 'yes'"),
    ({"type": "Linear", "in_features": 4},
     r"model.layers\[0\] \(Linear\): missing required key\(s\) out_features"),
    ({"type": "Dropout", "p": 1.5}, r"model.layers\[0\] \(Dropout\): .*1.5"),
])
def test_layer_errors(layer, match):
    cfg = resolve(with_(["model", "layers"], [layer]))
    with pytest.raises(ConfigError, match=match):
        build_model(cfg)


def test_shapes_that_do_not_chain_name_the_layer_and_shapes():
    cfg = resolve(with_(["model", "layers"], [
        {"type": "Linear", "in_features": 4, "out_features": 8}, {"type": "ReLU"},
        {"type": "Linear", "in_features": 6, "out_features": 3}]))
    with pytest.raises(ConfigError, match=r"model.layers\[2\] \(Linear\): the input of shape "
                                          r"\(2, 8\) does not fit: .*6.*\(the layers before: "
                                          r"\[0\] Linear -> \(2, 8\), \[1\] ReLU -> \(2, 8\)\)"):
        _setup(cfg)


def test_output_that_does_not_fit_the_loss_is_named():
    cfg = resolve(with_(["loss"], {"type": "MSELoss"}))
    with pytest.raises(ConfigError, match=r"loss \(MSELoss\): the model output of shape "
                                          r"\(2, 3\) and the target of shape \(2,\)"):
        _setup(cfg)


def test_dataset_loss_optimizer_schedule_and_metric_errors():
    with pytest.raises(ConfigError, match=r"data.dataset: unknown dataset 'digit'\. Did you "
                                          r"mean 'digits'\?"):
        _setup(resolve(with_(["data", "dataset"], "digit")))
    with pytest.raises(ConfigError, match=r"data.args \(iris\): unknown key 'as_image'"):
        _setup(resolve(with_(["data", "args"], {"as_image": True})))
    with pytest.raises(ConfigError, match=r"loss: unknown loss type 'CrossEntropy'\. Did you "
                                          r"mean 'CrossEntropyLoss'\?"):
        _setup(resolve(with_(["loss"], {"type": "CrossEntropy"})))
    cfg = resolve(with_(["optimizer"], {"type": "Adam", "lr": "fast"}))
    model = build_model(cfg)
    with pytest.raises(ConfigError, match=r"optimizer \(Adam\): lr must be .*got 'fast'"):
        build_optimizer(cfg, model.parameters())
    cfg = resolve(with_(["optimizer"], {"type": "Adamm"}))
    with pytest.raises(ConfigError, match=r"unknown optimizer type 'Adamm'\. Did you mean"):
        build_optimizer(cfg, model.parameters())
    cfg = resolve(with_(["schedule"], {"type": "StepLR", "step_sise": 2}))
    opt = build_optimizer(resolve(MLP), model.parameters())
    with pytest.raises(ConfigError, match=r"schedule \(StepLR\): unknown key 'step_sise'\. "
                                          r"Did you mean 'step_size'\?"):
        build_scheduler(cfg, opt, 10)
    with pytest.raises(ConfigError, match=r"training.metrics\[0\]: unknown metric 'acc_'"):
        build_metrics(resolve(with_(["training", "metrics"], ["acc_"])))


def test_toml_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("epochs = \n")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "missing.toml")
