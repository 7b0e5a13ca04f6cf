"""The remaining user-facing messages: missing optional packages, files, tables, folds."""

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from axonic.cli.config import ConfigError
from axonic.cli.main import main
from axonic.tune import cross_validate, run
from axonic.tune.nas import parse_architecture
from axonic.tune.runs import Run, read_toml, split_tune_table
from axonic.tune.space import parse_tune, set_path
from axonic.tune.toml import dumps

ROOT = Path(__file__).resolve().parents[2]
LR = {"optimizer.lr": {"low": 1e-4, "high": 0.1}}


@pytest.mark.parametrize("module, call, message", [
    ("optuna", lambda: importlib.import_module("axonic.tune.study")._optuna(),
     "axonic.tune needs Optuna: pip install 'axonic[tune]'"),
    ("mlflow", lambda: importlib.import_module("axonic.tune.tracking")._mlflow(),
     "MLflowLogger needs MLflow: pip install 'axonic[mlflow]'"),
    ("psycopg2", lambda: importlib.import_module("axonic.tune.storage").open_storage(
        "postgresql://u@127.0.0.1:1/db", 10),
     "a postgresql:// storage needs psycopg2: pip install 'axonic[tune-postgres]'"),
    ("cmaes", lambda: importlib.import_module("axonic.tune.study")._sampler(
        None, {"sampler": "cmaes", "seed": 0}),
     "tune.sampler = 'cmaes' needs the cmaes package: pip install 'axonic[tune]'"),
])
def test_a_missing_optional_package_costs_one_clear_line(monkeypatch, module, call, message):
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(ImportError) as info:
        call()
    assert str(info.value) == message


def test_the_estimators_without_scikit_learn_name_the_extra():
    # a fresh interpreter: re-importing the estimators here would replace their classes
    code = ("import sys; sys.modules['sklearn.base'] = None\n"
            "try:\n    from axonic.sklearn import NeuralNetClassifier\n"
            "except ImportError as e:\n    print(e)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT / "src")}, check=True)
    assert out.stdout.strip() == "axonic.sklearn needs scikit-learn: pip install " \
                                 "'axonic[sklearn]'"


def test_files_and_tables(tmp_path):
    with pytest.raises(ConfigError, match="config: no such file: nowhere.toml"):
        read_toml("nowhere.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("seed = = 1")
    with pytest.raises(ConfigError, match=f"config: {bad} is not valid TOML"):
        read_toml(bad)
    with pytest.raises(ConfigError, match="tune: expected a table, got 3"):
        split_tune_table({"tune": 3})
    with pytest.raises(ConfigError, match="config: expected a table or a TOML file, got list"):
        split_tune_table([1])
    with pytest.raises(ConfigError, match=r"tune.heartbeat_interval: expected an integer >= 1 "
                                          r"\(seconds\), got 0"):
        parse_tune({"heartbeat_interval": 0, "space": LR})
    with pytest.raises(ConfigError, match=r"tune.metric: expected a metric name or an array "
                                          r"of names, got \[1\]"):
        parse_tune({"metric": [1], "space": LR})
    cfg = {"seed": 0, "optimizer": {"type": "Adam", "lr": 0.1}}
    with pytest.raises(ConfigError, match=r"tune.space.'seed.x': 'seed' is 0, not a table or "
                                          r"an array"):
        set_path(cfg, "seed.x", 1)
    with pytest.raises(TypeError, match=r"toml: cannot write \{1, 2\} \(set\)"):
        dumps({"a": {1, 2}})
    with pytest.raises(ConfigError, match=r"the run logged no 'val_f1'; it logs loss"):
        Run(tmp_path, {}, {"loss": [1.0]}, None).last("val_f1")


def test_pruner_arguments_and_architecture_values(iris_config, tmp_path):
    iris_config["tune"].update(pruner="median", pruner_args={"patience": 3})
    with pytest.raises(ConfigError, match="tune.pruner_args: .*patience"):
        run(iris_config, out=tmp_path, verbose=0)
    with pytest.raises(ConfigError, match=r"tune.architecture.blocks: expected integers >= 0, "
                                          r"got 1.5"):
        parse_architecture({"blocks": 1.5})
    with pytest.raises(ConfigError, match=r"tune.architecture.pool: expected true or false, "
                                          r"got 'yes'"):
        parse_architecture({"kind": "cnn", "pool": "yes"})


def test_too_many_folds_and_bad_trials_on_the_command_line(iris_config, tmp_path, capsys):
    del iris_config["tune"]
    iris_config["data"]["splits"] = [0.1, 0.0, 0.9]
    with pytest.raises(ConfigError, match=r"cv: cannot make 20 stratified folds of 15 "
                                          r"samples"):
        cross_validate(iris_config, folds=20, out=tmp_path, verbose=0)
    path = tmp_path / "c.toml"
    path.write_text(dumps(iris_config))
    assert main(["tune", str(path), "--trials", "0"]) == 2
    assert "axonic tune: error: --trials must be >= 1, got 0" in capsys.readouterr().err
    assert main(["tune", str(path), "--out", str(tmp_path / "s")]) == 2
    assert "axonic tune: error: tune.space: the search space is empty" in \
        capsys.readouterr().err
