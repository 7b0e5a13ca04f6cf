"""Issue 12 findings on configs and the command, one test each: every failure is one line
with exit code 2 (usage, config, environment) or 130 (interrupt, with the resume command),
and nothing is checked only once training has started."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from axonic.cli.main import main
from tests.cli.test_main import IRIS

ROOT = Path(__file__).resolve().parents[2]
IRIS_FAST = IRIS.replace("tensorboard = true", "tensorboard = false").replace(
    "epochs = 30", "epochs = 2")


def config(tmp_path, text=IRIS_FAST, **replace):
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "c.toml"
    path.write_text(text)
    return path


def one_line_error(capsys, code, expected_code=2):
    err = capsys.readouterr().err.strip().splitlines()
    assert code == expected_code and len(err) == 1 and "Traceback" not in err[0], err
    return err[0]


@pytest.mark.parametrize("section, line, match", [
    ("[optimizer]", '[training]\ngrad_accum_steps = 0\n[optimizer]',
     "training.grad_accum_steps: expected an integer >= 1, got 0"),
    ("[optimizer]", '[training]\nclip_grad_norm = -1\n[optimizer]',
     "training.clip_grad_norm: expected a finite number > 0, got -1"),
    ("[optimizer]", '[training]\nl2 = nan\n[optimizer]',
     "training.l2: expected a finite number >= 0, got nan"),
    ("[optimizer]", '[training]\nmetrics = ["r2"]\n[optimizer]',
     "training.metrics\\[0\\]: 'r2' is a regression metric, but loss CrossEntropyLoss"),
    ("plotter = false", 'plotter = false\nearly_stopping = {monitor = inf}',
     "callbacks.early_stopping.monitor: expected a metric name such as 'val_loss', got inf"),
    ("lr = 0.01", 'lr = 0.01\neps = "small"',
     "optimizer \\(Adam\\): eps must be an integer or a number, got 'small'"),
    ("lr = 0.01", "lr = inf", "optimizer.lr: expected a finite number, got inf"),
    ('dataset = "iris"', 'dataset = "iris"\nargs = {as_images = {a = 1}}',
     "data.args \\(iris\\): unknown key 'as_images'"),
    ('name = "iris_mlp"', 'name = "../../escaped"',
     "name: expected a plain name for the run directory"),
    ("out_features = 16 }", "out_features = 2147483648 }",
     "model.layers\\[0\\] \\(Linear\\): the model needs about .* GiB"),
    ("in_features = 16, out_features = 3", "in_features = 16, out_features = 2",
     "the model outputs 2 values per sample but the data has 3 classes"),
])
def test_bad_settings_are_one_line_and_exit_2_before_training(tmp_path, capsys, section, line,
                                                              match):
    import re

    path = config(tmp_path, **{section: line})
    for command in (["summary", str(path)], ["train", str(path), "--out",
                                              str(tmp_path / "run"), "--quiet"]):
        msg = one_line_error(capsys, main(command))
        assert re.search(match, msg), msg
    assert not (tmp_path / "run").exists()  # refused before a run directory was made


def test_as_images_must_be_a_boolean(tmp_path, capsys):
    path = config(tmp_path, text=(ROOT / "examples/configs/cnn_digits.toml").read_text(),
                  **{"as_images = true": "as_images = {a = 1}"})
    msg = one_line_error(capsys, main(["summary", str(path)]))
    assert "data.args (digits): as_images must be a boolean (true or false), got {'a': 1}" in msg


def test_cuda_without_a_gpu_is_one_line(tmp_path, capsys, monkeypatch):
    import axonic.backend

    monkeypatch.setattr(axonic.backend, "cuda_is_available", lambda: False)
    path = config(tmp_path, **{"[optimizer]": '[training]\ndevice = "cuda"\n[optimizer]'})
    msg = one_line_error(capsys, main(["summary", str(path)]))
    assert "training.device = 'cuda', but no CUDA GPU (with CuPy) is available" in msg


def test_out_onto_an_existing_run_is_refused(tmp_path, capsys):
    path = config(tmp_path)
    run = tmp_path / "run"
    assert main(["train", str(path), "--out", str(run), "--quiet"]) == 0
    before = (run / "model.safetensors").read_bytes()
    capsys.readouterr()
    msg = one_line_error(capsys, main(["train", str(path), "--out", str(run), "--quiet"]))
    assert f"--out: {run} already holds a run; continue it with 'axonic train --resume" in msg
    assert (run / "model.safetensors").read_bytes() == before
    assert main(["train", "--resume", str(run), "--quiet"]) == 0
    assert "finished all its 2 epochs already; nothing to do" in capsys.readouterr().out


def test_resume_with_a_deleted_last_target_is_an_error_not_a_fresh_start(tmp_path, capsys):
    import shutil

    path = config(tmp_path)
    run = tmp_path / "run"
    assert main(["train", str(path), "--out", str(run), "--quiet"]) == 0
    shutil.rmtree((run / "checkpoints" / "last").resolve())
    (run / "test_metrics.json").unlink()
    capsys.readouterr()
    msg = one_line_error(capsys, main(["train", "--resume", str(run), "--quiet"]))
    assert "last points to" in msg and "which is missing" in msg


@pytest.mark.parametrize("module, package", [("sklearn", "scikit-learn"),
                                             ("safetensors", "safetensors")])
def test_core_install_stops_before_training_naming_the_extra(tmp_path, capsys, monkeypatch,
                                                             module, package):
    monkeypatch.setitem(sys.modules, module, None)  # import fails as if not installed
    msg = one_line_error(capsys, main(["train", "--out", str(tmp_path / "run")]))
    assert f"'axonic train' needs the '{package}' package" in msg
    assert "pip install 'axonic[extras]'" in msg
    assert not (tmp_path / "run").exists()


def test_missing_matplotlib_never_costs_a_finished_run(tmp_path, capsys, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "matplotlib" else real(name, *a))
    path = config(tmp_path, **{"plotter = false": "plotter = true"})
    run = tmp_path / "run"
    assert main(["train", str(path), "--out", str(run), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "matplotlib is not installed, so curves.png is not drawn" in captured.err
    assert (run / "model.safetensors").is_file() and (run / "test_metrics.json").is_file()
    assert "test accuracy" in captured.out


def test_evaluate_names_the_split_and_the_matrix_names_the_classes(tmp_path, capsys):
    path = config(tmp_path)
    run = tmp_path / "run"
    assert main(["train", str(path), "--out", str(run), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(run), "--split", "val"]) == 0
    out = capsys.readouterr().out
    assert "val accuracy: " in out and "test accuracy" not in out
    assert "setosa" in out and "virginica" in out


def test_predict_gives_probabilities(tmp_path, capsys):
    import numpy as np
    from sklearn.datasets import load_iris

    path = config(tmp_path)
    run = tmp_path / "run"
    assert main(["train", str(path), "--out", str(run), "--quiet"]) == 0
    np.save(tmp_path / "x.npy", load_iris().data[[0, 120]])
    capsys.readouterr()
    assert main(["predict", str(run), str(tmp_path / "x.npy"), "--proba"]) == 0
    lines = capsys.readouterr().out.split()
    assert lines[0] == "setosa,versicolor,virginica"
    probs = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])
    assert probs.shape == (2, 3) and np.allclose(probs.sum(1), 1, atol=1e-5)
    assert probs[0].argmax() == 0 and probs[1].argmax() == 2


def test_version(capsys):
    import axonic

    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.strip() == f"axonic {axonic.__version__}"


def test_an_unexpected_error_is_one_line_exit_1(tmp_path, capsys, monkeypatch):
    import axonic.cli.main as cli

    def bug(cfg):
        raise RuntimeError("a bug\nover two lines")
    monkeypatch.setattr(cli, "_setup", bug)
    msg = one_line_error(capsys, main(["summary", str(config(tmp_path))]), expected_code=1)
    assert msg == ("axonic summary: internal error: RuntimeError: a bug over two lines "
                   "(set AXONIC_TRACEBACK=1 to see the traceback)")


def test_a_locked_run_directory_is_one_line(tmp_path, capsys):
    from axonic.train.run_dir import DirLock

    run = tmp_path / "run"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from axonic.train."
                               "run_dir import DirLock; lock = DirLock(sys.argv[1]).acquire(); "
                               "print('held', flush=True); time.sleep(60)", str(run)],
                              env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        msg = one_line_error(capsys, main(["train", str(config(tmp_path)), "--out", str(run),
                                           "--quiet"]))
        assert f"{run} is in use by pid {holder.pid}" in msg
    finally:
        holder.kill()
        holder.wait()
    assert DirLock(run).acquire() is not None  # the holder's death released it


def _train_process(tmp_path, epochs=400):
    path = config(tmp_path, **{"epochs = 2": f"epochs = {epochs}"})
    run = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "axonic.cli.main", "train", str(path),
                             "--out", str(run), "--quiet"], cwd=tmp_path, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not (run / "checkpoints" / "last").is_symlink() and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    return proc, run


@pytest.mark.slow  # a subprocess trained for seconds
@pytest.mark.parametrize("presses", [1, 2])
def test_ctrl_c_exits_130_with_the_resume_command_and_no_test_metrics(tmp_path, presses):
    proc, run = _train_process(tmp_path)
    for _ in range(presses):
        proc.send_signal(signal.SIGINT)
        time.sleep(0.001)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "test accuracy" not in out
    assert len(err.strip().splitlines()) == 1, err
    if presses == 1:
        assert f"Continue with: axonic train --resume {run}" in err
    assert not (run / "test_metrics.json").exists()


def test_predict_takes_raw_csv_rows_with_text_columns_and_names_classes(tmp_path, capsys):
    rng = np.random.default_rng(0)
    size = rng.uniform(0, 1, 200)
    color = rng.choice(["red", "blue", "green"], 200)
    label = np.where((color == "red") | (size > 0.8), "yes", "no")
    rows = ["size,color,label"] + [f"{s:.4f},{c},{v}" for s, c, v in zip(size, color, label)]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    path = tmp_path / "c.toml"
    path.write_text("""
