"""The [tune] table: parsing, dotted keys, checking every key before the first trial,
inferring widths, writing configs back as TOML."""

import tomllib

import pytest

import axonic
from axonic.cli.config import ConfigError, resolve
from axonic.tune.space import apply, parse_tune, set_path
from axonic.tune.study import grid_points, prepare
from axonic.tune.toml import dumps
from axonic.tune.widths import infer_widths

LR = {"optimizer.lr": {"low": 1e-4, "high": 0.1, "log": True}}


def test_tune_table_defaults_and_distributions():
    t = parse_tune({"space": {**LR, "data.batch_size": {"choices": [16, 32]},
                              "epochs": {"low": 2, "high": 10, "step": 2}}}, seed=7)
    assert (t["metric"], t["direction"], t["trials"], t["sampler"], t["pruner"], t["seed"]) \
        == (["val_loss"], ["minimize"], 20, "tpe", "median", 7)
    assert type(t["space"]["epochs"]).__name__ == "IntDistribution"
    assert t["space"]["data.batch_size"].choices == (16, 32)
    assert parse_tune({"metric": ["val_accuracy", "params"], "space": LR})["direction"] \
        == ["maximize", "minimize"]


@pytest.mark.parametrize("table, message", [
    ({"trails": 3, "space": LR}, "tune: unknown key 'trails'. Did you mean 'trials'?"),
    ({"sampler": "grid2", "space": LR}, "tune.sampler: unknown sampler 'grid2'. Did you mean "
                                        "'grid'? Allowed: grid, random, tpe, cmaes, nsga2"),
    ({"pruner": "medain", "space": LR}, "tune.pruner: unknown pruner 'medain'. Did you mean "
                                        "'median'?"),
    ({"trials": 0, "space": LR}, "tune.trials: expected an integer >= 1, got 0"),
    ({"direction": "up", "space": LR}, "tune.direction: expected 'maximize' or 'minimize'"),
    ({"space": {}}, "tune.space: the search space is empty"),
    ({"space": {"optimizer.lr": {"low": 0.1, "high": 0.01}}},
     "tune.space.'optimizer.lr': low must be below high, got low=0.1, high=0.01"),
    ({"space": {"optimizer.lr": {"low": 0, "high": 1, "log": True}}},
     "tune.space.'optimizer.lr': a log scale needs low > 0, got low=0"),
    ({"space": {"optimizer.lr": {"choices": []}}},
     "tune.space.'optimizer.lr': choices must be a non-empty array"),
    ({"space": {"optimizer.lr": {"min": 1, "max": 2}}},
     "tune.space.'optimizer.lr': expected keys low, high (and optionally log, step) or "
     "choices, got ['max', 'min']"),
    ({"space": {"optimizer.lr": 0.1}}, "tune.space.'optimizer.lr': expected {low = ..., "
                                       "high = ...} or {choices = [...]}, got 0.1"),
    ({"metric": ["val_loss", "params"], "sampler": "cmaes", "space": LR},
     "tune.sampler: cmaes optimises one metric"),
])
def test_bad_tune_tables_are_named(table, message):
    with pytest.raises(ConfigError) as info:
        parse_tune(table)
    assert message in str(info.value)


def test_dotted_keys_reach_tables_and_layers():
    cfg = resolve({"data": {"dataset": "iris"}, "model": {"layers": [
        {"type": "Linear", "in_features": 4, "out_features": 3}]}})
    out = apply(cfg, {"optimizer.lr": 0.5, "model.layers.0.out_features": 7, "epochs": 2})
    assert (out["optimizer"]["lr"], out["model"]["layers"][0]["out_features"], out["epochs"]) \
        == (0.5, 7, 2)
    assert cfg["optimizer"]["lr"] == 0.001  # apply copies
    with pytest.raises(ConfigError, match=r"tune.space.'optimiser.lr': the config has no key "
                                          r"'optimiser'. Did you mean 'optimizer'\?"):
        set_path(cfg, "optimiser.lr", 1)
    with pytest.raises(ConfigError, match=r"'model.layers.3.out_features': 'model.layers.3' "
                                          r"needs an index below 1, got '3'"):
        set_path(cfg, "model.layers.3.out_features", 1)
    with pytest.raises(ConfigError, match=r"the config has no 'schedule'"):
        set_path(cfg, "schedule.T_max", 1)


