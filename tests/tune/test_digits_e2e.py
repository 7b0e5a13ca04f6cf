"""End-to-end `axonic tune` on the digits CNN (slow): TPE and random search, a study
killed with SIGKILL and continued, the median pruner, the best config reproducing."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

from axonic.cli.main import main
from axonic.tune import run
from axonic.tune.runs import split_tune_table
from axonic.tune.storage import counted_trials
from axonic.tune.toml import _value as toml_value
from axonic.tune.toml import dumps

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "tune" / "cnn_digits.toml"
pytestmark = pytest.mark.slow


def _example(**tune):
    raw, table = split_tune_table(EXAMPLE)
    table.update(tune)
    raw["tune"] = table
    return raw


@pytest.mark.parametrize("sampler", ["tpe", "random"])
def test_tpe_and_random_search_run_on_the_digits_cnn(sampler, tmp_path):
    cfg = _example(sampler=sampler, trials=4, pruner="none")
    cfg["epochs"] = 3
    study = run(cfg, out=tmp_path, verbose=0)
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * 4
    assert len({tuple(sorted(t.params.items())) for t in study.trials}) == 4
    assert set(study.trials[0].params) == {"optimizer.lr", "model.layers.0.out_channels",
                                           "data.batch_size"}
    assert study.best_value > 0.5 and (tmp_path / "best.toml").is_file()


def _write_toml(path, cfg):
    tune = cfg.pop("tune")
    space = tune.pop("space")
    lines = [dumps(cfg), "[tune]"] + [f"{k} = {toml_value(v)}" for k, v in tune.items()]
    lines += ["", "[tune.space]"] + [f'"{k}" = {toml_value(v)}' for k, v in space.items()]
    path.write_text("\n".join(lines) + "\n")


def test_kill_9_mid_study_then_rerun_continues_with_no_lost_or_duplicated_trial(tmp_path):
    cfg = _example(trials=5, pruner="none", heartbeat_interval=1)
    cfg["epochs"] = 12  # trials long enough to be caught running on a fast machine
    path = tmp_path / "study.toml"
    _write_toml(path, cfg)
    out = tmp_path / "study"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen([sys.executable, "-m", "axonic.cli.main", "tune", str(path),
                             "--out", str(out), "--quiet"], env=env)
    storage = f"sqlite:///{out / 'study.db'}"
    deadline, killed_number = time.time() + 300, None
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
        try:
            trials = optuna.load_study(study_name="tune_cnn_digits", storage=storage).trials
        except (KeyError, Exception):  # the study is not created yet
            continue
        done = [t for t in trials if t.state.name == "COMPLETE"]
        running = [t for t in trials if t.state.name == "RUNNING" and t.params]
        if len(done) >= 1 and running:
            killed_number = running[0].number
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait()
    assert killed_number is not None, "the study finished before it could be killed"
    time.sleep(3.5)  # past the heartbeat grace period (2 s, SQLite keeps whole seconds)
    study = run(path, out=out, verbose=0)
    trials = study.trials
    assert [t.number for t in trials] == list(range(len(trials)))
    killed = trials[killed_number]
    assert killed.state.name == "FAIL"
    retries = [t for t in trials if t.user_attrs.get("retry_of") == killed_number]
    assert len(retries) == 1 and retries[0].params == killed.params
    assert retries[0].number == killed_number + 1  # numbering continues after the killed one
    counted = counted_trials(study)
    assert len(counted) == 5 and all(t.state.name == "COMPLETE" for t in counted)
    assert len(trials) == 6


def test_median_pruner_stops_a_quarter_of_trials_and_the_best_config_reproduces(tmp_path):
    study = run(EXAMPLE, out=tmp_path / "study", verbose=0)
    states = [t.state.name for t in study.trials]
    assert len(states) == 12
    assert states.count("PRUNED") >= 3, states
    print(f"median pruner: {states.count('PRUNED')} of {len(states)} trials pruned; best "
          f"val_accuracy {study.best_value:.4f}")
    for t in study.trials:
        if t.state.name == "PRUNED":
            assert t.user_attrs["pruned_at_epoch"] < 8
    best = tmp_path / "study" / "best.toml"
    assert main(["train", str(best), "--out", str(tmp_path / "again"), "--quiet"]) == 0
    again = json.loads((tmp_path / "again" / "test_metrics.json").read_text())
    assert again["history"]["val_accuracy"][-1] == study.best_value
