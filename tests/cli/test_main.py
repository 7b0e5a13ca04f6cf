"""The `axonic` command: train / evaluate / predict / summary, through main(argv)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from axonic.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted((ROOT / "examples" / "configs").glob("*.toml"))

IRIS = """
name = "iris_mlp"
seed = 1
epochs = 30
[data]
dataset = "iris"
batch_size = 16
transforms = [{ type = "Standardize" }]
[model]
layers = [
  { type = "Linear", in_features = 4, out_features = 16 },
  { type = "ReLU" },
  { type = "Linear", in_features = 16, out_features = 3 },
]
[optimizer]
type = "Adam"
lr = 0.01
[callbacks]
plotter = false
tensorboard = true
"""


def test_default_train_is_a_cnn_on_digits_and_writes_a_run_directory(tmp_path, capsys):
    assert main(["train", "--epochs", "1", "--out", str(tmp_path), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "test accuracy: " in out and "true \\ predicted" in out
    acc = float(out.split("test accuracy: ")[1].split()[0])
    assert acc > 0.5  # one epoch of the default CNN already reads most digits
    for name in ("config.json", "model.safetensors", "history.csv", "curves.png",
                 "preprocess.json", "test_metrics.json", "checkpoints/last"):
        assert (tmp_path / name).exists(), name
    cfg = json.loads((tmp_path / "config.json").read_text())
    assert cfg["epochs"] == 1 and cfg["model"]["layers"][0]["type"] == "Conv2d"
    saved = json.loads((tmp_path / "test_metrics.json").read_text())["test"]["accuracy"]
    assert saved == pytest.approx(acc, abs=1e-4)


@pytest.fixture
def iris_run(tmp_path):
    cfg = tmp_path / "iris.toml"
    cfg.write_text(IRIS)
    run = tmp_path / "run"
    assert main(["train", str(cfg), "--out", str(run), "--quiet"]) == 0
    return run


def test_train_evaluate_predict(iris_run, tmp_path, capsys):
    acc = json.loads((iris_run / "test_metrics.json").read_text())["test"]["accuracy"]
    assert acc >= 0.85
    assert list((iris_run / "tensorboard").glob("events.out.tfevents.*"))
    assert main(["evaluate", str(iris_run)]) == 0
    assert f"test accuracy: {acc:.4f}" in capsys.readouterr().out
    from sklearn.datasets import load_iris

    X = load_iris().data[[0, 60, 120]]
    np.savetxt(tmp_path / "x.csv", X, delimiter=",", header="a,b,c,d", comments="")
    assert main(["predict", str(iris_run), str(tmp_path / "x.csv")]) == 0
    assert capsys.readouterr().out.split() == ["setosa", "versicolor", "virginica"]
    np.save(tmp_path / "x.npy", X)
    assert main(["predict", str(iris_run), str(tmp_path / "x.npy"), "--output",
                 str(tmp_path / "p.npy")]) == 0
    assert np.load(tmp_path / "p.npy").tolist() == [0, 1, 2]
    np.save(tmp_path / "bad.npy", X[:, :3])
    assert main(["predict", str(iris_run), str(tmp_path / "bad.npy")]) == 2
    assert "has shape (3, 3); the model takes samples of shape (4,)" in capsys.readouterr().err


def test_resume_continues_a_run(iris_run, capsys):
    assert main(["train", "--resume", str(iris_run), "--epochs", "35", "--quiet"]) == 0
    rows = (iris_run / "history.csv").read_text().splitlines()
    assert len(rows) == 1 + 35 and rows[31].startswith("30,")


@pytest.mark.parametrize("config", CONFIGS, ids=[c.stem for c in CONFIGS])
def test_every_example_config_validates_and_summarises(config, capsys):
    assert main(["summary", str(config)]) == 0
    out = capsys.readouterr().out
    assert "Total params" in out and "loss: " in out


def test_examples_cover_each_architecture():
    names = {c.stem for c in CONFIGS}
    assert {"mlp_tabular", "cnn_digits", "lstm_timeseries", "transformer_text"} <= names


def test_errors_exit_2_with_a_message(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(IRIS.replace("in_features = 16", "in_features = 15"))
    assert main(["summary", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("axonic summary: error: model.layers[2] (Linear): the input of "
                          "shape (2, 16) does not fit")
    assert main(["evaluate", str(tmp_path)]) == 2
    assert "is not a run directory: config.json is missing" in capsys.readouterr().err


def test_the_command_runs_as_a_program():
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    r = subprocess.run([sys.executable, "-m", "axonic.cli.main", "--help"], capture_output=True,
                       text=True, env=env, cwd=ROOT)
    assert r.returncode == 0 and "{train,evaluate,predict,summary,tune,cv,explain,lr-find,export}" \
        in r.stdout


def test_csv_data_augmentation_and_regression(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.1
    rows = ["a,b,c,target"] + [",".join(f"{v:.6f}" for v in (*x, t)) for x, t in zip(X, y)]
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n")
    cfg = tmp_path / "reg.toml"
    cfg.write_text("""
