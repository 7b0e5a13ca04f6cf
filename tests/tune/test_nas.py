"""Architecture search: conditional (define-by-run) block parameters, single- and
multi-objective studies, Pareto-front configs that run."""

import json

import optuna
import pytest

from axonic.cli.config import ConfigError
from axonic.cli.main import main
from axonic.tune import run
from axonic.tune.nas import parse_architecture, suggest_layers
from axonic.tune.study import prepare

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]
CNN = {"kind": "cnn", "blocks": {"low": 1, "high": 3}, "width": {"choices": [4, 8]},
       "kernel_size": {"choices": [3, 5]}, "pool": {"choices": [True, False]},
       "activation": {"choices": ["ReLU", "Tanh"]}, "norm": {"choices": ["none", "batch"]},
       "dropout": {"low": 0.0, "high": 0.5}}


def test_block_parameters_exist_only_for_the_blocks_there_are():
    arch = parse_architecture(CNN)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    seen = set()
    for _ in range(12):
        trial = study.ask()
        layers = suggest_layers(trial, arch, (1, 8, 8))
        blocks = trial.params["blocks"]
        assert sum(layer["type"] == "Conv2d" for layer in layers) == blocks
        assert {k.split(".")[0] for k in trial.params if "." in k} == \
            {f"block{i}" for i in range(blocks)}
        seen.add(blocks)
        study.tell(trial, 0.0)
    assert seen == {1, 2, 3}


def test_pooling_stops_at_one_pixel_and_kernels_keep_the_size():
    arch = parse_architecture({**CNN, "pool": True, "blocks": 4, "kernel_size": 5,
                               "norm": "batch", "dropout": 0.0, "activation": "ReLU"})
    trial = optuna.trial.FixedTrial({f"block{i}.width": 4 for i in range(4)})
    layers = suggest_layers(trial, arch, (1, 8, 8))
    assert [layer["type"] for layer in layers].count("MaxPool2d") == 3  # 8 -> 4 -> 2 -> 1
    assert layers[0] == {"type": "Conv2d", "out_channels": 4, "kernel_size": 5, "padding": 2}
    assert layers[1] == {"type": "BatchNorm2d"}


@pytest.mark.parametrize("table, message", [
    ({"kind": "rnn"}, "tune.architecture.kind: expected 'cnn' or 'mlp', got 'rnn'"),
    ({"depth": 3}, "tune.architecture: unknown key 'depth'."),
    ({"activation": {"choices": ["ReLU", "Relu6"]}},
     "tune.architecture.activation: unknown layer type 'Relu6'. Did you mean 'ReLU6'?"),
    ({"kind": "cnn", "norm": "layer"}, "tune.architecture.norm: expected one of none, batch "
                                       "for kind = 'cnn', got 'layer'"),
    ({"width": {"choices": [0, 4]}}, "tune.architecture.width: expected integers >= 1, got 0"),
    ({"dropout": 1.5}, "tune.architecture.dropout: expected a probability in [0, 1), got 1.5"),
])
def test_bad_architecture_tables_are_named(table, message):
    with pytest.raises(ConfigError) as info:
        parse_architecture(table)
    assert str(info.value).startswith(message)


def _iris_nas(iris_config, metric):
    iris_config["model"]["layers"] = [{"type": "Linear", "out_features": 3}]  # the head
    iris_config["tune"] = {"metric": metric, "trials": 4, "sampler": "nsga2" if isinstance(
        metric, list) else "tpe", "architecture": {
            "kind": "mlp", "blocks": {"low": 0, "high": 2}, "width": {"choices": [2, 16]},
            "norm": {"choices": ["none", "layer"]}}}
    return iris_config


def test_a_head_that_cannot_follow_the_blocks_fails_before_the_first_trial(iris_config):
    cfg = _iris_nas(iris_config, "val_accuracy")
    cfg["model"]["layers"] = [{"type": "Linear", "in_features": 4, "out_features": 3}]
    with pytest.raises(ConfigError, match=r"tune.architecture with \{'blocks': 2, "
                                          r"'width': 16, 'norm': 'layer'\}: .*Linear"):
        prepare(cfg)


def test_multi_objective_search_writes_the_pareto_front_as_runnable_configs(iris_config,
                                                                            tmp_path):
    study = run(_iris_nas(iris_config, ["val_accuracy", "params"]), out=tmp_path,
                verbose=0)
    front = sorted(t.number for t in study.best_trials)
    files = sorted(p.name for p in (tmp_path / "pareto").glob("*.toml"))
    assert files == [f"trial-{n:04d}.toml" for n in front] and front
    assert (tmp_path / "pareto_front.png").stat().st_size > 1000
    for t in study.trials:
        params = json.loads((tmp_path / "trials" / f"trial-{t.number:04d}" /
                             "test_metrics.json").read_text())
        assert t.values[0] == params["history"]["val_accuracy"][-1]
    first = tmp_path / "pareto" / files[0]
    assert main(["train", str(first), "--out", str(tmp_path / "again"), "--quiet"]) == 0


@pytest.mark.slow
def test_nas_on_the_digits_finds_a_pareto_front_of_at_least_three_runnable_configs(tmp_path):
    study = run(ROOT / "examples" / "tune" / "nas_digits.toml", out=tmp_path, verbose=0)
    front = study.best_trials
    assert len(study.trials) == 12 and len(front) >= 3
    accs = [t.values[0] for t in front]
    assert max(accs) > 0.9
    print("Pareto front (val_accuracy, params):", sorted(tuple(t.values) for t in front))
    for t in front:
        path = tmp_path / "pareto" / f"trial-{t.number:04d}.toml"
        out = tmp_path / f"again-{t.number}"
        assert main(["train", str(path), "--out", str(out), "--quiet"]) == 0
        again = json.loads((out / "test_metrics.json").read_text())
        assert again["history"]["val_accuracy"][-1] == t.values[0]
