"""axonic.tune.run / `axonic tune` on a small iris config: trials as runs, reports, a best
config that trains to the reported value, continuing a study, pruning, retries."""

import csv
import json
import time

import optuna
import pytest

from axonic.cli.main import main
from axonic.tune import run
from axonic.tune.storage import Heartbeat, counted_trials, next_trial, open_storage
from axonic.tune.study import ReportToTrial
from axonic.tune.toml import dumps


def test_a_study_writes_its_trials_reports_and_a_best_config_that_reproduces(iris_config,
                                                                            tmp_path):
    study = run(iris_config, out=tmp_path / "study", verbose=0)
    out = tmp_path / "study"
    assert [t.number for t in study.trials] == [0, 1, 2]
    assert all(t.state.name == "COMPLETE" for t in study.trials)
    for t in study.trials:
        run_dir = out / "trials" / f"trial-{t.number:04d}"
        assert {"config.json", "config.toml", "history.csv", "model.safetensors"} <= \
            {p.name for p in run_dir.iterdir()}
        assert json.loads((run_dir / "config.json").read_text())["model"]["layers"][2][
            "in_features"] == t.params["model.layers.0.out_features"]
    rows = list(csv.DictReader(open(out / "trials.csv")))
    assert [r["state"] for r in rows] == ["COMPLETE"] * 3
    assert float(rows[0]["value"]) == study.trials[0].value
    for png in ("optimization_history.png", "param_importances.png",
                "parallel_coordinates.png"):
        assert (out / png).stat().st_size > 1000
    assert main(["train", str(out / "best.toml"), "--out", str(tmp_path / "again"),
                 "--quiet"]) == 0
    again = json.loads((tmp_path / "again" / "test_metrics.json").read_text())
    assert again["history"]["val_accuracy"][-1] == study.best_value


def test_rerunning_continues_the_study_until_it_holds_trials(iris_config, tmp_path):
    iris_config["tune"]["trials"] = 2
    run(iris_config, out=tmp_path, verbose=0)
    study = run(iris_config, out=tmp_path, trials=4, verbose=0)
    assert [t.number for t in study.trials] == [0, 1, 2, 3]
    study = run(iris_config, out=tmp_path, trials=4, verbose=0)
    assert len(study.trials) == 4


def test_the_study_must_keep_its_directions(iris_config, tmp_path):
    run(iris_config, out=tmp_path, trials=1, verbose=0)
    iris_config["tune"]["metric"] = "val_loss"
    from axonic.cli.config import ConfigError

    with pytest.raises(ConfigError, match=r"tune.direction: the study 'iris_tune' in .* "
                                          r"optimises \['maximize'\], the config asks for "
                                          r"\['minimize'\]; use another --study-name"):
        run(iris_config, out=tmp_path, verbose=0)


class _PruneAfter:
    """A stand-in Optuna trial that asks to prune from the given epoch on."""

    def __init__(self, epoch):
        self.epoch, self.reports = epoch, []

    def report(self, value, step):
        self.reports.append((step, value))

    def should_prune(self):
        return len(self.reports) >= self.epoch


def test_a_pruned_trial_stops_training_after_the_epoch_it_was_pruned(tmp_path, iris_config):
    from axonic.cli.config import resolve
    from axonic.tune.runs import train_config

    del iris_config["tune"]
    iris_config["epochs"] = 6
    trial = _PruneAfter(2)
    report = ReportToTrial(trial, "val_accuracy")
    result = train_config(resolve(iris_config), tmp_path, callbacks=[report])
    assert report.pruned_at == 2 and len(result.history["loss"]) == 2
    assert [s for s, _ in trial.reports] == [0, 1]
    assert trial.reports[-1][1] == result.history["val_accuracy"][-1]


def test_a_trial_left_running_by_a_dead_worker_is_failed_and_retried(tmp_path):
    storage = open_storage(f"sqlite:///{tmp_path / 'study.db'}", heartbeat_interval=1)
    study = optuna.create_study(storage=storage, study_name="s")
    dead = next_trial(study, storage, tmp_path, total=2)
    dead.suggest_float("x", 0, 1)
    with Heartbeat(storage, dead, 1):
        time.sleep(0.1)  # one beat, then the "worker" dies without telling the study
    time.sleep(3.5)  # SQLite keeps whole seconds: past the 2 s grace period for sure
    retry = next_trial(study, storage, tmp_path, total=2)
    assert study.trials[0].state.name == "FAIL"
    assert retry.number == 1 and retry.user_attrs["retry_of"] == 0
    assert retry.suggest_float("x", 0, 1) == dead.params["x"]
    study.tell(retry, 0.5)
    assert [t.number for t in counted_trials(study)] == [1]
    last = next_trial(study, storage, tmp_path, total=2)
    study.tell(last, 0.1)
    assert next_trial(study, storage, tmp_path, total=2) is None


TUNE_TOML = """
[tune]
metric = "val_accuracy"
sampler = "random"
pruner = "none"
trials = 3

[tune.space]
"optimizer.lr" = { low = 1e-3, high = 0.1, log = true }
"model.layers.0.out_features" = { choices = [4, 8] }
"""


def test_axonic_tune_command_runs_and_reports_bad_configs(iris_config, tmp_path, capsys):
    path = tmp_path / "iris.toml"
    del iris_config["tune"]
    path.write_text(dumps(iris_config) + TUNE_TOML)
    assert main(["tune", str(path), "--out", str(tmp_path / "s"), "--trials", "2"]) == 0
    out = capsys.readouterr().out
    assert "trial 0: val_accuracy" in out and "best config:" in out
    assert (tmp_path / "s" / "best.toml").is_file()
    path.write_text(path.read_text().replace('sampler = "random"', 'sampler = "bayes"'))
    assert main(["tune", str(path), "--out", str(tmp_path / "t")]) == 2
    assert "axonic tune: error: tune.sampler: unknown sampler 'bayes'" in \
        capsys.readouterr().err