epochs = 40
[data]
dataset = "csv"
args = { path = "d.csv", target = "target" }   # beside the config
batch_size = 16
[model]
layers = [{ type = "Linear", in_features = 3, out_features = 1 }]
[loss]
type = "MSELoss"
[optimizer]
type = "Adam"
lr = 0.05
[callbacks]
plotter = false
""")
    assert main(["train", str(cfg), "--out", str(tmp_path / "run"), "--quiet"]) == 0
    r2 = json.loads((tmp_path / "run" / "test_metrics.json").read_text())["test"]["r2"]
    assert r2 > 0.99
    capsys.readouterr()
    np.save(tmp_path / "x.npy", X[:2])
    assert main(["predict", str(tmp_path / "run"), str(tmp_path / "x.npy")]) == 0
    got = [float(v) for v in capsys.readouterr().out.split()]
    np.testing.assert_allclose(got, y[:2], atol=0.1)
    aug = tmp_path / "aug.toml"
    aug.write_text("""
epochs = 1
[data]
dataset = "digits"
args = { as_images = true }
transforms = [{ type = "RandomCrop", size = 8, padding = 1 }]
[model]
layers = [{ type = "Flatten" }, { type = "Linear", in_features = 64, out_features = 10 }]
[callbacks]
plotter = false
""")
    assert main(["train", str(aug), "--out", str(tmp_path / "aug"), "--quiet"]) == 0
    aug.write_text(aug.read_text().replace("RandomCrop", "RandomCrap"))
    assert main(["summary", str(aug)]) == 2
    assert "data.transforms[0]: unknown transform type 'RandomCrap'. Did you mean " \
           "'RandomCrop'?" in capsys.readouterr().err


def test_evaluate_builds_no_optimizer(iris_run, monkeypatch, capsys):
    import axonic.train

    made = []

    class Spy(axonic.train.Trainer):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(axonic.train, "Trainer", Spy)
    assert main(["evaluate", str(iris_run), "--split", "val"]) == 0
    assert len(made) == 1 and made[0].optimizer is None
    assert "val loss: " in capsys.readouterr().out


def test_train_stores_its_config_in_every_checkpoint(iris_run):
    from axonic.train import RunDir, read_checkpoint

    run = RunDir(iris_run)
    cfg = json.loads(run.config.read_text())
    assert read_checkpoint(run.last_checkpoint)[1]["config"] == cfg


def test_a_split_that_cannot_be_made_is_a_config_error(tmp_path, capsys):
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(IRIS.replace('transforms = [{ type = "Standardize" }]',
                                "splits = [0.98, 0.01, 0.01]"))
    assert main(["summary", str(cfg)]) == 2
    assert "axonic summary: error: data.splits: stratified_split: " in capsys.readouterr().err