@pytest.mark.parametrize("space, message", [
    ({"optimizer.lrr": {"low": 0.1, "high": 0.2}},
     "tune.space with 'optimizer.lrr' = 0.1: optimizer (Adam): unknown key 'lrr'. Did you "
     "mean 'lr'?"),
    ({"model.layers.0.out_features": {"choices": [4, "wide"]}},
     "tune.space with 'model.layers.0.out_features' = 'wide': model.layers[0] (Linear): "
     "out_features must be an integer, got 'wide' (str)"),
    ({"data.batch_size": {"choices": [0, 16]}},
     "tune.space with 'data.batch_size' = 0: data.batch_size: expected an integer >= 1, got 0"),
    ({"model.layers.1.type": {"choices": ["ReLU", "Relu"]}},
     "tune.space with 'model.layers.1.type' = 'Relu': model.layers[1]: unknown layer type "
     "'Relu'."),
])
def test_every_space_key_is_checked_before_the_first_trial(iris_config, space, message):
    iris_config["tune"]["space"] = space
    with pytest.raises(ConfigError) as info:
        prepare(iris_config)
    assert str(info.value).startswith(message)


def test_the_metric_must_be_one_the_runs_log(iris_config):
    iris_config["tune"]["metric"] = "val_acuracy"
    with pytest.raises(ConfigError, match=r"tune.metric: the runs do not log 'val_acuracy'. "
                                          r"Did you mean 'val_accuracy'\? They log loss, "
                                          r"accuracy, val_loss, val_accuracy, lr"):
        prepare(iris_config)


def test_grid_trials_default_to_the_grid_size(iris_config):
    iris_config["tune"].update(sampler="grid", space={
        "optimizer.lr": {"choices": [0.01, 0.1]}, "epochs": {"low": 1, "high": 3}})
    del iris_config["tune"]["trials"]
    cfg, t = prepare(iris_config)
    assert t["trials"] == 6 and grid_points(t)[1] == {"optimizer.lr": 0.01, "epochs": 2}
    iris_config["tune"]["trials"] = 7
    with pytest.raises(ConfigError, match="tune.trials: 7 is more than the grid's 6 points"):
        prepare(iris_config)
    iris_config["tune"]["space"] = LR
    with pytest.raises(ConfigError, match="grid search needs choices"):
        prepare(iris_config)


def test_widths_left_out_follow_the_layer_before():
    layers = [{"type": "Conv2d", "in_channels": 1, "out_channels": 5, "kernel_size": 3},
              {"type": "BatchNorm2d"}, {"type": "Conv2d", "out_channels": 6, "kernel_size": 3},
              {"type": "Flatten"}, {"type": "LayerNorm"}, {"type": "Linear", "out_features": 2}]
    out = infer_widths(layers, axonic.zeros(2, 1, 8, 8))
    assert out[1]["num_features"] == 5 and out[2]["in_channels"] == 5
    assert out[4]["normalized_shape"] == 96 and out[5]["in_features"] == 96
    assert "in_features" not in layers[5]  # the input list is left as it was
    with pytest.raises(ConfigError, match=r"model.layers\[0\] \(Linear\): in_features is left "
                                          r"out and cannot be inferred from the input of "
                                          r"shape \(\)"):
        infer_widths([{"type": "Linear", "out_features": 2}], axonic.tensor(1.0))
    with pytest.raises(ConfigError, match=r"model.layers\[1\] \(Linear\): the input of shape "
                                          r"\(2, 1, 8, 8\) does not fit"):
        infer_widths([{"type": "ReLU"}, {"type": "Linear", "in_features": 3,
                                         "out_features": 2}], axonic.zeros(2, 1, 8, 8))


def test_configs_written_as_toml_read_back_the_same(iris_config):
    del iris_config["tune"]
    cfg = resolve(iris_config)
    back = resolve(tomllib.loads(dumps(cfg)))
    assert back == cfg
    assert tomllib.loads(dumps({"a": {"b c": [1.5, True, "x\"y"], "d": {}}})) == \
        {"a": {"b c": [1.5, True, "x\"y"], "d": {}}}