epochs = 60
[data]
dataset = "csv"
args = { path = "t.csv", target = "label" }
batch_size = 16
[model]
layers = [{ type = "Linear", in_features = 4, out_features = 16 }, { type = "ReLU" },
          { type = "Linear", in_features = 16, out_features = 2 }]
[optimizer]
type = "Adam"
lr = 0.03
[callbacks]
plotter = false
""")
    run = tmp_path / "run"
    assert main(["train", str(path), "--out", str(run), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert " no:" in out and "yes:" in out  # the confusion matrix names the classes
    (tmp_path / "raw.csv").write_text("size,color\n0.1,red\n0.2,blue\n0.95,green\n")
    assert main(["predict", str(run), str(tmp_path / "raw.csv")]) == 0
    assert capsys.readouterr().out.split() == ["yes", "no", "yes"]


def test_curves_have_y_labels_whole_epochs_a_titled_run_and_a_named_lr_line(tmp_path):
    from axonic.train import History
    from axonic.train.callbacks.plotter import history_figure

    h = History()
    for e in range(3):
        h.append(e, {"loss": 1.0 / (e + 1), "val_loss": 1.2 / (e + 1), "lr": 0.1 / (e + 1)})
    fig = history_figure(h, title="iris_mlp: test accuracy 0.9667")
    axes = fig.get_axes()
    assert [a.get_ylabel() for a in axes] == ["loss", "learning rate"]
    assert fig._suptitle.get_text() == "iris_mlp: test accuracy 0.9667"
    assert [t.get_text() for t in axes[1].get_legend().get_texts()] == ["learning rate"]
    fig.canvas.draw()
    ticks = axes[0].get_xticks()
    assert all(float(t).is_integer() for t in ticks)
